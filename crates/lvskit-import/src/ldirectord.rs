//! `ldirectord.cf` (ldirectord(8)) to `virtual_server` blocks.
//!
//! The file is `key = value` lines: global settings first, then `virtual=` sections whose lines
//! are indented. A section's settings override the global ones of the same name.

use std::net::IpAddr;

use keepalived_conf::DiagnosticKind;
use keepalived_conf::model::{
    Checker, CheckerKind, Config, Granularity, HttpCheck, LvsMethod, LvsSched, Protocol,
    RealServer, Script, SmtpServer, SorryServer, Timer, Url, VirtualServer, VirtualServerAddr,
};

use crate::Input;
use crate::output::Output;
use crate::source::{Report, Span, Word, parse_ip, prefix_len, unquote, words};

/// ldirectord's defaults (ldirectord(8)), written out because keepalived's differ.
const DEFAULT_CHECKINTERVAL: u64 = 10;
const DEFAULT_CHECKTIMEOUT: u64 = 5;
const DEFAULT_NEGOTIATETIMEOUT: u64 = 30;

/// Most real servers one `real=A->B` range may expand to.
const MAX_RANGE: u32 = 256;

/// Where a directive may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Global,
    Virtual,
    Both,
}

/// Every directive of ldirectord(8) and where it may be written.
const DIRECTIVES: &[(&str, Scope)] = &[
    ("autoreload", Scope::Global),
    ("callback", Scope::Global),
    ("execute", Scope::Global),
    ("fork", Scope::Global),
    ("logfile", Scope::Global),
    ("supervised", Scope::Global),
    ("readdquiescent", Scope::Global),
    ("maintenancedir", Scope::Global),
    ("checktimeout", Scope::Both),
    ("connecttimeout", Scope::Both),
    ("negotiatetimeout", Scope::Both),
    ("checkinterval", Scope::Both),
    ("checkcount", Scope::Both),
    ("failurecount", Scope::Both),
    ("fallback", Scope::Both),
    ("fallbackcommand", Scope::Both),
    ("quiescent", Scope::Both),
    ("emailalert", Scope::Both),
    ("emailalertfreq", Scope::Both),
    ("emailalertstatus", Scope::Both),
    ("emailalertfrom", Scope::Both),
    ("smtp", Scope::Both),
    ("cleanstop", Scope::Both),
    ("real", Scope::Virtual),
    ("checktype", Scope::Virtual),
    ("checkcommand", Scope::Virtual),
    ("checkport", Scope::Virtual),
    ("request", Scope::Virtual),
    ("receive", Scope::Virtual),
    ("httpmethod", Scope::Virtual),
    ("virtualhost", Scope::Virtual),
    ("login", Scope::Virtual),
    ("passwd", Scope::Virtual),
    ("database", Scope::Virtual),
    ("secret", Scope::Virtual),
    ("scheduler", Scope::Virtual),
    ("persistent", Scope::Virtual),
    ("netmask", Scope::Virtual),
    ("protocol", Scope::Virtual),
    ("service", Scope::Virtual),
    ("monitorfile", Scope::Virtual),
];

/// The services of `service=` and the ports ldirectord guesses them from.
const SERVICES: &[(&str, Option<u16>)] = &[
    ("http", Some(80)),
    ("https", Some(443)),
    ("http_proxy", Some(3128)),
    ("ftp", Some(21)),
    ("smtp", Some(25)),
    ("submission", Some(587)),
    ("dns", Some(53)),
    ("pop", Some(110)),
    ("pops", Some(995)),
    ("imap", Some(143)),
    ("imaps", Some(993)),
    ("nntp", Some(119)),
    ("ldap", Some(389)),
    ("mysql", Some(3306)),
    ("pgsql", Some(5432)),
    ("oracle", Some(1521)),
    ("radius", Some(1812)),
    ("sip", Some(5060)),
    ("simpletcp", None),
    ("none", None),
];

/// Port names `virtual=` and `real=` may use instead of numbers (/etc/services).
const PORT_NAMES: &[(&str, u16)] = &[
    ("ftp", 21),
    ("ssh", 22),
    ("smtp", 25),
    ("domain", 53),
    ("dns", 53),
    ("http", 80),
    ("www", 80),
    ("pop3", 110),
    ("nntp", 119),
    ("imap", 143),
    ("imap2", 143),
    ("ldap", 389),
    ("https", 443),
    ("submission", 587),
    ("imaps", 993),
    ("pop3s", 995),
    ("radius", 1812),
    ("mysql", 3306),
    ("postgresql", 5432),
    ("sip", 5060),
    ("http-alt", 8080),
];

/// One `key = value` line.
#[derive(Debug, Clone)]
struct Directive {
    key: String,
    value: String,
    key_span: Span,
    value_span: Span,
}

/// A `virtual=` line and its section.
#[derive(Debug)]
struct Section {
    head: Directive,
    settings: Vec<Directive>,
    reals: Vec<Directive>,
}

/// The file, split into global settings and sections.
#[derive(Debug, Default)]
struct File {
    global: Vec<Directive>,
    sections: Vec<Section>,
}

/// Reads an ldirectord.cf and writes its virtual servers (and the `global_defs` its alerts
/// need) to `out`.
pub(crate) fn import(input: &Input, report: &mut Report, out: &mut Output) -> Result<(), ()> {
    // Syntax errors do not stop the translation: it finds the errors of the lines that parsed.
    let file = parse(input, report);
    translate(input, &file, report, out);
    if report.has_errors() { Err(()) } else { Ok(()) }
}

