//! heartbeat's `ha.cf` (ha.cf(5)), `haresources` and `authkeys` to a `vrrp_instance` per
//! resource group, and the `ldirectord.cf` that `haresources` starts to virtual servers.

use std::net::IpAddr;
use std::path::Path;

use keepalived_conf::DiagnosticKind;
use keepalived_conf::model::{AuthType, Authentication, IpAddress, Timer};

use crate::output::Output;
use crate::source::{Report, Span, Word, lines, parse_ip, prefix_len, words};
use crate::vrrp::{Cluster, Node, advert_int, ping_script, vrid_for};
use crate::{Input, Options};

/// The files of a heartbeat cluster.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    /// `/etc/ha.d/ha.cf`.
    pub ha_cf: Input,
    /// `/etc/ha.d/haresources`.
    pub haresources: Input,
    /// `/etc/ha.d/authkeys`, if it is to be imported.
    pub authkeys: Option<Input>,
    /// The ldirectord configurations `haresources` starts, matched by file name against
    /// [`ldirectord_resources`].
    pub ldirectord: Vec<Input>,
}

/// The ldirectord configuration files `haresources` starts (`ldirectord` alone means
/// `ldirectord.cf`; `ldirectord::NAME` names one), as written, in order, without repeats.
pub fn ldirectord_resources(haresources: &Input) -> Vec<String> {
    let mut names = Vec::new();
    for (_, ws) in resource_lines(haresources) {
        for w in ws.iter().skip(1) {
            if let Some(name) = ldirectord_name(&w.text)
                && !names.contains(&name)
            {
                names.push(name);
            }
        }
    }
    names
}

fn ldirectord_name(resource: &str) -> Option<String> {
    let mut parts = resource.split("::");
    if parts.next() != Some("ldirectord") {
        return None;
    }
    Some(parts.next().unwrap_or("ldirectord.cf").to_string())
}

/// The logical lines of haresources (a trailing `\` continues a line), as words.
fn resource_lines(input: &Input) -> Vec<(usize, Vec<Word>)> {
    let mut out: Vec<(usize, Vec<Word>)> = Vec::new();
    let mut continued = false;
    for (no, line) in lines(input) {
        let (body, continues) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let ws = words(no, body, &[]);
        if continued {
            if let Some(last) = out.last_mut() {
                last.1.extend(ws);
            }
        } else if !ws.is_empty() {
            out.push((no, ws));
        }
        continued = continues;
    }
    out
}

/// Heartbeat's defaults (ha.cf(5)).
const DEFAULT_KEEPALIVE: u64 = 2;
const DEFAULT_DEADTIME: u64 = 30;

/// Settings of ha.cf that only concern heartbeat's own process, logging or media.
const NO_EFFECT: &[(&str, &str)] = &[
    ("logfile", "lvskitd logs through syslog / its log settings"),
    (
        "debugfile",
        "lvskitd logs through syslog / its log settings",
    ),
    (
        "logfacility",
        "lvskitd logs through syslog / its log settings",
    ),
    ("use_logd", "lvskitd logs through syslog / its log settings"),
    (
        "conn_logd_time",
        "lvskitd logs through syslog / its log settings",
    ),
    ("debug", "lvskitd's log level is set on its command line"),
    ("warntime", "VRRP has no late-heartbeat warning"),
    (
        "initdead",
        "a starting backup waits 3 adverts and the skew before it takes over",
    ),
    ("udpport", "VRRP adverts are IP protocol 112, not UDP"),
    ("baud", "VRRP runs over IP only, not serial lines"),
    ("serial", "VRRP runs over IP only, not serial lines"),
    ("watchdog", "lvskitd does not drive a watchdog device"),
    ("apiauth", "lvskitd has no heartbeat API clients"),
    ("stonith", "VRRP does no fencing"),
    ("stonith_host", "VRRP does no fencing"),
    ("hopfudge", "VRRP has no ring topology"),
    (
        "realtime",
        "lvskitd's scheduling is set by its service manager",
    ),
    ("compression", "VRRP adverts are not compressed"),
    ("traditional_compression", "VRRP adverts are not compressed"),
    ("compression_threshold", "VRRP adverts are not compressed"),
    ("coredumps", "set core dumps in lvskitd's service manager"),
    (
        "autojoin",
        "the directors are the ones written in this file",
    ),
    ("uuidfrom", "VRRP identifies directors by address"),
    ("hbgenmethod", "VRRP has no generation numbers"),
    ("msgfmt", "VRRP adverts have one format"),
    ("max_rexmit_delay", "VRRP does not retransmit"),
    (
        "rtprio",
        "lvskitd's scheduling is set by its service manager",
    ),
    ("generation_file_sync", "VRRP has no generation numbers"),
    ("enable_config_writes", "there is no CIB"),
    ("record_config_changes", "there is no CIB"),
    ("record_pengine_inputs", "there is no CIB"),
    ("memreserve", "lvskitd needs no reserved memory"),
    ("quorum_server", "two VRRP directors need no quorum server"),
];

