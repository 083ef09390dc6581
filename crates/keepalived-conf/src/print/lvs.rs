//! Virtual servers, real servers and checkers.

use std::fmt::Write;

use super::{Printer, quote};
use crate::model::*;

impl Printer {
    pub(super) fn vs_group(&mut self, g: &VirtualServerGroup) {
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

    pub(super) fn lvs_method(&mut self, key: &str, m: &Option<LvsMethod>) {
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

    pub(super) fn defaults(&mut self, d: &CheckDefaults) {
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

    pub(super) fn virtual_server(&mut self, vs: &VirtualServer) {
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

    pub(super) fn real_server(&mut self, rs: &RealServer) {
        let a = rs.addr.to_string();
        match rs.port {
            Some(p) => self.open(&["real_server", &a, &p.to_string()]),
            None => self.open(&["real_server", &a]),
        }
        self.opt("weight", &rs.weight);
        self.lvs_method("lvs_method", &rs.lvs_method);
        self.script("notify_up", &rs.notify_up.as_deref().cloned());
        self.script("notify_down", &rs.notify_down.as_deref().cloned());
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

    pub(super) fn connect(&mut self, c: &Connect) {
        self.opt("connect_ip", &c.connect_ip);
        self.opt("connect_port", &c.connect_port);
        self.opt("bindto", &c.bindto);
        self.opt("bind_if", &c.bind_if);
        self.opt("bind_port", &c.bind_port);
        self.opt("fwmark", &c.fwmark);
        self.opt("connect_timeout", &c.connect_timeout);
    }

    pub(super) fn checker(&mut self, c: &Checker) {
        self.open(&[c.kind.keyword()]);
        self.connect(&c.connect);
        self.defaults(&c.defaults);
        self.opt_bool("log_all_failures", c.log_all_failures);
        self.user("user", &c.user.as_deref().cloned());
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

    pub(super) fn url(&mut self, u: &Url) {
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
