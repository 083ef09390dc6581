//! The scheduler on tokio's paused clock: deterministic virtual time, no sockets, no sleeps.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use healthcheck::{
    Check, CheckFuture, CheckId, Checker, ConnectOptions, Event, Outcome, Schedule, Scheduler,
    SchedulerOptions, State, TcpCheck,
};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

/// A checker that panics on every attempt.
#[derive(Debug)]
struct Panicky;

impl Checker for Panicky {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async { panic!("checker bug") })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(1)
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_checker_fails_its_check_and_keeps_being_scheduled() {
    let (scheduler, mut events) = exact();
    scheduler.insert(CheckId(1), Check::Custom(Arc::new(Panicky)), schedule());
    sleep(0.5).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Down, true, "the check panicked".into())]
    );
    let before = scheduler.stats().attempts();
    sleep(20.0).await;
    assert_eq!(scheduler.stats().attempts(), before + 2);
}

/// A checker that plays a script of outcomes (then repeats the last) and logs when it ran.
#[derive(Debug)]
struct Scripted {
    script: Mutex<VecDeque<Outcome>>,
    last: Mutex<Outcome>,
    hang: bool,
    epoch: Instant,
    attempts: Mutex<Vec<Duration>>,
}

impl Scripted {
    fn new(script: &[(bool, &str)]) -> Arc<Self> {
        let script: VecDeque<Outcome> = script
            .iter()
            .map(|&(up, why)| {
                if up {
                    Outcome::up(why)
                } else {
                    Outcome::down(why)
                }
            })
            .collect();
        Arc::new(Self {
            last: Mutex::new(script.back().cloned().unwrap_or_else(|| Outcome::up("ok"))),
            script: Mutex::new(script),
            hang: false,
            epoch: Instant::now(),
            attempts: Mutex::new(Vec::new()),
        })
    }

    fn hanging() -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(VecDeque::new()),
            last: Mutex::new(Outcome::up("never")),
            hang: true,
            epoch: Instant::now(),
            attempts: Mutex::new(Vec::new()),
        })
    }

    fn push(&self, outcome: Outcome) {
        self.script.lock().unwrap().push_back(outcome);
    }

    /// Attempt times in whole milliseconds since the checker was made.
    fn times(&self) -> Vec<u128> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .map(Duration::as_millis)
            .collect()
    }
}

impl Checker for Scripted {
    fn check(&self) -> CheckFuture<'_> {
        self.attempts.lock().unwrap().push(self.epoch.elapsed());
        if self.hang {
            return Box::pin(std::future::pending());
        }
        let outcome = match self.script.lock().unwrap().pop_front() {
            Some(outcome) => {
                *self.last.lock().unwrap() = outcome.clone();
                outcome
            }
            None => self.last.lock().unwrap().clone(),
        };
        Box::pin(std::future::ready(outcome))
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(2)
    }
}

/// A scheduler without slack: every start at its planned millisecond, so the tests can name it.
fn exact() -> (Scheduler, UnboundedReceiver<Event>) {
    Scheduler::with_options(SchedulerOptions::default().slack(Duration::ZERO))
}

fn custom(checker: &Arc<Scripted>) -> Check {
    Check::Custom(Arc::clone(checker) as Arc<dyn Checker>)
}

/// delay_loop 10 s, retry 2 spaced 1 s, no warm-up.
fn schedule() -> Schedule {
    Schedule::new(Duration::from_secs(10))
        .retry(2)
        .delay_before_retry(Duration::from_secs(1))
        .warmup(Duration::ZERO)
}

async fn sleep(secs: f64) {
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
}

