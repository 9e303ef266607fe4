//! S3 through aws-sdk-s3: configuration from `storage_options` (or the standard AWS chain),
//! listing, HEAD, ranged reads that resume after a cut body (pinned to the object's ETag, so a
//! changed object is an error rather than a silent mix), uploads (multipart for large files,
//! aborted on failure or cancel), conditional puts, copies and deletes. Every error names the
//! operation, the object, the S3 error code and the request id — never a credential. A store
//! carries its run's cancel switch: once set, no new request is sent and a read in flight is
//! dropped; a write in flight gets a short grace to finish, so the clean-up that follows knows
//! what it stored (`without_cancel` gives the store that cleans up).

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{
    ConfigBag, Credentials, Intercept, Region, RuntimeComponents, StalledStreamProtectionConfig,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use bytes::Bytes;
use serde_json::Value as Json;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use super::runtime::runtime;
use crate::error::{Error, Result};
use crate::progress::Cancel;

/// What a `storage_options` dict may hold. Values are strings (numbers and booleans are
/// accepted too); unknown keys are an error naming the key, never its value.
#[derive(Debug, Default, Clone)]
pub struct S3Options {
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    session_token: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
    force_path_style: Option<bool>,
    profile: Option<String>,
    connect_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    max_attempts: Option<u32>,
    multipart_threshold: Option<u64>,
}

const KNOWN_KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region",
    "aws_region",
    "endpoint_url",
    "aws_endpoint_url",
    "force_path_style",
    "profile",
    "connect_timeout_s",
    "read_timeout_s",
    "attempt_timeout_s",
    "max_attempts",
    "multipart_threshold_mb",
];

fn text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl S3Options {
    pub fn from_map(map: Option<&serde_json::Map<String, Json>>) -> Result<S3Options> {
        let mut options = S3Options::default();
        let Some(map) = map else { return Ok(options) };
        for (key, value) in map {
            if !KNOWN_KEYS.contains(&key.as_str()) {
                return Err(Error::option(
                    "storage_options",
                    format!("unknown key {key:?}; known keys: {}", KNOWN_KEYS.join(", ")),
                ));
            }
            if value.is_null() {
                continue;
            }
            let value = text(value).ok_or_else(|| {
                Error::option("storage_options", format!("{key} must be a string"))
            })?;
            let seconds = |v: &str| -> Result<Duration> {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && s.is_finite())
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        Error::option(
                            "storage_options",
                            format!("{key} must be a positive number of seconds"),
                        )
                    })
            };
            match key.as_str() {
                "aws_access_key_id" => options.access_key_id = Some(value),
                "aws_secret_access_key" => options.secret_access_key = Some(value),
                "aws_session_token" => options.session_token = Some(value),
                "region" | "aws_region" => options.region = Some(value),
                "endpoint_url" | "aws_endpoint_url" => options.endpoint_url = Some(value),
                "force_path_style" => {
                    options.force_path_style = Some(matches!(
                        value.to_ascii_lowercase().as_str(),
                        "true" | "1" | "yes"
                    ))
                }
                "profile" => options.profile = Some(value),
                "connect_timeout_s" => options.connect_timeout = Some(seconds(&value)?),
                "attempt_timeout_s" => options.attempt_timeout = Some(seconds(&value)?),
                "read_timeout_s" => options.read_timeout = Some(seconds(&value)?),
                "multipart_threshold_mb" => {
                    let mb = value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (5..=5 * 1024).contains(n))
                        .ok_or_else(|| {
                            Error::option(
                                "storage_options",
                                "multipart_threshold_mb must be an integer from 5 to 5120",
                            )
                        })?;
                    options.multipart_threshold = Some(mb << 20);
                }
                _ => {
                    options.max_attempts = Some(
                        value
                            .parse::<u32>()
                            .ok()
                            .filter(|n| *n > 0)
                            .ok_or_else(|| {
                                Error::option(
                                    "storage_options",
                                    "max_attempts must be a positive integer",
                                )
                            })?,
                    );
                }
            }
        }
        if options.access_key_id.is_some() != options.secret_access_key.is_some() {
            return Err(Error::option(
                "storage_options",
                "give both aws_access_key_id and aws_secret_access_key, or neither",
            ));
        }
        Ok(options)
    }
}

#[derive(Debug, Clone)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub etag: String,
    /// Microseconds since the epoch, when the server said.
    pub last_modified: Option<i64>,
}

/// An S3 timestamp as microseconds since the epoch.
fn micros(time: Option<&aws_sdk_s3::primitives::DateTime>) -> Option<i64> {
    let time = time?;
    time.secs()
        .checked_mul(1_000_000)?
        .checked_add(i64::from(time.subsec_nanos() / 1_000))
}

