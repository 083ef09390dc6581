//! The director's sans-IO core: every VRRP instance of a configuration, its sync group, its
//! trackers, its notify commands and its GARP schedule, driven by inputs that carry `now`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vrrp_fsm::{
    AdvertToSend, Demux, GarpReason, GroupOutput, InterfaceId, Reason, ReceivedAdvert, State,
    SyncGroup, TrackerId,
};
use vrrp_packet::ChecksumModes;
use vrrp_packet::recv::{Received, parse_ipv4, parse_ipv6};

use crate::codec::{AddressScratch, Ipv6Meta, WireOptions, to_fsm};

mod receive;
mod reload;
mod snapshot;

use crate::setup::{Command, InstanceSetup, Notify, Setup, TrackSource};
use receive::check;
pub use receive::{Counters, DropReason};
pub use reload::ReloadSummary;

/// An input to the core. Every input carries the caller's `now`.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// Start every instance. Feed the interfaces' link states ([`Input::Link`]) first: an
    /// instance whose interface is down starts in FAULT.
    Start {
        /// Current time.
        now: Instant,
    },
    /// What a raw IPv4 socket delivered (header and VRRP message) on interface `ifindex`.
    Ipv4 {
        /// Time of reception.
        now: Instant,
        /// Receiving interface.
        ifindex: u32,
        /// The datagram.
        datagram: &'a [u8],
    },
    /// What a raw IPv6 socket delivered (the VRRP message) and its ancillary data.
    Ipv6 {
        /// Time of reception.
        now: Instant,
        /// Receiving interface.
        ifindex: u32,
        /// Addresses and hop limit.
        meta: Ipv6Meta,
        /// The VRRP message.
        payload: &'a [u8],
    },
    /// The deadline from [`Output::Timeout`] has come (an early or repeated one is harmless).
    Timeout(Instant),
    /// An interface is up and running, or not.
    Link {
        /// Current time.
        now: Instant,
        /// The interface.
        ifindex: u32,
        /// Up and running.
        up: bool,
    },
    /// A run of `vrrp_script` number `script` ended: exit status 0 is `ok`.
    ScriptResult {
        /// Current time.
        now: Instant,
        /// Index in [`Setup::scripts`].
        script: usize,
        /// Exit status 0 (a timeout or signal is a failure).
        ok: bool,
    },
    /// The value now in `track_file` number `file` (a missing or unreadable file reads as 0, as
    /// in keepalived).
    FileValue {
        /// Current time.
        now: Instant,
        /// Index in [`Setup::track_files`].
        file: usize,
        /// The number read.
        value: i64,
    },
    /// An address was removed from an interface (by anyone).
    AddressRemoved {
        /// Current time.
        now: Instant,
        /// The interface.
        ifindex: u32,
        /// The address.
        addr: IpAddr,
    },
    /// SIGTERM: every MASTER sends priority 0 and removes its addresses, `notify_stop` runs,
    /// then [`Output::Stopped`].
    Shutdown {
        /// Current time.
        now: Instant,
    },
    /// SIGHUP: run `setup` from now on, changing only what differs (see [`ReloadSummary`]).
    /// Instances are matched by name. One whose settings are all the same keeps running
    /// untouched (state, timers, addresses). One whose VRID, version, interface, family, VMAC
    /// or sync group is the same is reconfigured in place: a new priority, interval or tracker
    /// is re-evaluated by its state machine, and a MASTER removes and adds only the addresses,
    /// routes and rules that differ and announces only the added addresses. Any other is
    /// stopped as on [`Input::Shutdown`] (priority 0 from a MASTER, addresses removed,
    /// `notify_stop`), and a new one starts. A setup the state machines refuse changes
    /// nothing. [`Output::Reloaded`] says what happened.
    Reload {
        /// Current time.
        now: Instant,
        /// The new configuration, mapped on this host (with the VMAC interface indexes of the
        /// running setup filled in by the driver).
        setup: &'a Setup,
    },
}

