//! When to announce: keepalived's GARP schedule carried out as a sans-IO machine.
//!
//! The VRRP state machine decides *when* to announce (`vrrp-fsm` emits a `GarpSchedule` from its
//! `GarpConfig`: `garp_master_*` on becoming master, `garp_lower_prio_*` on hearing a
//! lower-priority advert); this announcer carries each such [`Plan`] out: `repeat` announcements
//! per address now, `repeat` more after `delay`, then `refresh_repeat` every `refresh` until the
//! plan is stopped. Plans belong to an owner (the director's key, e.g. one per instance and
//! reason), so a lower-priority plan does not cancel the master's refresh. On each interface,
//! successive GARPs are at least `garp_interval` apart and successive NAs `gna_interval` apart
//! (keepalived's `vrrp_garp_interval` / `vrrp_gna_interval`, shared by every owner).
//!
//! The announcer reads no clock and sends nothing: the driver feeds it inputs carrying `now` and
//! drains [`Announcer::poll_output`] until it returns [`Output::Timeout`] (sleep until then, then
//! feed [`Input::Timeout`]) or [`Output::Idle`] (nothing will happen until the next input).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The pacing of announcements on each interface (keepalived's `vrrp_garp_interval` and
/// `vrrp_gna_interval`); the timing of each plan comes with the [`Plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Minimum gap between two gratuitous ARPs on one interface (`garp_interval`, default 0).
    pub garp_interval: Duration,
    /// Minimum gap between two unsolicited NAs on one interface (`gna_interval`, default 0).
    pub gna_interval: Duration,
}

/// One schedule to carry out: what `vrrp_fsm::GarpSchedule` says, without the addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Announcements per address now, and again after `delay`.
    pub repeat: u32,
    /// Delay of the second set; `None`: no second set.
    pub delay: Option<Duration>,
    /// Period of the refresh sets until the plan is stopped; `None`: no refresh.
    pub refresh: Option<Duration>,
    /// Announcements per address in each refresh set.
    pub refresh_repeat: u32,
}

impl Plan {
    /// keepalived's defaults after becoming master: 5 now, 5 after 5 s, no refresh.
    pub const KEEPALIVED_MASTER: Self = Self {
        repeat: 5,
        delay: Some(Duration::from_secs(5)),
        refresh: None,
        refresh_repeat: 1,
    };
}

/// How far ahead a time that would leave the clock's range is put instead: about 30 years.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + delay`, saturated: a plan or pacing with a huge delay (`Duration::MAX`) from a library
/// caller gives a timer in the far future, never a panic.
fn later(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .or_else(|| now.checked_add(FAR_FUTURE.min(delay)))
        .unwrap_or(now)
}

/// An address to announce (the target address of a gratuitous ARP or unsolicited NA), and the
/// interface (the driver's index) it lives on.
///
/// Named `Target`, not `Vip`: `vip::Vip` is the whole kernel address (prefix, label, scope...),
/// this is only what an announcement needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// Interface index (or any key the driver maps to a [`Sender`](crate::Sender)).
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
}

/// The old name of [`Target`].
#[deprecated(
    note = "renamed `Target` (`vip::Vip` is the kernel address; this is what a GARP names)"
)]
pub type Vip = Target;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// Carry out `plan` for `vips` on behalf of `owner`, starting now; replaces what `owner` had
    /// (its queued announcements are dropped).
    Start {
        /// The time.
        now: Instant,
        /// The driver's key for this plan.
        owner: u64,
        /// The addresses to announce.
        vips: Vec<Target>,
        /// When.
        plan: Plan,
    },
    /// The owner's set of addresses changed (added ones are announced at once, with one set of
    /// the plan's `repeat`; removed ones are dropped from the queues).
    VipsChanged {
        /// The time.
        now: Instant,
        /// The owner.
        owner: u64,
        /// The whole new set.
        vips: Vec<Target>,
    },
    /// Stop the owner's plan and drop what it has queued (the router left MASTER).
    Stop {
        /// The time.
        now: Instant,
        /// The owner.
        owner: u64,
    },
    /// Time passed (a deadline returned earlier was reached).
    Timeout(Instant),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send one announcement for this address, now.
    Announce(Target),
    /// Nothing more until this time: feed [`Input::Timeout`] then.
    Timeout(Instant),
    /// Nothing scheduled until the next input.
    Idle,
}

