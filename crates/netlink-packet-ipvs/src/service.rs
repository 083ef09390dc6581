//! The service nest (`IPVS_CMD_ATTR_SERVICE`).

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_TYPE_MASK, Nla, NlaBuffer, Parseable,
};

use crate::nest::{
    array, emit_nest, emit_nul_string, nest_len, nul_string, nul_string_len, parse_nest, u16_be,
    u16_ne, u32_ne,
};
use crate::{InetAddr, Netmask, Stats32Attr, Stats64Attr};

const AF: u16 = 1;
const PROTOCOL: u16 = 2;
const ADDR: u16 = 3;
const PORT: u16 = 4;
const FWMARK: u16 = 5;
const SCHED_NAME: u16 = 6;
const FLAGS: u16 = 7;
const TIMEOUT: u16 = 8;
const NETMASK: u16 = 9;
/// The 32-bit statistics nest of a service (`IPVS_SVC_ATTR_STATS`).
pub const STATS: u16 = 10;
const PE_NAME: u16 = 11;
/// The 64-bit statistics nest of a service (`IPVS_SVC_ATTR_STATS64`).
pub const STATS64: u16 = 12;

/// `struct ip_vs_flags`: the kernel sets `flags & mask` and keeps the other bits; host order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags {
    /// The flag values (`IP_VS_SVC_F_*`).
    pub flags: u32,
    /// Which bits of `flags` the kernel should apply.
    pub mask: u32,
}

