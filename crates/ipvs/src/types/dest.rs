//! Destinations (real servers) of a service.

use std::net::SocketAddr;

use netlink_packet_core::NLA_TYPE_MASK;
use netlink_packet_ipvs::constants::{IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_STATS64};
use netlink_packet_ipvs::{DestAttr, InetAddr, walk};

use super::*;

/// A destination (real server) of a service.
///
/// Build one with [`Destination::new`] and the builder methods; the defaults are ipvsadm's
/// (direct routing, weight 1, no thresholds, IPIP tunnel settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Real-server address and port.
    pub addr: SocketAddr,
    /// Forwarding method.
    pub forward: ForwardMethod,
    /// Weight (0 = quiesced).
    pub weight: i32,
    /// Upper connection threshold (0 = none).
    pub upper_threshold: u32,
    /// Lower connection threshold (0 = none).
    pub lower_threshold: u32,
    /// Tunnel encapsulation (with the tunnel forwarding method).
    pub tunnel_type: TunnelType,
    /// Tunnel port (GUE).
    pub tunnel_port: u16,
    /// Tunnel flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
    pub tunnel_flags: u16,
    /// Active connections; reported by the kernel, ignored when sending.
    pub active_conns: u32,
    /// Inactive connections; reported by the kernel, ignored when sending.
    pub inactive_conns: u32,
    /// Persistent connection templates; reported by the kernel, ignored when sending.
    pub persistent_conns: u32,
    /// Counters; reported by the kernel, ignored when sending.
    pub stats: Stats,
}

impl Destination {
    /// A destination with ipvsadm's defaults (`-g -w 1`).
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            forward: ForwardMethod::DirectRoute,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel_type: TunnelType::Ipip,
            tunnel_port: 0,
            tunnel_flags: 0,
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats::default(),
        }
    }

    /// Sets the forwarding method.
    #[must_use]
    pub fn forward(mut self, method: ForwardMethod) -> Self {
        self.forward = method;
        self
    }

    /// Sets the weight.
    #[must_use]
    pub fn weight(mut self, weight: i32) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the upper and lower connection thresholds (`-x`, `-y`).
    #[must_use]
    pub fn thresholds(mut self, upper: u32, lower: u32) -> Self {
        self.upper_threshold = upper;
        self.lower_threshold = lower;
        self
    }

    /// Sets the tunnel type, port and flags (`--tun-type`, `--tun-port`, `--tun-*csum`).
    #[must_use]
    pub fn tunnel(mut self, kind: TunnelType, port: u16, flags: u16) -> Self {
        self.tunnel_type = kind;
        self.tunnel_port = port;
        self.tunnel_flags = flags;
        self
    }

    /// Whether two destinations have the same address and settings (counters aside).
    pub fn same_config(&self, other: &Self) -> bool {
        self.addr == other.addr
            && self.forward == other.forward
            && self.weight == other.weight
            && self.upper_threshold == other.upper_threshold
            && self.lower_threshold == other.lower_threshold
            && self.tunnel_type == other.tunnel_type
            && self.tunnel_port == other.tunnel_port
            && self.tunnel_flags == other.tunnel_flags
    }

    /// The address and port only, which is what `DEL_DEST` needs.
    pub(crate) fn key_attrs(addr: SocketAddr) -> Vec<DestAttr> {
        vec![
            DestAttr::AddressFamily(Family::of(addr.ip()).af()),
            DestAttr::Address(InetAddr::from(addr.ip())),
            DestAttr::Port(addr.port()),
        ]
    }

    /// The full destination nest for `NEW_DEST` / `SET_DEST`.
    pub(crate) fn attrs(&self) -> Vec<DestAttr> {
        let mut attrs = Self::key_attrs(self.addr);
        attrs.extend([
            DestAttr::ForwardMethod(self.forward),
            DestAttr::Weight(self.weight),
            DestAttr::UpperThreshold(self.upper_threshold),
            DestAttr::LowerThreshold(self.lower_threshold),
            DestAttr::TunnelType(self.tunnel_type),
            DestAttr::TunnelPort(self.tunnel_port),
            DestAttr::TunnelFlags(self.tunnel_flags),
        ]);
        attrs
    }

    /// Reads a parsed destination nest; `service_family` applies when the nest has no family.
    /// (Replies are read with [`Destination::from_nest`]; this is its reference in tests and
    /// in the `ipvs_fast_decode` fuzz target.)
    pub(crate) fn from_attrs(attrs: &[DestAttr], service_family: Family) -> Result<Self, String> {
        let mut reader = DestReader::new(service_family);
        attrs.iter().for_each(|attr| reader.take(attr));
        reader.finish()
    }

    /// Reads a destination nest straight from the wire, as [`Service::from_nest`] does: the same
    /// result as [`Destination::from_attrs`] of the parsed nest, without allocating.
    pub(crate) fn from_nest(payload: &[u8], service_family: Family) -> Result<Self, String> {
        let mut reader = DestReader::new(service_family);
        for attr in walk(payload) {
            let (kind, value) = attr.map_err(|e| e.to_string())?;
            match kind & NLA_TYPE_MASK {
                IPVS_DEST_ATTR_STATS => reader.stats32 = Some(Stats::from_32_nest(value)?),
                IPVS_DEST_ATTR_STATS64 => reader.stats64 = Some(Stats::from_64_nest(value)?),
                _ => reader.take(&DestAttr::parse_value(kind, value).map_err(|e| e.to_string())?),
            }
        }
        reader.finish()
    }
}

