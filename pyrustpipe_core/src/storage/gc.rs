//! `pyrustpipe gc`: removes what interrupted runs left under an output prefix and nothing else.
//! On S3: attempt folders (`_pyrustpipe_attempts/<attempt>/`, docs/outputs.md) older than the
//! threshold that no committed manifest names, and multipart uploads never completed. Locally:
//! staged files (`.<name>.pyrustpipe-<pid>.tmp`) older than the threshold that no publish
//! journal names. Committed outputs and manifests are never touched.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::commit::Manifest;
use super::s3::S3Store;
use super::{Location, Storage};
use crate::error::{Error, Result};

const ATTEMPTS: &str = "_pyrustpipe_attempts/";
const MANIFEST: &str = "_pyrustpipe_manifest.json";

/// One leftover, removed (or, in a dry run, to be removed).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Leftover {
    /// `attempt` (an S3 attempt folder), `upload` (a multipart upload) or `staged` (a local
    /// staged file).
    pub kind: &'static str,
    pub uri: String,
    /// Seconds since it was made.
    pub age_s: u64,
    /// Objects in an attempt folder (1 for the others).
    pub objects: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct GcReport {
    pub dry_run: bool,
    pub removed: Vec<Leftover>,
    /// What could not be looked at, in words (a server that cannot list multipart uploads).
    pub notes: Vec<String>,
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// When an attempt began: its id starts with the epoch seconds in hex (`commit::new_attempt_id`).
fn attempt_began(attempt: &str) -> Option<u64> {
    let (secs, rest) = attempt.split_once('-')?;
    rest.contains('-')
        .then(|| u64::from_str_radix(secs, 16).ok())
        .flatten()
}

/// `(folder holding the outputs, attempt id)` of a key inside an attempt folder.
fn attempt_of(key: &str) -> Option<(&str, &str)> {
    let at = key.find(ATTEMPTS)?;
    if at > 0 && !key[..at].ends_with('/') {
        return None;
    }
    let attempt = key[at + ATTEMPTS.len()..].split('/').next()?;
    (!attempt.is_empty()).then_some((&key[..at], attempt))
}

/// Remove what interrupted runs left under `prefix` (a directory or an `s3://` prefix) that is
/// older than `older_than`; with `dry_run`, only list it.
pub fn gc(
    storage: &Storage,
    prefix: &str,
    older_than: Duration,
    dry_run: bool,
) -> Result<GcReport> {
    let mut report = GcReport {
        dry_run,
        ..GcReport::default()
    };
    let older = older_than.as_secs();
    match Location::parse(prefix)? {
        Location::S3 { bucket, key } => {
            gc_s3(&storage.s3()?, &bucket, &key, older, &mut report)?;
        }
        Location::Local(dir) => gc_local(Path::new(&dir), older, &mut report)?,
    }
    Ok(report)
}

fn gc_s3(
    store: &S3Store,
    bucket: &str,
    prefix: &str,
    older: u64,
    report: &mut GcReport,
) -> Result<()> {
    let now = now_s();
    let mut folders: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for object in store.list(bucket, prefix)? {
        if let Some((dir, attempt)) = attempt_of(&object.key) {
            folders
                .entry((dir.to_owned(), attempt.to_owned()))
                .or_default()
                .push(object.key.clone());
        }
    }
    // The attempt each folder's manifest committed: its staged copies may still be waiting to be
    // published (a publish cut short; the next run finishes it), so they stay.
    let mut committed: BTreeMap<String, Option<String>> = BTreeMap::new();
    for ((dir, attempt), keys) in folders {
        let Some(began) = attempt_began(&attempt) else {
            continue;
        };
        let age_s = now.saturating_sub(began);
        if age_s < older {
            continue;
        }
        if !committed.contains_key(&dir) {
            let manifest = store
                .get_small(bucket, &format!("{dir}{MANIFEST}"))?
                .and_then(|(bytes, _)| serde_json::from_slice::<Manifest>(&bytes).ok())
                .map(|m| m.attempt);
            committed.insert(dir.clone(), manifest);
        }
        if committed[&dir].as_deref() == Some(attempt.as_str()) {
            continue;
        }
        if !report.dry_run {
            for key in &keys {
                store.delete(bucket, key)?;
            }
        }
        report.removed.push(Leftover {
            kind: "attempt",
            uri: format!("s3://{bucket}/{dir}{ATTEMPTS}{attempt}/"),
            age_s,
            objects: keys.len(),
        });
    }
    match store.open_uploads(bucket, prefix)? {
        None => report.notes.push(format!(
            "s3://{bucket}/{prefix}: the server cannot list multipart uploads \
             (ListMultipartUploads is not implemented); none were looked at"
        )),
        Some(uploads) => {
            for upload in uploads {
                let age_s = now.saturating_sub(upload.initiated);
                if age_s < older {
                    continue;
                }
                if !report.dry_run {
                    store.abort_upload(bucket, &upload.key, &upload.upload_id)?;
                }
                report.removed.push(Leftover {
                    kind: "upload",
                    uri: format!("s3://{bucket}/{}?uploadId={}", upload.key, upload.upload_id),
                    age_s,
                    objects: 1,
                });
            }
        }
    }
    Ok(())
}

/// A staged output's name: `.<name>.pyrustpipe-<pid>.tmp` (`formats::sink::AtomicFile`).
fn is_staged_name(name: &str) -> bool {
    name.starts_with('.')
        && name.strip_suffix(".tmp").is_some_and(|stem| {
            stem.rsplit_once(".pyrustpipe-")
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        })
}

fn gc_local(dir: &Path, older: u64, report: &mut GcReport) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::storage("list", dir.display().to_string(), e))?;
    let mut staged = Vec::new();
    let mut journaled = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::storage("list", dir.display().to_string(), e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry
            .file_type()
            .map_err(|e| Error::storage("stat", path.display().to_string(), e))?;
        if kind.is_dir() {
            gc_local(&path, older, report)?;
        } else if name.ends_with(".pyrustpipe-publish.json") {
            // A publish in progress or cut short: its staged files are the next run's to finish.
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let entries: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
            journaled.extend(
                entries
                    .iter()
                    .filter_map(|e| e.get("temp")?.as_str().map(std::path::PathBuf::from)),
            );
        } else if is_staged_name(&name) {
            staged.push(path);
        }
    }
    for path in staged {
        if journaled.contains(&path) {
            continue;
        }
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| Error::storage("stat", path.display().to_string(), e))?;
        let age_s = SystemTime::now()
            .duration_since(modified)
            .map_or(0, |d| d.as_secs());
        if age_s < older {
            continue;
        }
        if !report.dry_run {
            std::fs::remove_file(&path)
                .map_err(|e| Error::storage("remove", path.display().to_string(), e))?;
        }
        report.removed.push(Leftover {
            kind: "staged",
            uri: path.display().to_string(),
            age_s,
            objects: 1,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_keys_and_ids_are_recognised() {
        let cases = [
            (
                "q/dt=1/_pyrustpipe_attempts/65f0-1a-2b/valid.csv",
                Some(("q/dt=1/", "65f0-1a-2b")),
            ),
            (
                "_pyrustpipe_attempts/65f0-1a-2b/valid.csv",
                Some(("", "65f0-1a-2b")),
            ),
            ("q/x_pyrustpipe_attempts/65f0-1a-2b/valid.csv", None),
            ("q/dt=1/valid.csv", None),
            ("q/_pyrustpipe_manifest.json", None),
        ];
        for (key, want) in cases {
            assert_eq!(attempt_of(key), want, "{key}");
        }
        assert_eq!(attempt_began("65f0-1a-2b"), Some(0x65f0));
        assert_eq!(attempt_began("notes"), None);
        assert_eq!(attempt_began("zz-1-2"), None);
    }

    #[test]
    fn only_staged_names_are_staged() {
        assert!(is_staged_name(".valid.csv.pyrustpipe-1234.tmp"));
        for name in [
            "valid.csv",
            ".valid.csv.tmp",
            ".valid.csv.pyrustpipe-x.tmp",
            "report.json",
        ] {
            assert!(!is_staged_name(name), "{name}");
        }
    }

    #[test]
    fn local_gc_removes_old_staged_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".valid.csv.pyrustpipe-77.tmp");
        let pending = dir.path().join(".quarantine.csv.pyrustpipe-77.tmp");
        let kept = dir.path().join("valid.csv");
        for path in [&stale, &pending, &kept] {
            std::fs::write(path, "x").unwrap();
        }
        let journal = serde_json::json!([{"temp": pending, "target": dir.path().join("q.csv")}]);
        std::fs::write(
            dir.path().join(".q.csv.pyrustpipe-publish.json"),
            journal.to_string(),
        )
        .unwrap();
        let storage = Storage::new(Default::default(), false);
        let root = dir.path().display().to_string();
        let young = gc(&storage, &root, Duration::from_secs(3600), false).unwrap();
        assert!(young.removed.is_empty());
        let dry = gc(&storage, &root, Duration::ZERO, true).unwrap();
        assert_eq!(dry.removed.len(), 1);
        assert!(stale.exists());
        let done = gc(&storage, &root, Duration::ZERO, false).unwrap();
        assert_eq!(done.removed[0].uri, stale.display().to_string());
        assert!(!stale.exists() && pending.exists() && kept.exists());
    }
}
