//! ipvsadm's command line: the same commands and options, checked in the same order and refused
//! with the same words and exit codes (observed from ipvsadm 1.31 against a real kernel).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipvs::packet::{IP_VS_TUNNEL_ENCAP_FLAG_CSUM, IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM};
use ipvs::{DaemonState, Family, ForwardMethod, Netmask, Protocol, ServiceKey, TunnelType};

mod options;
mod rules;
#[cfg(test)]
mod tests;
mod values;

use options::*;
use rules::*;
use values::*;

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
