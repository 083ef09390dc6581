//! The destination nest (`IPVS_CMD_ATTR_DEST`).

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_TYPE_MASK, Nla, NlaBuffer, Parseable,
};

use crate::nest::{emit_nest, nest_len, parse_nest, u8_, u16_be, u16_ne, u32_ne};
use crate::{InetAddr, Stats32Attr, Stats64Attr};

const ADDR: u16 = 1;
const PORT: u16 = 2;
const FWD_METHOD: u16 = 3;
const WEIGHT: u16 = 4;
const U_THRESH: u16 = 5;
const L_THRESH: u16 = 6;
const ACTIVE_CONNS: u16 = 7;
const INACT_CONNS: u16 = 8;
const PERSIST_CONNS: u16 = 9;
/// The 32-bit statistics nest of a destination (`IPVS_DEST_ATTR_STATS`).
pub const STATS: u16 = 10;
const ADDR_FAMILY: u16 = 11;
/// The 64-bit statistics nest of a destination (`IPVS_DEST_ATTR_STATS64`).
pub const STATS64: u16 = 12;
const TUN_TYPE: u16 = 13;
const TUN_PORT: u16 = 14;
const TUN_FLAGS: u16 = 15;

/// How packets reach a destination (`IP_VS_CONN_F_*` within `IP_VS_CONN_F_FWD_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForwardMethod {
    /// NAT (`-m`).
    Masquerade,
    /// Local node.
    Local,
    /// IP-in-IP tunnel (`-i`).
    Tunnel,
    /// Direct routing (`-g`).
    DirectRoute,
    /// Cache bypass.
    Bypass,
    /// Any other value.
    Other(u32),
}

impl From<ForwardMethod> for u32 {
    fn from(method: ForwardMethod) -> Self {
        match method {
            ForwardMethod::Masquerade => 0,
            ForwardMethod::Local => 1,
            ForwardMethod::Tunnel => 2,
            ForwardMethod::DirectRoute => 3,
            ForwardMethod::Bypass => 4,
            ForwardMethod::Other(raw) => raw,
        }
    }
}

impl From<u32> for ForwardMethod {
    fn from(raw: u32) -> Self {
        match raw {
            0 => Self::Masquerade,
            1 => Self::Local,
            2 => Self::Tunnel,
            3 => Self::DirectRoute,
            4 => Self::Bypass,
            other => Self::Other(other),
        }
    }
}

/// Encapsulation of a tunnelled destination (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TunnelType {
    /// IP in IP (the default).
    Ipip,
    /// Generic UDP encapsulation; needs a tunnel port.
    Gue,
    /// GRE.
    Gre,
    /// Any other value.
    Other(u8),
}

impl From<TunnelType> for u8 {
    fn from(kind: TunnelType) -> Self {
        match kind {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(raw) => raw,
        }
    }
}

impl From<u8> for TunnelType {
    fn from(raw: u8) -> Self {
        match raw {
            0 => Self::Ipip,
            1 => Self::Gue,
            2 => Self::Gre,
            other => Self::Other(other),
        }
    }
}

