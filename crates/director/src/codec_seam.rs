//! The seam between the two halves of the GARP policy: `vrrp-fsm` decides when (a
//! [`GarpSchedule`] built from its `GarpConfig`, the one GARP timing configuration), `garp`
//! carries it out (a [`Plan`] per owner, paced per interface).

use garp::schedule::Plan;
use vrrp_fsm::GarpSchedule;

/// The `garp` plan that carries out `schedule`: `repeat` now, `repeat` again after `delay`,
/// `refresh_repeat` every `refresh`. The addresses and interface are the director's to map
/// (a virtual address may live on another interface than the instance, with `dev`).
pub fn garp_plan(schedule: &GarpSchedule) -> Plan {
    Plan {
        repeat: schedule.repeat,
        delay: schedule.delay,
        refresh: schedule.refresh,
        refresh_repeat: schedule.refresh_repeat,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use vrrp_fsm::{Config, GarpReason, Input, Instance, InterfaceId, Output, Version};

    use super::*;

    /// Both ways: what the FSM's schedule says is what the plan does, for the master schedule
    /// and the lower-priority one, on an announcer run on a virtual clock.
    #[test]
    fn the_plan_sends_what_the_fsm_schedule_says() {
        let mut config = Config::new(
            1,
            Version::V3,
            InterfaceId(2),
            "192.0.2.1".parse().unwrap(),
            vec!["192.0.2.100".parse().unwrap()],
        );
        config.priority = 255;
        config.garp.master_repeat = 2;
        config.garp.master_delay = Some(Duration::from_secs(3));
        config.garp.master_refresh = Some(Duration::from_secs(10));
        config.garp.master_refresh_repeat = 1;
        config.garp.lower_prio_repeat = 4;
        config.garp.lower_prio_delay = Some(Duration::from_secs(1));
        let mut fsm = Instance::new(config).unwrap();
        let t0 = Instant::now();
        fsm.handle_input(Input::Start { now: t0 }).unwrap();
        let mut schedules = Vec::new();
        let collect = |fsm: &mut Instance, out: &mut Vec<GarpSchedule>| loop {
            match fsm.poll_output() {
                Output::Garp(s) => out.push(s),
                Output::Timeout(_) => break,
                _ => {}
            }
        };
        collect(&mut fsm, &mut schedules);
        let lower = vrrp_fsm::ReceivedAdvert {
            version: Version::V3,
            vrid: 1,
            priority: 50,
            max_advert_interval_cs: 100,
            addresses: &["192.0.2.100".parse().unwrap()],
            src: "192.0.2.9".parse().unwrap(),
            interface: InterfaceId(2),
        };
        fsm.handle_input(Input::Advert {
            now: t0,
            advert: lower,
        })
        .unwrap();
        collect(&mut fsm, &mut schedules);
        assert_eq!(schedules.len(), 2);
        assert_eq!(schedules[0].reason, GarpReason::BecameMaster);
        assert_eq!(schedules[1].reason, GarpReason::LowerPriorityAdvert);
        for s in &schedules {
            let plan = garp_plan(s);
            assert_eq!(
                (plan.repeat, plan.delay, plan.refresh, plan.refresh_repeat),
                (s.repeat, s.delay, s.refresh, s.refresh_repeat)
            );
        }
        // Carried out: 2 now + 2 at 3 s + 1 at 10 s (master), 4 now + 4 at 1 s (lower).
        let mut announcer = garp::Announcer::new(garp::schedule::Config::default());
        for (owner, s) in schedules.iter().enumerate() {
            announcer.handle_input(garp::schedule::Input::Start {
                now: t0,
                owner: owner as u64,
                vips: s
                    .addresses
                    .iter()
                    .map(|&addr| garp::schedule::Target {
                        ifindex: s.interface.0,
                        addr,
                    })
                    .collect(),
                plan: garp_plan(s),
            });
        }
        let mut times = Vec::new();
        let mut now = t0;
        for _ in 0..1000 {
            match announcer.poll_output() {
                garp::schedule::Output::Announce(_) => times.push((now - t0).as_secs()),
                garp::schedule::Output::Timeout(at) if at <= t0 + Duration::from_secs(11) => {
                    now = at;
                    announcer.handle_input(garp::schedule::Input::Timeout(at));
                }
                _ => break,
            }
        }
        assert_eq!(times, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 10]);
    }
}
