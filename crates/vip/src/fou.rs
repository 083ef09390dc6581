//! FOU / GUE receive ports: the kernel's `fou` generic-netlink family (`ip fou add port N gue`),
//! which LVS-TUN with `tun_type gue` needs on the real server: the director sends each packet
//! as IPIP inside UDP with a GUE header to that port, the port's socket strips UDP and GUE, and
//! the inner IPIP packet reaches the catch-all `tunl0` like plain LVS-TUN.
//!
//! The messages ([`FouMessage`], [`FouAttr`]) follow the rust-netlink family crates (an
//! attribute enum implementing `Nla` with an `Other` arm); the requests are blocking, on a
//! generic-netlink socket of their own, in the network namespace of the calling thread. The
//! family is resolved by name; the kernel loads the `fou` module for that when it can.
//!
//! Port numbers are in host order here and big-endian on the wire, as `fou.h` says.

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, ErrorContext, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
    NetlinkMessage, NetlinkPayload, Nla, NlaBuffer, NlasIterator, Parseable, ParseableParametrized,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};

use crate::nl::Nack;
use crate::{Change, Error};

/// `FOU_GENL_NAME`.
pub const FOU_GENL_NAME: &str = "fou";
const FOU_GENL_VERSION: u8 = 1;

const FOU_CMD_ADD: u8 = 1;
const FOU_CMD_DEL: u8 = 2;
const FOU_CMD_GET: u8 = 3;

const FOU_ATTR_PORT: u16 = 1;
const FOU_ATTR_AF: u16 = 2;
const FOU_ATTR_IPPROTO: u16 = 3;
const FOU_ATTR_TYPE: u16 = 4;

const FOU_ENCAP_DIRECT: u8 = 1;
const FOU_ENCAP_GUE: u8 = 2;

/// A `fou` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FouCmd {
    /// `FOU_CMD_ADD`.
    Add,
    /// `FOU_CMD_DEL`.
    Del,
    /// `FOU_CMD_GET` (a dump lists every port).
    Get,
    /// A command of a newer kernel.
    Unknown(u8),
}

impl From<FouCmd> for u8 {
    fn from(cmd: FouCmd) -> Self {
        match cmd {
            FouCmd::Add => FOU_CMD_ADD,
            FouCmd::Del => FOU_CMD_DEL,
            FouCmd::Get => FOU_CMD_GET,
            FouCmd::Unknown(c) => c,
        }
    }
}

impl From<u8> for FouCmd {
    fn from(cmd: u8) -> Self {
        match cmd {
            FOU_CMD_ADD => Self::Add,
            FOU_CMD_DEL => Self::Del,
            FOU_CMD_GET => Self::Get,
            c => Self::Unknown(c),
        }
    }
}

/// One attribute of a `fou` message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FouAttr {
    /// `FOU_ATTR_PORT`: the UDP port (host order here, big-endian on the wire).
    Port(u16),
    /// `FOU_ATTR_AF`: `AF_INET` or `AF_INET6`.
    Af(u8),
    /// `FOU_ATTR_IPPROTO`: the protocol inside a direct FOU port.
    IpProto(u8),
    /// `FOU_ATTR_TYPE`: `FOU_ENCAP_DIRECT` (1) or `FOU_ENCAP_GUE` (2).
    Type(u8),
    /// Anything else (addresses, peer port, ifindex, newer attributes).
    Other(DefaultNla),
}

