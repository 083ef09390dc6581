//! From a captured frame to the IP packet inside it, for the link types captures come in.

use pcap_file::DataLink;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

/// The IP packet in a frame, by family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ip<'a> {
    V4(&'a [u8]),
    V6(&'a [u8]),
}

/// Whether this tool can take frames of `link` apart.
pub(crate) fn supported(link: DataLink) -> bool {
    matches!(
        link,
        DataLink::ETHERNET
            | DataLink::LINUX_SLL
            | DataLink::LINUX_SLL2
            | DataLink::RAW
            | DataLink::IPV4
            | DataLink::IPV6
            | DataLink::NULL
            | DataLink::LOOP
    )
}

/// The IP packet in `frame`, or `None` for anything else (ARP, LLDP, ...).
pub(crate) fn ip_in_frame(link: DataLink, frame: &[u8]) -> Option<Ip<'_>> {
    match link {
        DataLink::ETHERNET => {
            let mut ethertype = u16_at(frame, 12)?;
            let mut rest = frame.get(14..)?;
            while ETHERTYPE_VLAN.contains(&ethertype) {
                ethertype = u16_at(rest, 2)?;
                rest = rest.get(4..)?;
            }
            by_ethertype(ethertype, rest)
        }
        // Linux cooked v1: packet type, ARPHRD type, address length, 8 address bytes, protocol.
        DataLink::LINUX_SLL => by_ethertype(u16_at(frame, 14)?, frame.get(16..)?),
        // Linux cooked v2: protocol first, 20 bytes in all.
        DataLink::LINUX_SLL2 => by_ethertype(u16_at(frame, 0)?, frame.get(20..)?),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => by_version(frame),
        // BSD loopback: a 4-byte address family (in whichever byte order), then IP.
        DataLink::NULL | DataLink::LOOP => by_version(frame.get(4..)?),
        _ => None,
    }
}

/// The IP packet after a link header that named its protocol with an ethertype.
pub(crate) fn by_ethertype(ethertype: u16, rest: &[u8]) -> Option<Ip<'_>> {
    match ethertype {
        ETHERTYPE_IPV4 => Some(Ip::V4(rest)),
        ETHERTYPE_IPV6 => Some(Ip::V6(rest)),
        _ => None,
    }
}

/// The IP packet, told apart by its version nibble.
fn by_version(packet: &[u8]) -> Option<Ip<'_>> {
    match packet.first()? >> 4 {
        4 => Some(Ip::V4(packet)),
        6 => Some(Ip::V6(packet)),
        _ => None,
    }
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
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        eth.extend_from_slice(&ip);
        assert_eq!(ip_in_frame(DataLink::ETHERNET, &eth), Some(Ip::V4(&ip)));

        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x86, 0xdd]);
        sll.extend_from_slice(&ip);
        assert_eq!(ip_in_frame(DataLink::LINUX_SLL, &sll), Some(Ip::V6(&ip)));

        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip);
        assert_eq!(ip_in_frame(DataLink::LINUX_SLL2, &sll2), Some(Ip::V4(&ip)));

        assert_eq!(ip_in_frame(DataLink::RAW, &ip), Some(Ip::V4(&ip)));
        let arp = [
            0xffu8, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 0x08, 0x06, 0, 1,
        ];
        assert_eq!(ip_in_frame(DataLink::ETHERNET, &arp), None);
        assert_eq!(ip_in_frame(DataLink::ETHERNET, &arp[..13]), None);
    }
}
