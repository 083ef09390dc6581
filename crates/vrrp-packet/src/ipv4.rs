//! The IPv4 header, as far as the VRRP receive path needs it: raw IPv4 sockets deliver it in front
//! of the VRRP message, and sockets with `IP_HDRINCL` want it written.
//!
//! Same contract as the VRRP view: after [`Packet::check_len`] passes no getter panics, and
//! [`Repr::emit`] never panics on a buffer of [`Repr::buffer_len`] bytes.

use core::net::Ipv4Addr;

use crate::checksum;
use crate::{Error, Result};

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Longest header: IHL is 4 bits of 32-bit words.
pub const MAX_HEADER_LEN: usize = 60;

mod field {
    use core::ops::Range;

    pub(crate) type Field = Range<usize>;

    pub(crate) const VER_IHL: usize = 0;
    pub(crate) const TOS: usize = 1;
    pub(crate) const LENGTH: Field = 2..4;
    pub(crate) const IDENT: Field = 4..6;
    pub(crate) const FLAGS_FRAG: Field = 6..8;
    pub(crate) const TTL: usize = 8;
    pub(crate) const PROTOCOL: usize = 9;
    pub(crate) const CHECKSUM: Field = 10..12;
    pub(crate) const SRC: Field = 12..16;
    pub(crate) const DST: Field = 16..20;
    pub(crate) const OPTIONS: usize = 20;
}

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET: u16 = 0x1fff;

/// A read/write view of an IPv4 datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking anything.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let packet = Self::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the fixed header is there, that the header length (IHL) is sane and fits, and
    /// that the total length covers the header and fits; then no getter panics. Bytes after the
    /// total length (link-layer padding) are ignored.
    pub fn check_len(&self) -> Result<()> {
        let found = self.buffer.as_ref().len();
        if found < HEADER_LEN {
            return Err(Error::Truncated {
                needed: HEADER_LEN,
                found,
            });
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN || header_len > found {
            return Err(Error::BadIpHeaderLength {
                header_len,
                available: found,
            });
        }
        let total_len = usize::from(self.total_len());
        if total_len < header_len || total_len > found {
            return Err(Error::BadIpTotalLength {
                total_len,
                header_len,
                available: found,
            });
        }
        Ok(())
    }

    /// The buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version nibble.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Type of service (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Total length, header included.
    pub fn total_len(&self) -> u16 {
        self.read_u16(field::LENGTH.start)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        self.read_u16(field::IDENT.start)
    }

    /// Flags and fragment offset as they are.
    pub fn flags_fragment(&self) -> u16 {
        self.read_u16(field::FLAGS_FRAG.start)
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// The header checksum field as it is.
    pub fn checksum(&self) -> u16 {
        self.read_u16(field::CHECKSUM.start)
    }

    /// Source address.
    pub fn src(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// The header checksum that the header calls for.
    pub fn compute_checksum(&self) -> u16 {
        let header = &self.buffer.as_ref()[..self.header_len()];
        // The sum over the whole header, less the checksum field (add its complement).
        !checksum::combine(&[checksum::data(header), !self.checksum()])
    }

    /// Whether the header checksum is right. As for VRRP, only the exact value counts: 0xffff is
    /// not taken for 0x0000.
    pub fn verify_checksum(&self) -> bool {
        let header = &self.buffer.as_ref()[..self.header_len()];
        self.checksum() != 0xffff && checksum::data(header) == 0xffff
    }

    fn read_u16(&self, at: usize) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[at], b[at + 1]])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// Options between the fixed header and the payload.
    pub fn options(&self) -> &'a [u8] {
        let bytes: &'a [u8] = self.buffer.as_ref();
        &bytes[field::OPTIONS..self.header_len()]
    }

    /// The payload: from the header's end to the total length.
    pub fn payload(&self) -> &'a [u8] {
        let bytes: &'a [u8] = self.buffer.as_ref();
        &bytes[self.header_len()..usize::from(self.total_len())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version 4 and the header length (a multiple of 4, 20..=60).
    pub fn set_version_header_len(&mut self, header_len: usize) {
        self.buffer.as_mut()[field::VER_IHL] = 0x40 | ((header_len / 4) as u8 & 0x0f);
    }

    /// Sets the type of service.
    pub fn set_tos(&mut self, value: u8) {
        self.buffer.as_mut()[field::TOS] = value;
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, value: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, value: u16) {
        self.buffer.as_mut()[field::IDENT].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets flags and fragment offset.
    pub fn set_flags_fragment(&mut self, value: u16) {
        self.buffer.as_mut()[field::FLAGS_FRAG].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, value: u8) {
        self.buffer.as_mut()[field::TTL] = value;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, value: u8) {
        self.buffer.as_mut()[field::PROTOCOL] = value;
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        self.buffer.as_mut()[field::CHECKSUM].copy_from_slice(&value.to_be_bytes());
    }

    /// Sets the source address.
    pub fn set_src(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&value.octets());
    }

    /// Sets the destination address.
    pub fn set_dst(&mut self, value: Ipv4Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&value.octets());
    }

    /// Computes the header checksum and writes it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let header_len = self.header_len();
        let sum = checksum::data(&self.buffer.as_ref()[..header_len]);
        self.set_checksum(!sum);
    }
}