impl Nla for FouAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Port(_) => 2,
            Self::Af(_) | Self::IpProto(_) | Self::Type(_) => 1,
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Port(_) => FOU_ATTR_PORT,
            Self::Af(_) => FOU_ATTR_AF,
            Self::IpProto(_) => FOU_ATTR_IPPROTO,
            Self::Type(_) => FOU_ATTR_TYPE,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Port(p) => buffer[..2].copy_from_slice(&p.to_be_bytes()),
            Self::Af(v) | Self::IpProto(v) | Self::Type(v) => buffer[0] = *v,
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for FouAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let value = buf.value();
        let byte = |what: &str| -> Result<u8, DecodeError> {
            value
                .first()
                .copied()
                .ok_or_else(|| DecodeError::from(format!("fou {what}: empty attribute")))
        };
        Ok(match buf.kind() {
            FOU_ATTR_PORT => {
                let bytes: [u8; 2] = value
                    .get(..2)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| DecodeError::from("fou port: shorter than 2 bytes"))?;
                Self::Port(u16::from_be_bytes(bytes))
            }
            FOU_ATTR_AF => Self::Af(byte("af")?),
            FOU_ATTR_IPPROTO => Self::IpProto(byte("ipproto")?),
            FOU_ATTR_TYPE => Self::Type(byte("type")?),
            _ => Self::Other(DefaultNla::parse(buf).context("fou attribute")?),
        })
    }
}

/// A `fou` generic-netlink message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FouMessage {
    /// The command.
    pub cmd: FouCmd,
    /// Its attributes.
    pub attrs: Vec<FouAttr>,
}

impl GenlFamily for FouMessage {
    fn family_name() -> &'static str {
        FOU_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        FOU_GENL_VERSION
    }
}

impl Emitable for FouMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for FouMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(buf)
            .map(|nla| nla.and_then(|nla| FouAttr::parse(&nla)))
            .collect::<Result<Vec<_>, _>>()
            .context("fou message attributes")?;
        Ok(Self {
            cmd: header.cmd.into(),
            attrs,
        })
    }
}

/// What a FOU port carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FouEncap {
    /// Generic UDP Encapsulation: the GUE header names the inner protocol (`ip fou add port N
    /// gue`).
    Gue,
    /// Plain FOU: every datagram carries this IP protocol (`ip fou add port N ipproto P`).
    Direct(u8),
}

/// A FOU receive port (IPv4 sockets only: LVS-TUN real servers here are IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FouPort {
    /// The UDP port.
    pub port: u16,
    /// What it carries.
    pub encap: FouEncap,
}

impl FouPort {
    /// A GUE port.
    pub fn gue(port: u16) -> Self {
        Self {
            port,
            encap: FouEncap::Gue,
        }
    }

    fn attrs(&self) -> Vec<FouAttr> {
        let mut attrs = vec![FouAttr::Port(self.port), FouAttr::Af(libc::AF_INET as u8)];
        match self.encap {
            FouEncap::Gue => attrs.push(FouAttr::Type(FOU_ENCAP_GUE)),
            FouEncap::Direct(proto) => {
                attrs.push(FouAttr::Type(FOU_ENCAP_DIRECT));
                attrs.push(FouAttr::IpProto(proto));
            }
        }
        attrs
    }
}

/// A blocking generic-netlink socket with the `fou` family resolved.
struct Fou {
    socket: Socket,
    family: u16,
    seq: u32,
}

fn io_error(op: &'static str, e: std::io::Error) -> Error {
    Error::Kernel {
        op,
        source: e,
        ext: None,
    }
}

