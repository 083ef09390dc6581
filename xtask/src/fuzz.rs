//! `cargo xtask fuzz [--seconds N] [--runs N] [--max-len BYTES] [--sanitizer S] [--build-only] [TARGET ...]`:
//! the cargo-fuzz targets in `fuzz/`, on nightly, each for `N` seconds (60 by default) or until
//! `--runs` executions, whichever comes first (a campaign: `--runs 10000000 --seconds 1800`),
//! then one line per target: executions, coverage (libFuzzer's `cov` and `ft`), corpus size, and
//! whether it crashed. `--sanitizer` is cargo-fuzz's (`address` by default; `none` runs about twice as
//! fast, enough for safe code).
//!
//! Without targets every file of `fuzz/fuzz_targets/` runs. A crash does not stop the others:
//! its reproducer is under `fuzz/artifacts/<target>/` and the task fails at the end.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::util::{self, root};

/// Longer inputs than libFuzzer's default (4 KiB or the largest seed) where a target's findings
/// need them: the configuration target reads up to 1 MiB (issue 19's findings were 2 KB to
/// 320 KB files). `--max-len` overrides it.
fn default_max_len(target: &str) -> Option<u64> {
    (target == "keepalived_conf").then_some(1 << 20)
}

/// What one libFuzzer run reported.
#[derive(Debug, Default)]
struct Stats {
    target: String,
    executions: Option<u64>,
    seconds: Option<u64>,
    cov: Option<u64>,
    ft: Option<u64>,
    corpus: Option<String>,
    crashed: bool,
}

impl Stats {
    /// Takes one line of libFuzzer's output: status lines (`#1234 NEW cov: 56 ft: 78 corp:
    /// 9/1kb ...`) and the final `Done 1234 runs in 60 second(s)`.
    fn take(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("Done ") {
            let mut words = rest.split_whitespace();
            self.executions = words.next().and_then(|n| n.parse().ok());
            self.seconds = words.nth(2).and_then(|n| n.parse().ok());
            return;
        }
        if !line.starts_with('#') {
            return;
        }
        let mut words = line.split_whitespace();
        if let Some(n) = words.next().and_then(|w| w[1..].parse().ok()) {
            self.executions = Some(n);
        }
        while let Some(word) = words.next() {
            match word {
                "cov:" => self.cov = words.next().and_then(|n| n.parse().ok()),
                "ft:" => self.ft = words.next().and_then(|n| n.parse().ok()),
                "corp:" => self.corpus = words.next().map(str::to_owned),
                _ => {}
            }
        }
    }

    fn line(&self) -> String {
        let show = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
        format!(
            "{:<22} {:>12} {:>6} {:>7} {:>7} {:>12}  {}",
            self.target,
            show(self.executions),
            show(self.seconds),
            show(self.cov),
            show(self.ft),
            self.corpus.as_deref().unwrap_or("?"),
            if self.crashed { "CRASH" } else { "ok" }
        )
    }
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut runs: Option<u64> = None;
    let mut max_len = None;
    let mut build_only = false;
    let mut sanitizer = "address".to_owned();
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds takes a number")?;
            }
            "--runs" => {
                runs = Some(
                    it.next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .ok_or("--runs takes a number of executions")?,
                );
            }
            "--max-len" => {
                max_len = Some(
                    it.next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .ok_or("--max-len takes a number of bytes")?,
                );
            }
            "--sanitizer" => {
                sanitizer = it
                    .next()
                    .cloned()
                    .ok_or("--sanitizer takes address, none, memory or thread")?;
            }
            "--build-only" => build_only = true,
            other => targets.push(other.to_string()),
        }
    }
    let toolchains = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if !String::from_utf8_lossy(&toolchains.stdout).contains("nightly") {
        return Err(
            "cargo fuzz needs a nightly toolchain: `rustup toolchain install nightly`".into(),
        );
    }
    if util::which("cargo-fuzz").is_none() {
        util::run(Command::new("cargo").args(["install", "--locked", "cargo-fuzz"]))?;
    }
    if targets.is_empty() {
        let dir = root().join("fuzz/fuzz_targets");
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = name.strip_suffix(".rs") {
                targets.push(stem.to_string());
            }
        }
        targets.sort();
    }
    if build_only {
        return util::run(Command::new("cargo").current_dir(root()).args([
            "+nightly",
            "fuzz",
            "build",
            "--fuzz-dir",
            "fuzz",
        ]));
    }
    let mut report = Vec::new();
    for target in &targets {
        report.push(run_target(target, seconds, runs, max_len, &sanitizer)?);
    }
    println!(
        "{:<22} {:>12} {:>6} {:>7} {:>7} {:>12}  result",
        "target", "executions", "s", "cov", "ft", "corpus"
    );
    for stats in &report {
        println!("{}", stats.line());
    }
    let crashed: Vec<&str> = report
        .iter()
        .filter(|s| s.crashed)
        .map(|s| s.target.as_str())
        .collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "crashes in {} (reproducers under fuzz/artifacts/)",
            crashed.join(", ")
        ))
    }
}

/// Runs one target for `seconds` (or `runs` executions, if that comes first), passing its output through and reading its figures.
fn run_target(
    target: &str,
    seconds: u64,
    runs: Option<u64>,
    max_len: Option<u64>,
    sanitizer: &str,
) -> Result<Stats, String> {
    // New inputs go to a scratch corpus (git-ignored); the committed seeds are read only, so
    // a run never litters fuzz/corpus/. Keep a find worth keeping by copying it there.
    let scratch = root().join("fuzz/target/corpus").join(target);
    let seeds = root().join("fuzz/corpus").join(target);
    for dir in [&scratch, &seeds] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root())
        .args([
            "+nightly",
            "fuzz",
            "run",
            "--fuzz-dir",
            "fuzz",
            "-O",
            "-s",
            sanitizer,
            target,
        ])
        .arg(&scratch)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1");
    if let Some(runs) = runs {
        cmd.arg(format!("-runs={runs}"));
    }
    if let Some(max_len) = max_len.or_else(|| default_max_len(target)) {
        cmd.arg(format!("-max_len={max_len}"));
    }
    eprintln!("$ {}", util::show(&cmd));
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", util::show(&cmd)))?;
    let mut stats = Stats {
        target: target.to_owned(),
        ..Stats::default()
    };
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            stats.take(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {target}: {e}"))?;
    stats.crashed = !status.success();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfuzzer_lines_are_read() {
        let mut stats = Stats::default();
        stats.take("#2\tINITED cov: 120 ft: 130 corp: 3/96b exec/s: 0 rss: 30Mb");
        stats.take("#65536\tpulse  cov: 151 ft: 400 corp: 40/2Kb lim: 652 exec/s: 21845 rss: 40Mb");
        assert_eq!(stats.executions, Some(65536));
        assert_eq!((stats.cov, stats.ft), (Some(151), Some(400)));
        assert_eq!(stats.corpus.as_deref(), Some("40/2Kb"));
        stats.take("Done 1048576 runs in 61 second(s)");
        assert_eq!(
            (stats.executions, stats.seconds),
            (Some(1_048_576), Some(61))
        );
        stats.take("INFO: Seed: 123");
        assert_eq!(stats.executions, Some(1_048_576));
    }
}
