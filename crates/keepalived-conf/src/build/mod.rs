//! The statement tree to the typed model, with value and keyword diagnostics.

use std::net::IpAddr;

mod tracking;

use crate::diag::{DiagnosticKind as K, Diagnostics};
use crate::keywords;
use crate::model::*;
use crate::source::{Origin, SourceMap, Spanned};
use crate::tree::{Node, Word};

pub(crate) struct Builder<'a, 's> {
    pub(crate) sources: &'a SourceMap,
    pub(crate) diags: &'a mut Diagnostics,
    /// Every statement; blocks are ranges of it.
    pub(crate) nodes: &'a [Node<'s>],
    /// Every argument word; statements hold ranges of it.
    pub(crate) words: &'a [Word<'s>],
}

fn span(word: &Word) -> Origin {
    word.origin
}

/// The origin of a whole statement line: from the keyword to the last argument on its line.
fn node_origin(node: &Node) -> Origin {
    node.keyword.origin
}

impl<'a, 's> Builder<'a, 's> {
    fn err(&mut self, kind: K, origin: Origin, msg: impl Into<String>) {
        self.diags.error(self.sources, kind, origin, msg);
    }

    fn warn(&mut self, kind: K, origin: Origin, msg: impl Into<String>) {
        self.diags.warn(self.sources, kind, origin, msg);
    }

    /// The argument `i`, or an error saying what the keyword needs.
    fn arg(&mut self, node: &Node<'s>, i: usize, what: &str) -> Option<&'a Word<'s>> {
        let word = self.args(node).get(i);
        if word.is_none() {
            self.err(
                K::Missing,
                node_origin(node),
                format!("`{}` needs {what}", node.keyword.text),
            );
        }
        word
    }

    fn too_many(&mut self, node: &Node<'s>, max: usize) {
        if let Some(extra) = self.args(node).get(max) {
            self.warn(
                K::Syntax,
                span(extra),
                format!(
                    "`{}` takes at most {max} argument{}; `{}` and the rest are ignored",
                    node.keyword.text,
                    if max == 1 { "" } else { "s" },
                    extra.text
                ),
            );
        }
    }

    fn no_block(&mut self, node: &Node<'s>) {
        if node.block.is_some() {
            self.err(
                K::Braces,
                node.open,
                format!("`{}` does not take a block", node.keyword.text),
            );
        }
    }

    /// The words after a statement's keyword.
    fn args(&self, node: &Node<'s>) -> &'a [Word<'s>] {
        let words: &'a [Word<'s>] = self.words;
        &words[node.args.0 as usize..node.args.1 as usize]
    }

    /// The statements of a node's block (empty when it has none).
    fn kids(&self, node: &Node<'s>) -> &'a [Node<'s>] {
        let nodes: &'a [Node<'s>] = self.nodes;
        match node.block {
            Some((start, end)) => &nodes[start as usize..end as usize],
            None => &[],
        }
    }

