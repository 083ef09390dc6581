//! Entry points for the cargo-fuzz targets in `fuzz/`, public so that a stable test can replay the
//! committed seed corpus (`fuzz/corpus/<target>/`) through exactly the code the fuzzer runs.
//!
//! Each function parses its input and, when that succeeds, emits the result again and asserts
//! that the bytes are the input's. The one allowed difference is the v3 reserved nibble, which
//! RFC 9568 says to ignore on receipt and to send as zero: when it is not zero, the check is
//! that the re-emitted message parses to the same [`Repr`]. A failed assertion is a bug (the
//! fuzzer reports it as a crash); so is any panic.
//!
//! Every function returns whether the input was accepted, so a replay can check that seeds taken
//! from real captures still are.

use alloc::vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::vrrp::{AddressFamily, ChecksumMode, ChecksumModes, Packet, PseudoHeader, Repr};
use crate::{ipv4, recv};

/// Pseudo-header used by [`vrrp_v2`]: 192.0.2.1 to the VRRP group.
pub const V2_PSEUDO_HEADER: PseudoHeader = PseudoHeader::V4 {
    src: Ipv4Addr::new(192, 0, 2, 1),
    dst: crate::vrrp::MULTICAST_V4,
};

/// Target `vrrp_v2`: `data` is a VRRP message over IPv4 (any version is tried; v2 is what the
/// seeds hold), checksum in any mode with [`V2_PSEUDO_HEADER`].
pub fn vrrp_v2(data: &[u8]) -> bool {
    touch_getters(data, AddressFamily::Ipv4);
    message(data, &V2_PSEUDO_HEADER)
}

/// Target `vrrp_v3`: the first byte picks the family (low bit 0: IPv4, 1: IPv6), then come the
/// source and destination addresses of the pseudo-header (4 + 4 or 16 + 16 bytes), then the VRRP
/// message.
pub fn vrrp_v3(data: &[u8]) -> bool {
    let Some((&selector, rest)) = data.split_first() else {
        return false;
    };
    let (pseudo, message_bytes) = if selector & 1 == 0 {
        let Some((addrs, message_bytes)) = rest.split_at_checked(8) else {
            return false;
        };
        let (src, dst) = addrs.split_at(4);
        let src: [u8; 4] = src.try_into().unwrap_or_default();
        let dst: [u8; 4] = dst.try_into().unwrap_or_default();
        let pseudo = PseudoHeader::V4 {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
        };
        (pseudo, message_bytes)
    } else {
        let Some((addrs, message_bytes)) = rest.split_at_checked(32) else {
            return false;
        };
        let (src, dst) = addrs.split_at(16);
        let src: [u8; 16] = src.try_into().unwrap_or_default();
        let dst: [u8; 16] = dst.try_into().unwrap_or_default();
        let pseudo = PseudoHeader::V6 {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
        };
        (pseudo, message_bytes)
    };
    touch_getters(message_bytes, pseudo.family());
    message(message_bytes, &pseudo)
}

/// Target `vrrp_ipv4_recv`: `data` is what a raw IPv4 socket delivers; it goes through
/// [`recv::parse_ipv4`] with every checksum mode accepted, and what is accepted is re-emitted with
/// [`recv::emit_ipv4`] and compared with the datagram (up to its total length).
pub fn vrrp_ipv4_recv(data: &[u8]) -> bool {
    let Ok(received) = recv::parse_ipv4(data, ChecksumModes::ALL) else {
        return false;
    };
    let Some(ip) = received.ipv4 else {
        panic!("parse_ipv4 returned no IPv4 header");
    };
    let mut out = vec![0xa5; ip.buffer_len() + received.vrrp.buffer_len()];
    let len = recv::emit_ipv4(&mut out, &ip, &received.vrrp, received.checksum_mode)
        .unwrap_or_else(|e| panic!("emit_ipv4 into a buffer of the right size: {e}"));
    assert_eq!(len, out.len());
    let total = usize::from(ipv4::Packet::new_unchecked(data).total_len());
    let header_len = ip.buffer_len();
    if Packet::new_unchecked(&data[header_len..]).reserved_v3() == 0
        || received.vrrp.version() == crate::Version::V2
    {
        assert_eq!(&out[..], &data[..total], "re-emitted datagram differs");
    } else {
        let again = recv::parse_ipv4(&out, ChecksumModes::only(received.checksum_mode))
            .unwrap_or_else(|e| panic!("re-emitted datagram does not parse: {e}"));
        assert_eq!(again.vrrp, received.vrrp);
        assert_eq!(again.ipv4, received.ipv4);
    }
    true
}

