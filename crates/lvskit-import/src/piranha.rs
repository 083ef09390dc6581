//! piranha's `lvs.cf` (written by the piranha GUI, read by pulse, lvsd and nanny) to a
//! `vrrp_instance` for the primary and backup routers and its virtual servers.

use std::net::IpAddr;

use keepalived_conf::DiagnosticKind;
use keepalived_conf::model::{
    Checker, CheckerKind, Config, Granularity, HttpCheck, IpAddress, LvsMethod, LvsSched,
    LvsSyncDaemon, LvsTimeouts, Protocol, RealServer, Script, SorryServer, StatusRange, Timer, Url,
    VirtualServer, VirtualServerAddr,
};

use crate::output::Output;
use crate::source::{Report, Span, lines, parse_ip, prefix_len, unquote};
use crate::vrrp::{Cluster, Node, advert_int, vrid_for};
use crate::{Input, Options};

/// pulse's defaults.
const DEFAULT_KEEPALIVE: u64 = 6;
const DEFAULT_DEADTIME: u64 = 18;

/// The config ids of the two routers.
const PRIMARY: &str = "primary";
const BACKUP: &str = "backup";

/// A `key = value` line.
#[derive(Debug, Clone)]
struct Setting {
    key: String,
    value: String,
    key_span: Span,
    value_span: Span,
}

/// A `KIND NAME { ... }` block.
#[derive(Debug, Default)]
struct Block {
    kind: String,
    name: String,
    span: Span,
    settings: Vec<Setting>,
    blocks: Vec<Self>,
}

impl Block {
    fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().rev().find(|s| s.key == key)
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.get(key).map(|s| unquote(&s.value))
    }
}

fn parse(input: &Input, report: &mut Report) -> Block {
    let mut stack: Vec<Block> = vec![Block::default()];
    for (no, line) in lines(input) {
        let body = line.trim();
        let lead = line.len() - line.trim_start().len();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if body == "}" {
            if stack.len() > 1 {
                let done = stack.pop().expect("len > 1");
                stack.last_mut().expect("root").blocks.push(done);
            } else {
                report.error(
                    input,
                    Span::new(no, lead, lead + 1),
                    DiagnosticKind::Braces,
                    "`}` without an open block",
                );
            }
            continue;
        }
        if let Some(head) = body.strip_suffix('{') {
            let mut ws = head.split_whitespace();
            let kind = ws.next().unwrap_or("").to_string();
            let name = ws.next().unwrap_or("").to_string();
            if !matches!(kind.as_str(), "virtual" | "server" | "failover") || name.is_empty() {
                report.error(
                    input,
                    Span::new(no, lead, lead + head.trim_end().len()),
                    DiagnosticKind::UnknownKeyword,
                    format!("unknown block `{}`: expected `virtual NAME {{`, `server NAME {{` or `failover NAME {{`", head.trim()),
                );
            }
            stack.push(Block {
                kind,
                name,
                span: Span::new(no, lead, lead + head.trim_end().len()),
                ..Block::default()
            });
            continue;
        }
        let Some(eq) = body.find('=') else {
            report.error(
                input,
                Span::new(no, lead, line.len()),
                DiagnosticKind::Syntax,
                "expected `setting = value`",
            );
            continue;
        };
        let key = body[..eq].trim();
        let raw = &body[eq + 1..];
        let value = raw.trim();
        let vstart = lead + eq + 1 + (raw.len() - raw.trim_start().len());
        stack.last_mut().expect("root").settings.push(Setting {
            key: key.to_string(),
            value: value.to_string(),
            key_span: Span::new(no, lead, lead + key.len()),
            value_span: Span::new(no, vstart, vstart + value.len().max(1)),
        });
    }
    while stack.len() > 1 {
        let open = stack.pop().expect("len > 1");
        report.error(
            input,
            open.span,
            DiagnosticKind::Braces,
            format!("`{} {}` is not closed with `}}`", open.kind, open.name),
        );
    }
    stack.pop().unwrap_or_default()
}

