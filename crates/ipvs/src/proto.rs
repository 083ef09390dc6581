//! The sans-IO core shared by the blocking and async clients: framing requests, splitting
//! datagrams into replies, and matching replies to requests by sequence number.
//!
//! The drivers only move bytes: they hand every received datagram to [`decode`] and feed the
//! replies to an [`AckTracker`] (for requests answered by an ACK), or the datagrams to a
//! [`DumpReader`] (for dumps), until it says it is complete.

use netlink_packet_core::{Emitable, NLM_F_ACK, NLM_F_REQUEST};
use netlink_packet_core::{
    NLA_TYPE_MASK, NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
    NetlinkBuffer,
};
use netlink_packet_ipvs::constants::{IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_SERVICE};
use netlink_packet_ipvs::{IpvsAttr, IpvsCmd, IpvsMessage};

use crate::error::{Error, KernelError};
use crate::types::{Destination, Family, Service, ServiceKey};

use netlink_ext_ack::NLMSG_HDRLEN;

const GENL_HDRLEN: usize = 4;

/// Frames requests for one resolved family and hands out sequence numbers.
#[derive(Debug)]
pub(crate) struct Codec {
    family_id: u16,
    next_seq: u32,
}

impl Codec {
    pub(crate) fn new(family_id: u16) -> Self {
        // Sequence numbers of IPVS requests start after the one used to resolve the family.
        Self {
            family_id,
            next_seq: crate::ctrl::RESOLVE_SEQ + 1,
        }
    }

    pub(crate) fn family_id(&self) -> u16 {
        self.family_id
    }

    /// Appends one request to `out` and returns its sequence number.
    pub(crate) fn encode(&mut self, out: &mut Vec<u8>, msg: &IpvsMessage, flags: u16) -> u32 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        let len = NLMSG_HDRLEN + GENL_HDRLEN + msg.buffer_len();
        let start = out.len();
        out.resize(start + len, 0);
        let buf = &mut out[start..];
        buf[0..4].copy_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
        buf[4..6].copy_from_slice(&self.family_id.to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        buf[12..16].copy_from_slice(&0u32.to_ne_bytes());
        buf[16] = u8::from(msg.cmd);
        buf[17] = netlink_packet_ipvs::IPVS_GENL_VERSION;
        buf[18..20].copy_from_slice(&[0, 0]);
        msg.emit(&mut buf[NLMSG_HDRLEN + GENL_HDRLEN..]);
        seq
    }
}

/// One netlink message of a received datagram, as far as the client cares.
#[derive(Debug)]
pub(crate) enum Reply {
    /// An error message with code 0: the request succeeded.
    Ack { seq: u32 },
    /// An error message with a non-zero code, and the extended-ACK text if any.
    Error {
        seq: u32,
        errno: i32,
        message: Option<String>,
    },
    /// The end of a dump, which no request answered by an ACK expects.
    Done { seq: u32 },
    /// A message of our family.
    Message { seq: u32, msg: IpvsMessage },
}

/// One netlink message of a datagram, borrowed: what [`decode`] and [`DumpReader`] both start from.
enum Frame<'a> {
    Ack {
        seq: u32,
    },
    Error {
        seq: u32,
        errno: i32,
        message: Option<String>,
    },
    Done {
        seq: u32,
        errno: i32,
    },
    /// A message of our family: its generic-netlink payload (header included).
    Data {
        seq: u32,
        interrupted: bool,
        genl: &'a [u8],
    },
}

