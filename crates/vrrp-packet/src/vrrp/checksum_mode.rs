//! How a message's checksum is computed: the [`ChecksumMode`]s deployed routers disagree on, the
//! set a receiver accepts, and the [`PseudoHeader`] the modes cover.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// How a v3 checksum over IPv4 is computed. Deployed routers disagree (see the crate docs), so a
/// receiver accepts a set of these and learns which one a peer uses.
///
/// v2 is always summed without a pseudo-header and v3 over IPv6 always with one; for those the
/// mode passed to emit is ignored and the mode reported on receive is the one the RFC defines.
/// When several accepted modes give the same sum (for multicast, [`Self::PseudoHeader`] and
/// [`Self::LegacyMulticastDestination`] always do), the first in [`Self::ALL`] is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumMode {
    /// With the IPv4 pseudo-header, as RFC 9568 says: keepalived's and FRR's default.
    PseudoHeader,
    /// Over the VRRP message only, as v2 does: keepalived's `v3_checksum_as_v2`, Cisco, Juniper.
    NoPseudoHeader,
    /// With a pseudo-header whose destination is 224.0.0.18 even for unicast: keepalived ≤ 1.3.6.
    LegacyMulticastDestination,
}

impl ChecksumMode {
    /// All modes, in the order a receiver tries them.
    pub const ALL: [Self; 3] = [
        Self::PseudoHeader,
        Self::NoPseudoHeader,
        Self::LegacyMulticastDestination,
    ];

    /// A short stable name, for logs and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PseudoHeader => "pseudo_header",
            Self::NoPseudoHeader => "no_pseudo_header",
            Self::LegacyMulticastDestination => "legacy_multicast_destination",
        }
    }

    #[inline]
    const fn bit(self) -> u8 {
        match self {
            Self::PseudoHeader => 1,
            Self::NoPseudoHeader => 2,
            Self::LegacyMulticastDestination => 4,
        }
    }

    /// The mode that really applies to a message of `version` over `family`.
    #[inline]
    pub const fn effective(self, version: Version, family: AddressFamily) -> Self {
        match (version, family) {
            (Version::V2, _) => Self::NoPseudoHeader,
            (_, AddressFamily::Ipv6) => Self::PseudoHeader,
            _ => self,
        }
    }
}

impl fmt::Display for ChecksumMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`ChecksumMode`]s a receiver accepts for v3 over IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChecksumModes(u8);

impl ChecksumModes {
    /// No mode: every v3 IPv4 message fails its checksum.
    pub const NONE: Self = Self(0);
    /// Only what RFC 9568 says.
    pub const RFC: Self = Self(ChecksumMode::PseudoHeader.bit());
    /// All three: learn whatever a peer uses.
    pub const ALL: Self = Self(7);

    /// A set of one mode.
    pub const fn only(mode: ChecksumMode) -> Self {
        Self(mode.bit())
    }

    /// This set and `mode`.
    #[must_use]
    pub const fn with(self, mode: ChecksumMode) -> Self {
        Self(self.0 | mode.bit())
    }

    /// Whether `mode` is in the set.
    #[inline]
    pub const fn contains(self, mode: ChecksumMode) -> bool {
        self.0 & mode.bit() != 0
    }
}

impl Default for ChecksumModes {
    fn default() -> Self {
        Self::RFC
    }
}

/// The IP source and destination, which the checksum covers in the pseudo-header modes, and which
/// tell the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    /// Over IPv4.
    V4 {
        /// IP source address.
        src: Ipv4Addr,
        /// IP destination address (224.0.0.18 or a unicast peer).
        dst: Ipv4Addr,
    },
    /// Over IPv6.
    V6 {
        /// IP source address (link-local, RFC 9568 5.1.2.1).
        src: Ipv6Addr,
        /// IP destination address (ff02::12 or a unicast peer).
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    /// The family of these addresses.
    #[inline]
    pub const fn family(&self) -> AddressFamily {
        match self {
            Self::V4 { .. } => AddressFamily::Ipv4,
            Self::V6 { .. } => AddressFamily::Ipv6,
        }
    }

    /// Source address.
    pub const fn src(&self) -> IpAddr {
        match *self {
            Self::V4 { src, .. } => IpAddr::V4(src),
            Self::V6 { src, .. } => IpAddr::V6(src),
        }
    }

    /// Destination address.
    pub const fn dst(&self) -> IpAddr {
        match *self {
            Self::V4 { dst, .. } => IpAddr::V4(dst),
            Self::V6 { dst, .. } => IpAddr::V6(dst),
        }
    }

    /// The pseudo-header's share of the checksum of a `len`-byte message of `version`, in `mode`,
    /// as an unfolded native-order accumulator (see [`checksum::data`]).
    #[inline(always)]
    pub(super) fn sum_native(&self, version: Version, mode: ChecksumMode, len: usize) -> u64 {
        // The same choice as `ChecksumMode::effective`: v2 never, IPv6 always, else `mode`.
        match self {
            _ if version == Version::V2 => 0,
            Self::V6 { src, dst } => {
                checksum::pseudo_header_v6_native(*src, *dst, IP_PROTOCOL, len as u32)
            }
            Self::V4 { src, dst } => match mode {
                ChecksumMode::NoPseudoHeader => 0,
                ChecksumMode::PseudoHeader => {
                    checksum::pseudo_header_v4_native(*src, *dst, IP_PROTOCOL, len as u16)
                }
                ChecksumMode::LegacyMulticastDestination => {
                    checksum::pseudo_header_v4_native(*src, MULTICAST_V4, IP_PROTOCOL, len as u16)
                }
            },
        }
    }
}
