//! UDP_CHECK: send a datagram; an ICMP error (port unreachable) means down.

use std::io;
use std::time::{Duration, Instant};

use rand::RngCore;

use crate::net::{Human, connect_udp};
use crate::options::{MAX_REPLY_LENGTH, MAX_UDP_PAYLOAD};
use crate::tcp::round_micros;
use crate::{CheckFuture, Checker, ConnectOptions, Error, Outcome};

/// A reply pattern from `require_reply HEX`: each nibble is a value or "any" (`x`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplyPattern {
    nibbles: Vec<Option<u8>>,
}

impl ReplyPattern {
    /// Parses keepalived's free-format HEX_STR; `x` or `X` is a nibble that matches anything.
    pub fn parse(hex: &str) -> Result<Self, Error> {
        Ok(Self {
            nibbles: hex_nibbles(hex, true)?,
        })
    }

    /// True when `reply` matches over the shorter of the two lengths.
    pub fn matches(&self, reply: &[u8]) -> bool {
        self.nibbles.chunks(2).zip(reply).all(|(pair, byte)| {
            let high = pair[0].is_none_or(|n| n == byte >> 4);
            let low = pair
                .get(1)
                .copied()
                .flatten()
                .is_none_or(|n| n == byte & 0xf);
            high && low
        })
    }
}

/// Parses keepalived's HEX_STR: blank-separated groups of hex digits; a group of odd length gets
/// a leading 0 on its last byte (`Ab12f 3` is `AB 12 0F 03`).
pub fn parse_hex(hex: &str) -> Result<Vec<u8>, Error> {
    let nibbles = hex_nibbles(hex, false)?;
    Ok(nibbles
        .chunks(2)
        .map(|pair| (pair[0].unwrap_or(0) << 4) | pair[1].unwrap_or(0))
        .collect())
}

/// keepalived's HEX_STR as nibbles (`None` for an `x` wildcard), by `keepalived_conf::value`:
/// one rule for the configuration test and the checker.
fn hex_nibbles(hex: &str, wildcards: bool) -> Result<Vec<Option<u8>>, Error> {
    let bytes = keepalived_conf::value::parse_hex(hex, wildcards)
        .map_err(|_| Error::Hex(hex.to_owned()))?;
    Ok(bytes
        .iter()
        .flat_map(|b| {
            let high = (b.mask & 0xf0 != 0).then_some(b.value >> 4);
            let low = (b.mask & 0x0f != 0).then_some(b.value & 0xf);
            [high, low]
        })
        .collect())
}

/// UDP_CHECK: sends `payload` (random when empty) and waits `connect_timeout`. An ICMP error
/// (port, host or network unreachable) is down. Without `require_reply`, silence is healthy; with
/// it, a reply of `min_reply_length..=max_reply_length` bytes that matches the pattern is needed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UdpCheck {
    /// Where to send and how.
    pub connect: ConnectOptions,
    /// `payload`.
    pub payload: Vec<u8>,
    /// `require_reply` (an empty pattern accepts any content).
    pub require_reply: Option<ReplyPattern>,
    /// `min_reply_length` (default 0).
    pub min_reply_length: usize,
    /// `max_reply_length` (default 255).
    pub max_reply_length: usize,
}

