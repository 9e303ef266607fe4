//! The s3s-fs S3 server (its library, crates.io) with `TCP_NODELAY` on every accepted socket.
//!
//! Why not the published binary: it leaves Nagle's algorithm on, so a GET, whose headers and
//! streamed body go out in two writes, waits for the client's delayed ACK — ~40 ms a GET on
//! loopback whatever the object's size, where a HEAD or PUT takes ~2 ms. The test suite makes
//! thousands of GETs. Same command line as s3s-fs: `--host H --port P --access-key A
//! --secret-key S ROOT`.

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
