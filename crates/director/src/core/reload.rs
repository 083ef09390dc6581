//! [`Input::Reload`](super::Input::Reload): a new configuration into the running core, changing
//! only what differs.

use std::collections::HashMap;
use std::time::Instant;

use vrrp_fsm::{Demux, State, SyncGroup};

use super::{Director, HostChange, Output, ScriptState};
use crate::setup::{InstanceSetup, Setup, TrackSource};

/// What a reload did, by instance name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadSummary {
    /// Kept running untouched: every setting the same.
    pub unchanged: Vec<String>,
    /// Reconfigured in place, state and timers kept.
    pub changed: Vec<String>,
    /// Started.
    pub added: Vec<String>,
    /// Stopped as on shutdown.
    pub removed: Vec<String>,
}

impl Director {
    pub(super) fn reload(&mut self, now: Instant, new: &Setup) {
        if self.stopping {
            return;
        }
        let mut new = new.clone();
        let kept = self.kept_groups(&new);
        // Everything that can be refused, before anything changes.
        let mut demux = Demux::new();
        let mut fresh: Vec<Option<SyncGroup>> = Vec::with_capacity(new.groups.len());
        for (g, group) in new.groups.iter().enumerate() {
            let mut members = Vec::new();
            for &i in &group.members {
                let instance = match vrrp_fsm::Instance::new(new.instances[i].fsm.clone()) {
                    Ok(instance) => instance,
                    Err(e) => return self.refuse(&format!("{}: {e}", new.instances[i].name)),
                };
                if let Err(e) = demux.insert(instance.route_key(), i) {
                    return self.refuse(&format!("{}: {e}", new.instances[i].name));
                }
                members.push(instance);
            }
            if kept[g].is_some() {
                fresh.push(None);
            } else {
                match SyncGroup::new(members) {
                    Ok(group) => fresh.push(Some(group)),
                    Err(e) => return self.refuse(&e.to_string()),
                }
            }
        }

        // The groups that go: stopped as on SIGTERM, with the old setup's names and notify.
        let mut summary = ReloadSummary::default();
        for g in 0..self.groups.len() {
            if kept.contains(&Some(g)) {
                continue;
            }
            for m in 0..self.setup.groups[g].members.len() {
                let _ = self.groups[g].handle_input(m, vrrp_fsm::Input::Shutdown { now });
                self.drain_group(g, now);
                let i = self.setup.groups[g].members[m];
                summary.removed.push(self.setup.instances[i].name.clone());
            }
        }

        // The new tables: kept groups moved over with their state machines and timers.
        let n = new.instances.len();
        let mut old_groups: Vec<Option<SyncGroup>> = std::mem::take(&mut self.groups)
            .into_iter()
            .map(Some)
            .collect();
        let mut place = vec![(0, 0); n];
        let mut group_deadline = vec![None; new.groups.len()];
        let mut group_state = vec![None; new.groups.len()];
        let mut last_advert = vec![None; n];
        let mut owners = vec![0; n];
        let mut old_of: Vec<Option<usize>> = vec![None; n];
        let mut groups = Vec::with_capacity(new.groups.len());
        for (g, group) in new.groups.iter().enumerate() {
            match kept[g] {
                Some(old) => {
                    groups.push(old_groups[old].take().expect("each old group kept once"));
                    group_deadline[g] = self.group_deadline[old];
                    group_state[g] = self.group_state[old];
                    for (m, (&i, &o)) in group
                        .members
                        .iter()
                        .zip(&self.setup.groups[old].members)
                        .enumerate()
                    {
                        place[i] = (g, m);
                        last_advert[i] = self.last_advert[o];
                        owners[i] = self.owners[o];
                        old_of[i] = Some(o);
                    }
                }
                None => {
                    groups.push(fresh[g].take().expect("built above"));
                    for (m, &i) in group.members.iter().enumerate() {
                        place[i] = (g, m);
                        owners[i] = self.next_owner;
                        self.next_owner += 1;
                    }
                }
            }
        }
        // A track file's weight is the value read times the configured weight: keep the one
        // in force until the file is read again.
        for (i, old) in old_of.iter().enumerate() {
            let Some(o) = *old else { continue };
            for t in 0..new.instances[i].trackers.len() {
                let link = new.instances[i].trackers[t];
                let TrackSource::File(f) = link.source else {
                    continue;
                };
                let same_file = self.setup.instances[o].trackers.iter().any(|l| {
                    l.id == link.id
                        && matches!(l.source, TrackSource::File(x)
                            if self.setup.track_files[x] == new.track_files[f])
                });
                let running = self.setup.instances[o]
                    .fsm
                    .trackers
                    .iter()
                    .find(|t| t.id == link.id)
                    .map(|t| t.weight);
                if let (true, Some(weight)) = (same_file, running)
                    && let Some(t) = new.instances[i]
                        .fsm
                        .trackers
                        .iter_mut()
                        .find(|t| t.id == link.id)
                {
                    t.weight = weight;
                }
            }
        }
        let scripts = new
            .scripts
            .iter()
            .map(
                |script| match self.setup.scripts.iter().position(|old| old == script) {
                    Some(old) => self.scripts[old],
                    None => ScriptState {
                        ok: !script.init_fail,
                        successes: 0,
                        failures: 0,
                        running: false,
                        next_run: self.started.then_some(now),
                    },
                },
            )
            .collect();
        if new.garp_pacing != self.setup.garp_pacing {
            tracing::info!("reload: new GARP pacing; announcements in progress are dropped");
            self.garp = garp::Announcer::new(new.garp_pacing.clone());
            self.garp_deadline = None;
        }
        let old = std::mem::replace(&mut self.setup, new);
        self.groups = groups;
        self.place = place;
        self.group_deadline = group_deadline;
        self.group_state = group_state;
        self.last_advert = last_advert;
        self.owners = owners;
        self.observed.remap(&old_of);
        self.demux = demux;
        self.scripts = scripts;

        // Kept instances: only what differs.
        for (i, o) in old_of.iter().enumerate() {
            let Some(o) = *o else { continue };
            let name = self.setup.instances[i].name.clone();
            if self.setup.instances[i] == old.instances[o] {
                summary.unchanged.push(name);
            } else {
                self.update_instance(i, &old.instances[o], now);
                summary.changed.push(name);
            }
        }
        // New groups start.
        if self.started {
            for (g, old) in kept.iter().enumerate() {
                if old.is_none() {
                    self.start_group(g, now);
                }
            }
            self.timeout(now);
        }
        for (g, old) in kept.iter().enumerate() {
            if old.is_none() {
                for &i in &self.setup.groups[g].members {
                    summary.added.push(self.setup.instances[i].name.clone());
                }
            }
        }
        tracing::info!(
            unchanged = summary.unchanged.len(),
            changed = ?summary.changed,
            added = ?summary.added,
            removed = ?summary.removed,
            "configuration reloaded"
        );
        self.queue.push_back(Output::Reloaded(Ok(summary)));
    }