    fn block(&mut self, node: &Node<'s>) -> &'a [Node<'s>] {
        if node.block.is_none() {
            self.err(
                K::Braces,
                node_origin(node),
                format!("`{}` needs a `{{ ... }}` block", node.keyword.text),
            );
        }
        self.kids(node)
    }

    fn int_word(&mut self, word: &Word, min: i64, max: i64) -> Option<i64> {
        self.int_named(word, min, max, None)
    }

    fn int_named(&mut self, word: &Word, min: i64, max: i64, name: Option<&str>) -> Option<i64> {
        let text = word.s();
        let parsed = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
        {
            i64::from_str_radix(hex, 16).ok()
        } else {
            text.parse::<i64>().ok()
        };
        match parsed {
            Some(v) if (min..=max).contains(&v) => Some(v),
            Some(v) => {
                let label = name.map_or_else(|| "number".to_string(), |n| format!("`{n}`"));
                self.err(
                    K::OutOfRange,
                    span(word),
                    format!("{label} {v} is outside the range [{min}, {max}]"),
                );
                None
            }
            None => {
                let label = name.map_or_else(|| "number".to_string(), |n| format!("`{n}`"));
                self.err(
                    K::InvalidValue,
                    span(word),
                    format!("{label}: expected a number, found `{text}`"),
                );
                None
            }
        }
    }

    /// The one argument of `node` as a number in `[min, max]`.
    fn int(&mut self, node: &Node<'s>, min: i64, max: i64) -> Option<i64> {
        self.no_block(node);
        self.too_many(node, 1);
        let word = self.arg(node, 0, "a number")?;
        self.int_named(word, min, max, Some(&node.keyword.text))
    }

    fn u32(&mut self, node: &Node<'s>) -> Option<u32> {
        self.int(node, 0, u32::MAX.into()).map(|v| v as u32)
    }

    fn timer_word(&mut self, word: &Word) -> Option<Timer> {
        match parse_timer(&word.text) {
            Some(t) => Some(t),
            None => {
                self.err(
                    K::InvalidValue,
                    span(word),
                    format!(
                        "expected a time in seconds (such as 3 or 0.5), found `{}`",
                        word.text
                    ),
                );
                None
            }
        }
    }

    fn timer(&mut self, node: &Node<'s>) -> Option<Timer> {
        self.no_block(node);
        self.too_many(node, 1);
        let word = self.arg(node, 0, "a time in seconds")?;
        self.timer_word(word)
    }

    /// A time in seconds that must lie in `[min, max]` microseconds.
    fn timer_in(&mut self, node: &Node<'s>, min: u64, max: u64) -> Option<Timer> {
        let timer = self.timer(node)?;
        if (min..=max).contains(&timer.as_micros()) {
            return Some(timer);
        }
        self.err(
            K::OutOfRange,
            span(&self.args(node)[0]),
            format!(
                "`{}` {timer} is outside the range [{}, {}]",
                node.keyword.text,
                Timer(min),
                Timer(max)
            ),
        );
        None
    }

    fn string(&mut self, node: &Node<'s>) -> Option<String> {
        self.no_block(node);
        self.too_many(node, 1);
        self.arg(node, 0, "a value").map(|w| w.text.to_string())
    }

    fn bool_word(&mut self, word: &Word) -> Option<bool> {
        match word.text.to_ascii_lowercase().as_str() {
            "on" | "true" | "yes" => Some(true),
            "off" | "false" | "no" => Some(false),
            _ => {
                self.err(
                    K::InvalidValue,
                    span(word),
                    format!("expected on|off|true|false|yes|no, found `{}`", word.text),
                );
                None
            }
        }
    }

    /// A keyword that is a flag with an optional `<BOOL>`.
    fn flag(&mut self, node: &Node<'s>) -> Option<bool> {
        self.no_block(node);
        self.too_many(node, 1);
        match self.args(node).first() {
            None => Some(true),
            Some(word) => self.bool_word(word),
        }
    }

    /// A keyword that takes no arguments.
    fn bare(&mut self, node: &Node<'s>) -> bool {
        self.no_block(node);
        self.too_many(node, 0);
        true
    }

    fn ip_word(&mut self, word: &Word) -> Option<IpAddr> {
        match word.text.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.err(
                    K::InvalidValue,
                    span(word),
                    format!("expected an IP address, found `{}`", word.text),
                );
                None
            }
        }
    }

    fn ip(&mut self, node: &Node<'s>) -> Option<IpAddr> {
        self.no_block(node);
        self.too_many(node, 1);
        let word = self.arg(node, 0, "an IP address")?;
        self.ip_word(word)
    }

    fn prefix_word(&mut self, word: &Word) -> Option<Prefix> {
        let (addr, len) = match word.text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (word.s(), None),
        };
        let Ok(addr) = addr.parse::<IpAddr>() else {
            self.err(
                K::InvalidValue,
                span(word),
                format!(
                    "expected an address or ADDRESS/PREFIX, found `{}`",
                    word.text
                ),
            );
            return None;
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => None,
            Some(l) => match l.parse::<u8>() {
                Ok(l) if l <= max => Some(l),
                _ => {
                    self.err(
                        K::OutOfRange,
                        span(word),
                        format!("prefix length `{l}` is not in [0, {max}]"),
                    );
                    return None;
                }
            },
        };
        Some(Prefix { addr, len })
    }

    fn port_word(&mut self, word: &Word) -> Option<u16> {
        self.int_word(word, 0, 65535).map(|v| v as u16)
    }

    fn port(&mut self, node: &Node<'s>) -> Option<u16> {
        self.int(node, 0, 65535).map(|v| v as u16)
    }

    /// `CMD [USER [GROUP]]`.
    fn script(&mut self, node: &Node<'s>) -> Option<Script> {
        self.no_block(node);
        self.too_many(node, 3);
        let command = self.arg(node, 0, "a script")?.text.to_string();
        Some(Script {
            command,
            user: self.args(node).get(1).map(|w| w.text.to_string()),
            group: self.args(node).get(2).map(|w| w.text.to_string()),
        })
    }

    /// `USER [GROUP]`.
    fn user(&mut self, node: &Node<'s>) -> Option<(String, Option<String>)> {
        self.no_block(node);
        self.too_many(node, 2);
        let user = self.arg(node, 0, "a user name")?.text.to_string();
        Some((user, self.args(node).get(1).map(|w| w.text.to_string())))
    }

    /// `weight N [reverse]` starting at argument `at`.
    fn weight_args(&mut self, node: &Node<'s>, at: usize, min: i64, max: i64) -> Option<Weight> {
        let word = self.args(node).get(at)?;
        let value = self.int_word(word, min, max)? as i32;
        let mut reverse = false;
        for extra in &self.args(node)[at + 1..] {
            match extra.s() {
                "reverse" => reverse = true,
                "noreverse" | "no_reverse" => reverse = false,
                _ => self.err(
                    K::InvalidValue,
                    span(extra),
                    format!("expected `reverse` or `noreverse`, found `{}`", extra.text),
                ),
            }
        }
        Some(value).map(|value| Weight { value, reverse })
    }

    fn weight(&mut self, node: &Node<'s>, min: i64, max: i64) -> Option<Weight> {
        self.no_block(node);
        if self.args(node).is_empty() {
            self.arg(node, 0, "a weight");
            return None;
        }
        self.weight_args(node, 0, min, max)
    }

    /// An old keyword that keepalived still reads but warns about.
    fn deprecated(&mut self, node: &Node<'s>, instead: &str) {
        self.warn(
            K::Deprecated,
            node_origin(node),
            format!("`{}` is deprecated; use `{instead}`", node.keyword.text),
        );
    }

    fn unknown(&mut self, node: &Node<'s>, block: &str) {
        self.warn(
            K::UnknownKeyword,
            node_origin(node),
            format!("unknown keyword `{}` in {block}", node.keyword.text),
        );
    }

    /// A known keyword outside the typed model: kept verbatim; unknown ones warn.
    fn other(&mut self, node: &Node<'s>, known: &[&str], block: &str, extra: &mut Vec<Directive>) {
        if known.contains(&node.keyword.s()) {
            extra.push(directive(self.nodes, self.words, node));
        } else {
            self.unknown(node, block);
        }
    }

    fn name_arg(&mut self, node: &Node<'s>, what: &str) -> String {
        self.too_many(node, 1);
        self.arg(node, 0, what)
            .map(|w| w.text.to_string())
            .unwrap_or_default()
    }

    // ---------------------------------------------------------------- top level

    pub(crate) fn config(&mut self, nodes: &[Node<'s>]) -> Config {
        let mut config = Config::default();
        for node in nodes {
            match node.keyword.s() {
                "global_defs" => {
                    let block = self.block(node);
                    self.too_many(node, 0);
                    self.global_defs(block, &mut config.global_defs);
                }
                "static_ipaddress" => {
                    let block = self.block(node);
                    for item in block {
                        if let Some(a) = self.ip_address(item, true) {
                            config.static_ipaddress.push(a);
                        }
                    }
                }
                "static_routes" => {
                    let block = self.block(node);
                    for item in block {
                        if let Some(r) = self.route(item) {
                            config.static_routes.push(r);
                        }
                    }
                }
                "static_rules" => {
                    let block = self.block(node);
                    for item in block {
                        if let Some(r) = self.rule(item) {
                            config.static_rules.push(r);
                        }
                    }
                }
                "vrrp_script" => {
                    let s = self.vrrp_script(node);
                    config.vrrp_scripts.push(s);
                }
                "track_file" | "vrrp_track_file" => {
                    let t = self.track_file(node);
                    config.track_files.push(t);
                }
                "vrrp_sync_group" => {
                    let g = self.sync_group(node);
                    config.sync_groups.push(g);
                }
                "vrrp_instance" => {
                    let i = self.instance(node);
                    config.vrrp_instances.push(i);
                }
                "virtual_server_group" => {
                    let g = self.vs_group(node);
                    config.virtual_server_groups.push(g);
                }
                "virtual_server" => {
                    if let Some(vs) = self.virtual_server(node) {
                        config.virtual_servers.push(vs);
                    }
                }
                "SSL" => {
                    let block = self.block(node);
                    let ssl = config.ssl.get_or_insert_with(SslContext::default);
                    for item in block {
                        match item.keyword.s() {
                            "password" => ssl.password = self.string(item),
                            "ca" => ssl.ca = self.string(item),
                            "certificate" => ssl.certificate = self.string(item),
                            "key" => ssl.key = self.string(item),
                            _ => self.unknown(item, "SSL"),
                        }
                    }
                }
                "vrrp_track_process" => {
                    let t = self.track_process(node);
                    config.track_processes.push(t);
                }
                "bfd_instance" => {
                    let b = self.bfd_instance(node);
                    config.bfd_instances.push(b);
                }
                "track_group" => {
                    let g = self.track_group(node);
                    config.track_groups.push(g);
                }
                "garp_group" => {
                    let g = self.garp_group(node);
                    config.garp_groups.push(g);
                }
                "linkbeat_interfaces" => {
                    self.linkbeat_interfaces(node, &mut config.linkbeat_interfaces);
                }
                "interface_up_down_delays" => {
                    self.up_down_delays(node, &mut config.interface_up_down_delays);
                }
                _ if self.top_setting(node, &mut config.top) => {}
                _ => self.unknown(node, "the top level"),
            }
        }
        config
    }

    fn global_defs(&mut self, nodes: &[Node<'s>], g: &mut GlobalDefs) {
        for node in nodes {
            let kw = node.keyword.s();
            match kw {
                "router_id" => g.router_id = self.string(node),
                "notification_email" => {
                    // Addresses may also follow on the keyword line.
                    g.notification_email
                        .extend(self.args(node).iter().map(|w| w.text.to_string()));
                    if node.block.is_some() {
                        for item in self.kids(node) {
                            g.notification_email.push(item.keyword.text.to_string());
                            g.notification_email
                                .extend(self.args(item).iter().map(|w| w.text.to_string()));
                        }
                    }
                }
                "notification_email_from" => g.notification_email_from = self.string(node),
                "smtp_server" => {
                    self.no_block(node);
                    self.too_many(node, 2);
                    if let Some(host) = self.arg(node, 0, "an address or host name") {
                        let host = host.text.to_string();
                        let port = match self.args(node).get(1) {
                            Some(p) => self.port_word(p),
                            None => None,
                        };
                        g.smtp_server = Some(SmtpServer { host, port });
                    }
                }
                "smtp_helo_name" => g.smtp_helo_name = self.string(node),
                "smtp_connect_timeout" => g.smtp_connect_timeout = self.timer(node),
                "smtp_alert" => g.smtp_alert = self.flag(node),
                "smtp_alert_vrrp" => g.smtp_alert_vrrp = self.flag(node),
                "smtp_alert_checker" => g.smtp_alert_checker = self.flag(node),
                "checker_log_all_failures" => g.checker_log_all_failures = self.flag(node),
                "no_email_faults" => g.no_email_faults = self.bare(node),
                "vrrp_mcast_group4" => {
                    if let Some(ip) = self.ip(node) {
                        match ip {
                            IpAddr::V4(v4) if v4.is_multicast() => g.vrrp_mcast_group4 = Some(v4),
                            _ => self.err(
                                K::AddressFamily,
                                span(&self.args(node)[0]),
                                format!("vrrp_mcast_group4 must be an IPv4 multicast address, found {ip}"),
                            ),
                        }
                    }
                }
                "vrrp_mcast_group6" => {
                    if let Some(ip) = self.ip(node) {
                        match ip {
                            IpAddr::V6(v6) if v6.is_multicast() => g.vrrp_mcast_group6 = Some(v6),
                            _ => self.err(
                                K::AddressFamily,
                                span(&self.args(node)[0]),
                                format!("vrrp_mcast_group6 must be an IPv6 multicast address, found {ip}"),
                            ),
                        }
                    }
                }
                "default_interface" => g.default_interface = self.string(node),
                "lvs_sync_daemon" => g.lvs_sync_daemon = self.lvs_sync_daemon(node),
                "lvs_timeouts" => {
                    self.no_block(node);
                    let mut t = LvsTimeouts::default();
                    let mut args = self.args(node).iter();
                    while let Some(word) = args.next() {
                        let slot = match word.s() {
                            "tcp" => &mut t.tcp,
                            "tcpfin" => &mut t.tcpfin,
                            "udp" => &mut t.udp,
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(word),
                                    format!("expected tcp, tcpfin or udp, found `{other}`"),
                                );
                                continue;
                            }
                        };
                        match args.next() {
                            Some(v) => *slot = self.int_word(v, 0, 86400 * 31).map(|v| v as u32),
                            None => self.err(
                                K::Missing,
                                span(word),
                                format!("`{}` needs a number of seconds", word.text),
                            ),
                        }
                    }
                    g.lvs_timeouts = Some(t);
                }
                "lvs_flush" => g.lvs_flush = self.bare(node),
                "lvs_flush_on_stop" | "lvs_flush_onstop" => {
                    if kw == "lvs_flush_onstop" {
                        self.deprecated(node, "lvs_flush_on_stop");
                    }
                    self.no_block(node);
                    self.too_many(node, 1);
                    g.lvs_flush_on_stop = match self.args(node).first() {
                        None => Some(false),
                        Some(w) if w.text == "VS" => Some(true),
                        Some(w) => {
                            self.err(
                                K::InvalidValue,
                                span(w),
                                format!("expected `VS` or nothing, found `{}`", w.text),
                            );
                            None
                        }
                    };
                }
                "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = self.u32(node),
                "vrrp_garp_master_repeat" => g.vrrp_garp_master_repeat = self.u32(node),
                "vrrp_garp_lower_prio_delay" => g.vrrp_garp_lower_prio_delay = self.u32(node),
                "vrrp_garp_lower_prio_repeat" => g.vrrp_garp_lower_prio_repeat = self.u32(node),
                "vrrp_garp_master_refresh" => g.vrrp_garp_master_refresh = self.u32(node),
                "vrrp_garp_master_refresh_repeat" => {
                    g.vrrp_garp_master_refresh_repeat = self.u32(node);
                }
                "vrrp_garp_interval" => {
                    g.vrrp_garp_interval = self.timer_in(node, 1, u32::MAX.into());
                }
                "vrrp_gna_interval" => {
                    g.vrrp_gna_interval = self.timer_in(node, 1, u32::MAX.into());
                }
                "vrrp_min_garp" => g.vrrp_min_garp = self.flag(node),
                "vrrp_garp_extra_if" | "vrrp_vmac_garp_intvl" => {
                    if kw == "vrrp_vmac_garp_intvl" {
                        self.deprecated(node, "vrrp_garp_extra_if");
                    }
                    g.vrrp_garp_extra_if = self.garp_extra_if(node);
                }
                "vrrp_down_timer_adverts" => {
                    g.vrrp_down_timer_adverts = self.int(node, 1, 100).map(|v| v as u32);
                }
                "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = self.flag(node),
                "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = self.flag(node),
                "vrrp_version" => g.vrrp_version = self.int(node, 2, 3).map(|v| v as u8),
                "vrrp_iptables" => {
                    self.no_block(node);
                    self.too_many(node, 2);
                    g.vrrp_iptables =
                        Some(self.args(node).iter().map(|w| w.text.to_string()).collect());
                }
                "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = self.bare(node),
                "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = self.bare(node),
                "vrrp_strict" => g.vrrp_strict = self.bare(node),
                "vrrp_notify_priority_changes" => {
                    g.vrrp_notify_priority_changes = self.flag(node);
                }
                "vrrp_startup_delay" => g.vrrp_startup_delay = self.timer(node),
                "script_user" => g.script_user = self.user(node),
                "enable_script_security" => g.enable_script_security = self.bare(node),
                "notify_fifo" => g.notify_fifo = self.script(node),
                "notify_fifo_script" => g.notify_fifo_script = self.script(node),
                "vrrp_notify_fifo" => g.vrrp_notify_fifo = self.script(node),
                "vrrp_notify_fifo_script" => g.vrrp_notify_fifo_script = self.script(node),
                "lvs_notify_fifo" => g.lvs_notify_fifo = self.script(node),
                "lvs_notify_fifo_script" => g.lvs_notify_fifo_script = self.script(node),
                "max_auto_priority" => {
                    self.no_block(node);
                    self.too_many(node, 1);
                    g.max_auto_priority = match self.args(node).first() {
                        None => Some(None),
                        Some(w) => self.int_word(w, -1, 99).map(|v| Some(v as i32)),
                    };
                }
                "dynamic_interfaces" => {
                    self.no_block(node);
                    self.too_many(node, 1);
                    g.dynamic_interfaces = match self.args(node).first() {
                        None => Some(false),
                        Some(w) if w.text == "allow_if_changes" => Some(true),
                        Some(w) => {
                            self.err(
                                K::InvalidValue,
                                span(w),
                                format!(
                                    "expected `allow_if_changes` or nothing, found `{}`",
                                    w.text
                                ),
                            );
                            None
                        }
                    };
                }
                _ => self.other(node, keywords::GLOBAL_DEFS, "global_defs", &mut g.extra),
            }
        }
    }

    fn lvs_sync_daemon(&mut self, node: &Node<'s>) -> Option<LvsSyncDaemon> {
        self.no_block(node);
        let interface = self.arg(node, 0, "an interface")?.text.to_string();
        let mut d = LvsSyncDaemon {
            interface,
            origin: node_origin(node),
            ..LvsSyncDaemon::default()
        };
        let mut args = self.args(node)[1..].iter().peekable();
        while let Some(word) = args.next() {
            let key = word.s();
            let takes_value = matches!(key, "inst" | "id" | "maxlen" | "port" | "ttl" | "group");
            if !takes_value {
                // A bare word is the instance name.
                if d.instance.is_none() {
                    d.instance = Some(word.text.to_string());
                } else {
                    self.err(K::InvalidValue, span(word), format!("unexpected `{key}`"));
                }
                continue;
            }
            let Some(value) = args.next() else {
                self.err(K::Missing, span(word), format!("`{key}` needs a value"));
                break;
            };
            match key {
                "inst" => d.instance = Some(value.text.to_string()),
                "id" => d.id = self.int_word(value, 0, 255).map(|v| v as u8),
                "maxlen" => d.maxlen = self.int_word(value, 1, 65535 - 20 - 8).map(|v| v as u16),
                "port" => d.port = self.port_word(value),
                "ttl" => d.ttl = self.int_word(value, 1, 255).map(|v| v as u8),
                _ => d.group = self.ip_word(value),
            }
        }
        Some(d)
    }

    fn garp_extra_if(&mut self, node: &Node<'s>) -> Option<GarpExtraIf> {
        self.no_block(node);
        self.too_many(node, 2);
        let (all, at) = match self.args(node).first() {
            Some(w) if w.text == "all" => (true, 1),
            _ => (false, 0),
        };
        let word = self.arg(node, at, "a delay in seconds")?;
        let delay = self.int_word(word, 0, 86400)? as u32;
        Some(GarpExtraIf { all, delay })
    }

    // ---------------------------------------------------------------- addresses, routes, rules

    /// One line of `virtual_ipaddress` / `static_ipaddress`.
    fn ip_address(&mut self, node: &Node<'s>, is_static: bool) -> Option<IpAddress> {
        self.no_block(node);
        let prefix = self.prefix_word(&node.keyword)?;
        let mut a = IpAddress {
            origin: node_origin(node),
            ..IpAddress::new(prefix.addr, prefix.len)
        };
        let mut args = self.args(node).iter();
        while let Some(word) = args.next() {
            let key = word.s();
            let needs_value = matches!(
                key,
                "brd"
                    | "broadcast"
                    | "dev"
                    | "scope"
                    | "label"
                    | "peer"
                    | "preferred_lft"
                    | "track_group"
            );
            let value = if needs_value {
                match args.next() {
                    Some(v) => Some(v),
                    None => {
                        self.err(K::Missing, span(word), format!("`{key}` needs a value"));
                        break;
                    }
                }
            } else {
                None
            };
            match (key, value) {
                ("brd" | "broadcast", Some(v)) => {
                    a.broadcast = match v.s() {
                        "+" => Some(Broadcast::SetHostBits),
                        "-" => Some(Broadcast::ClearHostBits),
                        _ => self.ip_word(v).map(Broadcast::Addr),
                    }
                }
                ("dev", Some(v)) => a.dev = Some(v.text.to_string()),
                ("scope", Some(v)) => a.scope = self.scope(v),
                ("label", Some(v)) => a.label = Some(v.text.to_string()),
                ("peer", Some(v)) => a.peer = self.prefix_word(v),
                ("preferred_lft", Some(v)) => {
                    a.preferred_lft = if v.text == "forever" {
                        Some(Lifetime::Forever)
                    } else {
                        self.int_word(v, 0, u32::MAX.into())
                            .map(|s| Lifetime::Secs(s as u32))
                    }
                }
                ("track_group", Some(v)) => a.track_group = Some(v.text.to_string()),
                ("use_vmac", _) if !is_static => a.use_vmac = true,
                ("home", _) => a.home = true,
                ("-nodad" | "nodad", _) => a.nodad = true,
                ("mngtmpaddr", _) => a.mngtmpaddr = true,
                ("noprefixroute", _) => a.noprefixroute = true,
                ("autojoin", _) => a.autojoin = true,
                ("no_track", _) if !is_static => a.no_track = true,
                _ => self.err(
                    K::InvalidValue,
                    span(word),
                    format!("unknown address option `{key}`"),
                ),
            }
        }
        if let Some(Prefix { addr: peer, .. }) = a.peer
            && peer.is_ipv4() != a.prefix.addr.is_ipv4()
        {
            self.err(
                K::AddressFamily,
                a.origin,
                "peer address and address are of different families",
            );
        }
        if let Some(Broadcast::Addr(brd)) = a.broadcast
            && brd.is_ipv4() != a.prefix.addr.is_ipv4()
        {
            self.err(
                K::AddressFamily,
                a.origin,
                "broadcast address and address are of different families",
            );
        }
        Some(a)
    }

    fn scope(&mut self, word: &Word) -> Option<Scope> {
        Some(match word.s() {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            _ => match word.text.parse::<u8>() {
                Ok(0) => Scope::Global,
                Ok(200) => Scope::Site,
                Ok(253) => Scope::Link,
                Ok(254) => Scope::Host,
                Ok(255) => Scope::Nowhere,
                Ok(n) => Scope::Other(n),
                Err(_) => {
                    self.err(
                        K::InvalidValue,
                        span(word),
                        format!("expected a scope (global, site, link, host, nowhere or a number), found `{}`", word.text),
                    );
                    return None;
                }
            },
        })
    }

    fn route(&mut self, node: &Node<'s>) -> Option<Route> {
        self.no_block(node);
        let words: Vec<&Word> = std::iter::once(&node.keyword)
            .chain(self.args(node))
            .collect();
        let mut r = Route {
            route_type: None,
            to: Prefix {
                addr: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                len: Some(0),
            },
            src: None,
            via: None,
            or: None,
            dev: None,
            table: None,
            metric: None,
            scope: None,
            protocol: None,
            no_track: false,
            track_group: None,
            options: Vec::new(),
            origin: node_origin(node),
        };
        let mut have_to = false;
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let key = word.s();
            let value = words.get(i + 1).copied();
            let mut take = |b: &mut Self| -> Option<&Word> {
                if value.is_none() {
                    b.err(K::Missing, span(word), format!("`{key}` needs a value"));
                }
                i += 1;
                value
            };
            match key {
                "blackhole" | "unreachable" | "prohibit" | "throw" if !have_to => {
                    r.route_type = Some(match key {
                        "blackhole" => RouteType::Blackhole,
                        "unreachable" => RouteType::Unreachable,
                        "prohibit" => RouteType::Prohibit,
                        _ => RouteType::Throw,
                    });
                }
                "to" if !have_to => {
                    if let Some(v) = take(self) {
                        r.to = self.prefix_word(v)?;
                        have_to = true;
                    }
                }
                "src" => {
                    if let Some(v) = take(self) {
                        r.src = self.ip_word(v);
                    }
                }
                "via" | "gw" => {
                    if key == "gw" {
                        self.warn(
                            K::Deprecated,
                            span(word),
                            "`gw` for routes is deprecated; use `via`",
                        );
                    }
                    if let Some(v) = take(self) {
                        // `via inet6 ADDR` is accepted by ip; keep it simple: the address.
                        r.via = self.ip_word(v);
                    }
                }
                "or" => {
                    if let Some(v) = take(self) {
                        r.or = self.ip_word(v);
                    }
                }
                "dev" | "oif" => {
                    if let Some(v) = take(self) {
                        r.dev = Some(v.text.to_string());
                    }
                }
                "table" => {
                    if let Some(v) = take(self) {
                        r.table = Some(v.text.to_string());
                    }
                }
                "metric" | "priority" | "preference" => {
                    if let Some(v) = take(self) {
                        r.metric = self.int_word(v, 0, u32::MAX.into()).map(|m| m as u32);
                    }
                }
                "scope" => {
                    if let Some(v) = take(self) {
                        r.scope = self.scope(v);
                    }
                }
                "protocol" | "proto" => {
                    if let Some(v) = take(self) {
                        r.protocol = Some(v.text.to_string());
                    }
                }
                "track_group" => {
                    if let Some(v) = take(self) {
                        r.track_group = Some(v.text.to_string());
                    }
                }
                "no_track" => r.no_track = true,
                _ if !have_to
                    && (word.text.parse::<IpAddr>().is_ok() || word.text.contains('/')) =>
                {
                    r.to = self.prefix_word(word)?;
                    have_to = true;
                }
                "default" if !have_to => {
                    have_to = true;
                }
                _ => r.options.push(word.text.to_string()),
            }
            i += 1;
        }
        if !have_to {
            self.err(
                K::Missing,
                r.origin,
                "a route needs a destination (ADDRESS[/PREFIX])",
            );
            return None;
        }
        if r.dev.is_none() && !r.no_track && r.track_group.is_none() {
            self.warn(
                K::Missing,
                r.origin,
                format!("route {} has no `dev`, so keepalived cannot track it", r.to),
            );
        }
        for gw in [r.via, r.src, r.or].into_iter().flatten() {
            if gw.is_ipv4() != r.to.addr.is_ipv4() && r.to.len != Some(0) {
                self.err(
                    K::AddressFamily,
                    r.origin,
                    format!("{gw} is not of the family of the destination {}", r.to),
                );
            }
        }
        Some(r)
    }

    fn rule(&mut self, node: &Node<'s>) -> Option<Rule> {
        self.no_block(node);
        let words: Vec<&Word> = std::iter::once(&node.keyword)
            .chain(self.args(node))
            .collect();
        let mut r = Rule {
            from: None,
            to: None,
            table: None,
            preference: None,
            fwmark: None,
            iif: None,
            oif: None,
            no_track: false,
            track_group: None,
            options: Vec::new(),
            origin: node_origin(node),
        };
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let key = word.s();
            let value = words.get(i + 1).copied();
            let takes = matches!(
                key,
                "from"
                    | "to"
                    | "table"
                    | "lookup"
                    | "preference"
                    | "priority"
                    | "pref"
                    | "fwmark"
                    | "iif"
                    | "oif"
                    | "track_group"
            );
            if takes {
                let Some(v) = value else {
                    self.err(K::Missing, span(word), format!("`{key}` needs a value"));
                    break;
                };
                i += 1;
                match key {
                    "from" => {
                        r.from = if v.text == "all" {
                            None
                        } else {
                            self.prefix_word(v)
                        }
                    }
                    "to" => {
                        r.to = if v.text == "all" {
                            None
                        } else {
                            self.prefix_word(v)
                        }
                    }
                    "table" | "lookup" => r.table = Some(v.text.to_string()),
                    "preference" | "priority" | "pref" => {
                        r.preference = self.int_word(v, 0, u32::MAX.into()).map(|p| p as u32);
                    }
                    "fwmark" => r.fwmark = Some(v.text.to_string()),
                    "iif" => r.iif = Some(v.text.to_string()),
                    "oif" => r.oif = Some(v.text.to_string()),
                    _ => r.track_group = Some(v.text.to_string()),
                }
            } else if key == "no_track" {
                r.no_track = true;
            } else {
                r.options.push(word.text.to_string());
            }
            i += 1;
        }
        if let (Some(from), Some(to)) = (r.from, r.to)
            && from.addr.is_ipv4() != to.addr.is_ipv4()
        {
            self.err(
                K::AddressFamily,
                r.origin,
                "`from` and `to` of a rule are of different families",
            );
        }
        Some(r)
    }

    // ---------------------------------------------------------------- vrrp

    fn vrrp_script(&mut self, node: &Node<'s>) -> VrrpScript {
        let mut s = VrrpScript {
            name: self.name_arg(node, "a script name"),
            origin: node_origin(node),
            ..VrrpScript::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "script" => {
                    self.no_block(item);
                    if self.arg(item, 0, "a command").is_some() {
                        let words: Vec<&str> = self.args(item).iter().map(|w| w.s()).collect();
                        s.script = Some(Script {
                            command: words.join(" "),
                            user: None,
                            group: None,
                        });
                    }
                }
                "interval" => s.interval = self.timer(item),
                "timeout" => s.timeout = self.timer(item),
                "weight" => s.weight = self.weight(item, -253, 253),
                "rise" => s.rise = self.int(item, 1, u32::MAX.into()).map(|v| v as u32),
                "fall" => s.fall = self.int(item, 1, u32::MAX.into()).map(|v| v as u32),
                "user" => s.user = self.user(item),
                "init_fail" => s.init_fail = self.bare(item),
                _ => self.unknown(item, "vrrp_script"),
            }
        }
        if s.script.is_none() {
            self.err(
                K::Missing,
                s.origin,
                format!("vrrp_script `{}` has no `script`", s.name),
            );
        }
        s
    }

    fn track_file(&mut self, node: &Node<'s>) -> TrackFile {
        let mut t = TrackFile {
            name: self.name_arg(node, "a name"),
            origin: node_origin(node),
            ..TrackFile::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "file" => t.file = self.string(item),
                "weight" => t.weight = self.weight(item, -2_147_483_647, 2_147_483_647),
                "init_file" => {
                    self.no_block(item);
                    let mut value = None;
                    let mut overwrite = false;
                    for w in self.args(item) {
                        if w.text == "overwrite" {
                            overwrite = true;
                        } else {
                            value = self.int_word(w, i64::from(i32::MIN), i64::from(i32::MAX));
                        }
                    }
                    t.init_file = Some((value, overwrite));
                }
                _ => self.unknown(item, "track_file"),
            }
        }
        if t.file.is_none() {
            self.err(
                K::Missing,
                t.origin,
                format!("track_file `{}` has no `file`", t.name),
            );
        }
        t
    }

    /// Items of a `track_*` block: `NAME [weight N [reverse]]`.
    fn tracks(&mut self, node: &Node<'s>, min: i64, max: i64) -> Vec<Track> {
        let mut out = Vec::new();
        // Names may also be listed on the keyword line in old configurations.
        for item in self.block(node) {
            self.no_block(item);
            let weight = match self.args(item).first() {
                None => None,
                Some(w) if w.text == "weight" => {
                    if self.args(item).len() < 2 {
                        self.err(K::Missing, span(w), "`weight` needs a number");
                        None
                    } else {
                        self.weight_args(item, 1, min, max)
                    }
                }
                Some(w) => {
                    self.err(
                        K::InvalidValue,
                        span(w),
                        format!("expected `weight N`, found `{}`", w.text),
                    );
                    None
                }
            };
            out.push(Track {
                name: item.keyword.text.to_string(),
                weight,
                origin: node_origin(item),
            });
        }
        out
    }

    /// Handles the notify keywords shared by sync groups and instances.
    fn notify(&mut self, node: &Node<'s>, n: &mut Notify, instance: bool) -> bool {
        let slot = match node.keyword.s() {
            "notify_deleted" | "notify_master_rx_lower_pri" if !instance => return false,
            "notify_master" => &mut n.master,
            "notify_backup" => &mut n.backup,
            "notify_fault" => &mut n.fault,
            "notify_stop" => &mut n.stop,
            "notify_deleted" => &mut n.deleted,
            "notify" => &mut n.any,
            "notify_master_rx_lower_pri" => &mut n.master_rx_lower_pri,
            "notify_priority_changes" => {
                n.priority_changes = self.flag(node);
                return true;
            }
            _ => return false,
        };
        *slot = self.script(node);
        true
    }

    fn sync_group(&mut self, node: &Node<'s>) -> SyncGroup {
        let mut g = SyncGroup {
            name: self.name_arg(node, "a group name"),
            origin: node_origin(node),
            ..SyncGroup::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "group" => g.group = self.tracks(item, 0, 0),
                "track_interface" => g.track_interface = self.tracks(item, -253, 253),
                "track_script" => g.track_script = self.tracks(item, -253, 253),
                "track_file" => g.track_file = self.tracks(item, -254, 254),
                "track_process" => g.track_process = self.tracks(item, -254, 254),
                "track_bfd" => g.track_bfd = self.tracks(item, -253, 253),
                "smtp_alert" => g.smtp_alert = self.flag(item),
                "global_tracking" => g.global_tracking = self.bare(item),
                "sync_group_tracking_weight" => g.sync_group_tracking_weight = self.bare(item),
                _ => {
                    if !self.notify(item, &mut g.notify, false) {
                        self.unknown(item, "vrrp_sync_group");
                    }
                }
            }
        }
        for t in &g.group {
            if t.weight.is_some() {
                self.err(
                    K::InvalidValue,
                    t.origin,
                    "sync group members take no weight",
                );
            }
        }
        g
    }

    fn instance(&mut self, node: &Node<'s>) -> VrrpInstance {
        let mut v = VrrpInstance {
            name: self.name_arg(node, "an instance name"),
            origin: node_origin(node),
            ..VrrpInstance::default()
        };
        for item in self.block(node) {
            let kw = item.keyword.s();
            match kw {
                "state" => {
                    if let Some(word) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "MASTER or BACKUP")
                    } {
                        v.state = match word.s() {
                            "MASTER" => Some(InitialState::Master),
                            "BACKUP" => Some(InitialState::Backup),
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(word),
                                    format!("expected MASTER or BACKUP, found `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "interface" => {
                    v.interface = self.string(item).map(|s| Spanned {
                        value: s,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "vrf" => v.vrf = self.string(item),
                "use_vmac" => {
                    self.no_block(item);
                    self.too_many(item, 2);
                    let mut vmac = UseVmac::default();
                    for w in self.args(item) {
                        if w.text.len() == 17 && w.text.matches(':').count() == 5 {
                            vmac.mac = Some(w.text.to_string());
                        } else {
                            vmac.name = Some(w.text.to_string());
                        }
                    }
                    v.use_vmac = Some(vmac);
                }
                "use_vmac_addr" => v.use_vmac_addr = self.bare(item),
                "vmac_xmit_base" => v.vmac_xmit_base = self.bare(item),
                "native_ipv6" => v.native_ipv6 = self.bare(item),
                "dont_track_primary" => v.dont_track_primary = self.bare(item),
                "track_interface" => v.track_interface = self.tracks(item, -253, 253),
                "track_script" => v.track_script = self.tracks(item, -253, 253),
                "track_file" => v.track_file = self.tracks(item, -254, 254),
                "track_process" => v.track_process = self.tracks(item, -254, 254),
                "track_bfd" => v.track_bfd = self.tracks(item, -253, 253),
                "mcast_src_ip" | "unicast_src_ip" => {
                    v.src_ip = self.ip(item).map(|ip| Spanned {
                        value: ip,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "mcast_dst_ip" => {
                    if let Some(ip) = self.ip(item) {
                        if ip.is_multicast() {
                            v.mcast_dst_ip = Some(ip);
                        } else {
                            self.err(
                                K::InvalidValue,
                                span(&self.args(item)[0]),
                                format!("mcast_dst_ip must be a multicast address, found {ip}"),
                            );
                        }
                    }
                }
                "track_src_ip" => v.track_src_ip = self.bare(item),
                "version" => {
                    v.version = self.int(item, 2, 3).map(|n| Spanned {
                        value: n as u8,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "check_unicast_src" => v.check_unicast_src = self.bare(item),
                "unicast_peer" => {
                    for peer in self.block(item) {
                        if let Some(p) = self.unicast_peer(peer) {
                            v.unicast_peer.push(p);
                        }
                    }
                }
                "unicast_fault_no_peer" => v.unicast_fault_no_peer = self.bare(item),
                "unicast_ttl" => v.unicast_ttl = self.int(item, 0, 255).map(|n| n as u8),
                "old_unicast_checksum" => {
                    self.no_block(item);
                    v.old_unicast_checksum =
                        Some(self.args(item).first().is_some_and(|w| w.text == "never"));
                }
                "garp_master_delay" => v.garp_master_delay = self.u32(item),
                "garp_master_repeat" => v.garp_master_repeat = self.u32(item),
                "garp_lower_prio_delay" => v.garp_lower_prio_delay = self.u32(item),
                "garp_lower_prio_repeat" => v.garp_lower_prio_repeat = self.u32(item),
                "garp_master_refresh" => v.garp_master_refresh = self.u32(item),
                "garp_master_refresh_repeat" => v.garp_master_refresh_repeat = self.u32(item),
                "garp_extra_if" | "vmac_garp_intvl" => {
                    if item.keyword.s() == "vmac_garp_intvl" {
                        self.deprecated(item, "garp_extra_if");
                    }
                    v.garp_extra_if = self.garp_extra_if(item);
                }
                "lvs_sync_daemon_interface" => {
                    self.warn(
                        K::Deprecated,
                        node_origin(item),
                        "`lvs_sync_daemon_interface` in a vrrp_instance is deprecated; use `lvs_sync_daemon` in global_defs",
                    );
                    v.lvs_sync_daemon_interface = self.string(item);
                }
                "down_timer_adverts" => {
                    v.down_timer_adverts = self.int(item, 1, 100).map(|n| n as u32);
                }
                "lower_prio_no_advert" => v.lower_prio_no_advert = self.flag(item),
                "higher_prio_send_advert" => v.higher_prio_send_advert = self.flag(item),
                "virtual_router_id" => {
                    v.virtual_router_id = self.int(item, 1, 255).map(|n| Spanned {
                        value: n as u8,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "priority" => {
                    v.priority = self.int(item, 1, 255).map(|n| Spanned {
                        value: n as u8,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "advert_int" => {
                    v.advert_int = self.timer(item).map(|t| Spanned {
                        value: t,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "authentication" => v.authentication = Some(self.authentication(item)),
                "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                    let mut list = Vec::new();
                    for a in self.block(item) {
                        if let Some(a) = self.ip_address(a, false) {
                            list.push(a);
                        }
                    }
                    if kw == "virtual_ipaddress" {
                        v.virtual_ipaddress.extend(list);
                    } else {
                        v.virtual_ipaddress_excluded.extend(list);
                    }
                }
                "promote_secondaries" => v.promote_secondaries = self.bare(item),
                "virtual_routes" => {
                    for r in self.block(item) {
                        if let Some(r) = self.route(r) {
                            v.virtual_routes.push(r);
                        }
                    }
                }
                "virtual_rules" => {
                    for r in self.block(item) {
                        if let Some(r) = self.rule(r) {
                            v.virtual_rules.push(r);
                        }
                    }
                }
                "accept" => v.accept = Some(self.bare(item)),
                "no_accept" => v.accept = Some(!self.bare(item)),
                "nopreempt" => v.nopreempt = Some(self.bare(item)),
                "preempt" => v.nopreempt = Some(!self.bare(item)),
                "preempt_delay" => {
                    v.preempt_delay = self.timer(item).map(|t| Spanned {
                        value: t,
                        origin: span(&self.args(item)[0]),
                    });
                    if let Some(d) = v.preempt_delay
                        && d.value > Timer::from_secs(1000)
                    {
                        self.err(
                            K::OutOfRange,
                            d.origin,
                            format!(
                                "preempt_delay {} is above the maximum of 1000 seconds",
                                d.value
                            ),
                        );
                        v.preempt_delay = None;
                    }
                }
                "skip_check_adv_addr" => v.skip_check_adv_addr = self.flag(item),
                "strict_mode" => v.strict_mode = self.flag(item),
                "debug" => v.debug = self.u32(item),
                "smtp_alert" => v.smtp_alert = self.flag(item),
                "linkbeat_use_polling" => v.linkbeat_use_polling = self.bare(item),
                _ => {
                    if !self.notify(item, &mut v.notify, true) {
                        self.other(item, keywords::VRRP_INSTANCE, "vrrp_instance", &mut v.extra);
                    }
                }
            }
        }
        v
    }

    fn unicast_peer(&mut self, node: &Node<'s>) -> Option<UnicastPeer> {
        self.no_block(node);
        let addr = self.ip_word(&node.keyword)?;
        let mut p = UnicastPeer {
            addr,
            min_ttl: None,
            max_ttl: None,
            origin: node_origin(node),
        };
        let mut args = self.args(node).iter();
        while let Some(w) = args.next() {
            let slot = match w.s() {
                "min_ttl" => &mut p.min_ttl,
                "max_ttl" => &mut p.max_ttl,
                other => {
                    self.err(
                        K::InvalidValue,
                        span(w),
                        format!("expected min_ttl or max_ttl, found `{other}`"),
                    );
                    continue;
                }
            };
            match args.next() {
                Some(v) => *slot = self.int_word(v, 0, 255).map(|n| n as u8),
                None => self.err(K::Missing, span(w), format!("`{}` needs a number", w.text)),
            }
        }
        Some(p)
    }

    fn authentication(&mut self, node: &Node<'s>) -> Authentication {
        let mut a = Authentication {
            auth_type: None,
            auth_pass: None,
            origin: node_origin(node),
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "auth_type" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "PASS or AH")
                    } {
                        a.auth_type = match w.s() {
                            "PASS" => Some(AuthType::Pass),
                            "AH" => Some(AuthType::Ah),
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("expected PASS or AH, found `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "auth_pass" => {
                    a.auth_pass = self.string(item);
                    if let Some(p) = &a.auth_pass
                        && p.len() > 8
                    {
                        self.warn(
                            K::OutOfRange,
                            span(&self.args(item)[0]),
                            format!(
                                "auth_pass is {} characters; only the first 8 are used",
                                p.len()
                            ),
                        );
                    }
                }
                _ => self.unknown(item, "authentication"),
            }
        }
        a
    }

    // ---------------------------------------------------------------- lvs

    fn vs_group(&mut self, node: &Node<'s>) -> VirtualServerGroup {
        let mut g = VirtualServerGroup {
            name: self.name_arg(node, "a group name"),
            origin: node_origin(node),
            entries: Vec::new(),
        };
        for item in self.block(node) {
            self.no_block(item);
            if item.keyword.text == "fwmark" {
                self.too_many(item, 2);
                let Some(w) = self.arg(item, 0, "a mark") else {
                    continue;
                };
                let Some(mark) = self.int_word(w, 1, u32::MAX.into()) else {
                    continue;
                };
                let family = match self.args(item).get(1).map(|w| (w, w.s())) {
                    None => None,
                    Some((_, "inet")) => Some(Family::Inet),
                    Some((_, "inet6")) => Some(Family::Inet6),
                    Some((w, other)) => {
                        self.err(
                            K::InvalidValue,
                            span(w),
                            format!("expected inet or inet6, found `{other}`"),
                        );
                        None
                    }
                };
                g.entries.push(GroupEntry::Fwmark {
                    mark: mark as u32,
                    family,
                });
                continue;
            }
            self.too_many(item, 1);
            let text = &item.keyword.text;
            // ADDR-LAST: the range suffix follows the last '-'.
            let (addr_text, range) = match text.rsplit_once('-') {
                Some((a, r)) if a.parse::<IpAddr>().is_ok() => (a, Some(r)),
                _ => (&**text, None),
            };
            let Ok(addr) = addr_text.parse::<IpAddr>() else {
                self.err(
                    K::InvalidValue,
                    node_origin(item),
                    format!("expected ADDRESS[-LAST] [PORT] or fwmark N, found `{text}`"),
                );
                continue;
            };
            let range_end = match range {
                None => None,
                Some(r) => {
                    let parsed = if addr.is_ipv4() {
                        r.parse::<u8>().ok().map(u16::from)
                    } else {
                        u16::from_str_radix(r, 16).ok()
                    };
                    let first = match addr {
                        IpAddr::V4(a) => u16::from(a.octets()[3]),
                        IpAddr::V6(a) => a.segments()[7],
                    };
                    match parsed {
                        Some(end) if end >= first => Some(end),
                        _ => {
                            self.err(
                                K::InvalidValue,
                                node_origin(item),
                                format!("range end `{r}` is not a number at or above the start of `{text}`"),
                            );
                            continue;
                        }
                    }
                }
            };
            let port = match self.args(item).first() {
                Some(p) => self.port_word(p),
                None => None,
            };
            g.entries.push(GroupEntry::Addr {
                addr,
                range_end,
                port,
            });
        }
        g
    }

    /// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
    fn lvs_method(&mut self, node: &Node<'s>) -> Option<LvsMethod> {
        self.no_block(node);
        let word = self.arg(node, 0, "NAT, DR or TUN")?;
        match word.s() {
            "NAT" | "DR" => {
                self.too_many(node, 1);
                Some(if word.text == "NAT" {
                    LvsMethod::Nat
                } else {
                    LvsMethod::Dr
                })
            }
            "TUN" => {
                let mut tunnel_type = None;
                let mut checksum = None;
                let mut args = self.args(node)[1..].iter();
                while let Some(w) = args.next() {
                    match w.s() {
                        "type" => match args.next().map(|t| (t, t.s())) {
                            Some((_, "ipip")) => tunnel_type = Some(TunnelType::Ipip),
                            Some((_, "gre")) => tunnel_type = Some(TunnelType::Gre),
                            Some((_, "gue")) => {
                                let port_kw = args.next();
                                let port = args.next();
                                match (port_kw.map(|p| p.s()), port) {
                                    (Some("port"), Some(p)) => {
                                        if let Some(port) = self.port_word(p) {
                                            tunnel_type = Some(TunnelType::Gue { port });
                                        }
                                    }
                                    _ => self.err(
                                        K::Missing,
                                        span(w),
                                        "tunnel type gue needs `port N`",
                                    ),
                                }
                            }
                            Some((t, other)) => self.err(
                                K::InvalidValue,
                                span(t),
                                format!("expected ipip, gue or gre, found `{other}`"),
                            ),
                            None => self.err(K::Missing, span(w), "`type` needs ipip, gue or gre"),
                        },
                        "nocsum" => checksum = Some(TunnelChecksum::NoCsum),
                        "csum" => checksum = Some(TunnelChecksum::Csum),
                        "remcsum" => checksum = Some(TunnelChecksum::RemCsum),
                        other => self.err(
                            K::InvalidValue,
                            span(w),
                            format!("unexpected `{other}` after TUN"),
                        ),
                    }
                }
                if checksum.is_some()
                    && !matches!(
                        tunnel_type,
                        Some(TunnelType::Gue { .. }) | Some(TunnelType::Gre)
                    )
                {
                    self.err(
                        K::Conflict,
                        node_origin(node),
                        "tunnel checksum options need type gue or gre",
                    );
                }
                Some(LvsMethod::Tun {
                    tunnel_type,
                    checksum,
                })
            }
            other => {
                self.err(
                    K::InvalidValue,
                    span(word),
                    format!("expected NAT, DR or TUN, found `{other}`"),
                );
                None
            }
        }
    }

    /// The options shared by virtual servers, real servers and checkers; false if not one.
    /// `in_checker`: the node is inside a checker, the only place `nb_get_retry` is read.
    fn check_default(&mut self, node: &Node<'s>, d: &mut CheckDefaults, in_checker: bool) -> bool {
        match node.keyword.s() {
            "nb_get_retry" if !in_checker => return false,
            "connect_timeout" => d.connect_timeout = self.timer(node),
            "retry" => d.retry = self.u32(node),
            "nb_get_retry" => {
                self.deprecated(node, "retry");
                d.retry = self.u32(node);
            }
            "delay_before_retry" => d.delay_before_retry = self.timer(node),
            "warmup" => d.warmup = self.timer(node),
            "delay_loop" => d.delay_loop = self.timer(node),
            "alpha" => d.alpha = self.flag(node),
            "inhibit_on_failure" => d.inhibit_on_failure = self.flag(node),
            "smtp_alert" => d.smtp_alert = self.flag(node),
            "virtualhost" => d.virtualhost = self.string(node),
            _ => return false,
        }
        true
    }

    fn virtual_server(&mut self, node: &Node<'s>) -> Option<VirtualServer> {
        let origin = node_origin(node);
        let first = self.arg(node, 0, "ADDRESS [PORT], fwmark N or group NAME");
        let addr = match first.map(|w| (w, w.s())) {
            None => None,
            Some((_, "fwmark")) => {
                self.too_many(node, 2);
                self.arg(node, 1, "a mark")
                    .and_then(|w| self.int_word(w, 1, u32::MAX.into()))
                    .map(|m| VirtualServerAddr::Fwmark(m as u32))
            }
            Some((_, "group")) => {
                self.too_many(node, 2);
                self.arg(node, 1, "a group name")
                    .map(|w| VirtualServerAddr::Group(w.text.to_string()))
            }
            Some((w, _)) => {
                self.too_many(node, 2);
                let addr = self.ip_word(w);
                let port = match self.args(node).get(1) {
                    Some(p) => self.port_word(p),
                    None => None,
                };
                addr.map(|addr| VirtualServerAddr::Ip { addr, port })
            }
        };
        let mut vs = VirtualServer {
            origin,
            ..VirtualServer::new(addr.clone().unwrap_or(VirtualServerAddr::Fwmark(0)))
        };
        let block = self.block(node);
        vs.real_servers = Vec::with_capacity(
            block
                .iter()
                .filter(|n| n.keyword.s() == "real_server")
                .count(),
        );
        for item in block {
            let kw = item.keyword.s();
            if self.check_default(item, &mut vs.defaults, false) {
                continue;
            }
            match kw {
                "lvs_sched" | "lb_algo" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "a scheduler")
                    } {
                        match Scheduler::ALL.iter().find(|(_, n)| *n == w.text) {
                            Some((s, _)) => vs.lvs_sched = Some(*s),
                            None => self.err(
                                K::InvalidValue,
                                span(w),
                                format!("unknown scheduler `{}` (expected rr, wrr, lc, wlc, lblc, lblcr, dh, sh, mh, sed, nq, fo, ovf or twos)", w.text),
                            ),
                        }
                    }
                }
                "flag-1" => vs.flag_1 = self.bare(item),
                "flag-2" => vs.flag_2 = self.bare(item),
                // keepalived reads these against the scheduler set so far: they need sh (or
                // mh) before them, and `hashed` is never more than this message.
                kw @ ("sh-fallback" | "mh-fallback" | "sh-port" | "mh-port" | "hashed") => {
                    let flag = self.bare(item);
                    let wanted = match kw {
                        "sh-fallback" | "sh-port" => Some(Scheduler::Sh),
                        "mh-fallback" | "mh-port" => Some(Scheduler::Mh),
                        _ => None,
                    };
                    if !matches!(vs.lvs_sched, Some(Scheduler::Sh | Scheduler::Mh)) {
                        self.err(
                            K::Conflict,
                            node_origin(item),
                            format!("`{kw}` only applies to the sh and mh schedulers (set before it); it is ignored"),
                        );
                    } else if wanted == vs.lvs_sched {
                        if kw.ends_with("fallback") {
                            vs.flag_1 = flag;
                        } else {
                            vs.flag_2 = flag;
                        }
                    }
                }
                "flag-3" => vs.flag_3 = self.bare(item),
                "ops" => vs.ops = self.bare(item),
                "lvs_method" | "lb_kind" => vs.lvs_method = self.lvs_method(item),
                "persistence_engine" => vs.persistence_engine = self.string(item),
                "persistence_timeout" => {
                    self.no_block(item);
                    self.too_many(item, 1);
                    vs.persistence_timeout = match self.args(item).first() {
                        None => Some(None),
                        Some(w) => self.int_word(w, 1, u32::MAX.into()).map(|t| Some(t as u32)),
                    };
                }
                "persistence_granularity" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "a netmask or prefix length")
                    } {
                        if let Ok(mask) = w.text.parse::<std::net::Ipv4Addr>() {
                            let bits = u32::from(mask);
                            if bits.leading_ones() + bits.trailing_zeros() == 32 {
                                vs.persistence_granularity = Some(Granularity::Mask(mask));
                            } else {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("`{mask}` is not a contiguous netmask"),
                                );
                            }
                        } else if let Some(n) = self.int_word(w, 1, 128) {
                            vs.persistence_granularity = Some(Granularity::PrefixLen(n as u8));
                        }
                    }
                }
                "protocol" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "TCP, UDP or SCTP")
                    } {
                        vs.protocol = match w.s() {
                            "TCP" => Some(Protocol::Tcp),
                            "UDP" => Some(Protocol::Udp),
                            "SCTP" => Some(Protocol::Sctp),
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("expected TCP, UDP or SCTP, found `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "ha_suspend" => vs.ha_suspend = self.bare(item),
                "snmp_name" => vs.snmp_name = self.string(item),
                "omega" => vs.omega = self.bare(item),
                "weight" => vs.weight = self.int(item, 1, i32::MAX.into()).map(|w| w as u32),
                "quorum" => {
                    vs.quorum = self.int(item, 1, u32::MAX.into()).map(|q| Spanned {
                        value: q as u32,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "hysteresis" => vs.hysteresis = self.u32(item),
                "quorum_up" => vs.quorum_up = self.script(item),
                "quorum_down" => vs.quorum_down = self.script(item),
                "ip_family" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.arg(item, 0, "inet or inet6")
                    } {
                        vs.ip_family = match w.s() {
                            "inet" => Some(Family::Inet),
                            "inet6" => Some(Family::Inet6),
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("expected inet or inet6, found `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "sorry_server" => {
                    self.no_block(item);
                    self.too_many(item, 2);
                    if let Some(w) = self.arg(item, 0, "an address") {
                        let addr = self.ip_word(w);
                        let port = match self.args(item).get(1) {
                            Some(p) => self.port_word(p),
                            None => None,
                        };
                        vs.sorry_server = addr.map(|addr| SorryServer { addr, port });
                    }
                }
                "sorry_server_inhibit" => vs.sorry_server_inhibit = self.bare(item),
                "sorry_server_lvs_method" => vs.sorry_server_lvs_method = self.lvs_method(item),
                "real_server" => {
                    if let Some(rs) = self.real_server(item) {
                        vs.real_servers.push(rs);
                    }
                }
                _ => self.other(
                    item,
                    keywords::VIRTUAL_SERVER,
                    "virtual_server",
                    &mut vs.extra,
                ),
            }
        }
        addr.map(|_| vs)
    }

    fn real_server(&mut self, node: &Node<'s>) -> Option<RealServer> {
        self.too_many(node, 2);
        let addr = self
            .arg(node, 0, "ADDRESS [PORT]")
            .and_then(|w| self.ip_word(w));
        let port = match self.args(node).get(1) {
            Some(p) => self.port_word(p),
            None => None,
        };
        let mut rs = RealServer {
            origin: node_origin(node),
            ..RealServer::new(
                addr.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
                port,
            )
        };
        // real_server may be written without a block (no checker).
        let block = self.kids(node);
        rs.checkers =
            Vec::with_capacity(block.iter().filter(|n| is_checker(n.keyword.s())).count());
        for item in block {
            if self.check_default(item, &mut rs.defaults, false) {
                continue;
            }
            match item.keyword.s() {
                "weight" => {
                    rs.weight = self.int(item, 0, 65535).map(|w| w as i32);
                }
                "lvs_method" => rs.lvs_method = self.lvs_method(item),
                "notify_up" => rs.notify_up = self.script(item),
                "notify_down" => rs.notify_down = self.script(item),
                "uthreshold" => rs.uthreshold = self.u32(item),
                "lthreshold" => rs.lthreshold = self.u32(item),
                "snmp_name" => rs.snmp_name = self.string(item),
                kw if is_checker(kw) => {
                    let c = self.checker(item);
                    rs.checkers.push(c);
                }
                _ => self.other(item, keywords::REAL_SERVER, "real_server", &mut rs.extra),
            }
        }
        if let (Some(u), Some(l)) = (rs.uthreshold, rs.lthreshold)
            && l > u
        {
            self.err(
                K::Conflict,
                rs.origin,
                format!("lthreshold {l} is above uthreshold {u}"),
            );
        }
        addr.map(|_| rs)
    }

    /// `connect_ip`, `connect_port`, `bindto`, `bind_if`, `bind_port`, `fwmark`.
    fn connect_option(&mut self, node: &Node<'s>, c: &mut Connect) -> bool {
        match node.keyword.s() {
            "connect_ip" => c.connect_ip = self.ip(node),
            "connect_port" => c.connect_port = self.port(node),
            "bindto" => c.bindto = self.ip(node),
            "bind_if" => c.bind_if = self.string(node),
            "bind_port" => c.bind_port = self.port(node),
            "fwmark" => c.fwmark = self.u32(node),
            _ => return false,
        }
        true
    }

    fn checker(&mut self, node: &Node<'s>) -> Checker {
        let kw = node.keyword.s();
        self.too_many(node, 0);
        let mut kind = match kw {
            "TCP_CHECK" => CheckerKind::Tcp,
            "HTTP_GET" => CheckerKind::Http(HttpCheck::default()),
            "SSL_GET" => CheckerKind::Ssl(HttpCheck::default()),
            "SMTP_CHECK" => CheckerKind::Smtp {
                helo_name: None,
                hosts: Vec::new(),
            },
            "DNS_CHECK" => CheckerKind::Dns {
                query_type: None,
                name: None,
            },
            "MISC_CHECK" => CheckerKind::Misc {
                path: None,
                timeout: None,
                dynamic: false,
            },
            "UDP_CHECK" => CheckerKind::Udp {
                payload: None,
                require_reply: None,
                min_reply_length: None,
                max_reply_length: None,
            },
            "FILE_CHECK" => CheckerKind::File {
                track_file: None,
                weight: None,
            },
            "BFD_CHECK" => CheckerKind::Bfd { name: None },
            _ => CheckerKind::Ping,
        };
        let mut c = Checker {
            origin: node_origin(node),
            ..Checker::new(CheckerKind::Ping)
        };
        let block = self.kids(node);
        for item in block {
            let ikw = item.keyword.s();
            if !keywords::checker_takes(kw, ikw) {
                self.unknown(item, kw);
                continue;
            }
            if self.connect_option(item, &mut c.connect)
                || self.check_default(item, &mut c.defaults, true)
            {
                continue;
            }
            let handled = match (&mut kind, ikw) {
                (_, "log_all_failures") => {
                    c.log_all_failures = self.flag(item);
                    true
                }
                (CheckerKind::Http(h) | CheckerKind::Ssl(h), _) => match ikw {
                    "http_protocol" => {
                        h.http_protocol = self.string(item);
                        true
                    }
                    "fast_recovery" => {
                        h.fast_recovery = self.flag(item);
                        true
                    }
                    "enable_sni" => {
                        h.enable_sni = self.bare(item);
                        true
                    }
                    "url" => {
                        let url = self.url(item);
                        h.urls.push(url);
                        true
                    }
                    _ => false,
                },
                (CheckerKind::Smtp { helo_name, hosts }, _) => match ikw {
                    "helo_name" => {
                        *helo_name = self.string(item);
                        true
                    }
                    "host" => {
                        let mut host = SmtpHost::default();
                        for h in self.block(item) {
                            let hkw = h.keyword.s();
                            if hkw == "connect_timeout" {
                                host.connect.connect_timeout = self.timer(h);
                            } else if hkw == "log_all_failures" {
                                host.log_all_failures = self.flag(h);
                            } else {
                                let handled = (keywords::CHECKER_COMMON.contains(&hkw)
                                    && self.check_default(h, &mut host.defaults, true))
                                    || self.connect_option(h, &mut host.connect);
                                if !handled {
                                    self.unknown(h, "SMTP_CHECK host");
                                }
                            }
                        }
                        hosts.push(host);
                        true
                    }
                    _ => false,
                },
                (CheckerKind::Dns { query_type, name }, _) => match ikw {
                    "type" => {
                        *query_type = self.string(item);
                        true
                    }
                    "name" => {
                        *name = self.string(item);
                        true
                    }
                    _ => false,
                },
                (
                    CheckerKind::Misc {
                        path,
                        timeout,
                        dynamic,
                    },
                    _,
                ) => match ikw {
                    "misc_path" => {
                        *path = self.script(item);
                        true
                    }
                    "misc_timeout" => {
                        *timeout = self.timer(item);
                        true
                    }
                    "misc_dynamic" => {
                        *dynamic = self.bare(item);
                        true
                    }
                    "user" => {
                        c.user = self.user(item);
                        true
                    }
                    _ => false,
                },
                (
                    CheckerKind::Udp {
                        payload,
                        require_reply,
                        min_reply_length,
                        max_reply_length,
                    },
                    _,
                ) => match ikw {
                    "payload" => {
                        *payload = self.hex(item, false);
                        true
                    }
                    "require_reply" => {
                        self.no_block(item);
                        *require_reply = Some(if self.args(item).is_empty() {
                            None
                        } else {
                            self.hex(item, true)
                        });
                        true
                    }
                    "min_reply_length" => {
                        *min_reply_length = self.u32(item);
                        true
                    }
                    "max_reply_length" => {
                        *max_reply_length = self.u32(item);
                        true
                    }
                    _ => false,
                },
                (CheckerKind::File { track_file, weight }, _) => match ikw {
                    "track_file" => {
                        *track_file = self.string(item);
                        true
                    }
                    "weight" => {
                        *weight = self.weight(item, -2_147_483_647, 2_147_483_647);
                        true
                    }
                    _ => false,
                },
                (CheckerKind::Bfd { name }, "name") => {
                    *name = self.string(item);
                    true
                }
                _ => false,
            };
            if !handled {
                self.other(item, keywords::CHECKER, kw, &mut c.extra);
            }
        }
        match &kind {
            CheckerKind::Http(h) | CheckerKind::Ssl(h) if h.urls.is_empty() => {
                self.err(K::Missing, c.origin, format!("{kw} has no `url` block"));
            }
            CheckerKind::Misc { path: None, .. } => {
                self.err(K::Missing, c.origin, "MISC_CHECK has no `misc_path`");
            }
            CheckerKind::File {
                track_file: None, ..
            } => {
                self.err(K::Missing, c.origin, "FILE_CHECK has no `track_file`");
            }
            _ => {}
        }
        c.kind = kind;
        c
    }

    /// A hex string (whitespace allowed between bytes, as keepalived accepts).
    fn hex(&mut self, node: &Node<'s>, wildcards: bool) -> Option<String> {
        self.no_block(node);
        let joined: String = self
            .args(node)
            .iter()
            .map(|w| w.s())
            .collect::<Vec<_>>()
            .join(" ");
        match crate::value::parse_hex(&joined, wildcards) {
            Ok(_) => Some(joined),
            Err(e) => {
                self.err(
                    K::InvalidValue,
                    node_origin(node),
                    format!("`{}`: {e}", node.keyword.text),
                );
                None
            }
        }
    }

    fn url(&mut self, node: &Node<'s>) -> Url {
        let mut u = Url {
            origin: node_origin(node),
            ..Url::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "path" => u.path = self.string(item),
                "digest" => {
                    u.digest = self.string(item);
                    if let Some(d) = &u.digest
                        && (d.len() != 32 || !d.chars().all(|c| c.is_ascii_hexdigit()))
                    {
                        self.err(
                            K::InvalidValue,
                            span(&self.args(item)[0]),
                            format!("digest must be 32 hex digits (an MD5), found `{d}`"),
                        );
                    }
                }
                "status_code" => {
                    self.no_block(item);
                    if self.args(item).is_empty() {
                        self.arg(item, 0, "a status code or range");
                    }
                    for w in self.args(item) {
                        match w.s().parse::<StatusRange>() {
                            Ok(range) => u.status_code.push(range),
                            Err(e) => self.err(K::InvalidValue, span(w), e.to_string()),
                        }
                    }
                }
                "virtualhost" => u.virtualhost = self.string(item),
                "regex" => u.regex = self.string(item),
                "regex_no_match" => u.regex_no_match = self.bare(item),
                "regex_options" => {
                    self.no_block(item);
                    u.regex_options = self.args(item).iter().map(|w| w.text.to_string()).collect();
                }
                "regex_stack" => {
                    self.no_block(item);
                    self.too_many(item, 2);
                    let a = self
                        .arg(item, 0, "START MAX")
                        .and_then(|w| self.int_word(w, 0, u32::MAX.into()));
                    let b = self
                        .arg(item, 1, "START MAX")
                        .and_then(|w| self.int_word(w, 0, u32::MAX.into()));
                    if let (Some(a), Some(b)) = (a, b) {
                        u.regex_stack = Some((a as u32, b as u32));
                    }
                }
                "regex_min_offset" => u.regex_min_offset = self.u32(item),
                "regex_max_offset" => u.regex_max_offset = self.u32(item),
                _ => self.unknown(item, "url"),
            }
        }
        if u.path.is_none() {
            self.err(K::Missing, u.origin, "url block has no `path`");
        }
        u
    }
}

fn is_checker(keyword: &str) -> bool {
    matches!(
        keyword,
        "TCP_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "SMTP_CHECK"
            | "DNS_CHECK"
            | "MISC_CHECK"
            | "UDP_CHECK"
            | "PING_CHECK"
            | "FILE_CHECK"
            | "BFD_CHECK"
    )
}

/// Parses a `<TIMER>`: seconds with up to six decimals (more are cut, as keepalived's resolution
/// is a microsecond).
pub(crate) fn parse_timer(text: &str) -> Option<Timer> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    if secs > 1_000_000_000 {
        return None;
    }
    let mut micros = 0u64;
    for (i, c) in frac
        .chars()
        .chain(std::iter::repeat('0'))
        .take(6)
        .enumerate()
    {
        let _ = i;
        micros = micros * 10 + u64::from(c.to_digit(10)?);
    }
    Some(Timer(secs * 1_000_000 + micros))
}

fn directive(nodes: &[Node], words: &[Word], node: &Node) -> Directive {
    Directive {
        keyword: node.keyword.text.to_string(),
        args: words[node.args.0 as usize..node.args.1 as usize]
            .iter()
            .map(|w| w.text.to_string())
            .collect(),
        block: node.block.map(|(start, end)| {
            nodes[start as usize..end as usize]
                .iter()
                .map(|n| directive(nodes, words, n))
                .collect()
        }),
    }
}