const GLOBAL: &[&str] = &[
    "serial_no",
    "primary",
    "primary_private",
    "service",
    "backup_active",
    "backup",
    "backup_private",
    "heartbeat",
    "heartbeat_port",
    "keepalive",
    "deadtime",
    "network",
    "nat_router",
    "nat_nmask",
    "debug_level",
    "monitor_links",
    "syncdaemon",
    "syncd_iface",
    "syncd_id",
    "tcp_timeout",
    "tcpfin_timeout",
    "udp_timeout",
    "rsh_command",
    "hard_shutdown",
];
const VIRTUAL: &[&str] = &[
    "active",
    "address",
    "vip_nmask",
    "port",
    "persistent",
    "pmask",
    "send",
    "expect",
    "use_regex",
    "send_program",
    "load_monitor",
    "scheduler",
    "protocol",
    "timeout",
    "reentry",
    "quiesce_server",
    "fwmark",
    "sorry_server",
];
const SERVER: &[&str] = &["address", "active", "weight", "port"];

fn check_keys(input: &Input, block: &Block, known: &[&str], what: &str, report: &mut Report) {
    for s in &block.settings {
        if !known.contains(&s.key.as_str()) {
            report.error(
                input,
                s.key_span,
                DiagnosticKind::UnknownKeyword,
                format!("unknown {what} setting `{}`", s.key),
            );
        }
    }
}

fn ip_of(input: &Input, s: &Setting, report: &mut Report) -> Option<IpAddr> {
    let v = unquote(&s.value);
    let first = v.split_whitespace().next().unwrap_or("");
    let ip = parse_ip(first);
    if ip.is_none() {
        report.error(
            input,
            s.value_span,
            DiagnosticKind::InvalidValue,
            format!("{} expects an IP address, found `{v}`", s.key),
        );
    }
    ip
}

fn number<T: std::str::FromStr>(input: &Input, s: &Setting, report: &mut Report) -> Option<T> {
    let v = unquote(&s.value);
    let n = v.parse().ok();
    if n.is_none() {
        report.error(
            input,
            s.value_span,
            DiagnosticKind::InvalidValue,
            format!("{} expects a number, found `{v}`", s.key),
        );
    }
    n
}

/// `ADDR DEV[:ALIAS]` of `address` and `nat_router` as a VIP.
fn vip_of(input: &Input, s: &Setting, len: Option<u8>, report: &mut Report) -> Option<IpAddress> {
    let ip = ip_of(input, s, report)?;
    let mut a = IpAddress::new(ip, len);
    if let Some(dev) = unquote(&s.value).split_whitespace().nth(1) {
        match dev.split_once(':') {
            Some((base, _)) => {
                a.dev = Some(base.to_string());
                a.label = Some(dev.to_string());
            }
            None => a.dev = Some(dev.to_string()),
        }
    }
    Some(a)
}

/// Unescapes nanny's `\n`, `\r`, `\t` and `\X`.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

