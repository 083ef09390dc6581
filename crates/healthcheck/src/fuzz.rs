//! Entry points for the cargo-fuzz targets in `fuzz/fuzz_targets/hc_*.rs`, public so that the
//! stable test `tests/fuzz_corpus.rs` replays the committed seeds (`fuzz/corpus/hc_*/`) through
//! exactly the code the fuzzer runs.
//!
//! Each function feeds its bytes to one parser of what a real server (or anyone on the path)
//! sends back, through the checker's own code, and checks what must hold whatever the bytes:
//! no panic, and the parser's bounds (a body never counted past its limit, a pattern never
//! longer than its text...). Each returns whether the input was accepted, so a replay can tell
//! that seeds taken from real exchanges still are.
//!
//! Network exchanges run on an in-memory stream that hands the bytes over in chunks whose size
//! the first input byte picks, so a status line or a reply split across reads is exercised too.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};

/// Runs a future whose I/O is all in memory: it never waits, so one poll finishes it.
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an exchange over an in-memory stream waited"),
    }
}

/// A peer that answers with `input`, `chunk` bytes per read at most, and swallows what it is
/// sent.
struct Replay<'a> {
    input: &'a [u8],
    chunk: usize,
}

impl Replay<'_> {
    /// The first byte picks the chunk size (1 to 256), the rest is what the peer says.
    fn split(data: &[u8]) -> Option<Replay<'_>> {
        let (&first, input) = data.split_first()?;
        Some(Replay {
            input,
            chunk: usize::from(first) + 1,
        })
    }
}

impl AsyncRead for Replay<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.input.len().min(self.chunk).min(buf.remaining());
        let (now, later) = self.input.split_at(n);
        buf.put_slice(now);
        self.input = later;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Replay<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Target `hc_http_response`: byte 0 picks the read size, byte 1 whether the body is read (low
/// bit), the rest is the server's answer to an HTTP_GET, read with the default limits.
pub fn http_response(data: &[u8]) -> bool {
    let Some((&flags, rest)) = data.split_first() else {
        return false;
    };
    let Some(stream) = Replay::split(rest) else {
        return false;
    };
    let read_body = flags & 1 == 1;
    let max_body = crate::http::DEFAULT_MAX_BODY;
    let result = ready(crate::http::exchange(
        stream,
        "GET / HTTP/1.0\r\n\r\n",
        read_body,
        crate::http::DEFAULT_MAX_HEADER,
        max_body,
        if read_body { 64 } else { 0 },
    ));
    match result {
        Ok(response) => {
            assert!(
                (100..=999).contains(&response.status),
                "{}",
                response.status
            );
            assert!(response.body_len <= max_body);
            assert!(read_body || response.body_len == 0);
            true
        }
        Err(reason) => {
            assert!(!reason.is_empty());
            false
        }
    }
}

/// Target `hc_dns_reply`: bytes 0–1 are the query's id, the rest one datagram received after it.
pub fn dns_reply(data: &[u8]) -> bool {
    let Some((id, datagram)) = data.split_first_chunk::<2>() else {
        return false;
    };
    matches!(
        crate::dns::judge_reply(datagram, u16::from_be_bytes(*id)),
        Some(Ok(_))
    )
}

/// Target `hc_smtp_reply`: byte 0 picks the read size, the rest is the server's side of an
/// SMTP_CHECK dialogue: the banner (220), then the answer to HELO (250).
pub fn smtp_reply(data: &[u8]) -> bool {
    let Some(stream) = Replay::split(data) else {
        return false;
    };
    let mut reader = BufReader::new(stream);
    ready(async {
        crate::smtp::expect(&mut reader, 220, "the banner").await?;
        crate::smtp::expect(&mut reader, 250, "HELO").await
    })
    .is_ok()
}

/// Target `hc_syn_answer`: one datagram on the raw TCP prober's socket, read as an IPv4 packet
/// and as a bare segment from an IPv6 peer; true when either is an answer.
pub fn syn_answer(data: &[u8]) -> bool {
    let v4 = crate::syn::parse_ipv4(data);
    let v6 = crate::syn::parse_segment(IpAddr::V6(Ipv6Addr::LOCALHOST), data);
    if let Some(answer) = v6 {
        assert!(data.len() >= 14);
        assert_eq!(answer.port, u16::from_be_bytes([data[2], data[3]]));
    }
    v4.is_some() || v6.is_some()
}

/// Target `hc_ping_answer`: byte 0 picks the socket (bit 0: IPv6, bit 1: raw), bytes 1–4 the
/// identifier and sequence number of our request, the rest is a datagram from the ICMP socket.
pub fn ping_answer(data: &[u8]) -> bool {
    let Some((head, packet)) = data.split_first_chunk::<5>() else {
        return false;
    };
    let (v6, raw) = (head[0] & 1 == 1, head[0] & 2 == 2);
    let ident = u16::from_be_bytes([head[1], head[2]]);
    let sequence = u16::from_be_bytes([head[3], head[4]]);
    crate::ping::is_our_reply(packet, v6, raw, ident, sequence)
}

/// Target `hc_udp_reply`: up to the first newline, a `require_reply`/`payload` hex text; after
/// it, a reply datagram to match against the pattern.
pub fn udp_reply(data: &[u8]) -> bool {
    let (text, reply) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let text = String::from_utf8_lossy(text);
    let hex = crate::udp::parse_hex(&text);
    if let Ok(bytes) = &hex {
        // Two digits a byte at most, one at least (a lone digit is a byte of its own).
        assert!(bytes.len() <= text.len());
        let again: String = bytes.iter().map(|b| format!("{b:02x} ")).collect();
        assert_eq!(crate::udp::parse_hex(&again).as_ref(), Ok(bytes));
    }
    match crate::udp::ReplyPattern::parse(&text) {
        Ok(pattern) => {
            let matched = pattern.matches(reply);
            if let Ok(bytes) = &hex {
                // Without wildcards the pattern is the payload: it matches its own bytes.
                assert!(pattern.matches(bytes));
            }
            matched
        }
        Err(_) => {
            assert!(hex.is_err(), "a payload that is not a pattern: {text:?}");
            false
        }
    }
}

/// Target `hc_split_argv`: the bytes (lossily UTF-8) are a `misc_path`.
pub fn split_argv(data: &[u8]) -> bool {
    let line = String::from_utf8_lossy(data);
    match crate::misc::split_argv(&line) {
        Ok(words) => {
            assert!(!words.is_empty());
            let total: usize = words.iter().map(String::len).sum();
            assert!(total <= line.len(), "{words:?} from {line:?}");
            true
        }
        Err(_) => false,
    }
}

/// A fuzz entry point: takes the input, says whether it was accepted.
pub type Entry = fn(&[u8]) -> bool;

/// Every target, by name, for the stable replay.
pub const TARGETS: &[(&str, Entry)] = &[
    ("hc_http_response", http_response),
    ("hc_dns_reply", dns_reply),
    ("hc_smtp_reply", smtp_reply),
    ("hc_syn_answer", syn_answer),
    ("hc_ping_answer", ping_answer),
    ("hc_udp_reply", udp_reply),
    ("hc_split_argv", split_argv),
];
