//! `lvskitd -f FILE`: parse, map onto this host, run the director until SIGTERM/SIGINT.

use std::path::Path;
use std::process::ExitCode;

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

/// Runs the daemon; see the exit statuses in `main.rs`.
pub(crate) fn run(
    path: &Path,
    options: &Options,
    pid_file: Option<&Path>,
    halves: Halves,
    lb_options: director::lb::LbOptions,
    state_dir: &Path,
) -> ExitCode {
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
        let ready = || {
            if let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
                tracing::warn!("sd_notify READY=1: {e}");
            }
        };
        let result = run_halves(setup, lb_setup, path, options, lb_options, ready).await;
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
    ready: impl FnOnce(),
) -> Result<(), String> {
    // Without virtual servers the load balancer has nothing to do and needs no IPVS.
    let lb = lb.filter(|setup| !setup.is_empty());
    let mut ready = Some(ready);
    let lb_ready = if vrrp.is_none() { ready.take() } else { None };
    // With both halves, the load balancer hears of every VRRP state change (the sync daemon
    // follows the instance `lvs_sync_daemon` names).
    let (tx, rx) = match (&vrrp, &lb) {
        (Some(_), Some(_)) => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        }
        _ => (None, None),
    };
    let vrrp_half = async {
        match vrrp {
            Some(setup) => {
                let ready = || ready.take().map_or((), |f| f());
                let reload = async || director::driver::load(path, options).await;
                let run_options = director::driver::RunOptions {
                    transitions: tx,
                    ..director::driver::RunOptions::default()
                };
                director::driver::run(setup, run_options, reload, ready)
                    .await
                    .map_err(|e| e.to_string())
            }
            None => Ok(()),
        }
    };
    let lb_half = async {
        match lb {
            Some(setup) => {
                let ready = || lb_ready.map_or((), |f| f());
                let result = crate::lb::run(setup, path, options, lb_options, ready, rx).await;
                if let Err(e) = &result {
                    tracing::error!("the load balancer stopped: {e}");
                }
                result
            }
            None => {
                if let Some(ready) = lb_ready {
                    ready();
                }
                Ok(())
            }
        }
    };
    let (a, b) = tokio::join!(vrrp_half, lb_half);
    a.and(b)
}
