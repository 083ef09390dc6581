//! The scheduler: every check of every real server on one tokio runtime, each with its own
//! deadline, none with its own thread.
//!
//! Each distinct `(Check, Schedule)` pair is one run: a [`Tracker`], the sans-IO rule book that
//! decides what an outcome means (a transition or not) and when the next attempt is due, and the
//! ids registered with that pair, which all receive its events. One driver task owns the timing
//! of every run: a timing wheel of planned starts and a single tokio timer for the earliest. On each wake
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

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::net::Human;
use crate::{Check, Checker, Outcome, Schedule};

mod stats;
#[cfg(test)]
mod tests;
mod tracker;
mod wheel;

pub use stats::SlipStats;
pub use tracker::{Tracker, Verdict};
use wheel::*;

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

/// A slot of [`Core::runs`] and the generation it had when handed out: a stale token (of a run
/// removed since, whose slot may hold another run now) finds nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Token {
    slot: u32,
    generation: u32,
}

/// One running group: its rule book, its next planned start, its subscribers.
struct Run {
    group: Arc<Group>,
    tracker: Tracker,
    planned: Instant,
    ids: Vec<CheckId>,
    /// The last verdict and its reason, handed to ids that join later as their initial state.
    last: Option<(State, Option<u32>, String)>,
    /// The task of an attempt that did not finish in its first poll, to cancel on removal.
    waiting: Option<AbortHandle>,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    run: Option<Run>,
}

/// Everything the scheduler knows, behind one lock: who is registered, what runs, and when.
struct Core {
    groups: HashMap<Keyed, Token>,
    ids: HashMap<CheckId, Keyed>,
    runs: Vec<Slot>,
    free: Vec<u32>,
    /// Planned starts. A run that is attempting has no entry; a removed run's entry stays until
    /// it comes up and is then skipped (its token is stale).
    wheel: Wheel,
    /// The tick the driver's timer is set for: 0 while it is awake (it looks at the wheel before
    /// it sleeps again), `u64::MAX` when it waits with nothing planned.
    armed: u64,
    /// Draws the first attempt of each new run within its warm-up.
    rng: StdRng,
}

