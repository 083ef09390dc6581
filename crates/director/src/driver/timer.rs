//! A deadline timer with nanosecond resolution (a `timerfd` on `CLOCK_MONOTONIC`).
//!
//! tokio's timer wheel has a resolution of one millisecond and rounds a deadline up to the next
//! tick, which alone would make every takeover up to a millisecond late; VRRP's bound is to the
//! microsecond (3609.4 ms for v2 at priority 100), so the loop sleeps on this instead.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Instant;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// One `timerfd`, armed for an absolute deadline.
#[derive(Debug)]
pub(crate) struct Deadline {
    fd: AsyncFd<OwnedFd>,
}

impl Deadline {
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: timerfd_create returns a new descriptor or -1; we own it from here.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the AsyncFd owns the descriptor until it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }?;
        Ok(Self { fd })
    }

    /// Waits until `deadline` (at once if it has passed).
    pub(crate) async fn wait_until(&self, deadline: Instant) -> io::Result<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid clock id and a pointer to a timespec we own.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now) };
        let nanos = now.tv_nsec as u64 + u64::from(left.subsec_nanos());
        let at = libc::timespec {
            tv_sec: now.tv_sec
                + left.as_secs() as libc::time_t
                + (nanos / 1_000_000_000) as libc::time_t,
            tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: at,
        };
        // SAFETY: a timerfd we own and valid pointers.
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.get_ref().as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &raw const spec,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut guard = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reading 8 bytes into our buffer from a timerfd.
            let n = unsafe {
                libc::read(
                    self.fd.get_ref().as_raw_fd(),
                    expirations.as_mut_ptr().cast(),
                    expirations.len(),
                )
            };
            if n == 8 {
                return Ok(());
            }
            guard.clear_ready();
        }
    }
}