/// One owner's plan in progress; each deadline fires once (firing clears it).
#[derive(Debug)]
struct Run {
    owner: u64,
    vips: Vec<Target>,
    plan: Plan,
    second_set: Option<Instant>,
    refresh: Option<Instant>,
}

/// `sets` rounds of one owner's addresses on one queue, address after address: the queue holds
/// each address once however large the plan's `repeat` (a library caller's `u32::MAX` costs
/// memory for its addresses, not for its repeats).
#[derive(Debug)]
struct Batch {
    owner: u64,
    addrs: Vec<IpAddr>,
    /// Rounds left, counting the one in progress (never 0 while queued).
    sets: u32,
    /// Position in the round in progress.
    cursor: usize,
}

impl Batch {
    /// Announcements left in this batch.
    fn remaining(&self) -> usize {
        let later_sets = usize::try_from(self.sets - 1).unwrap_or(usize::MAX);
        later_sets
            .saturating_mul(self.addrs.len())
            .saturating_add(self.addrs.len() - self.cursor)
    }

    /// Keeps only the addresses `keep` accepts, staying at the same place in the round.
    fn retain(&mut self, keep: impl Fn(IpAddr) -> bool) {
        let done = self.addrs[..self.cursor]
            .iter()
            .filter(|&&a| keep(a))
            .count();
        self.addrs.retain(|&a| keep(a));
        self.cursor = done;
        if self.cursor == self.addrs.len() && !self.addrs.is_empty() {
            self.cursor = 0;
            self.sets -= 1;
        }
    }
}

/// One pacing queue: the addresses of one family waiting on one interface, by owner.
#[derive(Debug)]
struct Queue {
    ifindex: u32,
    ipv4: bool,
    pending: VecDeque<Batch>,
    next_allowed: Option<Instant>,
}

impl Queue {
    /// The next address to announce, taken off the queue.
    fn pop(&mut self) -> Option<IpAddr> {
        let batch = self.pending.front_mut()?;
        let addr = batch.addrs[batch.cursor];
        batch.cursor += 1;
        if batch.cursor == batch.addrs.len() {
            batch.cursor = 0;
            batch.sets -= 1;
            if batch.sets == 0 {
                self.pending.pop_front();
            }
        }
        Some(addr)
    }

    /// Keeps what `keep` accepts; batches left empty go.
    fn retain(&mut self, keep: impl Fn(u64, IpAddr) -> bool) {
        for batch in &mut self.pending {
            let owner = batch.owner;
            batch.retain(|a| keep(owner, a));
        }
        self.pending.retain(|b| !b.addrs.is_empty() && b.sets > 0);
    }
}

/// keepalived's GARP/NA schedule, sans-IO: it says when each announcement goes out.
///
/// Named `Announcer`, not `Scheduler`: in this workspace `healthcheck::Scheduler` runs checks and
/// `keepalived_conf::model::LvsSched` is an IPVS scheduler (`lvs_sched`).
///
/// One way in, one way out: [`handle_input`](Self::handle_input) with every event (each carries
/// `now`), then [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`] or
/// [`Output::Idle`]. Within one set, announcements go address after address, repeated set after
/// set (keepalived's order); each (interface, family) queue is paced on its own, and the queues
/// take turns, so one interface with many addresses does not hold up the others.
#[derive(Debug)]
pub struct Announcer {
    config: Config,
    now: Option<Instant>,
    runs: Vec<Run>,
    queues: Vec<Queue>,
    /// The queue to look at first on the next poll: queues take turns.
    turn: usize,
}

/// The old name of [`Announcer`].
#[deprecated(note = "renamed `Announcer` (`healthcheck::Scheduler` runs checks)")]
pub type Scheduler = Announcer;

