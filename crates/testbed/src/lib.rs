//! Network-namespace test networks for lvskit's root-only tests.
//!
//! A [`Netns`] is a named network namespace (`ip netns add`) that is deleted when the value is
//! dropped, also while a failing test unwinds. Everything built inside it (veth ends, bridges,
//! addresses, routes) goes with it, so tests clean up by simply letting their namespaces drop.
//! Names carry the process id and a counter, so tests run in parallel without clashing.
//!
//! Inside a namespace you can
//! - run a closure ([`Netns::run`], [`Netns::spawn`]): a dedicated thread calls `setns(2)` first, so
//!   sockets the closure opens live in the namespace (and stay there after it returns);
//! - run a command ([`Netns::command`], [`Netns::ip`]): `ip netns exec NAME ...`; from inside a
//!   closure, [`ip`] runs `ip` in the namespace the thread is in;
//! - capture frames on an interface ([`Capture`]): an `AF_PACKET` socket opened in the namespace,
//!   with kernel receive timestamps, that can be written out as a pcap file for tshark.
//!
//! Addresses are restricted to the documentation ranges 192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24 and 2001:db8::/32: anything else is refused with [`Error::AddressNotAllowed`],
//! so a test can never announce a real address, even by mistake.
//!
//! [`replay_corpus`] runs a fuzz target's function over its committed corpus on stable.
//!
//! [`bounded`] runs a test's work in a child process under memory and CPU limits (no root
//! needed), for tests that assert hostile input is refused within a budget.
//!
//! Root (`CAP_SYS_ADMIN` and `CAP_NET_ADMIN`) is required; the tests that use this crate are named
//! `tests/netns_*.rs` so that `cargo xtask test` runs them only in its "netns" suite.
//!
//! ```no_run
//! use testbed::{veth_pair, Capture, Netns};
//!
//! # fn main() -> Result<(), testbed::Error> {
//! let left = Netns::new("left")?;
//! let right = Netns::new("right")?;
//! veth_pair(&left, "eth0", &right, "eth0")?;
//! left.add_addr("eth0", "192.0.2.1/24")?;
//! right.add_addr("eth0", "192.0.2.2/24")?;
//! left.set_up("eth0")?;
//! right.set_up("eth0")?;
//!
//! let capture = Capture::start(&right, "eth0")?;
//! // A socket made inside a namespace stays there; `udp_bind`/`udp_send` are probes.
//! let receiver = right.udp_bind("192.0.2.2:7777".parse().unwrap())?;
//! left.udp_send(None, "192.0.2.2:7777".parse().unwrap(), b"hi")?;
//! let frames = capture.wait_until(std::time::Duration::from_secs(2), |f| f.len() >= 2);
//! assert!(frames.iter().any(|f| f.ethertype() == 0x0800));
//! // Or run a program there.
//! let links = left.command("ip").args(["-br", "link"]).output()?;
//! # Ok(())
//! # }
//! // `left` and `right` are deleted here, with their interfaces.
//! ```

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod addr;
mod bounded;
mod capture;
mod corpus;
mod netns;

pub use addr::{ALLOWED_RANGES, check_addr, check_prefix};
pub use bounded::{Limits, bounded};
pub use capture::{Capture, Frame, PacketType, tshark_fields, write_pcap};
pub use corpus::replay_corpus;
pub use netns::{Netns, bridge_port, ip, reap_orphans, veth_pair};

use std::process::ExitStatus;

/// Why a testbed operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An address outside the documentation ranges was asked for.
    #[error(
        "address {0} is not in a documentation range (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)"
    )]
    AddressNotAllowed(String),
    /// An address or prefix could not be parsed.
    #[error("expected an address like 192.0.2.1/24 or 2001:db8::1/64, found {0:?}")]
    BadAddress(String),
    /// An interface name is empty, too long for the kernel (15 bytes) or has odd characters.
    #[error("interface name {0:?} must be 1 to 15 characters of [A-Za-z0-9._-]")]
    BadInterfaceName(String),
    /// A command ran but exited with an error.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line, for the message.
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// What it printed on stderr, trimmed.
        stderr: String,
    },
    /// A command succeeded but printed something we could not read.
    #[error("`{command}` printed {output:?}, expected {expected}")]
    UnexpectedOutput {
        /// The command line.
        command: String,
        /// What was looked for.
        expected: &'static str,
        /// What it printed, trimmed.
        output: String,
    },
    /// A system call or a command could not be started.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The closure given to [`Netns::run`] panicked; the panic message is kept.
    #[error("closure run in namespace {netns} panicked: {message}")]
    Panicked {
        /// The namespace.
        netns: String,
        /// The panic payload, when it was a string.
        message: String,
    },
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Self::Io {
            context: "I/O".into(),
            source,
        }
    }
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Whether this process can build namespaces (it is root). Tests call [`require_root`] instead,
/// which fails loudly.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Panics with a clear message unless the process is root: root-only tests must fail, not pass,
/// when they cannot do their work.
#[track_caller]
pub fn require_root() {
    assert!(
        is_root(),
        "this test needs root (network namespaces); run it with `sudo` or through `cargo xtask test netns`"
    );
}

/// `CAP_NET_ADMIN` (capabilities(7)), for [`drop_capability`].
pub const CAP_NET_ADMIN: u32 = 12;
/// `CAP_NET_RAW` (capabilities(7)), for [`drop_capability`].
pub const CAP_NET_RAW: u32 = 13;

/// Drops capability `cap` (below 32: [`CAP_NET_ADMIN`], [`CAP_NET_RAW`]) from the calling
/// thread's effective set. Capabilities are per thread, so the rest of the test process keeps
/// it: a test runs the unprivileged side on a thread of its own.
///
/// # Panics
/// When `capget(2)` or `capset(2)` fails.
pub fn drop_capability(cap: u32) {
    assert!(cap < 32, "capability {cap} is not in the first word");
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget/capset with a version-3 header and two data structs, as capget(2) says.
    unsafe {
        assert_eq!(
            libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()),
            0,
            "capget"
        );
        data[0].effective &= !(1 << cap);
        assert_eq!(
            libc::syscall(libc::SYS_capset, &raw mut header, data.as_ptr()),
            0,
            "capset"
        );
    }
}
