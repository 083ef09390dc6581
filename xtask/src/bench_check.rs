//! `cargo xtask bench check`: the health-check scheduler at scale against loopback listeners.
//!
//! Builds `check-bench` (examples) in release mode and runs five scenarios, each a separate
//! process: 10,000 TCP_CHECKs every 1 s and 30,000 every 3 s (each with raw SYN probes, and again
//! on kernel sockets only), and HTTP_GET with a body digest.
//! Prints each scenario's JSON and a Markdown table for BENCHMARKS.md.
//!
//! ```text
//! cargo xtask bench check [--seconds N] [--http-servers N] [--threads N] [SCENARIO ...]
//!        (scenarios: tcp10k tcp10k-sockets tcp30k tcp30k-sockets http; all by default; -sockets:
//!         TCP_CHECK on kernel sockets only, as without CAP_NET_RAW)
//! ```

use crate::util::{self, cargo};

struct Scenario {
    name: &'static str,
    kind: &'static str,
    /// TCP_CHECK on kernel sockets only (`check-bench run --sockets`).
    sockets: bool,
    servers: usize,
    interval: f64,
}

/// `cargo xtask bench check [ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 20.0;
    let mut http_servers = 5_000;
    let mut threads = 1;
    let mut wanted: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a number")?;
            }
            "--http-servers" => {
                http_servers = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--http-servers needs a number")?;
            }
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--threads needs a number")?;
            }
            "-h" | "--help" => {
                println!(
                    "cargo xtask bench check [--seconds N] [--http-servers N] [--threads N] [tcp10k] [tcp10k-sockets] [tcp30k] [tcp30k-sockets] [http]"
                );
                return Ok(());
            }
            name => wanted.push(name.to_owned()),
        }
    }
    let scenarios = [
        Scenario {
            name: "tcp10k",
            kind: "tcp",
            sockets: false,
            servers: 10_000,
            interval: 1.0,
        },
        Scenario {
            name: "tcp10k-sockets",
            kind: "tcp",
            sockets: true,
            servers: 10_000,
            interval: 1.0,
        },
        Scenario {
            name: "tcp30k",
            kind: "tcp",
            sockets: false,
            servers: 30_000,
            interval: 3.0,
        },
        Scenario {
            name: "tcp30k-sockets",
            kind: "tcp",
            sockets: true,
            servers: 30_000,
            interval: 3.0,
        },
        Scenario {
            name: "http",
            kind: "http",
            sockets: false,
            servers: http_servers,
            interval: 1.0,
        },
    ];
    for name in &wanted {
        if !scenarios.iter().any(|s| s.name == name) {
            return Err(format!("unknown scenario `{name}` (tcp10k, tcp30k, http)"));
        }
    }
    util::run(cargo().args([
        "build",
        "--release",
        "-p",
        "lvskit-examples",
        "--bin",
        "check-bench",
    ]))?;
    let exe = util::root().join("target/release/check-bench");
    let mut rows = Vec::new();
    for scenario in scenarios
        .iter()
        .filter(|s| wanted.is_empty() || wanted.iter().any(|w| w == s.name))
    {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load1 = load.split_whitespace().next().unwrap_or("?").to_owned();
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["run", "--kind", scenario.kind])
            .args(["--servers", &scenario.servers.to_string()])
            .args(["--interval", &scenario.interval.to_string()])
            .args(["--seconds", &seconds.to_string()])
            .args(["--threads", &threads.to_string()]);
        if scenario.sockets {
            cmd.arg("--sockets");
        }
        eprintln!("$ {}   (load average {load1})", util::show(&cmd));
        let output = cmd
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed: {}",
                scenario.name,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        println!("{}", text.trim());
        let report: serde_json::Value = serde_json::from_str(text.trim())
            .map_err(|e| format!("{}: unreadable report: {e}", scenario.name))?;
        rows.push((scenario.name, load1, report));
    }
    println!();
    println!(
        "| scenario | checks/s | CPU (% of one core) | checks per CPU-second | user / system µs per check | slip p50 | slip p99 | control: bare thread late p99 | run-queue wait (ms/s) | RSS (peak) | DOWN events | load avg |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, load, r) in &rows {
        let f = |key: &str| r[key].as_f64().unwrap_or(f64::NAN);
        println!(
            "| {name}: {} × {} every {} s | {:.0} | {:.1} | {:.0} | {:.1} / {:.1} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} | {:.1} MiB | {} | {load} |",
            f("servers"),
            r["kind"].as_str().unwrap_or("?"),
            f("delay_loop_s"),
            f("checks_per_s"),
            f("cpu_pct_of_one_core"),
            f("checks_per_cpu_s"),
            1e6 * f("cpu_user_s") / f("checks"),
            1e6 * f("cpu_system_s") / f("checks"),
            f("slip_p50_ms"),
            f("slip_p99_ms"),
            f("os_wakeup_late_p99_ms"),
            f("runqueue_wait_ms_per_s"),
            f("rss_peak_mib"),
            r["down_events"]
        );
    }
    Ok(())
}