fn drain(events: &mut UnboundedReceiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

fn brief(events: &[Event]) -> Vec<(u64, State, bool, String)> {
    events
        .iter()
        .map(|e| (e.id.0, e.state, e.initial, e.reason.clone()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn first_result_is_the_initial_state_and_failures_are_confirmed_after_retries() {
    let checker = Scripted::new(&[
        (true, "fine"),
        (false, "blip"),     // t=10: first failure, retry 1 of 2
        (true, "recovered"), // t=11: cancels it, no event
        (false, "bad 1"),    // t=21
        (false, "bad 2"),    // t=22
        (false, "bad 3"),    // t=23: confirmed down
        (false, "still bad"),
        (true, "back"), // t=43: one success brings it back
    ]);
    let (scheduler, mut events) = exact();
    scheduler.insert(CheckId(1), custom(&checker), schedule());
    sleep(0.5).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Up, true, "fine".into())]
    );
    sleep(22.0).await; // t=22.5
    assert!(
        drain(&mut events).is_empty(),
        "no event before the last retry"
    );
    sleep(1.0).await; // t=23.5
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Down, false, "bad 3".into())]
    );
    sleep(20.0).await; // t=43.5
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Up, false, "back".into())]
    );
    assert_eq!(
        checker.times(),
        [0, 10_000, 11_000, 21_000, 22_000, 23_000, 33_000, 43_000]
    );
}

#[tokio::test(start_paused = true)]
async fn a_first_failure_is_reported_at_once_as_the_initial_state() {
    let checker = Scripted::new(&[(false, "refused"), (true, "up now")]);
    let (scheduler, mut events) = exact();
    scheduler.insert(CheckId(7), custom(&checker), schedule());
    sleep(0.5).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(7, State::Down, true, "refused".into())]
    );
    sleep(10.0).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(7, State::Up, false, "up now".into())]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_check_is_cancelled_and_delays_no_other() {
    let hanging = Scripted::hanging();
    let steady = Scripted::new(&[(true, "ok")]);
    let (scheduler, mut events) = exact();
    let every_second = Schedule::new(Duration::from_secs(1)).warmup(Duration::ZERO);
    scheduler.insert(CheckId(1), custom(&hanging), every_second);
    scheduler.insert(CheckId(2), custom(&steady), every_second);
    sleep(5.5).await;
    assert_eq!(steady.times(), [0, 1000, 2000, 3000, 4000, 5000]);
    let events = drain(&mut events);
    let hung: Vec<_> = events.iter().filter(|e| e.id == CheckId(1)).collect();
    assert_eq!(hung.len(), 1, "{events:?}");
    assert_eq!(hung[0].state, State::Down);
    assert_eq!(
        hung[0].reason,
        "the check did not finish within 3s and was cancelled"
    );
    // Cancelled at 3 s, next attempt a delay_loop later.
    assert_eq!(hanging.times(), [0, 4000]);
    assert!(scheduler.stats().attempts() >= 8);
}

#[tokio::test(start_paused = true)]
async fn identical_checks_run_once_and_fan_out() {
    let (scheduler, mut events) = exact();
    // Loopback ports with (most likely) nothing behind them: these checks do run, and must send
    // nothing off this machine; only their sharing is under test.
    let real_server = || {
        Check::Tcp(TcpCheck::new(ConnectOptions::new(
            "127.0.0.1:9".parse().unwrap(),
        )))
    };
    let checker = Scripted::new(&[(true, "ok")]);
    for id in 1..=3 {
        scheduler.insert(CheckId(id), custom(&checker), schedule());
    }
    // Equal TCP_CHECK configurations of one real server share a run too; another port does not.
    scheduler.insert(CheckId(10), real_server(), schedule());
    scheduler.insert(CheckId(11), real_server(), schedule());
    let mut other = TcpCheck::new(ConnectOptions::new("127.0.0.1:13".parse().unwrap()));
    other.connect.connect_timeout = Duration::from_secs(1);
    scheduler.insert(CheckId(12), Check::Tcp(other), schedule());
    assert_eq!(scheduler.len(), 6);
    assert_eq!(scheduler.running(), 3);

    sleep(25.5).await;
    assert_eq!(
        checker.times(),
        [0, 10_000, 20_000],
        "one run for three ids"
    );
    let mut ids: Vec<u64> = drain(&mut events)
        .iter()
        .filter(|e| e.reason == "ok")
        .map(|e| e.id.0)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3]);

    // A late joiner gets the known state at once, marked initial.
    scheduler.insert(CheckId(4), custom(&checker), schedule());
    assert_eq!(
        brief(&drain(&mut events)),
        [(4, State::Up, true, "ok".into())]
    );
    assert_eq!(scheduler.running(), 3);

    // The shared run goes on until its last id leaves.
    assert!(scheduler.remove(CheckId(1)));
    assert!(scheduler.remove(CheckId(2)));
    assert!(scheduler.remove(CheckId(3)));
    assert!(!scheduler.remove(CheckId(3)));
    sleep(10.0).await;
    assert_eq!(checker.times().len(), 4);
    assert!(scheduler.remove(CheckId(4)));
    assert_eq!(scheduler.running(), 2);
    sleep(30.0).await;
    assert_eq!(checker.times().len(), 4, "removed checks stop");
}

