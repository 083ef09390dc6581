//! Properties of the sans-IO scheduler over random event sequences, on a virtual clock (unit
//! suite: no root, no network).
//!
//! Whatever the order of becoming master, leaving, address changes and lower-priority adverts:
//! nothing is announced while not master, only current addresses are announced, pacing per
//! (interface, family) is never broken, a deadline is never in the past, and every address of
//! a fresh mastership is announced `master_repeat` times when nothing else happens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use garp::schedule::{Config, Input, Output, Scheduler, Vip};
use proptest::prelude::*;

/// Eight addresses on two interfaces, both families.
fn all_vips() -> Vec<Vip> {
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
        .map(|(i, a)| Vip {
            ifindex: 1 + (i % 2) as u32,
            addr: a.parse().unwrap(),
        })
        .collect()
}

fn subset(mask: u8) -> Vec<Vip> {
    all_vips()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, v)| v)
        .collect()
}

#[derive(Debug, Clone)]
enum Step {
    BecameMaster(u8),
    VipsChanged(u8),
    LowerPriorityAdvert,
    LeftMaster,
    /// Let this many milliseconds pass, handling every deadline on the way.
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u8..=255).prop_map(Step::BecameMaster),
        any::<u8>().prop_map(Step::VipsChanged),
        Just(Step::LowerPriorityAdvert),
        Just(Step::LeftMaster),
        (0u64..3_000).prop_map(Step::Wait),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        0u64..2_000,
        1u32..4,
        prop_oneof![Just(0u64), 500u64..3_000],
        1u32..3,
        0u64..50,
        0u64..50,
    )
        .prop_map(
            |(delay, repeat, refresh, refresh_repeat, garp, gna)| Config {
                master_delay: Duration::from_millis(delay),
                master_repeat: repeat,
                master_refresh: Duration::from_millis(refresh),
                master_refresh_repeat: refresh_repeat,
                lower_prio_delay: Some(Duration::from_millis(delay)),
                lower_prio_repeat: repeat,
                garp_interval: Duration::from_millis(garp),
                gna_interval: Duration::from_millis(gna),
            },
        )
}

/// Drives the scheduler and checks the invariants on every output.
struct Driver {
    scheduler: Scheduler,
    config: Config,
    now: Instant,
    master: bool,
    vips: Vec<Vip>,
    last_sent: HashMap<(u32, bool), Instant>,
    sent: Vec<Vip>,
}

impl Driver {
    fn drain(&mut self) -> Option<Instant> {
        for _ in 0..10_000 {
            match self.scheduler.poll_output() {
                Output::Announce(vip) => {
                    assert!(self.master, "{vip:?} announced while not master");
                    assert!(self.vips.contains(&vip), "{vip:?} is not a current address");
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
        self.scheduler.handle_input(input);
        self.drain();
    }

    fn wait(&mut self, millis: u64) {
        let end = self.now + Duration::from_millis(millis);
        for _ in 0..100_000 {
            match self.drain() {
                Some(at) if at <= end => {
                    self.now = at;
                    self.scheduler.handle_input(Input::Timeout(at));
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
    fn invariants_hold_over_random_events(config in config(), steps in prop::collection::vec(step(), 1..40)) {
        let mut d = Driver {
            scheduler: Scheduler::new(config.clone()),
            config,
            now: Instant::now(),
            master: false,
            vips: Vec::new(),
            last_sent: HashMap::new(),
            sent: Vec::new(),
        };
        for step in steps {
            let now = d.now;
            match step {
                Step::BecameMaster(mask) => {
                    d.master = true;
                    d.vips = subset(mask);
                    let vips = d.vips.clone();
                    d.input(Input::BecameMaster { now, vips });
                }
                Step::VipsChanged(mask) => {
                    d.vips = subset(mask);
                    let vips = d.vips.clone();
                    d.input(Input::VipsChanged { now, vips });
                }
                Step::LowerPriorityAdvert => d.input(Input::LowerPriorityAdvert { now }),
                Step::LeftMaster => {
                    d.master = false;
                    d.input(Input::LeftMaster { now });
                }
                Step::Wait(ms) => d.wait(ms),
            }
            prop_assert_eq!(d.scheduler.is_master(), d.master);
        }
    }

    #[test]
    fn a_quiet_mastership_announces_every_address_master_repeat_times(
        config in config(),
        mask in 1u8..=255,
    ) {
        let mut d = Driver {
            scheduler: Scheduler::new(Config { master_refresh: Duration::ZERO, ..config.clone() }),
            config: Config { master_refresh: Duration::ZERO, ..config },
            now: Instant::now(),
            master: true,
            vips: subset(mask),
            last_sent: HashMap::new(),
            sent: Vec::new(),
        };
        let (now, vips) = (d.now, d.vips.clone());
        d.input(Input::BecameMaster { now, vips });
        // Long enough for the first set at any pacing, but before the second set.
        let first_set = d.config.master_delay.as_millis() as u64;
        let pacing = 8 * d.config.master_repeat as u64 * 50;
        if first_set > pacing {
            d.wait(first_set - 1);
            let repeat = d.config.master_repeat as usize;
            for vip in &d.vips {
                let count = d.sent.iter().filter(|v| *v == vip).count();
                prop_assert_eq!(count, repeat, "{:?}", vip);
            }
            prop_assert_eq!(d.sent.len(), d.vips.len() * repeat);
        }
        // And after the second set, twice that (if there is one).
        d.wait(first_set + 2 * pacing + 1);
        let sets = if d.config.master_delay.is_zero() { 1 } else { 2 };
        let expected = d.vips.len() * d.config.master_repeat as usize * sets;
        prop_assert_eq!(d.sent.len(), expected);
        let addrs: Vec<IpAddr> = d.sent.iter().map(|v| v.addr).collect();
        prop_assert!(addrs.iter().all(|a| d.vips.iter().any(|v| v.addr == *a)));
    }
}
