//! Entry points for the fuzz targets in `fuzz/fuzz_targets/ipvs_*.rs`.
//!
//! Each function parses arbitrary bytes and, when they parse, checks that emitting the result
//! and parsing it again gives the same value; it returns whether the bytes parsed. They must
//! never panic except on a real bug (a parser that panics, or a parse/emit pair that disagrees).
//! The stable test `tests/fuzz_corpus.rs` runs them over the committed seed corpus in
//! `fuzz/corpus/ipvs_*`, whose `seed-*` files are replies captured from a real kernel.

use netlink_packet_core::{
    DefaultNla, Emitable, NLA_F_NESTED, NLA_F_NET_BYTEORDER, Nla, NlaBuffer, Parseable,
    ParseableParametrized,
};
use netlink_packet_generic::GenlHeader;

use crate::nest::parse_nest;
use crate::{DaemonAttr, DestAttr, IpvsAttr, IpvsMessage, ServiceAttr, Stats32Attr, Stats64Attr};

/// Nests longer than this cannot be re-emitted (an attribute length is a `u16`); emitting can
/// grow a message (a 4-byte address becomes 16 bytes), so the round trip is checked below it.
const EMIT_LIMIT: usize = u16::MAX as usize - 4;

/// Fuzz target `ipvs_message`: a generic-netlink payload (the 4-byte `genlmsghdr`, then the
/// attributes), as it follows the netlink header of a message of the IPVS family.
pub fn message(data: &[u8]) -> bool {
    if data.len() < 4 {
        return false;
    }
    let header = GenlHeader {
        cmd: data[0],
        version: data[1],
    };
    let Ok(msg) = IpvsMessage::parse_with_param(&data[4..], header) else {
        return false;
    };
    if msg.buffer_len() <= EMIT_LIMIT && !msg.attrs.iter().any(Unemittable::unemittable) {
        let mut buf = vec![0xa5; msg.buffer_len()];
        msg.emit(&mut buf);
        let again = IpvsMessage::parse_attrs(msg.cmd, &buf).expect("an emitted message parses");
        assert_eq!(again, msg, "parse(emit(parse(x))) != parse(x)");
    }
    true
}

/// Fuzz target `ipvs_service`: the bytes are the inside of a service nest.
pub fn service_nest(data: &[u8]) -> bool {
    nest_round_trip::<ServiceAttr>(data)
}

/// Fuzz target `ipvs_dest`: the bytes are the inside of a destination nest.
pub fn dest_nest(data: &[u8]) -> bool {
    nest_round_trip::<DestAttr>(data)
}

/// Fuzz target `ipvs_daemon`: the bytes are the inside of a sync-daemon nest.
pub fn daemon_nest(data: &[u8]) -> bool {
    nest_round_trip::<DaemonAttr>(data)
}

/// Fuzz target `ipvs_stats`: the bytes are the inside of a statistics nest, read both as the
/// 32-bit and as the 64-bit nest; true when either reading succeeds.
pub fn stats_nest(data: &[u8]) -> bool {
    let as32 = nest_round_trip::<Stats32Attr>(data);
    let as64 = nest_round_trip::<Stats64Attr>(data);
    as32 || as64
}

fn nest_round_trip<T>(data: &[u8]) -> bool
where
    T: Nla + Unemittable + PartialEq + std::fmt::Debug + for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let Ok(attrs) = parse_nest::<T>(data) else {
        return false;
    };
    let len = attrs.as_slice().buffer_len();
    if len <= EMIT_LIMIT && !attrs.iter().any(Unemittable::unemittable) {
        let mut buf = vec![0xa5; len];
        attrs.as_slice().emit(&mut buf);
        let again = parse_nest::<T>(&buf).expect("an emitted nest parses");
        assert_eq!(again, attrs, "parse(emit(parse(x))) != parse(x)");
    }
    true
}

/// netlink-packet-core 0.9 cannot emit an attribute with both `NLA_F_NESTED` and
/// `NLA_F_NET_BYTEORDER` (`NlaBuffer::set_nested_flag` drops the other flag). No kernel sends
/// such an attribute, so the round trip is not checked when an unknown attribute, at any depth,
/// has both.
fn both_flags(nla: &DefaultNla) -> bool {
    nla.kind() & NLA_F_NESTED != 0 && nla.kind() & NLA_F_NET_BYTEORDER != 0
}

/// Whether an attribute, or one nested in it, is an unknown attribute with both flags.
trait Unemittable {
    fn unemittable(&self) -> bool;
}

impl Unemittable for Stats32Attr {
    fn unemittable(&self) -> bool {
        matches!(self, Self::Other(nla) if both_flags(nla))
    }
}

impl Unemittable for Stats64Attr {
    fn unemittable(&self) -> bool {
        matches!(self, Self::Other(nla) if both_flags(nla))
    }
}

impl Unemittable for DaemonAttr {
    fn unemittable(&self) -> bool {
        matches!(self, Self::Other(nla) if both_flags(nla))
    }
}

impl Unemittable for ServiceAttr {
    fn unemittable(&self) -> bool {
        match self {
            Self::Other(nla) => both_flags(nla),
            Self::Stats(s) => s.iter().any(Unemittable::unemittable),
            Self::Stats64(s) => s.iter().any(Unemittable::unemittable),
            _ => false,
        }
    }
}

impl Unemittable for DestAttr {
    fn unemittable(&self) -> bool {
        match self {
            Self::Other(nla) => both_flags(nla),
            Self::Stats(s) => s.iter().any(Unemittable::unemittable),
            Self::Stats64(s) => s.iter().any(Unemittable::unemittable),
            _ => false,
        }
    }
}

impl Unemittable for IpvsAttr {
    fn unemittable(&self) -> bool {
        match self {
            Self::Other(nla) => both_flags(nla),
            Self::Service(attrs) => attrs.iter().any(Unemittable::unemittable),
            Self::Dest(attrs) => attrs.iter().any(Unemittable::unemittable),
            Self::Daemon(attrs) => attrs.iter().any(Unemittable::unemittable),
            _ => false,
        }
    }
}