#[tokio::test(start_paused = true)]
async fn changing_a_check_at_run_time_leaves_the_others_alone() {
    let (scheduler, mut events) = exact();
    let old = Scripted::new(&[(true, "old ok")]);
    let new = Scripted::new(&[(false, "new fails")]);
    let bystander = Scripted::new(&[(true, "fine")]);
    scheduler.insert(CheckId(1), custom(&old), schedule());
    scheduler.insert(CheckId(2), custom(&bystander), schedule());
    sleep(15.0).await;
    drain(&mut events);
    // Reload: id 1 gets another check; inserting an unchanged one is a no-op.
    scheduler.insert(CheckId(1), custom(&new), schedule());
    scheduler.insert(CheckId(2), custom(&bystander), schedule());
    assert_eq!(scheduler.running(), 2);
    sleep(20.0).await; // t=35
    assert_eq!(old.times(), [0, 10_000]);
    assert_eq!(new.times(), [15_000, 25_000]);
    assert_eq!(bystander.times(), [0, 10_000, 20_000, 30_000]);
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Down, true, "new fails".into())]
    );
}

#[tokio::test(start_paused = true)]
async fn weight_changes_are_reported_while_up() {
    let (scheduler, mut events) = exact();
    let checker = Scripted::new(&[]);
    checker.push(Outcome::up("w5").with_weight(5));
    checker.push(Outcome::up("w5 again").with_weight(5));
    checker.push(Outcome::up("w9").with_weight(9));
    scheduler.insert(CheckId(1), custom(&checker), schedule());
    sleep(25.0).await;
    let events = drain(&mut events);
    let seen: Vec<(Option<u32>, bool)> = events.iter().map(|e| (e.weight, e.initial)).collect();
    assert_eq!(seen, [(Some(5), true), (Some(9), false)]);
}

#[tokio::test(start_paused = true)]
async fn warmup_spreads_the_first_attempts() {
    let (scheduler, _events) = exact();
    let checkers: Vec<Arc<Scripted>> = (0..50).map(|_| Scripted::new(&[(true, "ok")])).collect();
    let warm = Schedule::new(Duration::from_secs(10)).warmup(Duration::from_secs(4));
    for (i, checker) in checkers.iter().enumerate() {
        scheduler.insert(CheckId(i as u64), custom(checker), warm);
    }
    sleep(4.5).await;
    let firsts: Vec<u128> = checkers.iter().map(|c| c.times()[0]).collect();
    assert!(firsts.iter().all(|&t| t <= 4000), "{firsts:?}");
    let distinct: std::collections::HashSet<_> = firsts.iter().collect();
    assert!(distinct.len() > 10, "first attempts not spread: {firsts:?}");
    // Default warm-up is delay_loop; zero starts at once.
    assert_eq!(
        Schedule::new(Duration::from_secs(6)).warmup_bound(),
        Duration::from_secs(6)
    );
}

/// Sets its flag when dropped: tells whether an attempt's future was cancelled.
struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A checker whose attempts wait `wait` (forever when `None`) before they answer "slow ok", and
/// which notes when an attempt's future is dropped.
#[derive(Debug)]
struct Slow {
    wait: Option<Duration>,
    attempts: Mutex<u32>,
    dropped: Arc<std::sync::atomic::AtomicBool>,
}

