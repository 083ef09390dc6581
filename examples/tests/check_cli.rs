//! The `check` tool refuses every out-of-range time with a usage error (exit status 2) that
//! names the option, instead of panicking, and caps nothing it should not.

use std::process::{Command, Output};

const CHECK: &str = env!("CARGO_BIN_EXE_check");

fn check(args: &[&str]) -> Output {
    Command::new(CHECK).args(args).output().expect("check runs")
}

fn assert_usage_error(args: &[&str], option: &str) {
    let out = check(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(
        stderr.contains(option),
        "{args:?}: the error does not name {option}: {stderr}"
    );
}

#[test]
fn out_of_range_timeouts_are_usage_errors() {
    let huge = format!("1{}", "0".repeat(400)); // parses as infinity
    for value in [
        "-1",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e300",
        "31536001",
        huge.as_str(),
        "x",
    ] {
        let option = format!("--connect-timeout={value}");
        for kind in [
            &["tcp", "192.0.2.1:80"][..],
            &["udp", "192.0.2.1:53"],
            &["smtp", "192.0.2.1:25"],
            &["dns", "192.0.2.1:53"],
            &["ping", "192.0.2.1"],
            &["http", "http://192.0.2.1/"],
        ] {
            let mut args = kind.to_vec();
            args.push(&option);
            assert_usage_error(&args, "connect_timeout");
        }
        let option = format!("--misc-timeout={value}");
        assert_usage_error(&["misc", "/bin/true", &option], "misc_timeout");
    }
}

#[test]
fn in_range_times_are_taken() {
    // A zero timeout is legal: the MISC_CHECK is killed at once and reported down (exit 1),
    // and a real program with a generous one runs (exit 0).
    let out = check(&["misc", "/bin/true", "--misc-timeout=5"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = check(&["misc", "/bin/sleep 10", "--misc-timeout=0"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