fn scope_of(key: &str) -> Option<Scope> {
    DIRECTIVES.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

fn parse(input: &Input, report: &mut Report) -> File {
    let mut file = File::default();
    for (no, line) in crate::source::lines(input) {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indented = body.len() != line.len();
        let lead = line.len() - body.len();
        let Some(eq) = body.find('=') else {
            report.error(
                input,
                Span::new(no, lead, line.len()),
                DiagnosticKind::Syntax,
                "expected `directive = value`",
            );
            continue;
        };
        let key = body[..eq].trim_end();
        let raw_value = strip_comment(&body[eq + 1..]);
        let value_start = lead + eq + 1 + (raw_value.len() - raw_value.trim_start().len());
        let value_text = raw_value.trim();
        let d = Directive {
            key: key.to_ascii_lowercase(),
            value: value_text.to_string(),
            key_span: Span::new(no, lead, lead + key.len()),
            value_span: Span::new(no, value_start, value_start + value_text.len().max(1)),
        };
        if d.key == "virtual" {
            if indented {
                report.error(
                    input,
                    d.key_span,
                    DiagnosticKind::Syntax,
                    "`virtual=` starts a section and must not be indented",
                );
            }
            file.sections.push(Section {
                head: d,
                settings: Vec::new(),
                reals: Vec::new(),
            });
            continue;
        }
        let Some(scope) = scope_of(&d.key) else {
            report.error(
                input,
                d.key_span,
                DiagnosticKind::UnknownKeyword,
                format!("unknown ldirectord directive `{key}`"),
            );
            continue;
        };
        let in_section = !file.sections.is_empty() && (indented || scope == Scope::Virtual);
        match (scope, in_section) {
            (Scope::Virtual, false) => {
                let message = if d.key == "real" {
                    "`real=` before any `virtual=`: real servers belong to a virtual section".into()
                } else {
                    format!("`{key}` is only valid in a `virtual=` section, and none is open")
                };
                report.error(input, d.key_span, DiagnosticKind::Syntax, message);
            }
            (Scope::Global, true) if indented => report.error(
                input,
                d.key_span,
                DiagnosticKind::Syntax,
                format!("`{key}` is a global directive; it cannot be set in a `virtual=` section"),
            ),
            (_, true) => {
                let section = file.sections.last_mut().expect("in_section");
                if d.key == "real" {
                    section.reals.push(d);
                } else {
                    section.settings.push(d);
                }
            }
            (_, false) => file.global.push(d),
        }
    }
    file
}

/// Cuts a `#` comment that follows whitespace outside double quotes.
fn strip_comment(value: &str) -> &str {
    let mut quoted = false;
    let mut prev_space = true;
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted && prev_space => return &value[..i],
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    value
}

/// The settings that apply to one section: its own, then the global ones.
struct Settings<'a> {
    section: &'a [Directive],
    global: &'a [Directive],
}

impl<'a> Settings<'a> {
    fn get(&self, key: &str) -> Option<&'a Directive> {
        self.section
            .iter()
            .rev()
            .find(|d| d.key == key)
            .or_else(|| self.global.iter().rev().find(|d| d.key == key))
    }

    fn value(&self, key: &str) -> Option<&'a str> {
        self.get(key).map(|d| unquote(&d.value))
    }
}

/// The global part: e-mail alerts to `global_defs`, process settings flagged.
fn translate(input: &Input, file: &File, report: &mut Report, out: &mut Output) {
    let mut config = Config::default();
    let g = &mut config.global_defs;
    let mut emails: Vec<String> = Vec::new();
    for d in &file.global {
        let value = unquote(&d.value);
        match d.key.as_str() {
            "autoreload" | "callback" => report.approx(
                input,
                d.key_span,
                format!(
                    "{}={value}: lvskitd reloads its configuration on SIGHUP (as keepalived does), not when the file changes",
                    d.key
                ),
            ),
            "logfile" => report.approx(
                input,
                d.key_span,
                format!("logfile={value}: lvskitd logs through syslog / its log settings, not to a file of its own"),
            ),
            "execute" => report.approx(
                input,
                d.key_span,
                format!("execute={value}: one lvskitd runs every virtual server; import {value} too and append its virtual servers"),
            ),
            "fork" | "supervised" => report.approx(
                input,
                d.key_span,
                format!("{}={value}: lvskitd's process model has no such setting", d.key),
            ),
            "readdquiescent" => report.approx(
                input,
                d.key_span,
                format!("readdquiescent={value}: lvskitd keeps its IPVS table as configured; a real server removed by hand is put back"),
            ),
            "maintenancedir" => report.approx(
                input,
                d.key_span,
                format!("maintenancedir={value}: no keepalived equivalent; take a real server out by setting its weight to 0 and reloading"),
            ),
            "smtp" => {
                let (host, port) = split_host_port(value);
                g.smtp_server = Some(SmtpServer {
                    host: host.to_string(),
                    port: port.and_then(|p| p.parse().ok()),
                });
            }
            "emailalertfrom" => g.notification_email_from = Some(value.to_string()),
            _ => {}
        }
    }
    // Alerts: keepalived has one address list for the whole configuration.
    let mut alert_sections = Vec::new();
    let global_settings = Settings {
        section: &[],
        global: &file.global,
    };
    for (i, s) in file.sections.iter().enumerate() {
        let settings = Settings {
            section: &s.settings,
            global: &file.global,
        };
        let status = settings.value("emailalertstatus").unwrap_or("all");
        if let Some(d) = settings.get("emailalert")
            && !status.split(',').any(|w| w.trim() == "none")
        {
            for addr in unquote(&d.value)
                .split([',', ' '])
                .filter(|a| !a.is_empty())
            {
                if !emails.iter().any(|e| e == addr) {
                    emails.push(addr.to_string());
                }
            }
            alert_sections.push(i);
        }
    }
    for d in file
        .global
        .iter()
        .chain(file.sections.iter().flat_map(|s| s.settings.iter()))
    {
        let value = unquote(&d.value);
        match d.key.as_str() {
            "emailalertfreq" if value != "0" => report.approx(
                input,
                d.key_span,
                format!("emailalertfreq={value}: keepalived sends one alert per state change and does not repeat it"),
            ),
            "emailalertstatus" if value != "all" => report.approx(
                input,
                d.key_span,
                format!("emailalertstatus={value}: keepalived alerts on every real server state change (smtp_alert)"),
            ),
            "emailalert" if file.global.iter().all(|g| !std::ptr::eq(g, d)) => report.approx(
                input,
                d.key_span,
                "emailalert in a virtual section: keepalived sends every alert to all notification_email addresses",
            ),
            _ => {}
        }
    }
    if !emails.is_empty() {
        g.notification_email = emails;
        if g.smtp_server.is_none() {
            let span = global_settings
                .get("emailalert")
                .or_else(|| {
                    alert_sections.first().and_then(|&i| {
                        file.sections[i]
                            .settings
                            .iter()
                            .find(|d| d.key == "emailalert")
                    })
                })
                .map(|d| d.key_span)
                .unwrap_or_default();
            report.approx(
                input,
                span,
                "emailalert without smtp=: ldirectord used the local mailer; keepalived needs an SMTP server, 127.0.0.1 is written",
            );
            g.smtp_server = Some(SmtpServer {
                host: "127.0.0.1".into(),
                port: None,
            });
        }
    }
    out.config(report.take_notes(), &config);

    let mut seen: Vec<(&str, usize)> = Vec::new();
    for section in &file.sections {
        let key = unquote(&section.head.value);
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, line)) => report.error(
                input,
                section.head.value_span,
                DiagnosticKind::Duplicate,
                format!("virtual={key} is defined twice (first at line {line})"),
            ),
            None => seen.push((key, section.head.key_span.line)),
        }
    }
    for (i, section) in file.sections.iter().enumerate() {
        let alerts = alert_sections.contains(&i);
        let vs = virtual_server(input, file, section, alerts, report);
        let mut config = Config::default();
        config.virtual_servers.extend(vs);
        let mut notes = vec![format!(
            "{}:{}: virtual={}",
            input.path.display(),
            section.head.key_span.line,
            section.head.value
        )];
        notes.extend(report.take_notes());
        // A section that is not imported still leaves its comments.
        out.config(notes, &config);
    }
}

