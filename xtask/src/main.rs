//! lvskit's task runner: every project task is a subcommand of this one binary.
//!
//! ```text
//! cargo xtask test [SUITE ...]      every suite (fmt, clippy, unit, doc, fuzz-corpus, tshark, netns, vm)
//! cargo xtask vm [ARGS ...]         build the VM image and run tests inside a real kernel with IPVS
//! cargo xtask lab [--nat|--tun] [--config DIR]   two lvskitd directors, real servers and a client in the VM: live view, scripted failures, plot
//! cargo xtask bench [NAME ...]      criterion benches, or `ipvs` / `check` / `failover` for the system benches
//! cargo xtask fuzz [--seconds N] [--max-len B] [--sanitizer S] [--build-only] [TARGET ...]   the cargo-fuzz targets on nightly, with figures
//! ```

mod bench;
mod bench_check;
mod bench_failover;
mod fuzz;
mod lab;
mod test;
mod util;
mod vm;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match task {
        "test" => test::run(rest),
        "vm" => vm::run(rest),
        "lab" => lab::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "help" | "-h" | "--help" => {
            print!("{}", USAGE);
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "\
usage: cargo xtask <task> [args]
  test [SUITE ...]                run every suite, or the ones named; `test --list` names them
  vm [--shell | TEST-FILTER ...]  run the IPVS tests inside a VM with a real kernel
  lab [--nat|--tun] [--config DIR|FILE ...]  the LVS lab in the VM: live view, scripted failures, summary, plot (target/lab/)
  bench [NAME ...]                criterion benches; `bench ipvs`, `bench check` and `bench failover` are system benches
  fuzz [--seconds N] [--max-len B] [--sanitizer S] [--build-only] [TARGET ...] run the cargo-fuzz targets for N s each (nightly), print executions/coverage per target
";
