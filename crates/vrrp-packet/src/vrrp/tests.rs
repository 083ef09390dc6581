//! The codec against captures of keepalived 2.2.7: deconstruct, construct, parse and emit.

use super::*;

const SRC_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PSEUDO_V4: PseudoHeader = PseudoHeader::V4 {
    src: SRC_V4,
    dst: MULTICAST_V4,
};

/// keepalived 2.2.7, `v2_pass`: VRID 51, priority 120, 1 s, PASS "1111", 192.0.2.100.
static V2_BYTES: [u8; 20] = [
    0x21, 0x33, 0x78, 0x01, 0x01, 0x01, 0x41, 0x03, 0xc0, 0x00, 0x02, 0x64, 0x31, 0x31, 0x31, 0x31,
    0x00, 0x00, 0x00, 0x00,
];
static V2_VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 100)];

fn v2_repr() -> Repr<'static> {
    Repr {
        vrid: 51,
        priority: 120,
        version: VersionFields::V2 {
            advert_interval_s: 1,
            auth_type: AuthType::SimpleText,
            auth_data: *b"1111\0\0\0\0",
        },
        addresses: AddressList::ipv4(&V2_VIPS),
    }
}

/// keepalived 2.2.7, `v3_ipv4`: VRID 7, priority 150, 50 cs, 192.0.2.200 and .201.
static V3_V4_BYTES: [u8; 16] = [
    0x31, 0x07, 0x96, 0x02, 0x00, 0x32, 0x10, 0x9d, 0xc0, 0x00, 0x02, 0xc8, 0xc0, 0x00, 0x02, 0xc9,
];
static V3_V4_VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 200), Ipv4Addr::new(192, 0, 2, 201)];

fn v3_v4_repr() -> Repr<'static> {
    Repr {
        vrid: 7,
        priority: 150,
        version: VersionFields::V3 {
            max_advert_interval_cs: 50,
        },
        addresses: AddressList::ipv4(&V3_V4_VIPS),
    }
}

/// keepalived 2.2.7, `v3_ipv6`: VRID 9, priority 254, 100 cs, 2001:db8::100 and ::101, sent
/// from fe80::cc95:8eff:fe97:4ae5 to ff02::12.
static V3_V6_BYTES: [u8; 40] = [
    0x31, 0x09, 0xfe, 0x02, 0x00, 0x64, 0xcf, 0xdb, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01,
];
static V3_V6_VIPS: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x101),
];
const PSEUDO_V6: PseudoHeader = PseudoHeader::V6 {
    src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0xcc95, 0x8eff, 0xfe97, 0x4ae5),
    dst: MULTICAST_V6,
};

fn v3_v6_repr() -> Repr<'static> {
    Repr {
        vrid: 9,
        priority: 254,
        version: VersionFields::V3 {
            max_advert_interval_cs: 100,
        },
        addresses: AddressList::ipv6(&V3_V6_VIPS),
    }
}

/// keepalived 2.2.7, `v3_unicast`: VRID 77, priority 100, 192.0.2.77, 192.0.2.1 -> 192.0.2.2.
static V3_UNICAST_BYTES: [u8; 12] = [
    0x31, 0x4d, 0x64, 0x01, 0x00, 0x64, 0x23, 0x7f, 0xc0, 0x00, 0x02, 0x4d,
];
const PSEUDO_UNICAST: PseudoHeader = PseudoHeader::V4 {
    src: SRC_V4,
    dst: Ipv4Addr::new(192, 0, 2, 2),
};

#[test]
fn test_v2_deconstruct() {
    let packet = Packet::new_checked(&V2_BYTES[..]).unwrap();
    assert_eq!(packet.version(), Version::V2);
    assert_eq!(packet.msg_type(), MessageType::Advertisement);
    assert_eq!(packet.vrid(), 51);
    assert_eq!(packet.priority(), 120);
    assert_eq!(packet.addr_count(), 1);
    assert_eq!(packet.auth_type(), AuthType::SimpleText);
    assert_eq!(packet.advert_interval_s(), 1);
    assert_eq!(packet.checksum(), 0x4103);
    assert_eq!(
        packet.address(0, AddressFamily::Ipv4),
        Some(IpAddr::V4(V2_VIPS[0]))
    );
    assert_eq!(
        packet.address(1, AddressFamily::Ipv4),
        Some(IpAddr::V4(Ipv4Addr::new(49, 49, 49, 49)))
    );
    assert_eq!(packet.address(3, AddressFamily::Ipv4), None);
    assert_eq!(packet.auth_data(), Some(*b"1111\0\0\0\0"));
    assert_eq!(
        packet.verify_checksum(&PSEUDO_V4, ChecksumModes::NONE),
        Some(ChecksumMode::NoPseudoHeader)
    );
}