/// Walks the messages of a datagram; messages of other families and NOOPs are skipped.
fn for_each_frame<'a>(
    family_id: u16,
    datagram: &'a [u8],
    mut f: impl FnMut(Frame<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut offset = 0;
    while offset < datagram.len() {
        let buf = NetlinkBuffer::new_checked(&datagram[offset..])
            .map_err(|e| Error::Protocol(format!("bad netlink header: {e}")))?;
        let len = buf.length() as usize;
        let seq = buf.sequence_number();
        let flags = buf.flags();
        let payload = &datagram[offset + NLMSG_HDRLEN..offset + len];
        match buf.message_type() {
            NLMSG_NOOP => {}
            NLMSG_OVERRUN => return Err(Error::Protocol("netlink overrun".into())),
            NLMSG_ERROR => {
                let code = read_i32(payload)?;
                if code == 0 {
                    f(Frame::Ack { seq })?;
                } else {
                    let message = netlink_ext_ack::message(flags, &payload[4..]);
                    f(Frame::Error {
                        seq,
                        errno: code.saturating_neg(),
                        message,
                    })?;
                }
            }
            NLMSG_DONE => {
                let code = if payload.len() >= 4 {
                    read_i32(payload)?
                } else {
                    0
                };
                f(Frame::Done {
                    seq,
                    errno: code.saturating_neg(),
                })?;
            }
            kind if kind == family_id => {
                if payload.len() < GENL_HDRLEN {
                    return Err(Error::Protocol("generic netlink message too short".into()));
                }
                f(Frame::Data {
                    seq,
                    interrupted: flags & NLM_F_DUMP_INTR != 0,
                    genl: payload,
                })?;
            }
            other => tracing::debug!(
                kind = other,
                seq,
                "skipping a netlink message of another type"
            ),
        }
        // Messages are 4-byte aligned within a datagram.
        offset += (len + 3) & !3;
    }
    Ok(())
}

/// Splits a datagram into replies; messages of other families and NOOPs are skipped.
pub(crate) fn decode(family_id: u16, datagram: &[u8]) -> Result<Vec<Reply>, Error> {
    let mut replies = Vec::new();
    for_each_frame(family_id, datagram, |frame| {
        replies.push(match frame {
            Frame::Ack { seq } => Reply::Ack { seq },
            Frame::Error {
                seq,
                errno,
                message,
            } => Reply::Error {
                seq,
                errno,
                message,
            },
            Frame::Done { seq, .. } => Reply::Done { seq },
            Frame::Data { seq, genl, .. } => Reply::Message {
                seq,
                msg: parse_message(genl).map_err(Error::Protocol)?,
            },
        });
        Ok(())
    })?;
    Ok(replies)
}

/// A whole message of our family, from its generic-netlink payload.
pub(crate) fn parse_message(genl: &[u8]) -> Result<IpvsMessage, String> {
    IpvsMessage::parse_attrs(IpvsCmd::from(genl[0]), &genl[GENL_HDRLEN..])
        .map_err(|e| e.to_string())
}

/// A dump reader that keeps whole messages (daemons and other small dumps).
pub(crate) fn read_messages(genl: &[u8], out: &mut Vec<IpvsMessage>) -> Result<(), String> {
    out.push(parse_message(genl)?);
    Ok(())
}

/// A dump reader for `GET_SERVICE`: each message's service nest, read straight from the wire.
pub(crate) fn read_services(genl: &[u8], out: &mut Vec<Service>) -> Result<(), String> {
    read_nests(genl, IPVS_CMD_ATTR_SERVICE, out, Service::from_nest)
}

/// A dump reader for `GET_DEST` of a service of `family`, read straight from the wire.
pub(crate) fn read_destinations(
    family: Family,
) -> impl FnMut(&[u8], &mut Vec<Destination>) -> Result<(), String> {
    move |genl, out| {
        read_nests(genl, IPVS_CMD_ATTR_DEST, out, |nest| {
            Destination::from_nest(nest, family)
        })
    }
}

/// The nests of kind `kind` at the top of a message, read with `read`: how a dump of services or
/// destinations becomes typed values without building the attribute enums first.
fn read_nests<T>(
    genl: &[u8],
    kind: u16,
    out: &mut Vec<T>,
    mut read: impl FnMut(&[u8]) -> Result<T, String>,
) -> Result<(), String> {
    for attr in netlink_packet_ipvs::walk(&genl[GENL_HDRLEN..]) {
        let (raw_kind, value) = attr.map_err(|e| e.to_string())?;
        if raw_kind & NLA_TYPE_MASK == kind {
            out.push(read(value)?);
        }
    }
    Ok(())
}

