#![no_std]
//! VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568) advertisement codecs: zero-copy views and reprs, no_std.
//!
//! The shape follows smoltcp's `wire` module: [`Packet`] is a view over a buffer with a getter and
//! a setter per field, and [`Repr`] is the message at a high level, with
//! [`parse`](Repr::parse), [`buffer_len`](Repr::buffer_len) and [`emit`](Repr::emit). A `Repr`
//! borrows its address list from the buffer it was parsed from, so the parse and emit paths never
//! allocate; with the `alloc` feature, [`OwnedRepr`] keeps one beyond the buffer's life.
//!
//! # Checksums
//! v2 sums the VRRP message. v3 over IPv6 adds the IPv6 pseudo-header. v3 over IPv4 is where
//! deployed routers disagree, so there are three [`ChecksumMode`]s: with the IPv4 pseudo-header
//! (RFC 9568; keepalived's and FRR's default), without it (keepalived's `v3_checksum_as_v2`, Cisco,
//! Juniper), and with a pseudo-header whose destination is 224.0.0.18 even for unicast
//! (keepalived ≤ 1.3.6). A sender emits in one mode; a receiver accepts a [`ChecksumModes`] set
//! and learns which mode matched.
//!
//! # Receive path
//! [`recv::parse_ipv4`] takes what a raw IPv4 socket delivers (the IP header, then VRRP) and
//! checks both; [`recv::parse_ipv6`] takes the payload plus the hop limit and addresses from
//! ancillary data. [`recv::emit_ipv4`] writes header and message for `IP_HDRINCL` sockets.
//!
//! # Panics
//! Nothing here panics on bad input: every malformed message is an [`Error`]. After
//! [`Packet::check_len`] no getter panics, and [`Repr::emit`] never panics on a buffer of exactly
//! [`Repr::buffer_len`] bytes (see the [`vrrp`] module).
//!
//! # Example
//! ```
//! use core::net::Ipv4Addr;
//! use vrrp_packet::{AddressList, ChecksumMode, ChecksumModes, Packet, PseudoHeader, Repr, VersionFields};
//!
//! let vips = [Ipv4Addr::new(192, 0, 2, 200), Ipv4Addr::new(192, 0, 2, 201)];
//! let repr = Repr {
//!     vrid: 7,
//!     priority: 150,
//!     version: VersionFields::V3 { max_advert_interval_cs: 50 },
//!     addresses: AddressList::ipv4(&vips),
//! };
//! let pseudo = PseudoHeader::V4 { src: Ipv4Addr::new(192, 0, 2, 1), dst: vrrp_packet::MULTICAST_V4 };
//! let mut buf = [0u8; 64];
//! let len = repr.emit_into(&mut buf, &pseudo, ChecksumMode::PseudoHeader)?;
//!
//! let (parsed, mode) = Repr::parse(&Packet::new_checked(&buf[..len])?, &pseudo, ChecksumModes::ALL)?;
//! assert_eq!(parsed, repr);
//! assert_eq!(mode, ChecksumMode::PseudoHeader);
//! # Ok::<(), vrrp_packet::Error>(())
//! ```
//!
//! # What it does not do
//! No sockets, timers or state machine (that is `vrrp-fsm`); IPv6 extension headers and link
//! layers only for reading captures ([`capture`]); no IPsec AH (v2 auth type 2 is carried, not checked), no IPv4 reassembly: fragments are refused.

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "pcap")]
extern crate std;

pub mod capture;
#[cfg(feature = "pcap")]
pub mod capture_file;
pub mod checksum;
#[cfg(feature = "alloc")]
pub mod fuzz;
pub mod ipv4;
#[cfg(feature = "alloc")]
mod owned;
pub mod recv;
pub mod vrrp;

#[cfg(feature = "alloc")]
pub use owned::{OwnedAddresses, OwnedRepr};
pub use vrrp::{
    AddressFamily, AddressList, Addresses, AuthType, ChecksumMode, ChecksumModes, IP_PROTOCOL,
    MULTICAST_V4, MULTICAST_V6, MessageType, Packet, PseudoHeader, Repr, TTL, Version,
    VersionFields,
};

/// The VRRP virtual MAC of a virtual router (RFC 9568 7.3): `00:00:5e:00:01:VRID` for IPv4,
/// `00:00:5e:00:02:VRID` for IPv6. The one definition for `garp` (announcing from it) and `vip`
/// (VMAC interfaces).
pub const fn virtual_mac(family: AddressFamily, vrid: u8) -> [u8; 6] {
    let kind = match family {
        AddressFamily::Ipv4 => 1,
        AddressFamily::Ipv6 => 2,
    };
    [0x00, 0x00, 0x5e, 0x00, kind, vrid]
}

/// Everything that can be wrong with a message, its IPv4 header, or a buffer to emit into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before a fixed header does.
    #[error("truncated: need at least {needed} bytes, found {found}")]
    Truncated {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes there are.
        found: usize,
    },
    /// The VRRP version is neither 2 nor 3.
    #[error("bad VRRP version: expected 2 or 3, found {0}")]
    BadVersion(u8),
    /// The VRRP type is not 1 (advertisement).
    #[error("bad VRRP type: expected 1 (advertisement), found {0}")]
    BadType(u8),
    /// VRRPv2 is defined for IPv4 only.
    #[error("VRRPv2 over IPv6: version 2 is IPv4 only")]
    V2OverIpv6,
    /// The message length does not match its address count.
    #[error(
        "address count {count} does not match the length: expected {expected} bytes, found {found}"
    )]
    AddressCountMismatch {
        /// The count field.
        count: u8,
        /// Length the count calls for.
        expected: usize,
        /// Length there is.
        found: usize,
    },
    /// The VRRP checksum matches none of the accepted modes.
    #[error("bad VRRP checksum {found:#06x}: no accepted checksum mode matches")]
    BadChecksum {
        /// The checksum field.
        found: u16,
    },
    /// TTL or hop limit is not 255, so the message may come from off-link.
    #[error("bad TTL/hop limit: expected 255, found {0}")]
    BadTtl(u8),
    /// The IP payload is another protocol.
    #[error("not VRRP: expected IP protocol 112, found {0}")]
    NotVrrp(u8),
    /// The IP version is not 4.
    #[error("bad IP version: expected 4, found {0}")]
    BadIpVersion(u8),
    /// The IPv4 header length is under 20 or beyond the buffer.
    #[error("bad IPv4 header length {header_len}: expected 20..={available}")]
    BadIpHeaderLength {
        /// IHL × 4.
        header_len: usize,
        /// Bytes in the buffer.
        available: usize,
    },
    /// The IPv4 total length is shorter than the header or beyond the buffer.
    #[error("bad IPv4 total length {total_len}: expected {header_len}..={available}")]
    BadIpTotalLength {
        /// The total length field.
        total_len: usize,
        /// The header length.
        header_len: usize,
        /// Bytes in the buffer.
        available: usize,
    },
    /// The IPv4 header checksum is wrong.
    #[error("bad IPv4 header checksum: expected {expected:#06x}, found {found:#06x}")]
    BadIpChecksum {
        /// The checksum field.
        found: u16,
        /// What the header sums to.
        expected: u16,
    },
    /// The datagram is a fragment (or has the reserved flag set); VRRP messages never are.
    #[error("IPv4 fragment or reserved flag: expected flags/offset 0 or DF, found {0:#06x}")]
    Fragmented(u16),
    /// The buffer to emit into is too short.
    #[error("buffer too small: need {needed} bytes, found {found}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes there are.
        found: usize,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
