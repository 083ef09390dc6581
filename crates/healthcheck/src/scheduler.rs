//! The scheduler: every check of every real server on one tokio runtime, each with its own
//! deadline, none with its own thread.
//!
//! Each distinct `(Check, Schedule)` pair is one small task that sleeps until its next attempt,
//! runs it under a deadline and feeds the outcome to a [`Tracker`], the sans-IO rule book that
//! decides what the outcome means (a transition or not) and when the next attempt is due. The
//! ids registered with an identical pair share the task and all receive its events.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;
use tokio::sync::mpsc;
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

/// What the subscribers of one running check share with its task.
struct Fanout {
    ids: Vec<CheckId>,
    /// The last verdict and its reason, handed to ids that join later as their initial state.
    last: Option<(State, Option<u32>, String)>,
}

struct Group {
    check: Check,
    schedule: Schedule,
    fanout: Mutex<Fanout>,
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

#[derive(Default)]
struct Registry {
    groups: HashMap<Keyed, AbortHandle>,
    ids: HashMap<CheckId, Keyed>,
}

/// Runs checks on the tokio runtime it was created in and reports their transitions.
///
/// [`Scheduler::insert`] adds a check or changes it, [`Scheduler::remove`] stops it; the others
/// keep running untouched, so a configuration reload is a series of inserts and removes. Dropping
/// the scheduler stops every check.
pub struct Scheduler {
    registry: Mutex<Registry>,
    events: mpsc::UnboundedSender<Event>,
    stats: Arc<SlipStats>,
    runtime: tokio::runtime::Handle,
}

/// The margin the scheduler grants an attempt beyond the checker's own timeout before it cancels it.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(1);

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
        let (events, rx) = mpsc::unbounded_channel();
        let scheduler = Self {
            registry: Mutex::new(Registry::default()),
            events,
            stats: Arc::new(SlipStats::new()),
            runtime: tokio::runtime::Handle::current(),
        };
        (scheduler, rx)
    }

    /// Adds the check `id`, or changes it if `id` is already known. An id whose check and schedule
    /// equal another id's shares its runs; it gets the current state at once as its initial event
    /// when that state is known.
    pub fn insert(&self, id: CheckId, check: Check, schedule: Schedule) {
        let mut registry = lock(&self.registry);
        let probe = Keyed(Arc::new(Group {
            check,
            schedule,
            fanout: Mutex::new(Fanout {
                ids: Vec::new(),
                last: None,
            }),
        }));
        if let Some(current) = registry.ids.get(&id) {
            if *current == probe {
                return;
            }
            let current = current.clone();
            Self::detach(&mut registry, id, &current);
        }
        let group = match registry.groups.get_key_value(&probe) {
            Some((existing, _)) => existing.clone(),
            None => {
                let task = self
                    .runtime
                    .spawn(run(
                        Arc::clone(&probe.0),
                        self.events.clone(),
                        Arc::clone(&self.stats),
                    ))
                    .abort_handle();
                registry.groups.insert(probe.clone(), task);
                probe
            }
        };
        let mut fanout = lock(&group.0.fanout);
        fanout.ids.push(id);
        if let Some((state, weight, reason)) = &fanout.last {
            let _ = self.events.send(Event {
                id,
                state: *state,
                weight: *weight,
                initial: true,
                reason: reason.clone(),
            });
        }
        drop(fanout);
        registry.ids.insert(id, group);
    }

    /// Stops the check `id`; returns false when there was none. The run it shared with other ids
    /// goes on for them.
    pub fn remove(&self, id: CheckId) -> bool {
        let mut registry = lock(&self.registry);
        match registry.ids.get(&id).cloned() {
            Some(group) => {
                Self::detach(&mut registry, id, &group);
                true
            }
            None => false,
        }
    }

    fn detach(registry: &mut Registry, id: CheckId, group: &Keyed) {
        registry.ids.remove(&id);
        let empty = {
            let mut fanout = lock(&group.0.fanout);
            fanout.ids.retain(|other| *other != id);
            fanout.ids.is_empty()
        };
        if empty && let Some(task) = registry.groups.remove(group) {
            task.abort();
        }
    }

    /// How many ids are registered.
    pub fn len(&self) -> usize {
        lock(&self.registry).ids.len()
    }

    /// True when no check is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many distinct checks actually run (ids with identical checks count once).
    pub fn running(&self) -> usize {
        lock(&self.registry).groups.len()
    }

    /// Start slip and attempt count of every check of this scheduler.
    pub fn stats(&self) -> &SlipStats {
        &self.stats
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        for task in lock(&self.registry).groups.values() {
            task.abort();
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

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::pin::Pin::new(inner).poll(cx)
        })) {
            Ok(std::task::Poll::Ready(output)) => std::task::Poll::Ready(Some(output)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(None),
        }
    }
}

/// Polls `fut` once: its output if it finished at once, `None` if it has to wait (it is then
/// registered for its wake-up as usual, and can be awaited on).
async fn ready_now<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut *fut).poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// One check's task: sleep, attempt under a deadline, judge, report, repeat.
async fn run(group: Arc<Group>, events: mpsc::UnboundedSender<Event>, stats: Arc<SlipStats>) {
    let warmup = group.schedule.warmup_bound();
    let first_delay = if warmup.is_zero() {
        Duration::ZERO
    } else {
        rand::rng().random_range(Duration::ZERO..=warmup)
    };
    let mut planned = Instant::now() + first_delay;
    let mut tracker = Tracker::new(group.schedule);
    let deadline = group.check.timeout() + DEADLINE_MARGIN;
    loop {
        tokio::time::sleep_until(planned).await;
        let started = Instant::now();
        stats.record(started.saturating_duration_since(planned));
        let mut attempt = CatchUnwind(group.check.check());
        // Most attempts on a fast network finish in their first poll (a TCP_CHECK whose
        // handshake is back before connect returns): only the others need the deadline's timer.
        let result = match ready_now(&mut attempt).await {
            Some(result) => Ok(result),
            None => tokio::time::timeout_at(started + deadline, attempt).await,
        };
        let outcome = match result {
            Ok(Some(outcome)) => outcome,
            Ok(None) => Outcome::down("the check panicked"),
            Err(_) => Outcome::down(format!(
                "the check did not finish within {} and was cancelled",
                Human(deadline)
            )),
        };
        let (verdict, delay) = tracker.on_outcome(&outcome);
        if let Some(verdict) = verdict {
            tracing::debug!(check = ?group.check, state = ?verdict.state, reason = %outcome.reason, "health check verdict");
            let mut fanout = lock(&group.fanout);
            for &id in &fanout.ids {
                let _ = events.send(Event {
                    id,
                    state: verdict.state,
                    weight: verdict.weight,
                    initial: verdict.initial,
                    reason: outcome.reason.clone(),
                });
            }
            fanout.last = Some((verdict.state, verdict.weight, outcome.reason));
        }
        // Fixed rate while attempts fit in their slot; after an overrun, a full delay from now.
        let now = Instant::now();
        planned += delay;
        if planned < now {
            planned = now + delay;
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
}
