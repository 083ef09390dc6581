//! Virtual services: the settings a caller builds and what the kernel reports.

use std::net::{Ipv4Addr, SocketAddr};

use netlink_packet_core::NLA_TYPE_MASK;
use netlink_packet_ipvs::constants::{IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64};
use netlink_packet_ipvs::{
    IP_VS_SVC_F_HASHED, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, InetAddr, ServiceAttr,
    ServiceFlags, walk,
};

use super::*;

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
