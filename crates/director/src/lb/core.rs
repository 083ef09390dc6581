//! The load balancer's sans-IO core: real-server states from check events, quorum with
//! hysteresis, sorry servers, notify scripts, and the desired IPVS table with the minimal
//! operations that reach it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use healthcheck::{Check, CheckId, Schedule, State};
use ipvs::{DaemonState, Op, ServiceKey, Table, VirtualService, plan};

use super::desired::{LbSetup, VirtualServerSetup};
use crate::setup::Command;

mod snapshot;

/// An event for the [`Balancer`]; each carries the time it happened.
#[derive(Debug, Clone)]
pub enum Input {
    /// What the kernel's IPVS table holds, read by the driver: before [`Input::Start`] (so
    /// start-up adopts matching entries instead of deleting and re-adding them), and again
    /// whenever the driver had to re-read it (a failed batch). Services the configuration does
    /// not name are left alone. After start this gives the operations back to the desired table.
    Kernel {
        /// When it was read.
        now: Instant,
        /// The whole table.
        table: Table,
    },
    /// Begin: every check is handed out, the table is brought to the configuration.
    Start {
        /// Now.
        now: Instant,
    },
    /// A check changed state (a `healthcheck::Event`).
    Check {
        /// Now.
        now: Instant,
        /// Which check.
        id: CheckId,
        /// Its new state.
        state: State,
        /// The weight a MISC_CHECK with `misc_dynamic` set.
        weight: Option<u32>,
    },
    /// A VRRP instance became MASTER (`master`) or left it: the sync daemon follows it.
    Instance {
        /// Now.
        now: Instant,
        /// The instance's name.
        name: String,
        /// Whether it is MASTER now.
        master: bool,
    },
    /// A new configuration (SIGHUP): only what changed is changed.
    Reload {
        /// Now.
        now: Instant,
        /// The new configuration, already mapped.
        setup: LbSetup,
    },
    /// Stop: `omega` scripts run; with `remove` the services we own are deleted and the sync
    /// daemon stopped (keepalived's behaviour), otherwise they stay so that a restart drops no
    /// connection.
    Shutdown {
        /// Now.
        now: Instant,
        /// Delete our services.
        remove: bool,
    },
}

/// An action for the driver, handed out by [`Balancer::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Start (or replace) a check: `healthcheck::Scheduler::insert`.
    InsertCheck {
        /// Its id; events come back with it.
        id: CheckId,
        /// What to probe.
        check: Check,
        /// When.
        schedule: Schedule,
    },
    /// Stop a check: `healthcheck::Scheduler::remove`.
    RemoveCheck(CheckId),
    /// Changes to the IPVS table, in the order to send them: the minimal diff from what the
    /// table held (as far as this core knows) to the desired table. Record them in the
    /// `ipvs::Reconciler` (`record_batch`) so its cache follows.
    Ipvs(Vec<Op>),
    /// An IPVS setting that is not part of the table: `lvs_timeouts`, sync daemons.
    IpvsConfig(Op),
    /// Run a script (`notify_up`, `notify_down`, `quorum_up`, `quorum_down`); no shell, its exit
    /// status does not matter.
    Notify {
        /// What to run.
        command: Command,
        /// Which event, for the log: `notify_up 198.51.100.10:80 (TCP 192.0.2.1:80)`.
        why: String,
    },
    /// After [`Input::Shutdown`], everything has been handed out.
    Stopped,
}

#[derive(Debug, Clone, Copy)]
struct CheckState {
    id: CheckId,
    up: bool,
}

#[derive(Debug, Clone)]
struct RealServerState {
    checks: Vec<CheckState>,
    /// The weight a `misc_dynamic` check set.
    dynamic_weight: Option<u32>,
}

impl RealServerState {
    fn alive(&self) -> bool {
        self.checks.iter().all(|c| c.up)
    }
}