/// Per S3 operation (`get_object`, `put_object`…), the attempts beyond the first that the SDK
/// made (its retries), for the report's `io.retries`.
#[derive(Debug, Clone, Default)]
pub struct RetryCounts(Arc<std::sync::Mutex<BTreeMap<String, u64>>>);

impl RetryCounts {
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn add(&self, operation: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(snake_case(operation))
            .or_default() += 1;
    }
}

/// `GetObject` → `get_object`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs before every attempt of every request: an attempt number above 1 is a retry.
#[derive(Debug)]
struct CountRetries(RetryCounts);

impl Intercept for CountRetries {
    fn name(&self) -> &'static str {
        "pyrustpipe_count_retries"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let attempt = cfg
            .load::<RequestAttempts>()
            .map_or(1, RequestAttempts::attempts);
        if attempt > 1 {
            self.0
                .add(cfg.load::<Metadata>().map_or("Unknown", Metadata::name));
        }
        Ok(())
    }
}

/// A connected S3 client and the runtime it runs on.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    pub retries: RetryCounts,
    runtime: Arc<Runtime>,
    max_attempts: u32,
    multipart_threshold: u64,
    cancel: Cancel,
}

/// How often a request in flight looks at the cancel switch.
const CANCEL_POLL: Duration = Duration::from_millis(20);

/// How long a write in flight when its run is cancelled may go on. A write dropped once its body
/// is sent can still be stored by the server after the clean-up's delete, leaving a staging key
/// behind; waiting for its answer orders the delete after it. Short, for the 1 s cancel budget: a
/// write still going then is dropped (what it leaves, `pyrustpipe gc` removes).
const WRITE_GRACE: Duration = Duration::from_millis(250);

/// `work`'s result, or `Error::Cancelled` as soon as `cancel` is set (dropping `work` drops its
/// request). A set switch sends nothing at all.
async fn until_cancelled<T>(cancel: &Cancel, work: impl Future<Output = Result<T>>) -> Result<T> {
    let mut work = std::pin::pin!(work);
    loop {
        cancel.check()?;
        if let Ok(done) = tokio::time::timeout(CANCEL_POLL, work.as_mut()).await {
            return done;
        }
    }
}

/// As [`until_cancelled`] for a write: once begun, a cancel lets it run up to `grace` more before
/// it is dropped; the result is `Error::Cancelled` either way.
async fn until_cancelled_write<T>(
    cancel: &Cancel,
    grace: Duration,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    cancel.check()?;
    let mut work = std::pin::pin!(work);
    loop {
        if let Ok(done) = tokio::time::timeout(CANCEL_POLL, work.as_mut()).await {
            return done;
        }
        if let Err(cancelled) = cancel.check() {
            let _ = tokio::time::timeout(grace, work.as_mut()).await;
            return Err(cancelled);
        }
    }
}

fn uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// An S3 SDK error as a `StorageError`: operation, object, code, message and request id.
fn sdk_error<E>(operation: &'static str, path: String, err: &SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let request = err
        .request_id()
        .map(|id| format!(", request id {id}"))
        .unwrap_or_default();
    let message = match err {
        SdkError::ServiceError(service) if service.raw().status().as_u16() == 403 => {
            forbidden(service.err().code(), service.err().message(), &request)
        }
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("Unknown");
            let status = service.raw().status().as_u16();
            let detail = inner.message().unwrap_or("");
            format!(
                "S3 error {code} (HTTP {status}){}{detail}{request}",
                if detail.is_empty() { "" } else { ": " }
            )
        }
        SdkError::TimeoutError(_) => format!(
            "timed out: one attempt took longer than attempt_timeout_s ({}); {TIMEOUT_HINT}",
            DisplayErrorContext(err)
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => format!(
            "timed out connecting or waiting for the first byte of the answer ({}); {TIMEOUT_HINT}",
            DisplayErrorContext(err)
        ),
        other => format!("request failed: {}", DisplayErrorContext(other)),
    };
    Error::storage(operation, path, message)
}

const TIMEOUT_HINT: &str = "the endpoint did not answer in time; storage_options \
connect_timeout_s, read_timeout_s and attempt_timeout_s set the limits";

