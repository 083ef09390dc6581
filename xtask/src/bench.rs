//! `cargo xtask bench`: criterion benches in `benches/`, and the system benches.

use crate::util::{self, cargo};

/// `cargo xtask bench [NAME ...]`: no name runs every criterion bench; `ipvs`, `lb`, `check` and
/// `failover` run the system benches; any other name is a criterion bench target in `benches/benches/`. Flags after
/// the names (`--warm-up-time 1`, a filter...) are handed to the bench binaries.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("ipvs") => crate::vm::bench_ipvs(&args[1..]),
        Some("lb") => crate::vm::bench_lb(&args[1..]),
        Some("check") => crate::bench_check::run(&args[1..]),
        Some("failover") => crate::bench_failover::run(&args[1..]),
        _ => {
            // Names come first; from the first flag on, everything goes to criterion.
            let split = args
                .iter()
                .position(|a| a.starts_with('-'))
                .unwrap_or(args.len());
            let (names, passthrough) = args.split_at(split);
            let mut cmd = cargo();
            cmd.args(["bench", "-p", "lvskit-benches"]);
            for name in names {
                cmd.args(["--bench", name]);
            }
            if !passthrough.is_empty() {
                cmd.arg("--").args(passthrough);
            }
            util::run(&mut cmd)
        }
    }
}
