//! The LVS side: `virtual_server_group`, `virtual_server`, `real_server`, the `SSL` context.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_ipvs::{IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3};
use serde::Serialize;

use super::*;
use crate::source::{Origin, Spanned};

/// An entry of `virtual_server_group`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum GroupEntry {
    /// `ADDR[-LAST] [PORT]`: one address or a range whose last part ends at `range_end`.
    Addr {
        /// First address.
        addr: IpAddr,
        /// `-N`: the last byte (IPv4) or last 16-bit group (IPv6) of the range.
        range_end: Option<u16>,
        /// Port.
        port: Option<u16>,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family, when written.
        family: Option<Family>,
    },
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VirtualServerGroup {
    /// The name `virtual_server group NAME` refers to.
    pub name: String,
    /// The addresses, ranges and marks.
    pub entries: Vec<GroupEntry>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// An address family, as keepalived.conf spells it (`inet`, `inet6`).
///
/// The model keeps the keyword spelling (and its serialized form); the workspace's one address
/// family is `vrrp_packet::AddressFamily`, and this converts to and from it (`Inet` is `Ipv4`,
/// `Inet6` is `Ipv6`): the one seam through which the configuration reaches `ipvs` and `vip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `inet`.
    Inet,
    /// `inet6`.
    Inet6,
}

impl From<Family> for vrrp_packet::AddressFamily {
    fn from(family: Family) -> Self {
        match family {
            Family::Inet => Self::Ipv4,
            Family::Inet6 => Self::Ipv6,
        }
    }
}

impl From<vrrp_packet::AddressFamily> for Family {
    fn from(family: vrrp_packet::AddressFamily) -> Self {
        match family {
            vrrp_packet::AddressFamily::Ipv4 => Self::Inet,
            vrrp_packet::AddressFamily::Ipv6 => Self::Inet6,
        }
    }
}

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum VirtualServerAddr {
    /// `ADDR [PORT]` (the port may be left out only for a persistent service).
    Ip {
        /// Address.
        addr: IpAddr,
        /// Port.
        port: Option<u16>,
    },
    /// `fwmark N`.
    Fwmark(u32),
    /// `group NAME`.
    Group(String),
}

/// `lvs_sched` / `lb_algo`: the IPVS scheduler a virtual server asks the kernel for.
///
/// Named after the keyword, not `Scheduler`: `healthcheck::Scheduler` runs checks and
/// `garp::Announcer` paces announcements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LvsSched {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connection.
    Lc,
    /// Weighted least connection.
    Wlc,
    /// Locality-based least connection.
    Lblc,
    /// LBLC with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing.
    Sh,
    /// Maglev hashing.
    Mh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Weighted random twos choice.
    Twos,
}

/// The old name of [`LvsSched`].
#[deprecated(note = "renamed `LvsSched` (`healthcheck::Scheduler` runs checks)")]
pub type Scheduler = LvsSched;

impl LvsSched {
    /// All schedulers with their keepalived names.
    pub const ALL: [(Self, &'static str); 14] = [
        (Self::Rr, "rr"),
        (Self::Wrr, "wrr"),
        (Self::Lc, "lc"),
        (Self::Wlc, "wlc"),
        (Self::Lblc, "lblc"),
        (Self::Lblcr, "lblcr"),
        (Self::Dh, "dh"),
        (Self::Sh, "sh"),
        (Self::Mh, "mh"),
        (Self::Sed, "sed"),
        (Self::Nq, "nq"),
        (Self::Fo, "fo"),
        (Self::Ovf, "ovf"),
        (Self::Twos, "twos"),
    ];

    /// The keepalived (and ipvsadm) name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("rr", |(_, n)| n)
    }
}

/// Tunnel encapsulation of `lvs_method TUN type ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelType {
    /// `ipip`.
    Ipip,
    /// `gue port N`.
    Gue {
        /// UDP port.
        port: u16,
    },
    /// `gre`.
    Gre,
}

/// Tunnel checksum option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelChecksum {
    /// `nocsum`.
    NoCsum,
    /// `csum`.
    Csum,
    /// `remcsum`.
    RemCsum,
}

/// `lvs_method` / `lb_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LvsMethod {
    /// `NAT`.
    Nat,
    /// `DR` (direct routing): real servers must use the virtual port.
    Dr,
    /// `TUN [type ...] [csum]`.
    Tun {
        /// `type`.
        tunnel_type: Option<TunnelType>,
        /// Checksum option.
        checksum: Option<TunnelChecksum>,
    },
}

/// `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// `TCP`.
    Tcp,
    /// `UDP`.
    Udp,
    /// `SCTP`.
    Sctp,
}

/// `persistence_granularity`: a netmask (IPv4) or prefix length (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Granularity {
    /// An IPv4 netmask such as 255.255.255.0.
    Mask(Ipv4Addr),
    /// A prefix length.
    PrefixLen(u8),
}

/// The options shared by virtual servers, real servers and checkers: a virtual server's value
/// is the default for its real servers, a real server's for its checkers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckDefaults {
    /// `connect_timeout`.
    pub connect_timeout: Option<Timer>,
    /// `retry` (`nb_get_retry` is the old name).
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Timer>,
    /// `warmup`.
    pub warmup: Option<Timer>,
    /// `delay_loop`.
    pub delay_loop: Option<Timer>,
    /// `alpha`.
    pub alpha: Option<bool>,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: Option<bool>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
}

