//! Random inputs to the members of a sync group: after every input the running members are all
//! MASTER or none is, and they are all in FAULT exactly while one of them has a fault of its own.
//! A failure prints the inputs and outputs it ran.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vrrp_fsm::{
    Config, GroupOutput, Input, Instance, InterfaceId, ReceivedAdvert, State, SyncGroup, Tracker,
    TrackerId, Version,
};

#[derive(Debug, Clone)]
enum Step {
    Start(usize),
    Advert(usize, u8),
    Timeout,
    Link(usize, bool),
    Tracker(usize, bool),
    Shutdown(usize),
}

const MEMBERS: usize = 3;

fn step() -> impl Strategy<Value = Step> {
    let m = 0..MEMBERS;
    prop_oneof![
        2 => m.clone().prop_map(Step::Start),
        4 => (m.clone(), 0u8..=255).prop_map(|(m, p)| Step::Advert(m, p)),
        4 => Just(Step::Timeout),
        2 => (m.clone(), any::<bool>()).prop_map(|(m, up)| Step::Link(m, up)),
        2 => (m.clone(), any::<bool>()).prop_map(|(m, ok)| Step::Tracker(m, ok)),
        1 => m.prop_map(Step::Shutdown),
    ]
}

fn member(vrid: u8, priority: u8) -> Instance {
    let mut c = Config::new(
        vrid,
        Version::V3,
        InterfaceId(2),
        "192.0.2.10".parse().unwrap(),
        vec!["192.0.2.100".parse::<IpAddr>().unwrap()],
    );
    c.priority = priority;
    c.trackers = vec![Tracker {
        id: TrackerId(1),
        weight: 0,
    }];
    Instance::new(c).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn members_move_together(
        priorities in prop::collection::vec(1u8..=255, MEMBERS),
        steps in prop::collection::vec((0u64..2_000, step()), 1..50),
    ) {
        let members = priorities.iter().enumerate().map(|(i, &p)| member(i as u8 + 1, p)).collect();
        let mut group = SyncGroup::new(members).unwrap();
        let t0 = Instant::now();
        let mut now = t0;
        let mut deadline = None;
        let mut log = String::new();
        let addresses: [IpAddr; 1] = ["192.0.2.100".parse().unwrap()];
        for (gap_ms, step) in steps {
            now = match (&step, deadline) {
                (Step::Timeout, Some(d)) => d,
                _ => now + Duration::from_millis(gap_ms),
            };
            let _ = writeln!(log, "{:>8?} {step:?}", now - t0);
            match step {
                Step::Timeout => group.handle_timeout(now),
                Step::Start(m) => group.handle_input(m, Input::Start { now }).unwrap(),
                Step::Advert(m, priority) => {
                    let advert = ReceivedAdvert {
                        version: Version::V3,
                        vrid: m as u8 + 1,
                        priority,
                        max_advert_interval_cs: 100,
                        addresses: &addresses,
                        src: "192.0.2.20".parse().unwrap(),
                        interface: InterfaceId(2),
                    };
                    group.handle_input(m, Input::Advert { now, advert }).unwrap();
                }
                Step::Link(m, up) => group
                    .handle_input(m, Input::Link { now, interface: InterfaceId(2), up })
                    .unwrap(),
                Step::Tracker(m, ok) => group
                    .handle_input(m, Input::Tracker { now, id: TrackerId(1), ok })
                    .unwrap(),
                Step::Shutdown(m) => group.handle_input(m, Input::Shutdown { now }).unwrap(),
            }
            loop {
                match group.poll_output() {
                    GroupOutput::Timeout(d) => {
                        deadline = d;
                        break;
                    }
                    GroupOutput::Member { member, output } => {
                        let _ = writeln!(log, "           m{member}: {output:?}");
                    }
                }
            }
            let running: Vec<&Instance> = group
                .members()
                .iter()
                .filter(|m| m.state() != State::Initialize)
                .collect();
            let states: Vec<State> = group.members().iter().map(Instance::state).collect();
            let _ = writeln!(log, "           states {states:?}");
            let masters = running.iter().filter(|m| m.state() == State::Master).count();
            prop_assert!(masters == 0 || masters == running.len(), "MASTER together\n{log}");
            let own_fault = group.members().iter().any(Instance::has_own_fault);
            let faults = running.iter().filter(|m| m.state() == State::Fault).count();
            prop_assert_eq!(
                faults,
                if own_fault { running.len() } else { 0 },
                "FAULT together, exactly while a member has a fault of its own\n{}",
                log
            );
        }
    }
}
