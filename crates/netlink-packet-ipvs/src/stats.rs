//! The statistics nests (`IPVS_SVC_ATTR_STATS[64]`, `IPVS_DEST_ATTR_STATS[64]`).

use netlink_packet_core::{
    DecodeError, DefaultNla, ErrorContext, NLA_TYPE_MASK, Nla, NlaBuffer, Parseable,
};

use crate::nest::{u32_ne, u64_ne};

const CONNS: u16 = 1;
const INPKTS: u16 = 2;
const OUTPKTS: u16 = 3;
const INBYTES: u16 = 4;
const OUTBYTES: u16 = 5;
const CPS: u16 = 6;
const INPPS: u16 = 7;
const OUTPPS: u16 = 8;
const INBPS: u16 = 9;
const OUTBPS: u16 = 10;

/// An attribute of the old 32-bit statistics nest (`IPVS_*_ATTR_STATS`).
///
/// Trap: even in this "32-bit" nest the two byte counters are 64-bit (`struct ip_vs_stats_user`).
/// The kernel fills it by truncating its 64-bit counters; prefer [`Stats64Attr`] when present.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stats32Attr {
    /// Connections scheduled.
    Conns(u32),
    /// Incoming packets.
    InPkts(u32),
    /// Outgoing packets.
    OutPkts(u32),
    /// Incoming bytes (64-bit even here).
    InBytes(u64),
    /// Outgoing bytes (64-bit even here).
    OutBytes(u64),
    /// Current connection rate, per second.
    Cps(u32),
    /// Current incoming packet rate.
    InPps(u32),
    /// Current outgoing packet rate.
    OutPps(u32),
    /// Current incoming byte rate.
    InBps(u32),
    /// Current outgoing byte rate.
    OutBps(u32),
    /// Anything else, padding included, kept as is.
    Other(DefaultNla),
}