impl Core {
    fn new(seed: Option<u64>) -> Self {
        Self {
            groups: HashMap::new(),
            ids: HashMap::new(),
            runs: Vec::new(),
            free: Vec::new(),
            wheel: Wheel::new(Instant::now()),
            armed: u64::MAX,
            rng: seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64),
        }
    }

    fn run_mut(&mut self, token: Token) -> Option<&mut Run> {
        let slot = self.runs.get_mut(token.slot as usize)?;
        if slot.generation != token.generation {
            return None;
        }
        slot.run.as_mut()
    }

    fn add(&mut self, run: Run) -> Token {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.runs.push(Slot::default());
                u32::try_from(self.runs.len() - 1).expect("fewer than 2^32 checks")
            }
        };
        let entry = &mut self.runs[slot as usize];
        entry.run = Some(run);
        Token {
            slot,
            generation: entry.generation,
        }
    }

    fn take(&mut self, token: Token) -> Option<Run> {
        let slot = self.runs.get_mut(token.slot as usize)?;
        if slot.generation != token.generation {
            return None;
        }
        let run = slot.run.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(token.slot);
        Some(run)
    }

    /// Plans `token`'s start; true when the driver sleeps for a later one and must be woken.
    fn plan(&mut self, at: Instant, token: Token) -> bool {
        let tick = self.wheel.insert(at, token);
        if tick < self.armed {
            self.armed = tick;
            return true;
        }
        false
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

/// Runs checks on the tokio runtime it was created in and reports their transitions.
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
fn later(at: Instant, delay: Duration) -> Instant {
    at.checked_add(delay)
        .or_else(|| at.checked_add(FAR_FUTURE.min(delay)))
        .unwrap_or(at)
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
        let shared = Arc::new(Shared {
            core: Mutex::new(Core::new(options.seed)),
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

    /// Adds the check `id` at `now`, or changes it if `id` is already known. A new run's first
    /// attempt is planned at `now` plus a random share of the schedule's warm-up (drawn from the
    /// scheduler's generator, see [`SchedulerOptions::seed`]). An id whose check and schedule
    /// equal another id's shares its runs; it gets the current state at once as its initial event
    /// when that state is known. Needs no runtime context: it only plans.
    pub fn insert_at(&self, id: CheckId, check: Check, schedule: Schedule, now: Instant) {
        let mut core = lock(&self.shared.core);
        let probe = Keyed(Arc::new(Group { check, schedule }));
        if let Some(current) = core.ids.get(&id) {
            if *current == probe {
                return;
            }
            let current = current.clone();
            Self::detach(&mut core, id, &current);
        }
        let (group, token) = match core.groups.get_key_value(&probe) {
            Some((existing, &token)) => (existing.clone(), token),
            None => {
                let warmup = schedule.warmup_bound();
                let first_delay = if warmup.is_zero() {
                    Duration::ZERO
                } else {
                    core.rng.random_range(Duration::ZERO..=warmup)
                };
                let planned = later(now, first_delay);
                let token = core.add(Run {
                    group: Arc::clone(&probe.0),
                    tracker: Tracker::new(schedule),
                    planned,
                    ids: Vec::new(),
                    last: None,
                    waiting: None,
                });
                core.groups.insert(probe.clone(), token);
                if core.plan(planned, token) {
                    self.shared.earlier.notify_one();
                }
                (probe, token)
            }
        };
        let run = core.run_mut(token).expect("a registered group runs");
        run.ids.push(id);
        if let Some((state, weight, reason)) = &run.last {
            let _ = self.shared.events.send(Event {
                id,
                state: *state,
                weight: *weight,
                initial: true,
                reason: reason.clone(),
            });
        }
        core.ids.insert(id, group);
    }

    /// Stops the check `id`; returns false when there was none. The run it shared with other ids
    /// goes on for them.
    pub fn remove(&self, id: CheckId) -> bool {
        let mut core = lock(&self.shared.core);
        match core.ids.get(&id).cloned() {
            Some(group) => {
                Self::detach(&mut core, id, &group);
                true
            }
            None => false,
        }
    }

    fn detach(core: &mut Core, id: CheckId, group: &Keyed) {
        core.ids.remove(&id);
        let Some(&token) = core.groups.get(group) else {
            return;
        };
        let Some(run) = core.run_mut(token) else {
            return;
        };
        run.ids.retain(|other| *other != id);
        if run.ids.is_empty() {
            core.groups.remove(group);
            if let Some(waiting) = core.take(token).and_then(|run| run.waiting) {
                waiting.abort();
            }
        }
    }

    /// How many ids are registered.
    pub fn len(&self) -> usize {
        lock(&self.shared.core).ids.len()
    }

    /// True when no check is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many distinct checks actually run (ids with identical checks count once).
    pub fn running(&self) -> usize {
        lock(&self.shared.core).groups.len()
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
        for slot in &mut core.runs {
            if let Some(waiting) = slot.run.as_mut().and_then(|run| run.waiting.take()) {
                waiting.abort();
            }
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
    /// Judges `token`'s outcome, reports a verdict to its ids and plans its next start (unless it
    /// was removed meanwhile); `now` is about when the attempt ended. True when the driver must
    /// be woken for that start.
    fn finish(&self, token: Token, outcome: &Outcome, now: Instant) -> bool {
        let mut core = lock(&self.core);
        let Some(run) = core.run_mut(token) else {
            return false;
        };
        run.waiting = None;
        let (verdict, delay) = run.tracker.on_outcome(outcome);
        if let Some(verdict) = verdict {
            tracing::debug!(check = ?run.group.check, state = ?verdict.state, reason = %outcome.reason, "health check verdict");
            for &id in &run.ids {
                let _ = self.events.send(Event {
                    id,
                    state: verdict.state,
                    weight: verdict.weight,
                    initial: verdict.initial,
                    reason: outcome.reason.clone(),
                });
            }
            run.last = Some((verdict.state, verdict.weight, outcome.reason.clone()));
        }
        // Fixed rate while attempts fit in their slot; after an overrun, a full delay from now.
        run.planned = later(run.planned, delay);
        if run.planned < now {
            run.planned = later(now, delay);
        }
        let planned = run.planned;
        core.plan(planned, token)
    }

    /// Takes the runs due at `now`, at most [`STARTS_PER_TURN`], into `due`; false when more
    /// are due.
    fn take_due(&self, now: Instant, due: &mut Vec<(Token, Arc<Group>, Instant)>) -> bool {
        let mut core = lock(&self.core);
        let Core {
            wheel, runs, armed, ..
        } = &mut *core;
        *armed = 0;
        let mut taken = [None; STARTS_PER_TURN];
        let mut n = 0;
        let all = wheel.take_due(now, STARTS_PER_TURN, |planned| {
            taken[n] = Some(planned);
            n += 1;
        });
        let live = |planned: &Planned| match runs.get(planned.token.slot as usize) {
            Some(Slot {
                generation,
                run: Some(run),
            }) if *generation == planned.token.generation => Some(run),
            _ => None,
        };
        // The runs of one turn lie anywhere in memory, and so do their groups. Reading them all
        // first, with plain loads that do not depend on each other, lets their cache misses
        // overlap; done one by one, each miss would wait behind the previous reference-count
        // increment, a locked instruction (BENCHMARKS.md, "`take_due` reads before it clones").
        let mut touch = 0;
        for planned in taken[..n].iter().flatten() {
            if let Some(run) = live(planned) {
                touch ^= Arc::as_ptr(&run.group) as usize;
            }
        }
        for planned in taken[..n].iter().flatten() {
            if let Some(run) = live(planned) {
                touch ^= Arc::strong_count(&run.group);
            }
        }
        std::hint::black_box(touch);
        for planned in taken[..n].iter().flatten() {
            if let Some(run) = live(planned) {
                due.push((planned.token, Arc::clone(&run.group), planned.at));
            }
        }
        all
    }

    /// When the driver is to wake next, if anything is planned; from now on a plan for an
    /// earlier tick wakes it.
    fn next(&self) -> Option<Instant> {
        let mut core = lock(&self.core);
        let next = core.wheel.next();
        core.armed = next.map_or(u64::MAX, |(tick, _)| tick);
        next.map(|(_, at)| at)
    }

    /// Starts the attempts in `due` and polls each once, in the driver's turn: on a fast network
    /// most finish right there (a TCP_CHECK whose handshake is back before `connect` returns).
    /// The others go on as tasks of their own, each under its own deadline.
    fn start(self: &Arc<Self>, cx: &mut Context<'_>, due: &mut Vec<(Token, Arc<Group>, Instant)>) {
        for (token, group, planned) in due.drain(..) {
            let started = Instant::now();
            self.stats
                .record(started.saturating_duration_since(planned));
            let deadline = deadline_of(&group);
            let mut attempt = attempt(group);
            if let Poll::Ready(result) = Pin::new(&mut attempt).poll(cx) {
                // It took microseconds: its start stands for its end.
                self.finish(token, &outcome_of(Ok(result), deadline), started);
                continue;
            }
            let mut core = lock(&self.core);
            let Some(run) = core.run_mut(token) else {
                continue;
            };
            let shared = Arc::clone(self);
            let task = tokio::spawn(async move {
                let result = tokio::time::timeout_at(later(started, deadline), attempt).await;
                if shared.finish(token, &outcome_of(result, deadline), Instant::now()) {
                    shared.earlier.notify_one();
                }
            });
            run.waiting = Some(task.abort_handle());
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
            Some(at) if later(at, options.slack) <= Instant::now() => {}
            Some(at) => {
                sleep.as_mut().reset(later(at, options.slack));
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
