//! The I/O layer: an `AF_PACKET` socket bound to one interface that sends announcements.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use pnet_base::MacAddr;
use socket2::{Socket, Type};
use vrrp_packet::{AddressFamily, virtual_mac};

use crate::frame::{Announcement, ArpForm, NA_FRAME_LEN};
use crate::packet_socket;

/// Which source MAC the announcements carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceMac {
    /// The interface's own address.
    #[default]
    Interface,
    /// The VRRP virtual MAC of a virtual router (RFC 5798 § 7.3). A VRRP instance is of one
    /// family, so announcing an address of the other family is [`Error::WrongFamily`].
    Vrrp(VirtualMac),
    /// Any other address.
    Fixed(MacAddr),
}

/// A VRRP virtual MAC: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtualMac {
    /// An IPv4 virtual router.
    V4(u8),
    /// An IPv6 virtual router.
    V6(u8),
}

impl VirtualMac {
    /// The virtual router's MAC.
    pub fn mac(self) -> MacAddr {
        let [a, b, c, d, e, f] = match self {
            Self::V4(vrid) => virtual_mac(AddressFamily::Ipv4, vrid),
            Self::V6(vrid) => virtual_mac(AddressFamily::Ipv6, vrid),
        };
        MacAddr(a, b, c, d, e, f)
    }

    fn is_ipv4(self) -> bool {
        matches!(self, Self::V4(_))
    }
}

/// Why an announcement could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No interface of that name in this network namespace.
    #[error("no interface named {0:?}")]
    NoSuchInterface(String),
    /// The interface exists but is administratively down (or went down).
    #[error("interface {0} is down")]
    InterfaceDown(String),
    /// The interface is not Ethernet (loopback, tunnel...): it has no MAC to announce.
    #[error("interface {name} is not Ethernet (ARPHRD {hardware_type}), cannot announce on it")]
    NotEthernet {
        /// The interface.
        name: String,
        /// Its `ARPHRD_*` type.
        hardware_type: u16,
    },
    /// Opening a packet socket needs `CAP_NET_RAW`.
    #[error("permission denied opening a packet socket on {0} (needs CAP_NET_RAW)")]
    Permission(String),
    /// The address does not belong to the source MAC's family (an IPv6 address with an IPv4
    /// VRRP virtual MAC, or the other way round).
    #[error("{addr} is not an {expected} address, but the source MAC is the {expected} VRRP MAC")]
    WrongFamily {
        /// The address given.
        addr: IpAddr,
        /// "IPv4" or "IPv6".
        expected: &'static str,
    },
    /// Multicast, broadcast, loopback or unspecified addresses are not announced.
    #[error("{0} is not a unicast address that can be announced")]
    NotUnicast(IpAddr),
    /// Any other socket error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// Sends gratuitous ARPs and unsolicited NAs on one interface.
///
/// Open it in the network namespace of the interface (the socket stays there). The socket is
/// send-only (protocol 0), so it never queues received traffic.
#[derive(Debug)]
pub struct Sender {
    socket: Socket,
    ifname: String,
    ifindex: i32,
    interface_mac: MacAddr,
    source: SourceMac,
    arp_form: ArpForm,
    router: bool,
}

impl Sender {
    /// Opens a sender on `ifname`, checking that the interface exists, is Ethernet and is up.
    pub fn open(ifname: &str, source: SourceMac) -> Result<Self, Error> {
        if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ || ifname.contains('\0') {
            return Err(Error::NoSuchInterface(ifname.to_string()));
        }
        let socket = packet_socket::open(Type::RAW, 0).map_err(|e| {
            if matches!(e.raw_os_error(), Some(libc::EPERM | libc::EACCES)) {
                Error::Permission(ifname.to_string())
            } else {
                io_error(format!("open a packet socket for {ifname}"), e)
            }
        })?;
        let mut sender = Self {
            socket,
            ifname: ifname.to_string(),
            ifindex: 0,
            interface_mac: MacAddr::zero(),
            source,
            arp_form: ArpForm::default(),
            router: false,
        };
        let mut req = sender.ifreq();
        sender.ioctl(libc::SIOCGIFINDEX, &mut req)?;
        // SAFETY: SIOCGIFINDEX filled the ifindex member of the union.
        sender.ifindex = unsafe { req.ifr_ifru.ifru_ifindex };
        let mut req = sender.ifreq();
        sender.ioctl(libc::SIOCGIFHWADDR, &mut req)?;
        // SAFETY: SIOCGIFHWADDR filled the hwaddr member of the union.
        let hw = unsafe { req.ifr_ifru.ifru_hwaddr };
        if hw.sa_family != libc::ARPHRD_ETHER {
            return Err(Error::NotEthernet {
                name: ifname.to_string(),
                hardware_type: hw.sa_family,
            });
        }
        let d = hw.sa_data.map(|b| b as u8);
        sender.interface_mac = MacAddr(d[0], d[1], d[2], d[3], d[4], d[5]);
        sender.check_up()?;
        tracing::debug!(ifname, ifindex = sender.ifindex, mac = %sender.interface_mac, "garp sender open");
        Ok(sender)
    }

