//! Every checker against real servers on loopback started by the test, with the faults the issue
//! lists: refused, timeout, wrong status, wrong digest, slow and oversize body, TLS handshake
//! failure, hanging and forking scripts. Each test asserts the outcome and its reason.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use healthcheck::http::{digest_hex, parse_digest};
use healthcheck::udp::ReplyPattern;
use healthcheck::{
    Checker, ConnectOptions, DnsCheck, HttpGet, MiscCheck, Outcome, PingCheck, SmtpCheck, TcpCheck,
    TlsOptions, UdpCheck, UrlCheck,
};
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const SHORT: Duration = Duration::from_millis(500);

fn opts(addr: SocketAddr) -> ConnectOptions {
    ConnectOptions::new(addr).connect_timeout(Duration::from_secs(3))
}

fn assert_down(outcome: &Outcome, needle: &str) {
    assert!(!outcome.healthy, "expected DOWN, got {outcome}");
    assert!(
        outcome.reason.contains(needle),
        "reason {:?} should contain {needle:?}",
        outcome.reason
    );
}

fn assert_up(outcome: &Outcome, needle: &str) {
    assert!(outcome.healthy, "expected UP, got {outcome}");
    assert!(
        outcome.reason.contains(needle),
        "reason {:?} should contain {needle:?}",
        outcome.reason
    );
}

/// A port on 127.0.0.1 with nothing listening.
async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

// ---------------------------------------------------------------- TCP

#[tokio::test]
async fn tcp_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { while let Ok((_conn, _)) = listener.accept().await {} });
    let outcome = TcpCheck::new(opts(addr)).check().await;
    assert_up(&outcome, &format!("connected to {addr}"));
}

#[tokio::test]
async fn tcp_up_over_ipv6() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        eprintln!("skipped: this host has no IPv6 loopback");
        return;
    };
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { while let Ok((_conn, _)) = listener.accept().await {} });
    let outcome = TcpCheck::new(opts(addr)).check().await;
    assert_up(&outcome, "connected to [::1]:");
}

#[tokio::test]
async fn tcp_refused() {
    let addr = closed_port().await;
    let outcome = TcpCheck::new(opts(addr)).check().await;
    assert_down(&outcome, &format!("connect to {addr}: Connection refused"));
}

#[tokio::test]
async fn tcp_bindto_bind_port_and_fwmark_options_apply() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The probe is half-open (SYN, SYN-ACK, RST), so the listener never accepts it and cannot
    // show its source: tests/netns_tcp.rs reads the source address and port off the wire. Here,
    // each option must visibly take effect.
    let mut options = opts(addr);
    options.bindto = Some("127.0.0.2".parse().unwrap());
    assert_up(&TcpCheck::new(options.clone()).check().await, "connected");
    // An address this host does not have cannot be bound.
    options.bindto = Some("203.0.113.77".parse().unwrap());
    assert_down(
        &TcpCheck::new(options).check().await,
        &format!("cannot set up a socket for {addr}: Cannot assign requested address"),
    );

    // bind_port: a port held by a listener cannot be bound; once free, the probe works.
    let held = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let mut options = opts(addr);
    options.bindto = Some("127.0.0.2".parse().unwrap());
    options.bind_port = Some(port);
    assert_down(
        &TcpCheck::new(options.clone()).check().await,
        "Address already in use",
    );
    drop(held);
    assert_up(&TcpCheck::new(options.clone()).check().await, "connected");
    // The probe ended with an RST, so the port is free again at once (no TIME_WAIT).
    assert_up(&TcpCheck::new(options).check().await, "connected");

    // SO_MARK needs CAP_NET_ADMIN: as root the check works, otherwise the reason says why.
    let mut options = opts(addr);
    options.fwmark = Some(7);
    let outcome = TcpCheck::new(options).check().await;
    if outcome.healthy {
        assert_up(&outcome, "connected");
    } else {
        assert_down(&outcome, "cannot set up a socket");
    }
    // The listener's application never saw a connection.
    let accepted = tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
    assert!(accepted.is_err(), "half-open probes are never accepted");
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so connect hangs.
#[tokio::test]
async fn tcp_timeout() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    // Backlog 0 admits one connection: a full one, that nobody accepts, fills the queue (a
    // TCP_CHECK probe is half-open and never enters it).
    let _filler = std::net::TcpStream::connect_timeout(&addr, SHORT).unwrap();
    let outcome = TcpCheck::new(ConnectOptions::new(addr).connect_timeout(SHORT))
        .check()
        .await;
    assert_down(
        &outcome,
        &format!("connect to {addr}: timed out after 500ms"),
    );
}

