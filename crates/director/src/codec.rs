//! The seam between the wire and the election: `vrrp-packet`'s `Repr` to `vrrp-fsm`'s
//! [`ReceivedAdvert`] and an [`AdvertToSend`] back to bytes, in one place and without an
//! allocation per packet.
//!
//! The state machine counts intervals in centiseconds for both versions; a v2 wire field is whole
//! seconds, so it is multiplied by 100 on the way in and divided on the way out. Addresses are
//! copied into a caller-owned [`AddressScratch`] (received) or a stack buffer (sent).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_fsm::{AdvertToSend, InterfaceId, ReceivedAdvert, Version};
use vrrp_packet::recv::Received;
use vrrp_packet::vrrp::AUTH_DATA_LEN;
use vrrp_packet::{
    AddressFamily, AddressList, AuthType, ChecksumMode, PseudoHeader, Repr, VersionFields, ipv4,
};

/// Most addresses an advert carries (the count field is one byte).
pub const MAX_ADDRESSES: usize = 255;

/// The largest advert with its IPv4 header (v2 with 255 IPv4 addresses and authentication) or
/// without one (v3 with 255 IPv6 addresses): the size of a send buffer.
pub const MAX_PACKET_LEN: usize = ipv4::MAX_HEADER_LEN + 8 + MAX_ADDRESSES * 16 + AUTH_DATA_LEN;

/// Room for the address list of one received advert, reused from packet to packet so that
/// receiving does not allocate.
#[derive(Debug, Clone)]
pub struct AddressScratch {
    addresses: [IpAddr; MAX_ADDRESSES],
}

impl Default for AddressScratch {
    fn default() -> Self {
        Self {
            addresses: [IpAddr::V4(Ipv4Addr::UNSPECIFIED); MAX_ADDRESSES],
        }
    }
}

/// The state machine's view of a received advert: `received` (validated by the codec) on
/// `interface`, with its addresses copied into `scratch`.
pub fn to_fsm<'s>(
    received: &Received<'_>,
    interface: InterfaceId,
    scratch: &'s mut AddressScratch,
) -> ReceivedAdvert<'s> {
    let repr = &received.vrrp;
    let mut count = 0;
    for (slot, address) in scratch.addresses.iter_mut().zip(repr.addresses.iter()) {
        *slot = address;
        count += 1;
    }
    let (version, max_advert_interval_cs) = match repr.version {
        VersionFields::V2 {
            advert_interval_s, ..
        } => (Version::V2, u16::from(advert_interval_s) * 100),
        VersionFields::V3 {
            max_advert_interval_cs,
        } => (Version::V3, max_advert_interval_cs),
    };
    ReceivedAdvert {
        version,
        vrid: repr.vrid,
        priority: repr.priority,
        max_advert_interval_cs,
        addresses: &scratch.addresses[..count],
        src: received.src,
        interface,
    }
}

/// How an instance writes its adverts beyond what the state machine decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireOptions {
    /// VRRPv2 `auth_type PASS` with its 8 bytes (`auth_pass`, zero-padded); `None`: no
    /// authentication.
    pub auth: Option<[u8; AUTH_DATA_LEN]>,
    /// The v3-over-IPv4 checksum form to send in (ignored for v2 and IPv6, which have one form).
    pub checksum: ChecksumMode,
}

impl Default for WireOptions {
    fn default() -> Self {
        Self {
            auth: None,
            checksum: ChecksumMode::PseudoHeader,
        }
    }
}

