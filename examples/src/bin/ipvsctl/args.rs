//! ipvsadm's command line: the same commands and options, checked in the same order and refused
//! with the same words and exit codes (observed from ipvsadm 1.31 against a real kernel).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipvs::packet::{IP_VS_TUNNEL_ENCAP_FLAG_CSUM, IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM, SchedFlagName};
use ipvs::{DaemonState, Family, ForwardMethod, Netmask, Protocol, ServiceKey, TunnelType};

use crate::names;

/// What ipvsadm prints for an option it does not know (and exits 255).
pub(crate) const TRY_HELP: &str = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

/// A refusal: the message for stderr and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    /// A usage error (exit status 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// An option ipvsadm's option parser refuses (exit status 255).
    fn try_help() -> Self {
        Self {
            code: 255,
            message: TRY_HELP.into(),
        }
    }
}

/// The commands, named as ipvsadm names them in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmd {
    AddService,
    EditService,
    DelService,
    Flush,
    Restore,
    Save,
    AddServer,
    EditServer,
    DelServer,
    List,
    Zero,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    Help,
    Version,
}

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Self::AddService => "add-service",
            Self::EditService => "edit-service",
            Self::DelService => "delete-service",
            Self::Flush => "flush",
            Self::Restore => "restore",
            Self::Save => "save",
            Self::AddServer => "add-server",
            Self::EditServer => "edit-server",
            Self::DelServer => "delete-server",
            Self::List => "list",
            Self::Zero => "zero",
            Self::SetTimeouts => "set",
            Self::StartDaemon => "start-daemon",
            Self::StopDaemon => "stop-daemon",
            Self::Help => "help",
            Self::Version => "version",
        }
    }
}

/// The options, in the order ipvsadm checks them against the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Numeric,
    Connection,
    ServiceAddress,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    ForwardingMethod,
    Weight,
    UThreshold,
    LThreshold,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxLen,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
    TunInfo,
}

const CHECK_ORDER: [Opt; 36] = [
    Opt::Numeric,
    Opt::Connection,
    Opt::ServiceAddress,
    Opt::Scheduler,
    Opt::Persistent,
    Opt::Netmask,
    Opt::RealServer,
    Opt::ForwardingMethod,
    Opt::Weight,
    Opt::UThreshold,
    Opt::LThreshold,
    Opt::McastInterface,
    Opt::SyncId,
    Opt::Timeout,
    Opt::Daemon,
    Opt::Stats,
    Opt::Rate,
    Opt::Thresholds,
    Opt::PersistentConn,
    Opt::NoSort,
    Opt::Sort,
    Opt::Exact,
    Opt::Ipv6,
    Opt::Ops,
    Opt::Pe,
    Opt::SchedFlags,
    Opt::McastGroup,
    Opt::McastPort,
    Opt::McastTtl,
    Opt::SyncMaxLen,
    Opt::TunType,
    Opt::TunPort,
    Opt::TunNoCsum,
    Opt::TunCsum,
    Opt::TunRemCsum,
    Opt::TunInfo,
];

impl Opt {
    fn name(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Connection => "connection",
            Self::ServiceAddress => "service-address",
            Self::Scheduler => "scheduler",
            Self::Persistent => "persistent",
            Self::Netmask => "netmask",
            Self::RealServer => "real-server",
            Self::ForwardingMethod => "forwarding-method",
            Self::Weight => "weight",
            Self::UThreshold => "u-threshold",
            Self::LThreshold => "l-threshold",
            Self::McastInterface => "mcast-interface",
            Self::SyncId => "syncid",
            Self::Timeout => "timeout",
            Self::Daemon => "daemon",
            Self::Stats => "stats",
            Self::Rate => "rate",
            Self::Thresholds => "thresholds",
            Self::PersistentConn => "persistent-conn",
            Self::NoSort => "nosort",
            Self::Sort => "sort",
            Self::Exact => "exact",
            Self::Ipv6 => "ipv6",
            Self::Ops => "ops",
            Self::Pe => "pe",
            Self::SchedFlags => "sched-flags",
            Self::McastGroup => "mcast-group",
            Self::McastPort => "mcast-port",
            Self::McastTtl => "mcast-ttl",
            Self::SyncMaxLen => "sync-maxlen",
            Self::TunType => "tun-type",
            Self::TunPort => "tun-port",
            Self::TunNoCsum => "tun-nocsum",
            Self::TunCsum => "tun-csum",
            Self::TunRemCsum => "tun-remcsum",
            Self::TunInfo => "tun-info",
        }
    }

    fn bit(self) -> u64 {
        1 << (self as u64)
    }
}

/// Whether `opt` may (or must) go with `cmd`.
#[derive(PartialEq)]
enum Rule {
    Illegal,
    Optional,
    Required,
}