    /// Sets the ARP form (request by default, as keepalived).
    pub fn set_arp_form(&mut self, form: ArpForm) {
        self.arp_form = form;
    }

    /// Sets the router flag on neighbour advertisements (clear by default).
    pub fn set_router(&mut self, router: bool) {
        self.router = router;
    }

    /// The interface's own MAC.
    pub fn interface_mac(&self) -> MacAddr {
        self.interface_mac
    }

    /// The interface name.
    pub fn ifname(&self) -> &str {
        &self.ifname
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex as u32
    }

    /// The MAC an announcement for `addr` would carry, or why `addr` cannot be announced.
    pub fn source_mac(&self, addr: IpAddr) -> Result<MacAddr, Error> {
        if addr.is_multicast() || addr.is_unspecified() || addr.is_loopback() {
            return Err(Error::NotUnicast(addr));
        }
        if let IpAddr::V4(v4) = addr
            && v4.is_broadcast()
        {
            return Err(Error::NotUnicast(addr));
        }
        match self.source {
            SourceMac::Interface => Ok(self.interface_mac),
            SourceMac::Fixed(mac) => Ok(mac),
            SourceMac::Vrrp(vmac) if vmac.is_ipv4() == addr.is_ipv4() => Ok(vmac.mac()),
            SourceMac::Vrrp(vmac) => Err(Error::WrongFamily {
                addr,
                expected: if vmac.is_ipv4() { "IPv4" } else { "IPv6" },
            }),
        }
    }

    /// The announcement this sender would send for `addr`.
    pub fn announcement(&self, addr: IpAddr) -> Result<Announcement, Error> {
        let mac = self.source_mac(addr)?;
        Ok(Announcement::for_addr(
            addr,
            mac,
            self.arp_form,
            self.router,
        ))
    }

    /// Sends one gratuitous ARP (IPv4) or unsolicited NA (IPv6) for `addr`.
    pub fn announce(&self, addr: IpAddr) -> Result<(), Error> {
        let announcement = self.announcement(addr)?;
        self.send(&announcement)
    }

    /// Sends one announcement for each address, `gap` apart (zero: back to back). Every address
    /// is checked before the first frame goes out, so bad input sends nothing.
    ///
    /// This blocks the calling thread for the gaps; inside an async runtime, drive a
    /// [`Sender::burst`] with the runtime's timer instead.
    pub fn announce_all(&self, addrs: &[IpAddr], gap: Duration) -> Result<(), Error> {
        let mut burst = self.burst(addrs, gap)?;
        loop {
            let now = Instant::now();
            match burst.poll(now) {
                BurstStep::Send(announcement) => self.send(announcement)?,
                BurstStep::Wait(until) => std::thread::sleep(until.saturating_duration_since(now)),
                BurstStep::Done => return Ok(()),
            }
        }
    }

    /// The announcements for `addrs`, paced `gap` apart by the caller's clock: the sans-IO form
    /// of [`Sender::announce_all`], for async code or an event loop. Every address is checked
    /// here, so bad input sends nothing.
    ///
    /// ```no_run
    /// # async fn run(sender: &garp::Sender, addrs: &[std::net::IpAddr]) -> Result<(), garp::Error> {
    /// use std::time::{Duration, Instant};
    /// use garp::BurstStep;
    ///
    /// let mut burst = sender.burst(addrs, Duration::from_millis(10))?;
    /// loop {
    ///     match burst.poll(Instant::now()) {
    ///         BurstStep::Send(announcement) => sender.send(announcement)?,
    ///         BurstStep::Wait(until) => { /* tokio::time::sleep_until(until.into()).await */ }
    ///         BurstStep::Done => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn burst(&self, addrs: &[IpAddr], gap: Duration) -> Result<Burst, Error> {
        let announcements = addrs
            .iter()
            .map(|&addr| self.announcement(addr))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Burst {
            announcements,
            next: 0,
            gap,
            due: None,
        })
    }

    /// Sends a prepared announcement.
    pub fn send(&self, announcement: &Announcement) -> Result<(), Error> {
        let mut buf = [0u8; NA_FRAME_LEN];
        let len = announcement
            .emit(&mut buf)
            .expect("the buffer fits the longest announcement");
        let mut destination = [0u8; 6];
        destination.copy_from_slice(&buf[..6]);
        let to = packet_socket::link_addr(
            self.ifindex as u32,
            announcement.ethertype(),
            Some(destination),
        );
        let sent = self.socket.send_to(&buf[..len], &to);
        if let Err(e) = sent {
            return Err(match e.raw_os_error() {
                Some(libc::ENETDOWN) => Error::InterfaceDown(self.ifname.clone()),
                Some(libc::ENODEV | libc::ENXIO) => Error::NoSuchInterface(self.ifname.clone()),
                Some(libc::EPERM | libc::EACCES) => Error::Permission(self.ifname.clone()),
                _ => io_error(format!("send on {}", self.ifname), e),
            });
        }
        Ok(())
    }

    /// Checks that the interface is still there and up.
    pub fn check_up(&self) -> Result<(), Error> {
        let mut req = self.ifreq();
        self.ioctl(libc::SIOCGIFFLAGS, &mut req)?;
        // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
        let flags = i32::from(unsafe { req.ifr_ifru.ifru_flags });
        if flags & libc::IFF_UP == 0 {
            return Err(Error::InterfaceDown(self.ifname.clone()));
        }
        Ok(())
    }

    fn ifreq(&self) -> libc::ifreq {
        // SAFETY: all-zero is a valid ifreq.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in req.ifr_name.iter_mut().zip(self.ifname.bytes()) {
            *dst = src as libc::c_char;
        }
        req
    }

    fn ioctl(&self, request: libc::Ioctl, req: &mut libc::ifreq) -> Result<(), Error> {
        // SAFETY: `req` is a valid ifreq with a NUL-terminated name; the kernel writes within it.
        let rc = unsafe { libc::ioctl(self.socket.as_raw_fd(), request, &raw mut *req) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        Err(match e.raw_os_error() {
            Some(libc::ENODEV) => Error::NoSuchInterface(self.ifname.clone()),
            _ => io_error(format!("ioctl {request:#x} on {}", self.ifname), e),
        })
    }
}