fn read_i32(payload: &[u8]) -> Result<i32, Error> {
    payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_ne_bytes)
        .ok_or_else(|| Error::Protocol("truncated netlink error message".into()))
}

/// Per-request results of a window, in request order, and the data replies that came with them.
pub(crate) type Exchanged = (Vec<Result<(), KernelError>>, Vec<IpvsMessage>);

/// A batch cut into windows, one `sendmsg` each, and its report as the windows are answered.
///
/// The drivers loop: `while let Some(msgs) = plan.next_window() { ...exchange...;
/// plan.record(results) }`, then [`BatchPlan::finish`].
pub(crate) struct BatchPlan<'a> {
    chunks: std::slice::Chunks<'a, crate::Op>,
    on_error: crate::OnError,
    report: crate::BatchReport,
    stopped: bool,
}

impl<'a> BatchPlan<'a> {
    /// Up to `window` requests per `sendmsg`; one at a time when the batch stops at the first
    /// error (the kernel works through a whole datagram even after a refusal).
    pub(crate) fn new(ops: &'a [crate::Op], on_error: crate::OnError, window: usize) -> Self {
        let window = match on_error {
            crate::OnError::Stop => 1,
            crate::OnError::Continue => window.max(1),
        };
        Self {
            chunks: ops.chunks(window),
            on_error,
            report: crate::BatchReport {
                statuses: Vec::with_capacity(ops.len()),
            },
            stopped: false,
        }
    }

    /// The requests of the next window to send; after a stop, the rest are marked skipped.
    pub(crate) fn next_window(&mut self) -> Option<Vec<IpvsMessage>> {
        let chunk = self.chunks.next()?;
        if self.stopped {
            let skipped = self
                .chunks
                .by_ref()
                .flatten()
                .map(|_| crate::OpStatus::Skipped);
            self.report.statuses.extend(
                chunk
                    .iter()
                    .map(|_| crate::OpStatus::Skipped)
                    .chain(skipped),
            );
            return None;
        }
        Some(chunk.iter().map(crate::Op::to_message).collect())
    }

    /// Adds one window's kernel answers to the report.
    pub(crate) fn record(&mut self, results: Vec<Result<(), KernelError>>) {
        for result in results {
            match result {
                Ok(()) => self.report.statuses.push(crate::OpStatus::Done),
                Err(kernel) => {
                    self.report
                        .statuses
                        .push(crate::OpStatus::Failed(Error::from_kernel(kernel)));
                    self.stopped |= self.on_error == crate::OnError::Stop;
                }
            }
        }
    }

    /// The report: a status for every operation, in order.
    pub(crate) fn finish(self) -> crate::BatchReport {
        self.report
    }
}

/// Frames `msgs` into `send_buf` (cleared first), each with `NLM_F_ACK`, and returns the tracker
/// of their ACKs; `None` when there is nothing to send.
pub(crate) fn start_exchange(
    codec: &mut Codec,
    send_buf: &mut Vec<u8>,
    msgs: &[IpvsMessage],
) -> Option<AckTracker> {
    send_buf.clear();
    let mut first_seq = None;
    for msg in msgs {
        let seq = codec.encode(send_buf, msg, NLM_F_REQUEST | NLM_F_ACK);
        first_seq.get_or_insert(seq);
    }
    Some(AckTracker::new(
        first_seq?,
        msgs.iter().map(|m| m.cmd).collect(),
    ))
}

/// The `GET_SERVICE` request for one service.
pub(crate) fn get_service_request(key: &ServiceKey) -> IpvsMessage {
    IpvsMessage {
        cmd: IpvsCmd::GetService,
        attrs: vec![IpvsAttr::Service(key.attrs())],
    }
}

/// The service a `GET_SERVICE` request was answered with.
pub(crate) fn first_service(msgs: &[IpvsMessage]) -> crate::Result<Service> {
    crate::reply::services(msgs)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Protocol("GET_SERVICE answered without a service".into()))
}