fn rule(cmd: Cmd, opt: Opt) -> Rule {
    use Cmd::*;
    use Opt::*;
    let allowed: &[Cmd] = match opt {
        Sort => return Rule::Optional,
        Numeric => &[Save, List],
        Connection | Timeout | Daemon | Stats | Rate | Thresholds | PersistentConn | NoSort
        | Exact | TunInfo => &[List],
        ServiceAddress | Ipv6 => {
            return match cmd {
                AddService | EditService | DelService | AddServer | EditServer | DelServer
                    if opt == ServiceAddress =>
                {
                    Rule::Required
                }
                AddService | EditService | DelService | AddServer | EditServer | DelServer
                | List | Zero => Rule::Optional,
                _ => Rule::Illegal,
            };
        }
        Scheduler | Persistent | Netmask | Ops | Pe | SchedFlags => &[AddService, EditService],
        RealServer => {
            return match cmd {
                AddServer | EditServer | DelServer => Rule::Required,
                _ => Rule::Illegal,
            };
        }
        ForwardingMethod | Weight | UThreshold | LThreshold | TunType | TunPort | TunNoCsum
        | TunCsum | TunRemCsum => &[AddServer, EditServer],
        McastInterface | McastGroup | McastPort | McastTtl | SyncMaxLen => &[StartDaemon],
        SyncId => &[List, StartDaemon, StopDaemon],
    };
    if allowed.contains(&cmd) {
        Rule::Optional
    } else {
        Rule::Illegal
    }
}

/// How the list command shows the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ListOptions {
    pub(crate) numeric: bool,
    pub(crate) connection: bool,
    pub(crate) timeout: bool,
    pub(crate) daemon: bool,
    pub(crate) stats: bool,
    pub(crate) rate: bool,
    pub(crate) thresholds: bool,
    pub(crate) persistent_conn: bool,
    pub(crate) nosort: bool,
    pub(crate) exact: bool,
    pub(crate) tun_info: bool,
}

/// One parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invocation {
    pub(crate) cmd: Cmd,
    pub(crate) service: Option<ServiceKey>,
    pub(crate) scheduler: Option<String>,
    /// Persistence timeout, when `-p` was given.
    pub(crate) persistent: Option<u32>,
    /// Persistence netmask: an IPv4 mask (contiguous or not) or an IPv6 prefix length.
    pub(crate) netmask: Option<Netmask>,
    pub(crate) pe: Option<String>,
    pub(crate) sched_flags: u32,
    pub(crate) one_packet: bool,
    pub(crate) dest: Option<SocketAddr>,
    /// The real server was given without a port.
    dest_port_missing: bool,
    pub(crate) forward: Option<ForwardMethod>,
    pub(crate) weight: Option<i32>,
    pub(crate) upper: Option<u32>,
    pub(crate) lower: Option<u32>,
    pub(crate) tunnel_type: Option<TunnelType>,
    pub(crate) tunnel_port: Option<u16>,
    pub(crate) tunnel_flags: u16,
    pub(crate) list: ListOptions,
    /// `--set tcp tcpfin udp`.
    pub(crate) timeouts: [u32; 3],
    pub(crate) daemon_state: Option<DaemonState>,
    pub(crate) mcast_interface: Option<String>,
    pub(crate) sync_id: Option<u32>,
    pub(crate) sync_maxlen: Option<u16>,
    pub(crate) mcast_group: Option<IpAddr>,
    pub(crate) mcast_port: Option<u16>,
    pub(crate) mcast_ttl: Option<u8>,
}

