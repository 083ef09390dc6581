//! `global_defs` and the top-level settings outside the other blocks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use super::*;
use crate::source::Origin;

/// `smtp_server ADDR|NAME [PORT]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmtpServer {
    /// Address or host name.
    pub host: String,
    /// Port (25 when not given).
    pub port: Option<u16>,
}

/// `lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LvsSyncDaemon {
    /// Interface.
    pub interface: String,
    /// The VRRP instance whose state drives the sync daemon.
    pub instance: Option<String>,
    /// `id`.
    pub id: Option<u8>,
    /// `maxlen`.
    pub maxlen: Option<u16>,
    /// `port`.
    pub port: Option<u16>,
    /// `ttl`.
    pub ttl: Option<u8>,
    /// `group`.
    pub group: Option<IpAddr>,
    /// Where it was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LvsTimeouts {
    /// `tcp`.
    pub tcp: Option<u32>,
    /// `tcpfin`.
    pub tcpfin: Option<u32>,
    /// `udp`.
    pub udp: Option<u32>,
}

/// `garp_extra_if [all] DELAY` / `vrrp_garp_extra_if`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GarpExtraIf {
    /// `all`: on every interface, not only those with VIPs.
    pub all: bool,
    /// Seconds between refreshes (0 switches it off).
    pub delay: u32,
}

/// `global_defs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GlobalDefs {
    /// `router_id`.
    pub router_id: Option<String>,
    /// `notification_email { ... }`.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout`.
    pub smtp_connect_timeout: Option<Timer>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: Option<bool>,
    /// `checker_log_all_failures`.
    pub checker_log_all_failures: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `vrrp_mcast_group4`.
    pub vrrp_mcast_group4: Option<Ipv4Addr>,
    /// `vrrp_mcast_group6`.
    pub vrrp_mcast_group6: Option<Ipv6Addr>,
    /// `default_interface`.
    pub default_interface: Option<String>,
    /// `lvs_sync_daemon` (or the old `lvs_sync_daemon_interface`).
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_timeouts`.
    pub lvs_timeouts: Option<LvsTimeouts>,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]`: `Some(false)` flushes all, `Some(true)` only our virtual servers.
    pub lvs_flush_on_stop: Option<bool>,
    /// `vrrp_garp_master_delay`.
    pub vrrp_garp_master_delay: Option<u32>,
    /// `vrrp_garp_master_repeat`.
    pub vrrp_garp_master_repeat: Option<u32>,
    /// `vrrp_garp_lower_prio_delay`.
    pub vrrp_garp_lower_prio_delay: Option<u32>,
    /// `vrrp_garp_lower_prio_repeat`.
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_master_refresh`.
    pub vrrp_garp_master_refresh: Option<u32>,
    /// `vrrp_garp_master_refresh_repeat`.
    pub vrrp_garp_master_refresh_repeat: Option<u32>,
    /// `vrrp_garp_interval`.
    pub vrrp_garp_interval: Option<Timer>,
    /// `vrrp_gna_interval`.
    pub vrrp_gna_interval: Option<Timer>,
    /// `vrrp_min_garp`.
    pub vrrp_min_garp: Option<bool>,
    /// `vrrp_garp_extra_if`.
    pub vrrp_garp_extra_if: Option<GarpExtraIf>,
    /// `vrrp_down_timer_adverts`.
    pub vrrp_down_timer_adverts: Option<u32>,
    /// `vrrp_lower_prio_no_advert`.
    pub vrrp_lower_prio_no_advert: Option<bool>,
    /// `vrrp_higher_prio_send_advert`.
    pub vrrp_higher_prio_send_advert: Option<bool>,
    /// `vrrp_version`.
    pub vrrp_version: Option<u8>,
    /// `vrrp_iptables [IN [OUT]]`.
    pub vrrp_iptables: Option<Vec<String>>,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_notify_priority_changes`.
    pub vrrp_notify_priority_changes: Option<bool>,
    /// `vrrp_startup_delay`.
    pub vrrp_startup_delay: Option<Timer>,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `notify_fifo`.
    pub notify_fifo: Option<Script>,
    /// `notify_fifo_script`.
    pub notify_fifo_script: Option<Script>,
    /// `vrrp_notify_fifo`.
    pub vrrp_notify_fifo: Option<Script>,
    /// `vrrp_notify_fifo_script`.
    pub vrrp_notify_fifo_script: Option<Script>,
    /// `lvs_notify_fifo`.
    pub lvs_notify_fifo: Option<Script>,
    /// `lvs_notify_fifo_script`.
    pub lvs_notify_fifo_script: Option<Script>,
    /// `max_auto_priority [N]` (`Some(None)` when given without a number).
    pub max_auto_priority: Option<Option<i32>>,
    /// `dynamic_interfaces [allow_if_changes]`.
    pub dynamic_interfaces: Option<bool>,
    /// `enable_snmp_*`, `enable_traps`, `enable_dbus`, ...: the other known keywords, verbatim.
    pub extra: Vec<Directive>,
}

/// The settings keepalived reads at the top level, outside any block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TopLevel {
    /// `net_namespace NAME`: run in this network namespace.
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs NAME`: the namespace IPVS is in (`Some(None)` for the default one).
    pub net_namespace_ipvs: Option<Option<String>>,
    /// `namespace_with_ipsets`.
    pub namespace_with_ipsets: bool,
    /// `use_pid_dir`.
    pub use_pid_dir: bool,
    /// `instance NAME`: the instance name (pid files, `${_INSTANCE}`).
    pub instance: Option<String>,
    /// `child_wait_time SECS`.
    pub child_wait_time: Option<u32>,
    /// `linkbeat_use_polling`.
    pub linkbeat_use_polling: bool,
}