/// An advert to send, with where to and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Index of the instance in [`Setup::instances`].
    pub instance: usize,
    /// The interface to send on.
    pub ifindex: u32,
    /// What the state machine wants sent.
    pub advert: AdvertToSend,
    /// One copy to each: the multicast group or every unicast peer.
    pub destinations: Arc<[IpAddr]>,
    /// Authentication and checksum form ([`crate::codec::emit`] takes them).
    pub wire: WireOptions,
}

/// Addresses, routes and rules of one instance to add or remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostChange {
    /// Index of the instance.
    pub instance: usize,
    /// Its name (the index may be of the setup before a reload).
    pub name: String,
    /// Its virtual addresses (excluded ones too).
    pub vips: Arc<[vip::Vip]>,
    /// Its `virtual_routes`.
    pub routes: Arc<[vip::Route]>,
    /// Its `virtual_rules`.
    pub rules: Arc<[vip::Rule]>,
}

/// A state change, for logs and whoever watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The instance's name.
    pub instance: String,
    /// Old state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why, in words ("higher priority 150 from 192.0.2.2", "master down timer expired").
    pub reason: String,
}

/// What the driver must do; drained with [`Director::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send an advert.
    Send(Transmit),
    /// Add the instance's addresses, then its routes and rules.
    AddVips(HostChange),
    /// Remove the instance's rules and routes, then its addresses.
    RemoveVips(HostChange),
    /// Send one gratuitous ARP (IPv4) or unsolicited NA (IPv6) for `addr` on `ifindex`.
    Announce {
        /// The interface.
        ifindex: u32,
        /// The address.
        addr: IpAddr,
    },
    /// Run a `vrrp_script` and report with [`Input::ScriptResult`]; kill it after `timeout`.
    RunScript {
        /// Index in [`Setup::scripts`].
        script: usize,
        /// What to run.
        command: Command,
        /// When to give up.
        timeout: Duration,
    },
    /// Run a notify command (no shell; its exit status does not matter).
    Notify {
        /// Program and arguments, keepalived's extra arguments included.
        argv: Vec<String>,
        /// User and group to run as.
        user: Option<(String, Option<String>)>,
    },
    /// An instance changed state (already logged at info).
    StateChange(Transition),
    /// Nothing more until this deadline (or the next input); `None`: no timer.
    Timeout(Option<Instant>),
    /// After [`Input::Shutdown`], everything has been handed out: exit.
    Stopped,
    /// [`Input::Reload`] is done (its host changes come before this), or was refused with
    /// the reason and nothing changed.
    Reloaded(Result<ReloadSummary, String>),
}

#[derive(Debug, Clone, Copy)]
struct ScriptState {
    ok: bool,
    successes: u32,
    failures: u32,
    running: bool,
    next_run: Option<Instant>,
}

/// The director, sans-IO.
///
/// # The driving rule
///
/// Feed every event with [`handle_input`](Self::handle_input), then call
/// [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`] (or
/// [`Output::Stopped`]), acting on every other output in order. Feed [`Input::Timeout`] when
/// the deadline comes. The core never reads a clock, opens a socket or runs a process.
#[derive(Debug)]
pub struct Director {
    setup: Setup,
    groups: Vec<SyncGroup>,
    /// (group, member) of each instance.
    place: Vec<(usize, usize)>,
    group_deadline: Vec<Option<Instant>>,
    group_state: Vec<Option<State>>,
    demux: Demux<usize>,
    garp: garp::Announcer,
    garp_deadline: Option<Instant>,
    scripts: Vec<ScriptState>,
    links: HashMap<u32, bool>,
    /// The last advert handed to each instance: (priority, source), for the reason of a change.
    last_advert: Vec<Option<(u8, IpAddr)>>,
    queue: VecDeque<Output>,
    counters: Counters,
    /// Reused for every received advert (taken out while an advert borrows it).
    scratch: Option<Box<AddressScratch>>,
    /// Each instance's key for the GARP scheduler, kept across reloads.
    owners: Vec<u64>,
    next_owner: u64,
    /// During a reload, the instance being reconfigured: its state machine's address outputs
    /// (all old out, all new in) are replaced by the difference, until it changes state.
    quiet: Option<usize>,
    started: bool,
    stopping: bool,
    /// What [`Director::snapshot`] reports beyond the state machines' own: per-instance drops,
    /// the master last heard, transitions.
    observed: snapshot::Observed,
}