/// The data of a single request's exchange, or the kernel's refusal of it.
pub(crate) fn single_reply(exchanged: Exchanged) -> crate::Result<Vec<IpvsMessage>> {
    let (mut results, data) = exchanged;
    match results.pop() {
        Some(Ok(())) => Ok(data),
        Some(Err(kernel)) => Err(Error::from_kernel(kernel)),
        None => Err(Error::Protocol("no result for a request".into())),
    }
}

/// Tracks the ACKs of a window of requests sent together.
#[derive(Debug)]
pub(crate) struct AckTracker {
    first_seq: u32,
    cmds: Vec<IpvsCmd>,
    results: Vec<Option<Result<(), KernelError>>>,
    outstanding: usize,
    /// Replies carrying data (a `GET_SERVICE` or `GET_INFO` answer), in order.
    pub(crate) data: Vec<IpvsMessage>,
}

impl AckTracker {
    /// Expects one ACK for each of `cmds`, sent with consecutive sequence numbers from `first_seq`.
    pub(crate) fn new(first_seq: u32, cmds: Vec<IpvsCmd>) -> Self {
        let n = cmds.len();
        Self {
            first_seq,
            cmds,
            results: vec![None; n],
            outstanding: n,
            data: Vec::new(),
        }
    }

    fn index(&self, seq: u32) -> Option<usize> {
        let index = seq.wrapping_sub(self.first_seq) as usize;
        (index < self.results.len()).then_some(index)
    }

    /// Takes one reply; replies to other requests are ignored.
    pub(crate) fn on_reply(&mut self, reply: Reply) {
        match reply {
            Reply::Ack { seq } => self.settle(seq, Ok(())),
            Reply::Error {
                seq,
                errno,
                message,
            } => {
                if let Some(i) = self.index(seq) {
                    let cmd = self.cmds[i];
                    self.settle(
                        seq,
                        Err(KernelError {
                            errno,
                            message,
                            cmd,
                        }),
                    );
                }
            }
            Reply::Message { seq, msg } => {
                if self.index(seq).is_some() {
                    self.data.push(msg);
                }
            }
            Reply::Done { seq } => tracing::debug!(seq, "stray NLMSG_DONE"),
        }
    }

    fn settle(&mut self, seq: u32, result: Result<(), KernelError>) {
        match self.index(seq) {
            Some(i) if self.results[i].is_none() => {
                self.results[i] = Some(result);
                self.outstanding -= 1;
            }
            _ => tracing::debug!(seq, "ignoring an ACK for another request"),
        }
    }

    /// Whether every request has its ACK.
    pub(crate) fn complete(&self) -> bool {
        self.outstanding == 0
    }

    /// The per-request results, in request order.
    pub(crate) fn into_results(self) -> Exchanged {
        let results = self
            .results
            .into_iter()
            .zip(self.cmds)
            .map(|(r, cmd)| {
                r.unwrap_or(Err(KernelError {
                    errno: libc::EIO,
                    message: Some("no ACK".into()),
                    cmd,
                }))
            })
            .collect();
        (results, self.data)
    }
}

/// Reads one dump as its datagrams arrive, until `NLMSG_DONE`: each data message is handed to
/// `read` on the spot (from the receive buffer, nothing copied), which appends what it makes of
/// it to `items`.
pub(crate) struct DumpReader<T, F> {
    family_id: u16,
    seq: u32,
    cmd: IpvsCmd,
    read: F,
    pub(crate) items: Vec<T>,
    pub(crate) interrupted: bool,
    finished: bool,
    pub(crate) error: Option<KernelError>,
}

