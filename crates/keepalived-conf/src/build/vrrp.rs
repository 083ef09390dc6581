//! The VRRP blocks: `vrrp_script`, `track_file`, `vrrp_sync_group`, `vrrp_instance`.

use super::{Builder, node_origin, span};
use crate::diag::DiagnosticKind as K;
use crate::keywords;
use crate::model::*;
use crate::source::Spanned;
use crate::tree::Node;

impl<'s> Builder<'_, 's> {
    pub(super) fn vrrp_script(&mut self, node: &Node<'s>) -> VrrpScript {
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

    pub(super) fn track_file(&mut self, node: &Node<'s>) -> TrackFile {
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
    pub(super) fn tracks(&mut self, node: &Node<'s>, min: i64, max: i64) -> Vec<Track> {
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
    pub(super) fn notify(&mut self, node: &Node<'s>, n: &mut Notify, instance: bool) -> bool {
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

    pub(super) fn sync_group(&mut self, node: &Node<'s>) -> SyncGroup {
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

    pub(super) fn instance(&mut self, node: &Node<'s>) -> VrrpInstance {
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

    pub(super) fn unicast_peer(&mut self, node: &Node<'s>) -> Option<UnicastPeer> {
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

    pub(super) fn authentication(&mut self, node: &Node<'s>) -> Authentication {
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
}