/// Why the core cannot be built from a [`Setup`] (the mapping normally catches these first).
pub type BuildError = vrrp_fsm::Error;

impl Director {
    /// Builds the state machines of `setup`; nothing runs until [`Input::Start`].
    pub fn new(setup: Setup) -> Result<Self, BuildError> {
        let mut groups = Vec::new();
        let mut place = vec![(0, 0); setup.instances.len()];
        let mut demux = Demux::new();
        for (g, group) in setup.groups.iter().enumerate() {
            let mut members = Vec::new();
            for (m, &i) in group.members.iter().enumerate() {
                let instance = vrrp_fsm::Instance::new(setup.instances[i].fsm.clone())?;
                demux.insert(instance.route_key(), i)?;
                place[i] = (g, m);
                members.push(instance);
            }
            groups.push(SyncGroup::new(members)?);
        }
        let scripts = setup
            .scripts
            .iter()
            .map(|s| ScriptState {
                ok: !s.init_fail,
                successes: 0,
                failures: 0,
                running: false,
                next_run: None,
            })
            .collect();
        let instances = setup.instances.len();
        Ok(Self {
            owners: (0..instances as u64).collect(),
            next_owner: instances as u64,
            quiet: None,
            garp: garp::Announcer::new(setup.garp_pacing.clone()),
            group_deadline: vec![None; groups.len()],
            group_state: vec![None; groups.len()],
            last_advert: vec![None; setup.instances.len()],
            setup,
            groups,
            place,
            demux,
            garp_deadline: None,
            scripts,
            links: HashMap::new(),
            queue: VecDeque::new(),
            counters: Counters::default(),
            scratch: Some(Box::default()),
            started: false,
            stopping: false,
            observed: snapshot::Observed::new(instances),
        })
    }

    /// What the core runs.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// The packet counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The state of instance `instance`.
    pub fn state(&self, instance: usize) -> State {
        let (g, m) = self.place[instance];
        self.groups[g].members()[m].state()
    }

    /// The effective priority of instance `instance`.
    pub fn priority(&self, instance: usize) -> u8 {
        let (g, m) = self.place[instance];
        self.groups[g].members()[m].effective_priority()
    }

    /// The index of the instance called `name`.
    pub fn instance_index(&self, name: &str) -> Option<usize> {
        self.setup.instances.iter().position(|i| i.name == name)
    }

    /// Handles one input.
    pub fn handle_input(&mut self, input: Input<'_>) {
        match input {
            Input::Start { now } => self.start(now),
            Input::Ipv4 {
                now,
                ifindex,
                datagram,
            } => {
                self.counters.received += 1;
                match parse_ipv4(datagram, ChecksumModes::ALL) {
                    Ok(received) => self.receive(now, ifindex, &received),
                    Err(e) => self.drop_packet(DropReason::of(&e), ifindex, &e),
                }
            }
            Input::Ipv6 {
                now,
                ifindex,
                meta,
                payload,
            } => {
                self.counters.received += 1;
                match parse_ipv6(payload, meta.src, meta.dst, meta.hop_limit) {
                    Ok(received) => self.receive(now, ifindex, &received),
                    Err(e) => self.drop_packet(DropReason::of(&e), ifindex, &e),
                }
            }
            Input::Timeout(now) => self.timeout(now),
            Input::Link { now, ifindex, up } => self.link(now, ifindex, up),
            Input::ScriptResult { now, script, ok } => self.script_result(now, script, ok),
            Input::FileValue { now, file, value } => self.file_value(now, file, value),
            Input::AddressRemoved {
                now: _,
                ifindex,
                addr,
            } => self.address_removed(ifindex, addr),
            Input::Shutdown { now } => self.shutdown(now),
            Input::Reload { now, setup } => self.reload(now, setup),
        }
    }