impl<T, F> DumpReader<T, F>
where
    F: FnMut(&[u8], &mut Vec<T>) -> Result<(), String>,
{
    /// Expects the dump answering request `seq` (a `cmd` request); `read` gets each data
    /// message's generic-netlink payload (header included).
    pub(crate) fn new(family_id: u16, seq: u32, cmd: IpvsCmd, read: F) -> Self {
        Self {
            family_id,
            seq,
            cmd,
            read,
            items: Vec::new(),
            interrupted: false,
            finished: false,
            error: None,
        }
    }

    /// Takes one datagram; messages answering other requests are ignored.
    pub(crate) fn feed(&mut self, datagram: &[u8]) -> Result<(), Error> {
        let (seq, cmd) = (self.seq, self.cmd);
        for_each_frame(self.family_id, datagram, |frame| {
            match frame {
                Frame::Data {
                    seq: s,
                    interrupted,
                    genl,
                } if s == seq => {
                    self.interrupted |= interrupted;
                    (self.read)(genl, &mut self.items).map_err(Error::Protocol)?;
                }
                Frame::Done { seq: s, errno } if s == seq => {
                    if errno != 0 {
                        self.error = Some(KernelError {
                            errno,
                            message: None,
                            cmd,
                        });
                    }
                    self.finished = true;
                }
                Frame::Error {
                    seq: s,
                    errno,
                    message,
                } if s == seq => {
                    self.error = Some(KernelError {
                        errno,
                        message,
                        cmd,
                    });
                    self.finished = true;
                }
                Frame::Ack { seq: s } if s == seq => self.finished = true,
                _ => tracing::debug!("ignoring a reply to another request"),
            }
            Ok(())
        })
    }

    /// Whether the dump has ended (with or without an error).
    pub(crate) fn complete(&self) -> bool {
        self.finished
    }
}

#[cfg(test)]
mod tests {
    use netlink_ext_ack::{NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGERR_ATTR_MSG};

    use super::*;
    use netlink_packet_ipvs::{IpvsAttr, ServiceAttr};

