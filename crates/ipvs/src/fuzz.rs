//! Entry points for the cargo-fuzz targets `ipvs_framing` and `ipvs_fast_decode`, public so that
//! the stable test `tests/fuzz_corpus.rs` replays the committed seeds (`fuzz/corpus/ipvs_*`)
//! through exactly the code the fuzzer runs.
//!
//! The seeds are built from the kernel captures of the `ipvs_message`, `ipvs_service` and
//! `ipvs_dest` targets: a dump datagram wraps a captured message in its netlink header and is
//! followed by `NLMSG_DONE`; ACKs and refusals are laid out as the kernel sends them.

use netlink_packet_core::{NlasIterator, Parseable};
use netlink_packet_ipvs::{DestAttr, IpvsCmd, ServiceAttr};

use crate::proto::{AckTracker, DumpReader, decode, read_services};
use crate::types::{Destination, Family, Service};

/// Target `ipvs_framing`: what the client reads after sending requests, through both of its
/// readers. Bytes 0–1 are the family id (little-endian), byte 2 the number of requests of the
/// window (at most 64), bytes 3–6 the first sequence number; then come datagrams, each preceded
/// by its length (2 bytes, little-endian). Every datagram goes to the ACK tracker of the window
/// (through `decode`) and to a service dump reader for the first sequence number, until it
/// is complete. The tracker must account for every request, whatever arrives. Returns whether
/// every datagram decoded and the window or the dump was answered.
pub fn framing(data: &[u8]) -> bool {
    let Some((head, mut rest)) = data.split_first_chunk::<7>() else {
        return false;
    };
    let family_id = u16::from_le_bytes([head[0], head[1]]);
    let requests = usize::from(head[2]).min(64);
    let first_seq = u32::from_le_bytes([head[3], head[4], head[5], head[6]]);
    let mut tracker = AckTracker::new(first_seq, vec![IpvsCmd::NewService; requests]);
    let mut dump = DumpReader::new(family_id, first_seq, IpvsCmd::GetService, read_services);
    let mut clean = true;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_le_bytes(*len)).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        match decode(family_id, datagram) {
            Ok(replies) => replies.into_iter().for_each(|r| tracker.on_reply(r)),
            Err(_) => clean = false,
        }
        if !dump.complete() && dump.feed(datagram).is_err() {
            clean = false;
        }
    }
    let answered = tracker.complete() && requests > 0 || dump.complete();
    let (results, _) = tracker.into_results();
    assert_eq!(results.len(), requests, "a request lost its result");
    clean && answered
}

/// Target `ipvs_fast_decode`: byte 0 picks the nest (bit 0: a destination, else a service; bit
/// 1: the destination's service is IPv6), the rest is the nest's inside. It is read by the
/// client's fast path (`walk` and `from_nest`, straight from the wire) and, when every
/// attribute parses, by the reference path (the attribute enums, then `from_attrs`): both must
/// agree. Returns whether the fast path accepted it.
pub fn fast_decode(data: &[u8]) -> bool {
    let Some((&selector, nest)) = data.split_first() else {
        return false;
    };
    if selector & 1 == 0 {
        let fast = Service::from_nest(nest);
        if let Some(attrs) = parse_all::<ServiceAttr>(nest) {
            assert_eq!(
                fast,
                Service::from_attrs(&attrs),
                "fast and reference paths differ"
            );
        }
        fast.is_ok()
    } else {
        let family = if selector & 2 == 0 {
            Family::V4
        } else {
            Family::V6
        };
        let fast = Destination::from_nest(nest, family);
        if let Some(attrs) = parse_all::<DestAttr>(nest) {
            assert_eq!(
                fast,
                Destination::from_attrs(&attrs, family),
                "fast and reference paths differ"
            );
        }
        fast.is_ok()
    }
}

/// Every attribute of `nest` parsed, or `None` when one does not.
fn parse_all<T>(nest: &[u8]) -> Option<Vec<T>>
where
    T: for<'a> Parseable<netlink_packet_core::NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(nest)
        .map(|nla| nla.ok().and_then(|nla| T::parse(&nla).ok()))
        .collect()
}

/// A fuzz entry point: takes the input, says whether it was accepted.
pub type Entry = fn(&[u8]) -> bool;

/// Every target, by name, for the stable replay.
pub const TARGETS: &[(&str, Entry)] =
    &[("ipvs_framing", framing), ("ipvs_fast_decode", fast_decode)];