/// An attribute of a service nest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceAttr {
    /// Address family (`AF_INET` / `AF_INET6`).
    AddressFamily(u16),
    /// Transport protocol (`IPPROTO_TCP`, `IPPROTO_UDP`, `IPPROTO_SCTP`).
    Protocol(u16),
    /// Virtual address (see [`InetAddr`] for the 16-byte trap).
    Address(InetAddr),
    /// Virtual port, host order here, network order on the wire.
    Port(u16),
    /// Firewall mark, for fwmark services (no address, protocol or port).
    Fwmark(u32),
    /// Scheduler name (`rr`, `wlc`, ...), sent NUL-terminated.
    Scheduler(String),
    /// Flags and the mask of flags to change.
    Flags(ServiceFlags),
    /// Persistence timeout in seconds.
    Timeout(u32),
    /// Persistence netmask (mask for IPv4, prefix length for IPv6: see [`Netmask`]).
    Netmask(Netmask),
    /// 32-bit statistics (only in replies).
    Stats(Vec<Stats32Attr>),
    /// Persistence engine name (`sip`), sent NUL-terminated.
    PersistenceEngine(String),
    /// 64-bit statistics (only in replies).
    Stats64(Vec<Stats64Attr>),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for ServiceAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::AddressFamily(_) | Self::Protocol(_) | Self::Port(_) => 2,
            Self::Address(_) => InetAddr::LEN,
            Self::Fwmark(_) | Self::Timeout(_) | Self::Netmask(_) => 4,
            Self::Flags(_) => 8,
            Self::Scheduler(s) | Self::PersistenceEngine(s) => nul_string_len(s),
            Self::Stats(attrs) => nest_len(attrs),
            Self::Stats64(attrs) => nest_len(attrs),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::AddressFamily(_) => AF,
            Self::Protocol(_) => PROTOCOL,
            Self::Address(_) => ADDR,
            Self::Port(_) => PORT,
            Self::Fwmark(_) => FWMARK,
            Self::Scheduler(_) => SCHED_NAME,
            Self::Flags(_) => FLAGS,
            Self::Timeout(_) => TIMEOUT,
            Self::Netmask(_) => NETMASK,
            Self::Stats(_) => STATS,
            Self::PersistenceEngine(_) => PE_NAME,
            Self::Stats64(_) => STATS64,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::AddressFamily(v) | Self::Protocol(v) => {
                buffer[..2].copy_from_slice(&v.to_ne_bytes())
            }
            Self::Port(v) => buffer[..2].copy_from_slice(&v.to_be_bytes()),
            Self::Address(addr) => buffer[..InetAddr::LEN].copy_from_slice(&addr.0),
            Self::Fwmark(v) | Self::Timeout(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::Netmask(mask) => buffer[..4].copy_from_slice(&mask.0),
            Self::Flags(f) => {
                buffer[..4].copy_from_slice(&f.flags.to_ne_bytes());
                buffer[4..8].copy_from_slice(&f.mask.to_ne_bytes());
            }
            Self::Scheduler(s) | Self::PersistenceEngine(s) => emit_nul_string(s, buffer),
            Self::Stats(attrs) => emit_nest(attrs, buffer),
            Self::Stats64(attrs) => emit_nest(attrs, buffer),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl ServiceAttr {
    /// Parses one attribute from its raw type (flag bits included) and value, as
    /// [`walk`](crate::walk) yields them; [`Parseable::parse`] is the same from an `NlaBuffer`.
    pub fn parse_value(raw_kind: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(match raw_kind & NLA_TYPE_MASK {
            AF => Self::AddressFamily(u16_ne(payload).context("invalid IPVS_SVC_ATTR_AF")?),
            PROTOCOL => Self::Protocol(u16_ne(payload).context("invalid IPVS_SVC_ATTR_PROTOCOL")?),
            ADDR => Self::Address(InetAddr::parse(payload).context("invalid IPVS_SVC_ATTR_ADDR")?),
            PORT => Self::Port(u16_be(payload).context("invalid IPVS_SVC_ATTR_PORT")?),
            FWMARK => Self::Fwmark(u32_ne(payload).context("invalid IPVS_SVC_ATTR_FWMARK")?),
            SCHED_NAME => {
                Self::Scheduler(nul_string(payload).context("invalid IPVS_SVC_ATTR_SCHED_NAME")?)
            }
            FLAGS => {
                let raw: [u8; 8] = array(payload).context("invalid IPVS_SVC_ATTR_FLAGS")?;
                let [a, b, c, d, e, f, g, h] = raw;
                Self::Flags(ServiceFlags {
                    flags: u32::from_ne_bytes([a, b, c, d]),
                    mask: u32::from_ne_bytes([e, f, g, h]),
                })
            }
            TIMEOUT => Self::Timeout(u32_ne(payload).context("invalid IPVS_SVC_ATTR_TIMEOUT")?),
            NETMASK => Self::Netmask(Netmask(
                array(payload).context("invalid IPVS_SVC_ATTR_NETMASK")?,
            )),
            STATS => Self::Stats(parse_nest(payload).context("invalid IPVS_SVC_ATTR_STATS")?),
            PE_NAME => Self::PersistenceEngine(
                nul_string(payload).context("invalid IPVS_SVC_ATTR_PE_NAME")?,
            ),
            STATS64 => Self::Stats64(parse_nest(payload).context("invalid IPVS_SVC_ATTR_STATS64")?),
            _ => Self::Other(DefaultNla::new(raw_kind, payload.to_vec())),
        })
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ServiceAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        Self::parse_value(crate::nest::raw_kind(buf), buf.value())
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::Emitable;

    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::nest::assert_round_trip;
    use crate::{AF_INET, AF_INET6};

    #[test]
    fn every_service_attribute_round_trips() {
        assert_round_trip(&[
            ServiceAttr::AddressFamily(AF_INET6),
            ServiceAttr::Protocol(crate::IPPROTO_SCTP),
            ServiceAttr::Address(InetAddr::from(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
            ))),
            ServiceAttr::Address(InetAddr::from(Ipv4Addr::new(192, 0, 2, 1))),
            ServiceAttr::Port(8080),
            ServiceAttr::Fwmark(0xdead_beef),
            ServiceAttr::Scheduler("wlc".into()),
            ServiceAttr::Flags(ServiceFlags {
                flags: 3,
                mask: 0xffff_fffd,
            }),
            ServiceAttr::Timeout(300),
            ServiceAttr::Netmask(Netmask::from_prefix(AF_INET, 24)),
            ServiceAttr::Netmask(Netmask::from_prefix(AF_INET6, 64)),
            ServiceAttr::Stats(vec![Stats32Attr::Conns(1), Stats32Attr::InBytes(2)]),
            ServiceAttr::PersistenceEngine("sip".into()),
            ServiceAttr::Stats64(vec![Stats64Attr::OutBytes(3)]),
            ServiceAttr::Other(DefaultNla::new(42, vec![1, 2, 3, 4, 5])),
        ]);
    }

    #[test]
    fn the_port_is_big_endian_and_flags_are_host_order() {
        let mut buf = [0; 8];
        ServiceAttr::Port(80).emit(&mut buf);
        assert_eq!(&buf[4..6], &[0, 80]);
        let mut buf = [0; 12];
        ServiceAttr::Flags(ServiceFlags { flags: 1, mask: 2 }).emit(&mut buf);
        assert_eq!(&buf[4..], [1u32.to_ne_bytes(), 2u32.to_ne_bytes()].concat());
    }

    #[test]
    fn names_are_sent_nul_terminated_and_read_up_to_the_nul() {
        let mut buf = [0xa5; 8];
        ServiceAttr::Scheduler("rr".into()).emit(&mut buf);
        assert_eq!(&buf, &[7, 0, 6, 0, b'r', b'r', 0, 0]);
        // A name without its NUL (or with garbage after it) still reads.
        let raw = [8, 0, 6, 0, b's', b'h', 0, b'x'];
        let nla = NlaBuffer::new_checked(&raw[..]).unwrap();
        assert_eq!(
            ServiceAttr::parse(&nla).unwrap(),
            ServiceAttr::Scheduler("sh".into())
        );
    }
}
