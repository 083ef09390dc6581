//! `cargo xtask test`: every suite, one line per suite, and a total.
//!
//! Integration-test files are sorted into suites by name, so a test lands in the right place by
//! being named for it:
//! - `tests/netns_*.rs`: needs root and network namespaces (the "netns" suite);
//! - `tests/vm_*.rs`: runs inside the VM with a real kernel that has IPVS (the "vm" suite);
//! - `tests/tshark_*.rs`: needs tshark (the "tshark" suite);
//! - `tests/fuzz_corpus.rs`: replays `fuzz/corpus/` through the fuzz entry points;
//! - everything else: the "unit" suite, which needs nothing but an unprivileged user and loopback.

use std::time::Instant;

use crate::util::{self, cargo, ensure, is_root};

/// What became of one suite.
pub(crate) enum Outcome {
    Passed,
    Failed(String),
    /// Could not run here; never counted as passed.
    Skipped(String),
}

impl From<Result<(), String>> for Outcome {
    fn from(result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Self::Passed,
            Err(why) => Self::Failed(why),
        }
    }
}

struct Suite {
    name: &'static str,
    what: &'static str,
    run: fn() -> Outcome,
}

const SUITES: &[Suite] = &[
    Suite {
        name: "fmt",
        what: "cargo fmt --check",
        run: fmt,
    },
    Suite {
        name: "clippy",
        what: "clippy -D warnings, all targets",
        run: clippy,
    },
    Suite {
        name: "unit",
        what: "workspace tests (nextest)",
        run: unit,
    },
    Suite {
        name: "doc",
        what: "doc tests",
        run: doc,
    },
    Suite {
        name: "fuzz-corpus",
        what: "fuzz seed corpus replay",
        run: fuzz_corpus,
    },
    Suite {
        name: "tshark",
        what: "our packets decoded by tshark",
        run: tshark,
    },
    Suite {
        name: "netns",
        what: "root tests between network namespaces",
        run: netns,
    },
    Suite {
        name: "vm",
        what: "IPVS tests in a VM with a real kernel",
        run: crate::vm::suite,
    },
];

/// Nextest filters for the suites that are chosen by test-binary name.
const NETNS: &str = "binary(/^netns/)";
const VM: &str = "binary(/^vm_/)";
const TSHARK: &str = "binary(/^tshark/)";
const FUZZ: &str = "binary(=fuzz_corpus)";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--list") {
        for suite in SUITES {
            println!("{:<12} {}", suite.name, suite.what);
        }
        return Ok(());
    }
    for arg in args {
        if !SUITES.iter().any(|s| s.name == arg) {
            return Err(format!("no suite `{arg}` (see `cargo xtask test --list`)"));
        }
    }
    let selected: Vec<&Suite> = SUITES
        .iter()
        .filter(|s| args.is_empty() || args.iter().any(|a| a == s.name))
        .collect();

    let mut results = Vec::new();
    for suite in selected {
        eprintln!("\n==> suite {}: {}", suite.name, suite.what);
        let started = Instant::now();
        let outcome = (suite.run)();
        let secs = started.elapsed().as_secs_f64();
        if let Outcome::Skipped(why) = &outcome {
            eprintln!(
                "\n!!!!!!!! SUITE {} SKIPPED: {why}",
                suite.name.to_uppercase()
            );
            eprintln!("!!!!!!!! (skipped is not passed: run as root on Debian to run it)\n");
        }
        results.push((suite.name, outcome, secs));
    }

    println!("\n==> summary");
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (name, outcome, secs) in &results {
        let (word, why) = match outcome {
            Outcome::Passed => {
                passed += 1;
                ("passed", String::new())
            }
            Outcome::Failed(why) => {
                failed += 1;
                ("FAILED", format!(": {why}"))
            }
            Outcome::Skipped(why) => {
                skipped += 1;
                ("SKIPPED", format!(": {why}"))
            }
        };
        println!("{name:<12} {word:<8} {secs:>7.1} s{why}");
    }
    println!("suites: {passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        Err(format!("{failed} suite(s) failed"))
    } else {
        Ok(())
    }
}

fn fmt() -> Outcome {
    util::run(cargo().args(["fmt", "--all", "--check"])).into()
}

fn clippy() -> Outcome {
    util::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))
    .into()
}

/// `cargo nextest run` over the workspace with a filter expression.
fn nextest(filter: &str) -> Result<(), String> {
    util::run(cargo().args([
        "nextest",
        "run",
        "--workspace",
        "--no-fail-fast",
        "--no-tests=fail",
        "--cargo-quiet",
        "-E",
        filter,
    ]))
}

fn unit() -> Outcome {
    // The unit file is checked with systemd-analyze (examples/tests/systemd_unit.rs).
    if let Err(why) = ensure(&[("systemd-analyze", "systemd")]) {
        return Outcome::Failed(why);
    }
    nextest(&format!("not ({NETNS} | {VM} | {TSHARK} | {FUZZ})")).into()
}

fn doc() -> Outcome {
    util::run(cargo().args(["test", "--workspace", "--doc", "--quiet"])).into()
}

fn fuzz_corpus() -> Outcome {
    nextest(FUZZ).into()
}

fn tshark() -> Outcome {
    if let Err(why) = ensure(&[("tshark", "tshark")]) {
        return Outcome::Skipped(why);
    }
    nextest(TSHARK).into()
}

fn netns() -> Outcome {
    if !is_root() {
        return Outcome::Skipped("not root: network namespaces need CAP_SYS_ADMIN".into());
    }
    if let Err(why) = ensure(&[
        ("ip", "iproute2"),
        ("tshark", "tshark"),
        ("keepalived", "keepalived"),
        // The status page is tested in a real browser over WebDriver.
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
    ]) {
        return Outcome::Skipped(why);
    }
    nextest(NETNS).into()
}
