//! Frame capture on an interface inside a namespace, with kernel timestamps.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use garp::packet_socket;

use crate::netns::{check_ifname, run_checked};
use crate::{Error, Netns};

/// How the kernel classified a captured frame (`sll_pkttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketType {
    /// Addressed to this host's MAC.
    Host,
    /// Sent to the broadcast address.
    Broadcast,
    /// Sent to a multicast address.
    Multicast,
    /// Addressed to another host (seen in promiscuous mode).
    OtherHost,
    /// Sent by this host (the capture sees its own transmissions too).
    Outgoing,
    /// Any other value.
    Unknown(u8),
}

impl From<u8> for PacketType {
    fn from(raw: u8) -> Self {
        match raw {
            libc::PACKET_HOST => Self::Host,
            libc::PACKET_BROADCAST => Self::Broadcast,
            libc::PACKET_MULTICAST => Self::Multicast,
            libc::PACKET_OTHERHOST => Self::OtherHost,
            libc::PACKET_OUTGOING => Self::Outgoing,
            other => Self::Unknown(other),
        }
    }
}

/// One captured Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// When the kernel received it (wall clock, nanosecond resolution).
    pub timestamp: SystemTime,
    /// Incoming (host, broadcast, multicast...) or outgoing.
    pub packet_type: PacketType,
    /// The whole frame, from the destination MAC on.
    pub data: Vec<u8>,
}

impl Frame {
    /// The EtherType (bytes 12..14), or 0 for a runt frame.
    pub fn ethertype(&self) -> u16 {
        match self.data.get(12..14) {
            Some(b) => u16::from_be_bytes([b[0], b[1]]),
            None => 0,
        }
    }
}

/// A running capture of every frame on one interface of a namespace (an `AF_PACKET` socket with
/// `ETH_P_ALL`, opened inside the namespace and read on a background thread). The socket is
/// bound before [`start`](Self::start) returns, so nothing sent afterwards is missed.
///
/// Timestamps come from the kernel (`SO_TIMESTAMPNS`): outgoing frames are stamped as they are
/// handed to the driver, incoming ones when the stack receives them (a frame the kernel left
/// unstamped is stamped when the capture reads it). The kernel turns timestamping on through a
/// deferred work item when the first capture starts, so for timing, keep one capture open
/// across rounds ([`take`](Self::take)) and start it a few milliseconds before the first.
#[derive(Debug)]
pub struct Capture {
    frames: Arc<Mutex<Vec<Frame>>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<io::Result<()>>>,
}

