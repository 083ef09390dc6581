//! `lvskitd -t`: parse and check the configuration, check it against this system (including the
//! director's own mapping onto this host, so the test says yes exactly when `lvskitd -f` could
//! run the file), print the diagnostics, and exit as `keepalived -t` does (or with lvskit's own
//! policy, on request).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use keepalived_conf::system::{SystemPaths, check_system};
use keepalived_conf::{ConfigTestStatus, Options, parse_file};

/// How `lvskitd -t` turns its findings into an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExitPolicy {
    /// keepalived's: 0 without any message, 5 when any message (warnings too) was printed, 6 on
    /// script-security messages, 4 when keepalived could not run the file at all or it cannot be
    /// read.
    Keepalived,
    /// lvskit's: 0 when the configuration is valid (warnings allowed), 1 with errors, 2 when the
    /// file cannot be read.
    Lvskit,
}

/// What the configuration test does besides parsing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TestOptions {
    /// Print the model as JSON on standard output.
    pub(crate) dump: bool,
    /// Check the interfaces and scripts the configuration names against this system.
    pub(crate) system: bool,
    /// How to exit.
    pub(crate) policy: ExitPolicy,
}

/// Runs the configuration test.
pub(crate) fn run(path: &Path, options: &Options, test: TestOptions) -> ExitCode {
    let mut parsed = match parse_file(path, options) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("lvskitd: {e}");
            return ExitCode::from(match test.policy {
                ExitPolicy::Keepalived => ConfigTestStatus::Fatal.code(),
                ExitPolicy::Lvskit => 2,
            });
        }
    };
    if test.system {
        let found = check_system(&parsed.config, &parsed.sources, &SystemPaths::default());
        parsed.diagnostics.extend(found);
    }
    let color = std::io::stderr().is_terminal();
    let mut stderr = std::io::stderr().lock();
    for d in &parsed.diagnostics {
        let text = if color { d.render_styled() } else { d.render() };
        let _ = writeln!(stderr, "{text}");
    }
    let mut errors = parsed.errors().count();
    // The daemon's own mapping printed its reasons itself: they count as messages.
    let mut unmapped = false;
    let warnings = parsed.warnings().count();
    // The daemon's mapping onto this host, once the file itself is sound.
    if test.system && errors == 0 {
        let _ = stderr.flush();
        let mapped = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(map_on_host(&parsed.config)).is_ok(),
            Err(e) => {
                let _ = writeln!(stderr, "lvskitd: cannot start the runtime: {e}");
                false
            }
        };
        if !mapped {
            errors += 1;
            unmapped = true;
        }
    }
    // The load balancer's mapping (IPVS services, checks), which needs nothing from this host.
    if errors == 0 {
        let _ = stderr.flush();
        if crate::lb::setup(&parsed).is_err() {
            errors += 1;
        }
    }
    if test.dump {
        match serde_json::to_string_pretty(&parsed.config) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                let _ = writeln!(stderr, "lvskitd: cannot serialise the configuration: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let verdict = if errors > 0 {
        format!("configuration is NOT valid: {errors} error(s), {warnings} warning(s)")
    } else {
        format!("configuration is valid ({warnings} warning(s))")
    };
    let _ = writeln!(stderr, "lvskitd: {}: {verdict}", path.display());
    match test.policy {
        ExitPolicy::Keepalived if unmapped => ExitCode::from(
            parsed
                .config_test_status()
                .max(ConfigTestStatus::Messages)
                .code(),
        ),
        ExitPolicy::Keepalived => ExitCode::from(parsed.config_test_status().code()),
        ExitPolicy::Lvskit if errors > 0 => ExitCode::from(1),
        ExitPolicy::Lvskit => ExitCode::SUCCESS,
    }
}

/// Maps the configuration onto this host's interfaces (the director's [`director::setup::map`]),
/// printing every reason it cannot run; `Err` holds the exit status.
pub(crate) async fn map_on_host(
    config: &keepalived_conf::Config,
) -> Result<director::setup::Setup, ExitCode> {
    let interfaces = match vip::Client::new() {
        Ok(client) => director::driver::host_interfaces(&client).await,
        Err(e) => Err(e),
    };
    let interfaces = match interfaces {
        Ok(interfaces) => interfaces,
        Err(e) => {
            eprintln!("lvskitd: cannot read this host's interfaces: {e}");
            return Err(ExitCode::from(2));
        }
    };
    director::setup::map(config, &interfaces).map_err(|errors| {
        for e in errors {
            eprintln!("lvskitd: error: {e}");
        }
        ExitCode::from(1)
    })
}
