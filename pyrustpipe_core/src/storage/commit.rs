//! Committing outputs to S3 exactly once (docs/outputs.md). S3 has no multi-object
//! transaction, so the commit point is one object: the run's manifest, written with
//! `If-None-Match: *`. Data objects go first to an attempt-private staging key; only after the
//! manifest is in place are they copied to their final keys. A retried or concurrent attempt of
//! the same partition (same inputs by ETag, same rules) finds the manifest and stops, after
//! finishing any promotion the earlier attempt left undone.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::s3::{PutOutcome, S3Store};
use super::{temp_path, Location, SourceObject};
use crate::error::{Error, Result};

/// One output of the run: the local file the sinks wrote, and where it must end up in S3.
#[derive(Debug, Clone)]
pub struct PendingOutput {
    pub role: &'static str,
    pub local: PathBuf,
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InputRef {
    pub uri: String,
    pub etag: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestOutput {
    pub role: String,
    pub uri: String,
    pub staged_key: String,
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub attempt: String,
    pub ruleset_hash: String,
    pub inputs: Vec<InputRef>,
    pub outputs: Vec<ManifestOutput>,
    pub rows: u64,
    pub valid_rows: u64,
    pub invalid_rows: u64,
}

/// What the commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// This attempt committed the outputs.
    Now { manifest: String },
    /// An earlier attempt had committed the same partition with the same rules.
    Already { manifest: String },
}

fn dir_of(key: &str) -> &str {
    key.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// A new attempt id: time and process, so concurrent attempts never share staging keys.
pub fn new_attempt_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:x}-{:x}-{:x}",
        now.as_secs(),
        now.subsec_nanos(),
        std::process::id()
    )
}

/// Where the manifest of a set of outputs lives: next to the first output. A ledger entry
/// shares its directory with the other partitions of its logical date, so a set led by one
/// has a manifest named after the entry.
pub fn manifest_location(outputs: &[PendingOutput]) -> Option<(String, String)> {
    outputs.first().map(|o| {
        let name = match o.key.rsplit('/').next() {
            Some(file) if o.role == "ledger" => format!(
                "_pyrustpipe_manifest.{}.json",
                file.trim_end_matches(".parquet")
            ),
            _ => "_pyrustpipe_manifest.json".to_owned(),
        };
        (o.bucket.clone(), join(dir_of(&o.key), &name))
    })
}

#[allow(clippy::too_many_arguments)]
pub fn commit(
    store: &S3Store,
    outputs: &[PendingOutput],
    inputs: &[SourceObject],
    ruleset_hash: &str,
    counts: (u64, u64, u64),
) -> Result<Committed> {
    let Some((manifest_bucket, manifest_key)) = manifest_location(outputs) else {
        return Err(Error::Internal("nothing to commit".to_owned()));
    };
    let manifest_uri = format!("s3://{manifest_bucket}/{manifest_key}");
    let attempt = new_attempt_id();
    let inputs: Vec<InputRef> = inputs
        .iter()
        .map(|s| InputRef {
            uri: s.uri.clone(),
            etag: s.etag.clone(),
        })
        .collect();

    // 1. Stage: upload every output under an attempt-private key.
    let mut staged: Vec<ManifestOutput> = Vec::new();
    for output in outputs {
        let name = output.key.rsplit('/').next().unwrap_or(&output.key);
        let staged_key = join(
            dir_of(&output.key),
            &format!("_pyrustpipe_attempts/{attempt}/{name}"),
        );
        if let Err(error) = store.upload(&output.local, &output.bucket, &staged_key, false) {
            cleanup(store, &staged);
            // A put cut by a cancel after its body was sent may still have been stored.
            let _ = store.without_cancel().delete(&output.bucket, &staged_key);
            return Err(error);
        }
        staged.push(ManifestOutput {
            role: output.role.to_owned(),
            uri: format!("s3://{}/{}", output.bucket, output.key),
            staged_key,
            bucket: output.bucket.clone(),
            key: output.key.clone(),
        });
    }

    // 2. Commit: the manifest, only if none exists. A cancel is honoured up to here and not
    // after: the conditional put is the commit point.
    if let Err(cancelled) = store.check_cancel() {
        cleanup(store, &staged);
        return Err(cancelled);
    }
    let store = &store.without_cancel();
    let manifest = Manifest {
        manifest_version: 1,
        attempt,
        ruleset_hash: ruleset_hash.to_owned(),
        inputs: inputs.clone(),
        outputs: staged.clone(),
        rows: counts.0,
        valid_rows: counts.1,
        invalid_rows: counts.2,
    };
    let local = temp_path("manifest");
    std::fs::write(
        &local,
        serde_json::to_vec_pretty(&manifest).expect("a manifest serialises"),
    )
    .map_err(|e| Error::storage("write", local.display().to_string(), e))?;
    let outcome = store.upload(&local, &manifest_bucket, &manifest_key, true);
    let _ = std::fs::remove_file(&local);
    let won = match outcome {
        Err(error) => {
            cleanup(store, &staged);
            return Err(error);
        }
        // Not every backend makes the conditional put atomic: two racing attempts can both be
        // told they wrote it. The manifest read back names the one whose write stands.
        Ok(PutOutcome::Written { .. }) => {
            match read_manifest_if_any(store, &manifest_bucket, &manifest_key, &manifest_uri)? {
                Some(standing) => standing.attempt == manifest.attempt,
                // Acknowledged but not stored: nothing is committed, so this attempt's staged
                // keys go (a read that failed for another reason keeps them: the manifest may
                // stand and name them).
                None => {
                    cleanup(store, &staged);
                    return Err(vanished(&manifest_uri));
                }
            }
        }
        Ok(PutOutcome::AlreadyExists) => false,
    };
    if won {
        promote(store, &staged, false).map_err(|e| unfinished(&manifest_uri, e))?;
        cleanup(store, &staged);
        return Ok(Committed::Now {
            manifest: manifest_uri,
        });
    }
    // Another attempt committed first. Same inputs and rules: its outputs stand (this attempt's
    // are identical); finish its publish in case it died before the end.
    cleanup(store, &staged);
    let existing = read_manifest(store, &manifest_bucket, &manifest_key, &manifest_uri)?;
    if existing.inputs != inputs || existing.ruleset_hash != ruleset_hash {
        return Err(Error::storage(
            "commit",
            manifest_uri,
            "outputs for different inputs or rules are already committed here; delete the manifest to replace them, or write to another prefix",
        ));
    }
    promote(store, &existing.outputs, true).map_err(|e| unfinished(&manifest_uri, e))?;
    cleanup(store, &existing.outputs);
    Ok(Committed::Already {
        manifest: manifest_uri,
    })
}

