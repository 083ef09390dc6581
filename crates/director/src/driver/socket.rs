//! Raw IPPROTO_VRRP sockets: one per interface and family, shared by every instance there.
//!
//! IPv4: `IP_HDRINCL`, so the codec writes the header (TTL 255, the instance's source address,
//! TOS 0xc0 as keepalived). IPv6: the kernel writes the header; the hop limit is set to 255 for
//! multicast and unicast, the source address is chosen per packet with `IPV6_PKTINFO`, and the
//! receive side asks for the hop limit and destination (`IPV6_RECVHOPLIMIT`,
//! `IPV6_RECVPKTINFO`). Both are bound to their device and do not loop multicast back.

use std::io;
use std::mem::{MaybeUninit, size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::codec::Ipv6Meta;

/// One raw VRRP socket on one interface.
#[derive(Debug)]
pub(crate) struct VrrpSocket {
    /// The interface the socket is bound to.
    pub(crate) ifindex: u32,
    pub(crate) ipv6: bool,
    /// The interface the core is told packets arrived on: a VMAC's socket reports its base.
    pub(crate) feed_as: u32,
    /// Which VRIDs this socket hands to the core.
    pub(crate) vrids: VridFilter,
    fd: AsyncFd<Socket>,
}

/// Which VRIDs a socket hands over. A multicast frame from a VMAC address that one of this
/// host's VMACs also has is delivered to that VMAC only (macvlan takes it for a looped-back
/// frame), so a `use_vmac` instance listens on its VMAC, and the base interface's socket leaves
/// its VRID alone (or it would count twice what reaches both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VridFilter {
    /// Every VRID.
    All,
    /// Only this one (a VMAC's socket).
    Only(u8),
    /// All but these (the base of VMACs).
    Except(Vec<u8>),
}

impl VridFilter {
    /// Whether an IPv4 datagram (header included) passes.
    pub(crate) fn passes_ipv4(&self, datagram: &[u8]) -> bool {
        let vrid = vrrp_packet::ipv4::Packet::new_checked(datagram)
            .ok()
            .and_then(|ip| ip.payload().get(1).copied());
        match (self, vrid) {
            (Self::All, _) => true,
            (Self::Only(want), Some(vrid)) => vrid == *want,
            (Self::Except(skip), Some(vrid)) => !skip.contains(&vrid),
            // Malformed: let the core count it, once (on the base).
            (Self::Only(_), None) => false,
            (_, None) => true,
        }
    }
}

/// What one receive gave.
pub(crate) enum Received {
    /// An IPv4 datagram of this length (header included).
    V4(usize),
    /// An IPv6 payload of this length, with its metadata.
    V6(usize, Ipv6Meta),
}

impl VrrpSocket {
    /// Opens the socket of `family` on `ifname`, joining every multicast group of `groups`.
    pub(crate) fn open(
        ifname: &str,
        ifindex: u32,
        ipv6: bool,
        groups: &[IpAddr],
    ) -> io::Result<Self> {
        let protocol = Some(Protocol::from(i32::from(vrrp_packet::IP_PROTOCOL)));
        let socket = if ipv6 {
            let s = Socket::new(Domain::IPV6, Type::RAW, protocol)?;
            s.bind_device(Some(ifname.as_bytes()))?;
            s.set_multicast_loop_v6(false)?;
            s.set_multicast_hops_v6(255)?;
            s.set_unicast_hops_v6(255)?;
            s.set_multicast_if_v6(ifindex)?;
            setsockopt_int(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVHOPLIMIT, 1)?;
            setsockopt_int(&s, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
            for group in groups {
                if let IpAddr::V6(g) = group
                    && g.is_multicast()
                {
                    s.join_multicast_v6(g, ifindex)?;
                }
            }
            s
        } else {
            let s = Socket::new(Domain::IPV4, Type::RAW, protocol)?;
            s.bind_device(Some(ifname.as_bytes()))?;
            s.set_header_included_v4(true)?;
            s.set_multicast_loop_v4(false)?;
            s.set_multicast_ttl_v4(255)?;
            s.set_multicast_if_v4(&Ipv4Addr::UNSPECIFIED).ok();
            for group in groups {
                if let IpAddr::V4(g) = group
                    && g.is_multicast()
                {
                    s.join_multicast_v4_n(g, &InterfaceIndexOrAddress::Index(ifindex))?;
                }
            }
            s
        };
        socket.set_nonblocking(true)?;
        Ok(Self {
            ifindex,
            ipv6,
            feed_as: ifindex,
            vrids: VridFilter::All,
            // SAFETY: the socket is owned by the AsyncFd and closed only when it is dropped.
            fd: unsafe { AsyncFd::register_with_interest(socket, Interest::READABLE) }?,
        })
    }

    /// The IPv4 socket of a VMAC `ifname` of instance `vrid` on interface `base`: it sends that
    /// instance's adverts from the virtual MAC and receives its VRID, reported as arriving on
    /// `base`.
    pub(crate) fn open_vmac(
        ifname: &str,
        ifindex: u32,
        base: u32,
        vrid: u8,
        groups: &[IpAddr],
    ) -> io::Result<Self> {
        let mut socket = Self::open(ifname, ifindex, false, groups)?;
        socket.feed_as = base;
        socket.vrids = VridFilter::Only(vrid);
        Ok(socket)
    }

    /// Polls for readability (for a select over every socket).
    pub(crate) fn poll_read_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.fd.poll_read_ready(cx) {
            std::task::Poll::Ready(Ok(mut guard)) => {
                guard.clear_ready();
                std::task::Poll::Ready(Ok(()))
            }
            std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Err(e)),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }

