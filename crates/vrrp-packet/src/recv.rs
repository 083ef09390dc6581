//! The receive path in one call, and the send path for `IP_HDRINCL` sockets.
//!
//! A raw IPv4 socket (`socket(AF_INET, SOCK_RAW, 112)`) delivers the IPv4 header in front of the
//! message: [`parse_ipv4`] checks it (version, lengths, header checksum, no fragments, protocol
//! 112, TTL 255) and then the message, with the addresses for the pseudo-header. A raw IPv6 socket
//! delivers only the payload; the hop limit and the destination come from ancillary data
//! (`IPV6_RECVHOPLIMIT`, `IPV6_RECVPKTINFO`), so [`parse_ipv6`] takes them from the caller.

use core::net::{IpAddr, Ipv6Addr};

use crate::ipv4;
use crate::vrrp::{self, ChecksumMode, ChecksumModes, Packet, PseudoHeader, Repr};
use crate::{Error, Result};

/// A received, validated advertisement and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received<'a> {
    /// IP source: the sending router (its primary address in v2, link-local in v3 over IPv6).
    pub src: IpAddr,
    /// IP destination: the multicast group or this router (unicast peers).
    pub dst: IpAddr,
    /// TTL or hop limit (always 255 once accepted).
    pub ttl: u8,
    /// The IPv4 header, for IPv4.
    pub ipv4: Option<ipv4::Repr<'a>>,
    /// The advertisement.
    pub vrrp: Repr<'a>,
    /// How the sender computed the checksum.
    pub checksum_mode: ChecksumMode,
}

impl Received<'_> {
    /// The addresses the checksum was taken over, to send back in the same mode.
    pub fn pseudo_header(&self) -> PseudoHeader {
        match (self.src, self.dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => PseudoHeader::V4 { src, dst },
            (IpAddr::V6(src), IpAddr::V6(dst)) => PseudoHeader::V6 { src, dst },
            // `Received` is only built with matching families; keep the source's family.
            (IpAddr::V4(src), IpAddr::V6(_)) => PseudoHeader::V4 {
                src,
                dst: vrrp::MULTICAST_V4,
            },
            (IpAddr::V6(src), IpAddr::V4(_)) => PseudoHeader::V6 {
                src,
                dst: vrrp::MULTICAST_V6,
            },
        }
    }
}

/// Parses what a raw IPv4 socket delivers: the IPv4 header and a VRRP message whose checksum
/// matches one of `accept` (for v3; v2 has one form).
pub fn parse_ipv4(datagram: &[u8], accept: ChecksumModes) -> Result<Received<'_>> {
    let packet = ipv4::Packet::new_checked(datagram)?;
    let ip = ipv4::Repr::parse(&packet)?;
    if ip.protocol != vrrp::IP_PROTOCOL {
        return Err(Error::NotVrrp(ip.protocol));
    }
    if ip.ttl != vrrp::TTL {
        return Err(Error::BadTtl(ip.ttl));
    }
    let pseudo = PseudoHeader::V4 {
        src: ip.src,
        dst: ip.dst,
    };
    let (vrrp, checksum_mode) =
        Repr::parse(&Packet::new_unchecked(packet.payload()), &pseudo, accept)?;
    Ok(Received {
        src: IpAddr::V4(ip.src),
        dst: IpAddr::V4(ip.dst),
        ttl: ip.ttl,
        ipv4: Some(ip),
        vrrp,
        checksum_mode,
    })
}

/// Parses what a raw IPv6 socket delivers (the VRRP message), with the source from `recvfrom`
/// and the destination and hop limit from ancillary data.
pub fn parse_ipv6(
    payload: &[u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
) -> Result<Received<'_>> {
    if hop_limit != vrrp::TTL {
        return Err(Error::BadTtl(hop_limit));
    }
    let pseudo = PseudoHeader::V6 { src, dst };
    let (vrrp, checksum_mode) =
        Repr::parse(&Packet::new_unchecked(payload), &pseudo, ChecksumModes::RFC)?;
    Ok(Received {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl: hop_limit,
        ipv4: None,
        vrrp,
        checksum_mode,
    })
}

/// Writes an IPv4 header and the message after it, for a socket with `IP_HDRINCL`, and returns
/// the length. `ip.payload_len` is ignored: the message's length is used.
pub fn emit_ipv4(
    buf: &mut [u8],
    ip: &ipv4::Repr<'_>,
    vrrp: &Repr<'_>,
    mode: ChecksumMode,
) -> Result<usize> {
    let ip = ipv4::Repr {
        payload_len: vrrp.buffer_len(),
        ..*ip
    };
    let header_len = ip.buffer_len();
    let len = header_len + ip.payload_len;
    let found = buf.len();
    let out = buf
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { needed: len, found })?;
    let (header, payload) = out.split_at_mut(header_len);
    ip.emit(&mut ipv4::Packet::new_unchecked(header));
    let pseudo = PseudoHeader::V4 {
        src: ip.src,
        dst: ip.dst,
    };
    vrrp.emit(&mut Packet::new_unchecked(payload), &pseudo, mode);
    Ok(len)
}

