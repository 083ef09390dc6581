//! The top level of an IPVS message: command plus first-level attributes.

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, ErrorContext, Nla, NlaBuffer, NlasIterator, Parseable,
    ParseableParametrized,
};
use netlink_packet_generic::{GenlFamily, GenlHeader};

use crate::nest::{emit_nest, nest_len, parse_nest, u32_ne};
use crate::{DaemonAttr, DestAttr, IPVS_GENL_NAME, IPVS_GENL_VERSION, IpvsCmd, ServiceAttr};

const SERVICE: u16 = 1;
const DEST: u16 = 2;
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
