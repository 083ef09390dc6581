//! The scheduler: every check of every real server on one tokio runtime, each with its own
//! deadline, none with its own thread.
//!
//! Two halves, as elsewhere in the workspace: the [`Planner`], sans-IO, knows every run and when
//! it starts next and judges each outcome (it takes `now` as an input and reads no clock); the
//! [`Scheduler`] is its tokio driver, which reads the clock, sleeps and runs the attempts.
//!
//! Each distinct `(Check, Schedule)` pair is one run: a [`Tracker`], the sans-IO rule book that
//! decides what an outcome means (a transition or not) and when the next attempt is due, and the
//! ids registered with that pair, which all receive its events. One driver task owns the timing
//! of every run: the planner's timing wheel of planned starts and a single tokio timer for the earliest. On each wake
//! it starts every attempt that is due and polls it once right there; an attempt that finishes in
//! that poll (most TCP_CHECKs on a fast network) costs no task, no timer and no wake-up of its
//! own. One that has to wait goes on as a task of its own, under its own deadline, so a slow or
//! hanging check never delays another.

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::net::Human;
use crate::{Check, Checker, Outcome, Schedule};

mod planner;
mod stats;
#[cfg(test)]
mod tests;
mod tracker;
mod wheel;

pub use planner::{Due, Inserted, Planner, Removed, RunId};
pub use stats::SlipStats;
pub use tracker::{Tracker, Verdict};

/// The caller's name for one check of one real server (for example one checker block of one
/// `real_server` of one `virtual_server`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckId(pub u64);

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "check {}", self.0)
    }
}

/// Whether a real server is in service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Healthy: keep it (or put it back) in the pool.
    Up,
    /// Failed: take it out.
    Down,
}

/// A change of a check's verdict, sent to every id registered for that check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Which check.
    pub id: CheckId,
    /// The new state.
    pub state: State,
    /// A new weight set by the check (MISC_CHECK with `misc_dynamic`).
    pub weight: Option<u32>,
    /// True for the first verdict after the check was added: the initial state, not a change.
    pub initial: bool,
    /// The reason given by the attempt that decided it.
    pub reason: String,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Up => "UP",
            State::Down => "DOWN",
        };
        write!(f, "{}: {state}", self.id)?;
        if let Some(weight) = self.weight {
            write!(f, " weight={weight}")?;
        }
        if self.initial {
            f.write_str(" (initial)")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What one distinct `(Check, Schedule)` pair runs: shared, immutable, with every attempt.
#[derive(Debug)]
struct Group {
    check: Check,
    schedule: Schedule,
}

/// A running group as a map key: equal when check and schedule are, so a lookup finds the run an
/// identical check already has, without the registry keeping a second copy of the configuration.
#[derive(Clone)]
struct Keyed(Arc<Group>);

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.0.schedule == other.0.schedule && self.0.check == other.0.check
    }
}

impl Eq for Keyed {}

impl std::hash::Hash for Keyed {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.check.hash(state);
        self.0.schedule.hash(state);
    }
}

/// The planner and the tasks of the attempts that did not finish in their first poll (to cancel
/// when their run ends), behind one lock.
struct Core {
    planner: Planner,
    waiting: HashMap<RunId, AbortHandle>,
}

impl Core {
    /// Sends what the planner has queued.
    fn send_events(&mut self, events: &mpsc::UnboundedSender<Event>) {
        while let Some(event) = self.planner.poll_event() {
            let _ = events.send(event);
        }
    }
}

/// What the scheduler handle, its driver task and the attempts that wait share.
struct Shared {
    core: Mutex<Core>,
    /// Wakes the driver when a start earlier than the one it sleeps for was planned.
    earlier: Notify,
    events: mpsc::UnboundedSender<Event>,
    stats: SlipStats,
}