#[derive(Debug, Clone)]
struct VirtualServerState {
    quorum_up: bool,
    real_servers: Vec<RealServerState>,
}

/// The load balancer, sans-IO.
///
/// # The driving rule
///
/// Feed every event with [`handle_input`](Self::handle_input), then call
/// [`poll_output`](Self::poll_output) until it returns `None`, acting on every output in order.
/// The core never reads a clock, opens a socket or runs a process; it has no timers of its own
/// (checks are timed by `healthcheck::Scheduler`).
#[derive(Debug)]
pub struct Balancer {
    setup: LbSetup,
    states: Vec<VirtualServerState>,
    /// (virtual server, real server, check) of every check id.
    ids: HashMap<CheckId, (usize, usize, usize)>,
    next_id: u64,
    /// Services the configuration has named while we ran: ours to change and delete.
    owned: HashSet<ServiceKey>,
    /// The kernel's table as last read, until start; then only the services we do not own.
    kernel: Table,
    /// The desired table, foreign services included.
    table: Table,
    instances: HashMap<String, bool>,
    daemon: Option<DaemonState>,
    started: bool,
    stopped: bool,
    out: VecDeque<Output>,
}

impl Balancer {
    /// A balancer for `setup`; nothing happens until [`Input::Start`].
    pub fn new(setup: LbSetup) -> Self {
        let mut balancer = Self {
            setup: LbSetup {
                virtual_servers: Vec::new(),
                timeouts: None,
                sync_daemon: None,
            },
            states: Vec::new(),
            ids: HashMap::new(),
            next_id: 1,
            owned: HashSet::new(),
            kernel: Table::new(),
            table: Table::new(),
            instances: HashMap::new(),
            daemon: None,
            started: false,
            stopped: false,
            out: VecDeque::new(),
        };
        balancer.install(setup, false);
        balancer
    }

    /// The configuration running now.
    pub fn setup(&self) -> &LbSetup {
        &self.setup
    }

    /// The desired IPVS table: our services as the checks say they should be, and the services
    /// we do not own as the kernel had them.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Whether a service is ours (named by the configuration during this run).
    pub fn owns(&self, key: &ServiceKey) -> bool {
        self.owned.contains(key)
    }

