//! `/metrics` from a state of both halves (sans-IO cores, no root, no IPVS): every family
//! parsed back with a Prometheus text-format parser, with the values the state holds.

use std::collections::BTreeSet;
use std::time::Instant;

use director::control::metrics::encode_state;
use director::lb::{Balancer, Input as LbInput, map as lb_map};
use director::setup::{HostInterface, map};
use director::state::{IpvsStats, State};
use director::{Director, Input, Output};

const CONF: &str = "vrrp_script chk {\n script \"/bin/true\"\n interval 1\n}\n\
vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n \
track_script {\n  chk\n }\n virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n\
virtual_server 192.0.2.100 80 {\n protocol TCP\n lvs_sched wrr\n \
real_server 198.51.100.10 80 {\n  weight 3\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n \
real_server 198.51.100.11 80 {\n  weight 2\n  TCP_CHECK {\n   connect_timeout 1\n  }\n }\n}\n";

fn state() -> State {
    let parsed = keepalived_conf::parse_str("keepalived.conf", CONF, &Default::default());
    let host = [HostInterface {
        index: 2,
        name: "eth0".into(),
        up: true,
        ipv4: Some("192.0.2.1".parse().unwrap()),
        ipv6_link_local: None,
        macvlan: None,
    }];
    let mut director = Director::new(map(&parsed.config, &host).unwrap()).unwrap();
    let now = Instant::now();
    director.handle_input(Input::Link {
        now,
        ifindex: 2,
        up: true,
    });
    director.handle_input(Input::Start { now });
    while !matches!(director.poll_output(), Output::Timeout(_)) {}
    let vrrp = director.snapshot(now);

    let mut balancer = Balancer::new(lb_map(&parsed.config, Some(&parsed.sources)).unwrap());
    balancer.handle_input(LbInput::Start { now });
    let mut ids = Vec::new();
    while let Some(output) = balancer.poll_output() {
        if let director::lb::Output::InsertCheck { id, .. } = output {
            ids.push(id);
        }
    }
    // The second real server's check fails.
    balancer.handle_input(LbInput::Check {
        now,
        id: ids[1],
        state: healthcheck::State::Down,
        weight: None,
    });
    while balancer.poll_output().is_some() {}
    let first = ids[0];
    let mut lb = balancer.snapshot(|id| {
        Some(if id == first {
            ("connected".to_string(), 5.0)
        } else {
            ("connection refused".to_string(), 7.0)
        })
    });
    let stats = IpvsStats {
        connections: 12,
        packets_in: 100,
        packets_out: 90,
        bytes_in: 6400,
        bytes_out: 64000,
        connections_per_second: 3,
        ..IpvsStats::default()
    };
    lb.virtual_servers[0].stats = Some(stats);
    lb.virtual_servers[0].real_servers[0].stats = Some(stats);
    lb.reloads = 2;
    lb.reload_ms_total = 1500.0;
    lb.ipvs_read = true;
    State {
        format: director::state::FORMAT,
        pid: 1,
        version: "0.1.0".into(),
        generated_unix_ms: 1,
        uptime_ms: 2500.0,
        vrrp: Some(vrrp),
        lb: Some(lb),
    }
}

