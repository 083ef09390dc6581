//! The typed view of the IPVS table: services, destinations, statistics, daemons, timeouts.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use netlink_packet_core::NLA_TYPE_MASK;
use netlink_packet_ipvs::constants::{
    IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_STATS64, IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64,
};
use netlink_packet_ipvs::{
    AF_INET, AF_INET6, DaemonAttr, DestAttr, IP_VS_SVC_F_HASHED, IP_VS_SVC_F_ONEPACKET,
    IP_VS_SVC_F_PERSISTENT, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, InetAddr, ServiceAttr,
    ServiceFlags, Stats32Attr, Stats64Attr, walk,
};

pub use netlink_packet_ipvs::{DaemonState, ForwardMethod, Netmask, TunnelType};

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
        if ip.is_ipv4() { Self::V4 } else { Self::V6 }
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
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
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

/// A virtual service: its key and its settings, plus what the kernel reports about it.
///
/// Build one with [`Service::tcp`], [`Service::udp`], [`Service::sctp`] or [`Service::fwmark`] and
/// the builder methods; the defaults are ipvsadm's (`wlc`, not persistent, full netmask).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// What identifies the service.
    pub key: ServiceKey,
    /// Scheduler name (`rr`, `wlc`, `sh`, ...).
    pub scheduler: String,
    /// `IP_VS_SVC_F_*` flags except the kernel-owned `HASHED` bit.
    pub flags: u32,
    /// Persistence timeout in seconds (meaningful with the persistent flag).
    pub timeout: u32,
    /// Persistence netmask as the kernel keeps it: an IPv4 mask, which need not be contiguous
    /// (`-M 255.0.255.0` is legal), or an IPv6 prefix length. The default is one client address
    /// (255.255.255.255 / 128).
    pub netmask: Netmask,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
    /// Counters; ignored when sending and when the reconciler compares services.
    pub stats: Stats,
}

impl Service {
    /// A service with ipvsadm's defaults.
    pub fn new(key: ServiceKey) -> Self {
        Self {
            netmask: Netmask::from_prefix(key.family().af(), key.family().max_prefix()),
            key,
            scheduler: "wlc".to_owned(),
            flags: 0,
            timeout: 0,
            pe_name: None,
            stats: Stats::default(),
        }
    }

