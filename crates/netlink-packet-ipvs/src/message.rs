//! The top level of an IPVS message: command plus first-level attributes.

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, ErrorContext, Nla, NlaBuffer, NlasIterator, Parseable,
    ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::nest::{emit_nest, nest_len, parse_nest, u32_ne};
use crate::{DaemonAttr, DestAttr, IPVS_GENL_NAME, IPVS_GENL_VERSION, IpvsCmd, ServiceAttr};

/// The service nest of a message (`IPVS_CMD_ATTR_SERVICE`).
pub const SERVICE: u16 = 1;
/// The destination nest of a message (`IPVS_CMD_ATTR_DEST`).
pub const DEST: u16 = 2;
const DAEMON: u16 = 3;
const TIMEOUT_TCP: u16 = 4;
const TIMEOUT_TCP_FIN: u16 = 5;
const TIMEOUT_UDP: u16 = 6;
const INFO_VERSION: u16 = 1;
const INFO_CONN_TAB_SIZE: u16 = 2;

/// A first-level attribute of an IPVS message.
///
/// The numbering of first-level attributes depends on the command: in `GetInfo`/`SetInfo`
/// messages, 1 and 2 are [`IpvsAttr::InfoVersion`] and [`IpvsAttr::InfoConnTabSize`]
/// (`IPVS_INFO_ATTR_*`); everywhere else they are the service and destination nests
/// (`IPVS_CMD_ATTR_*`). That is why parsing takes the command as a parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsAttr {
    /// A service nest.
    Service(Vec<ServiceAttr>),
    /// A destination nest.
    Dest(Vec<DestAttr>),
    /// A sync-daemon nest.
    Daemon(Vec<DaemonAttr>),
    /// TCP established timeout, seconds (0 = leave unchanged on set).
    TimeoutTcp(u32),
    /// TCP FIN-wait timeout, seconds.
    TimeoutTcpFin(u32),
    /// UDP timeout, seconds.
    TimeoutUdp(u32),
    /// IPVS version (`IPVS_INFO_ATTR_VERSION`, e.g. `0x010201` for 1.2.1); info messages only.
    InfoVersion(u32),
    /// Size of the connection hash table; info messages only.
    InfoConnTabSize(u32),
    /// An attribute this crate does not know.
    Other(DefaultNla),
}

