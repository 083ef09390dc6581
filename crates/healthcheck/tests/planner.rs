//! The scheduler's sans-IO half on a fake clock: every instant is the origin plus a duration the
//! test chooses, nothing runs, nothing sleeps.

use std::time::{Duration, Instant};

use healthcheck::{
    Check, CheckId, ConnectOptions, Due, Event, Outcome, Planner, Schedule, State, TcpCheck,
};

fn tcp(port: u16) -> Check {
    Check::Tcp(TcpCheck::new(ConnectOptions::new(
        ([192, 0, 2, 1], port).into(),
    )))
}

fn every(secs: u64) -> Schedule {
    Schedule::new(Duration::from_secs(secs)).warmup(Duration::ZERO)
}

/// The fake clock: the planner's origin and milliseconds after it.
struct Clock(Instant);

impl Clock {
    fn ms(&self, ms: u64) -> Instant {
        self.0 + Duration::from_millis(ms)
    }
}

fn due(planner: &mut Planner, now: Instant) -> Vec<Due> {
    let mut due = Vec::new();
    assert!(planner.take_due(now, usize::MAX, &mut due));
    due
}

fn events(planner: &mut Planner) -> Vec<Event> {
    std::iter::from_fn(|| planner.poll_event()).collect()
}

#[test]
fn a_run_starts_at_its_plan_and_then_every_delay_loop_at_a_fixed_rate() {
    let clock = Clock(Instant::now());
    let mut planner = Planner::new(clock.0, 1);
    let inserted = planner.insert(clock.ms(0), CheckId(1), tcp(80), every(5));
    assert!(
        inserted.wake,
        "the first plan wakes a driver that sleeps with nothing planned"
    );
    assert_eq!(planner.next_start(), Some(clock.ms(0)));
    let first = due(&mut planner, clock.ms(0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].check(), &tcp(80));
    assert_eq!(first[0].planned, clock.ms(0));

    // The attempt took 300 ms: the next start is still 5 s after the last plan.
    planner.finish(first[0].run, &Outcome::up("ok"), clock.ms(300));
    let verdicts = events(&mut planner);
    assert_eq!(verdicts.len(), 1);
    assert_eq!(
        (verdicts[0].id, verdicts[0].state, verdicts[0].initial),
        (CheckId(1), State::Up, true)
    );
    assert_eq!(planner.next_start(), Some(clock.ms(5_000)));
    assert!(due(&mut planner, clock.ms(4_999)).is_empty());
    let second = due(&mut planner, clock.ms(5_000));
    assert_eq!(second.len(), 1);

    // An attempt that overran its slot: a full delay from when it ended.
    planner.finish(second[0].run, &Outcome::up("ok"), clock.ms(11_000));
    assert!(events(&mut planner).is_empty(), "no change, no event");
    assert_eq!(planner.next_start(), Some(clock.ms(16_000)));
}

#[test]
fn the_first_attempt_falls_within_the_warm_up_and_the_seed_fixes_it() {
    let clock = Clock(Instant::now());
    let warm = Schedule::new(Duration::from_secs(10)).warmup(Duration::from_secs(4));
    let plan = |seed: u64| {
        let mut planner = Planner::new(clock.0, seed);
        let _ = planner.insert(clock.ms(1_000), CheckId(1), tcp(80), warm);
        planner.next_start().unwrap()
    };
    for seed in 0..32 {
        let at = plan(seed);
        assert!(
            at >= clock.ms(1_000) && at <= clock.ms(5_000),
            "{seed}: {at:?}"
        );
        assert_eq!(plan(seed), at, "same seed, same plan");
    }
    let spread: std::collections::BTreeSet<Instant> = (0..32).map(plan).collect();
    assert!(
        spread.len() > 1,
        "first attempts are spread over the warm-up"
    );
}

#[test]
fn identical_checks_share_a_run_and_a_late_joiner_gets_the_known_state() {
    let clock = Clock(Instant::now());
    let mut planner = Planner::new(clock.0, 1);
    let _ = planner.insert(clock.ms(0), CheckId(1), tcp(80), every(5));
    let attempt = due(&mut planner, clock.ms(0));
    planner.finish(attempt[0].run, &Outcome::up("ok"), clock.ms(1));
    assert_eq!(events(&mut planner).len(), 1);

    let joined = planner.insert(clock.ms(2), CheckId(2), tcp(80), every(5));
    assert_eq!(joined.ended, None);
    assert!(!joined.wake, "no new run, no earlier start");
    assert_eq!((planner.len(), planner.running()), (2, 1));
    let initial = events(&mut planner);
    assert_eq!(initial.len(), 1);
    assert_eq!(
        (initial[0].id, initial[0].state, initial[0].initial),
        (CheckId(2), State::Up, true)
    );

    // One attempt serves both ids.
    let shared = due(&mut planner, clock.ms(5_000));
    assert_eq!(shared.len(), 1);
    planner.finish(shared[0].run, &Outcome::down("refused"), clock.ms(5_001));
    // retry 1: one failure is not yet a verdict; the retry comes after delay_before_retry.
    assert!(events(&mut planner).is_empty());
    let retry = due(&mut planner, clock.ms(6_001));
    planner.finish(retry[0].run, &Outcome::down("refused"), clock.ms(6_002));
    let down: Vec<(CheckId, State)> = events(&mut planner)
        .into_iter()
        .map(|e| (e.id, e.state))
        .collect();
    assert_eq!(down, [(CheckId(1), State::Down), (CheckId(2), State::Down)]);
}

