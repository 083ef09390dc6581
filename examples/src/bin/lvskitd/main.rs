//! `lvskitd`: the lvskit daemon, run from the keepalived.conf an operator already has.
//!
//! ```text
//! lvskitd -f /etc/keepalived/keepalived.conf           # VRRP and the load balancer (foreground)
//! lvskitd -P -f keepalived.conf                        # VRRP only (keepalived's -P)
//! lvskitd -C -f keepalived.conf                        # IPVS and health checks only (-C)
//! lvskitd -C --lvs-remove-on-stop -f keepalived.conf   # delete our IPVS services on SIGTERM
//! lvskitd -t -f /etc/keepalived/keepalived.conf        # keepalived's exit status (below)
//! lvskitd -t --strict -f keepalived.conf               # warnings (unknown keywords) are errors
//! lvskitd -t -i backup -f keepalived.conf              # config id for @backup lines
//! lvskitd -t --dump-config -f keepalived.conf          # the model as JSON on stdout
//! lvskitd -t --exit-status lvskit -f keepalived.conf   # 0 when valid even with warnings
//! lvskitd -t --no-system-checks -f keepalived.conf     # for a file meant for another host
//! lvskitd standby                                      # give up MASTER (heartbeat's hb_standby)
//! lvskitd takeover                                     # back to normal (hb_takeover)
//! ```
//!
//! Exit status of `-t`, as `keepalived -t`: 0 when it printed nothing, 5 when it printed any
//! configuration message (warnings too), 6 on script-security messages, 4 when all it found is
//! that keepalived could not run the file at all (an interface of `linkbeat_interfaces` that
//! does not exist) or the file cannot be read. With `--exit-status lvskit`: 0 when the configuration is valid (warnings allowed), 1
//! when it has errors, 2 when the file cannot be read. A wrong command line exits 2.
//!
//! `standby` and `takeover` write and remove `STATE_DIR/standby` (`--state-dir`, default
//! `/run/lvskit`), a file the running daemon of the same `--state-dir` tracks in every VRRP
//! instance: in standby each instance drops to priority 1 (or goes to FAULT under `nopreempt`,
//! as an address owner, or in a sync group) so the peer takes over; a restart clears it. See
//! `director::manual` for the details.
//!
//! SIGHUP reloads the load balancer: only what changed is sent to IPVS and only changed checks
//! restart; an invalid file keeps the running configuration. SIGTERM leaves the IPVS entries
//! and the sync daemon in place (keepalived removes them; `--lvs-remove-on-stop` does too), so a
//! restarted lvskitd adopts them and clients notice nothing.

mod config_test;
mod daemon;
mod lb;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The default configuration file, the same as keepalived's.
const DEFAULT_CONF: &str = "/etc/keepalived/keepalived.conf";

#[derive(Parser, Debug)]
#[command(
    name = "lvskitd",
    version,
    about = "lvskit daemon (keepalived.conf compatible)"
)]
struct Cli {
    /// Configuration file (keepalived's -f / --use-file).
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONF)]
    file: PathBuf,
    /// Check the configuration and exit (keepalived's -t / --config-test).
    #[arg(short = 't', long = "config-test")]
    config_test: bool,
    /// Config id matched by `@id` and `@^id` lines (keepalived's -i); default: the short host name.
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    config_id: Option<String>,
    /// Treat unknown keywords and ignored arguments as errors, not warnings.
    #[arg(long)]
    strict: bool,
    /// Every include must match and be readable, as `includea` (keepalived's -e / --all-config).
    #[arg(short = 'e', long = "all-config")]
    all_config: bool,
    /// Print the parsed configuration as JSON on standard output.
    #[arg(long)]
    dump_config: bool,
    /// Exit status of -t: keepalived's (0 clean, 5 any message, 6 script security) or lvskit's
    /// (0 valid, 1 errors).
    #[arg(long, value_enum, default_value = "keepalived")]
    exit_status: config_test::ExitPolicy,
    /// Do not check the interfaces and scripts the configuration names against this system.
    #[arg(long)]
    no_system_checks: bool,
    /// Stay in the foreground (keepalived's -n; lvskitd never forks).
    #[arg(short = 'n', long = "dont-fork")]
    dont_fork: bool,
    /// Log to the console (keepalived's -l; lvskitd always logs to standard error).
    #[arg(short = 'l', long = "log-console")]
    log_console: bool,
    /// Detailed logs (keepalived's -D): debug level for the director.
    #[arg(short = 'D', long = "log-detail")]
    log_detail: bool,
    /// Run the VRRP subsystem only (keepalived's -P).
    #[arg(short = 'P', long = "vrrp", conflicts_with = "check")]
    vrrp: bool,
    /// Run the LVS subsystem only: IPVS and health checks (keepalived's -C).
    #[arg(short = 'C', long = "check")]
    check: bool,
    /// On stop, delete the IPVS services of the configuration, as keepalived does. By default
    /// they stay, so that a restarted lvskitd adopts them and clients notice nothing.
    #[arg(long)]
    lvs_remove_on_stop: bool,
    /// Write the process id to this file while running (keepalived's -p).
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Where the daemon and `standby`/`takeover` meet (the standby file).
    #[arg(long, global = true, value_name = "DIR", default_value = director::manual::DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
    /// Manual failover instead of running the daemon.
    #[command(subcommand)]
    command: Option<Command>,
}

