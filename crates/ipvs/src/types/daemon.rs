//! Sync daemons, connection timeouts and the kernel's IPVS information.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_ipvs::DaemonAttr;

use super::*;

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
