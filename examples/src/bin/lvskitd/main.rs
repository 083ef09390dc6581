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
//! lvskitd --socket /run/lvskitd-b.sock -f FILE          # the state socket elsewhere (default /run/lvskitd/lvskitd.sock)
//! lvskitd --http 127.0.0.1:9650 -f FILE                # /metrics (Prometheus) and the status page at /
//! lvskitd --http 192.0.2.1:9650 --http-public -f FILE   # the same, open to the network
//! lvskitd --keep-caps CAP_SYS_ADMIN -f FILE             # keep more capabilities for scripts
//! lvskitd --keep-caps all -f FILE                       # drop none
//! kill -s $(lvskitd --signum=JSON) $(pidof lvskitd)     # keepalived's dumps: /tmp/keepalived.json
//! lvskitd status                                        # the running director's state as tables
//! lvskitd status --json --socket /run/lvskitd-b.sock    # the state document (JSON)
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
mod status;

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
    #[command(subcommand)]
    command: Option<Command>,
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
    /// The unix socket that serves the state as JSON (mode 0600; `lvskitd status` reads it).
    #[arg(long, value_name = "PATH", default_value = director::control::unix::DEFAULT_PATH)]
    socket: PathBuf,
    /// Serve /metrics (Prometheus) and the status page (/) here; off by default.
    #[arg(long, value_name = "ADDR:PORT")]
    http: Option<std::net::SocketAddr>,
    /// Allow --http on an address that is not loopback.
    #[arg(long, requires = "http")]
    http_public: bool,
    /// After start-up every capability is dropped but CAP_NET_ADMIN and CAP_NET_RAW (and
    /// CAP_SETUID, CAP_SETGID, CAP_KILL when a script runs as another user); these are kept
    /// too (`CAP_SYS_ADMIN,CAP_DAC_OVERRIDE`), or `all` drops none.
    #[arg(long, value_name = "CAPS")]
    keep_caps: Option<String>,
    /// Print the signal number for STOP, RELOAD, DATA, STATS or JSON and exit (keepalived's).
    #[arg(long, value_name = "SIGFUNC")]
    signum: Option<String>,
    /// Where the signal dumps go (keepalived.data, .stats, .json): keepalived's /tmp.
    #[arg(long, value_name = "DIR", default_value = "/tmp")]
    dump_dir: PathBuf,
    /// Where the daemon and `standby`/`takeover` meet (the standby file).
    #[arg(long, global = true, value_name = "DIR", default_value = director::manual::DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
}

/// What to do instead of running the daemon.
#[derive(Subcommand, Debug, Clone)]
enum Command {
    /// Give up MASTER on every VRRP instance of the daemon of this --state-dir and stay out of
    /// the way until `takeover` or a restart.
    Standby,
    /// End standby: every instance runs with its configured priority again.
    Takeover,
    /// Print the state of a running lvskitd: instances, scripts, transitions, servers.
    Status {
        /// The state document as JSON instead of tables.
        #[arg(long)]
        json: bool,
        /// The socket of the director to ask.
        #[arg(long, value_name = "PATH", default_value = director::control::unix::DEFAULT_PATH)]
        socket: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(name) = &cli.signum {
        return match director::control::dump::signum(name) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("lvskitd: --signum: {name}: STOP, RELOAD, DATA, STATS or JSON");
                ExitCode::from(1)
            }
        };
    }
    match cli.command.clone() {
        Some(Command::Status { json, socket }) => return status::run(&socket, json),
        Some(command) => return manual(command, &cli.state_dir),
        None => {}
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
    if let Some(addr) = cli.http
        && let Err(e) = director::control::http::check_bind(addr, cli.http_public)
    {
        eprintln!("lvskitd: --http {e}");
        return ExitCode::from(2);
    }
    let keep_caps = match cli.keep_caps.as_deref() {
        Some("all") => None,
        Some(list) => match director::control::privilege::parse_list(list) {
            Ok(caps) => Some(caps),
            Err(e) => {
                eprintln!("lvskitd: --keep-caps: {e}");
                return ExitCode::from(2);
            }
        },
        None => Some(Vec::new()),
    };
    let daemon_options = daemon::DaemonOptions {
        pid_file: cli.pid_file,
        socket: cli.socket,
        http: cli.http,
        keep_caps,
        dump_dir: cli.dump_dir,
    };
    daemon::run(
        &cli.file,
        &options,
        &daemon_options,
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
        // Handled by `main` before this is called.
        Command::Status { .. } => return ExitCode::from(2),
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