// ---------------------------------------------------------------- HTTP

const BODY: &[u8] = b"<html>healthy</html>\n";

fn body_digest() -> String {
    digest_hex(&Md5::digest(BODY).into())
}

/// Requests seen by a test server, to check what the client sent.
type Seen = Arc<Mutex<Vec<String>>>;

/// Serves one HTTP exchange: the path picks the behaviour.
async fn serve_http<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, seen: Seen) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).into_owned();
    let path = request.split_whitespace().nth(1).unwrap_or("").to_owned();
    seen.lock().unwrap().push(request);
    let head = |status: &str, len: usize| {
        format!("HTTP/1.0 {status}\r\nContent-Type: text/html\r\nContent-Length: {len}\r\n\r\n")
    };
    match path.as_str() {
        "/ok" | "/" => {
            let _ = stream
                .write_all(head("200 OK", BODY.len()).as_bytes())
                .await;
            let _ = stream.write_all(BODY).await;
        }
        "/close-delimited" => {
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            let _ = stream.write_all(BODY).await;
        }
        "/error" => {
            let _ = stream
                .write_all(head("503 Service Unavailable", 0).as_bytes())
                .await;
        }
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        "/slow" => {
            let _ = stream
                .write_all(head("200 OK", BODY.len()).as_bytes())
                .await;
            for byte in BODY {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        "/fat-headers" => {
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n").await;
            let header = format!("X-Padding: {}\r\n", "p".repeat(1000));
            for _ in 0..100 {
                if stream.write_all(header.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = stream.write_all(b"\r\n").await;
        }
        "/huge" => {
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..1024 {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        }
        _ => {
            let _ = stream.write_all(head("404 Not Found", 0).as_bytes()).await;
        }
    }
    let _ = stream.shutdown().await;
}

async fn http_server() -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let seen2 = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve_http(conn, Arc::clone(&seen2)));
        }
    });
    (addr, seen)
}

fn get(addr: SocketAddr, urls: Vec<UrlCheck>) -> HttpGet {
    HttpGet::new(opts(addr), urls)
}

#[tokio::test]
async fn http_up_with_status_digest_and_virtualhost() {
    let (addr, seen) = http_server().await;
    let mut check = get(
        addr,
        vec![
            UrlCheck::new("/ok").digest(&body_digest()).unwrap(),
            UrlCheck::new("/error")
                .status_code("200-299 500-503")
                .unwrap()
                .virtualhost("status.example"),
            UrlCheck::new("/close-delimited")
                .digest(&body_digest())
                .unwrap(),
        ],
    );
    check.virtualhost = Some("www.example".into());
    let outcome = check.check().await;
    assert_up(&outcome, "/ok 200, /error 503, /close-delimited 200");
    let seen = seen.lock().unwrap();
    assert!(seen[0].starts_with("GET /ok HTTP/1.0\r\n"), "{}", seen[0]);
    assert!(seen[0].contains("Host: www.example\r\n"), "{}", seen[0]);
    assert!(seen[1].contains("Host: status.example\r\n"), "{}", seen[1]);
}

#[tokio::test]
async fn http_refused() {
    let addr = closed_port().await;
    let outcome = get(addr, vec![UrlCheck::new("/ok")]).check().await;
    assert_down(&outcome, "Connection refused");
    assert_down(&outcome, "GET /ok");
}

#[tokio::test]
async fn http_timeout_when_the_server_accepts_and_never_answers() {
    let (addr, _) = http_server().await;
    let mut check = get(addr, vec![UrlCheck::new("/hang")]);
    check.connect.connect_timeout = SHORT;
    let outcome = check.check().await;
    assert_down(
        &outcome,
        &format!("GET /hang on {addr}: timed out after 500ms"),
    );
}

