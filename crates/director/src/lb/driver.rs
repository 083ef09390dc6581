//! The load balancer's tokio driver: carries out what the [`Balancer`] decides and feeds it what
//! happens.
//!
//! - The IPVS table goes through `ipvs::AsyncIpvs` and an `ipvs::Reconciler`: the kernel is read
//!   once at start (so matching entries are adopted, not deleted and added again, and services
//!   the configuration does not name are left alone), then every change is the core's minimal
//!   diff sent as one batch and recorded in the reconciler's cache. A refused operation is
//!   logged with the `file:line` of its virtual server; the rest of the batch still applies and
//!   the kernel is read again.
//! - Checks run in one `healthcheck::Scheduler`; identical checks of a real server shared by
//!   several virtual servers run once.
//! - Scripts (`notify_up`, `notify_down`, `quorum_up`, `quorum_down`) run without a shell, with
//!   a timeout, always reaped, as their `user` (else `script_user`), like the VRRP half's.
//! - On shutdown the IPVS entries stay (a restarted lvskitd adopts them and no connection is
//!   dropped); [`LbOptions::remove_on_shutdown`] gives keepalived's behaviour, which deletes them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use healthcheck::Scheduler;
use ipvs::{AsyncIpvs, Daemon, Op, Reconciler, Table, Timeouts};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::core::{Balancer, Input, Output};
use super::desired::LbSetup;
use crate::Transition;
use crate::setup::Command;

/// Why the load-balancer driver could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LbError {
    /// The IPVS netlink family could not be opened or read.
    #[error("IPVS: {0}")]
    Ipvs(#[from] ipvs::Error),
    /// Signals could not be set up.
    #[error("cannot install signal handlers: {0}")]
    Signal(std::io::Error),
}

/// Options of the load-balancer driver.
#[derive(Debug, Clone)]
pub struct LbOptions {
    /// Delete our IPVS services on shutdown, as keepalived does. Off by default: the entries
    /// stay so a restart is invisible to clients.
    pub remove_on_shutdown: bool,
    /// How long a notify script may run before its process group is killed.
    pub notify_timeout: Duration,
    /// How the IPVS client is opened (`load_module` is on by default here).
    pub ipvs: ipvs::Options,
}

impl Default for LbOptions {
    fn default() -> Self {
        Self {
            remove_on_shutdown: false,
            notify_timeout: Duration::from_secs(30),
            ipvs: ipvs::Options {
                load_module: true,
                ..ipvs::Options::default()
            },
        }
    }
}

/// What a caller tells a running driver.
#[derive(Debug)]
pub enum Control {
    /// A new configuration (SIGHUP, already parsed and mapped).
    Reload(LbSetup),
    /// A VRRP instance became MASTER or left it (the sync daemon follows it).
    Instance {
        /// The instance.
        name: String,
        /// Whether it is MASTER now.
        master: bool,
    },
    /// Stop.
    Shutdown,
}

/// The running load balancer.
pub struct LbDriver {
    balancer: Balancer,
    ipvs: AsyncIpvs,
    reconciler: Reconciler,
    scheduler: Scheduler,
    events: mpsc::UnboundedReceiver<healthcheck::Event>,
    options: LbOptions,
    /// The kernel's timeouts and sync daemons as last read or set: settings that are already
    /// what the configuration says are not sent again (a restart adopts them too).
    timeouts: Option<Timeouts>,
    daemons: Vec<Daemon>,
    /// What the snapshot reports beyond the core: each check's last verdict, the reloads.
    observed: Observed,
}

/// What [`LbDriver::snapshot`] reports beyond the core's state.
#[derive(Debug, Default)]
struct Observed {
    /// The reason of each check's last verdict and when it came.
    verdicts: HashMap<healthcheck::CheckId, (String, Instant)>,
    reloads: u64,
    reload_time: Duration,
}

impl std::fmt::Debug for LbDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LbDriver")
            .field("balancer", &self.balancer)
            .finish_non_exhaustive()
    }
}

impl LbDriver {
    /// Opens IPVS, reads the kernel's table, starts every check and brings the table to the
    /// configuration (adopting what already matches).
    pub async fn start(setup: LbSetup, options: LbOptions) -> Result<Self, LbError> {
        let mut ipvs = AsyncIpvs::with_options(options.ipvs).await?;
        let kernel = Table::read_async(&mut ipvs).await?;
        let timeouts = ipvs.timeouts().await.ok();
        let daemons = ipvs.daemons().await.unwrap_or_default();
        let mut reconciler = Reconciler::new();
        reconciler.set_current(kernel.clone());
        let (scheduler, events) = Scheduler::new();
        let mut driver = Self {
            balancer: Balancer::new(setup),
            ipvs,
            reconciler,
            scheduler,
            events,
            options,
            timeouts,
            daemons,
            observed: Observed::default(),
        };
        let now = Instant::now();
        driver
            .balancer
            .handle_input(Input::Kernel { now, table: kernel });
        driver.balancer.handle_input(Input::Start { now });
        let before = driver.requests();
        driver.pump().await;
        tracing::info!(
            "started: {} services in the table, {} IPVS requests to converge",
            driver.balancer.table().services.len(),
            driver.requests() - before
        );
        Ok(driver)
    }