impl Fou {
    fn open() -> Result<Self, Error> {
        let op = "open a generic-netlink socket";
        let mut socket = Socket::new(NETLINK_GENERIC).map_err(|e| io_error(op, e))?;
        socket.bind_auto().map_err(|e| io_error(op, e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| io_error(op, e))?;
        // Best effort: the kernel's own words with its refusals.
        let _ = socket.set_ext_ack(true);
        let mut fou = Self {
            socket,
            family: 0,
            seq: 0,
        };
        let mut ctrl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(FOU_GENL_NAME.into())],
        });
        ctrl.finalize();
        let replies = fou.exchange(ctrl, NLM_F_REQUEST | NLM_F_ACK, "resolve the fou family")?;
        fou.family = replies
            .iter()
            .flat_map(|m| &m.payload.nlas)
            .find_map(|a| match a {
                GenlCtrlAttrs::FamilyId(id) => Some(*id),
                _ => None,
            })
            .ok_or_else(|| {
                Error::Invalid("the kernel answered for the fou family without its id".into())
            })?;
        Ok(fou)
    }

    /// Sends one request and collects its replies up to the ACK (or the end of a dump).
    fn exchange<F>(
        &mut self,
        message: GenlMessage<F>,
        flags: u16,
        op: &'static str,
    ) -> Result<Vec<GenlMessage<F>>, Error>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + std::fmt::Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let mut request = NetlinkMessage::from(message);
        request.header.flags = flags;
        request.header.sequence_number = self.seq;
        request.finalize();
        let mut buf = vec![0u8; request.buffer_len()];
        request.serialize(&mut buf);
        self.socket.send(&buf, 0).map_err(|e| io_error(op, e))?;
        let mut replies = Vec::new();
        loop {
            let (datagram, _) = self.socket.recv_from_full().map_err(|e| io_error(op, e))?;
            let mut offset = 0;
            while offset < datagram.len() {
                let reply = NetlinkMessage::<GenlMessage<F>>::deserialize(&datagram[offset..])
                    .map_err(|e| Error::Invalid(format!("{op}: cannot read the reply: {e}")))?;
                let len = reply.header.length as usize;
                if reply.header.sequence_number == self.seq {
                    match reply.payload {
                        NetlinkPayload::InnerMessage(m) => replies.push(m),
                        NetlinkPayload::Done(_) => return Ok(replies),
                        NetlinkPayload::Error(err) => {
                            return match err.code {
                                None => Ok(replies),
                                Some(code) => Err(Nack {
                                    errno: code.get().saturating_abs(),
                                    ext: netlink_ext_ack::message(reply.header.flags, &err.header),
                                }
                                .into_error(op)),
                            };
                        }
                        _ => {}
                    }
                }
                if len == 0 {
                    break;
                }
                offset += len.next_multiple_of(4);
            }
        }
    }

    fn request(
        &mut self,
        cmd: FouCmd,
        attrs: Vec<FouAttr>,
        flags: u16,
        op: &'static str,
    ) -> Result<Vec<FouMessage>, Error> {
        let message = GenlMessage::new(
            GenlHeader {
                cmd: cmd.into(),
                version: FOU_GENL_VERSION,
            },
            FouMessage { cmd, attrs },
            self.family,
        );
        Ok(self
            .exchange(message, flags, op)?
            .into_iter()
            .map(|m| m.payload)
            .collect())
    }
}

/// The IPv4 FOU ports of this network namespace (`ip fou show`), in the kernel's order.
pub fn fou_ports() -> Result<Vec<FouPort>, Error> {
    let mut fou = Fou::open()?;
    let replies = fou.request(
        FouCmd::Get,
        Vec::new(),
        NLM_F_REQUEST | NLM_F_DUMP,
        "list fou ports",
    )?;
    let mut ports = Vec::new();
    for m in replies {
        let (mut port, mut af, mut kind, mut proto) = (None, None, None, 0);
        for a in &m.attrs {
            match a {
                FouAttr::Port(p) => port = Some(*p),
                FouAttr::Af(f) => af = Some(*f),
                FouAttr::Type(t) => kind = Some(*t),
                FouAttr::IpProto(p) => proto = *p,
                FouAttr::Other(_) => {}
            }
        }
        if af != Some(libc::AF_INET as u8) {
            continue;
        }
        let (Some(port), Some(kind)) = (port, kind) else {
            continue;
        };
        let encap = if kind == FOU_ENCAP_GUE {
            FouEncap::Gue
        } else {
            FouEncap::Direct(proto)
        };
        ports.push(FouPort { port, encap });
    }
    Ok(ports)
}

