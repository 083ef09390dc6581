//! The sans-IO rule book of one run: what an outcome means (a transition or not) and when the
//! next attempt is due.

use std::time::Duration;

use super::*;

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
