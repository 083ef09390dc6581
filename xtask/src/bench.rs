//! `cargo xtask bench`: criterion benches in `benches/`, and the system benches.

use crate::util::{self, cargo};

/// `cargo xtask bench [NAME ...]`: no name runs every criterion bench; `ipvs` and `check` run the
/// system benches; any other name is a criterion bench target in `benches/benches/`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("ipvs") => crate::vm::bench_ipvs(&args[1..]),
        Some("check") => crate::bench_check::run(&args[1..]),
        _ => {
            let mut cmd = cargo();
            cmd.args(["bench", "-p", "lvskit-benches"]);
            for name in args.iter().filter(|a| !a.starts_with('-')) {
                cmd.args(["--bench", name]);
            }
            let passthrough: Vec<&String> = args.iter().filter(|a| a.starts_with('-')).collect();
            if !passthrough.is_empty() {
                cmd.arg("--").args(passthrough);
            }
            util::run(&mut cmd)
        }
    }
}
