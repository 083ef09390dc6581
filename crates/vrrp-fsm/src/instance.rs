//! One VRRP instance: the RFC 9568 §6 state machine with keepalived's operational additions.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::io::{
    AdvertToSend, GarpReason, GarpSchedule, Input, Output, Reason, ReceivedAdvert, RouteKey, State,
    Stats,
};
use crate::timer::{Timer, TimerTable};
use crate::{Config, Error, Family, TrackerId, Version};

/// Fault causes as bits.
const FAULT_LINK: u8 = 1;
const FAULT_TRACKER: u8 = 2;
const FAULT_SYNC: u8 = 4;
const FAULT_OWN: u8 = FAULT_LINK | FAULT_TRACKER;

/// keepalived's `preempt_delay` hold-off, as a small state machine of its own.
///
/// As keepalived 2.2.7 does on the wire: the delay starts when a lower-priority master is first
/// heard (after start-up, or after following a better master); that master is followed until
/// the delay ends, after which its adverts are discarded and Master_Down_Timer, last restarted
/// by one of them, runs out. The hold-off only ever delays a *preemption*: with no master at
/// all, the instance takes over after Master_Down_Interval, delay or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// No preemption, or no delay: nothing to hold.
    Disabled,
    /// Just started (or recovered from FAULT) and has seen no master yet.
    Startup,
    /// A master at least as good is (or was last) being followed.
    Idle,
    /// Following a lower-priority master until `Timer::PreemptDelay`.
    Holding,
    /// The hold-off is over: preempt as if there were no delay.
    Released,
}

/// Work queued for `poll_output`, kept small: the big outputs are built on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    StateChange {
        from: State,
        to: State,
        reason: Reason,
    },
    SendAdvert {
        priority: u8,
    },
    AddVips,
    RemoveVips,
    RemoveRetiredVips,
    Garp(GarpReason),
}

/// One VRRP instance (one virtual router on one interface), sans-IO.
///
/// # The driving rule
///
/// Feed every event with [`handle_input`](Self::handle_input), then call
/// [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`]; act on every other
/// output in order. Feed [`Input::Timeout`] when that deadline comes. The machine never reads a
/// clock: every input carries `now`, and timers due at or before an input's `now` are handled
/// before the input itself, so a late timeout changes nothing but lateness.
///
/// ```
/// use std::time::{Duration, Instant};
/// use vrrp_fsm::{Config, Input, InterfaceId, Instance, Output, State, Version};
///
/// let config = Config::new(
///     7,
///     Version::V3,
///     InterfaceId(2),
///     "192.0.2.1".parse().unwrap(),
///     vec!["192.0.2.100".parse().unwrap()],
/// );
/// let mut vr = Instance::new(config).unwrap();
/// let t0 = Instant::now();
/// vr.handle_input(Input::Start { now: t0 }).unwrap();
/// let deadline = loop {
///     match vr.poll_output() {
///         Output::Timeout(deadline) => break deadline.unwrap(),
///         other => println!("{other:?}"), // the director acts on it
///     }
/// };
/// assert_eq!(vr.state(), State::Backup);
/// // 3 x 100 cs + ((256 - 100) x 100) / 256 = 360 cs
/// assert_eq!(deadline - t0, Duration::from_millis(3600));
/// vr.handle_input(Input::Timeout(deadline)).unwrap();
/// assert_eq!(vr.state(), State::Master);
/// ```
#[derive(Debug, Clone)]
pub struct Instance {
    config: Config,
    state: State,
    effective_priority: u8,
    master_adver_interval_cs: u16,
    fault: u8,
    hold: Hold,
    /// Bit i set: tracker i currently fails.
    tracker_failing: u64,
    timers: TimerTable,
    pending: VecDeque<Pending>,
    retired_addresses: Option<Arc<[IpAddr]>>,
    stats: Stats,
}

