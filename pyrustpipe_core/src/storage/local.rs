//! Local files: what a user names (paths, directories, globs) expanded into a sorted list of
//! files, and a run's local outputs published as one set.

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

/// An output written and synced under a temporary name, not yet visible under its own. Dropped
/// unpublished (a failed run), its temporary file is removed.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
    published: bool,
}

impl Staged {
    pub fn new(temp: PathBuf, target: PathBuf) -> Staged {
        Staged {
            temp,
            target,
            published: false,
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The journal of a publish in progress, beside the first output: it lists every rename, so a
/// run killed between two renames is rolled forward by the next run with the same outputs
/// ([`recover`]) and a reader can tell a set still being published (the journal exists).
pub fn journal_path(first_target: &Path) -> PathBuf {
    let name = first_target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    first_target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.pyrustpipe-publish.json"))
}

fn sync_dir(dir: &Path) {
    // Makes the renames durable; not every platform can open a directory, so best effort.
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

fn rename_all(pairs: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (temp, target) in pairs {
        if temp.exists() {
            std::fs::rename(temp, target)
                .map_err(|e| Error::storage("rename", target.display().to_string(), e))?;
        }
    }
    Ok(())
}

/// Rename every staged output into place, as one set: with more than one file, a journal is
/// written first and removed last, so an interrupted publish is finished by [`recover`].
pub fn publish(mut files: Vec<Staged>) -> Result<()> {
    let pairs: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .map(|f| (f.temp.clone(), f.target.clone()))
        .collect();
    let Some((_, first)) = pairs.first() else {
        return Ok(());
    };
    let journal = (pairs.len() > 1).then(|| journal_path(first));
    if let Some(journal) = &journal {
        let entries: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(t, f)| serde_json::json!({"temp": t, "target": f}))
            .collect();
        let text = serde_json::to_vec(&entries).expect("paths serialise");
        let staging = journal.with_extension("json.tmp");
        std::fs::write(&staging, text)
            .and_then(|()| std::fs::File::open(&staging)?.sync_all())
            .and_then(|()| std::fs::rename(&staging, journal))
            .map_err(|e| Error::storage("write", journal.display().to_string(), e))?;
    }
    rename_all(&pairs)?;
    for file in &mut files {
        file.published = true;
    }
    let mut dirs: Vec<&Path> = pairs
        .iter()
        .map(|(_, t)| crate::storage::parent_of(t))
        .collect();
    dirs.dedup();
    for dir in dirs {
        sync_dir(dir);
    }
    if let Some(journal) = journal {
        std::fs::remove_file(&journal)
            .map_err(|e| Error::storage("remove", journal.display().to_string(), e))?;
    }
    Ok(())
}

/// Finish a publish that a killed run left half done (its journal beside `first_target`): the
/// staged files were complete and synced before the first rename, so rolling forward is safe.
pub fn recover(first_target: &Path) -> Result<()> {
    let journal = journal_path(first_target);
    let Ok(text) = std::fs::read(&journal) else {
        return Ok(());
    };
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&text).unwrap_or_default();
    let pairs: Vec<(PathBuf, PathBuf)> = entries
        .iter()
        .filter_map(|e| {
            Some((
                PathBuf::from(e.get("temp")?.as_str()?),
                PathBuf::from(e.get("target")?.as_str()?),
            ))
        })
        .collect();
    rename_all(&pairs)?;
    std::fs::remove_file(&journal)
        .map_err(|e| Error::storage("remove", journal.display().to_string(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(dir: &Path, name: &str, text: &str) -> Staged {
        let temp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&temp, text).unwrap();
        Staged::new(temp, dir.join(name))
    }

    #[test]
    fn a_set_appears_whole_and_unpublished_files_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![
            staged(dir.path(), "valid.csv", "v"),
            staged(dir.path(), "report.json", "r"),
        ];
        publish(files).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["report.json", "valid.csv"]);
        drop(staged(dir.path(), "quarantine.csv", "q"));
        assert!(!dir.path().join(".quarantine.csv.tmp").exists());
    }

    #[test]
    fn a_publish_cut_between_renames_is_rolled_forward() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("valid.csv");
        let a = staged(dir.path(), "valid.csv", "v");
        let b = staged(dir.path(), "report.json", "r");
        let entries = serde_json::json!([
            {"temp": a.temp, "target": a.target},
            {"temp": b.temp, "target": b.target},
        ]);
        std::fs::write(journal_path(&first), entries.to_string()).unwrap();
        // The kill came after the first rename.
        std::fs::rename(&a.temp, &a.target).unwrap();
        std::mem::forget(a);
        std::mem::forget(b);
        recover(&first).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("report.json")).unwrap(),
            "r"
        );
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "v");
        assert!(!journal_path(&first).exists());
    }
}
