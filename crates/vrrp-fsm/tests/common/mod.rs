//! A deterministic simulator: N routers on one simulated LAN with delay, loss, partitions,
//! crashes, restarts, link and tracker changes, driven by a virtual clock that jumps to the
//! earliest deadline. A bound on the number of steps turns a livelock into a failure.
//!
//! Shared by `simulator.rs` and `properties.rs`; not every helper is used by both.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_fsm::{
    Config, Input, Instance, InterfaceId, Output, Reason, ReceivedAdvert, State, Tracker,
    TrackerId, Version,
};

/// The one interface every simulated router uses.
pub(crate) const IFACE: InterfaceId = InterfaceId(2);
/// The tracker every router may have.
pub(crate) const TRACKER: TrackerId = TrackerId(1);

/// What the network does to packets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Net {
    /// Smallest delivery delay.
    pub(crate) delay_min: Duration,
    /// Largest delivery delay (uniform in between).
    pub(crate) delay_max: Duration,
    /// Loss probability in 1/1000.
    pub(crate) loss_permille: u16,
}

impl Net {
    pub(crate) const PERFECT: Self = Self {
        delay_min: Duration::ZERO,
        delay_max: Duration::ZERO,
        loss_permille: 0,
    };
}

/// A scripted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// Power loss: the instance vanishes, nothing is sent.
    Crash(usize),
    /// Clean stop: Shutdown (priority 0 from a master), then gone.
    Stop(usize),
    /// A crashed or stopped router comes back (a fresh instance, started).
    Restart(usize),
    /// Routers whose bit is set form one side, the rest the other.
    Partition(u32),
    /// One LAN again.
    Heal,
    /// New loss rate in 1/1000.
    Loss(u16),
    /// A tracker result.
    Tracker(usize, bool),
    /// The router's interface goes up or down.
    Link(usize, bool),
}

/// What happened, for properties and the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    StateChange {
        at: Duration,
        router: usize,
        from: State,
        to: State,
        reason: Reason,
    },
    Sent {
        at: Duration,
        router: usize,
        priority: u8,
    },
    Delivered {
        at: Duration,
        from: usize,
        to: usize,
        priority: u8,
        interval_cs: u16,
    },
    Event {
        at: Duration,
        event: Event,
    },
}

#[derive(Debug, Clone)]
struct Packet {
    from: usize,
    version: Version,
    vrid: u8,
    priority: u8,
    interval_cs: u16,
    src: IpAddr,
    addresses: std::sync::Arc<[IpAddr]>,
}

pub(crate) struct Router {
    pub(crate) config: Config,
    pub(crate) vr: Option<Instance>,
    pub(crate) link_up: bool,
    pub(crate) tracker_ok: bool,
    /// The last `Output::Timeout` the instance gave: the only way the simulator learns deadlines.
    pub(crate) deadline: Option<Instant>,
}

pub(crate) struct Sim {
    pub(crate) t0: Instant,
    pub(crate) now: Duration,
    pub(crate) routers: Vec<Router>,
    pub(crate) net: Net,
    /// Side of each router; all 0 when healed.
    side: Vec<u8>,
    in_flight: BinaryHeap<Reverse<(Duration, u64, usize)>>,
    /// When each router's latest packet arrives: one sender's packets are never reordered (a LAN
    /// delays them, but keeps them in the order they were sent).
    last_arrival: Vec<Duration>,
    packets: Vec<Option<Packet>>,
    script: BinaryHeap<Reverse<(Duration, u64)>>,
    events: Vec<Event>,
    seq: u64,
    rng: u64,
    pub(crate) records: Vec<Record>,
    pub(crate) steps: usize,
    pub(crate) step_limit: usize,
}

/// A simulated router's primary address: 192.0.2.(i + 1) or fe80::(i + 1).
pub(crate) fn address(family_v6: bool, i: usize) -> IpAddr {
    if family_v6 {
        IpAddr::V6(std::net::Ipv6Addr::new(
            0xfe80,
            0,
            0,
            0,
            0,
            0,
            0,
            i as u16 + 1,
        ))
    } else {
        IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, i as u8 + 1))
    }
}