    fn ack(seq: u32, code: i32, flags: u16, tail: &[u8]) -> Vec<u8> {
        let len = 16 + 4 + 16 + tail.len();
        let mut v = Vec::new();
        v.extend((len as u32).to_ne_bytes());
        v.extend(NLMSG_ERROR.to_ne_bytes());
        v.extend(flags.to_ne_bytes());
        v.extend(seq.to_ne_bytes());
        v.extend(0u32.to_ne_bytes());
        v.extend(code.to_ne_bytes());
        v.extend([0u8; 16]); // the echoed request header
        v.extend(tail);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn encode_frames_header_and_attributes_and_numbers_requests() {
        let mut codec = Codec::new(0x2a);
        let mut out = Vec::new();
        let msg = IpvsMessage {
            cmd: IpvsCmd::DelService,
            attrs: vec![IpvsAttr::Service(vec![ServiceAttr::Fwmark(1)])],
        };
        let a = codec.encode(&mut out, &msg, 5);
        let first = out.len();
        let b = codec.encode(&mut out, &msg, 5);
        assert_eq!(b, a + 1);
        assert_eq!(out.len(), 2 * first);
        let buf = NetlinkBuffer::new_checked(&out[..first]).unwrap();
        assert_eq!(buf.length() as usize, first);
        assert_eq!(buf.message_type(), 0x2a);
        assert_eq!(buf.flags(), 5);
        assert_eq!(buf.sequence_number(), a);
        assert_eq!(buf.payload()[0], 3);
        assert_eq!(buf.payload()[1], 1);
        let parsed = IpvsMessage::parse_attrs(IpvsCmd::DelService, &buf.payload()[4..]).unwrap();
        assert_eq!(parsed, msg);
    }

    #[test]
    fn acks_are_matched_by_sequence_even_out_of_order_and_keep_the_ext_ack_text() {
        let mut tlv = Vec::new();
        let text = b"bad scheduler\0";
        tlv.extend(((4 + text.len()) as u16).to_ne_bytes());
        tlv.extend(NLMSGERR_ATTR_MSG.to_ne_bytes());
        tlv.extend(text);
        let mut datagram = ack(11, -libc::ENOENT, NLM_F_CAPPED | NLM_F_ACK_TLVS, &tlv);
        datagram.extend(ack(10, 0, NLM_F_CAPPED, &[]));
        datagram.extend(ack(99, 0, NLM_F_CAPPED, &[])); // someone else's
        let mut tracker = AckTracker::new(10, vec![IpvsCmd::NewService, IpvsCmd::NewService]);
        for reply in decode(0x2a, &datagram).unwrap() {
            tracker.on_reply(reply);
        }
        assert!(tracker.complete());
        let (results, _) = tracker.into_results();
        assert_eq!(results[0], Ok(()));
        let err = results[1].clone().unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
        assert_eq!(err.message.as_deref(), Some("bad scheduler"));
    }

    #[test]
    fn a_missing_ack_leaves_the_tracker_incomplete() {
        let mut tracker = AckTracker::new(1, vec![IpvsCmd::Flush, IpvsCmd::Flush]);
        for reply in decode(0x2a, &ack(1, 0, 0, &[])).unwrap() {
            tracker.on_reply(reply);
        }
        assert!(!tracker.complete());
    }

    #[test]
    fn a_dump_ends_at_done_and_notes_interruption() {
        let mut codec = Codec::new(0x2a);
        let mut datagram = Vec::new();
        let msg = IpvsMessage {
            cmd: IpvsCmd::NewService,
            attrs: vec![IpvsAttr::Service(vec![ServiceAttr::Fwmark(9)])],
        };
        let seq = codec.encode(&mut datagram, &msg, NLM_F_DUMP_INTR);
        let mut done = Vec::new();
        done.extend(20u32.to_ne_bytes());
        done.extend(NLMSG_DONE.to_ne_bytes());
        done.extend(0u16.to_ne_bytes());
        done.extend(seq.to_ne_bytes());
        done.extend(0u32.to_ne_bytes());
        done.extend(0i32.to_ne_bytes());
        let mut dump = DumpReader::new(0x2a, seq, IpvsCmd::GetService, read_messages);
        dump.feed(&datagram).unwrap();
        assert!(!dump.complete());
        dump.feed(&done).unwrap();
        assert!(dump.complete());
        assert!(dump.interrupted);
        assert_eq!(dump.items, vec![msg]);
        assert!(dump.error.is_none());
    }

    fn refusal() -> KernelError {
        KernelError {
            errno: libc::EEXIST,
            message: None,
            cmd: IpvsCmd::NewService,
        }
    }

    #[test]
    fn a_batch_plan_windows_the_ops_and_stops_or_goes_on() {
        let ops: Vec<crate::Op> = (0..5).map(|_| crate::Op::Flush).collect();
        // Continue: windows of 2, a refusal does not stop the rest.
        let mut plan = BatchPlan::new(&ops, crate::OnError::Continue, 2);
        let mut sizes = Vec::new();
        while let Some(msgs) = plan.next_window() {
            sizes.push(msgs.len());
            let mut results = vec![Ok(()); msgs.len()];
            if sizes.len() == 1 {
                results[1] = Err(refusal());
            }
            plan.record(results);
        }
        assert_eq!(sizes, [2, 2, 1]);
        let statuses = plan.finish().statuses;
        assert_eq!(statuses.len(), 5);
        assert!(matches!(statuses[1], crate::OpStatus::Failed(_)));
        assert!(statuses.iter().filter(|s| s.is_done()).count() == 4);
        // Stop: one request per window, everything after the refusal skipped.
        let mut plan = BatchPlan::new(&ops, crate::OnError::Stop, 128);
        let mut sent = 0;
        while let Some(msgs) = plan.next_window() {
            assert_eq!(msgs.len(), 1);
            sent += 1;
            plan.record(vec![if sent == 2 { Err(refusal()) } else { Ok(()) }]);
        }
        assert_eq!(sent, 2);
        let statuses = plan.finish().statuses;
        assert_eq!(statuses.len(), 5);
        assert!(statuses[0].is_done());
        assert!(matches!(statuses[1], crate::OpStatus::Failed(_)));
        assert!(
            statuses[2..]
                .iter()
                .all(|s| matches!(s, crate::OpStatus::Skipped))
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode(0x2a, &[1, 2, 3]).is_err());
        let mut bad = ack(1, 0, 0, &[]);
        bad[0] = 200; // longer than the datagram
        assert!(decode(0x2a, &bad).is_err());
    }
}