pub(crate) fn import(
    input: &Input,
    options: &Options,
    report: &mut Report,
    out: &mut Output,
) -> Result<Vec<String>, ()> {
    let _ = options;
    let root = parse(input, report);
    check_keys(input, &root, GLOBAL, "global", report);
    if report.has_errors() {
        return Err(());
    }
    let g = |k: &str| root.get(k);

    // The routers.
    let primary = g("primary").and_then(|s| ip_of(input, s, report));
    if primary.is_none() && g("primary").is_none() {
        report.error(
            input,
            Span::new(1, 0, 0),
            DiagnosticKind::Missing,
            "lvs.cf has no `primary = ADDRESS`",
        );
    }
    let backup_active = match g("backup_active") {
        Some(s) => number::<u8>(input, s, report).unwrap_or(0) != 0,
        None => false,
    };
    let backup = match g("backup") {
        Some(s) => ip_of(input, s, report),
        None => None,
    };
    if backup_active && backup.is_none() && g("backup").is_none() {
        report.error(
            input,
            g("backup_active").map_or(Span::default(), |s| s.key_span),
            DiagnosticKind::Missing,
            "backup_active = 1 without `backup = ADDRESS`",
        );
    }
    if !backup_active && let Some(s) = g("backup") {
        report.approx(input, s.key_span, "backup_active = 0: the backup router is not configured; only the primary's instance is written");
    }
    let keepalive = match g("keepalive") {
        Some(s) => number::<u64>(input, s, report).map(Timer::from_secs),
        None => Some(Timer::from_secs(DEFAULT_KEEPALIVE)),
    };
    let deadtime = match g("deadtime") {
        Some(s) => number::<u64>(input, s, report).map(Timer::from_secs),
        None => Some(Timer::from_secs(DEFAULT_DEADTIME)),
    };
    let method = match g("network").map(|s| (s, unquote(&s.value))) {
        None | Some((_, "direct")) => LvsMethod::Dr,
        Some((_, "nat")) => LvsMethod::Nat,
        Some((_, "tunnel")) => LvsMethod::Tun {
            tunnel_type: None,
            checksum: None,
        },
        Some((s, other)) => {
            report.error(
                input,
                s.value_span,
                DiagnosticKind::InvalidValue,
                format!("network must be direct, nat or tunnel, found `{other}`"),
            );
            LvsMethod::Dr
        }
    };
    let mut config = Config::default();
    for s in &root.settings {
        let v = unquote(&s.value);
        match s.key.as_str() {
            "serial_no" | "debug_level" => report.approx(input, s.key_span, format!("{}: no meaning for lvskitd", s.key)),
            "service" if v != "lvs" => report.approx(input, s.key_span, format!("service = {v}: piranha failover services have no keepalived form; only the LVS part is imported")),
            "heartbeat" if v == "0" => report.approx(input, s.key_span, "heartbeat = 0: VRRP always sends adverts"),
            "heartbeat_port" => report.approx(input, s.key_span, format!("heartbeat_port = {v}: VRRP adverts are IP protocol 112, not UDP port {v}")),
            "primary_private" | "backup_private" => report.approx(input, s.key_span, format!("{}: VRRP adverts use the VIPs' interface; a private heartbeat network is not used", s.key)),
            "rsh_command" => report.approx(input, s.key_span, "rsh_command: lvskitd copies no files between routers"),
            "hard_shutdown" => report.approx(input, s.key_span, "hard_shutdown: lvskitd does not power off a failed router"),
            "tcp_timeout" | "tcpfin_timeout" | "udp_timeout" => {
                let t = number::<u32>(input, s, report);
                let lt = config.global_defs.lvs_timeouts.get_or_insert_with(LvsTimeouts::default);
                match s.key.as_str() {
                    "tcp_timeout" => lt.tcp = t,
                    "tcpfin_timeout" => lt.tcpfin = t,
                    _ => lt.udp = t,
                }
            }
            _ => {}
        }
    }
    for f in root.blocks.iter().filter(|b| b.kind == "failover") {
        report.approx(input, f.span, format!("failover {}: piranha failover services (fos) have no keepalived form; not imported", f.name));
    }
    let global_notes = report.take_notes();

    // The virtual servers and their VIPs.
    let mut vips: Vec<IpAddress> = Vec::new();
    // Each with its comments; `None` for an inactive one, which leaves only its comments.
    let mut virtual_servers: Vec<(Vec<String>, Option<VirtualServer>)> = Vec::new();
    for v in root.blocks.iter().filter(|b| b.kind == "virtual") {
        check_keys(input, v, VIRTUAL, "virtual", report);
        if v.value("active") == Some("0") {
            report.approx(
                input,
                v.span,
                format!(
                    "virtual {} is not active (active = 0): not imported",
                    v.name
                ),
            );
            virtual_servers.push((report.take_notes(), None));
            continue;
        }
        let len = match v.get("vip_nmask") {
            Some(s) => match prefix_len(unquote(&s.value)) {
                Some(l) => Some(l),
                None => {
                    report.error(
                        input,
                        s.value_span,
                        DiagnosticKind::InvalidValue,
                        format!("vip_nmask expects a netmask, found `{}`", s.value),
                    );
                    None
                }
            },
            None => None,
        };
        let Some(address) = v.get("address") else {
            report.error(
                input,
                v.span,
                DiagnosticKind::Missing,
                format!("virtual {} has no `address = VIP DEVICE`", v.name),
            );
            continue;
        };
        let Some(vip) = vip_of(input, address, len, report) else {
            continue;
        };
        if !vips.iter().any(|x| x.prefix.addr == vip.prefix.addr) {
            vips.push(vip.clone());
        }
        if let Some(vs) =
            virtual_server(input, &root, v, vip.prefix.addr, method, keepalive, report)
        {
            let mut notes = vec![format!(
                "{}:{}: virtual {}",
                input.path.display(),
                v.span.line,
                v.name
            )];
            notes.extend(report.take_notes());
            let duplicate = virtual_servers.iter().any(|(_, other)| {
                other
                    .as_ref()
                    .is_some_and(|o| o.addr == vs.addr && o.protocol == vs.protocol)
            });
            if duplicate {
                report.error(
                    input,
                    v.span,
                    DiagnosticKind::Duplicate,
                    format!(
                        "virtual {}: the same service as an earlier virtual block",
                        v.name
                    ),
                );
            }
            virtual_servers.push((notes, Some(vs)));
        }
    }
    if let Some(s) = g("nat_router") {
        let len = match g("nat_nmask") {
            Some(m) => prefix_len(unquote(&m.value)).or_else(|| {
                report.error(
                    input,
                    m.value_span,
                    DiagnosticKind::InvalidValue,
                    format!("nat_nmask expects a netmask, found `{}`", m.value),
                );
                None
            }),
            None => None,
        };
        if let Some(a) = vip_of(input, s, len, report) {
            vips.push(a);
        }
        if method != LvsMethod::Nat {
            report.approx(input, s.key_span, "nat_router with network other than nat: the router address is still moved with the VIPs");
        }
    }
    let interface = vips.iter().find_map(|v| v.dev.clone());
    if vips.is_empty() {
        report.error(
            input,
            Span::new(1, 0, 0),
            DiagnosticKind::Missing,
            "lvs.cf has no active virtual server: there is no VIP to move",
        );
    }
    if report.has_errors() {
        return Err(());
    }
    let Some(interface) = interface else {
        report.error(
            input,
            Span::new(1, 0, 0),
            DiagnosticKind::Missing,
            "no interface: give `address = VIP DEVICE` in a virtual block",
        );
        return Err(());
    };
    let (keepalive, deadtime) = (keepalive.unwrap_or_default(), deadtime.unwrap_or_default());
    let (advert, version, why) = advert_int(keepalive, deadtime);

    // monitor_links and the sync daemon.
    let mut track_interface: Vec<String> = Vec::new();
    let mut dont_track_primary = false;
    if let Some(s) = g("monitor_links") {
        if unquote(&s.value) == "0" {
            dont_track_primary = true;
            report.approx(input, s.key_span, "monitor_links = 0: dont_track_primary, so a link going down does not fail the router over");
        } else {
            for v in &vips {
                if let Some(d) = &v.dev
                    && *d != interface
                    && !track_interface.contains(d)
                {
                    track_interface.push(d.clone());
                }
            }
        }
    }
    if g("syncdaemon").map(|s| unquote(&s.value)) == Some("1") {
        let iface =
            g("syncd_iface").map_or_else(|| interface.clone(), |s| unquote(&s.value).to_string());
        let id = g("syncd_id").and_then(|s| number::<u8>(input, s, report));
        config.global_defs.lvs_sync_daemon = Some(LvsSyncDaemon {
            interface: iface,
            instance: Some("VI_1".into()),
            id,
            ..LvsSyncDaemon::default()
        });
    }
    let mut nodes = Vec::new();
    let src = |a: Option<IpAddr>| a;
    nodes.push(Node {
        id: PRIMARY.into(),
        src_ip: src(primary),
        peers: if backup_active {
            backup.into_iter().collect()
        } else {
            Vec::new()
        },
    });
    if backup_active {
        nodes.push(Node {
            id: BACKUP.into(),
            src_ip: backup,
            peers: primary.into_iter().collect(),
        });
    }
    if !backup_active {
        nodes[0].src_ip = None;
    }
    let vrid = vrid_for(&vips);
    let cluster = Cluster {
        name: "VI_1".into(),
        interface,
        vrid,
        advert,
        version,
        vips,
        auth: None,
        preempt: true,
        nodes,
        scripts: Vec::new(),
        define_scripts: false,
        track_interface,
        dont_track_primary,
        notify_master: None,
        notify_backup: None,
    };
    out.config(global_notes, &config);
    let mut notes = vec![
        format!("{}: the routers primary and backup: run lvskitd -i primary on {} and lvskitd -i backup on {}",
            input.path.display(),
            primary.map_or_else(|| "the primary".to_string(), |a| a.to_string()),
            backup.map_or_else(|| "the backup".to_string(), |a| a.to_string())),
        why,
        format!("virtual_router_id {vrid} comes from the first VIP's last byte: keep it unique among the VRRP routers of {}", cluster.interface),
        "preempt: the primary takes the VIPs back when it returns; write nopreempt (and state BACKUP on both) to leave them on the backup".into(),
    ];
    notes.extend(report.take_notes());
    cluster.write(notes, out);
    for (notes, vs) in virtual_servers {
        let config = Config {
            virtual_servers: vs.into_iter().collect(),
            ..Config::default()
        };
        out.config(notes, &config);
    }
    if report.has_errors() {
        return Err(());
    }
    Ok(if backup_active {
        vec![BACKUP.into(), PRIMARY.into()]
    } else {
        Vec::new()
    })
}

