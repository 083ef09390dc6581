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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, mpsc};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::net::Human;
use crate::{Check, Checker, Outcome, Schedule};

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

/// The verdict a [`Tracker`] reached from an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The new state.
    pub state: State,
    /// The weight the check set, if any.
    pub weight: Option<u32>,
    /// True when this is the first verdict.
    pub initial: bool,
}

/// The rules that turn attempts into verdicts, without clocks or sockets.
///
/// Feed every outcome to [`Tracker::on_outcome`]; it answers with the verdict to report (if the
/// state or weight changed) and the delay until the next attempt:
/// - the first outcome is the initial state, whatever it is;
/// - a failure of a healthy server is retried `retry` times, `delay_before_retry` apart, and
///   only then reported; a success in between cancels it;
/// - a down server comes back up on one success;
/// - otherwise the next attempt is `delay_loop` away.
#[derive(Clone, Debug)]
pub struct Tracker {
    schedule: Schedule,
    current: Option<(State, Option<u32>)>,
    failures: u32,
}

impl Tracker {
    /// A tracker that has seen nothing yet.
    pub fn new(schedule: Schedule) -> Self {
        Self {
            schedule,
            current: None,
            failures: 0,
        }
    }

    /// The state reported last, if any.
    pub fn state(&self) -> Option<State> {
        self.current.map(|(state, _)| state)
    }

    /// Takes one outcome; returns the verdict to report, if any, and the delay to the next attempt.
    pub fn on_outcome(&mut self, outcome: &Outcome) -> (Option<Verdict>, Duration) {
        let initial = self.current.is_none();
        if outcome.healthy {
            self.failures = 0;
            let weight = outcome
                .weight
                .or_else(|| self.current.and_then(|(_, weight)| weight));
            let next = (State::Up, weight);
            let verdict = (self.current != Some(next)).then_some(Verdict {
                state: State::Up,
                weight,
                initial,
            });
            self.current = Some(next);
            return (verdict, self.schedule.delay_loop);
        }
        match self.current {
            Some((State::Up, _)) if self.failures < self.schedule.retry => {
                self.failures += 1;
                (None, self.schedule.delay_before_retry)
            }
            Some((State::Down, _)) => (None, self.schedule.delay_loop),
            _ => {
                self.failures = 0;
                self.current = Some((State::Down, None));
                let verdict = Verdict {
                    state: State::Down,
                    weight: None,
                    initial,
                };
                (Some(verdict), self.schedule.delay_loop)
            }
        }
    }
}

/// How late attempts start compared with their plan, and how many ran: the figure keepalived
/// loses at scale. Lock-free; read it with [`SlipStats::quantile`].
pub struct SlipStats {
    buckets: Box<[AtomicU64]>,
    attempts: AtomicU64,
}

const LINEAR: u64 = 64;
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (LINEAR + (64 - 6) * SUB) as usize;

impl SlipStats {
    fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            attempts: AtomicU64::new(0),
        }
    }

    fn bucket(micros: u64) -> usize {
        if micros < LINEAR {
            return micros as usize;
        }
        let exponent = 63 - u64::from(micros.leading_zeros());
        let sub = (micros >> (exponent - u64::from(SUB_BITS))) & (SUB - 1);
        (LINEAR + (exponent - 6) * SUB + sub) as usize
    }

    fn bucket_upper(bucket: usize) -> u64 {
        let bucket = bucket as u64;
        if bucket < LINEAR {
            return bucket;
        }
        let exponent = (bucket - LINEAR) / SUB + 6;
        let sub = (bucket - LINEAR) % SUB;
        ((SUB + sub + 1) << (exponent - u64::from(SUB_BITS))) - 1
    }

    pub(crate) fn record(&self, slip: Duration) {
        let micros = u64::try_from(slip.as_micros()).unwrap_or(u64::MAX);
        self.buckets[Self::bucket(micros)].fetch_add(1, Ordering::Relaxed);
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// The slip below which `q` (0–1) of the attempts started, to about 3 %; `None` before any.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(Duration::from_micros(Self::bucket_upper(bucket)));
            }
        }
        None
    }

    /// Forgets everything counted so far (to measure a steady state after a warm-up).
    pub fn reset(&self) {
        for bucket in self.buckets.iter() {
            bucket.store(0, Ordering::Relaxed);
        }
        self.attempts.store(0, Ordering::Relaxed);
    }
}