/// A router configuration for the simulator.
pub(crate) fn router_config(
    version: Version,
    v6: bool,
    i: usize,
    priority: u8,
    interval_cs: u16,
    preempt: bool,
    weight: Option<i16>,
) -> Config {
    let vip: IpAddr = if v6 {
        "2001:db8::100".parse().unwrap()
    } else {
        "192.0.2.100".parse().unwrap()
    };
    let mut c = Config::new(7, version, IFACE, address(v6, i), vec![vip]);
    c.priority = priority;
    c.advert_interval_cs = interval_cs;
    c.preempt = preempt;
    c.trackers = weight
        .map(|weight| {
            vec![Tracker {
                id: TRACKER,
                weight,
            }]
        })
        .unwrap_or_default();
    c
}

impl Sim {
    /// Routers built from `configs`, none started; `seed` drives delay and loss.
    pub(crate) fn new(configs: Vec<Config>, net: Net, seed: u64) -> Self {
        let n = configs.len();
        Self {
            t0: Instant::now(),
            now: Duration::ZERO,
            routers: configs
                .into_iter()
                .map(|config| Router {
                    config,
                    vr: None,
                    link_up: true,
                    tracker_ok: true,
                    deadline: None,
                })
                .collect(),
            net,
            side: vec![0; n],
            in_flight: BinaryHeap::new(),
            last_arrival: vec![Duration::ZERO; n],
            packets: Vec::new(),
            script: BinaryHeap::new(),
            events: Vec::new(),
            seq: 0,
            rng: seed ^ 0x9e37_79b9_7f4a_7c15,
            records: Vec::new(),
            steps: 0,
            step_limit: 50_000,
        }
    }

    /// Starts every router now.
    pub(crate) fn start_all(&mut self) {
        for r in 0..self.routers.len() {
            self.restart(r);
        }
    }

    /// Schedules `event` at `at`.
    pub(crate) fn schedule(&mut self, at: Duration, event: Event) {
        self.seq += 1;
        self.events.push(event);
        self.script
            .push(Reverse((at, (self.events.len() - 1) as u64)));
    }

