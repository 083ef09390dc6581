//! `global_defs` and the top-level settings.

use super::{Printer, quote};
use crate::model::*;

impl Printer {
    pub(super) fn global_defs(&mut self, g: &GlobalDefs) {
        if *g == GlobalDefs::default() {
            return;
        }
        self.open(&["global_defs"]);
        self.opt("router_id", &g.router_id);
        if !g.notification_email.is_empty() {
            self.open(&["notification_email"]);
            for e in &g.notification_email {
                self.line(&[&quote(e)]);
            }
            self.close();
        }
        self.opt("notification_email_from", &g.notification_email_from);
        if let Some(s) = &g.smtp_server {
            let host = quote(&s.host);
            match s.port {
                Some(p) => self.line(&["smtp_server", &host, &p.to_string()]),
                None => self.line(&["smtp_server", &host]),
            }
        }
        self.opt("smtp_helo_name", &g.smtp_helo_name);
        self.opt("smtp_connect_timeout", &g.smtp_connect_timeout);
        self.opt_bool("smtp_alert", g.smtp_alert);
        self.opt_bool("smtp_alert_vrrp", g.smtp_alert_vrrp);
        self.opt_bool("smtp_alert_checker", g.smtp_alert_checker);
        self.opt_bool("checker_log_all_failures", g.checker_log_all_failures);
        self.flag("no_email_faults", g.no_email_faults);
        self.opt("vrrp_mcast_group4", &g.vrrp_mcast_group4);
        self.opt("vrrp_mcast_group6", &g.vrrp_mcast_group6);
        self.opt("default_interface", &g.default_interface);
        if let Some(d) = &g.lvs_sync_daemon {
            let mut w = vec!["lvs_sync_daemon".to_string(), quote(&d.interface)];
            if let Some(i) = &d.instance {
                w.extend(["inst".into(), quote(i)]);
            }
            if let Some(v) = d.id {
                w.extend(["id".into(), v.to_string()]);
            }
            if let Some(v) = d.maxlen {
                w.extend(["maxlen".into(), v.to_string()]);
            }
            if let Some(v) = d.port {
                w.extend(["port".into(), v.to_string()]);
            }
            if let Some(v) = d.ttl {
                w.extend(["ttl".into(), v.to_string()]);
            }
            if let Some(v) = d.group {
                w.extend(["group".into(), v.to_string()]);
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        if let Some(t) = &g.lvs_timeouts {
            let mut w = vec!["lvs_timeouts".to_string()];
            for (k, v) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
                if let Some(v) = v {
                    w.extend([k.to_string(), v.to_string()]);
                }
            }
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.flag("lvs_flush", g.lvs_flush);
        match g.lvs_flush_on_stop {
            Some(true) => self.line(&["lvs_flush_on_stop", "VS"]),
            Some(false) => self.line(&["lvs_flush_on_stop"]),
            None => {}
        }
        self.opt("vrrp_garp_master_delay", &g.vrrp_garp_master_delay);
        self.opt("vrrp_garp_master_repeat", &g.vrrp_garp_master_repeat);
        self.opt("vrrp_garp_lower_prio_delay", &g.vrrp_garp_lower_prio_delay);
        self.opt(
            "vrrp_garp_lower_prio_repeat",
            &g.vrrp_garp_lower_prio_repeat,
        );
        self.opt("vrrp_garp_master_refresh", &g.vrrp_garp_master_refresh);
        self.opt(
            "vrrp_garp_master_refresh_repeat",
            &g.vrrp_garp_master_refresh_repeat,
        );
        self.opt("vrrp_garp_interval", &g.vrrp_garp_interval);
        self.opt("vrrp_gna_interval", &g.vrrp_gna_interval);
        self.opt_bool("vrrp_min_garp", g.vrrp_min_garp);
        self.garp_extra_if("vrrp_garp_extra_if", &g.vrrp_garp_extra_if);
        self.opt("vrrp_down_timer_adverts", &g.vrrp_down_timer_adverts);
        self.opt_bool("vrrp_lower_prio_no_advert", g.vrrp_lower_prio_no_advert);
        self.opt_bool(
            "vrrp_higher_prio_send_advert",
            g.vrrp_higher_prio_send_advert,
        );
        self.opt("vrrp_version", &g.vrrp_version);
        if let Some(names) = &g.vrrp_iptables {
            let mut w = vec!["vrrp_iptables".to_string()];
            w.extend(names.iter().map(|n| quote(n)));
            let refs: Vec<&str> = w.iter().map(String::as_str).collect();
            self.line(&refs);
        }
        self.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
        self.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
        self.flag("vrrp_strict", g.vrrp_strict);
        self.opt_bool(
            "vrrp_notify_priority_changes",
            g.vrrp_notify_priority_changes,
        );
        self.opt("vrrp_startup_delay", &g.vrrp_startup_delay);
        self.user("script_user", &g.script_user);
        self.flag("enable_script_security", g.enable_script_security);
        self.script("notify_fifo", &g.notify_fifo);
        self.script("notify_fifo_script", &g.notify_fifo_script);
        self.script("vrrp_notify_fifo", &g.vrrp_notify_fifo);
        self.script("vrrp_notify_fifo_script", &g.vrrp_notify_fifo_script);
        self.script("lvs_notify_fifo", &g.lvs_notify_fifo);
        self.script("lvs_notify_fifo_script", &g.lvs_notify_fifo_script);
        match g.max_auto_priority {
            Some(Some(p)) => self.kv("max_auto_priority", p),
            Some(None) => self.line(&["max_auto_priority"]),
            None => {}
        }
        match g.dynamic_interfaces {
            Some(true) => self.line(&["dynamic_interfaces", "allow_if_changes"]),
            Some(false) => self.line(&["dynamic_interfaces"]),
            None => {}
        }
        self.directives(&g.extra);
        self.close();
    }

    pub(super) fn garp_extra_if(&mut self, key: &str, g: &Option<GarpExtraIf>) {
        if let Some(g) = g {
            let d = g.delay.to_string();
            if g.all {
                self.line(&[key, "all", &d]);
            } else {
                self.line(&[key, &d]);
            }
        }
    }

    pub(super) fn top_level(&mut self, t: &TopLevel) {
        self.opt("net_namespace", &t.net_namespace.as_deref().map(quote));
        match &t.net_namespace_ipvs {
            None => {}
            Some(None) => self.line(&["net_namespace_ipvs"]),
            Some(Some(name)) => self.line(&["net_namespace_ipvs", &quote(name)]),
        }
        self.flag("namespace_with_ipsets", t.namespace_with_ipsets);
        self.flag("use_pid_dir", t.use_pid_dir);
        self.opt("instance", &t.instance.as_deref().map(quote));
        self.opt("child_wait_time", &t.child_wait_time);
        self.flag("linkbeat_use_polling", t.linkbeat_use_polling);
    }
}