impl UdpCheck {
    /// A UDP_CHECK with a random payload and no reply required.
    pub fn new(connect: ConnectOptions) -> Self {
        Self {
            connect,
            payload: Vec::new(),
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }

    /// Checks the options against their limits: `connect_timeout`, a `payload` that fits a
    /// datagram, and `min_reply_length <= max_reply_length <= 65535`.
    pub fn validate(&self) -> Result<(), Error> {
        self.connect.validate()?;
        if self.payload.len() > MAX_UDP_PAYLOAD {
            return Err(Error::OutOfRange {
                option: "payload",
                expected: format!("at most {MAX_UDP_PAYLOAD} bytes"),
                found: format!("{} bytes", self.payload.len()),
            });
        }
        if self.max_reply_length > MAX_REPLY_LENGTH {
            return Err(Error::OutOfRange {
                option: "max_reply_length",
                expected: format!("at most {MAX_REPLY_LENGTH}"),
                found: self.max_reply_length.to_string(),
            });
        }
        if self.min_reply_length > self.max_reply_length {
            return Err(Error::OutOfRange {
                option: "min_reply_length",
                expected: format!("at most max_reply_length ({})", self.max_reply_length),
                found: self.min_reply_length.to_string(),
            });
        }
        Ok(())
    }

    /// The receive buffer: one byte more than the longest reply accepted, so that a longer one
    /// shows, but never more than a datagram can hold, whatever `max_reply_length` says.
    fn receive_buffer_len(&self) -> usize {
        self.max_reply_length.clamp(1, MAX_REPLY_LENGTH) + 1
    }

    async fn run(&self) -> Outcome {
        let target = self.connect.target();
        let started = Instant::now();
        let socket = match connect_udp(&self.connect) {
            Ok(socket) => socket,
            Err(reason) => return Outcome::down(reason),
        };
        let mut payload = self.payload.clone();
        if payload.is_empty() {
            payload = vec![0; 16];
            rand::rng().fill_bytes(&mut payload);
        }
        if let Err(e) = socket.send(&payload).await {
            return Outcome::down(icmp_reason(target, &e, "sending to"));
        }
        let mut buf = vec![0u8; self.receive_buffer_len()];
        let received =
            tokio::time::timeout(self.connect.connect_timeout, socket.recv(&mut buf)).await;
        let took = Human(round_micros(started.elapsed()));
        match (received, &self.require_reply) {
            (Ok(Err(e)), _) => Outcome::down(icmp_reason(target, &e, "waiting for")),
            (Err(_), None) => Outcome::up(format!(
                "UDP {target}: no ICMP error within {}",
                Human(self.connect.connect_timeout)
            )),
            (Err(_), Some(_)) => Outcome::down(format!(
                "UDP {target}: no reply within {}",
                Human(self.connect.connect_timeout)
            )),
            (Ok(Ok(n)), None) => Outcome::up(format!("UDP {target}: {n}-byte reply in {took}")),
            (Ok(Ok(n)), Some(pattern)) => {
                if n < self.min_reply_length || n > self.max_reply_length {
                    Outcome::down(format!(
                        "UDP {target}: reply of {n} bytes, expected {}..={}",
                        self.min_reply_length, self.max_reply_length
                    ))
                } else if !pattern.matches(&buf[..n]) {
                    Outcome::down(format!("UDP {target}: reply does not match require_reply"))
                } else {
                    Outcome::up(format!("UDP {target}: matching {n}-byte reply in {took}"))
                }
            }
        }
    }
}

fn icmp_reason(target: std::net::SocketAddr, e: &io::Error, doing: &str) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            format!("UDP {target}: ICMP port unreachable ({e})")
        }
        _ => format!("UDP {target}: error {doing} it: {e}"),
    }
}

impl Checker for UdpCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }

    fn timeout(&self) -> Duration {
        self.connect.connect_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receive_buffer_is_bounded_by_a_datagram() {
        let mut check = UdpCheck::new(ConnectOptions::new("192.0.2.1:53".parse().unwrap()));
        check.max_reply_length = usize::MAX;
        assert_eq!(check.receive_buffer_len(), MAX_REPLY_LENGTH + 1);
        assert!(matches!(
            check.validate(),
            Err(Error::OutOfRange {
                option: "max_reply_length",
                ..
            })
        ));
        check.max_reply_length = 0;
        assert_eq!(check.receive_buffer_len(), 2);
        check.max_reply_length = 255;
        assert_eq!(check.receive_buffer_len(), 256);
        assert_eq!(check.validate(), Ok(()));
        check.min_reply_length = 256;
        assert!(matches!(
            check.validate(),
            Err(Error::OutOfRange {
                option: "min_reply_length",
                ..
            })
        ));
    }

    #[test]
    fn hex_like_keepalived() {
        assert_eq!(
            parse_hex("Ab12f 3 456 546443123").unwrap(),
            [
                0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03
            ]
        );
        assert!(parse_hex("zz").is_err());
        let pattern = ReplyPattern::parse("ABx0").unwrap();
        assert!(pattern.matches(&[0xab, 0x70, 0xff]));
        assert!(!pattern.matches(&[0xab, 0x71]));
        assert!(pattern.matches(&[0xab]));
    }
}