/// A 403 in words. S3 says why in the error body: the credentials were not accepted, or they
/// were and lack the permission. A HEAD answer has no body, so it cannot tell the two apart.
fn forbidden(code: Option<&str>, detail: Option<&str>, request: &str) -> String {
    let detail = detail
        .filter(|d| !d.is_empty())
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    match code {
        Some(code @ ("InvalidAccessKeyId" | "SignatureDoesNotMatch")) => format!(
            "credentials rejected (S3 error {code}, HTTP 403){detail}{request}; check the access \
             key id and secret (storage_options or the AWS credential chain)"
        ),
        Some(code @ "AccessDenied") => format!(
            "access denied (S3 error {code}, HTTP 403){detail}{request}; the credentials were \
             accepted but lack permission for this request (bucket or IAM policy)"
        ),
        Some(code) if code != "Unknown" => format!(
            "forbidden (S3 error {code}, HTTP 403){detail}{request}; check the credentials and \
             the bucket or IAM policy"
        ),
        // HEAD answers carry no body, so the SDK has no code to give.
        _ => format!(
            "access denied or bad credentials (HTTP 403{detail}{request}); a HEAD answer has no \
             body to say which: check the access key id and secret, and the bucket or IAM policy"
        ),
    }
}

fn service_code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> Option<String> {
    match err {
        SdkError::ServiceError(service) => service.err().code().map(str::to_owned),
        _ => None,
    }
}

fn http_status<E>(err: &SdkError<E>) -> Option<u16> {
    match err {
        SdkError::ServiceError(service) => Some(service.raw().status().as_u16()),
        _ => None,
    }
}

/// A multipart upload begun and never completed nor aborted.
#[derive(Debug, Clone)]
pub struct OpenUpload {
    pub key: String,
    pub upload_id: String,
    /// When it was begun, in seconds since the epoch.
    pub initiated: u64,
}

/// The outcome of a conditional put.
pub enum PutOutcome {
    Written { etag: String },
    AlreadyExists,
}

/// Default limits: establishing a connection; the first byte of a response (and, through stalled
/// stream protection, any silence inside a body); one attempt of one request, body included
/// for uploads (a single PUT of up to the multipart threshold must fit in it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);

const MULTIPART_THRESHOLD: u64 = 64 << 20;
/// At least S3's 5 MiB minimum for every part but the last.
const PART_SIZE: usize = 8 << 20;
/// Bytes per ranged GET, and how many run ahead of the reader.
const RANGE_SIZE: u64 = 8 << 20;
const PREFETCH: usize = 3;

impl S3Store {
    pub fn connect(options: &S3Options) -> Result<S3Store> {
        let runtime = runtime()?;
        let options = options.clone();
        let max_attempts = options.max_attempts.unwrap_or(5);
        let multipart_threshold = options.multipart_threshold.unwrap_or(MULTIPART_THRESHOLD);
        let retries = RetryCounts::default();
        let counter = CountRetries(retries.clone());
        let client = runtime.block_on(async move {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(profile) = &options.profile {
                loader = loader.profile_name(profile);
            }
            if let Some(region) = &options.region {
                loader = loader.region(Region::new(region.clone()));
            }
            if let (Some(key), Some(secret)) = (&options.access_key_id, &options.secret_access_key)
            {
                loader = loader.credentials_provider(Credentials::new(
                    key.clone(),
                    secret.clone(),
                    options.session_token.clone(),
                    None,
                    "pyrustpipe-storage-options",
                ));
            }
            if let Some(endpoint) = &options.endpoint_url {
                loader = loader.endpoint_url(endpoint.clone());
            }
            // Every wait is bounded by default, so a silent endpoint fails the run instead of
            // hanging it (docs/outputs.md, "Timeouts").
            let timeouts = TimeoutConfig::builder()
                .connect_timeout(options.connect_timeout.unwrap_or(CONNECT_TIMEOUT))
                .read_timeout(options.read_timeout.unwrap_or(READ_TIMEOUT))
                .operation_attempt_timeout(options.attempt_timeout.unwrap_or(ATTEMPT_TIMEOUT))
                .build();
            loader = loader
                .timeout_config(timeouts)
                .retry_config(
                    RetryConfig::standard()
                        .with_max_attempts(max_attempts)
                        .with_initial_backoff(Duration::from_millis(50)),
                )
                .stalled_stream_protection(
                    StalledStreamProtectionConfig::enabled()
                        .grace_period(options.read_timeout.unwrap_or(READ_TIMEOUT))
                        .build(),
                );
            let shared = loader.load().await;
            let mut config = aws_sdk_s3::config::Builder::from(&shared);
            if shared.region().is_none() {
                config = config.region(Region::new("us-east-1"));
            }
            let path_style = options
                .force_path_style
                .unwrap_or(options.endpoint_url.is_some());
            Client::from_conf(
                config
                    .force_path_style(path_style)
                    .interceptor(counter)
                    .build(),
            )
        });
        Ok(S3Store {
            client,
            retries,
            runtime,
            max_attempts,
            multipart_threshold,
            cancel: Cancel::default(),
        })
    }

