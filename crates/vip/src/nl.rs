//! Requests on the rtnetlink connection: one ACKed change, one dump, and the mapping of kernel
//! errors (with the extended ACK text) to our error type.

use std::io;

use futures::StreamExt;
use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::Handle;

use tracing::{debug, warn};

use crate::Error;

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

fn nack_of(flags: u16, err: &netlink_packet_core::ErrorMessage) -> Option<Nack> {
    let code = err.code?;
    Some(Nack {
        errno: code.get().saturating_abs(),
        ext: netlink_ext_ack::message(flags, &err.header),
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
