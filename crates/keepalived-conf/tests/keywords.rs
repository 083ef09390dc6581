//! Keyword coverage against keepalived 2.2.7: every block/keyword pair keepalived registers
//! (`testdata/keepalived-2.2.7-keywords.txt`) is typed by the parser, or on the short reviewed
//! list below of pairs kept verbatim on purpose; and no pair keepalived calls unknown is accepted.

use std::collections::BTreeSet;

use keepalived_conf::{DiagnosticKind, Options, parse_str};
use serde_json::Value;

const KEYWORDS: &str = include_str!("../../../testdata/keepalived-2.2.7-keywords.txt");

/// Pairs kept verbatim (in an `extra` list) on purpose: settings of the parts of keepalived lvskit
/// does not carry out (SNMP, D-Bus, process scheduling, nftables/iptables, network namespaces,
/// ...), which a model field would only pass along.
const UNTYPED: &[&str] = &[
    // process scheduling and naming of keepalived's own processes (lvskit is one process)
    "global_defs bfd_cpu_affinity",
    "global_defs bfd_no_swap",
    "global_defs bfd_priority",
    "global_defs bfd_process_name",
    "global_defs bfd_rlimit_rtime",
    "global_defs bfd_rlimit_rttime",
    "global_defs bfd_rt_priority",
    "global_defs checker_cpu_affinity",
    "global_defs checker_no_swap",
    "global_defs checker_priority",
    "global_defs checker_process_name",
    "global_defs checker_rlimit_rtime",
    "global_defs checker_rlimit_rttime",
    "global_defs checker_rt_priority",
    "global_defs lvs_process_name",
    "global_defs process_name",
    "global_defs process_names",
    "global_defs vrrp_cpu_affinity",
    "global_defs vrrp_no_swap",
    "global_defs vrrp_priority",
    "global_defs vrrp_process_name",
    "global_defs vrrp_rlimit_rtime",
    "global_defs vrrp_rlimit_rttime",
    "global_defs vrrp_rt_priority",
    // SNMP and D-Bus, which lvskit does not serve
    "global_defs enable_snmp_checker",
    "global_defs enable_snmp_keepalived",
    "global_defs enable_snmp_rfc",
    "global_defs enable_snmp_rfcv2",
    "global_defs enable_snmp_rfcv3",
    "global_defs enable_snmp_vrrp",
    "global_defs enable_traps",
    "global_defs snmp_socket",
    "global_defs enable_dbus",
    "global_defs dbus_service_name",
    // nftables rules keepalived writes for no_accept and IPVS, which lvskit does not write
    "global_defs nftables",
    "global_defs nftables_counters",
    "global_defs nftables_ifindex",
    "global_defs nftables_ipvs",
    "global_defs nftables_ipvs_priority",
    "global_defs nftables_ipvs_start_fwmark",
    "global_defs nftables_priority",
    // socket buffer sizes of keepalived's netlink and process-monitor sockets
    "global_defs lvs_netlink_cmd_rcv_bufs",
    "global_defs lvs_netlink_cmd_rcv_bufs_force",
    "global_defs lvs_netlink_monitor_rcv_bufs",
    "global_defs lvs_netlink_monitor_rcv_bufs_force",
    "global_defs process_monitor_rcv_bufs",
    "global_defs process_monitor_rcv_bufs_force",
    "global_defs vrrp_netlink_cmd_rcv_bufs",
    "global_defs vrrp_netlink_cmd_rcv_bufs_force",
    "global_defs vrrp_netlink_monitor_rcv_bufs",
    "global_defs vrrp_netlink_monitor_rcv_bufs_force",
    "global_defs vrrp_rx_bufs_multiplier",
    "global_defs vrrp_rx_bufs_policy",
    // keepalived's reload machinery, config saving and its own files
    "global_defs config_save_dir",
    "global_defs data_use_instance",
    "global_defs include_check",
    "global_defs reload_check_config",
    "global_defs reload_file",
    "global_defs reload_repeat",
    "global_defs reload_time_file",
    "global_defs tmp_config_directory",
    "global_defs umask",
    "global_defs fifo_write_vrrp_states_on_reload",
    "global_defs random_seed",
    // start-up and shutdown scripts of the keepalived process
    "global_defs startup_script",
    "global_defs startup_script_timeout",
    "global_defs shutdown_script",
    "global_defs shutdown_script_timeout",
    // other keepalived-only behaviour (IGMP, logging of unknown VRIDs, e-mail and notify details, VMAC naming, auto priority)
    "global_defs disable_local_igmp",
    "global_defs log_unknown_vrids",
    "global_defs no_checker_emails",
    "global_defs rs_init_notifies",
    "global_defs vmac_addr_prefix",
    "global_defs vmac_prefix",
    "global_defs min_auto_priority_delay",
    // ipvlan interfaces and the kernel receive buffer, which lvskit's VRRP driver does not use
    "vrrp_instance kernel_rx_buf_size",
    "vrrp_instance use_ipvlan",
];