/// Why an advert could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The destination's family is not the advert's.
    #[error("advert from {src} cannot go to {dst}: address families differ")]
    FamilyMismatch {
        /// The advert's source.
        src: IpAddr,
        /// The destination given.
        dst: IpAddr,
    },
    /// A v2 interval is not whole seconds of at most 255, or an address list is too long:
    /// `vrrp_fsm::Config::validate` refuses both, so this means a bug upstream.
    #[error("advert does not fit the wire format: {0}")]
    Unrepresentable(&'static str),
    /// The codec refused (buffer too small).
    #[error(transparent)]
    Codec(#[from] vrrp_packet::Error),
}

/// Writes `advert` for `dst` into `buf` and returns its length: with an IPv4 header for an IPv4
/// advert (for an `IP_HDRINCL` socket), the VRRP message alone for IPv6 (the kernel writes the
/// IPv6 header; the checksum covers the pseudo-header with `advert.src` and `dst`).
pub fn emit(
    advert: &AdvertToSend,
    dst: IpAddr,
    options: &WireOptions,
    buf: &mut [u8],
) -> Result<usize, EmitError> {
    let mut bytes = [0u8; MAX_ADDRESSES * 16];
    let (family, step) = match advert.src {
        IpAddr::V4(_) => (AddressFamily::Ipv4, 4),
        IpAddr::V6(_) => (AddressFamily::Ipv6, 16),
    };
    if advert.addresses.len() > MAX_ADDRESSES {
        return Err(EmitError::Unrepresentable("more than 255 addresses"));
    }
    for (chunk, address) in bytes.chunks_exact_mut(step).zip(advert.addresses.iter()) {
        match (address, family) {
            (IpAddr::V4(a), AddressFamily::Ipv4) => chunk.copy_from_slice(&a.octets()),
            (IpAddr::V6(a), AddressFamily::Ipv6) => chunk.copy_from_slice(&a.octets()),
            _ => return Err(EmitError::Unrepresentable("addresses of two families")),
        }
    }
    let used = advert.addresses.len() * step;
    let addresses = AddressList::from_wire(family, &bytes[..used])
        .ok_or(EmitError::Unrepresentable("address list length"))?;
    let version = match advert.version {
        Version::V2 => {
            let seconds = advert.max_advert_interval_cs / 100;
            if !advert.max_advert_interval_cs.is_multiple_of(100) || seconds > 255 {
                return Err(EmitError::Unrepresentable(
                    "v2 interval not whole seconds 1..=255",
                ));
            }
            let (auth_type, auth_data) = match options.auth {
                Some(data) => (AuthType::SimpleText, data),
                None => (AuthType::None, [0; AUTH_DATA_LEN]),
            };
            VersionFields::V2 {
                advert_interval_s: seconds as u8,
                auth_type,
                auth_data,
            }
        }
        Version::V3 => VersionFields::V3 {
            max_advert_interval_cs: advert.max_advert_interval_cs,
        },
    };
    let repr = Repr {
        vrid: advert.vrid,
        priority: advert.priority,
        version,
        addresses,
    };
    match (advert.src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => {
            let ip = ipv4::Repr::vrrp(src, dst, 0);
            Ok(vrrp_packet::recv::emit_ipv4(
                buf,
                &ip,
                &repr,
                options.checksum,
            )?)
        }
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let pseudo = PseudoHeader::V6 { src, dst };
            Ok(repr.emit_into(buf, &pseudo, ChecksumMode::PseudoHeader)?)
        }
        (src, dst) => Err(EmitError::FamilyMismatch { src, dst }),
    }
}

/// The multicast group adverts of `family` go to by default (224.0.0.18, ff02::12).
pub fn default_group(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(vrrp_packet::MULTICAST_V6)
    } else {
        IpAddr::V4(vrrp_packet::MULTICAST_V4)
    }
}

/// The 8 authentication bytes keepalived derives from `auth_pass`: its first 8 bytes, zero-padded.
pub fn auth_data(pass: &str) -> [u8; AUTH_DATA_LEN] {
    let mut data = [0; AUTH_DATA_LEN];
    for (slot, byte) in data.iter_mut().zip(pass.bytes()) {
        *slot = byte;
    }
    data
}