/// `sorry_server ADDR [PORT]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SorryServer {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: Option<u16>,
}

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualServer {
    /// What the service is.
    pub addr: VirtualServerAddr,
    /// `lvs_sched` / `lb_algo`.
    pub lvs_sched: Option<LvsSched>,
    /// `flag-1` (also `sh-fallback`, `mh-fallback`).
    pub flag_1: bool,
    /// `flag-2` (also `sh-port`, `mh-port`).
    pub flag_2: bool,
    /// `flag-3`.
    pub flag_3: bool,
    /// `ops`: one-packet scheduling (UDP).
    pub ops: bool,
    /// `lvs_method` / `lb_kind`.
    pub lvs_method: Option<LvsMethod>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `persistence_timeout [N]` (`Some(None)` when written without a number: 360 s).
    pub persistence_timeout: Option<Option<u32>>,
    /// `persistence_granularity`.
    pub persistence_granularity: Option<Granularity>,
    /// `protocol`.
    pub protocol: Option<Protocol>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// `omega`.
    pub omega: bool,
    /// `weight`: the weight of real servers that do not set their own (1 when not given).
    pub weight: Option<u32>,
    /// `quorum`.
    pub quorum: Option<Spanned<u32>>,
    /// `hysteresis`.
    pub hysteresis: Option<u32>,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `ip_family`.
    pub ip_family: Option<Family>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `sorry_server_inhibit`.
    pub sorry_server_inhibit: bool,
    /// `sorry_server_lvs_method`.
    pub sorry_server_lvs_method: Option<LvsMethod>,
    /// Defaults for the real servers and checkers (`delay_loop`, `retry`, `alpha`, ...).
    pub defaults: CheckDefaults,
    /// `real_server` blocks.
    pub real_servers: Vec<RealServer>,
    /// Other known keywords, verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `real_server ADDR [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (the virtual port when left out).
    pub port: Option<u16>,
    /// `weight`.
    pub weight: Option<i32>,
    /// `lvs_method` for this real server.
    pub lvs_method: Option<LvsMethod>,
    /// `notify_up` (boxed: most real servers have none, and a configuration can have tens of
    /// thousands of real servers).
    pub notify_up: Option<Box<Script>>,
    /// `notify_down` (boxed, as `notify_up`).
    pub notify_down: Option<Box<Script>>,
    /// `uthreshold`.
    pub uthreshold: Option<u32>,
    /// `lthreshold`.
    pub lthreshold: Option<u32>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// Defaults for this real server's checkers.
    pub defaults: CheckDefaults,
    /// The health checkers.
    pub checkers: Vec<Checker>,
    /// Other known keywords, verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// The top-level `SSL { ... }` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SslContext {
    /// `password`.
    pub password: Option<String>,
    /// `ca`.
    pub ca: Option<String>,
    /// `certificate`.
    pub certificate: Option<String>,
    /// `key`.
    pub key: Option<String>,
}

impl VirtualServer {
    /// A virtual server with nothing set but what it is.
    pub fn new(addr: VirtualServerAddr) -> Self {
        Self {
            addr,
            lvs_sched: None,
            flag_1: false,
            flag_2: false,
            flag_3: false,
            ops: false,
            lvs_method: None,
            persistence_engine: None,
            persistence_timeout: None,
            persistence_granularity: None,
            protocol: None,
            ha_suspend: false,
            snmp_name: None,
            omega: false,
            weight: None,
            quorum: None,
            hysteresis: None,
            quorum_up: None,
            quorum_down: None,
            ip_family: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            sorry_server_lvs_method: None,
            defaults: CheckDefaults::default(),
            real_servers: Vec::new(),
            extra: Vec::new(),
            origin: Origin::NONE,
        }
    }

    /// The `IP_VS_SVC_F_SCHED*` bits of `flag-1`..`flag-3` (whatever name set them), as the
    /// kernel's service flags hold them.
    pub fn sched_flags(&self) -> u32 {
        [
            (self.flag_1, IP_VS_SVC_F_SCHED1),
            (self.flag_2, IP_VS_SVC_F_SCHED2),
            (self.flag_3, IP_VS_SVC_F_SCHED3),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(0, |flags, (_, bit)| flags | bit)
    }
}

impl RealServer {
    /// A real server with nothing set but its address and port.
    pub fn new(addr: IpAddr, port: Option<u16>) -> Self {
        Self {
            addr,
            port,
            weight: None,
            lvs_method: None,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            snmp_name: None,
            defaults: CheckDefaults::default(),
            checkers: Vec::new(),
            extra: Vec::new(),
            origin: Origin::NONE,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use vrrp_packet::AddressFamily;

    use super::Family;

    /// Both ways: `inet` is an IPv4 address's family, `inet6` an IPv6 one's, and back.
    #[test]
    fn family_converts_to_and_from_the_workspace_family() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(AddressFamily::from(Family::Inet), AddressFamily::of(&v4));
        assert_eq!(AddressFamily::from(Family::Inet6), AddressFamily::of(&v6));
        assert_eq!(Family::from(AddressFamily::of(&v4)), Family::Inet);
        assert_eq!(Family::from(AddressFamily::of(&v6)), Family::Inet6);
    }
}
