//! The sync-daemon nest (`IPVS_CMD_ATTR_DAEMON`).

use std::net::{Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DecodeError, DefaultNla, ErrorContext, Nla, NlaBuffer, Parseable};

use crate::nest::{array, emit_nul_string, nul_string, nul_string_len, u8_, u16_ne, u32_ne};

const STATE: u16 = 1;
const MCAST_IFN: u16 = 2;
const SYNC_ID: u16 = 3;
const SYNC_MAXLEN: u16 = 4;
const MCAST_GROUP: u16 = 5;
const MCAST_GROUP6: u16 = 6;
const MCAST_PORT: u16 = 7;
const MCAST_TTL: u16 = 8;

/// Which side of connection synchronisation a daemon plays (`IP_VS_STATE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DaemonState {
    /// Sends connection state.
    Master,
    /// Receives connection state.
    Backup,
    /// Any other value (`IP_VS_STATE_NONE` is 0).
    Other(u32),
}

impl From<DaemonState> for u32 {
    fn from(state: DaemonState) -> Self {
        match state {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
            DaemonState::Other(raw) => raw,
        }
    }
}

impl From<u32> for DaemonState {
    fn from(raw: u32) -> Self {
        match raw {
            1 => Self::Master,
            2 => Self::Backup,
            other => Self::Other(other),
        }
    }
}

/// An attribute of a sync-daemon nest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonAttr {
    /// Master or backup.
    State(DaemonState),
    /// Multicast interface name, sent NUL-terminated.
    McastInterface(String),
    /// Sync id (0..=255 in practice).
    SyncId(u32),
    /// Maximum UDP payload of a sync message.
    SyncMaxLen(u16),
    /// IPv4 multicast group.
    McastGroup(Ipv4Addr),
    /// IPv6 multicast group.
    McastGroup6(Ipv6Addr),
    /// Multicast port. Unlike every other port of the family it travels in host order (the
    /// kernel uses `nla_get_u16`/`nla_put_u16`; a capture of a 6.1 dump proves it).
    McastPort(u16),
    /// Multicast TTL.
    McastTtl(u8),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::State(_) | Self::SyncId(_) | Self::McastGroup(_) => 4,
            Self::McastInterface(s) => nul_string_len(s),
            Self::SyncMaxLen(_) | Self::McastPort(_) => 2,
            Self::McastGroup6(_) => 16,
            Self::McastTtl(_) => 1,
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::State(_) => STATE,
            Self::McastInterface(_) => MCAST_IFN,
            Self::SyncId(_) => SYNC_ID,
            Self::SyncMaxLen(_) => SYNC_MAXLEN,
            Self::McastGroup(_) => MCAST_GROUP,
            Self::McastGroup6(_) => MCAST_GROUP6,
            Self::McastPort(_) => MCAST_PORT,
            Self::McastTtl(_) => MCAST_TTL,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::State(s) => buffer[..4].copy_from_slice(&u32::from(*s).to_ne_bytes()),
            Self::McastInterface(s) => emit_nul_string(s, buffer),
            Self::SyncId(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::SyncMaxLen(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            Self::McastGroup(ip) => buffer[..4].copy_from_slice(&ip.octets()),
            Self::McastGroup6(ip) => buffer[..16].copy_from_slice(&ip.octets()),
            Self::McastPort(v) => buffer[..2].copy_from_slice(&v.to_ne_bytes()),
            Self::McastTtl(v) => buffer[0] = *v,
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match buf.kind() {
            STATE => Self::State(
                u32_ne(payload)
                    .context("invalid IPVS_DAEMON_ATTR_STATE")?
                    .into(),
            ),
            MCAST_IFN => Self::McastInterface(
                nul_string(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_IFN")?,
            ),
            SYNC_ID => Self::SyncId(u32_ne(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_ID")?),
            SYNC_MAXLEN => {
                Self::SyncMaxLen(u16_ne(payload).context("invalid IPVS_DAEMON_ATTR_SYNC_MAXLEN")?)
            }
            MCAST_GROUP => Self::McastGroup(Ipv4Addr::from(
                array::<4>(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP")?,
            )),
            MCAST_GROUP6 => Self::McastGroup6(Ipv6Addr::from(
                array::<16>(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_GROUP6")?,
            )),
            MCAST_PORT => {
                Self::McastPort(u16_ne(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_PORT")?)
            }
            MCAST_TTL => {
                Self::McastTtl(u8_(payload).context("invalid IPVS_DAEMON_ATTR_MCAST_TTL")?)
            }
            _ => Self::Other(DefaultNla::parse(buf).context("invalid IPVS daemon attribute")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_core::Emitable;

    use super::*;
    use crate::nest::assert_round_trip;

    #[test]
    fn every_daemon_attribute_round_trips() {
        assert_round_trip(&[
            DaemonAttr::State(DaemonState::Master),
            DaemonAttr::State(DaemonState::Backup),
            DaemonAttr::State(DaemonState::Other(0)),
            DaemonAttr::McastInterface("eth0".into()),
            DaemonAttr::SyncId(255),
            DaemonAttr::SyncMaxLen(1472),
            DaemonAttr::McastGroup(Ipv4Addr::new(224, 0, 0, 81)),
            DaemonAttr::McastGroup6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12)),
            DaemonAttr::McastPort(8848),
            DaemonAttr::McastTtl(1),
            DaemonAttr::Other(DefaultNla::new(9, vec![1])),
        ]);
    }

    #[test]
    fn the_multicast_port_is_host_order_unlike_the_other_ports() {
        let mut buf = [0; 8];
        DaemonAttr::McastPort(8848).emit(&mut buf);
        assert_eq!(&buf[4..6], &8848u16.to_ne_bytes());
    }
}
