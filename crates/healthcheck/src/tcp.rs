//! TCP_CHECK: the real server accepts a TCP connection within `connect_timeout`.

use std::time::{Duration, Instant};

use crate::net::Human;
use crate::pool::{self, ProbeError, Started};
use crate::{CheckFuture, Checker, ConnectOptions, Outcome};

/// TCP_CHECK: healthy when a TCP connection to `connect_ip:connect_port` completes within
/// `connect_timeout`.
///
/// The probe is half-open, as HAProxy's plain TCP checks are: SYN, SYN-ACK, then an RST in
/// place of the last ACK. The connection is established on our side, which is what the check
/// asks; the real server's kernel drops its half-open request on the RST, so its application
/// never accepts (or logs) the probe. Probe sockets are reused from a per-thread pool unless
/// `bindto` or `bind_port` is set.
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
        let result = match pool::start(&self.connect) {
            Started::Done(result) => result,
            Started::Waiting(waiting) => {
                // Only a probe that waits needs a timer.
                let limit = self.connect.connect_timeout;
                let left = limit.saturating_sub(started.elapsed());
                match tokio::time::timeout(left, waiting.finish()).await {
                    Ok(result) => result,
                    Err(_) => {
                        return Outcome::down(format!(
                            "connect to {}: timed out after {}",
                            self.connect.target(),
                            Human(limit)
                        ));
                    }
                }
            }
        };
        let target = self.connect.target();
        match result {
            Ok(()) => Outcome::up(format!(
                "connected to {target} in {}",
                Human(round_micros(started.elapsed()))
            )),
            Err(ProbeError::Setup(e)) => {
                Outcome::down(format!("cannot set up a socket for {target}: {e}"))
            }
            Err(ProbeError::Connect(e)) => Outcome::down(format!("connect to {target}: {e}")),
        }
    }
}

/// Durations in reasons are shown to the microsecond.
pub(crate) fn round_micros(d: Duration) -> Duration {
    Duration::from_micros(d.as_micros() as u64)
}

impl Checker for TcpCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }

    fn timeout(&self) -> Duration {
        self.connect.connect_timeout
    }
}