#[test]
fn removing_the_last_id_ends_the_run_and_its_late_outcome_is_ignored() {
    let clock = Clock(Instant::now());
    let mut planner = Planner::new(clock.0, 1);
    let _ = planner.insert(clock.ms(0), CheckId(1), tcp(80), every(5));
    let _ = planner.insert(clock.ms(0), CheckId(2), tcp(80), every(5));
    let attempt = due(&mut planner, clock.ms(0));
    let run = attempt[0].run;

    assert_eq!(planner.remove(CheckId(1)).map(|r| r.ended), Some(None));
    assert!(planner.is_live(run), "id 2 still has it");
    assert_eq!(planner.remove(CheckId(2)).map(|r| r.ended), Some(Some(run)));
    assert!(!planner.is_live(run));
    assert_eq!(planner.remove(CheckId(2)), None);

    assert!(!planner.finish(run, &Outcome::up("late"), clock.ms(10)));
    assert!(events(&mut planner).is_empty());
    assert_eq!(planner.next_start(), None);
    assert!(planner.is_empty());
}

#[test]
fn changing_an_ids_check_ends_the_run_it_was_alone_on() {
    let clock = Clock(Instant::now());
    let mut planner = Planner::new(clock.0, 1);
    let _ = planner.insert(clock.ms(0), CheckId(1), tcp(80), every(5));
    let old = due(&mut planner, clock.ms(0))[0].run;
    let same = planner.insert(clock.ms(1), CheckId(1), tcp(80), every(5));
    assert_eq!(same.ended, None, "the same check again changes nothing");
    let changed = planner.insert(clock.ms(2), CheckId(1), tcp(81), every(5));
    assert_eq!(changed.ended, Some(old));
    assert_eq!(planner.running(), 1);
    let new = due(&mut planner, clock.ms(2));
    assert_eq!(new[0].check(), &tcp(81));
}

#[test]
fn a_plan_wakes_the_driver_only_when_earlier_than_the_one_it_sleeps_for() {
    let clock = Clock(Instant::now());
    let mut planner = Planner::new(clock.0, 1);
    assert!(
        planner
            .insert(clock.ms(0), CheckId(1), tcp(1), every(10))
            .wake
    );
    let a = due(&mut planner, clock.ms(0))[0].run;
    // Awake (between take_due and next_start): a plan needs no wake-up.
    assert!(
        !planner
            .insert(clock.ms(0), CheckId(2), tcp(2), every(10))
            .wake
    );
    let _ = due(&mut planner, clock.ms(0));
    // Asleep with nothing planned: any plan wakes it.
    assert_eq!(planner.next_start(), None);
    let b = planner.insert(clock.ms(5_000), CheckId(3), tcp(3), every(10));
    assert!(b.wake);
    assert_eq!(planner.next_start(), Some(clock.ms(5_000)));
    // Asleep until 5 s: a start at 10 s does not wake it, one at 20 ms does, one at 30 ms then
    // does not.
    assert!(!planner.finish(a, &Outcome::up("ok"), clock.ms(1)));
    assert!(
        planner
            .insert(clock.ms(20), CheckId(4), tcp(4), every(10))
            .wake
    );
    assert_eq!(planner.next_start(), Some(clock.ms(20)));
    assert!(
        !planner
            .insert(clock.ms(30), CheckId(5), tcp(5), every(10))
            .wake
    );
}

#[test]
fn a_backlog_comes_out_in_portions() {
    let clock = Clock(Instant::now());
    let mut planner = Planner::new(clock.0, 1);
    for port in 0..10 {
        let _ = planner.insert(clock.ms(0), CheckId(port.into()), tcp(port), every(1));
    }
    let mut taken = Vec::new();
    assert!(!planner.take_due(clock.ms(0), 4, &mut taken));
    assert_eq!(taken.len(), 4);
    assert!(!planner.take_due(clock.ms(0), 4, &mut taken));
    assert!(planner.take_due(clock.ms(0), 4, &mut taken));
    assert_eq!(taken.len(), 10);
    let runs: std::collections::HashSet<_> = taken.iter().map(|d| d.run).collect();
    assert_eq!(runs.len(), 10, "each run once");
}
