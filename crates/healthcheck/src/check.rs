//! The [`Checker`] trait, its [`Outcome`], and [`Check`], the closed set of keepalived's checkers.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::{
    DnsCheck, Error, FileCheck, HttpGet, MiscCheck, PingCheck, SmtpCheck, TcpCheck, UdpCheck,
};

/// The result of one attempt of a check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the real server passed this attempt.
    pub healthy: bool,
    /// A new weight for the real server (MISC_CHECK with `misc_dynamic`), when the check sets one.
    pub weight: Option<u32>,
    /// Why, in words an operator can act on ("connect to 192.0.2.1:80: Connection refused").
    pub reason: String,
}

impl Outcome {
    /// A passed attempt.
    pub fn up(reason: impl Into<String>) -> Self {
        Self {
            healthy: true,
            weight: None,
            reason: reason.into(),
        }
    }

    /// A failed attempt.
    pub fn down(reason: impl Into<String>) -> Self {
        Self {
            healthy: false,
            weight: None,
            reason: reason.into(),
        }
    }

    /// The same outcome carrying a new weight.
    #[must_use]
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = Some(weight);
        self
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.healthy { "UP" } else { "DOWN" })?;
        if let Some(weight) = self.weight {
            write!(f, " weight={weight}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// The future one attempt returns: boxed, so that checkers of every kind fit in one scheduler and
/// an idle check costs only its configuration.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// One kind of health check of one real server (async, on tokio).
///
/// Implementors apply their own time limit and turn every failure into an unhealthy [`Outcome`]
/// with a reason; the scheduler additionally cancels an attempt that outlives [`Checker::timeout`]
/// by a margin, so a checker that hangs cannot hold anything up.
pub trait Checker: Send + Sync + fmt::Debug {
    /// Runs one attempt.
    fn check(&self) -> CheckFuture<'_>;

    /// The longest one attempt is expected to take.
    fn timeout(&self) -> Duration;
}

/// keepalived's checkers, plus room for one of your own.
///
/// Two `Check`s are equal when they would probe the same thing the same way; the scheduler runs
/// equal checks once. `Custom` checks are equal only to clones of the same `Arc`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Check {
    /// TCP_CHECK.
    Tcp(TcpCheck),
    /// HTTP_GET, or SSL_GET when its `tls` is set.
    Http(HttpGet),
    /// SMTP_CHECK.
    Smtp(SmtpCheck),
    /// DNS_CHECK.
    Dns(DnsCheck),
    /// MISC_CHECK.
    Misc(MiscCheck),
    /// UDP_CHECK.
    Udp(UdpCheck),
    /// PING_CHECK.
    Ping(PingCheck),
    /// FILE_CHECK.
    File(FileCheck),
    /// Any other [`Checker`].
    Custom(Arc<dyn Checker>),
}

impl Check {
    fn inner(&self) -> &dyn Checker {
        match self {
            Self::Tcp(c) => c,
            Self::Http(c) => c,
            Self::Smtp(c) => c,
            Self::Dns(c) => c,
            Self::Misc(c) => c,
            Self::Udp(c) => c,
            Self::Ping(c) => c,
            Self::File(c) => c,
            Self::Custom(c) => c.as_ref(),
        }
    }
}

impl Check {
    /// Checks every option against its limit (see [`crate::options`]): what a configuration
    /// reader or a command line calls before handing the check to the [`crate::Scheduler`].
    /// A `Custom` check has no options to check.
    pub fn validate(&self) -> Result<(), Error> {
        match self {
            Self::Tcp(c) => c.connect.validate(),
            Self::Http(c) => c.connect.validate(),
            Self::Smtp(c) => c.connect.validate(),
            Self::Dns(c) => c.connect.validate(),
            Self::Misc(c) => c.validate(),
            Self::Udp(c) => c.validate(),
            Self::Ping(c) => c.connect.validate(),
            Self::File(_) | Self::Custom(_) => Ok(()),
        }
    }
}

impl Checker for Check {
    fn check(&self) -> CheckFuture<'_> {
        self.inner().check()
    }

    fn timeout(&self) -> Duration {
        self.inner().timeout()
    }
}

impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Tcp(a), Self::Tcp(b)) => a == b,
            (Self::Http(a), Self::Http(b)) => a == b,
            (Self::Smtp(a), Self::Smtp(b)) => a == b,
            (Self::Dns(a), Self::Dns(b)) => a == b,
            (Self::Misc(a), Self::Misc(b)) => a == b,
            (Self::Udp(a), Self::Udp(b)) => a == b,
            (Self::Ping(a), Self::Ping(b)) => a == b,
            (Self::File(a), Self::File(b)) => a == b,
            (Self::Custom(a), Self::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Check {}

impl Hash for Check {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Self::Tcp(c) => c.hash(state),
            Self::Http(c) => c.hash(state),
            Self::Smtp(c) => c.hash(state),
            Self::Dns(c) => c.hash(state),
            Self::Misc(c) => c.hash(state),
            Self::Udp(c) => c.hash(state),
            Self::Ping(c) => c.hash(state),
            Self::File(c) => c.hash(state),
            Self::Custom(c) => (Arc::as_ptr(c) as *const () as usize).hash(state),
        }
    }
}
