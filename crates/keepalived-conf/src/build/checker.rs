//! The checkers of a real server and their `url` and `host` blocks.

use super::{Builder, node_origin, span};
use crate::diag::DiagnosticKind as K;
use crate::keywords;
use crate::model::*;
use crate::tree::Node;

impl<'s> Builder<'_, 's> {
    /// `connect_ip`, `connect_port`, `bindto`, `bind_if`, `bind_port`, `fwmark`.
    pub(super) fn connect_option(&mut self, node: &Node<'s>, c: &mut Connect) -> bool {
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

    pub(super) fn checker(&mut self, node: &Node<'s>) -> Checker {
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
                        c.user = self.user(item).map(Box::new);
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
    pub(super) fn hex(&mut self, node: &Node<'s>, wildcards: bool) -> Option<String> {
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

    pub(super) fn url(&mut self, node: &Node<'s>) -> Url {
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
