//! [`Director::snapshot`]: the core's state as [`crate::state`] data, and what the core records
//! for it beyond the state machines' own counters.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use vrrp_fsm::{State, Version};

use super::{Director, DropReason, receive::Counters, state_name};
use crate::setup::TrackSource;
use crate::state::{
    self, InstanceCounters, InstanceState, MasterState, PacketCounters, ScriptState, TIMELINE_LEN,
    TrackerState, TransitionRecord, VrrpState,
};

/// A transition as recorded, with the core's clock.
#[derive(Debug, Clone)]
struct Recorded {
    instance: String,
    from: State,
    to: State,
    reason: String,
    at: Instant,
}

/// What the core records for its snapshot.
#[derive(Debug, Clone, Default)]
pub(super) struct Observed {
    /// Drops of each instance's adverts, by reason.
    drops: Vec<Counters>,
    /// When each instance last accepted an advert.
    heard: Vec<Option<Instant>>,
    /// State changes of each instance.
    transitions: Vec<u64>,
    /// The last state change of each instance.
    last: Vec<Option<Recorded>>,
    /// The latest state changes of all instances.
    timeline: VecDeque<Recorded>,
    /// Announcements handed out.
    pub(super) garps_sent: u64,
}

impl Observed {
    pub(super) fn new(instances: usize) -> Self {
        Self {
            drops: vec![Counters::default(); instances],
            heard: vec![None; instances],
            transitions: vec![0; instances],
            last: vec![None; instances],
            ..Self::default()
        }
    }

    /// Grows the per-instance records to `instances` (after a reconfiguration added some).
    fn fit(&mut self, instances: usize) {
        if self.drops.len() < instances {
            self.drops.resize(instances, Counters::default());
            self.heard.resize(instances, None);
            self.transitions.resize(instances, 0);
            self.last.resize(instances, None);
        }
    }

    /// After a reload: instance `i` is the old `old_of[i]` (kept, with its records) or new.
    pub(super) fn remap(&mut self, old_of: &[Option<usize>]) {
        let len = self.drops.len();
        let take = |o: Option<usize>| o.filter(|&o| o < len);
        self.drops = old_of
            .iter()
            .map(|&o| take(o).map_or_else(Counters::default, |o| self.drops[o].clone()))
            .collect();
        self.heard = old_of
            .iter()
            .map(|&o| take(o).and_then(|o| self.heard[o]))
            .collect();
        self.transitions = old_of
            .iter()
            .map(|&o| take(o).map_or(0, |o| self.transitions[o]))
            .collect();
        self.last = old_of
            .iter()
            .map(|&o| take(o).and_then(|o| self.last[o].clone()))
            .collect();
    }

    pub(super) fn dropped(&mut self, i: usize, reason: DropReason) {
        self.fit(i + 1);
        self.drops[i].drop(reason);
    }

    pub(super) fn heard(&mut self, i: usize, now: Instant) {
        self.fit(i + 1);
        self.heard[i] = Some(now);
    }

    pub(super) fn transition(
        &mut self,
        i: usize,
        name: &str,
        from: State,
        to: State,
        reason: &str,
        now: Instant,
    ) {
        self.fit(i + 1);
        self.transitions[i] += 1;
        let record = Recorded {
            instance: name.to_string(),
            from,
            to,
            reason: reason.to_string(),
            at: now,
        };
        self.last[i] = Some(record.clone());
        if self.timeline.len() == TIMELINE_LEN {
            self.timeline.pop_front();
        }
        self.timeline.push_back(record);
    }
}

fn record(r: &Recorded, now: Instant) -> TransitionRecord {
    TransitionRecord {
        instance: r.instance.clone(),
        from: state_name(r.from).to_string(),
        to: state_name(r.to).to_string(),
        reason: r.reason.clone(),
        ms_ago: state::ms(now.saturating_duration_since(r.at)),
    }
}

fn drops_by_reason(counters: &Counters) -> BTreeMap<String, u64> {
    DropReason::ALL
        .iter()
        .map(|r| (r.name().to_string(), counters.dropped(*r)))
        .collect()
}

