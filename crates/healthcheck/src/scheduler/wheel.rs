//! The timing wheel of planned starts that the driver sleeps on.

use std::time::{Duration, Instant};

use super::later;
use super::planner::RunId;

/// Planned starts on a hashed timing wheel of millisecond ticks, tokio's timer resolution: adding
/// and taking an entry are O(1) and touch one slot. (A binary heap of 10,000 entries cost more
/// user time per pop, a cache miss a level, than tokio's timer per check had.)
///
/// An entry is filed under the first tick at or after its instant. The driver sleeps until the
/// earliest entry's instant, then takes every entry of the ticks that have passed and those of
/// the current tick whose instant has. Entries further away than one turn of the wheel wait in
/// their slot for their turn to come round.
pub(super) struct Wheel {
    pub(super) origin: Instant,
    /// Every entry of ticks up to and including this one has been taken.
    pub(super) done: u64,
    pub(super) slots: Box<[Vec<Planned>]>,
    pub(super) len: usize,
}

/// One planned start: its tick, its exact instant (for the slip), and whose it is.
#[derive(Clone, Copy, Debug)]
pub(super) struct Planned {
    pub(super) tick: u64,
    pub(super) at: Instant,
    pub(super) run: RunId,
}

/// Hands the entries of `slot` that are `due` to `take`, one `budget` unit each (and one off
/// the wheel's `len`); false when the budget ran out with a due entry still there.
pub(super) fn drain(
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
pub(super) const WHEEL_SLOTS: u64 = 4096;
pub(super) const TICK: Duration = Duration::from_millis(1);

impl Wheel {
    pub(super) fn new(origin: Instant) -> Self {
        Self {
            origin,
            done: 0,
            slots: (0..WHEEL_SLOTS).map(|_| Vec::new()).collect(),
            len: 0,
        }
    }

    /// The tick at or after `at`.
    pub(super) fn tick_of(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(nanos.div_ceil(TICK.as_nanos())).unwrap_or(u64::MAX / 2)
    }

    /// The instant of `tick`.
    pub(super) fn instant_of(&self, tick: u64) -> Instant {
        later(self.origin, Duration::from_millis(tick))
    }

    pub(super) fn slot(&mut self, tick: u64) -> &mut Vec<Planned> {
        &mut self.slots[(tick % WHEEL_SLOTS) as usize]
    }

    /// Plans `run` at `at` (an instant already past is due at the next tick); returns its tick.
    pub(super) fn insert(&mut self, at: Instant, run: RunId) -> u64 {
        let tick = self.tick_of(at).max(self.done + 1);
        self.slot(tick).push(Planned { tick, at, run });
        self.len += 1;
        tick
    }

    /// Hands the entries due at `now` to `take`, at most `limit` of them; returns false when
    /// more are due.
    pub(super) fn take_due(
        &mut self,
        now: Instant,
        limit: usize,
        mut take: impl FnMut(Planned),
    ) -> bool {
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
    pub(super) fn next(&self) -> Option<(u64, Instant)> {
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