#[allow(clippy::too_many_arguments)]
fn virtual_server(
    input: &Input,
    root: &Block,
    v: &Block,
    vip: IpAddr,
    method: LvsMethod,
    keepalive: Option<Timer>,
    report: &mut Report,
) -> Option<VirtualServer> {
    let _ = root;
    let errors = report.errors.len();
    let port = v.get("port").and_then(|s| number::<u16>(input, s, report));
    let addr = match v.get("fwmark") {
        Some(s) => VirtualServerAddr::Fwmark(number::<u32>(input, s, report)?),
        None => {
            if port.is_none() {
                report.error(
                    input,
                    v.span,
                    DiagnosticKind::Missing,
                    format!("virtual {} has no `port` (nor `fwmark`)", v.name),
                );
                return None;
            }
            VirtualServerAddr::Ip { addr: vip, port }
        }
    };
    let mut vs = VirtualServer::new(addr);
    vs.lvs_method = Some(method);
    let protocol = Some(match v.value("protocol") {
        None | Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some(other) => {
            report.error(
                input,
                v.get("protocol").map_or(v.span, |s| s.value_span),
                DiagnosticKind::InvalidValue,
                format!("protocol must be tcp or udp, found `{other}`"),
            );
            Protocol::Tcp
        }
    });
    // keepalived ignores (and warns about) the protocol of a firewall-mark service.
    if !matches!(vs.addr, VirtualServerAddr::Fwmark(_)) {
        vs.protocol = protocol;
    }
    vs.lvs_sched = Some(match v.get("scheduler") {
        None => LvsSched::Wlc,
        Some(s) => match LvsSched::ALL.iter().find(|(_, n)| *n == unquote(&s.value)) {
            Some((x, _)) => *x,
            None => {
                report.error(
                    input,
                    s.value_span,
                    DiagnosticKind::InvalidValue,
                    format!("unknown scheduler `{}`", s.value),
                );
                LvsSched::Wlc
            }
        },
    });
    if let Some(s) = v.get("persistent") {
        let t: u32 = number(input, s, report).unwrap_or(0);
        if t > 0 {
            vs.persistence_timeout = Some(Some(t));
        }
    }
    if let Some(s) = v.get("pmask") {
        match (unquote(&s.value).parse(), prefix_len(unquote(&s.value))) {
            (Ok(mask), Some(_)) => vs.persistence_granularity = Some(Granularity::Mask(mask)),
            _ => report.error(
                input,
                s.value_span,
                DiagnosticKind::InvalidValue,
                format!("pmask expects a netmask, found `{}`", s.value),
            ),
        }
    }
    if let Some(s) = v.get("sorry_server")
        && let Some(ip) = ip_of(input, s, report)
    {
        vs.sorry_server = Some(SorryServer { addr: ip, port });
    }
    let timeout = v
        .get("timeout")
        .and_then(|s| number::<u64>(input, s, report))
        .map(Timer::from_secs);
    vs.defaults.delay_loop = keepalive;
    if let Some(s) = v.get("reentry") {
        report.approx(
            input,
            s.key_span,
            format!(
                "reentry = {}: keepalived puts a real server back after its first successful check",
                s.value
            ),
        );
    }
    if let Some(s) = v.get("quiesce_server")
        && unquote(&s.value) == "1"
    {
        report.approx(input, s.key_span, "quiesce_server = 1: keepalived does not reset the connection counts when a real server returns");
    }
    if let Some(s) = v.get("load_monitor")
        && !matches!(unquote(&s.value), "none" | "")
    {
        report.approx(input, s.key_span, format!("load_monitor = {}: no keepalived equivalent (a MISC_CHECK with misc_dynamic can set weights from a load script); weights stay as written", s.value));
    }
    if let Some(s) = v.get("address")
        && unquote(&s.value).split_whitespace().count() < 2
    {
        report.approx(
            input,
            s.key_span,
            "address without a device: the VIP goes on the instance's interface",
        );
    }
    report.note(format!(
        "checks every keepalive ({} s), as nanny's interval",
        keepalive.unwrap_or_default()
    ));

    // The check: nanny's send/expect.
    let send = v.value("send").map(unescape).filter(|s| !s.is_empty());
    let expect = v.value("expect").map(unescape).filter(|s| !s.is_empty());
    let use_regex = v.value("use_regex") == Some("1");
    let program = v.value("send_program").filter(|s| !s.is_empty());
    let checker = |rip: IpAddr| -> Checker {
        if let Some(p) = program {
            return Checker::new(CheckerKind::Misc {
                path: Some(Script {
                    command: p.replace("%h", &rip.to_string()),
                    user: None,
                    group: None,
                }),
                timeout,
                dynamic: false,
            });
        }
        let http_path = send.as_deref().and_then(|s| {
            let line = s.lines().next()?;
            let mut w = line.split_whitespace();
            (w.next() == Some("GET")).then(|| w.next().unwrap_or("/").to_string())
        });
        let mut c = match (&http_path, protocol) {
            (Some(path), _) => {
                let mut url = Url {
                    path: Some(path.clone()),
                    ..Url::default()
                };
                match expect.as_deref() {
                    None => {}
                    Some(e) if !use_regex && e.starts_with("HTTP") => {
                        let code = e
                            .split_whitespace()
                            .nth(1)
                            .and_then(|c| c.parse::<u16>().ok());
                        url.status_code = vec![match code {
                            Some(c) => StatusRange { low: c, high: c },
                            None => StatusRange {
                                low: 100,
                                high: 599,
                            },
                        }];
                    }
                    // lvskitd's HTTP_GET does not match bodies yet (keepalived's url regex):
                    // a 2xx answer passes; flagged below.
                    Some(_) => {}
                }
                Checker::new(CheckerKind::Http(HttpCheck {
                    urls: vec![url],
                    ..HttpCheck::default()
                }))
            }
            (None, Some(Protocol::Udp)) => Checker::new(CheckerKind::Udp {
                payload: send
                    .as_ref()
                    .map(|s| s.bytes().map(|b| format!("{b:02x}")).collect()),
                require_reply: expect
                    .as_ref()
                    .map(|e| Some(e.bytes().map(|b| format!("{b:02x}")).collect())),
                min_reply_length: None,
                max_reply_length: None,
            }),
            _ => Checker::new(CheckerKind::Tcp),
        };
        c.defaults.connect_timeout = timeout;
        c
    };
    let send_span = v
        .get("send")
        .or(v.get("expect"))
        .map_or(v.span, |s| s.key_span);
    if program.is_some() {
        if let Some(e) = &expect {
            report.approx(input, v.get("send_program").map_or(v.span, |s| s.key_span), format!("send_program with expect {e:?}: MISC_CHECK judges the program by its exit status, not its output"));
        }
    } else if let Some(s) = &send {
        if s.starts_with("GET ") {
            report.approx(
                input,
                send_span,
                format!(
                    "send {s:?} / expect {:?}: an HTTP_GET of the same path, judged by {}",
                    expect.as_deref().unwrap_or(""),
                    match expect.as_deref() {
                        Some(e) if !use_regex && e.starts_with("HTTP") => "the status line",
                        Some(_) => "a 2xx status only: lvskitd's HTTP_GET cannot match the body yet (keepalived's url regex)",
                        None => "a 2xx status",
                    }
                ),
            );
        } else if protocol != Some(Protocol::Udp) {
            report.approx(input, send_span, format!("send {s:?}: keepalived's TCP_CHECK only connects; the send/expect exchange is not checked"));
        }
    } else if expect.is_some() && protocol != Some(Protocol::Udp) {
        report.approx(
            input,
            send_span,
            "expect without send: keepalived's TCP_CHECK only connects; the banner is not checked",
        );
    }

    for s in v.blocks.iter() {
        if s.kind != "server" {
            report.error(
                input,
                s.span,
                DiagnosticKind::UnknownKeyword,
                format!(
                    "`{}` block inside virtual {}: expected `server NAME {{`",
                    s.kind, v.name
                ),
            );
            continue;
        }
        check_keys(input, s, SERVER, "server", report);
        if s.value("active") == Some("0") {
            report.approx(
                input,
                s.span,
                format!("server {} is not active (active = 0): not imported", s.name),
            );
            continue;
        }
        let Some(a) = s.get("address") else {
            report.error(
                input,
                s.span,
                DiagnosticKind::Missing,
                format!("server {} has no address", s.name),
            );
            continue;
        };
        let Some(ip) = ip_of(input, a, report) else {
            continue;
        };
        let rport = match s.get("port") {
            Some(p) => number::<u16>(input, p, report),
            None => port,
        };
        let fwmark = matches!(vs.addr, VirtualServerAddr::Fwmark(_));
        // DR cannot change the port: the server gets the virtual port, checked where it said.
        let mut check_port = None;
        let mut rport = rport;
        if method != LvsMethod::Nat
            && let (Some(vport), Some(p)) = (port, rport)
            && vport != p
            && !fwmark
        {
            report.approx(input, s.get("port").map_or(s.span, |p| p.key_span), format!("server {}: direct routing and tunnels cannot forward to port {p}; the server gets the virtual port {vport} and is still checked on {p}", s.name));
            check_port = Some(p);
            rport = Some(vport);
        }
        let mut rs = RealServer::new(ip, rport.filter(|_| !fwmark));
        rs.weight = Some(match s.get("weight") {
            Some(w) => number::<i32>(input, w, report).unwrap_or(1),
            None => 1,
        });
        let mut c = checker(ip);
        if rport.is_none() && !matches!(c.kind, CheckerKind::Misc { .. }) {
            report.error(
                input,
                s.span,
                DiagnosticKind::Missing,
                format!(
                    "server {}: a firewall-mark service needs `port` on each server to check it",
                    s.name
                ),
            );
            continue;
        }
        if matches!(c.kind, CheckerKind::Misc { .. }) {
            c.connect = Default::default();
        }
        if fwmark && !matches!(c.kind, CheckerKind::Misc { .. }) {
            c.connect.connect_port = rport;
        }
        if !matches!(c.kind, CheckerKind::Misc { .. }) && check_port.is_some() {
            c.connect.connect_port = check_port;
        }
        rs.checkers.push(c);
        if vs
            .real_servers
            .iter()
            .any(|o| o.addr == rs.addr && o.port == rs.port)
        {
            report.error(
                input,
                a.value_span,
                DiagnosticKind::Duplicate,
                format!(
                    "server {}: {ip} is listed twice in virtual {}",
                    s.name, v.name
                ),
            );
            continue;
        }
        vs.real_servers.push(rs);
    }
    if report.errors.len() > errors {
        None
    } else {
        Some(vs)
    }
}