    /// The core, for inspection.
    pub fn balancer(&self) -> &Balancer {
        &self.balancer
    }

    /// Netlink requests sent so far (reads included).
    pub fn requests(&self) -> u64 {
        self.ipvs.counters().requests
    }

    /// Applies a new configuration: only what changed is changed.
    pub async fn reload(&mut self, setup: LbSetup) {
        let started = Instant::now();
        self.balancer.handle_input(Input::Reload {
            now: Instant::now(),
            setup,
        });
        self.pump().await;
        self.observed.reloads += 1;
        self.observed.reload_time += started.elapsed();
    }

    /// The load balancer's state: the core's, each check's last verdict, and the IPVS counters
    /// of our services read from the kernel now (left out when the read fails).
    pub async fn snapshot(&mut self) -> crate::state::LbState {
        let now = Instant::now();
        let verdicts = &self.observed.verdicts;
        let mut state = self.balancer.snapshot(|id| {
            verdicts.get(&id).map(|(reason, at)| {
                (
                    reason.clone(),
                    crate::state::ms(now.saturating_duration_since(*at)),
                )
            })
        });
        state.reloads = self.observed.reloads;
        state.reload_ms_total = crate::state::ms(self.observed.reload_time);
        match Table::read_async(&mut self.ipvs).await {
            Ok(kernel) => {
                state.ipvs_read = true;
                let setup = self.balancer.setup();
                for (vs, vs_state) in setup.virtual_servers.iter().zip(&mut state.virtual_servers) {
                    let mut vs_stats = crate::state::IpvsStats::default();
                    for service in &vs.services {
                        let Some(k) = kernel.services.get(&service.key) else {
                            continue;
                        };
                        vs_stats.add(&crate::state::IpvsStats::from_kernel(&k.service.stats));
                        for (rs, rs_state) in vs.real_servers.iter().zip(&mut vs_state.real_servers)
                        {
                            let addr = rs.destination(&service.key).addr;
                            if let Some(d) = k.destinations.get(&addr) {
                                rs_state
                                    .stats
                                    .get_or_insert_with(Default::default)
                                    .add(&crate::state::IpvsStats::from_kernel(&d.stats));
                            }
                        }
                    }
                    vs_state.stats = Some(vs_stats);
                }
            }
            Err(e) => tracing::debug!("snapshot: cannot read the IPVS table: {e}"),
        }
        state
    }

    /// Tells the core a VRRP instance's state.
    pub async fn instance(&mut self, name: String, master: bool) {
        self.balancer.handle_input(Input::Instance {
            now: Instant::now(),
            name,
            master,
        });
        self.pump().await;
    }

    /// Waits for the next check event and acts on it; `false` when the scheduler is gone.
    pub async fn next_check(&mut self) -> bool {
        let Some(event) = self.events.recv().await else {
            return false;
        };
        tracing::debug!("{event}");
        self.observed
            .verdicts
            .insert(event.id, (event.reason.clone(), Instant::now()));
        self.balancer.handle_input(Input::Check {
            now: Instant::now(),
            id: event.id,
            state: event.state,
            weight: event.weight,
        });
        // Events that are already queued are taken in the same turn.
        while let Ok(event) = self.events.try_recv() {
            tracing::debug!("{event}");
            self.observed
                .verdicts
                .insert(event.id, (event.reason.clone(), Instant::now()));
            self.balancer.handle_input(Input::Check {
                now: Instant::now(),
                id: event.id,
                state: event.state,
                weight: event.weight,
            });
        }
        self.pump().await;
        true
    }

    /// Stops: omega scripts, the checks, and the IPVS services and sync daemon only with
    /// [`LbOptions::remove_on_shutdown`].
    pub async fn shutdown(mut self) {
        self.balancer.handle_input(Input::Shutdown {
            now: Instant::now(),
            remove: self.options.remove_on_shutdown,
        });
        self.pump().await;
    }