#[test]
fn test_v2_construct() {
    let mut bytes = [0xa5; 20];
    let mut packet = Packet::new_unchecked(&mut bytes[..]);
    packet.set_version_type(Version::V2, MessageType::Advertisement);
    packet.set_vrid(51);
    packet.set_priority(120);
    packet.set_addr_count(1);
    packet.set_auth_type(AuthType::SimpleText);
    packet.set_advert_interval_s(1);
    packet.set_address(0, IpAddr::V4(V2_VIPS[0]));
    packet.set_auth_data(b"1111\0\0\0\0");
    packet.fill_checksum(&PSEUDO_V4, ChecksumMode::PseudoHeader);
    assert_eq!(bytes, V2_BYTES);
}

#[test]
fn test_v2_parse() {
    let packet = Packet::new_checked(&V2_BYTES[..]).unwrap();
    let parsed = Repr::parse(&packet, &PSEUDO_V4, ChecksumModes::RFC).unwrap();
    assert_eq!(parsed, (v2_repr(), ChecksumMode::NoPseudoHeader));
    assert_eq!(parsed.0.advert_interval_cs(), 100);
}

#[test]
fn test_v2_emit() {
    let repr = v2_repr();
    let mut bytes = [0xa5; 20];
    assert_eq!(repr.buffer_len(), bytes.len());
    repr.emit(
        &mut Packet::new_unchecked(&mut bytes[..]),
        &PSEUDO_V4,
        ChecksumMode::PseudoHeader,
    );
    assert_eq!(bytes, V2_BYTES);
}

#[test]
fn test_v3_ipv4_deconstruct() {
    let packet = Packet::new_checked(&V3_V4_BYTES[..]).unwrap();
    assert_eq!(packet.version(), Version::V3);
    assert_eq!(packet.msg_type(), MessageType::Advertisement);
    assert_eq!(packet.vrid(), 7);
    assert_eq!(packet.priority(), 150);
    assert_eq!(packet.addr_count(), 2);
    assert_eq!(packet.reserved_v3(), 0);
    assert_eq!(packet.max_advert_interval_cs(), 50);
    assert_eq!(packet.checksum(), 0x109d);
    assert_eq!(
        packet.address(1, AddressFamily::Ipv4),
        Some(IpAddr::V4(V3_V4_VIPS[1]))
    );
    assert_eq!(
        packet.verify_checksum(&PSEUDO_V4, ChecksumModes::ALL),
        Some(ChecksumMode::PseudoHeader)
    );
}

#[test]
fn test_v3_ipv4_construct() {
    let mut bytes = [0xa5; 16];
    let mut packet = Packet::new_unchecked(&mut bytes[..]);
    packet.set_version_type(Version::V3, MessageType::Advertisement);
    packet.set_vrid(7);
    packet.set_priority(150);
    packet.set_addr_count(2);
    packet.set_max_advert_interval_cs(50);
    packet.set_address(0, IpAddr::V4(V3_V4_VIPS[0]));
    packet.set_address(1, IpAddr::V4(V3_V4_VIPS[1]));
    packet.fill_checksum(&PSEUDO_V4, ChecksumMode::PseudoHeader);
    assert_eq!(bytes, V3_V4_BYTES);
}

#[test]
fn test_v3_ipv4_parse() {
    let packet = Packet::new_checked(&V3_V4_BYTES[..]).unwrap();
    let parsed = Repr::parse(&packet, &PSEUDO_V4, ChecksumModes::RFC).unwrap();
    assert_eq!(parsed, (v3_v4_repr(), ChecksumMode::PseudoHeader));
}

