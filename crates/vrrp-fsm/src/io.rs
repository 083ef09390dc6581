//! What goes into an [`Instance`](crate::Instance) and what comes out: the input and output
//! types, the advertisement as the codec delivered it, the GARP schedule and the counters.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[cfg(doc)]
use crate::Instance;
use crate::{Config, Family, InterfaceId, TrackerId, Version};

/// The state of an instance (RFC 9568 §6.4 plus keepalived's FAULT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or shut down.
    Initialize,
    /// Watching the master; takes over when it goes quiet.
    Backup,
    /// Owns the virtual addresses and advertises.
    Master,
    /// Cannot serve: its interface is down, a weight-0 tracker fails, or its sync group is in
    /// FAULT. Leaves to BACKUP when every cause clears.
    Fault,
}

/// Why a state change happened; carried by [`Output::StateChange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// [`Input::Start`] as a non-owner: start in BACKUP.
    Startup,
    /// [`Input::Start`] with priority 255: the address owner starts as MASTER at once.
    AddressOwner,
    /// BACKUP: Master_Down_Timer fired (no advert from a master at least as good in time).
    MasterDown,
    /// MASTER: heard a higher priority, or an equal one from a higher primary address.
    HigherPriorityAdvert,
    /// The instance's own interface went down.
    InterfaceDown,
    /// A weight-0 tracker failed.
    TrackerFailed(TrackerId),
    /// Another member of the sync group has a fault.
    SyncGroupFault,
    /// Every fault cause cleared.
    FaultCleared,
    /// Another member of the sync group moved (to MASTER, or from MASTER to BACKUP).
    SyncGroup,
    /// [`Input::Shutdown`].
    Shutdown,
}

/// An advertisement as the codec delivered it: already validated (checksum, TTL/hop limit,
/// length), reduced to what the election needs.
///
/// The director maps a `vrrp-packet` `Repr` onto this; the machine does not parse.
/// `max_advert_interval_cs` is in centiseconds for both versions (multiply a v2 field by 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedAdvert<'a> {
    /// The version of the packet.
    pub version: Version,
    /// The VRID field.
    pub vrid: u8,
    /// The priority field.
    pub priority: u8,
    /// The interval field, in centiseconds.
    pub max_advert_interval_cs: u16,
    /// The address list.
    pub addresses: &'a [IpAddr],
    /// The IP source address (the sender's primary address).
    pub src: IpAddr,
    /// The interface it arrived on.
    pub interface: InterfaceId,
}

impl ReceivedAdvert<'_> {
    /// The key [`Demux`](crate::Demux) routes it by.
    pub fn route_key(&self) -> RouteKey {
        RouteKey {
            interface: self.interface,
            vrid: self.vrid,
            family: Family::of(&self.src),
        }
    }
}

/// Which instance a packet belongs to: one socket can serve many instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouteKey {
    /// The receiving interface.
    pub interface: InterfaceId,
    /// The VRID.
    pub vrid: u8,
    /// The address family.
    pub family: Family,
}

/// Everything that can happen to an instance. Every input carries the caller's `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// Start the protocol (RFC 9568 Startup event); ignored unless in INITIALIZE.
    Start {
        /// Current time.
        now: Instant,
    },
    /// An advertisement for this instance.
    Advert {
        /// Time of reception.
        now: Instant,
        /// The advert.
        advert: ReceivedAdvert<'a>,
    },
    /// The deadline returned by [`Output::Timeout`] has come (an early or repeated one is harmless).
    Timeout(Instant),
    /// The link state of an interface; only the instance's own interface matters here (tracked
    /// interfaces are trackers).
    Link {
        /// Current time.
        now: Instant,
        /// The interface.
        interface: InterfaceId,
        /// Whether it is up (and running).
        up: bool,
    },
    /// The result of a tracker.
    Tracker {
        /// Current time.
        now: Instant,
        /// Which tracker.
        id: TrackerId,
        /// OK or failed.
        ok: bool,
    },
    /// Administrative shutdown (RFC 9568 Shutdown event): a MASTER sends priority 0 and
    /// removes its addresses; the instance goes to INITIALIZE and may be started again.
    Shutdown {
        /// Current time.
        now: Instant,
    },
    /// A new configuration. VRID, version, interface and family cannot change (a typed error, and
    /// the instance is left as it was); everything else takes effect at once, before any timer
    /// due at `now` runs. Drain the outputs of earlier inputs first: queued outputs are built
    /// from the configuration in force when they are polled.
    Reconfigure {
        /// Current time.
        now: Instant,
        /// The new configuration.
        config: &'a Config,
    },
}

