//! Scenarios on the deterministic simulator (virtual clock, simulated LAN). Each failure prints
//! the timeline it ran.

mod common;

use std::time::Duration;

use common::{Event, Net, Record, Sim, expected_master_down, expected_skew, router_config};
use vrrp_fsm::{Reason, State, Version};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sim(version: Version, priorities: &[u8], preempt: &[bool], net: Net, seed: u64) -> Sim {
    let configs = priorities
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            router_config(
                version,
                false,
                i,
                p,
                100,
                preempt.get(i).copied().unwrap_or(true),
                None,
            )
        })
        .collect();
    Sim::new(configs, net, seed)
}

macro_rules! check {
    ($sim:expr, $cond:expr, $($msg:tt)+) => {
        assert!($cond, "{}\ntimeline:\n{}", format!($($msg)+), $sim.timeline())
    };
}

#[test]
fn highest_priority_wins_at_its_master_down_interval_and_stays() {
    for version in [Version::V2, Version::V3] {
        let mut s = sim(version, &[100, 200, 150], &[], Net::PERFECT, 1);
        s.start_all();
        s.run_until(ms(60_000));
        check!(
            s,
            s.masters() == [1],
            "{version:?}: router 1 (200) is the one master"
        );
        let first = s
            .records
            .iter()
            .find_map(|r| match r {
                Record::StateChange {
                    at,
                    router: 1,
                    to: State::Master,
                    ..
                } => Some(*at),
                _ => None,
            })
            .unwrap();
        check!(
            s,
            first == expected_master_down(version, 200, 100),
            "{version:?}: MASTER at {first:?}"
        );
        // Only the start-up transitions and one election: no flapping.
        check!(
            s,
            s.changes_since(ms(1)).len() == 1,
            "{version:?}: one change after start-up"
        );
    }
}

#[test]
fn equal_priorities_started_together_elect_the_highest_address() {
    let mut s = sim(Version::V3, &[100, 100, 100], &[], Net::PERFECT, 2);
    s.start_all();
    s.run_until(ms(30_000));
    check!(s, s.masters() == [2], "192.0.2.3 wins the tie");
}

#[test]
fn address_owner_is_master_from_the_start() {
    let mut s = sim(Version::V3, &[150, 255], &[], Net::PERFECT, 3);
    s.start_all();
    s.run_until(Duration::ZERO);
    check!(s, s.masters() == [1], "owner is MASTER at t = 0");
    s.run_until(ms(30_000));
    check!(
        s,
        s.changes_since(ms(1)).is_empty(),
        "nothing changes after"
    );
}

fn first_master_since(s: &Sim, since: Duration) -> Record {
    s.changes_since(since)
        .into_iter()
        .find(|r| {
            matches!(
                r,
                Record::StateChange {
                    to: State::Master,
                    ..
                }
            )
        })
        .cloned()
        .expect("someone became MASTER")
}

#[test]
fn crash_and_clean_stop_hand_over_at_the_right_time() {
    // Silent crash: the best backup takes over Master_Down_Interval after the last advert.
    let mut s = sim(Version::V3, &[200, 150, 100], &[], Net::PERFECT, 4);
    s.start_all();
    s.schedule(ms(10_050), Event::Crash(0));
    s.run_until(ms(30_000));
    check!(s, s.masters() == [1], "router 1 took over");
    let took_over = first_master_since(&s, ms(10_050));
    // Router 0 advertises at 3210 ms and every second after: the last before 10 050 ms is 9210.
    let last_advert = ms(9_210);
    check!(
        s,
        took_over
            == Record::StateChange {
                at: last_advert + expected_master_down(Version::V3, 150, 100),
                router: 1,
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDown
            },
        "took over at the Master_Down_Interval: {took_over:?}"
    );

    // Clean stop: priority 0, the best backup takes over after its skew time.
    let mut s = sim(Version::V3, &[200, 150, 100], &[], Net::PERFECT, 5);
    s.start_all();
    s.schedule(ms(10_050), Event::Stop(0));
    s.run_until(ms(30_000));
    let took_over = first_master_since(&s, ms(10_050));
    check!(
        s,
        matches!(took_over, Record::StateChange { at, router: 1, to: State::Master, .. }
            if at == ms(10_050) + expected_skew(Version::V3, 150, 100)),
        "took over after the skew time: {took_over:?}"
    );
}

