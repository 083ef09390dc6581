//! `lvskitd -f FILE`: parse, map onto this host, run the director until SIGTERM/SIGINT.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use director::control::{self, StateSource};

use keepalived_conf::{Options, parse_file};

/// Which halves run: keepalived's default (both), `-P` (VRRP only) or `-C` (LVS only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Halves {
    /// VRRP and the load balancer.
    Both,
    /// `-P`/`--vrrp`.
    Vrrp,
    /// `-C`/`--check`.
    Lb,
}

/// How the daemon presents itself to the system.
#[derive(Debug, Clone)]
pub(crate) struct DaemonOptions {
    /// keepalived's -p.
    pub(crate) pid_file: Option<PathBuf>,
    /// The state socket.
    pub(crate) socket: PathBuf,
    /// The metrics and status page listener (already checked against --http-public).
    pub(crate) http: Option<std::net::SocketAddr>,
    /// Capabilities kept after start-up beyond what the director needs; `None`: drop none.
    pub(crate) keep_caps: Option<Vec<control::privilege::Capability>>,
    /// Where keepalived's signal dumps go.
    pub(crate) dump_dir: PathBuf,
}

/// Runs the daemon; see the exit statuses in `main.rs`.
pub(crate) fn run(
    path: &Path,
    options: &Options,
    daemon_options: &DaemonOptions,
    halves: Halves,
    lb_options: director::lb::LbOptions,
    state_dir: &Path,
) -> ExitCode {
    let pid_file = daemon_options.pid_file.as_deref();
    let mut parsed = match parse_file(path, options) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("lvskitd: {e}");
            return ExitCode::from(2);
        }
    };
    for d in &parsed.diagnostics {
        eprintln!("{}", d.render());
    }
    if parsed.has_errors() {
        eprintln!(
            "lvskitd: {}: configuration is NOT valid: not starting",
            path.display()
        );
        return ExitCode::from(1);
    }
    // enable_script_security: a script that runs as root and that a non-root user can change
    // (world- or group-writable, or in such a directory) is refused, here at start.
    if parsed.config.global_defs.enable_script_security {
        let insecure: Vec<_> = keepalived_conf::system::check_system(
            &parsed.config,
            &parsed.sources,
            &keepalived_conf::system::SystemPaths::default(),
        )
        .into_iter()
        .filter(|d| {
            d.kind == keepalived_conf::DiagnosticKind::Script
                && d.message.contains("a non-root user can change it")
        })
        .collect();
        if !insecure.is_empty() {
            for d in &insecure {
                eprintln!("{}", d.render());
            }
            eprintln!(
                "lvskitd: enable_script_security: {} insecure script(s): not starting",
                insecure.len()
            );
            return ExitCode::from(1);
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("lvskitd: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let setup = if halves == Halves::Lb {
            None
        } else {
            // Every instance tracks the standby file of `lvskitd standby`.
            if let Err(e) = director::manual::track(&mut parsed.config, state_dir) {
                eprintln!("lvskitd: {e}");
                return ExitCode::from(1);
            }
            if !parsed.config.vrrp_instances.is_empty()
                && let Err(e) = std::fs::create_dir_all(state_dir)
            {
                eprintln!("lvskitd: cannot create {}: {e}", state_dir.display());
                return ExitCode::from(1);
            }
            match crate::config_test::map_on_host(&parsed.config).await {
                Ok(setup) => Some(setup),
                Err(code) => return code,
            }
        };
        let lb_setup = if halves == Halves::Vrrp {
            None
        } else {
            match crate::lb::setup(&parsed) {
                Ok(setup) => Some(setup),
                Err(()) => return ExitCode::from(1),
            }
        };
        if let Some(pid_file) = pid_file
            && let Err(e) = std::fs::write(pid_file, format!("{}\n", std::process::id()))
        {
            eprintln!("lvskitd: cannot write {}: {e}", pid_file.display());
            return ExitCode::from(1);
        }
        let scripts_as_user = scripts_as_user(setup.as_ref(), lb_setup.as_ref());
        let keep_caps = daemon_options.keep_caps.clone();
        let ready = move || {
            if let Some(extra) = keep_caps {
                drop_capabilities(scripts_as_user, &extra);
            }
            if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
                tracing::warn!("sd_notify READY=1: {e}");
            }
        };
        let result = run_halves(
            setup,
            lb_setup,
            path,
            options,
            lb_options,
            daemon_options,
            ready,
        )
        .await;
        if let Some(pid_file) = pid_file {
            let _ = std::fs::remove_file(pid_file);
        }
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("lvskitd: {e}");
                ExitCode::from(1)
            }
        }
    })
}