#[tokio::test]
async fn http_wrong_status() {
    let (addr, _) = http_server().await;
    let outcome = get(addr, vec![UrlCheck::new("/ok"), UrlCheck::new("/error")])
        .check()
        .await;
    assert_down(
        &outcome,
        &format!("GET /error on {addr}: status 503, expected 200-299"),
    );
    let outcome = get(
        addr,
        vec![UrlCheck::new("/ok").status_code("301 400-499").unwrap()],
    )
    .check()
    .await;
    assert_down(&outcome, "status 200, expected 301 400-499");
}

#[tokio::test]
async fn http_wrong_digest() {
    let (addr, _) = http_server().await;
    let wrong = "00112233445566778899aabbccddeeff";
    let outcome = get(addr, vec![UrlCheck::new("/ok").digest(wrong).unwrap()])
        .check()
        .await;
    assert_down(
        &outcome,
        &format!(
            "GET /ok on {addr}: body digest {}, expected {wrong}",
            body_digest()
        ),
    );
}

fn with_regex(path: &str, pattern: &str, options: &[&str]) -> UrlCheck {
    let mut url = UrlCheck::new(path);
    let options: Vec<String> = options.iter().map(|o| (*o).to_owned()).collect();
    url.regex = Some(healthcheck::BodyRegex::new(pattern, &options).unwrap());
    url
}

#[tokio::test]
async fn http_regex_matches_the_body() {
    let (addr, _) = http_server().await;
    let outcome = get(addr, vec![with_regex("/ok", "<html>heal+thy</", &[])])
        .check()
        .await;
    assert_up(&outcome, "/ok 200");
    let outcome = get(addr, vec![with_regex("/ok", "HEALTHY", &["caseless"])])
        .check()
        .await;
    assert_up(&outcome, "/ok 200");
    // A body without the pattern, and the same URL with the sense reversed.
    let outcome = get(addr, vec![with_regex("/ok", "sick", &[])])
        .check()
        .await;
    assert_down(
        &outcome,
        &format!("GET /ok on {addr}: body does not match /sick/"),
    );
    let mut url = with_regex("/ok", "healthy", &[]);
    url.regex.as_mut().unwrap().no_match = true;
    let outcome = get(addr, vec![url]).check().await;
    assert_down(&outcome, "body matches /healthy/");
}

#[tokio::test]
async fn http_regex_sees_only_the_kept_prefix_of_a_large_body() {
    let (addr, _) = http_server().await;
    // /huge is 64 MiB of 'x' with no length: the read limit ends it before any match matters.
    let outcome = get(addr, vec![with_regex("/huge", "x{16}", &[])])
        .check()
        .await;
    assert_down(&outcome, "body larger than 1048576 bytes");
    let mut check = get(addr, vec![with_regex("/huge", "^x{100}$", &[])]);
    check.max_body = 256 * 1024 * 1024;
    check.max_regex_body = 100;
    let outcome = check.check().await;
    assert_up(&outcome, "/huge 200");
}

#[tokio::test]
async fn http_slow_body_times_out() {
    let (addr, _) = http_server().await;
    let mut check = get(
        addr,
        vec![UrlCheck::new("/slow").digest(&body_digest()).unwrap()],
    );
    check.connect.connect_timeout = SHORT;
    let outcome = check.check().await;
    assert_down(
        &outcome,
        &format!("GET /slow on {addr}: timed out after 500ms"),
    );
}

#[tokio::test]
async fn http_oversize_body_hits_the_read_limit() {
    let (addr, _) = http_server().await;
    let mut check = get(
        addr,
        vec![UrlCheck::new("/huge").digest(&body_digest()).unwrap()],
    );
    check.max_body = 100_000;
    let outcome = check.check().await;
    assert_down(&outcome, "body larger than 100000 bytes, the read limit");
}

#[tokio::test]
async fn http_oversize_headers_hit_the_read_limit() {
    let (addr, _) = http_server().await;
    let mut check = get(addr, vec![UrlCheck::new("/fat-headers")]);
    check.max_header = 8 * 1024;
    let outcome = check.check().await;
    assert_down(
        &outcome,
        &format!("GET /fat-headers on {addr}: response headers larger than 8192 bytes"),
    );
}

#[tokio::test]
async fn genhash_digest_matches_md5_of_the_body() {
    let (addr, _) = http_server().await;
    let check = HttpGet::from_url(&format!("http://{addr}/close-delimited")).unwrap();
    let response = check.fetch(&check.urls[0], true).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body_len, BODY.len() as u64);
    assert_eq!(response.digest, parse_digest(&body_digest()).unwrap());
}

