//! The options every checker shares, under keepalived's names and with keepalived's defaults,
//! and the limits every option is checked against (one place, for libraries and command lines).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::Error;

/// The longest time any checker option may hold (`connect_timeout`, `misc_timeout`,
/// `delay_loop`, `delay_before_retry`, `warmup`): a year. Longer is surely a mistake, and the
/// bound keeps every deadline the scheduler computes far from the clock's range.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The largest UDP reply a UDP_CHECK can be given (`max_reply_length`, `min_reply_length`): a
/// datagram holds at most 65,535 bytes, headers included.
pub const MAX_REPLY_LENGTH: usize = 65_535;

/// The largest UDP_CHECK `payload`: what fits one IPv4 datagram.
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// Reads a time option given in (decimal) seconds, as keepalived's configuration and the `check`
/// tool write it: a finite number from 0 to [`MAX_DURATION`]. `option` names it in the error.
pub fn duration_from_secs(option: &'static str, seconds: f64) -> Result<Duration, Error> {
    if !seconds.is_finite() || seconds < 0.0 || seconds > MAX_DURATION.as_secs_f64() {
        return Err(Error::OutOfRange {
            option,
            expected: format!("seconds from 0 to {}", MAX_DURATION.as_secs()),
            found: seconds.to_string(),
        });
    }
    // In range, so the conversion cannot fail; the error branch is only for the type.
    Duration::try_from_secs_f64(seconds).map_err(|e| Error::OutOfRange {
        option,
        expected: format!("seconds from 0 to {}", MAX_DURATION.as_secs()),
        found: e.to_string(),
    })
}

/// Parses [`duration_from_secs`]'s input from text, for command lines.
pub fn parse_secs(option: &'static str, text: &str) -> Result<Duration, Error> {
    let seconds = text.trim().parse::<f64>().map_err(|_| Error::OutOfRange {
        option,
        expected: format!("seconds from 0 to {}", MAX_DURATION.as_secs()),
        found: format!("{text:?}"),
    })?;
    duration_from_secs(option, seconds)
}

/// Checks a time option already held as a [`Duration`] against [`MAX_DURATION`].
pub fn check_duration(option: &'static str, value: Duration) -> Result<(), Error> {
    if value > MAX_DURATION {
        return Err(Error::OutOfRange {
            option,
            expected: format!("at most {} seconds", MAX_DURATION.as_secs()),
            found: format!("{} seconds", value.as_secs_f64()),
        });
    }
    Ok(())
}

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

    /// Checks the options against their limits ([`MAX_DURATION`] for `connect_timeout`).
    pub fn validate(&self) -> Result<(), Error> {
        check_duration("connect_timeout", self.connect_timeout)
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

    /// Checks every time against [`MAX_DURATION`]. The [`Scheduler`](crate::Scheduler) also
    /// takes a schedule that fails this (it saturates its deadlines instead of overflowing).
    pub fn validate(&self) -> Result<(), Error> {
        check_duration("delay_loop", self.delay_loop)?;
        check_duration("delay_before_retry", self.delay_before_retry)?;
        if let Some(warmup) = self.warmup {
            check_duration("warmup", warmup)?;
        }
        Ok(())
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