impl Invocation {
    fn new(cmd: Cmd) -> Self {
        Self {
            cmd,
            service: None,
            scheduler: None,
            persistent: None,
            netmask: None,
            pe: None,
            sched_flags: 0,
            one_packet: false,
            dest: None,
            dest_port_missing: false,
            forward: None,
            weight: None,
            upper: None,
            lower: None,
            tunnel_type: None,
            tunnel_port: None,
            tunnel_flags: 0,
            list: ListOptions::default(),
            timeouts: [0; 3],
            daemon_state: None,
            mcast_interface: None,
            sync_id: None,
            sync_maxlen: None,
            mcast_group: None,
            mcast_port: None,
            mcast_ttl: None,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Takes {
    Nothing,
    Value,
    MaybeValue,
}

#[derive(Clone, Copy)]
enum What {
    Cmd(Cmd),
    Opt(Opt),
    Service(Option<Protocol>),
    Forward(ForwardMethod),
}

struct Spec {
    long: &'static str,
    short: Option<char>,
    takes: Takes,
    what: What,
}

const fn spec(long: &'static str, short: Option<char>, takes: Takes, what: What) -> Spec {
    Spec {
        long,
        short,
        takes,
        what,
    }
}

const SPECS: &[Spec] = &[
    spec(
        "add-service",
        Some('A'),
        Takes::Nothing,
        What::Cmd(Cmd::AddService),
    ),
    spec(
        "edit-service",
        Some('E'),
        Takes::Nothing,
        What::Cmd(Cmd::EditService),
    ),
    spec(
        "delete-service",
        Some('D'),
        Takes::Nothing,
        What::Cmd(Cmd::DelService),
    ),
    spec("clear", Some('C'), Takes::Nothing, What::Cmd(Cmd::Flush)),
    spec(
        "restore",
        Some('R'),
        Takes::Nothing,
        What::Cmd(Cmd::Restore),
    ),
    spec("save", Some('S'), Takes::Nothing, What::Cmd(Cmd::Save)),
    spec(
        "add-server",
        Some('a'),
        Takes::Nothing,
        What::Cmd(Cmd::AddServer),
    ),
    spec(
        "edit-server",
        Some('e'),
        Takes::Nothing,
        What::Cmd(Cmd::EditServer),
    ),
    spec(
        "delete-server",
        Some('d'),
        Takes::Nothing,
        What::Cmd(Cmd::DelServer),
    ),
    spec("list", Some('L'), Takes::Nothing, What::Cmd(Cmd::List)),
    spec("list", Some('l'), Takes::Nothing, What::Cmd(Cmd::List)),
    spec("zero", Some('Z'), Takes::Nothing, What::Cmd(Cmd::Zero)),
    spec("set", None, Takes::Nothing, What::Cmd(Cmd::SetTimeouts)),
    spec(
        "start-daemon",
        None,
        Takes::Value,
        What::Cmd(Cmd::StartDaemon),
    ),
    spec(
        "stop-daemon",
        None,
        Takes::Value,
        What::Cmd(Cmd::StopDaemon),
    ),
    spec("help", Some('h'), Takes::Nothing, What::Cmd(Cmd::Help)),
    spec(
        "version",
        Some('v'),
        Takes::Nothing,
        What::Cmd(Cmd::Version),
    ),
    spec(
        "tcp-service",
        Some('t'),
        Takes::Value,
        What::Service(Some(Protocol::Tcp)),
    ),
    spec(
        "udp-service",
        Some('u'),
        Takes::Value,
        What::Service(Some(Protocol::Udp)),
    ),
    spec(
        "sctp-service",
        None,
        Takes::Value,
        What::Service(Some(Protocol::Sctp)),
    ),
    spec(
        "fwmark-service",
        Some('f'),
        Takes::Value,
        What::Service(None),
    ),
    spec("ipv6", Some('6'), Takes::Nothing, What::Opt(Opt::Ipv6)),
    spec(
        "scheduler",
        Some('s'),
        Takes::Value,
        What::Opt(Opt::Scheduler),
    ),
    spec("pe", None, Takes::Value, What::Opt(Opt::Pe)),
    spec(
        "persistent",
        Some('p'),
        Takes::MaybeValue,
        What::Opt(Opt::Persistent),
    ),
    spec("netmask", Some('M'), Takes::Value, What::Opt(Opt::Netmask)),
    spec(
        "real-server",
        Some('r'),
        Takes::Value,
        What::Opt(Opt::RealServer),
    ),
    spec(
        "gatewaying",
        Some('g'),
        Takes::Nothing,
        What::Forward(ForwardMethod::DirectRoute),
    ),
    spec(
        "ipip",
        Some('i'),
        Takes::Nothing,
        What::Forward(ForwardMethod::Tunnel),
    ),
    spec(
        "masquerading",
        Some('m'),
        Takes::Nothing,
        What::Forward(ForwardMethod::Masquerade),
    ),
    spec("tun-type", None, Takes::Value, What::Opt(Opt::TunType)),
    spec("tun-port", None, Takes::Value, What::Opt(Opt::TunPort)),
    spec(
        "tun-nocsum",
        None,
        Takes::Nothing,
        What::Opt(Opt::TunNoCsum),
    ),
    spec("tun-csum", None, Takes::Nothing, What::Opt(Opt::TunCsum)),
    spec(
        "tun-remcsum",
        None,
        Takes::Nothing,
        What::Opt(Opt::TunRemCsum),
    ),
    spec("weight", Some('w'), Takes::Value, What::Opt(Opt::Weight)),
    spec(
        "u-threshold",
        Some('x'),
        Takes::Value,
        What::Opt(Opt::UThreshold),
    ),
    spec(
        "l-threshold",
        Some('y'),
        Takes::Value,
        What::Opt(Opt::LThreshold),
    ),
    spec(
        "connection",
        Some('c'),
        Takes::Nothing,
        What::Opt(Opt::Connection),
    ),
    spec("timeout", None, Takes::Nothing, What::Opt(Opt::Timeout)),
    spec("daemon", None, Takes::Nothing, What::Opt(Opt::Daemon)),
    spec("stats", None, Takes::Nothing, What::Opt(Opt::Stats)),
    spec("rate", None, Takes::Nothing, What::Opt(Opt::Rate)),
    spec(
        "thresholds",
        None,
        Takes::Nothing,
        What::Opt(Opt::Thresholds),
    ),
    spec(
        "persistent-conn",
        None,
        Takes::Nothing,
        What::Opt(Opt::PersistentConn),
    ),
    spec("tun-info", None, Takes::Nothing, What::Opt(Opt::TunInfo)),
    spec("nosort", None, Takes::Nothing, What::Opt(Opt::NoSort)),
    spec("sort", None, Takes::Nothing, What::Opt(Opt::Sort)),
    spec("exact", None, Takes::Nothing, What::Opt(Opt::Exact)),
    spec("ops", Some('o'), Takes::Nothing, What::Opt(Opt::Ops)),
    spec(
        "numeric",
        Some('n'),
        Takes::Nothing,
        What::Opt(Opt::Numeric),
    ),
    spec(
        "sched-flags",
        Some('b'),
        Takes::Value,
        What::Opt(Opt::SchedFlags),
    ),
    spec("syncid", None, Takes::Value, What::Opt(Opt::SyncId)),
    spec(
        "sync-maxlen",
        None,
        Takes::Value,
        What::Opt(Opt::SyncMaxLen),
    ),
    spec(
        "mcast-interface",
        None,
        Takes::Value,
        What::Opt(Opt::McastInterface),
    ),
    spec(
        "mcast-group",
        None,
        Takes::Value,
        What::Opt(Opt::McastGroup),
    ),
    spec("mcast-port", None, Takes::Value, What::Opt(Opt::McastPort)),
    spec("mcast-ttl", None, Takes::Value, What::Opt(Opt::McastTtl)),
];

/// One option occurrence: which spec, its value if any, and the token it came from.
struct Occurrence<'a> {
    spec: &'a Spec,
    value: Option<String>,
    token: String,
}

/// Splits the arguments into option occurrences and leftover words, as popt does.
fn tokenize(args: &[String]) -> Result<(Vec<Occurrence<'static>>, Vec<String>), Failure> {
    let mut found = Vec::new();
    let mut leftovers = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if let Some(long) = arg.strip_prefix("--") {
            if long.is_empty() {
                leftovers.extend(args[i..].iter().cloned());
                break;
            }
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let spec = SPECS
                .iter()
                .find(|s| s.long == name)
                .ok_or_else(Failure::try_help)?;
            let value = match (spec.takes, attached) {
                (Takes::Nothing, Some(_)) => return Err(Failure::try_help()),
                (Takes::Nothing, None) => None,
                (_, Some(v)) => Some(v),
                (Takes::Value, None) => {
                    let v = args.get(i).cloned().ok_or_else(Failure::try_help)?;
                    i += 1;
                    Some(v)
                }
                (Takes::MaybeValue, None) => match args.get(i) {
                    Some(v) if !v.starts_with('-') => {
                        i += 1;
                        Some(v.clone())
                    }
                    _ => None,
                },
            };
            found.push(Occurrence {
                spec,
                value,
                token: arg.clone(),
            });
        } else if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                let spec = SPECS
                    .iter()
                    .find(|s| s.short == Some(c))
                    .ok_or_else(Failure::try_help)?;
                let rest: String = chars[k..].iter().collect();
                let value = match spec.takes {
                    Takes::Nothing => None,
                    _ if !rest.is_empty() => {
                        k = chars.len();
                        Some(rest)
                    }
                    Takes::Value => {
                        let v = args.get(i).cloned().ok_or_else(Failure::try_help)?;
                        i += 1;
                        Some(v)
                    }
                    Takes::MaybeValue => match args.get(i) {
                        Some(v) if !v.starts_with('-') => {
                            i += 1;
                            Some(v.clone())
                        }
                        _ => None,
                    },
                };
                found.push(Occurrence {
                    spec,
                    value,
                    token: arg.clone(),
                });
            }
        } else {
            leftovers.push(arg.clone());
        }
    }
    Ok((found, leftovers))
}

