//! The client's error type: kernel refusals by kind, with the kernel's errno and text.

use std::fmt;
use std::io;

use netlink_packet_ipvs::IpvsCmd;

/// What the kernel said when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// The positive errno (`EEXIST`, `ESRCH`, ...).
    pub errno: i32,
    /// The extended-ACK message, when the kernel gave one.
    pub message: Option<String>,
    /// The command that was refused.
    pub cmd: IpvsCmd,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = io::Error::from_raw_os_error(self.errno);
        write!(f, "{:?} refused: {os}", self.cmd)?;
        if let Some(message) = &self.message {
            write!(f, " ({message})")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong talking to IPVS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `NEW_SERVICE` for a service that is already there (`EEXIST`).
    #[error("service already exists: {0}")]
    ServiceExists(KernelError),
    /// The service named by the request does not exist (`ESRCH`), also for destination requests.
    #[error("no such service: {0}")]
    ServiceNotFound(KernelError),
    /// `NEW_DEST` for a destination that is already there (`EEXIST`).
    #[error("destination already exists: {0}")]
    DestinationExists(KernelError),
    /// `SET_DEST`/`DEL_DEST` for a destination that is not there (`ENOENT`).
    #[error("no such destination: {0}")]
    DestinationNotFound(KernelError),
    /// The scheduler (or persistence engine) module could not be found (`ENOENT` on a service).
    #[error("scheduler or persistence engine not found: {0}")]
    SchedulerNotFound(KernelError),
    /// The caller lacks `CAP_NET_ADMIN` (`EPERM`).
    #[error("permission denied (CAP_NET_ADMIN needed): {0}")]
    PermissionDenied(KernelError),
    /// The kernel has no "IPVS" generic-netlink family: `ip_vs` is not loaded (or not built).
    #[error("IPVS is not available: {detail}")]
    ModuleNotLoaded {
        /// What was tried and what happened.
        detail: String,
    },
    /// Any other refusal.
    #[error("{0}")]
    Kernel(KernelError),
    /// The socket failed.
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel did not answer within [`Options::timeout`](crate::Options::timeout): no ACK,
    /// no dump datagram, no family reply. The request may or may not have been applied.
    #[error("no answer from the kernel within {0:?}")]
    Timeout(std::time::Duration),
    /// The kernel sent something this client cannot read.
    #[error("unexpected reply from the kernel: {0}")]
    Protocol(String),
}

impl Error {
    /// The kernel's errno, for errors that come from the kernel.
    pub fn errno(&self) -> Option<i32> {
        self.kernel().map(|k| k.errno).or_else(|| match self {
            Self::Io(e) => e.raw_os_error(),
            _ => None,
        })
    }

    /// The kernel's refusal behind this error, if it is one.
    pub fn kernel(&self) -> Option<&KernelError> {
        match self {
            Self::ServiceExists(k)
            | Self::ServiceNotFound(k)
            | Self::DestinationExists(k)
            | Self::DestinationNotFound(k)
            | Self::SchedulerNotFound(k)
            | Self::PermissionDenied(k)
            | Self::Kernel(k) => Some(k),
            _ => None,
        }
    }

    /// Sorts a kernel refusal into its kind: the same errno means different things for
    /// different commands (`ENOENT` is a missing scheduler on a service, a missing destination on
    /// a destination).
    pub(crate) fn from_kernel(kernel: KernelError) -> Self {
        use IpvsCmd::*;
        match (kernel.errno, kernel.cmd) {
            (libc::EPERM, _) => Self::PermissionDenied(kernel),
            (libc::EEXIST, NewService) => Self::ServiceExists(kernel),
            (libc::EEXIST, NewDest) => Self::DestinationExists(kernel),
            (
                libc::ESRCH,
                SetService | DelService | GetService | NewDest | SetDest | DelDest | GetDest | Zero,
            ) => Self::ServiceNotFound(kernel),
            (libc::ENOENT, NewService | SetService) => Self::SchedulerNotFound(kernel),
            (libc::ENOENT, SetDest | DelDest) => Self::DestinationNotFound(kernel),
            _ => Self::Kernel(kernel),
        }
    }
}

/// Turns a failed receive into an error: a receive timeout (`SO_RCVTIMEO`'s `EAGAIN`) is
/// [`Error::Timeout`].
pub(crate) fn receive_error(e: io::Error, timeout: std::time::Duration) -> Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout(timeout),
        _ => Error::Io(e),
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn kernel(errno: i32, cmd: IpvsCmd) -> KernelError {
        KernelError {
            errno,
            message: Some("text".into()),
            cmd,
        }
    }

    #[test]
    fn the_same_errno_means_different_things_for_different_commands() {
        use IpvsCmd::*;
        let sorted = |errno, cmd| Error::from_kernel(kernel(errno, cmd));
        assert!(matches!(
            sorted(libc::EEXIST, NewService),
            Error::ServiceExists(_)
        ));
        assert!(matches!(
            sorted(libc::EEXIST, NewDest),
            Error::DestinationExists(_)
        ));
        assert!(matches!(
            sorted(libc::ESRCH, DelService),
            Error::ServiceNotFound(_)
        ));
        assert!(matches!(
            sorted(libc::ESRCH, NewDest),
            Error::ServiceNotFound(_)
        ));
        assert!(matches!(
            sorted(libc::ENOENT, NewService),
            Error::SchedulerNotFound(_)
        ));
        assert!(matches!(
            sorted(libc::ENOENT, DelDest),
            Error::DestinationNotFound(_)
        ));
        assert!(matches!(
            sorted(libc::EPERM, Flush),
            Error::PermissionDenied(_)
        ));
        assert!(matches!(sorted(libc::EEXIST, NewDaemon), Error::Kernel(_)));
        let e = sorted(libc::EINVAL, SetConfig);
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert_eq!(e.kernel().unwrap().message.as_deref(), Some("text"));
        assert!(e.to_string().contains("text"), "{e}");
    }
}
