//! From the keepalived.conf model to what the load-balancer half runs: the IPVS services of every
//! `virtual_server` (groups expanded), their real servers as destination templates, the health
//! checks with their keepalived timing, and the quorum, sorry-server and notify settings.
//!
//! Defaults are keepalived 2.2.7's: scheduler `wlc`, `lvs_method NAT`, weight 1, `quorum` 1,
//! `hysteresis` 0, `persistence_timeout` 360 s when written without a number, `delay_loop`
//! 60 s, `protocol` UDP when not written (keepalived-conf warns about that). Settings the
//! director does not implement are errors, never silently ignored, as in [`crate::setup`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use healthcheck::{
    BodyRegex, Check, ConnectOptions, DnsCheck, FileCheck, HttpGet, HttpProtocol, MiscCheck,
    PingCheck, Schedule, SmtpCheck, TcpCheck, TlsOptions, UdpCheck, UrlCheck,
};
use ipvs::packet::{
    IP_VS_SVC_F_ONEPACKET, IP_VS_TUNNEL_ENCAP_FLAG_CSUM, IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
    IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};
use ipvs::{Daemon, DaemonState, Destination, Family, ForwardMethod, Service, ServiceKey};
use keepalived_conf::SourceMap;
use keepalived_conf::model::{
    self, CheckDefaults, CheckerKind, Granularity, GroupEntry, LvsMethod, TunnelChecksum,
    TunnelType, VirtualServerAddr,
};

use crate::setup::{Command, Error};

/// keepalived's `delay_loop` when none is written.
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived's `persistence_timeout` when the keyword has no number.
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;
/// How often a FILE_CHECK reads its file (keepalived reads it when inotify says it changed).
pub const FILE_CHECK_POLL: Duration = Duration::from_secs(1);
/// keepalived's scheduler when `lvs_sched` is not written.
pub const DEFAULT_SCHEDULER: &str = "wlc";

/// Everything the load-balancer half runs, mapped from one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LbSetup {
    /// The `virtual_server` blocks, in file order.
    pub virtual_servers: Vec<VirtualServerSetup>,
    /// `lvs_timeouts`, set once at start and again when a reload changes them.
    pub timeouts: Option<ipvs::Timeouts>,
    /// `lvs_sync_daemon`.
    pub sync_daemon: Option<SyncDaemonSetup>,
}

/// `lvs_sync_daemon INTERFACE [INSTANCE] ...`: the daemon follows the named VRRP instance
/// (master daemon while it is MASTER, backup daemon otherwise); without an instance, or
/// without the VRRP half, a backup daemon runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncDaemonSetup {
    /// The VRRP instance it follows.
    pub instance: Option<String>,
    /// The daemon's settings (its state is set when it is started).
    pub daemon: Daemon,
}

/// One `virtual_server`: the kernel services it stands for and how its real servers are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServerSetup {
    /// A name that identifies it across reloads: `TCP 192.0.2.1:80`, `FWM 7`,
    /// `group web TCP`.
    pub name: String,
    /// `file:line:col` of the block (for error messages), when it came from a file.
    pub location: Option<String>,
    /// The kernel services: one, or one per address and mark of its group.
    pub services: Vec<Service>,
    /// The real servers.
    pub real_servers: Vec<RealServerSetup>,
    /// `quorum` (1): the least sum of weights of the live real servers for the service to be up.
    pub quorum: u32,
    /// `hysteresis` (0).
    pub hysteresis: u32,
    /// `quorum_up`.
    pub quorum_up: Option<Command>,
    /// `quorum_down`.
    pub quorum_down: Option<Command>,
    /// `sorry_server`, with `sorry_server_inhibit` and `sorry_server_lvs_method`.
    pub sorry_server: Option<SorryServerSetup>,
    /// `omega`: notify_down and quorum_down run when the service goes away (shutdown, reload).
    pub omega: bool,
}