    /// A TCP service at `addr`.
    pub fn tcp(addr: SocketAddr) -> Self {
        Self::new(ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr,
        })
    }

    /// A UDP service at `addr`.
    pub fn udp(addr: SocketAddr) -> Self {
        Self::new(ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr,
        })
    }

    /// An SCTP service at `addr`.
    pub fn sctp(addr: SocketAddr) -> Self {
        Self::new(ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr,
        })
    }

    /// A firewall-mark service.
    pub fn fwmark(family: Family, mark: u32) -> Self {
        Self::new(ServiceKey::Fwmark { family, mark })
    }

    /// Sets the scheduler.
    #[must_use]
    pub fn scheduler(mut self, name: impl Into<String>) -> Self {
        self.scheduler = name.into();
        self
    }

    /// Makes the service persistent for `timeout` seconds (`-p`).
    #[must_use]
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags |= IP_VS_SVC_F_PERSISTENT;
        self.timeout = timeout;
        self
    }

    /// Sets the persistence netmask as a prefix length (`-M 24` for IPv6; for IPv4 the
    /// contiguous mask of that length).
    #[must_use]
    pub fn netmask(mut self, prefix: u8) -> Self {
        self.netmask = Netmask::from_prefix(self.key.family().af(), prefix);
        self
    }

    /// Sets an IPv4 persistence mask as is, contiguous or not (`-M 255.0.255.0`).
    #[must_use]
    pub fn netmask_v4(mut self, mask: Ipv4Addr) -> Self {
        self.netmask = Netmask::from_v4_mask(mask);
        self
    }

    /// Turns one-packet scheduling on or off (`-o`).
    #[must_use]
    pub fn one_packet(mut self, on: bool) -> Self {
        if on {
            self.flags |= IP_VS_SVC_F_ONEPACKET;
        } else {
            self.flags &= !IP_VS_SVC_F_ONEPACKET;
        }
        self
    }

    /// Sets the raw flags (`IP_VS_SVC_F_*`, `-b` scheduler flags included).
    #[must_use]
    pub fn flags(mut self, flags: u32) -> Self {
        self.flags = flags & !IP_VS_SVC_F_HASHED;
        self
    }

    /// Sets the persistence engine (`--pe`).
    #[must_use]
    pub fn pe_name(mut self, name: impl Into<String>) -> Self {
        self.pe_name = Some(name.into());
        self
    }

    /// Whether the persistent flag is set.
    pub fn is_persistent(&self) -> bool {
        self.flags & IP_VS_SVC_F_PERSISTENT != 0
    }

    /// Whether two services have the same key and settings (statistics aside).
    pub fn same_config(&self, other: &Self) -> bool {
        self.key == other.key
            && self.scheduler == other.scheduler
            && self.flags == other.flags
            && self.timeout == other.timeout
            && self.netmask == other.netmask
            && self.pe_name.as_deref().unwrap_or("") == other.pe_name.as_deref().unwrap_or("")
    }

    /// The full service nest for `NEW_SERVICE` / `SET_SERVICE`.
    pub(crate) fn attrs(&self) -> Vec<ServiceAttr> {
        let mut attrs = self.key.attrs();
        attrs.push(ServiceAttr::Scheduler(self.scheduler.clone()));
        attrs.push(ServiceAttr::Flags(ServiceFlags {
            flags: self.flags & !IP_VS_SVC_F_HASHED,
            mask: !IP_VS_SVC_F_HASHED,
        }));
        attrs.push(ServiceAttr::Timeout(self.timeout));
        attrs.push(ServiceAttr::Netmask(self.netmask));
        // An empty name clears the engine on SET_SERVICE.
        attrs.push(ServiceAttr::PersistenceEngine(
            self.pe_name.clone().unwrap_or_default(),
        ));
        attrs
    }

    /// Reads a service nest from a reply.
    pub(crate) fn from_attrs(attrs: &[ServiceAttr]) -> Result<Self, String> {
        let mut reader = ServiceReader::default();
        attrs.iter().for_each(|attr| reader.take(attr));
        reader.finish()
    }

    /// Reads a service nest straight from the wire: the attributes one at a time, the statistics
    /// nests without collecting them. The same result as [`Service::from_attrs`] of the parsed
    /// nest, with one allocation (the scheduler name) instead of a dozen.
    pub(crate) fn from_nest(payload: &[u8]) -> Result<Self, String> {
        let mut reader = ServiceReader::default();
        for attr in walk(payload) {
            let (kind, value) = attr.map_err(|e| e.to_string())?;
            match kind & NLA_TYPE_MASK {
                IPVS_SVC_ATTR_STATS => reader.stats32 = Some(Stats::from_32_nest(value)?),
                IPVS_SVC_ATTR_STATS64 => reader.stats64 = Some(Stats::from_64_nest(value)?),
                _ => {
                    reader.take(&ServiceAttr::parse_value(kind, value).map_err(|e| e.to_string())?)
                }
            }
        }
        reader.finish()
    }
}

/// What a service nest said so far, attribute by attribute.
#[derive(Default)]
struct ServiceReader {
    af: Option<u16>,
    protocol: Option<u16>,
    addr: Option<InetAddr>,
    port: Option<u16>,
    fwmark: Option<u32>,
    scheduler: Option<String>,
    flags: u32,
    timeout: u32,
    netmask: Option<Netmask>,
    pe_name: Option<String>,
    stats32: Option<Stats>,
    stats64: Option<Stats>,
}

impl ServiceReader {
    fn take(&mut self, attr: &ServiceAttr) {
        match attr {
            ServiceAttr::AddressFamily(v) => self.af = Some(*v),
            ServiceAttr::Protocol(v) => self.protocol = Some(*v),
            ServiceAttr::Address(v) => self.addr = Some(*v),
            ServiceAttr::Port(v) => self.port = Some(*v),
            ServiceAttr::Fwmark(v) => self.fwmark = Some(*v),
            ServiceAttr::Scheduler(v) => self.scheduler = Some(v.clone()),
            ServiceAttr::Flags(f) => self.flags = f.flags & !IP_VS_SVC_F_HASHED,
            ServiceAttr::Timeout(v) => self.timeout = *v,
            ServiceAttr::Netmask(v) => self.netmask = Some(*v),
            ServiceAttr::PersistenceEngine(v) => self.pe_name = Some(v.clone()),
            ServiceAttr::Stats(v) => self.stats32 = Some(Stats::from_32(v)),
            ServiceAttr::Stats64(v) => self.stats64 = Some(Stats::from_64(v)),
            _ => {}
        }
    }

