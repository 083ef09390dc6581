//! Where the time of a full-table dump goes (ignored; run by hand in the VM):
//!
//! ```text
//! cargo xtask vm --release vm_dump_probe -- --ignored --nocapture
//! ```
//!
//! Loads 10,000 services × 4 destinations, then times one destination dump per service in
//! several ways: raw system calls only (the kernel's share, for several receive-buffer sizes),
//! and through [`Ipvs::destinations`] (decode and conversion included). Prints `probe:` lines.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ipvs::packet::{IpvsAttr, IpvsCmd, IpvsMessage, ServiceAttr};
use ipvs::{Destination, ForwardMethod, Ipvs, OnError, Op, Service, ServiceKey};
use netlink_packet_core::{Emitable, NLM_F_DUMP, NLM_F_REQUEST};

fn address(n: usize) -> Ipv4Addr {
    let n = n % 762;
    let (net, host) = (n / 254, 1 + n % 254);
    match net {
        0 => Ipv4Addr::new(192, 0, 2, host as u8),
        1 => Ipv4Addr::new(198, 51, 100, host as u8),
        _ => Ipv4Addr::new(203, 0, 113, host as u8),
    }
}

const PORTS: [u16; 14] = [
    80, 443, 22, 25, 110, 143, 587, 993, 995, 3306, 5432, 6379, 8080, 8443,
];

fn load(ipvs: &mut Ipvs) -> Vec<ServiceKey> {
    let mut ops = vec![Op::Flush];
    let mut keys = Vec::new();
    for i in 0..10_000 {
        let port = PORTS[i / 762];
        let svc =
            Service::tcp(SocketAddr::V4(SocketAddrV4::new(address(i), port))).scheduler("wlc");
        keys.push(svc.key);
        ops.push(Op::NewService(svc.clone()));
        for d in 0..4 {
            let dest = Destination::new(SocketAddr::V4(SocketAddrV4::new(
                address(i + 191 * (d + 1)),
                port + 8000,
            )))
            .forward(ForwardMethod::Masquerade)
            .weight(1 + d as i32);
            ops.push(Op::NewDest(svc.key, dest));
        }
    }
    let report = ipvs.batch(&ops, OnError::Stop).unwrap();
    report.into_result().unwrap();
    keys
}

