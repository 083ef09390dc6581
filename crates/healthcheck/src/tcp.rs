//! TCP_CHECK: the real server accepts a TCP connection within `connect_timeout`.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::net::Human;
use crate::pool::{self, ProbeError, Started};
use crate::syn;
use crate::{CheckFuture, Checker, ConnectOptions, Outcome};

/// TCP_CHECK: healthy when a TCP connection to `connect_ip:connect_port` completes within
/// `connect_timeout`.
///
/// The probe is half-open, as HAProxy's plain TCP checks are: SYN, SYN-ACK, then an RST in
/// place of the last ACK. The connection is established on our side, which is what the check
/// asks; the real server's kernel drops its half-open request on the RST, so its application
/// never accepts (or logs) the probe.
///
/// With `CAP_NET_RAW` (root), and without `bind_port`, the SYN is written on a raw socket and
/// its answer read from it; the kernel, which knows no socket for the SYN-ACK, sends the RST.
/// That costs about a quarter less CPU than a kernel socket's handshake, and the wire is the
/// same but for the SYN's options (MSS only). ICMP errors are not read on that path, so an
/// unreachable host times out rather than failing at once. Otherwise the probe is a kernel
/// socket, reused from a per-thread pool unless `bindto` or `bind_port` is set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TcpCheck {
    /// Where to connect and how.
    pub connect: ConnectOptions,
}

impl TcpCheck {
    /// A TCP_CHECK with these connection options.
    pub fn new(connect: ConnectOptions) -> Self {
        Self { connect }
    }

    async fn run(&self) -> Outcome {
        let started = Instant::now();
        let limit = self.connect.connect_timeout;
        // Only a probe that waits needs a timer.
        let raw = if raw_probes() {
            syn::start(&self.connect)
        } else {
            syn::Started::Unavailable
        };
        let result = match raw {
            syn::Started::Done(result) => result,
            syn::Started::Waiting(waiting) => {
                match within(limit, started, waiting.finish()).await {
                    Some(result) => result,
                    None => return self.timed_out(),
                }
            }
            syn::Started::Unavailable => match pool::start(&self.connect) {
                Started::Done(result) => result,
                Started::Waiting(waiting) => match within(limit, started, waiting.finish()).await {
                    Some(result) => result,
                    None => return self.timed_out(),
                },
            },
        };
        let target = self.connect.target();
        match result {
            Ok(()) => Outcome::up(connected(target, round_micros(started.elapsed()))),
            Err(ProbeError::Setup(e)) => {
                Outcome::down(format!("cannot set up a socket for {target}: {e}"))
            }
            Err(ProbeError::Connect(e)) => Outcome::down(format!("connect to {target}: {e}")),
        }
    }
}

static RAW_PROBES: AtomicBool = AtomicBool::new(true);

/// Lets TCP_CHECK send its SYNs on a raw socket when the process may (`CAP_NET_RAW`), or not:
/// off, every probe is a kernel socket's handshake, as without the privilege. On by default.
/// Process-wide, for probes started from then on. A reason to turn it off: each prober's raw
/// socket sees (and filters) every TCP segment this host receives for itself.
pub fn set_raw_probes(enabled: bool) {
    RAW_PROBES.store(enabled, Ordering::Relaxed);
}

/// Whether TCP_CHECK may use raw probes ([`set_raw_probes`]).
pub fn raw_probes() -> bool {
    RAW_PROBES.load(Ordering::Relaxed)
}

/// Runs the rest of a probe until `limit` after `started`; `None` when time ran out.
async fn within<T>(limit: Duration, started: Instant, rest: impl Future<Output = T>) -> Option<T> {
    let left = limit.saturating_sub(started.elapsed());
    tokio::time::timeout(left, rest).await.ok()
}

/// "connected to {target} in {elapsed}", as `format!` with [`Human`] writes it, without the
/// formatting machinery in the common case (IPv4, under a second, not a whole millisecond): this
/// string is made on every healthy attempt and was a tenth of the checker's own CPU time.
fn connected(target: SocketAddr, elapsed: Duration) -> String {
    let micros = elapsed.as_micros();
    let SocketAddr::V4(v4) = target else {
        return format!("connected to {target} in {}", Human(elapsed));
    };
    if micros >= 1_000_000 || micros.is_multiple_of(1000) {
        return format!("connected to {target} in {}", Human(elapsed));
    }
    let mut reason = String::with_capacity(48);
    reason.push_str("connected to ");
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            reason.push('.');
        }
        push_decimal(&mut reason, u32::from(octet), 1);
    }
    reason.push(':');
    push_decimal(&mut reason, u32::from(v4.port()), 1);
    reason.push_str(" in ");
    push_decimal(&mut reason, (micros / 1000) as u32, 1);
    reason.push('.');
    push_decimal(&mut reason, (micros % 1000) as u32, 3);
    reason.push_str("ms");
    reason
}

/// Appends `n` in decimal, zero-padded to at least `width` digits.
fn push_decimal(out: &mut String, n: u32, width: usize) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 && digits.len() - at >= width {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// Durations in reasons are shown to the microsecond.
pub(crate) fn round_micros(d: Duration) -> Duration {
    Duration::from_micros(d.as_micros() as u64)
}

impl TcpCheck {
    fn timed_out(&self) -> Outcome {
        Outcome::down(format!(
            "connect to {}: timed out after {}",
            self.connect.target(),
            Human(self.connect.connect_timeout)
        ))
    }
}

impl Checker for TcpCheck {
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
    fn the_fast_reason_reads_like_the_formatted_one() {
        let targets: [SocketAddr; 4] = [
            "127.0.0.1:80".parse().unwrap(),
            "10.200.3.255:65535".parse().unwrap(),
            "0.0.0.0:0".parse().unwrap(),
            "[2001:db8::1]:443".parse().unwrap(),
        ];
        let micros = (0..2_100).chain([9_999, 10_001, 123_456, 999_999, 1_000_000, 1_234_567]);
        for target in targets {
            for us in micros.clone() {
                let elapsed = Duration::from_micros(us);
                assert_eq!(
                    connected(target, elapsed),
                    format!("connected to {target} in {}", Human(elapsed)),
                    "{us} µs"
                );
            }
        }
    }
}