    /// The next action; [`Output::Timeout`] when there is none (see the type's docs).
    pub fn poll_output(&mut self) -> Output {
        if let Some(output) = self.queue.pop_front() {
            return output;
        }
        if self.stopping {
            return Output::Stopped;
        }
        let scripts = self.scripts.iter().filter_map(|s| s.next_run).min();
        let groups = self.group_deadline.iter().flatten().min().copied();
        Output::Timeout(
            [scripts, groups, self.garp_deadline]
                .into_iter()
                .flatten()
                .min(),
        )
    }

    // ----- inputs ------------------------------------------------------------------------

    fn start(&mut self, now: Instant) {
        if self.started {
            return;
        }
        self.started = true;
        for g in 0..self.groups.len() {
            self.start_group(g, now);
        }
        for s in &mut self.scripts {
            s.next_run = Some(now);
        }
        self.timeout(now);
    }

    /// Feeds the members of group `g` their own interface's link state and every tracker's
    /// current result, then Start.
    fn start_group(&mut self, g: usize, now: Instant) {
        for m in 0..self.setup.groups[g].members.len() {
            let i = self.setup.groups[g].members[m];
            let ifindex = self.setup.instances[i].fsm.interface.0;
            if let Some(&up) = self.links.get(&ifindex) {
                self.feed(
                    i,
                    vrrp_fsm::Input::Link {
                        now,
                        interface: InterfaceId(ifindex),
                        up,
                    },
                );
            }
            for t in 0..self.setup.instances[i].trackers.len() {
                let link = self.setup.instances[i].trackers[t];
                self.feed_current_result(i, link, now);
            }
        }
        for m in 0..self.setup.groups[g].members.len() {
            let _ = self.groups[g].handle_input(m, vrrp_fsm::Input::Start { now });
            self.drain_group(g, now);
        }
    }

    /// Feeds instance `i` what its tracker `link` watches says now (a track file's value comes
    /// with the next [`Input::FileValue`]).
    fn feed_current_result(&mut self, i: usize, link: crate::setup::TrackerLink, now: Instant) {
        let result = match link.source {
            TrackSource::Script(s) => Some(self.scripts[s].ok),
            TrackSource::Interface(ifindex) => {
                Some(self.links.get(&ifindex).copied().unwrap_or(true))
            }
            TrackSource::File(_) => None,
        };
        if let Some(ok) = result {
            self.feed(
                i,
                vrrp_fsm::Input::Tracker {
                    now,
                    id: link.id,
                    ok: ok != link.reverse,
                },
            );
        }
    }

    /// Feeds one input to instance `i` and acts on what its group says.
    fn feed(&mut self, i: usize, input: vrrp_fsm::Input<'_>) {
        let (g, m) = self.place[i];
        let now = input.now();
        if let Err(e) = self.groups[g].handle_input(m, input) {
            tracing::warn!(instance = %self.setup.instances[i].name, "refused: {e}");
        }
        self.drain_group(g, now);
    }

    fn timeout(&mut self, now: Instant) {
        for g in 0..self.groups.len() {
            if self.group_deadline[g].is_some_and(|d| d <= now) {
                self.groups[g].handle_timeout(now);
                self.drain_group(g, now);
            }
        }
        if !self.stopping {
            for (s, state) in self.scripts.iter_mut().enumerate() {
                let Some(due) = state.next_run.filter(|d| *d <= now) else {
                    continue;
                };
                let script = &self.setup.scripts[s];
                // Keep the cadence; a run still going when the next is due is not doubled.
                let mut next = due + script.interval;
                if next <= now {
                    next = now + script.interval;
                }
                state.next_run = Some(next);
                if !state.running {
                    state.running = true;
                    self.queue.push_back(Output::RunScript {
                        script: s,
                        command: script.command.clone(),
                        timeout: script.timeout,
                    });
                }
            }
        }
        if self.garp_deadline.is_some_and(|d| d <= now) {
            self.garp.handle_input(garp::schedule::Input::Timeout(now));
            self.drain_garp();
        }
    }

