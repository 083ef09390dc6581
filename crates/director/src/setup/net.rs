//! The host side of an instance: `virtual_ipaddress`, `virtual_routes` and `virtual_rules` as
//! `vip` takes them.

use std::net::IpAddr;

use keepalived_conf::model::{self, Broadcast, RouteType};

use super::{Error, Mapper};
use crate::codec::default_group;

impl Mapper<'_> {
    pub(super) fn vip(
        &mut self,
        context: &str,
        a: &model::IpAddress,
        dev: &str,
    ) -> Option<vip::Vip> {
        let mut v = vip::Vip::new(a.prefix.addr, dev);
        if let Some(len) = a.prefix.len {
            v = v.prefix(len);
        }
        match a.broadcast {
            Some(Broadcast::Addr(IpAddr::V4(b))) => v = v.broadcast(b),
            Some(Broadcast::SetHostBits) => v = v.broadcast_from_prefix(),
            Some(Broadcast::Addr(IpAddr::V6(_))) | Some(Broadcast::ClearHostBits) | None => {}
        }
        if let Some(label) = &a.label {
            v = v.label(label.clone());
        }
        if let Some(scope) = a.scope {
            match scope_of(scope) {
                Some(s) => v = v.scope(s),
                None => self.unsupported(context, format!("scope {scope:?}")),
            }
        }
        if a.noprefixroute {
            v = v.noprefixroute(true);
        }
        for (set, what) in [
            (a.peer.is_some(), "peer on a virtual address"),
            (a.use_vmac, "use_vmac on a virtual address"),
            (a.preferred_lft.is_some(), "preferred_lft"),
            (a.track_group.is_some(), "track_group"),
            (
                a.home || a.mngtmpaddr || a.autojoin,
                "home/mngtmpaddr/autojoin",
            ),
        ] {
            if set {
                self.unsupported(context, what);
            }
        }
        match v.validate() {
            Ok(()) => Some(v),
            Err(source) => {
                self.errors.push(Error::Vip {
                    context: format!("{context} virtual_ipaddress {}", a.prefix),
                    source,
                });
                None
            }
        }
    }

    pub(super) fn route(&mut self, context: &str, r: &model::Route) -> Option<vip::Route> {
        let addr = r.to.addr;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let mut route = vip::Route::new(addr, r.to.len.unwrap_or(max));
        if let Some(via) = r.via {
            route = route.via(via);
        }
        if let Some(dev) = &r.dev {
            if self.interface(dev).is_none() {
                self.errors.push(Error::NoSuchInterface {
                    context: format!("{context} virtual_routes"),
                    name: dev.clone(),
                });
            }
            route = route.dev(dev.clone());
        }
        if let Some(src) = r.src {
            route = route.src(src);
        }
        if let Some(scope) = r.scope.and_then(scope_of) {
            route = route.scope(scope);
        }
        if let Some(table) = &r.table {
            route = route.table(self.table(context, table)?);
        }
        if let Some(metric) = r.metric {
            route = route.metric(metric);
        }
        if let Some(kind) = r.route_type {
            route = route.kind(match kind {
                RouteType::Blackhole => vip::RouteKind::Blackhole,
                RouteType::Unreachable => vip::RouteKind::Unreachable,
                RouteType::Prohibit => vip::RouteKind::Prohibit,
                RouteType::Throw => vip::RouteKind::Throw,
            });
        }
        if let Some(protocol) = &r.protocol {
            match protocol.parse::<u8>() {
                Ok(p) => route = route.protocol(p),
                Err(_) => self.unsupported(context, format!("route protocol {protocol}")),
            }
        }
        if r.or.is_some() || !r.options.is_empty() || r.track_group.is_some() {
            self.unsupported(
                context,
                format!("route options {:?} (or/track_group)", r.options),
            );
            return None;
        }
        match route.validate() {
            Ok(()) => Some(route),
            Err(source) => {
                self.errors.push(Error::Vip {
                    context: format!("{context} virtual_routes {}", r.to),
                    source,
                });
                None
            }
        }
    }

    fn table(&mut self, context: &str, table: &str) -> Option<u32> {
        let number = match table {
            "main" => Some(254),
            "local" => Some(255),
            "default" => Some(253),
            other => other.parse().ok(),
        };
        if number.is_none() {
            self.errors.push(Error::Invalid {
                context: context.to_string(),
                message: format!("routing table {table:?} is not a number or main/local/default"),
            });
        }
        number
    }

    pub(super) fn rule(&mut self, context: &str, r: &model::Rule, ipv6: bool) -> Option<vip::Rule> {
        let family = match r.from.or(r.to) {
            Some(p) => vip::Family::of(&p.addr),
            None => vip::Family::of(&default_group(ipv6)),
        };
        let mut action = None;
        let mut rest = Vec::new();
        for word in &r.options {
            match word.as_str() {
                "blackhole" => action = Some(vip::RuleAction::Blackhole),
                "unreachable" => action = Some(vip::RuleAction::Unreachable),
                "prohibit" => action = Some(vip::RuleAction::Prohibit),
                other => rest.push(other.to_string()),
            }
        }
        if let Some(table) = &r.table {
            action = Some(vip::RuleAction::Table(self.table(context, table)?));
        }
        if !rest.is_empty() || r.track_group.is_some() {
            self.unsupported(context, format!("rule options {rest:?} (or track_group)"));
            return None;
        }
        let Some(action) = action else {
            self.errors.push(Error::Missing {
                context: format!("{context} virtual_rules"),
                what: "table or an action",
            });
            return None;
        };
        let mut rule = vip::Rule::new(family, action);
        if let Some(p) = r.from {
            rule = rule.from(p.addr, p.len.unwrap_or(max_len(&p.addr)));
        }
        if let Some(p) = r.to {
            rule = rule.to(p.addr, p.len.unwrap_or(max_len(&p.addr)));
        }
        if let Some(iif) = &r.iif {
            rule = rule.iif(iif.clone());
        }
        if let Some(oif) = &r.oif {
            rule = rule.oif(oif.clone());
        }
        if let Some(pref) = r.preference {
            rule = rule.priority(pref);
        }
        if let Some(mark) = &r.fwmark {
            match parse_fwmark(mark) {
                Some((value, mask)) => rule = rule.fwmark(value, mask),
                None => {
                    self.errors.push(Error::Invalid {
                        context: context.to_string(),
                        message: format!("fwmark {mark:?} is not VALUE[/MASK]"),
                    });
                    return None;
                }
            }
        }
        match rule.validate() {
            Ok(()) => Some(rule),
            Err(source) => {
                self.errors.push(Error::Vip {
                    context: format!("{context} virtual_rules"),
                    source,
                });
                None
            }
        }
    }
}

fn scope_of(scope: model::Scope) -> Option<vip::Scope> {
    Some(match scope {
        model::Scope::Global => vip::Scope::Global,
        model::Scope::Site => vip::Scope::Site,
        model::Scope::Link => vip::Scope::Link,
        model::Scope::Host => vip::Scope::Host,
        model::Scope::Nowhere => vip::Scope::Nowhere,
        model::Scope::Other(raw) => return vip::Scope::from_raw(raw),
    })
}

fn max_len(addr: &IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// `VALUE[/MASK]`, each decimal or `0x` hexadecimal.
fn parse_fwmark(text: &str) -> Option<(u32, Option<u32>)> {
    let number = |s: &str| match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    };
    match text.split_once('/') {
        Some((v, m)) => Some((number(v)?, Some(number(m)?))),
        None => Some((number(text)?, None)),
    }
}
