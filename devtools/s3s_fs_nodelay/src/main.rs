//! The s3s-fs S3 server (its library, crates.io) with `TCP_NODELAY` on every accepted socket,
//! and conditional writes made atomic.
//!
//! Why not the published binary: it leaves Nagle's algorithm on, so a GET, whose headers and
//! streamed body go out in two writes, waits for the client's delayed ACK — ~40 ms a GET on
//! loopback whatever the object's size, where a HEAD or PUT takes ~2 ms. The test suite makes
//! thousands of GETs.
//!
//! Why the lock on conditional writes: s3s-fs tests `If-None-Match` / `If-Match`, then writes the
//! object, then its stored checksum, each step apart. Two racing conditional PUTs can both pass
//! and interleave, leaving one's bytes under the other's checksum for good: every GET of that
//! object then fails the client's checksum validation. S3 applies a conditional write
//! atomically; here such writes run one at a time (plain writes and reads are not held).
//!
//! Same command line as s3s-fs: `--host H --port P --access-key A --secret-key S ROOT`.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{IF_MATCH, IF_NONE_MATCH};
use hyper::service::{service_fn, Service};
use hyper::{Method, Request};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use s3s_fs::FileSystem;
use tokio::net::TcpListener;

struct Args {
    host: String,
    port: u16,
    access_key: String,
    secret_key: String,
    root: String,
}

fn usage() -> ! {
    eprintln!("usage: s3s-fs --host H --port P --access-key A --secret-key S ROOT | --version");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = std::env::args().skip(1);
    let (mut host, mut port, mut access_key, mut secret_key, mut root) =
        (None, None, None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" => {
                println!("s3s-fs {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0)
            }
            "--host" => host = args.next(),
            "--port" => port = args.next().and_then(|p| p.parse().ok()),
            "--access-key" => access_key = args.next(),
            "--secret-key" => secret_key = args.next(),
            _ if !arg.starts_with("--") && root.is_none() => root = Some(arg),
            _ => usage(),
        }
    }
    match (host, port, access_key, secret_key, root) {
        (Some(host), Some(port), Some(access_key), Some(secret_key), Some(root)) => Args {
            host,
            port,
            access_key,
            secret_key,
            root,
        },
        _ => usage(),
    }
}

#[tokio::main]
async fn main() -> s3s_fs::Result {
    let args = parse_args();
    let mut service = S3ServiceBuilder::new(FileSystem::new(&args.root)?);
    service.set_auth(SimpleAuth::from_single(args.access_key, args.secret_key));
    let service = service.build();
    let conditional_writes = Arc::new(tokio::sync::Mutex::new(()));
    let service = service_fn(move |request: Request<Incoming>| {
        let (service, conditional_writes) = (service.clone(), conditional_writes.clone());
        async move {
            // The response of a PUT (or a multipart completion, a POST) comes after the write.
            let writes = matches!(*request.method(), Method::PUT | Method::POST);
            let headers = request.headers();
            if writes && (headers.contains_key(IF_NONE_MATCH) || headers.contains_key(IF_MATCH)) {
                let _one_at_a_time = conditional_writes.lock().await;
                Service::call(&service, request).await
            } else {
                Service::call(&service, request).await
            }
        }
    });
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    println!("server is running at http://{}", listener.local_addr()?);
    let http = ConnBuilder::new(TokioExecutor::new());
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                socket.set_nodelay(true)?;
                let connection = http.serve_connection(TokioIo::new(socket), service.clone());
                let connection = connection.into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = stop.as_mut() => return Ok(()),
        }
    }
}