impl Instance {
    /// Validates `config` and builds an instance in INITIALIZE; send [`Input::Start`] to run it.
    pub fn new(config: Config) -> Result<Self, Error> {
        config.validate()?;
        let mut instance = Self {
            master_adver_interval_cs: config.advert_interval_cs,
            config,
            state: State::Initialize,
            effective_priority: 0,
            fault: 0,
            hold: Hold::Disabled,
            tracker_failing: 0,
            timers: TimerTable::default(),
            pending: VecDeque::new(),
            retired_addresses: None,
            stats: Stats::default(),
        };
        instance.effective_priority = instance.compute_priority();
        Ok(instance)
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether tracker `id` currently fails (its last result was not OK); `None` for an id this
    /// instance does not have. For status displays: the priority already counts it.
    pub fn tracker_failing(&self, id: TrackerId) -> Option<bool> {
        let index = self.config.trackers.iter().position(|t| t.id == id)?;
        Some(self.tracker_failing & (1u64 << index) != 0)
    }

    /// Base priority plus tracker weights, clamped to 1..=254; 255 for an owner.
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// Master_Adver_Interval in centiseconds: the interval learned from the master (v3 backup),
    /// else the configured one.
    pub fn master_adver_interval_cs(&self) -> u16 {
        self.master_adver_interval_cs
    }

    /// Skew_Time for the current effective priority.
    ///
    /// v3: `((256 - priority) * Master_Adver_Interval) / 256` centiseconds, integer division.
    /// v2: `(256 - priority) / 256` seconds, not scaled by the interval.
    pub fn skew_time(&self) -> Duration {
        skew_time(
            self.config.version,
            self.effective_priority,
            self.master_adver_interval_cs,
        )
    }

    /// Master_Down_Interval: `3 * Master_Adver_Interval + Skew_Time`.
    pub fn master_down_interval(&self) -> Duration {
        master_down_interval(
            self.config.version,
            self.effective_priority,
            self.master_adver_interval_cs,
        )
    }

    /// The deadline of one timer, if armed.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        self.timers.get(timer)
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The key a [`Demux`](crate::Demux) routes this instance's adverts by.
    pub fn route_key(&self) -> RouteKey {
        RouteKey {
            interface: self.config.interface,
            vrid: self.config.vrid,
            family: self.config.family(),
        }
    }

    /// Whether the instance has a fault of its own (interface or weight-0 tracker), as opposed to
    /// one imposed by its sync group.
    pub fn has_own_fault(&self) -> bool {
        self.fault & FAULT_OWN != 0
    }

    /// Bytes this instance owns on the heap (addresses, trackers, output queue); add
    /// `size_of::<Instance>()` for its whole footprint.
    pub fn heap_bytes(&self) -> usize {
        let retired = self.retired_addresses.as_ref().map_or(0, arc_bytes);
        arc_bytes(&self.config.addresses)
            + retired
            + self.config.trackers.capacity() * size_of::<crate::Tracker>()
            + self.pending.capacity() * size_of::<Pending>()
    }

    /// Handles one input. Only [`Input::Reconfigure`] can fail (and then changes nothing).
    pub fn handle_input(&mut self, input: Input<'_>) -> Result<(), Error> {
        let now = input.now();
        if let Input::Reconfigure { now, config } = input {
            // The new configuration first, so that outputs of timers due now carry it.
            self.reconfigure(now, config)?;
            self.run_timers(now);
            return Ok(());
        }
        self.run_timers(now);
        match input {
            Input::Start { now } => self.start(now),
            Input::Advert { now, advert } => self.receive(now, &advert),
            Input::Timeout(_) => {}
            Input::Link { now, interface, up } => {
                if interface == self.config.interface {
                    self.set_fault_bit(now, FAULT_LINK, !up, Reason::InterfaceDown);
                }
            }
            Input::Tracker { now, id, ok } => self.tracker_result(now, id, ok),
            Input::Shutdown { .. } => self.shutdown(),
            Input::Reconfigure { .. } => {} // handled above
        }
        Ok(())
    }

    /// The next thing to do; [`Output::Timeout`] when there is nothing more (see the type's docs).
    ///
    /// Outputs are queued small and built here from the configuration in force, which is why the
    /// driving rule asks for a full drain before the next input.
    pub fn poll_output(&mut self) -> Output {
        let Some(pending) = self.pending.pop_front() else {
            return Output::Timeout(self.timers.next());
        };
        let c = &self.config;
        match pending {
            Pending::StateChange { from, to, reason } => Output::StateChange { from, to, reason },
            Pending::SendAdvert { priority } => Output::SendAdvert(AdvertToSend {
                version: c.version,
                vrid: c.vrid,
                priority,
                max_advert_interval_cs: c.advert_interval_cs,
                addresses: c.addresses.clone(),
                src: c.primary_address,
                interface: c.interface,
            }),
            Pending::AddVips => Output::AddVips {
                interface: c.interface,
                addresses: c.addresses.clone(),
            },
            Pending::RemoveVips => Output::RemoveVips {
                interface: c.interface,
                addresses: c.addresses.clone(),
            },
            Pending::RemoveRetiredVips => Output::RemoveVips {
                interface: c.interface,
                addresses: self
                    .retired_addresses
                    .take()
                    .unwrap_or_else(|| c.addresses.clone()),
            },
            Pending::Garp(reason) => {
                let g = &c.garp;
                let (repeat, delay, refresh) = match reason {
                    GarpReason::BecameMaster => (g.master_repeat, g.master_delay, g.master_refresh),
                    GarpReason::LowerPriorityAdvert => {
                        (g.lower_prio_repeat, g.lower_prio_delay, None)
                    }
                };
                Output::Garp(GarpSchedule {
                    reason,
                    interface: c.interface,
                    addresses: c.addresses.clone(),
                    repeat,
                    delay,
                    refresh,
                    refresh_repeat: g.master_refresh_repeat,
                })
            }
        }
    }

    // ----- inputs -------------------------------------------------------------------------

    fn run_timers(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_expired(now) {
            match (timer, self.state) {
                (Timer::Advert, State::Master) => {
                    self.send_advert(self.effective_priority);
                    self.arm_advert(now);
                }
                // No master heard in time (none since start-up, or the one held off for went
                // silent): there is nobody to hold off for, whatever the hold-off's state.
                // Take over now, as without a delay.
                (Timer::MasterDown, State::Backup) => self.become_master(now, Reason::MasterDown),
                // From now on the lower-priority master's adverts are discarded: the
                // Master_Down_Timer its last followed advert started runs out.
                (Timer::PreemptDelay, State::Backup) => self.hold = Hold::Released,
                // A timer left over from a state already left: nothing to do.
                _ => {}
            }
        }
    }

    fn start(&mut self, now: Instant) {
        if self.state != State::Initialize {
            return;
        }
        if self.fault != 0 {
            let reason = self.fault_reason();
            self.enter_fault(reason);
        } else if self.config.priority == 255 {
            self.become_master(now, Reason::AddressOwner);
        } else {
            self.become_backup(now, Reason::Startup);
        }
    }

    fn receive(&mut self, now: Instant, advert: &ReceivedAdvert<'_>) {
        self.stats.adverts_received = self.stats.adverts_received.wrapping_add(1);
        let c = &self.config;
        if advert.version != c.version
            || advert.vrid != c.vrid
            || advert.interface != c.interface
            || Family::of(&advert.src) != c.family()
            || advert.src == c.primary_address
            || (c.version == Version::V2 && advert.max_advert_interval_cs != c.advert_interval_cs)
        {
            self.stats.adverts_dropped = self.stats.adverts_dropped.wrapping_add(1);
            return;
        }
        if !same_addresses(advert.addresses, &c.addresses) {
            self.stats.address_list_mismatches = self.stats.address_list_mismatches.wrapping_add(1);
        }
        if advert.priority == 0 {
            self.stats.priority_zero_received = self.stats.priority_zero_received.wrapping_add(1);
        }
        match self.state {
            State::Backup => self.backup_receive(now, advert),
            State::Master => self.master_receive(now, advert),
            State::Initialize | State::Fault => {}
        }
    }

    /// RFC 9568 §6.4.2, with keepalived's preempt_delay.
    fn backup_receive(&mut self, now: Instant, advert: &ReceivedAdvert<'_>) {
        if advert.priority == 0 {
            self.timers.set(Timer::MasterDown, now + self.skew_time());
            return;
        }
        let lower = advert.priority < self.effective_priority;
        if !(self.config.preempt && lower) {
            // A master we follow.
            if self.hold == Hold::Holding {
                self.timers.cancel(Timer::PreemptDelay);
            }
            if self.hold != Hold::Disabled {
                self.hold = Hold::Idle;
            }
            self.follow(now, advert);
            return;
        }
        // A lower-priority master we would preempt.
        match self.hold {
            Hold::Disabled | Hold::Released => {} // discard: Master_Down_Timer runs out
            Hold::Startup | Hold::Idle => {
                self.hold = Hold::Holding;
                self.timers
                    .set(Timer::PreemptDelay, now + self.config.preempt_delay);
                self.follow(now, advert);
            }
            Hold::Holding => self.follow(now, advert),
        }
    }

    /// Accept `advert` as from the master: learn its interval (v3) and restart Master_Down_Timer.
    fn follow(&mut self, now: Instant, advert: &ReceivedAdvert<'_>) {
        if self.config.version == Version::V3 && advert.max_advert_interval_cs != 0 {
            self.master_adver_interval_cs = advert.max_advert_interval_cs;
        }
        self.timers
            .set(Timer::MasterDown, now + self.master_down_interval());
    }

    /// RFC 9568 §6.4.3, with keepalived's answer to a lower priority.
    fn master_receive(&mut self, now: Instant, advert: &ReceivedAdvert<'_>) {
        if advert.priority == 0 {
            self.send_advert(self.effective_priority);
            self.arm_advert(now);
            return;
        }
        let higher = advert.priority > self.effective_priority
            || (advert.priority == self.effective_priority
                && address_greater(&advert.src, &self.config.primary_address));
        if higher {
            self.timers.cancel(Timer::Advert);
            if self.config.higher_prio_send_advert {
                self.send_advert(self.effective_priority);
            }
            self.transition(State::Backup, Reason::HigherPriorityAdvert);
            self.pending.push_back(Pending::RemoveVips);
            if self.hold != Hold::Disabled {
                self.hold = Hold::Idle;
            }
            self.follow(now, advert);
        } else {
            // keepalived: the advert is optional (`lower_prio_no_advert`), the GARPs are not
            // (`garp_lower_prio_repeat` 0 switches them off).
            if self.config.lower_prio_send_advert {
                self.send_advert(self.effective_priority);
            }
            if self.config.garp.lower_prio_repeat > 0 {
                self.pending
                    .push_back(Pending::Garp(GarpReason::LowerPriorityAdvert));
            }
        }
    }

    fn tracker_result(&mut self, now: Instant, id: TrackerId, ok: bool) {
        let Some(index) = self.config.trackers.iter().position(|t| t.id == id) else {
            return;
        };
        let bit = 1u64 << index;
        if ok {
            self.tracker_failing &= !bit;
        } else {
            self.tracker_failing |= bit;
        }
        self.effective_priority = self.compute_priority();
        let failing = self.tracker_fault();
        self.set_fault_bit(now, FAULT_TRACKER, failing, Reason::TrackerFailed(id));
    }

    fn shutdown(&mut self) {
        match self.state {
            State::Initialize => return,
            State::Master => {
                self.transition(State::Initialize, Reason::Shutdown);
                self.send_advert(0);
                self.pending.push_back(Pending::RemoveVips);
            }
            State::Backup | State::Fault => self.transition(State::Initialize, Reason::Shutdown),
        }
        self.timers.cancel_all();
    }

    fn reconfigure(&mut self, now: Instant, new: &Config) -> Result<(), Error> {
        new.validate()?;
        let old = &self.config;
        let immutable = |field: &'static str, expected: String, found: String| {
            Err(Error::ImmutableChange {
                field,
                expected,
                found,
            })
        };
        if new.vrid != old.vrid {
            return immutable("vrid", old.vrid.to_string(), new.vrid.to_string());
        }
        if new.version != old.version {
            return immutable(
                "version",
                format!("{:?}", old.version),
                format!("{:?}", new.version),
            );
        }
        if new.interface != old.interface {
            return immutable(
                "interface",
                format!("{:?}", old.interface),
                format!("{:?}", new.interface),
            );
        }
        if new.family() != old.family() {
            return immutable(
                "family",
                format!("{:?}", old.family()),
                format!("{:?}", new.family()),
            );
        }
        // Keep tracker results by id.
        let mut failing = 0u64;
        for (i, t) in new.trackers.iter().enumerate() {
            if let Some(j) = old.trackers.iter().position(|u| u.id == t.id)
                && self.tracker_failing & (1 << j) != 0
            {
                failing |= 1 << i;
            }
        }
        let addresses_changed = new.addresses != old.addresses;
        let interval_changed = new.advert_interval_cs != old.advert_interval_cs;
        let old_addresses = old.addresses.clone();
        self.config = new.clone();
        self.tracker_failing = failing;
        self.effective_priority = self.compute_priority();
        if self.config.version == Version::V2 || self.state != State::Backup {
            self.master_adver_interval_cs = self.config.advert_interval_cs;
        }
        if !self.config.preempt || self.config.preempt_delay.is_zero() {
            self.hold = Hold::Disabled;
            self.timers.cancel(Timer::PreemptDelay);
            if self.state == State::Backup && self.timers.get(Timer::MasterDown).is_none() {
                // The hold-off was all that kept an expired Master_Down_Timer from firing.
                self.timers.set(Timer::MasterDown, now);
            }
        } else if self.hold == Hold::Disabled {
            self.hold = Hold::Idle;
        }
        if self.state == State::Master {
            if addresses_changed {
                self.retired_addresses = Some(old_addresses);
                self.pending.push_back(Pending::RemoveRetiredVips);
                self.pending.push_back(Pending::AddVips);
                self.pending
                    .push_back(Pending::Garp(GarpReason::BecameMaster));
            }
            if interval_changed {
                self.arm_advert(now);
            }
        }
        let tracker_fault = self.tracker_fault();
        self.set_fault_bit(
            now,
            FAULT_TRACKER,
            tracker_fault,
            self.fault_reason_tracker(),
        );
        Ok(())
    }

