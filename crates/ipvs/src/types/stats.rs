//! Traffic counters and rates, from either statistics nest.

use netlink_packet_ipvs::{Stats32Attr, Stats64Attr, walk};

/// Traffic counters and rates of a service or destination.
///
/// Filled from the 64-bit nest when the kernel sends it (3.18 and later), else from the 32-bit one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub in_pkts: u64,
    /// Outgoing packets.
    pub out_pkts: u64,
    /// Incoming bytes.
    pub in_bytes: u64,
    /// Outgoing bytes.
    pub out_bytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub in_pps: u64,
    /// Outgoing packets per second.
    pub out_pps: u64,
    /// Incoming bytes per second.
    pub in_bps: u64,
    /// Outgoing bytes per second.
    pub out_bps: u64,
}

impl Stats {
    pub(crate) fn from_32(attrs: &[Stats32Attr]) -> Self {
        let mut s = Self::default();
        attrs.iter().for_each(|attr| s.take_32(attr));
        s
    }

    pub(crate) fn from_64(attrs: &[Stats64Attr]) -> Self {
        let mut s = Self::default();
        attrs.iter().for_each(|attr| s.take_64(attr));
        s
    }

    /// Reads a 32-bit statistics nest straight from the wire, collecting nothing.
    pub(crate) fn from_32_nest(payload: &[u8]) -> Result<Self, String> {
        let mut s = Self::default();
        for attr in walk(payload) {
            let (kind, value) = attr.map_err(|e| e.to_string())?;
            s.take_32(&Stats32Attr::parse_value(kind, value).map_err(|e| e.to_string())?);
        }
        Ok(s)
    }

    /// Reads a 64-bit statistics nest straight from the wire, collecting nothing.
    pub(crate) fn from_64_nest(payload: &[u8]) -> Result<Self, String> {
        let mut s = Self::default();
        for attr in walk(payload) {
            let (kind, value) = attr.map_err(|e| e.to_string())?;
            s.take_64(&Stats64Attr::parse_value(kind, value).map_err(|e| e.to_string())?);
        }
        Ok(s)
    }

    fn take_32(&mut self, attr: &Stats32Attr) {
        let s = self;
        match *attr {
            Stats32Attr::Conns(v) => s.conns = v.into(),
            Stats32Attr::InPkts(v) => s.in_pkts = v.into(),
            Stats32Attr::OutPkts(v) => s.out_pkts = v.into(),
            Stats32Attr::InBytes(v) => s.in_bytes = v,
            Stats32Attr::OutBytes(v) => s.out_bytes = v,
            Stats32Attr::Cps(v) => s.cps = v.into(),
            Stats32Attr::InPps(v) => s.in_pps = v.into(),
            Stats32Attr::OutPps(v) => s.out_pps = v.into(),
            Stats32Attr::InBps(v) => s.in_bps = v.into(),
            Stats32Attr::OutBps(v) => s.out_bps = v.into(),
            _ => {}
        }
    }

    fn take_64(&mut self, attr: &Stats64Attr) {
        let s = self;
        match *attr {
            Stats64Attr::Conns(v) => s.conns = v,
            Stats64Attr::InPkts(v) => s.in_pkts = v,
            Stats64Attr::OutPkts(v) => s.out_pkts = v,
            Stats64Attr::InBytes(v) => s.in_bytes = v,
            Stats64Attr::OutBytes(v) => s.out_bytes = v,
            Stats64Attr::Cps(v) => s.cps = v,
            Stats64Attr::InPps(v) => s.in_pps = v,
            Stats64Attr::OutPps(v) => s.out_pps = v,
            Stats64Attr::InBps(v) => s.in_bps = v,
            Stats64Attr::OutBps(v) => s.out_bps = v,
            _ => {}
        }
    }
}
