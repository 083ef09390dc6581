//! What one VRRP instance is told at construction, and the checks that make a bad value a typed
//! error at [`Instance::new`](crate::Instance::new) instead of a surprise later.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::Error;

/// The VRRP protocol version an instance speaks.
///
/// The version decides the unit of the advertisement interval on the wire and the skew formula
/// (see [`Instance::skew_time`](crate::Instance::skew_time)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// VRRPv2 (RFC 3768): IPv4 only, interval in whole seconds (1..=255), and every router must
    /// be configured with the same interval (a mismatched advert is discarded).
    V2,
    /// VRRPv3 (RFC 9568): IPv4 or IPv6, interval in centiseconds (1..=4095); a backup learns the
    /// master's interval from its adverts.
    V3,
}

impl Version {
    /// The largest advertisement interval the version can carry, in centiseconds.
    pub const fn max_interval_cs(self) -> u16 {
        match self {
            Self::V2 => 255 * 100,
            Self::V3 => 4095,
        }
    }
}

/// An address family; a virtual router carries addresses of exactly one family. `Ipv4`: the
/// director announces the addresses with gratuitous ARP; `Ipv6`: with unsolicited neighbour
/// advertisements.
///
/// The codec's type, re-exported: the machine and the wire share one notion of family.
pub use vrrp_packet::AddressFamily as Family;

/// The seam with the codec's version nibble: a configured version is always a wire version.
impl From<Version> for vrrp_packet::Version {
    fn from(version: Version) -> Self {
        match version {
            Version::V2 => Self::V2,
            Version::V3 => Self::V3,
        }
    }
}

/// The seam the other way: a wire version the machine speaks, or the unknown nibble back.
impl TryFrom<vrrp_packet::Version> for Version {
    type Error = u8;

    fn try_from(version: vrrp_packet::Version) -> Result<Self, u8> {
        match version {
            vrrp_packet::Version::V2 => Ok(Self::V2),
            vrrp_packet::Version::V3 => Ok(Self::V3),
            vrrp_packet::Version::Unknown(nibble) => Err(nibble),
        }
    }
}

/// The kernel interface index of the interface an instance runs on.
///
/// The machine never resolves names; the director maps `eth0` to its index and back. Interfaces
/// are named the same way across the workspace: by this index wherever a crate only keys state
/// (`garp::schedule::Target::ifindex`, `garp::Sender::ifindex`, `vip::Address::index` in watch
/// events), and by name only where the kernel call or the configuration takes one
/// (`garp::Sender::open`, `vip::Vip::dev`, keepalived.conf's `interface`). The director is the
/// one seam between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceId(pub u32);

/// Names one tracker (a script, a file, a tracked interface...) of an instance.
///
/// The machine does not care what the tracker watches: the director runs it and reports each
/// result with [`Input::Tracker`](crate::Input::Tracker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackerId(pub u32);

/// One tracker and the weight its result carries, with keepalived's semantics.
///
/// A positive weight is added to the priority while the tracker is OK; a negative weight is added
/// (so subtracted) while it fails; weight 0 puts the instance in FAULT while it fails. Every
/// tracker starts OK. An address owner (priority 255) ignores non-zero weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracker {
    /// Which tracker this is; results name it.
    pub id: TrackerId,
    /// -254..=254; 0 means "FAULT on failure".
    pub weight: i16,
}

/// The state a configuration asks to start in (keepalived's `state`).
///
/// Only an address owner (priority 255) starts as MASTER; it does so whatever this says, as
/// RFC 9568 §6.4.1 requires (keepalived instead makes an owner configured `state BACKUP` wait
/// 3-4 advert intervals). A `Master` below 255 starts as BACKUP, exactly as keepalived does, and
/// wins (or not) the election like any other backup. The field exists so a keepalived
/// configuration maps onto it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialState {
    /// `state BACKUP` (the default).
    #[default]
    Backup,
    /// `state MASTER`: becomes MASTER at once only with priority 255.
    Master,
}

/// The gratuitous ARP / unsolicited NA timings (keepalived's `garp_*` settings): lvskit's one
/// GARP timing configuration. The instance turns it into a
/// [`GarpSchedule`](crate::GarpSchedule) when one is due (on becoming MASTER, on hearing a lower
/// priority); the `garp` crate's scheduler carries that out, adding only per-interface pacing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GarpConfig {
    /// Messages per burst after becoming MASTER (`garp_master_repeat`, default 5).
    pub master_repeat: u32,
    /// Delay before the second burst (`garp_master_delay`, default 5 s); `None` for no second
    /// burst.
    pub master_delay: Option<Duration>,
    /// Period of the refresh bursts while MASTER (`garp_master_refresh`, default none).
    pub master_refresh: Option<Duration>,
    /// Messages per refresh burst (`garp_master_refresh_repeat`, default 1).
    pub master_refresh_repeat: u32,
    /// Messages per burst when a MASTER hears a lower-priority advert (`garp_lower_prio_repeat`,
    /// default: `master_repeat`); 0 sends none.
    pub lower_prio_repeat: u32,
    /// Delay before the second such burst (`garp_lower_prio_delay`, default: `master_delay`).
    pub lower_prio_delay: Option<Duration>,
}

impl Default for GarpConfig {
    fn default() -> Self {
        Self {
            master_repeat: 5,
            master_delay: Some(Duration::from_secs(5)),
            master_refresh: None,
            master_refresh_repeat: 1,
            lower_prio_repeat: 5,
            lower_prio_delay: Some(Duration::from_secs(5)),
        }
    }
}