    fn drop_packet(&mut self, reason: DropReason, ifindex: u32, why: &dyn std::fmt::Display) {
        self.counters.drop(reason);
        tracing::debug!(
            ifindex,
            reason = reason.name(),
            "VRRP packet dropped: {why}"
        );
    }

    fn receive(&mut self, now: Instant, ifindex: u32, received: &Received<'_>) {
        let family = vrrp_fsm::Family::of(&received.src);
        let vrid = received.vrrp.vrid;
        let Some(&i) = self.demux.lookup(InterfaceId(ifindex), vrid, family) else {
            return self.drop_packet(
                DropReason::UnknownVrid,
                ifindex,
                &format_args!("VRID {vrid} from {}", received.src),
            );
        };
        let inst = &self.setup.instances[i];
        if let Some(reason) = check(inst, received) {
            let name = inst.name.clone();
            self.counters.drop(reason);
            self.observed.dropped(i, reason);
            match reason {
                // keepalived logs these at info: they point at a misconfiguration.
                DropReason::AuthMismatch
                | DropReason::IntervalMismatch
                | DropReason::AddressListMismatch
                | DropReason::VersionMismatch => tracing::info!(
                    instance = %name,
                    src = %received.src,
                    reason = reason.name(),
                    "advert ignored"
                ),
                _ => {
                    tracing::debug!(instance = %name, src = %received.src, reason = reason.name(), "advert ignored")
                }
            }
            return;
        }
        self.counters.accepted += 1;
        self.last_advert[i] = Some((received.vrrp.priority, received.src));
        self.observed.heard(i, now);
        let mut scratch = self.scratch.take().unwrap_or_default();
        let advert: ReceivedAdvert<'_> = to_fsm(received, InterfaceId(ifindex), &mut scratch);
        self.feed(i, vrrp_fsm::Input::Advert { now, advert });
        self.scratch = Some(scratch);
    }

    fn link(&mut self, now: Instant, ifindex: u32, up: bool) {
        let before = self.links.insert(ifindex, up);
        if !self.started {
            return;
        }
        if before == Some(up) {
            return;
        }
        for i in 0..self.setup.instances.len() {
            if self.setup.instances[i].fsm.interface.0 == ifindex {
                self.feed(
                    i,
                    vrrp_fsm::Input::Link {
                        now,
                        interface: InterfaceId(ifindex),
                        up,
                    },
                );
            }
            self.feed_trackers(i, now, TrackSource::Interface(ifindex), up);
        }
    }

    /// Tells instance `i`'s trackers that watch `source` whether it is OK (each tracker applies
    /// its own `reverse`).
    fn feed_trackers(&mut self, i: usize, now: Instant, source: TrackSource, ok: bool) {
        for t in 0..self.setup.instances[i].trackers.len() {
            let link = self.setup.instances[i].trackers[t];
            if link.source == source {
                self.feed(
                    i,
                    vrrp_fsm::Input::Tracker {
                        now,
                        id: link.id,
                        ok: ok != link.reverse,
                    },
                );
            }
        }
    }

    fn script_result(&mut self, now: Instant, script: usize, ok: bool) {
        let Some(state) = self.scripts.get_mut(script) else {
            return;
        };
        let setup = &self.setup.scripts[script];
        state.running = false;
        if ok {
            state.successes = state.successes.saturating_add(1);
            state.failures = 0;
        } else {
            state.failures = state.failures.saturating_add(1);
            state.successes = 0;
        }
        let flipped = if !state.ok && ok && state.successes >= setup.rise {
            state.ok = true;
            true
        } else if state.ok && !ok && state.failures >= setup.fall {
            state.ok = false;
            true
        } else {
            false
        };
        if !flipped || !self.started {
            return;
        }
        let now_ok = state.ok;
        tracing::info!(
            script = %setup.name,
            "vrrp_script {} now {}",
            setup.name,
            if now_ok { "succeeds" } else { "fails" }
        );
        for i in 0..self.setup.instances.len() {
            self.feed_trackers(i, now, TrackSource::Script(script), now_ok);
        }
    }

