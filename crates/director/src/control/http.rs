//! The HTTP listener: `/metrics` for Prometheus, `/` the status page, `/state.json` the
//! document the page polls. Plain HTTP/1.1 on tokio, one request per connection, GET and HEAD
//! only; no framework.
//!
//! Off by default; [`check_bind`] refuses an address off loopback unless the operator says the
//! listener is meant to be public (the page and metrics name every address of the cluster).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::StateSource;
use super::metrics::{CONTENT_TYPE, encode_state};

/// The status page: one file, no external resources, updated by polling `/state.json`.
pub const STATUS_PAGE: &str = include_str!("status.html");

/// Refuses a non-loopback address unless `public`.
pub fn check_bind(addr: SocketAddr, public: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || public {
        Ok(())
    } else {
        Err(format!(
            "{addr} is not a loopback address: the metrics and status page would be open to the \
             network (add --http-public if that is meant)"
        ))
    }
}

/// A bound listener.
#[derive(Debug)]
pub struct HttpListener {
    listener: TcpListener,
}

impl HttpListener {
    /// Binds `addr` (checked with [`check_bind`] by the caller).
    pub async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(addr).await?,
        })
    }

    /// The address bound (the port chosen for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the task is dropped or aborted.
    pub async fn serve(self, source: StateSource) {
        loop {
            let stream = match self.listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("http: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let source = source.clone();
            tokio::spawn(async move {
                let served =
                    tokio::time::timeout(Duration::from_secs(10), answer(stream, &source)).await;
                match served {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::debug!("http client: {e}"),
                    Err(_) => tracing::debug!("http client too slow: dropped"),
                }
            });
        }
    }
}

/// Reads one request head and answers it.
async fn answer(mut stream: TcpStream, source: &StateSource) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 16 * 1024 {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                b"",
                false,
            )
            .await;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
            false,
        )
        .await;
    }
    match path {
        "/metrics" => {
            let body = encode_state(&source.state().await);
            respond(
                &mut stream,
                "200 OK",
                CONTENT_TYPE,
                body.as_bytes(),
                head_only,
            )
            .await
        }
        "/state.json" => {
            let body = serde_json::to_vec(&source.state().await).map_err(io::Error::other)?;
            respond(&mut stream, "200 OK", "application/json", &body, head_only).await
        }
        "/" => {
            respond(
                &mut stream,
                "200 OK",
                "text/html; charset=utf-8",
                STATUS_PAGE.as_bytes(),
                head_only,
            )
            .await
        }
        _ => {
            respond(
                &mut stream,
                "404 Not Found",
                "text/plain",
                b"not found\n",
                head_only,
            )
            .await
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}
