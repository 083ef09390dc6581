//! Helpers shared by the tasks: finding the workspace, running commands, installing tools.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

/// The workspace root (the directory that holds the root `Cargo.toml`).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A `cargo` command for the toolchain that runs this xtask, in the workspace root.
pub(crate) fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

/// Prints the command, runs it with inherited stdio and reports whether it succeeded.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", show(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed with {status}", show(cmd)))
    }
}

/// A command line as a person would type it.
pub(crate) fn show(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.contains([' ', '(', ')', '|', '\'']) {
            line.push_str(&format!(" '{arg}'"));
        } else {
            line.push(' ');
            line.push_str(&arg);
        }
    }
    line
}

/// True when this process runs with effective uid 0.
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// Finds an executable on `PATH` (and in the sbin directories, which a non-login root shell may lack).
pub(crate) fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Makes sure each `(file, debian-package)` pair is present, installing the missing packages with
/// apt-get when running as root. `file` is an executable name, or an absolute path for files that
/// are not executables (a kernel image, say). Returns why it could not when something is missing.
pub(crate) fn ensure(needs: &[(&str, &str)]) -> Result<(), String> {
    let present = |file: &str| {
        if file.starts_with('/') {
            Path::new(file).exists() || glob_exists(file)
        } else {
            which(file).is_some()
        }
    };
    let missing: Vec<&str> = needs
        .iter()
        .filter(|(file, _)| !present(file))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing {} and not root, so cannot apt-get install them",
            missing.join(", ")
        ));
    }
    // Another apt-get (a second xtask, unattended-upgrades) may hold dpkg's lock: wait for it
    // rather than skip a suite.
    const APT_LOCK_WAIT: &str = "DPkg::Lock::Timeout=600";
    if which("apt-get").is_none() {
        return Err(format!(
            "missing {} and no apt-get here",
            missing.join(", ")
        ));
    }
    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        run(Command::new("apt-get").args(["-o", APT_LOCK_WAIT, "update", "-qq"]))?;
    }
    run(Command::new("apt-get")
        .args([
            "-o",
            APT_LOCK_WAIT,
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
        ])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    let still: Vec<&str> = needs
        .iter()
        .filter(|(file, _)| !present(file))
        .map(|(file, _)| *file)
        .collect();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "still missing after apt-get install: {}",
            still.join(", ")
        ))
    }
}

/// `/boot/vmlinuz-*` style patterns: true when some file in the directory matches the prefix before `*`.
fn glob_exists(pattern: &str) -> bool {
    let Some((prefix, _)) = pattern.split_once('*') else {
        return false;
    };
    let path = Path::new(prefix);
    let (Some(dir), Some(stem)) = (path.parent(), path.file_name()) else {
        return false;
    };
    let stem = stem.to_string_lossy();
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(stem.as_ref()))
        })
        .unwrap_or(false)
}
