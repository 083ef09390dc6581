//! `cargo xtask bench failover`: VRRP takeover and scale, lvskitd and keepalived in the same run.
//!
//! Builds `lvskitd` and `failover-bench` (examples) in release mode and runs, for each
//! implementation: the SIGKILL takeover at v2 / advert_int 1 and v3 / advert_int 0.1, 200
//! instances at 0.1 s all MASTER (CPU and RSS), and the 200-instance takeover (every VIP moved
//! and announced). Needs root and keepalived. Prints each JSON report and a Markdown table for
//! BENCHMARKS.md.
//!
//! ```text
//! cargo xtask bench failover [--runs N] [--seconds N] [--instances N] [takeover] [scale] [scale-takeover]
//! ```

use std::path::PathBuf;
use std::process::Command;

use crate::util::{self, cargo};

/// `cargo xtask bench failover [ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut runs = 10usize;
    let mut seconds = 60.0f64;
    let mut instances = 200usize;
    let mut wanted: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |what: &str| {
            args.next()
                .and_then(|s| s.parse::<f64>().ok())
                .ok_or(format!("{what} needs a number"))
        };
        match arg.as_str() {
            "--runs" => runs = number("--runs")? as usize,
            "--seconds" => seconds = number("--seconds")?,
            "--instances" => instances = number("--instances")? as usize,
            "-h" | "--help" => {
                println!(
                    "cargo xtask bench failover [--runs N] [--seconds N] [--instances N] [takeover] [scale] [scale-takeover]"
                );
                return Ok(());
            }
            name @ ("takeover" | "scale" | "scale-takeover") => wanted.push(name.to_owned()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if !util::is_root() {
        return Err("bench failover needs root (network namespaces, raw sockets)".into());
    }
    util::ensure(&[("keepalived", "keepalived")])?;
    util::run(cargo().args([
        "build",
        "--release",
        "-p",
        "lvskit-examples",
        "--bin",
        "lvskitd",
        "--bin",
        "failover-bench",
    ]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| util::root().join("target"));
    let bench = target.join("release/failover-bench");
    let lvskitd = target.join("release/lvskitd");
    let want = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let mut rows: Vec<(String, serde_json::Value)> = Vec::new();
    for implementation in ["lvskitd", "keepalived"] {
        let mut jobs: Vec<(String, Vec<String>)> = Vec::new();
        if want("takeover") {
            for (version, interval) in [("2", "1"), ("3", "0.1")] {
                jobs.push((
                    format!("takeover v{version} advert_int {interval}"),
                    [
                        "takeover",
                        "--version",
                        version,
                        "--interval",
                        interval,
                        "--runs",
                    ]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .chain([runs.to_string()])
                    .collect(),
                ));
            }
        }
        if want("scale") {
            jobs.push((
                format!("{instances} instances at 0.1 s for {seconds} s"),
                vec![
                    "scale".into(),
                    "--instances".into(),
                    instances.to_string(),
                    "--seconds".into(),
                    seconds.to_string(),
                ],
            ));
        }
        if want("scale-takeover") {
            jobs.push((
                format!("takeover of {instances} instances at 0.1 s"),
                vec![
                    "scale-takeover".into(),
                    "--instances".into(),
                    instances.to_string(),
                    "--runs".into(),
                    runs.min(5).to_string(),
                ],
            ));
        }
        for (label, job) in jobs {
            let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
            let mut cmd = Command::new(&bench);
            cmd.args(&job)
                .args(["--impl", implementation, "--lvskitd"])
                .arg(&lvskitd);
            eprintln!(
                "$ {}   (load average {})",
                util::show(&cmd),
                load.split_whitespace().next().unwrap_or("?")
            );
            let output = cmd
                .output()
                .map_err(|e| format!("cannot run {}: {e}", bench.display()))?;
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            if !output.status.success() {
                // One implementation failing a scenario (keepalived cannot keep 200 instances
                // at 0.1 s on a loaded machine) must not lose the other's figures: a row says so.
                let why = String::from_utf8_lossy(&output.stderr);
                let why = why
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty() && !l.starts_with(' '))
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                rows.push((
                    label,
                    serde_json::json!({"scenario": "failed", "impl": implementation, "why": why}),
                ));
                continue;
            }
            let text = String::from_utf8_lossy(&output.stdout);
            println!("{}", text.trim());
            let report: serde_json::Value = serde_json::from_str(text.trim())
                .map_err(|e| format!("{label}: unreadable report: {e}"))?;
            rows.push((label, report));
        }
    }
    println!();
    println!("| scenario | implementation | result | bound |");
    println!("|---|---|---|---|");
    for (label, r) in &rows {
        let f = |key: &str| r[key].as_f64().unwrap_or(f64::NAN);
        let span = |key: &str| {
            let s = &r[key];
            format!(
                "{:.1} / {:.1} / {:.1} ms (min / median / max of {})",
                s["min"].as_f64().unwrap_or(f64::NAN),
                s["median"].as_f64().unwrap_or(f64::NAN),
                s["max"].as_f64().unwrap_or(f64::NAN),
                s["runs"]
            )
        };
        let result = match r["scenario"].as_str() {
            Some("takeover") => span("takeover_ms"),
            Some("scale") => format!(
                "CPU {:.2} % of a core, RSS {:.1} MiB (peak {:.1})",
                f("cpu_pct_of_one_core"),
                f("rss_mib"),
                f("rss_peak_mib")
            ),
            Some("scale-takeover") => format!(
                "all GARPs sent {} ({} complete rounds)",
                span("all_garps_sent_ms"),
                r["complete_rounds"]
            ),
            Some("failed") => format!("failed: {}", r["why"].as_str().unwrap_or("?")),
            _ => "?".into(),
        };
        let bound = r["bound_ms"]
            .as_f64()
            .map_or("".into(), |b| format!("{b:.1} ms"));
        println!(
            "| {label} | {} | {result} | {bound} |",
            r["impl"].as_str().unwrap_or("?")
        );
    }
    Ok(())
}
