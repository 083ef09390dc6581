//! Reads the kernel's extended-ACK text (`NLMSGERR_ATTR_MSG`) out of a netlink error message.
//!
//! With `NETLINK_EXT_ACK` on, the kernel follows a refusal's errno with the echoed request (just
//! its header when `NLM_F_CAPPED` is set) and then attributes, flagged by `NLM_F_ACK_TLVS`; one of
//! them is a human-readable explanation. [`message`] finds it. Malformed input is `None`, never a
//! panic.

/// The error message's flag: attributes follow the echoed request.
pub const NLM_F_ACK_TLVS: u16 = 0x200;
/// The error message's flag: the echoed request was cut to its header.
pub const NLM_F_CAPPED: u16 = 0x100;
/// The attribute with the kernel's text.
pub const NLMSGERR_ATTR_MSG: u16 = 1;
/// Length of a netlink message header.
pub const NLMSG_HDRLEN: usize = 16;

/// The extended-ACK text of an error message, if the kernel attached one.
///
/// `flags` are the error message's own header flags; `echoed` is its payload after the errno:
/// the request's header (and its body unless capped), then attributes. The text is cut at its
/// NUL and read lossily as UTF-8.
pub fn message(flags: u16, echoed: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 || echoed.len() < NLMSG_HDRLEN {
        return None;
    }
    let skip = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = u32::from_ne_bytes(echoed[0..4].try_into().ok()?) as usize;
        len.checked_add(3)? & !3
    };
    let mut rest = echoed.get(skip..)?;
    while rest.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
        // The top two bits of the type are the nested and byte-order flags.
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &rest[4..len];
            let text = text.split(|b| *b == 0).next().unwrap_or(text);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        out.resize((out.len() + 3) & !3, 0);
        out
    }

    #[test]
    fn text_after_a_capped_header() {
        let mut echoed = vec![0u8; NLMSG_HDRLEN];
        echoed.extend(attr(
            NLMSGERR_ATTR_MSG,
            b"Invalid prefix for given prefix length\0",
        ));
        assert_eq!(
            message(NLM_F_ACK_TLVS | NLM_F_CAPPED, &echoed).as_deref(),
            Some("Invalid prefix for given prefix length")
        );
        // Without the flag the kernel sent no attributes, whatever follows.
        assert_eq!(message(NLM_F_CAPPED, &echoed), None);
    }

    #[test]
    fn text_after_a_full_echo_and_another_attribute() {
        // An echoed request of 20 bytes (header + 4 bytes body), then an offset attribute (2).
        let mut echoed = vec![0u8; 20];
        echoed[0..4].copy_from_slice(&20u32.to_ne_bytes());
        echoed.extend(attr(2, &[0, 0, 0, 0]));
        echoed.extend(attr(NLMSGERR_ATTR_MSG, b"no such device\0"));
        assert_eq!(
            message(NLM_F_ACK_TLVS, &echoed).as_deref(),
            Some("no such device")
        );
    }

    #[test]
    fn truncated_or_absurd_lengths_are_none() {
        let mut echoed = vec![0u8; NLMSG_HDRLEN];
        echoed.extend_from_slice(&200u16.to_ne_bytes());
        echoed.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        echoed.extend_from_slice(b"short");
        assert_eq!(message(NLM_F_ACK_TLVS | NLM_F_CAPPED, &echoed), None);
        // An echoed length that runs past the end, or overflows.
        let mut echoed = vec![0u8; NLMSG_HDRLEN];
        echoed[0..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(message(NLM_F_ACK_TLVS, &echoed), None);
        assert_eq!(message(NLM_F_ACK_TLVS, &echoed[..8]), None);
    }
}