    fn refuse(&mut self, why: &str) {
        tracing::error!("reload refused, the running configuration stays: {why}");
        self.queue.push_back(Output::Reloaded(Err(why.to_string())));
    }

    /// For each new group, the old group it continues: the same name and members (by name, in
    /// order), each with the same VRID, version, interface, family and VMAC.
    fn kept_groups(&self, new: &Setup) -> Vec<Option<usize>> {
        let by_name: HashMap<&str, usize> = self
            .setup
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.name.as_str(), i))
            .collect();
        let mut taken = vec![false; self.setup.groups.len()];
        new.groups
            .iter()
            .map(|group| {
                let first = new.instances[*group.members.first()?].name.as_str();
                let g = self.place[*by_name.get(first)?].0;
                let old = &self.setup.groups[g];
                let same =
                    !taken[g]
                        && old.name == group.name
                        && old.members.len() == group.members.len()
                        && group.members.iter().zip(&old.members).all(|(&i, &o)| {
                            same_identity(&new.instances[i], &self.setup.instances[o])
                        });
                if same {
                    taken[g] = true;
                }
                same.then_some(g)
            })
            .collect()
    }

    /// Instance `i` (already in the new setup) was `old`: tell its state machine, and as a
    /// MASTER change only the addresses, routes and rules that differ.
    fn update_instance(&mut self, i: usize, old: &InstanceSetup, now: Instant) {
        let master = self.state(i) == State::Master;
        let new = &self.setup.instances[i];
        let (removed, added) = host_diff(i, old, new);
        let vips_changed = old.vips != new.vips || old.vip_ifindex != new.vip_ifindex;
        if master && let Some(removed) = removed {
            self.queue.push_back(Output::RemoveVips(removed));
        }
        let new = &self.setup.instances[i];
        if new.fsm != old.fsm {
            let config = new.fsm.clone();
            self.quiet = Some(i);
            self.feed(
                i,
                vrrp_fsm::Input::Reconfigure {
                    now,
                    config: &config,
                },
            );
            self.quiet = None;
        }
        // Trackers that are new (or watch something else under the same id) learn the
        // current result.
        for t in 0..self.setup.instances[i].trackers.len() {
            let link = self.setup.instances[i].trackers[t];
            if !old.trackers.contains(&link) {
                self.feed_current_result(i, link, now);
            }
        }
        if master && self.state(i) == State::Master {
            if let Some(added) = added {
                self.queue.push_back(Output::AddVips(added));
            }
            if vips_changed {
                let inst = &self.setup.instances[i];
                let vips = inst
                    .vips
                    .iter()
                    .zip(inst.vip_ifindex.iter())
                    .map(|(v, &ifindex)| garp::schedule::Target {
                        ifindex,
                        addr: v.addr,
                    })
                    .collect();
                let owner = self.garp_owner(i, vrrp_fsm::GarpReason::BecameMaster);
                self.garp
                    .handle_input(garp::schedule::Input::VipsChanged { now, owner, vips });
                self.drain_garp();
            }
        }
    }
}