    /// This store, stopping its requests when `cancel` is set.
    #[must_use]
    pub fn with_cancel(mut self, cancel: Cancel) -> S3Store {
        self.cancel = cancel;
        self
    }

    /// This store without the cancel switch: for the clean-up after a cancel (aborts, deletes)
    /// and for the steps after the commit point, which must run to their end.
    #[must_use]
    pub fn without_cancel(&self) -> S3Store {
        self.clone().with_cancel(Cancel::default())
    }

    /// `Err(Error::Cancelled)` once the run was cancelled.
    pub fn check_cancel(&self) -> Result<()> {
        self.cancel.check()
    }

    /// Block on `work` on the I/O runtime, until it ends or the run is cancelled.
    fn wait<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        self.runtime.block_on(until_cancelled(&self.cancel, work))
    }

    /// Block on the write `work` on the I/O runtime, until it ends, or the run is cancelled and
    /// its grace is over.
    fn wait_write<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let work = until_cancelled_write(&self.cancel, WRITE_GRACE, work);
        self.runtime.block_on(work)
    }

    pub fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>> {
        let request = self.client.head_object().bucket(bucket).key(key);
        self.wait(async move {
            match request.send().await {
                Ok(out) => Ok(Some(ObjectMeta {
                    key: key.to_owned(),
                    size: u64::try_from(out.content_length().unwrap_or(0)).unwrap_or(0),
                    etag: out.e_tag().unwrap_or_default().to_owned(),
                    last_modified: micros(out.last_modified()),
                })),
                Err(err) if http_status(&err) == Some(404) => Ok(None),
                Err(err) => Err(sdk_error("head", uri(bucket, key), &err)),
            }
        })
    }

    /// Every object below `prefix`, in key order (S3 lists in UTF-8 binary order).
    pub fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let client = self.client.clone();
        let (bucket_owned, prefix_owned) = (bucket.to_owned(), prefix.to_owned());
        self.wait(async move {
            let mut pages = client
                .list_objects_v2()
                .bucket(&bucket_owned)
                .prefix(&prefix_owned)
                .into_paginator()
                .send();
            let mut found = Vec::new();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| sdk_error("list", uri(&bucket_owned, &prefix_owned), &e))?;
                for object in page.contents() {
                    found.push(ObjectMeta {
                        key: object.key().unwrap_or_default().to_owned(),
                        size: u64::try_from(object.size().unwrap_or(0)).unwrap_or(0),
                        etag: object.e_tag().unwrap_or_default().to_owned(),
                        last_modified: micros(object.last_modified()),
                    });
                }
            }
            Ok(found)
        })
    }

    /// A streaming reader over an object, fetching ranges ahead of the consumer.
    pub fn reader(&self, bucket: &str, meta: &ObjectMeta) -> S3Reader {
        self.range_reader(bucket, meta, 0, meta.size)
    }

    /// A streaming reader over the bytes `from..to` of an object (a split's range).
    pub fn range_reader(&self, bucket: &str, meta: &ObjectMeta, from: u64, to: u64) -> S3Reader {
        S3Reader {
            store: self.clone(),
            bucket: bucket.to_owned(),
            key: meta.key.clone(),
            etag: meta.etag.clone(),
            size: to.min(meta.size),
            next_start: from,
            pending: VecDeque::new(),
            current: Bytes::new(),
        }
    }

    /// A small object's bytes and ETag, or `None` when it does not exist. A body cut part-way
    /// or failing its checksum (a dropped connection, or a server whose conditional put is not
    /// atomic rewriting the object under the read) is fetched again, up to the store's attempts;
    /// the error names the last failure's causes.
    pub fn get_small(&self, bucket: &str, key: &str) -> Result<Option<(Vec<u8>, String)>> {
        let (client, max_attempts) = (self.client.clone(), self.max_attempts);
        self.wait(get_whole(
            client,
            bucket.to_owned(),
            key.to_owned(),
            max_attempts,
        ))
    }

    /// The bodies of small objects of one bucket, in the order of `keys` (`None` for one that
    /// is gone), fetched [`GET_MANY_IN_FLIGHT`] at a time: N sequential GETs cost N round trips,
    /// tens of milliseconds each on S3 (a ledger with a year of daily entries is 365 of them).
    pub fn get_many_small(&self, bucket: &str, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let (client, max_attempts) = (self.client.clone(), self.max_attempts);
        let (bucket, keys) = (bucket.to_owned(), keys.to_vec());
        self.wait(async move {
            let mut bodies = vec![None; keys.len()];
            // A JoinSet aborts what is still in flight when it is dropped (a cancel, an error).
            let mut in_flight = tokio::task::JoinSet::new();
            let mut next = 0;
            loop {
                while next < keys.len() && in_flight.len() < GET_MANY_IN_FLIGHT {
                    let get = get_whole(
                        client.clone(),
                        bucket.clone(),
                        keys[next].clone(),
                        max_attempts,
                    );
                    let index = next;
                    in_flight.spawn(async move { (index, get.await) });
                    next += 1;
                }
                let Some(done) = in_flight.join_next().await else {
                    return Ok(bodies);
                };
                let (index, body) = done.map_err(|e| Error::storage("get", uri(&bucket, ""), e))?;
                bodies[index] = body?.map(|(bytes, _etag)| bytes);
            }
        })
    }

    /// Upload a local file; with `if_absent`, only when the key does not exist yet.
    pub fn upload(
        &self,
        local: &std::path::Path,
        bucket: &str,
        key: &str,
        if_absent: bool,
    ) -> Result<PutOutcome> {
        let size = std::fs::metadata(local)
            .map_err(|e| Error::storage("stat", local.display().to_string(), e))?
            .len();
        if size >= self.multipart_threshold && !if_absent {
            return self.upload_multipart(local, bucket, key);
        }
        let client = self.client.clone();
        let (local, bucket, key) = (local.to_owned(), bucket.to_owned(), key.to_owned());
        let put = async move {
            let body = ByteStream::from_path(&local)
                .await
                .map_err(|e| Error::storage("read", local.display().to_string(), e))?;
            let mut request = client.put_object().bucket(&bucket).key(&key).body(body);
            if if_absent {
                request = request.if_none_match("*");
            }
            match request.send().await {
                Ok(out) => Ok(PutOutcome::Written {
                    etag: out.e_tag().unwrap_or_default().to_owned(),
                }),
                Err(err) if if_absent && http_status(&err) == Some(412) => {
                    Ok(PutOutcome::AlreadyExists)
                }
                Err(err) => Err(sdk_error("put", uri(&bucket, &key), &err)),
            }
        };
        if if_absent {
            // A commit point: once sent, it must be seen to its end (the caller checked the
            // cancel switch just before), or a cancelled run could leave a manifest behind.
            self.runtime.block_on(put)
        } else {
            self.wait_write(put)
        }
    }

    fn upload_multipart(
        &self,
        local: &std::path::Path,
        bucket: &str,
        key: &str,
    ) -> Result<PutOutcome> {
        self.check_cancel()?;
        let client = self.client.clone();
        let cancel = self.cancel.clone();
        let (local, bucket, key) = (local.to_owned(), bucket.to_owned(), key.to_owned());
        self.runtime.block_on(async move {
            let path = uri(&bucket, &key);
            // Not cut by a cancel: an upload created without its id known could not be aborted.
            let created = client
                .create_multipart_upload()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| sdk_error("create multipart upload", path.clone(), &e))?;
            let upload_id = created.upload_id().unwrap_or_default().to_owned();
            // The switch is looked at before each request: a part or the completion in flight at
            // a cancel has its grace, and none starts after it.
            let parts = async {
                let mut file = std::fs::File::open(&local)
                    .map_err(|e| Error::storage("open", local.display().to_string(), e))?;
                let mut parts = Vec::new();
                let mut number = 1;
                loop {
                    let mut chunk = Vec::with_capacity(PART_SIZE);
                    (&mut file)
                        .take(PART_SIZE as u64)
                        .read_to_end(&mut chunk)
                        .map_err(|e| Error::storage("read", local.display().to_string(), e))?;
                    if chunk.is_empty() && number > 1 {
                        break;
                    }
                    let last = chunk.len() < PART_SIZE;
                    cancel.check()?;
                    let part = client
                        .upload_part()
                        .bucket(&bucket)
                        .key(&key)
                        .upload_id(&upload_id)
                        .part_number(number)
                        .body(ByteStream::from(chunk))
                        .send()
                        .await
                        .map_err(|e| sdk_error("upload part", path.clone(), &e))?;
                    parts.push(
                        CompletedPart::builder()
                            .part_number(number)
                            .set_e_tag(part.e_tag().map(str::to_owned))
                            .build(),
                    );
                    number += 1;
                    if last {
                        break;
                    }
                }
                cancel.check()?;
                let done = client
                    .complete_multipart_upload()
                    .bucket(&bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk_error("complete multipart upload", path.clone(), &e))?;
                Ok(done.e_tag().unwrap_or_default().to_owned())
            };
            let result: Result<String> = until_cancelled_write(&cancel, WRITE_GRACE, parts).await;
            match result {
                Ok(etag) => Ok(PutOutcome::Written { etag }),
                Err(error) => {
                    // Parts cost storage until aborted, so the abort runs on a cancel too.
                    let _ = client
                        .abort_multipart_upload()
                        .bucket(&bucket)
                        .key(&key)
                        .upload_id(&upload_id)
                        .send()
                        .await;
                    Err(error)
                }
            }
        })
    }

    pub fn copy(&self, bucket: &str, from: &str, to_bucket: &str, to: &str) -> Result<()> {
        let request = self
            .client
            .copy_object()
            .copy_source(copy_source(bucket, from))
            .bucket(to_bucket)
            .key(to);
        self.wait_write(async move {
            request
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("copy", uri(to_bucket, to), &e))
        })
    }

    pub fn delete(&self, bucket: &str, key: &str) -> Result<()> {
        let request = self.client.delete_object().bucket(bucket).key(key);
        self.wait_write(async move {
            request
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("delete", uri(bucket, key), &e))
        })
    }

    /// The multipart uploads begun and not completed below `prefix`: `(key, upload id, seconds
    /// since the epoch it was begun)`. `None` when the server cannot list them (HTTP 501).
    pub fn open_uploads(&self, bucket: &str, prefix: &str) -> Result<Option<Vec<OpenUpload>>> {
        let client = self.client.clone();
        self.wait(async move {
            let mut found = Vec::new();
            let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
            loop {
                let answer = client
                    .list_multipart_uploads()
                    .bucket(bucket)
                    .prefix(prefix)
                    .set_key_marker(key_marker.clone())
                    .set_upload_id_marker(id_marker.clone())
                    .send()
                    .await;
                let page = match answer {
                    Ok(page) => page,
                    Err(err) if http_status(&err) == Some(501) => return Ok(None),
                    Err(err) => {
                        return Err(sdk_error(
                            "list multipart uploads",
                            uri(bucket, prefix),
                            &err,
                        ))
                    }
                };
                for upload in page.uploads() {
                    found.push(OpenUpload {
                        key: upload.key().unwrap_or_default().to_owned(),
                        upload_id: upload.upload_id().unwrap_or_default().to_owned(),
                        initiated: upload
                            .initiated()
                            .map_or(0, |t| u64::try_from(t.secs()).unwrap_or(0)),
                    });
                }
                if page.is_truncated() != Some(true) {
                    return Ok(Some(found));
                }
                key_marker = page.next_key_marker().map(str::to_owned);
                id_marker = page.next_upload_id_marker().map(str::to_owned);
            }
        })
    }

    pub fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<()> {
        let request = self
            .client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id);
        self.wait_write(async move {
            request
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("abort multipart upload", uri(bucket, key), &e))
        })
    }

    /// Download a whole object into a local file (Parquet needs random access).
    pub fn download(&self, bucket: &str, meta: &ObjectMeta, local: &std::path::Path) -> Result<()> {
        let mut reader = self.reader(bucket, meta);
        let mut file = std::fs::File::create(local)
            .map_err(|e| Error::storage("create", local.display().to_string(), e))?;
        std::io::copy(&mut reader, &mut file)
            .map(|_| ())
            .map_err(|e| Error::storage("download", uri(bucket, &meta.key), e))
    }
}