/// How a [`Scheduler`] times its attempts; [`Scheduler::with_options`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchedulerOptions {
    /// How late a start may be, so that starts close together share one wake-up (like a
    /// thread's timer slack): the scheduler sleeps until the earliest planned start plus the
    /// slack, then starts everything due by then. A start is never early. Default
    /// [`SchedulerOptions::DEFAULT_SLACK`]; zero wakes for every millisecond tick that has a
    /// start.
    pub slack: Duration,
    /// Seeds the random spread of first attempts over a schedule's warm-up, so that a test (or
    /// a replay) gets the same spread every time; `None` (the default) seeds from the operating
    /// system.
    pub seed: Option<u64>,
}

impl SchedulerOptions {
    /// The default slack, 2 ms: a few hundred wake-ups a second rather than a thousand at
    /// 10,000 checks a second, for starts at most 2 ms later than planned on `delay_loop`s of
    /// seconds (figures in BENCHMARKS.md, "Raw SYN probes, scheduler slack").
    pub const DEFAULT_SLACK: Duration = Duration::from_millis(2);

    /// These options with another [`slack`](Self::slack).
    #[must_use]
    pub fn slack(mut self, slack: Duration) -> Self {
        self.slack = slack;
        self
    }

    /// These options with a fixed [`seed`](Self::seed).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            slack: Self::DEFAULT_SLACK,
            seed: None,
        }
    }
}

/// Runs checks on the tokio runtime it was created in and reports their transitions: the tokio
/// driver of a [`Planner`].
///
/// [`Scheduler::insert`] adds a check or changes it, [`Scheduler::remove`] stops it; the others
/// keep running untouched, so a configuration reload is a series of inserts and removes. Dropping
/// the scheduler stops every check.
pub struct Scheduler {
    shared: Arc<Shared>,
    driver: AbortHandle,
}

/// How far ahead a deadline that would leave the clock's range is put instead: about 30 years,
/// as tokio does for its own far-future timers.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `at + delay`, saturated: a delay from a library caller (a `delay_loop` of `Duration::MAX`)
/// makes a deadline in the far future instead of a panic.
fn later(at: std::time::Instant, delay: Duration) -> std::time::Instant {
    at.checked_add(delay)
        .or_else(|| at.checked_add(FAR_FUTURE.min(delay)))
        .unwrap_or(at)
}

/// [`later`] on tokio's clock.
fn later_on_tokio(at: Instant, delay: Duration) -> Instant {
    Instant::from_std(later(at.into_std(), delay))
}

/// The driver's clock, as the planner takes it: tokio's (paused in tests), as a std instant.
fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// The margin the scheduler grants an attempt beyond the checker's own timeout before it cancels it.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

