//! Addresses, routes and rules.

use super::{Printer, quote};
use crate::model::*;

impl Printer {
    pub(super) fn ip_address(&mut self, a: &IpAddress) {
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

    pub(super) fn route(&mut self, r: &Route) {
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

    pub(super) fn rule(&mut self, r: &Rule) {
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