/// Parses with checksum (all modes), re-emits, compares; also checks the unverified parse.
fn message(data: &[u8], pseudo: &PseudoHeader) -> bool {
    let packet = Packet::new_unchecked(data);
    if let Ok(repr) = Repr::parse_unverified(&packet, pseudo.family()) {
        // Repr -> bytes -> Repr, whatever the checksum was.
        let mut out = vec![0xa5; repr.buffer_len()];
        repr.emit(
            &mut Packet::new_unchecked(&mut out[..]),
            pseudo,
            ChecksumMode::PseudoHeader,
        );
        let again = Repr::parse(&Packet::new_unchecked(&out[..]), pseudo, ChecksumModes::ALL)
            .unwrap_or_else(|e| panic!("re-emitted message does not parse: {e}"));
        assert_eq!(again.0, repr);
    }
    let Ok((repr, mode)) = Repr::parse(&packet, pseudo, ChecksumModes::ALL) else {
        return false;
    };
    let mut out = vec![0xa5; repr.buffer_len()];
    repr.emit(&mut Packet::new_unchecked(&mut out[..]), pseudo, mode);
    if packet.reserved_v3() == 0 || repr.version() == crate::Version::V2 {
        assert_eq!(&out[..], data, "re-emitted message differs");
    } else {
        let again = Repr::parse(
            &Packet::new_unchecked(&out[..]),
            pseudo,
            ChecksumModes::only(mode),
        )
        .unwrap_or_else(|e| panic!("re-emitted message does not parse: {e}"));
        assert_eq!(again, (repr, mode));
    }
    true
}

/// Calls every getter of a checked view, so a getter that can panic shows up.
fn touch_getters(data: &[u8], family: AddressFamily) {
    let Ok(packet) = Packet::new_checked(data) else {
        return;
    };
    let _ = (
        packet.version(),
        packet.msg_type(),
        packet.vrid(),
        packet.priority(),
        packet.auth_type(),
        packet.advert_interval_s(),
        packet.max_advert_interval_cs(),
        packet.checksum(),
        packet.auth_data(),
    );
    for index in 0..=usize::from(packet.addr_count()) + 1 {
        let _ = packet.address(index, family);
    }
}

/// The link types target `capture_frame` picks from (by its first byte): the ones
/// [`capture::ip_in_frame`](crate::capture::ip_in_frame) takes apart, and one it refuses.
pub const CAPTURE_LINKTYPES: [u32; 9] = {
    use crate::capture::linktype::*;
    [
        ETHERNET, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP, 147,
    ]
};

/// Target `capture_frame`: byte 0 picks the link type (index into [`CAPTURE_LINKTYPES`],
/// modulo its length), the rest is a captured frame. It goes the way `vrrp-dump` takes it: the
/// link layer off ([`capture::ip_in_frame`](crate::capture::ip_in_frame)), IPv6 extension
/// headers stepped over, the VRRP message read without its checksum. The IP packet found must
/// lie inside the frame. Returns whether a VRRP message was read.
pub fn capture_frame(data: &[u8]) -> bool {
    let Some((&selector, frame)) = data.split_first() else {
        return false;
    };
    let linktype = CAPTURE_LINKTYPES[usize::from(selector) % CAPTURE_LINKTYPES.len()];
    capture_frame_of(linktype, frame)
}

/// [`capture_frame`] for a frame of a known `LINKTYPE_*` (a pcap file's).
pub fn capture_frame_of(linktype: u32, frame: &[u8]) -> bool {
    use crate::capture::{IpPacket, ip_in_frame, vrrp_in_ipv6};
    let Some(ip) = ip_in_frame(linktype, frame) else {
        return false;
    };
    let inside = |slice: &[u8]| {
        let (start, end) = (
            frame.as_ptr() as usize,
            frame.as_ptr() as usize + frame.len(),
        );
        let at = slice.as_ptr() as usize;
        assert!(
            at >= start && at + slice.len() <= end,
            "a packet outside its frame"
        );
    };
    match ip {
        IpPacket::V4(bytes) => {
            inside(bytes);
            let Ok(header) = ipv4::Packet::new_checked(bytes) else {
                return false;
            };
            if ipv4::Repr::parse(&header).is_err() {
                return false;
            }
            let message = header.payload();
            inside(message);
            Repr::parse_unverified(&Packet::new_unchecked(message), AddressFamily::Ipv4).is_ok()
        }
        IpPacket::V6(bytes) => {
            inside(bytes);
            let Some(found) = vrrp_in_ipv6(bytes) else {
                return false;
            };
            let Ok(message) = found.message else {
                return false;
            };
            inside(message);
            Repr::parse_unverified(&Packet::new_unchecked(message), AddressFamily::Ipv6).is_ok()
        }
    }
}

/// Target `capture_file` (feature `pcap`): the bytes are a pcap or pcapng file, read the way
/// `vrrp-dump -r` reads one ([`capture_file::for_each_frame`](crate::capture_file::for_each_frame)),
/// every frame going through [`capture_frame_of`]. Returns whether the whole file was read.
#[cfg(feature = "pcap")]
pub fn capture_file(data: &[u8]) -> bool {
    let mut frames = 0u64;
    let read = crate::capture_file::for_each_frame(data, |frame| {
        frames += 1;
        capture_frame_of(frame.linktype, frame.data);
        true
    });
    match read {
        Ok(summary) => {
            assert_eq!(summary.frames, frames);
            true
        }
        Err(_) => false,
    }
}
