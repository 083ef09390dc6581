//! Health checkers for real servers (TCP, HTTP, TLS, SMTP, DNS, UDP, ICMP, scripts) and the
//! scheduler that runs tens of thousands of them on one tokio runtime.
//!
//! Every checker is a plain configuration value that implements [`Checker`]: one call to
//! [`Checker::check`] is one attempt and yields an [`Outcome`] (healthy or not, an optional new
//! weight, and a reason a person can read). Options carry keepalived's names (`connect_ip`,
//! `connect_port`, `bindto`, `bind_port`, `connect_timeout`, `fwmark`, `retry`,
//! `delay_before_retry`, `warmup`, `delay_loop`) and keepalived's defaults, as described in
//! keepalived.conf(5).
//!
//! The [`Scheduler`] runs the attempts: a random warm-up delay, then one attempt every
//! `delay_loop`; a failure of a healthy server is confirmed after `retry` more attempts spaced by
//! `delay_before_retry`; transitions come out as [`Event`]s. Identical checks registered under
//! several ids (the same real server in several virtual servers) run once and fan out. A start
//! may come up to [`SchedulerOptions::slack`] (2 ms by default) after its plan, so that starts
//! close together share one wake-up of the runtime. The timing and the rules are the sans-IO
//! [`Planner`], which takes `now` as an input; the [`Scheduler`] is its tokio driver.
//!
//! [`TcpCheck`] probes half-open (SYN, SYN-ACK, RST). With `CAP_NET_RAW` it writes the SYN on a
//! raw socket and leaves the RST to the kernel, about a fifth less CPU per check than a kernel
//! socket; [`tcp::set_raw_probes`] turns that off.
//!
//! ```no_run
//! use std::time::Duration;
//! use healthcheck::{Check, CheckId, ConnectOptions, Schedule, Scheduler, TcpCheck};
//!
//! # async fn demo() {
//! let (scheduler, mut events) = Scheduler::new();
//! let tcp = TcpCheck::new(ConnectOptions::new("192.0.2.10:80".parse().unwrap()));
//! scheduler.insert(CheckId(1), Check::Tcp(tcp), Schedule::new(Duration::from_secs(6)));
//! while let Some(event) = events.recv().await {
//!     println!("{event}");
//! }
//! # }
//! ```

mod check;
pub mod dns;
pub mod file;
pub mod fuzz;
pub mod http;
pub mod misc;
mod net;
pub mod options;
pub mod ping;
mod pool;
pub mod scheduler;
pub mod smtp;
mod syn;
pub mod tcp;
pub mod udp;

pub use check::{Check, CheckFuture, Checker, Outcome};
pub use dns::DnsCheck;
pub use file::FileCheck;
pub use http::{BodyRegex, HttpGet, HttpProtocol, StatusRange, TlsOptions, UrlCheck};
pub use misc::MiscCheck;
pub use options::{ConnectOptions, Schedule};
pub use ping::PingCheck;
pub use scheduler::{
    CheckId, Due, Event, Inserted, Planner, Removed, RunId, Scheduler, SchedulerOptions, SlipStats,
    State,
};
pub use smtp::SmtpCheck;
pub use tcp::TcpCheck;
pub use udp::UdpCheck;

/// What can go wrong while building a checker from its configuration.
///
/// Failures of a check itself are not errors: they are unhealthy [`Outcome`]s with a reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A `status_code` word is neither a number nor a `low-high` range of numbers 100–599.
    #[error("status_code: expected a code or a range like 200-299, found {0:?}")]
    StatusCode(String),
    /// A `digest` is not 32 hexadecimal digits.
    #[error("digest: expected 32 hexadecimal digits (an MD5 sum), found {0:?}")]
    Digest(String),
    /// A hexadecimal string (`payload`, `require_reply`) holds something other than hex digits.
    #[error("expected hexadecimal digits, found {0:?}")]
    Hex(String),
    /// An option outside the range it can take (see [`options`] for the limits).
    #[error("{option}: expected {expected}, found {found}")]
    OutOfRange {
        /// The option, under keepalived's name.
        option: &'static str,
        /// What it can be.
        expected: String,
        /// What it was.
        found: String,
    },
    /// `misc_path` is empty or has an unterminated quote.
    #[error("misc_path: {0}")]
    MiscPath(String),
    /// A DNS query type that DNS_CHECK does not know.
    #[error("DNS_CHECK type: expected A, NS, CNAME, SOA, MX, TXT or AAAA, found {0:?}")]
    DnsType(String),
    /// A DNS name that cannot be encoded.
    #[error("DNS_CHECK name: {name:?} is not a valid domain name: {reason}")]
    DnsName {
        /// The name as given.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A URL given to `genhash` or the `check` tool that is not `http[s]://HOST[:PORT]/PATH`.
    #[error("URL: expected http://HOST[:PORT]/PATH or https://..., found {0:?}")]
    Url(String),
    /// A `regex` that does not compile, or a `regex_options` word this crate does not
    /// implement.
    #[error("regex: {0}")]
    Regex(String),
    /// The CA file for TLS verification could not be read.
    #[error("ca_file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// The README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