/// Announcements to send `gap` apart, driven by the caller's clock ([`Sender::burst`]).
#[derive(Debug, Clone)]
pub struct Burst {
    announcements: Vec<Announcement>,
    next: usize,
    gap: Duration,
    due: Option<Instant>,
}

/// What a [`Burst`] wants at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BurstStep<'a> {
    /// Send this announcement now ([`Sender::send`]).
    Send(&'a Announcement),
    /// Nothing before this instant; poll again then.
    Wait(Instant),
    /// Every announcement has been handed out.
    Done,
}

impl Burst {
    /// The next step at `now`. The first announcement is due at once and each next one `gap`
    /// after the one before was handed out.
    pub fn poll(&mut self, now: Instant) -> BurstStep<'_> {
        let Some(announcement) = self.announcements.get(self.next) else {
            return BurstStep::Done;
        };
        if let Some(due) = self.due.filter(|&due| now < due) {
            return BurstStep::Wait(due);
        }
        self.next += 1;
        self.due = (!self.gap.is_zero()).then(|| now + self.gap);
        BurstStep::Send(announcement)
    }

    /// How many announcements are still to be handed out.
    pub fn remaining(&self) -> usize {
        self.announcements.len() - self.next
    }
}

fn io_error(context: String, source: io::Error) -> Error {
    Error::Io { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_hands_out_announcements_gap_apart_on_the_callers_clock() {
        let announcement = |last| {
            Announcement::for_addr(
                IpAddr::from([192, 0, 2, last]),
                MacAddr(2, 0, 0, 0, 0, 1),
                ArpForm::default(),
                false,
            )
        };
        let gap = Duration::from_millis(10);
        let mut burst = Burst {
            announcements: vec![announcement(1), announcement(2), announcement(3)],
            next: 0,
            gap,
            due: None,
        };
        let t0 = Instant::now();
        assert_eq!(burst.poll(t0), BurstStep::Send(&announcement(1)));
        assert_eq!(burst.poll(t0), BurstStep::Wait(t0 + gap));
        assert_eq!(burst.poll(t0 + gap / 2), BurstStep::Wait(t0 + gap));
        // Late is fine: the next gap counts from when the frame was handed out.
        let late = t0 + gap * 3;
        assert_eq!(burst.poll(late), BurstStep::Send(&announcement(2)));
        assert_eq!(burst.remaining(), 1);
        assert_eq!(burst.poll(late + gap), BurstStep::Send(&announcement(3)));
        assert_eq!(burst.poll(late + gap), BurstStep::Done);

        // No gap: back to back.
        burst.next = 0;
        burst.due = None;
        burst.gap = Duration::ZERO;
        for last in 1..=3 {
            assert_eq!(burst.poll(t0), BurstStep::Send(&announcement(last)));
        }
        assert_eq!(burst.poll(t0), BurstStep::Done);
    }

    #[test]
    fn virtual_macs() {
        assert_eq!(VirtualMac::V4(51).mac().to_string(), "00:00:5e:00:01:33");
        assert_eq!(VirtualMac::V6(9).mac().to_string(), "00:00:5e:00:02:09");
    }
}
