//! The health checkers of a real server: TCP_CHECK, HTTP_GET/SSL_GET and their `url` blocks,
//! SMTP_CHECK, DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK.

use std::net::IpAddr;

use serde::Serialize;

use super::*;
use crate::source::Origin;

/// Where and how a checker connects.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Connect {
    /// `connect_ip`.
    pub connect_ip: Option<IpAddr>,
    /// `connect_port`.
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// `connect_timeout` (per host in SMTP_CHECK).
    pub connect_timeout: Option<Timer>,
}

/// One `host { ... }` of SMTP_CHECK: where to connect and the checker settings for that host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SmtpHost {
    /// `connect_ip`, `connect_port`, `bindto`, ..., `connect_timeout`.
    pub connect: Connect,
    /// `retry`, `delay_before_retry`, `warmup`, `delay_loop`, `alpha`.
    pub defaults: CheckDefaults,
    /// `log_all_failures`.
    pub log_all_failures: Option<bool>,
}

/// An HTTP status-code item: one code or a range `LO-HI`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusRange {
    /// First code.
    pub low: u16,
    /// Last code (equal to `low` for a single code).
    pub high: u16,
}

/// `url { ... }` of HTTP_GET / SSL_GET.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Url {
    /// `path`.
    pub path: Option<String>,
    /// `digest` (MD5 hex of the body).
    pub digest: Option<String>,
    /// `status_code`.
    pub status_code: Vec<StatusRange>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
    /// `regex_options`.
    pub regex_options: Vec<String>,
    /// `regex_stack START MAX`.
    pub regex_stack: Option<(u32, u32)>,
    /// `regex_min_offset`.
    pub regex_min_offset: Option<u32>,
    /// `regex_max_offset`.
    pub regex_max_offset: Option<u32>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// HTTP_GET / SSL_GET settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpCheck {
    /// `http_protocol` (`1.0`, `1.0C`, `1.1`, `0.9`).
    pub http_protocol: Option<String>,
    /// `fast_recovery`.
    pub fast_recovery: Option<bool>,
    /// `enable_sni` (SSL_GET).
    pub enable_sni: bool,
    /// `url` blocks.
    pub urls: Vec<Url>,
}

/// The kind of a checker and its own settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CheckerKind {
    /// `TCP_CHECK`.
    Tcp,
    /// `HTTP_GET`.
    Http(HttpCheck),
    /// `SSL_GET`.
    Ssl(HttpCheck),
    /// `SMTP_CHECK`.
    Smtp {
        /// `helo_name`.
        helo_name: Option<String>,
        /// `host { ... }` blocks (older syntax: several servers to try).
        hosts: Vec<SmtpHost>,
    },
    /// `DNS_CHECK`.
    Dns {
        /// `type` (A, NS, ...).
        query_type: Option<String>,
        /// `name`.
        name: Option<String>,
    },
    /// `MISC_CHECK`.
    Misc {
        /// `misc_path`.
        path: Option<Script>,
        /// `misc_timeout`.
        timeout: Option<Timer>,
        /// `misc_dynamic`.
        dynamic: bool,
    },
    /// `UDP_CHECK`.
    Udp {
        /// `payload` (hex).
        payload: Option<String>,
        /// `require_reply [HEX]`.
        require_reply: Option<Option<String>>,
        /// `min_reply_length`.
        min_reply_length: Option<u32>,
        /// `max_reply_length`.
        max_reply_length: Option<u32>,
    },
    /// `PING_CHECK`.
    Ping,
    /// `FILE_CHECK`.
    File {
        /// `track_file`.
        track_file: Option<String>,
        /// `weight`.
        weight: Option<Weight>,
    },
    /// `BFD_CHECK`.
    Bfd {
        /// `name`.
        name: Option<String>,
    },
}

impl CheckerKind {
    /// The block keyword (`TCP_CHECK`, `HTTP_GET`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::Tcp => "TCP_CHECK",
            Self::Http(_) => "HTTP_GET",
            Self::Ssl(_) => "SSL_GET",
            Self::Smtp { .. } => "SMTP_CHECK",
            Self::Dns { .. } => "DNS_CHECK",
            Self::Misc { .. } => "MISC_CHECK",
            Self::Udp { .. } => "UDP_CHECK",
            Self::Ping => "PING_CHECK",
            Self::File { .. } => "FILE_CHECK",
            Self::Bfd { .. } => "BFD_CHECK",
        }
    }
}

/// A health checker block of a real server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checker {
    /// Which checker and its own settings.
    pub kind: CheckerKind,
    /// Where to connect.
    pub connect: Connect,
    /// `retry`, `delay_before_retry`, `delay_loop`, `warmup`, `alpha`.
    pub defaults: CheckDefaults,
    /// `log_all_failures`.
    pub log_all_failures: Option<bool>,
    /// `user USER [GROUP]` (MISC_CHECK; boxed, as other checkers have none).
    pub user: Option<Box<(String, Option<String>)>>,
    /// Other known keywords, verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

impl Checker {
    /// A checker of a kind with no connection settings.
    pub fn new(kind: CheckerKind) -> Self {
        Self {
            kind,
            connect: Connect::default(),
            defaults: CheckDefaults::default(),
            log_all_failures: None,
            user: None,
            extra: Vec::new(),
            origin: Origin::NONE,
        }
    }
}
