//! The VRRP blocks and the tracking blocks.

use super::{Printer, quote, quote_script};
use crate::model::*;

impl Printer {
    pub(super) fn bfd_instance(&mut self, b: &BfdInstance) {
        // Intervals are written in milliseconds with three decimals.
        let ms = |v: &Option<u32>| v.map(|us| format!("{}.{:03}", us / 1000, us % 1000));
        self.open(&["bfd_instance", &quote(&b.name)]);
        self.opt("neighbor_ip", &b.neighbor_ip);
        self.opt("source_ip", &b.source_ip);
        self.opt("min_rx", &ms(&b.min_rx));
        self.opt("min_tx", &ms(&b.min_tx));
        self.opt("idle_tx", &ms(&b.idle_tx));
        self.opt("multiplier", &b.multiplier);
        self.flag("passive", b.passive);
        self.opt("ttl", &b.ttl);
        self.opt("hoplimit", &b.hoplimit);
        self.opt("max_hops", &b.max_hops);
        self.weight("weight", &b.weight);
        self.flag("vrrp", b.vrrp);
        self.flag("checker", b.checker);
        self.close();
    }

    pub(super) fn track_process(&mut self, t: &TrackProcess) {
        self.open(&["vrrp_track_process", &quote(&t.name)]);
        if !t.process.is_empty() {
            let mut words = vec!["process".to_string()];
            words.extend(t.process.iter().map(|w| quote(w)));
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        match t.param_match {
            None => {}
            Some(ParamMatch::Exact) => self.line(&["param_match"]),
            Some(ParamMatch::Initial) => self.line(&["param_match", "initial"]),
            Some(ParamMatch::Partial) => self.line(&["param_match", "partial"]),
        }
        self.weight("weight", &t.weight);
        self.opt("quorum", &t.quorum);
        self.opt("quorum_max", &t.quorum_max);
        self.opt("delay", &t.delay);
        self.opt("terminate_delay", &t.terminate_delay);
        self.opt("fork_delay", &t.fork_delay);
        self.flag("full_command", t.full_command);
        self.close();
    }

    pub(super) fn vrrp_script(&mut self, s: &VrrpScript) {
        self.open(&["vrrp_script", &quote(&s.name)]);
        if let Some(sc) = &s.script {
            self.line(&["script", &quote_script(&sc.command)]);
        }
        self.opt("interval", &s.interval);
        self.opt("timeout", &s.timeout);
        self.weight("weight", &s.weight);
        self.opt("rise", &s.rise);
        self.opt("fall", &s.fall);
        self.user("user", &s.user);
        self.flag("init_fail", s.init_fail);
        self.close();
    }

    pub(super) fn track_file(&mut self, t: &TrackFile) {
        self.open(&["track_file", &quote(&t.name)]);
        self.opt("file", &t.file);
        self.weight("weight", &t.weight);
        if let Some((value, overwrite)) = &t.init_file {
            let mut w = vec!["init_file".to_string()];
            if let Some(v) = value {
                w.push(v.to_string());
            }
            if *overwrite {
                w.push("overwrite".into());
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.close();
    }

    pub(super) fn notify(&mut self, n: &Notify) {
        self.script("notify_master", &n.master);
        self.script("notify_backup", &n.backup);
        self.script("notify_fault", &n.fault);
        self.script("notify_stop", &n.stop);
        self.script("notify_deleted", &n.deleted);
        self.script("notify", &n.any);
        self.script("notify_master_rx_lower_pri", &n.master_rx_lower_pri);
        self.opt_bool("notify_priority_changes", n.priority_changes);
    }

    pub(super) fn sync_group(&mut self, g: &SyncGroup) {
        self.open(&["vrrp_sync_group", &quote(&g.name)]);
        self.tracks("group", &g.group);
        self.tracks("track_interface", &g.track_interface);
        self.tracks("track_script", &g.track_script);
        self.tracks("track_file", &g.track_file);
        self.tracks("track_process", &g.track_process);
        self.tracks("track_bfd", &g.track_bfd);
        self.notify(&g.notify);
        self.opt_bool("smtp_alert", g.smtp_alert);
        self.flag("global_tracking", g.global_tracking);
        self.flag("sync_group_tracking_weight", g.sync_group_tracking_weight);
        self.close();
    }

    pub(super) fn instance(&mut self, v: &VrrpInstance) {
        self.open(&["vrrp_instance", &quote(&v.name)]);
        match v.state {
            Some(InitialState::Master) => self.line(&["state", "MASTER"]),
            Some(InitialState::Backup) => self.line(&["state", "BACKUP"]),
            None => {}
        }
        if let Some(i) = &v.interface {
            self.kv("interface", &i.value);
        }
        self.opt("vrf", &v.vrf);
        if let Some(u) = &v.use_vmac {
            let mut w = vec!["use_vmac".to_string()];
            if let Some(n) = &u.name {
                w.push(quote(n));
            }
            if let Some(m) = &u.mac {
                w.push(quote(m));
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.flag("use_vmac_addr", v.use_vmac_addr);
        self.flag("vmac_xmit_base", v.vmac_xmit_base);
        self.flag("native_ipv6", v.native_ipv6);
        self.flag("dont_track_primary", v.dont_track_primary);
        self.tracks("track_interface", &v.track_interface);
        self.tracks("track_script", &v.track_script);
        self.tracks("track_file", &v.track_file);
        self.tracks("track_process", &v.track_process);
        self.tracks("track_bfd", &v.track_bfd);
        if let Some(s) = v.src_ip {
            let key = if v.unicast_peer.is_empty() {
                "mcast_src_ip"
            } else {
                "unicast_src_ip"
            };
            self.kv(key, s.value);
        }
        self.opt("mcast_dst_ip", &v.mcast_dst_ip);
        self.flag("track_src_ip", v.track_src_ip);
        if let Some(ver) = v.version {
            self.kv("version", ver.value);
        }
        self.flag("check_unicast_src", v.check_unicast_src);
        if !v.unicast_peer.is_empty() {
            self.open(&["unicast_peer"]);
            for p in &v.unicast_peer {
                let mut w = vec![p.addr.to_string()];
                if let Some(t) = p.min_ttl {
                    w.extend(["min_ttl".into(), t.to_string()]);
                }
                if let Some(t) = p.max_ttl {
                    w.extend(["max_ttl".into(), t.to_string()]);
                }
                let refs: Vec<&str> = w.iter().map(String::as_str).collect();
                self.line(&refs);
            }
            self.close();
        }
        self.flag("unicast_fault_no_peer", v.unicast_fault_no_peer);
        self.opt("unicast_ttl", &v.unicast_ttl);
        match v.old_unicast_checksum {
            Some(true) => self.line(&["old_unicast_checksum", "never"]),
            Some(false) => self.line(&["old_unicast_checksum"]),
            None => {}
        }
        self.opt("garp_master_delay", &v.garp_master_delay);
        self.opt("garp_master_repeat", &v.garp_master_repeat);
        self.opt("garp_lower_prio_delay", &v.garp_lower_prio_delay);
        self.opt("garp_lower_prio_repeat", &v.garp_lower_prio_repeat);
        self.opt("garp_master_refresh", &v.garp_master_refresh);
        self.opt("garp_master_refresh_repeat", &v.garp_master_refresh_repeat);
        self.garp_extra_if("garp_extra_if", &v.garp_extra_if);
        self.opt("lvs_sync_daemon_interface", &v.lvs_sync_daemon_interface);
        self.opt("down_timer_adverts", &v.down_timer_adverts);
        self.opt_bool("lower_prio_no_advert", v.lower_prio_no_advert);
        self.opt_bool("higher_prio_send_advert", v.higher_prio_send_advert);
        if let Some(x) = v.virtual_router_id {
            self.kv("virtual_router_id", x.value);
        }
        if let Some(x) = v.priority {
            self.kv("priority", x.value);
        }
        if let Some(x) = v.advert_int {
            self.kv("advert_int", x.value);
        }
        if let Some(a) = &v.authentication {
            self.open(&["authentication"]);
            match a.auth_type {
                Some(AuthType::Pass) => self.line(&["auth_type", "PASS"]),
                Some(AuthType::Ah) => self.line(&["auth_type", "AH"]),
                None => {}
            }
            self.opt("auth_pass", &a.auth_pass);
            self.close();
        }
        for (key, list) in [
            ("virtual_ipaddress", &v.virtual_ipaddress),
            ("virtual_ipaddress_excluded", &v.virtual_ipaddress_excluded),
        ] {
            if !list.is_empty() {
                self.open(&[key]);
                for a in list {
                    self.ip_address(a);
                }
                self.close();
            }
        }
        self.flag("promote_secondaries", v.promote_secondaries);
        if !v.virtual_routes.is_empty() {
            self.open(&["virtual_routes"]);
            for r in &v.virtual_routes {
                self.route(r);
            }
            self.close();
        }
        if !v.virtual_rules.is_empty() {
            self.open(&["virtual_rules"]);
            for r in &v.virtual_rules {
                self.rule(r);
            }
            self.close();
        }
        match v.accept {
            Some(true) => self.line(&["accept"]),
            Some(false) => self.line(&["no_accept"]),
            None => {}
        }
        match v.nopreempt {
            Some(true) => self.line(&["nopreempt"]),
            Some(false) => self.line(&["preempt"]),
            None => {}
        }
        if let Some(d) = v.preempt_delay {
            self.kv("preempt_delay", d.value);
        }
        self.opt_bool("skip_check_adv_addr", v.skip_check_adv_addr);
        self.opt_bool("strict_mode", v.strict_mode);
        self.opt("debug", &v.debug);
        self.notify(&v.notify);
        self.opt_bool("smtp_alert", v.smtp_alert);
        self.flag("linkbeat_use_polling", v.linkbeat_use_polling);
        self.directives(&v.extra);
        self.close();
    }
}
