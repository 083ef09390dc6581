//! From an IP packet to what `vrrp-dump` prints about it.

use std::net::IpAddr;

use vrrp_packet::{
    AuthType, ChecksumMode, ChecksumModes, IP_PROTOCOL, Packet, PseudoHeader, Repr, VersionFields,
    capture::{self, IpPacket as Ip},
    ipv4,
};

/// One VRRP advertisement, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Advert {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) ttl: u8,
    pub(crate) version: u8,
    pub(crate) vrid: u8,
    pub(crate) priority: u8,
    pub(crate) advert_interval_cs: u16,
    pub(crate) addresses: Vec<IpAddr>,
    /// v2 only.
    pub(crate) auth: Option<(AuthType, [u8; 8])>,
    /// The checksum mode that matched, if any did.
    pub(crate) checksum_mode: Option<ChecksumMode>,
}

/// A VRRP packet that could not be decoded, with what is known of where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Broken {
    pub(crate) src: Option<IpAddr>,
    pub(crate) dst: Option<IpAddr>,
    pub(crate) ttl: Option<u8>,
    pub(crate) error: String,
}

/// What became of an IP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decoded {
    NotVrrp,
    Advert(Advert),
    Broken(Broken),
}

pub(crate) fn decode(ip: Ip<'_>) -> Decoded {
    match ip {
        Ip::V4(bytes) => decode_v4(bytes),
        Ip::V6(bytes) => decode_v6(bytes),
    }
}

fn decode_v4(bytes: &[u8]) -> Decoded {
    // Protocol 112 is what makes it ours; a packet too short to say is not.
    if bytes.get(9) != Some(&IP_PROTOCOL) || bytes.first().map(|b| b >> 4) != Some(4) {
        return Decoded::NotVrrp;
    }
    let (src, dst) = if bytes.len() >= ipv4::HEADER_LEN {
        let header = ipv4::Packet::new_unchecked(bytes);
        (
            Some(IpAddr::V4(header.src())),
            Some(IpAddr::V4(header.dst())),
        )
    } else {
        (None, None)
    };
    let broken = |error: vrrp_packet::Error, ttl: Option<u8>| {
        Decoded::Broken(Broken {
            src,
            dst,
            ttl,
            error: error.to_string(),
        })
    };
    let header = match ipv4::Packet::new_checked(bytes) {
        Ok(header) => header,
        Err(e) => return broken(e, None),
    };
    let ip = match ipv4::Repr::parse(&header) {
        Ok(ip) => ip,
        Err(e) => return broken(e, Some(header.ttl())),
    };
    let pseudo = PseudoHeader::V4 {
        src: ip.src,
        dst: ip.dst,
    };
    advert(header.payload(), pseudo, ip.ttl)
}

fn decode_v6(bytes: &[u8]) -> Decoded {
    let Some(found) = capture::vrrp_in_ipv6(bytes) else {
        return Decoded::NotVrrp;
    };
    let (src, dst) = (found.src, found.dst);
    match found.message {
        Ok(message) => advert(message, PseudoHeader::V6 { src, dst }, found.hop_limit),
        Err(e) => {
            let error = match e {
                vrrp_packet::Error::Truncated { needed, found } => format!(
                    "truncated IPv6 packet: payload length says {needed} bytes, found {found}"
                ),
                other => other.to_string(),
            };
            Decoded::Broken(Broken {
                src: Some(IpAddr::V6(src)),
                dst: Some(IpAddr::V6(dst)),
                ttl: Some(found.hop_limit),
                error,
            })
        }
    }
}

fn advert(message: &[u8], pseudo: PseudoHeader, ttl: u8) -> Decoded {
    let packet = Packet::new_unchecked(message);
    let repr = match Repr::parse_unverified(&packet, pseudo.family()) {
        Ok(repr) => repr,
        Err(e) => {
            return Decoded::Broken(Broken {
                src: Some(pseudo.src()),
                dst: Some(pseudo.dst()),
                ttl: Some(ttl),
                error: e.to_string(),
            });
        }
    };
    let auth = match repr.version {
        VersionFields::V2 {
            auth_type,
            auth_data,
            ..
        } => Some((auth_type, auth_data)),
        VersionFields::V3 { .. } => None,
    };
    Decoded::Advert(Advert {
        src: pseudo.src(),
        dst: pseudo.dst(),
        ttl,
        version: repr.version().into(),
        vrid: repr.vrid,
        priority: repr.priority,
        advert_interval_cs: repr.advert_interval_cs(),
        addresses: repr.addresses.iter().collect(),
        auth,
        checksum_mode: packet.verify_checksum(&pseudo, ChecksumModes::ALL),
    })
}

/// Name of an authentication type, for both output forms.
pub(crate) fn auth_type_name(auth_type: AuthType) -> String {
    match auth_type {
        AuthType::None => "none".into(),
        AuthType::SimpleText => "simple".into(),
        AuthType::IpAh => "ah".into(),
        AuthType::Unknown(n) => format!("unknown({n})"),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    #[test]
    fn ipv4_that_is_not_vrrp_is_skipped() {
        let mut udp = [0u8; 28];
        udp[0] = 0x45;
        udp[9] = 17;
        assert_eq!(decode(Ip::V4(&udp)), Decoded::NotVrrp);
        assert_eq!(decode(Ip::V4(&[0x45])), Decoded::NotVrrp);
    }

    #[test]
    fn a_short_vrrp_datagram_is_an_error() {
        let mut short = [0u8; 12];
        short[0] = 0x45;
        short[9] = 112;
        let Decoded::Broken(broken) = decode(Ip::V4(&short)) else {
            panic!("not reported")
        };
        assert!(broken.error.contains("truncated"), "{}", broken.error);
        assert_eq!(broken.src, None);
    }

    #[test]
    fn ipv6_hop_by_hop_is_stepped_over() {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let mut packet = vec![0u8; 48];
        packet[0] = 0x60;
        packet[6] = 0; // hop-by-hop
        packet[7] = 255;
        packet[8..24].copy_from_slice(&src.octets());
        packet[24..40].copy_from_slice(&vrrp_packet::MULTICAST_V6.octets());
        packet[40] = IP_PROTOCOL;
        let vips = [Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)];
        let repr = Repr {
            vrid: 1,
            priority: 100,
            version: VersionFields::V3 {
                max_advert_interval_cs: 100,
            },
            addresses: vrrp_packet::AddressList::ipv6(&vips),
        };
        let pseudo = PseudoHeader::V6 {
            src,
            dst: vrrp_packet::MULTICAST_V6,
        };
        let mut message = vec![0u8; repr.buffer_len()];
        repr.emit_into(&mut message, &pseudo, ChecksumMode::PseudoHeader)
            .unwrap();
        packet.extend_from_slice(&message);
        let payload_len = (packet.len() - 40) as u16;
        packet[4..6].copy_from_slice(&payload_len.to_be_bytes());
        let Decoded::Advert(advert) = decode(Ip::V6(&packet)) else {
            panic!("not decoded")
        };
        assert_eq!(advert.addresses, [IpAddr::V6(vips[0])]);
        assert_eq!(advert.src, IpAddr::V6(src));
        assert_eq!(advert.checksum_mode, Some(ChecksumMode::PseudoHeader));
    }
}
