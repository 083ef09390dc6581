//! Building the binaries that go into the VM: every `vm_*` integration test of the workspace and
//! the binaries those tests run, linked statically (`+crt-static`) so that the image needs no
//! libc of ours. They go to their own target dir (`target/vm`) so that the different `RUSTFLAGS`
//! never invalidate the main one.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;

use crate::util::{self, cargo};

/// The target triple of the VM (and of this machine).
pub(crate) const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// One executable that cargo built.
#[derive(Debug, Clone)]
pub(crate) struct Executable {
    /// The target's name: `vm_ipvsctl` for a test, `ipvsctl` for a binary.
    pub(crate) name: String,
    /// Absolute path on the host; the image puts the file at the same path.
    pub(crate) path: PathBuf,
}

/// What one build produced.
#[derive(Debug, Default)]
pub(crate) struct Built {
    /// The `vm_*` test binaries, sorted by name.
    pub(crate) tests: Vec<Executable>,
    /// The binaries built along with them (what `CARGO_BIN_EXE_<name>` points at).
    pub(crate) bins: Vec<Executable>,
}

/// The target dir of the VM builds.
pub(crate) fn target_dir() -> PathBuf {
    util::root().join("target").join("vm")
}

/// `cargo test --no-run --workspace --test 'vm_*'`, statically linked, in `target/vm`.
pub(crate) fn build(release: bool) -> Result<Built, String> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--no-run",
        "--workspace",
        "--test",
        "vm_*",
        "--message-format=json-render-diagnostics",
        "--target",
        TRIPLE,
    ])
    .arg("--target-dir")
    .arg(target_dir());
    if release {
        cmd.arg("--release");
    }
    // With an explicit --target, RUSTFLAGS reach only the target's crates, not build scripts and
    // proc macros (which cannot be static).
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(' ');
    }
    rustflags.push_str("-C target-feature=+crt-static");
    cmd.env("RUSTFLAGS", rustflags)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // Full debug info makes static test binaries huge, and the whole image lives in the
        // VM's memory; line tables keep backtraces useful.
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .env("CARGO_PROFILE_TEST_DEBUG", "line-tables-only")
        // Everything runs under TCG, many times slower than native: unoptimised code makes
        // each process start and each test crawl. Debug assertions stay on.
        .env("CARGO_PROFILE_DEV_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_TEST_OPT_LEVEL", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    eprintln!("$ {}", util::show(&cmd));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut built = Built::default();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo's output: {e}"))?;
        if let Some((kind, exe)) = artifact(&line) {
            match kind {
                Kind::Test => built.tests.push(exe),
                Kind::Bin => built.bins.push(exe),
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the VM tests failed ({status})"));
    }
    built.tests.sort_by(|a, b| a.name.cmp(&b.name));
    built.bins.sort_by(|a, b| a.name.cmp(&b.name));
    built.bins.dedup_by(|a, b| a.path == b.path);
    Ok(built)
}

enum Kind {
    Test,
    Bin,
}

/// Reads one `compiler-artifact` message; `None` for anything without an executable.
fn artifact(line: &str) -> Option<(Kind, Executable)> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact" {
        return None;
    }
    let path = PathBuf::from(message["executable"].as_str()?);
    let name = message["target"]["name"].as_str()?.to_string();
    let kinds = message["target"]["kind"].as_array()?;
    let is = |k: &str| kinds.iter().any(|v| v == k);
    let kind = if is("test") {
        Kind::Test
    } else if is("bin") && message["profile"]["test"] == false {
        Kind::Bin
    } else {
        return None;
    };
    Some((kind, Executable { name, path }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_test_and_bin_artifacts() {
        let test = r#"{"reason":"compiler-artifact","target":{"kind":["test"],"name":"vm_ipvsctl"},"profile":{"test":true},"executable":"/t/deps/vm_ipvsctl-1"}"#;
        let bin = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"ipvsctl"},"profile":{"test":false},"executable":"/t/ipvsctl"}"#;
        let lib = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"ipvs"},"profile":{"test":false},"executable":null}"#;
        let (kind, exe) = artifact(test).unwrap();
        assert!(matches!(kind, Kind::Test));
        assert_eq!(exe.name, "vm_ipvsctl");
        let (kind, exe) = artifact(bin).unwrap();
        assert!(matches!(kind, Kind::Bin));
        assert_eq!(exe.path, PathBuf::from("/t/ipvsctl"));
        assert!(artifact(lib).is_none());
        assert!(artifact("not json").is_none());
    }
}