/// An attribute of a destination nest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestAttr {
    /// Real-server address (see [`InetAddr`]; its family is [`DestAttr::AddressFamily`], or the
    /// service's when absent).
    Address(InetAddr),
    /// Real-server port, host order here, network order on the wire.
    Port(u16),
    /// Forwarding method.
    ForwardMethod(ForwardMethod),
    /// Weight (the kernel's `int`; negative is refused).
    Weight(i32),
    /// Upper connection threshold (0 = none).
    UpperThreshold(u32),
    /// Lower connection threshold.
    LowerThreshold(u32),
    /// Active connections (only in replies).
    ActiveConns(u32),
    /// Inactive connections (only in replies).
    InactiveConns(u32),
    /// Persistent connection templates (only in replies).
    PersistentConns(u32),
    /// 32-bit statistics (only in replies).
    Stats(Vec<Stats32Attr>),
    /// Address family of the destination, which may differ from the service's (since 3.18).
    AddressFamily(u16),
    /// 64-bit statistics (only in replies).
    Stats64(Vec<Stats64Attr>),
    /// Tunnel encapsulation.
    TunnelType(TunnelType),
    /// Tunnel destination port (GUE), host order here, network order on the wire.
    TunnelPort(u16),
    /// Tunnel flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`), host order.
    TunnelFlags(u16),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Address(_) => InetAddr::LEN,
            Self::Port(_) | Self::AddressFamily(_) | Self::TunnelPort(_) | Self::TunnelFlags(_) => {
                2
            }
            Self::TunnelType(_) => 1,
            Self::ForwardMethod(_)
            | Self::Weight(_)
            | Self::UpperThreshold(_)
            | Self::LowerThreshold(_)
            | Self::ActiveConns(_)
            | Self::InactiveConns(_)
            | Self::PersistentConns(_) => 4,
            Self::Stats(attrs) => nest_len(attrs),
            Self::Stats64(attrs) => nest_len(attrs),
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Address(_) => ADDR,
            Self::Port(_) => PORT,
            Self::ForwardMethod(_) => FWD_METHOD,
            Self::Weight(_) => WEIGHT,
            Self::UpperThreshold(_) => U_THRESH,
            Self::LowerThreshold(_) => L_THRESH,
            Self::ActiveConns(_) => ACTIVE_CONNS,
            Self::InactiveConns(_) => INACT_CONNS,
            Self::PersistentConns(_) => PERSIST_CONNS,
            Self::Stats(_) => STATS,
            Self::AddressFamily(_) => ADDR_FAMILY,
            Self::Stats64(_) => STATS64,
            Self::TunnelType(_) => TUN_TYPE,
            Self::TunnelPort(_) => TUN_PORT,
            Self::TunnelFlags(_) => TUN_FLAGS,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Address(addr) => buffer[..InetAddr::LEN].copy_from_slice(&addr.0),
            Self::Port(v) | Self::TunnelPort(v) => buffer[..2].copy_from_slice(&v.to_be_bytes()),
            Self::AddressFamily(v) | Self::TunnelFlags(v) => {
                buffer[..2].copy_from_slice(&v.to_ne_bytes());
            }
            Self::TunnelType(t) => buffer[0] = u8::from(*t),
            Self::ForwardMethod(m) => buffer[..4].copy_from_slice(&u32::from(*m).to_ne_bytes()),
            Self::Weight(w) => buffer[..4].copy_from_slice(&w.to_ne_bytes()),
            Self::UpperThreshold(v)
            | Self::LowerThreshold(v)
            | Self::ActiveConns(v)
            | Self::InactiveConns(v)
            | Self::PersistentConns(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::Stats(attrs) => emit_nest(attrs, buffer),
            Self::Stats64(attrs) => emit_nest(attrs, buffer),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl DestAttr {
    /// Parses one attribute from its raw type (flag bits included) and value, as
    /// [`walk`](crate::walk) yields them; [`Parseable::parse`] is the same from an `NlaBuffer`.
    pub fn parse_value(raw_kind: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(match raw_kind & NLA_TYPE_MASK {
            ADDR => Self::Address(InetAddr::parse(payload).context("invalid IPVS_DEST_ATTR_ADDR")?),
            PORT => Self::Port(u16_be(payload).context("invalid IPVS_DEST_ATTR_PORT")?),
            FWD_METHOD => Self::ForwardMethod(
                u32_ne(payload)
                    .context("invalid IPVS_DEST_ATTR_FWD_METHOD")?
                    .into(),
            ),
            WEIGHT => Self::Weight(
                u32_ne(payload)
                    .context("invalid IPVS_DEST_ATTR_WEIGHT")?
                    .cast_signed(),
            ),
            U_THRESH => {
                Self::UpperThreshold(u32_ne(payload).context("invalid IPVS_DEST_ATTR_U_THRESH")?)
            }
            L_THRESH => {
                Self::LowerThreshold(u32_ne(payload).context("invalid IPVS_DEST_ATTR_L_THRESH")?)
            }
            ACTIVE_CONNS => {
                Self::ActiveConns(u32_ne(payload).context("invalid IPVS_DEST_ATTR_ACTIVE_CONNS")?)
            }
            INACT_CONNS => {
                Self::InactiveConns(u32_ne(payload).context("invalid IPVS_DEST_ATTR_INACT_CONNS")?)
            }
            PERSIST_CONNS => Self::PersistentConns(
                u32_ne(payload).context("invalid IPVS_DEST_ATTR_PERSIST_CONNS")?,
            ),
            STATS => Self::Stats(parse_nest(payload).context("invalid IPVS_DEST_ATTR_STATS")?),
            ADDR_FAMILY => {
                Self::AddressFamily(u16_ne(payload).context("invalid IPVS_DEST_ATTR_ADDR_FAMILY")?)
            }
            STATS64 => {
                Self::Stats64(parse_nest(payload).context("invalid IPVS_DEST_ATTR_STATS64")?)
            }
            TUN_TYPE => Self::TunnelType(
                u8_(payload)
                    .context("invalid IPVS_DEST_ATTR_TUN_TYPE")?
                    .into(),
            ),
            TUN_PORT => {
                Self::TunnelPort(u16_be(payload).context("invalid IPVS_DEST_ATTR_TUN_PORT")?)
            }
            TUN_FLAGS => {
                Self::TunnelFlags(u16_ne(payload).context("invalid IPVS_DEST_ATTR_TUN_FLAGS")?)
            }
            _ => Self::Other(DefaultNla::new(raw_kind, payload.to_vec())),
        })
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        Self::parse_value(crate::nest::raw_kind(buf), buf.value())
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::Emitable;

    use std::net::Ipv4Addr;

    use super::*;
    use crate::nest::assert_round_trip;

    #[test]
    fn every_destination_attribute_round_trips() {
        assert_round_trip(&[
            DestAttr::Address(InetAddr::from(Ipv4Addr::new(198, 51, 100, 2))),
            DestAttr::Port(443),
            DestAttr::ForwardMethod(ForwardMethod::Masquerade),
            DestAttr::ForwardMethod(ForwardMethod::Local),
            DestAttr::ForwardMethod(ForwardMethod::Tunnel),
            DestAttr::ForwardMethod(ForwardMethod::DirectRoute),
            DestAttr::ForwardMethod(ForwardMethod::Bypass),
            DestAttr::ForwardMethod(ForwardMethod::Other(7)),
            DestAttr::Weight(65535),
            DestAttr::Weight(-1),
            DestAttr::UpperThreshold(1000),
            DestAttr::LowerThreshold(10),
            DestAttr::ActiveConns(1),
            DestAttr::InactiveConns(2),
            DestAttr::PersistentConns(3),
            DestAttr::Stats(vec![Stats32Attr::OutPkts(9)]),
            DestAttr::AddressFamily(crate::AF_INET),
            DestAttr::Stats64(vec![Stats64Attr::InPkts(9)]),
            DestAttr::TunnelType(TunnelType::Ipip),
            DestAttr::TunnelType(TunnelType::Gue),
            DestAttr::TunnelType(TunnelType::Gre),
            DestAttr::TunnelType(TunnelType::Other(9)),
            DestAttr::TunnelPort(6080),
            DestAttr::TunnelFlags(crate::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM),
            DestAttr::Other(DefaultNla::new(16, vec![])),
        ]);
    }

    #[test]
    fn ports_are_big_endian() {
        for attr in [DestAttr::Port(0x1234), DestAttr::TunnelPort(0x1234)] {
            let mut buf = [0; 8];
            attr.emit(&mut buf);
            assert_eq!(&buf[4..6], &[0x12, 0x34], "{attr:?}");
        }
    }

    #[test]
    fn forward_methods_and_tunnel_types_keep_unknown_values() {
        for raw in 0..16u32 {
            assert_eq!(u32::from(ForwardMethod::from(raw)), raw);
        }
        for raw in 0..=u8::MAX {
            assert_eq!(u8::from(TunnelType::from(raw)), raw);
        }
    }
}
