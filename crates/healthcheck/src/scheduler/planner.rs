//! The scheduler's sans-IO half: who is registered, what runs, when each run starts next, and
//! what each outcome means. It reads no clock and no random source and runs nothing; the tokio
//! driver ([`Scheduler`](super::Scheduler)) feeds it `now` and the outcomes of the attempts it
//! ran, as the VRRP machine and `garp::Announcer` are fed.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::wheel::{Planned, Wheel};
use super::{CheckId, Event, Group, Keyed, State, Tracker, later};
use crate::{Check, Outcome, Schedule};

/// One run of the [`Planner`] (one distinct `(Check, Schedule)` pair): its slot and the
/// generation the slot had when the run was added, so a stale id (of a run removed since, whose
/// slot may hold another run now) finds nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RunId {
    pub(super) slot: u32,
    pub(super) generation: u32,
}

/// One running group: its rule book, its next planned start, its subscribers.
struct Run {
    group: Arc<Group>,
    tracker: Tracker,
    planned: Instant,
    ids: Vec<CheckId>,
    /// The last verdict and its reason, handed to ids that join later as their initial state.
    last: Option<(State, Option<u32>, String)>,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    run: Option<Run>,
}

/// `id`'s run in `runs`, if it is still there.
fn run_in(runs: &mut [Slot], id: RunId) -> Option<&mut Run> {
    let slot = runs.get_mut(id.slot as usize)?;
    if slot.generation != id.generation {
        return None;
    }
    slot.run.as_mut()
}

/// An attempt that is due: which run, what to check, and when it was planned (its start minus
/// this is the slip).
#[derive(Clone, Debug)]
pub struct Due {
    /// The run; hand it back to [`Planner::finish`] with the attempt's outcome.
    pub run: RunId,
    /// When the attempt was planned.
    pub planned: Instant,
    pub(super) group: Arc<Group>,
}

impl Due {
    /// What to check.
    pub fn check(&self) -> &Check {
        &self.group.check
    }
}

/// What [`Planner::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Inserted {
    /// The insert planned a start earlier than the one [`Planner::next_start`] last gave: a
    /// sleeping driver must wake.
    pub wake: bool,
    /// The run the id left (its check or schedule changed) and was the last subscriber of: an
    /// attempt of it still under way is to be cancelled.
    pub ended: Option<RunId>,
}

/// What [`Planner::remove`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Removed {
    /// The run that ended because `id` was its last subscriber: an attempt of it still under
    /// way is to be cancelled (its outcome would be ignored anyway).
    pub ended: Option<RunId>,
}

/// Every check of a [`Scheduler`](super::Scheduler), sans-IO: each distinct `(Check, Schedule)`
/// pair is one run, planned on a timing wheel of millisecond ticks and judged by its
/// [`Tracker`].
///
/// The driver's loop: [`take_due`](Self::take_due) at `now`, run each [`Due`] attempt, hand
/// each outcome to [`finish`](Self::finish) with the time it ended, drain
/// [`poll_event`](Self::poll_event), and sleep until [`next_start`](Self::next_start).
/// [`insert`](Self::insert) and [`finish`](Self::finish) return true when they plan a start
/// earlier than the one `next_start` last gave, that is when a sleeping driver must wake.
/// Every instant comes from the caller, and the random warm-up of a new run from the
/// generator seeded at [`new`](Self::new): the same inputs give the same plan.
pub struct Planner {
    groups: HashMap<Keyed, RunId>,
    ids: HashMap<CheckId, Keyed>,
    runs: Vec<Slot>,
    free: Vec<u32>,
    /// Planned starts. A run that is attempting has no entry; a removed run's entry stays until
    /// it comes up and is then skipped (its id is stale).
    wheel: Wheel,
    /// The tick the driver sleeps until: 0 while it is awake (it asks [`Planner::next_start`]
    /// before it sleeps again), `u64::MAX` when it waits with nothing planned.
    armed: u64,
    /// Draws the first attempt of each new run within its warm-up.
    rng: StdRng,
    events: VecDeque<Event>,
    /// What one [`take_due`](Self::take_due) took off the wheel, kept to save an allocation a turn.
    taken: Vec<Planned>,
}

