//! When to announce: keepalived's GARP schedule as a sans-IO machine.
//!
//! On becoming master a VRRP router announces every VIP `master_repeat` times, then again
//! `master_repeat` times after `master_delay`, then `master_refresh_repeat` times every
//! `master_refresh` while it stays master. A lower-priority advertisement received while
//! master (a second master was about) triggers `lower_prio_repeat` more after
//! `lower_prio_delay`. On each interface, successive GARPs are at least `garp_interval` apart and
//! successive NAs `gna_interval` apart (the pacing of `vrrp_garp_interval` / `vrrp_gna_interval`).
//!
//! The scheduler reads no clock and sends nothing: the driver feeds it inputs carrying `now` and
//! drains [`Scheduler::poll_output`] until it returns [`Output::Timeout`] (sleep until then, then
//! feed [`Input::Timeout`]) or [`Output::Idle`] (nothing will happen until the next input).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The schedule's settings, with keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Delay of the second set after becoming master (`garp_master_delay`, default 5 s;
    /// zero: no second set).
    pub master_delay: Duration,
    /// Announcements per address in each set after becoming master (`garp_master_repeat`,
    /// default 5).
    pub master_repeat: u32,
    /// Period of the refresh while master (`garp_master_refresh`, default zero: none).
    pub master_refresh: Duration,
    /// Announcements per address in each refresh (`garp_master_refresh_repeat`, default 1).
    pub master_refresh_repeat: u32,
    /// Delay of the set sent after a lower-priority advert (`garp_lower_prio_delay`). keepalived
    /// defaults it to `garp_master_delay`; [`Config::default`] has 5 s, keepalived's default
    /// for both, so a driver that changes `master_delay` from a configuration without a
    /// `garp_lower_prio_delay` sets this to the same value. `None` disables that set.
    pub lower_prio_delay: Option<Duration>,
    /// Announcements per address in that set (`garp_lower_prio_repeat`). As with the delay,
    /// keepalived defaults it to `garp_master_repeat` (5 in [`Config::default`]).
    pub lower_prio_repeat: u32,
    /// Minimum gap between two gratuitous ARPs on one interface (`garp_interval`, default 0).
    pub garp_interval: Duration,
    /// Minimum gap between two unsolicited NAs on one interface (`gna_interval`, default 0).
    pub gna_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: Some(Duration::from_secs(5)),
            lower_prio_repeat: 5,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
        }
    }
}

/// How far ahead a time that would leave the clock's range is put instead: about 30 years.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `now + delay`, saturated: a `Config` with a huge delay (`Duration::MAX`) from a library caller
/// gives a timer in the far future, never a panic.
fn later(now: Instant, delay: Duration) -> Instant {
    now.checked_add(delay)
        .or_else(|| now.checked_add(FAR_FUTURE.min(delay)))
        .unwrap_or(now)
}

/// An address to announce, and the interface (the driver's index) it lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vip {
    /// Interface index (or any key the driver maps to a [`Sender`](crate::Sender)).
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Input {
    /// The router became master for these addresses: announce them now.
    BecameMaster {
        /// The time.
        now: Instant,
        /// The addresses to announce.
        vips: Vec<Vip>,
    },
    /// The set of addresses changed while master (added ones are announced at once, with one
    /// set of `master_repeat`; removed ones are dropped from the queues).
    VipsChanged {
        /// The time.
        now: Instant,
        /// The whole new set.
        vips: Vec<Vip>,
    },
    /// A lower-priority advertisement arrived while master.
    LowerPriorityAdvert {
        /// The time.
        now: Instant,
    },
    /// The router stopped being master: cancel everything queued.
    LeftMaster {
        /// The time.
        now: Instant,
    },
    /// Time passed (a deadline returned earlier was reached).
    Timeout(Instant),
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Send one announcement for this address, now.
    Announce(Vip),
    /// Nothing more until this time: feed [`Input::Timeout`] then.
    Timeout(Instant),
    /// Nothing scheduled until the next input.
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    SecondSet,
    LowerPrio,
    Refresh,
}

/// The scheduler's deadlines; firing one clears it, so handling an expiry twice does nothing.
#[derive(Debug, Default)]
struct TimerTable([Option<Instant>; 3]);