impl fmt::Debug for SlipStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlipStats")
            .field("attempts", &self.attempts())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .finish()
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
}

impl Core {
    fn new() -> Self {
        Self {
            groups: HashMap::new(),
            ids: HashMap::new(),
            runs: Vec::new(),
            free: Vec::new(),
            wheel: Wheel::new(Instant::now()),
            armed: u64::MAX,
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

/// Planned starts on a hashed timing wheel of millisecond ticks, tokio's timer resolution: adding
/// and taking an entry are O(1) and touch one slot. (A binary heap of 10,000 entries cost more
/// user time per pop, a cache miss a level, than tokio's timer per check had.)
///
/// An entry is filed under the first tick at or after its instant. The driver sleeps until the
/// earliest entry's instant, then takes every entry of the ticks that have passed and those of
/// the current tick whose instant has. Entries further away than one turn of the wheel wait in
/// their slot for their turn to come round.
struct Wheel {
    origin: Instant,
    /// Every entry of ticks up to and including this one has been taken.
    done: u64,
    slots: Box<[Vec<Planned>]>,
    len: usize,
}

/// One planned start: its tick, its exact instant (for the slip), and whose it is.
#[derive(Clone, Copy, Debug)]
struct Planned {
    tick: u64,
    at: Instant,
    token: Token,
}

/// Hands the entries of `slot` that are `due` to `take`, one `budget` unit each (and one off
/// the wheel's `len`); false when the budget ran out with a due entry still there.
fn drain(
    slot: &mut Vec<Planned>,
    due: impl Fn(&Planned) -> bool,
    budget: &mut usize,
    len: &mut usize,
    take: &mut impl FnMut(Planned),
) -> bool {
    let mut i = 0;
    while i < slot.len() {
        if !due(&slot[i]) {
            i += 1;
            continue;
        }
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        *len -= 1;
        take(slot.swap_remove(i));
    }
    true
}

/// Slots of the wheel: one turn is about four seconds, so the usual `delay_loop`s of a few seconds
/// come round within one turn and a slot holds little but what is due at its tick.
const WHEEL_SLOTS: u64 = 4096;
const TICK: Duration = Duration::from_millis(1);

impl Wheel {
    fn new(origin: Instant) -> Self {
        Self {
            origin,
            done: 0,
            slots: (0..WHEEL_SLOTS).map(|_| Vec::new()).collect(),
            len: 0,
        }
    }

    /// The tick at or after `at`.
    fn tick_of(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(TICK.as_nanos())).unwrap_or(u64::MAX / 2)
    }

    /// The instant of `tick`.
    fn instant_of(&self, tick: u64) -> Instant {
        later(self.origin, Duration::from_millis(tick))
    }

    fn slot(&mut self, tick: u64) -> &mut Vec<Planned> {
        &mut self.slots[(tick % WHEEL_SLOTS) as usize]
    }

    /// Plans `token` at `at` (an instant already past is due at the next tick); returns its tick.
    fn insert(&mut self, at: Instant, token: Token) -> u64 {
        let tick = self.tick_of(at).max(self.done + 1);
        self.slot(tick).push(Planned { tick, at, token });
        self.len += 1;
        tick
    }

    /// Hands the entries due at `now` to `take`, at most `limit` of them; returns false when
    /// more are due.
    fn take_due(&mut self, now: Instant, limit: usize, mut take: impl FnMut(Planned)) -> bool {
        // The last tick that has fully passed.
        let mut now_tick = self.tick_of(now);
        if self.instant_of(now_tick) > now {
            now_tick -= 1;
        }
        let mut budget = limit;
        // After a long sleep, one turn visits every slot.
        let first = self.done.max(now_tick.saturating_sub(WHEEL_SLOTS)) + 1;
        let now_tick = now_tick.max(self.done);
        for tick in first..=now_tick {
            let slot = &mut self.slots[(tick % WHEEL_SLOTS) as usize];
            let due = |p: &Planned| p.tick <= now_tick;
            if !drain(slot, due, &mut budget, &mut self.len, &mut take) {
                self.done = tick - 1;
                return false;
            }
        }
        self.done = now_tick;
        // Entries planned for `now` or just before it while it was the current tick.
        let slot = &mut self.slots[((now_tick + 1) % WHEEL_SLOTS) as usize];
        drain(slot, |p| p.at <= now, &mut budget, &mut self.len, &mut take)
    }

    /// The earliest entry's tick and instant, if any.
    fn next(&self) -> Option<(u64, Instant)> {
        if self.len == 0 {
            return None;
        }
        let earliest = |slot: &[Planned], tick: Option<u64>| {
            slot.iter()
                .filter(|p| tick.is_none_or(|tick| p.tick == tick))
                .map(|p| (p.tick, p.at))
                .min()
        };
        for tick in self.done + 1..=self.done + WHEEL_SLOTS {
            let slot = &self.slots[(tick % WHEEL_SLOTS) as usize];
            if let Some(next) = earliest(slot, Some(tick)) {
                return Some(next);
            }
        }
        // Everything is more than a turn away.
        self.slots
            .iter()
            .filter_map(|slot| earliest(slot, None))
            .min()
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
}

impl SchedulerOptions {
    /// The default slack, 2 ms: a few hundred wake-ups a second rather than a thousand at
    /// 10,000 checks a second (each wake-up costs about as much CPU as two TCP checks), for
    /// starts at most 2 ms later than planned on `delay_loop`s of seconds.
    pub const DEFAULT_SLACK: Duration = Duration::from_millis(2);

    /// These options with another [`slack`](Self::slack).
    #[must_use]
    pub fn slack(mut self, slack: Duration) -> Self {
        self.slack = slack;
        self
    }
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            slack: Self::DEFAULT_SLACK,
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
    /// Outside a tokio runtime.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Event>) {
        Self::with_options(SchedulerOptions::default())
    }

    /// [`Scheduler::new`] with other [`SchedulerOptions`].
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn with_options(options: SchedulerOptions) -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (events, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            core: Mutex::new(Core::new()),
            earlier: Notify::new(),
            events,
            stats: SlipStats::new(),
        });
        let driver = tokio::spawn(drive(Arc::clone(&shared), options)).abort_handle();
        (Self { shared, driver }, rx)
    }

    /// Adds the check `id`, or changes it if `id` is already known. An id whose check and schedule
    /// equal another id's shares its runs; it gets the current state at once as its initial event
    /// when that state is known.
    pub fn insert(&self, id: CheckId, check: Check, schedule: Schedule) {
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
                    rand::rng().random_range(Duration::ZERO..=warmup)
                };
                let planned = later(Instant::now(), first_delay);
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
        // increment, a locked instruction. (This was 5 % of a TCP_CHECK's CPU at 10,000 checks.)
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

#[cfg(test)]
mod tests {
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

    fn token(slot: u32) -> Token {
        Token {
            slot,
            generation: 0,
        }
    }

    /// Takes what is due at `at` ms, as slots.
    fn due(wheel: &mut Wheel, origin: Instant, at: u64, limit: usize) -> (Vec<u32>, bool) {
        let mut taken = Vec::new();
        let all = wheel.take_due(origin + Duration::from_millis(at), limit, |p| {
            taken.push(p.token.slot);
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
        assert!(wheel.take_due(at, 10, |p| taken.push(p.token.slot)));
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
}