/// `sorry_server ADDR [PORT]`: put in when the quorum is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryServerSetup {
    /// Address.
    pub addr: IpAddr,
    /// Port; the service's when not written.
    pub port: Option<u16>,
    /// Forwarding method and tunnel settings (`sorry_server_lvs_method`, else the virtual
    /// server's); weight 1.
    pub template: Destination,
    /// `sorry_server_inhibit`: kept in the table with weight 0 while not in use.
    pub inhibit: bool,
}

/// One `real_server` of one `virtual_server`.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServerSetup {
    /// Address.
    pub addr: IpAddr,
    /// Port; the service's when not written.
    pub port: Option<u16>,
    /// Forwarding method, weight, thresholds, tunnel (the address is set per service).
    pub template: Destination,
    /// `inhibit_on_failure`: a failed server stays with weight 0 instead of being removed.
    pub inhibit_on_failure: bool,
    /// `notify_up`.
    pub notify_up: Option<Command>,
    /// `notify_down`.
    pub notify_down: Option<Command>,
    /// The health checks; the server is up when every one is.
    pub checks: Vec<CheckSetup>,
}

/// One checker block, ready for `healthcheck::Scheduler::insert`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CheckSetup {
    /// What to probe.
    pub check: Check,
    /// `delay_loop`, `retry`, `delay_before_retry`, `warmup`.
    pub schedule: Schedule,
    /// `alpha`: the check counts as failed until it first passes (otherwise as passed).
    pub alpha: bool,
}

impl LbSetup {
    /// Nothing for the load balancer to do: no virtual server, no timeouts, no sync daemon
    /// (keepalived does not start its checker process then, and needs no IPVS).
    pub fn is_empty(&self) -> bool {
        self.virtual_servers.is_empty() && self.timeouts.is_none() && self.sync_daemon.is_none()
    }
}

impl VirtualServerSetup {
    /// Whether two virtual servers are defined the same (where they are in the file aside).
    pub fn same_definition(&self, other: &Self) -> bool {
        self.name == other.name
            && self.services == other.services
            && self.real_servers == other.real_servers
            && self.quorum == other.quorum
            && self.hysteresis == other.hysteresis
            && self.quorum_up == other.quorum_up
            && self.quorum_down == other.quorum_down
            && self.sorry_server == other.sorry_server
            && self.omega == other.omega
    }
}

impl RealServerSetup {
    /// The destination of this real server in `service`.
    pub fn destination(&self, service: &ServiceKey) -> Destination {
        let mut dest = self.template.clone();
        dest.addr = SocketAddr::new(self.addr, self.port.unwrap_or_else(|| port_of(service)));
        dest
    }
}

impl SorryServerSetup {
    /// The sorry server's destination in `service`.
    pub fn destination(&self, service: &ServiceKey) -> Destination {
        let mut dest = self.template.clone();
        dest.addr = SocketAddr::new(self.addr, self.port.unwrap_or_else(|| port_of(service)));
        dest
    }
}

/// The port of a service (0 for a fwmark service).
pub fn port_of(key: &ServiceKey) -> u16 {
    match key {
        ServiceKey::Addr { addr, .. } => addr.port(),
        ServiceKey::Fwmark { .. } => 0,
    }
}

/// Maps the LVS part of `config`. `sources` (from `keepalived_conf::Parsed`) gives errors their
/// `file:line:col`. Every problem is reported, not only the first.
pub fn map(config: &model::Config, sources: Option<&SourceMap>) -> Result<LbSetup, Vec<Error>> {
    let mut m = Mapper {
        config,
        sources,
        errors: Vec::new(),
    };
    let mut virtual_servers = Vec::with_capacity(config.virtual_servers.len());
    let mut names = std::collections::HashSet::new();
    for vs in &config.virtual_servers {
        if let Some(setup) = m.virtual_server(vs) {
            if !names.insert(setup.name.clone()) {
                let ctx = Ctx {
                    origin: vs.origin,
                    what: &setup.name,
                    rs: None,
                    checker: None,
                };
                m.invalid(ctx, "defined twice".into());
            }
            virtual_servers.push(setup);
        }
    }
    let g = &config.global_defs;
    let timeouts = g.lvs_timeouts.as_ref().map(|t| ipvs::Timeouts {
        tcp: t.tcp.unwrap_or(0),
        tcp_fin: t.tcpfin.unwrap_or(0),
        udp: t.udp.unwrap_or(0),
    });
    let sync_daemon = g.lvs_sync_daemon.as_ref().map(|d| {
        let mut daemon = Daemon::new(DaemonState::Backup, d.interface.clone());
        daemon.sync_id = d.id.map_or(0, u32::from);
        daemon.max_len = d.maxlen;
        daemon.port = d.port;
        daemon.ttl = d.ttl;
        daemon.group = d.group;
        SyncDaemonSetup {
            instance: d.instance.clone(),
            daemon,
        }
    });
    if m.errors.is_empty() {
        Ok(LbSetup {
            virtual_servers,
            timeouts,
            sync_daemon,
        })
    } else {
        Err(m.errors)
    }
}