impl Slow {
    fn new(wait: Option<Duration>) -> Arc<Self> {
        Arc::new(Self {
            wait,
            attempts: Mutex::new(0),
            dropped: Arc::default(),
        })
    }

    fn attempts(&self) -> u32 {
        *self.attempts.lock().unwrap()
    }

    fn dropped(&self) -> bool {
        self.dropped.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Checker for Slow {
    fn check(&self) -> CheckFuture<'_> {
        *self.attempts.lock().unwrap() += 1;
        let guard = SetOnDrop(Arc::clone(&self.dropped));
        let wait = self.wait;
        Box::pin(async move {
            let _guard = guard;
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
            Outcome::up("slow ok")
        })
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(30)
    }
}

#[tokio::test(start_paused = true)]
async fn removing_a_check_cancels_its_attempt_in_flight() {
    let (scheduler, mut events) = exact();
    let hanging = Slow::new(None);
    let steady = Scripted::new(&[(true, "ok")]);
    scheduler.insert(CheckId(1), Check::Custom(hanging.clone()), schedule());
    scheduler.insert(CheckId(2), custom(&steady), schedule());
    sleep(5.0).await;
    assert_eq!(hanging.attempts(), 1);
    assert!(!hanging.dropped(), "the attempt is still waiting");
    assert!(scheduler.remove(CheckId(1)));
    sleep(0.001).await;
    assert!(hanging.dropped(), "removal drops the attempt in flight");
    sleep(60.0).await;
    assert_eq!(hanging.attempts(), 1, "a removed check starts no attempt");
    let events = drain(&mut events);
    assert!(events.iter().all(|e| e.id == CheckId(2)), "{events:?}");
    assert_eq!(
        steady.times(),
        [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]
    );
    assert_eq!(scheduler.running(), 1);
}

#[tokio::test(start_paused = true)]
async fn waiting_attempts_finish_on_their_own_and_report() {
    let (scheduler, mut events) = exact();
    let slow = Slow::new(Some(Duration::from_millis(1500)));
    scheduler.insert(CheckId(1), Check::Custom(slow.clone()), schedule());
    sleep(1.0).await;
    assert!(drain(&mut events).is_empty(), "still waiting");
    sleep(1.0).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Up, true, "slow ok".into())]
    );
    // The next attempt is planned from the start of this one, not from its end.
    sleep(9.0).await; // t=11: the second attempt started at 10 and is waiting
    assert_eq!(slow.attempts(), 2);
    drop(scheduler);
    sleep(0.001).await;
    assert!(
        slow.dropped(),
        "dropping the scheduler cancels waiting attempts"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_check_delays_none_of_many_fast_ones() {
    let (scheduler, _events) = exact();
    let every_second = Schedule::new(Duration::from_secs(1)).warmup(Duration::ZERO);
    let hanging: Vec<Arc<Slow>> = (0..20).map(|_| Slow::new(None)).collect();
    let fast: Vec<Arc<Scripted>> = (0..300).map(|_| Scripted::new(&[(true, "ok")])).collect();
    for (i, checker) in hanging.iter().enumerate() {
        scheduler.insert(
            CheckId(i as u64),
            Check::Custom(checker.clone()),
            every_second,
        );
    }
    for (i, checker) in fast.iter().enumerate() {
        scheduler.insert(CheckId(1000 + i as u64), custom(checker), every_second);
    }
    sleep(5.5).await;
    for checker in &fast {
        assert_eq!(checker.times(), [0, 1000, 2000, 3000, 4000, 5000]);
    }
    // Each hanging attempt is cancelled after 30 s + the margin: none has ended yet.
    assert!(hanging.iter().all(|c| c.attempts() == 1 && !c.dropped()));
}

#[tokio::test(start_paused = true)]
async fn thousands_due_at_once_all_start_on_time() {
    let (scheduler, mut events) = exact();
    let checkers: Vec<Arc<Scripted>> = (0..2000).map(|_| Scripted::new(&[(true, "ok")])).collect();
    for (i, checker) in checkers.iter().enumerate() {
        scheduler.insert(CheckId(i as u64), custom(checker), schedule());
    }
    sleep(10.5).await;
    assert!(checkers.iter().all(|c| c.times() == [0, 10_000]));
    assert_eq!(drain(&mut events).len(), 2000);
    assert_eq!(scheduler.stats().attempts(), 4000);
}

#[tokio::test(start_paused = true)]
async fn a_new_schedule_for_the_same_check_takes_over_at_run_time() {
    let (scheduler, mut events) = exact();
    let checker = Scripted::new(&[(true, "ok")]);
    scheduler.insert(CheckId(1), custom(&checker), schedule());
    sleep(15.0).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Up, true, "ok".into())]
    );
    let faster = Schedule::new(Duration::from_secs(3)).warmup(Duration::ZERO);
    scheduler.insert(CheckId(1), custom(&checker), faster);
    assert_eq!(scheduler.running(), 1);
    sleep(10.0).await; // t=25
    assert_eq!(checker.times(), [0, 10_000, 15_000, 18_000, 21_000, 24_000]);
    // A new run reports its first result as the initial state again.
    assert_eq!(
        brief(&drain(&mut events)),
        [(1, State::Up, true, "ok".into())]
    );
}