fn split_host_port(value: &str) -> (&str, Option<&str>) {
    if let Some(rest) = value.strip_prefix('[')
        && let Some(close) = rest.find(']')
    {
        let port = rest[close + 1..].strip_prefix(':');
        return (&rest[..close], port);
    }
    match value.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (value, None),
    }
}

fn port_number(text: &str) -> Option<u16> {
    text.parse()
        .ok()
        .or_else(|| PORT_NAMES.iter().find(|(n, _)| *n == text).map(|(_, p)| *p))
}

/// A `<TIMER>` from whole seconds written in the file (ldirectord's are integers).
fn seconds(
    input: &Input,
    report: &mut Report,
    d: Option<&Directive>,
    default: u64,
) -> Option<Timer> {
    let Some(d) = d else {
        return Some(Timer::from_secs(default));
    };
    match unquote(&d.value).parse::<u64>() {
        Ok(n) if n <= 86_400 * 365 => Some(Timer::from_secs(n)),
        _ => {
            report.error(
                input,
                d.value_span,
                DiagnosticKind::InvalidValue,
                format!(
                    "`{}` expects a number of seconds, found `{}`",
                    d.key, d.value
                ),
            );
            None
        }
    }
}

/// What `checktype` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CheckType {
    Connect,
    Negotiate,
    Combined(u32),
    External,
    ExternalPerl,
    Ping,
    On,
    Off,
}