impl Nla for IpvsAttr {
    fn value_len(&self) -> usize {
        match self {
            Self::Service(attrs) => nest_len(attrs),
            Self::Dest(attrs) => nest_len(attrs),
            Self::Daemon(attrs) => nest_len(attrs),
            Self::TimeoutTcp(_)
            | Self::TimeoutTcpFin(_)
            | Self::TimeoutUdp(_)
            | Self::InfoVersion(_)
            | Self::InfoConnTabSize(_) => 4,
            Self::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            Self::Service(_) => SERVICE,
            Self::Dest(_) => DEST,
            Self::Daemon(_) => DAEMON,
            Self::TimeoutTcp(_) => TIMEOUT_TCP,
            Self::TimeoutTcpFin(_) => TIMEOUT_TCP_FIN,
            Self::TimeoutUdp(_) => TIMEOUT_UDP,
            Self::InfoVersion(_) => INFO_VERSION,
            Self::InfoConnTabSize(_) => INFO_CONN_TAB_SIZE,
            Self::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            Self::Service(attrs) => emit_nest(attrs, buffer),
            Self::Dest(attrs) => emit_nest(attrs, buffer),
            Self::Daemon(attrs) => emit_nest(attrs, buffer),
            Self::TimeoutTcp(v)
            | Self::TimeoutTcpFin(v)
            | Self::TimeoutUdp(v)
            | Self::InfoVersion(v)
            | Self::InfoConnTabSize(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            Self::Other(nla) => nla.emit_value(buffer),
        }
    }
}

fn is_info(cmd: IpvsCmd) -> bool {
    matches!(cmd, IpvsCmd::GetInfo | IpvsCmd::SetInfo)
}

impl<'a, T: AsRef<[u8]> + ?Sized> ParseableParametrized<NlaBuffer<&'a T>, IpvsCmd> for IpvsAttr {
    fn parse_with_param(buf: &NlaBuffer<&'a T>, cmd: IpvsCmd) -> Result<Self, DecodeError> {
        let payload = buf.value();
        Ok(match (is_info(cmd), buf.kind()) {
            (true, INFO_VERSION) => {
                Self::InfoVersion(u32_ne(payload).context("invalid IPVS_INFO_ATTR_VERSION")?)
            }
            (true, INFO_CONN_TAB_SIZE) => Self::InfoConnTabSize(
                u32_ne(payload).context("invalid IPVS_INFO_ATTR_CONN_TAB_SIZE")?,
            ),
            (true, _) => {
                Self::Other(DefaultNla::parse(buf).context("invalid IPVS info attribute")?)
            }
            (false, SERVICE) => {
                Self::Service(parse_nest(payload).context("invalid IPVS_CMD_ATTR_SERVICE")?)
            }
            (false, DEST) => Self::Dest(parse_nest(payload).context("invalid IPVS_CMD_ATTR_DEST")?),
            (false, DAEMON) => {
                Self::Daemon(parse_nest(payload).context("invalid IPVS_CMD_ATTR_DAEMON")?)
            }
            (false, TIMEOUT_TCP) => {
                Self::TimeoutTcp(u32_ne(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP")?)
            }
            (false, TIMEOUT_TCP_FIN) => Self::TimeoutTcpFin(
                u32_ne(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_TCP_FIN")?,
            ),
            (false, TIMEOUT_UDP) => {
                Self::TimeoutUdp(u32_ne(payload).context("invalid IPVS_CMD_ATTR_TIMEOUT_UDP")?)
            }
            (false, _) => {
                Self::Other(DefaultNla::parse(buf).context("invalid IPVS command attribute")?)
            }
        })
    }
}

/// One IPVS generic-netlink message: a command and its first-level attributes.
///
/// It is the payload of a `GenlMessage<IpvsMessage>`; the family id is resolved at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command.
    pub cmd: IpvsCmd,
    /// First-level attributes, in order.
    pub attrs: Vec<IpvsAttr>,
}

impl IpvsMessage {
    /// A message with no attributes (flush, dumps of everything, get info/config).
    pub fn new(cmd: IpvsCmd) -> Self {
        Self {
            cmd,
            attrs: Vec::new(),
        }
    }

    /// Parses the attributes that follow the generic-netlink header of a message with `cmd`.
    pub fn parse_attrs(cmd: IpvsCmd, payload: &[u8]) -> Result<Self, DecodeError> {
        let attrs = NlasIterator::new(payload)
            .map(|nla| nla.and_then(|nla| IpvsAttr::parse_with_param(&nla, cmd)))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("invalid IPVS {cmd:?} message"))?;
        Ok(Self { cmd, attrs })
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        IPVS_GENL_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.into()
    }

    fn version(&self) -> u8 {
        IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.as_slice().buffer_len()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer);
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Self::parse_attrs(header.cmd.into(), buf)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::{
        AF_INET, AF_INET6, DaemonState, ForwardMethod, IPPROTO_TCP, IPPROTO_UDP, InetAddr, Netmask,
        ServiceFlags, Stats32Attr, Stats64Attr, TunnelType,
    };

    // Replies captured from Debian's 6.1.0-56 kernel in the VM (`cargo xtask vm`): the
    // generic-netlink payload (genlmsghdr + attributes) of one message of each dump or reply.
    // ipvsadm -A -t 192.0.2.1:80 -s wlc -p 300 -M 255.255.255.0
    static SERVICE_V4: [u8; 304] = [
        0x01, 0x01, 0x00, 0x00, 0x2c, 0x01, 0x01, 0x00, 0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x00, 0xc0, 0x00,
        0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06,
        0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x77, 0x6c, 0x63, 0x00,
        0x0c, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x08,
        0x00, 0x2c, 0x01, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0xff, 0xff, 0xff, 0x00, 0x5c, 0x00,
        0x0a, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x7c, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
        0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0c, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x09, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ];
    // ipvsadm -A -u [2001:db8::1]:5060 -s rr -p 60 -M 64 --pe sip
    static SERVICE_V6: [u8; 312] = [
        0x01, 0x01, 0x00, 0x00, 0x34, 0x01, 0x01, 0x00, 0x06, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x00,
        0x00, 0x06, 0x00, 0x02, 0x00, 0x11, 0x00, 0x00, 0x00, 0x14, 0x00, 0x03, 0x00, 0x20, 0x01,
        0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x06,
        0x00, 0x04, 0x00, 0x13, 0xc4, 0x00, 0x00, 0x07, 0x00, 0x06, 0x00, 0x72, 0x72, 0x00, 0x00,
        0x08, 0x00, 0x0b, 0x00, 0x73, 0x69, 0x70, 0x00, 0x0c, 0x00, 0x07, 0x00, 0x03, 0x00, 0x00,
        0x00, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x08, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x09, 0x00, 0x40, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7c, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0c, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x06,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x07, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0c, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    // ipvsadm -a -t 192.0.2.1:80 -r 198.51.100.2:8080 -i -w 3 -x 100 -y 10 --tun-type gue --tun-port 6080 --tun-csum
    static DEST: [u8; 340] = [
        0x05, 0x01, 0x00, 0x00, 0x50, 0x01, 0x02, 0x00, 0x14, 0x00, 0x01, 0x00, 0xc6, 0x33, 0x64,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00,
        0x02, 0x00, 0x1f, 0x90, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x06, 0x00, 0x0e, 0x00, 0x17, 0xc0, 0x00, 0x00, 0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x08, 0x00, 0x05, 0x00, 0x64, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x0a, 0x00,
        0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x0b, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
        0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x08,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7c, 0x00, 0x0c, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x06, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0c, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00,
        0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    // ipvsadm --start-daemon master --mcast-interface lvs0 --syncid 9
    static DAEMON: [u8; 68] = [
        0x09, 0x01, 0x00, 0x00, 0x40, 0x00, 0x03, 0x00, 0x08, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x09, 0x00, 0x02, 0x00, 0x6c, 0x76, 0x73, 0x30, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x06, 0x00, 0x04, 0x00, 0xc0, 0x05, 0x00, 0x00, 0x06,
        0x00, 0x07, 0x00, 0x90, 0x22, 0x00, 0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x08, 0x00, 0x05, 0x00, 0xe0, 0x00, 0x00, 0x51,
    ];
    // GET_INFO reply (SET_INFO)
    static INFO: [u8; 20] = [
        0x0e, 0x01, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x01, 0x02, 0x01, 0x00, 0x08, 0x00, 0x02,
        0x00, 0x00, 0x10, 0x00, 0x00,
    ];
    // GET_CONFIG reply (SET_CONFIG), the default timeouts
    static CONFIG: [u8; 28] = [
        0x0c, 0x01, 0x00, 0x00, 0x08, 0x00, 0x04, 0x00, 0x84, 0x03, 0x00, 0x00, 0x08, 0x00, 0x05,
        0x00, 0x78, 0x00, 0x00, 0x00, 0x08, 0x00, 0x06, 0x00, 0x2c, 0x01, 0x00, 0x00,
    ];

    fn parse(bytes: &[u8]) -> IpvsMessage {
        let header = GenlHeader {
            cmd: bytes[0],
            version: bytes[1],
        };
        IpvsMessage::parse_with_param(&bytes[4..], header).unwrap()
    }

    /// Emitting what was parsed gives back the kernel's bytes exactly (0xa5 shows any gap).
    fn assert_emits_the_same(bytes: &[u8]) {
        let msg = parse(bytes);
        let mut buf = vec![0xa5; msg.buffer_len()];
        msg.emit(&mut buf);
        assert_eq!(buf, &bytes[4..]);
    }

    fn service_nest(msg: &IpvsMessage) -> &[ServiceAttr] {
        match msg.attrs.as_slice() {
            [IpvsAttr::Service(attrs)] => attrs,
            other => panic!("expected one service nest, found {other:?}"),
        }
    }

    #[test]
    fn parse_a_v4_service_from_the_kernel() {
        let msg = parse(&SERVICE_V4);
        assert_eq!(msg.cmd, IpvsCmd::NewService);
        let attrs = service_nest(&msg);
        assert_eq!(
            attrs[..9],
            [
                ServiceAttr::AddressFamily(AF_INET),
                ServiceAttr::Protocol(IPPROTO_TCP),
                ServiceAttr::Address(InetAddr::from(Ipv4Addr::new(192, 0, 2, 1))),
                ServiceAttr::Port(80),
                ServiceAttr::Scheduler("wlc".into()),
                ServiceAttr::Flags(ServiceFlags {
                    flags: 3,
                    mask: u32::MAX
                }),
                ServiceAttr::Timeout(300),
                ServiceAttr::Netmask(Netmask::from_prefix(AF_INET, 24)),
                ServiceAttr::Stats(vec![
                    Stats32Attr::Conns(0),
                    Stats32Attr::InPkts(0),
                    Stats32Attr::OutPkts(0),
                    Stats32Attr::InBytes(0),
                    Stats32Attr::OutBytes(0),
                    Stats32Attr::Cps(0),
                    Stats32Attr::InPps(0),
                    Stats32Attr::OutPps(0),
                    Stats32Attr::InBps(0),
                    Stats32Attr::OutBps(0),
                ]),
            ]
        );
        assert!(
            matches!(&attrs[9], ServiceAttr::Stats64(s) if s.len() == 10 && s[3] == Stats64Attr::InBytes(0))
        );
        assert_eq!(attrs.len(), 10);
    }

    #[test]
    fn parse_a_v6_service_with_a_persistence_engine() {
        let msg = parse(&SERVICE_V6);
        let attrs = service_nest(&msg);
        assert_eq!(attrs[0], ServiceAttr::AddressFamily(AF_INET6));
        assert_eq!(attrs[1], ServiceAttr::Protocol(IPPROTO_UDP));
        let ServiceAttr::Address(addr) = &attrs[2] else {
            panic!("{:?}", attrs[2])
        };
        assert_eq!(
            addr.to_ip(AF_INET6),
            Some("2001:db8::1".parse::<IpAddr>().unwrap())
        );
        assert_eq!(attrs[3], ServiceAttr::Port(5060));
        assert!(attrs.contains(&ServiceAttr::PersistenceEngine("sip".into())));
        assert!(attrs.contains(&ServiceAttr::Timeout(60)));
        let netmask = attrs.iter().find_map(|a| match a {
            ServiceAttr::Netmask(m) => Some(*m),
            _ => None,
        });
        // The IPv6 netmask is a host-order prefix length, not a mask.
        assert_eq!(netmask.unwrap().prefix_len(AF_INET6), 64);
    }

    #[test]
    fn parse_a_tunnelled_destination() {
        let msg = parse(&DEST);
        assert_eq!(msg.cmd, IpvsCmd::NewDest);
        let [IpvsAttr::Dest(attrs)] = msg.attrs.as_slice() else {
            panic!("{msg:?}")
        };
        assert_eq!(
            attrs[..14],
            [
                DestAttr::Address(InetAddr::from(Ipv4Addr::new(198, 51, 100, 2))),
                DestAttr::Port(8080),
                DestAttr::ForwardMethod(ForwardMethod::Tunnel),
                DestAttr::Weight(3),
                DestAttr::TunnelType(TunnelType::Gue),
                DestAttr::TunnelPort(6080),
                DestAttr::TunnelFlags(crate::IP_VS_TUNNEL_ENCAP_FLAG_CSUM),
                DestAttr::UpperThreshold(100),
                DestAttr::LowerThreshold(10),
                DestAttr::ActiveConns(0),
                DestAttr::InactiveConns(0),
                DestAttr::PersistentConns(0),
                DestAttr::AddressFamily(AF_INET),
                DestAttr::Stats(vec![
                    Stats32Attr::Conns(0),
                    Stats32Attr::InPkts(0),
                    Stats32Attr::OutPkts(0),
                    Stats32Attr::InBytes(0),
                    Stats32Attr::OutBytes(0),
                    Stats32Attr::Cps(0),
                    Stats32Attr::InPps(0),
                    Stats32Attr::OutPps(0),
                    Stats32Attr::InBps(0),
                    Stats32Attr::OutBps(0),
                ]),
            ]
        );
        assert!(matches!(&attrs[14], DestAttr::Stats64(s) if s.len() == 10));
    }

    fn daemon_repr() -> IpvsMessage {
        IpvsMessage {
            cmd: IpvsCmd::NewDaemon,
            attrs: vec![IpvsAttr::Daemon(vec![
                DaemonAttr::State(DaemonState::Master),
                DaemonAttr::McastInterface("lvs0".into()),
                DaemonAttr::SyncId(9),
                DaemonAttr::SyncMaxLen(1472),
                DaemonAttr::McastPort(8848),
                DaemonAttr::McastTtl(1),
                DaemonAttr::McastGroup(Ipv4Addr::new(224, 0, 0, 81)),
            ])],
        }
    }

    fn info_repr() -> IpvsMessage {
        IpvsMessage {
            cmd: IpvsCmd::SetInfo,
            attrs: vec![
                IpvsAttr::InfoVersion(0x01_02_01),
                IpvsAttr::InfoConnTabSize(4096),
            ],
        }
    }

    fn config_repr() -> IpvsMessage {
        IpvsMessage {
            cmd: IpvsCmd::SetConfig,
            attrs: vec![
                IpvsAttr::TimeoutTcp(900),
                IpvsAttr::TimeoutTcpFin(120),
                IpvsAttr::TimeoutUdp(300),
            ],
        }
    }

    #[test]
    fn parse_daemon_info_and_config() {
        assert_eq!(parse(&DAEMON), daemon_repr());
        // In an info reply, attribute 1 is the version, not a service nest.
        assert_eq!(parse(&INFO), info_repr());
        assert_eq!(parse(&CONFIG), config_repr());
    }

    #[test]
    fn emit_daemon_info_and_config() {
        for (repr, bytes) in [
            (daemon_repr(), &DAEMON[..]),
            (info_repr(), &INFO[..]),
            (config_repr(), &CONFIG[..]),
        ] {
            let mut buf = vec![0xa5; repr.buffer_len()];
            repr.emit(&mut buf);
            assert_eq!(buf, &bytes[4..], "{repr:?}");
            assert_eq!(repr.command(), bytes[0]);
        }
    }

    #[test]
    fn every_capture_re_emits_byte_for_byte() {
        for bytes in [&SERVICE_V4[..], &SERVICE_V6, &DEST, &DAEMON, &INFO, &CONFIG] {
            assert_emits_the_same(bytes);
        }
    }

    #[test]
    fn every_first_level_attribute_round_trips() {
        let msg = IpvsMessage {
            cmd: IpvsCmd::SetConfig,
            attrs: vec![
                IpvsAttr::Service(vec![ServiceAttr::Fwmark(1)]),
                IpvsAttr::Dest(vec![DestAttr::Weight(2)]),
                IpvsAttr::Daemon(vec![DaemonAttr::SyncId(3)]),
                IpvsAttr::TimeoutTcp(4),
                IpvsAttr::TimeoutTcpFin(5),
                IpvsAttr::TimeoutUdp(6),
                IpvsAttr::Other(DefaultNla::new(7, vec![7; 7])),
            ],
        };
        let mut buf = vec![0xa5; msg.buffer_len()];
        msg.emit(&mut buf);
        assert_eq!(IpvsMessage::parse_attrs(msg.cmd, &buf).unwrap(), msg);
        let info = IpvsMessage {
            cmd: IpvsCmd::GetInfo,
            attrs: vec![
                IpvsAttr::InfoVersion(1),
                IpvsAttr::InfoConnTabSize(2),
                IpvsAttr::Other(DefaultNla::new(3, vec![0; 4])),
            ],
        };
        let mut buf = vec![0xa5; info.buffer_len()];
        info.emit(&mut buf);
        assert_eq!(IpvsMessage::parse_attrs(info.cmd, &buf).unwrap(), info);
    }

    #[test]
    fn an_attribute_from_a_newer_kernel_is_kept() {
        // SERVICE_V4 with an extra service attribute 99 appended inside the nest.
        let mut bytes = SERVICE_V4[4..].to_vec();
        bytes.extend([8, 0, 99, 0, 1, 2, 3, 4]);
        let nest_len = u16::from_ne_bytes([bytes[0], bytes[1]]) + 8;
        bytes[..2].copy_from_slice(&nest_len.to_ne_bytes());
        let msg = IpvsMessage::parse_attrs(IpvsCmd::NewService, &bytes).unwrap();
        let attrs = service_nest(&msg);
        assert_eq!(
            attrs.last(),
            Some(&ServiceAttr::Other(DefaultNla::new(99, vec![1, 2, 3, 4])))
        );
    }

    #[test]
    fn truncations_are_errors_not_panics() {
        for bytes in [&SERVICE_V4[..], &SERVICE_V6, &DEST, &DAEMON, &INFO, &CONFIG] {
            for cut in 5..bytes.len() {
                let header = GenlHeader {
                    cmd: bytes[0],
                    version: bytes[1],
                };
                let _ = IpvsMessage::parse_with_param(&bytes[4..cut], header);
            }
        }
    }
}