/// Where an error is, rendered only when there is one (a 37,000-server file has no time to
/// spare for 37,000 unused `file:line` strings).
#[derive(Clone, Copy)]
struct Ctx<'a> {
    origin: keepalived_conf::Origin,
    what: &'a str,
    rs: Option<SocketAddr>,
    checker: Option<&'static str>,
}

struct Mapper<'a> {
    config: &'a model::Config,
    sources: Option<&'a SourceMap>,
    errors: Vec<Error>,
}

/// The first value set along `layers` (innermost first).
fn pick<T: Clone>(
    layers: &[&CheckDefaults],
    get: impl Fn(&CheckDefaults) -> Option<T>,
) -> Option<T> {
    layers.iter().find_map(|l| get(l))
}

fn protocol(p: Option<model::Protocol>) -> ipvs::Protocol {
    match p {
        Some(model::Protocol::Tcp) => ipvs::Protocol::Tcp,
        Some(model::Protocol::Sctp) => ipvs::Protocol::Sctp,
        // keepalived 2.2.7 uses UDP when `protocol` is not written.
        Some(model::Protocol::Udp) | None => ipvs::Protocol::Udp,
    }
}

/// The configuration's family as IPVS's, through the workspace's one family (each side converts
/// to and from `vrrp_packet::AddressFamily`, tested there).
fn family(f: model::Family) -> Family {
    vrrp_packet::AddressFamily::from(f).into()
}

/// The forwarding method and tunnel settings of `lvs_method`, on a weight-1 destination.
fn method_template(method: LvsMethod) -> Destination {
    let dest = Destination::new(SocketAddr::from(([0, 0, 0, 0], 0)));
    match method {
        LvsMethod::Nat => dest.forward(ForwardMethod::Masquerade),
        LvsMethod::Dr => dest.forward(ForwardMethod::DirectRoute),
        LvsMethod::Tun {
            tunnel_type,
            checksum,
        } => {
            let (kind, port) = match tunnel_type {
                None | Some(TunnelType::Ipip) => (ipvs::TunnelType::Ipip, 0),
                Some(TunnelType::Gue { port }) => (ipvs::TunnelType::Gue, port),
                Some(TunnelType::Gre) => (ipvs::TunnelType::Gre, 0),
            };
            let flags = match checksum {
                None | Some(TunnelChecksum::NoCsum) => IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
                Some(TunnelChecksum::Csum) => IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
                Some(TunnelChecksum::RemCsum) => IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
            };
            dest.forward(ForwardMethod::Tunnel)
                .tunnel(kind, port, flags)
        }
    }
}

/// The addresses of a group range: `addr` up to the last byte (IPv4) or 16-bit group (IPv6)
/// `end`.
fn range(addr: IpAddr, end: Option<u16>) -> Result<Vec<IpAddr>, String> {
    let Some(end) = end else {
        return Ok(vec![addr]);
    };
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            let end = u8::try_from(end).map_err(|_| format!("range end {end} is above 255"))?;
            if end < o[3] {
                return Err(format!("range {addr}-{end} ends before it starts"));
            }
            Ok((o[3]..=end)
                .map(|last| IpAddr::from([o[0], o[1], o[2], last]))
                .collect())
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            if end < s[7] {
                return Err(format!("range {addr}-{end:x} ends before it starts"));
            }
            Ok((s[7]..=end)
                .map(|last| {
                    let mut seg = s;
                    seg[7] = last;
                    IpAddr::from(seg)
                })
                .collect())
        }
    }
}