fn virtual_server(
    input: &Input,
    file: &File,
    section: &Section,
    alerts: bool,
    report: &mut Report,
) -> Option<VirtualServer> {
    let s = Settings {
        section: &section.settings,
        global: &file.global,
    };
    let errors_before = report.errors.len();
    let head = &section.head;
    let head_value = unquote(&head.value);

    // protocol
    let protocol_word = s.value("protocol").unwrap_or("");
    let is_fwmark = head_value.parse::<u32>().is_ok();
    let protocol = match protocol_word {
        "" | "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        "fwm" => Protocol::Tcp,
        other => {
            report.error(
                input,
                s.get("protocol").map_or(head.value_span, |d| d.value_span),
                DiagnosticKind::InvalidValue,
                format!("protocol must be tcp, udp, sctp or fwm, found `{other}`"),
            );
            Protocol::Tcp
        }
    };
    if protocol_word == "fwm" && !is_fwmark {
        report.error(
            input,
            s.get("protocol").map_or(head.value_span, |d| d.value_span),
            DiagnosticKind::Conflict,
            format!("protocol=fwm needs a firewall mark in `virtual=`, found `{head_value}`"),
        );
    }

    // virtual=
    let (addr, vport) = if is_fwmark {
        (
            VirtualServerAddr::Fwmark(head_value.parse().unwrap_or(0)),
            None,
        )
    } else {
        let (host, port) = split_host_port(head_value);
        let Some(ip) = parse_ip(host) else {
            report.error(
                input,
                head.value_span,
                DiagnosticKind::InvalidValue,
                format!("virtual= expects ADDRESS:PORT or a firewall mark, found `{head_value}` (host names are not resolved)"),
            );
            return None;
        };
        let Some(port) = port.and_then(port_number) else {
            report.error(
                input,
                head.value_span,
                DiagnosticKind::InvalidValue,
                format!("virtual= expects ADDRESS:PORT, found `{head_value}` (no port, or an unknown port name)"),
            );
            return None;
        };
        (
            VirtualServerAddr::Ip {
                addr: ip,
                port: Some(port),
            },
            Some(port),
        )
    };
    let mut vs = VirtualServer::new(addr);
    // keepalived ignores (and warns about) the protocol of a firewall-mark service.
    vs.protocol = (!is_fwmark).then_some(protocol);

    if let Some(d) = s.get("scheduler") {
        let v = unquote(&d.value);
        match LvsSched::ALL.iter().find(|(_, n)| *n == v) {
            Some((sched, _)) => vs.lvs_sched = Some(*sched),
            None => report.error(
                input,
                d.value_span,
                DiagnosticKind::InvalidValue,
                format!("unknown scheduler `{v}` (expected one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, mh, sed, nq, fo, ovf, twos)"),
            ),
        }
    } else {
        vs.lvs_sched = Some(LvsSched::Wrr);
    }
    if let Some(d) = s.get("persistent") {
        match unquote(&d.value).parse::<u32>() {
            Ok(t) => vs.persistence_timeout = Some(Some(t)),
            Err(_) => report.error(
                input,
                d.value_span,
                DiagnosticKind::InvalidValue,
                format!("persistent expects seconds, found `{}`", d.value),
            ),
        }
    }
    if let Some(d) = s.get("netmask") {
        let v = unquote(&d.value);
        match (v.parse::<std::net::Ipv4Addr>(), v.parse::<u8>()) {
            (Ok(mask), _) if prefix_len(v).is_some() => {
                vs.persistence_granularity = Some(Granularity::Mask(mask))
            }
            (_, Ok(len)) if len <= 128 => {
                vs.persistence_granularity = Some(Granularity::PrefixLen(len))
            }
            _ => report.error(
                input,
                d.value_span,
                DiagnosticKind::InvalidValue,
                format!("netmask expects a netmask such as 255.255.255.0, found `{v}`"),
            ),
        }
    }

    // Timing and failure handling, shared by the checkers.
    let interval = seconds(input, report, s.get("checkinterval"), DEFAULT_CHECKINTERVAL);
    let checktimeout = s.get("checktimeout");
    let connect_timeout = seconds(
        input,
        report,
        s.get("connecttimeout").or(checktimeout),
        DEFAULT_CHECKTIMEOUT,
    );
    let negotiate_timeout = seconds(
        input,
        report,
        s.get("negotiatetimeout").or(checktimeout),
        DEFAULT_NEGOTIATETIMEOUT,
    );
    let failurecount = match s.get("failurecount") {
        None => 1,
        Some(d) => match unquote(&d.value).parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                report.error(
                    input,
                    d.value_span,
                    DiagnosticKind::InvalidValue,
                    format!(
                        "failurecount expects a number of at least 1, found `{}`",
                        d.value
                    ),
                );
                1
            }
        },
    };
    vs.defaults.delay_loop = interval;
    vs.defaults.retry = Some(failurecount - 1);
    if failurecount > 1 {
        vs.defaults.delay_before_retry = interval;
    }
    let quiescent = s.value("quiescent").unwrap_or("yes");
    match quiescent {
        "yes" => vs.defaults.inhibit_on_failure = Some(true),
        "no" => vs.defaults.inhibit_on_failure = Some(false),
        other => report.error(
            input,
            s.get("quiescent").map_or(head.value_span, |d| d.value_span),
            DiagnosticKind::InvalidValue,
            format!("quiescent expects yes or no, found `{other}`"),
        ),
    }
    if alerts {
        vs.defaults.smtp_alert = Some(true);
    }

    // fallback= and fallbackcommand=
    if let Some(d) = s.get("fallback") {
        let ws = words(d.value_span.line, unquote(&d.value), &[]);
        let target = ws.first().map_or("", |w| w.text.as_str());
        let (host, port) = split_host_port(target);
        let family_differs = |ip: &IpAddr| match &vs.addr {
            VirtualServerAddr::Ip { addr, .. } => addr.is_ipv4() != ip.is_ipv4(),
            _ => false,
        };
        match parse_ip(host) {
            Some(ip) if family_differs(&ip) => report.approx(
                input,
                d.key_span,
                format!("fallback={}: not the family of virtual={head_value}; this virtual server has no sorry_server", d.value),
            ),
            Some(ip) => {
                // A firewall-mark service ignores (and warns about) a sorry server's port.
                let port = port.and_then(port_number).or(vport).filter(|_| !is_fwmark);
                vs.sorry_server = Some(SorryServer { addr: ip, port });
                if let Some(w) = ws.get(1) {
                    match forwarding(&w.text) {
                        Some(m) => vs.sorry_server_lvs_method = Some(m),
                        None => report.error(
                            input,
                            d.value_span,
                            DiagnosticKind::InvalidValue,
                            format!(
                                "fallback forwarding method must be gate, masq or ipip, found `{}`",
                                w.text
                            ),
                        ),
                    }
                }
            }
            None => report.error(
                input,
                d.value_span,
                DiagnosticKind::InvalidValue,
                format!(
                    "fallback expects ADDRESS[:PORT] [gate|masq|ipip], found `{}`",
                    d.value
                ),
            ),
        }
    }
    if let Some(d) = s.get("fallbackcommand") {
        let cmd = unquote(&d.value);
        vs.quorum_down = Some(Script {
            command: format!("{cmd} start"),
            user: None,
            group: None,
        });
        vs.quorum_up = Some(Script {
            command: format!("{cmd} stop"),
            user: None,
            group: None,
        });
        report.approx(
            input,
            d.key_span,
            format!("fallbackcommand: quorum_down runs `{cmd} start` when every real server is down, quorum_up `{cmd} stop` when one is back; ldirectord's extra arguments (VIP:port, protocol) are not passed"),
        );
    }
    for key in ["monitorfile", "cleanstop"] {
        if let Some(d) = s.get(key) {
            let v = unquote(&d.value);
            if key == "cleanstop" && v == "yes" {
                continue;
            }
            report.approx(
                input,
                d.key_span,
                match key {
                    "monitorfile" => {
                        format!("monitorfile={v}: lvskitd logs check results with its other logs")
                    }
                    _ => {
                        format!("cleanstop={v}: lvskitd removes its virtual servers when it stops")
                    }
                },
            );
        }
    }

    // checktype and service
    let service = match s.get("service") {
        Some(d) => {
            let v = unquote(&d.value);
            if SERVICES.iter().any(|(n, _)| *n == v) {
                v.to_string()
            } else {
                report.error(
                    input,
                    d.value_span,
                    DiagnosticKind::InvalidValue,
                    format!("unknown service `{v}`"),
                );
                "none".into()
            }
        }
        None => {
            let port = s
                .value("checkport")
                .and_then(|p| p.parse::<u16>().ok())
                .or(vport);
            SERVICES
                .iter()
                .find(|(_, p)| p.is_some() && *p == port)
                .map_or("none", |(n, _)| n)
                .to_string()
        }
    };
    let checktype = match s.get("checktype") {
        None => CheckType::Negotiate,
        Some(d) => match unquote(&d.value) {
            "connect" => CheckType::Connect,
            "negotiate" => CheckType::Negotiate,
            "external" => CheckType::External,
            "external-perl" => CheckType::ExternalPerl,
            "ping" => CheckType::Ping,
            "on" => CheckType::On,
            "off" => CheckType::Off,
            v => match v.parse::<u32>() {
                Ok(n) if n >= 1 => CheckType::Combined(n),
                _ => {
                    report.error(
                        input,
                        d.value_span,
                        DiagnosticKind::InvalidValue,
                        format!("unknown checktype `{v}` (expected connect, negotiate, external, external-perl, ping, on, off or a number)"),
                    );
                    CheckType::Connect
                }
            },
        },
    };
    let checkport = match s.get("checkport") {
        None => None,
        Some(d) => match unquote(&d.value).parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                report.error(
                    input,
                    d.value_span,
                    DiagnosticKind::InvalidValue,
                    format!("checkport expects a port number, found `{}`", d.value),
                );
                None
            }
        },
    };
    let plan = Plan {
        checktype,
        service,
        protocol,
        interval,
        connect_timeout,
        negotiate_timeout,
        checkport,
        failurecount,
        vip: match &vs.addr {
            VirtualServerAddr::Ip { addr, .. } => Some(*addr),
            _ => None,
        },
        vaddr: match &vs.addr {
            VirtualServerAddr::Ip { addr, .. } => addr.to_string(),
            VirtualServerAddr::Fwmark(m) => m.to_string(),
            VirtualServerAddr::Group(g) => g.clone(),
        },
        vport,
    };
    plan.flag_unused(input, &s, report);

    // real=
    for d in &section.reals {
        for rs in real_servers(input, &plan, &s, d, report) {
            if vs
                .real_servers
                .iter()
                .any(|o| o.addr == rs.addr && o.port == rs.port)
            {
                report.error(
                    input,
                    d.value_span,
                    DiagnosticKind::Duplicate,
                    format!(
                        "real server {} is listed twice in virtual={head_value}",
                        rs.addr
                    ),
                );
                continue;
            }
            vs.real_servers.push(rs);
        }
    }
    if vs.real_servers.is_empty() {
        report.approx(
            input,
            head.key_span,
            "virtual section without real servers: keepalived has no virtual server without real_server; not imported",
        );
        return None;
    }
    // The first real server's forwarding method is the service's; the others say theirs only
    // where it differs.
    if let Some(first) = vs.real_servers.first().and_then(|r| r.lvs_method) {
        vs.lvs_method = Some(first);
        for r in &mut vs.real_servers {
            if r.lvs_method == Some(first) {
                r.lvs_method = None;
            }
        }
    }
    // DR and TUN cannot change the port of the sorry server either.
    if let Some(sorry) = &mut vs.sorry_server
        && matches!(
            vs.sorry_server_lvs_method.or(vs.lvs_method),
            Some(LvsMethod::Dr | LvsMethod::Tun { .. })
        )
        && let (Some(p), Some(vport)) = (sorry.port, vport)
        && p != vport
    {
        sorry.port = Some(vport);
        report.approx(
            input,
            s.get("fallback").map_or(head.key_span, |d| d.key_span),
            format!("fallback port {p}: direct routing and tunnels cannot forward to another port; the sorry server of virtual={head_value} gets port {vport}"),
        );
    }
    // keepalived-conf refuses a service whose real servers weigh nothing in all.
    let total: i64 = vs
        .real_servers
        .iter()
        .map(|r| i64::from(r.weight.unwrap_or(1)))
        .sum();
    if total == 0 && !vs.real_servers.is_empty() {
        report.error(
            input,
            head.value_span,
            DiagnosticKind::Conflict,
            format!("every real server of virtual={head_value} has weight 0; keepalived needs a total weight of at least its quorum, 1"),
        );
    }
    // keepalived sends a sorry server without a method of its own by the virtual server's,
    // and says so (then uses NAT) when that has none either: write NAT, as it would use.
    if vs.sorry_server.is_some() && vs.lvs_method.is_none() && vs.sorry_server_lvs_method.is_none()
    {
        vs.sorry_server_lvs_method = Some(LvsMethod::Nat);
    }
    if report.errors.len() > errors_before {
        return None;
    }
    Some(vs)
}

