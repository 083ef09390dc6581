//! An advertisement that owns its address list, for keeping beyond the receive buffer's life
//! (a state machine's configuration, a director's view of its peers).

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::vrrp::{AddressFamily, AddressList, Repr, VersionFields};

/// Addresses of one family, owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OwnedAddresses {
    /// IPv4 addresses.
    V4(Vec<Ipv4Addr>),
    /// IPv6 addresses.
    V6(Vec<Ipv6Addr>),
}

impl OwnedAddresses {
    /// Borrows them as a list for a [`Repr`].
    pub fn as_list(&self) -> AddressList<'_> {
        match self {
            Self::V4(list) => AddressList::ipv4(list),
            Self::V6(list) => AddressList::ipv6(list),
        }
    }

    /// Copies a list.
    pub fn from_list(list: &AddressList<'_>) -> Self {
        match list.family() {
            AddressFamily::Ipv4 => Self::V4(
                list.iter()
                    .filter_map(|a| match a {
                        IpAddr::V4(a) => Some(a),
                        IpAddr::V6(_) => None,
                    })
                    .collect(),
            ),
            AddressFamily::Ipv6 => Self::V6(
                list.iter()
                    .filter_map(|a| match a {
                        IpAddr::V6(a) => Some(a),
                        IpAddr::V4(_) => None,
                    })
                    .collect(),
            ),
        }
    }
}

/// A [`Repr`] that owns its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnedRepr {
    /// Virtual router ID.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Version and the fields that depend on it.
    pub version: VersionFields,
    /// The virtual addresses.
    pub addresses: OwnedAddresses,
}

impl OwnedRepr {
    /// Borrows it as a [`Repr`] to emit.
    pub fn as_repr(&self) -> Repr<'_> {
        Repr {
            vrid: self.vrid,
            priority: self.priority,
            version: self.version,
            addresses: self.addresses.as_list(),
        }
    }
}

impl From<&Repr<'_>> for OwnedRepr {
    fn from(repr: &Repr<'_>) -> Self {
        Self {
            vrid: repr.vrid,
            priority: repr.priority,
            version: repr.version,
            addresses: OwnedAddresses::from_list(&repr.addresses),
        }
    }
}