/// An IPv4 header, high level. Options are kept as bytes so a received header re-emits as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Payload protocol (112 for VRRP).
    pub protocol: u8,
    /// Time to live (255 for VRRP).
    pub ttl: u8,
    /// Type of service; keepalived sends 0xc0 (DSCP CS6, network control).
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// The don't-fragment flag.
    pub dont_fragment: bool,
    /// Options, a multiple of 4 bytes, at most 40; extra bytes are not written.
    pub options: &'a [u8],
    /// Length of the payload after the header.
    pub payload_len: usize,
}

impl<'a> Repr<'a> {
    /// A header for a VRRP advertisement of `payload_len` bytes, as keepalived sends it: TTL 255,
    /// TOS 0xc0, no options.
    pub const fn vrrp(src: Ipv4Addr, dst: Ipv4Addr, payload_len: usize) -> Self {
        Self {
            src,
            dst,
            protocol: crate::vrrp::IP_PROTOCOL,
            ttl: crate::vrrp::TTL,
            tos: 0xc0,
            ident: 0,
            dont_fragment: false,
            options: &[],
            payload_len,
        }
    }

    /// Parses and validates a header: version 4, header and total length, header checksum, and no
    /// fragmentation (VRRP messages are never fragmented). TTL and protocol are the caller's
    /// business.
    #[inline(always)]
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Self> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::BadIpVersion(packet.version()));
        }
        if !packet.verify_checksum() {
            return Err(Error::BadIpChecksum {
                found: packet.checksum(),
                expected: packet.compute_checksum(),
            });
        }
        let flags = packet.flags_fragment();
        if flags & (FLAG_RESERVED | FLAG_MF | FRAG_OFFSET) != 0 {
            return Err(Error::Fragmented(flags));
        }
        Ok(Self {
            src: packet.src(),
            dst: packet.dst(),
            protocol: packet.protocol(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_fragment: flags & FLAG_DF != 0,
            options: packet.options(),
            payload_len: packet.payload().len(),
        })
    }

    fn options_len(&self) -> usize {
        (self.options.len() / 4 * 4).min(MAX_HEADER_LEN - HEADER_LEN)
    }

    /// Length of the header [`emit`](Self::emit) writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Writes the header, checksum included, into a buffer of at least
    /// [`buffer_len`](Self::buffer_len) bytes.
    ///
    /// # Panics
    /// When the buffer is shorter than `buffer_len()`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut Packet<&mut T>) {
        let header_len = self.buffer_len();
        packet.set_version_header_len(header_len);
        packet.set_tos(self.tos);
        packet.set_total_len((header_len + self.payload_len).min(usize::from(u16::MAX)) as u16);
        packet.set_ident(self.ident);
        packet.set_flags_fragment(if self.dont_fragment { FLAG_DF } else { 0 });
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src(self.src);
        packet.set_dst(self.dst);
        packet.buffer.as_mut()[field::OPTIONS..header_len]
            .copy_from_slice(&self.options[..header_len - HEADER_LEN]);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header in front of keepalived 2.2.7's first `v2_pass` advertisement.
    static HEADER: [u8; 20] = [
        0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x91, 0xc0, 0x00, 0x02,
        0x01, 0xe0, 0x00, 0x00, 0x12,
    ];

    fn repr() -> Repr<'static> {
        Repr {
            ident: 1,
            ..Repr::vrrp(
                Ipv4Addr::new(192, 0, 2, 1),
                Ipv4Addr::new(224, 0, 0, 18),
                20,
            )
        }
    }

    /// The header and a 20-byte payload, as a raw socket delivers it.
    fn datagram() -> [u8; 40] {
        let mut bytes = [0u8; 40];
        bytes[..20].copy_from_slice(&HEADER);
        bytes
    }

    #[test]
    fn test_deconstruct() {
        let bytes = datagram();
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.tos(), 0xc0);
        assert_eq!(packet.total_len(), 40);
        assert_eq!(packet.ident(), 1);
        assert_eq!(packet.flags_fragment(), 0);
        assert_eq!(packet.ttl(), 255);
        assert_eq!(packet.protocol(), 112);
        assert_eq!(packet.checksum(), 0x1891);
        assert_eq!(packet.src(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(packet.dst(), Ipv4Addr::new(224, 0, 0, 18));
        assert!(packet.verify_checksum());
        assert_eq!(packet.compute_checksum(), 0x1891);
        assert_eq!(packet.options(), &[] as &[u8]);
        assert_eq!(packet.payload().len(), 20);
    }

    #[test]
    fn test_construct() {
        let mut bytes = [0xa5; 20];
        let mut packet = Packet::new_unchecked(&mut bytes[..]);
        packet.set_version_header_len(20);
        packet.set_tos(0xc0);
        packet.set_total_len(40);
        packet.set_ident(1);
        packet.set_flags_fragment(0);
        packet.set_ttl(255);
        packet.set_protocol(112);
        packet.set_src(Ipv4Addr::new(192, 0, 2, 1));
        packet.set_dst(Ipv4Addr::new(224, 0, 0, 18));
        packet.fill_checksum();
        assert_eq!(bytes, HEADER);
    }

    #[test]
    fn test_parse() {
        let bytes = datagram();
        assert_eq!(
            Repr::parse(&Packet::new_checked(&bytes[..]).unwrap()),
            Ok(repr())
        );
    }

    #[test]
    fn test_emit() {
        let mut bytes = [0xa5; 20];
        assert_eq!(repr().buffer_len(), 20);
        repr().emit(&mut Packet::new_unchecked(&mut bytes[..]));
        assert_eq!(bytes, HEADER);
    }

    #[test]
    fn options_are_kept_and_re_emitted() {
        let options = [0x94, 0x04, 0x00, 0x00]; // router alert
        let ip = Repr {
            options: &options,
            ..repr()
        };
        let mut bytes = [0xa5; 44];
        ip.emit(&mut Packet::new_unchecked(&mut bytes[..24]));
        let packet = Packet::new_checked(&bytes[..]).unwrap();
        assert_eq!(packet.header_len(), 24);
        assert_eq!(Repr::parse(&packet), Ok(ip));
    }

    #[test]
    fn bad_headers_are_typed_errors() {
        fn parse(bytes: &[u8]) -> Result<Repr<'_>> {
            Repr::parse(&Packet::new_checked(bytes)?)
        }
        let bytes = datagram();
        assert_eq!(
            parse(&bytes[..19]),
            Err(Error::Truncated {
                needed: 20,
                found: 19
            })
        );
        assert_eq!(
            parse(&bytes[..39]),
            Err(Error::BadIpTotalLength {
                total_len: 40,
                header_len: 20,
                available: 39
            })
        );
        let mut bad = datagram();
        bad[0] = 0x44;
        assert_eq!(
            parse(&bad),
            Err(Error::BadIpHeaderLength {
                header_len: 16,
                available: 40
            })
        );
        bad[0] = 0x65;
        assert_eq!(parse(&bad), Err(Error::BadIpVersion(6)));
        let mut bad = datagram();
        bad[8] = 64;
        assert_eq!(
            parse(&bad),
            Err(Error::BadIpChecksum {
                found: 0x1891,
                expected: 0xd791
            })
        );
        let mut frag = datagram();
        let mut packet = Packet::new_unchecked(&mut frag[..]);
        packet.set_flags_fragment(0x2000);
        packet.fill_checksum();
        assert_eq!(parse(&frag), Err(Error::Fragmented(0x2000)));
        // Link-layer padding after the total length is ignored.
        let mut padded = [0u8; 60];
        padded[..40].copy_from_slice(&datagram());
        assert_eq!(parse(&padded), Ok(repr()));
    }
}
