//! Live capture on an AF_PACKET socket.
//!
//! A `SOCK_DGRAM` packet socket hands over the network-layer packet and names its protocol in the
//! sender address (`sockaddr_ll`), so every link type looks the same from here.

use std::mem::{MaybeUninit, size_of};
use std::time::SystemTime;

use anyhow::{Context, bail};
use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};

use crate::Printer;

pub(crate) fn capture(interface: &str, printer: &mut Printer) -> anyhow::Result<()> {
    let name = std::ffi::CString::new(interface).context("interface name")?;
    // SAFETY: `name` is a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        bail!(
            "no interface {interface}: {}",
            std::io::Error::last_os_error()
        );
    }
    let all = (libc::ETH_P_ALL as u16).to_be();
    let socket = Socket::new(
        Domain::PACKET,
        Type::DGRAM,
        Some(Protocol::from(i32::from(all))),
    )
    .context("AF_PACKET socket (needs CAP_NET_RAW)")?;
    // SAFETY: the closure writes a whole `sockaddr_ll` into storage large enough for any address
    // and sets its length.
    let ((), address) = unsafe {
        SockAddr::try_init(|storage: *mut SockAddrStorage, len| {
            let ll = storage.cast::<libc::sockaddr_ll>();
            ll.write(libc::sockaddr_ll {
                sll_family: libc::AF_PACKET as u16,
                sll_protocol: all,
                sll_ifindex: index as i32,
                sll_hatype: 0,
                sll_pkttype: 0,
                sll_halen: 0,
                sll_addr: [0; 8],
            });
            *len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })
    }?;
    socket
        .bind(&address)
        .with_context(|| format!("bind to {interface}"))?;

    let mut buf = vec![MaybeUninit::<u8>::uninit(); 65_536];
    loop {
        let (len, from) = socket.recv_from(&mut buf).context("receive")?;
        let time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        // SAFETY: the kernel wrote `len` bytes.
        let data = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len) };
        // SAFETY: an AF_PACKET socket's sender addresses are `sockaddr_ll`s.
        let protocol = unsafe { (*from.as_ptr().cast::<libc::sockaddr_ll>()).sll_protocol };
        let Some(ip) = vrrp_packet::capture::ip_by_ethertype(u16::from_be(protocol), data) else {
            continue;
        };
        if !printer.ip(time, ip) {
            return Ok(());
        }
    }
}
