//! An S3-compatible bucket, as blocking calls for the audit code.
//!
//! The audit store is synchronous (recorder threads, the CLI, blocking tasks
//! of the HTTP API), and `object_store` is async. A [`Bucket`] owns one
//! thread running a small tokio runtime; every call sends a request to it and
//! waits for the answer, and the runtime runs requests concurrently. Dropping
//! the last handle ends the thread (no runtime is ever dropped inside another).
//!
//! Every request is bounded by `timeout_secs` and retried `retries` times with
//! exponential backoff by `object_store`. Downloads are streamed to a file and
//! refused past a size limit (a bucket is storage someone else may write to).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};

use super::config::ObjectStoreConfig;
use super::error::{Error, Result};

/// One object in a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    /// Its full key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its entity tag (changes when the content does), if the server gave one.
    pub etag: Option<String>,
}

type Reply<T> = mpsc::SyncSender<Result<T>>;

enum Op {
    Put(String, Vec<u8>, Reply<()>),
    Get(String, PathBuf, u64, Reply<u64>),
    List(String, Reply<Vec<Object>>),
    Delete(String, Reply<()>),
}

/// A bucket client with blocking calls (see the module docs). Cheap to share
/// as `Arc<Bucket>`.
#[derive(Debug)]
pub struct Bucket {
    tx: tokio::sync::mpsc::UnboundedSender<Op>,
    name: String,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Op")
    }
}

fn bucket_error(what: &str, key: &str, e: impl std::fmt::Display) -> Error {
    Error::Bucket(format!("{what} {key}: {e}"))
}

impl Bucket {
    /// A client for the configured bucket. Contacts nothing yet: a bucket that
    /// is down shows at the first request, not here. Fails on bad settings or
    /// missing credentials.
    pub fn open(config: &ObjectStoreConfig) -> Result<Arc<Bucket>> {
        let (id, secret) = config.credentials().map_err(Error::Invalid)?;
        // reqwest's rustls (for https endpoints) uses the process-wide
        // provider; ring, like the egress proxy. Already set is fine.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let timeout = Duration::from_secs(config.timeout_secs);
        let options = ClientOptions::new()
            .with_allow_http(config.endpoint.starts_with("http://"))
            .with_timeout(timeout)
            .with_connect_timeout(timeout.min(Duration::from_secs(10)));
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(10),
                base: 2.0,
            },
            max_retries: config.retries as usize,
            retry_timeout: timeout,
        };
        let s3: AmazonS3 = AmazonS3Builder::new()
            .with_endpoint(&config.endpoint)
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(!config.path_style)
            .with_access_key_id(id)
            .with_secret_access_key(secret)
            .with_client_options(options)
            .with_retry(retry)
            .build()
            .map_err(|e| Error::Invalid(format!("audit.object_store: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Bucket(format!("cannot start the bucket client: {e}")))?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let store: Arc<dyn ObjectStore> = Arc::new(s3);
        std::thread::Builder::new()
            .name("audit-bucket".into())
            .spawn(move || runtime.block_on(serve(store, rx, timeout)))
            .map_err(|e| Error::Bucket(format!("cannot start the bucket client: {e}")))?;
        Ok(Arc::new(Bucket {
            tx,
            name: config.bucket.clone(),
            prefix: config.prefix.clone(),
            timeout,
        }))
    }

    /// The bucket's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key of a recording's directory: `<prefix>/<yyyy-mm-dd>/<session>`.
    pub fn session_key(&self, date: &str, session: &str) -> String {
        if self.prefix.is_empty() {
            format!("{date}/{session}")
        } else {
            format!("{}/{date}/{session}", self.prefix)
        }
    }

    fn call<T>(&self, op: impl FnOnce(Reply<T>) -> Op) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.tx
            .send(op(tx))
            .map_err(|_| Error::Bucket("the bucket client stopped".into()))?;
        // The request itself is bounded; this only guards against a lost reply.
        rx.recv_timeout(self.timeout * 4 + Duration::from_secs(30))
            .map_err(|_| Error::Bucket("the bucket client did not answer".into()))?
    }

    /// Stores `bytes` at `key` (replacing it).
    pub fn put(&self, key: &str, bytes: Vec<u8>) -> Result<()> {
        self.call(|r| Op::Put(key.to_owned(), bytes, r))
    }

    /// Downloads `key` into the new file `to` (mode 0600), refusing objects
    /// over `max_bytes`. Returns the size.
    pub fn get_to_file(&self, key: &str, to: &Path, max_bytes: u64) -> Result<u64> {
        self.call(|r| Op::Get(key.to_owned(), to.to_owned(), max_bytes, r))
    }

    /// Every object whose key starts with `<dir>/`.
    pub fn list(&self, dir: &str) -> Result<Vec<Object>> {
        self.call(|r| Op::List(dir.to_owned(), r))
    }

    /// Deletes `key` (a missing key is not an error).
    pub fn delete(&self, key: &str) -> Result<()> {
        self.call(|r| Op::Delete(key.to_owned(), r))
    }

    /// Deletes every object under `<dir>/`; returns how many.
    pub fn delete_dir(&self, dir: &str) -> Result<usize> {
        let objects = self.list(dir)?;
        for o in &objects {
            self.delete(&o.key)?;
        }
        Ok(objects.len())
    }
}