#[test]
fn test_v3_ipv4_emit() {
    let repr = v3_v4_repr();
    let mut bytes = [0xa5; 16];
    assert_eq!(repr.buffer_len(), bytes.len());
    repr.emit(
        &mut Packet::new_unchecked(&mut bytes[..]),
        &PSEUDO_V4,
        ChecksumMode::PseudoHeader,
    );
    assert_eq!(bytes, V3_V4_BYTES);
}

#[test]
fn test_v3_ipv6_deconstruct() {
    let packet = Packet::new_checked(&V3_V6_BYTES[..]).unwrap();
    assert_eq!(packet.version(), Version::V3);
    assert_eq!(packet.vrid(), 9);
    assert_eq!(packet.priority(), 254);
    assert_eq!(packet.addr_count(), 2);
    assert_eq!(packet.max_advert_interval_cs(), 100);
    assert_eq!(packet.checksum(), 0xcfdb);
    assert_eq!(
        packet.address(0, AddressFamily::Ipv6),
        Some(IpAddr::V6(V3_V6_VIPS[0]))
    );
    assert_eq!(
        packet.address(1, AddressFamily::Ipv6),
        Some(IpAddr::V6(V3_V6_VIPS[1]))
    );
    assert_eq!(packet.address(2, AddressFamily::Ipv6), None);
    // IPv6 has one checksum form, whatever the accepted set says.
    assert_eq!(
        packet.verify_checksum(&PSEUDO_V6, ChecksumModes::NONE),
        Some(ChecksumMode::PseudoHeader)
    );
}

#[test]
fn test_v3_ipv6_construct() {
    let mut bytes = [0xa5; 40];
    let mut packet = Packet::new_unchecked(&mut bytes[..]);
    packet.set_version_type(Version::V3, MessageType::Advertisement);
    packet.set_vrid(9);
    packet.set_priority(254);
    packet.set_addr_count(2);
    packet.set_max_advert_interval_cs(100);
    packet.set_address(0, IpAddr::V6(V3_V6_VIPS[0]));
    packet.set_address(1, IpAddr::V6(V3_V6_VIPS[1]));
    packet.fill_checksum(&PSEUDO_V6, ChecksumMode::NoPseudoHeader);
    assert_eq!(bytes, V3_V6_BYTES);
}

#[test]
fn test_v3_ipv6_parse() {
    let packet = Packet::new_checked(&V3_V6_BYTES[..]).unwrap();
    let parsed = Repr::parse(&packet, &PSEUDO_V6, ChecksumModes::RFC).unwrap();
    assert_eq!(parsed, (v3_v6_repr(), ChecksumMode::PseudoHeader));
}

#[test]
fn test_v3_ipv6_emit() {
    let repr = v3_v6_repr();
    let mut bytes = [0xa5; 40];
    assert_eq!(repr.buffer_len(), bytes.len());
    repr.emit(
        &mut Packet::new_unchecked(&mut bytes[..]),
        &PSEUDO_V6,
        ChecksumMode::PseudoHeader,
    );
    assert_eq!(bytes, V3_V6_BYTES);
}

#[test]
fn unicast_checksum_modes_differ_and_are_told_apart() {
    let packet = Packet::new_checked(&V3_UNICAST_BYTES[..]).unwrap();
    assert_eq!(
        packet.verify_checksum(&PSEUDO_UNICAST, ChecksumModes::ALL),
        Some(ChecksumMode::PseudoHeader)
    );

    let repr = Repr::parse_unverified(&packet, AddressFamily::Ipv4).unwrap();
    let mut sums = [0u16; 3];
    for (sum, mode) in sums.iter_mut().zip(ChecksumMode::ALL) {
        let mut bytes = [0xa5; 12];
        repr.emit(
            &mut Packet::new_unchecked(&mut bytes[..]),
            &PSEUDO_UNICAST,
            mode,
        );
        let emitted = Packet::new_unchecked(&bytes[..]);
        *sum = emitted.checksum();
        // Each mode is recognised as itself, and refused when it is not accepted.
        assert_eq!(
            emitted.verify_checksum(&PSEUDO_UNICAST, ChecksumModes::ALL),
            Some(mode)
        );
        assert_eq!(
            emitted.verify_checksum(&PSEUDO_UNICAST, ChecksumModes::only(mode)),
            Some(mode)
        );
        let others = ChecksumMode::ALL
            .into_iter()
            .filter(|m| *m != mode)
            .fold(ChecksumModes::NONE, ChecksumModes::with);
        assert_eq!(emitted.verify_checksum(&PSEUDO_UNICAST, others), None);
        assert_eq!(
            Repr::parse(&emitted, &PSEUDO_UNICAST, others),
            Err(Error::BadChecksum { found: *sum })
        );
    }
    assert_eq!(sums[0], 0x237f);
    assert!(
        sums[0] != sums[1] && sums[1] != sums[2] && sums[0] != sums[2],
        "{sums:x?}"
    );
}