impl Nla for Stats32Attr {
    fn value_len(&self) -> usize {
        match self {
            Self::InBytes(_) | Self::OutBytes(_) => 8,
            Self::Other(nla) => nla.value_len(),
            _ => 4,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Conns(_) => CONNS,
            Self::InPkts(_) => INPKTS,
            Self::OutPkts(_) => OUTPKTS,
            Self::InBytes(_) => INBYTES,
            Self::OutBytes(_) => OUTBYTES,
            Self::Cps(_) => CPS,
            Self::InPps(_) => INPPS,
            Self::OutPps(_) => OUTPPS,
            Self::InBps(_) => INBPS,
            Self::OutBps(_) => OUTBPS,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Conns(v)
            | Self::InPkts(v)
            | Self::OutPkts(v)
            | Self::Cps(v)
            | Self::InPps(v)
            | Self::OutPps(v)
            | Self::InBps(v)
            | Self::OutBps(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::InBytes(v) | Self::OutBytes(v) => buffer[..8].copy_from_slice(&v.to_ne_bytes()),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl Stats32Attr {
    /// Parses one attribute from its raw type (flag bits included) and value, as
    /// [`walk`](crate::walk) yields them; [`Parseable::parse`] is the same from an `NlaBuffer`.
    pub fn parse_value(raw_kind: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        Ok(match raw_kind & NLA_TYPE_MASK {
            CONNS => Self::Conns(u32_ne(payload).context("invalid IPVS_STATS_ATTR_CONNS")?),
            INPKTS => Self::InPkts(u32_ne(payload).context("invalid IPVS_STATS_ATTR_INPKTS")?),
            OUTPKTS => Self::OutPkts(u32_ne(payload).context("invalid IPVS_STATS_ATTR_OUTPKTS")?),
            INBYTES => Self::InBytes(u64_ne(payload).context("invalid IPVS_STATS_ATTR_INBYTES")?),
            OUTBYTES => {
                Self::OutBytes(u64_ne(payload).context("invalid IPVS_STATS_ATTR_OUTBYTES")?)
            }
            CPS => Self::Cps(u32_ne(payload).context("invalid IPVS_STATS_ATTR_CPS")?),
            INPPS => Self::InPps(u32_ne(payload).context("invalid IPVS_STATS_ATTR_INPPS")?),
            OUTPPS => Self::OutPps(u32_ne(payload).context("invalid IPVS_STATS_ATTR_OUTPPS")?),
            INBPS => Self::InBps(u32_ne(payload).context("invalid IPVS_STATS_ATTR_INBPS")?),
            OUTBPS => Self::OutBps(u32_ne(payload).context("invalid IPVS_STATS_ATTR_OUTBPS")?),
            _ => Self::Other(DefaultNla::new(raw_kind, payload.to_vec())),
        })
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for Stats32Attr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        Self::parse_value(crate::nest::raw_kind(buf), buf.value())
    }
}

/// An attribute of the 64-bit statistics nest (`IPVS_*_ATTR_STATS64`): every counter is `u64`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stats64Attr {
    /// Connections scheduled.
    Conns(u64),
    /// Incoming packets.
    InPkts(u64),
    /// Outgoing packets.
    OutPkts(u64),
    /// Incoming bytes.
    InBytes(u64),
    /// Outgoing bytes.
    OutBytes(u64),
    /// Current connection rate, per second.
    Cps(u64),
    /// Current incoming packet rate.
    InPps(u64),
    /// Current outgoing packet rate.
    OutPps(u64),
    /// Current incoming byte rate.
    InBps(u64),
    /// Current outgoing byte rate.
    OutBps(u64),
    /// Anything else, padding included, kept as is.
    Other(DefaultNla),
}

impl Nla for Stats64Attr {
    fn value_len(&self) -> usize {
        match self {
            Self::Other(nla) => nla.value_len(),
            _ => 8,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Conns(_) => CONNS,
            Self::InPkts(_) => INPKTS,
            Self::OutPkts(_) => OUTPKTS,
            Self::InBytes(_) => INBYTES,
            Self::OutBytes(_) => OUTBYTES,
            Self::Cps(_) => CPS,
            Self::InPps(_) => INPPS,
            Self::OutPps(_) => OUTPPS,
            Self::InBps(_) => INBPS,
            Self::OutBps(_) => OUTBPS,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Conns(v)
            | Self::InPkts(v)
            | Self::OutPkts(v)
            | Self::InBytes(v)
            | Self::OutBytes(v)
            | Self::Cps(v)
            | Self::InPps(v)
            | Self::OutPps(v)
            | Self::InBps(v)
            | Self::OutBps(v) => buffer[..8].copy_from_slice(&v.to_ne_bytes()),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl Stats64Attr {
    /// Parses one attribute from its raw type (flag bits included) and value, as
    /// [`walk`](crate::walk) yields them; [`Parseable::parse`] is the same from an `NlaBuffer`.
    pub fn parse_value(raw_kind: u16, payload: &[u8]) -> Result<Self, DecodeError> {
        let value =
            |name: &str| u64_ne(payload).with_context(|| format!("invalid {name} (64-bit)"));
        Ok(match raw_kind & NLA_TYPE_MASK {
            CONNS => Self::Conns(value("IPVS_STATS_ATTR_CONNS")?),
            INPKTS => Self::InPkts(value("IPVS_STATS_ATTR_INPKTS")?),
            OUTPKTS => Self::OutPkts(value("IPVS_STATS_ATTR_OUTPKTS")?),
            INBYTES => Self::InBytes(value("IPVS_STATS_ATTR_INBYTES")?),
            OUTBYTES => Self::OutBytes(value("IPVS_STATS_ATTR_OUTBYTES")?),
            CPS => Self::Cps(value("IPVS_STATS_ATTR_CPS")?),
            INPPS => Self::InPps(value("IPVS_STATS_ATTR_INPPS")?),
            OUTPPS => Self::OutPps(value("IPVS_STATS_ATTR_OUTPPS")?),
            INBPS => Self::InBps(value("IPVS_STATS_ATTR_INBPS")?),
            OUTBPS => Self::OutBps(value("IPVS_STATS_ATTR_OUTBPS")?),
            _ => Self::Other(DefaultNla::new(raw_kind, payload.to_vec())),
        })
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for Stats64Attr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        Self::parse_value(crate::nest::raw_kind(buf), buf.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nest::assert_round_trip;

    #[test]
    fn every_stats32_attribute_round_trips_and_bytes_are_64_bit() {
        assert_round_trip(&[
            Stats32Attr::Conns(1),
            Stats32Attr::InPkts(2),
            Stats32Attr::OutPkts(3),
            Stats32Attr::InBytes(u64::MAX - 4),
            Stats32Attr::OutBytes(1 << 40),
            Stats32Attr::Cps(6),
            Stats32Attr::InPps(7),
            Stats32Attr::OutPps(8),
            Stats32Attr::InBps(9),
            Stats32Attr::OutBps(u32::MAX),
            Stats32Attr::Other(DefaultNla::new(11, vec![0; 4])),
        ]);
        assert_eq!(Stats32Attr::InBytes(0).value_len(), 8);
        assert_eq!(Stats32Attr::Conns(0).value_len(), 4);
    }

    #[test]
    fn every_stats64_attribute_round_trips() {
        assert_round_trip(&[
            Stats64Attr::Conns(u64::MAX),
            Stats64Attr::InPkts(2),
            Stats64Attr::OutPkts(3),
            Stats64Attr::InBytes(4),
            Stats64Attr::OutBytes(5),
            Stats64Attr::Cps(6),
            Stats64Attr::InPps(7),
            Stats64Attr::OutPps(8),
            Stats64Attr::InBps(9),
            Stats64Attr::OutBps(10),
            Stats64Attr::Other(DefaultNla::new(99, vec![1, 2, 3])),
        ]);
    }

    #[test]
    fn a_counter_of_the_wrong_width_is_an_error() {
        // CONNS with 8 bytes in the 32-bit nest.
        let bytes = [12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        let err = crate::nest::parse_nest::<Stats32Attr>(&bytes).unwrap_err();
        assert!(err.to_string().contains("IPVS_STATS_ATTR_CONNS"), "{err}");
    }
}
