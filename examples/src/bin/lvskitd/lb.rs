//! The load-balancer half of `lvskitd` (keepalived's checker process): IPVS from the
//! configuration, health checks, SIGHUP reload.

use std::path::Path;

use director::lb::{self, LbOptions, LbSetup};
use keepalived_conf::{Options, Parsed};

/// The load-balancer setup of an already parsed (and valid) file; `Err` after printing why.
pub(crate) fn setup(parsed: &Parsed) -> Result<LbSetup, ()> {
    lb::map(&parsed.config, Some(&parsed.sources)).map_err(|errors| {
        for e in errors {
            eprintln!("lvskitd: error: {e}");
        }
    })
}

/// Runs the load balancer until SIGTERM/SIGINT; SIGHUP reads `path` again and applies what
/// changed (an invalid file keeps the running configuration and logs why). `transitions`: the
/// VRRP half's state changes, when it runs too.
pub(crate) async fn run(
    setup: LbSetup,
    path: &Path,
    options: &Options,
    lb_options: LbOptions,
    requests: director::control::Requests<director::state::LbState>,
    ready: impl FnOnce(),
    transitions: Option<tokio::sync::mpsc::UnboundedReceiver<director::Transition>>,
) -> Result<(), String> {
    let reload = || lb::driver::load(path, options);
    lb::driver::run_observed(setup, lb_options, reload, requests, ready, transitions)
        .await
        .map_err(|e| e.to_string())
}