impl Planner {
    /// A planner with nothing registered; `now` is the origin of its wheel, `seed` seeds the
    /// random spread of first attempts.
    pub fn new(now: Instant, seed: u64) -> Self {
        Self {
            groups: HashMap::new(),
            ids: HashMap::new(),
            runs: Vec::new(),
            free: Vec::new(),
            wheel: Wheel::new(now),
            armed: u64::MAX,
            rng: StdRng::seed_from_u64(seed),
            events: VecDeque::new(),
            taken: Vec::new(),
        }
    }

    fn run_mut(&mut self, id: RunId) -> Option<&mut Run> {
        run_in(&mut self.runs, id)
    }

    fn add(&mut self, run: Run) -> RunId {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.runs.push(Slot::default());
                u32::try_from(self.runs.len() - 1).expect("fewer than 2^32 checks")
            }
        };
        let entry = &mut self.runs[slot as usize];
        entry.run = Some(run);
        RunId {
            slot,
            generation: entry.generation,
        }
    }

    fn take(&mut self, id: RunId) -> Option<Run> {
        let slot = self.runs.get_mut(id.slot as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let run = slot.run.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.slot);
        Some(run)
    }

    /// Plans `run`'s start; true when the driver sleeps for a later one and must be woken.
    fn plan(&mut self, at: Instant, run: RunId) -> bool {
        let tick = self.wheel.insert(at, run);
        if tick < self.armed {
            self.armed = tick;
            return true;
        }
        false
    }

    /// Adds the check `id` at `now`, or changes it if `id` is already known. A new run's first
    /// attempt is planned at `now` plus a random share of the schedule's warm-up. An id whose
    /// check and schedule equal another id's shares its run; it gets the current state at once
    /// as its initial event when that state is known.
    pub fn insert(
        &mut self,
        now: Instant,
        id: CheckId,
        check: Check,
        schedule: Schedule,
    ) -> Inserted {
        let probe = Keyed(Arc::new(Group { check, schedule }));
        let mut ended = None;
        if let Some(current) = self.ids.get(&id) {
            if *current == probe {
                return Inserted { wake: false, ended };
            }
            let current = current.clone();
            ended = self.detach(id, &current);
        }
        let mut wake = false;
        let (group, run_id) = match self.groups.get_key_value(&probe) {
            Some((existing, &run_id)) => (existing.clone(), run_id),
            None => {
                let warmup = schedule.warmup_bound();
                let first_delay = if warmup.is_zero() {
                    Duration::ZERO
                } else {
                    self.rng.random_range(Duration::ZERO..=warmup)
                };
                let planned = later(now, first_delay);
                let run_id = self.add(Run {
                    group: Arc::clone(&probe.0),
                    tracker: Tracker::new(schedule),
                    planned,
                    ids: Vec::new(),
                    last: None,
                });
                self.groups.insert(probe.clone(), run_id);
                wake = self.plan(planned, run_id);
                (probe, run_id)
            }
        };
        let run = self.run_mut(run_id).expect("a registered group runs");
        run.ids.push(id);
        if let Some((state, weight, reason)) = &run.last {
            let event = Event {
                id,
                state: *state,
                weight: *weight,
                initial: true,
                reason: reason.clone(),
            };
            self.events.push_back(event);
        }
        self.ids.insert(id, group);
        Inserted { wake, ended }
    }

    /// Stops the check `id`; `None` when there was none. The run it shared with other ids goes on
    /// for them.
    pub fn remove(&mut self, id: CheckId) -> Option<Removed> {
        let group = self.ids.get(&id).cloned()?;
        Some(Removed {
            ended: self.detach(id, &group),
        })
    }

    fn detach(&mut self, id: CheckId, group: &Keyed) -> Option<RunId> {
        self.ids.remove(&id);
        let &run_id = self.groups.get(group)?;
        let run = self.run_mut(run_id)?;
        run.ids.retain(|other| *other != id);
        if !run.ids.is_empty() {
            return None;
        }
        self.groups.remove(group);
        self.take(run_id).map(|_| run_id)
    }

    /// Judges `run`'s outcome, queues a verdict for its ids and plans its next start (unless it
    /// was removed meanwhile); `now` is about when the attempt ended. True when the driver must
    /// wake for that start.
    pub fn finish(&mut self, run: RunId, outcome: &Outcome, now: Instant) -> bool {
        let Some(entry) = run_in(&mut self.runs, run) else {
            return false;
        };
        let (verdict, delay) = entry.tracker.on_outcome(outcome);
        if let Some(verdict) = verdict {
            tracing::debug!(check = ?entry.group.check, state = ?verdict.state, reason = %outcome.reason, "health check verdict");
            for &id in &entry.ids {
                self.events.push_back(Event {
                    id,
                    state: verdict.state,
                    weight: verdict.weight,
                    initial: verdict.initial,
                    reason: outcome.reason.clone(),
                });
            }
            entry.last = Some((verdict.state, verdict.weight, outcome.reason.clone()));
        }
        // Fixed rate while attempts fit in their slot; after an overrun, a full delay from now.
        entry.planned = later(entry.planned, delay);
        if entry.planned < now {
            entry.planned = later(now, delay);
        }
        let planned = entry.planned;
        self.plan(planned, run)
    }

    /// Moves the attempts due at `now`, at most `limit`, into `due`; false when more are due.
    /// From now on the driver counts as awake (no insert or finish asks to wake it) until it
    /// asks [`next_start`](Self::next_start).
    pub fn take_due(&mut self, now: Instant, limit: usize, due: &mut Vec<Due>) -> bool {
        let Self {
            wheel,
            runs,
            armed,
            taken,
            ..
        } = self;
        *armed = 0;
        taken.clear();
        let all = wheel.take_due(now, limit, |planned| taken.push(planned));
        let live = |planned: &Planned| match runs.get(planned.run.slot as usize) {
            Some(Slot {
                generation,
                run: Some(run),
            }) if *generation == planned.run.generation => Some(run),
            _ => None,
        };
        // The runs of one turn lie anywhere in memory, and so do their groups. Reading them all
        // first, with plain loads that do not depend on each other, lets their cache misses
        // overlap; done one by one, each miss would wait behind the previous reference-count
        // increment, a locked instruction (BENCHMARKS.md, "`take_due` reads before it clones").
        let mut touch = 0;
        for planned in taken.iter() {
            if let Some(run) = live(planned) {
                touch ^= Arc::as_ptr(&run.group) as usize;
            }
        }
        for planned in taken.iter() {
            if let Some(run) = live(planned) {
                touch ^= Arc::strong_count(&run.group);
            }
        }
        std::hint::black_box(touch);
        for planned in taken.iter() {
            if let Some(run) = live(planned) {
                due.push(Due {
                    run: planned.run,
                    planned: planned.at,
                    group: Arc::clone(&run.group),
                });
            }
        }
        all
    }

    /// When the driver is to wake next, if anything is planned; from now on a plan for an
    /// earlier tick makes [`insert`](Self::insert) or [`finish`](Self::finish) return true.
    pub fn next_start(&mut self) -> Option<Instant> {
        let next = self.wheel.next();
        self.armed = next.map_or(u64::MAX, |(tick, _)| tick);
        next.map(|(_, at)| at)
    }

    /// The next event (a verdict, or the initial state of an id that joined a known run), in the
    /// order they arose.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// True while `run` is planned or attempting, false once it ended.
    pub fn is_live(&self, run: RunId) -> bool {
        self.runs
            .get(run.slot as usize)
            .is_some_and(|slot| slot.generation == run.generation && slot.run.is_some())
    }

    /// How many ids are registered.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no check is registered.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// How many distinct checks actually run (ids with identical checks count once).
    pub fn running(&self) -> usize {
        self.groups.len()
    }
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("ids", &self.len())
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}