impl Announcer {
    /// An announcer with nothing to do.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            now: None,
            runs: Vec::new(),
            queues: Vec::new(),
            turn: 0,
        }
    }

    /// Whether `owner` has a plan (started and not stopped, even if it has nothing left to send:
    /// addresses added by [`Input::VipsChanged`] are still announced).
    pub fn is_running(&self, owner: u64) -> bool {
        self.runs.iter().any(|r| r.owner == owner)
    }

    /// Announcements queued but not yet handed out (saturating at `usize::MAX`).
    pub fn pending(&self) -> usize {
        self.queues
            .iter()
            .flat_map(|q| &q.pending)
            .fold(0usize, |sum, b| sum.saturating_add(b.remaining()))
    }

    /// Feeds one event.
    pub fn handle_input(&mut self, input: Input) {
        match input {
            Input::Start {
                now,
                owner,
                vips,
                plan,
            } => {
                self.advance(now);
                self.stop(owner);
                self.enqueue(owner, &vips, plan.repeat);
                self.runs.push(Run {
                    owner,
                    vips,
                    plan,
                    second_set: plan.delay.filter(|d| !d.is_zero()).map(|d| later(now, d)),
                    refresh: plan.refresh.filter(|d| !d.is_zero()).map(|d| later(now, d)),
                });
            }
            Input::VipsChanged { now, owner, vips } => {
                self.advance(now);
                let Some(index) = self.runs.iter().position(|r| r.owner == owner) else {
                    return;
                };
                let added: Vec<Target> = vips
                    .iter()
                    .filter(|v| !self.runs[index].vips.contains(v))
                    .copied()
                    .collect();
                for queue in &mut self.queues {
                    let ifindex = queue.ifindex;
                    queue.retain(|o, addr| o != owner || vips.contains(&Target { ifindex, addr }));
                }
                let repeat = self.runs[index].plan.repeat;
                self.runs[index].vips = vips;
                self.enqueue(owner, &added, repeat);
            }
            Input::Stop { now, owner } => {
                self.advance(now);
                self.stop(owner);
            }
            Input::Timeout(now) => {
                self.advance(now);
                self.fire(now);
            }
        }
    }

    /// The next thing to do at the time of the last input.
    pub fn poll_output(&mut self) -> Output {
        let Some(now) = self.now else {
            return Output::Idle;
        };
        let (garp_interval, gna_interval) = (self.config.garp_interval, self.config.gna_interval);
        let count = self.queues.len();
        for index in (0..count).map(|i| (self.turn + i) % count) {
            let queue = &mut self.queues[index];
            if queue.next_allowed.is_some_and(|at| at > now) {
                continue;
            }
            let Some(addr) = queue.pop() else {
                continue;
            };
            self.turn = index + 1;
            let interval = if queue.ipv4 {
                garp_interval
            } else {
                gna_interval
            };
            queue.next_allowed = (!interval.is_zero()).then(|| later(now, interval));
            return Output::Announce(Target {
                ifindex: queue.ifindex,
                addr,
            });
        }
        self.queues
            .retain(|q| !q.pending.is_empty() || q.next_allowed.is_some_and(|at| at > now));
        let paced = self
            .queues
            .iter()
            .filter(|q| !q.pending.is_empty())
            .filter_map(|q| q.next_allowed)
            .min();
        let timers = self
            .runs
            .iter()
            .flat_map(|r| [r.second_set, r.refresh])
            .flatten()
            .min();
        match [paced, timers].into_iter().flatten().min() {
            Some(at) => Output::Timeout(at),
            None => Output::Idle,
        }
    }

    fn advance(&mut self, now: Instant) {
        // Time never goes backwards for the machine, even if a driver's clock reads do.
        self.now = Some(self.now.map_or(now, |before| before.max(now)));
    }

    /// Runs every deadline due at `now`, once each.
    fn fire(&mut self, now: Instant) {
        let mut due: Vec<(u64, u32)> = Vec::new();
        for run in &mut self.runs {
            if run.second_set.is_some_and(|at| at <= now) {
                run.second_set = None;
                due.push((run.owner, run.plan.repeat));
            }
            if let Some(at) = run.refresh
                && at <= now
            {
                run.refresh = run.plan.refresh.map(|period| later(now, period));
                due.push((run.owner, run.plan.refresh_repeat));
            }
        }
        for (owner, repeat) in due {
            if let Some(run) = self.runs.iter().find(|r| r.owner == owner) {
                let vips = run.vips.clone();
                self.enqueue(owner, &vips, repeat);
            }
        }
    }

    fn stop(&mut self, owner: u64) {
        self.runs.retain(|r| r.owner != owner);
        for queue in &mut self.queues {
            queue.retain(|o, _| o != owner);
        }
    }

    /// Queues `repeat` rounds of `vips` for `owner`: one batch per (interface, family) queue,
    /// holding each address once.
    fn enqueue(&mut self, owner: u64, vips: &[Target], repeat: u32) {
        if repeat == 0 {
            return;
        }
        // Queues that already hold this call's batch (at their back).
        let mut batched: Vec<usize> = Vec::new();
        for vip in vips {
            let ipv4 = vip.addr.is_ipv4();
            let index = match self
                .queues
                .iter()
                .position(|q| q.ifindex == vip.ifindex && q.ipv4 == ipv4)
            {
                Some(index) => index,
                None => {
                    self.queues.push(Queue {
                        ifindex: vip.ifindex,
                        ipv4,
                        pending: VecDeque::new(),
                        next_allowed: None,
                    });
                    self.queues.len() - 1
                }
            };
            let queue = &mut self.queues[index];
            match queue.pending.back_mut() {
                Some(batch) if batched.contains(&index) => batch.addrs.push(vip.addr),
                _ => {
                    batched.push(index);
                    queue.pending.push_back(Batch {
                        owner,
                        addrs: vec![vip.addr],
                        sets: repeat,
                        cursor: 0,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(ifindex: u32, addr: &str) -> Target {
        Target {
            ifindex,
            addr: addr.parse().unwrap(),
        }
    }

    /// Drives the announcer on a virtual clock from `start` to `end`, returning every
    /// announcement with its time offset. Fails on a livelock (too many steps).
    fn run(s: &mut Announcer, start: Instant, end: Instant) -> Vec<(Duration, Target)> {
        let mut out = Vec::new();
        let mut now = start;
        for _ in 0..100_000 {
            match s.poll_output() {
                Output::Announce(v) => out.push((now - start, v)),
                Output::Timeout(at) if at <= end => {
                    assert!(at >= now, "deadline in the past");
                    now = at;
                    s.handle_input(Input::Timeout(now));
                }
                Output::Timeout(_) | Output::Idle => return out,
            }
        }
        panic!("announcer did not settle in 100000 steps");
    }

    fn times(out: &[(Duration, Target)]) -> Vec<u64> {
        out.iter().map(|(t, _)| t.as_millis() as u64).collect()
    }

    fn plan(repeat: u32, delay_ms: u64) -> Plan {
        Plan {
            repeat,
            delay: (delay_ms > 0).then(|| Duration::from_millis(delay_ms)),
            refresh: None,
            refresh_repeat: 1,
        }
    }

    fn start(s: &mut Announcer, now: Instant, owner: u64, vips: Vec<Target>, plan: Plan) {
        s.handle_input(Input::Start {
            now,
            owner,
            vips,
            plan,
        });
    }

    #[test]
    fn keepalived_defaults_five_now_five_after_five_seconds() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        let a = vip(2, "192.0.2.100");
        start(&mut s, t0, 1, vec![a], Plan::KEEPALIVED_MASTER);
        let out = run(&mut s, t0, t0 + Duration::from_secs(60));
        assert_eq!(times(&out), [0, 0, 0, 0, 0, 5000, 5000, 5000, 5000, 5000]);
        assert!(out.iter().all(|(_, v)| *v == a));
        assert_eq!(s.poll_output(), Output::Idle);
        assert!(s.is_running(1), "a plan lasts until stopped");
    }

    #[test]
    fn order_is_address_after_address_repeated_like_the_capture() {
        // v2_noauth_multi.pcap: .100 .101 .102 .7 .100 ... (repeat 2, delay 1 s).
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        let vips: Vec<Target> = ["192.0.2.100", "192.0.2.101", "192.0.2.102", "198.51.100.7"]
            .iter()
            .map(|a| vip(3, a))
            .collect();
        start(&mut s, t0, 1, vips.clone(), plan(2, 1000));
        let out = run(&mut s, t0, t0 + Duration::from_secs(10));
        let sent: Vec<Target> = out.iter().map(|(_, v)| *v).collect();
        let expected: Vec<Target> = vips
            .iter()
            .chain(&vips)
            .chain(&vips)
            .chain(&vips)
            .copied()
            .collect();
        assert_eq!(sent, expected);
        assert_eq!(times(&out)[7..9], [0, 1000]);
    }

    #[test]
    fn pacing_is_per_interface_and_per_family() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config {
            garp_interval: Duration::from_millis(10),
            gna_interval: Duration::from_millis(3),
        });
        start(
            &mut s,
            t0,
            1,
            vec![
                vip(1, "192.0.2.1"),
                vip(1, "192.0.2.2"),
                vip(1, "192.0.2.3"),
                vip(2, "192.0.2.4"),
                vip(2, "192.0.2.5"),
                vip(1, "2001:db8::1"),
                vip(1, "2001:db8::2"),
            ],
            plan(1, 0),
        );
        let out = run(&mut s, t0, t0 + Duration::from_secs(1));
        let on = |ifindex: u32, v4: bool| -> Vec<u64> {
            out.iter()
                .filter(|(_, v)| v.ifindex == ifindex && v.addr.is_ipv4() == v4)
                .map(|(t, _)| t.as_millis() as u64)
                .collect()
        };
        assert_eq!(on(1, true), [0, 10, 20]);
        assert_eq!(on(2, true), [0, 10]);
        assert_eq!(on(1, false), [0, 3]);
        assert_eq!(out.len(), 7);
    }

    #[test]
    fn pacing_is_shared_by_owners_on_one_interface() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config {
            garp_interval: Duration::from_millis(10),
            ..Config::default()
        });
        start(&mut s, t0, 1, vec![vip(1, "192.0.2.1")], plan(1, 0));
        start(&mut s, t0, 2, vec![vip(1, "192.0.2.2")], plan(1, 0));
        let out = run(&mut s, t0, t0 + Duration::from_secs(1));
        assert_eq!(times(&out), [0, 10]);
    }

    #[test]
    fn interfaces_take_turns() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        let (a, b) = (vip(1, "192.0.2.1"), vip(2, "198.51.100.1"));
        start(&mut s, t0, 1, vec![a, b], plan(2, 0));
        let sent: Vec<Target> = run(&mut s, t0, t0).into_iter().map(|(_, v)| v).collect();
        assert_eq!(sent, [a, b, a, b]);
    }

    #[test]
    fn refresh_repeats_until_stopped() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        let refreshing = Plan {
            repeat: 1,
            delay: None,
            refresh: Some(Duration::from_secs(60)),
            refresh_repeat: 2,
        };
        start(&mut s, t0, 1, vec![vip(1, "2001:db8::5")], refreshing);
        let out = run(&mut s, t0, t0 + Duration::from_secs(150));
        assert_eq!(times(&out), [0, 60_000, 60_000, 120_000, 120_000]);
        // The next deadline is the 180 s refresh; stopping cancels it.
        assert_eq!(
            s.poll_output(),
            Output::Timeout(t0 + Duration::from_secs(180))
        );
        s.handle_input(Input::Stop {
            now: t0 + Duration::from_secs(150),
            owner: 1,
        });
        assert_eq!(s.poll_output(), Output::Idle);
        s.handle_input(Input::Timeout(t0 + Duration::from_secs(200)));
        assert_eq!(s.poll_output(), Output::Idle);
        assert!(!s.is_running(1));
    }

    #[test]
    fn an_expired_timer_handled_twice_fires_once() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        start(&mut s, t0, 1, vec![vip(1, "192.0.2.9")], plan(1, 1000));
        assert!(matches!(s.poll_output(), Output::Announce(_)));
        let at = t0 + Duration::from_secs(1);
        assert_eq!(s.poll_output(), Output::Timeout(at));
        s.handle_input(Input::Timeout(at));
        s.handle_input(Input::Timeout(at));
        assert!(matches!(s.poll_output(), Output::Announce(_)));
        assert_eq!(s.poll_output(), Output::Idle);
    }

    #[test]
    fn a_lower_priority_plan_sends_now_and_after_its_delay_and_keeps_the_refresh() {
        // keepalived: garp_lower_prio_repeat now, the same again after garp_lower_prio_delay;
        // the master's refresh goes on.
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        let a = vip(1, "203.0.113.1");
        let master = Plan {
            repeat: 1,
            delay: None,
            refresh: Some(Duration::from_secs(10)),
            refresh_repeat: 1,
        };
        start(&mut s, t0, 1, vec![a], master);
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(times(&run(&mut s, t0, t1)), [0]);
        start(&mut s, t1, 2, vec![a], plan(3, 2000));
        // From t1: three now, three at t1 + 2 s, the master's refresh at t0 + 10 s.
        let out = run(&mut s, t1, t0 + Duration::from_secs(11));
        assert_eq!(times(&out), [0, 0, 0, 2000, 2000, 2000, 9000]);
    }

    #[test]
    fn stopping_one_owner_leaves_the_others() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config {
            garp_interval: Duration::from_millis(100),
            ..Config::default()
        });
        let (a, b) = (vip(1, "192.0.2.1"), vip(1, "192.0.2.2"));
        start(&mut s, t0, 1, vec![a], plan(3, 0));
        start(&mut s, t0, 2, vec![b], plan(3, 0));
        s.handle_input(Input::Stop { now: t0, owner: 1 });
        let sent: Vec<Target> = run(&mut s, t0, t0 + Duration::from_secs(1))
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        assert_eq!(sent, [b, b, b]);
    }

    #[test]
    fn vip_changes_announce_new_addresses_and_drop_removed_ones() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config {
            garp_interval: Duration::from_millis(100),
            ..Config::default()
        });
        let (a, b, c) = (
            vip(1, "192.0.2.1"),
            vip(1, "192.0.2.2"),
            vip(1, "192.0.2.3"),
        );
        start(&mut s, t0, 1, vec![a, b], plan(2, 0));
        assert_eq!(s.poll_output(), Output::Announce(a));
        // b is removed before its turn, c is added.
        s.handle_input(Input::VipsChanged {
            now: t0,
            owner: 1,
            vips: vec![a, c],
        });
        let out = run(&mut s, t0, t0 + Duration::from_secs(10));
        let sent: Vec<Target> = out.iter().map(|(_, v)| *v).collect();
        assert_eq!(sent, [a, c, c]);
        assert_eq!(times(&out), [100, 200, 300]);
    }

    #[test]
    fn nothing_started_means_idle() {
        let mut s = Announcer::new(Config::default());
        assert_eq!(s.poll_output(), Output::Idle);
        s.handle_input(Input::Timeout(Instant::now()));
        assert_eq!(s.poll_output(), Output::Idle);
        s.handle_input(Input::VipsChanged {
            now: Instant::now(),
            owner: 4,
            vips: vec![vip(1, "192.0.2.1")],
        });
        assert_eq!(s.poll_output(), Output::Idle, "no plan for owner 4");
        assert!(!s.is_running(4));
    }

    #[test]
    fn huge_delays_are_far_deadlines_not_panics() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config {
            garp_interval: Duration::MAX,
            gna_interval: Duration::MAX,
        });
        let a = vip(1, "192.0.2.1");
        let plan = Plan {
            repeat: 2,
            delay: Some(Duration::MAX),
            refresh: Some(Duration::MAX),
            refresh_repeat: 1,
        };
        start(&mut s, t0, 1, vec![a], plan);
        assert_eq!(s.poll_output(), Output::Announce(a));
        // The second of the pair waits for the pacing, a deadline years away.
        match s.poll_output() {
            Output::Timeout(at) => assert!(at > t0 + Duration::from_secs(86_400 * 365)),
            other => panic!("expected a far deadline, found {other:?}"),
        }
        s.handle_input(Input::Timeout(t0 + Duration::from_secs(1)));
        assert!(matches!(s.poll_output(), Output::Timeout(_)));
    }

    #[test]
    fn a_huge_repeat_costs_memory_for_addresses_not_repeats() {
        let t0 = Instant::now();
        let mut s = Announcer::new(Config::default());
        let vips: Vec<Target> = (1..=3).map(|i| vip(1, &format!("192.0.2.{i}"))).collect();
        let plan = Plan {
            repeat: u32::MAX,
            delay: Some(Duration::from_secs(1)),
            refresh: Some(Duration::from_millis(1)),
            refresh_repeat: u32::MAX,
        };
        start(&mut s, t0, 1, vips.clone(), plan);
        s.handle_input(Input::Timeout(t0 + Duration::from_secs(2)));
        let held: usize = s
            .queues
            .iter()
            .flat_map(|q| &q.pending)
            .map(|b| b.addrs.len())
            .sum();
        assert!(held <= 9, "{held} addresses held for 3 VIPs");
        assert!(s.pending() > 3 * (u32::MAX as usize));
        // Still address after address.
        for expected in vips.iter().cycle().take(7) {
            assert_eq!(s.poll_output(), Output::Announce(*expected));
        }
    }

    /// What a queue did before batches: every announcement its own entry.
    #[derive(Default)]
    struct Expanded(VecDeque<(u64, IpAddr)>);

    #[derive(Debug, Clone)]
    enum Op {
        Push(u64, Vec<u8>, u32),
        Keep(u64, Vec<bool>),
        Drop(u64),
        Pop,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            (0u64..3, proptest::collection::vec(0u8..6, 1..5), 1u32..4)
                .prop_map(|(o, a, r)| Op::Push(o, a, r)),
            (0u64..3, proptest::collection::vec(any::<bool>(), 6))
                .prop_map(|(o, k)| Op::Keep(o, k)),
            (0u64..3).prop_map(Op::Drop),
            Just(Op::Pop),
            Just(Op::Pop),
            Just(Op::Pop),
        ]
    }

    proptest::proptest! {
        /// Batches hand out exactly what the expanded queue did, in the same order, through
        /// pushes, address changes, stops and pops.
        #[test]
        fn batches_behave_like_the_expanded_queue(ops in proptest::collection::vec(op(), 1..60)) {
            let addr = |i: u8| IpAddr::from([192, 0, 2, i]);
            let mut queue = Queue { ifindex: 1, ipv4: true, pending: VecDeque::new(), next_allowed: None };
            let mut reference = Expanded::default();
            for op in ops {
                match op {
                    Op::Push(owner, addrs, repeat) => {
                        let addrs: Vec<IpAddr> = addrs.into_iter().map(addr).collect();
                        for _ in 0..repeat {
                            reference.0.extend(addrs.iter().map(|&a| (owner, a)));
                        }
                        queue.pending.push_back(Batch { owner, addrs, sets: repeat, cursor: 0 });
                    }
                    Op::Keep(owner, keep) => {
                        let kept = |o: u64, a: IpAddr| match a {
                            IpAddr::V4(v4) => o != owner || keep[usize::from(v4.octets()[3])],
                            IpAddr::V6(_) => true,
                        };
                        reference.0.retain(|&(o, a)| kept(o, a));
                        queue.retain(kept);
                    }
                    Op::Drop(owner) => {
                        reference.0.retain(|&(o, _)| o != owner);
                        queue.retain(|o, _| o != owner);
                    }
                    Op::Pop => {
                        proptest::prop_assert_eq!(queue.pop(), reference.0.pop_front().map(|(_, a)| a));
                    }
                }
                let left: usize = queue.pending.iter().map(Batch::remaining).sum();
                proptest::prop_assert_eq!(left, reference.0.len());
            }
        }
    }
}