/// The configuration of one VRRP instance (one virtual router on one interface).
///
/// Build it with [`Config::new`] and change the public fields; [`Instance::new`](crate::Instance::new)
/// validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Virtual router identifier, 1..=255.
    pub vrid: u8,
    /// Protocol version.
    pub version: Version,
    /// The interface the instance runs on.
    pub interface: InterfaceId,
    /// This router's own primary address on that interface: the source of its adverts and the
    /// tie-breaker between equal priorities. Same family as `addresses`.
    pub primary_address: IpAddr,
    /// Base priority 1..=255; 255 means "address owner".
    pub priority: u8,
    /// Advertisement interval in centiseconds for both versions (v2 requires whole seconds).
    pub advert_interval_cs: u16,
    /// The virtual addresses, all of one family, 1..=255 of them.
    pub addresses: Arc<[IpAddr]>,
    /// keepalived's `state`.
    pub initial_state: InitialState,
    /// Preemption (default on); `false` is keepalived's `nopreempt`.
    pub preempt: bool,
    /// keepalived's `preempt_delay` (0..=1000 s, default 0): a lower-priority master is followed
    /// for this long after it is first heard before it is preempted (its adverts discarded, so
    /// that Master_Down_Timer runs out), as keepalived does. With no master at all, the
    /// instance still takes over after Master_Down_Interval.
    pub preempt_delay: Duration,
    /// A MASTER that hears a lower-priority advert answers with an advert at once (keepalived's
    /// default; `false` is `vrrp_lower_prio_no_advert`, the strict RFC behaviour).
    pub lower_prio_send_advert: bool,
    /// A MASTER that hears a higher priority sends one advert of its own before it becomes
    /// BACKUP, so that the winner, hearing a lower priority, repeats its GARPs (keepalived's
    /// `vrrp_higher_prio_send_advert`, for recovering from a split brain; default off, as in
    /// keepalived and the RFC).
    pub higher_prio_send_advert: bool,
    /// Trackers and their weights (at most 64).
    pub trackers: Vec<Tracker>,
    /// The GARP schedule handed out on becoming MASTER.
    pub garp: GarpConfig,
}

/// The most trackers one instance may have (their state is a 64-bit mask).
pub const MAX_TRACKERS: usize = 64;

/// The longest `preempt_delay` keepalived accepts.
pub const MAX_PREEMPT_DELAY: Duration = Duration::from_secs(1000);

impl Config {
    /// A configuration with keepalived's defaults: priority 100, advert interval 1 s, preemption
    /// on with no delay, lower-priority adverts answered, no advert before yielding to a higher
    /// priority, start as BACKUP, no trackers.
    pub fn new(
        vrid: u8,
        version: Version,
        interface: InterfaceId,
        primary_address: IpAddr,
        addresses: impl Into<Arc<[IpAddr]>>,
    ) -> Self {
        Self {
            vrid,
            version,
            interface,
            primary_address,
            priority: 100,
            advert_interval_cs: 100,
            addresses: addresses.into(),
            initial_state: InitialState::Backup,
            preempt: true,
            preempt_delay: Duration::ZERO,
            lower_prio_send_advert: true,
            higher_prio_send_advert: false,
            trackers: Vec::new(),
            garp: GarpConfig::default(),
        }
    }

    /// The instance's family: that of its primary address ([`validate`](Self::validate) makes
    /// every virtual address match it).
    pub fn family(&self) -> Family {
        Family::of(&self.primary_address)
    }

    /// Checks every rule a running instance relies on.
    pub fn validate(&self) -> Result<(), Error> {
        if self.vrid == 0 {
            return Err(Error::VridZero);
        }
        if self.priority == 0 {
            return Err(Error::PriorityZero);
        }
        if self.advert_interval_cs == 0 {
            return Err(Error::AdvertIntervalZero);
        }
        let max = self.version.max_interval_cs();
        if self.advert_interval_cs > max {
            return Err(Error::AdvertIntervalOutOfRange {
                version: self.version,
                centiseconds: self.advert_interval_cs,
                max,
            });
        }
        if self.version == Version::V2 && !self.advert_interval_cs.is_multiple_of(100) {
            return Err(Error::AdvertIntervalNotWholeSeconds {
                centiseconds: self.advert_interval_cs,
            });
        }
        let Some(first) = self.addresses.first() else {
            return Err(Error::NoAddress);
        };
        if self.addresses.len() > 255 {
            return Err(Error::TooManyAddresses {
                count: self.addresses.len(),
            });
        }
        let family = Family::of(&self.primary_address);
        if self.version == Version::V2 && family == Family::Ipv6 {
            return Err(Error::Ipv6WithV2 {
                address: self.primary_address,
            });
        }
        if Family::of(first) != family {
            return Err(Error::PrimaryFamilyMismatch {
                primary: self.primary_address,
                address: *first,
            });
        }
        if let Some(other) = self.addresses.iter().find(|a| Family::of(a) != family) {
            return Err(Error::MixedFamilies {
                first: *first,
                other: *other,
            });
        }
        if self.preempt_delay > MAX_PREEMPT_DELAY {
            return Err(Error::PreemptDelayOutOfRange {
                delay: self.preempt_delay,
            });
        }
        if self.trackers.len() > MAX_TRACKERS {
            return Err(Error::TooManyTrackers {
                count: self.trackers.len(),
            });
        }
        for (i, t) in self.trackers.iter().enumerate() {
            if !(-254..=254).contains(&t.weight) {
                return Err(Error::TrackerWeightOutOfRange {
                    id: t.id,
                    weight: t.weight,
                });
            }
            if self.trackers[..i].iter().any(|u| u.id == t.id) {
                return Err(Error::DuplicateTracker { id: t.id });
            }
        }
        Ok(())
    }
}
