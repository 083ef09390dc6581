//! From a captured frame to the VRRP message inside it: link-layer headers taken off, IPv6
//! extension headers stepped over. For tools that read captures (pcap files, `AF_PACKET`
//! sockets) rather than the raw IP sockets of [`recv`](crate::recv).
//!
//! Nothing here allocates or panics: a frame too short for the header it claims to have is
//! simply not an IP packet (`None`).

use core::net::Ipv6Addr;

use crate::{Error, IP_PROTOCOL};

/// `LINKTYPE_*` numbers (pcap's link types) of the link layers [`ip_in_frame`] takes apart.
pub mod linktype {
    /// BSD loopback: a 4-byte address family in the host's byte order (`LINKTYPE_NULL`).
    pub const NULL: u32 = 0;
    /// Ethernet II, with any number of 802.1Q/802.1ad tags (`LINKTYPE_ETHERNET`).
    pub const ETHERNET: u32 = 1;
    /// Raw IP, the version nibble telling v4 from v6 (`LINKTYPE_RAW`).
    pub const RAW: u32 = 101;
    /// OpenBSD loopback: a 4-byte address family in network byte order (`LINKTYPE_LOOP`).
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`).
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4 (`LINKTYPE_IPV4`).
    pub const IPV4: u32 = 228;
    /// Raw IPv6 (`LINKTYPE_IPV6`).
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`).
    pub const LINUX_SLL2: u32 = 276;
}

/// Ethertype of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// Ethertype of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Ethertypes of VLAN tags (802.1Q, 802.1ad, and the old QinQ 0x9100).
pub const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

/// An IP packet in a frame, by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpPacket<'a> {
    /// An IPv4 packet, header included.
    V4(&'a [u8]),
    /// An IPv6 packet, header included.
    V6(&'a [u8]),
}

/// Whether [`ip_in_frame`] can take frames of this `LINKTYPE_*` apart.
pub fn supported(linktype: u32) -> bool {
    use linktype::*;
    matches!(
        linktype,
        ETHERNET | LINUX_SLL | LINUX_SLL2 | RAW | IPV4 | IPV6 | NULL | LOOP
    )
}

/// The IP packet in a frame of the given `LINKTYPE_*`, or `None` for anything else (ARP, LLDP,
/// a link type [`supported`] refuses, a frame cut short).
pub fn ip_in_frame(linktype: u32, frame: &[u8]) -> Option<IpPacket<'_>> {
    match linktype {
        linktype::ETHERNET => {
            let mut ethertype = u16_at(frame, 12)?;
            let mut rest = frame.get(14..)?;
            while ETHERTYPE_VLAN.contains(&ethertype) {
                ethertype = u16_at(rest, 2)?;
                rest = rest.get(4..)?;
            }
            ip_by_ethertype(ethertype, rest)
        }
        // Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol.
        linktype::LINUX_SLL => ip_by_ethertype(u16_at(frame, 14)?, frame.get(16..)?),
        // Linux cooked v2: protocol first, 20 bytes in all.
        linktype::LINUX_SLL2 => ip_by_ethertype(u16_at(frame, 0)?, frame.get(20..)?),
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => ip_by_version(frame),
        // BSD loopback: a 4-byte address family (in whichever byte order), then IP.
        linktype::NULL | linktype::LOOP => ip_by_version(frame.get(4..)?),
        _ => None,
    }
}

/// The IP packet after a link header that named its protocol with an ethertype (as an
/// `AF_PACKET` socket's `sll_protocol` does).
pub fn ip_by_ethertype(ethertype: u16, rest: &[u8]) -> Option<IpPacket<'_>> {
    match ethertype {
        ETHERTYPE_IPV4 => Some(IpPacket::V4(rest)),
        ETHERTYPE_IPV6 => Some(IpPacket::V6(rest)),
        _ => None,
    }
}

/// The IP packet, told apart by its version nibble.
pub fn ip_by_version(packet: &[u8]) -> Option<IpPacket<'_>> {
    match packet.first()? >> 4 {
        4 => Some(IpPacket::V4(packet)),
        6 => Some(IpPacket::V6(packet)),
        _ => None,
    }
}

/// IPv6 extension headers that may sit before VRRP and are stepped over: hop-by-hop options,
/// routing, destination options.
pub const SKIPPABLE_IPV6_HEADERS: [u8; 3] = [0, 43, 60];

/// Length of the fixed IPv6 header.
pub const IPV6_HEADER_LEN: usize = 40;

/// A VRRP message found in an IPv6 packet, with the header fields a receiver checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Vrrp<'a> {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit (255 for a message from the link).
    pub hop_limit: u8,
    /// The VRRP message, or [`Error::Truncated`] with the length the payload-length field
    /// calls for (fixed header included) and the bytes there are.
    pub message: Result<&'a [u8], Error>,
}