fn forwarding(word: &str) -> Option<LvsMethod> {
    match word {
        "gate" => Some(LvsMethod::Dr),
        "masq" => Some(LvsMethod::Nat),
        "ipip" => Some(LvsMethod::Tun {
            tunnel_type: None,
            checksum: None,
        }),
        _ => None,
    }
}

/// How one section's real servers are checked.
struct Plan {
    checktype: CheckType,
    service: String,
    protocol: Protocol,
    interval: Option<Timer>,
    connect_timeout: Option<Timer>,
    negotiate_timeout: Option<Timer>,
    checkport: Option<u16>,
    failurecount: u32,
    /// The virtual address (`None` for a firewall mark).
    vip: Option<IpAddr>,
    vaddr: String,
    vport: Option<u16>,
}

impl Plan {
    fn negotiates(&self) -> bool {
        matches!(
            self.checktype,
            CheckType::Negotiate | CheckType::Combined(_)
        )
    }

    /// The service's negotiate check maps to a keepalived checker of its own.
    fn has_checker(&self) -> bool {
        matches!(
            self.service.as_str(),
            "http" | "https" | "smtp" | "submission" | "dns" | "none"
        )
    }

    /// The check sends a request (request/receive strings mean something).
    fn uses_strings(&self) -> bool {
        self.negotiates() && self.has_checker() && self.service != "none"
    }