async fn serve(
    store: Arc<dyn ObjectStore>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Op>,
    timeout: Duration,
) {
    while let Some(op) = rx.recv().await {
        let store = store.clone();
        tokio::spawn(async move {
            // A whole request, retries included, within a few timeouts.
            let limit = timeout * 3;
            macro_rules! run {
                ($reply:expr, $what:expr, $key:expr, $fut:expr) => {{
                    let out = match tokio::time::timeout(limit, $fut).await {
                        Ok(r) => r,
                        Err(_) => Err(bucket_error($what, &$key, "timed out")),
                    };
                    let _ = $reply.send(out);
                }};
            }
            match op {
                Op::Put(key, bytes, reply) => {
                    run!(reply, "upload", key, async {
                        store
                            .put(&Key::from(key.as_str()), bytes.into())
                            .await
                            .map(|_| ())
                            .map_err(|e| bucket_error("upload", &key, e))
                    })
                }
                Op::Get(key, to, max, reply) => {
                    run!(reply, "download", key, get(&*store, &key, &to, max))
                }
                Op::List(dir, reply) => run!(reply, "list", dir, async {
                    let prefix = Key::from(dir.as_str());
                    let mut out = Vec::new();
                    let mut stream = store.list(Some(&prefix));
                    while let Some(meta) = stream.next().await {
                        let meta = meta.map_err(|e| bucket_error("list", &dir, e))?;
                        out.push(Object {
                            key: meta.location.to_string(),
                            size: meta.size,
                            etag: meta.e_tag,
                        });
                    }
                    out.sort_by(|a, b| a.key.cmp(&b.key));
                    Ok(out)
                }),
                Op::Delete(key, reply) => run!(reply, "delete", key, async {
                    match store.delete(&Key::from(key.as_str())).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                        Err(e) => Err(bucket_error("delete", &key, e)),
                    }
                }),
            }
        });
    }
}

async fn get(store: &dyn ObjectStore, key: &str, to: &Path, max: u64) -> Result<u64> {
    use std::os::unix::fs::OpenOptionsExt;
    let got = store.get(&Key::from(key)).await.map_err(|e| match e {
        object_store::Error::NotFound { .. } => Error::NotFound(key.to_owned()),
        e => bucket_error("download", key, e),
    })?;
    if got.meta.size > max {
        return Err(bucket_error(
            "download",
            key,
            format!("{} bytes is over the limit of {max}", got.meta.size),
        ));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(super::error::io(to))?;
    let mut stream = got.into_stream();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| bucket_error("download", key, e))?;
        n += chunk.len() as u64;
        if n > max {
            return Err(bucket_error(
                "download",
                key,
                format!("over the limit of {max} bytes"),
            ));
        }
        file.write_all(&chunk).map_err(super::error::io(to))?;
    }
    file.sync_all().map_err(super::error::io(to))?;
    Ok(n)
}
