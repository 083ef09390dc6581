//! What happens to a received packet before an instance sees it: keepalived's checks after the
//! codec's, and a counter for every reason a packet is dropped.

use vrrp_fsm::Version;
use vrrp_packet::recv::Received;
use vrrp_packet::{AuthType, VersionFields};

use crate::setup::InstanceSetup;

/// Why a received packet was dropped; every drop is counted under one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// TTL or hop limit not 255 (RFC 9568 §7.1: may come from off-link).
    BadTtl,
    /// The VRRP checksum matches no accepted form.
    BadChecksum,
    /// Not a well-formed advert (lengths, version field, type, IPv4 header).
    Malformed,
    /// No instance for this VRID and family on the receiving interface.
    UnknownVrid,
    /// The instance runs the other VRRP version.
    VersionMismatch,
    /// v2 authentication differs (type or `auth_pass`).
    AuthMismatch,
    /// v2 advert interval differs from the configured one (RFC 3768 §7.1).
    IntervalMismatch,
    /// The address list differs from the configured virtual addresses (keepalived drops these
    /// unless `skip_check_adv_addr`).
    AddressListMismatch,
    /// Our own advert came back.
    OwnAdvert,
    /// A unicast advert from a source that is no configured peer (`check_unicast_src`).
    UnknownPeer,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [Self; 10] = [
        Self::BadTtl,
        Self::BadChecksum,
        Self::Malformed,
        Self::UnknownVrid,
        Self::VersionMismatch,
        Self::AuthMismatch,
        Self::IntervalMismatch,
        Self::AddressListMismatch,
        Self::OwnAdvert,
        Self::UnknownPeer,
    ];

    /// A short name for logs and metrics.
    pub const fn name(self) -> &'static str {
        match self {
            Self::BadTtl => "bad_ttl",
            Self::BadChecksum => "bad_checksum",
            Self::Malformed => "malformed",
            Self::UnknownVrid => "unknown_vrid",
            Self::VersionMismatch => "version_mismatch",
            Self::AuthMismatch => "auth_mismatch",
            Self::IntervalMismatch => "interval_mismatch",
            Self::AddressListMismatch => "address_list_mismatch",
            Self::OwnAdvert => "own_advert",
            Self::UnknownPeer => "unknown_peer",
        }
    }

    fn slot(self) -> usize {
        Self::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }

    pub(super) fn of(error: &vrrp_packet::Error) -> Self {
        match error {
            vrrp_packet::Error::BadTtl(_) => Self::BadTtl,
            vrrp_packet::Error::BadChecksum { .. } => Self::BadChecksum,
            _ => Self::Malformed,
        }
    }
}

/// Packet counters: received, and dropped by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets handed to the core.
    pub received: u64,
    /// Adverts handed to an instance.
    pub accepted: u64,
    dropped: [u64; DropReason::ALL.len()],
}

impl Counters {
    /// Packets dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.slot()]
    }

    /// Packets dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    pub(super) fn drop(&mut self, reason: DropReason) {
        self.dropped[reason.slot()] += 1;
    }
}

/// keepalived's receive checks after the codec's: version, authentication, interval, address
/// list, loops and peers.
pub(super) fn check(inst: &InstanceSetup, received: &Received<'_>) -> Option<DropReason> {
    let repr = &received.vrrp;
    let fsm = &inst.fsm;
    if received.src == fsm.primary_address {
        return Some(DropReason::OwnAdvert);
    }
    if inst.check_unicast_src && !inst.destinations.contains(&received.src) {
        return Some(DropReason::UnknownPeer);
    }
    match (repr.version, fsm.version) {
        (
            VersionFields::V2 {
                advert_interval_s,
                auth_type,
                auth_data,
            },
            Version::V2,
        ) => {
            let auth_ok = match inst.wire.auth {
                Some(data) => auth_type == AuthType::SimpleText && auth_data == data,
                None => auth_type == AuthType::None,
            };
            if !auth_ok {
                return Some(DropReason::AuthMismatch);
            }
            if u16::from(advert_interval_s) * 100 != fsm.advert_interval_cs {
                return Some(DropReason::IntervalMismatch);
            }
        }
        (VersionFields::V3 { .. }, Version::V3) => {
            if received.src.is_ipv4() && !inst.accept_checksums.contains(received.checksum_mode) {
                return Some(DropReason::BadChecksum);
            }
        }
        _ => return Some(DropReason::VersionMismatch),
    }
    // A leaving master's priority 0 is honoured whatever it carries.
    if repr.priority != 0 {
        let count = repr.addresses.len();
        let same = count == fsm.addresses.len()
            && repr.addresses.iter().all(|a| fsm.addresses.contains(&a));
        if !same {
            return Some(DropReason::AddressListMismatch);
        }
    }
    None
}