/// Manual failover (heartbeat's `hb_standby` / `hb_takeover`).
#[derive(Subcommand, Debug, Clone, Copy)]
enum Command {
    /// Give up MASTER on every VRRP instance of the daemon of this --state-dir and stay out of
    /// the way until `takeover` or a restart.
    Standby,
    /// End standby: every instance runs with its configured priority again.
    Takeover,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(command) = cli.command {
        return manual(command, &cli.state_dir);
    }
    if cli.config_test || cli.dump_config {
        lvskit_examples::init_logging();
    } else {
        init_logging(cli.log_detail);
    }
    let options = keepalived_conf::Options {
        config_id: cli.config_id.clone().or_else(short_hostname),
        strict: cli.strict,
        all_config: cli.all_config,
        ..keepalived_conf::Options::default()
    };
    if cli.config_test || cli.dump_config {
        let test = config_test::TestOptions {
            dump: cli.dump_config,
            system: !cli.no_system_checks,
            policy: cli.exit_status,
        };
        return config_test::run(&cli.file, &options, test);
    }
    let _ = (cli.dont_fork, cli.log_console);
    let halves = match (cli.vrrp, cli.check) {
        (true, _) => daemon::Halves::Vrrp,
        (_, true) => daemon::Halves::Lb,
        _ => daemon::Halves::Both,
    };
    let lb_options = director::lb::LbOptions {
        remove_on_shutdown: cli.lvs_remove_on_stop,
        ..director::lb::LbOptions::default()
    };
    daemon::run(
        &cli.file,
        &options,
        cli.pid_file.as_deref(),
        halves,
        lb_options,
        &cli.state_dir,
    )
}

/// `lvskitd standby` / `lvskitd takeover`: 0 when the file was written or removed, 1 when not.
fn manual(command: Command, state_dir: &std::path::Path) -> ExitCode {
    let path = director::manual::standby_path(state_dir);
    let result = match command {
        Command::Standby => director::manual::standby(state_dir).map(|was| {
            if was {
                "already in standby"
            } else {
                "standby: the director gives up MASTER within a second"
            }
        }),
        Command::Takeover => director::manual::takeover(state_dir).map(|was| {
            if was {
                "takeover: the director runs with its configured priorities again"
            } else {
                "not in standby"
            }
        }),
    };
    match result {
        Ok(what) => {
            println!("lvskitd: {what} ({})", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lvskitd: {}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}

/// Logs to standard error: `RUST_LOG` when set, else state changes (info) and, with `-D`, the
/// director's debug messages (every dropped packet).
fn init_logging(detail: bool) {
    let default = if detail {
        "info,director=debug"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// keepalived's default config id: the host name up to the first dot.
fn short_hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let short = name.trim().split('.').next()?.to_string();
    (!short.is_empty()).then_some(short)
}
