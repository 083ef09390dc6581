//! The tracker's rules, the histogram and the wheel, without a runtime.

use std::time::Instant;

use super::wheel::*;
use super::*;

fn up() -> Outcome {
    Outcome::up("ok")
}

fn down() -> Outcome {
    Outcome::down("no")
}

#[test]
fn retry_zero_confirms_at_once() {
    let schedule = Schedule::misc(Duration::from_secs(5));
    let mut tracker = Tracker::new(schedule);
    let (verdict, delay) = tracker.on_outcome(&up());
    assert_eq!(
        verdict.map(|v| (v.state, v.initial)),
        Some((State::Up, true))
    );
    assert_eq!(delay, Duration::from_secs(5));
    let (verdict, _) = tracker.on_outcome(&down());
    assert_eq!(
        verdict.map(|v| (v.state, v.initial)),
        Some((State::Down, false))
    );
    assert_eq!(tracker.state(), Some(State::Down));
}

#[test]
fn retries_use_delay_before_retry_and_weight_survives_a_plain_success() {
    let schedule = Schedule::new(Duration::from_secs(10))
        .retry(1)
        .delay_before_retry(Duration::from_secs(2));
    let mut tracker = Tracker::new(schedule);
    let (verdict, _) = tracker.on_outcome(&up().with_weight(7));
    assert_eq!(verdict.and_then(|v| v.weight), Some(7));
    assert_eq!(tracker.on_outcome(&down()), (None, Duration::from_secs(2)));
    // Exit 0 of a dynamic MISC_CHECK keeps the weight: no event.
    assert_eq!(tracker.on_outcome(&up()), (None, Duration::from_secs(10)));
    assert_eq!(tracker.on_outcome(&down()), (None, Duration::from_secs(2)));
    let (verdict, delay) = tracker.on_outcome(&down());
    assert_eq!(verdict.map(|v| v.state), Some(State::Down));
    assert_eq!(delay, Duration::from_secs(10));
    // Down stays down quietly at delay_loop.
    assert_eq!(tracker.on_outcome(&down()), (None, Duration::from_secs(10)));
}

#[test]
fn slip_quantiles_are_close() {
    let stats = SlipStats::new();
    for micros in 0..1000u64 {
        stats.record(Duration::from_micros(micros * 10));
    }
    let p50 = stats.quantile(0.5).unwrap().as_micros() as f64;
    let p99 = stats.quantile(0.99).unwrap().as_micros() as f64;
    assert!((p50 / 5000.0 - 1.0).abs() < 0.04, "p50 {p50}");
    assert!((p99 / 9900.0 - 1.0).abs() < 0.04, "p99 {p99}");
    assert_eq!(stats.attempts(), 1000);
    stats.reset();
    assert_eq!(stats.quantile(0.5), None);
}

fn token(slot: u32) -> RunId {
    RunId {
        slot,
        generation: 0,
    }
}

/// Takes what is due at `at` ms, as slots.
fn due(wheel: &mut Wheel, origin: Instant, at: u64, limit: usize) -> (Vec<u32>, bool) {
    let mut taken = Vec::new();
    let all = wheel.take_due(origin + Duration::from_millis(at), limit, |p| {
        taken.push(p.run.slot);
    });
    (taken, all)
}

#[test]
fn the_wheel_hands_out_entries_at_their_tick_across_turns() {
    let origin = Instant::now();
    let mut wheel = Wheel::new(origin);
    let ms = |ms: u64| origin + Duration::from_millis(ms);
    assert_eq!(wheel.next(), None);
    wheel.insert(ms(5) + Duration::from_micros(300), token(1)); // tick 6
    wheel.insert(ms(5), token(2)); // tick 5
    wheel.insert(ms(5 + WHEEL_SLOTS), token(3)); // same slot, next turn
    wheel.insert(ms(3 * WHEEL_SLOTS + 7), token(4)); // three turns away
    assert_eq!(wheel.next(), Some((5, ms(5))));
    assert_eq!(due(&mut wheel, origin, 4, 10), (vec![], true));
    assert_eq!(due(&mut wheel, origin, 5, 10), (vec![2], true));
    assert_eq!(wheel.next(), Some((6, ms(5) + Duration::from_micros(300))));
    // Woken at its instant, inside tick 6: an entry of the current tick whose instant has
    // passed is due.
    let at = ms(5) + Duration::from_micros(300);
    let mut taken = Vec::new();
    assert!(wheel.take_due(at, 10, |p| taken.push(p.run.slot)));
    assert_eq!(taken, [1]);
    assert_eq!(wheel.next(), Some((5 + WHEEL_SLOTS, ms(5 + WHEEL_SLOTS))));
    assert_eq!(
        due(&mut wheel, origin, 5 + WHEEL_SLOTS, 10),
        (vec![3], true)
    );
    // Only the far one is left, more than a turn away.
    assert_eq!(
        wheel.next(),
        Some((3 * WHEEL_SLOTS + 7, ms(3 * WHEEL_SLOTS + 7)))
    );
    // A long sleep past it still finds it.
    assert_eq!(
        due(&mut wheel, origin, 10 * WHEEL_SLOTS, 10),
        (vec![4], true)
    );
    assert_eq!(wheel.next(), None);
    // Planned in the past, or at this very instant: due at once.
    wheel.insert(ms(10), token(5));
    wheel.insert(ms(10 * WHEEL_SLOTS), token(6));
    let (mut taken, all) = due(&mut wheel, origin, 10 * WHEEL_SLOTS, 10);
    taken.sort_unstable();
    assert_eq!((taken, all), (vec![5, 6], true));
}

#[test]
fn the_wheel_hands_out_a_backlog_in_portions() {
    let origin = Instant::now();
    let mut wheel = Wheel::new(origin);
    for slot in 0..10 {
        wheel.insert(
            origin + Duration::from_millis(u64::from(slot % 3) + 1),
            token(slot),
        );
    }
    let mut seen = Vec::new();
    loop {
        let (taken, all) = due(&mut wheel, origin, 50, 4);
        assert!(taken.len() <= 4);
        seen.extend(taken);
        if all {
            break;
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    assert_eq!(wheel.next(), None);
}
