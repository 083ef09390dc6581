//! The service nest (`IPVS_CMD_ATTR_SERVICE`).

use netlink_packet_core::{DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable};

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
const STATS: u16 = 10;
const PE_NAME: u16 = 11;
const STATS64: u16 = 12;

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

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for ServiceAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
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
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS service attribute")?),
        })
    }
}
