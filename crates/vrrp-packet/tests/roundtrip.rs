//! Property tests: `Repr -> bytes -> Repr` is the identity, and so is `bytes -> Repr -> bytes`
//! for valid bytes; arbitrary bytes are refused or round-trip.

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use vrrp_packet::{
    AddressFamily, AddressList, AuthType, ChecksumMode, ChecksumModes, OwnedAddresses, OwnedRepr,
    Packet, PseudoHeader, Repr, Version, VersionFields,
};

fn mode() -> impl Strategy<Value = ChecksumMode> {
    prop::sample::select(ChecksumMode::ALL.to_vec())
}

fn pseudo(family: AddressFamily) -> BoxedStrategy<PseudoHeader> {
    match family {
        AddressFamily::Ipv4 => (any::<u32>(), any::<u32>())
            .prop_map(|(s, d)| PseudoHeader::V4 {
                src: Ipv4Addr::from_bits(s),
                dst: Ipv4Addr::from_bits(d),
            })
            .boxed(),
        AddressFamily::Ipv6 => (any::<u128>(), any::<u128>())
            .prop_map(|(s, d)| PseudoHeader::V6 {
                src: Ipv6Addr::from_bits(s),
                dst: Ipv6Addr::from_bits(d),
            })
            .boxed(),
    }
}

/// An owned advertisement that is valid to send, with a pseudo-header of its family.
fn advert() -> impl Strategy<Value = (OwnedRepr, PseudoHeader)> {
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<[u8; 8]>(),
        prop::collection::vec(any::<u32>().prop_map(Ipv4Addr::from_bits), 0..=255),
        pseudo(AddressFamily::Ipv4),
    )
        .prop_map(
            |(vrid, priority, interval, auth_type, auth_data, addrs, pseudo)| {
                (
                    OwnedRepr {
                        vrid,
                        priority,
                        version: VersionFields::V2 {
                            advert_interval_s: interval,
                            auth_type: AuthType::from(auth_type),
                            auth_data,
                        },
                        addresses: OwnedAddresses::V4(addrs),
                    },
                    pseudo,
                )
            },
        );
    let v3_v4 = (
        any::<u8>(),
        any::<u8>(),
        0..=0x0fffu16,
        prop::collection::vec(any::<u32>().prop_map(Ipv4Addr::from_bits), 0..=255),
        pseudo(AddressFamily::Ipv4),
    )
        .prop_map(|(vrid, priority, interval, addrs, pseudo)| {
            (
                OwnedRepr {
                    vrid,
                    priority,
                    version: VersionFields::V3 {
                        max_advert_interval_cs: interval,
                    },
                    addresses: OwnedAddresses::V4(addrs),
                },
                pseudo,
            )
        });
    let v3_v6 = (
        any::<u8>(),
        any::<u8>(),
        0..=0x0fffu16,
        prop::collection::vec(any::<u128>().prop_map(Ipv6Addr::from_bits), 0..=40),
        pseudo(AddressFamily::Ipv6),
    )
        .prop_map(|(vrid, priority, interval, addrs, pseudo)| {
            (
                OwnedRepr {
                    vrid,
                    priority,
                    version: VersionFields::V3 {
                        max_advert_interval_cs: interval,
                    },
                    addresses: OwnedAddresses::V6(addrs),
                },
                pseudo,
            )
        });
    prop_oneof![v2, v3_v4, v3_v6]
}

/// Valid message bytes built field by field through the view (not through `Repr`), with a
/// correct checksum in `mode`.
fn valid_bytes() -> impl Strategy<Value = (Vec<u8>, PseudoHeader, ChecksumMode)> {
    (
        any::<bool>(),
        any::<bool>(),
        0..=60usize,
        any::<[u8; 8]>(),
        mode(),
    )
        .prop_flat_map(|(v2, v6, count, header, mode)| {
            let family = if v6 && !v2 {
                AddressFamily::Ipv6
            } else {
                AddressFamily::Ipv4
            };
            let version = if v2 { Version::V2 } else { Version::V3 };
            let len = vrrp_packet::vrrp::message_len(version, count, family);
            (prop::collection::vec(any::<u8>(), len), pseudo(family)).prop_map(
                move |(mut bytes, pseudo)| {
                    bytes[..8].copy_from_slice(&header);
                    bytes[0] = if v2 { 0x21 } else { 0x31 };
                    bytes[3] = count as u8;
                    if !v2 {
                        bytes[4] &= 0x0f; // reserved bits: zero, as a sender must
                    }
                    Packet::new_unchecked(&mut bytes[..]).fill_checksum(&pseudo, mode);
                    (bytes, pseudo, mode.effective(version, family))
                },
            )
        })
}

proptest! {
    #[test]
    fn repr_to_bytes_to_repr((owned, pseudo) in advert(), mode in mode()) {
        let repr = owned.as_repr();
        let mut buf = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut buf[..]), &pseudo, mode);
        let effective = mode.effective(repr.version(), pseudo.family());
        let packet = Packet::new_checked(&buf[..]).unwrap();
        let (parsed, detected) = Repr::parse(&packet, &pseudo, ChecksumModes::only(effective)).unwrap();
        prop_assert_eq!(parsed, repr);
        prop_assert_eq!(detected, effective);
        prop_assert_eq!(OwnedRepr::from(&parsed), owned);
    }

    #[test]
    fn valid_bytes_to_repr_to_bytes((bytes, pseudo, mode) in valid_bytes()) {
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        let (repr, detected) = Repr::parse(&packet, &pseudo, ChecksumModes::only(mode)).unwrap();
        prop_assert_eq!(detected, mode);
        let mut out = vec![0xa5; repr.buffer_len()];
        repr.emit(&mut Packet::new_unchecked(&mut out[..]), &pseudo, detected);
        prop_assert_eq!(out, bytes);
    }

    #[test]
    fn arbitrary_bytes_are_refused_or_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..200), v6 in any::<bool>()) {
        // Same check as the fuzz targets, on the same code.
        let mut input = vec![u8::from(v6)];
        input.extend_from_slice(&[192, 0, 2, 1, 224, 0, 0, 18]);
        if v6 {
            input.extend_from_slice(&[0; 24]);
        }
        input.extend_from_slice(&bytes);
        vrrp_packet::fuzz::vrrp_v3(&input);
        vrrp_packet::fuzz::vrrp_v2(&bytes);
        vrrp_packet::fuzz::vrrp_ipv4_recv(&bytes);
    }

    #[test]
    fn address_lists_compare_by_content(addrs in prop::collection::vec(any::<u32>(), 0..20)) {
        let v4: Vec<Ipv4Addr> = addrs.iter().map(|a| Ipv4Addr::from_bits(*a)).collect();
        let wire: Vec<u8> = v4.iter().flat_map(|a| a.octets()).collect();
        let from_wire = AddressList::from_wire(AddressFamily::Ipv4, &wire).unwrap();
        prop_assert_eq!(from_wire, AddressList::ipv4(&v4));
        prop_assert_eq!(from_wire.len(), v4.len());
        prop_assert!(from_wire.iter().eq(v4.iter().map(|a| std::net::IpAddr::V4(*a))));
    }
}
