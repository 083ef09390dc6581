//! PING_CHECK: one ICMP echo, answered within `connect_timeout`.
//!
//! The probe uses a datagram ICMP socket (`SOCK_DGRAM`, `IPPROTO_ICMP`), which needs the process's
//! group inside `net.ipv4.ping_group_range`. When the kernel refuses it, a raw ICMP socket is
//! tried (root or CAP_NET_RAW). When both are refused the outcome is down with a reason that says
//! so; this crate never changes the sysctl itself.

use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use socket2::{Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::net::{Human, prepare, within};
use crate::tcp::round_micros;
use crate::{CheckFuture, Checker, ConnectOptions, Outcome};

/// PING_CHECK: healthy when `connect_ip` answers an ICMP echo within `connect_timeout`
/// (`connect_port` is not used).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PingCheck {
    /// Where to ping and how.
    pub connect: ConnectOptions,
}

static SEQUENCE: AtomicU16 = AtomicU16::new(1);

const ECHO_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

impl PingCheck {
    /// A PING_CHECK of `connect.connect_ip`.
    pub fn new(connect: ConnectOptions) -> Self {
        Self { connect }
    }

    /// Opens the ICMP socket: datagram if allowed, raw otherwise. Tells which one it got.
    fn open(&self) -> Result<(Socket, bool), String> {
        let v6 = self.connect.connect_ip.is_ipv6();
        let (domain, proto) = if v6 {
            (socket2::Domain::IPV6, Protocol::ICMPV6)
        } else {
            (socket2::Domain::IPV4, Protocol::ICMPV4)
        };
        let dgram = Socket::new(domain, Type::DGRAM.nonblocking(), Some(proto));
        let (socket, raw) = match dgram {
            Ok(socket) => (socket, false),
            Err(dgram_err) if is_permission(&dgram_err) => {
                match Socket::new(domain, Type::RAW.nonblocking(), Some(proto)) {
                    Ok(socket) => (socket, true),
                    Err(raw_err) if is_permission(&raw_err) => {
                        return Err(format!(
                            "cannot open an ICMP socket: datagram ICMP is refused ({dgram_err}; \
                             this group is outside net.ipv4.ping_group_range) and raw ICMP is \
                             refused ({raw_err}; needs root or CAP_NET_RAW)"
                        ));
                    }
                    Err(e) => return Err(format!("cannot open a raw ICMP socket: {e}")),
                }
            }
            Err(e) => return Err(format!("cannot open an ICMP socket: {e}")),
        };
        prepare(&socket, &self.connect).map_err(|e| format!("ICMP socket set-up: {e}"))?;
        let target = SocketAddr::new(self.connect.connect_ip, 0);
        socket
            .connect(&target.into())
            .map_err(|e| format!("ICMP socket connect: {e}"))?;
        Ok((socket, raw))
    }

    async fn exchange(&self) -> Result<(), String> {
        let (socket, raw) = self.open()?;
        let v6 = self.connect.connect_ip.is_ipv6();
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        // A datagram socket's identifier is replaced by the kernel; a raw one keeps ours.
        let ident = (std::process::id() as u16) ^ 0x4c56;
        let mut request = [0u8; 24];
        request[0] = if v6 { ECHO_V6 } else { ECHO_V4 };
        request[4..6].copy_from_slice(&ident.to_be_bytes());
        request[6..8].copy_from_slice(&sequence.to_be_bytes());
        request[8..].copy_from_slice(b"lvskit-healthcheck-ping!"[..16].as_ref());
        if !v6 {
            let sum = checksum(&request);
            request[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        // SAFETY: the socket owns its descriptor, and `fd` owns the socket until it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }
            .map_err(|e| format!("cannot register the ICMP socket: {e}"))?;
        fd.get_ref()
            .send(&request)
            .map_err(|e| format!("sending the echo request: {e}"))?;
        let mut buf = [MaybeUninit::<u8>::uninit(); 1500];
        loop {
            let mut guard = fd
                .readable()
                .await
                .map_err(|e| format!("waiting for the echo reply: {e}"))?;
            let n = match guard.try_io(|fd| fd.get_ref().recv(&mut buf)) {
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(format!("waiting for the echo reply: {e}")),
                Err(_would_block) => continue,
            };
            // SAFETY: recv initialised the first n bytes.
            let packet: &[u8] = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast(), n) };
            if is_our_reply(packet, v6, raw, ident, sequence) {
                return Ok(());
            }
        }
    }

    async fn run(&self) -> Outcome {
        let ip: IpAddr = self.connect.connect_ip;
        let started = Instant::now();
        let result = within(self.connect.connect_timeout, self.exchange()).await;
        match result {
            Ok(()) => Outcome::up(format!(
                "PING {ip}: echo reply in {}",
                Human(round_micros(started.elapsed()))
            )),
            Err(reason) => Outcome::down(format!("PING {ip}: {reason}")),
        }
    }
}

/// Whether `packet`, read from the ICMP socket, is the echo reply to our request: `raw` IPv4
/// sockets hand over the IP header too; datagram sockets rewrite the identifier, so it is only
/// compared on raw ones.
pub(crate) fn is_our_reply(packet: &[u8], v6: bool, raw: bool, ident: u16, sequence: u16) -> bool {
    let icmp = if raw && !v6 {
        let header = usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4;
        packet.get(header..).unwrap_or_default()
    } else {
        packet
    };
    if icmp.len() < 8 {
        return false;
    }
    let reply_type = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    let same_sequence = icmp[6..8] == sequence.to_be_bytes();
    let same_ident = !raw || icmp[4..6] == ident.to_be_bytes();
    icmp[0] == reply_type && same_sequence && same_ident
}

fn is_permission(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM))
}

/// The Internet checksum (RFC 1071) of an ICMPv4 message whose checksum field is zero.
fn checksum(data: &[u8]) -> u16 {
    !vrrp_packet::checksum::data(data)
}

impl Checker for PingCheck {
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
    fn rfc1071_checksum() {
        // An echo request whose checksum field, once filled, makes the whole sum verify to zero.
        let mut message = [8, 0, 0, 0, 0x12, 0x34, 0, 1, b'a', b'b', b'c'];
        let sum = checksum(&message);
        message[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&message), 0);
    }
}