impl Mapper<'_> {
    fn context(&self, origin: keepalived_conf::Origin, what: &str) -> String {
        match self.sources.and_then(|s| s.location(origin)) {
            Some(at) => format!("{at}: {what}"),
            None => what.to_owned(),
        }
    }

    fn render(&self, ctx: Ctx<'_>) -> String {
        let mut text = self.context(ctx.origin, ctx.what);
        if let Some(rs) = ctx.rs {
            text.push_str(&format!(": real_server {rs}"));
        }
        if let Some(checker) = ctx.checker {
            text.push_str(&format!(": {checker}"));
        }
        text
    }

    fn location(&self, origin: keepalived_conf::Origin) -> Option<String> {
        self.sources
            .and_then(|s| s.location(origin))
            .map(|l| l.to_string())
    }

    fn invalid(&mut self, ctx: Ctx<'_>, message: String) {
        let context = self.render(ctx);
        self.errors.push(Error::Invalid { context, message });
    }

    fn unsupported(&mut self, ctx: Ctx<'_>, what: &str) {
        let context = self.render(ctx);
        self.errors.push(Error::Unsupported {
            context,
            what: what.to_owned(),
        });
    }

    fn missing(&mut self, ctx: Ctx<'_>, what: &'static str) {
        let context = self.render(ctx);
        self.errors.push(Error::Missing { context, what });
    }

    fn command(&mut self, context: Ctx<'_>, script: Option<&model::Script>) -> Option<Command> {
        let script = script?;
        match healthcheck::misc::split_argv(&script.command) {
            Ok(argv) => Some(Command {
                argv: argv.into(),
                user: match &script.user {
                    Some(user) => Some((user.clone(), script.group.clone())),
                    None => self.config.global_defs.script_user.clone(),
                },
            }),
            Err(e) => {
                self.invalid(
                    context,
                    format!("cannot split {:?} into words: {e}", script.command),
                );
                None
            }
        }
    }

    /// The kernel service keys of a virtual server, and its name.
    fn keys(&mut self, vs: &model::VirtualServer) -> Option<(String, Vec<ServiceKey>)> {
        let proto = protocol(vs.protocol);
        let proto_name = match proto {
            ipvs::Protocol::Tcp => "TCP",
            ipvs::Protocol::Udp => "UDP",
            ipvs::Protocol::Sctp => "SCTP",
        };
        match &vs.addr {
            VirtualServerAddr::Ip { addr, port } => {
                let key = ServiceKey::Addr {
                    protocol: proto,
                    addr: SocketAddr::new(*addr, port.unwrap_or(0)),
                };
                Some((key.to_string(), vec![key]))
            }
            VirtualServerAddr::Fwmark(mark) => {
                let fam = vs.ip_family.map(family).unwrap_or_else(|| {
                    vs.real_servers
                        .first()
                        .map_or(Family::V4, |rs| Family::of(rs.addr))
                });
                let key = ServiceKey::Fwmark {
                    family: fam,
                    mark: *mark,
                };
                Some((key.to_string(), vec![key]))
            }
            VirtualServerAddr::Group(name) => {
                let name_of = format!("group {name} {proto_name}");
                let what = format!("virtual_server {name_of}");
                let ctx = Ctx {
                    origin: vs.origin,
                    what: &what,
                    rs: None,
                    checker: None,
                };
                let Some(group) = self
                    .config
                    .virtual_server_groups
                    .iter()
                    .find(|g| &g.name == name)
                else {
                    self.errors.push(Error::Undefined {
                        context: self.render(ctx),
                        kind: "virtual_server_group",
                        name: name.clone(),
                    });
                    return None;
                };
                let mut keys = Vec::new();
                for entry in &group.entries {
                    match entry {
                        GroupEntry::Addr {
                            addr,
                            range_end,
                            port,
                        } => match range(*addr, *range_end) {
                            Ok(addrs) => keys.extend(addrs.into_iter().map(|a| ServiceKey::Addr {
                                protocol: proto,
                                addr: SocketAddr::new(a, port.unwrap_or(0)),
                            })),
                            Err(e) => self.invalid(ctx, e),
                        },
                        GroupEntry::Fwmark { mark, family: fam } => {
                            let fam = fam.or(vs.ip_family).map(family).unwrap_or_else(|| {
                                vs.real_servers
                                    .first()
                                    .map_or(Family::V4, |rs| Family::of(rs.addr))
                            });
                            keys.push(ServiceKey::Fwmark {
                                family: fam,
                                mark: *mark,
                            });
                        }
                    }
                }
                let mut seen = std::collections::HashSet::new();
                keys.retain(|k| seen.insert(*k));
                Some((name_of, keys))
            }
        }
    }

    fn virtual_server(&mut self, vs: &model::VirtualServer) -> Option<VirtualServerSetup> {
        let (name, keys) = self.keys(vs)?;
        let what = format!("virtual_server {name}");
        let context = Ctx {
            origin: vs.origin,
            what: &what,
            rs: None,
            checker: None,
        };
        if let Some(engine) = &vs.persistence_engine
            && engine.is_empty()
        {
            self.invalid(context, "persistence_engine is empty".into());
        }
        if vs.ha_suspend {
            self.unsupported(context, "ha_suspend");
        }
        let mut flags = vs.sched_flags();
        if vs.ops {
            flags |= IP_VS_SVC_F_ONEPACKET;
        }
        let scheduler = vs.lvs_sched.map_or(DEFAULT_SCHEDULER, |s| s.name());
        let services = keys
            .iter()
            .map(|key| {
                let mut svc = Service::new(*key).scheduler(scheduler).flags(flags);
                if let Some(timeout) = vs.persistence_timeout {
                    svc = svc.persistent(timeout.unwrap_or(DEFAULT_PERSISTENCE_TIMEOUT));
                    match vs.persistence_granularity {
                        Some(Granularity::Mask(mask)) if key.family() == Family::V4 => {
                            svc = svc.netmask_v4(mask);
                        }
                        Some(Granularity::PrefixLen(len)) => svc = svc.netmask(len),
                        _ => {}
                    }
                }
                if let Some(engine) = &vs.persistence_engine {
                    svc = svc.pe_name(engine.clone());
                }
                svc
            })
            .collect();
        let method = vs.lvs_method.unwrap_or(LvsMethod::Nat);
        let real_servers = vs
            .real_servers
            .iter()
            .filter_map(|rs| self.real_server(vs, &name, &keys, method, rs))
            .collect();
        let sorry_server = vs.sorry_server.as_ref().map(|s| SorryServerSetup {
            addr: s.addr,
            port: s.port,
            template: method_template(vs.sorry_server_lvs_method.unwrap_or(method)),
            inhibit: vs.sorry_server_inhibit,
        });
        if let Some(sorry) = &sorry_server
            && keys.iter().any(|k| {
                matches!(k, ServiceKey::Addr { .. }) && k.family() != Family::of(sorry.addr)
            })
        {
            self.invalid(
                context,
                format!(
                    "sorry_server {} is not of the virtual server's family",
                    sorry.addr
                ),
            );
        }
        Some(VirtualServerSetup {
            location: self.location(vs.origin),
            quorum: vs.quorum.map_or(1, |q| q.value),
            hysteresis: vs.hysteresis.unwrap_or(0),
            quorum_up: self.command(context, vs.quorum_up.as_ref()),
            quorum_down: self.command(context, vs.quorum_down.as_ref()),
            omega: vs.omega,
            name,
            services,
            real_servers,
            sorry_server,
        })
    }

    fn real_server(
        &mut self,
        vs: &model::VirtualServer,
        vs_name: &str,
        keys: &[ServiceKey],
        vs_method: LvsMethod,
        rs: &model::RealServer,
    ) -> Option<RealServerSetup> {
        let at = SocketAddr::new(rs.addr, rs.port.unwrap_or(0));
        let what = format!("virtual_server {vs_name}");
        let context = Ctx {
            origin: rs.origin,
            what: &what,
            rs: Some(at),
            checker: None,
        };
        if let Some(key) = keys
            .iter()
            .find(|k| matches!(k, ServiceKey::Addr { .. }) && k.family() != Family::of(rs.addr))
        {
            self.invalid(
                context,
                format!("real server {} is not of the family of {key}", rs.addr),
            );
            return None;
        }
        let weight = rs.weight.unwrap_or(1);
        if weight < 0 {
            self.invalid(context, format!("weight {weight} is negative"));
        }
        let template = method_template(rs.lvs_method.unwrap_or(vs_method))
            .weight(weight.max(0))
            .thresholds(rs.uthreshold.unwrap_or(0), rs.lthreshold.unwrap_or(0));
        let layers = [&rs.defaults, &vs.defaults];
        let inhibit_on_failure = pick(&layers, |d| d.inhibit_on_failure).unwrap_or(false);
        let service_port = keys.iter().map(port_of).find(|p| *p != 0);
        let checks = rs
            .checkers
            .iter()
            .flat_map(|c| self.checkers(context, vs, rs, service_port, c))
            .collect();
        Some(RealServerSetup {
            addr: rs.addr,
            port: rs.port,
            template,
            inhibit_on_failure,
            notify_up: self.command(context, rs.notify_up.as_deref()),
            notify_down: self.command(context, rs.notify_down.as_deref()),
            checks,
        })
    }

    /// The checks of one checker block: one, or for SMTP_CHECK one per `host` block (each
    /// host's connection and timing settings over the checker's, as keepalived 2 turns them
    /// into checkers of their own).
    fn checkers(
        &mut self,
        rs_context: Ctx<'_>,
        vs: &model::VirtualServer,
        rs: &model::RealServer,
        service_port: Option<u16>,
        c: &model::Checker,
    ) -> Vec<CheckSetup> {
        let CheckerKind::Smtp { hosts, .. } = &c.kind else {
            return self
                .checker(rs_context, vs, rs, service_port, c, None)
                .into_iter()
                .collect();
        };
        if hosts.is_empty() {
            return self
                .checker(rs_context, vs, rs, service_port, c, None)
                .into_iter()
                .collect();
        }
        hosts
            .iter()
            .filter_map(|host| {
                let mut one = c.clone();
                let k = &host.connect;
                let base = &mut one.connect;
                base.connect_ip = k.connect_ip.or(base.connect_ip);
                base.connect_port = k.connect_port.or(base.connect_port);
                base.bindto = k.bindto.or(base.bindto);
                base.bind_if = k.bind_if.clone().or(base.bind_if.take());
                base.bind_port = k.bind_port.or(base.bind_port);
                base.fwmark = k.fwmark.or(base.fwmark);
                base.connect_timeout = k.connect_timeout.or(base.connect_timeout);
                self.checker(rs_context, vs, rs, service_port, &one, Some(&host.defaults))
            })
            .collect()
    }

    fn checker(
        &mut self,
        rs_context: Ctx<'_>,
        vs: &model::VirtualServer,
        rs: &model::RealServer,
        service_port: Option<u16>,
        c: &model::Checker,
        host: Option<&CheckDefaults>,
    ) -> Option<CheckSetup> {
        let context = Ctx {
            origin: c.origin,
            checker: Some(c.kind.keyword()),
            ..rs_context
        };
        let empty = CheckDefaults::default();
        let layers = [
            host.unwrap_or(&empty),
            &c.defaults,
            &rs.defaults,
            &vs.defaults,
        ];
        let delay_loop =
            pick(&layers, |d| d.delay_loop).map_or(DEFAULT_DELAY_LOOP, |t| t.as_duration());
        let mut schedule = match &c.kind {
            CheckerKind::Http(_) | CheckerKind::Ssl(_) => Schedule::http(delay_loop),
            CheckerKind::Dns { .. } => Schedule::dns(delay_loop),
            CheckerKind::Misc { .. } => Schedule::misc(delay_loop),
            // keepalived reads a track file when it changes: poll it every second, with no
            // retry (a value is a value) and no warm-up.
            CheckerKind::File { .. } => Schedule::new(FILE_CHECK_POLL)
                .retry(0)
                .warmup(Duration::ZERO),
            _ => Schedule::new(delay_loop),
        };
        if let Some(retry) = pick(&layers, |d| d.retry) {
            schedule = schedule.retry(retry);
        }
        if let Some(delay) = pick(&layers, |d| d.delay_before_retry) {
            schedule = schedule.delay_before_retry(delay.as_duration());
        }
        if let Some(warmup) = pick(&layers, |d| d.warmup) {
            schedule = schedule.warmup(warmup.as_duration());
        }
        let alpha = pick(&layers, |d| d.alpha).unwrap_or(false);
        let k = &c.connect;
        if k.bind_if.is_some() {
            self.unsupported(context, "bind_if");
        }
        let port = k.connect_port.or(rs.port).or(service_port);
        let mut connect = ConnectOptions::new(SocketAddr::new(
            k.connect_ip.unwrap_or(rs.addr),
            port.unwrap_or(0),
        ));
        connect.bindto = k.bindto;
        connect.bind_port = k.bind_port;
        connect.fwmark = k.fwmark;
        if let Some(t) = k.connect_timeout.or(pick(&layers, |d| d.connect_timeout)) {
            connect.connect_timeout = t.as_duration();
        }
        let needs_port = !matches!(
            c.kind,
            CheckerKind::Misc { .. } | CheckerKind::Ping | CheckerKind::File { .. }
        );
        if needs_port && port.is_none() {
            self.missing(context, "connect_port (the real server has no port)");
            return None;
        }
        let check = match &c.kind {
            CheckerKind::Tcp => Check::Tcp(TcpCheck::new(connect)),
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                let ssl = matches!(c.kind, CheckerKind::Ssl(_));
                let mut get = self.http(context, h, connect, ssl)?;
                get.virtualhost = pick(&layers, |d| d.virtualhost.clone());
                Check::Http(get)
            }
            CheckerKind::Smtp { helo_name, .. } => {
                let mut smtp = SmtpCheck::new(connect);
                if let Some(helo) = helo_name {
                    smtp.helo_name = helo.clone();
                }
                Check::Smtp(smtp)
            }
            CheckerKind::Dns { query_type, name } => {
                let mut dns = DnsCheck::new(connect);
                if let Some(t) = query_type {
                    dns = self.hc(context, dns.query_type(t))?;
                }
                if let Some(n) = name {
                    dns = self.hc(context, dns.name(n))?;
                }
                Check::Dns(dns)
            }
            CheckerKind::Misc {
                path,
                timeout,
                dynamic,
            } => {
                let Some(path) = path else {
                    self.missing(context, "misc_path");
                    return None;
                };
                let timeout = timeout.map_or(delay_loop, |t| t.as_duration());
                let mut misc = self.hc(context, MiscCheck::new(&path.command, timeout))?;
                // keepalived's rule: the checker's `user`, else global_defs' `script_user`,
                // else the daemon's own user; the names are resolved on this host now, so a
                // user that does not exist is an error with its line, not a failing check.
                let user = c
                    .user
                    .as_deref()
                    .or(self.config.global_defs.script_user.as_ref());
                if let Some((name, group)) = user {
                    match crate::driver::process::resolve_user(name, group.as_deref()) {
                        Ok(ids) => misc.user = Some(ids),
                        Err(e) => {
                            self.invalid(context, format!("user: {e}"));
                            return None;
                        }
                    }
                }
                Check::Misc(misc.dynamic(*dynamic))
            }
            CheckerKind::Udp {
                payload,
                require_reply,
                min_reply_length,
                max_reply_length,
            } => {
                let mut udp = UdpCheck::new(connect);
                if let Some(p) = payload {
                    udp.payload = self.hc(context, healthcheck::udp::parse_hex(p))?;
                }
                if let Some(reply) = require_reply {
                    let pattern =
                        healthcheck::udp::ReplyPattern::parse(reply.as_deref().unwrap_or_default());
                    udp.require_reply = Some(self.hc(context, pattern)?);
                }
                if let Some(n) = min_reply_length {
                    udp.min_reply_length = *n as usize;
                }
                if let Some(n) = max_reply_length {
                    udp.max_reply_length = *n as usize;
                }
                Check::Udp(udp)
            }
            CheckerKind::Ping => Check::Ping(PingCheck::new(connect)),
            CheckerKind::File { track_file, weight } => {
                let Some(name) = track_file else {
                    self.missing(context, "track_file");
                    return None;
                };
                let Some(tracked) = self.config.track_files.iter().find(|f| &f.name == name) else {
                    self.errors.push(Error::Undefined {
                        context: self.render(context),
                        kind: "track_file",
                        name: name.clone(),
                    });
                    return None;
                };
                let Some(path) = &tracked.file else {
                    self.missing(context, "the track_file's `file`");
                    return None;
                };
                let w = weight.or(tracked.weight).unwrap_or(model::Weight {
                    value: 1,
                    reverse: false,
                });
                let mut file = FileCheck::new(path, rs.weight.unwrap_or(1).max(0).unsigned_abs());
                file.weight = if w.reverse {
                    -i64::from(w.value)
                } else {
                    i64::from(w.value)
                };
                Check::File(file)
            }
            CheckerKind::Bfd { .. } => {
                // BFD needs a BFD session implementation (RFC 5880), which lvskit does not have.
                self.unsupported(context, "BFD_CHECK (lvskit has no BFD implementation)");
                return None;
            }
        };
        if let Err(e) = check.validate().and_then(|()| schedule.validate()) {
            self.invalid(context, e.to_string());
            return None;
        }
        Some(CheckSetup {
            check,
            schedule,
            alpha,
        })
    }

    fn hc<T>(&mut self, context: Ctx<'_>, r: Result<T, healthcheck::Error>) -> Option<T> {
        r.map_err(|e| self.invalid(context, e.to_string())).ok()
    }

    fn http(
        &mut self,
        context: Ctx<'_>,
        h: &model::HttpCheck,
        connect: ConnectOptions,
        ssl: bool,
    ) -> Option<HttpGet> {
        if h.fast_recovery == Some(true) {
            self.unsupported(context, "fast_recovery");
        }
        let mut urls = Vec::new();
        for u in &h.urls {
            let mut url = UrlCheck::new(u.path.clone().unwrap_or_else(|| "/".into()));
            url.status_code = u
                .status_code
                .iter()
                .map(|r| healthcheck::StatusRange {
                    low: r.low,
                    high: r.high,
                })
                .collect();
            if let Some(d) = &u.digest {
                url.digest = Some(self.hc(context, healthcheck::http::parse_digest(d))?);
            }
            url.virtualhost = u.virtualhost.clone();
            if let Some(pattern) = &u.regex {
                let mut regex = self.hc(context, BodyRegex::new(pattern, &u.regex_options))?;
                regex.no_match = u.regex_no_match;
                regex.min_offset = u.regex_min_offset.map_or(0, |o| o as usize);
                regex.max_offset = u.regex_max_offset.map(|o| o as usize);
                url.regex = Some(regex);
            }
            urls.push(url);
        }
        let mut get = if ssl {
            let mut tls = TlsOptions::new();
            tls.enable_sni = h.enable_sni;
            HttpGet::ssl(connect, urls, tls)
        } else {
            HttpGet::new(connect, urls)
        };
        get.http_protocol = match h.http_protocol.as_deref() {
            None | Some("1.0") => HttpProtocol::Http10,
            Some("1.0C") => HttpProtocol::Http10Close,
            Some("1.1") => HttpProtocol::Http11,
            Some(other) => {
                self.unsupported(context, &format!("http_protocol {other}"));
                return None;
            }
        };
        Some(get)
    }
}
