//! The instance's timers: an enum and a fixed table of deadlines.

use std::time::Instant;

/// The timers of one instance.
///
/// A timer fires once: firing clears its slot, so handling the same expiry twice (two
/// [`Input::Timeout`](crate::Input::Timeout)s at the same instant) does nothing the second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// BACKUP: the master is presumed dead when it fires (RFC 9568 Master_Down_Timer).
    MasterDown,
    /// MASTER: time to send the periodic advert (RFC 9568 Adver_Timer).
    Advert,
    /// BACKUP: the end of keepalived's `preempt_delay` hold-off.
    PreemptDelay,
}

impl Timer {
    const ALL: [Self; 3] = [Self::MasterDown, Self::Advert, Self::PreemptDelay];

    const fn slot(self) -> usize {
        match self {
            Self::MasterDown => 0,
            Self::Advert => 1,
            Self::PreemptDelay => 2,
        }
    }
}

/// One optional deadline per [`Timer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 3],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer.slot()] = Some(at);
    }

    pub(crate) fn cancel(&mut self, timer: Timer) {
        self.deadlines[timer.slot()] = None;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer.slot()]
    }

    pub(crate) fn cancel_all(&mut self) {
        self.deadlines = [None; 3];
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Clears and returns the earliest timer due at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let mut best: Option<(Instant, Timer)> = None;
        for timer in Timer::ALL {
            if let Some(at) = self.deadlines[timer.slot()]
                && at <= now
                && best.is_none_or(|(b, _)| at < b)
            {
                best = Some((at, timer));
            }
        }
        let (_, timer) = best?;
        self.cancel(timer);
        Some(timer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expired_timer_fires_once_earliest_first() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::Advert, t0 + Duration::from_secs(2));
        table.set(Timer::MasterDown, t0 + Duration::from_secs(1));
        assert_eq!(table.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(table.pop_expired(t0), None);
        let later = t0 + Duration::from_secs(3);
        assert_eq!(table.pop_expired(later), Some(Timer::MasterDown));
        assert_eq!(table.pop_expired(later), Some(Timer::Advert));
        assert_eq!(table.pop_expired(later), None);
        assert_eq!(table.next(), None);
    }
}