/// Parses one ipvsadm command line (without the program name).
pub(crate) fn parse(args: &[String]) -> Result<Invocation, Failure> {
    // ipvsadm wants the command first: a leading word that is no option is refused.
    if args
        .first()
        .is_some_and(|a| !a.starts_with('-') || a.len() < 2)
    {
        return Err(Failure::try_help());
    }
    let (occurrences, mut leftovers) = tokenize(args)?;
    let Some(first) = occurrences.first() else {
        if let Some(word) = leftovers.first() {
            return Err(Failure::usage(format!("unexpected argument {word}")));
        }
        // No arguments at all: list.
        return Ok(Invocation::new(Cmd::List));
    };
    let What::Cmd(cmd) = first.spec.what else {
        return Err(Failure::try_help());
    };
    let mut inv = Invocation::new(cmd);
    let mut seen: u64 = 0;
    let mut netmask_text: Option<String> = None;
    let mut first_occurrence = true;
    for occ in &occurrences {
        let value = occ.value.clone().unwrap_or_default();
        let opt = match occ.spec.what {
            What::Cmd(c) => {
                if !first_occurrence {
                    return Err(Failure::usage(format!("invalid option `{}'", occ.token)));
                }
                first_occurrence = false;
                match c {
                    Cmd::StartDaemon | Cmd::StopDaemon => {
                        inv.daemon_state = Some(match value.as_str() {
                            "master" => DaemonState::Master,
                            "backup" => DaemonState::Backup,
                            _ => {
                                return Err(Failure::usage(if c == Cmd::StartDaemon {
                                    "illegal start-daemon parameter specified"
                                } else {
                                    "illegal start_daemon specified"
                                }));
                            }
                        });
                    }
                    Cmd::SetTimeouts => {
                        if leftovers.len() < 3 {
                            return Err(Failure::usage("--set option requires 3 timeout values"));
                        }
                        for (slot, word) in inv.timeouts.iter_mut().zip(leftovers.drain(..3)) {
                            *slot = word.parse().map_err(|_| {
                                Failure::usage(format!("invalid timeout value `{word}' specified"))
                            })?;
                        }
                    }
                    _ => {}
                }
                continue;
            }
            What::Service(_) => Opt::ServiceAddress,
            What::Forward(_) => Opt::ForwardingMethod,
            What::Opt(opt) => opt,
        };
        first_occurrence = false;
        if opt != Opt::Ipv6 && opt != Opt::Sort && seen & opt.bit() != 0 {
            return Err(Failure::usage(format!(
                "multiple '{}' options specified",
                opt.name()
            )));
        }
        seen |= opt.bit();
        match (occ.spec.what, opt) {
            (What::Service(Some(protocol)), _) => {
                let addr =
                    parse_endpoint(&value, protocol_name(protocol), None).ok_or_else(|| {
                        Failure::usage("illegal virtual server address[:port] specified")
                    })?;
                inv.service = Some(ServiceKey::Addr { protocol, addr });
            }
            (What::Service(None), _) => {
                let mark = value
                    .parse::<u32>()
                    .ok()
                    .filter(|m| *m != 0)
                    .ok_or_else(|| {
                        Failure::usage(format!("invalid fwmark value `{value}' specified"))
                    })?;
                inv.service = Some(ServiceKey::Fwmark {
                    family: Family::V4,
                    mark,
                });
            }
            (What::Forward(method), _) => inv.forward = Some(method),
            (_, Opt::Ipv6) => match &mut inv.service {
                Some(ServiceKey::Fwmark { family, .. }) => *family = Family::V6,
                _ => return Err(Failure::usage("-6 used before -f\n")),
            },
            (_, Opt::Scheduler) => inv.scheduler = Some(value),
            (_, Opt::Pe) => inv.pe = Some(value),
            (_, Opt::Persistent) => {
                let timeout = match &occ.value {
                    None => 360,
                    Some(v) => v
                        .parse::<u32>()
                        .ok()
                        .filter(|t| (1..=2_678_400).contains(t))
                        .ok_or_else(|| {
                            Failure::usage(format!("invalid timeout value `{v}' specified"))
                        })?,
                };
                inv.persistent = Some(timeout);
            }
            (_, Opt::Netmask) => netmask_text = Some(value),
            (_, Opt::RealServer) => {
                // The port default and the family check need the service: resolved below.
                let proto = match inv.service {
                    Some(ServiceKey::Addr { protocol, .. }) => protocol_name(protocol),
                    _ => "tcp",
                };
                let addr = parse_endpoint(&value, proto, Some(0)).ok_or_else(|| {
                    Failure::usage("illegal real server address[:port] specified")
                })?;
                let has_port = endpoint_has_port(&value);
                inv.dest = Some(addr);
                if !has_port {
                    inv.dest_port_missing = true;
                }
            }
            (_, Opt::Weight) => {
                inv.weight = Some(
                    value
                        .parse::<i32>()
                        .ok()
                        .filter(|w| *w >= 0)
                        .ok_or_else(|| Failure::usage("illegal weight specified"))?,
                )
            }
            (_, Opt::UThreshold) => {
                inv.upper = Some(
                    parse_threshold(&value)
                        .ok_or_else(|| Failure::usage("illegal u_threshold specified"))?,
                )
            }
            (_, Opt::LThreshold) => {
                inv.lower = Some(
                    parse_threshold(&value)
                        .ok_or_else(|| Failure::usage("illegal l_threshold specified"))?,
                )
            }
            (_, Opt::McastInterface) => inv.mcast_interface = Some(value),
            (_, Opt::SyncId) => {
                inv.sync_id = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|id| *id <= 255)
                        .ok_or_else(|| Failure::usage("illegal syncid specified"))?,
                )
            }
            (_, Opt::SyncMaxLen) => {
                inv.sync_maxlen = Some(
                    value
                        .parse::<u16>()
                        .ok()
                        .filter(|len| *len > 0)
                        .ok_or_else(|| Failure::usage("illegal sync-maxlen specified"))?,
                )
            }
            (_, Opt::McastGroup) => {
                let group = if value.contains(':') {
                    value.parse::<IpAddr>().ok().filter(IpAddr::is_ipv6)
                } else {
                    value.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
                };
                inv.mcast_group = Some(group.ok_or_else(|| {
                    let family = if value.contains(':') { "IPv6" } else { "IPv4" };
                    Failure::usage(format!("invalid {family} mcast-group `{value}'"))
                })?);
            }
            (_, Opt::McastPort) => {
                inv.mcast_port = Some(
                    value
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| Failure::usage("illegal mcast-port specified"))?,
                )
            }
            (_, Opt::McastTtl) => {
                inv.mcast_ttl = Some(
                    value
                        .parse::<u8>()
                        .ok()
                        .filter(|t| *t > 0)
                        .ok_or_else(|| Failure::usage("illegal mcast-ttl specified"))?,
                )
            }
            (_, Opt::TunType) => {
                inv.tunnel_type = Some(match value.as_str() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue,
                    "gre" => TunnelType::Gre,
                    _ => return Err(Failure::usage("illegal tunnel type specified")),
                })
            }
            (_, Opt::TunPort) => {
                inv.tunnel_port = Some(
                    value
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| Failure::usage("illegal tunnel port specified"))?,
                )
            }
            (_, Opt::TunCsum) => inv.tunnel_flags = IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
            (_, Opt::TunRemCsum) => inv.tunnel_flags = IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
            (_, Opt::SchedFlags) => inv.sched_flags = parse_sched_flags(&value)?,
            (_, Opt::Ops) => inv.one_packet = true,
            (_, Opt::Numeric) => inv.list.numeric = true,
            (_, Opt::Connection) => inv.list.connection = true,
            (_, Opt::Timeout) => inv.list.timeout = true,
            (_, Opt::Daemon) => inv.list.daemon = true,
            (_, Opt::Stats) => inv.list.stats = true,
            (_, Opt::Rate) => inv.list.rate = true,
            (_, Opt::Thresholds) => inv.list.thresholds = true,
            (_, Opt::PersistentConn) => inv.list.persistent_conn = true,
            (_, Opt::NoSort) => inv.list.nosort = true,
            (_, Opt::Exact) => inv.list.exact = true,
            (_, Opt::TunInfo) => inv.list.tun_info = true,
            _ => {}
        }
    }
    if let Some(word) = leftovers.first() {
        return Err(Failure::usage(format!("unexpected argument {word}")));
    }
    if matches!(inv.cmd, Cmd::Help | Cmd::Version) {
        return Ok(inv);
    }

    // Scheduler flags must suit the scheduler (ipvsadm's default is wlc).
    check_sched_flags(&inv, &occurrences)?;

    for opt in CHECK_ORDER {
        match rule(cmd, opt) {
            Rule::Illegal if seen & opt.bit() != 0 => {
                return Err(Failure::usage(format!(
                    "Illegal '{}' option with the '{}' command",
                    opt.name(),
                    cmd.name()
                )));
            }
            Rule::Required if seen & opt.bit() == 0 => {
                return Err(Failure::usage(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    opt.name(),
                    cmd.name()
                )));
            }
            _ => {}
        }
    }

    match cmd {
        Cmd::AddService | Cmd::EditService => check_service(&mut inv, netmask_text)?,
        Cmd::AddServer | Cmd::EditServer => check_server(&mut inv, seen)?,
        Cmd::DelServer => default_dest_port(&mut inv, false),
        Cmd::List => check_list(&inv.list)?,
        _ => {}
    }
    Ok(inv)
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