/// Opens `port` unless it is open already. An open port of that number that carries something
/// else is [`Error::Exists`].
pub fn add_fou_port(port: FouPort) -> Result<Change, Error> {
    if let Some(open) = fou_ports()?.into_iter().find(|p| p.port == port.port) {
        if open == port {
            return Ok(Change::Unchanged);
        }
        return Err(Error::Exists {
            what: format!("fou port {}", port.port),
            detail: format!("it carries {:?}, not {:?}", open.encap, port.encap),
        });
    }
    let mut fou = Fou::open()?;
    fou.request(
        FouCmd::Add,
        port.attrs(),
        NLM_F_REQUEST | NLM_F_ACK,
        "add fou port",
    )?;
    Ok(Change::Changed)
}

/// Closes the IPv4 FOU port `port`; [`Change::Unchanged`] when it is not open.
pub fn remove_fou_port(port: u16) -> Result<Change, Error> {
    if !fou_ports()?.iter().any(|p| p.port == port) {
        return Ok(Change::Unchanged);
    }
    let mut fou = Fou::open()?;
    fou.request(
        FouCmd::Del,
        vec![FouAttr::Port(port), FouAttr::Af(libc::AF_INET as u8)],
        NLM_F_REQUEST | NLM_F_ACK,
        "remove fou port",
    )?;
    Ok(Change::Changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ip fou add port 6080 gue` after the 4-byte genl header, laid out by hand from
    /// `include/uapi/linux/fou.h` (each attribute: length, type, value padded to 4 bytes): the
    /// port big-endian, AF_INET, type GUE.
    static ADD_GUE_6080: [u8; 20] = [
        0x06, 0x00, 0x01, 0x00, 0x17, 0xc0, 0x00, 0x00, // port 6080
        0x05, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, // af AF_INET
        0x05, 0x00, 0x04, 0x00, // type (value and padding below)
    ];

    fn add_gue_6080() -> FouMessage {
        FouMessage {
            cmd: FouCmd::Add,
            attrs: FouPort::gue(6080).attrs(),
        }
    }

    #[test]
    fn emit_add_gue() {
        let message = add_gue_6080();
        assert_eq!(message.buffer_len(), 24);
        let mut buf = vec![0xa5u8; 24];
        message.emit(&mut buf);
        assert_eq!(&buf[..20], &ADD_GUE_6080);
        assert_eq!(&buf[20..], &[FOU_ENCAP_GUE, 0, 0, 0]);
    }

    #[test]
    fn parse_add_gue_and_keep_unknown_attributes() {
        let mut buf = ADD_GUE_6080.to_vec();
        buf.extend_from_slice(&[FOU_ENCAP_GUE, 0, 0, 0]);
        // FOU_ATTR_IFINDEX (11), s32: a newer attribute lands in Other.
        buf.extend_from_slice(&[0x08, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x00, 0x00]);
        let parsed = FouMessage::parse_with_param(
            &buf,
            GenlHeader {
                cmd: FOU_CMD_ADD,
                version: 1,
            },
        )
        .unwrap();
        assert_eq!(parsed.cmd, FouCmd::Add);
        assert_eq!(&parsed.attrs[..3], &add_gue_6080().attrs[..]);
        assert!(matches!(&parsed.attrs[3], FouAttr::Other(nla) if nla.kind() == 11));
    }

    #[test]
    fn a_short_port_is_an_error_not_a_panic() {
        let buf = [0x05, 0x00, 0x01, 0x00, 0x17, 0x00, 0x00, 0x00];
        assert!(
            FouMessage::parse_with_param(
                &buf,
                GenlHeader {
                    cmd: FOU_CMD_GET,
                    version: 1
                }
            )
            .is_err()
        );
    }

    #[test]
    fn direct_ports_carry_their_protocol() {
        let attrs = FouPort {
            port: 5555,
            encap: FouEncap::Direct(4),
        }
        .attrs();
        assert_eq!(
            attrs,
            [
                FouAttr::Port(5555),
                FouAttr::Af(2),
                FouAttr::Type(FOU_ENCAP_DIRECT),
                FouAttr::IpProto(4)
            ]
        );
    }
}