#[cfg(test)]
mod tests {
    use core::net::Ipv4Addr;

    use super::*;
    use crate::vrrp::{AddressList, VersionFields};

    /// keepalived 2.2.7's first `v3_unicast` advertisement as a raw socket delivers it.
    static UNICAST: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x36, 0xa9, 0xc0, 0x00, 0x02,
        0x01, 0xc0, 0x00, 0x02, 0x02, 0x31, 0x4d, 0x64, 0x01, 0x00, 0x64, 0x23, 0x7f, 0xc0, 0x00,
        0x02, 0x4d,
    ];
    static VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 77)];

    fn vrrp() -> Repr<'static> {
        Repr {
            vrid: 77,
            priority: 100,
            version: VersionFields::V3 {
                max_advert_interval_cs: 100,
            },
            addresses: AddressList::ipv4(&VIPS),
        }
    }

    #[test]
    fn parse_ipv4_checks_both_layers() {
        let received = parse_ipv4(&UNICAST, ChecksumModes::RFC).unwrap();
        assert_eq!(received.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(received.dst, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
        assert_eq!(received.ttl, 255);
        assert_eq!(received.vrrp, vrrp());
        assert_eq!(received.checksum_mode, ChecksumMode::PseudoHeader);
        assert_eq!(
            received.pseudo_header(),
            PseudoHeader::V4 {
                src: Ipv4Addr::new(192, 0, 2, 1),
                dst: Ipv4Addr::new(192, 0, 2, 2)
            }
        );
        // The legacy mode alone does not accept a modern unicast advertisement.
        let legacy = ChecksumModes::only(ChecksumMode::LegacyMulticastDestination);
        assert_eq!(
            parse_ipv4(&UNICAST, legacy),
            Err(Error::BadChecksum { found: 0x237f })
        );
    }

    /// Rewrites the IPv4 header of `UNICAST` and fixes its header checksum.
    fn with_header(change: impl FnOnce(&mut ipv4::Packet<&mut [u8]>)) -> [u8; 32] {
        let mut bytes = UNICAST;
        let mut packet = ipv4::Packet::new_unchecked(&mut bytes[..]);
        change(&mut packet);
        packet.fill_checksum();
        bytes
    }

    #[test]
    fn parse_ipv4_refuses_off_link_and_other_protocols() {
        let ttl_64 = with_header(|p| p.set_ttl(64));
        assert_eq!(
            parse_ipv4(&ttl_64, ChecksumModes::ALL),
            Err(Error::BadTtl(64))
        );
        let udp = with_header(|p| p.set_protocol(17));
        assert_eq!(
            parse_ipv4(&udp, ChecksumModes::ALL),
            Err(Error::NotVrrp(17))
        );
        let mut bad_sum = UNICAST;
        bad_sum[11] ^= 0x10;
        assert!(matches!(
            parse_ipv4(&bad_sum, ChecksumModes::ALL),
            Err(Error::BadIpChecksum { .. })
        ));
    }

    #[test]
    fn parse_ipv6_checks_the_hop_limit() {
        let src: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let vips = [Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)];
        let repr = Repr {
            addresses: AddressList::ipv6(&vips),
            ..vrrp()
        };
        let pseudo = PseudoHeader::V6 {
            src,
            dst: vrrp::MULTICAST_V6,
        };
        let mut buf = [0xa5; 24];
        repr.emit_into(&mut buf, &pseudo, ChecksumMode::NoPseudoHeader)
            .unwrap();
        let received = parse_ipv6(&buf, src, vrrp::MULTICAST_V6, 255).unwrap();
        assert_eq!(received.vrrp, repr);
        assert_eq!(received.checksum_mode, ChecksumMode::PseudoHeader);
        assert_eq!(received.ipv4, None);
        assert_eq!(
            parse_ipv6(&buf, src, vrrp::MULTICAST_V6, 1),
            Err(Error::BadTtl(1))
        );
        let other_dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        assert!(matches!(
            parse_ipv6(&buf, src, other_dst, 255),
            Err(Error::BadChecksum { .. })
        ));
    }

    #[test]
    fn emit_ipv4_writes_what_keepalived_sent() {
        let ip = ipv4::Repr {
            ident: 1,
            ..ipv4::Repr::vrrp(Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2), 0)
        };
        let mut buf = [0xa5; 64];
        let len = emit_ipv4(&mut buf, &ip, &vrrp(), ChecksumMode::PseudoHeader).unwrap();
        assert_eq!(&buf[..len], &UNICAST[..]);
        assert_eq!(
            emit_ipv4(&mut buf[..31], &ip, &vrrp(), ChecksumMode::PseudoHeader),
            Err(Error::BufferTooSmall {
                needed: 32,
                found: 31
            })
        );
    }
}
