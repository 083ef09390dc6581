//! The crate's error type.

use std::{io, net::IpAddr};

use crate::Family;

/// What can go wrong when changing addresses, routes, rules or links.
///
/// Validation errors ([`Error::NoSuchInterface`], [`Error::InterfaceDown`], [`Error::WrongFamily`],
/// [`Error::InvalidPrefix`], [`Error::InvalidLabel`], [`Error::InvalidName`], [`Error::Invalid`])
/// are returned before anything is sent to the kernel, so nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named interface does not exist (in this network namespace).
    #[error("no such interface: {name:?}")]
    NoSuchInterface {
        /// The name that was looked up.
        name: String,
    },

    /// The interface exists but is administratively down, so a VIP on it would not be reachable.
    #[error("interface {name:?} is down")]
    InterfaceDown {
        /// The interface's name.
        name: String,
    },

    /// An address of one family where the other was expected (for example an IPv6 gateway on an
    /// IPv4 route, or a broadcast address on an IPv6 VIP).
    #[error("{what}: expected an {expected} address, found {found}")]
    WrongFamily {
        /// Which field held the address.
        what: &'static str,
        /// The family the rest of the request uses.
        expected: Family,
        /// The address that did not fit.
        found: IpAddr,
    },

    /// A prefix length longer than the address.
    #[error("prefix length /{prefix_len} is too long for {addr} (at most /{max})")]
    InvalidPrefix {
        /// The address.
        addr: IpAddr,
        /// The prefix length that was given.
        prefix_len: u8,
        /// The longest prefix for this family.
        max: u8,
    },

    /// An address label that the kernel (or `ip`) would refuse.
    #[error("invalid label {label:?}: {reason}")]
    InvalidLabel {
        /// The label that was given.
        label: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An interface name that the kernel would refuse (empty, longer than 15 bytes, or with `/`,
    /// `:` or white space).
    #[error("invalid interface name {name:?}: {reason}")]
    InvalidName {
        /// The name that was given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Any other request that cannot be right, found before anything was sent.
    #[error("invalid request: {0}")]
    Invalid(String),

    /// The kernel refused for lack of privilege (`CAP_NET_ADMIN` is needed to change anything).
    #[error("{op}: permission denied (CAP_NET_ADMIN is needed)")]
    Permission {
        /// What was being done.
        op: &'static str,
    },

    /// Something with the same key exists but differs from what was asked (for example the VIP
    /// is there with another label, or an interface of that name is not our macvlan).
    #[error("{what} exists but differs: {detail}")]
    Exists {
        /// What was being added.
        what: String,
        /// How the existing object differs.
        detail: String,
    },

    /// The kernel refused the request for another reason.
    #[error("{op}: kernel said: {source}{}", ext.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        /// What was being done.
        op: &'static str,
        /// The kernel's errno.
        source: io::Error,
        /// The kernel's own explanation (extended ACK), when it gave one.
        ext: Option<String>,
    },

    /// Reading or writing a sysctl under `/proc/sys` failed.
    #[error("sysctl {path}: {source}")]
    Sysctl {
        /// The file.
        path: String,
        /// The error from the file system.
        source: io::Error,
    },

    /// The real-server state file (see [`crate::realserver`]) could not be read or written.
    #[error("state file {path}: {source}")]
    StateFile {
        /// The file.
        path: String,
        /// The error from the file system.
        source: io::Error,
    },

    /// The netlink socket could not be opened or configured.
    #[error("netlink socket: {0}")]
    Socket(#[source] io::Error),

    /// The netlink connection task ended, or the kernel's reply made no sense.
    #[error("netlink connection: {0}")]
    Connection(String),
}

impl Error {
    /// The kernel's errno behind this error, if it came from the kernel.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Kernel { source, .. } => source.raw_os_error(),
            Self::Permission { .. } => Some(libc::EPERM),
            _ => None,
        }
    }
}
