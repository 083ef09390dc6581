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

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::{Error, Result};

mod checksum_mode;
mod fields;
mod repr;
#[cfg(test)]
mod tests;

pub use checksum_mode::{ChecksumMode, ChecksumModes, PseudoHeader};
pub use fields::{AddressFamily, AuthType, MessageType, Version};
pub use repr::{AddressList, Addresses, Repr, VersionFields};

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