    // ----- transitions -------------------------------------------------------------------

    fn transition(&mut self, to: State, reason: Reason) {
        let from = self.state;
        self.state = to;
        tracing::debug!(
            vrid = self.config.vrid,
            ?from,
            ?to,
            ?reason,
            "vrrp state change"
        );
        self.pending
            .push_back(Pending::StateChange { from, to, reason });
    }

    fn become_master(&mut self, now: Instant, reason: Reason) {
        self.timers.cancel(Timer::MasterDown);
        self.timers.cancel(Timer::PreemptDelay);
        self.transition(State::Master, reason);
        self.stats.became_master = self.stats.became_master.wrapping_add(1);
        self.pending.push_back(Pending::AddVips);
        self.send_advert(self.effective_priority);
        self.pending
            .push_back(Pending::Garp(GarpReason::BecameMaster));
        self.arm_advert(now);
        self.master_adver_interval_cs = self.config.advert_interval_cs;
    }

    /// From INITIALIZE or FAULT: start following, as after start-up.
    fn become_backup(&mut self, now: Instant, reason: Reason) {
        self.transition(State::Backup, reason);
        self.master_adver_interval_cs = self.config.advert_interval_cs;
        self.hold = if self.config.preempt && !self.config.preempt_delay.is_zero() {
            Hold::Startup
        } else {
            Hold::Disabled
        };
        self.timers
            .set(Timer::MasterDown, now + self.master_down_interval());
    }

