//! The crate's one error type.

use std::net::IpAddr;
use std::time::Duration;

use crate::{Family, InterfaceId, TrackerId, Version};

/// Why a configuration (or a change to one, or a routing entry) was refused.
///
/// Every check happens when the value is handed over ([`Instance::new`](crate::Instance::new),
/// [`Input::Reconfigure`](crate::Input::Reconfigure), [`Demux::insert`](crate::Demux::insert),
/// [`SyncGroup::new`](crate::SyncGroup::new)), so a running machine never meets a bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// VRID 0 is reserved.
    #[error("VRID must be 1..=255, found 0")]
    VridZero,
    /// Priority 0 is reserved for "master is leaving".
    #[error(
        "priority must be 1..=255 in a configuration, found 0 (0 is the leaving-master signal)"
    )]
    PriorityZero,
    /// An interval of 0 would advertise in a busy loop.
    #[error("advertisement interval must be at least 1, found 0")]
    AdvertIntervalZero,
    /// The interval does not fit the version's field.
    #[error(
        "advertisement interval {centiseconds} cs is out of range for {version:?} (at most {max} cs)"
    )]
    AdvertIntervalOutOfRange {
        /// The configured version.
        version: Version,
        /// The configured interval.
        centiseconds: u16,
        /// The largest interval the version carries.
        max: u16,
    },
    /// VRRPv2 carries whole seconds.
    #[error("VRRPv2 needs an interval in whole seconds, found {centiseconds} cs")]
    AdvertIntervalNotWholeSeconds {
        /// The configured interval.
        centiseconds: u16,
    },
    /// A virtual router protects at least one address.
    #[error("a virtual router needs at least one address, found none")]
    NoAddress,
    /// The count field of an advert is one byte.
    #[error("a virtual router carries at most 255 addresses, found {count}")]
    TooManyAddresses {
        /// How many were configured.
        count: usize,
    },
    /// One virtual router, one family.
    #[error("addresses of one virtual router must share a family: {first} and {other}")]
    MixedFamilies {
        /// The first virtual address.
        first: IpAddr,
        /// The first one of another family.
        other: IpAddr,
    },
    /// The primary address decides the family.
    #[error("primary address {primary} and virtual address {address} are of different families")]
    PrimaryFamilyMismatch {
        /// The configured primary address.
        primary: IpAddr,
        /// The first virtual address.
        address: IpAddr,
    },
    /// RFC 3768 is IPv4 only.
    #[error("VRRPv2 is IPv4 only, found {address}")]
    Ipv6WithV2 {
        /// The offending address.
        address: IpAddr,
    },
    /// keepalived's range for `preempt_delay`.
    #[error("preempt_delay must be at most 1000 s, found {delay:?}")]
    PreemptDelayOutOfRange {
        /// The configured delay.
        delay: Duration,
    },
    /// Tracker state is a 64-bit mask.
    #[error("at most 64 trackers per instance, found {count}")]
    TooManyTrackers {
        /// How many were configured.
        count: usize,
    },
    /// keepalived's range for weights.
    #[error("tracker {id:?} weight must be -254..=254, found {weight}")]
    TrackerWeightOutOfRange {
        /// The tracker.
        id: TrackerId,
        /// Its weight.
        weight: i16,
    },
    /// Results name trackers by id, so ids are unique.
    #[error("tracker {id:?} is configured twice")]
    DuplicateTracker {
        /// The repeated id.
        id: TrackerId,
    },
    /// A running instance keeps its identity; build a new instance to change it.
    #[error("a configuration change cannot alter {field} (expected {expected}, found {found})")]
    ImmutableChange {
        /// Which field.
        field: &'static str,
        /// The running value.
        expected: String,
        /// The new value.
        found: String,
    },
    /// Two instances would accept the same adverts.
    #[error("an instance for VRID {vrid} ({family:?}) on interface {interface:?} already exists")]
    DuplicateRoute {
        /// The interface.
        interface: InterfaceId,
        /// The VRID.
        vrid: u8,
        /// The family.
        family: Family,
    },
    /// A sync group composes at least one instance.
    #[error("a sync group needs at least one member, found none")]
    EmptySyncGroup,
    /// A sync-group input named a member that does not exist.
    #[error("sync group has {members} members, found member index {index}")]
    NoSuchMember {
        /// The index given.
        index: usize,
        /// How many members there are.
        members: usize,
    },
}