#[test]
fn preempt_delay_hold_off_ends_when_the_lower_master_dies() {
    // Router 1 (200) has keepalived's `preempt_delay 300` and starts after router 0 (100) is
    // master: it follows router 0 for the delay instead of preempting it. Router 0 crashes after
    // 10 s: router 1 must take over at its Master_Down_Interval after router 0's last advert,
    // not when the 300 s delay ends.
    for (stop, seed) in [(false, 11), (true, 12)] {
        let mut s = sim(Version::V3, &[100, 200], &[], Net::PERFECT, seed);
        s.routers[1].config.preempt_delay = Duration::from_secs(300);
        s.schedule(Duration::ZERO, Event::Restart(0));
        s.schedule(ms(5_000), Event::Restart(1));
        s.run_until(ms(10_000));
        check!(s, s.masters() == [0], "router 1 holds off its preemption");
        s.apply(if stop {
            Event::Stop(0)
        } else {
            Event::Crash(0)
        });
        s.run_until(ms(30_000));
        let took_over = first_master_since(&s, ms(10_000));
        let (heard_at, heard_priority) = s
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Delivered {
                    at,
                    from: 0,
                    to: 1,
                    priority,
                    ..
                } => Some((*at, *priority)),
                _ => None,
            })
            .next_back()
            .unwrap();
        let expected = heard_at
            + if stop {
                expected_skew(Version::V3, 200, 100)
            } else {
                expected_master_down(Version::V3, 200, 100)
            };
        check!(
            s,
            matches!(took_over, Record::StateChange { at, router: 1, to: State::Master, .. }
                if at == expected),
            "stop {stop}: heard priority {heard_priority} at {heard_at:?}, expected MASTER at \
             {expected:?}, got {took_over:?}"
        );
    }
}

#[test]
fn restarted_better_router_preempts_unless_nopreempt() {
    for (preempt, expected) in [(true, 0), (false, 1)] {
        let mut s = sim(Version::V3, &[200, 150], &[preempt, true], Net::PERFECT, 6);
        s.start_all();
        s.schedule(ms(5_000), Event::Crash(0));
        s.schedule(ms(15_000), Event::Restart(0));
        s.run_until(ms(40_000));
        check!(
            s,
            s.masters() == [expected],
            "preempt {preempt}: router {expected} is master"
        );
    }
}

#[test]
fn partition_gives_a_master_per_side_and_heals_to_one() {
    let mut s = sim(Version::V3, &[200, 150, 100, 120], &[], Net::PERFECT, 7);
    s.start_all();
    s.schedule(ms(10_000), Event::Partition(0b1100));
    s.schedule(ms(20_000), Event::Heal);
    s.run_until(ms(19_999));
    check!(s, s.masters() == [0, 3], "one master per side");
    s.run_until(ms(21_000));
    check!(s, s.masters() == [0], "one master after healing");
}

#[test]
fn lossy_and_slow_network_still_converges_when_it_recovers() {
    let net = Net {
        delay_min: ms(1),
        delay_max: ms(30),
        loss_permille: 400,
    };
    let mut s = sim(Version::V3, &[200, 150, 100], &[], net, 8);
    s.start_all();
    s.schedule(ms(30_000), Event::Loss(0));
    s.run_until(ms(60_000));
    check!(
        s,
        s.masters() == [0],
        "router 0 is master after the loss stops"
    );
    check!(
        s,
        s.changes_since(ms(40_000)).is_empty(),
        "and stays master"
    );
}

#[test]
fn interface_and_tracker_faults_move_mastership() {
    let configs = vec![
        router_config(Version::V3, true, 0, 200, 100, true, Some(0)),
        router_config(Version::V3, true, 1, 150, 100, true, Some(-100)),
        router_config(Version::V3, true, 2, 100, 100, true, None),
    ];
    let mut s = Sim::new(configs, Net::PERFECT, 9);
    s.start_all();
    s.schedule(ms(10_000), Event::Link(0, false));
    s.run_until(ms(20_000));
    check!(
        s,
        s.masters() == [1],
        "router 1 after router 0's interface went down"
    );
    check!(s, s.in_state(State::Fault) == [0], "router 0 in FAULT");
    s.schedule(ms(20_000), Event::Tracker(1, false)); // 150 - 100 = 50 < 100
    s.run_until(ms(30_000));
    check!(
        s,
        s.masters() == [2],
        "router 2 preempts router 1 whose priority fell to 50"
    );
    s.schedule(ms(30_000), Event::Link(0, true));
    s.schedule(ms(30_000), Event::Tracker(0, false)); // weight 0: FAULT again
    s.run_until(ms(40_000));
    check!(
        s,
        s.in_state(State::Fault) == [0],
        "weight-0 tracker keeps router 0 in FAULT"
    );
    s.schedule(ms(40_000), Event::Tracker(0, true));
    s.run_until(ms(50_000));
    check!(
        s,
        s.masters() == [0],
        "router 0 back: BACKUP, then preempts"
    );
}

#[test]
fn same_seed_same_timeline() {
    let run = || {
        let net = Net {
            delay_min: ms(0),
            delay_max: ms(50),
            loss_permille: 200,
        };
        let mut s = sim(Version::V3, &[100, 100, 150, 90], &[], net, 42);
        s.start_all();
        s.schedule(ms(7_000), Event::Crash(2));
        s.schedule(ms(9_000), Event::Restart(2));
        s.run_until(ms(30_000));
        s.timeline()
    };
    assert_eq!(run(), run());
}

#[test]
#[should_panic(expected = "step bound")]
fn step_bound_stops_a_run_that_does_not_settle() {
    let mut s = sim(Version::V3, &[100, 150], &[], Net::PERFECT, 10);
    s.step_limit = 20;
    s.start_all();
    s.run_until(ms(60_000));
}