#[test]
fn a_scheduler_on_a_multi_thread_runtime_reports_fast_and_waiting_checks() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (scheduler, mut events) = exact();
        let fast = Scripted::new(&[(true, "ok")]);
        let slow = Slow::new(Some(Duration::from_millis(20)));
        scheduler.insert(CheckId(1), custom(&fast), schedule());
        scheduler.insert(CheckId(2), Check::Custom(slow.clone()), schedule());
        let mut seen = Vec::new();
        while seen.len() < 2 {
            // A guard against a hang, not a timing assertion.
            let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
                .await
                .expect("both initial states arrive")
                .unwrap();
            seen.push((event.id.0, event.state, event.initial, event.reason));
        }
        seen.sort_by_key(|(id, ..)| *id);
        assert_eq!(
            seen,
            [
                (1, State::Up, true, "ok".into()),
                (2, State::Up, true, "slow ok".into())
            ]
        );
    });
}

#[tokio::test(start_paused = true)]
async fn slack_lets_close_starts_share_a_wake_up_and_never_starts_early() {
    let every_second = Schedule::new(Duration::from_secs(1)).warmup(Duration::ZERO);
    for (slack, a_times, b_times) in [
        (0, [0, 1000, 2000], [1, 1001, 2001]),
        // Each first start is due when the driver is awake (first turn, or woken by the insert);
        // from then on both (planned at 1000 and 1001 ms) start together, 2 ms after the earlier.
        (2, [0, 1002, 2002], [1, 1002, 2002]),
    ] {
        let options = SchedulerOptions::default().slack(Duration::from_millis(slack));
        let (scheduler, _events) = Scheduler::with_options(options);
        let a = Scripted::new(&[(true, "ok")]);
        let b = Scripted::new(&[(true, "ok")]);
        scheduler.insert(CheckId(1), custom(&a), every_second);
        tokio::time::sleep(Duration::from_millis(1)).await;
        scheduler.insert(CheckId(2), custom(&b), every_second);
        sleep(2.5).await;
        // Times are counted from each checker's creation; b was made with a.
        assert_eq!(a.times(), a_times, "slack {slack} ms");
        assert_eq!(b.times(), b_times, "slack {slack} ms");
    }
}

#[test]
fn the_default_slack_is_two_milliseconds() {
    assert_eq!(SchedulerOptions::default().slack, Duration::from_millis(2));
    assert_eq!(SchedulerOptions::DEFAULT_SLACK, Duration::from_millis(2));
}

/// A checker that says it may take forever (`Duration::MAX`) and answers after a second.
#[derive(Debug)]
struct Unbounded;

