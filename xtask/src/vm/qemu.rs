//! Booting the image under qemu (TCG: KVM does not work on the project's machines) and reading the
//! serial console until the init script reports the tests' status.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::util::{self, which};

/// The line the init script prints last: `LVSKIT-VM-EXIT: <status>`.
const EXIT_MARK: &str = "LVSKIT-VM-EXIT: ";
/// The line it prints for each test binary that failed.
pub(crate) const FAILED_MARK: &str = "LVSKIT-VM-FAILED: ";

/// How the VM ended.
#[derive(Debug)]
pub(crate) struct Report {
    /// The status the init script reported; `None` if it never did (panic, crash, timeout).
    pub(crate) status: Option<i32>,
    /// Every console line, without carriage returns.
    pub(crate) lines: Vec<String>,
    pub(crate) timed_out: bool,
}

/// The qemu command line shared by test runs and the shell.
fn qemu(kernel: &Path, initrd: &Path, memory_mb: u32) -> Result<Command, String> {
    let qemu = which("qemu-system-x86_64")
        .ok_or("no qemu-system-x86_64 here (apt-get install qemu-system-x86)")?;
    let mut cmd = Command::new(qemu);
    cmd.args(["-accel", "tcg", "-cpu", "max", "-smp", "1", "-m"])
        .arg(memory_mb.to_string())
        .args([
            "-nodefaults",
            "-no-user-config",
            "-display",
            "none",
            "-no-reboot",
        ])
        .arg("-kernel")
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args(["-append", "console=ttyS0 quiet loglevel=3 panic=-1"]);
    Ok(cmd)
}

/// Boots, streams the console to stdout (and to `log` when given) and waits for the status line,
/// killing the VM after `timeout`.
pub(crate) fn boot(
    kernel: &Path,
    initrd: &Path,
    memory_mb: u32,
    timeout: Duration,
) -> Result<Report, String> {
    boot_with(kernel, initrd, memory_mb, timeout, &[])
}

/// [`boot`] with more qemu arguments after the console's (`-serial file:F` is the VM's
/// `/dev/ttyS1`: `cargo xtask lab` gets its plot that way).
pub(crate) fn boot_with(
    kernel: &Path,
    initrd: &Path,
    memory_mb: u32,
    timeout: Duration,
    extra: &[String],
) -> Result<Report, String> {
    let mut cmd = qemu(kernel, initrd, memory_mb)?;
    cmd.args(["-serial", "stdio"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    eprintln!("$ {}", util::show(&cmd));
    let mut child = cmd.spawn().map_err(|e| format!("cannot start qemu: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&buf);
                    let line = text.trim_end_matches(['\n', '\r']).replace('\r', "");
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let deadline = Instant::now() + timeout;
    let mut report = Report {
        status: None,
        lines: Vec::new(),
        timed_out: false,
    };
    let stdout = std::io::stdout();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                {
                    let mut out = stdout.lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                if let Some(status) = line.strip_prefix(EXIT_MARK) {
                    report.status = status.trim().parse().ok();
                }
                report.lines.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                report.timed_out = true;
                eprintln!(
                    "vm: no status after {} s: killing the VM",
                    timeout.as_secs()
                );
                let _ = child.kill();
                break;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let _ = child.wait();
    let _ = reader.join();
    Ok(report)
}

/// An interactive shell on the VM's console (Ctrl-A X quits qemu).
pub(crate) fn shell(kernel: &Path, initrd: &Path, memory_mb: u32) -> Result<(), String> {
    let mut cmd = qemu(kernel, initrd, memory_mb)?;
    cmd.args(["-serial", "mon:stdio"]);
    util::run(&mut cmd)
}