    fn file_value(&mut self, now: Instant, file: usize, value: i64) {
        for i in 0..self.setup.instances.len() {
            for t in 0..self.setup.instances[i].trackers.len() {
                let link = self.setup.instances[i].trackers[t];
                if link.source != TrackSource::File(file) {
                    continue;
                }
                let (weight, ok) = file_effect(link.weight, link.reverse, value);
                let position = self.setup.instances[i]
                    .fsm
                    .trackers
                    .iter()
                    .position(|x| x.id == link.id);
                if let Some(p) = position
                    && self.setup.instances[i].fsm.trackers[p].weight != weight
                {
                    self.setup.instances[i].fsm.trackers[p].weight = weight;
                    let config = self.setup.instances[i].fsm.clone();
                    if self.started {
                        self.feed(
                            i,
                            vrrp_fsm::Input::Reconfigure {
                                now,
                                config: &config,
                            },
                        );
                    } else {
                        let (g, m) = self.place[i];
                        let _ = self.groups[g].handle_input(
                            m,
                            vrrp_fsm::Input::Reconfigure {
                                now,
                                config: &config,
                            },
                        );
                    }
                }
                self.feed(
                    i,
                    vrrp_fsm::Input::Tracker {
                        now,
                        id: link.id,
                        ok,
                    },
                );
            }
        }
    }

    fn address_removed(&mut self, ifindex: u32, addr: IpAddr) {
        for i in 0..self.setup.instances.len() {
            let inst = &self.setup.instances[i];
            let ours = inst
                .vips
                .iter()
                .zip(inst.vip_ifindex.iter())
                .any(|(v, &x)| v.addr == addr && x == ifindex);
            if ours && self.state(i) == State::Master {
                tracing::warn!(instance = %inst.name, %addr, "virtual address removed by someone else: putting it back");
                let change = self.host_change(i);
                self.queue.push_back(Output::AddVips(change));
            }
        }
    }

    fn shutdown(&mut self, now: Instant) {
        if self.stopping {
            return;
        }
        for g in 0..self.groups.len() {
            for m in 0..self.setup.groups[g].members.len() {
                let _ = self.groups[g].handle_input(m, vrrp_fsm::Input::Shutdown { now });
                self.drain_group(g, now);
            }
        }
        self.stopping = true;
        for s in &mut self.scripts {
            s.next_run = None;
        }
    }

    // ----- outputs -----------------------------------------------------------------------

    fn drain_group(&mut self, g: usize, now: Instant) {
        loop {
            match self.groups[g].poll_output() {
                GroupOutput::Member { member, output } => {
                    let i = self.setup.groups[g].members[member];
                    self.act(i, output, now);
                }
                GroupOutput::Timeout(deadline) => {
                    self.group_deadline[g] = deadline;
                    break;
                }
            }
        }
        self.group_notify(g);
    }