/// Attempts the driver starts in one turn at most before it lets other tasks run: a backlog
/// (thousands of checks due at once) must not hold the thread.
const STARTS_PER_TURN: usize = 64;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Scheduler {
    /// A scheduler on the current tokio runtime, and the stream of its events.
    ///
    /// The stream is unbounded but carries only transitions (and initial states), so it stays
    /// short as long as someone reads it; attempts never wait for the reader.
    ///
    /// # Panics
    /// Outside a tokio runtime; [`Scheduler::try_with_options`] and [`Scheduler::on`] do not.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Event>) {
        Self::with_options(SchedulerOptions::default())
    }

    /// [`Scheduler::new`] with other [`SchedulerOptions`].
    ///
    /// # Panics
    /// Outside a tokio runtime; [`Scheduler::try_with_options`] and [`Scheduler::on`] do not.
    pub fn with_options(options: SchedulerOptions) -> (Self, mpsc::UnboundedReceiver<Event>) {
        Self::on(&tokio::runtime::Handle::current(), options)
    }

    /// [`Scheduler::with_options`] on the current tokio runtime, or the reason there is none:
    /// for callers that may run outside one and must not panic.
    pub fn try_with_options(
        options: SchedulerOptions,
    ) -> Result<(Self, mpsc::UnboundedReceiver<Event>), tokio::runtime::TryCurrentError> {
        Ok(Self::on(&tokio::runtime::Handle::try_current()?, options))
    }

    /// A scheduler whose driver (and attempts) run on `runtime`; callable from any thread,
    /// inside a runtime or not.
    pub fn on(
        runtime: &tokio::runtime::Handle,
        options: SchedulerOptions,
    ) -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (events, rx) = mpsc::unbounded_channel();
        // The driver's one random input: the operating system's, unless the caller fixed it.
        let seed = options.seed.unwrap_or_else(rand::random);
        let shared = Arc::new(Shared {
            core: Mutex::new(Core {
                planner: Planner::new(now(), seed),
                waiting: HashMap::new(),
            }),
            earlier: Notify::new(),
            events,
            stats: SlipStats::new(),
        });
        let driver = runtime
            .spawn(drive(Arc::clone(&shared), options))
            .abort_handle();
        (Self { shared, driver }, rx)
    }

    /// Adds the check `id`, or changes it if `id` is already known: [`Scheduler::insert_at`] now.
    pub fn insert(&self, id: CheckId, check: Check, schedule: Schedule) {
        self.insert_at(id, check, schedule, Instant::now());
    }

    /// Adds the check `id` at `now`, or changes it if `id` is already known: [`Planner::insert`]
    /// (a new run's first attempt at `now` plus a random share of the schedule's warm-up, drawn
    /// from the generator [`SchedulerOptions::seed`] seeds; an id whose check and schedule equal
    /// another id's shares its run and gets its known state at once). Needs no runtime context:
    /// it only plans.
    pub fn insert_at(&self, id: CheckId, check: Check, schedule: Schedule, now: Instant) {
        let mut core = lock(&self.shared.core);
        let inserted = core.planner.insert(now.into_std(), id, check, schedule);
        if let Some(waiting) = inserted.ended.and_then(|run| core.waiting.remove(&run)) {
            waiting.abort();
        }
        if inserted.wake {
            self.shared.earlier.notify_one();
        }
        core.send_events(&self.shared.events);
    }

    /// Stops the check `id`; returns false when there was none. The run it shared with other ids
    /// goes on for them.
    pub fn remove(&self, id: CheckId) -> bool {
        let mut core = lock(&self.shared.core);
        match core.planner.remove(id) {
            Some(removed) => {
                if let Some(waiting) = removed.ended.and_then(|run| core.waiting.remove(&run)) {
                    waiting.abort();
                }
                true
            }
            None => false,
        }
    }

    /// How many ids are registered.
    pub fn len(&self) -> usize {
        lock(&self.shared.core).planner.len()
    }

    /// True when no check is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many distinct checks actually run (ids with identical checks count once).
    pub fn running(&self) -> usize {
        lock(&self.shared.core).planner.running()
    }

    /// Start slip and attempt count of every check of this scheduler.
    pub fn stats(&self) -> &SlipStats {
        &self.shared.stats
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.driver.abort();
        let mut core = lock(&self.shared.core);
        for (_, waiting) in core.waiting.drain() {
            waiting.abort();
        }
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("ids", &self.len())
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

/// Turns a panic inside an attempt into `None`, so a faulty checker fails its check instead of
/// silently ending it.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Some(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    }
}

/// One attempt of a group, owning what it checks, so that it can outlive the driver's turn.
type Attempt = CatchUnwind<Pin<Box<dyn Future<Output = Outcome> + Send>>>;

fn attempt(group: Arc<Group>) -> Attempt {
    CatchUnwind(Box::pin(async move { group.check.check().await }))
}

/// What an attempt's result means: a panic or a cancellation at the deadline is a failure.
fn outcome_of(
    result: Result<Option<Outcome>, tokio::time::error::Elapsed>,
    deadline: Duration,
) -> Outcome {
    match result {
        Ok(Some(outcome)) => outcome,
        Ok(None) => Outcome::down("the check panicked"),
        Err(_) => Outcome::down(format!(
            "the check did not finish within {} and was cancelled",
            Human(deadline)
        )),
    }
}

