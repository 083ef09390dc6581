//! Host and service names from `/etc/hosts` and `/etc/services`, both ways.
//!
//! ipvsadm asks the resolver; ipvsctl reads the two files only (no DNS), which is what a
//! load balancer's own table needs and keeps `-L` fast and predictable.

use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::OnceLock;

struct Services {
    by_port: HashMap<(u16, String), String>,
    by_name: HashMap<(String, String), u16>,
}

fn services() -> &'static Services {
    static SERVICES: OnceLock<Services> = OnceLock::new();
    SERVICES.get_or_init(|| {
        let mut by_port = HashMap::new();
        let mut by_name = HashMap::new();
        let text = std::fs::read_to_string("/etc/services").unwrap_or_default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            by_port
                .entry((port, proto.to_string()))
                .or_insert_with(|| name.to_string());
            for alias in std::iter::once(name).chain(words) {
                by_name
                    .entry((alias.to_string(), proto.to_string()))
                    .or_insert(port);
            }
        }
        Services { by_port, by_name }
    })
}

fn hosts() -> &'static Vec<(IpAddr, Vec<String>)> {
    static HOSTS: OnceLock<Vec<(IpAddr, Vec<String>)>> = OnceLock::new();
    HOSTS.get_or_init(|| {
        let text = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        text.lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or("");
                let mut words = line.split_whitespace();
                let ip = words.next()?.parse().ok()?;
                Some((ip, words.map(str::to_string).collect()))
            })
            .collect()
    })
}

/// The service name of `port` for `proto` ("tcp", "udp"), if `/etc/services` has one.
pub(crate) fn port_name(port: u16, proto: &str) -> Option<&'static str> {
    services()
        .by_port
        .get(&(port, proto.to_string()))
        .map(String::as_str)
}

/// The port of a service name for `proto`.
pub(crate) fn port_number(name: &str, proto: &str) -> Option<u16> {
    services()
        .by_name
        .get(&(name.to_string(), proto.to_string()))
        .copied()
}

/// The first host name of `ip` in `/etc/hosts`.
pub(crate) fn host_name(ip: IpAddr) -> Option<&'static str> {
    hosts()
        .iter()
        .find(|(addr, names)| *addr == ip && !names.is_empty())
        .map(|(_, names)| names[0].as_str())
}

/// An address literal, a name from `/etc/hosts`, or what the system resolver says, in the
/// wanted family when one is given.
pub(crate) fn resolve_host(name: &str, want_v6: Option<bool>) -> Option<IpAddr> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(ip);
    }
    let fits = |ip: &IpAddr| want_v6.is_none_or(|v6| ip.is_ipv6() == v6);
    if let Some(ip) = hosts()
        .iter()
        .find(|(ip, names)| fits(ip) && names.iter().any(|n| n == name))
        .map(|(ip, _)| *ip)
    {
        return Some(ip);
    }
    (name, 0)
        .to_socket_addrs()
        .ok()?
        .map(|sa| sa.ip())
        .find(fits)
}