    /// Reads one packet if there is one (`Ok(None)`: nothing queued).
    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<Received>> {
        let result = if self.ipv6 {
            recv_v6(self.fd.get_ref().as_raw_fd(), buf).map(|(n, m)| Received::V6(n, m))
        } else {
            // SAFETY: `buf` is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    self.fd.get_ref().as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(Received::V4(n as usize))
            }
        };
        match result {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends `packet` (IPv4: with its header) to `dst`, from `src` (IPv6).
    pub(crate) fn send(&self, packet: &[u8], src: IpAddr, dst: IpAddr) -> io::Result<()> {
        match (src, dst) {
            (_, IpAddr::V4(dst)) => {
                let addr = SocketAddr::V4(SocketAddrV4::new(dst, 0));
                self.fd.get_ref().send_to(packet, &addr.into())?;
                Ok(())
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => send_v6(
                self.fd.get_ref().as_raw_fd(),
                packet,
                src,
                dst,
                self.ifindex,
            ),
            (IpAddr::V4(_), IpAddr::V6(_)) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "IPv4 source for an IPv6 destination",
            )),
        }
    }
}

fn setsockopt_int(s: &Socket, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to an int of the length given.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Room for the ancillary data of one packet: hop limit and packet info.
#[repr(C, align(8))]
struct Control([u8; 128]);

fn recv_v6(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Ipv6Meta)> {
    // SAFETY: zeroed C structs are valid; every pointer given to recvmsg refers to a live buffer
    // of the length given, and cmsgs are walked with the libc macros within msg_controllen.
    unsafe {
        let mut from: libc::sockaddr_in6 = zeroed();
        let mut control = MaybeUninit::<Control>::zeroed();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = (&raw mut from).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = size_of::<Control>();
        let n = libc::recvmsg(fd, &raw mut msg, libc::MSG_DONTWAIT);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut meta = Ipv6Meta {
            src: Ipv6Addr::from(from.sin6_addr.s6_addr),
            dst: Ipv6Addr::UNSPECIFIED,
            hop_limit: 0,
        };
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            if c.cmsg_level == libc::IPPROTO_IPV6 {
                let data = libc::CMSG_DATA(cmsg);
                if c.cmsg_type == libc::IPV6_HOPLIMIT {
                    let hop: i32 = std::ptr::read_unaligned(data.cast());
                    meta.hop_limit = u8::try_from(hop).unwrap_or(0);
                } else if c.cmsg_type == libc::IPV6_PKTINFO {
                    let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                    meta.dst = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                }
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
        Ok((n as usize, meta))
    }
}

fn send_v6(fd: RawFd, packet: &[u8], src: Ipv6Addr, dst: Ipv6Addr, ifindex: u32) -> io::Result<()> {
    // SAFETY: as in `recv_v6`; the one cmsg is written inside the control buffer, whose size
    // CMSG_SPACE of an in6_pktinfo fits.
    unsafe {
        let mut to: libc::sockaddr_in6 = zeroed();
        to.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        to.sin6_addr.s6_addr = dst.octets();
        let link_scoped = dst.is_unicast_link_local() || dst.segments()[0] & 0xff0f == 0xff02;
        if link_scoped {
            to.sin6_scope_id = ifindex;
        }
        let mut control = MaybeUninit::<Control>::zeroed();
        let mut iov = libc::iovec {
            iov_base: packet.as_ptr().cast_mut().cast(),
            iov_len: packet.len(),
        };
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = (&raw mut to).cast();
        msg.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(size_of::<libc::in6_pktinfo>() as u32) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
        (*cmsg).cmsg_type = libc::IPV6_PKTINFO;
        (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<libc::in6_pktinfo>() as u32) as usize;
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: ifindex,
        };
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast(), info);
        let n = libc::sendmsg(fd, &raw const msg, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