/// What a destination nest said so far, attribute by attribute.
struct DestReader {
    af: u16,
    addr: Option<InetAddr>,
    port: u16,
    dest: Destination,
    stats32: Option<Stats>,
    stats64: Option<Stats>,
}

impl DestReader {
    fn new(service_family: Family) -> Self {
        Self {
            af: service_family.af(),
            addr: None,
            port: 0,
            dest: Destination::new(SocketAddr::from(([0, 0, 0, 0], 0))),
            stats32: None,
            stats64: None,
        }
    }

    fn take(&mut self, attr: &DestAttr) {
        let dest = &mut self.dest;
        match attr {
            DestAttr::Address(v) => self.addr = Some(*v),
            DestAttr::Port(v) => self.port = *v,
            DestAttr::AddressFamily(v) => self.af = *v,
            DestAttr::ForwardMethod(v) => dest.forward = *v,
            DestAttr::Weight(v) => dest.weight = *v,
            DestAttr::UpperThreshold(v) => dest.upper_threshold = *v,
            DestAttr::LowerThreshold(v) => dest.lower_threshold = *v,
            DestAttr::ActiveConns(v) => dest.active_conns = *v,
            DestAttr::InactiveConns(v) => dest.inactive_conns = *v,
            DestAttr::PersistentConns(v) => dest.persistent_conns = *v,
            DestAttr::TunnelType(v) => dest.tunnel_type = *v,
            DestAttr::TunnelPort(v) => dest.tunnel_port = *v,
            DestAttr::TunnelFlags(v) => dest.tunnel_flags = *v,
            DestAttr::Stats(v) => self.stats32 = Some(Stats::from_32(v)),
            DestAttr::Stats64(v) => self.stats64 = Some(Stats::from_64(v)),
            _ => {}
        }
    }

    fn finish(self) -> Result<Destination, String> {
        let Self {
            af,
            addr,
            port,
            mut dest,
            stats32,
            stats64,
        } = self;
        let ip = addr
            .ok_or("destination without an address")?
            .to_ip(af)
            .ok_or_else(|| format!("destination address in unknown family {af}"))?;
        dest.addr = SocketAddr::new(ip, port);
        dest.stats = stats64.or(stats32).unwrap_or_default();
        Ok(dest)
    }
}
