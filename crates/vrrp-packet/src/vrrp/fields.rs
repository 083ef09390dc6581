//! The field enums of the fixed header (version, type, authentication) and the address family
//! the IP layer gives. Reading a field never fails: unknown values have an `Unknown` variant.

use core::net::IpAddr;

/// The version nibble. Reading it never fails; only [`Repr::parse`](super::Repr::parse) rejects unknown versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// VRRPv2, RFC 3768: IPv4 only, seconds, authentication fields.
    V2,
    /// VRRPv3, RFC 9568: IPv4 and IPv6, centiseconds, pseudo-header checksum.
    V3,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Version {
    fn from(value: u8) -> Self {
        match value {
            2 => Self::V2,
            3 => Self::V3,
            other => Self::Unknown(other),
        }
    }
}

impl From<Version> for u8 {
    fn from(value: Version) -> Self {
        match value {
            Version::V2 => 2,
            Version::V3 => 3,
            Version::Unknown(other) => other,
        }
    }
}

/// The type nibble: only advertisements exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// The one VRRP message (type 1).
    Advertisement,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => Self::Advertisement,
            other => Self::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> Self {
        match value {
            MessageType::Advertisement => 1,
            MessageType::Unknown(other) => other,
        }
    }
}

/// The v2 authentication type. RFC 3768 removed authentication, but keepalived still sends
/// simple-text passwords (`auth_type PASS`), so the value and the data are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// 0: no authentication.
    None,
    /// 1: a plain-text password in the authentication data (RFC 2338).
    SimpleText,
    /// 2: IP Authentication Header (RFC 2338); the data is in the AH header, not here.
    IpAh,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for AuthType {
    fn from(value: u8) -> Self {
        match value {
            0 => Self::None,
            1 => Self::SimpleText,
            2 => Self::IpAh,
            other => Self::Unknown(other),
        }
    }
}

impl From<AuthType> for u8 {
    fn from(value: AuthType) -> Self {
        match value {
            AuthType::None => 0,
            AuthType::SimpleText => 1,
            AuthType::IpAh => 2,
            AuthType::Unknown(other) => other,
        }
    }
}

/// Which IP family carries the message; it decides the address size and the pseudo-header.
///
/// The workspace's one address family: `vrrp-fsm` re-exports it as `Family`; `vip::Family`,
/// `ipvs::Family` and `keepalived_conf::model::Family` keep their own spelling (`V4`, `inet`) and
/// convert to and from it (`From` both ways, tested in each of those crates), so any two of them
/// meet through this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddressFamily {
    /// 4-byte addresses.
    Ipv4,
    /// 16-byte addresses.
    Ipv6,
}

impl AddressFamily {
    /// The family of `address`.
    #[inline]
    pub const fn of(address: &IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Self::Ipv4,
            IpAddr::V6(_) => Self::Ipv6,
        }
    }

    /// Bytes per address in the list.
    #[inline]
    pub const fn address_len(self) -> usize {
        match self {
            Self::Ipv4 => 4,
            Self::Ipv6 => 16,
        }
    }

    /// The longest prefix length in this family: 32 or 128 (the bits of an address).
    #[inline]
    pub const fn max_prefix(self) -> u8 {
        match self {
            Self::Ipv4 => 32,
            Self::Ipv6 => 128,
        }
    }
}
