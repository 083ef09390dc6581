//! `lvskitd -f FILE`: parse, map onto this host, run the director until SIGTERM/SIGINT.

use std::path::Path;
use std::process::ExitCode;

use keepalived_conf::{Options, parse_file};

/// Runs the daemon; see the exit statuses in `main.rs`.
pub(crate) fn run(path: &Path, options: &Options, pid_file: Option<&Path>) -> ExitCode {
    let parsed = match parse_file(path, options) {
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
        let setup = match crate::config_test::map_on_host(&parsed.config).await {
            Ok(setup) => setup,
            Err(code) => return code,
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
        let result =
            director::driver::run(setup, director::driver::RunOptions::default(), ready).await;
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