    /// Flags the settings this section sets that its check does not use.
    fn flag_unused(&self, input: &Input, s: &Settings<'_>, report: &mut Report) {
        if let CheckType::Combined(n) = self.checktype {
            report.approx(
                input,
                s.get("checktype").map_or_else(Span::default, |d| d.key_span),
                format!("checktype={n}: two checkers, a connect check every checkinterval and the {} negotiate check every {n} x checkinterval; either failing takes the real server out", self.service),
            );
        }
        if self.negotiates() && !self.has_checker() {
            let span = s
                .get("service")
                .or(s.get("checktype"))
                .map_or_else(Span::default, |d| d.key_span);
            report.approx(
                input,
                span,
                format!("negotiate check of service {}: keepalived has no such checker; the real servers are checked with a {} connect", self.service, if self.protocol == Protocol::Udp { "UDP" } else { "TCP" }),
            );
        }
        let uses_request = self.uses_strings();
        for key in ["request", "receive", "virtualhost", "httpmethod"] {
            let Some(d) = s.get(key) else { continue };
            let used = match key {
                "request" => uses_request && self.service != "smtp" && self.service != "submission",
                // lvskitd's HTTP_GET does not match bodies yet: flagged below.
                "receive" => false,
                "virtualhost" => uses_request && matches!(self.service.as_str(), "http" | "https"),
                _ => false,
            };
            if key == "receive" && uses_request && self.service == "dns" {
                report.approx(
                    input,
                    d.key_span,
                    format!("receive={}: DNS_CHECK checks that the name resolves, not what it resolves to", d.value),
                );
            } else if key == "httpmethod" {
                if unquote(&d.value) != "GET" {
                    report.approx(
                        input,
                        d.key_span,
                        format!(
                            "httpmethod={}: keepalived's HTTP_GET always sends GET",
                            d.value
                        ),
                    );
                }
            } else if key == "receive"
                && uses_request
                && matches!(self.service.as_str(), "http" | "https")
            {
                report.approx(
                    input,
                    d.key_span,
                    format!("receive={}: lvskitd's HTTP_GET cannot match the body yet (keepalived's url regex); the check accepts any 2xx answer", d.value),
                );
            } else if !used {
                report.approx(
                    input,
                    d.key_span,
                    format!(
                        "{key}={}: not used by this section's check ({})",
                        d.value,
                        self.describe()
                    ),
                );
            }
        }
        for key in ["login", "passwd", "database", "secret"] {
            if let Some(d) = s.get(key) {
                report.approx(
                    input,
                    d.key_span,
                    format!(
                        "{key}: keepalived has no {} checker that logs in; not used",
                        self.service
                    ),
                );
            }
        }
        if let Some(d) = s.get("checkcount") {
            report.approx(
                input,
                d.key_span,
                format!("checkcount={}: ldirectord uses it for ping checks only (deprecated for failurecount); a PING_CHECK's retry is failurecount x checkcount - 1", d.value),
            );
        }
        if let Some(d) = s.get("checkcommand")
            && !matches!(
                self.checktype,
                CheckType::External | CheckType::ExternalPerl
            )
        {
            report.approx(
                input,
                d.key_span,
                format!(
                    "checkcommand={}: not used by this section's check ({})",
                    d.value,
                    self.describe()
                ),
            );
        }
    }

    fn describe(&self) -> String {
        match &self.checktype {
            CheckType::Connect => "connect".into(),
            CheckType::Negotiate => format!("negotiate, service {}", self.service),
            CheckType::Combined(n) => format!("{n}, service {}", self.service),
            CheckType::External => "external".into(),
            CheckType::ExternalPerl => "external-perl".into(),
            CheckType::Ping => "ping".into(),
            CheckType::On => "on".into(),
            CheckType::Off => "off".into(),
        }
    }

    fn connect_checker(&self, port: Option<u16>) -> Checker {
        let kind = if self.protocol == Protocol::Udp {
            CheckerKind::Udp {
                payload: None,
                require_reply: None,
                min_reply_length: None,
                max_reply_length: None,
            }
        } else {
            CheckerKind::Tcp
        };
        let mut c = Checker::new(kind);
        c.connect.connect_port = port;
        c.defaults.connect_timeout = self.connect_timeout;
        c
    }