    fn enter_fault(&mut self, reason: Reason) {
        match self.state {
            State::Fault => return,
            State::Master => {
                self.transition(State::Fault, reason);
                self.send_advert(0);
                self.pending.push_back(Pending::RemoveVips);
            }
            State::Backup | State::Initialize => self.transition(State::Fault, reason),
        }
        self.timers.cancel_all();
    }

    /// Sets or clears one fault cause and moves in or out of FAULT when the instance runs.
    fn set_fault_bit(&mut self, now: Instant, bit: u8, on: bool, reason: Reason) {
        if on {
            self.fault |= bit;
        } else {
            self.fault &= !bit;
        }
        match self.state {
            State::Initialize => {}
            State::Fault if self.fault == 0 => self.become_backup(now, Reason::FaultCleared),
            State::Fault => {}
            State::Backup | State::Master if self.fault != 0 => self.enter_fault(reason),
            State::Backup | State::Master => {}
        }
    }

    // ----- sync-group hooks ----------------------------------------------------------------

    /// Imposes or lifts the sync group's FAULT.
    pub(crate) fn set_sync_fault(&mut self, now: Instant, on: bool) {
        if (self.fault & FAULT_SYNC != 0) != on {
            self.set_fault_bit(now, FAULT_SYNC, on, Reason::SyncGroupFault);
        }
    }

