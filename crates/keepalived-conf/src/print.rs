//! The model back to keepalived.conf text, in keepalived 2.x spelling.
//!
//! The output parses back to an equal model (`parse(print(m)) == m`), which the property tests
//! check. Old keyword names come out in their current spelling (`lvs_sched`, `retry`, ...).

use std::fmt::{Display, Write};

use crate::model::*;

/// Writes a configuration as keepalived.conf text.
pub fn print(config: &Config) -> String {
    let mut p = Printer::default();
    p.config(config);
    p.out
}

/// A word as keepalived reads it back: bare when that is safe, otherwise in double quotes.
/// keepalived 2.2.7 has no escapes outside script keywords, so a word that holds a `"` cannot
/// be written at all (none is ever read from a file either).
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && !word.starts_with(['@', '$', '~'])
        && !matches!(
            word,
            "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
        )
        && word
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '{' | '}' | '#' | '!' | '$'));
    if safe {
        return word.to_string();
    }
    format!("\"{word}\"")
}

/// A word after a script keyword, which keepalived splits like a shell: in double quotes with
/// `\` escapes, a `"` written as `\042` (keepalived reads every line with double quotes first,
/// and an escaped quote would look unbalanced to it).
fn quote_script(word: &str) -> String {
    let safe = !word.is_empty()
        && !word.starts_with(['@', '$', '~'])
        && word.chars().all(|c| {
            c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '{' | '}' | '#' | '!' | '\\' | '$')
        });
    if safe {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('"');
    for c in word.chars() {
        match c {
            '"' => out.push_str("\\042"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
}

impl Printer {
    fn line(&mut self, words: &[&str]) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            self.out.push_str(w);
        }
        self.out.push('\n');
    }

    fn kv(&mut self, key: &str, value: impl Display) {
        let v = quote(&value.to_string());
        self.line(&[key, &v]);
    }

    fn opt(&mut self, key: &str, value: &Option<impl Display>) {
        if let Some(v) = value {
            self.kv(key, v);
        }
    }

    fn flag(&mut self, key: &str, on: bool) {
        if on {
            self.line(&[key]);
        }
    }

    fn opt_bool(&mut self, key: &str, value: Option<bool>) {
        if let Some(v) = value {
            self.line(&[key, if v { "true" } else { "false" }]);
        }
    }

    fn open(&mut self, words: &[&str]) {
        let mut w = words.to_vec();
        w.push("{");
        self.line(&w);
        self.indent += 1;
    }

    fn close(&mut self) {
        self.indent = self.indent.saturating_sub(1);
        self.line(&["}"]);
    }

    fn script(&mut self, key: &str, s: &Option<Script>) {
        if let Some(s) = s {
            let quote = if crate::lex::is_script_keyword(key) {
                quote_script
            } else {
                quote
            };
            let mut words = vec![quote(&s.command)];
            if let Some(u) = &s.user {
                words.push(quote(u));
                if let Some(g) = &s.group {
                    words.push(quote(g));
                }
            }
            let mut all = vec![key];
            all.extend(words.iter().map(String::as_str));
            self.line(&all);
        }
    }

    fn user(&mut self, key: &str, u: &Option<(String, Option<String>)>) {
        if let Some((user, group)) = u {
            let user = quote(user);
            match group {
                Some(g) => {
                    let g = quote(g);
                    self.line(&[key, &user, &g]);
                }
                None => self.line(&[key, &user]),
            }
        }
    }

    fn weight_words(w: &Option<Weight>) -> Vec<String> {
        match w {
            None => Vec::new(),
            Some(w) => {
                let mut v = vec!["weight".to_string(), w.value.to_string()];
                if w.reverse {
                    v.push("reverse".into());
                }
                v
            }
        }
    }

    fn tracks(&mut self, key: &str, tracks: &[Track]) {
        if tracks.is_empty() {
            return;
        }
        self.open(&[key]);
        for t in tracks {
            let mut words = vec![quote(&t.name)];
            words.extend(Self::weight_words(&t.weight));
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.close();
    }

    fn directives(&mut self, list: &[Directive]) {
        for d in list {
            let mut words = vec![quote(&d.keyword)];
            words.extend(d.args.iter().map(|a| quote(a)));
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            match &d.block {
                None => self.line(&refs),
                Some(block) => {
                    self.open(&refs);
                    self.directives(block);
                    self.close();
                }
            }
        }
    }

    fn config(&mut self, c: &Config) {
        self.top_level(&c.top);
        self.global_defs(&c.global_defs);
        self.directives(&c.extra);
        if !c.static_ipaddress.is_empty() {
            self.open(&["static_ipaddress"]);
            for a in &c.static_ipaddress {
                self.ip_address(a);
            }
            self.close();
        }
        if !c.static_routes.is_empty() {
            self.open(&["static_routes"]);
            for r in &c.static_routes {
                self.route(r);
            }
            self.close();
        }
        if !c.static_rules.is_empty() {
            self.open(&["static_rules"]);
            for r in &c.static_rules {
                self.rule(r);
            }
            self.close();
        }
        if !c.linkbeat_interfaces.is_empty() {
            self.open(&["linkbeat_interfaces"]);
            for l in &c.linkbeat_interfaces {
                let mut words = vec![quote(&l.interface)];
                words.extend(l.poll.iter().cloned());
                let refs: Vec<&str> = words.iter().map(String::as_str).collect();
                self.line(&refs);
            }
            self.close();
        }
        if !c.interface_up_down_delays.is_empty() {
            self.open(&["interface_up_down_delays"]);
            for d in &c.interface_up_down_delays {
                let mut words = vec![quote(&d.interface), d.down.to_string()];
                words.extend(d.up.iter().map(ToString::to_string));
                let refs: Vec<&str> = words.iter().map(String::as_str).collect();
                self.line(&refs);
            }
            self.close();
        }
        for g in &c.track_groups {
            self.open(&["track_group", &quote(&g.name)]);
            self.open(&["group"]);
            for m in &g.group {
                self.line(&[&quote(&m.name)]);
            }
            self.close();
            self.close();
        }
        for g in &c.garp_groups {
            self.open(&["garp_group"]);
            self.opt("garp_interval", &g.garp_interval);
            self.opt("gna_interval", &g.gna_interval);
            self.opt("interface", &g.interface.as_deref().map(quote));
            if !g.interfaces.is_empty() {
                self.open(&["interfaces"]);
                for i in &g.interfaces {
                    self.line(&[&quote(i)]);
                }
                self.close();
            }
            self.close();
        }
        for b in &c.bfd_instances {
            self.bfd_instance(b);
        }
        for t in &c.track_processes {
            self.track_process(t);
        }
        for s in &c.vrrp_scripts {
            self.vrrp_script(s);
        }
        for t in &c.track_files {
            self.track_file(t);
        }
        for v in &c.vrrp_instances {
            self.instance(v);
        }
        for g in &c.sync_groups {
            self.sync_group(g);
        }
        if let Some(ssl) = &c.ssl {
            self.open(&["SSL"]);
            self.opt("password", &ssl.password);
            self.opt("ca", &ssl.ca);
            self.opt("certificate", &ssl.certificate);
            self.opt("key", &ssl.key);
            self.close();
        }
        for g in &c.virtual_server_groups {
            self.vs_group(g);
        }
        for vs in &c.virtual_servers {
            self.virtual_server(vs);
        }
    }

    fn global_defs(&mut self, g: &GlobalDefs) {
        if *g == GlobalDefs::default() {
            return;
        }
        self.open(&["global_defs"]);
        self.opt("router_id", &g.router_id);
        if !g.notification_email.is_empty() {
            self.open(&["notification_email"]);
            for e in &g.notification_email {
                self.line(&[&quote(e)]);
            }
            self.close();
        }
        self.opt("notification_email_from", &g.notification_email_from);
        if let Some(s) = &g.smtp_server {
            let host = quote(&s.host);
            match s.port {
                Some(p) => self.line(&["smtp_server", &host, &p.to_string()]),
                None => self.line(&["smtp_server", &host]),
            }
        }
        self.opt("smtp_helo_name", &g.smtp_helo_name);
        self.opt("smtp_connect_timeout", &g.smtp_connect_timeout);
        self.opt_bool("smtp_alert", g.smtp_alert);
        self.opt_bool("smtp_alert_vrrp", g.smtp_alert_vrrp);
        self.opt_bool("smtp_alert_checker", g.smtp_alert_checker);
        self.opt_bool("checker_log_all_failures", g.checker_log_all_failures);
        self.flag("no_email_faults", g.no_email_faults);
        self.opt("vrrp_mcast_group4", &g.vrrp_mcast_group4);
        self.opt("vrrp_mcast_group6", &g.vrrp_mcast_group6);
        self.opt("default_interface", &g.default_interface);
        if let Some(d) = &g.lvs_sync_daemon {
            let mut w = vec!["lvs_sync_daemon".to_string(), quote(&d.interface)];
            if let Some(i) = &d.instance {
                w.extend(["inst".into(), quote(i)]);
            }
            if let Some(v) = d.id {
                w.extend(["id".into(), v.to_string()]);
            }
            if let Some(v) = d.maxlen {
                w.extend(["maxlen".into(), v.to_string()]);
            }
            if let Some(v) = d.port {
                w.extend(["port".into(), v.to_string()]);
            }
            if let Some(v) = d.ttl {
                w.extend(["ttl".into(), v.to_string()]);
            }
            if let Some(v) = d.group {
                w.extend(["group".into(), v.to_string()]);
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        if let Some(t) = &g.lvs_timeouts {
            let mut w = vec!["lvs_timeouts".to_string()];
            for (k, v) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
                if let Some(v) = v {
                    w.extend([k.to_string(), v.to_string()]);
                }
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.flag("lvs_flush", g.lvs_flush);
        match g.lvs_flush_on_stop {
            Some(true) => self.line(&["lvs_flush_on_stop", "VS"]),
            Some(false) => self.line(&["lvs_flush_on_stop"]),
            None => {}
        }
        self.opt("vrrp_garp_master_delay", &g.vrrp_garp_master_delay);
        self.opt("vrrp_garp_master_repeat", &g.vrrp_garp_master_repeat);
        self.opt("vrrp_garp_lower_prio_delay", &g.vrrp_garp_lower_prio_delay);
        self.opt(
            "vrrp_garp_lower_prio_repeat",
            &g.vrrp_garp_lower_prio_repeat,
        );
        self.opt("vrrp_garp_master_refresh", &g.vrrp_garp_master_refresh);
        self.opt(
            "vrrp_garp_master_refresh_repeat",
            &g.vrrp_garp_master_refresh_repeat,
        );
        self.opt("vrrp_garp_interval", &g.vrrp_garp_interval);
        self.opt("vrrp_gna_interval", &g.vrrp_gna_interval);
        self.opt_bool("vrrp_min_garp", g.vrrp_min_garp);
        self.garp_extra_if("vrrp_garp_extra_if", &g.vrrp_garp_extra_if);
        self.opt("vrrp_down_timer_adverts", &g.vrrp_down_timer_adverts);
        self.opt_bool("vrrp_lower_prio_no_advert", g.vrrp_lower_prio_no_advert);
        self.opt_bool(
            "vrrp_higher_prio_send_advert",
            g.vrrp_higher_prio_send_advert,
        );
        self.opt("vrrp_version", &g.vrrp_version);
        if let Some(names) = &g.vrrp_iptables {
            let mut w = vec!["vrrp_iptables".to_string()];
            w.extend(names.iter().map(|n| quote(n)));
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
        self.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
        self.flag("vrrp_strict", g.vrrp_strict);
        self.opt_bool(
            "vrrp_notify_priority_changes",
            g.vrrp_notify_priority_changes,
        );
        self.opt("vrrp_startup_delay", &g.vrrp_startup_delay);
        self.user("script_user", &g.script_user);
        self.flag("enable_script_security", g.enable_script_security);
        self.script("notify_fifo", &g.notify_fifo);
        self.script("notify_fifo_script", &g.notify_fifo_script);
        self.script("vrrp_notify_fifo", &g.vrrp_notify_fifo);
        self.script("vrrp_notify_fifo_script", &g.vrrp_notify_fifo_script);
        self.script("lvs_notify_fifo", &g.lvs_notify_fifo);
        self.script("lvs_notify_fifo_script", &g.lvs_notify_fifo_script);
        match g.max_auto_priority {
            Some(Some(p)) => self.kv("max_auto_priority", p),
            Some(None) => self.line(&["max_auto_priority"]),
            None => {}
        }
        match g.dynamic_interfaces {
            Some(true) => self.line(&["dynamic_interfaces", "allow_if_changes"]),
            Some(false) => self.line(&["dynamic_interfaces"]),
            None => {}
        }
        self.directives(&g.extra);
        self.close();
    }

    fn garp_extra_if(&mut self, key: &str, g: &Option<GarpExtraIf>) {
        if let Some(g) = g {
            let d = g.delay.to_string();
            if g.all {
                self.line(&[key, "all", &d]);
            } else {
                self.line(&[key, &d]);
            }
        }
    }

    fn ip_address(&mut self, a: &IpAddress) {
        let mut w = vec![a.prefix.to_string()];
        if let Some(b) = a.broadcast {
            w.push("brd".into());
            w.push(match b {
                Broadcast::Addr(ip) => ip.to_string(),
                Broadcast::SetHostBits => "+".into(),
                Broadcast::ClearHostBits => "-".into(),
            });
        }
        if let Some(d) = &a.dev {
            w.extend(["dev".into(), quote(d)]);
        }
        if let Some(s) = a.scope {
            w.extend(["scope".into(), scope_name(s)]);
        }
        if let Some(l) = &a.label {
            w.extend(["label".into(), quote(l)]);
        }
        if let Some(p) = a.peer {
            w.extend(["peer".into(), p.to_string()]);
        }
        for (on, name) in [
            (a.use_vmac, "use_vmac"),
            (a.home, "home"),
            (a.nodad, "-nodad"),
            (a.mngtmpaddr, "mngtmpaddr"),
            (a.noprefixroute, "noprefixroute"),
            (a.autojoin, "autojoin"),
            (a.no_track, "no_track"),
        ] {
            if on {
                w.push(name.into());
            }
        }
        match a.preferred_lft {
            Some(Lifetime::Forever) => w.extend(["preferred_lft".into(), "forever".into()]),
            Some(Lifetime::Secs(s)) => w.extend(["preferred_lft".into(), s.to_string()]),
            None => {}
        }
        if let Some(t) = &a.track_group {
            w.extend(["track_group".into(), quote(t)]);
        }
        let refs: Vec<&str> = w.iter().map(String::as_str).collect();
        self.line(&refs);
    }

    fn route(&mut self, r: &Route) {
        let mut w: Vec<String> = Vec::new();
        if let Some(t) = r.route_type {
            w.push(
                match t {
                    RouteType::Blackhole => "blackhole",
                    RouteType::Unreachable => "unreachable",
                    RouteType::Prohibit => "prohibit",
                    RouteType::Throw => "throw",
                }
                .into(),
            );
        }
        w.push("to".into());
        w.push(r.to.to_string());
        for (k, v) in [("src", r.src), ("via", r.via), ("or", r.or)] {
            if let Some(v) = v {
                w.extend([k.into(), v.to_string()]);
            }
        }
        if let Some(d) = &r.dev {
            w.extend(["dev".into(), quote(d)]);
        }
        if let Some(t) = &r.table {
            w.extend(["table".into(), quote(t)]);
        }
        if let Some(m) = r.metric {
            w.extend(["metric".into(), m.to_string()]);
        }
        if let Some(s) = r.scope {
            w.extend(["scope".into(), scope_name(s)]);
        }
        if let Some(p) = &r.protocol {
            w.extend(["protocol".into(), quote(p)]);
        }
        if let Some(t) = &r.track_group {
            w.extend(["track_group".into(), quote(t)]);
        }
        if r.no_track {
            w.push("no_track".into());
        }
        w.extend(r.options.iter().map(|o| quote(o)));
        let refs: Vec<&str> = w.iter().map(String::as_str).collect();
        self.line(&refs);
    }

    fn rule(&mut self, r: &Rule) {
        let mut w: Vec<String> = Vec::new();
        if let Some(f) = r.from {
            w.extend(["from".into(), f.to_string()]);
        }
        if let Some(t) = r.to {
            w.extend(["to".into(), t.to_string()]);
        }
        if let Some(t) = &r.table {
            w.extend(["table".into(), quote(t)]);
        }
        if let Some(p) = r.preference {
            w.extend(["preference".into(), p.to_string()]);
        }
        for (k, v) in [
            ("fwmark", &r.fwmark),
            ("iif", &r.iif),
            ("oif", &r.oif),
            ("track_group", &r.track_group),
        ] {
            if let Some(v) = v {
                w.extend([k.into(), quote(v)]);
            }
        }
        if r.no_track {
            w.push("no_track".into());
        }
        w.extend(r.options.iter().map(|o| quote(o)));
        if w.is_empty() {
            w.extend(["from".into(), "all".into()]);
        }
        let refs: Vec<&str> = w.iter().map(String::as_str).collect();
        self.line(&refs);
    }

    fn top_level(&mut self, t: &TopLevel) {
        self.opt("net_namespace", &t.net_namespace.as_deref().map(quote));
        match &t.net_namespace_ipvs {
            None => {}
            Some(None) => self.line(&["net_namespace_ipvs"]),
            Some(Some(name)) => self.line(&["net_namespace_ipvs", &quote(name)]),
        }
        self.flag("namespace_with_ipsets", t.namespace_with_ipsets);
        self.flag("use_pid_dir", t.use_pid_dir);
        self.opt("instance", &t.instance.as_deref().map(quote));
        self.opt("child_wait_time", &t.child_wait_time);
        self.flag("linkbeat_use_polling", t.linkbeat_use_polling);
    }

    fn bfd_instance(&mut self, b: &BfdInstance) {
        // Intervals are written in milliseconds with three decimals.
        let ms = |v: &Option<u32>| v.map(|us| format!("{}.{:03}", us / 1000, us % 1000));
        self.open(&["bfd_instance", &quote(&b.name)]);
        self.opt("neighbor_ip", &b.neighbor_ip);
        self.opt("source_ip", &b.source_ip);
        self.opt("min_rx", &ms(&b.min_rx));
        self.opt("min_tx", &ms(&b.min_tx));
        self.opt("idle_tx", &ms(&b.idle_tx));
        self.opt("multiplier", &b.multiplier);
        self.flag("passive", b.passive);
        self.opt("ttl", &b.ttl);
        self.opt("hoplimit", &b.hoplimit);
        self.opt("max_hops", &b.max_hops);
        self.weight("weight", &b.weight);
        self.flag("vrrp", b.vrrp);
        self.flag("checker", b.checker);
        self.close();
    }

    fn track_process(&mut self, t: &TrackProcess) {
        self.open(&["vrrp_track_process", &quote(&t.name)]);
        if !t.process.is_empty() {
            let mut words = vec!["process".to_string()];
            words.extend(t.process.iter().map(|w| quote(w)));
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        match t.param_match {
            None => {}
            Some(ParamMatch::Exact) => self.line(&["param_match"]),
            Some(ParamMatch::Initial) => self.line(&["param_match", "initial"]),
            Some(ParamMatch::Partial) => self.line(&["param_match", "partial"]),
        }
        self.weight("weight", &t.weight);
        self.opt("quorum", &t.quorum);
        self.opt("quorum_max", &t.quorum_max);
        self.opt("delay", &t.delay);
        self.opt("terminate_delay", &t.terminate_delay);
        self.opt("fork_delay", &t.fork_delay);
        self.flag("full_command", t.full_command);
        self.close();
    }

    fn vrrp_script(&mut self, s: &VrrpScript) {
        self.open(&["vrrp_script", &quote(&s.name)]);
        if let Some(sc) = &s.script {
            self.line(&["script", &quote_script(&sc.command)]);
        }
        self.opt("interval", &s.interval);
        self.opt("timeout", &s.timeout);
        self.weight("weight", &s.weight);
        self.opt("rise", &s.rise);
        self.opt("fall", &s.fall);
        self.user("user", &s.user);
        self.flag("init_fail", s.init_fail);
        self.close();
    }

    fn weight(&mut self, key: &str, w: &Option<Weight>) {
        if let Some(w) = w {
            let v = w.value.to_string();
            if w.reverse {
                self.line(&[key, &v, "reverse"]);
            } else {
                self.line(&[key, &v]);
            }
        }
    }

    fn track_file(&mut self, t: &TrackFile) {
        self.open(&["track_file", &quote(&t.name)]);
        self.opt("file", &t.file);
        self.weight("weight", &t.weight);
        if let Some((value, overwrite)) = &t.init_file {
            let mut w = vec!["init_file".to_string()];
            if let Some(v) = value {
                w.push(v.to_string());
            }
            if *overwrite {
                w.push("overwrite".into());
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.close();
    }

    fn notify(&mut self, n: &Notify) {
        self.script("notify_master", &n.master);
        self.script("notify_backup", &n.backup);
        self.script("notify_fault", &n.fault);
        self.script("notify_stop", &n.stop);
        self.script("notify_deleted", &n.deleted);
        self.script("notify", &n.any);
        self.script("notify_master_rx_lower_pri", &n.master_rx_lower_pri);
        self.opt_bool("notify_priority_changes", n.priority_changes);
    }

    fn sync_group(&mut self, g: &SyncGroup) {
        self.open(&["vrrp_sync_group", &quote(&g.name)]);
        self.tracks("group", &g.group);
        self.tracks("track_interface", &g.track_interface);
        self.tracks("track_script", &g.track_script);
        self.tracks("track_file", &g.track_file);
        self.tracks("track_process", &g.track_process);
        self.tracks("track_bfd", &g.track_bfd);
        self.notify(&g.notify);
        self.opt_bool("smtp_alert", g.smtp_alert);
        self.flag("global_tracking", g.global_tracking);
        self.flag("sync_group_tracking_weight", g.sync_group_tracking_weight);
        self.close();
    }

    fn instance(&mut self, v: &VrrpInstance) {
        self.open(&["vrrp_instance", &quote(&v.name)]);
        match v.state {
            Some(InitialState::Master) => self.line(&["state", "MASTER"]),
            Some(InitialState::Backup) => self.line(&["state", "BACKUP"]),
            None => {}
        }
        if let Some(i) = &v.interface {
            self.kv("interface", &i.value);
        }
        self.opt("vrf", &v.vrf);
        if let Some(u) = &v.use_vmac {
            let mut w = vec!["use_vmac".to_string()];
            if let Some(n) = &u.name {
                w.push(quote(n));
            }
            if let Some(m) = &u.mac {
                w.push(quote(m));
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.flag("use_vmac_addr", v.use_vmac_addr);
        self.flag("vmac_xmit_base", v.vmac_xmit_base);
        self.flag("native_ipv6", v.native_ipv6);
        self.flag("dont_track_primary", v.dont_track_primary);
        self.tracks("track_interface", &v.track_interface);
        self.tracks("track_script", &v.track_script);
        self.tracks("track_file", &v.track_file);
        self.tracks("track_process", &v.track_process);
        self.tracks("track_bfd", &v.track_bfd);
        if let Some(s) = v.src_ip {
            let key = if v.unicast_peer.is_empty() {
                "mcast_src_ip"
            } else {
                "unicast_src_ip"
            };
            self.kv(key, s.value);
        }
        self.opt("mcast_dst_ip", &v.mcast_dst_ip);
        self.flag("track_src_ip", v.track_src_ip);
        if let Some(ver) = v.version {
            self.kv("version", ver.value);
        }
        self.flag("check_unicast_src", v.check_unicast_src);
        if !v.unicast_peer.is_empty() {
            self.open(&["unicast_peer"]);
            for p in &v.unicast_peer {
                let mut w = vec![p.addr.to_string()];
                if let Some(t) = p.min_ttl {
                    w.extend(["min_ttl".into(), t.to_string()]);
                }
                if let Some(t) = p.max_ttl {
                    w.extend(["max_ttl".into(), t.to_string()]);
                }
                let refs: Vec<&str> = w.iter().map(String::as_str).collect();
                self.line(&refs);
            }
            self.close();
        }
        self.flag("unicast_fault_no_peer", v.unicast_fault_no_peer);
        self.opt("unicast_ttl", &v.unicast_ttl);
        match v.old_unicast_checksum {
            Some(true) => self.line(&["old_unicast_checksum", "never"]),
            Some(false) => self.line(&["old_unicast_checksum"]),
            None => {}
        }
        self.opt("garp_master_delay", &v.garp_master_delay);
        self.opt("garp_master_repeat", &v.garp_master_repeat);
        self.opt("garp_lower_prio_delay", &v.garp_lower_prio_delay);
        self.opt("garp_lower_prio_repeat", &v.garp_lower_prio_repeat);
        self.opt("garp_master_refresh", &v.garp_master_refresh);
        self.opt("garp_master_refresh_repeat", &v.garp_master_refresh_repeat);
        self.garp_extra_if("garp_extra_if", &v.garp_extra_if);
        self.opt("lvs_sync_daemon_interface", &v.lvs_sync_daemon_interface);
        self.opt("down_timer_adverts", &v.down_timer_adverts);
        self.opt_bool("lower_prio_no_advert", v.lower_prio_no_advert);
        self.opt_bool("higher_prio_send_advert", v.higher_prio_send_advert);
        if let Some(x) = v.virtual_router_id {
            self.kv("virtual_router_id", x.value);
        }
        if let Some(x) = v.priority {
            self.kv("priority", x.value);
        }
        if let Some(x) = v.advert_int {
            self.kv("advert_int", x.value);
        }
        if let Some(a) = &v.authentication {
            self.open(&["authentication"]);
            match a.auth_type {
                Some(AuthType::Pass) => self.line(&["auth_type", "PASS"]),
                Some(AuthType::Ah) => self.line(&["auth_type", "AH"]),
                None => {}
            }
            self.opt("auth_pass", &a.auth_pass);
            self.close();
        }
        for (key, list) in [
            ("virtual_ipaddress", &v.virtual_ipaddress),
            ("virtual_ipaddress_excluded", &v.virtual_ipaddress_excluded),
        ] {
            if !list.is_empty() {
                self.open(&[key]);
                for a in list {
                    self.ip_address(a);
                }
                self.close();
            }
        }
        self.flag("promote_secondaries", v.promote_secondaries);
        if !v.virtual_routes.is_empty() {
            self.open(&["virtual_routes"]);
            for r in &v.virtual_routes {
                self.route(r);
            }
            self.close();
        }
        if !v.virtual_rules.is_empty() {
            self.open(&["virtual_rules"]);
            for r in &v.virtual_rules {
                self.rule(r);
            }
            self.close();
        }
        match v.accept {
            Some(true) => self.line(&["accept"]),
            Some(false) => self.line(&["no_accept"]),
            None => {}
        }
        match v.nopreempt {
            Some(true) => self.line(&["nopreempt"]),
            Some(false) => self.line(&["preempt"]),
            None => {}
        }
        if let Some(d) = v.preempt_delay {
            self.kv("preempt_delay", d.value);
        }
        self.opt_bool("skip_check_adv_addr", v.skip_check_adv_addr);
        self.opt_bool("strict_mode", v.strict_mode);
        self.opt("debug", &v.debug);
        self.notify(&v.notify);
        self.opt_bool("smtp_alert", v.smtp_alert);
        self.flag("linkbeat_use_polling", v.linkbeat_use_polling);
        self.directives(&v.extra);
        self.close();
    }

    fn vs_group(&mut self, g: &VirtualServerGroup) {
        self.open(&["virtual_server_group", &quote(&g.name)]);
        for e in &g.entries {
            match e {
                GroupEntry::Addr {
                    addr,
                    range_end,
                    port,
                } => {
                    let mut a = addr.to_string();
                    if let Some(end) = range_end {
                        if addr.is_ipv4() {
                            let _ = write!(a, "-{end}");
                        } else {
                            let _ = write!(a, "-{end:x}");
                        }
                    }
                    match port {
                        Some(p) => self.line(&[&a, &p.to_string()]),
                        None => self.line(&[&a]),
                    }
                }
                GroupEntry::Fwmark { mark, family } => {
                    let m = mark.to_string();
                    match family {
                        Some(Family::Inet) => self.line(&["fwmark", &m, "inet"]),
                        Some(Family::Inet6) => self.line(&["fwmark", &m, "inet6"]),
                        None => self.line(&["fwmark", &m]),
                    }
                }
            }
        }
        self.close();
    }

    fn lvs_method(&mut self, key: &str, m: &Option<LvsMethod>) {
        let Some(m) = m else { return };
        let mut w = vec![key.to_string()];
        match m {
            LvsMethod::Nat => w.push("NAT".into()),
            LvsMethod::Dr => w.push("DR".into()),
            LvsMethod::Tun {
                tunnel_type,
                checksum,
            } => {
                w.push("TUN".into());
                match tunnel_type {
                    Some(TunnelType::Ipip) => w.extend(["type".into(), "ipip".into()]),
                    Some(TunnelType::Gre) => w.extend(["type".into(), "gre".into()]),
                    Some(TunnelType::Gue { port }) => {
                        w.extend(["type".into(), "gue".into(), "port".into(), port.to_string()]);
                    }
                    None => {}
                }
                match checksum {
                    Some(TunnelChecksum::NoCsum) => w.push("nocsum".into()),
                    Some(TunnelChecksum::Csum) => w.push("csum".into()),
                    Some(TunnelChecksum::RemCsum) => w.push("remcsum".into()),
                    None => {}
                }
            }
        }
        let refs: Vec<&str> = w.iter().map(String::as_str).collect();
        self.line(&refs);
    }

    fn defaults(&mut self, d: &CheckDefaults) {
        self.opt("connect_timeout", &d.connect_timeout);
        self.opt("retry", &d.retry);
        self.opt("delay_before_retry", &d.delay_before_retry);
        self.opt("warmup", &d.warmup);
        self.opt("delay_loop", &d.delay_loop);
        self.opt_bool("alpha", d.alpha);
        self.opt_bool("inhibit_on_failure", d.inhibit_on_failure);
        self.opt_bool("smtp_alert", d.smtp_alert);
        self.opt("virtualhost", &d.virtualhost);
    }

    fn virtual_server(&mut self, vs: &VirtualServer) {
        let head: Vec<String> = match &vs.addr {
            VirtualServerAddr::Ip { addr, port } => {
                let mut h = vec!["virtual_server".to_string(), addr.to_string()];
                if let Some(p) = port {
                    h.push(p.to_string());
                }
                h
            }
            VirtualServerAddr::Fwmark(m) => {
                vec!["virtual_server".into(), "fwmark".into(), m.to_string()]
            }
            VirtualServerAddr::Group(g) => vec!["virtual_server".into(), "group".into(), quote(g)],
        };
        let refs: Vec<&str> = head.iter().map(String::as_str).collect();
        self.open(&refs);
        if let Some(s) = vs.lvs_sched {
            self.line(&["lvs_sched", s.name()]);
        }
        self.flag("flag-1", vs.flag_1);
        self.flag("flag-2", vs.flag_2);
        self.flag("flag-3", vs.flag_3);
        self.flag("ops", vs.ops);
        self.lvs_method("lvs_method", &vs.lvs_method);
        self.opt("persistence_engine", &vs.persistence_engine);
        match vs.persistence_timeout {
            Some(Some(t)) => self.kv("persistence_timeout", t),
            Some(None) => self.line(&["persistence_timeout"]),
            None => {}
        }
        match vs.persistence_granularity {
            Some(Granularity::Mask(m)) => self.kv("persistence_granularity", m),
            Some(Granularity::PrefixLen(l)) => self.kv("persistence_granularity", l),
            None => {}
        }
        match vs.protocol {
            Some(Protocol::Tcp) => self.line(&["protocol", "TCP"]),
            Some(Protocol::Udp) => self.line(&["protocol", "UDP"]),
            Some(Protocol::Sctp) => self.line(&["protocol", "SCTP"]),
            None => {}
        }
        self.flag("ha_suspend", vs.ha_suspend);
        self.opt("snmp_name", &vs.snmp_name);
        self.flag("omega", vs.omega);
        self.opt("weight", &vs.weight);
        if let Some(q) = vs.quorum {
            self.kv("quorum", q.value);
        }
        self.opt("hysteresis", &vs.hysteresis);
        self.script("quorum_up", &vs.quorum_up);
        self.script("quorum_down", &vs.quorum_down);
        match vs.ip_family {
            Some(Family::Inet) => self.line(&["ip_family", "inet"]),
            Some(Family::Inet6) => self.line(&["ip_family", "inet6"]),
            None => {}
        }
        if let Some(s) = &vs.sorry_server {
            let a = s.addr.to_string();
            match s.port {
                Some(p) => self.line(&["sorry_server", &a, &p.to_string()]),
                None => self.line(&["sorry_server", &a]),
            }
        }
        self.flag("sorry_server_inhibit", vs.sorry_server_inhibit);
        self.lvs_method("sorry_server_lvs_method", &vs.sorry_server_lvs_method);
        self.defaults(&vs.defaults);
        self.directives(&vs.extra);
        for rs in &vs.real_servers {
            self.real_server(rs);
        }
        self.close();
    }

    fn real_server(&mut self, rs: &RealServer) {
        let a = rs.addr.to_string();
        match rs.port {
            Some(p) => self.open(&["real_server", &a, &p.to_string()]),
            None => self.open(&["real_server", &a]),
        }
        self.opt("weight", &rs.weight);
        self.lvs_method("lvs_method", &rs.lvs_method);
        self.script("notify_up", &rs.notify_up);
        self.script("notify_down", &rs.notify_down);
        self.opt("uthreshold", &rs.uthreshold);
        self.opt("lthreshold", &rs.lthreshold);
        self.opt("snmp_name", &rs.snmp_name);
        self.defaults(&rs.defaults);
        self.directives(&rs.extra);
        for c in &rs.checkers {
            self.checker(c);
        }
        self.close();
    }

    fn connect(&mut self, c: &Connect) {
        self.opt("connect_ip", &c.connect_ip);
        self.opt("connect_port", &c.connect_port);
        self.opt("bindto", &c.bindto);
        self.opt("bind_if", &c.bind_if);
        self.opt("bind_port", &c.bind_port);
        self.opt("fwmark", &c.fwmark);
        self.opt("connect_timeout", &c.connect_timeout);
    }

    fn checker(&mut self, c: &Checker) {
        self.open(&[c.kind.keyword()]);
        self.connect(&c.connect);
        self.defaults(&c.defaults);
        self.opt_bool("log_all_failures", c.log_all_failures);
        self.user("user", &c.user);
        match &c.kind {
            CheckerKind::Tcp | CheckerKind::Ping => {}
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                self.opt("http_protocol", &h.http_protocol);
                self.opt_bool("fast_recovery", h.fast_recovery);
                self.flag("enable_sni", h.enable_sni);
                for u in &h.urls {
                    self.url(u);
                }
            }
            CheckerKind::Smtp { helo_name, hosts } => {
                self.opt("helo_name", helo_name);
                for h in hosts {
                    self.open(&["host"]);
                    self.connect(&h.connect);
                    self.defaults(&h.defaults);
                    self.opt_bool("log_all_failures", h.log_all_failures);
                    self.close();
                }
            }
            CheckerKind::Dns { query_type, name } => {
                self.opt("type", query_type);
                self.opt("name", name);
            }
            CheckerKind::Misc {
                path,
                timeout,
                dynamic,
            } => {
                self.script("misc_path", path);
                self.opt("misc_timeout", timeout);
                self.flag("misc_dynamic", *dynamic);
            }
            CheckerKind::Udp {
                payload,
                require_reply,
                min_reply_length,
                max_reply_length,
            } => {
                if let Some(p) = payload {
                    let mut w = vec!["payload"];
                    w.extend(p.split_whitespace());
                    self.line(&w);
                }
                match require_reply {
                    Some(Some(p)) => {
                        let mut w = vec!["require_reply"];
                        w.extend(p.split_whitespace());
                        self.line(&w);
                    }
                    Some(None) => self.line(&["require_reply"]),
                    None => {}
                }
                self.opt("min_reply_length", min_reply_length);
                self.opt("max_reply_length", max_reply_length);
            }
            CheckerKind::File { track_file, weight } => {
                self.opt("track_file", track_file);
                self.weight("weight", weight);
            }
            CheckerKind::Bfd { name } => self.opt("name", name),
        }
        self.directives(&c.extra);
        self.close();
    }

    fn url(&mut self, u: &Url) {
        self.open(&["url"]);
        self.opt("path", &u.path);
        self.opt("digest", &u.digest);
        if !u.status_code.is_empty() {
            let mut w = vec!["status_code".to_string()];
            for s in &u.status_code {
                if s.low == s.high {
                    w.push(s.low.to_string());
                } else {
                    w.push(format!("{}-{}", s.low, s.high));
                }
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.opt("virtualhost", &u.virtualhost);
        self.opt("regex", &u.regex);
        self.flag("regex_no_match", u.regex_no_match);
        if !u.regex_options.is_empty() {
            let mut w = vec!["regex_options".to_string()];
            w.extend(u.regex_options.iter().map(|o| quote(o)));
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        if let Some((a, b)) = u.regex_stack {
            self.line(&["regex_stack", &a.to_string(), &b.to_string()]);
        }
        self.opt("regex_min_offset", &u.regex_min_offset);
        self.opt("regex_max_offset", &u.regex_max_offset);
        self.close();
    }
}

fn scope_name(s: Scope) -> String {
    match s {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
    }
}
