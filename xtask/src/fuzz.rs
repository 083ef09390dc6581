//! `cargo xtask fuzz [--seconds N] [TARGET ...]`: the cargo-fuzz targets in `fuzz/`, on nightly.

use std::process::Command;

use crate::util::{self, root};

/// Longer inputs than libFuzzer's default (4 KiB or the largest seed) where a target's findings
/// need them: the configuration target reads up to 1 MiB (issue 19's findings were 2 KB to
/// 320 KB files).
fn max_len(target: &str) -> Option<String> {
    (target == "keepalived_conf").then(|| "-max_len=1048576".to_string())
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
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
    for target in &targets {
        // New inputs go to a scratch corpus (git-ignored); the committed seeds are read only, so
        // a run never litters fuzz/corpus/. Keep a find worth keeping by copying it there.
        let scratch = root().join("fuzz/target/corpus").join(target);
        let seeds = root().join("fuzz/corpus").join(target);
        for dir in [&scratch, &seeds] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        util::run(
            Command::new("cargo")
                .current_dir(root())
                .args(["+nightly", "fuzz", "run", "--fuzz-dir", "fuzz", target])
                .arg(&scratch)
                .arg(&seeds)
                .arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .args(max_len(target)),
        )?;
    }
    Ok(())
}