impl TimerTable {
    fn slot(timer: Timer) -> usize {
        match timer {
            Timer::SecondSet => 0,
            Timer::LowerPrio => 1,
            Timer::Refresh => 2,
        }
    }
    fn set(&mut self, timer: Timer, at: Instant) {
        self.0[Self::slot(timer)] = Some(at);
    }
    fn clear_all(&mut self) {
        self.0 = [None; 3];
    }
    /// Takes one timer that is due at `now`, if any.
    fn take_expired(&mut self, now: Instant) -> Option<Timer> {
        [Timer::SecondSet, Timer::LowerPrio, Timer::Refresh]
            .into_iter()
            .find(|&t| self.0[Self::slot(t)].is_some_and(|at| at <= now))
            .inspect(|&t| self.0[Self::slot(t)] = None)
    }
    fn earliest(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
}

/// One pacing queue: the addresses of one family waiting on one interface.
#[derive(Debug)]
struct Queue {
    ifindex: u32,
    ipv4: bool,
    pending: VecDeque<IpAddr>,
    next_allowed: Option<Instant>,
}

/// keepalived's GARP/NA schedule, sans-IO.
///
/// One way in, one way out: [`handle_input`](Self::handle_input) with every event (each carries
/// `now`), then [`poll_output`](Self::poll_output) until it returns [`Output::Timeout`] or
/// [`Output::Idle`]. Within one set, announcements go address after address, repeated set after
/// set (keepalived's order); each (interface, family) queue is paced on its own, and the queues
/// take turns, so one interface with many addresses does not hold up the others.
#[derive(Debug)]
pub struct Scheduler {
    config: Config,
    now: Option<Instant>,
    master: bool,
    vips: Vec<Vip>,
    timers: TimerTable,
    queues: Vec<Queue>,
    /// The queue to look at first on the next poll: queues take turns.
    turn: usize,
}

impl Scheduler {
    /// A scheduler that is not master.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            now: None,
            master: false,
            vips: Vec::new(),
            timers: TimerTable::default(),
            queues: Vec::new(),
            turn: 0,
        }
    }

    /// Whether the scheduler is in the master state.
    pub fn is_master(&self) -> bool {
        self.master
    }

    /// Announcements queued but not yet handed out.
    pub fn pending(&self) -> usize {
        self.queues.iter().map(|q| q.pending.len()).sum()
    }

    /// Feeds one event.
    pub fn handle_input(&mut self, input: Input) {
        match input {
            Input::BecameMaster { now, vips } => {
                self.advance(now);
                self.master = true;
                self.vips = vips;
                self.timers.clear_all();
                self.clear_queues();
                self.enqueue(&self.vips.clone(), self.config.master_repeat);
                if !self.config.master_delay.is_zero() {
                    self.timers
                        .set(Timer::SecondSet, later(now, self.config.master_delay));
                }
                self.arm_refresh(now);
            }
            Input::VipsChanged { now, vips } => {
                self.advance(now);
                let added: Vec<Vip> = vips
                    .iter()
                    .filter(|v| !self.vips.contains(v))
                    .copied()
                    .collect();
                for queue in &mut self.queues {
                    queue.pending.retain(|addr| {
                        vips.contains(&Vip {
                            ifindex: queue.ifindex,
                            addr: *addr,
                        })
                    });
                }
                self.vips = vips;
                if self.master {
                    self.enqueue(&added, self.config.master_repeat);
                }
            }
            Input::LowerPriorityAdvert { now } => {
                self.advance(now);
                if self.master
                    && let Some(delay) = self.config.lower_prio_delay
                {
                    self.timers.set(Timer::LowerPrio, later(now, delay));
                }
            }
            Input::LeftMaster { now } => {
                self.advance(now);
                self.master = false;
                self.timers.clear_all();
                self.clear_queues();
            }
            Input::Timeout(now) => {
                self.advance(now);
                while let Some(timer) = self.timers.take_expired(now) {
                    self.fire(timer, now);
                }
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
            if queue.pending.is_empty() || queue.next_allowed.is_some_and(|at| at > now) {
                continue;
            }
            self.turn = index + 1;
            let addr = queue.pending.pop_front().expect("checked non-empty");
            let interval = if queue.ipv4 {
                garp_interval
            } else {
                gna_interval
            };
            queue.next_allowed = (!interval.is_zero()).then(|| later(now, interval));
            return Output::Announce(Vip {
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
        match [paced, self.timers.earliest()].into_iter().flatten().min() {
            Some(at) => Output::Timeout(at),
            None => Output::Idle,
        }
    }

    fn advance(&mut self, now: Instant) {
        // Time never goes backwards for the machine, even if a driver's clock reads do.
        self.now = Some(self.now.map_or(now, |before| before.max(now)));
    }

    fn fire(&mut self, timer: Timer, now: Instant) {
        if !self.master {
            return;
        }
        let vips = self.vips.clone();
        match timer {
            Timer::SecondSet => self.enqueue(&vips, self.config.master_repeat),
            Timer::LowerPrio => self.enqueue(&vips, self.config.lower_prio_repeat),
            Timer::Refresh => {
                self.enqueue(&vips, self.config.master_refresh_repeat);
                self.arm_refresh(now);
            }
        }
    }

    fn arm_refresh(&mut self, now: Instant) {
        if !self.config.master_refresh.is_zero() {
            self.timers
                .set(Timer::Refresh, later(now, self.config.master_refresh));
        }
    }

    fn clear_queues(&mut self) {
        for queue in &mut self.queues {
            queue.pending.clear();
        }
    }

    fn enqueue(&mut self, vips: &[Vip], repeat: u32) {
        for _ in 0..repeat {
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
                self.queues[index].pending.push_back(vip.addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(ifindex: u32, addr: &str) -> Vip {
        Vip {
            ifindex,
            addr: addr.parse().unwrap(),
        }
    }

    /// Drives the scheduler on a virtual clock from `start` to `end`, returning every
    /// announcement with its time offset. Fails on a livelock (too many steps).
    fn run(s: &mut Scheduler, start: Instant, end: Instant) -> Vec<(Duration, Vip)> {
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
        panic!("scheduler did not settle in 100000 steps");
    }

    fn times(out: &[(Duration, Vip)]) -> Vec<u64> {
        out.iter().map(|(t, _)| t.as_millis() as u64).collect()
    }

    #[test]
    fn keepalived_defaults_five_now_five_after_five_seconds() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config::default());
        let a = vip(2, "192.0.2.100");
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![a],
        });
        let out = run(&mut s, t0, t0 + Duration::from_secs(60));
        assert_eq!(times(&out), [0, 0, 0, 0, 0, 5000, 5000, 5000, 5000, 5000]);
        assert!(out.iter().all(|(_, v)| *v == a));
        assert_eq!(s.poll_output(), Output::Idle);
    }

    #[test]
    fn order_is_address_after_address_repeated_like_the_capture() {
        // v2_noauth_multi.pcap: .100 .101 .102 .7 .100 ... (repeat 2, delay 1 s).
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_delay: Duration::from_secs(1),
            master_repeat: 2,
            ..Config::default()
        });
        let vips: Vec<Vip> = ["192.0.2.100", "192.0.2.101", "192.0.2.102", "198.51.100.7"]
            .iter()
            .map(|a| vip(3, a))
            .collect();
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vips.clone(),
        });
        let out = run(&mut s, t0, t0 + Duration::from_secs(10));
        let sent: Vec<Vip> = out.iter().map(|(_, v)| *v).collect();
        let expected: Vec<Vip> = vips
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
        let mut s = Scheduler::new(Config {
            master_delay: Duration::ZERO,
            master_repeat: 1,
            garp_interval: Duration::from_millis(10),
            gna_interval: Duration::from_millis(3),
            ..Config::default()
        });
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![
                vip(1, "192.0.2.1"),
                vip(1, "192.0.2.2"),
                vip(1, "192.0.2.3"),
                vip(2, "192.0.2.4"),
                vip(2, "192.0.2.5"),
                vip(1, "2001:db8::1"),
                vip(1, "2001:db8::2"),
            ],
        });
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
    fn interfaces_take_turns() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_delay: Duration::ZERO,
            master_repeat: 2,
            ..Config::default()
        });
        let (a, b) = (vip(1, "192.0.2.1"), vip(2, "198.51.100.1"));
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![a, b],
        });
        let sent: Vec<Vip> = run(&mut s, t0, t0).into_iter().map(|(_, v)| v).collect();
        assert_eq!(sent, [a, b, a, b]);
    }

    #[test]
    fn refresh_repeats_while_master_and_stops_when_leaving() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_delay: Duration::ZERO,
            master_repeat: 1,
            master_refresh: Duration::from_secs(60),
            master_refresh_repeat: 2,
            ..Config::default()
        });
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![vip(1, "2001:db8::5")],
        });
        let out = run(&mut s, t0, t0 + Duration::from_secs(150));
        assert_eq!(times(&out), [0, 60_000, 60_000, 120_000, 120_000]);
        // The next deadline is the 180 s refresh; leaving master cancels it.
        assert_eq!(
            s.poll_output(),
            Output::Timeout(t0 + Duration::from_secs(180))
        );
        s.handle_input(Input::LeftMaster {
            now: t0 + Duration::from_secs(150),
        });
        assert_eq!(s.poll_output(), Output::Idle);
        s.handle_input(Input::Timeout(t0 + Duration::from_secs(200)));
        assert_eq!(s.poll_output(), Output::Idle);
    }

    #[test]
    fn an_expired_timer_handled_twice_fires_once() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_repeat: 1,
            master_delay: Duration::from_secs(1),
            ..Config::default()
        });
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![vip(1, "192.0.2.9")],
        });
        assert!(matches!(s.poll_output(), Output::Announce(_)));
        let at = t0 + Duration::from_secs(1);
        assert_eq!(s.poll_output(), Output::Timeout(at));
        s.handle_input(Input::Timeout(at));
        s.handle_input(Input::Timeout(at));
        assert!(matches!(s.poll_output(), Output::Announce(_)));
        assert_eq!(s.poll_output(), Output::Idle);
    }

    #[test]
    fn lower_priority_advert_triggers_another_set_only_while_master() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_delay: Duration::ZERO,
            master_repeat: 1,
            lower_prio_delay: Some(Duration::from_secs(2)),
            lower_prio_repeat: 3,
            ..Config::default()
        });
        s.handle_input(Input::LowerPriorityAdvert { now: t0 });
        assert_eq!(s.poll_output(), Output::Idle, "not master yet");
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![vip(1, "203.0.113.1")],
        });
        s.handle_input(Input::LowerPriorityAdvert { now: t0 });
        let out = run(&mut s, t0, t0 + Duration::from_secs(10));
        assert_eq!(times(&out), [0, 2000, 2000, 2000]);
    }

    #[test]
    fn vip_changes_announce_new_addresses_and_drop_removed_ones() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_delay: Duration::ZERO,
            master_repeat: 2,
            garp_interval: Duration::from_millis(100),
            ..Config::default()
        });
        let (a, b, c) = (
            vip(1, "192.0.2.1"),
            vip(1, "192.0.2.2"),
            vip(1, "192.0.2.3"),
        );
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![a, b],
        });
        assert_eq!(s.poll_output(), Output::Announce(a));
        // b is removed before its turn, c is added.
        s.handle_input(Input::VipsChanged {
            now: t0,
            vips: vec![a, c],
        });
        let out = run(&mut s, t0, t0 + Duration::from_secs(10));
        let sent: Vec<Vip> = out.iter().map(|(_, v)| *v).collect();
        assert_eq!(sent, [a, c, c]);
        assert_eq!(times(&out), [100, 200, 300]);
    }

    #[test]
    fn not_master_means_idle() {
        let mut s = Scheduler::new(Config::default());
        assert_eq!(s.poll_output(), Output::Idle);
        s.handle_input(Input::Timeout(Instant::now()));
        assert_eq!(s.poll_output(), Output::Idle);
        assert!(!s.is_master());
    }

    #[test]
    fn huge_delays_are_far_deadlines_not_panics() {
        let t0 = Instant::now();
        let mut s = Scheduler::new(Config {
            master_delay: Duration::MAX,
            master_repeat: 2,
            master_refresh: Duration::MAX,
            lower_prio_delay: Some(Duration::MAX),
            garp_interval: Duration::MAX,
            gna_interval: Duration::MAX,
            ..Config::default()
        });
        let a = vip(1, "192.0.2.1");
        s.handle_input(Input::BecameMaster {
            now: t0,
            vips: vec![a],
        });
        s.handle_input(Input::LowerPriorityAdvert { now: t0 });
        assert_eq!(s.poll_output(), Output::Announce(a));
        // The second of the pair waits for the pacing, a deadline years away.
        match s.poll_output() {
            Output::Timeout(at) => assert!(at > t0 + Duration::from_secs(86_400 * 365)),
            other => panic!("expected a far deadline, found {other:?}"),
        }
        s.handle_input(Input::Timeout(t0 + Duration::from_secs(1)));
        assert!(matches!(s.poll_output(), Output::Timeout(_)));
    }
}