fn parse_threshold(text: &str) -> Option<u32> {
    text.parse::<i32>()
        .ok()
        .filter(|t| *t >= 0)
        .map(|t| t as u32)
}

/// `host[:port]`, `[v6]:port`, a bare IPv6 address (port 0), or names from the system files.
/// `default_port` is used when the text has no port; `None` means port 0.
fn parse_endpoint(text: &str, proto: &str, default_port: Option<u16>) -> Option<SocketAddr> {
    let port_of = |p: &str| -> Option<u16> {
        if p.is_empty() {
            return None;
        }
        if p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<u16>().ok()
        } else {
            names::port_number(p, proto)
        }
    };
    if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        let ip: std::net::Ipv6Addr = host.parse().ok()?;
        return Some(SocketAddr::new(IpAddr::V6(ip), port_of(port)?));
    }
    if text.matches(':').count() > 1 {
        let ip: std::net::Ipv6Addr = text.parse().ok()?;
        return Some(SocketAddr::new(IpAddr::V6(ip), 0));
    }
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, port_of(port)?),
        None => (text, default_port.unwrap_or(0)),
    };
    let ip = names::resolve_host(host, Some(false)).or_else(|| names::resolve_host(host, None))?;
    Some(SocketAddr::new(ip, port))
}

fn endpoint_has_port(text: &str) -> bool {
    if text.starts_with('[') {
        return text.contains("]:");
    }
    text.matches(':').count() == 1
}