    fn finish(self) -> Result<Service, String> {
        let Self {
            af,
            protocol,
            addr,
            port,
            fwmark,
            scheduler,
            flags,
            timeout,
            netmask,
            pe_name,
            stats32,
            stats64,
        } = self;
        let af = af.ok_or("service without an address family")?;
        let family = Family::from_af(af).ok_or_else(|| format!("unknown address family {af}"))?;
        let key = match fwmark {
            Some(mark) if mark != 0 => ServiceKey::Fwmark { family, mark },
            _ => {
                let number = protocol.ok_or("service without a protocol or fwmark")?;
                let protocol = Protocol::from_number(number)
                    .ok_or_else(|| format!("unknown service protocol {number}"))?;
                let ip = addr
                    .ok_or("service without an address")?
                    .to_ip(af)
                    .ok_or("service address in an unknown family")?;
                ServiceKey::Addr {
                    protocol,
                    addr: SocketAddr::new(ip, port.unwrap_or(0)),
                }
            }
        };
        let netmask = netmask.unwrap_or_else(|| Netmask::from_prefix(af, family.max_prefix()));
        Ok(Service {
            key,
            scheduler: scheduler.unwrap_or_default(),
            flags,
            timeout,
            netmask,
            pe_name: pe_name.filter(|name| !name.is_empty()),
            stats: stats64.or(stats32).unwrap_or_default(),
        })
    }
}

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

/// A connection-synchronisation daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Daemon {
    /// Master (sends) or backup (receives).
    pub state: DaemonState,
    /// Multicast interface.
    pub interface: String,
    /// Sync id.
    pub sync_id: u32,
    /// Maximum sync message payload; `None` = kernel default.
    pub max_len: Option<u16>,
    /// Multicast group; `None` = kernel default (224.0.0.81).
    pub group: Option<IpAddr>,
    /// Multicast port; `None` = kernel default (8848).
    pub port: Option<u16>,
    /// Multicast TTL; `None` = kernel default (1).
    pub ttl: Option<u8>,
}

impl Daemon {
    /// A daemon on `interface` with sync id 0 and kernel defaults.
    pub fn new(state: DaemonState, interface: impl Into<String>) -> Self {
        Self {
            state,
            interface: interface.into(),
            sync_id: 0,
            max_len: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// Sets the sync id.
    #[must_use]
    pub fn sync_id(mut self, id: u32) -> Self {
        self.sync_id = id;
        self
    }

    /// Sets the maximum sync message payload.
    #[must_use]
    pub fn max_len(mut self, len: u16) -> Self {
        self.max_len = Some(len);
        self
    }

    /// Sets the multicast group.
    #[must_use]
    pub fn group(mut self, group: IpAddr) -> Self {
        self.group = Some(group);
        self
    }

    /// Sets the multicast port.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the multicast TTL.
    #[must_use]
    pub fn ttl(mut self, ttl: u8) -> Self {
        self.ttl = Some(ttl);
        self
    }

    pub(crate) fn attrs(&self) -> Vec<DaemonAttr> {
        let mut attrs = vec![
            DaemonAttr::State(self.state),
            DaemonAttr::McastInterface(self.interface.clone()),
            DaemonAttr::SyncId(self.sync_id),
        ];
        if let Some(len) = self.max_len {
            attrs.push(DaemonAttr::SyncMaxLen(len));
        }
        match self.group {
            Some(IpAddr::V4(g)) => attrs.push(DaemonAttr::McastGroup(g)),
            Some(IpAddr::V6(g)) => attrs.push(DaemonAttr::McastGroup6(g)),
            None => {}
        }
        if let Some(port) = self.port {
            attrs.push(DaemonAttr::McastPort(port));
        }
        if let Some(ttl) = self.ttl {
            attrs.push(DaemonAttr::McastTtl(ttl));
        }
        attrs
    }

    pub(crate) fn from_attrs(attrs: &[DaemonAttr]) -> Self {
        let mut daemon = Self::new(DaemonState::Other(0), "");
        for attr in attrs {
            match attr {
                DaemonAttr::State(v) => daemon.state = *v,
                DaemonAttr::McastInterface(v) => daemon.interface = v.clone(),
                DaemonAttr::SyncId(v) => daemon.sync_id = *v,
                DaemonAttr::SyncMaxLen(v) => daemon.max_len = Some(*v),
                DaemonAttr::McastGroup(v) if *v != Ipv4Addr::UNSPECIFIED => {
                    daemon.group = Some(IpAddr::V4(*v));
                }
                DaemonAttr::McastGroup6(v) if *v != Ipv6Addr::UNSPECIFIED => {
                    daemon.group = Some(IpAddr::V6(*v));
                }
                DaemonAttr::McastPort(v) => daemon.port = Some(*v),
                DaemonAttr::McastTtl(v) => daemon.ttl = Some(*v),
                _ => {}
            }
        }
        daemon
    }
}

/// Connection timeouts in seconds; on set, 0 leaves a value unchanged (`--set tcp tcpfin udp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after a FIN.
    pub tcp_fin: u32,
    /// UDP "connections".
    pub udp: u32,
}

/// General information about the kernel's IPVS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Version as the kernel encodes it (`0x010201` = 1.2.1).
    pub version: u32,
    /// Size of the connection hash table.
    pub conn_table_size: u32,
}

