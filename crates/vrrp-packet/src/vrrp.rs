//! The VRRP advertisement: a zero-copy [`Packet`] view and a high-level [`Repr`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Version| Type  | Virtual Rtr ID|   Priority    |  Count Addrs  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2: |   Auth Type   |   Adver Int   |          Checksum         |
//! v3: |(rsvd) |     Max Adver Int     |          Checksum         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          IPv4 (4 bytes) or IPv6 (16 bytes) addresses ...       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! v2 only: |        Authentication Data (8 bytes)                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! VRRP has no length field: the message is the whole IP payload, so a [`Packet`]'s buffer must be
//! exactly the VRRP message. The address family is not in the message either; it comes from the IP
//! layer, which is why parsing takes a [`PseudoHeader`] or an [`AddressFamily`].
//!
//! # Panics
//! After [`Packet::check_len`] passes (or [`Packet::new_checked`] returns `Ok`), no getter panics:
//! the fixed header getters read the first eight bytes, and the getters whose place depends on the
//! address count return `Option`. [`Repr::emit`] never panics on a buffer of exactly
//! [`Repr::buffer_len`] bytes. Setters of the variable part panic when the index is outside the
//! buffer, as slice indexing does.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::{Error, Result};

/// IP protocol number of VRRP (IANA), for IPv4 `protocol` and IPv6 `next header`.
pub const IP_PROTOCOL: u8 = 112;
/// The only TTL / hop limit a VRRP advertisement may arrive with (RFC 3768 7.1, RFC 9568 7.1).
pub const TTL: u8 = 255;
/// The IPv4 multicast group advertisements are sent to.
pub const MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 multicast group advertisements are sent to.
pub const MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// Length of the fixed header, before the address list.
pub const HEADER_LEN: usize = field::HEADER_LEN;
/// Length of the v2 authentication data that follows the address list.
pub const AUTH_DATA_LEN: usize = field::AUTH_DATA_LEN;
/// The largest v3 max advertisement interval: the field has 12 bits.
pub const MAX_ADVERT_INTERVAL_CS: u16 = 0x0fff;

mod field {
    use core::ops::Range;

    pub(crate) type Field = Range<usize>;

    pub(crate) const VERSION_TYPE: usize = 0;
    pub(crate) const VRID: usize = 1;
    pub(crate) const PRIORITY: usize = 2;
    pub(crate) const COUNT: usize = 3;
    /// v2 only.
    pub(crate) const AUTH_TYPE: usize = 4;
    /// v2 only, seconds.
    pub(crate) const ADVER_INT: usize = 5;
    /// v3 only: 4 reserved bits, then 12 bits of centiseconds.
    pub(crate) const MAX_ADVER_INT: Field = 4..6;
    pub(crate) const CHECKSUM: Field = 6..8;
    pub(crate) const HEADER_LEN: usize = 8;
    pub(crate) const AUTH_DATA_LEN: usize = 8;

    /// Bytes of address number `index`, for addresses of `addr_len` bytes.
    pub(crate) const fn address(index: usize, addr_len: usize) -> Field {
        let start = HEADER_LEN + index * addr_len;
        start..start + addr_len
    }

    /// Bytes of the whole address list.
    pub(crate) const fn addresses(count: usize, addr_len: usize) -> Field {
        HEADER_LEN..HEADER_LEN + count * addr_len
    }

    /// Bytes of the v2 authentication data, after `count` IPv4 addresses.
    pub(crate) const fn auth_data(count: usize) -> Field {
        let start = HEADER_LEN + count * 4;
        start..start + AUTH_DATA_LEN
    }
}

