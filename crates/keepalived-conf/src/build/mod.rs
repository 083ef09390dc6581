//! The statement tree to the typed model, with value and keyword diagnostics.

use std::net::IpAddr;

mod checker;
mod global;
mod lvs;
mod net;
mod tracking;
mod vrrp;

use crate::diag::{DiagnosticKind as K, Diagnostics};
use crate::model::*;
use crate::source::{Origin, SourceMap};
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

    /// Adds what the top-level statements `nodes` say to `config`.
    pub(crate) fn top_level(&mut self, nodes: &[Node<'s>], config: &mut Config) {
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