fn value(v: &prometheus_parse::Value) -> f64 {
    match v {
        prometheus_parse::Value::Counter(x)
        | prometheus_parse::Value::Gauge(x)
        | prometheus_parse::Value::Untyped(x) => *x,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn every_metric_parses_with_the_values_of_the_state() {
    let state = state();
    let text = encode_state(&state);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("parses");
    let names: BTreeSet<&str> = scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    let expected = [
        "lvskit_build_info",
        "lvskit_uptime_seconds",
        "lvskit_vrrp_instance_state",
        "lvskit_vrrp_instance_priority",
        "lvskit_vrrp_instance_base_priority",
        "lvskit_vrrp_transitions_total",
        "lvskit_vrrp_became_master_total",
        "lvskit_vrrp_adverts_sent_total",
        "lvskit_vrrp_adverts_received_total",
        "lvskit_vrrp_packets_received_total",
        "lvskit_vrrp_packets_dropped_total",
        "lvskit_vrrp_garps_sent_total",
        "lvskit_vrrp_tracker_up",
        "lvskit_vrrp_script_up",
        "lvskit_lb_checks",
        "lvskit_lb_check_up",
        "lvskit_lb_real_server_up",
        "lvskit_lb_real_server_weight",
        "lvskit_lb_quorum_up",
        "lvskit_lb_reloads_total",
        "lvskit_lb_reload_duration_seconds_total",
        "lvskit_ipvs_connections_total",
        "lvskit_ipvs_packets_total",
        "lvskit_ipvs_bytes_total",
        "lvskit_ipvs_connections_per_second",
    ];
    for name in expected {
        assert!(names.contains(name), "{name} missing from:\n{text}");
    }
    // Every family has help text; nothing unexpected is served.
    for name in &names {
        assert!(expected.contains(name), "unlisted metric {name}");
    }
    let get = |metric: &str, labels: &[(&str, &str)]| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {metric} {labels:?} in\n{text}"));
        value(&sample.value)
    };
    let vrrp = state.vrrp.as_ref().unwrap();
    let inst = &vrrp.instances[0];
    let st = inst.state.as_str();
    assert_eq!(
        get(
            "lvskit_vrrp_instance_state",
            &[("instance", "VI_1"), ("state", st)]
        ),
        1.0
    );
    let others = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "lvskit_vrrp_instance_state" && s.labels.get("state") != Some(st));
    assert_eq!(others.map(|s| value(&s.value)).sum::<f64>(), 0.0);
    assert_eq!(
        get("lvskit_vrrp_instance_priority", &[("instance", "VI_1")]),
        150.0
    );
    assert_eq!(
        get("lvskit_vrrp_transitions_total", &[("instance", "VI_1")]),
        inst.counters.transitions as f64
    );
    assert_eq!(
        get(
            "lvskit_vrrp_adverts_received_total",
            &[("instance", "VI_1"), ("outcome", "auth_mismatch")]
        ),
        0.0
    );
    assert_eq!(get("lvskit_vrrp_script_up", &[("script", "chk")]), 1.0);
    assert_eq!(
        get(
            "lvskit_vrrp_tracker_up",
            &[("instance", "VI_1"), ("kind", "script"), ("tracker", "chk")]
        ),
        1.0
    );
    let vs = "TCP 192.0.2.100:80";
    assert_eq!(
        get(
            "lvskit_lb_real_server_up",
            &[("virtual_server", vs), ("real_server", "198.51.100.10:80")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "lvskit_lb_real_server_up",
            &[("virtual_server", vs), ("real_server", "198.51.100.11:80")]
        ),
        0.0
    );
    assert_eq!(
        get(
            "lvskit_lb_real_server_weight",
            &[("real_server", "198.51.100.10:80")]
        ),
        3.0
    );
    assert_eq!(
        get(
            "lvskit_lb_real_server_weight",
            &[("real_server", "198.51.100.11:80")]
        ),
        -1.0
    );
    assert_eq!(get("lvskit_lb_checks", &[("state", "up")]), 1.0);
    assert_eq!(get("lvskit_lb_checks", &[("state", "down")]), 1.0);
    assert_eq!(
        get(
            "lvskit_lb_check_up",
            &[
                ("real_server", "198.51.100.11:80"),
                ("check", "TCP_CHECK#0")
            ]
        ),
        0.0
    );
    assert_eq!(get("lvskit_lb_quorum_up", &[("virtual_server", vs)]), 1.0);
    assert_eq!(
        get(
            "lvskit_ipvs_connections_total",
            &[("virtual_server", vs), ("real_server", "")]
        ),
        12.0
    );
    assert_eq!(
        get(
            "lvskit_ipvs_bytes_total",
            &[("real_server", "198.51.100.10:80"), ("direction", "out")]
        ),
        64000.0
    );
    assert_eq!(
        get(
            "lvskit_ipvs_packets_total",
            &[("real_server", "198.51.100.10:80"), ("direction", "in")]
        ),
        100.0
    );
    assert_eq!(
        get(
            "lvskit_ipvs_connections_per_second",
            &[("real_server", "198.51.100.10:80")]
        ),
        3.0
    );
    assert_eq!(get("lvskit_lb_reloads_total", &[]), 2.0);
    assert_eq!(get("lvskit_lb_reload_duration_seconds_total", &[]), 1.5);
    assert_eq!(get("lvskit_uptime_seconds", &[]), 2.5);
    // Counters are typed as counters.
    assert!(
        text.contains("# TYPE lvskit_vrrp_adverts_sent counter"),
        "{text}"
    );
    assert!(text.contains("# UNIT lvskit_ipvs_bytes bytes"), "{text}");
}

#[test]
fn the_document_round_trips_through_json() {
    let state = state();
    let text = serde_json::to_string(&state).unwrap();
    let back: State = serde_json::from_str(&text).unwrap();
    assert_eq!(back, state);
    let lb = state.lb.as_ref().unwrap();
    let down = &lb.virtual_servers[0].real_servers[1];
    assert!(!down.alive);
    assert_eq!(down.table_weight, None);
    assert_eq!(down.checks[0].state, "down");
    assert_eq!(down.checks[0].reason.as_deref(), Some("connection refused"));
    assert_eq!(down.checks[0].kind, "TCP_CHECK");
    let up = &lb.virtual_servers[0].real_servers[0];
    assert_eq!((up.alive, up.table_weight, up.weight), (true, Some(3), 3));
    let table = director::control::table::render(&state);
    assert!(
        table.contains("198.51.100.11:80") && table.contains("connection refused"),
        "{table}"
    );
}
