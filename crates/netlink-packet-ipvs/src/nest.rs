//! Small helpers shared by the attribute enums: nests, strings and fixed-size numbers.

use netlink_packet_core::{
    DecodeError, Emitable, NLA_F_NESTED, NLA_F_NET_BYTEORDER, Nla, NlaBuffer, NlasIterator,
    Parseable,
};

/// Parses every attribute of a nest with `T`'s parser, stopping at the first malformed one.
pub(crate) fn parse_nest<T>(payload: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(payload)
        .map(|nla| nla.and_then(|nla| T::parse(&nla)))
        .collect()
}

/// Length of a nest's value: the sum of its (aligned) attributes.
pub(crate) fn nest_len<T: Nla>(attrs: &[T]) -> usize {
    attrs.buffer_len()
}

/// Writes a nest's attributes one after the other.
pub(crate) fn emit_nest<T: Nla>(attrs: &[T], buffer: &mut [u8]) {
    attrs.emit(buffer);
}

/// Reads a fixed-size array, saying what was expected when the length is wrong.
pub(crate) fn array<const N: usize>(payload: &[u8]) -> Result<[u8; N], DecodeError> {
    payload.try_into().map_err(|_| {
        DecodeError::from(format!("expected {N} bytes, found {} bytes", payload.len()))
    })
}

/// Reads a host-order `u16`.
pub(crate) fn u16_ne(payload: &[u8]) -> Result<u16, DecodeError> {
    array(payload).map(u16::from_ne_bytes)
}

/// Reads a network-order `u16` (ports).
pub(crate) fn u16_be(payload: &[u8]) -> Result<u16, DecodeError> {
    array(payload).map(u16::from_be_bytes)
}

/// Reads a host-order `u32`.
pub(crate) fn u32_ne(payload: &[u8]) -> Result<u32, DecodeError> {
    array(payload).map(u32::from_ne_bytes)
}

/// Reads a host-order `u64`.
pub(crate) fn u64_ne(payload: &[u8]) -> Result<u64, DecodeError> {
    array(payload).map(u64::from_ne_bytes)
}

/// Reads a `u8`.
pub(crate) fn u8_(payload: &[u8]) -> Result<u8, DecodeError> {
    array::<1>(payload).map(|[b]| b)
}

/// Reads a NUL-terminated string (the kernel's `NLA_NUL_STRING`); the text ends at the first NUL.
pub(crate) fn nul_string(payload: &[u8]) -> Result<String, DecodeError> {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    String::from_utf8(payload[..end].to_vec())
        .map_err(|e| DecodeError::from(format!("expected UTF-8 text: {e}")))
}

/// Length of a string sent with its terminating NUL.
pub(crate) fn nul_string_len(s: &str) -> usize {
    s.len() + 1
}

/// Writes a string and its terminating NUL.
pub(crate) fn emit_nul_string(s: &str, buffer: &mut [u8]) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

/// Test support: emits attributes into a 0xa5-filled buffer, parses them back and checks that
/// nothing changed and no byte was left unwritten.
#[cfg(test)]
pub(crate) fn assert_round_trip<T>(attrs: &[T])
where
    T: Nla + PartialEq + std::fmt::Debug + for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    for attr in attrs {
        let mut buf = vec![0xa5; attr.buffer_len()];
        attr.emit(&mut buf);
        assert!(
            buf.len() % 4 == 0 && !buf[buf.len() - 4..].iter().all(|&b| b == 0xa5),
            "{attr:?} left bytes unwritten: {buf:02x?}"
        );
        let nla = NlaBuffer::new_checked(&buf[..]).expect("an emitted attribute is well formed");
        assert_eq!(usize::from(nla.length()), 4 + attr.value_len());
        let again = T::parse(&nla).unwrap_or_else(|e| panic!("{attr:?}: {e}"));
        assert_eq!(&again, attr);
    }
    let mut buf = vec![0xa5; attrs.buffer_len()];
    attrs.emit(&mut buf);
    assert_eq!(parse_nest::<T>(&buf).unwrap(), attrs);
}

/// The type field of an attribute as sent, flag bits included (what `DefaultNla` keeps).
pub(crate) fn raw_kind<T: AsRef<[u8]> + ?Sized>(buf: &NlaBuffer<&T>) -> u16 {
    let mut kind = buf.kind();
    if buf.nested_flag() {
        kind |= NLA_F_NESTED;
    }
    if buf.network_byte_order_flag() {
        kind |= NLA_F_NET_BYTEORDER;
    }
    kind
}

/// Walks the attributes of a nest (or of a message's attribute area) without copying:
/// `(type as sent, flag bits included, value)`. The first malformed header ends the walk with
/// an error, as `NlasIterator` does; padding after the last attribute may be absent.
///
/// With [`DestAttr::parse_value`](crate::DestAttr::parse_value) and its siblings this reads a
/// reply without building the attribute vectors: what a client's hot path (a dump of tens of
/// thousands of destinations) wants.
pub fn walk(payload: &[u8]) -> Walk<'_> {
    Walk { rest: payload }
}

/// The iterator of [`walk`].
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<(u16, &'a [u8]), DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        let header = rest.get(..4).map(|h| {
            (
                u16::from_ne_bytes([h[0], h[1]]),
                u16::from_ne_bytes([h[2], h[3]]),
            )
        });
        match header {
            Some((len, kind)) if usize::from(len) >= 4 && usize::from(len) <= rest.len() => {
                let len = usize::from(len);
                let value = &rest[4..len];
                self.rest = rest.get((len + 3) & !3..).unwrap_or_default();
                Some(Ok((kind, value)))
            }
            _ => {
                self.rest = &[];
                Some(Err(DecodeError::from(format!(
                    "malformed attribute header in {} bytes",
                    rest.len()
                ))))
            }
        }
    }
}
