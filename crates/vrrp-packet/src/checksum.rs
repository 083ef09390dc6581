//! The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums.
//!
//! One helper for every protocol in lvskit that needs it: VRRP here, and the IPv4 header on the
//! raw-socket path. The sums returned by [`data`], [`pseudo_header_v4`] and [`pseudo_header_v6`]
//! are folded 16-bit ones'-complement sums of big-endian words; add several with [`combine`] and
//! take the complement (`!sum`) to get the value that goes into a checksum field.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Folds a wide accumulator of ones'-complement partial sums into 16 bits.
#[inline(always)]
pub(crate) const fn fold(mut sum: u64) -> u16 {
    sum = (sum & 0xffff_ffff) + (sum >> 32);
    sum = (sum & 0xffff_ffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum as u16
}

/// Ones'-complement sum of `bytes`, taken as big-endian 16-bit words (an odd last byte is padded
/// with a zero byte).
///
/// The words are added in native byte order, eight bytes at a time, and the result is byte-swapped
/// once at the end: the ones'-complement sum does not depend on byte order (RFC 1071, 2.B).
#[inline]
pub fn data(bytes: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(word);
        acc += (word & 0xffff_ffff) + (word >> 32);
    }
    let mut rest = chunks.remainder();
    if rest.len() >= 4 {
        acc += u64::from(u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]));
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        acc += u64::from(u16::from_ne_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
    }
    if let Some(&last) = rest.first() {
        acc += u64::from(u16::from_ne_bytes([last, 0]));
    }
    u16::from_be(fold(acc))
}

/// Ones'-complement sum of several partial sums.
#[inline(always)]
pub fn combine(sums: &[u16]) -> u16 {
    let mut acc: u64 = 0;
    for &sum in sums {
        acc += u64::from(sum);
    }
    fold(acc)
}

/// Sum of the IPv4 pseudo-header (RFC 768, RFC 9568 5.2.8): source, destination, a zero byte,
/// the protocol and the upper-layer length.
#[inline(always)]
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u16 {
    let s = src.octets();
    let d = dst.octets();
    let acc = u64::from(u16::from_be_bytes([s[0], s[1]]))
        + u64::from(u16::from_be_bytes([s[2], s[3]]))
        + u64::from(u16::from_be_bytes([d[0], d[1]]))
        + u64::from(u16::from_be_bytes([d[2], d[3]]))
        + u64::from(protocol)
        + u64::from(length);
    fold(acc)
}

/// Sum of the IPv6 pseudo-header (RFC 8200 8.1): source, destination, the 32-bit upper-layer
/// length and the next-header value.
#[inline(always)]
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> u16 {
    let src = src.to_bits();
    let dst = dst.to_bits();
    let mut acc: u64 =
        u64::from(next_header) + u64::from(length >> 16) + u64::from(length & 0xffff);
    for half in [
        src >> 64,
        src & 0xffff_ffff_ffff_ffff,
        dst >> 64,
        dst & 0xffff_ffff_ffff_ffff,
    ] {
        let half = half as u64;
        acc += (half >> 32) + (half & 0xffff_ffff);
    }
    fold(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slow, obvious definition: big-endian words, one at a time.
    fn reference(bytes: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for pair in bytes.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            acc += u32::from(word);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn data_matches_the_word_by_word_definition_for_every_length_and_alignment() {
        let bytes: [u8; 67] =
            core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(0xf1));
        for start in 0..8 {
            for end in start..bytes.len() {
                assert_eq!(
                    data(&bytes[start..end]),
                    reference(&bytes[start..end]),
                    "{start}..{end}"
                );
            }
        }
        assert_eq!(data(&[0xff; 64]), 0xffff);
        assert_eq!(data(&[]), 0);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        assert_eq!(
            data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn pseudo_headers_match_their_byte_layout() {
        let src = Ipv4Addr::new(192, 0, 2, 1);
        let dst = Ipv4Addr::new(224, 0, 0, 18);
        let mut v4 = [0u8; 12];
        v4[0..4].copy_from_slice(&src.octets());
        v4[4..8].copy_from_slice(&dst.octets());
        v4[9] = 112;
        v4[10..12].copy_from_slice(&16u16.to_be_bytes());
        assert_eq!(pseudo_header_v4(src, dst, 112, 16), reference(&v4));

        let src: Ipv6Addr = "fe80::cc95:8eff:fe97:4ae5".parse().unwrap();
        let dst: Ipv6Addr = "ff02::12".parse().unwrap();
        let mut v6 = [0u8; 40];
        v6[0..16].copy_from_slice(&src.octets());
        v6[16..32].copy_from_slice(&dst.octets());
        v6[32..36].copy_from_slice(&0x0001_0028u32.to_be_bytes());
        v6[39] = 112;
        assert_eq!(pseudo_header_v6(src, dst, 112, 0x0001_0028), reference(&v6));
    }

    #[test]
    fn combine_folds_carries() {
        assert_eq!(combine(&[0xffff, 0x0001]), 0x0001);
        assert_eq!(combine(&[0x8000, 0x8000]), 0x0001);
        assert_eq!(combine(&[]), 0);
    }
}