    fn act(&mut self, i: usize, output: vrrp_fsm::Output, now: Instant) {
        if self.quiet == Some(i) {
            match &output {
                vrrp_fsm::Output::StateChange { .. } => self.quiet = None,
                vrrp_fsm::Output::AddVips { .. } | vrrp_fsm::Output::RemoveVips { .. } => return,
                vrrp_fsm::Output::Garp(g) if g.reason == GarpReason::BecameMaster => return,
                _ => {}
            }
        }
        match output {
            vrrp_fsm::Output::SendAdvert(advert) => {
                let inst = &self.setup.instances[i];
                self.queue.push_back(Output::Send(Transmit {
                    instance: i,
                    ifindex: inst.fsm.interface.0,
                    advert,
                    destinations: inst.destinations.clone(),
                    wire: inst.wire,
                }));
            }
            vrrp_fsm::Output::AddVips { .. } => {
                let change = self.host_change(i);
                self.queue.push_back(Output::AddVips(change));
            }
            vrrp_fsm::Output::RemoveVips { .. } => {
                let change = self.host_change(i);
                self.queue.push_back(Output::RemoveVips(change));
            }
            vrrp_fsm::Output::Garp(schedule) => {
                let inst = &self.setup.instances[i];
                let vips = inst
                    .vips
                    .iter()
                    .zip(inst.vip_ifindex.iter())
                    .map(|(v, &ifindex)| garp::schedule::Target {
                        ifindex,
                        addr: v.addr,
                    })
                    .collect();
                self.garp.handle_input(garp::schedule::Input::Start {
                    now,
                    owner: self.garp_owner(i, schedule.reason),
                    vips,
                    plan: crate::garp_plan(&schedule),
                });
                self.drain_garp();
            }
            vrrp_fsm::Output::StateChange { from, to, reason } => {
                self.state_change(i, from, to, reason, now);
            }
            vrrp_fsm::Output::Timeout(_) => {}
        }
    }

    fn state_change(&mut self, i: usize, from: State, to: State, reason: Reason, now: Instant) {
        if from == State::Master {
            for r in [GarpReason::BecameMaster, GarpReason::LowerPriorityAdvert] {
                let owner = self.garp_owner(i, r);
                self.garp
                    .handle_input(garp::schedule::Input::Stop { now, owner });
            }
            self.drain_garp();
        }
        let reason = self.describe(i, reason);
        let inst = &self.setup.instances[i];
        tracing::info!(
            instance = %inst.name,
            from = state_name(from),
            to = state_name(to),
            "({}) entering {} state: {reason}",
            inst.name,
            state_name(to)
        );
        self.observed
            .transition(i, &inst.name, from, to, &reason, now);
        let priority = self.priority(i);
        let inst = &self.setup.instances[i];
        let notify = inst.notify.clone();
        let name = inst.name.clone();
        self.queue.push_back(Output::StateChange(Transition {
            instance: name.clone(),
            from,
            to,
            reason,
        }));
        self.notify(&notify, "INSTANCE", &name, to, priority);
    }

    /// keepalived's notify: the state's own script, then `notify` with "GROUP"|"INSTANCE", the
    /// name, the state and the priority after the configured arguments.
    fn notify(&mut self, notify: &Notify, kind: &str, name: &str, to: State, priority: u8) {
        let specific = match to {
            State::Master => &notify.master,
            State::Backup => &notify.backup,
            State::Fault => &notify.fault,
            State::Initialize => &notify.stop,
        };
        if let Some(command) = specific {
            self.queue.push_back(Output::Notify {
                argv: command.argv.to_vec(),
                user: command.user.clone(),
            });
        }
        if let Some(command) = &notify.any {
            let mut argv = command.argv.to_vec();
            argv.extend([
                kind.to_string(),
                name.to_string(),
                notify_state(to).to_string(),
                priority.to_string(),
            ]);
            self.queue.push_back(Output::Notify {
                argv,
                user: command.user.clone(),
            });
        }
    }

    /// A named sync group's state: MASTER when every member is, FAULT when any is, BACKUP
    /// otherwise; its notify runs when that changes.
    fn group_notify(&mut self, g: usize) {
        let Some(name) = self.setup.groups[g].name.clone() else {
            return;
        };
        let states: Vec<State> = self.groups[g].members().iter().map(|m| m.state()).collect();
        let state = if states.iter().all(|s| *s == State::Master) {
            State::Master
        } else if states.contains(&State::Fault) {
            State::Fault
        } else if states.contains(&State::Initialize) {
            // Starting or stopping: "stop only applies to instances" (keepalived.conf(5)).
            return;
        } else {
            State::Backup
        };
        if self.group_state[g] == Some(state) {
            return;
        }
        self.group_state[g] = Some(state);
        tracing::info!(group = %name, "sync group {name} entering {} state", state_name(state));
        let notify = self.setup.groups[g].notify.clone();
        // keepalived passes priority 0 for a group.
        self.notify(&notify, "GROUP", &name, state, 0);
    }