/// The source of the builder: its match arms name every keyword it reads, in any block.
fn builder_source() -> Vec<String> {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let mut files = vec![format!("{src}/keywords.rs")];
    for entry in std::fs::read_dir(format!("{src}/build")).expect("src/build") {
        files.push(entry.unwrap().path().display().to_string());
    }
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("readable source"))
        .collect()
}

/// The lines that put a keyword inside `block`: (before, after).
fn context(block: &str) -> (String, String) {
    let mut before = String::new();
    let mut after = String::new();
    let mut path = String::new();
    for part in block.split('/').filter(|p| *p != "-") {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
        let header = match path.as_str() {
            "virtual_server" => "virtual_server 192.0.2.1 80".to_string(),
            "virtual_server/real_server" => "real_server 192.0.2.2 80".to_string(),
            "global_defs"
            | "SSL"
            | "garp_group"
            | "linkbeat_interfaces"
            | "static_ipaddress"
            | "static_routes"
            | "static_rules" => part.to_string(),
            p if p.starts_with("virtual_server/real_server/") => part.to_string(),
            "vrrp_instance/authentication" => "authentication".to_string(),
            _ => format!("{part} NAME"),
        };
        before.push_str(&header);
        before.push_str(" {\n");
        after.push_str("}\n");
    }
    (before, after)
}

/// How the parser takes `keyword` inside `block`.
#[derive(Debug, PartialEq, Eq)]
enum Taken {
    Typed,
    Untyped,
    Unknown,
}

fn probe(block: &str, keyword: &str) -> Taken {
    let (before, after) = context(block);
    let text = format!("{before}{keyword}\n{after}");
    let options = Options {
        includes: false,
        ..Options::default()
    };
    let parsed = parse_str("probe.conf", &text, &options);
    let unknown = parsed.diagnostics.iter().any(|d| {
        d.kind == DiagnosticKind::UnknownKeyword && d.message.contains(&format!("`{keyword}`"))
    });
    if unknown {
        return Taken::Unknown;
    }
    let json = serde_json::to_value(&parsed.config).unwrap();
    if in_extra(&json, keyword) {
        Taken::Untyped
    } else {
        Taken::Typed
    }
}

/// Whether a directive named `keyword` sits in any `extra` list of the model.
fn in_extra(value: &Value, keyword: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, v)| {
            (key == "extra"
                && v.as_array().is_some_and(|list| {
                    list.iter()
                        .any(|d| d["keyword"] == keyword || in_extra(&d["block"], keyword))
                }))
                || in_extra(v, keyword)
        }),
        Value::Array(list) => list.iter().any(|v| in_extra(v, keyword)),
        _ => false,
    }
}

fn keepalived_pairs() -> BTreeSet<(String, String)> {
    KEYWORDS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (block, keyword) = l.split_once(' ').expect("BLOCK KEYWORD");
            (block.to_string(), keyword.to_string())
        })
        .collect()
}

#[test]
fn every_keepalived_pair_is_typed_or_reviewed() {
    let pairs = keepalived_pairs();
    assert_eq!(pairs.len(), 500);
    let mut typed = 0;
    let mut problems = Vec::new();
    for (block, keyword) in &pairs {
        let name = format!("{block} {keyword}");
        match probe(block, keyword) {
            Taken::Typed if UNTYPED.contains(&name.as_str()) => {
                problems.push(format!("{name}: typed, so drop it from UNTYPED"));
            }
            Taken::Typed => typed += 1,
            Taken::Untyped if UNTYPED.contains(&name.as_str()) => {}
            Taken::Untyped => problems.push(format!("{name}: kept verbatim, not typed")),
            Taken::Unknown => problems.push(format!("{name}: unknown to the parser")),
        }
    }
    eprintln!(
        "keyword coverage: {typed} of {} keepalived 2.2.7 pairs typed, {} kept verbatim on purpose",
        pairs.len(),
        UNTYPED.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_pair_keepalived_calls_unknown_is_accepted() {
    let pairs = keepalived_pairs();
    let blocks: BTreeSet<&str> = pairs.iter().map(|(b, _)| b.as_str()).collect();
    // Every word keepalived knows anywhere, every word the builder matches on, and checkers
    // keepalived does not have.
    let mut words: BTreeSet<String> = pairs.iter().map(|(_, k)| k.clone()).collect();
    for source in &builder_source() {
        for piece in source.split('"').skip(1).step_by(2) {
            if !piece.is_empty()
                && piece
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                words.insert(piece.to_string());
            }
        }
    }
    words.insert("ICMP_CHECK".into());
    let mut accepted = Vec::new();
    for block in &blocks {
        for word in &words {
            if !pairs.contains(&(block.to_string(), word.clone()))
                && probe(block, word) != Taken::Unknown
            {
                accepted.push(format!("{block} {word}"));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "{} pairs keepalived calls unknown are accepted:\n{}",
        accepted.len(),
        accepted.join("\n")
    );
}
