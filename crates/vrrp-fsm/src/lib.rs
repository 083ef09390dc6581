//! The VRRP election state machine, sans-IO: time is an input, actions are outputs.
//!
//! [`Instance`] is one virtual router on one interface: RFC 9568 §6 (VRRPv3, IPv4 and IPv6) and
//! RFC 3768 (VRRPv2), with the operational behaviour of keepalived where the RFCs leave room
//! (FAULT state, tracker weights, `preempt_delay`, answering a lower-priority advert, GARP
//! schedules). It never reads a clock, opens a socket or spawns a thread: the caller passes
//! `now` with every [`Input`] and acts on every [`Output`] until [`Output::Timeout`] names the
//! next deadline.
//!
//! The machine has its own plain input and output types ([`ReceivedAdvert`], [`AdvertToSend`]):
//! it parses nothing, and takes from the `vrrp-packet` codec only the address family ([`Family`]
//! is its `AddressFamily`) and a [`Version`] conversion. The director maps a parsed codec `Repr` to a
//! [`ReceivedAdvert`] and an [`AdvertToSend`] to a `Repr` to emit. Intervals are centiseconds
//! for both versions (a v2 wire field is whole seconds: multiply or divide by 100). Unicast peers
//! change nothing here: the director decides where an [`AdvertToSend`] goes.
//!
//! Around the instance: [`Demux`] says which instance accepts a packet (by interface, VRID and
//! family) so one socket serves many; [`SyncGroup`] moves several instances together.
//!
//! Where keepalived and the RFC differ, this crate follows keepalived by default and says so on
//! the item: `state MASTER` below priority 255 starts as BACKUP ([`InitialState`]); a MASTER
//! answers a lower-priority advert with an advert at once ([`Config::lower_prio_send_advert`]).
//! One exception: an address owner starts as MASTER whatever its `state` ([`InitialState`]).

mod config;
mod demux;
mod error;
mod instance;
mod io;
mod sync_group;
mod timer;

pub use config::{
    Config, Family, GarpConfig, InitialState, InterfaceId, MAX_PREEMPT_DELAY, MAX_TRACKERS,
    Tracker, TrackerId, Version,
};
pub use demux::Demux;
pub use error::Error;
pub use instance::{Instance, master_down_interval, skew_time};
pub use io::{
    AdvertToSend, GarpReason, GarpSchedule, Input, Output, Reason, ReceivedAdvert, RouteKey, State,
    Stats,
};
pub use sync_group::{GroupOutput, SyncGroup};
pub use timer::Timer;

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