    fn random(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn instant(&self, at: Duration) -> Instant {
        self.t0 + at
    }

    /// The earliest thing that will happen.
    pub(crate) fn next_time(&self) -> Option<Duration> {
        let mut best = self.in_flight.peek().map(|Reverse((t, _, _))| *t);
        let mut consider = |t: Duration| best = Some(best.map_or(t, |b: Duration| b.min(t)));
        if let Some(Reverse((t, _))) = self.script.peek() {
            consider(*t);
        }
        for router in &self.routers {
            if router.vr.is_some()
                && let Some(d) = router.deadline
            {
                consider(d.saturating_duration_since(self.t0));
            }
        }
        best
    }

    /// Runs every step up to and including `end`; the clock ends at `end`.
    pub(crate) fn run_until(&mut self, end: Duration) {
        while let Some(t) = self.next_time() {
            if t > end {
                break;
            }
            self.step(t);
        }
        self.now = self.now.max(end);
    }

    /// Counts one input to one router; a run that needs more than `step_limit` of them fails
    /// (a livelock, e.g. two masters answering each other at the same instant, never advances
    /// the clock, so the bound counts inputs, not clock jumps).
    fn tick(&mut self) {
        self.steps += 1;
        if self.steps > self.step_limit {
            panic!(
                "step bound of {} exceeded at {:?}: livelock?\n{}",
                self.step_limit,
                self.now,
                self.timeline()
            );
        }
    }

    fn step(&mut self, t: Duration) {
        self.now = self.now.max(t);
        while let Some(Reverse((at, index))) = self.script.peek().copied() {
            if at > t {
                break;
            }
            self.script.pop();
            let event = self.events[index as usize];
            self.apply(event);
        }
        while let Some(Reverse((at, _, id))) = self.in_flight.peek().copied() {
            if at > t {
                break;
            }
            self.in_flight.pop();
            if let Some(packet) = self.packets[id].take() {
                self.deliver_all(packet);
            }
        }
        for r in 0..self.routers.len() {
            let router = &self.routers[r];
            let due = router.vr.is_some() && router.deadline.is_some_and(|d| d <= self.instant(t));
            if due {
                self.input(r, Input::Timeout);
            }
        }
    }

    /// Feeds one input built from `now` and moves the router's outputs onto the LAN.
    fn input(&mut self, r: usize, make: impl FnOnce(Instant) -> Input<'static>) {
        let now = self.instant(self.now);
        if self.routers[r].vr.is_none() {
            return;
        }
        self.tick();
        let Some(vr) = self.routers[r].vr.as_mut() else {
            return;
        };
        vr.handle_input(make(now)).expect("only Reconfigure fails");
        self.drain(r);
    }

    fn drain(&mut self, r: usize) {
        loop {
            let Some(vr) = self.routers[r].vr.as_mut() else {
                return;
            };
            match vr.poll_output() {
                Output::Timeout(deadline) => {
                    self.routers[r].deadline = deadline;
                    return;
                }
                Output::StateChange { from, to, reason } => {
                    self.records.push(Record::StateChange {
                        at: self.now,
                        router: r,
                        from,
                        to,
                        reason,
                    })
                }
                Output::SendAdvert(a) => {
                    self.records.push(Record::Sent {
                        at: self.now,
                        router: r,
                        priority: a.priority,
                    });
                    let packet = Packet {
                        from: r,
                        version: a.version,
                        vrid: a.vrid,
                        priority: a.priority,
                        interval_cs: a.max_advert_interval_cs,
                        src: a.src,
                        addresses: a.addresses,
                    };
                    if !self.routers[r].link_up {
                        continue;
                    }
                    let span = self.net.delay_max.saturating_sub(self.net.delay_min);
                    let delay = self.net.delay_min
                        + Duration::from_micros(self.random() % (span.as_micros() as u64 + 1));
                    let arrival = (self.now + delay).max(self.last_arrival[r]);
                    self.last_arrival[r] = arrival;
                    self.packets.push(Some(packet));
                    self.seq += 1;
                    self.in_flight
                        .push(Reverse((arrival, self.seq, self.packets.len() - 1)));
                }
                Output::AddVips { .. } | Output::RemoveVips { .. } | Output::Garp(_) => {}
            }
        }
    }

    /// One multicast packet reaches every other router on the same side, each with its own loss.
    fn deliver_all(&mut self, packet: Packet) {
        for to in 0..self.routers.len() {
            if to == packet.from
                || self.side[to] != self.side[packet.from]
                || !self.routers[to].link_up
                || self.routers[to].vr.is_none()
            {
                continue;
            }
            if self.net.loss_permille > 0
                && self.random() % 1000 < u64::from(self.net.loss_permille)
            {
                continue;
            }
            self.tick();
            self.records.push(Record::Delivered {
                at: self.now,
                from: packet.from,
                to,
                priority: packet.priority,
                interval_cs: packet.interval_cs,
            });
            let addresses = packet.addresses.clone();
            let now = self.instant(self.now);
            let advert = ReceivedAdvert {
                version: packet.version,
                vrid: packet.vrid,
                priority: packet.priority,
                max_advert_interval_cs: packet.interval_cs,
                addresses: &addresses,
                src: packet.src,
                interface: IFACE,
            };
            if let Some(vr) = self.routers[to].vr.as_mut() {
                vr.handle_input(Input::Advert { now, advert })
                    .expect("adverts never fail");
            }
            self.drain(to);
        }
    }

    fn restart(&mut self, r: usize) {
        if self.routers[r].vr.is_some() {
            return;
        }
        let vr = Instance::new(self.routers[r].config.clone()).expect("valid config");
        self.routers[r].vr = Some(vr);
        let (link_up, tracker_ok) = (self.routers[r].link_up, self.routers[r].tracker_ok);
        if !link_up {
            self.input(r, |now| Input::Link {
                now,
                interface: IFACE,
                up: false,
            });
        }
        if !tracker_ok {
            self.input(r, |now| Input::Tracker {
                now,
                id: TRACKER,
                ok: false,
            });
        }
        self.input(r, |now| Input::Start { now });
    }

    /// Applies `event` now.
    pub(crate) fn apply(&mut self, event: Event) {
        self.records.push(Record::Event {
            at: self.now,
            event,
        });
        let n = self.routers.len();
        match event {
            Event::Crash(r) if r < n => self.routers[r].vr = None,
            Event::Stop(r) if r < n => {
                self.input(r, |now| Input::Shutdown { now });
                self.routers[r].vr = None;
            }
            Event::Restart(r) if r < n => self.restart(r),
            Event::Partition(mask) => {
                for (r, side) in self.side.iter_mut().enumerate() {
                    *side = u8::from(mask & (1 << r) != 0);
                }
            }
            Event::Heal => self.side.iter_mut().for_each(|s| *s = 0),
            Event::Loss(permille) => self.net.loss_permille = permille,
            Event::Tracker(r, ok) if r < n => {
                self.routers[r].tracker_ok = ok;
                self.input(r, |now| Input::Tracker {
                    now,
                    id: TRACKER,
                    ok,
                });
            }
            Event::Link(r, up) if r < n => {
                self.routers[r].link_up = up;
                self.input(r, |now| Input::Link {
                    now,
                    interface: IFACE,
                    up,
                });
            }
            _ => {}
        }
    }

    /// Routers currently MASTER.
    pub(crate) fn masters(&self) -> Vec<usize> {
        self.in_state(State::Master)
    }

    pub(crate) fn in_state(&self, state: State) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&r| self.routers[r].vr.as_ref().map(Instance::state) == Some(state))
            .collect()
    }

    /// Routers that are alive and can be elected, from what the simulator itself knows (link up,
    /// no weight-0 tracker failing), not from the instances' own states.
    pub(crate) fn eligible(&self) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&r| {
                let router = &self.routers[r];
                router.vr.is_some()
                    && router.link_up
                    && (router.tracker_ok || router.config.trackers.iter().all(|t| t.weight != 0))
            })
            .collect()
    }

    /// The effective priority keepalived's rules give router `r`, worked out here from its
    /// configuration and the tracker result the simulator last reported (the oracle does not ask
    /// the instance).
    pub(crate) fn expected_priority(&self, r: usize) -> u8 {
        let router = &self.routers[r];
        let base = router.config.priority;
        if base == 255 {
            return 255;
        }
        let mut priority = i32::from(base);
        for t in &router.config.trackers {
            if (t.weight > 0 && router.tracker_ok) || (t.weight < 0 && !router.tracker_ok) {
                priority += i32::from(t.weight);
            }
        }
        priority.clamp(1, 254) as u8
    }

    /// (expected effective priority, primary address as an integer): the election order.
    pub(crate) fn rank(&self, r: usize) -> (u8, u128) {
        let addr = match self.routers[r].config.primary_address {
            IpAddr::V4(a) => u128::from(u32::from(a)),
            IpAddr::V6(a) => u128::from(a),
        };
        (self.expected_priority(r), addr)
    }

    /// Checks every live instance against the oracle: its effective priority, and FAULT exactly
    /// when it cannot be elected.
    pub(crate) fn check_oracle(&self) -> Result<(), String> {
        let eligible = self.eligible();
        for (r, router) in self.routers.iter().enumerate() {
            let Some(vr) = &router.vr else { continue };
            if vr.effective_priority() != self.expected_priority(r) {
                return Err(format!(
                    "r{r}: effective priority {}, expected {}",
                    vr.effective_priority(),
                    self.expected_priority(r)
                ));
            }
            if (vr.state() == State::Fault) == eligible.contains(&r) {
                return Err(format!(
                    "r{r}: state {:?} but eligible is {}",
                    vr.state(),
                    eligible.contains(&r)
                ));
            }
        }
        Ok(())
    }

    /// Whether router `r` was MASTER at any instant in `from..=to`, from the recorded state
    /// changes (a crash records none, but a crashed router is not alive again until a restart,
    /// which records one).
    pub(crate) fn was_master_during(&self, r: usize, from: Duration, to: Duration) -> bool {
        let mut master = false;
        for record in &self.records {
            match record {
                Record::StateChange {
                    at, router, to: s, ..
                } if *router == r => {
                    if *at > to {
                        break;
                    }
                    if *at > from && master {
                        return true;
                    }
                    master = *s == State::Master;
                }
                Record::Event {
                    at,
                    event: Event::Crash(c),
                } if *c == r && *at <= from => master = false,
                _ => {}
            }
        }
        master
    }

    /// State changes at or after `since`.
    pub(crate) fn changes_since(&self, since: Duration) -> Vec<&Record> {
        self.records
            .iter()
            .filter(|r| matches!(r, Record::StateChange { at, .. } if *at >= since))
            .collect()
    }

    /// Everything that happened, one line each.
    pub(crate) fn timeline(&self) -> String {
        let mut out = String::new();
        for (r, router) in self.routers.iter().enumerate() {
            let c = &router.config;
            let _ = writeln!(
                out,
                "router {r}: {} {:?} priority {} interval {} cs preempt {} trackers {:?} \
                 lower_prio_send_advert {} higher_prio_send_advert {}",
                c.primary_address,
                c.version,
                c.priority,
                c.advert_interval_cs,
                c.preempt,
                c.trackers,
                c.lower_prio_send_advert,
                c.higher_prio_send_advert
            );
        }
        for record in &self.records {
            let line = match record {
                Record::StateChange {
                    at,
                    router,
                    from,
                    to,
                    reason,
                } => format!("{:>10.3?} r{router} {from:?} -> {to:?} ({reason:?})", at),
                Record::Sent {
                    at,
                    router,
                    priority,
                } => format!("{:>10.3?} r{router} sends priority {priority}", at),
                Record::Delivered { .. } => continue,
                Record::Event { at, event } => format!("{:>10.3?} EVENT {event:?}", at),
            };
            out.push_str(&line);
            out.push('\n');
        }
        let _ = writeln!(out, "{:>10.3?} end; masters {:?}", self.now, self.masters());
        // A livelock makes a long timeline: keep its head and its tail.
        let lines: Vec<&str> = out.lines().collect();
        if lines.len() <= 400 {
            return out;
        }
        format!(
            "{}\n... {} lines omitted ...\n{}\n",
            lines[..100].join("\n"),
            lines.len() - 400,
            lines[lines.len() - 300..].join("\n")
        )
    }
}

/// Master_Down_Interval written out independently of the crate, for the properties.
pub(crate) fn expected_master_down(version: Version, priority: u8, interval_cs: u16) -> Duration {
    let interval = u64::from(interval_cs);
    let weight = 256 - u64::from(priority);
    match version {
        Version::V3 => Duration::from_millis(10 * (3 * interval + weight * interval / 256)),
        Version::V2 => {
            Duration::from_secs(3 * interval / 100)
                + Duration::from_nanos(weight * 1_000_000_000 / 256)
        }
    }
}

/// Skew_Time written out independently of the crate.
pub(crate) fn expected_skew(version: Version, priority: u8, interval_cs: u16) -> Duration {
    expected_master_down(version, priority, interval_cs)
        - match version {
            Version::V3 => Duration::from_millis(30 * u64::from(interval_cs)),
            Version::V2 => Duration::from_secs(3 * u64::from(interval_cs) / 100),
        }
}