/// The version nibble. Reading it never fails; only [`Repr::parse`] rejects unknown versions.
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
/// The workspace's one address family for VRRP: `vrrp-fsm` re-exports it as `Family`, and `vip`
/// converts its own `Family` to and from it.
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
}

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
    fn sum_native(&self, version: Version, mode: ChecksumMode, len: usize) -> u64 {
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

/// The length a message of `version` with `count` addresses of `family` must have.
#[inline]
pub const fn message_len(version: Version, count: usize, family: AddressFamily) -> usize {
    let end = field::addresses(count, family.address_len()).end;
    match version {
        Version::V2 => end + field::AUTH_DATA_LEN,
        _ => end,
    }
}

/// A read/write view of a VRRP message in a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking anything; getters may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed header is there, so no getter can panic.
    ///
    /// Whether the address list fits is checked by [`Repr::parse`], which knows the family.
    pub fn check_len(&self) -> Result<()> {
        let found = self.buffer.as_ref().len();
        if found < field::HEADER_LEN {
            return Err(Error::Truncated {
                needed: field::HEADER_LEN,
                found,
            });
        }
        Ok(())
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version nibble.
    pub fn version(&self) -> Version {
        Version::from(self.buffer.as_ref()[field::VERSION_TYPE] >> 4)
    }

    /// Type nibble.
    pub fn msg_type(&self) -> MessageType {
        MessageType::from(self.buffer.as_ref()[field::VERSION_TYPE] & 0x0f)
    }

    /// Virtual router ID.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// Priority: 255 for the address owner, 0 when a master resigns.
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// Number of addresses in the list.
    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// v2 authentication type (meaningless in v3).
    pub fn auth_type(&self) -> AuthType {
        AuthType::from(self.buffer.as_ref()[field::AUTH_TYPE])
    }

    /// v2 advertisement interval in seconds (meaningless in v3).
    pub fn advert_interval_s(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// v3 maximum advertisement interval in centiseconds, 12 bits (meaningless in v2).
    pub fn max_advert_interval_cs(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::MAX_ADVER_INT];
        u16::from_be_bytes([b[0], b[1]]) & MAX_ADVERT_INTERVAL_CS
    }

    /// v3 reserved bits, which are sent as zero and ignored on receipt.
    pub fn reserved_v3(&self) -> u8 {
        self.buffer.as_ref()[field::MAX_ADVER_INT.start] >> 4
    }

    /// The checksum field as it is.
    pub fn checksum(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::CHECKSUM];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Address `index` of the list, if the buffer holds it.
    pub fn address(&self, index: usize, family: AddressFamily) -> Option<IpAddr> {
        if index > usize::from(u8::MAX) {
            return None;
        }
        let bytes = self
            .buffer
            .as_ref()
            .get(field::address(index, family.address_len()))?;
        Some(ip_from_bytes(bytes, family))
    }

    /// The v2 authentication data after `addr_count` IPv4 addresses, if the buffer holds it.
    pub fn auth_data(&self) -> Option<[u8; AUTH_DATA_LEN]> {
        let bytes = self
            .buffer
            .as_ref()
            .get(field::auth_data(usize::from(self.addr_count())))?;
        let mut data = [0; AUTH_DATA_LEN];
        data.copy_from_slice(bytes);
        Some(data)
    }

    /// Checks the checksum against the modes in `accept` (see [`ChecksumMode`] for v2 and IPv6)
    /// and says which one matched.
    ///
    /// A field of 0xffff never matches: a sender computes 0x0000 where 0xffff would also sum
    /// right, and accepting both would make a message that cannot be re-emitted as it came.
    pub fn verify_checksum(
        &self,
        pseudo: &PseudoHeader,
        accept: ChecksumModes,
    ) -> Option<ChecksumMode> {
        matching_mode(
            self.buffer.as_ref(),
            self.version(),
            self.checksum(),
            pseudo,
            accept,
        )
    }
}

/// The first mode (in [`ChecksumMode::ALL`] order) whose checksum of `bytes` is `found`.
#[inline]
fn matching_mode(
    bytes: &[u8],
    version: Version,
    found: u16,
    pseudo: &PseudoHeader,
    accept: ChecksumModes,
) -> Option<ChecksumMode> {
    if found == 0xffff {
        return None;
    }
    // Message and pseudo-header go into one native-order accumulator; a correct message sums
    // to 0xffff, which needs no byte swap to compare.
    let message = checksum::data_native(bytes);
    let family = pseudo.family();
    // v2 and IPv6 have exactly one correct form; only v3 over IPv4 consults `accept`.
    if version == Version::V2 || family == AddressFamily::Ipv6 {
        let mode = ChecksumMode::PseudoHeader.effective(version, family);
        let total = checksum::fold(message + pseudo.sum_native(version, mode, bytes.len()));
        return (total == 0xffff).then_some(mode);
    }
    for mode in ChecksumMode::ALL {
        if !accept.contains(mode) {
            continue;
        }
        let total = checksum::fold(message + pseudo.sum_native(version, mode, bytes.len()));
        if total == 0xffff {
            return Some(mode);
        }
    }
    None
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and type.
    pub fn set_version_type(&mut self, version: Version, msg_type: MessageType) {
        self.buffer.as_mut()[field::VERSION_TYPE] =
            (u8::from(version) << 4) | (u8::from(msg_type) & 0x0f);
    }

    /// Sets the virtual router ID.
    pub fn set_vrid(&mut self, value: u8) {
        self.buffer.as_mut()[field::VRID] = value;
    }

    /// Sets the priority.
    pub fn set_priority(&mut self, value: u8) {
        self.buffer.as_mut()[field::PRIORITY] = value;
    }

    /// Sets the address count.
    pub fn set_addr_count(&mut self, value: u8) {
        self.buffer.as_mut()[field::COUNT] = value;
    }

    /// Sets the v2 authentication type.
    pub fn set_auth_type(&mut self, value: AuthType) {
        self.buffer.as_mut()[field::AUTH_TYPE] = value.into();
    }

    /// Sets the v2 advertisement interval in seconds.
    pub fn set_advert_interval_s(&mut self, value: u8) {
        self.buffer.as_mut()[field::ADVER_INT] = value;
    }

    /// Sets the v3 maximum advertisement interval (the low 12 bits of `value`) and clears the
    /// reserved bits.
    pub fn set_max_advert_interval_cs(&mut self, value: u16) {
        self.buffer.as_mut()[field::MAX_ADVER_INT]
            .copy_from_slice(&(value & MAX_ADVERT_INTERVAL_CS).to_be_bytes());
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Writes address `index`; its family decides its size.
    ///
    /// # Panics
    /// When the buffer does not reach that far.
    pub fn set_address(&mut self, index: usize, address: IpAddr) {
        match address {
            IpAddr::V4(a) => {
                self.buffer.as_mut()[field::address(index, 4)].copy_from_slice(&a.octets())
            }
            IpAddr::V6(a) => {
                self.buffer.as_mut()[field::address(index, 16)].copy_from_slice(&a.octets())
            }
        }
    }

    /// Writes the v2 authentication data after `addr_count` IPv4 addresses.
    ///
    /// # Panics
    /// When the buffer does not reach that far.
    pub fn set_auth_data(&mut self, data: &[u8; AUTH_DATA_LEN]) {
        let range = field::auth_data(usize::from(self.addr_count()));
        self.buffer.as_mut()[range].copy_from_slice(data);
    }

    /// Computes the checksum in `mode` (see [`ChecksumMode`] for v2 and IPv6) and writes it.
    pub fn fill_checksum(&mut self, pseudo: &PseudoHeader, mode: ChecksumMode) {
        self.set_checksum(0);
        let version = self.version();
        let bytes = self.buffer.as_ref();
        let sum = checksum::from_native(
            checksum::data_native(bytes) + pseudo.sum_native(version, mode, bytes.len()),
        );
        self.set_checksum(!sum);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

#[inline]
fn ip_from_bytes(bytes: &[u8], family: AddressFamily) -> IpAddr {
    match family {
        AddressFamily::Ipv4 => {
            let mut octets = [0; 4];
            octets.copy_from_slice(&bytes[..4]);
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        AddressFamily::Ipv6 => {
            let mut octets = [0; 16];
            octets.copy_from_slice(&bytes[..16]);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
    }
}

/// The address list of a [`Repr`]: borrowed from a received buffer, or from the caller's slice
/// when building a message. Equality compares the addresses, not where they are kept.
#[derive(Clone, Copy)]
pub struct AddressList<'a>(AddressStore<'a>);

#[derive(Clone, Copy)]
enum AddressStore<'a> {
    /// Wire bytes, a whole number of addresses of the family.
    Wire(AddressFamily, &'a [u8]),
    V4(&'a [Ipv4Addr]),
    V6(&'a [Ipv6Addr]),
}

impl<'a> AddressList<'a> {
    /// A list of IPv4 addresses.
    pub const fn ipv4(addresses: &'a [Ipv4Addr]) -> Self {
        Self(AddressStore::V4(addresses))
    }

    /// A list of IPv6 addresses.
    pub const fn ipv6(addresses: &'a [Ipv6Addr]) -> Self {
        Self(AddressStore::V6(addresses))
    }

    /// A list read from wire bytes; `None` unless `bytes` is a whole number of addresses.
    pub fn from_wire(family: AddressFamily, bytes: &'a [u8]) -> Option<Self> {
        bytes
            .len()
            .is_multiple_of(family.address_len())
            .then_some(Self(AddressStore::Wire(family, bytes)))
    }

    /// The family of the addresses.
    #[inline]
    pub const fn family(&self) -> AddressFamily {
        match self.0 {
            AddressStore::Wire(family, _) => family,
            AddressStore::V4(_) => AddressFamily::Ipv4,
            AddressStore::V6(_) => AddressFamily::Ipv6,
        }
    }

    /// Number of addresses.
    #[inline]
    pub const fn len(&self) -> usize {
        match self.0 {
            AddressStore::Wire(family, bytes) => bytes.len() / family.address_len(),
            AddressStore::V4(list) => list.len(),
            AddressStore::V6(list) => list.len(),
        }
    }

    /// Whether there is none.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Address `index`.
    pub fn get(&self, index: usize) -> Option<IpAddr> {
        match self.0 {
            AddressStore::Wire(family, bytes) => index
                .checked_mul(family.address_len())
                .and_then(|start| bytes.get(start..))
                .filter(|rest| rest.len() >= family.address_len())
                .map(|rest| ip_from_bytes(rest, family)),
            AddressStore::V4(list) => list.get(index).map(|&a| IpAddr::V4(a)),
            AddressStore::V6(list) => list.get(index).map(|&a| IpAddr::V6(a)),
        }
    }

    /// The addresses in order.
    pub fn iter(&self) -> Addresses<'a> {
        Addresses {
            list: *self,
            next: 0,
        }
    }

    /// Writes the list at the start of `out`, which must be `len() * address_len` bytes, and
    /// returns the unfolded native-order sum of what it wrote (see [`checksum::data`]). The sum
    /// is taken from the addresses themselves in the same pass: `emit` never reads back what it
    /// has just written (narrow stores read back by wide loads stall on store forwarding).
    #[inline]
    fn write_and_sum_native(&self, out: &mut [u8]) -> u64 {
        match self.0 {
            AddressStore::Wire(_, bytes) => {
                out.copy_from_slice(bytes);
                checksum::data_native(bytes)
            }
            AddressStore::V4(list) => out
                .chunks_exact_mut(4)
                .zip(list)
                .map(|(chunk, address)| {
                    let octets = address.octets();
                    chunk.copy_from_slice(&octets);
                    u64::from(u32::from_ne_bytes(octets))
                })
                .sum(),
            AddressStore::V6(list) => {
                // Each address is one 128-bit word of the sum.
                let mut wide = checksum::Wide::default();
                for (chunk, address) in out.chunks_exact_mut(16).zip(list) {
                    let octets = address.octets();
                    chunk.copy_from_slice(&octets);
                    wide.add(u128::from_ne_bytes(octets));
                }
                wide.finish()
            }
        }
    }
}

impl PartialEq for AddressList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.family() == other.family() && self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for AddressList<'_> {}

impl fmt::Debug for AddressList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for AddressList<'a> {
    type Item = IpAddr;
    type IntoIter = Addresses<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an [`AddressList`].
#[derive(Debug, Clone)]
pub struct Addresses<'a> {
    list: AddressList<'a>,
    next: usize,
}

impl Iterator for Addresses<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        let address = self.list.get(self.next)?;
        self.next += 1;
        Some(address)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.list.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Addresses<'_> {}

/// The fields that differ between the versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionFields {
    /// VRRPv2 (RFC 3768).
    V2 {
        /// Advertisement interval, seconds.
        advert_interval_s: u8,
        /// Authentication type.
        auth_type: AuthType,
        /// Authentication data, as sent (a NUL-padded password for [`AuthType::SimpleText`]).
        auth_data: [u8; AUTH_DATA_LEN],
    },
    /// VRRPv3 (RFC 9568).
    V3 {
        /// Maximum advertisement interval, centiseconds; 12 bits (at most
        /// [`MAX_ADVERT_INTERVAL_CS`]), higher bits are dropped on emit.
        max_advert_interval_cs: u16,
    },
}

/// A VRRP advertisement, high level. Its address list borrows from the received buffer (or from
/// the caller when sending), so neither parsing nor emitting allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Virtual router ID, 1..=255 in use.
    pub vrid: u8,
    /// Priority: 255 owner, 0 resigning master.
    pub priority: u8,
    /// Version and the fields that depend on it.
    pub version: VersionFields,
    /// The virtual addresses; at most 255 are sent.
    pub addresses: AddressList<'a>,
}

impl<'a> Repr<'a> {
    /// Parses a message after checking its checksum against `accept`, and says which mode matched.
    ///
    /// `pseudo` gives the family and, for the pseudo-header modes, the IP addresses.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        pseudo: &PseudoHeader,
        accept: ChecksumModes,
    ) -> Result<(Self, ChecksumMode)> {
        let repr = Self::parse_unverified(packet, pseudo.family())?;
        match packet.verify_checksum(pseudo, accept) {
            Some(mode) => Ok((repr, mode)),
            None => Err(Error::BadChecksum {
                found: packet.checksum(),
            }),
        }
    }

    /// Parses a message without looking at its checksum: for tools that show bad packets too.
    #[inline(always)]
    pub fn parse_unverified<T: AsRef<[u8]> + ?Sized>(
        packet: &Packet<&'a T>,
        family: AddressFamily,
    ) -> Result<Self> {
        let bytes: &'a [u8] = packet.buffer.as_ref();
        // One copy of the fixed header, then no more bounds checks for its fields.
        let Some(&header) = bytes.first_chunk::<{ field::HEADER_LEN }>() else {
            return Err(Error::Truncated {
                needed: field::HEADER_LEN,
                found: bytes.len(),
            });
        };
        let version = Version::from(header[field::VERSION_TYPE] >> 4);
        match version {
            Version::V2 | Version::V3 => {}
            Version::Unknown(found) => return Err(Error::BadVersion(found)),
        }
        if let MessageType::Unknown(found) = MessageType::from(header[field::VERSION_TYPE] & 0x0f) {
            return Err(Error::BadType(found));
        }
        if version == Version::V2 && family == AddressFamily::Ipv6 {
            return Err(Error::V2OverIpv6);
        }
        let count = header[field::COUNT];
        let expected = message_len(version, usize::from(count), family);
        if bytes.len() != expected {
            return Err(Error::AddressCountMismatch {
                count,
                expected,
                found: bytes.len(),
            });
        }
        let (list, auth) =
            bytes[field::HEADER_LEN..].split_at(usize::from(count) * family.address_len());
        let version = match version {
            Version::V2 => {
                let mut auth_data = [0; AUTH_DATA_LEN];
                auth_data.copy_from_slice(auth);
                VersionFields::V2 {
                    advert_interval_s: header[field::ADVER_INT],
                    auth_type: AuthType::from(header[field::AUTH_TYPE]),
                    auth_data,
                }
            }
            _ => VersionFields::V3 {
                max_advert_interval_cs: u16::from_be_bytes([
                    header[field::MAX_ADVER_INT.start],
                    header[field::MAX_ADVER_INT.start + 1],
                ]) & MAX_ADVERT_INTERVAL_CS,
            },
        };
        Ok(Self {
            vrid: header[field::VRID],
            priority: header[field::PRIORITY],
            version,
            addresses: AddressList(AddressStore::Wire(family, list)),
        })
    }

    /// The version number.
    #[inline]
    pub const fn version(&self) -> Version {
        match self.version {
            VersionFields::V2 { .. } => Version::V2,
            VersionFields::V3 { .. } => Version::V3,
        }
    }

    /// The advertisement interval in centiseconds, whatever the version (v2's seconds × 100).
    pub const fn advert_interval_cs(&self) -> u16 {
        match self.version {
            VersionFields::V2 {
                advert_interval_s, ..
            } => advert_interval_s as u16 * 100,
            VersionFields::V3 {
                max_advert_interval_cs,
            } => max_advert_interval_cs & MAX_ADVERT_INTERVAL_CS,
        }
    }

    /// Number of addresses that go on the wire (at most 255).
    #[inline]
    fn count(&self) -> usize {
        self.addresses.len().min(usize::from(u8::MAX))
    }

    /// Length of the message [`emit`](Self::emit) writes.
    #[inline]
    pub fn buffer_len(&self) -> usize {
        message_len(self.version(), self.count(), self.addresses.family())
    }

    /// Writes the message, checksum included, into a buffer of [`buffer_len`](Self::buffer_len)
    /// bytes. `mode` matters only for v3 over IPv4.
    ///
    /// # Panics
    /// When the buffer is shorter than `buffer_len()`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut Packet<&mut T>,
        pseudo: &PseudoHeader,
        mode: ChecksumMode,
    ) {
        let count = self.count();
        let family = self.addresses.family();
        let version = self.version();
        let len = message_len(version, count, family);
        // One bounds check for the whole message; the header is built in registers and written
        // once, after the checksum has been summed from the values written.
        let bytes = &mut packet.buffer.as_mut()[..len];
        let (head, rest) = bytes.split_at_mut(field::HEADER_LEN);
        let (list, auth) = rest.split_at_mut(count * family.address_len());
        // The header's bytes 4 and 5, and the sum of what follows the address list.
        let (word_4_5, auth_sum) = match self.version {
            VersionFields::V2 {
                advert_interval_s,
                auth_type,
                auth_data,
            } => {
                auth.copy_from_slice(&auth_data);
                (
                    [auth_type.into(), advert_interval_s],
                    checksum::add_halves(u64::from_ne_bytes(auth_data)),
                )
            }
            VersionFields::V3 {
                max_advert_interval_cs,
            } => (
                (max_advert_interval_cs & MAX_ADVERT_INTERVAL_CS).to_be_bytes(),
                0,
            ),
        };
        let addresses_sum = if count == self.addresses.len() {
            self.addresses.write_and_sum_native(list)
        } else {
            write_first_addresses(&self.addresses, list)
        };
        // The header with a zero checksum, as one native-order word.
        let mut header = [
            (u8::from(version) << 4) | u8::from(MessageType::Advertisement),
            self.vrid,
            self.priority,
            count as u8,
            word_4_5[0],
            word_4_5[1],
            0,
            0,
        ];
        // Summed from the values, not read back from the buffer: reading freshly written bytes
        // with wider loads stalls on store forwarding and doubled the cost of emit. One
        // native-order accumulator, folded once; the complement of a native-order fold is the
        // checksum's bytes in native order.
        let sum = checksum::fold(
            checksum::add_halves(u64::from_ne_bytes(header))
                + addresses_sum
                + auth_sum
                + pseudo.sum_native(version, mode, len),
        );
        let [c0, c1] = (!sum).to_ne_bytes();
        header[field::CHECKSUM.start] = c0;
        header[field::CHECKSUM.start + 1] = c1;
        head.copy_from_slice(&header);
    }

    /// Emits into the start of `buf` and returns the length, or says the buffer is too short.
    pub fn emit_into(
        &self,
        buf: &mut [u8],
        pseudo: &PseudoHeader,
        mode: ChecksumMode,
    ) -> Result<usize> {
        let len = self.buffer_len();
        let found = buf.len();
        let out = buf
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len, found })?;
        self.emit(&mut Packet::new_unchecked(out), pseudo, mode);
        Ok(len)
    }
}