/// One ha.cf line.
struct Line {
    key: Word,
    args: Vec<Word>,
}

/// Reads the cluster and writes its instances (and virtual servers) to `out`.
pub(crate) fn import(
    inputs: &Heartbeat,
    options: &Options,
    report: &mut Report,
    out: &mut Output,
) -> Result<Vec<String>, ()> {
    let ha = &inputs.ha_cf;
    let ha_lines: Vec<Line> = lines(ha)
        .filter_map(|(no, l)| {
            let mut ws = words(no, l, &[]);
            (!ws.is_empty()).then(|| Line {
                key: ws.remove(0),
                args: ws,
            })
        })
        .collect();

    let mut node_names: Vec<Word> = Vec::new();
    let mut keepalive = Timer::from_secs(DEFAULT_KEEPALIVE);
    let mut deadtime = Timer::from_secs(DEFAULT_DEADTIME);
    let mut deadping: Option<Timer> = None;
    let mut interface: Option<String> = None;
    let mut peers: Vec<IpAddr> = Vec::new();
    let mut preempt = true;
    let mut pings: Vec<(String, Vec<IpAddr>, Span)> = Vec::new();
    let mut ipfail = false;
    for line in &ha_lines {
        let key = line.key.text.as_str();
        let span = line.key.span;
        let arg_span = line.args.first().map_or(span, |w| w.span);
        let first = line.args.first().map(|w| w.text.as_str());
        match key {
            "node" => node_names.extend(line.args.iter().cloned()),
            "keepalive" | "deadtime" | "deadping" => match first.and_then(time) {
                Some(t) if t.as_micros() > 0 => match key {
                    "keepalive" => keepalive = t,
                    "deadtime" => deadtime = t,
                    _ => deadping = Some(t),
                },
                _ => report.error(
                    ha,
                    arg_span,
                    DiagnosticKind::InvalidValue,
                    format!(
                        "{key} expects a time such as 2 or 500ms, found `{}`",
                        first.unwrap_or("")
                    ),
                ),
            },
            "ucast" => {
                let (Some(dev), Some(addr)) = (line.args.first(), line.args.get(1)) else {
                    report.error(
                        ha,
                        span,
                        DiagnosticKind::Missing,
                        "ucast expects INTERFACE ADDRESS",
                    );
                    continue;
                };
                match parse_ip(&addr.text) {
                    Some(ip) => {
                        interface.get_or_insert_with(|| dev.text.clone());
                        if !peers.contains(&ip) {
                            peers.push(ip);
                        }
                    }
                    None => report.error(
                        ha,
                        addr.span,
                        DiagnosticKind::InvalidValue,
                        format!(
                            "ucast expects an IP address, found `{}` (host names are not resolved)",
                            addr.text
                        ),
                    ),
                }
            }
            "bcast" | "mcast" => {
                let Some(dev) = line.args.first() else {
                    report.error(
                        ha,
                        span,
                        DiagnosticKind::Missing,
                        format!("{key} expects an interface"),
                    );
                    continue;
                };
                interface.get_or_insert_with(|| dev.text.clone());
                report.approx(
                    ha,
                    span,
                    format!(
                        "{key} {}: VRRP adverts go to the VRRP multicast group 224.0.0.18 on {}",
                        line.args
                            .iter()
                            .map(|w| w.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        dev.text
                    ),
                );
            }
            "auto_failback" | "nice_failback" => {
                let on = match first {
                    Some("on" | "yes" | "true" | "1") => true,
                    Some("off" | "no" | "false" | "0") => false,
                    Some("legacy") if key == "auto_failback" => {
                        report.approx(
                            ha,
                            arg_span,
                            "auto_failback legacy: written as preempt (auto_failback on)",
                        );
                        true
                    }
                    _ => {
                        report.error(
                            ha,
                            arg_span,
                            DiagnosticKind::InvalidValue,
                            format!("{key} expects on or off, found `{}`", first.unwrap_or("")),
                        );
                        continue;
                    }
                };
                // nice_failback on is the old auto_failback off.
                preempt = if key == "nice_failback" { !on } else { on };
            }
            "ping" => {
                for w in &line.args {
                    match parse_ip(&w.text) {
                        Some(ip) if pings.iter().any(|(_, a, _)| a == &[ip]) => {}
                        Some(ip) => pings.push((
                            format!("ping_{}", script_name(&ip.to_string())),
                            vec![ip],
                            w.span,
                        )),
                        None => report.error(
                            ha,
                            w.span,
                            DiagnosticKind::InvalidValue,
                            format!("ping expects IP addresses, found `{}`", w.text),
                        ),
                    }
                }
            }
            "ping_group" => {
                let Some(name) = line.args.first() else {
                    report.error(
                        ha,
                        span,
                        DiagnosticKind::Missing,
                        "ping_group expects NAME ADDRESS...",
                    );
                    continue;
                };
                let mut addrs = Vec::new();
                for w in &line.args[1..] {
                    match parse_ip(&w.text) {
                        Some(ip) => addrs.push(ip),
                        None => report.error(
                            ha,
                            w.span,
                            DiagnosticKind::InvalidValue,
                            format!("ping_group expects IP addresses, found `{}`", w.text),
                        ),
                    }
                }
                let script = format!("ping_group_{}", script_name(&name.text));
                // Several lines of one group add to it.
                match pings.iter_mut().find(|(n, _, _)| *n == script) {
                    Some((_, list, _)) => list.extend(addrs),
                    None => pings.push((script, addrs, name.span)),
                }
            }
            "respawn" => {
                let program = line.args.get(1).map_or("", |w| w.text.as_str());
                if program.ends_with("/ipfail") {
                    ipfail = true;
                } else {
                    report.approx(
                        ha,
                        span,
                        format!("respawn {program}: lvskitd does not supervise other programs; run it from its own service"),
                    );
                }
            }
            "crm" | "pacemaker" => {
                if !matches!(first, Some("off" | "no" | "false")) {
                    report.approx(
                        ha,
                        span,
                        format!("{key} {}: with the CRM heartbeat takes its resources from the CIB, not haresources; haresources is imported as the resource list", first.unwrap_or("")),
                    );
                }
            }
            _ => match NO_EFFECT.iter().find(|(k, _)| *k == key) {
                Some((_, why)) => {
                    report.approx(ha, span, format!("{key}: no effect in lvskitd ({why})"))
                }
                None => report.error(
                    ha,
                    span,
                    DiagnosticKind::UnknownKeyword,
                    format!("unknown ha.cf directive `{key}`"),
                ),
            },
        }
    }
    if node_names.is_empty() {
        report.error(
            ha,
            Span::new(1, 0, 0),
            DiagnosticKind::Missing,
            "ha.cf has no `node` line: the directors of the cluster are not known",
        );
    }
    let auth = inputs
        .authkeys
        .as_ref()
        .and_then(|a| authentication(a, report));
    let (advert, version, why) = advert_int(keepalive, deadtime);
    if report.has_errors() {
        return Err(());
    }

    // haresources: one resource group (instance) per line.
    let hr = &inputs.haresources;
    let mut ids: Vec<String> = Vec::new();
    for n in &node_names {
        let id = short_name(&n.text);
        if ids.contains(&id) {
            report.error(
                ha,
                n.span,
                DiagnosticKind::Duplicate,
                format!("node `{}`: another node has the same short name `{id}`, which is its config id", n.text),
            );
        }
        ids.push(id);
    }
    let groups = resource_lines(hr);
    if groups.is_empty() {
        report.error(
            hr,
            Span::new(1, 0, 0),
            DiagnosticKind::Missing,
            "haresources has no resource line",
        );
    }
    let mut ldirectord_done: Vec<String> = Vec::new();
    let mut used_vrids: Vec<(String, u8)> = Vec::new();
    for (index, (no, ws)) in groups.iter().enumerate() {
        let owner = &ws[0];
        let Some(owner_index) = node_names.iter().position(|n| n.text == owner.text) else {
            report.error(
                hr,
                owner.span,
                DiagnosticKind::UndefinedReference,
                format!(
                    "`{}` is not a node of ha.cf ({})",
                    owner.text,
                    node_names
                        .iter()
                        .map(|n| n.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            continue;
        };
        let mut vips: Vec<IpAddress> = Vec::new();
        let mut vip_dev: Option<String> = None;
        let mut scripts: Vec<String> = Vec::new();
        let mut ldirectords: Vec<(String, Span)> = Vec::new();
        for w in &ws[1..] {
            let mut parts = w.text.split("::");
            let name = parts.next().unwrap_or("");
            let args: Vec<&str> = parts.collect();
            if let Some(file) = ldirectord_name(&w.text) {
                ldirectords.push((file, w.span));
                continue;
            }
            let ip_spec = match name {
                "IPaddr" | "IPaddr2" => args.first().copied(),
                _ if parse_ip(name.split('/').next().unwrap_or("")).is_some() => {
                    Some(w.text.as_str())
                }
                _ => None,
            };
            if let Some(spec) = ip_spec {
                match vip(spec) {
                    Ok((addr, dev)) => {
                        if addr.prefix.len.is_none() {
                            report.approx(
                                hr,
                                w.span,
                                format!("{}: no netmask; heartbeat took the interface's, keepalived adds the VIP as /32 (/128)", w.text),
                            );
                        }
                        if vip_dev.is_none() {
                            vip_dev.clone_from(&dev);
                        }
                        vips.push(addr);
                    }
                    Err(message) => report.error(hr, w.span, DiagnosticKind::InvalidValue, message),
                }
                continue;
            }
            scripts.push(w.text.replace("::", " "));
            report.approx(
                hr,
                w.span,
                format!("resource `{}`: keepalived has no resource agents; it runs from notify_master / notify_backup", w.text),
            );
        }
        if vips.is_empty() {
            report.error(
                hr,
                owner.span,
                DiagnosticKind::Missing,
                format!("haresources line {no} has no IPaddr resource: there is no VIP to move"),
            );
            continue;
        }
        let Some(interface) = vip_dev.clone().or_else(|| interface.clone()) else {
            report.error(
                hr,
                owner.span,
                DiagnosticKind::Missing,
                "no interface for the VIPs: give IPaddr::ADDR/BITS/INTERFACE, or a ucast/bcast line in ha.cf",
            );
            continue;
        };
        let mut order: Vec<usize> = vec![owner_index];
        order.extend((0..node_names.len()).filter(|&i| i != owner_index));
        let nodes: Vec<Node> = order
            .iter()
            .map(|&i| Node {
                id: ids[i].clone(),
                src_ip: None,
                peers: peers.clone(),
            })
            .collect();
        let weight = Cluster::tracker_weight(nodes.len());
        let fall = {
            let dp = deadping.unwrap_or(deadtime).as_micros();
            let ka = keepalive.as_micros().max(1_000_000);
            u32::try_from(dp.div_ceil(ka)).unwrap_or(u32::MAX).max(1)
        };
        let scripts_vrrp = pings
            .iter()
            .map(|(name, addrs, _)| {
                ping_script(name.clone(), addrs, options, keepalive, fall, weight)
            })
            .collect();
        let (notify_master, notify_backup) = match scripts.as_slice() {
            [] => (None, None),
            [one] => (
                Some(format!("/etc/ha.d/resource.d/{one} start")),
                Some(format!("/etc/ha.d/resource.d/{one} stop")),
            ),
            many => {
                let start: Vec<String> = many
                    .iter()
                    .map(|s| format!("/etc/ha.d/resource.d/{s} start"))
                    .collect();
                let stop: Vec<String> = many
                    .iter()
                    .rev()
                    .map(|s| format!("/etc/ha.d/resource.d/{s} stop"))
                    .collect();
                (
                    Some(format!("/bin/sh -c '{}'", start.join("; "))),
                    Some(format!("/bin/sh -c '{}'", stop.join("; "))),
                )
            }
        };
        // Two resource groups on one interface need two VRIDs.
        let mut vrid = vrid_for(&vips);
        while used_vrids.contains(&(interface.clone(), vrid)) {
            vrid = vrid % 255 + 1;
        }
        used_vrids.push((interface.clone(), vrid));
        let cluster = Cluster {
            name: format!("VI_{}", index + 1),
            interface,
            vrid,
            advert,
            version,
            vips,
            auth: if version.is_some() {
                None
            } else {
                auth.clone()
            },
            preempt,
            nodes,
            scripts: scripts_vrrp,
            define_scripts: index == 0,
            track_interface: Vec::new(),
            dont_track_primary: false,
            notify_master,
            notify_backup,
        };
        if version.is_some()
            && auth.is_some()
            && let Some(a) = &inputs.authkeys
        {
            report.approx(
                a,
                Span::new(1, 0, 4),
                "authkeys: the advert interval needs VRRPv3, which has no authentication; none is written",
            );
        }
        let mut notes = vec![
            format!(
                "{}:{no}: resource group of {} ({} is master, the others back it up)",
                hr.path.display(),
                owner.text,
                ids[owner_index]
            ),
            why.clone(),
            format!(
                "virtual_router_id {vrid} comes from the first VIP's last byte: keep it unique among the VRRP routers of {}",
                cluster.interface
            ),
        ];
        if !pings.is_empty() {
            notes.push(format!(
                "ping/ping_group: each tracker takes {} off the priority while its gateway does not answer, so the director that can reach more gateways is master{}",
                -weight,
                if ipfail { " (what ipfail did)" } else { " (heartbeat needs ipfail for that; it is always on here)" }
            ));
        }
        if !peers.is_empty() {
            let span = ha_lines
                .iter()
                .find(|l| l.key.text == "ucast")
                .map_or(Span::default(), |l| l.key.span);
            report.approx(
                ha,
                span,
                "ucast: unicast_peer lists the ucast addresses of this ha.cf on every director; each director's list must name the others and not itself",
            );
        }
        if !preempt {
            notes.push("auto_failback off: every director starts BACKUP with nopreempt, so a returning director does not take the VIPs back".into());
        }
        notes.extend(report.take_notes());
        cluster.write(notes, out);
        for (file, span) in ldirectords {
            if ldirectord_done.contains(&file) {
                continue;
            }
            ldirectord_done.push(file.clone());
            let base = Path::new(&file).file_name().map(|f| f.to_os_string());
            match inputs
                .ldirectord
                .iter()
                .find(|i| i.path.file_name().map(|f| f.to_os_string()) == base)
            {
                Some(input) => {
                    let _ = crate::ldirectord::import(input, report, out);
                }
                None => report.error(
                    hr,
                    span,
                    DiagnosticKind::Missing,
                    format!("resource ldirectord runs {file}; give that file to import its virtual servers"),
                ),
            }
        }
    }
    if report.has_errors() {
        return Err(());
    }
    ids.sort();
    ids.dedup();
    Ok(if node_names.len() > 1 {
        ids
    } else {
        Vec::new()
    })
}

/// heartbeat's time values: seconds, or with `ms` / `s` / `us`.
fn time(text: &str) -> Option<Timer> {
    let (num, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1_000.0)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000_000.0)
    } else {
        (text, 1_000_000.0)
    };
    let v: f64 = num.parse().ok()?;
    let micros = v * scale;
    (v.is_finite() && (0.0..=86_400.0 * 1e6).contains(&micros)).then_some(Timer(micros as u64))
}

/// The config id of a node: its name up to the first dot, as keepalived's default.
fn short_name(node: &str) -> String {
    node.split('.').next().unwrap_or(node).to_string()
}

/// A name usable as a `vrrp_script` name.
fn script_name(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `ADDR[/BITS[/IF[/BCAST]]]` of an IPaddr resource.
fn vip(spec: &str) -> Result<(IpAddress, Option<String>), String> {
    let mut parts = spec.split('/');
    let addr_text = parts.next().unwrap_or("");
    let addr = parse_ip(addr_text).ok_or_else(|| {
        format!("IPaddr expects ADDRESS[/BITS[/INTERFACE]], found `{spec}`: `{addr_text}` is not an IP address")
    })?;
    let len = match parts.next() {
        None | Some("") => None,
        Some(b) => {
            let max = if addr.is_ipv4() { 32 } else { 128 };
            match b
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .or_else(|| prefix_len(b))
            {
                Some(l) => Some(l),
                None => return Err(format!("IPaddr netmask `{b}` is not a prefix length")),
            }
        }
    };
    let dev = parts.next().filter(|d| !d.is_empty()).map(str::to_string);
    let mut a = IpAddress::new(addr, len);
    if let Some(d) = &dev {
        // eth0:0 style: the device and its label.
        match d.split_once(':') {
            Some((base, _)) => {
                a.dev = Some(base.to_string());
                a.label = Some(d.clone());
            }
            None => a.dev = Some(d.clone()),
        }
    }
    let dev = a.dev.clone();
    Ok((a, dev))
}

/// authkeys: `auth N` and the key lines.
fn authentication(input: &Input, report: &mut Report) -> Option<Authentication> {
    let mut chosen: Option<Word> = None;
    let mut keys: Vec<(Word, Word, Option<Word>)> = Vec::new();
    for (no, line) in lines(input) {
        let ws = words(no, line, &[]);
        let Some(first) = ws.first() else { continue };
        if first.text == "auth" {
            match ws.get(1) {
                Some(n) => chosen = Some(n.clone()),
                None => report.error(
                    input,
                    first.span,
                    DiagnosticKind::Missing,
                    "auth expects a key number",
                ),
            }
        } else if let Some(method) = ws.get(1) {
            // The key is the rest of the line, spaces and all.
            let rest = &line[method.span.end..];
            let key_text = rest.trim();
            let start = method.span.end + (rest.len() - rest.trim_start().len());
            let key = (!key_text.is_empty()).then(|| Word {
                text: key_text.to_string(),
                span: Span::new(no, start, start + key_text.len()),
            });
            keys.push((first.clone(), method.clone(), key));
        } else {
            report.error(
                input,
                first.span,
                DiagnosticKind::Syntax,
                "expected `auth N` or `N crc|md5|sha1 [KEY]`",
            );
        }
    }
    let Some(chosen) = chosen else {
        report.error(
            input,
            Span::new(1, 0, 0),
            DiagnosticKind::Missing,
            "authkeys has no `auth N` line",
        );
        return None;
    };
    let Some((_, method, key)) = keys.iter().find(|(n, _, _)| n.text == chosen.text) else {
        report.error(
            input,
            chosen.span,
            DiagnosticKind::UndefinedReference,
            format!("auth {}: no key line numbered {}", chosen.text, chosen.text),
        );
        return None;
    };
    match method.text.as_str() {
        "crc" => {
            report.approx(
                input,
                method.span,
                "crc authenticates nothing; no VRRP authentication is written",
            );
            None
        }
        "md5" | "sha1" => {
            let Some(key) = key else {
                report.error(
                    input,
                    method.span,
                    DiagnosticKind::Missing,
                    format!("{} expects a key", method.text),
                );
                return None;
            };
            let pass: String = key.text.chars().take(8).collect();
            report.approx(
                input,
                method.span,
                format!("{} HMAC: VRRP has none; written as PASS authentication, a clear-text password of the key's first 8 characters that only keeps out misconfigured routers", method.text),
            );
            Some(Authentication {
                auth_type: Some(AuthType::Pass),
                auth_pass: Some(pass),
                origin: Default::default(),
            })
        }
        other => {
            report.error(
                input,
                method.span,
                DiagnosticKind::InvalidValue,
                format!("authentication method must be crc, md5 or sha1, found `{other}`"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(time("2"), Some(Timer::from_secs(2)));
        assert_eq!(time("500ms"), Some(Timer(500_000)));
        assert_eq!(time("x"), None);
    }

    #[test]
    fn ipaddr_resources() {
        let (a, dev) = vip("192.0.2.6/24/eth0:0").unwrap();
        assert_eq!(a.prefix.to_string(), "192.0.2.6/24");
        assert_eq!(dev.as_deref(), Some("eth0"));
        assert_eq!(a.label.as_deref(), Some("eth0:0"));
        assert!(vip("192.0.2.300").is_err());
    }

    #[test]
    fn ldirectord_resource_names() {
        let hr = Input::new(
            "haresources",
            "a IPaddr::192.0.2.1 ldirectord \\\n  ldirectord::www.cf\nb ldirectord\n",
        );
        assert_eq!(ldirectord_resources(&hr), ["ldirectord.cf", "www.cf"]);
    }
}
