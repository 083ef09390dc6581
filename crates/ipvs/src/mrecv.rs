//! Receiving many datagrams in one system call (`recvmmsg`), for the blocking client.
//!
//! After a batch, the ACKs wait in the socket one datagram each; during a dump, the kernel
//! queues the next part while the previous one is being read. `recvmmsg` with
//! `MSG_WAITFORONE` blocks for the first datagram and then takes whatever else is already
//! queued, so a window of ACKs, or a destination dump and its `NLMSG_DONE`, costs one call.

use std::io;
use std::os::fd::RawFd;

/// Room for one datagram on the main socket: the kernel caps dump datagrams at 32 KiB.
pub(crate) const SLOT: usize = 32 * 1024;
/// Datagrams taken per call at most on the main socket.
pub(crate) const SLOTS: usize = 32;
/// Datagrams taken per call at most on the small-dump socket (a dump and its `NLMSG_DONE`).
pub(crate) const SMALL_SLOTS: usize = 4;

/// The slot size of the small-dump socket: a page, at most 8 KiB. The kernel never makes a dump
/// datagram larger than the largest buffer the socket was read with or `NLMSG_GOODSIZE`
/// (a page less the skb overhead, at most 8 KiB less it), so a page-sized slot holds any of them
/// on 4 KiB-page machines and keeps the kernel's buffers in its slab caches.
pub(crate) fn small_slot() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).unwrap_or(4096).clamp(4096, 8192)
}

/// The error [`MultiRecv::recv`] returns (inside an `io::Error`) for a datagram longer than a
/// slot.
#[derive(Debug)]
struct Truncated;

impl std::fmt::Display for Truncated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a netlink datagram was longer than the receive slot")
    }
}

impl std::error::Error for Truncated {}

/// Whether `e` is the truncation error of [`MultiRecv::recv`].
pub(crate) fn is_truncated(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Truncated>())
}

/// Receive buffers for up to `slots` datagrams of `slot` bytes each.
#[derive(Debug)]
pub(crate) struct MultiRecv {
    buf: Vec<u8>,
    slot: usize,
    slots: usize,
    lens: Vec<usize>,
}

impl MultiRecv {
    pub(crate) fn new(slots: usize, slot: usize) -> Self {
        Self {
            buf: vec![0; slot * slots],
            slot,
            slots,
            lens: Vec::with_capacity(slots),
        }
    }

    /// Waits for at least one datagram and takes up to `slots` that are queued.
    pub(crate) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        const MAX_SLOTS: usize = SLOTS;
        let slots = self.slots.min(MAX_SLOTS);
        let base = self.buf.as_mut_ptr();
        // SAFETY: all-zero iovecs and mmsghdrs are valid empty values.
        let mut iovecs: [libc::iovec; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut headers: [libc::mmsghdr; MAX_SLOTS] = unsafe { std::mem::zeroed() };
        for (i, (iov, h)) in iovecs
            .iter_mut()
            .zip(headers.iter_mut())
            .take(slots)
            .enumerate()
        {
            // SAFETY: every slot lies inside `buf`, which outlives the call.
            iov.iov_base = unsafe { base.add(i * self.slot) }.cast();
            iov.iov_len = self.slot;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
        }
        let n = loop {
            // SAFETY: the first `slots` headers describe valid buffers; no timeout.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    slots as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        };
        self.lens.clear();
        for h in &headers[..n] {
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, Truncated));
            }
            self.lens.push(h.msg_len as usize);
        }
        Ok(n)
    }

    /// The `i`th datagram of the last call.
    pub(crate) fn datagram(&self, i: usize) -> &[u8] {
        &self.buf[i * self.slot..i * self.slot + self.lens[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_is_told_apart_from_other_invalid_data() {
        assert!(is_truncated(&io::Error::new(
            io::ErrorKind::InvalidData,
            Truncated
        )));
        let same_words = io::Error::new(io::ErrorKind::InvalidData, Truncated.to_string());
        assert!(!is_truncated(&same_words));
        assert!(!is_truncated(&io::Error::from(io::ErrorKind::InvalidData)));
    }
}