    /// The negotiate checker of the service, with a real server's request/receive.
    fn negotiate_checker(
        &self,
        port: Option<u16>,
        request: Option<&str>,
        virtualhost: Option<&str>,
    ) -> Checker {
        let http = |request: Option<&str>| {
            let path = match request {
                None | Some("") => "/".to_string(),
                Some(r) => {
                    let r = r
                        .strip_prefix("http://")
                        .or_else(|| r.strip_prefix("https://"))
                        .map_or(r, |rest| rest.find('/').map_or("/", |i| &rest[i..]));
                    if r.starts_with('/') {
                        r.to_string()
                    } else {
                        format!("/{r}")
                    }
                }
            };
            HttpCheck {
                urls: vec![Url {
                    path: Some(path),
                    virtualhost: virtualhost.map(str::to_string),
                    ..Url::default()
                }],
                ..HttpCheck::default()
            }
        };
        let kind = match self.service.as_str() {
            "http" => CheckerKind::Http(http(request)),
            "https" => CheckerKind::Ssl(http(request)),
            "smtp" | "submission" => CheckerKind::Smtp {
                helo_name: None,
                hosts: Vec::new(),
            },
            "dns" => CheckerKind::Dns {
                query_type: Some("A".into()),
                name: request.map(str::to_string),
            },
            _ => return self.connect_checker(port),
        };
        let mut c = Checker::new(kind);
        c.connect.connect_port = port;
        c.defaults.connect_timeout = self.negotiate_timeout;
        c
    }
}

