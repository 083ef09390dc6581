//! `AF_PACKET` sockets: opened, addressed and bound to one interface. [`Sender`](crate::Sender)
//! sends on one; capture tools (`vrrp-dump`, `testbed`'s capture) receive on one.

use std::ffi::CString;
use std::io;
use std::mem::size_of;

use socket2::{Domain, Protocol, SockAddr, SockAddrStorage, Socket, Type};

/// Every protocol (`ETH_P_ALL`): what a capture asks for.
pub const ETH_P_ALL: u16 = libc::ETH_P_ALL as u16;

/// The index of the interface `name` in this thread's network namespace; `NotFound` (naming
/// the interface) when there is none.
pub fn ifindex(name: &str) -> io::Result<u32> {
    let not_found = || io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}"));
    let cname = CString::new(name).map_err(|_| not_found())?;
    // SAFETY: `cname` is NUL-terminated.
    match unsafe { libc::if_nametoindex(cname.as_ptr()) } {
        0 => Err(not_found()),
        index => Ok(index),
    }
}

/// Opens an `AF_PACKET` socket: `Type::RAW` hands over whole frames, `Type::DGRAM` the
/// network-layer packet with the link header in the sender's address. `protocol` is the
/// ethertype to receive (host order; [`ETH_P_ALL`] for everything), or 0 for a send-only
/// socket that never queues received traffic. Needs `CAP_NET_RAW`; bind it to one interface
/// with [`link_addr`] before reading, or it receives from all.
pub fn open(kind: Type, protocol: u16) -> io::Result<Socket> {
    let protocol = (protocol != 0).then(|| Protocol::from(i32::from(protocol.to_be())));
    Socket::new(Domain::PACKET, kind, protocol)
}

/// The link-layer address (`sockaddr_ll`) of interface `ifindex` for `protocol` (host-order
/// ethertype): to bind a socket to the interface, or, with `destination`, to send a frame there.
pub fn link_addr(ifindex: u32, protocol: u16, destination: Option<[u8; 6]>) -> SockAddr {
    let mut sll_addr = [0u8; 8];
    if let Some(mac) = destination {
        sll_addr[..6].copy_from_slice(&mac);
    }
    // SAFETY: the closure writes a whole `sockaddr_ll` into storage large enough for any address
    // and sets its length.
    let ((), address) = unsafe {
        SockAddr::try_init(|storage: *mut SockAddrStorage, len| {
            storage
                .cast::<libc::sockaddr_ll>()
                .write(libc::sockaddr_ll {
                    sll_family: libc::AF_PACKET as u16,
                    sll_protocol: protocol.to_be(),
                    sll_ifindex: ifindex as i32,
                    sll_hatype: 0,
                    sll_pkttype: 0,
                    sll_halen: if destination.is_some() { 6 } else { 0 },
                    sll_addr,
                });
            *len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })
    }
    .expect("writing a sockaddr_ll cannot fail");
    address
}

/// The protocol (host-order ethertype) of a packet's sender address, as an `AF_PACKET` socket
/// reports it; `None` for an address of another family.
pub fn protocol_of(from: &SockAddr) -> Option<u16> {
    if from.family() != libc::AF_PACKET as libc::sa_family_t {
        return None;
    }
    // SAFETY: an AF_PACKET address is a `sockaddr_ll`, and the storage holds one whole.
    let ll = unsafe { &*from.as_ptr().cast::<libc::sockaddr_ll>() };
    Some(u16::from_be(ll.sll_protocol))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_address_reads_back() {
        let addr = link_addr(7, 0x0806, Some([0, 0, 0x5e, 0, 1, 9]));
        assert_eq!(addr.family(), libc::AF_PACKET as libc::sa_family_t);
        assert_eq!(addr.len() as usize, size_of::<libc::sockaddr_ll>());
        assert_eq!(protocol_of(&addr), Some(0x0806));
        // SAFETY: built as a sockaddr_ll just above.
        let ll = unsafe { &*addr.as_ptr().cast::<libc::sockaddr_ll>() };
        assert_eq!((ll.sll_ifindex, ll.sll_halen), (7, 6));
        assert_eq!(ll.sll_addr[..6], [0, 0, 0x5e, 0, 1, 9]);
        let bind = link_addr(7, ETH_P_ALL, None);
        // SAFETY: as above.
        let ll = unsafe { &*bind.as_ptr().cast::<libc::sockaddr_ll>() };
        assert_eq!((ll.sll_halen, ll.sll_addr), (0, [0; 8]));
    }

    #[test]
    fn a_missing_interface_is_named() {
        let e = ifindex("lvk-no-such0").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("lvk-no-such0"), "{e}");
        assert_eq!(ifindex("a\0b").unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