impl Info {
    /// The version as `major.minor.patch`.
    pub fn version_string(&self) -> String {
        let v = self.version;
        format!("{}.{}.{}", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::{DefaultNla, Emitable, NlasIterator, Parseable};

    use super::*;

    fn stats32(base: u32) -> Vec<Stats32Attr> {
        vec![
            Stats32Attr::Conns(base),
            Stats32Attr::InPkts(base + 1),
            Stats32Attr::OutPkts(base + 2),
            Stats32Attr::InBytes(u64::from(base) << 33),
            Stats32Attr::OutBytes(u64::from(base) + 4),
            Stats32Attr::Cps(base + 5),
            Stats32Attr::InPps(base + 6),
            Stats32Attr::OutPps(base + 7),
            Stats32Attr::InBps(base + 8),
            Stats32Attr::OutBps(base + 9),
            Stats32Attr::Other(DefaultNla::new(11, vec![0; 4])),
        ]
    }

    fn stats64(base: u64) -> Vec<Stats64Attr> {
        vec![
            Stats64Attr::Conns(base),
            Stats64Attr::InPkts(base << 40),
            Stats64Attr::OutPkts(base + 2),
            Stats64Attr::InBytes(base + 3),
            Stats64Attr::OutBytes(base + 4),
            Stats64Attr::Cps(base + 5),
            Stats64Attr::InPps(base + 6),
            Stats64Attr::OutPps(base + 7),
            Stats64Attr::InBps(base + 8),
            Stats64Attr::OutBps(base + 9),
        ]
    }

    fn wire<T: netlink_packet_core::Nla>(attrs: &[T]) -> Vec<u8> {
        let mut buf = vec![0; attrs.buffer_len()];
        attrs.emit(&mut buf);
        buf
    }

    fn parse_all<T>(buf: &[u8]) -> Vec<T>
    where
        T: for<'a> Parseable<netlink_packet_core::NlaBuffer<&'a [u8]>>,
    {
        NlasIterator::new(buf)
            .map(|nla| T::parse(&nla.unwrap()).unwrap())
            .collect()
    }

    /// Destination nests as the kernel sends them, and with the odd cases: no 64-bit stats,
    /// an IPv6 address with its own family, unknown attributes, attributes out of order.
    fn dest_nests() -> Vec<Vec<DestAttr>> {
        let v4 = InetAddr::from(IpAddr::from([198, 51, 100, 7]));
        let v6 = InetAddr::from(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 9]));
        vec![
            vec![
                DestAttr::Address(v4),
                DestAttr::Port(8080),
                DestAttr::ForwardMethod(ForwardMethod::Masquerade),
                DestAttr::Weight(3),
                DestAttr::UpperThreshold(100),
                DestAttr::LowerThreshold(10),
                DestAttr::ActiveConns(5),
                DestAttr::InactiveConns(6),
                DestAttr::PersistentConns(7),
                DestAttr::Stats(stats32(20)),
                DestAttr::AddressFamily(AF_INET),
                DestAttr::Stats64(stats64(40)),
                DestAttr::TunnelType(TunnelType::Gue),
                DestAttr::TunnelPort(6080),
                DestAttr::TunnelFlags(3),
            ],
            vec![
                DestAttr::Stats(stats32(1)),
                DestAttr::Weight(-1),
                DestAttr::Address(v6),
                DestAttr::AddressFamily(AF_INET6),
                DestAttr::Other(DefaultNla::new(99, vec![1, 2, 3])),
                DestAttr::Port(443),
            ],
            vec![DestAttr::Address(v4)],
        ]
    }

