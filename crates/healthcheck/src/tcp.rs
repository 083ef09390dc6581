//! TCP_CHECK: the real server accepts a TCP connection within `connect_timeout`.

use std::time::{Duration, Instant};

use crate::net::{Human, connect_tcp};
use crate::{CheckFuture, Checker, ConnectOptions, Outcome};

/// TCP_CHECK: healthy when a TCP connection to `connect_ip:connect_port` completes within
/// `connect_timeout`. The connection is then reset, as keepalived's checker effectively does.
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
        let target = self.connect.target();
        let started = Instant::now();
        let limit = self.connect.connect_timeout;
        match tokio::time::timeout(limit, connect_tcp(&self.connect)).await {
            Ok(Ok(_stream)) => Outcome::up(format!(
                "connected to {target} in {}",
                Human(round_micros(started.elapsed()))
            )),
            Ok(Err(reason)) => Outcome::down(reason),
            Err(_) => Outcome::down(format!(
                "connect to {target}: timed out after {}",
                Human(limit)
            )),
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
