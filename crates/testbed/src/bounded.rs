//! Running a test's work in a child process under resource limits, so that a test can assert
//! "this input is refused without using more than N bytes" without taking the test runner down
//! when it is not.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that tells a re-executed test binary it is the bounded child.
const CHILD: &str = "LVSKIT_BOUNDED_CHILD";

/// Limits for [`bounded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `RLIMIT_AS`: address space, in bytes. An allocation past it fails (Rust aborts).
    pub memory: u64,
    /// `RLIMIT_CPU`: CPU seconds; the kernel kills the child with SIGXCPU past it.
    pub cpu_seconds: u64,
    /// Wall-clock time after which the parent kills the child (a hang, not a figure: make it
    /// generous).
    pub wall: Duration,
}

impl Limits {
    /// `memory` bytes of address space, 60 CPU seconds, 120 s of wall-clock time.
    pub fn memory(memory: u64) -> Self {
        Self {
            memory,
            cpu_seconds: 60,
            wall: Duration::from_secs(120),
        }
    }
}

/// Runs the test named `test` (its name as the test harness prints it, e.g.
/// `huge_reply_length`) again in a child process of the same test binary, under `limits`.
///
/// In the parent it returns `Some(output)` once the child ended (killed after `limits.wall`).
/// In the child it applies the limits and returns `None`: the test then does its work and
/// returns, and the parent judges the child's exit status and output.
///
/// ```no_run
/// #[test]
/// fn refuses_the_monster() {
///     let Some(out) = testbed::bounded("refuses_the_monster", testbed::Limits::memory(256 << 20))
///     else {
///         // The child: limits applied.
///         assert!(parse(&monster()).is_err());
///         return;
///     };
///     assert!(out.status.success(), "{out:?}");
/// }
/// # fn parse(_: &[u8]) -> Result<(), ()> { Err(()) }
/// # fn monster() -> Vec<u8> { Vec::new() }
/// ```
///
/// # Panics
/// When the limits cannot be set in the child, or the child cannot be started.
pub fn bounded(test: &str, limits: Limits) -> Option<Output> {
    if std::env::var(CHILD).is_ok_and(|name| name == test) {
        set_limit(libc::RLIMIT_AS, limits.memory);
        set_limit(libc::RLIMIT_CPU, limits.cpu_seconds);
        return None;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts again");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for the child").is_some() {
            break;
        }
        if started.elapsed() > limits.wall {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // The harness prints "running 0 tests" when the name matched nothing: a typo would make
    // the child pass without doing anything.
    assert!(
        !stdout.contains("running 0 tests"),
        "no test named {test:?} in this binary"
    );
    Some(output)
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the plain struct we pass and nothing else.
    let rc = unsafe { libc::setrlimit(resource, &raw const limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
}