    #[test]
    fn a_destination_read_from_the_wire_equals_the_parsed_one() {
        for nest in dest_nests() {
            let buf = wire(&nest);
            let reference = Destination::from_attrs(&parse_all::<DestAttr>(&buf), Family::V4);
            let fast = Destination::from_nest(&buf, Family::V4);
            assert_eq!(fast, reference, "{nest:?}");
            assert!(fast.is_ok());
        }
        // 64-bit statistics win over 32-bit ones, whatever their order.
        let d = Destination::from_nest(&wire(&dest_nests()[0]), Family::V4).unwrap();
        assert_eq!(d.stats.in_pkts, 40 << 40);
        let d = Destination::from_nest(&wire(&dest_nests()[1]), Family::V4).unwrap();
        assert_eq!(d.stats.in_bytes, 1 << 33);
        assert_eq!(d.addr, "[2001:db8::9]:443".parse().unwrap());
    }

    #[test]
    fn a_service_read_from_the_wire_equals_the_parsed_one() {
        let nests = vec![
            vec![
                ServiceAttr::AddressFamily(AF_INET),
                ServiceAttr::Protocol(IPPROTO_TCP),
                ServiceAttr::Address(InetAddr::from(IpAddr::from([192, 0, 2, 1]))),
                ServiceAttr::Port(80),
                ServiceAttr::Scheduler("wlc".into()),
                ServiceAttr::Flags(ServiceFlags {
                    flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED,
                    mask: u32::MAX,
                }),
                ServiceAttr::Timeout(300),
                ServiceAttr::Netmask(Netmask::from_prefix(AF_INET, 24)),
                ServiceAttr::Stats(stats32(3)),
                ServiceAttr::PersistenceEngine("sip".into()),
                ServiceAttr::Stats64(stats64(9)),
            ],
            vec![
                ServiceAttr::Stats64(stats64(1)),
                ServiceAttr::Fwmark(7),
                ServiceAttr::AddressFamily(AF_INET6),
                ServiceAttr::Other(DefaultNla::new(42, vec![0; 8])),
                ServiceAttr::Scheduler("mh".into()),
            ],
        ];
        for nest in nests {
            let buf = wire(&nest);
            let reference = Service::from_attrs(&parse_all::<ServiceAttr>(&buf));
            let fast = Service::from_nest(&buf);
            assert_eq!(fast, reference, "{nest:?}");
            assert!(fast.is_ok());
        }
    }

    #[test]
    fn malformed_nests_are_errors_on_both_paths() {
        let mut buf = wire(&dest_nests()[0]);
        // Cut inside the active-connections attribute: its length now overruns the buffer.
        buf.truncate(66);
        assert!(Destination::from_nest(&buf, Family::V4).is_err());
        // A statistics nest whose inner attribute is too short for its type.
        let bad = [
            12u8, 0, 10, 0, // STATS nest, 8 bytes of value
            8, 0, 4, 0, 1, 2, 3, 4, // INBYTES (u64) with 4 bytes
        ];
        assert!(Destination::from_nest(&bad, Family::V4).is_err());
        assert!(Service::from_nest(&bad).is_err());
        // No address at all.
        assert!(Destination::from_nest(&wire(&[DestAttr::Port(1)]), Family::V4).is_err());
    }
}
