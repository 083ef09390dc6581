//! The model back to keepalived.conf text, in keepalived 2.x spelling.
//!
//! The output parses back to an equal model (`parse(print(m)) == m`), which the property tests
//! check. Old keyword names come out in their current spelling (`lvs_sched`, `retry`, ...).

use std::fmt::{Display, Write};

use crate::model::*;

mod global;
mod lvs;
mod net;
mod vrrp;

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
}
