//! Option values: protocols, thresholds, endpoints, scheduler flags and `inet_aton` addresses.

use std::net::{IpAddr, SocketAddr};

use ipvs::Protocol;
use ipvs::packet::SchedFlagName;

use crate::names;

use super::*;

pub(super) fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

pub(super) fn parse_threshold(text: &str) -> Option<u32> {
    text.parse::<i32>()
        .ok()
        .filter(|t| *t >= 0)
        .map(|t| t as u32)
}

/// `host[:port]`, `[v6]:port`, a bare IPv6 address (port 0), or names from the system files.
/// `default_port` is used when the text has no port; `None` means port 0.
pub(super) fn parse_endpoint(
    text: &str,
    proto: &str,
    default_port: Option<u16>,
) -> Option<SocketAddr> {
    let port_of = |p: &str| -> Option<u16> {
        if p.is_empty() {
            return None;
        }
        if p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u16>().ok()
        } else {
            names::port_number(p, proto)
        }
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        let ip: std::net::Ipv6Addr = host.parse().ok()?;
        return Some(SocketAddr::new(IpAddr::V6(ip), port_of(port)?));
    }
    if text.matches(':').count() > 1 {
        let ip: std::net::Ipv6Addr = text.parse().ok()?;
        return Some(SocketAddr::new(IpAddr::V6(ip), 0));
    }
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, port_of(port)?),
        None => (text, default_port.unwrap_or(0)),
    };
    let ip = names::resolve_host(host, Some(false)).or_else(|| names::resolve_host(host, None))?;
    Some(SocketAddr::new(ip, port))
}

pub(super) fn endpoint_has_port(text: &str) -> bool {
    if text.starts_with('[') {
        return text.contains("]:");
    }
    text.matches(':').count() == 1
}

pub(super) fn parse_sched_flags(text: &str) -> Result<u32, Failure> {
    let mut flags = 0;
    for name in text.split(',').filter(|n| !n.is_empty()) {
        flags |= SchedFlagName::find(name)
            .ok_or_else(|| Failure::usage(format!("invalid scheduler flag `{name}'")))?
            .bit;
    }
    Ok(flags)
}

/// `sh-*` flags need the sh scheduler and `mh-*` flags the mh one.
pub(super) fn check_sched_flags(
    inv: &Invocation,
    occurrences: &[Occurrence<'_>],
) -> Result<(), Failure> {
    let scheduler = inv
        .scheduler
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("wlc");
    for occ in occurrences {
        if !matches!(occ.spec.what, What::Opt(Opt::SchedFlags)) {
            continue;
        }
        for name in occ.value.as_deref().unwrap_or("").split(',') {
            let Some(needs) = SchedFlagName::find(name).and_then(|f| f.scheduler) else {
                continue;
            };
            if scheduler != needs {
                return Err(Failure::usage(format!(
                    "incompatible scheduler flag `{name}'"
                )));
            }
        }
    }
    Ok(())
}

/// `inet_aton`: a, a.b, a.b.c or a.b.c.d, each part decimal, octal (0...) or hex (0x...).
pub(super) fn inet_aton(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| {
            if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                u32::from_str_radix(hex, 16).ok()
            } else if p.len() > 1 && p.starts_with('0') {
                u32::from_str_radix(&p[1..], 8).ok()
            } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect::<Option<_>>()?;
    let fits = |v: u32, bits: u32| bits >= 32 || v < (1 << bits);
    match parts.as_slice() {
        [a] => Some(*a),
        [a, b] if *a < 256 && fits(*b, 24) => Some(a << 24 | b),
        [a, b, c] if *a < 256 && *b < 256 && fits(*c, 16) => Some(a << 24 | b << 16 | c),
        [a, b, c, d] if [a, b, c, d].iter().all(|v| **v < 256) => {
            Some(a << 24 | b << 16 | c << 8 | d)
        }
        _ => None,
    }
}