// ---------------------------------------------------------------- TLS

struct TlsServer {
    addr: SocketAddr,
    sni: Arc<Mutex<Vec<Option<String>>>>,
    ca_file: PathBuf,
}

async fn tls_server(dir: &Path) -> TlsServer {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca_file = dir.join("cert.pem");
    std::fs::write(&ca_file, certified.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sni = Arc::new(Mutex::new(Vec::new()));
    let sni2 = Arc::clone(&sni);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let sni = Arc::clone(&sni2);
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(conn).await {
                    let name = stream.get_ref().1.server_name().map(str::to_owned);
                    sni.lock().unwrap().push(name);
                    serve_http(stream, Seen::default()).await;
                }
            });
        }
    });
    TlsServer { addr, sni, ca_file }
}

#[tokio::test]
async fn ssl_get_without_verification_accepts_a_self_signed_certificate() {
    let dir = TempDir::new("ssl-noverify");
    let server = tls_server(&dir.0).await;
    let check = HttpGet::ssl(
        opts(server.addr),
        vec![UrlCheck::new("/ok").digest(&body_digest()).unwrap()],
        TlsOptions::new(),
    );
    let outcome = check.check().await;
    assert_up(&outcome, "/ok 200");
    assert_eq!(
        *server.sni.lock().unwrap(),
        [None],
        "no SNI without enable_sni"
    );
}

#[tokio::test]
async fn ssl_get_sends_sni_and_verifies_against_a_ca_file() {
    let dir = TempDir::new("ssl-verify");
    let server = tls_server(&dir.0).await;
    let mut tls = TlsOptions::new();
    tls.enable_sni = true;
    tls.verify = true;
    tls.ca_file = Some(server.ca_file.clone());
    let mut check = HttpGet::ssl(opts(server.addr), vec![UrlCheck::new("/ok")], tls);
    check.virtualhost = Some("localhost".into());
    let outcome = check.check().await;
    assert_up(&outcome, "/ok 200");
    assert_eq!(*server.sni.lock().unwrap(), [Some("localhost".to_owned())]);
}

#[tokio::test]
async fn ssl_get_with_verification_rejects_an_unknown_issuer() {
    let dir = TempDir::new("ssl-unknown");
    let server = tls_server(&dir.0).await;
    // Trust some other CA: the server's self-signed certificate is then unknown.
    let other = rcgen::generate_simple_self_signed(vec!["other".to_owned()]).unwrap();
    let other_ca = dir.0.join("other.pem");
    std::fs::write(&other_ca, other.cert.pem()).unwrap();
    let mut tls = TlsOptions::new();
    tls.verify = true;
    tls.ca_file = Some(other_ca);
    let mut check = HttpGet::ssl(opts(server.addr), vec![UrlCheck::new("/ok")], tls);
    check.virtualhost = Some("localhost".into());
    let outcome = check.check().await;
    assert_down(
        &outcome,
        &format!("TLS handshake with {} failed", server.addr),
    );
    // webpki names the failure (unknown issuer, or a bad signature when the untrusted CA carries
    // the same name as the real issuer, as rcgen's default names do).
    assert_down(&outcome, "invalid peer certificate");
}

#[tokio::test]
async fn ssl_get_handshake_failure_against_a_plain_http_server() {
    // A plain HTTP server answers the ClientHello with an HTTP error, as servers commonly do.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let check = HttpGet::ssl(opts(addr), vec![UrlCheck::new("/ok")], TlsOptions::new());
    let outcome = check.check().await;
    assert_down(
        &outcome,
        &format!("GET /ok on {addr}: TLS handshake with {addr} failed"),
    );
}

// ---------------------------------------------------------------- SMTP

