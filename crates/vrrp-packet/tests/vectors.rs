//! Every advertisement keepalived 2.2.7 sent in `testdata/vectors/keepalived-2.2.7/` parses to
//! what its `.conf` says and re-emits to the captured bytes, checksum mode included.

mod common;

use std::net::IpAddr;

use common::{Datagram, all_datagrams, conf, pcap_frames, pcapng_frames};
use vrrp_packet::recv::{emit_ipv4, parse_ipv4, parse_ipv6};
use vrrp_packet::{
    AuthType, ChecksumMode, ChecksumModes, MULTICAST_V4, MULTICAST_V6, Packet, Version,
    VersionFields,
};

#[test]
fn pcap_and_pcapng_hold_the_same_frames() {
    for name in common::VECTORS {
        assert_eq!(pcap_frames(name), pcapng_frames(name), "{name}");
    }
}

#[test]
fn every_advertisement_matches_its_config() {
    for (name, datagrams) in all_datagrams() {
        let conf = conf(name);
        assert!(
            datagrams.len() >= 2,
            "{name}: {} advertisements",
            datagrams.len()
        );
        for (index, datagram) in datagrams.iter().enumerate() {
            let what = format!("{name} advertisement {index}");
            let received = match datagram {
                Datagram::V4(bytes) => parse_ipv4(bytes, ChecksumModes::RFC),
                Datagram::V6 {
                    src,
                    dst,
                    hop_limit,
                    payload,
                } => parse_ipv6(payload, *src, *dst, *hop_limit),
            }
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            let vrrp = received.vrrp;

            assert_eq!(u8::from(vrrp.version()), conf.version, "{what}");
            assert_eq!(vrrp.vrid, conf.vrid, "{what}");
            // keepalived resigns with priority 0 when it stops (RFC 9568 6.4.3).
            let last = index == datagrams.len() - 1;
            assert_eq!(
                vrrp.priority,
                if last { 0 } else { conf.priority },
                "{what}"
            );
            assert_eq!(vrrp.advert_interval_cs(), conf.advert_int_cs, "{what}");
            let addresses: Vec<IpAddr> = vrrp.addresses.iter().collect();
            assert_eq!(addresses, conf.addresses, "{what}");
            assert_eq!(received.ttl, 255, "{what}");

            match (vrrp.version, &conf.auth_pass) {
                (
                    VersionFields::V2 {
                        auth_type,
                        auth_data,
                        ..
                    },
                    Some(pass),
                ) => {
                    assert_eq!(auth_type, AuthType::SimpleText, "{what}");
                    let mut expected = [0u8; 8];
                    expected[..pass.len()].copy_from_slice(pass.as_bytes());
                    assert_eq!(auth_data, expected, "{what}");
                }
                (
                    VersionFields::V2 {
                        auth_type,
                        auth_data,
                        ..
                    },
                    None,
                ) => {
                    assert_eq!(auth_type, AuthType::None, "{what}");
                    assert_eq!(auth_data, [0; 8], "{what}");
                }
                (VersionFields::V3 { .. }, pass) => assert_eq!(*pass, None, "{what}"),
            }

            let expected_dst = match (conf.unicast_peers.first(), received.src) {
                (Some(peer), _) => *peer,
                (None, IpAddr::V4(_)) => IpAddr::V4(MULTICAST_V4),
                (None, IpAddr::V6(_)) => IpAddr::V6(MULTICAST_V6),
            };
            assert_eq!(received.dst, expected_dst, "{what}");
            if let Some(src) = conf.unicast_src {
                assert_eq!(received.src, src, "{what}");
            }

            // keepalived's default: v3 over IPv4 with the pseudo-header; v2 has one form.
            let expected_mode = match vrrp.version() {
                Version::V2 => ChecksumMode::NoPseudoHeader,
                _ => ChecksumMode::PseudoHeader,
            };
            assert_eq!(received.checksum_mode, expected_mode, "{what}");
        }
    }
}

#[test]
fn every_advertisement_re_emits_byte_exact() {
    let mut count = 0;
    for (name, datagrams) in all_datagrams() {
        for (index, datagram) in datagrams.iter().enumerate() {
            let what = format!("{name} advertisement {index}");
            match datagram {
                Datagram::V4(bytes) => {
                    // Accept every mode: the one detected must reproduce the bytes.
                    let received = parse_ipv4(bytes, ChecksumModes::ALL).unwrap();
                    let ip = received.ipv4.expect("IPv4 header");
                    let mut out = vec![0xa5; bytes.len()];
                    let len = emit_ipv4(&mut out, &ip, &received.vrrp, received.checksum_mode)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(len, bytes.len(), "{what}");
                    assert_eq!(out, *bytes, "{what}");
                }
                Datagram::V6 {
                    src,
                    dst,
                    hop_limit,
                    payload,
                } => {
                    let received = parse_ipv6(payload, *src, *dst, *hop_limit).unwrap();
                    let mut out = vec![0xa5; payload.len()];
                    let repr = received.vrrp;
                    assert_eq!(repr.buffer_len(), payload.len(), "{what}");
                    repr.emit(
                        &mut Packet::new_unchecked(&mut out[..]),
                        &received.pseudo_header(),
                        received.checksum_mode,
                    );
                    assert_eq!(out, *payload, "{what}");
                }
            }
            count += 1;
        }
    }
    assert!(count >= 15, "only {count} advertisements in the captures");
}

#[test]
fn owned_repr_keeps_what_was_parsed() {
    for (name, datagrams) in all_datagrams() {
        for datagram in &datagrams {
            let vrrp = match datagram {
                Datagram::V4(bytes) => parse_ipv4(bytes, ChecksumModes::ALL).unwrap().vrrp,
                Datagram::V6 {
                    src,
                    dst,
                    hop_limit,
                    payload,
                } => parse_ipv6(payload, *src, *dst, *hop_limit).unwrap().vrrp,
            };
            let owned = vrrp_packet::OwnedRepr::from(&vrrp);
            assert_eq!(owned.as_repr(), vrrp, "{name}");
            assert_eq!(
                datagram.vrrp().len(),
                owned.as_repr().buffer_len(),
                "{name}"
            );
        }
    }
}