/// An attempt's deadline: the checker's own timeout and the margin.
fn deadline_of(group: &Group) -> Duration {
    group.check.timeout().saturating_add(DEADLINE_MARGIN)
}

impl Shared {
    /// Hands `run`'s outcome to the planner and sends the verdicts it queued; `now` is about
    /// when the attempt ended. True when the driver must be woken for the next start.
    fn finish(&self, run: RunId, outcome: &Outcome, now: Instant) -> bool {
        let mut core = lock(&self.core);
        core.waiting.remove(&run);
        let wake = core.planner.finish(run, outcome, now.into_std());
        core.send_events(&self.events);
        wake
    }

    /// Takes the runs due at `now`, at most [`STARTS_PER_TURN`], into `due`; false when more
    /// are due.
    fn take_due(&self, now: Instant, due: &mut Vec<Due>) -> bool {
        lock(&self.core)
            .planner
            .take_due(now.into_std(), STARTS_PER_TURN, due)
    }

    /// When the driver is to wake next, if anything is planned; from now on a plan for an
    /// earlier tick wakes it.
    fn next(&self) -> Option<Instant> {
        lock(&self.core).planner.next_start().map(Instant::from_std)
    }

    /// Starts the attempts in `due` and polls each once, in the driver's turn: on a fast network
    /// most finish right there (a TCP_CHECK whose handshake is back before `connect` returns).
    /// The others go on as tasks of their own, each under its own deadline.
    fn start(self: &Arc<Self>, cx: &mut Context<'_>, due: &mut Vec<Due>) {
        for Due {
            run,
            planned,
            group,
        } in due.drain(..)
        {
            let started = Instant::now();
            self.stats
                .record(started.into_std().saturating_duration_since(planned));
            let deadline = deadline_of(&group);
            let mut attempt = attempt(group);
            if let Poll::Ready(result) = Pin::new(&mut attempt).poll(cx) {
                // It took microseconds: its start stands for its end.
                self.finish(run, &outcome_of(Ok(result), deadline), started);
                continue;
            }
            let mut core = lock(&self.core);
            if !core.planner.is_live(run) {
                continue;
            }
            let shared = Arc::clone(self);
            let task = tokio::spawn(async move {
                let result =
                    tokio::time::timeout_at(later_on_tokio(started, deadline), attempt).await;
                if shared.finish(run, &outcome_of(result, deadline), Instant::now()) {
                    shared.earlier.notify_one();
                }
            });
            core.waiting.insert(run, task.abort_handle());
        }
    }
}

/// The driver: one task, one timer, for every check. It sleeps until the earliest planned start
/// and the slack (or until an earlier start is planned), starts what is due, and sleeps again.
async fn drive(shared: Arc<Shared>, options: SchedulerOptions) {
    let mut due = Vec::with_capacity(STARTS_PER_TURN);
    let sleep = tokio::time::sleep_until(Instant::now());
    tokio::pin!(sleep);
    loop {
        let all = shared.take_due(Instant::now(), &mut due);
        if !due.is_empty() {
            std::future::poll_fn(|cx| {
                shared.start(cx, &mut due);
                Poll::Ready(())
            })
            .await;
        }
        if !all {
            tokio::task::yield_now().await;
            continue;
        }
        match shared.next() {
            Some(at) if later_on_tokio(at, options.slack) <= Instant::now() => {}
            Some(at) => {
                sleep.as_mut().reset(later_on_tokio(at, options.slack));
                tokio::select! {
                    biased;
                    () = &mut sleep => {}
                    () = shared.earlier.notified() => {}
                }
            }
            None => shared.earlier.notified().await,
        }
    }
}