/// Before a run reads anything: the manifest of these outputs, when an earlier attempt already
/// committed them for the same inputs and rules (its publish is finished here if it was cut
/// short). Then the run has nothing to upload. `None`: no manifest yet, or one for other inputs
/// or rules (the commit refuses that one, with its message, at the end of the run).
pub fn committed_already(
    store: &S3Store,
    outputs: &[PendingOutput],
    inputs: &[SourceObject],
    ruleset_hash: &str,
) -> Result<Option<String>> {
    let Some((bucket, key)) = manifest_location(outputs) else {
        return Ok(None);
    };
    let uri = format!("s3://{bucket}/{key}");
    let Some((bytes, _)) = store.get_small(&bucket, &key)? else {
        return Ok(None);
    };
    let Ok(existing) = serde_json::from_slice::<Manifest>(&bytes) else {
        return Ok(None);
    };
    let same_inputs = existing.inputs.len() == inputs.len()
        && existing
            .inputs
            .iter()
            .zip(inputs)
            .all(|(a, b)| a.uri == b.uri && a.etag == b.etag);
    let same_outputs = outputs.iter().all(|o| {
        existing
            .outputs
            .iter()
            .any(|m| m.bucket == o.bucket && m.key == o.key)
    });
    if !same_inputs || existing.ruleset_hash != ruleset_hash || !same_outputs {
        return Ok(None);
    }
    // Staging keys are removed only after a whole publish: one still there means that publish
    // was cut short. Otherwise there is nothing to write, not even a delete.
    let mut cut_short = false;
    for output in &existing.outputs {
        cut_short |= store.head(&output.bucket, &output.staged_key)?.is_some();
    }
    if cut_short {
        promote(store, &existing.outputs, true).map_err(|e| unfinished(&uri, e))?;
        cleanup(store, &existing.outputs);
    }
    Ok(Some(uri))
}

/// The manifest as stored. A server whose conditional put is not atomic may be writing another
/// attempt's manifest over it right now (a cut body, half a document): read again, a few times.
fn read_manifest(store: &S3Store, bucket: &str, key: &str, uri: &str) -> Result<Manifest> {
    read_manifest_if_any(store, bucket, key, uri)?.ok_or_else(|| vanished(uri))
}

/// `read_manifest`, with `None` when, after the retries, there is no manifest at all.
fn read_manifest_if_any(
    store: &S3Store,
    bucket: &str,
    key: &str,
    uri: &str,
) -> Result<Option<Manifest>> {
    let mut tries = 0u64;
    loop {
        tries += 1;
        let read = store.get_small(bucket, key).and_then(|found| {
            found
                .map(|(bytes, _)| {
                    serde_json::from_slice::<Manifest>(&bytes).map_err(|e| {
                        Error::storage("read", uri, format!("not a pyrustpipe manifest: {e}"))
                    })
                })
                .transpose()
        });
        match read {
            Err(_) | Ok(None) if tries < 4 => {
                std::thread::sleep(std::time::Duration::from_millis(100 * tries))
            }
            other => return other,
        }
    }
}