    /// Runs until [`Control::Shutdown`] or the control channel closes.
    pub async fn run(mut self, mut control: mpsc::UnboundedReceiver<Control>) {
        loop {
            tokio::select! {
                c = control.recv() => match c {
                    Some(Control::Reload(setup)) => self.reload(setup).await,
                    Some(Control::Instance { name, master }) => self.instance(name, master).await,
                    Some(Control::Shutdown) | None => break,
                },
                alive = self.next_check() => if !alive { break },
            }
        }
        self.shutdown().await;
    }

    /// Carries out every pending output of the core.
    async fn pump(&mut self) {
        let mut table_ops = Vec::new();
        while let Some(output) = self.balancer.poll_output() {
            match output {
                Output::InsertCheck {
                    id,
                    check,
                    schedule,
                } => self.scheduler.insert(id, check, schedule),
                Output::RemoveCheck(id) => {
                    self.scheduler.remove(id);
                }
                Output::Ipvs(ops) => table_ops.extend(ops),
                Output::IpvsConfig(op) => self.config(op).await,
                Output::Notify { command, why } => {
                    tracing::info!("running {why}");
                    let timeout = self.options.notify_timeout;
                    tokio::spawn(async move { run_notify(&command, timeout).await });
                }
                Output::Stopped => {}
            }
        }
        if !table_ops.is_empty() {
            self.apply(table_ops).await;
        }
    }

    /// Sets timeouts or starts and stops sync daemons, unless the kernel already has it so.
    async fn config(&mut self, op: Op) {
        let already = match &op {
            Op::SetTimeouts(t) => self.timeouts.is_some_and(|k| {
                (t.tcp == 0 || t.tcp == k.tcp)
                    && (t.tcp_fin == 0 || t.tcp_fin == k.tcp_fin)
                    && (t.udp == 0 || t.udp == k.udp)
            }),
            Op::StartDaemon(d) => self.daemons.iter().any(|k| same_daemon(k, d)),
            Op::StopDaemon(state) => !self.daemons.iter().any(|k| k.state == *state),
            _ => false,
        };
        if already {
            return;
        }
        match self.ipvs.apply(&op).await {
            Ok(()) => match op {
                Op::SetTimeouts(t) => {
                    let k = self.timeouts.get_or_insert(t);
                    for (have, want) in [
                        (&mut k.tcp, t.tcp),
                        (&mut k.tcp_fin, t.tcp_fin),
                        (&mut k.udp, t.udp),
                    ] {
                        if want != 0 {
                            *have = want;
                        }
                    }
                }
                Op::StartDaemon(d) => self.daemons.push(d),
                Op::StopDaemon(state) => self.daemons.retain(|k| k.state != state),
                _ => {}
            },
            Err(e) => tracing::warn!("IPVS {op:?}: {e}"),
        }
    }

    /// Sends the table operations in one batch and records them in the reconciler.
    async fn apply(&mut self, ops: Vec<Op>) {
        if self.reconciler.cached().is_none() {
            // The last batch failed somewhere: read the kernel again and send the whole
            // difference to the desired table.
            match Table::read_async(&mut self.ipvs).await {
                Ok(kernel) => {
                    self.reconciler.set_current(kernel.clone());
                    self.balancer.handle_input(Input::Kernel {
                        now: Instant::now(),
                        table: kernel,
                    });
                    let mut resync = Vec::new();
                    while let Some(output) = self.balancer.poll_output() {
                        if let Output::Ipvs(ops) = output {
                            resync.extend(ops);
                        }
                    }
                    return self.send(resync).await;
                }
                Err(e) => {
                    tracing::error!("cannot read the IPVS table: {e}");
                    return;
                }
            }
        }
        self.send(ops).await;
    }

    async fn send(&mut self, ops: Vec<Op>) {
        if ops.is_empty() {
            return;
        }
        let report = self.ipvs.batch(&ops, self.reconciler.on_error_mode()).await;
        match self.reconciler.record_batch(ops, report) {
            Ok(summary) => {
                for (op, e) in &summary.failures {
                    let key = match op {
                        Op::NewService(s) | Op::SetService(s) => Some(s.key),
                        Op::DelService(k)
                        | Op::NewDest(k, _)
                        | Op::SetDest(k, _)
                        | Op::DelDest(k, _) => Some(*k),
                        _ => None,
                    };
                    let place = key
                        .and_then(|k| self.balancer.describe(&k))
                        .unwrap_or_else(|| "IPVS".into());
                    tracing::error!("{place}: {op:?} refused by the kernel: {e}");
                }
                tracing::info!(
                    "IPVS: {} changes applied, {} refused",
                    summary.applied(),
                    summary.failures.len()
                );
            }
            Err(e) => tracing::error!("IPVS batch failed: {e}"),
        }
        if self.reconciler.cached().is_none() {
            // Keep serving everything else: learn what the kernel holds now, without retrying
            // the refused operations until the next change.
            match Table::read_async(&mut self.ipvs).await {
                Ok(kernel) => self.reconciler.set_current(kernel),
                Err(e) => tracing::error!("cannot read the IPVS table: {e}"),
            }
        }
    }
}

