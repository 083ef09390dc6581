//! Requests on the rtnetlink connection: one ACKed change, one dump, and the mapping of kernel
//! errors (with the extended ACK text) to our error type.

use std::io;

use futures::StreamExt;
use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

use tracing::{debug, warn};

use crate::Error;

/// The kernel's flag on an error message that carries extended-ACK attributes.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// The kernel's flag on an error message whose echoed request was cut to its header.
const NLM_F_CAPPED: u16 = 0x100;
/// `NLMSGERR_ATTR_MSG`: the kernel's human-readable explanation.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Length of a netlink message header.
const NLMSG_HDRLEN: usize = 16;

/// A kernel refusal, before it is given a meaning by the caller.
#[derive(Debug)]
pub(crate) struct Nack {
    /// The positive errno.
    pub(crate) errno: i32,
    /// The extended ACK message, if any.
    pub(crate) ext: Option<String>,
}

impl Nack {
    /// Turns the refusal into an [`Error`], naming what was being done.
    pub(crate) fn into_error(self, op: &'static str) -> Error {
        if self.errno == libc::EPERM || self.errno == libc::EACCES {
            return Error::Permission { op };
        }
        Error::Kernel {
            op,
            source: io::Error::from_raw_os_error(self.errno),
            ext: self.ext,
        }
    }
}

/// Either the kernel said no, or the connection broke.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The kernel answered with an error.
    Nack(Nack),
    /// We could not talk to the kernel at all.
    Other(Error),
}

impl Failure {
    /// Turns any failure into an [`Error`].
    pub(crate) fn into_error(self, op: &'static str) -> Error {
        match self {
            Self::Nack(nack) => nack.into_error(op),
            Self::Other(e) => e,
        }
    }
}

