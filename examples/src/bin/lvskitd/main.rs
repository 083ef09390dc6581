//! `lvskitd`: the lvskit daemon, read from the keepalived.conf an operator already has.
//!
//! For now it has its configuration-test mode, as `keepalived -t -f FILE`:
//!
//! ```text
//! lvskitd -t -f /etc/keepalived/keepalived.conf        # keepalived's exit status (below)
//! lvskitd -t --strict -f keepalived.conf               # warnings (unknown keywords) are errors
//! lvskitd -t -i backup -f keepalived.conf              # config id for @backup lines
//! lvskitd -t --dump-config -f keepalived.conf          # the model as JSON on stdout
//! lvskitd -t --exit-status lvskit -f keepalived.conf   # 0 when valid even with warnings
//! lvskitd -t --no-system-checks -f keepalived.conf     # for a file meant for another host
//! ```
//!
//! Exit status of `-t`, as `keepalived -t`: 0 when it printed nothing, 5 when it printed any
//! configuration message (warnings too), 6 on script-security messages, 4 when the file cannot be
//! read. With `--exit-status lvskit`: 0 when the configuration is valid (warnings allowed), 1 when
//! it has errors, 2 when the file cannot be read. A wrong command line exits 2.
//! Running the daemon itself (without `-t`) comes later.

mod config_test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

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
}

fn main() -> ExitCode {
    lvskit_examples::init_logging();
    let cli = Cli::parse();
    let options = keepalived_conf::Options {
        config_id: cli.config_id.clone().or_else(short_hostname),
        strict: cli.strict,
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
    eprintln!(
        "lvskitd: only the configuration test (-t) is available in this version; the daemon comes later"
    );
    ExitCode::from(2)
}

/// keepalived's default config id: the host name up to the first dot.
fn short_hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let short = name.trim().split('.').next()?.to_string();
    (!short.is_empty()).then_some(short)
}