fn parse_sched_flags(text: &str) -> Result<u32, Failure> {
    let mut flags = 0;
    for name in text.split(',').filter(|n| !n.is_empty()) {
        flags |= SchedFlagName::find(name)
            .ok_or_else(|| Failure::usage(format!("invalid scheduler flag `{name}'")))?
            .bit;
    }
    Ok(flags)
}

/// `sh-*` flags need the sh scheduler and `mh-*` flags the mh one.
fn check_sched_flags(inv: &Invocation, occurrences: &[Occurrence<'_>]) -> Result<(), Failure> {
    let scheduler = inv
        .scheduler
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or("wlc");
    for occ in occurrences {
        if !matches!(occ.spec.what, What::Opt(Opt::SchedFlags)) {
            continue;
        }
        for name in occ.value.as_deref().unwrap_or("").split(',') {
            let Some(needs) = SchedFlagName::find(name).and_then(|f| f.scheduler) else {
                continue;
            };
            if scheduler != needs {
                return Err(Failure::usage(format!(
                    "incompatible scheduler flag `{name}'"
                )));
            }
        }
    }
    Ok(())
}

fn check_service(inv: &mut Invocation, netmask: Option<String>) -> Result<(), Failure> {
    let Some(key) = inv.service else {
        return Ok(());
    };
    if let ServiceKey::Addr { protocol, addr } = key {
        if addr.port() == 0 && inv.persistent.is_none() {
            return Err(Failure::usage(
                "Zero port specified for non-persistent service",
            ));
        }
        if inv.one_packet && protocol != Protocol::Udp {
            return Err(Failure::usage(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
    }
    if let Some(text) = netmask {
        inv.netmask = Some(match key.family() {
            Family::V6 => text
                .parse::<u8>()
                .ok()
                .filter(|p| (1..=128).contains(p))
                .map(|p| Netmask::from_v6_prefix(p.into()))
                .ok_or_else(|| Failure::usage("illegal ipv6 netmask specified"))?,
            // Any IPv4 mask, as ipvsadm takes it (inet_aton): the kernel applies it bitwise.
            Family::V4 => inet_aton(&text)
                .map(|mask| Netmask::from_v4_mask(mask.into()))
                .ok_or_else(|| {
                    Failure::usage("illegal virtual server persistent mask specified")
                })?,
        });
    }
    Ok(())
}

/// `inet_aton`: a, a.b, a.b.c or a.b.c.d, each part decimal, octal (0...) or hex (0x...).
fn inet_aton(text: &str) -> Option<u32> {
    let parts: Vec<u32> = text
        .split('.')
        .map(|p| {
            if let Some(hex) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                u32::from_str_radix(hex, 16).ok()
            } else if p.len() > 1 && p.starts_with('0') {
                u32::from_str_radix(&p[1..], 8).ok()
            } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect::<Option<_>>()?;
    let fits = |v: u32, bits: u32| bits >= 32 || v < (1 << bits);
    match parts.as_slice() {
        [a] => Some(*a),
        [a, b] if *a < 256 && fits(*b, 24) => Some(a << 24 | b),
        [a, b, c] if *a < 256 && *b < 256 && fits(*c, 16) => Some(a << 24 | b << 16 | c),
        [a, b, c, d] if [a, b, c, d].iter().all(|v| **v < 256) => {
            Some(a << 24 | b << 16 | c << 8 | d)
        }
        _ => None,
    }
}

/// The real server's port: the service's when none was given, and always the service's unless
/// the server is masqueraded or the service is a firewall mark.
fn default_dest_port(inv: &mut Invocation, force: bool) {
    // Firewall-mark services have no port to force.
    let (service_port, forced) = match inv.service {
        Some(ServiceKey::Addr { addr, .. }) => (addr.port(), force),
        _ => (0, false),
    };
    if let Some(dest) = &mut inv.dest {
        let masq = inv.forward == Some(ForwardMethod::Masquerade);
        if inv.dest_port_missing || (forced && !masq) {
            dest.set_port(service_port);
        }
    }
}

fn check_server(inv: &mut Invocation, seen: u64) -> Result<(), Failure> {
    let forward = inv.forward.unwrap_or(ForwardMethod::DirectRoute);
    let tunnel_opts = [
        Opt::TunType,
        Opt::TunPort,
        Opt::TunNoCsum,
        Opt::TunCsum,
        Opt::TunRemCsum,
    ];
    if forward != ForwardMethod::Tunnel && tunnel_opts.iter().any(|o| seen & o.bit() != 0) {
        return Err(Failure::usage(
            "Tunnel options conflict with forward method",
        ));
    }
    if forward == ForwardMethod::Tunnel {
        let kind = inv.tunnel_type.unwrap_or(TunnelType::Ipip);
        let kind_name = match kind {
            TunnelType::Gue => "gue",
            TunnelType::Gre => "gre",
            _ => "ipip",
        };
        let illegal: &[Opt] = match kind {
            TunnelType::Gue => &[],
            TunnelType::Gre => &[Opt::TunPort, Opt::TunRemCsum],
            _ => &[Opt::TunPort, Opt::TunNoCsum, Opt::TunCsum, Opt::TunRemCsum],
        };
        for opt in tunnel_opts {
            if illegal.contains(&opt) && seen & opt.bit() != 0 {
                return Err(Failure::usage(format!(
                    "Illegal '{}' option with the '{kind_name}' tunnel type",
                    opt.name()
                )));
            }
        }
        let csum = [Opt::TunNoCsum, Opt::TunCsum, Opt::TunRemCsum];
        for (i, later) in csum.iter().enumerate() {
            for earlier in &csum[..i] {
                if seen & later.bit() != 0 && seen & earlier.bit() != 0 {
                    return Err(Failure::usage(format!(
                        "The option '{}' conflicts with the '{}' option in the '{kind_name}' tunnel type",
                        later.name(),
                        earlier.name()
                    )));
                }
            }
        }
        if kind == TunnelType::Gue && inv.tunnel_port.is_none() {
            return Err(Failure::usage(
                "You need to supply the 'tun-port' option for the 'gue' tunnel type",
            ));
        }
    }
    if let (Some(key), Some(dest)) = (inv.service, inv.dest)
        && Family::of(dest.ip()) != key.family()
        && forward != ForwardMethod::Tunnel
    {
        return Err(Failure::usage(
            "Different address family is allowed only for tunneling servers",
        ));
    }
    default_dest_port(inv, true);
    Ok(())
}

fn check_list(list: &ListOptions) -> Result<(), Failure> {
    let exclusive = [
        (list.connection, "connection"),
        (list.timeout, "timeout"),
        (list.daemon, "daemon"),
    ];
    for (i, (later, later_name)) in exclusive.iter().enumerate() {
        for (earlier, earlier_name) in &exclusive[..i] {
            if *later && *earlier {
                return Err(Failure::usage(format!(
                    "The option '{later_name}' conflicts with the '{earlier_name}' option in the 'list' command"
                )));
            }
        }
    }
    let table = list.stats || list.rate || list.thresholds;
    if (list.connection || list.timeout || list.daemon) && table
        || (list.timeout || list.daemon) && list.persistent_conn
    {
        return Err(Failure::usage("options conflicts in the list command"));
    }
    Ok(())
}

/// Splits one `-R` line into words; `None` for a line with none. A leading `ipvsadm` (or
/// `ipvsctl`) word is dropped, as ipvsadm does.
pub(crate) fn restore_words(line: &str) -> Option<Vec<String>> {
    let mut words: Vec<String> = line.split_ascii_whitespace().map(str::to_string).collect();
    if words
        .first()
        .is_some_and(|w| w == "ipvsadm" || w == "ipvsctl")
    {
        words.remove(0);
    }
    (!words.is_empty()).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &str) -> Result<Invocation, Failure> {
        parse(&restore_words(line).unwrap_or_default())
    }

    fn error(line: &str) -> String {
        parse_line(line).unwrap_err().message
    }

    #[test]
    fn services_and_servers_take_ipvsadm_defaults() {
        let inv = parse_line("-A -t 192.0.2.1:80 -s rr -p").unwrap();
        assert_eq!(inv.cmd, Cmd::AddService);
        assert_eq!(inv.persistent, Some(360));
        let inv = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -i").unwrap();
        assert_eq!(inv.dest, Some("198.51.100.1:80".parse().unwrap()));
        let inv = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3").unwrap();
        assert_eq!(inv.dest, Some("198.51.100.1:8080".parse().unwrap()));
        assert_eq!(inv.weight, Some(3));
        let inv = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1 -m").unwrap();
        assert_eq!(inv.dest, Some("198.51.100.1:80".parse().unwrap()));
        let inv = parse_line("-Ln --stats").unwrap();
        assert!(inv.list.numeric && inv.list.stats);
        assert_eq!(parse(&[]).unwrap().cmd, Cmd::List);
    }

    #[test]
    fn refusals_use_ipvsadm_words() {
        assert_eq!(
            error("-Sn -t 192.0.2.1:80"),
            "Illegal 'service-address' option with the 'save' command"
        );
        assert_eq!(
            error("-A"),
            "You need to supply the 'service-address' option for the 'add-service' command"
        );
        assert_eq!(
            error("-A -t 192.0.2.3"),
            "Zero port specified for non-persistent service"
        );
        assert_eq!(error("-L -A"), "invalid option `-A'");
        assert_eq!(error("-n -L"), TRY_HELP);
        assert_eq!(
            error("-A -t 192.0.2.1:80 -s rr -s wlc"),
            "multiple 'scheduler' options specified"
        );
        assert_eq!(
            error("-A -t 192.0.2.1:80 -b sh-port"),
            "incompatible scheduler flag `sh-port'"
        );
        assert_eq!(
            error("-a -t 192.0.2.1:80 -r 10.0.0.9 -i --tun-type gue"),
            "You need to supply the 'tun-port' option for the 'gue' tunnel type"
        );
        assert_eq!(
            error(
                "-a -t 192.0.2.1:80 -r 10.0.0.9 -i --tun-type gue --tun-port 5 --tun-csum --tun-nocsum"
            ),
            "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type"
        );
        assert_eq!(
            error("-L --timeout --daemon"),
            "The option 'daemon' conflicts with the 'timeout' option in the 'list' command"
        );
        assert_eq!(
            error("-L -c --stats"),
            "options conflicts in the list command"
        );
        assert_eq!(error("--set 1 2"), "--set option requires 3 timeout values");
        assert_eq!(error("--set 1 2 3 4"), "unexpected argument 4");
        assert_eq!(parse_line("-A -t 192.0.2.300:80").unwrap_err().code, 2);
        assert_eq!(parse_line("--bogus").unwrap_err().code, 255);
        // Non-contiguous IPv4 masks are kept as given, as ipvsadm keeps them.
        let inv = parse_line("-A -t 192.0.2.1:80 -p 60 -M 255.0.255.0").unwrap();
        assert_eq!(
            inv.netmask,
            Some(Netmask::from_v4_mask([255, 0, 255, 0].into()))
        );
        let inv = parse_line("-A -t [2001:db8::1]:80 -p 60 -M 64").unwrap();
        assert_eq!(inv.netmask, Some(Netmask::from_v6_prefix(64)));
    }

    #[test]
    fn masks_parse_like_inet_aton() {
        assert_eq!(inet_aton("255.255.255.0"), Some(0xffff_ff00));
        assert_eq!(inet_aton("255.0.255.0"), Some(0xff00_ff00));
        assert_eq!(inet_aton("0xff.0377.255.0"), Some(0xffff_ff00));
        assert_eq!(inet_aton("33"), Some(33));
        assert_eq!(inet_aton("255.255.0.0.1"), None);
    }

    #[test]
    fn restore_lines_split_on_whitespace() {
        assert_eq!(restore_words("  \t "), None);
        assert_eq!(
            restore_words("ipvsadm -A\t-t 192.0.2.1:80\r").unwrap(),
            ["-A", "-t", "192.0.2.1:80"]
        );
    }
}