/// Reads the extended ACK text out of an error message's payload.
///
/// `flags` are the error message's own header flags, `echoed` the payload after the errno: the
/// request's header (and its body unless capped), then attributes.
pub(crate) fn ext_ack_message(flags: u16, echoed: &[u8]) -> Option<String> {
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
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
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

fn nack_of(flags: u16, err: &netlink_packet_core::ErrorMessage) -> Option<Nack> {
    let code = err.code?;
    Some(Nack {
        errno: code.get().saturating_abs(),
        ext: ext_ack_message(flags, &err.header),
    })
}

/// Sends a change (`NLM_F_REQUEST | NLM_F_ACK` plus `extra_flags`) and waits for its ACK.
pub(crate) async fn change(
    handle: &Handle,
    message: RouteNetlinkMessage,
    extra_flags: u16,
) -> Result<(), Failure> {
    let mut req = NetlinkMessage::from(message);
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | extra_flags;
    let mut handle = handle.clone();
    let mut responses = handle
        .request(req)
        .map_err(|e| Failure::Other(Error::Connection(e.to_string())))?;
    while let Some(msg) = responses.next().await {
        if let NetlinkPayload::Error(err) = &msg.payload
            && let Some(nack) = nack_of(msg.header.flags, err)
        {
            return Err(Failure::Nack(nack));
        }
    }
    Ok(())
}

/// The kernel's mark on the messages of a dump that changes interrupted (it may be
/// inconsistent).
const NLM_F_DUMP_INTR: u16 = 0x10;
/// How many times an interrupted dump is taken again before its result is used as it is.
const DUMP_ATTEMPTS: usize = 5;

/// Sends a request that answers with messages (a dump, or a get of one object), and collects
/// them. A dump that the kernel marks as interrupted by concurrent changes is taken again.
pub(crate) async fn query(
    handle: &Handle,
    message: RouteNetlinkMessage,
    dump: bool,
) -> Result<Vec<RouteNetlinkMessage>, Failure> {
    let mut attempt = 1;
    loop {
        let (out, interrupted) = query_once(handle, message.clone(), dump).await?;
        if !interrupted || attempt == DUMP_ATTEMPTS {
            if interrupted {
                warn!("dump still interrupted after {DUMP_ATTEMPTS} attempts; using it");
            }
            return Ok(out);
        }
        debug!("dump interrupted by a concurrent change; taking it again");
        attempt += 1;
    }
}

async fn query_once(
    handle: &Handle,
    message: RouteNetlinkMessage,
    dump: bool,
) -> Result<(Vec<RouteNetlinkMessage>, bool), Failure> {
    let mut req = NetlinkMessage::from(message);
    req.header.flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { 0 };
    let mut handle = handle.clone();
    let mut responses = handle
        .request(req)
        .map_err(|e| Failure::Other(Error::Connection(e.to_string())))?;
    let mut out = Vec::new();
    let mut interrupted = false;
    while let Some(msg) = responses.next().await {
        interrupted |= msg.header.flags & NLM_F_DUMP_INTR != 0;
        match msg.payload {
            NetlinkPayload::InnerMessage(inner) => out.push(inner),
            NetlinkPayload::Error(ref err) => {
                if let Some(nack) = nack_of(msg.header.flags, err) {
                    return Err(Failure::Nack(nack));
                }
            }
            NetlinkPayload::Overrun(_) => {
                return Err(Failure::Other(Error::Connection(
                    "the kernel's reply overflowed the socket buffer".into(),
                )));
            }
            _ => {}
        }
    }
    Ok((out, interrupted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_ack_text_after_capped_header() {
        let mut echoed = vec![0u8; NLMSG_HDRLEN];
        let text = b"Invalid prefix for given prefix length\0";
        let len = (4 + text.len()) as u16;
        echoed.extend_from_slice(&len.to_ne_bytes());
        echoed.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        echoed.extend_from_slice(text);
        assert_eq!(
            ext_ack_message(NLM_F_ACK_TLVS | NLM_F_CAPPED, &echoed).as_deref(),
            Some("Invalid prefix for given prefix length")
        );
        // Without the flag the kernel sent no attributes, whatever follows.
        assert_eq!(ext_ack_message(NLM_F_CAPPED, &echoed), None);
    }

    #[test]
    fn ext_ack_text_after_full_echo() {
        // An echoed request of 20 bytes (header + 4 bytes body), then an offset attribute (2),
        // then the message.
        let mut echoed = vec![0u8; 20];
        echoed[0..4].copy_from_slice(&20u32.to_ne_bytes());
        echoed.extend_from_slice(&8u16.to_ne_bytes());
        echoed.extend_from_slice(&2u16.to_ne_bytes());
        echoed.extend_from_slice(&[0, 0, 0, 0]);
        let text = b"no such device\0";
        echoed.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        echoed.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        echoed.extend_from_slice(text);
        assert_eq!(
            ext_ack_message(NLM_F_ACK_TLVS, &echoed).as_deref(),
            Some("no such device")
        );
    }

    #[test]
    fn truncated_ext_ack_is_ignored() {
        let mut echoed = vec![0u8; NLMSG_HDRLEN];
        echoed.extend_from_slice(&200u16.to_ne_bytes());
        echoed.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        echoed.extend_from_slice(b"short");
        assert_eq!(
            ext_ack_message(NLM_F_ACK_TLVS | NLM_F_CAPPED, &echoed),
            None
        );
    }

    #[test]
    fn an_errno_of_i32_min_is_no_panic() {
        let mut err = netlink_packet_core::ErrorMessage::default();
        err.code = std::num::NonZeroI32::new(i32::MIN);
        let nack = nack_of(0, &err).expect("a refusal");
        assert_eq!(nack.errno, i32::MAX);
    }

    #[test]
    fn permission_errors_are_typed() {
        let e = Nack {
            errno: libc::EPERM,
            ext: None,
        }
        .into_error("add address");
        assert!(matches!(e, Error::Permission { op: "add address" }));
        let e = Nack {
            errno: libc::EINVAL,
            ext: Some("bad".into()),
        }
        .into_error("add route");
        assert_eq!(e.errno(), Some(libc::EINVAL));
        assert!(e.to_string().contains("(bad)"), "{e}");
    }
}