/// The `x-amz-copy-source` header: `bucket/key` with the key URL-encoded. The SDK encodes keys
/// it puts in request paths but passes this header as given, so a key with `%`, a space, `+` or
/// a non-ASCII character would name another object (or none). Every byte outside RFC 3986's
/// unreserved set is percent-encoded, except the `/` between segments.
fn copy_source(bucket: &str, key: &str) -> String {
    let mut out = String::with_capacity(bucket.len() + key.len() * 3 + 1);
    out.push_str(bucket);
    out.push('/');
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Reads an object front to back with ranged GETs running ahead of the consumer.
pub struct S3Reader {
    store: S3Store,
    bucket: String,
    key: String,
    etag: String,
    size: u64,
    next_start: u64,
    pending: VecDeque<JoinHandle<Result<Bytes>>>,
    current: Bytes,
}

impl S3Reader {
    fn top_up(&mut self) {
        while self.pending.len() < PREFETCH && self.next_start < self.size {
            let end = (self.next_start + RANGE_SIZE).min(self.size) - 1;
            let task = fetch_range(
                self.store.client.clone(),
                self.bucket.clone(),
                self.key.clone(),
                self.etag.clone(),
                self.next_start,
                end,
                self.store.max_attempts,
            );
            self.pending.push_back(self.store.runtime.spawn(task));
            self.next_start = end + 1;
        }
    }
}

impl Read for S3Reader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.current.is_empty() {
            self.top_up();
            let Some(task) = self.pending.pop_front() else {
                return Ok(0);
            };
            let abort = task.abort_handle();
            let joined = self.store.wait(async move { Ok(task.await) });
            let joined = joined.map_err(|cancelled| {
                abort.abort();
                std::io::Error::other(cancelled)
            })?;
            self.current = joined
                .map_err(std::io::Error::other)?
                .map_err(std::io::Error::other)?;
            self.top_up();
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

impl Drop for S3Reader {
    fn drop(&mut self) {
        for task in &self.pending {
            task.abort();
        }
    }
}

/// How many GETs [`S3Store::get_many_small`] keeps in flight.
const GET_MANY_IN_FLIGHT: usize = 16;

/// A whole object's body and ETag (`None` when the key does not exist), read again from the start
/// when the body stream is cut or fails its checksum, up to `max_attempts` times.
async fn get_whole(
    client: Client,
    bucket: String,
    key: String,
    max_attempts: u32,
) -> Result<Option<(Vec<u8>, String)>> {
    let mut cuts = 0u32;
    loop {
        let request = client.get_object().bucket(&bucket).key(&key);
        let out = match request.send().await {
            Ok(out) => out,
            Err(err)
                if service_code(&err).as_deref() == Some("NoSuchKey")
                    || http_status(&err) == Some(404) =>
            {
                return Ok(None)
            }
            Err(err) => return Err(sdk_error("get", uri(&bucket, &key), &err)),
        };
        let etag = out.e_tag().unwrap_or_default().to_owned();
        match out.body.collect().await {
            Ok(body) => return Ok(Some((body.to_vec(), etag))),
            Err(err) => {
                cuts += 1;
                if cuts >= max_attempts {
                    return Err(Error::storage(
                        "get",
                        uri(&bucket, &key),
                        format!("body failed {cuts} times ({})", DisplayErrorContext(&err)),
                    ));
                }
            }
        }
        after_cut(cuts).await;
    }
}

/// The pause before reading again a body cut `cuts` times: a little longer each time.
async fn after_cut(cuts: u32) {
    tokio::time::sleep(Duration::from_millis(50 * u64::from(cuts))).await;
}

/// One range, resumed from where it was cut when the body stream fails part-way. `If-Match`
/// pins every request to the ETag seen when the object was listed.
async fn fetch_range(
    client: Client,
    bucket: String,
    key: String,
    etag: String,
    start: u64,
    end: u64,
    max_attempts: u32,
) -> Result<Bytes> {
    let want = usize::try_from(end - start + 1).unwrap_or(usize::MAX);
    let mut received = Vec::with_capacity(want);
    let mut cuts = 0u32;
    loop {
        let from = start + received.len() as u64;
        let mut request = client
            .get_object()
            .bucket(&bucket)
            .key(&key)
            .range(format!("bytes={from}-{end}"));
        if !etag.is_empty() {
            request = request.if_match(&etag);
        }
        let mut out = match request.send().await {
            Ok(out) => out,
            Err(err) if http_status(&err) == Some(412) => {
                return Err(Error::storage(
                    "get",
                    uri(&bucket, &key),
                    "the object changed while it was being read (its ETag no longer matches); run again",
                ));
            }
            Err(err) => return Err(sdk_error("get", uri(&bucket, &key), &err)),
        };
        // Not every server honours If-Match on GET: compare the ETag of what came back too.
        if !etag.is_empty() && out.e_tag().is_some_and(|got| got != etag) {
            return Err(Error::storage(
                "get",
                uri(&bucket, &key),
                "the object changed while it was being read (its ETag no longer matches); run again",
            ));
        }
        let mut cut = None;
        loop {
            match out.body.next().await {
                Some(Ok(chunk)) => received.extend_from_slice(&chunk),
                Some(Err(err)) => {
                    cut = Some(DisplayErrorContext(&err).to_string());
                    break;
                }
                None => break,
            }
        }
        if received.len() >= want {
            received.truncate(want);
            return Ok(Bytes::from(received));
        }
        cuts += 1;
        if cuts >= max_attempts {
            let reason = cut.unwrap_or_else(|| "the body ended early".to_owned());
            return Err(Error::storage(
                "get",
                uri(&bucket, &key),
                format!("body cut {cuts} times ({reason}); got {} of {want} bytes of range {start}-{end}", received.len()),
            ));
        }
        after_cut(cuts).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn operation_names_are_snake_case() {
        for (name, want) in [
            ("GetObject", "get_object"),
            ("UploadPart", "upload_part"),
            ("ListObjectsV2", "list_objects_v2"),
        ] {
            assert_eq!(snake_case(name), want);
        }
    }

    #[test]
    fn copy_sources_are_url_encoded() {
        assert_eq!(copy_source("b", "q/dt=1/valid.csv"), "b/q/dt%3D1/valid.csv");
        assert_eq!(
            copy_source("b", "city=S%C3%A3o Paulo/a+b/Zürich~.csv"),
            "b/city%3DS%25C3%25A3o%20Paulo/a%2Bb/Z%C3%BCrich~.csv"
        );
    }

    fn store(extra: Json) -> S3Store {
        let mut map = serde_json::json!({
            "aws_access_key_id": "AKIATEST",
            "aws_secret_access_key": "not-a-secret",
            "region": "us-east-1",
            "endpoint_url": "http://127.0.0.1:9",
        });
        map.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        S3Store::connect(&S3Options::from_map(map.as_object()).unwrap()).unwrap()
    }

    #[test]
    fn every_wait_is_bounded_by_default_and_can_be_changed() {
        let defaults = store(serde_json::json!({}));
        let timeouts = defaults.client.config().timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.read_timeout(), Some(READ_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        let set = store(serde_json::json!({
            "connect_timeout_s": "1.5", "read_timeout_s": 2, "attempt_timeout_s": "3"
        }));
        let timeouts = set.client.config().timeout_config().unwrap();
        assert_eq!(
            timeouts.connect_timeout(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(timeouts.read_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn a_request_in_flight_stops_at_a_cancel_and_none_starts_after() {
        let runtime = runtime().unwrap();
        let cancel = Cancel::default();
        let setter = cancel.clone();
        let stuck = async {
            setter.cancel();
            std::future::pending::<()>().await;
            Ok(())
        };
        let outcome = runtime.block_on(until_cancelled(&cancel, stuck));
        assert!(matches!(outcome, Err(Error::Cancelled)));
        let never = runtime.block_on(until_cancelled(&cancel, async { Ok(1) }));
        assert!(matches!(never, Err(Error::Cancelled)));
        let store = store(serde_json::json!({})).with_cancel(cancel);
        assert!(store.check_cancel().is_err() && store.without_cancel().check_cancel().is_ok());
    }

    #[test]
    fn a_write_in_flight_at_a_cancel_finishes_within_its_grace_and_none_starts_after() {
        let runtime = runtime().unwrap();
        let cancel = Cancel::default();
        let (setter, stored) = (cancel.clone(), Arc::new(AtomicBool::new(false)));
        let store_flag = stored.clone();
        let slow_put = async move {
            setter.cancel();
            tokio::time::sleep(Duration::from_millis(60)).await;
            store_flag.store(true, Ordering::SeqCst);
            Ok(())
        };
        let hour = Duration::from_secs(3600);
        let outcome = runtime.block_on(until_cancelled_write(&cancel, hour, slow_put));
        // Cancelled, or (when a loaded host stalls the thread past the write's 60 ms, so the
        // write has answered by the next look) its own answer: never dropped before it.
        assert!(matches!(outcome, Err(Error::Cancelled) | Ok(())));
        assert!(
            stored.load(Ordering::SeqCst),
            "the write was dropped before its answer"
        );
        // Past the grace, a write that never answers is dropped.
        let stuck = std::future::pending::<Result<()>>();
        let millisecond = Duration::from_millis(1);
        let outcome = runtime.block_on(until_cancelled_write(&cancel, millisecond, stuck));
        assert!(matches!(outcome, Err(Error::Cancelled)));
        let started = Arc::new(AtomicBool::new(false));
        let start_flag = started.clone();
        let never = async move {
            start_flag.store(true, Ordering::SeqCst);
            Ok(1)
        };
        let outcome = runtime.block_on(until_cancelled_write(&cancel, hour, never));
        assert!(matches!(outcome, Err(Error::Cancelled)) && !started.load(Ordering::SeqCst));
    }

    #[test]
    fn a_403_says_which_kind() {
        let bad = forbidden(Some("SignatureDoesNotMatch"), None, ", request id R1");
        assert!(bad.starts_with("credentials rejected") && bad.contains("request id R1"));
        let denied = forbidden(Some("AccessDenied"), Some("Access Denied"), "");
        assert!(denied.starts_with("access denied (S3 error AccessDenied"));
        for code in [None, Some("Unknown")] {
            let head = forbidden(code, None, ", request id R2");
            assert!(head.starts_with("access denied or bad credentials (HTTP 403, request id R2)"));
        }
    }
}
