//! The kernel's share of a full-table dump (ignored; `cargo xtask bench ipvs` runs it after the
//! ipvsadm/ipvsctl comparison, or by hand: `cargo xtask vm --release vm_dump_probe -- --ignored
//! --nocapture`).
//!
//! Loads 10,000 services × 4 destinations, then dumps them with bare system calls, no decoding:
//! one `GET_SERVICE` dump, and one `GET_DEST` dump per service, each a `send` and a `recvmmsg`
//! (the fewest calls a client can make), the destination dumps once with 32 KiB receive slots
//! and once with page-sized ones. That is the floor under `ipvsctl -Sn`; then the same through [`Ipvs`], decoding
//! included. Prints `bench:` lines.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ipvs::packet::{IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr};
use ipvs::{Destination, ForwardMethod, Ipvs, OnError, Op, Service, ServiceKey};
use netlink_packet_core::{Emitable, NLM_F_DUMP, NLM_F_REQUEST};

/// The benchmark's table: service `i` on host `i mod 762` of the three documentation networks,
/// port `i div 762` of a list; its destinations 191, 382, 573 and 764 hosts further on.
fn table() -> (Vec<Op>, Vec<ServiceKey>) {
    const PORTS: [u16; 14] = [
        80, 443, 22, 25, 110, 143, 587, 993, 995, 3306, 5432, 6379, 8080, 8443,
    ];
    let host = |n: usize| {
        let n = n % 762;
        let net = [[192, 0, 2], [198, 51, 100], [203, 0, 113]][n / 254];
        [net[0], net[1], net[2], (1 + n % 254) as u8]
    };
    let mut ops = vec![Op::Flush];
    let mut keys = Vec::new();
    for i in 0..10_000 {
        let port = PORTS[i / 762];
        let svc = Service::tcp((host(i), port).into()).scheduler("wlc");
        keys.push(svc.key);
        ops.push(Op::NewService(svc.clone()));
        for d in 0..4 {
            let dest = Destination::new((host(i + 191 * (d + 1)), port + 8000).into())
                .forward(ForwardMethod::Masquerade)
                .weight(1 + d as i32);
            ops.push(Op::NewDest(svc.key, dest));
        }
    }
    (ops, keys)
}

/// A bound generic-netlink socket with a 4 MiB receive buffer.
fn socket() -> OwnedFd {
    // SAFETY: plain socket(2).
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_GENERIC,
        )
    };
    assert!(fd >= 0);
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let size: libc::c_int = 4 << 20;
    // SAFETY: an int option and its size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&raw const size).cast(),
            4,
        )
    };
    fd
}