/// Writes as many addresses as fit in `list` (more than 255 were given) and sums them: out of
/// `emit`'s way, so the common case keeps its registers.
#[cold]
#[inline(never)]
fn write_first_addresses(addresses: &AddressList<'_>, list: &mut [u8]) -> u64 {
    let step = addresses.family().address_len();
    for (chunk, address) in list.chunks_exact_mut(step).zip(addresses.iter()) {
        match address {
            IpAddr::V4(a) => chunk.copy_from_slice(&a.octets()),
            IpAddr::V6(a) => chunk.copy_from_slice(&a.octets()),
        }
    }
    checksum::data_native(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const PSEUDO_V4: PseudoHeader = PseudoHeader::V4 {
        src: SRC_V4,
        dst: MULTICAST_V4,
    };

    /// keepalived 2.2.7, `v2_pass`: VRID 51, priority 120, 1 s, PASS "1111", 192.0.2.100.
    static V2_BYTES: [u8; 20] = [
        0x21, 0x33, 0x78, 0x01, 0x01, 0x01, 0x41, 0x03, 0xc0, 0x00, 0x02, 0x64, 0x31, 0x31, 0x31,
        0x31, 0x00, 0x00, 0x00, 0x00,
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
        0x31, 0x07, 0x96, 0x02, 0x00, 0x32, 0x10, 0x9d, 0xc0, 0x00, 0x02, 0xc8, 0xc0, 0x00, 0x02,
        0xc9,
    ];
    static V3_V4_VIPS: [Ipv4Addr; 2] =
        [Ipv4Addr::new(192, 0, 2, 200), Ipv4Addr::new(192, 0, 2, 201)];

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
        0x31, 0x09, 0xfe, 0x02, 0x00, 0x64, 0xcf, 0xdb, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01,
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
}