/// The IPv6 source and destination of a received IPv6 advert, and its hop limit, as the socket's
/// ancillary data gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Meta {
    /// Source (from `recvfrom`).
    pub src: Ipv6Addr,
    /// Destination (`IPV6_PKTINFO`).
    pub dst: Ipv6Addr,
    /// Hop limit (`IPV6_HOPLIMIT`).
    pub hop_limit: u8,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vrrp_packet::ChecksumModes;
    use vrrp_packet::recv::{parse_ipv4, parse_ipv6};

    use super::*;

    fn advert(version: Version, src: &str, addresses: &[&str], interval_cs: u16) -> AdvertToSend {
        AdvertToSend {
            version,
            vrid: 42,
            priority: 150,
            max_advert_interval_cs: interval_cs,
            addresses: addresses
                .iter()
                .map(|a| a.parse().unwrap())
                .collect::<Vec<IpAddr>>()
                .into(),
            src: src.parse().unwrap(),
            interface: InterfaceId(7),
        }
    }

    /// Sends `sent` to `dst`, parses the bytes back and maps them to the FSM's input.
    fn round_trip(sent: &AdvertToSend, dst: &str, options: &WireOptions) {
        let mut buf = [0xa5u8; MAX_PACKET_LEN];
        let dst: IpAddr = dst.parse().unwrap();
        let len = emit(sent, dst, options, &mut buf).unwrap();
        let received = match (sent.src, dst) {
            (IpAddr::V4(_), _) => parse_ipv4(&buf[..len], ChecksumModes::ALL).unwrap(),
            (IpAddr::V6(src), IpAddr::V6(dst)) => parse_ipv6(&buf[..len], src, dst, 255).unwrap(),
            _ => unreachable!(),
        };
        if sent.version == Version::V3 && sent.src.is_ipv4() {
            assert_eq!(received.checksum_mode, options.checksum);
        }
        if let VersionFields::V2 {
            auth_type,
            auth_data,
            ..
        } = received.vrrp.version
        {
            match options.auth {
                Some(data) => {
                    assert_eq!(auth_type, AuthType::SimpleText);
                    assert_eq!(auth_data, data);
                }
                None => assert_eq!(auth_type, AuthType::None),
            }
        }
        let mut scratch = AddressScratch::default();
        let got = to_fsm(&received, InterfaceId(7), &mut scratch);
        assert_eq!(got.version, sent.version);
        assert_eq!(got.vrid, sent.vrid);
        assert_eq!(got.priority, sent.priority);
        assert_eq!(got.max_advert_interval_cs, sent.max_advert_interval_cs);
        assert_eq!(got.addresses, &sent.addresses[..]);
        assert_eq!(got.src, sent.src);
        assert_eq!(got.interface, sent.interface);
    }

    #[test]
    fn v2_ipv4_round_trip_with_and_without_pass() {
        let a = advert(
            Version::V2,
            "192.0.2.1",
            &["192.0.2.100", "192.0.2.101"],
            300,
        );
        round_trip(&a, "224.0.0.18", &WireOptions::default());
        let pass = WireOptions {
            auth: Some(auth_data("secret")),
            ..WireOptions::default()
        };
        round_trip(&a, "192.0.2.2", &pass);
    }

    #[test]
    fn v3_ipv4_round_trip_in_every_checksum_mode() {
        let a = advert(Version::V3, "192.0.2.1", &["192.0.2.100"], 35);
        for checksum in ChecksumMode::ALL {
            let options = WireOptions {
                checksum,
                ..WireOptions::default()
            };
            // Unicast: to 224.0.0.18 the legacy form is the RFC one.
            round_trip(&a, "192.0.2.2", &options);
        }
    }

    #[test]
    fn v3_ipv6_round_trip() {
        let a = advert(
            Version::V3,
            "fe80::1",
            &["2001:db8::100", "2001:db8::101"],
            4095,
        );
        round_trip(&a, "ff02::12", &WireOptions::default());
        round_trip(&a, "fe80::2", &WireOptions::default());
    }

    #[test]
    fn every_address_count_round_trips() {
        let all: Vec<String> = (0..255).map(|i| format!("2001:db8::{i:x}")).collect();
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        for n in [1, 2, 254, 255] {
            round_trip(
                &advert(Version::V3, "fe80::1", &refs[..n], 100),
                "ff02::12",
                &WireOptions::default(),
            );
        }
    }

    #[test]
    fn what_the_wire_cannot_carry_is_an_error_not_a_panic() {
        let mut buf = [0u8; MAX_PACKET_LEN];
        let v2_in_cs = advert(Version::V2, "192.0.2.1", &["192.0.2.100"], 150);
        assert!(matches!(
            emit(
                &v2_in_cs,
                "224.0.0.18".parse().unwrap(),
                &WireOptions::default(),
                &mut buf
            ),
            Err(EmitError::Unrepresentable(_))
        ));
        let v4 = advert(Version::V3, "192.0.2.1", &["192.0.2.100"], 100);
        assert!(matches!(
            emit(
                &v4,
                "ff02::12".parse().unwrap(),
                &WireOptions::default(),
                &mut buf
            ),
            Err(EmitError::FamilyMismatch { .. })
        ));
        let mixed = AdvertToSend {
            addresses: Arc::from(vec![
                "192.0.2.100".parse::<IpAddr>().unwrap(),
                "2001:db8::1".parse().unwrap(),
            ]),
            ..v4.clone()
        };
        assert!(
            emit(
                &mixed,
                "224.0.0.18".parse().unwrap(),
                &WireOptions::default(),
                &mut buf
            )
            .is_err()
        );
        let mut small = [0u8; 10];
        assert!(matches!(
            emit(
                &v4,
                "224.0.0.18".parse().unwrap(),
                &WireOptions::default(),
                &mut small
            ),
            Err(EmitError::Codec(_))
        ));
    }

    #[test]
    fn auth_pass_is_cut_and_padded_like_keepalived() {
        assert_eq!(auth_data("abc"), *b"abc\0\0\0\0\0");
        assert_eq!(auth_data("0123456789"), *b"01234567");
    }
}
