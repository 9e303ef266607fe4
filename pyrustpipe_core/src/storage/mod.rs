//! Where data lives: local paths and `s3://bucket/key` URIs behind one API. Sources (paths,
//! prefixes, directories, globs) expand to objects with their size and ETag; each opens as a
//! byte stream. S3 is connected on first use only.

pub mod commit;
pub mod gc;
pub mod local;
pub mod runtime;
pub mod s3;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use s3::{ObjectMeta, S3Options, S3Store};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(String),
    S3 { bucket: String, key: String },
}

impl Location {
    pub fn parse(uri: &str) -> Result<Location> {
        let Some(rest) = uri.strip_prefix("s3://") else {
            return Ok(Location::Local(uri.to_owned()));
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(Error::storage(
                "parse",
                uri,
                "an S3 URI needs a bucket: s3://bucket/key",
            ));
        }
        if key.contains('\0') {
            return Err(Error::storage(
                "parse",
                uri,
                "an S3 key cannot contain a NUL byte",
            ));
        }
        Ok(Location::S3 {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

/// One object a run reads.
#[derive(Debug, Clone)]
pub struct SourceObject {
    pub uri: String,
    pub size: u64,
    /// The S3 ETag seen when listing (empty for local files); reads are pinned to it.
    pub etag: String,
    /// Microseconds since the epoch, when known: the listing's (or HEAD's) `LastModified`, a
    /// local file's modification time (for the ledger's `inputs`).
    pub last_modified: Option<i64>,
}

/// Microseconds since 1970-01-01 UTC (`None` before it or past i64).
pub fn micros_since_epoch(time: std::time::SystemTime) -> Option<i64> {
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_micros()).ok()
}

/// Data files only: `_SUCCESS` markers, hidden files and "directory" keys are skipped.
fn is_data_key(key: &str) -> bool {
    !key.ends_with('/')
        && !key
            .rsplit('/')
            .next()
            .is_some_and(|name| name.starts_with('.') || name.starts_with('_'))
}

pub struct Storage {
    options: S3Options,
    s3: Mutex<Option<S3Store>>,
    /// A source that matches nothing expands to no objects instead of failing.
    allow_empty: bool,
    /// The run's cancel switch, handed to the S3 store.
    cancel: crate::progress::Cancel,
}

impl Storage {
    pub fn new(options: S3Options, allow_empty: bool) -> Storage {
        Storage {
            options,
            s3: Mutex::new(None),
            allow_empty,
            cancel: crate::progress::Cancel::default(),
        }
    }

    /// This storage, its S3 requests stopping when `cancel` is set.
    #[must_use]
    pub fn with_cancel(mut self, cancel: crate::progress::Cancel) -> Storage {
        self.cancel = cancel;
        self
    }

    pub fn s3(&self) -> Result<S3Store> {
        let mut slot = self
            .s3
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = slot.as_ref() {
            return Ok(store.clone());
        }
        let store = S3Store::connect(&self.options)?.with_cancel(self.cancel.clone());
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Per S3 operation, the SDK's retries so far (empty when S3 was not used).
    pub fn retries(&self) -> std::collections::BTreeMap<String, u64> {
        self.s3
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|store| store.retries.snapshot())
            .unwrap_or_default()
    }

    /// Expand sources into objects: each argument's matches in key order, arguments in order.
    pub fn expand(&self, sources: &[String]) -> Result<Vec<SourceObject>> {
        let mut out = Vec::new();
        for source in sources {
            match Location::parse(source)? {
                Location::Local(_) => {
                    for path in local::expand(std::slice::from_ref(source), self.allow_empty)? {
                        let meta = std::fs::metadata(&path)
                            .map_err(|e| Error::storage("stat", &path, e))?;
                        out.push(SourceObject {
                            uri: path,
                            size: meta.len(),
                            etag: String::new(),
                            last_modified: meta.modified().ok().and_then(micros_since_epoch),
                        });
                    }
                }
                Location::S3 { bucket, key } => {
                    let found = self.expand_s3(source, &bucket, &key)?;
                    out.extend(found.into_iter().map(|meta| SourceObject {
                        uri: format!("s3://{bucket}/{}", meta.key),
                        size: meta.size,
                        etag: meta.etag,
                        last_modified: meta.last_modified,
                    }));
                }
            }
        }
        Ok(out)
    }

    fn expand_s3(&self, source: &str, bucket: &str, key: &str) -> Result<Vec<ObjectMeta>> {
        let store = self.s3()?;
        let mut found = if local::has_glob(key) {
            let literal = &key[..key.find(['*', '?', '[']).unwrap_or(key.len())];
            let pattern = glob::Pattern::new(key).map_err(|e| Error::storage("glob", source, e))?;
            let options = glob::MatchOptions {
                require_literal_separator: true,
                ..glob::MatchOptions::default()
            };
            store
                .list(bucket, literal)?
                .into_iter()
                .filter(|m| pattern.matches_with(&m.key, options))
                .collect()
        } else if key.is_empty() || key.ends_with('/') {
            store.list(bucket, key)?
        } else if let Some(meta) = store.head(bucket, key)? {
            vec![meta]
        } else {
            store.list(bucket, &format!("{key}/"))?
        };
        found.retain(|m| is_data_key(&m.key));
        if found.is_empty() && !self.allow_empty {
            return Err(Error::storage(
                "list",
                source,
                "no objects match (an empty prefix, a missing key or a glob matching nothing)",
            ));
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// A byte stream over a source object.
    pub fn open(&self, source: &SourceObject) -> Result<Box<dyn Read + Send>> {
        match Location::parse(&source.uri)? {
            Location::Local(path) => {
                let file =
                    std::fs::File::open(&path).map_err(|e| Error::storage("open", &path, e))?;
                Ok(Box::new(file))
            }
            Location::S3 { bucket, key } => {
                let meta = ObjectMeta {
                    key,
                    size: source.size,
                    etag: source.etag.clone(),
                    last_modified: source.last_modified,
                };
                Ok(Box::new(self.s3()?.reader(&bucket, &meta)))
            }
        }
    }

    /// A byte stream over the bytes `from..to` of a source object (a split's range).
    pub fn open_range(
        &self,
        source: &SourceObject,
        from: u64,
        to: u64,
    ) -> Result<Box<dyn Read + Send>> {
        match Location::parse(&source.uri)? {
            Location::Local(path) => {
                use std::io::{Seek, SeekFrom};
                let mut file =
                    std::fs::File::open(&path).map_err(|e| Error::storage("open", &path, e))?;
                file.seek(SeekFrom::Start(from))
                    .map_err(|e| Error::storage("seek", &path, e))?;
                Ok(Box::new(file.take(to.saturating_sub(from))))
            }
            Location::S3 { bucket, key } => {
                let meta = ObjectMeta {
                    key,
                    size: source.size,
                    etag: source.etag.clone(),
                    last_modified: source.last_modified,
                };
                Ok(Box::new(self.s3()?.range_reader(&bucket, &meta, from, to)))
            }
        }
    }

    /// A local path holding the object's bytes: the file itself, or a downloaded copy that is
    /// removed when the returned guard drops.
    pub fn local_copy(&self, source: &SourceObject) -> Result<LocalCopy> {
        match Location::parse(&source.uri)? {
            Location::Local(path) => Ok(LocalCopy {
                path: PathBuf::from(path),
                temporary: false,
            }),
            Location::S3 { bucket, key } => {
                let path = temp_path("download");
                let meta = ObjectMeta {
                    key,
                    size: source.size,
                    etag: source.etag.clone(),
                    last_modified: source.last_modified,
                };
                self.s3()?.download(&bucket, &meta, &path)?;
                Ok(LocalCopy {
                    path,
                    temporary: true,
                })
            }
        }
    }
}

/// A path that is deleted on drop when it is a temporary copy.
#[derive(Debug)]
pub struct LocalCopy {
    pub path: PathBuf,
    temporary: bool,
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A fresh path in the temporary directory.
pub fn temp_path(purpose: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "pyrustpipe-{purpose}-{}-{n}-{nanos}",
        std::process::id()
    ))
}

pub fn is_s3(uri: &str) -> bool {
    uri.starts_with("s3://")
}

pub fn file_name(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or(uri)
}

pub fn parent_of(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}
