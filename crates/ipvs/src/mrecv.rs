//! Receiving many datagrams in one system call (`recvmmsg`), for the blocking client.
//!
//! After a batch, the ACKs wait in the socket one datagram each; during a dump, the kernel
//! queues the next part while the previous one is being read. `recvmmsg` with
//! `MSG_WAITFORONE` blocks for the first datagram and then takes whatever else is already
//! queued, so a window of ACKs, or a destination dump and its `NLMSG_DONE`, costs one call.

use std::io;
use std::os::fd::RawFd;

/// Room for one datagram: the kernel caps dump datagrams at 32 KiB.
pub(crate) const SLOT: usize = 32 * 1024;
/// Datagrams taken per call at most.
pub(crate) const SLOTS: usize = 32;

/// Receive buffers for [`SLOTS`] datagrams.
#[derive(Debug)]
pub(crate) struct MultiRecv {
    buf: Vec<u8>,
    lens: Vec<usize>,
}

impl MultiRecv {
    pub(crate) fn new() -> Self {
        Self {
            buf: vec![0; SLOT * SLOTS],
            lens: Vec::with_capacity(SLOTS),
        }
    }

    /// Waits for at least one datagram and takes up to [`SLOTS`] that are queued.
    pub(crate) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let base = self.buf.as_mut_ptr();
        let mut iovecs: Vec<libc::iovec> = (0..SLOTS)
            // SAFETY: every slot lies inside `buf`, which outlives the call.
            .map(|i| libc::iovec {
                iov_base: unsafe { base.add(i * SLOT) }.cast(),
                iov_len: SLOT,
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .map(|iov| {
                // SAFETY: an all-zero mmsghdr is a valid empty header.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        let n = loop {
            // SAFETY: `headers` describes SLOTS valid buffers; no timeout.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.as_mut_ptr(),
                    SLOTS as libc::c_uint,
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
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a netlink datagram was longer than {SLOT} bytes"),
                ));
            }
            self.lens.push(h.msg_len as usize);
        }
        Ok(n)
    }

    /// The `i`th datagram of the last call.
    pub(crate) fn datagram(&self, i: usize) -> &[u8] {
        &self.buf[i * SLOT..i * SLOT + self.lens[i]]
    }
}