/// A dump request of `msg` for the family.
fn request(family: u16, msg: &IpvsMessage, seq: u32) -> Vec<u8> {
    let len = 16 + 4 + msg.buffer_len();
    let mut buf = vec![0u8; len];
    buf[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    buf[4..6].copy_from_slice(&family.to_ne_bytes());
    buf[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    buf[8..12].copy_from_slice(&seq.to_ne_bytes());
    buf[16] = u8::from(msg.cmd);
    buf[17] = 1;
    msg.emit(&mut buf[20..]);
    buf
}

fn dest_request(family: u16, key: &ServiceKey, seq: u32) -> Vec<u8> {
    let ServiceKey::Addr { addr, .. } = key else {
        unreachable!("the table has address services only")
    };
    let msg = IpvsMessage {
        cmd: IpvsCmd::GetDest,
        attrs: vec![IpvsAttr::Service(vec![
            ServiceAttr::AddressFamily(libc::AF_INET as u16),
            ServiceAttr::Protocol(libc::IPPROTO_TCP as u16),
            ServiceAttr::Address(addr.ip().into()),
            ServiceAttr::Port(addr.port()),
        ])],
    };
    request(family, &msg, seq)
}

/// True when the datagram holds the end of the dump.
fn has_done(buf: &[u8]) -> bool {
    let mut off = 0;
    while off + 16 <= buf.len() {
        let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
        let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
        if kind == libc::NLMSG_DONE as u16 || kind == libc::NLMSG_ERROR as u16 {
            return true;
        }
        off += (len + 3) & !3;
    }
    false
}

/// Sends `req` and receives with `recvmmsg` into `slots` slots of `slot` bytes until the end of
/// the dump; returns the number of receive calls.
fn raw_dump(fd: &OwnedFd, req: &[u8], buf: &mut [u8], slots: usize, slot: usize) -> u64 {
    // SAFETY: a valid buffer.
    let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
    assert_eq!(n as usize, req.len());
    let mut calls = 0;
    loop {
        let base = buf.as_mut_ptr();
        // SAFETY: all-zero iovecs and headers are valid.
        let mut iov: [libc::iovec; 32] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; 32] = unsafe { std::mem::zeroed() };
        for (s, (v, h)) in iov.iter_mut().zip(hdrs.iter_mut()).take(slots).enumerate() {
            // SAFETY: inside `buf`.
            v.iov_base = unsafe { base.add(s * slot) }.cast();
            v.iov_len = slot;
            h.msg_hdr.msg_iov = v;
            h.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: the first `slots` headers describe valid buffers.
        let n = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                slots as u32,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        assert!(n > 0);
        calls += 1;
        for (s, h) in hdrs.iter().take(n as usize).enumerate() {
            assert_eq!(h.msg_hdr.msg_flags & libc::MSG_TRUNC, 0);
            if has_done(&buf[s * slot..s * slot + h.msg_len as usize]) {
                return calls;
            }
        }
    }
}

/// The service dump (32 KiB slots: the kernel walks the service table from its start for every
/// datagram, so big ones are best) and every destination dump (`slots` × `slot`) with bare
/// system calls, each on a fresh socket.
fn raw_table(family: u16, keys: &[ServiceKey], slots: usize, slot: usize) -> (Duration, u64) {
    let (services_fd, fd) = (socket(), socket());
    let mut big = vec![0u8; 32 * 32 * 1024];
    let mut buf = vec![0u8; slots * slot];
    let started = Instant::now();
    let mut calls = raw_dump(
        &services_fd,
        &request(family, &IpvsMessage::new(IpvsCmd::GetService), 1),
        &mut big,
        32,
        32 * 1024,
    );
    for (i, key) in keys.iter().enumerate() {
        calls += raw_dump(
            &fd,
            &dest_request(family, key, i as u32 + 2),
            &mut buf,
            slots,
            slot,
        );
    }
    (started.elapsed(), calls)
}

#[test]
#[ignore = "a measurement; `cargo xtask bench ipvs` runs it"]
fn kernel_floor_of_a_full_table_dump() {
    let mut ipvs = Ipvs::new().unwrap();
    let (ops, keys) = table();
    ipvs.batch(&ops, OnError::Stop)
        .unwrap()
        .into_result()
        .unwrap();
    let family = ipvs.family_id();
    let mut best = [Duration::MAX; 3];
    for _ in 0..2 {
        let (big, calls_big) = raw_table(family, &keys, 32, 32 * 1024);
        let (page, calls_page) = raw_table(family, &keys, 4, 4096);
        // At least one receive call per dump; one per destination dump is the aim.
        assert!(
            calls_big > 10_000 && calls_page > 10_000,
            "{calls_big} {calls_page}"
        );
        let started = Instant::now();
        let services = ipvs.services().unwrap();
        let mut dests = 0;
        for service in &services {
            dests += ipvs.destinations(&service.key).unwrap().len();
        }
        let client = started.elapsed();
        assert_eq!((services.len(), dests), (10_000, 40_000));
        for (best, t) in best.iter_mut().zip([big, page, client]) {
            *best = (*best).min(t);
        }
    }
    println!(
        "bench: kernel floor of a full dump (bare send + recvmmsg, no decoding, 10,001 dumps): \
         {:.2} s with 32 KiB slots for the destination dumps, {:.2} s with page slots; \
         Ipvs::services + destinations (decoded): {:.2} s",
        best[0].as_secs_f64(),
        best[1].as_secs_f64(),
        best[2].as_secs_f64()
    );
}
