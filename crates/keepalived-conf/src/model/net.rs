//! Addresses, routes and rules: `virtual_ipaddress`, `static_ipaddress`, `virtual_routes`,
//! `static_routes`, `virtual_rules`, `static_rules`.

use std::net::IpAddr;

use serde::Serialize;

use crate::source::Origin;

/// A prefix `ADDR[/LEN]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Prefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length, if written.
    pub len: Option<u8>,
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.len {
            Some(len) => write!(f, "{}/{len}", self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// `brd` of an address: an address, or `+`/`-` to set or clear the host bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Broadcast {
    /// An explicit broadcast address.
    Addr(IpAddr),
    /// `+`: the host bits set.
    SetHostBits,
    /// `-`: the host bits cleared.
    ClearHostBits,
}

/// An address scope (`scope` option), as `ip` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// `global` (0).
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
    /// A number without a name.
    Other(u8),
}

/// `preferred_lft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lifetime {
    /// `forever`.
    Forever,
    /// Seconds.
    Secs(u32),
}

/// An address line of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpAddress {
    /// `ADDR[/LEN]`.
    pub prefix: Prefix,
    /// `brd`.
    pub broadcast: Option<Broadcast>,
    /// `dev`.
    pub dev: Option<String>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `label` (for `ifconfig` compatibility, `realdev:anytext`).
    pub label: Option<String>,
    /// `peer ADDR[/LEN]`.
    pub peer: Option<Prefix>,
    /// `use_vmac`: put the address on the instance's VMAC.
    pub use_vmac: bool,
    /// `home`.
    pub home: bool,
    /// `-nodad`.
    pub nodad: bool,
    /// `mngtmpaddr`.
    pub mngtmpaddr: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// `no_track`: do not go to FAULT when the address disappears.
    pub no_track: bool,
    /// `preferred_lft`.
    pub preferred_lft: Option<Lifetime>,
    /// `track_group` (static addresses).
    pub track_group: Option<String>,
    /// Where the address was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// Route types other than unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `throw`.
    Throw,
}

/// A route line of `virtual_routes` or `static_routes` (the `ip route add` syntax).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// `blackhole`, `unreachable`, ... before the destination.
    pub route_type: Option<RouteType>,
    /// Destination prefix (`to` may be written before it).
    pub to: Prefix,
    /// `src`.
    pub src: Option<IpAddr>,
    /// `via` (or the old `gw`).
    pub via: Option<IpAddr>,
    /// `or ADDR`: a second gateway.
    pub or: Option<IpAddr>,
    /// `dev`.
    pub dev: Option<String>,
    /// `table`.
    pub table: Option<String>,
    /// `metric` / `priority` / `preference`.
    pub metric: Option<u32>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `protocol` / `proto`.
    pub protocol: Option<String>,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group`.
    pub track_group: Option<String>,
    /// The other `ip route` options (`mtu 1000`, `nexthop ...`, `onlink`, ...), word by word.
    pub options: Vec<String>,
    /// Where the route was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// A rule line of `virtual_rules` or `static_rules` (the `ip rule add` syntax).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// `from`.
    pub from: Option<Prefix>,
    /// `to`.
    pub to: Option<Prefix>,
    /// `table` (or `lookup`).
    pub table: Option<String>,
    /// `preference` / `priority` / `pref`.
    pub preference: Option<u32>,
    /// `fwmark VALUE[/MASK]`.
    pub fwmark: Option<String>,
    /// `iif`.
    pub iif: Option<String>,
    /// `oif`.
    pub oif: Option<String>,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group`.
    pub track_group: Option<String>,
    /// The other `ip rule` options (`tos`, `goto`, `uidrange`, ...), word by word.
    pub options: Vec<String>,
    /// Where the rule was written.
    #[serde(skip)]
    pub origin: Origin,
}

impl IpAddress {
    /// An address with no options, as a bare `ADDR[/LEN]` line gives.
    pub fn new(addr: IpAddr, len: Option<u8>) -> Self {
        Self {
            prefix: Prefix { addr, len },
            broadcast: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            use_vmac: false,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            preferred_lft: None,
            track_group: None,
            origin: Origin::NONE,
        }
    }
}