#[test]
fn legacy_mode_equals_pseudo_header_mode_for_multicast() {
    let repr = v3_v4_repr();
    let mut bytes = [0xa5; 16];
    repr.emit(
        &mut Packet::new_unchecked(&mut bytes[..]),
        &PSEUDO_V4,
        ChecksumMode::LegacyMulticastDestination,
    );
    assert_eq!(bytes, V3_V4_BYTES);
    // The first matching mode in order is reported.
    let packet = Packet::new_unchecked(&bytes[..]);
    let legacy = ChecksumModes::only(ChecksumMode::LegacyMulticastDestination);
    assert_eq!(
        packet.verify_checksum(&PSEUDO_V4, legacy),
        Some(ChecksumMode::LegacyMulticastDestination)
    );
}

#[test]
fn malformed_messages_are_typed_errors() {
    fn parse(bytes: &[u8], family: AddressFamily) -> Result<Repr<'_>> {
        Repr::parse_unverified(&Packet::new_unchecked(bytes), family)
    }
    assert_eq!(
        parse(&V3_V4_BYTES[..7], AddressFamily::Ipv4),
        Err(Error::Truncated {
            needed: 8,
            found: 7
        })
    );
    let mut bad = V3_V4_BYTES;
    bad[0] = 0x41;
    assert_eq!(parse(&bad, AddressFamily::Ipv4), Err(Error::BadVersion(4)));
    bad[0] = 0x32;
    assert_eq!(parse(&bad, AddressFamily::Ipv4), Err(Error::BadType(2)));
    assert_eq!(
        parse(&V2_BYTES, AddressFamily::Ipv6),
        Err(Error::V2OverIpv6)
    );
    assert_eq!(
        parse(&V3_V4_BYTES[..12], AddressFamily::Ipv4),
        Err(Error::AddressCountMismatch {
            count: 2,
            expected: 16,
            found: 12
        })
    );
    assert_eq!(
        parse(&V3_V4_BYTES, AddressFamily::Ipv6),
        Err(Error::AddressCountMismatch {
            count: 2,
            expected: 40,
            found: 16
        })
    );
    let mut bad = V3_V4_BYTES;
    bad[15] ^= 1;
    assert_eq!(
        Repr::parse(
            &Packet::new_unchecked(&bad[..]),
            &PSEUDO_V4,
            ChecksumModes::ALL
        ),
        Err(Error::BadChecksum { found: 0x109d })
    );
}

#[test]
fn reserved_bits_are_ignored_on_receipt_and_sent_as_zero() {
    let mut bytes = V3_V4_BYTES;
    bytes[4] |= 0x50;
    let mut packet = Packet::new_unchecked(&mut bytes[..]);
    packet.fill_checksum(&PSEUDO_V4, ChecksumMode::PseudoHeader);
    let packet = Packet::new_unchecked(&bytes[..]);
    assert_eq!(packet.reserved_v3(), 5);
    let (repr, _) = Repr::parse(&packet, &PSEUDO_V4, ChecksumModes::RFC).unwrap();
    assert_eq!(repr, v3_v4_repr());
    let mut out = [0xa5; 16];
    repr.emit(
        &mut Packet::new_unchecked(&mut out[..]),
        &PSEUDO_V4,
        ChecksumMode::PseudoHeader,
    );
    assert_eq!(out, V3_V4_BYTES);
}

