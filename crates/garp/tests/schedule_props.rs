//! Properties of the sans-IO announcer over random event sequences, on a virtual clock (unit
//! suite: no root, no network).
//!
//! Whatever the order of plans started and stopped by several owners and address changes:
//! only current addresses of running owners are announced, pacing per (interface, family) is
//! never broken, a deadline is never in the past, and every address of a fresh plan is announced
//! `repeat` times per set when nothing else happens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use garp::schedule::{Announcer, Config, Input, Output, Plan, Target};
use proptest::prelude::*;

/// Eight addresses on two interfaces, both families.
fn all_vips() -> Vec<Target> {
    let addrs = [
        "192.0.2.1",
        "192.0.2.2",
        "198.51.100.3",
        "2001:db8::4",
        "203.0.113.5",
        "2001:db8::6",
        "192.0.2.7",
        "2001:db8::8",
    ];
    addrs
        .iter()
        .enumerate()
        .map(|(i, a)| Target {
            ifindex: 1 + (i % 2) as u32,
            addr: a.parse().unwrap(),
        })
        .collect()
}

fn subset(mask: u8) -> Vec<Target> {
    all_vips()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, v)| v)
        .collect()
}

#[derive(Debug, Clone)]
enum Step {
    /// Owner, address mask, whether the plan has a refresh.
    Start(u64, u8, bool),
    VipsChanged(u64, u8),
    Stop(u64),
    /// Let this many milliseconds pass, handling every deadline on the way.
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u64..3, 1u8..=255, any::<bool>()).prop_map(|(o, m, r)| Step::Start(o, m, r)),
        (0u64..3, any::<u8>()).prop_map(|(o, m)| Step::VipsChanged(o, m)),
        (0u64..3).prop_map(Step::Stop),
        (0u64..3_000).prop_map(Step::Wait),
    ]
}

fn config() -> impl Strategy<Value = (Config, Plan)> {
    (
        0u64..2_000,
        1u32..4,
        prop_oneof![Just(0u64), 500u64..3_000],
        1u32..3,
        0u64..50,
        0u64..50,
    )
        .prop_map(|(delay, repeat, refresh, refresh_repeat, garp, gna)| {
            (
                Config {
                    garp_interval: Duration::from_millis(garp),
                    gna_interval: Duration::from_millis(gna),
                },
                Plan {
                    repeat,
                    delay: (delay > 0).then(|| Duration::from_millis(delay)),
                    refresh: (refresh > 0).then(|| Duration::from_millis(refresh)),
                    refresh_repeat,
                },
            )
        })
}

/// Drives the announcer and checks the invariants on every output.
struct Driver {
    announcer: Announcer,
    config: Config,
    now: Instant,
    /// The current addresses of each running owner.
    running: HashMap<u64, Vec<Target>>,
    last_sent: HashMap<(u32, bool), Instant>,
    sent: Vec<Target>,
}

impl Driver {
    fn new(config: Config) -> Self {
        Self {
            announcer: Announcer::new(config.clone()),
            config,
            now: Instant::now(),
            running: HashMap::new(),
            last_sent: HashMap::new(),
            sent: Vec::new(),
        }
    }

    fn drain(&mut self) -> Option<Instant> {
        for _ in 0..10_000 {
            match self.announcer.poll_output() {
                Output::Announce(vip) => {
                    assert!(
                        self.running.values().any(|vips| vips.contains(&vip)),
                        "{vip:?} is no running owner's current address"
                    );
                    let key = (vip.ifindex, vip.addr.is_ipv4());
                    let interval = if key.1 {
                        self.config.garp_interval
                    } else {
                        self.config.gna_interval
                    };
                    if let Some(&last) = self.last_sent.get(&key) {
                        assert!(
                            self.now - last >= interval,
                            "pacing broken on {key:?}: {:?} < {interval:?}",
                            self.now - last
                        );
                    }
                    self.last_sent.insert(key, self.now);
                    self.sent.push(vip);
                }
                Output::Timeout(at) => {
                    assert!(at >= self.now, "deadline {at:?} is in the past");
                    return Some(at);
                }
                Output::Idle => return None,
                other => panic!("unexpected output {other:?}"),
            }
        }
        panic!("no Timeout or Idle after 10,000 outputs: livelock");
    }

    fn input(&mut self, input: Input) {
        self.announcer.handle_input(input);
        self.drain();
    }

    fn wait(&mut self, millis: u64) {
        let end = self.now + Duration::from_millis(millis);
        for _ in 0..100_000 {
            match self.drain() {
                Some(at) if at <= end => {
                    self.now = at;
                    self.announcer.handle_input(Input::Timeout(at));
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("too many deadlines in {millis} ms");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_over_random_events(
        (config, plan) in config(),
        steps in prop::collection::vec(step(), 1..40),
    ) {
        let mut d = Driver::new(config);
        for step in steps {
            let now = d.now;
            match step {
                Step::Start(owner, mask, refresh) => {
                    let vips = subset(mask);
                    d.running.insert(owner, vips.clone());
                    let plan = Plan { refresh: plan.refresh.filter(|_| refresh), ..plan };
                    d.input(Input::Start { now, owner, vips, plan });
                }
                Step::VipsChanged(owner, mask) => {
                    let vips = subset(mask);
                    if let Some(current) = d.running.get_mut(&owner) {
                        current.clone_from(&vips);
                    }
                    d.input(Input::VipsChanged { now, owner, vips });
                }
                Step::Stop(owner) => {
                    d.running.remove(&owner);
                    d.input(Input::Stop { now, owner });
                }
                Step::Wait(ms) => d.wait(ms),
            }
            for owner in 0..3 {
                prop_assert_eq!(d.announcer.is_running(owner), d.running.contains_key(&owner));
            }
        }
    }

    #[test]
    fn a_quiet_plan_announces_every_address_repeat_times_per_set(
        (config, plan) in config(),
        mask in 1u8..=255,
    ) {
        let plan = Plan { refresh: None, ..plan };
        let mut d = Driver::new(config);
        let (now, vips) = (d.now, subset(mask));
        d.running.insert(7, vips.clone());
        d.input(Input::Start { now, owner: 7, vips: vips.clone(), plan });
        // Long enough for the first set at any pacing, but before the second set.
        let first_set = plan.delay.map_or(0, |d| d.as_millis() as u64);
        let pacing = 8 * u64::from(plan.repeat) * 50;
        if first_set > pacing {
            d.wait(first_set - 1);
            let repeat = plan.repeat as usize;
            for vip in &vips {
                let count = d.sent.iter().filter(|v| *v == vip).count();
                prop_assert_eq!(count, repeat, "{:?}", vip);
            }
            prop_assert_eq!(d.sent.len(), vips.len() * repeat);
        }
        // And after the second set, twice that (if there is one).
        d.wait(first_set + 2 * pacing + 1);
        let sets = if plan.delay.is_none() { 1 } else { 2 };
        let expected = vips.len() * plan.repeat as usize * sets;
        prop_assert_eq!(d.sent.len(), expected);
        let addrs: Vec<IpAddr> = d.sent.iter().map(|v| v.addr).collect();
        prop_assert!(addrs.iter().all(|a| vips.iter().any(|v| v.addr == *a)));
    }
}