    /// Another member became MASTER: follow it from BACKUP.
    pub(crate) fn sync_to_master(&mut self, now: Instant) {
        if self.state == State::Backup {
            self.become_master(now, Reason::SyncGroup);
        }
    }

    /// Another member went from MASTER to BACKUP: follow it.
    pub(crate) fn sync_to_backup(&mut self, now: Instant) {
        if self.state == State::Master {
            self.timers.cancel(Timer::Advert);
            self.transition(State::Backup, Reason::SyncGroup);
            self.pending.push_back(Pending::RemoveVips);
            if self.hold != Hold::Disabled {
                self.hold = Hold::Idle;
            }
            self.timers
                .set(Timer::MasterDown, now + self.master_down_interval());
        }
    }

    // ----- helpers -------------------------------------------------------------------------

    fn send_advert(&mut self, priority: u8) {
        self.stats.adverts_sent = self.stats.adverts_sent.wrapping_add(1);
        if priority == 0 {
            self.stats.priority_zero_sent = self.stats.priority_zero_sent.wrapping_add(1);
        }
        self.pending.push_back(Pending::SendAdvert { priority });
    }

    fn arm_advert(&mut self, now: Instant) {
        self.timers.set(
            Timer::Advert,
            now + centis(u32::from(self.config.advert_interval_cs)),
        );
    }