    /// The check ids in use, with (virtual server, real server, check) indexes into
    /// [`Balancer::setup`].
    pub fn check_ids(&self) -> impl Iterator<Item = (CheckId, (usize, usize, usize))> + '_ {
        self.ids.iter().map(|(id, place)| (*id, *place))
    }

    /// Whether a real server is up (every check of it passes), by indexes into
    /// [`Balancer::setup`].
    pub fn is_alive(&self, vs: usize, rs: usize) -> Option<bool> {
        Some(self.states.get(vs)?.real_servers.get(rs)?.alive())
    }

    /// Whether a virtual server has its quorum.
    pub fn has_quorum(&self, vs: usize) -> Option<bool> {
        self.states.get(vs).map(|s| s.quorum_up)
    }

    /// The `file:line:col` and name of the virtual server a service belongs to, for errors the
    /// kernel gives about it.
    pub fn describe(&self, key: &ServiceKey) -> Option<String> {
        let vs = self
            .setup
            .virtual_servers
            .iter()
            .find(|vs| vs.services.iter().any(|s| s.key == *key))?;
        Some(match &vs.location {
            Some(at) => format!("{at}: virtual_server {}", vs.name),
            None => format!("virtual_server {}", vs.name),
        })
    }

    /// The next action, or `None` when there is nothing more to do until the next input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Takes one event.
    pub fn handle_input(&mut self, input: Input) {
        if self.stopped {
            return;
        }
        match input {
            Input::Kernel { table, .. } => self.kernel_read(table),
            Input::Start { .. } => self.start(),
            Input::Check {
                id, state, weight, ..
            } => self.check(id, state, weight),
            Input::Instance { name, master, .. } => {
                self.instances.insert(name, master);
                if self.started {
                    self.sync_daemon();
                }
            }
            Input::Reload { setup, .. } => self.reload(setup),
            Input::Shutdown { remove, .. } => self.shutdown(remove),
        }
    }

    fn kernel_read(&mut self, table: Table) {
        if !self.started {
            self.kernel = table;
            return;
        }
        // A re-read after a failure: forget foreign services that went, keep new ones.
        let foreign: Vec<_> = table
            .services
            .iter()
            .filter(|(key, _)| !self.owned.contains(key))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        self.table
            .services
            .retain(|key, _| self.owned.contains(key));
        self.table.services.extend(foreign);
        let ops = plan(&table, &self.table);
        if !ops.is_empty() {
            self.out.push_back(Output::Ipvs(ops));
        }
    }

    fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        for (v, vs) in self.setup.virtual_servers.iter().enumerate() {
            for (r, rs) in vs.real_servers.iter().enumerate() {
                for (c, check) in rs.checks.iter().enumerate() {
                    let id = self.states[v].real_servers[r].checks[c].id;
                    self.out.push_back(Output::InsertCheck {
                        id,
                        check: check.check.clone(),
                        schedule: check.schedule,
                    });
                }
            }
        }
        if let Some(t) = self.setup.timeouts {
            self.out.push_back(Output::IpvsConfig(Op::SetTimeouts(t)));
        }
        for v in 0..self.states.len() {
            self.update_quorum(v);
        }
        let kernel = std::mem::take(&mut self.kernel);
        self.table = self.render_all(&kernel);
        let ops = plan(&kernel, &self.table);
        if !ops.is_empty() {
            self.out.push_back(Output::Ipvs(ops));
        }
        self.sync_daemon();
    }

    /// Installs a configuration: states carried over from the running one where the virtual
    /// server, real server and check definition are the same; returns the ids no longer used.
    fn install(&mut self, setup: LbSetup, announce: bool) -> Vec<CheckId> {
        let old_setup = std::mem::replace(&mut self.setup, setup);
        let old_states = std::mem::take(&mut self.states);
        let old_index: HashMap<&str, usize> = old_setup
            .virtual_servers
            .iter()
            .enumerate()
            .map(|(i, vs)| (vs.name.as_str(), i))
            .collect();
        let mut taken: HashSet<CheckId> = HashSet::new();
        let mut states = Vec::with_capacity(self.setup.virtual_servers.len());
        let mut ids = HashMap::new();
        for (v, vs) in self.setup.virtual_servers.iter().enumerate() {
            let old_v = old_index.get(vs.name.as_str()).copied();
            let mut real_servers = Vec::with_capacity(vs.real_servers.len());
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let old_r = old_v.and_then(|ov| {
                    old_setup.virtual_servers[ov]
                        .real_servers
                        .iter()
                        .position(|o| o.addr == rs.addr && o.port == rs.port)
                        .map(|or| (ov, or))
                });
                let mut checks = Vec::with_capacity(rs.checks.len());
                let mut kept_dynamic = false;
                for (c, check) in rs.checks.iter().enumerate() {
                    let reuse = old_r.and_then(|(ov, or)| {
                        let old_rs = &old_setup.virtual_servers[ov].real_servers[or];
                        old_rs
                            .checks
                            .iter()
                            .zip(&old_states[ov].real_servers[or].checks)
                            .find(|(def, st)| *def == check && !taken.contains(&st.id))
                            .map(|(_, st)| *st)
                    });
                    let state = match reuse {
                        Some(st) => {
                            kept_dynamic |=
                                matches!(&check.check, Check::Misc(m) if m.misc_dynamic);
                            st
                        }
                        None => {
                            let id = CheckId(self.next_id);
                            self.next_id += 1;
                            if announce {
                                self.out.push_back(Output::InsertCheck {
                                    id,
                                    check: check.check.clone(),
                                    schedule: check.schedule,
                                });
                            }
                            CheckState {
                                id,
                                up: !check.alpha,
                            }
                        }
                    };
                    taken.insert(state.id);
                    ids.insert(state.id, (v, r, c));
                    checks.push(state);
                }
                let dynamic_weight = match old_r {
                    Some((ov, or)) if kept_dynamic => {
                        old_states[ov].real_servers[or].dynamic_weight
                    }
                    _ => None,
                };
                real_servers.push(RealServerState {
                    checks,
                    dynamic_weight,
                });
            }
            let quorum_up = old_v.is_none_or(|ov| old_states[ov].quorum_up);
            states.push(VirtualServerState {
                quorum_up,
                real_servers,
            });
        }
        // Virtual servers that went: omega scripts, and their checks stop.
        let mut gone = Vec::new();
        for (ov, old_vs) in old_setup.virtual_servers.iter().enumerate() {
            let removed = !self
                .setup
                .virtual_servers
                .iter()
                .any(|vs| vs.name == old_vs.name);
            if removed && old_vs.omega {
                Self::omega(&mut self.out, old_vs, &old_states[ov]);
            }
            for rs in &old_states[ov].real_servers {
                gone.extend(
                    rs.checks
                        .iter()
                        .map(|c| c.id)
                        .filter(|id| !taken.contains(id)),
                );
            }
        }
        self.states = states;
        self.ids = ids;
        for vs in &self.setup.virtual_servers {
            self.owned.extend(vs.services.iter().map(|s| s.key));
        }
        gone
    }

    fn omega(out: &mut VecDeque<Output>, vs: &VirtualServerSetup, state: &VirtualServerState) {
        for (rs, st) in vs.real_servers.iter().zip(&state.real_servers) {
            if st.alive()
                && let Some(command) = &rs.notify_down
            {
                out.push_back(Output::Notify {
                    command: command.clone(),
                    why: format!("notify_down {} ({}, omega)", rs_name(rs), vs.name),
                });
            }
        }
        if state.quorum_up
            && let Some(command) = &vs.quorum_down
        {
            out.push_back(Output::Notify {
                command: command.clone(),
                why: format!("quorum_down {} (omega)", vs.name),
            });
        }
    }

    fn reload(&mut self, setup: LbSetup) {
        if !self.started {
            self.install(setup, false);
            return;
        }
        let old_timeouts = self.setup.timeouts;
        let old_daemon = self.setup.sync_daemon.clone();
        // Virtual servers whose definition is the same keep their rendered services as they are:
        // their states carry over whole, so rendering them again could only give the same.
        let unchanged: HashSet<String> = setup
            .virtual_servers
            .iter()
            .filter(|vs| {
                self.setup
                    .virtual_servers
                    .iter()
                    .find(|old| old.name == vs.name)
                    .is_some_and(|old| old.same_definition(vs))
            })
            .map(|vs| vs.name.clone())
            .collect();
        let gone = self.install(setup, true);
        for id in gone {
            self.out.push_back(Output::RemoveCheck(id));
        }
        if self.setup.timeouts != old_timeouts
            && let Some(t) = self.setup.timeouts
        {
            self.out.push_back(Output::IpvsConfig(Op::SetTimeouts(t)));
        }
        for v in 0..self.states.len() {
            self.update_quorum(v);
        }
        let mut old = std::mem::take(&mut self.table);
        let mut table = Table::new();
        // Services we do not own stay as they are.
        old.services.retain(|key, vs| {
            if self.owned.contains(key) {
                return true;
            }
            table.services.insert(*key, vs.clone());
            false
        });
        let mut rendered = Table::new();
        for (v, vs) in self.setup.virtual_servers.iter().enumerate() {
            if unchanged.contains(&vs.name) {
                for svc in &vs.services {
                    if let Some(entry) = old.services.remove(&svc.key) {
                        table.services.insert(svc.key, entry);
                    }
                }
            } else {
                for entry in self.render(v) {
                    rendered.services.insert(entry.service.key, entry);
                }
            }
        }
        // What is left of the old table was changed or removed: the diff is between it and the
        // services rendered again.
        let ops = plan(&old, &rendered);
        table.services.extend(rendered.services);
        self.table = table;
        if !ops.is_empty() {
            self.out.push_back(Output::Ipvs(ops));
        }
        if self.setup.sync_daemon != old_daemon {
            self.stop_daemon();
        }
        self.sync_daemon();
    }

    fn check(&mut self, id: CheckId, state: State, weight: Option<u32>) {
        let Some(&(v, r, c)) = self.ids.get(&id) else {
            tracing::debug!(%id, "event of a check no longer configured");
            return;
        };
        let vs = &self.setup.virtual_servers[v];
        let rs = &vs.real_servers[r];
        let st = &mut self.states[v].real_servers[r];
        let was_alive = st.alive();
        let old_weight = st.dynamic_weight;
        st.checks[c].up = state == State::Up;
        if state == State::Up && weight.is_some() {
            st.dynamic_weight = weight;
        }
        let alive = st.alive();
        if alive != was_alive {
            tracing::info!(
                "{} of {}: {}",
                rs_name(rs),
                vs.name,
                if alive { "UP" } else { "DOWN" }
            );
            let (script, word) = if alive {
                (&rs.notify_up, "notify_up")
            } else {
                (&rs.notify_down, "notify_down")
            };
            if let Some(command) = script {
                self.out.push_back(Output::Notify {
                    command: command.clone(),
                    why: format!("{word} {} ({})", rs_name(rs), vs.name),
                });
            }
        }
        if (alive != was_alive || st.dynamic_weight != old_weight) && self.started {
            self.update_quorum(v);
            self.rerender(v);
        }
    }

    /// Sum of the weights of the live real servers of a virtual server.
    fn live_weight(&self, v: usize) -> u64 {
        let vs = &self.setup.virtual_servers[v];
        vs.real_servers
            .iter()
            .zip(&self.states[v].real_servers)
            .filter(|(_, st)| st.alive())
            .map(|(rs, st)| u64::from(st.dynamic_weight.unwrap_or(rs.template.weight as u32)))
            .sum()
    }

    /// keepalived's rule: the quorum is lost when the live weight is 0 or below
    /// `quorum - hysteresis`, regained at `quorum + hysteresis`.
    fn update_quorum(&mut self, v: usize) {
        let sum = self.live_weight(v);
        let vs = &self.setup.virtual_servers[v];
        let quorum = u64::from(vs.quorum);
        let hysteresis = u64::from(vs.hysteresis);
        let st = &mut self.states[v];
        let change = if st.quorum_up {
            (sum == 0 || sum < quorum.saturating_sub(hysteresis)).then_some(false)
        } else {
            (sum > 0 && sum >= quorum + hysteresis).then_some(true)
        };
        let Some(up) = change else {
            return;
        };
        st.quorum_up = up;
        tracing::info!(
            "{}: quorum {} (live weight {sum}, quorum {quorum}, hysteresis {hysteresis})",
            vs.name,
            if up { "up" } else { "down" }
        );
        let (script, word) = if up {
            (&vs.quorum_up, "quorum_up")
        } else {
            (&vs.quorum_down, "quorum_down")
        };
        if let Some(command) = script {
            self.out.push_back(Output::Notify {
                command: command.clone(),
                why: format!("{word} {}", vs.name),
            });
        }
    }

    /// The services of one virtual server as they should be now.
    fn render(&self, v: usize) -> Vec<VirtualService> {
        let vs = &self.setup.virtual_servers[v];
        let st = &self.states[v];
        let sorry_active = !st.quorum_up && vs.sorry_server.is_some();
        vs.services
            .iter()
            .map(|service| {
                let mut destinations = BTreeMap::new();
                for (rs, rst) in vs.real_servers.iter().zip(&st.real_servers) {
                    let serving = rst.alive() && !sorry_active;
                    if serving || rs.inhibit_on_failure {
                        let mut dest = rs.destination(&service.key);
                        dest.weight = if serving {
                            rst.dynamic_weight
                                .map_or(dest.weight, |w| i32::try_from(w).unwrap_or(i32::MAX))
                        } else {
                            0
                        };
                        destinations.insert(dest.addr, dest);
                    }
                }
                if let Some(sorry) = &vs.sorry_server
                    && (sorry_active || sorry.inhibit)
                {
                    let mut dest = sorry.destination(&service.key);
                    if !sorry_active {
                        dest.weight = 0;
                    }
                    destinations.insert(dest.addr, dest);
                }
                VirtualService {
                    service: service.clone(),
                    destinations,
                }
            })
            .collect()
    }

    fn render_all(&self, foreign: &Table) -> Table {
        let mut table = Table::new();
        for (key, vs) in &foreign.services {
            if !self.owned.contains(key) {
                table.services.insert(*key, vs.clone());
            }
        }
        for v in 0..self.setup.virtual_servers.len() {
            for vs in self.render(v) {
                table.services.insert(vs.service.key, vs);
            }
        }
        table
    }

    /// Renders one virtual server again and hands out the operations of the difference.
    fn rerender(&mut self, v: usize) {
        let mut old = Table::new();
        let mut new = Table::new();
        for vs in self.render(v) {
            if let Some(current) = self.table.services.get(&vs.service.key) {
                old.services.insert(vs.service.key, current.clone());
            }
            new.services.insert(vs.service.key, vs);
        }
        let ops = plan(&old, &new);
        self.table.services.extend(new.services);
        if !ops.is_empty() {
            self.out.push_back(Output::Ipvs(ops));
        }
    }

    fn sync_daemon(&mut self) {
        let Some(setup) = &self.setup.sync_daemon else {
            return;
        };
        let master = setup
            .instance
            .as_ref()
            .and_then(|name| self.instances.get(name))
            .copied()
            .unwrap_or(false);
        let want = if master {
            DaemonState::Master
        } else {
            DaemonState::Backup
        };
        if self.daemon == Some(want) {
            return;
        }
        let mut daemon = setup.daemon.clone();
        daemon.state = want;
        self.stop_daemon();
        self.out
            .push_back(Output::IpvsConfig(Op::StartDaemon(daemon)));
        self.daemon = Some(want);
    }

    fn stop_daemon(&mut self) {
        if let Some(state) = self.daemon.take() {
            self.out
                .push_back(Output::IpvsConfig(Op::StopDaemon(state)));
        }
    }

    fn shutdown(&mut self, remove: bool) {
        for (vs, st) in self.setup.virtual_servers.iter().zip(&self.states) {
            if vs.omega {
                Self::omega(&mut self.out, vs, st);
            }
        }
        let ids: Vec<CheckId> = self.ids.keys().copied().collect();
        for id in ids {
            self.out.push_back(Output::RemoveCheck(id));
        }
        if remove {
            let ops: Vec<Op> = self
                .table
                .services
                .keys()
                .filter(|k| self.owned.contains(k))
                .map(|k| Op::DelService(*k))
                .collect();
            if !ops.is_empty() {
                self.out.push_back(Output::Ipvs(ops));
            }
        }
        // Like the table, the sync daemon keeps running unless keepalived's removal is asked
        // for: connections go on being synchronised while lvskitd restarts.
        if remove {
            self.stop_daemon();
        }
        self.out.push_back(Output::Stopped);
        self.stopped = true;
    }
}

fn rs_name(rs: &super::desired::RealServerSetup) -> String {
    match rs.port {
        Some(port) => SocketAddr::new(rs.addr, port).to_string(),
        None => rs.addr.to_string(),
    }
}