/// The real servers of one `real=` line (several for an address range).
fn real_servers(
    input: &Input,
    plan: &Plan,
    s: &Settings<'_>,
    d: &Directive,
    report: &mut Report,
) -> Vec<RealServer> {
    let line = d.value_span.line;
    let offset = d.value_span.start;
    let mut ws: Vec<Word> = words(line, &d.value, &[',']);
    for w in &mut ws {
        w.span.start += offset;
        w.span.end += offset;
    }
    let Some(target) = ws.first() else {
        report.error(
            input,
            d.key_span,
            DiagnosticKind::Missing,
            "real= expects ADDRESS[:PORT] gate|masq|ipip [WEIGHT] [\"REQUEST\", \"RECEIVE\"]",
        );
        return Vec::new();
    };
    let (hosts, port) = split_host_port(&target.text);
    let (first, last) = match hosts.split_once("->") {
        Some((a, b)) => (a, Some(b)),
        None => (hosts, None),
    };
    // `A->B:port`: split_host_port saw "A->B" as the host.
    let Some(first_ip) = parse_ip(first) else {
        report.error(
            input,
            target.span,
            DiagnosticKind::InvalidValue,
            format!("real= expects an IP address, found `{first}` (host names are not resolved)"),
        );
        return Vec::new();
    };
    if let Some(vip) = plan.vip
        && vip.is_ipv4() != first_ip.is_ipv4()
    {
        report.error(
            input,
            target.span,
            DiagnosticKind::AddressFamily,
            format!(
                "real server {first_ip} and virtual server {vip} are of different address families"
            ),
        );
        return Vec::new();
    }
    let mut addrs = vec![first_ip];
    if let Some(last) = last {
        match (first_ip, parse_ip(last)) {
            (IpAddr::V4(a), Some(IpAddr::V4(b))) if u32::from(b) >= u32::from(a) => {
                let (a, b) = (u32::from(a), u32::from(b));
                if b - a >= MAX_RANGE {
                    report.error(
                        input,
                        target.span,
                        DiagnosticKind::OutOfRange,
                        format!(
                            "real= range of {} addresses; at most {MAX_RANGE}",
                            b - a + 1
                        ),
                    );
                    return Vec::new();
                }
                addrs = (a..=b).map(|n| IpAddr::V4(n.into())).collect();
            }
            _ => {
                report.error(
                    input,
                    target.span,
                    DiagnosticKind::InvalidValue,
                    format!(
                        "real= range expects FIRST->LAST IPv4 addresses in order, found `{hosts}`"
                    ),
                );
                return Vec::new();
            }
        }
    }
    let port = match port {
        None => plan.vport,
        Some(p) => match port_number(p) {
            Some(p) => Some(p),
            None => {
                report.error(
                    input,
                    target.span,
                    DiagnosticKind::InvalidValue,
                    format!("real= port `{p}` is not a number or a known service name"),
                );
                return Vec::new();
            }
        },
    };
    let mut rest = ws[1..].iter();
    let mut method = LvsMethod::Dr;
    let mut weight = None;
    let mut strings = Vec::new();
    let mut next = rest.next();
    if let Some(w) = next
        && !d.value[w.span.start - offset..].starts_with('"')
        && w.text.parse::<i32>().is_err()
    {
        match forwarding(&w.text) {
            Some(m) => method = m,
            None => {
                report.error(
                    input,
                    w.span,
                    DiagnosticKind::InvalidValue,
                    format!(
                        "real= forwarding method must be gate, masq or ipip, found `{}`",
                        w.text
                    ),
                );
                return Vec::new();
            }
        }
        next = rest.next();
    }
    if let Some(w) = next
        && !d.value[w.span.start - offset..].starts_with('"')
    {
        match w.text.parse::<i32>() {
            Ok(n) if (0..=65_535).contains(&n) => weight = Some(n),
            _ => {
                report.error(
                    input,
                    w.span,
                    DiagnosticKind::InvalidValue,
                    format!(
                        "real= weight must be a number from 0 to 65535, found `{}`",
                        w.text
                    ),
                );
                return Vec::new();
            }
        }
        next = rest.next();
    }
    while let Some(w) = next {
        strings.push(w.text.clone());
        next = rest.next();
    }
    if strings.len() > 2 {
        report.error(
            input,
            ws[ws.len() - 1].span,
            DiagnosticKind::InvalidValue,
            "real= takes at most two strings: \"request\", \"receive\"",
        );
        return Vec::new();
    }
    // DR and TUN cannot change the port: the real server gets the virtual port, checked where it
    // said.
    let mut moved_port = None;
    let mut port = port;
    if method != LvsMethod::Nat
        && let (Some(vport), Some(p)) = (plan.vport, port)
        && vport != p
    {
        report.approx(
            input,
            target.span,
            format!("real={}: direct routing and tunnels cannot forward to another port; the real server gets the virtual port {vport} and is still checked on {p}", target.text),
        );
        moved_port = Some(p);
        port = Some(vport);
    }
    let request = strings.first().map(String::as_str).or(s.value("request"));
    if !strings.is_empty() && !plan.uses_strings() {
        report.approx(
            input,
            d.key_span,
            format!(
                "real= request/receive strings: not used by this section's check ({})",
                plan.describe()
            ),
        );
    }
    if let Some(r) = strings.get(1)
        && plan.uses_strings()
        && matches!(plan.service.as_str(), "http" | "https")
    {
        report.approx(
            input,
            d.key_span,
            format!("real= receive {r:?}: lvskitd's HTTP_GET cannot match the body yet (keepalived's url regex); the check accepts any 2xx answer"),
        );
    }
    let virtualhost = s.value("virtualhost");
    // A firewall-mark service has no port of its own: the real server's port is where it is
    // checked, and keepalived ignores (and warns about) a port on the real server.
    let check_port = if plan.vport.is_none() {
        plan.checkport.or(port)
    } else {
        plan.checkport.or(moved_port).filter(|p| Some(*p) != port)
    };
    if port.is_none()
        && check_port.is_none()
        && !matches!(
            plan.checktype,
            CheckType::Ping | CheckType::On | CheckType::Off
        )
    {
        report.error(
            input,
            target.span,
            DiagnosticKind::Missing,
            "a firewall-mark service checks its real servers on a port: give real=ADDRESS:PORT or checkport=",
        );
        return Vec::new();
    }
    let failures = s
        .value("checkcount")
        .and_then(|c| c.parse::<u32>().ok())
        .filter(|c| *c > 1);
    let mut out = Vec::new();
    for addr in addrs {
        let mut rs = RealServer::new(addr, port.filter(|_| plan.vport.is_some()));
        rs.lvs_method = Some(method);
        rs.weight = weight.or(Some(1));
        let checkers = match &plan.checktype {
            CheckType::Connect => vec![plan.connect_checker(check_port)],
            CheckType::Negotiate => {
                vec![plan.negotiate_checker(check_port, request, virtualhost)]
            }
            CheckType::Combined(n) => {
                let mut negotiate = plan.negotiate_checker(check_port, request, virtualhost);
                negotiate.defaults.delay_loop = plan
                    .interval
                    .map(|t| Timer(t.as_micros().saturating_mul(u64::from(*n))));
                vec![plan.connect_checker(check_port), negotiate]
            }
            CheckType::External | CheckType::ExternalPerl => {
                let Some(cmd) = s.value("checkcommand") else {
                    report.error(
                        input,
                        s.get("checktype").map_or(d.key_span, |c| c.value_span),
                        DiagnosticKind::Missing,
                        "checktype=external needs checkcommand=PROGRAM",
                    );
                    return Vec::new();
                };
                let perl = if plan.checktype == CheckType::ExternalPerl {
                    report.approx(
                        input,
                        s.get("checktype").map_or(d.key_span, |c| c.key_span),
                        "checktype=external-perl: run by /usr/bin/perl as a MISC_CHECK program rather than inside the daemon",
                    );
                    "/usr/bin/perl "
                } else {
                    ""
                };
                let rport = check_port
                    .or(port)
                    .map_or_else(|| "0".to_string(), |p| p.to_string());
                let vport = plan
                    .vport
                    .map_or_else(|| "0".to_string(), |p| p.to_string());
                let mut c = Checker::new(CheckerKind::Misc {
                    path: Some(Script {
                        command: format!("{perl}{cmd} {} {vport} {addr} {rport}", plan.vaddr),
                        user: None,
                        group: None,
                    }),
                    timeout: plan.connect_timeout,
                    dynamic: false,
                });
                c.connect = Default::default();
                vec![c]
            }
            CheckType::Ping => {
                let mut c = Checker::new(CheckerKind::Ping);
                c.defaults.connect_timeout = plan.connect_timeout;
                if let Some(n) = failures {
                    c.defaults.retry = Some((n * plan.failurecount).saturating_sub(1));
                }
                vec![c]
            }
            CheckType::On => Vec::new(),
            CheckType::Off => {
                let mut c = Checker::new(CheckerKind::Misc {
                    path: Some(Script {
                        command: "/bin/false".into(),
                        user: None,
                        group: None,
                    }),
                    timeout: None,
                    dynamic: false,
                });
                c.connect = Default::default();
                vec![c]
            }
        };
        rs.checkers = checkers;
        out.push(rs);
    }
    match plan.checktype {
        CheckType::On => report.note(format!(
            "{}:{}: checktype=on: no checker, the real server is always up",
            input.path.display(),
            line
        )),
        CheckType::Off => report.approx(
            input,
            d.key_span,
            "checktype=off: keepalived has no switch to leave real servers out; a MISC_CHECK running /bin/false keeps them down",
        ),
        _ => {}
    }
    out
}
