//! `global_defs`: the settings of the whole daemon.

use std::net::IpAddr;

use super::{Builder, node_origin, span};
use crate::diag::DiagnosticKind as K;
use crate::keywords;
use crate::model::*;
use crate::tree::Node;

impl<'s> Builder<'_, 's> {
    pub(super) fn global_defs(&mut self, nodes: &[Node<'s>], g: &mut GlobalDefs) {
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

    pub(super) fn lvs_sync_daemon(&mut self, node: &Node<'s>) -> Option<LvsSyncDaemon> {
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

    pub(super) fn garp_extra_if(&mut self, node: &Node<'s>) -> Option<GarpExtraIf> {
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
}