impl Checker for Unbounded {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Outcome::up("unbounded ok")
        })
    }

    fn timeout(&self) -> Duration {
        Duration::MAX
    }
}

#[tokio::test(start_paused = true)]
async fn huge_times_from_a_library_caller_saturate_instead_of_panicking() {
    let (scheduler, mut events) = exact();
    let huge = Schedule {
        delay_loop: Duration::MAX,
        warmup: Some(Duration::MAX),
        retry: u32::MAX,
        delay_before_retry: Duration::MAX,
    };
    assert!(matches!(
        huge.validate(),
        Err(healthcheck::Error::OutOfRange {
            option: "delay_loop",
            ..
        })
    ));
    // The warm-up of `Duration::MAX` plans the first attempt (this panicked in `insert`).
    scheduler.insert(CheckId(1), Check::Custom(Arc::new(Unbounded)), huge);
    // No warm-up: the attempt runs now, under a deadline of `Duration::MAX` plus the margin, and
    // its next start is `Duration::MAX` away.
    let soon = Schedule {
        warmup: Some(Duration::ZERO),
        ..huge
    };
    scheduler.insert(CheckId(2), Check::Custom(Arc::new(Unbounded)), soon);
    sleep(2.0).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(2, State::Up, true, "unbounded ok".into())]
    );
    // The driver is still alive: a third check gets its verdict.
    scheduler.insert(CheckId(3), Check::Custom(Arc::new(Panicky)), schedule());
    sleep(0.5).await;
    assert_eq!(
        brief(&drain(&mut events)),
        [(3, State::Down, true, "the check panicked".into())]
    );
}

/// The first attempts of 20 warmed-up checks, in milliseconds from their insertion.
async fn first_attempts(options: SchedulerOptions) -> Vec<u128> {
    let (scheduler, _events) = Scheduler::with_options(options);
    let checkers: Vec<Arc<Scripted>> = (0..20).map(|_| Scripted::new(&[(true, "ok")])).collect();
    let warm = Schedule::new(Duration::from_secs(10)).warmup(Duration::from_secs(4));
    for (i, checker) in checkers.iter().enumerate() {
        scheduler.insert(CheckId(i as u64), custom(checker), warm);
    }
    sleep(4.5).await;
    checkers.iter().map(|c| c.times()[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn a_seeded_warmup_spreads_the_same_way_every_time() {
    let seeded = SchedulerOptions::default().slack(Duration::ZERO).seed(7);
    let first = first_attempts(seeded).await;
    assert_eq!(first_attempts(seeded).await, first);
    assert_ne!(first_attempts(seeded.seed(8)).await, first);
    assert!(first.iter().all(|&t| t <= 4000), "{first:?}");
}

#[tokio::test(start_paused = true)]
async fn insert_at_plans_from_the_time_it_is_given() {
    let (scheduler, _events) = exact();
    let checker = Scripted::new(&[(true, "ok")]);
    let no_warmup = schedule().warmup(Duration::ZERO);
    scheduler.insert_at(
        CheckId(1),
        custom(&checker),
        no_warmup,
        Instant::now() + Duration::from_secs(3),
    );
    sleep(2.5).await;
    assert!(checker.times().is_empty(), "{:?}", checker.times());
    sleep(1.0).await;
    assert_eq!(checker.times(), [3000]);
}

#[test]
fn outside_a_runtime_it_is_an_error_or_a_handle_not_a_panic() {
    assert!(Scheduler::try_with_options(SchedulerOptions::default()).is_err());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Made and fed from a plain thread; the driver runs whenever the runtime does.
    let (scheduler, mut events) = Scheduler::on(runtime.handle(), SchedulerOptions::default());
    let checker = Scripted::new(&[(true, "ok")]);
    scheduler.insert(
        CheckId(1),
        custom(&checker),
        schedule().warmup(Duration::ZERO),
    );
    let event = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), events.recv()).await });
    let event = event
        .expect("an event within 10 s")
        .expect("the stream is open");
    assert_eq!(
        (event.id, event.state, event.initial),
        (CheckId(1), State::Up, true)
    );
}