/// A generic-netlink socket, bound, with a receive buffer of `rcvbuf` bytes.
fn socket() -> OwnedFd {
    // SAFETY: plain socket(2) call.
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
    // SAFETY: int option.
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

fn request(family: u16, key: &ServiceKey, seq: u32) -> Vec<u8> {
    let attrs = match key {
        ServiceKey::Addr { addr, .. } => vec![
            ServiceAttr::AddressFamily(libc::AF_INET as u16),
            ServiceAttr::Protocol(libc::IPPROTO_TCP as u16),
            ServiceAttr::Address(addr.ip().into()),
            ServiceAttr::Port(addr.port()),
        ],
        ServiceKey::Fwmark { .. } => unreachable!(),
    };
    let msg = IpvsMessage {
        cmd: IpvsCmd::GetDest,
        attrs: vec![IpvsAttr::Service(attrs)],
    };
    let len = 16 + 4 + msg.buffer_len();
    let mut buf = vec![0u8; len];
    buf[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    buf[4..6].copy_from_slice(&family.to_ne_bytes());
    buf[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    buf[8..12].copy_from_slice(&seq.to_ne_bytes());
    buf[16] = u8::from(IpvsCmd::GetDest);
    buf[17] = 1;
    msg.emit(&mut buf[20..]);
    buf
}

/// True when the datagram ends with NLMSG_DONE.
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

/// One dump per service with plain recv(2) into a buffer of `buf_len` bytes.
fn raw_recv(family: u16, keys: &[ServiceKey], buf_len: usize) -> (Duration, u64) {
    let fd = socket();
    let mut buf = vec![0u8; buf_len];
    let mut calls = 0;
    let started = Instant::now();
    for (i, key) in keys.iter().enumerate() {
        let req = request(family, key, i as u32 + 1);
        // SAFETY: valid buffer.
        let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
        assert_eq!(n as usize, req.len());
        loop {
            // SAFETY: valid buffer.
            let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            assert!(n > 0);
            calls += 1;
            if has_done(&buf[..n as usize]) {
                break;
            }
        }
    }
    (started.elapsed(), calls)
}

/// One dump per service, each answered with recvmmsg (MSG_WAITFORONE) of `slots` × `slot`.
fn raw_mmsg(family: u16, keys: &[ServiceKey], slots: usize, slot: usize) -> (Duration, u64) {
    let fd = socket();
    let mut buf = vec![0u8; slots * slot];
    let mut calls = 0;
    let started = Instant::now();
    for (i, key) in keys.iter().enumerate() {
        let req = request(family, key, i as u32 + 1);
        // SAFETY: valid buffer.
        let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
        assert_eq!(n as usize, req.len());
        'dump: loop {
            let base = buf.as_mut_ptr();
            let mut iov: Vec<libc::iovec> = (0..slots)
                .map(|s| libc::iovec {
                    // SAFETY: inside buf.
                    iov_base: unsafe { base.add(s * slot) }.cast(),
                    iov_len: slot,
                })
                .collect();
            let mut hdrs: Vec<libc::mmsghdr> = iov
                .iter_mut()
                .map(|v| {
                    // SAFETY: zeroed header is valid.
                    let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                    h.msg_hdr.msg_iov = v;
                    h.msg_hdr.msg_iovlen = 1;
                    h
                })
                .collect();
            // SAFETY: headers describe valid buffers.
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
                if has_done(&buf[s * slot..s * slot + h.msg_len as usize]) {
                    break 'dump;
                }
            }
        }
    }
    (started.elapsed(), calls)
}

/// The service dump with plain recv(2) into a buffer of `buf_len` bytes.
fn raw_services(family: u16, buf_len: usize) -> (Duration, u64) {
    let fd = socket();
    let mut buf = vec![0u8; buf_len];
    let mut calls = 0;
    let started = Instant::now();
    let msg = IpvsMessage::new(IpvsCmd::GetService);
    let len = 20 + msg.buffer_len();
    let mut req = vec![0u8; len];
    req[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&family.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    req[16] = u8::from(IpvsCmd::GetService);
    req[17] = 1;
    msg.emit(&mut req[20..]);
    // SAFETY: valid buffer.
    let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
    assert_eq!(n as usize, req.len());
    loop {
        // SAFETY: valid buffer.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        assert!(n > 0);
        calls += 1;
        if has_done(&buf[..n as usize]) {
            break;
        }
    }
    (started.elapsed(), calls)
}

#[test]
#[ignore = "a probe, run by hand in the VM"]
fn where_the_dump_time_goes() {
    let mut ipvs = Ipvs::new().unwrap();
    let keys = load(&mut ipvs);
    let family = ipvs.family_id();
    for round in 0..2 {
        for (name, len) in [("32K", 32 * 1024), ("4K", 4096), ("3776", 3776)] {
            let (t, calls) = raw_recv(family, &keys, len);
            println!(
                "probe: round {round} raw recv {name:<6}          {:>6.2} s  {calls} recv",
                t.as_secs_f64()
            );
        }
        for (name, slots, len) in [
            ("32x32K", 32, 32 * 1024),
            ("4x4K", 4, 4096),
            ("2x4K", 2, 4096),
        ] {
            let (t, calls) = raw_mmsg(family, &keys, slots, len);
            println!(
                "probe: round {round} raw recvmmsg {name:<6}      {:>6.2} s  {calls} calls",
                t.as_secs_f64()
            );
        }
        for (name, len) in [("32K", 32 * 1024), ("4K", 4096)] {
            let (t, calls) = raw_services(family, len);
            println!(
                "probe: round {round} raw services {name:<6}      {:>6.2} s  {calls} recv",
                t.as_secs_f64()
            );
        }
        let started = Instant::now();
        let services = ipvs.services().unwrap();
        println!(
            "probe: round {round} Ipvs::services          {:>6.2} s  {}",
            started.elapsed().as_secs_f64(),
            services.len()
        );
        let started = Instant::now();
        let mut n = 0;
        for key in &keys {
            n += ipvs.destinations(key).unwrap().len();
        }
        println!(
            "probe: round {round} Ipvs::destinations      {:>6.2} s  {n}",
            started.elapsed().as_secs_f64()
        );
    }
}
