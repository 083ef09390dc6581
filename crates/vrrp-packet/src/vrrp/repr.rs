//! The high-level message: [`Repr`], its [`VersionFields`] and its [`AddressList`].

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

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
