//! MISC_CHECK: run a program (no shell) and judge by its exit status.
//!
//! The program runs in a process group of its own. When it exits, when `misc_timeout` passes, or
//! when the attempt is cancelled, the whole group gets SIGKILL, so children the script forked (or
//! put in the background) die with it and never outlive their check. The program is always
//! waited for, so no zombie is left behind; on exit the group is killed before the program is
//! reaped (its exit is seen on a pidfd), so the group id cannot have been reused meanwhile.
//!
//! The program gets a clean environment (only [`SCRIPT_PATH`] as `PATH`), never the caller's.
//! What it prints on standard output and error is read (the first [`OUTPUT_LIMIT`] bytes of
//! each kept, the rest drained so it never blocks) and logged with its outcome: at `info`
//! when the attempt failed, at `debug` when it passed.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// The only environment a program gets: `PATH` set to this.
pub const SCRIPT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Bytes of each of standard output and error kept for the log.
pub const OUTPUT_LIMIT: usize = 4096;

/// Reads `pipe` to its end, keeping the first [`OUTPUT_LIMIT`] bytes; says how many more went.
async fn capture(pipe: Option<impl AsyncRead + Unpin>) -> (Vec<u8>, u64) {
    let Some(mut pipe) = pipe else {
        return (Vec::new(), 0);
    };
    let mut kept = Vec::new();
    let mut more = 0u64;
    let mut buf = [0u8; 4096];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, more),
            Ok(n) => {
                let room = OUTPUT_LIMIT.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&buf[..room]);
                more += (n - room) as u64;
            }
        }
    }
}

/// Logs what a program printed, with its outcome.
fn log_output(program: &str, healthy: bool, stream: &str, (kept, more): &(Vec<u8>, u64)) {
    if kept.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(kept);
    let text = text.trim_end();
    let cut = if *more > 0 {
        format!(" [{more} more bytes not kept]")
    } else {
        String::new()
    };
    if healthy {
        tracing::debug!(program, stream, "{text}{cut}");
    } else {
        tracing::info!(program, stream, "{text}{cut}");
    }
}

use crate::net::Human;
use crate::tcp::round_micros;
use crate::{CheckFuture, Checker, Error, Outcome};

/// MISC_CHECK: exit status 0 is healthy, anything else (or a signal, or the timeout) is not.
/// With `misc_dynamic`, 1 is down and 2–255 is healthy with weight `status − 2`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MiscCheck {
    /// `misc_path` split into the program and its arguments.
    pub argv: Vec<String>,
    /// `misc_timeout` (keepalived defaults it to `delay_loop`).
    pub misc_timeout: Duration,
    /// `misc_dynamic`.
    pub misc_dynamic: bool,
    /// `user`: run as this uid and gid (resolving names is the caller's business).
    pub user: Option<(u32, u32)>,
}

impl MiscCheck {
    /// A MISC_CHECK of `misc_path` (split as [`split_argv`] does) with this timeout.
    pub fn new(misc_path: &str, misc_timeout: Duration) -> Result<Self, Error> {
        Ok(Self {
            argv: split_argv(misc_path)?,
            misc_timeout,
            misc_dynamic: false,
            user: None,
        })
    }

    /// Sets `misc_dynamic`.
    #[must_use]
    pub fn dynamic(mut self, dynamic: bool) -> Self {
        self.misc_dynamic = dynamic;
        self
    }

    /// Checks `misc_timeout` against [`crate::options::MAX_DURATION`] and that there is a
    /// program to run.
    pub fn validate(&self) -> Result<(), Error> {
        if self.argv.first().is_none_or(String::is_empty) {
            return Err(Error::MiscPath("no program given".into()));
        }
        crate::options::check_duration("misc_timeout", self.misc_timeout)
    }

    fn judge(&self, status: ExitStatus, took: Duration) -> Outcome {
        let took = Human(round_micros(took));
        let program = self.argv.first().map_or("the program", String::as_str);
        let Some(code) = status.code() else {
            use std::os::unix::process::ExitStatusExt as _;
            let signal = status.signal().unwrap_or(0);
            return Outcome::down(format!("{program} killed by signal {signal} after {took}"));
        };
        match (code, self.misc_dynamic) {
            (0, _) => Outcome::up(format!("{program} exited with status 0 in {took}")),
            (2..=255, true) => {
                let weight = (code - 2) as u32;
                Outcome::up(format!(
                    "{program} exited with status {code} in {took}: weight {weight}"
                ))
                .with_weight(weight)
            }
            _ => Outcome::down(format!("{program} exited with status {code} in {took}")),
        }
    }