/// The VRRP message in an IPv6 packet, after any [`SKIPPABLE_IPV6_HEADERS`]; `None` when the
/// packet is not IPv6, is too short for its fixed header, or carries another protocol.
pub fn vrrp_in_ipv6(packet: &[u8]) -> Option<Ipv6Vrrp<'_>> {
    if packet.len() < IPV6_HEADER_LEN || packet[0] >> 4 != 6 {
        return None;
    }
    let address = |at: usize| {
        let mut octets = [0; 16];
        octets.copy_from_slice(&packet[at..at + 16]);
        Ipv6Addr::from(octets)
    };
    let end = IPV6_HEADER_LEN + usize::from(u16::from_be_bytes([packet[4], packet[5]]));
    let mut next_header = packet[6];
    let mut at = IPV6_HEADER_LEN;
    while SKIPPABLE_IPV6_HEADERS.contains(&next_header) {
        let (Some(&next), Some(&len)) = (packet.get(at), packet.get(at + 1)) else {
            return None;
        };
        next_header = next;
        at += (usize::from(len) + 1) * 8;
    }
    if next_header != IP_PROTOCOL {
        return None;
    }
    Some(Ipv6Vrrp {
        src: address(8),
        dst: address(24),
        hop_limit: packet[7],
        message: packet.get(at..end).ok_or(Error::Truncated {
            needed: end,
            found: packet.len(),
        }),
    })
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_vlan_and_cooked_headers_are_taken_off() {
        let ip = [0x45, 0, 0, 20];
        let mut eth = [0u8; 22];
        eth[12..18].copy_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        eth[18..].copy_from_slice(&ip);
        assert_eq!(
            ip_in_frame(linktype::ETHERNET, &eth),
            Some(IpPacket::V4(&ip))
        );

        let mut sll = [0u8; 20];
        sll[14..16].copy_from_slice(&[0x86, 0xdd]);
        sll[16..].copy_from_slice(&ip);
        assert_eq!(
            ip_in_frame(linktype::LINUX_SLL, &sll),
            Some(IpPacket::V6(&ip))
        );

        let mut sll2 = [0u8; 24];
        sll2[..2].copy_from_slice(&[0x08, 0x00]);
        sll2[20..].copy_from_slice(&ip);
        assert_eq!(
            ip_in_frame(linktype::LINUX_SLL2, &sll2),
            Some(IpPacket::V4(&ip))
        );

        assert_eq!(ip_in_frame(linktype::RAW, &ip), Some(IpPacket::V4(&ip)));
        let arp = [
            0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 0x08, 0x06, 0, 1,
        ];
        assert_eq!(ip_in_frame(linktype::ETHERNET, &arp), None);
        assert_eq!(ip_in_frame(linktype::ETHERNET, &arp[..13]), None);
        assert_eq!(ip_in_frame(147, &ip), None);
        assert!(!supported(147));
    }

    fn ipv6(next_header: u8, extension: &[u8], message: &[u8], claimed: u16) -> [u8; 128] {
        let mut packet = [0u8; 128];
        packet[0] = 0x60;
        packet[4..6].copy_from_slice(&claimed.to_be_bytes());
        packet[6] = next_header;
        packet[7] = 255;
        packet[8] = 0xfe;
        packet[9] = 0x80;
        packet[23] = 1;
        packet[24..40].copy_from_slice(&crate::MULTICAST_V6.octets());
        packet[40..40 + extension.len()].copy_from_slice(extension);
        let at = 40 + extension.len();
        packet[at..at + message.len()].copy_from_slice(message);
        packet
    }

    #[test]
    fn ipv6_extension_headers_are_stepped_over() {
        let hop_by_hop = [IP_PROTOCOL, 0, 0, 0, 0, 0, 0, 0];
        let packet = ipv6(0, &hop_by_hop, &[0x31, 1, 100, 0], 12);
        let found = vrrp_in_ipv6(&packet[..52]).unwrap();
        assert_eq!(found.message, Ok(&[0x31, 1, 100, 0][..]));
        assert_eq!(found.hop_limit, 255);
        assert_eq!(found.dst, crate::MULTICAST_V6);
        assert_eq!(found.src, Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));

        let direct = ipv6(IP_PROTOCOL, &[], &[0x31], 1);
        assert_eq!(
            vrrp_in_ipv6(&direct[..41]).unwrap().message,
            Ok(&[0x31][..])
        );
    }

    #[test]
    fn ipv6_that_is_not_vrrp_or_cut_short_says_so() {
        let udp = ipv6(17, &[], &[], 0);
        assert_eq!(vrrp_in_ipv6(&udp[..40]), None);
        assert_eq!(vrrp_in_ipv6(&udp[..39]), None);
        // A hop-by-hop header that runs off the end.
        assert_eq!(vrrp_in_ipv6(&ipv6(0, &[], &[], 0)[..41]), None);
        let short = ipv6(IP_PROTOCOL, &[], &[0x31], 60);
        assert_eq!(
            vrrp_in_ipv6(&short[..44]).unwrap().message,
            Err(Error::Truncated {
                needed: 100,
                found: 44
            })
        );
    }
}