async fn smtp_server(banner: &'static str) -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();
    let seen2 = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = Arc::clone(&seen2);
            tokio::spawn(async move {
                if banner.is_empty() {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                let _ = conn.write_all(banner.as_bytes()).await;
                let mut buf = [0u8; 512];
                loop {
                    let n = match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let line = String::from_utf8_lossy(&buf[..n]).into_owned();
                    seen.lock().unwrap().push(line.clone());
                    let reply: &[u8] = if line.starts_with("HELO ") {
                        b"250 pleased to meet you\r\n"
                    } else if line.starts_with("QUIT") {
                        b"221 bye\r\n"
                    } else {
                        b"500 what\r\n"
                    };
                    let _ = conn.write_all(reply).await;
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn smtp_up_with_multiline_banner_and_helo_name() {
    let (addr, seen) = smtp_server("220-mx.example ESMTP\r\n220 ready\r\n").await;
    let mut check = SmtpCheck::new(opts(addr));
    check.helo_name = "lb1.example".into();
    let outcome = check.check().await;
    assert_up(&outcome, "220, HELO 250");
    for _ in 0..100 {
        if seen.lock().unwrap().iter().any(|l| l.contains("QUIT")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], "HELO lb1.example\r\n");
}

#[tokio::test]
async fn smtp_refusing_banner_is_down() {
    let (addr, _) = smtp_server("554 no service\r\n").await;
    let outcome = SmtpCheck::new(opts(addr)).check().await;
    assert_down(
        &outcome,
        &format!("SMTP {addr}: expected 220 for the banner, got \"554 no service\""),
    );
}

#[tokio::test]
async fn smtp_silent_server_times_out() {
    let (addr, _) = smtp_server("").await;
    let outcome = SmtpCheck::new(ConnectOptions::new(addr).connect_timeout(SHORT))
        .check()
        .await;
    assert_down(&outcome, &format!("SMTP {addr}: timed out after 500ms"));
}

#[tokio::test]
async fn smtp_refused() {
    let addr = closed_port().await;
    let outcome = SmtpCheck::new(opts(addr)).check().await;
    assert_down(&outcome, "Connection refused");
}

// ---------------------------------------------------------------- DNS

async fn dns_server() -> SocketAddr {
    use hickory_proto::op::{Message, OpCode, ResponseCode};
    use hickory_proto::rr::{RData, Record, rdata::A};
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            let query = Message::from_vec(&buf[..n]).unwrap();
            let question = query.queries[0].clone();
            let name = question.name().to_ascii();
            if name == "silent.test." {
                continue;
            }
            let mut response = Message::response(query.metadata.id, OpCode::Query);
            response.add_query(question.clone());
            match name.as_str() {
                "ok.test." => {
                    response.add_answer(Record::from_rdata(
                        question.name().clone(),
                        60,
                        RData::A(A::new(192, 0, 2, 1)),
                    ));
                }
                "broken.test." => response.metadata.response_code = ResponseCode::ServFail,
                _ => response.metadata.response_code = ResponseCode::NXDomain,
            }
            let _ = socket.send_to(&response.to_vec().unwrap(), peer).await;
        }
    });
    addr
}

#[tokio::test]
async fn dns_noerror_is_up() {
    let addr = dns_server().await;
    let check = DnsCheck::new(opts(addr))
        .query_type("A")
        .unwrap()
        .name("ok.test")
        .unwrap();
    let outcome = check.check().await;
    assert_up(&outcome, "DNS ok.test A");
    assert_up(&outcome, "NOERROR, 1 answer(s)");
}

#[tokio::test]
async fn dns_error_codes_are_down() {
    let addr = dns_server().await;
    let check = DnsCheck::new(opts(addr)).name("broken.test.").unwrap();
    let outcome = check.check().await;
    assert_down(
        &outcome,
        &format!("DNS broken.test. SOA on {addr}: response code Server Failure"),
    );
    let check = DnsCheck::new(opts(addr)).name("nothing.test").unwrap();
    assert_down(
        &check.check().await,
        "Non-Existent Domain, expected NOERROR",
    );
}

#[tokio::test]
async fn dns_silence_times_out_and_closed_port_is_refused() {
    let addr = dns_server().await;
    let check = DnsCheck::new(ConnectOptions::new(addr).connect_timeout(SHORT))
        .name("silent.test")
        .unwrap();
    assert_down(&check.check().await, "timed out after 500ms");
    let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let outcome = DnsCheck::new(opts(closed_addr)).check().await;
    assert_down(&outcome, "Connection refused");
    assert!(DnsCheck::new(opts(addr)).query_type("SRVX").is_err());
}

// ---------------------------------------------------------------- MISC

/// A temporary directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "healthcheck-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn script(&self, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.0.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn misc_exit_status_and_arguments() {
    let dir = TempDir::new("misc-status");
    let script = dir.script(
        "check",
        r#"[ "$1" = "a b" ] && [ "$2" = x ] || exit 3; exit "$3""#,
    );
    let check = |code: u8| {
        MiscCheck::new(&format!("{script} 'a b' x {code}"), Duration::from_secs(5)).unwrap()
    };
    assert_up(&check(0).check().await, "exited with status 0");
    assert_down(&check(1).check().await, "exited with status 1");
    assert_down(&check(7).check().await, "exited with status 7");
    let missing = MiscCheck::new("/nonexistent/script", SHORT).unwrap();
    assert_down(&missing.check().await, "cannot run /nonexistent/script");
}

#[tokio::test]
async fn misc_dynamic_sets_weights() {
    let dir = TempDir::new("misc-dynamic");
    let script = dir.script("weight", r#"exit "$1""#);
    let check = |code: u8| {
        MiscCheck::new(&format!("{script} {code}"), Duration::from_secs(5))
            .unwrap()
            .dynamic(true)
    };
    let up = check(0).check().await;
    assert_up(&up, "status 0");
    assert_eq!(up.weight, None);
    assert_down(&check(1).check().await, "exited with status 1");
    let weighted = check(12).check().await;
    assert_up(&weighted, "status 12");
    assert_up(&weighted, "weight 10");
    assert_eq!(weighted.weight, Some(10));
    assert_eq!(check(255).check().await.weight, Some(253));
}

#[tokio::test]
async fn misc_hanging_script_is_killed_at_the_timeout() {
    let dir = TempDir::new("misc-hang");
    let pid_file = dir.0.join("pid");
    let script = dir.script(
        "hang",
        &format!("echo $$ > {}\nexec sleep 3600", pid_file.display()),
    );
    let check = MiscCheck::new(&script, SHORT).unwrap();
    let outcome = check.check().await;
    assert_down(
        &outcome,
        "timed out after 500ms; its process group was killed",
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_gone(pid).await;
}

#[tokio::test]
async fn misc_forking_script_loses_all_its_children() {
    let dir = TempDir::new("misc-fork");
    let pids = dir.0.join("pids");
    let script = dir.script(
        "fork",
        &format!(
            "sleep 3600 &\necho $! >> {p}\n(sleep 3600; true) &\necho $! >> {p}\necho $$ >> {p}\nwait",
            p = pids.display()
        ),
    );
    let outcome = MiscCheck::new(&script, SHORT).unwrap().check().await;
    assert_down(
        &outcome,
        "timed out after 500ms; its process group was killed",
    );
    let pids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    for pid in pids {
        assert_gone(pid).await;
    }
}

#[tokio::test]
async fn misc_background_child_does_not_outlive_a_finished_check() {
    let dir = TempDir::new("misc-background");
    let pids = dir.0.join("pids");
    // The script succeeds at once and leaves a `sleep 1000` behind, detached from its stdio.
    let script = dir.script(
        "background",
        &format!(
            "sleep 1000 </dev/null >/dev/null 2>&1 &\necho $! >> {p}\nexit 0",
            p = pids.display()
        ),
    );
    let outcome = MiscCheck::new(&script, Duration::from_secs(30))
        .unwrap()
        .check()
        .await;
    assert_up(&outcome, "exited with status 0");
    let pids: Vec<i32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 1);
    assert_gone(pids[0]).await;
}

/// Waits (boundedly) until `pid` has exited and is not left as our zombie: absent, or a zombie
/// that init (not us) has to reap.
async fn assert_gone(pid: i32) {
    let mut last = String::new();
    for _ in 0..300 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return,
            Ok(stat) => {
                // Fields after the command name: state, ppid.
                let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
                let mut fields = rest.split_whitespace();
                let state = fields.next().unwrap_or("").to_owned();
                let ppid: u32 = fields.next().unwrap_or("0").parse().unwrap_or(0);
                if (state == "Z" || state == "X") && ppid != std::process::id() {
                    return;
                }
                last = format!("state {state}, parent {ppid}");
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "process {pid} not gone: {last} (we are {})",
        std::process::id()
    );
}

#[tokio::test]
async fn removing_a_running_misc_check_kills_its_process_group() {
    use healthcheck::{Check, CheckId, Schedule, Scheduler};
    let dir = TempDir::new("misc-remove");
    let pids = dir.0.join("pids");
    let script = dir.script(
        "long",
        &format!(
            "sleep 3600 &\necho $! >> {p}\necho $$ >> {p}\nwait",
            p = pids.display()
        ),
    );
    let (scheduler, _events) = Scheduler::new();
    let check = MiscCheck::new(&script, Duration::from_secs(3600)).unwrap();
    scheduler.insert(
        CheckId(1),
        Check::Misc(check),
        Schedule::misc(Duration::from_secs(3600)).warmup(Duration::ZERO),
    );
    let mut written = Vec::new();
    for _ in 0..500 {
        written = std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse::<i32>().ok())
            .collect();
        if written.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(written.len(), 2, "the script did not start");
    assert!(scheduler.remove(CheckId(1)));
    for pid in written {
        assert_gone(pid).await;
    }
}

// ---------------------------------------------------------------- UDP and PING

#[tokio::test]
async fn udp_port_unreachable_is_down() {
    let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let outcome = UdpCheck::new(opts(addr)).check().await;
    assert_down(&outcome, &format!("UDP {addr}: ICMP port unreachable"));
}

#[tokio::test]
async fn udp_reply_required_and_matched() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = server.recv_from(&mut buf).await {
            // Echo with the first byte incremented, like a tiny protocol.
            buf[0] = buf[0].wrapping_add(1);
            let _ = server.send_to(&buf[..n], peer).await;
        }
    });
    let mut check = UdpCheck::new(opts(addr));
    check.payload = healthcheck::udp::parse_hex("10 ab cd").unwrap();
    check.require_reply = Some(ReplyPattern::parse("11 abXX").unwrap());
    assert_up(&check.check().await, "matching 3-byte reply");
    check.require_reply = Some(ReplyPattern::parse("10").unwrap());
    assert_down(&check.check().await, "reply does not match require_reply");
    check.require_reply = Some(ReplyPattern::default());
    check.min_reply_length = 4;
    assert_down(&check.check().await, "reply of 3 bytes, expected 4..=255");
}

