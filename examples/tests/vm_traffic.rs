//! Traffic through the VIP on the real kernel (`cargo xtask vm vm_traffic`): the lab of
//! `lvskit_examples::lvs_lab` (two `lvskitd` directors, two busybox httpd real servers, a client
//! sending 20 requests a second) runs the lab's scripted sequence for LVS-DR, LVS-NAT and
//! LVS-TUN, and each step's outcome is asserted: who is MASTER, which real servers are in the
//! MASTER's table, how many requests failed (none where the step promises it, a bound where it
//! does not), the spread against the scheduler and weights, the established connection that
//! must survive the MASTER's SIGKILL and restart, and persistence.
//!
//! These are the VM tests of issue 13 (traffic) and issue 14 (the lab's steps). Waits are
//! bounded (30 s a step) so a failure ends the test; no assertion is about time.

use std::path::PathBuf;

use lvskit_examples::lvs_lab::scenario::{Lab, Options, StepReport, View};
use lvskit_examples::lvs_lab::{Binaries, Method};

fn binaries() -> Binaries {
    Binaries {
        lvskitd: PathBuf::from(env!("CARGO_BIN_EXE_lvskitd")),
        realserver: PathBuf::from(env!("CARGO_BIN_EXE_lvskit-realserver")),
    }
}

fn step<'a>(lab: &'a Lab, name: &str) -> &'a StepReport {
    lab.steps
        .iter()
        .find(|s| s.name.starts_with(name))
        .unwrap_or_else(|| panic!("no step {name:?}; steps: {}", lab.summary()))
}

fn run(method: Method) {
    testbed::require_root();
    let mut lab = Lab::start(Options::new(method, binaries(), View::Lines), None)
        .unwrap_or_else(|e| panic!("{e:#}"));
    lab.run_sequence();
    lab.finish();
    let summary = lab.summary();
    println!("LVS-{}:\n{summary}", method.keyword());
    let logs = format!(
        "director a:\n{}\ndirector b:\n{}",
        lab.topo.all_logs(0),
        lab.topo.all_logs(1)
    );
    if let Some(failed) = lab.first_failure() {
        panic!(
            "step {:?} failed: {}\n{summary}\n{logs}",
            failed.name,
            failed.error.as_deref().unwrap_or("")
        );
    }

    // Every outcome, spelled out (the steps check them too; this is the test's own reading).
    let steady = step(&lab, "steady");
    assert_eq!(steady.failed, 0, "{summary}");
    assert_eq!(steady.master.as_deref(), Some("a"), "{summary}");
    assert_eq!(steady.table, "rs1:3 rs2:1", "{summary}");

    let stopped = step(&lab, "rs2 httpd stopped");
    assert_eq!(stopped.table, "rs1:3", "{summary}");
    assert!(stopped.failed <= stopped.allowed, "{summary}");
    let started = step(&lab, "rs2 httpd started");
    assert_eq!(started.table, "rs1:3 rs2:1", "{summary}");
    assert_eq!(started.failed, 0, "{summary}");

    let killed = step(&lab, "MASTER a killed");
    assert_eq!(killed.master.as_deref(), Some("b"), "{summary}");
    assert_eq!(killed.table, "rs1:3 rs2:1", "b's table: {summary}");
    assert!(killed.failed <= killed.allowed, "{summary}");
    let (window, lost) = killed.window.expect("the window is measured");
    assert!(lost <= killed.failed, "{window:?} {lost}: {summary}");
    let restarted = step(&lab, "a restarted");
    assert_eq!(restarted.master.as_deref(), Some("a"), "{summary}");
    assert!(restarted.failed <= restarted.allowed, "{summary}");

    let reload = step(&lab, "reload (SIGHUP)");
    assert_eq!(reload.failed, 0, "{summary}");
    assert_eq!(reload.transitions, 0, "{summary}");
    assert_eq!(reload.table, "rs1:1 rs2:1", "{summary}");
    assert_eq!(reload.master.as_deref(), Some("a"), "{summary}");

    let down = step(&lab, "a's eth0 down");
    assert_eq!(down.master.as_deref(), Some("b"), "{summary}");
    assert!(down.failed <= down.allowed, "{summary}");
    let up = step(&lab, "a's eth0 up");
    assert_eq!(up.master.as_deref(), Some("a"), "{summary}");
    assert!(up.failed <= up.allowed, "{summary}");

    let persistence = step(&lab, "reload: rr, persistence");
    assert_eq!(persistence.failed, 0, "{summary}");
    assert_eq!(persistence.transitions, 0, "{summary}");
}

#[test]
fn dr() {
    run(Method::Dr);
}

#[test]
fn nat() {
    run(Method::Nat);
}

#[test]
fn tun() {
    run(Method::Tun);
}