impl Capture {
    /// Starts capturing on `ifname` in `netns`. The socket gets an 8 MiB receive buffer so that
    /// a burst of thousands of frames is not dropped.
    pub fn start(netns: &Netns, ifname: &str) -> Result<Self, Error> {
        check_ifname(ifname)?;
        let name = ifname.to_string();
        let context = format!("capture on {ifname} in {}", netns.name());
        let fd = netns
            .run(move || open_socket(&name))?
            .map_err(|e| Error::io(context.clone(), e))?;
        let frames = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let frames = Arc::clone(&frames);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name(format!("capture {ifname}"))
                .spawn(move || read_loop(&fd, &frames, &stop))
                .map_err(|e| Error::io(context, e))?
        };
        Ok(Self {
            frames,
            stop,
            reader: Some(reader),
        })
    }

    /// A copy of what has been captured so far.
    pub fn frames(&self) -> Vec<Frame> {
        self.frames.lock().expect("capture lock").clone()
    }

    /// Takes the frames captured so far, leaving the capture running and empty: for measuring
    /// round after round on one long-lived capture.
    pub fn take(&self) -> Vec<Frame> {
        std::mem::take(&mut *self.frames.lock().expect("capture lock"))
    }

    /// Waits until `done` holds for the frames captured so far, or `timeout` passes; returns
    /// the frames either way (the caller's assertion then says what was missing).
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let frames = self.frames.lock().expect("capture lock");
                if done(&frames) || Instant::now() >= deadline {
                    return frames.clone();
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the capture after reading what is already queued, and returns every frame.
    /// Panics if the reader thread failed (a test wants to know).
    pub fn stop(mut self) -> Vec<Frame> {
        self.finish().expect("capture reader failed");
        std::mem::take(&mut *self.frames.lock().expect("capture lock"))
    }

    fn finish(&mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.reader.take() {
            Some(reader) => reader.join().expect("capture reader does not panic"),
            None => Ok(()),
        }
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

fn open_socket(ifname: &str) -> io::Result<OwnedFd> {
    let ifindex = packet_socket::ifindex(ifname)?;
    let fd = OwnedFd::from(packet_socket::open(
        socket2::Type::RAW,
        packet_socket::ETH_P_ALL,
    )?);
    let buffer: libc::c_int = 8 << 20;
    let on: libc::c_int = 1;
    let timeout = libc::timeval {
        tv_sec: 0,
        tv_usec: 20_000,
    };
    setsockopt(&fd, libc::SO_RCVBUFFORCE, &buffer)?;
    setsockopt(&fd, libc::SO_TIMESTAMPNS, &on)?;
    setsockopt(&fd, libc::SO_RCVTIMEO, &timeout)?;
    let socket = socket2::Socket::from(fd);
    socket.bind(&packet_socket::link_addr(
        ifindex,
        packet_socket::ETH_P_ALL,
        None,
    ))?;
    Ok(OwnedFd::from(socket))
}

fn setsockopt<T>(fd: &OwnedFd, option: libc::c_int, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live T and the length is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn read_loop(fd: &OwnedFd, frames: &Mutex<Vec<Frame>>, stop: &AtomicBool) -> io::Result<()> {
    let mut buf = vec![0u8; 65536];
    // Room for one SCM_TIMESTAMPNS control message (and some slack).
    let mut control = [0u64; 16];
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let flags = if stopping { libc::MSG_DONTWAIT } else { 0 };
        // SAFETY: zeroed sockaddr_ll and msghdr are valid; the pointers set below outlive the call.
        let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: as above.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_name = (&raw mut from).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control);
        // SAFETY: `msg` points to live buffers of the lengths it states.
        let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, flags) };
        if n < 0 {
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut if stopping => return Ok(()),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => continue,
                io::ErrorKind::Interrupted => continue,
                _ => return Err(err),
            }
        }
        let timestamp = kernel_timestamp(&msg).unwrap_or_else(SystemTime::now);
        frames.lock().expect("capture lock").push(Frame {
            timestamp,
            packet_type: PacketType::from(from.sll_pkttype),
            data: buf[..n as usize].to_vec(),
        });
    }
}

/// The `SCM_TIMESTAMPNS` control message of a received frame: the kernel's time stamp.
fn kernel_timestamp(msg: &libc::msghdr) -> Option<SystemTime> {
    // SAFETY: `msg` was filled by recvmsg; the CMSG macros stay within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(
                    SystemTime::UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                );
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// Writes frames as a classic pcap file (nanosecond timestamps, Ethernet link type), the format
/// tshark and our own readers take.
pub fn write_pcap(path: impl AsRef<Path>, frames: &[Frame]) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    // Magic for nanosecond pcap, version 2.4, zone 0, sigfigs 0, snaplen 65535, LINKTYPE_ETHERNET.
    out.write_all(&0xa1b2_3c4d_u32.to_le_bytes())?;
    out.write_all(&2u16.to_le_bytes())?;
    out.write_all(&4u16.to_le_bytes())?;
    out.write_all(&[0; 8])?;
    out.write_all(&65535u32.to_le_bytes())?;
    out.write_all(&1u32.to_le_bytes())?;
    for frame in frames {
        let since = frame
            .timestamp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let len = u32::try_from(frame.data.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        out.write_all(&(since.as_secs() as u32).to_le_bytes())?;
        out.write_all(&since.subsec_nanos().to_le_bytes())?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&frame.data)?;
    }
    out.flush()
}

/// Decodes a pcap file with tshark: one row per frame matching the display `filter`, one column
/// per field (`-T fields -e FIELD...`). Fails if tshark is missing or rejects the filter.
pub fn tshark_fields(
    pcap: impl AsRef<Path>,
    filter: &str,
    fields: &[&str],
) -> Result<Vec<Vec<String>>, Error> {
    let mut command = Command::new("tshark");
    command
        .arg("-r")
        .arg(pcap.as_ref())
        .args(["-Y", filter, "-T", "fields", "-E", "separator=\t"])
        .env("HOME", std::env::temp_dir());
    for field in fields {
        command.args(["-e", field]);
    }
    let out = run_checked(&mut command)?;
    Ok(out
        .lines()
        .map(|line| line.split('\t').map(str::to_string).collect())
        .collect())
}