/// Whether the kernel's daemon `k` is the one `want` describes (the kernel fills in what the
/// configuration left out).
fn same_daemon(k: &Daemon, want: &Daemon) -> bool {
    k.state == want.state
        && k.interface == want.interface
        && k.sync_id == want.sync_id
        && want.max_len.is_none_or(|v| k.max_len == Some(v))
        && want.group.is_none_or(|v| k.group == Some(v))
        && want.port.is_none_or(|v| k.port == Some(v))
        && want.ttl.is_none_or(|v| k.ttl == Some(v))
}

/// Runs a notify script without a shell, as its user (the script's `user`, else
/// `script_user`), killing its process group after `timeout`: the VRRP half's runner.
async fn run_notify(command: &Command, timeout: Duration) {
    match crate::driver::process::run(&command.argv, command.user.as_ref(), timeout).await {
        Ok(true) => {}
        Ok(false) => tracing::debug!(
            program = %command.argv.first().map_or("", String::as_str),
            "notify script failed"
        ),
        Err(e) => tracing::warn!(
            program = %command.argv.first().map_or("", String::as_str),
            "cannot run notify script: {e}"
        ),
    }
}

/// Runs the load balancer until SIGTERM or SIGINT. SIGHUP calls `reload`, which reads the
/// configuration again and returns the new setup, or `None` (after logging why) to keep the
/// running one. `ready` is called once the table is in place and the checks run.
/// `transitions` are the VRRP half's state changes when it runs in the same process
/// ([`crate::driver::RunOptions::transitions`]): the sync daemon follows the instance it names.
pub async fn run(
    setup: LbSetup,
    options: LbOptions,
    reload: impl FnMut() -> Option<LbSetup>,
    ready: impl FnOnce(),
    transitions: Option<mpsc::UnboundedReceiver<Transition>>,
) -> Result<(), LbError> {
    run_observed(
        setup,
        options,
        reload,
        crate::control::Requests::none(),
        ready,
        transitions,
    )
    .await
}

/// [`run`], answering state requests ([`crate::control`]) with [`LbDriver::snapshot`] between
/// two events.
pub async fn run_observed(
    setup: LbSetup,
    options: LbOptions,
    mut reload: impl FnMut() -> Option<LbSetup>,
    mut requests: crate::control::Requests<crate::state::LbState>,
    ready: impl FnOnce(),
    transitions: Option<mpsc::UnboundedReceiver<Transition>>,
) -> Result<(), LbError> {
    let mut transitions = transitions;
    let mut term = signal(SignalKind::terminate()).map_err(LbError::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(LbError::Signal)?;
    let mut hup = signal(SignalKind::hangup()).map_err(LbError::Signal)?;
    let mut driver = LbDriver::start(setup, options).await?;
    ready();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let started = Instant::now();
                let before = driver.requests();
                if let Some(setup) = reload() {
                    driver.reload(setup).await;
                    tracing::info!(
                        "reloaded in {:?} with {} IPVS requests",
                        started.elapsed(),
                        driver.requests() - before
                    );
                }
            }
            reply = requests.next() => {
                let _ = reply.send(driver.snapshot().await);
            }
            t = async {
                match &mut transitions {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => match t {
                Some(t) => {
                    let master = t.to == vrrp_fsm::State::Master;
                    driver.instance(t.instance, master).await;
                }
                // The VRRP half stopped: nothing more will come.
                None => transitions = None,
            },
            alive = driver.next_check() => if !alive { break },
        }
    }
    driver.shutdown().await;
    Ok(())
}

/// Reads and maps a configuration file for the load balancer, logging every diagnostic;
/// `None` when it cannot run (what a reload keeps the running configuration for).
pub fn load(path: &std::path::Path, options: &keepalived_conf::Options) -> Option<LbSetup> {
    let parsed = match keepalived_conf::parse_file(path, options) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::error!("{}: {e}", path.display());
            return None;
        }
    };
    for d in &parsed.diagnostics {
        tracing::warn!("{}", d.render());
    }
    if parsed.has_errors() {
        tracing::error!("{}: configuration is NOT valid", path.display());
        return None;
    }
    match super::desired::map(&parsed.config, Some(&parsed.sources)) {
        Ok(setup) => Some(setup),
        Err(errors) => {
            for e in errors {
                tracing::error!("{e}");
            }
            None
        }
    }
}