/// Runs the VRRP half and the load-balancer half side by side (each stops on SIGTERM);
/// `ready` is called once, by the VRRP half when it runs, else by the load balancer.
async fn run_halves(
    vrrp: Option<director::setup::Setup>,
    lb: Option<director::lb::LbSetup>,
    path: &Path,
    options: &Options,
    lb_options: director::lb::LbOptions,
    daemon_options: &DaemonOptions,
    ready: impl FnOnce(),
) -> Result<(), String> {
    // Without virtual servers the load balancer has nothing to do and needs no IPVS.
    let lb = lb.filter(|setup| !setup.is_empty());
    let (vrrp_asker, vrrp_requests) = control::requests();
    let (lb_asker, lb_requests) = control::requests();
    let source = StateSource::new(
        vrrp.is_some().then_some(vrrp_asker),
        lb.is_some().then_some(lb_asker),
    );
    // The state socket: a daemon that cannot have it still runs (logged).
    let _socket_task = match control::unix::ControlSocket::bind(&daemon_options.socket) {
        Ok(socket) => Some(AbortOnDrop(tokio::spawn(socket.serve(source.clone())))),
        Err(e) => {
            tracing::warn!(
                "state socket {}: {e}; `lvskitd status` cannot reach this director",
                daemon_options.socket.display()
            );
            None
        }
    };
    let _dump_task = match dumps(source.clone(), daemon_options.dump_dir.clone()) {
        Ok(task) => Some(AbortOnDrop(tokio::spawn(task))),
        Err(e) => return Err(format!("cannot install the dump signal handlers: {e}")),
    };
    let _http_task = match daemon_options.http {
        Some(addr) => match control::http::HttpListener::bind(addr).await {
            Ok(listener) => {
                tracing::info!("metrics and status page on http://{addr}/");
                Some(AbortOnDrop(tokio::spawn(listener.serve(source.clone()))))
            }
            Err(e) => return Err(format!("--http {addr}: {e}")),
        },
        None => None,
    };
    // With both halves, the load balancer hears of every VRRP state change (the sync daemon
    // follows the instance `lvs_sync_daemon` names).
    let (tx, rx) = match (&vrrp, &lb) {
        (Some(_), Some(_)) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        }
        _ => (None, None),
    };
    // Ready (and capabilities dropped) once every half that runs has started.
    let pending = std::cell::Cell::new(usize::from(vrrp.is_some()) + usize::from(lb.is_some()));
    let ready = std::cell::RefCell::new(Some(ready));
    let started = || {
        pending.set(pending.get().saturating_sub(1));
        if pending.get() == 0
            && let Some(f) = ready.borrow_mut().take()
        {
            f();
        }
    };
    if vrrp.is_none() && lb.is_none() {
        started();
    }
    let vrrp_half = async {
        match vrrp {
            Some(setup) => {
                let ready = started;
                let reload = async || director::driver::load(path, options).await;
                let run_options = director::driver::RunOptions {
                    transitions: tx,
                    ..director::driver::RunOptions::default()
                };
                director::driver::run_observed(setup, run_options, reload, vrrp_requests, ready)
                    .await
                    .map_err(|e| e.to_string())
            }
            None => Ok(()),
        }
    };
    let lb_half = async {
        match lb {
            Some(setup) => {
                let ready = started;
                let result =
                    crate::lb::run(setup, path, options, lb_options, lb_requests, ready, rx).await;
                if let Err(e) = &result {
                    tracing::error!("the load balancer stopped: {e}");
                }
                result
            }
            None => Ok(()),
        }
    };
    let (a, b) = tokio::join!(vrrp_half, lb_half);
    a.and(b)
}

/// Aborts a task when dropped (the socket's, so its file is removed on the way out).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Whether a script or notify command runs as a user (which needs CAP_SETUID and friends).
fn scripts_as_user(
    vrrp: Option<&director::setup::Setup>,
    lb: Option<&director::lb::LbSetup>,
) -> bool {
    let user = |c: &Option<director::setup::Command>| c.as_ref().is_some_and(|c| c.user.is_some());
    let vrrp_scripts = vrrp.is_some_and(|s| {
        s.scripts.iter().any(|x| x.command.user.is_some())
            || s.instances
                .iter()
                .map(|i| &i.notify)
                .chain(s.groups.iter().map(|g| &g.notify))
                .any(|n| {
                    user(&n.master)
                        || user(&n.backup)
                        || user(&n.fault)
                        || user(&n.stop)
                        || user(&n.any)
                })
    });
    let lb_scripts = lb.is_some_and(|s| {
        s.virtual_servers.iter().any(|vs| {
            user(&vs.quorum_up)
                || user(&vs.quorum_down)
                || vs.real_servers.iter().any(|rs| {
                    user(&rs.notify_up)
                        || user(&rs.notify_down)
                        || rs.checks.iter().any(
                            |c| matches!(&c.check, healthcheck::Check::Misc(m) if m.user.is_some()),
                        )
                })
        })
    });
    vrrp_scripts || lb_scripts
}

/// Drops every capability but what the director needs (and `extra`); logs what it kept.
fn drop_capabilities(scripts_as_user: bool, extra: &[control::privilege::Capability]) {
    use director::control::privilege;
    let mut keep = privilege::for_scripts(scripts_as_user);
    keep.extend_from_slice(extra);
    match privilege::drop_all_but(&keep) {
        Ok(dropped) => {
            let kept: Vec<String> = keep.iter().map(ToString::to_string).collect();
            tracing::info!(
                "capabilities dropped ({}); kept {}",
                dropped.len(),
                kept.join(", ")
            );
        }
        Err(e) => tracing::error!("cannot drop capabilities: {e}"),
    }
}

/// Writes keepalived's dumps on its signals: SIGUSR1 data, SIGUSR2 stats, SIGRTMIN+2 JSON.
fn dumps(source: StateSource, dir: PathBuf) -> std::io::Result<impl Future<Output = ()>> {
    use director::control::dump::Dump;
    use tokio::signal::unix::{SignalKind, signal};
    let mut signals = Vec::new();
    for dump in Dump::ALL {
        signals.push((dump, signal(SignalKind::from_raw(dump.signal()))?));
    }
    Ok(async move {
        loop {
            let next = std::future::poll_fn(|cx| {
                for (dump, s) in signals.iter_mut() {
                    if s.poll_recv(cx).is_ready() {
                        return std::task::Poll::Ready(*dump);
                    }
                }
                std::task::Poll::Pending
            });
            let dump = next.await;
            let path = dir.join(dump.file_name());
            let text = dump.render(&source.state().await);
            match std::fs::write(&path, text) {
                Ok(()) => tracing::info!("wrote {}", path.display()),
                Err(e) => tracing::warn!("cannot write {}: {e}", path.display()),
            }
        }
    })
}