/// `max_reply_length` of 4 GiB (a `u32` from a configuration) used to allocate 4 GiB on every
/// attempt; under a 1 GiB address-space limit that aborted the process.
#[test]
fn udp_max_reply_length_of_4_gib_allocates_one_datagram() {
    let Some(out) = testbed::bounded(
        "udp_max_reply_length_of_4_gib_allocates_one_datagram",
        testbed::Limits::memory(1 << 30),
    ) else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = server.local_addr().unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                while let Ok((n, peer)) = server.recv_from(&mut buf).await {
                    let _ = server.send_to(&buf[..n], peer).await;
                }
            });
            let mut check = UdpCheck::new(opts(addr));
            check.payload = healthcheck::udp::parse_hex("10 ab cd").unwrap();
            check.require_reply = Some(ReplyPattern::default());
            check.max_reply_length = 1 << 32;
            for _ in 0..3 {
                assert_up(&check.check().await, "matching 3-byte reply");
            }
        });
        return;
    };
    assert!(
        out.status.success(),
        "the check failed or ran out of memory: {out:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn udp_silence_is_up_unless_a_reply_is_required() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let mut check = UdpCheck::new(ConnectOptions::new(addr).connect_timeout(SHORT));
    assert_up(&check.check().await, "no ICMP error within 500ms");
    check.require_reply = Some(ReplyPattern::default());
    assert_down(&check.check().await, "no reply within 500ms");
    drop(server);
}

/// PING_CHECK of 127.0.0.1. It works when the kernel allows datagram ICMP for our group
/// (net.ipv4.ping_group_range) or we may open raw sockets (root); otherwise the outcome must say
/// exactly that. The root suite's netns_ping.rs insists on the echo.
#[tokio::test]
async fn ping_loopback() {
    let outcome = PingCheck::new(opts("127.0.0.1:0".parse().unwrap()))
        .check()
        .await;
    if outcome.healthy {
        assert_up(&outcome, "PING 127.0.0.1: echo reply in");
    } else {
        eprintln!("PING_CHECK cannot run here: {}", outcome.reason);
        assert_down(&outcome, "net.ipv4.ping_group_range");
    }
}