    fn compute_priority(&self) -> u8 {
        let base = self.config.priority;
        if base == 255 {
            return 255;
        }
        let mut sum = i32::from(base);
        for (i, t) in self.config.trackers.iter().enumerate() {
            let failing = self.tracker_failing & (1 << i) != 0;
            if (t.weight > 0 && !failing) || (t.weight < 0 && failing) {
                sum += i32::from(t.weight);
            }
        }
        sum.clamp(1, 254) as u8
    }

    fn tracker_fault(&self) -> bool {
        self.config
            .trackers
            .iter()
            .enumerate()
            .any(|(i, t)| t.weight == 0 && self.tracker_failing & (1 << i) != 0)
    }

    fn fault_reason_tracker(&self) -> Reason {
        self.config
            .trackers
            .iter()
            .enumerate()
            .find(|(i, t)| t.weight == 0 && self.tracker_failing & (1 << i) != 0)
            .map_or(Reason::FaultCleared, |(_, t)| Reason::TrackerFailed(t.id))
    }

    fn fault_reason(&self) -> Reason {
        if self.fault & FAULT_LINK != 0 {
            Reason::InterfaceDown
        } else if self.fault & FAULT_TRACKER != 0 {
            self.fault_reason_tracker()
        } else {
            Reason::SyncGroupFault
        }
    }
}

/// The allocation behind an `Arc<[IpAddr]>`: two counters, then the slice, padded to alignment.
fn arc_bytes(addresses: &Arc<[IpAddr]>) -> usize {
    let counters = std::alloc::Layout::new::<[usize; 2]>();
    std::alloc::Layout::array::<IpAddr>(addresses.len())
        .and_then(|slice| counters.extend(slice))
        .map_or(0, |(layout, _)| layout.pad_to_align().size())
}

/// `n` centiseconds.
fn centis(n: u32) -> Duration {
    Duration::from_millis(u64::from(n) * 10)
}

/// Skew_Time for `version`, `priority` and Master_Adver_Interval (see [`Instance::skew_time`]).
pub fn skew_time(version: Version, priority: u8, master_adver_interval_cs: u16) -> Duration {
    let weight = 256 - u32::from(priority);
    match version {
        Version::V3 => centis(weight * u32::from(master_adver_interval_cs) / 256),
        // (256 - p) / 256 s = (256 - p) * 3_906_250 ns exactly.
        Version::V2 => Duration::from_nanos(u64::from(weight) * 3_906_250),
    }
}

/// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time.
pub fn master_down_interval(
    version: Version,
    priority: u8,
    master_adver_interval_cs: u16,
) -> Duration {
    centis(3 * u32::from(master_adver_interval_cs))
        + skew_time(version, priority, master_adver_interval_cs)
}

/// `a > b` as unsigned integers; addresses of different families never compare greater.
fn address_greater(a: &IpAddr, b: &IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => u32::from(*a) > u32::from(*b),
        (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(*a) > u128::from(*b),
        _ => false,
    }
}

/// Same set of addresses, in any order.
fn same_addresses(got: &[IpAddr], want: &[IpAddr]) -> bool {
    got.len() == want.len() && got.iter().all(|a| want.contains(a))
}
