//! The typed view of the IPVS table: services, destinations, statistics, daemons, timeouts.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use netlink_packet_ipvs::{
    AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, InetAddr, ServiceAttr,
};

pub use netlink_packet_ipvs::{DaemonState, ForwardMethod, Netmask, TunnelType};

mod daemon;
mod dest;
mod service;
mod stats;
#[cfg(test)]
mod tests;

pub use daemon::{Daemon, Info, Timeouts};
pub use dest::Destination;
pub use service::Service;
pub use stats::Stats;

/// Address family of a service or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(ip: IpAddr) -> Self {
        vrrp_packet::AddressFamily::of(&ip).into()
    }

    /// The kernel's `AF_*` number.
    pub fn af(self) -> u16 {
        match self {
            Self::V4 => AF_INET,
            Self::V6 => AF_INET6,
        }
    }

    /// The family for an `AF_*` number, if IPVS knows it.
    pub fn from_af(af: u16) -> Option<Self> {
        match af {
            AF_INET => Some(Self::V4),
            AF_INET6 => Some(Self::V6),
            _ => None,
        }
    }

    /// Longest prefix: 32 or 128.
    pub fn max_prefix(self) -> u8 {
        vrrp_packet::AddressFamily::from(self).max_prefix()
    }
}

/// The seam with the workspace's one address family, `vrrp_packet::AddressFamily` (the lowest
/// crate that needs one): `V4` is `Ipv4`, `V6` is `Ipv6`, both ways. `ipvs` keeps its own type
/// for its `V4`/`V6` spelling, ordering and the kernel's `AF_*` numbers ([`Family::af`]); every
/// other family in the workspace converts through this one.
impl From<Family> for vrrp_packet::AddressFamily {
    fn from(family: Family) -> Self {
        match family {
            Family::V4 => Self::Ipv4,
            Family::V6 => Self::Ipv6,
        }
    }
}

impl From<vrrp_packet::AddressFamily> for Family {
    fn from(family: vrrp_packet::AddressFamily) -> Self {
        match family {
            vrrp_packet::AddressFamily::Ipv4 => Self::V4,
            vrrp_packet::AddressFamily::Ipv6 => Self::V6,
        }
    }
}

/// Transport protocol of an address-based service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (`-t`).
    Tcp,
    /// UDP (`-u`).
    Udp,
    /// SCTP (`--sctp-service`).
    Sctp,
}

impl Protocol {
    /// The `IPPROTO_*` number.
    pub fn number(self) -> u16 {
        match self {
            Self::Tcp => IPPROTO_TCP,
            Self::Udp => IPPROTO_UDP,
            Self::Sctp => IPPROTO_SCTP,
        }
    }

    /// The protocol for an `IPPROTO_*` number, if IPVS serves it.
    pub fn from_number(number: u16) -> Option<Self> {
        match number {
            IPPROTO_TCP => Some(Self::Tcp),
            IPPROTO_UDP => Some(Self::Udp),
            IPPROTO_SCTP => Some(Self::Sctp),
            _ => None,
        }
    }
}

/// What identifies a virtual service: protocol + address + port, or a firewall mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// A service on `protocol` at `addr` (address and port).
    Addr {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual address and port.
        addr: SocketAddr,
    },
    /// A firewall-mark service of the given family.
    Fwmark {
        /// Family of the packets the mark selects.
        family: Family,
        /// The mark.
        mark: u32,
    },
}

impl ServiceKey {
    /// The family of the service.
    pub fn family(&self) -> Family {
        match self {
            Self::Addr { addr, .. } => Family::of(addr.ip()),
            Self::Fwmark { family, .. } => *family,
        }
    }

    /// The attributes that name this service in a request.
    pub(crate) fn attrs(&self) -> Vec<ServiceAttr> {
        match self {
            Self::Addr { protocol, addr } => vec![
                ServiceAttr::AddressFamily(self.family().af()),
                ServiceAttr::Protocol(protocol.number()),
                ServiceAttr::Address(InetAddr::from(addr.ip())),
                ServiceAttr::Port(addr.port()),
            ],
            Self::Fwmark { family, mark } => vec![
                ServiceAttr::AddressFamily(family.af()),
                ServiceAttr::Fwmark(*mark),
            ],
        }
    }
}

impl fmt::Display for ServiceKey {
    /// In ipvsadm's numeric words: `TCP 192.0.2.1:80`, `UDP [2001:db8::1]:53`, `FWM 7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr { protocol, addr } => {
                let proto = match protocol {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                    Protocol::Sctp => "SCTP",
                };
                write!(f, "{proto} {addr}")
            }
            Self::Fwmark {
                family: Family::V4,
                mark,
            } => write!(f, "FWM {mark}"),
            Self::Fwmark {
                family: Family::V6,
                mark,
            } => write!(f, "FWM {mark} IPv6"),
        }
    }
}
