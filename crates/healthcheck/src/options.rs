//! The options every checker shares, under keepalived's names and with keepalived's defaults.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Where and how a checker connects: keepalived's generic connection options.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectOptions {
    /// `connect_ip`: the address to probe (keepalived defaults it to the real server's).
    pub connect_ip: IpAddr,
    /// `connect_port`: the port to probe (keepalived defaults it to the real server's).
    pub connect_port: u16,
    /// `bindto`: the source address of the probe.
    pub bindto: Option<IpAddr>,
    /// `bind_port`: the source port of the probe.
    pub bind_port: Option<u16>,
    /// `connect_timeout`: how long one attempt may take, connection and exchange together
    /// (default 5 s).
    pub connect_timeout: Duration,
    /// `fwmark`: a netfilter mark (SO_MARK) on every probe packet, for policy routing.
    pub fwmark: Option<u32>,
}

impl ConnectOptions {
    /// keepalived's default connection timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Probes `target` with keepalived's defaults.
    pub fn new(target: SocketAddr) -> Self {
        Self {
            connect_ip: target.ip(),
            connect_port: target.port(),
            bindto: None,
            bind_port: None,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            fwmark: None,
        }
    }

    /// The same options with another `connect_timeout`.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The address the probe goes to.
    pub fn target(&self) -> SocketAddr {
        SocketAddr::new(self.connect_ip, self.connect_port)
    }

    /// The local address to bind before connecting, when `bindto` or `bind_port` asks for one.
    pub(crate) fn local(&self) -> Option<SocketAddr> {
        if self.bindto.is_none() && self.bind_port.is_none() {
            return None;
        }
        let ip = self.bindto.unwrap_or(match self.connect_ip {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        });
        Some(SocketAddr::new(ip, self.bind_port.unwrap_or(0)))
    }
}

/// When a check runs and how a failure is confirmed: keepalived's timing options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Schedule {
    /// `delay_loop`: the time between two attempts (keepalived's default is 60 s).
    pub delay_loop: Duration,
    /// `warmup`: the first attempt waits a random time up to this; `None` means up to
    /// `delay_loop` (keepalived's default), zero means start at once.
    pub warmup: Option<Duration>,
    /// `retry` (older name `nb_get_retry`): how many more attempts a failure of a healthy server
    /// gets before it is declared down (default 1; DNS_CHECK 3; MISC_CHECK 0).
    pub retry: u32,
    /// `delay_before_retry`: the time between those attempts (default 1 s; HTTP_GET and SSL_GET
    /// 3 s; DNS_CHECK `delay_loop`).
    pub delay_before_retry: Duration,
}

impl Schedule {
    /// keepalived's defaults for TCP_CHECK, SMTP_CHECK, UDP_CHECK and PING_CHECK, with this
    /// `delay_loop`.
    pub fn new(delay_loop: Duration) -> Self {
        Self {
            delay_loop,
            warmup: None,
            retry: 1,
            delay_before_retry: Duration::from_secs(1),
        }
    }

    /// keepalived's defaults for HTTP_GET and SSL_GET (`delay_before_retry` 3 s).
    pub fn http(delay_loop: Duration) -> Self {
        Self {
            delay_before_retry: Duration::from_secs(3),
            ..Self::new(delay_loop)
        }
    }

    /// keepalived's defaults for DNS_CHECK (`retry` 3, `delay_before_retry` = `delay_loop`).
    pub fn dns(delay_loop: Duration) -> Self {
        Self {
            retry: 3,
            delay_before_retry: delay_loop,
            ..Self::new(delay_loop)
        }
    }

    /// keepalived's defaults for MISC_CHECK (`retry` 0).
    pub fn misc(delay_loop: Duration) -> Self {
        Self {
            retry: 0,
            ..Self::new(delay_loop)
        }
    }

    /// Sets `retry`.
    #[must_use]
    pub fn retry(mut self, retry: u32) -> Self {
        self.retry = retry;
        self
    }

    /// Sets `retry` under its older name.
    #[must_use]
    pub fn nb_get_retry(self, retry: u32) -> Self {
        self.retry(retry)
    }

    /// Sets `delay_before_retry`.
    #[must_use]
    pub fn delay_before_retry(mut self, delay: Duration) -> Self {
        self.delay_before_retry = delay;
        self
    }

    /// Sets `warmup` (zero starts the first attempt at once).
    #[must_use]
    pub fn warmup(mut self, warmup: Duration) -> Self {
        self.warmup = Some(warmup);
        self
    }

    /// The upper bound of the random delay before the first attempt.
    pub fn warmup_bound(&self) -> Duration {
        self.warmup.unwrap_or(self.delay_loop)
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}