fn vanished(uri: &str) -> Error {
    Error::storage(
        "get",
        uri,
        "the manifest vanished while committing; run again",
    )
}

/// A publish that failed after the manifest was written: the outputs are committed but not all
/// at their final keys yet. Running again finishes them (not so for a "publish" error, whose
/// staged copy is gone).
fn unfinished(manifest_uri: &str, error: Error) -> Error {
    match error {
        Error::Storage {
            operation,
            path,
            message,
        } if operation != "publish" => Error::Storage {
            operation,
            path,
            message: format!(
                "{message} (the outputs are committed in {manifest_uri} but not all published; run again to finish publishing)"
            ),
        },
        other => other,
    }
}

/// Copy the staged outputs to their final keys. A staging key is removed only after every
/// output of its attempt was published, so when finishing another attempt's publish, a staged
/// key that is gone means its output is already in place (and must be there); one that is still
/// there is copied (again: the same bytes), so a final key left by an older commit is replaced.
fn promote(store: &S3Store, staged: &[ManifestOutput], finishing: bool) -> Result<()> {
    let published = |output: &ManifestOutput| -> Result<bool> {
        Ok(store.head(&output.bucket, &output.staged_key)?.is_none()
            && store.head(&output.bucket, &output.key)?.is_some())
    };
    for output in staged {
        if finishing && store.head(&output.bucket, &output.staged_key)?.is_none() {
            if store.head(&output.bucket, &output.key)?.is_some() {
                continue;
            }
            return Err(Error::storage(
                "publish",
                format!("s3://{}/{}", output.bucket, output.key),
                "neither the staged copy nor the published object exists (removed by hand or by a lifecycle rule?); delete the manifest and run again",
            ));
        }
        if let Err(error) = store.copy(
            &output.bucket,
            &output.staged_key,
            &output.bucket,
            &output.key,
        ) {
            // A concurrent attempt may have finished this publish and removed the staged key
            // since it was checked.
            if !published(output)? {
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Best effort: staging keys left behind by a crash are harmless (the manifest never names them
/// as final) and a bucket lifecycle rule on `_pyrustpipe_attempts/` removes them.
fn cleanup(store: &S3Store, staged: &[ManifestOutput]) {
    // Runs after a cancel too: it is what a cancel leaves clean.
    let store = store.without_cancel();
    for output in staged {
        let _ = store.delete(&output.bucket, &output.staged_key);
    }
}

/// Why an output key could write outside its prefix or be read back as another key (S3 does not
/// normalise `..`, `.`, `//` or a leading `/`), if it could.
fn unsafe_key(key: &str) -> Option<&'static str> {
    if key.starts_with('/') {
        return Some("an output key cannot start with '/'");
    }
    if key.chars().any(char::is_control) {
        return Some("an output key cannot contain control characters");
    }
    if key.split('/').any(|s| s == "." || s == "..") {
        return Some("an output key cannot contain '.' or '..' segments");
    }
    if key.split('/').any(str::is_empty) {
        return Some("an output key cannot contain empty segments ('//')");
    }
    None
}

/// The final object key for an output URI: a URI ending in `/` is a prefix and gets `name`.
pub fn output_key(uri: &str, name: &str) -> Result<(String, String)> {
    match Location::parse(uri)? {
        Location::S3 { bucket, key } => {
            let key = if key.is_empty() || key.ends_with('/') {
                format!("{key}{name}")
            } else {
                key
            };
            if let Some(why) = unsafe_key(&key) {
                return Err(Error::option(
                    "output",
                    format!("{uri}: {why}; percent-encode partition values put into output keys"),
                ));
            }
            Ok((bucket, key))
        }
        Location::Local(_) => Err(Error::Internal(format!("{uri} is not an S3 URI"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keys_stay_under_their_prefix() {
        let key = |uri: &str| output_key(uri, "quarantine.csv").map(|(_, k)| k);
        assert_eq!(
            key("s3://b/q/dt=2026-01-01/").unwrap(),
            "q/dt=2026-01-01/quarantine.csv"
        );
        assert_eq!(
            key("s3://b/q/dt=..%2F..%2Fx/").unwrap(),
            "q/dt=..%2F..%2Fx/quarantine.csv"
        );
        assert_eq!(key("s3://b/q/out.csv").unwrap(), "q/out.csv");
        for bad in [
            "s3://b/q/../../etc/",
            "s3://b/q/./x/",
            "s3://b/q//x/",
            "s3://b//q/",
            "s3://b/q/a\tb/",
        ] {
            let error = key(bad).unwrap_err().to_string();
            assert!(error.contains("percent-encode"), "{bad}: {error}");
        }
    }
}