    fn drain_garp(&mut self) {
        loop {
            match self.garp.poll_output() {
                garp::schedule::Output::Announce(v) => {
                    self.observed.garps_sent += 1;
                    self.queue.push_back(Output::Announce {
                        ifindex: v.ifindex,
                        addr: v.addr,
                    });
                }
                garp::schedule::Output::Timeout(at) => {
                    self.garp_deadline = Some(at);
                    return;
                }
                _ => {
                    self.garp_deadline = None;
                    return;
                }
            }
        }
    }

    fn host_change(&self, i: usize) -> HostChange {
        let inst = &self.setup.instances[i];
        HostChange {
            instance: i,
            name: inst.name.clone(),
            vips: inst.vips.clone(),
            routes: inst.routes.clone(),
            rules: inst.rules.clone(),
        }
    }

    /// The GARP scheduler's owner key for an instance and a reason: the lower-priority schedule
    /// runs beside the master's, not instead of it.
    fn garp_owner(&self, i: usize, reason: GarpReason) -> u64 {
        let r = match reason {
            GarpReason::BecameMaster => 0,
            GarpReason::LowerPriorityAdvert => 1,
        };
        self.owners[i] << 1 | r
    }

    fn describe(&self, i: usize, reason: Reason) -> String {
        let inst = &self.setup.instances[i];
        match reason {
            Reason::Startup => "startup".into(),
            Reason::AddressOwner => "address owner (priority 255)".into(),
            Reason::MasterDown => "master down timer expired".into(),
            Reason::HigherPriorityAdvert => match self.last_advert[i] {
                Some((priority, src)) => format!("higher priority {priority} from {src}"),
                None => "higher priority advert".into(),
            },
            Reason::InterfaceDown => format!("interface {} down", inst.ifname),
            Reason::TrackerFailed(id) => self.describe_tracker(inst, id),
            Reason::SyncGroupFault => "another member of the sync group has a fault".into(),
            Reason::FaultCleared => "fault cleared".into(),
            Reason::SyncGroup => "sync group".into(),
            Reason::Shutdown => "shutdown".into(),
        }
    }

    fn describe_tracker(&self, inst: &InstanceSetup, id: TrackerId) -> String {
        match inst.trackers.iter().find(|t| t.id == id).map(|t| t.source) {
            Some(TrackSource::Script(s)) => {
                format!("vrrp_script {} failed", self.setup.scripts[s].name)
            }
            Some(TrackSource::Interface(ifindex)) => {
                let name = self.setup.interfaces.iter().find(|i| i.index == ifindex);
                match name {
                    Some(i) => format!("tracked interface {} down", i.name),
                    None => format!("tracked interface {ifindex} down"),
                }
            }
            Some(TrackSource::File(f)) => {
                format!("track_file {} failed", self.setup.track_files[f].name)
            }
            None => format!("tracker {} failed", id.0),
        }
    }
}

/// The state machine's weight and result for a track file holding `value` (keepalived.conf(5)):
/// weight 0: any non-zero value fails (FAULT); otherwise `value × weight` is added to the
/// priority, and a result below -253 means FAULT.
fn file_effect(weight: i32, reverse: bool, value: i64) -> (i16, bool) {
    if weight == 0 {
        return (0, (value == 0) != reverse);
    }
    let mut adjust = value.saturating_mul(i64::from(weight));
    if reverse {
        adjust = -adjust;
    }
    if adjust < -253 {
        (0, false)
    } else if adjust > 0 {
        (adjust.min(254) as i16, true)
    } else if adjust < 0 {
        (adjust as i16, false)
    } else {
        (0, true)
    }
}

/// The state as keepalived's notify and logs spell it.
pub fn state_name(state: State) -> &'static str {
    match state {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

fn notify_state(state: State) -> &'static str {
    match state {
        State::Initialize => "STOP",
        other => state_name(other),
    }
}
