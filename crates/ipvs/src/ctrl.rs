//! Resolving a generic-netlink family name through `nlctrl`, without I/O.

use netlink_packet_core::{NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR, NetlinkBuffer, NlasIterator};
use netlink_packet_generic::constants::{CTRL_CMD_GETFAMILY, GENL_ID_CTRL};

use crate::error::{Error, Result};

/// The sequence number of the family lookup.
pub(crate) const RESOLVE_SEQ: u32 = 1;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// A `CTRL_CMD_GETFAMILY` request for `name`.
pub(crate) fn get_family_request(name: &str, seq: u32) -> Vec<u8> {
    let name_len = name.len() + 1;
    let attr_len = 4 + name_len;
    let len = 16 + 4 + ((attr_len + 3) & !3);
    let mut v = Vec::with_capacity(len);
    v.extend(u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    v.extend(GENL_ID_CTRL.to_ne_bytes());
    v.extend((NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    v.extend(seq.to_ne_bytes());
    v.extend(0u32.to_ne_bytes());
    v.extend([CTRL_CMD_GETFAMILY, 1, 0, 0]);
    v.extend(u16::try_from(attr_len).unwrap_or(u16::MAX).to_ne_bytes());
    v.extend(CTRL_ATTR_FAMILY_NAME.to_ne_bytes());
    v.extend(name.as_bytes());
    v.resize(len, 0);
    v
}

/// Reads one datagram of the reply: `Some(id)` once the family id is known and acknowledged,
/// `None` to keep reading, [`Error::ModuleNotLoaded`] when the kernel has no such family.
/// `found` carries the id between datagrams (the reply and its ACK may come apart).
pub(crate) fn parse_family_reply(
    datagram: &[u8],
    seq: u32,
    name: &str,
    found: &mut Option<u16>,
) -> Result<Option<u16>> {
    let mut offset = 0;
    while offset < datagram.len() {
        let buf = NetlinkBuffer::new_checked(&datagram[offset..])
            .map_err(|e| Error::Protocol(format!("bad nlctrl reply: {e}")))?;
        offset += (buf.length() as usize + 3) & !3;
        if buf.sequence_number() != seq {
            continue;
        }
        let payload = buf.payload();
        match buf.message_type() {
            NLMSG_ERROR => {
                let code = payload
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .map(i32::from_ne_bytes)
                    .ok_or_else(|| Error::Protocol("truncated nlctrl error".into()))?;
                match -code {
                    0 => {
                        return found.map(Some).ok_or_else(|| {
                            Error::Protocol("nlctrl acknowledged without a family id".into())
                        });
                    }
                    libc::ENOENT => {
                        return Err(Error::ModuleNotLoaded {
                            detail: format!(
                                "the kernel has no generic-netlink family \"{name}\" \
                                 (is the ip_vs module loaded?)"
                            ),
                        });
                    }
                    errno => {
                        return Err(Error::Io(std::io::Error::from_raw_os_error(errno)));
                    }
                }
            }
            GENL_ID_CTRL if payload.len() >= 4 => {
                for nla in NlasIterator::new(&payload[4..]).filter_map(|n| n.ok()) {
                    if nla.kind() == CTRL_ATTR_FAMILY_ID
                        && let Ok(raw) = <[u8; 2]>::try_from(nla.value())
                    {
                        *found = Some(u16::from_ne_bytes(raw));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_nlctrl_itself_and_reports_a_missing_family() {
        // Any user may ask nlctrl; it always knows itself (id 16).
        assert_eq!(crate::Ipvs::resolve_family("nlctrl").unwrap(), GENL_ID_CTRL);
        let err = crate::Ipvs::resolve_family("lvskit-nofam").unwrap_err();
        assert!(matches!(err, Error::ModuleNotLoaded { .. }), "{err:?}");
        assert!(err.to_string().contains("lvskit-nofam"), "{err}");
    }

    #[test]
    fn the_id_survives_a_reply_and_ack_in_separate_datagrams() {
        let mut reply = Vec::new();
        reply.extend(28u32.to_ne_bytes());
        reply.extend(GENL_ID_CTRL.to_ne_bytes());
        reply.extend(0u16.to_ne_bytes());
        reply.extend(RESOLVE_SEQ.to_ne_bytes());
        reply.extend(0u32.to_ne_bytes());
        reply.extend([1, 2, 0, 0]);
        reply.extend(6u16.to_ne_bytes());
        reply.extend(CTRL_ATTR_FAMILY_ID.to_ne_bytes());
        reply.extend(0x25u16.to_ne_bytes());
        reply.extend([0, 0]);
        let mut ack = Vec::new();
        ack.extend(36u32.to_ne_bytes());
        ack.extend(NLMSG_ERROR.to_ne_bytes());
        ack.extend(0u16.to_ne_bytes());
        ack.extend(RESOLVE_SEQ.to_ne_bytes());
        ack.extend(0u32.to_ne_bytes());
        ack.extend(0i32.to_ne_bytes());
        ack.extend([0; 16]);
        let mut found = None;
        assert_eq!(
            parse_family_reply(&reply, RESOLVE_SEQ, "x", &mut found).unwrap(),
            None
        );
        assert_eq!(
            parse_family_reply(&ack, RESOLVE_SEQ, "x", &mut found).unwrap(),
            Some(0x25)
        );
    }
}
