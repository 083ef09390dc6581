//! Messages of the IPVS generic-netlink family (`include/uapi/linux/ip_vs.h`), without I/O.
//!
//! This crate follows the layout of the rust-netlink family crates (ethtool, wireguard,
//! mptcp-pm): a command enum ([`IpvsCmd`]), a message type ([`IpvsMessage`]) that implements
//! [`GenlFamily`](netlink_packet_generic::GenlFamily), and one attribute enum per nest
//! ([`IpvsAttr`], [`ServiceAttr`], [`DestAttr`], [`DaemonAttr`], [`Stats32Attr`],
//! [`Stats64Attr`]), each implementing [`Nla`](netlink_packet_core::Nla) and
//! [`Parseable`](netlink_packet_core::Parseable). Every enum has an `Other(DefaultNla)` arm, so an
//! attribute added by a newer kernel is kept rather than rejected.
//!
//! # Wire traps this crate takes care of
//! - Ports (service, destination, tunnel) travel in network byte order; the enums hold them in
//!   host order and swap on parse/emit. The sync daemon's multicast port is the exception: host
//!   order on the wire too.
//! - Addresses travel in a 16-byte `union nf_inet_addr` whatever the family; [`InetAddr`] keeps the
//!   raw bytes and needs the address family to become an [`IpAddr`](std::net::IpAddr).
//! - The persistence netmask is a network-order mask for IPv4 but a host-order prefix length for
//!   IPv6: [`Netmask`] keeps the raw four bytes and converts either way.
//! - Service flags are a host-order `struct ip_vs_flags { flags, mask }` ([`ServiceFlags`]).
//! - The 32-bit statistics nest still carries 64-bit byte counters ([`Stats32Attr`]).
//!
//! # Example
//! ```
//! use netlink_packet_core::{Emitable, ParseableParametrized};
//! use netlink_packet_generic::GenlHeader;
//! use netlink_packet_ipvs::{IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr};
//!
//! let msg = IpvsMessage {
//!     cmd: IpvsCmd::GetDest,
//!     attrs: vec![IpvsAttr::Service(vec![ServiceAttr::Fwmark(7), ServiceAttr::AddressFamily(2)])],
//! };
//! let mut buf = vec![0; msg.buffer_len()];
//! msg.emit(&mut buf);
//! let header = GenlHeader { cmd: IpvsCmd::GetDest.into(), version: 1 };
//! assert_eq!(IpvsMessage::parse_with_param(&buf[..], header).unwrap(), msg);
//! ```
//!
//! This crate does no I/O: opening the socket, resolving the family id and matching replies is
//! the job of the `ipvs` crate.

mod addr;
mod cmd;
mod daemon;
mod dest;
pub mod fuzz;
mod message;
mod nest;
mod sched_flag;
mod service;
mod stats;

pub use addr::{InetAddr, Netmask};
pub use cmd::IpvsCmd;
pub use daemon::{DaemonAttr, DaemonState};
pub use dest::{DestAttr, ForwardMethod, TunnelType};
pub use message::{IpvsAttr, IpvsMessage};
pub use nest::{Walk, walk};
pub use sched_flag::{SCHED_FLAG_NAMES, SchedFlagName};
pub use service::{ServiceAttr, ServiceFlags};
pub use stats::{Stats32Attr, Stats64Attr};

/// Attribute numbers for walking replies without building the attribute enums, as a client's
/// hot path may (`include/uapi/linux/ip_vs.h` names).
pub mod constants {
    pub use crate::dest::{STATS as IPVS_DEST_ATTR_STATS, STATS64 as IPVS_DEST_ATTR_STATS64};
    pub use crate::message::{DEST as IPVS_CMD_ATTR_DEST, SERVICE as IPVS_CMD_ATTR_SERVICE};
    pub use crate::service::{STATS as IPVS_SVC_ATTR_STATS, STATS64 as IPVS_SVC_ATTR_STATS64};
}

/// The generic-netlink family name the kernel registers (`IPVS_GENL_NAME`).
pub const IPVS_GENL_NAME: &str = "IPVS";
/// The family version this crate speaks (`IPVS_GENL_VERSION`).
pub const IPVS_GENL_VERSION: u8 = 1;

/// Address family numbers as the kernel sends them in `AF` attributes.
pub const AF_INET: u16 = 2;
/// IPv6 address family number.
pub const AF_INET6: u16 = 10;

/// Service protocol numbers (`IPPROTO_*`) accepted by IPVS.
pub const IPPROTO_TCP: u16 = 6;
/// UDP protocol number.
pub const IPPROTO_UDP: u16 = 17;
/// SCTP protocol number.
pub const IPPROTO_SCTP: u16 = 132;

/// Service flag: persistent service (`IP_VS_SVC_F_PERSISTENT`).
pub const IP_VS_SVC_F_PERSISTENT: u32 = 0x0001;
/// Service flag: hashed entry, set by the kernel (`IP_VS_SVC_F_HASHED`).
pub const IP_VS_SVC_F_HASHED: u32 = 0x0002;
/// Service flag: one-packet scheduling (`IP_VS_SVC_F_ONEPACKET`).
pub const IP_VS_SVC_F_ONEPACKET: u32 = 0x0004;
/// Scheduler flag 1 (`sh-fallback` for sh, `mh-fallback` for mh).
pub const IP_VS_SVC_F_SCHED1: u32 = 0x0008;
/// Scheduler flag 2 (`sh-port` for sh, `mh-port` for mh).
pub const IP_VS_SVC_F_SCHED2: u32 = 0x0010;
/// Scheduler flag 3.
pub const IP_VS_SVC_F_SCHED3: u32 = 0x0020;

/// Tunnel encapsulation flag: no checksum (`IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM`, zero).
pub const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: u16 = 0;
/// Tunnel encapsulation flag: checksum (`IP_VS_TUNNEL_ENCAP_FLAG_CSUM`).
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: u16 = 1 << 0;
/// Tunnel encapsulation flag: remote checksum offload (`IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM`).
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: u16 = 1 << 1;

/// Longest scheduler name the kernel accepts, NUL included (`IP_VS_SCHEDNAME_MAXLEN`).
pub const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
/// Longest persistence-engine name, NUL included (`IP_VS_PENAME_MAXLEN`).
pub const IP_VS_PENAME_MAXLEN: usize = 16;
/// Longest sync-daemon interface name, NUL included (`IP_VS_IFNAME_MAXLEN`).
pub const IP_VS_IFNAME_MAXLEN: usize = 16;
