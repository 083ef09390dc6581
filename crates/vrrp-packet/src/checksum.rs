//! The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums.
//!
//! One helper for every protocol in lvskit that needs it: VRRP here, the IPv4 header on the
//! raw-socket path, and `healthcheck`'s ICMP echo and raw TCP SYN. The sums returned by [`data`], [`pseudo_header_v4`] and [`pseudo_header_v6`]
//! are folded 16-bit ones'-complement sums of big-endian words; add several with [`combine`] and
//! take the complement (`!sum`) to get the value that goes into a checksum field.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Folds a wide accumulator of ones'-complement partial sums into 16 bits.
///
/// Two end-around-carry adds: the 32-bit halves, then the 16-bit halves. The result is 0 only
/// for a zero sum; a non-zero multiple of 0xffff gives 0xffff.
#[inline(always)]
pub(crate) const fn fold(sum: u64) -> u16 {
    let (low, carry) = (sum as u32).overflowing_add((sum >> 32) as u32);
    // With a carry, `low` is at most 2^32 - 2: adding it back cannot overflow.
    let sum = low + carry as u32;
    let (low, carry) = (sum as u16).overflowing_add((sum >> 16) as u16);
    low + carry as u16
}

/// Ones'-complement sum of `bytes`, taken as big-endian 16-bit words (an odd last byte is padded
/// with a zero byte).
///
/// The words are added in native byte order, sixteen bytes at a time as 128-bit integers with
/// their carries counted, and the result is byte-swapped once at the end: the ones'-complement
/// sum does not depend on byte order (RFC 1071, 2.B), and 2^16, 2^64 and 2^128 all weigh 1.
#[inline]
pub fn data(bytes: &[u8]) -> u16 {
    from_native(data_native(bytes))
}

// The `*_native` helpers below return an unfolded accumulator of native-order words, so that a
// message and its pseudo-header are added in one accumulator, folded once and swapped once (or
// not at all: a verification compares the fold with 0xffff, which reads the same both ways).
// Each adds at most 2^33 per 8 bytes, so a u64 cannot overflow for any IP payload.

/// The big-endian folded sum from an unfolded native-order accumulator.
#[inline(always)]
pub(crate) const fn from_native(acc: u64) -> u16 {
    u16::from_be(fold(acc))
}

/// Adds the two 32-bit halves of a native-order 8-byte word to an accumulator.
#[inline(always)]
pub(crate) const fn add_halves(word: u64) -> u64 {
    (word & 0xffff_ffff) + (word >> 32)
}

/// A ones'-complement accumulator of 128-bit native-order words: an add, an add-with-carry and
/// a carry count per word.
#[derive(Default)]
pub(crate) struct Wide {
    sum: u128,
    carries: u64,
}

impl Wide {
    /// Adds one 16-byte word.
    #[inline(always)]
    pub(crate) fn add(&mut self, word: u128) {
        let (sum, carry) = self.sum.overflowing_add(word);
        self.sum = sum;
        self.carries += u64::from(carry);
    }

    /// The sum as an unfolded native-order accumulator (see [`data`]).
    #[inline(always)]
    pub(crate) fn finish(&self) -> u64 {
        let (low, carry) = (self.sum as u64).overflowing_add((self.sum >> 64) as u64);
        add_halves(low) + u64::from(carry) + self.carries
    }
}

/// Unfolded native-order sum of `bytes` (see [`data`]).
#[inline(always)]
pub(crate) fn data_native(bytes: &[u8]) -> u64 {
    // 16-byte words added as 128-bit integers, counting the carries out: a carry weighs 2^128,
    // which is 1 in the ones'-complement sum (2^16 is), as are the two 64-bit halves' weights.
    let mut wide = Wide::default();
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let mut word = [0u8; 16];
        word.copy_from_slice(block);
        wide.add(u128::from_ne_bytes(word));
    }
    let mut acc = wide.finish();
    let mut rest = blocks.remainder();
    if let Some((word, tail)) = rest.split_first_chunk::<8>() {
        acc += add_halves(u64::from_ne_bytes(*word));
        rest = tail;
    }
    if let Some((word, tail)) = rest.split_first_chunk::<4>() {
        acc += u64::from(u32::from_ne_bytes(*word));
        rest = tail;
    }
    if let Some((word, tail)) = rest.split_first_chunk::<2>() {
        acc += u64::from(u16::from_ne_bytes(*word));
        rest = tail;
    }
    if let Some(&last) = rest.first() {
        acc += u64::from(u16::from_ne_bytes([last, 0]));
    }
    acc
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
    from_native(pseudo_header_v4_native(src, dst, protocol, length))
}

/// Unfolded native-order sum of the IPv4 pseudo-header (see [`pseudo_header_v4`]).
#[inline(always)]
pub(crate) const fn pseudo_header_v4_native(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    length: u16,
) -> u64 {
    let [l0, l1] = length.to_be_bytes();
    u32::from_ne_bytes(src.octets()) as u64
        + u32::from_ne_bytes(dst.octets()) as u64
        + u32::from_ne_bytes([0, protocol, l0, l1]) as u64
}

/// Sum of the IPv6 pseudo-header (RFC 8200 8.1): source, destination, the 32-bit upper-layer
/// length and the next-header value.
#[inline(always)]
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> u16 {
    from_native(pseudo_header_v6_native(src, dst, next_header, length))
}

/// Unfolded native-order sum of the IPv6 pseudo-header (see [`pseudo_header_v6`]).
#[inline(always)]
pub(crate) const fn pseudo_header_v6_native(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    length: u32,
) -> u64 {
    // Native order: no byte swaps of the addresses, only 32-bit halves added.
    let src = u128::from_ne_bytes(src.octets());
    let dst = u128::from_ne_bytes(dst.octets());
    add_halves(src as u64)
        + add_halves((src >> 64) as u64)
        + add_halves(dst as u64)
        + add_halves((dst >> 64) as u64)
        + u32::from_ne_bytes(length.to_be_bytes()) as u64
        + u32::from_ne_bytes([0, 0, 0, next_header]) as u64
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
    fn data_carries_out_of_64_bits_at_every_length() {
        // All-ones words carry out of every 64-bit add; 0xfe.. bytes make the sum not all ones.
        let mut bytes = [0xffu8; 1500];
        for (i, byte) in bytes.iter_mut().enumerate().step_by(7) {
            *byte = 0xfe ^ (i as u8 & 1);
        }
        for len in (0..bytes.len()).step_by(13).chain(1480..1500) {
            assert_eq!(data(&bytes[..len]), reference(&bytes[..len]), "{len}");
        }
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
    fn fold_is_the_sum_modulo_0xffff_with_zero_only_for_zero() {
        for sum in [
            0u64,
            1,
            0xffff,
            0x1_0000,
            0x1_fffe,
            0xffff_ffff,
            0x1_0000_0000,
            0xffff_ffff_ffff_ffff,
            0x8000_0000_8000_0000,
            0xfffe_0001_0000_ffff,
            0x1234_5678_9abc_def0,
        ] {
            let expected = match sum % 0xffff {
                0 if sum != 0 => 0xffff,
                rest => rest as u16,
            };
            assert_eq!(fold(sum), expected, "{sum:#x}");
        }
    }

    #[test]
    fn combine_folds_carries() {
        assert_eq!(combine(&[0xffff, 0x0001]), 0x0001);
        assert_eq!(combine(&[0x8000, 0x8000]), 0x0001);
        assert_eq!(combine(&[]), 0);
    }
}
