//! Every truncation and every single-bit flip of every captured advertisement is either refused
//! with an error or parses to something that re-emits the same bytes; nothing panics.

mod common;

use common::{Datagram, all_datagrams};
use vrrp_packet::recv::{emit_ipv4, parse_ipv4, parse_ipv6};
use vrrp_packet::{AddressFamily, ChecksumModes, Packet, Repr};

/// What the receive path makes of `datagram`: `None` when refused, else the re-emitted bytes.
fn receive_and_re_emit(datagram: &Datagram) -> Option<Vec<u8>> {
    match datagram {
        Datagram::V4(bytes) => {
            // The unverified parse must not panic either.
            let _ = Repr::parse_unverified(
                &Packet::new_unchecked(datagram.vrrp()),
                AddressFamily::Ipv4,
            );
            let received = parse_ipv4(bytes, ChecksumModes::ALL).ok()?;
            let ip = received.ipv4.expect("IPv4 header");
            let mut out = vec![0xa5; ip.buffer_len() + received.vrrp.buffer_len()];
            emit_ipv4(&mut out, &ip, &received.vrrp, received.checksum_mode).expect("emit");
            Some(out)
        }
        Datagram::V6 {
            src,
            dst,
            hop_limit,
            payload,
        } => {
            let _ =
                Repr::parse_unverified(&Packet::new_unchecked(&payload[..]), AddressFamily::Ipv6);
            let received = parse_ipv6(payload, *src, *dst, *hop_limit).ok()?;
            let mut out = vec![0xa5; received.vrrp.buffer_len()];
            received.vrrp.emit(
                &mut Packet::new_unchecked(&mut out[..]),
                &received.pseudo_header(),
                received.checksum_mode,
            );
            Some(out)
        }
    }
}

fn bytes_of(datagram: &Datagram) -> &[u8] {
    match datagram {
        Datagram::V4(bytes) => bytes,
        Datagram::V6 { payload, .. } => payload,
    }
}

fn with_bytes(datagram: &Datagram, bytes: Vec<u8>) -> Datagram {
    match datagram {
        Datagram::V4(_) => Datagram::V4(bytes),
        Datagram::V6 {
            src,
            dst,
            hop_limit,
            ..
        } => Datagram::V6 {
            src: *src,
            dst: *dst,
            hop_limit: *hop_limit,
            payload: bytes,
        },
    }
}

#[test]
fn every_truncation_is_refused() {
    let mut tried = 0;
    for (name, datagrams) in all_datagrams() {
        for datagram in &datagrams {
            let bytes = bytes_of(datagram);
            assert!(
                receive_and_re_emit(datagram).is_some(),
                "{name}: the capture itself"
            );
            for len in 0..bytes.len() {
                let short = with_bytes(datagram, bytes[..len].to_vec());
                // No shorter message can re-emit the same bytes: it must be refused.
                assert_eq!(
                    receive_and_re_emit(&short),
                    None,
                    "{name} cut to {len} bytes"
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 500, "{tried}");
}

#[test]
fn every_bit_flip_is_refused_or_re_emits_identically() {
    let (mut refused, mut accepted) = (0, 0);
    for (name, datagrams) in all_datagrams() {
        for datagram in &datagrams {
            let bytes = bytes_of(datagram);
            for bit in 0..bytes.len() * 8 {
                let mut flipped = bytes.to_vec();
                flipped[bit / 8] ^= 0x80 >> (bit % 8);
                match receive_and_re_emit(&with_bytes(datagram, flipped.clone())) {
                    None => refused += 1,
                    Some(out) => {
                        assert_eq!(out, flipped, "{name}, bit {bit} flipped");
                        accepted += 1;
                    }
                }
            }
        }
    }
    // The checksums catch every single-bit error, so none should be accepted.
    assert_eq!(accepted, 0);
    assert!(refused > 5000, "{refused}");
}

#[test]
fn flipping_a_pseudo_header_address_bit_is_refused() {
    for (name, datagrams) in all_datagrams() {
        for datagram in &datagrams {
            if let Datagram::V6 {
                src,
                dst,
                hop_limit,
                payload,
            } = datagram
            {
                for bit in 0..128 {
                    let flip = |a: std::net::Ipv6Addr| {
                        std::net::Ipv6Addr::from_bits(a.to_bits() ^ (1 << bit))
                    };
                    assert!(
                        parse_ipv6(payload, flip(*src), *dst, *hop_limit).is_err(),
                        "{name} src bit {bit}"
                    );
                    assert!(
                        parse_ipv6(payload, *src, flip(*dst), *hop_limit).is_err(),
                        "{name} dst bit {bit}"
                    );
                }
            }
        }
    }
}
