//! keepalived keywords that the typed model keeps verbatim (in `extra`) instead of warning.

/// `global_defs` keywords without a typed field.
pub(crate) const GLOBAL_DEFS: &[&str] = &[
    "bfd_cpu_affinity",
    "bfd_no_swap",
    "bfd_priority",
    "bfd_rlimit_rtime",
    "bfd_process_name",
    "bfd_rlimit_rttime",
    "bfd_rt_priority",
    "checker_cpu_affinity",
    "checker_no_swap",
    "checker_priority",
    "checker_rlimit_rtime",
    "checker_process_name",
    "checker_rlimit_rttime",
    "checker_rt_priority",
    "config_save_dir",
    "data_use_instance",
    "dbus_service_name",
    "disable_local_igmp",
    "enable_dbus",
    "enable_snmp_checker",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_vrrp",
    "enable_traps",
    "fifo_write_vrrp_states_on_reload",
    "include_check",
    "log_unknown_vrids",
    "lvs_flush_on_stop",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "lvs_process_name",
    "max_auto_priority",
    "min_auto_priority_delay",
    "nftables",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "nftables_priority",
    "no_checker_emails",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "process_name",
    "process_names",
    "random_seed",
    "reload_check_config",
    "reload_file",
    "reload_repeat",
    "reload_time_file",
    "rs_init_notifies",
    "shutdown_script",
    "shutdown_script_timeout",
    "snmp_socket",
    "startup_script",
    "startup_script_timeout",
    "tmp_config_directory",
    "umask",
    "vmac_addr_prefix",
    "vmac_prefix",
    "vrrp_cpu_affinity",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_higher_prio_send_advert",
    "vrrp_lower_prio_no_advert",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "vrrp_no_swap",
    "vrrp_priority",
    "vrrp_rlimit_rtime",
    "vrrp_process_name",
    "vrrp_rlimit_rttime",
    "vrrp_rt_priority",
    "vrrp_rx_bufs_multiplier",
    "vrrp_rx_bufs_policy",
];

/// `vrrp_instance` keywords without a typed field.
pub(crate) const VRRP_INSTANCE: &[&str] = &["kernel_rx_buf_size", "use_ipvlan"];

/// `virtual_server` keywords without a typed field.
pub(crate) const VIRTUAL_SERVER: &[&str] = &["snmp_name"];

/// `real_server` keywords without a typed field.
pub(crate) const REAL_SERVER: &[&str] = &[];

/// Checker keywords without a typed field.
pub(crate) const CHECKER: &[&str] = &[];

/// The connection keywords of the checkers that open a connection (and of SMTP_CHECK's `host`).
pub(crate) const CONNECTION: &[&str] = &[
    "connect_ip",
    "connect_port",
    "bindto",
    "bind_port",
    "bind_if",
    "connect_timeout",
    "fwmark",
];

/// The keywords every checker but FILE_CHECK and BFD_CHECK takes (and SMTP_CHECK's `host`).
pub(crate) const CHECKER_COMMON: &[&str] = &[
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "log_all_failures",
];

/// Whether keepalived 2.2.7 takes `keyword` inside the checker block `checker`: the common
/// keywords (connection ones only for checkers that connect) and the checker's own.
pub(crate) fn checker_takes(checker: &str, keyword: &str) -> bool {
    let own: &[&str] = match checker {
        "HTTP_GET" | "SSL_GET" => &[
            "nb_get_retry",
            "virtualhost",
            "http_protocol",
            "enable_sni",
            "fast_recovery",
            "url",
        ],
        "SMTP_CHECK" => &["helo_name", "host"],
        "DNS_CHECK" => &["type", "name"],
        "UDP_CHECK" => &[
            "payload",
            "require_reply",
            "min_reply_length",
            "max_reply_length",
        ],
        "MISC_CHECK" => &["misc_path", "misc_timeout", "misc_dynamic", "user"],
        "FILE_CHECK" => return matches!(keyword, "track_file" | "weight"),
        "BFD_CHECK" => return matches!(keyword, "name" | "alpha"),
        _ => &[],
    };
    own.contains(&keyword)
        || CHECKER_COMMON.contains(&keyword)
        || (checker != "MISC_CHECK" && CONNECTION.contains(&keyword))
}