    async fn run(&self) -> Outcome {
        let Some(program) = self.argv.first() else {
            return Outcome::down("MISC_CHECK: no program given");
        };
        let started = Instant::now();
        let mut command = Command::new(program);
        command
            .args(&self.argv[1..])
            .env_clear()
            .env("PATH", SCRIPT_PATH)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return Outcome::down(format!("cannot run {program}: {e}")),
        };
        // Read both pipes beside the wait, so a chatty program never blocks on a full pipe.
        let stdout = tokio::spawn(capture(child.stdout.take()));
        let stderr = tokio::spawn(capture(child.stderr.take()));
        // The child leads its own group, so its pid is the group id.
        let group = GroupKiller(child.id().and_then(|pid| i32::try_from(pid).ok()));
        let exited = async {
            // The exit, seen without reaping: the program's pid, which is the group's id, stays
            // taken until `wait` below, so the kill cannot reach a stranger's group.
            if let Some(pid) = child.id() {
                exit_of(pid).await;
            }
            let took = started.elapsed();
            drop(group); // SIGKILL to what the program left behind
            child.wait().await.map(|status| (status, took))
        };
        // On the timeout, dropping `exited` drops the group's killer: SIGKILL to the whole group.
        let result = tokio::time::timeout(self.misc_timeout, exited).await;
        let outcome = match result {
            Ok(Ok((status, took))) => self.judge(status, took),
            Ok(Err(e)) => Outcome::down(format!("waiting for {program}: {e}")),
            Err(_) => {
                let _ = child.start_kill(); // and to the program, should it have left the group
                let _ = child.wait().await;
                Outcome::down(format!(
                    "{program} timed out after {}; its process group was killed",
                    Human(self.misc_timeout)
                ))
            }
        };
        // The group is dead, so the pipes end; a descendant that left the group could keep them
        // open: its output is not waited for.
        for (stream, task) in [("stdout", stdout), ("stderr", stderr)] {
            match tokio::time::timeout(Duration::from_millis(200), task).await {
                Ok(Ok(output)) => log_output(program, outcome.healthy, stream, &output),
                Ok(Err(_)) => {}
                Err(_) => tracing::debug!(program, stream, "output still open: not logged"),
            }
        }
        outcome
    }
}

/// Waits until process `pid` (our child) has exited, without reaping it: its pidfd turns
/// readable. Returns at once when no pidfd can be had (then the group is killed right after the
/// program is reaped, as before).
async fn exit_of(pid: u32) {
    use std::os::fd::{FromRawFd, OwnedFd};
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let Ok(fd) = i32::try_from(fd) else {
        return;
    };
    if fd < 0 {
        return;
    }
    // SAFETY: the descriptor was just returned to us and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: the AsyncFd owns the descriptor until it is dropped, at the end of this function.
    let registered = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    };
    let Ok(fd) = registered else {
        return;
    };
    let _ = fd.readable().await;
}

/// Kills a process group when dropped: neither a finished, a timed-out nor a cancelled attempt
/// leaves anything running.
struct GroupKiller(Option<i32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        if let Some(pgid) = self.0.take() {
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

impl Checker for MiscCheck {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(self.run())
    }

    fn timeout(&self) -> Duration {
        self.misc_timeout
    }
}

/// Splits `misc_path` into words the way keepalived does, without a shell: words are separated
/// by blanks; `'…'` keeps everything literally; `"…"` keeps blanks and honours `\"` and `\\`;
/// outside quotes a backslash makes the next character literal.
pub fn split_argv(line: &str) -> Result<Vec<String>, Error> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(Error::MiscPath(format!("unterminated ' in {line:?}"))),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => {
                                return Err(Error::MiscPath(format!(
                                    "unterminated \" in {line:?}"
                                )));
                            }
                        },
                        Some(c) => word.push(c),
                        None => {
                            return Err(Error::MiscPath(format!("unterminated \" in {line:?}")));
                        }
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err(Error::MiscPath("no program given".into()));
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_like_keepalived() {
        assert_eq!(
            split_argv(r#"/bin/check.sh  -h "a b" 'c "d"' e\ f "x\"y""#).unwrap(),
            ["/bin/check.sh", "-h", "a b", "c \"d\"", "e f", "x\"y"]
        );
        assert_eq!(split_argv("  /bin/true ").unwrap(), ["/bin/true"]);
        assert!(
            matches!(split_argv("a 'b"), Err(Error::MiscPath(m)) if m.contains("unterminated"))
        );
        assert!(split_argv("   ").is_err());
    }
}