/// The same virtual router: what a state machine cannot change in place.
fn same_identity(new: &InstanceSetup, old: &InstanceSetup) -> bool {
    new.name == old.name
        && new.fsm.vrid == old.fsm.vrid
        && new.fsm.version == old.fsm.version
        && new.fsm.interface == old.fsm.interface
        && new.fsm.family() == old.fsm.family()
        && new.vmac == old.vmac
        && new.vmac_xmit_base == old.vmac_xmit_base
}

/// What `old` has that `new` has not (to remove) and the reverse (to add), each `None` when
/// empty.
fn host_diff(
    i: usize,
    old: &InstanceSetup,
    new: &InstanceSetup,
) -> (Option<HostChange>, Option<HostChange>) {
    let minus = |a: &InstanceSetup, b: &InstanceSetup| {
        let pairs = |s: &InstanceSetup| {
            s.vips
                .iter()
                .zip(s.vip_ifindex.iter())
                .map(|(v, &x)| (v.clone(), x))
                .collect::<Vec<_>>()
        };
        let theirs = pairs(b);
        let vips: Vec<vip::Vip> = pairs(a)
            .into_iter()
            .filter(|p| !theirs.contains(p))
            .map(|(v, _)| v)
            .collect();
        let routes: Vec<vip::Route> = a
            .routes
            .iter()
            .filter(|r| !b.routes.contains(r))
            .cloned()
            .collect();
        let rules: Vec<vip::Rule> = a
            .rules
            .iter()
            .filter(|r| !b.rules.contains(r))
            .cloned()
            .collect();
        (!(vips.is_empty() && routes.is_empty() && rules.is_empty())).then(|| HostChange {
            instance: i,
            name: new.name.clone(),
            vips: vips.into(),
            routes: routes.into(),
            rules: rules.into(),
        })
    };
    (minus(old, new), minus(new, old))
}
