//! Local files: what a user names (paths, directories, globs) expanded into a sorted list of
//! files.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub(crate) fn has_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') || n.starts_with('_'))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::storage("list", dir.display().to_string(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::storage("list", dir.display().to_string(), e))?;
        let path = entry.path();
        // Hidden files and `_SUCCESS`-style markers are not data.
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Expand paths, directories (every file below, recursively, hidden and `_` files skipped) and
/// globs into files, in order: each argument's matches sorted, arguments in the order given.
pub fn expand(sources: &[String], allow_empty: bool) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for source in sources {
        let mut found = Vec::new();
        if has_glob(source) {
            let matches =
                glob::glob(source).map_err(|e| Error::storage("glob", source.clone(), e))?;
            for entry in matches {
                let path = entry.map_err(|e| Error::storage("glob", source.clone(), e))?;
                if path.is_dir() {
                    walk(&path, &mut found)?;
                } else {
                    found.push(path);
                }
            }
        } else {
            let path = PathBuf::from(source);
            if path.is_dir() {
                walk(&path, &mut found)?;
            } else if path.exists() {
                found.push(path);
            } else if !allow_empty {
                return Err(Error::storage(
                    "open",
                    source.clone(),
                    "no such file or directory",
                ));
            }
        }
        if found.is_empty() && !allow_empty {
            return Err(Error::storage("list", source.clone(), "matched no files"));
        }
        found.sort();
        files.extend(found.into_iter().map(|p| p.display().to_string()));
    }
    Ok(files)
}
