//! Addresses, routes and rules (`virtual_ipaddress`, `static_*`, `virtual_routes`, ...).

use std::net::IpAddr;

use super::{Builder, node_origin, span};
use crate::diag::DiagnosticKind as K;
use crate::model::*;
use crate::tree::{Node, Word};

impl<'s> Builder<'_, 's> {
    /// One line of `virtual_ipaddress` / `static_ipaddress`.
    pub(super) fn ip_address(&mut self, node: &Node<'s>, is_static: bool) -> Option<IpAddress> {
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

    pub(super) fn scope(&mut self, word: &Word) -> Option<Scope> {
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

    pub(super) fn route(&mut self, node: &Node<'s>) -> Option<Route> {
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

    pub(super) fn rule(&mut self, node: &Node<'s>) -> Option<Rule> {
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
}
