//! Random input sequences against one instance: whatever arrives, the outputs stay consistent
//! with the state (VIPs held exactly while MASTER, the right timer armed in each state, a
//! deadline never in the past, no panic). A failure prints the inputs and outputs it ran.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vrrp_fsm::{
    Config, Input, Instance, InterfaceId, Output, ReceivedAdvert, State, Timer, Tracker, TrackerId,
    Version,
};

#[derive(Debug, Clone)]
enum Step {
    Start,
    Advert {
        priority: u8,
        src: u8,
        interval_cs: u16,
    },
    Timeout,
    Link(bool),
    Tracker(u32, bool),
    Shutdown,
    Reconfigure {
        priority: u8,
        interval_cs: u16,
        preempt: bool,
        second_vip: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => Just(Step::Start),
        4 => (0u8..=255, 1u8..=20, 1u16..=300)
            .prop_map(|(priority, src, interval_cs)| Step::Advert { priority, src, interval_cs }),
        4 => Just(Step::Timeout),
        1 => any::<bool>().prop_map(Step::Link),
        2 => (1u32..=3, any::<bool>()).prop_map(|(id, ok)| Step::Tracker(id, ok)),
        1 => Just(Step::Shutdown),
        1 => (1u8..=255, 1u16..=300, any::<bool>(), any::<bool>()).prop_map(
            |(priority, interval_cs, preempt, second_vip)| Step::Reconfigure {
                priority,
                interval_cs,
                preempt,
                second_vip,
            }
        ),
    ]
}

fn config(priority: u8, interval_cs: u16, preempt: bool, second_vip: bool) -> Config {
    let mut vips: Vec<IpAddr> = vec!["192.0.2.100".parse().unwrap()];
    if second_vip {
        vips.push("192.0.2.101".parse().unwrap());
    }
    let mut c = Config::new(
        9,
        Version::V3,
        InterfaceId(2),
        "192.0.2.10".parse().unwrap(),
        vips,
    );
    c.priority = priority;
    c.advert_interval_cs = interval_cs;
    c.preempt = preempt;
    c.preempt_delay = Duration::from_millis(1500);
    c.trackers = vec![
        Tracker {
            id: TrackerId(1),
            weight: 0,
        },
        Tracker {
            id: TrackerId(2),
            weight: -40,
        },
        Tracker {
            id: TrackerId(3),
            weight: 30,
        },
    ];
    c
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn outputs_stay_consistent_with_the_state(
        priority in 1u8..=255,
        steps in prop::collection::vec((0u64..3_000, step()), 1..60),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut vr = Instance::new(config(priority, 100, true, false)).unwrap();
        let mut held: Vec<IpAddr> = Vec::new();
        let mut log = String::new();
        let mut deadline: Option<Instant> = None;
        // The state as the outputs tell it.
        let mut announced = State::Initialize;
        for (gap_ms, step) in steps {
            // Either the next deadline (as a driver would) or an arbitrary later time.
            now = match (&step, deadline) {
                (Step::Timeout, Some(d)) => d.max(now),
                _ => now + Duration::from_millis(gap_ms),
            };
            let addresses: [IpAddr; 1] = ["192.0.2.100".parse().unwrap()];
            let new_config;
            let input = match step {
                Step::Start => Input::Start { now },
                Step::Advert { priority, src, interval_cs } => Input::Advert {
                    now,
                    advert: ReceivedAdvert {
                        version: Version::V3,
                        vrid: 9,
                        priority,
                        max_advert_interval_cs: interval_cs,
                        addresses: &addresses,
                        src: IpAddr::from([192, 0, 2, src]),
                        interface: InterfaceId(2),
                    },
                },
                Step::Timeout => Input::Timeout(now),
                Step::Link(up) => Input::Link { now, interface: InterfaceId(2), up },
                Step::Tracker(id, ok) => Input::Tracker { now, id: TrackerId(id), ok },
                Step::Shutdown => Input::Shutdown { now },
                Step::Reconfigure { priority, interval_cs, preempt, second_vip } => {
                    new_config = config(priority, interval_cs, preempt, second_vip);
                    Input::Reconfigure { now, config: &new_config }
                }
            };
            let before = vr.state();
            vr.handle_input(input).unwrap();
            let _ = writeln!(log, "{:>8?} {:?} {input:?}", now - t0, before);
            loop {
                let output = vr.poll_output();
                let _ = writeln!(log, "           -> {output:?}");
                match output {
                    Output::Timeout(d) => {
                        deadline = d;
                        break;
                    }
                    Output::AddVips { addresses, .. } => {
                        prop_assert!(held.is_empty(), "VIPs added twice\n{log}");
                        held = addresses.to_vec();
                    }
                    Output::RemoveVips { addresses, .. } => {
                        prop_assert_eq!(&held[..], &addresses[..], "removed what was not added\n{}", log);
                        held.clear();
                    }
                    Output::SendAdvert(a) => {
                        prop_assert!(
                            a.priority == 0 || announced == State::Master,
                            "priority {} advert while {:?}\n{}", a.priority, announced, log
                        );
                    }
                    Output::StateChange { from, to, .. } => {
                        prop_assert_eq!(from, announced, "state changes chain\n{}", log);
                        announced = to;
                    }
                    Output::Garp(_) => {}
                }
            }
            let state = vr.state();
            prop_assert_eq!(announced, state, "the outputs told the state\n{}", log);
            prop_assert_eq!(state == State::Master, !held.is_empty(), "VIPs held exactly while MASTER\n{}", log);
            prop_assert_eq!(state == State::Master, vr.timer(Timer::Advert).is_some(), "Adver_Timer exactly while MASTER\n{}", log);
            if state == State::Backup {
                prop_assert!(
                    vr.timer(Timer::MasterDown).is_some() || vr.timer(Timer::PreemptDelay).is_some(),
                    "a BACKUP always waits for something\n{log}"
                );
            }
            if matches!(state, State::Initialize | State::Fault) {
                prop_assert_eq!(deadline, None, "no timer in {:?}\n{}", state, log);
            }
            if let Some(d) = deadline {
                prop_assert!(d >= now, "deadline in the past\n{log}");
            }
            let p = vr.effective_priority();
            prop_assert!(if vr.config().priority == 255 { p == 255 } else { (1..=254).contains(&p) }, "priority {p}\n{log}");
        }
    }
}