impl Director {
    /// Everything the core knows, as plain data, at `now` (the caller's clock, as for every
    /// input): for status displays and metrics. Costs one pass over the instances; it changes
    /// nothing.
    pub fn snapshot(&self, now: Instant) -> VrrpState {
        let empty = Counters::default();
        let instances = (0..self.setup.instances.len())
            .map(|i| {
                let inst = &self.setup.instances[i];
                let (g, m) = self.place[i];
                let fsm = &self.groups[g].members()[m];
                let trackers = inst
                    .trackers
                    .iter()
                    .map(|t| {
                        let (kind, name) = match t.source {
                            TrackSource::Script(s) => {
                                ("script", self.setup.scripts[s].name.clone())
                            }
                            TrackSource::Interface(ifindex) => (
                                "interface",
                                self.setup
                                    .interfaces
                                    .iter()
                                    .find(|x| x.index == ifindex)
                                    .map_or_else(|| ifindex.to_string(), |x| x.name.clone()),
                            ),
                            TrackSource::File(f) => {
                                ("file", self.setup.track_files[f].name.clone())
                            }
                        };
                        TrackerState {
                            kind: kind.to_string(),
                            name,
                            weight: t.weight,
                            reverse: t.reverse,
                            ok: self
                                .started
                                .then(|| fsm.tracker_failing(t.id).map(|failing| !failing))
                                .flatten(),
                        }
                    })
                    .collect();
                let master = if fsm.state() == State::Master {
                    Some(MasterState {
                        address: inst.fsm.primary_address,
                        priority: fsm.effective_priority(),
                        is_self: true,
                        last_heard_ms_ago: None,
                    })
                } else {
                    self.last_advert[i].map(|(priority, address)| MasterState {
                        address,
                        priority,
                        is_self: false,
                        last_heard_ms_ago: self
                            .observed
                            .heard
                            .get(i)
                            .copied()
                            .flatten()
                            .map(|at| state::ms(now.saturating_duration_since(at))),
                    })
                };
                let stats = fsm.stats();
                InstanceState {
                    name: inst.name.clone(),
                    interface: inst.ifname.clone(),
                    vrid: inst.fsm.vrid,
                    version: match inst.fsm.version {
                        Version::V2 => 2,
                        Version::V3 => 3,
                    },
                    state: state_name(fsm.state()).to_string(),
                    base_priority: inst.fsm.priority,
                    effective_priority: fsm.effective_priority(),
                    address: inst.fsm.primary_address,
                    virtual_addresses: inst.vips.iter().map(|v| v.addr).collect(),
                    trackers,
                    master,
                    counters: InstanceCounters {
                        adverts_sent: u64::from(stats.adverts_sent),
                        adverts_received: u64::from(stats.adverts_received),
                        dropped: drops_by_reason(self.observed.drops.get(i).unwrap_or(&empty)),
                        transitions: self.observed.transitions.get(i).copied().unwrap_or(0),
                        became_master: u64::from(stats.became_master),
                    },
                    last_transition: self
                        .observed
                        .last
                        .get(i)
                        .and_then(Option::as_ref)
                        .map(|r| record(r, now)),
                }
            })
            .collect();
        let scripts = self
            .setup
            .scripts
            .iter()
            .zip(&self.scripts)
            .map(|(setup, s)| ScriptState {
                name: setup.name.clone(),
                ok: s.ok,
                successes: s.successes,
                failures: s.failures,
                running: s.running,
                interval_ms: state::ms(setup.interval),
            })
            .collect();
        VrrpState {
            instances,
            scripts,
            packets: PacketCounters {
                received: self.counters.received,
                accepted: self.counters.accepted,
                dropped: drops_by_reason(&self.counters),
            },
            garps_sent: self.observed.garps_sent,
            timeline: self
                .observed
                .timeline
                .iter()
                .map(|r| record(r, now))
                .collect(),
        }
    }
}