#[test]
fn checksum_0xffff_is_not_taken_for_0x0000() {
    // Find a v3 message whose checksum is 0x0000 by searching the priority byte.
    let vips = [Ipv4Addr::new(192, 0, 2, 10)];
    let found = (0..=u16::MAX).find_map(|n| {
        let repr = Repr {
            vrid: (n >> 8) as u8,
            priority: n as u8,
            version: VersionFields::V3 {
                max_advert_interval_cs: 100,
            },
            addresses: AddressList::ipv4(&vips),
        };
        let mut bytes = [0u8; 12];
        repr.emit(
            &mut Packet::new_unchecked(&mut bytes[..]),
            &PSEUDO_V4,
            ChecksumMode::NoPseudoHeader,
        );
        (Packet::new_unchecked(&bytes[..]).checksum() == 0).then_some(bytes)
    });
    let mut bytes = found.expect("some VRID/priority gives checksum 0");
    assert!(
        Packet::new_unchecked(&bytes[..])
            .verify_checksum(&PSEUDO_V4, ChecksumModes::ALL)
            .is_some()
    );
    bytes[6] = 0xff;
    bytes[7] = 0xff;
    assert_eq!(
        Packet::new_unchecked(&bytes[..]).verify_checksum(&PSEUDO_V4, ChecksumModes::ALL),
        None
    );
}

#[test]
fn emit_sums_addresses_that_carry_as_a_read_back_does() {
    // All-ones and near-all-ones addresses carry out of every wide add in `emit`'s sum; the
    // checksum it writes must agree with one summed from the buffer afterwards.
    let v6: [Ipv6Addr; 255] = core::array::from_fn(|i| {
        Ipv6Addr::from_bits(u128::MAX - (i as u128 % 3) * (1 << (i % 128)))
    });
    let v4: [Ipv4Addr; 255] =
        core::array::from_fn(|i| Ipv4Addr::from_bits(u32::MAX - (i as u32 % 5)));
    for count in [1, 2, 7, 8, 9, 254, 255] {
        for (addresses, pseudo) in [
            (AddressList::ipv6(&v6[..count]), PSEUDO_V6),
            (AddressList::ipv4(&v4[..count]), PSEUDO_V4),
        ] {
            let repr = Repr {
                addresses,
                ..v3_v6_repr()
            };
            let mut buf = [0xa5; 8 + 255 * 16];
            let len = repr
                .emit_into(&mut buf, &pseudo, ChecksumMode::PseudoHeader)
                .unwrap();
            let emitted = Packet::new_unchecked(&buf[..len]);
            let written = emitted.checksum();
            let mut refilled = buf;
            let mut packet = Packet::new_unchecked(&mut refilled[..len]);
            packet.fill_checksum(&pseudo, ChecksumMode::PseudoHeader);
            assert_eq!(packet.checksum(), written, "{count}");
            assert_eq!(
                emitted.verify_checksum(&pseudo, ChecksumModes::RFC),
                Some(ChecksumMode::PseudoHeader),
                "{count}"
            );
        }
    }
}

#[test]
fn more_than_255_addresses_are_cut_to_255() {
    let vips = [Ipv4Addr::new(198, 51, 100, 1); 300];
    let repr = Repr {
        addresses: AddressList::ipv4(&vips),
        ..v3_v4_repr()
    };
    assert_eq!(repr.buffer_len(), 8 + 255 * 4);
    let mut buf = [0xa5; 8 + 255 * 4];
    assert_eq!(
        repr.emit_into(&mut buf, &PSEUDO_V4, ChecksumMode::PseudoHeader),
        Ok(buf.len())
    );
    let packet = Packet::new_unchecked(&buf[..]);
    assert_eq!(packet.addr_count(), 255);
    let (parsed, _) = Repr::parse(&packet, &PSEUDO_V4, ChecksumModes::RFC).unwrap();
    assert_eq!(parsed.addresses.len(), 255);
    assert_eq!(
        repr.emit_into(&mut buf[..100], &PSEUDO_V4, ChecksumMode::PseudoHeader),
        Err(Error::BufferTooSmall {
            needed: 1028,
            found: 100
        })
    );
}