impl Input<'_> {
    /// The time the input carries.
    pub fn now(&self) -> Instant {
        match *self {
            Self::Start { now }
            | Self::Advert { now, .. }
            | Self::Timeout(now)
            | Self::Link { now, .. }
            | Self::Tracker { now, .. }
            | Self::Shutdown { now }
            | Self::Reconfigure { now, .. } => now,
        }
    }
}

/// An advertisement to send; the director fills in the codec's `Repr` from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvertToSend {
    /// The version to emit.
    pub version: Version,
    /// The VRID.
    pub vrid: u8,
    /// The priority to advertise (0 when leaving MASTER).
    pub priority: u8,
    /// The interval field in centiseconds (divide by 100 for v2).
    pub max_advert_interval_cs: u16,
    /// The virtual addresses.
    pub addresses: Arc<[IpAddr]>,
    /// The source address (the configured primary address).
    pub src: IpAddr,
    /// The interface to send on.
    pub interface: InterfaceId,
}

/// What triggered a GARP schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GarpReason {
    /// The instance became MASTER.
    BecameMaster,
    /// A MASTER heard a lower-priority advert (another router may have claimed the addresses).
    LowerPriorityAdvert,
}

/// A gratuitous ARP (IPv4) / unsolicited NA (IPv6) schedule for the director's GARP scheduler.
///
/// Send `repeat` messages per address now, `repeat` more after `delay` (if any), then
/// `refresh_repeat` every `refresh` (if any). The schedule lasts while the instance is MASTER:
/// the director cancels it on the next state change away from MASTER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GarpSchedule {
    /// Why.
    pub reason: GarpReason,
    /// The interface to announce on.
    pub interface: InterfaceId,
    /// The addresses to announce.
    pub addresses: Arc<[IpAddr]>,
    /// Messages per burst.
    pub repeat: u32,
    /// Delay of the second burst.
    pub delay: Option<Duration>,
    /// Refresh period while MASTER.
    pub refresh: Option<Duration>,
    /// Messages per refresh burst.
    pub refresh_repeat: u32,
}

/// What the director must do; drained with [`Instance::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send an advertisement now. A priority-0 advert leaving MASTER for FAULT may find the
    /// interface down; the director sends it if it can.
    SendAdvert(AdvertToSend),
    /// Add the virtual addresses to the interface.
    AddVips {
        /// The interface.
        interface: InterfaceId,
        /// The addresses.
        addresses: Arc<[IpAddr]>,
    },
    /// Remove the virtual addresses from the interface.
    RemoveVips {
        /// The interface.
        interface: InterfaceId,
        /// The addresses.
        addresses: Arc<[IpAddr]>,
    },
    /// Run this gratuitous ARP / NA schedule.
    Garp(GarpSchedule),
    /// The state changed.
    StateChange {
        /// Old state.
        from: State,
        /// New state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// Nothing more to do: call again with [`Input::Timeout`] at this deadline (or earlier, with
    /// any other input). `None`: no timer is armed; wait for the next input.
    Timeout(Option<Instant>),
}

/// Counters a director can export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Adverts handed in.
    pub adverts_received: u32,
    /// Adverts dropped because version, VRID, family or interface did not match, or (v2) the
    /// interval differed from the configured one, or the source was this router.
    pub adverts_dropped: u32,
    /// Adverts whose address list differs from the configured one (processed anyway, as RFC 9568
    /// allows; the count is for the operator).
    pub address_list_mismatches: u32,
    /// Adverts emitted.
    pub adverts_sent: u32,
    /// Priority-0 adverts received.
    pub priority_zero_received: u32,
    /// Priority-0 adverts emitted.
    pub priority_zero_sent: u32,
    /// Transitions to MASTER.
    pub became_master: u32,
}
