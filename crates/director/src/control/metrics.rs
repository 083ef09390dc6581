//! The state as Prometheus metrics (OpenMetrics text, with the `prometheus-client` crate).
//!
//! A scrape asks the running halves for their state ([`super::StateSource`]) and writes it out:
//! nothing is counted twice and the loops pay nothing between scrapes. Names follow Prometheus
//! conventions: a `lvskit_` prefix, units in names, `_total` on counters (added by the
//! encoder).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `lvskit_build_info` | `version` | 1 |
//! | `lvskit_uptime_seconds` | | since start |
//! | `lvskit_vrrp_instance_state` | `instance`, `state` | 1 for the state it is in, 0 for the others |
//! | `lvskit_vrrp_instance_priority` | `instance` | effective priority |
//! | `lvskit_vrrp_instance_base_priority` | `instance` | configured priority |
//! | `lvskit_vrrp_master_priority` | `instance` | the master's priority as last heard |
//! | `lvskit_vrrp_transitions_total` | `instance` | state changes |
//! | `lvskit_vrrp_became_master_total` | `instance` | transitions to MASTER |
//! | `lvskit_vrrp_adverts_sent_total` | `instance` | adverts sent |
//! | `lvskit_vrrp_adverts_received_total` | `instance`, `outcome` | `accepted` or the drop reason |
//! | `lvskit_vrrp_packets_received_total` | | packets read |
//! | `lvskit_vrrp_packets_dropped_total` | `reason` | every instance's and no instance's |
//! | `lvskit_vrrp_garps_sent_total` | | gratuitous ARPs and NAs |
//! | `lvskit_vrrp_tracker_up` | `instance`, `kind`, `tracker` | 1 passing, 0 failing |
//! | `lvskit_vrrp_script_up` | `script` | 1 passing, 0 failing |
//! | `lvskit_lb_checks` | `state` | checks by state: `up`, `down`, `unknown` |
//! | `lvskit_lb_check_up` | `virtual_server`, `real_server`, `check` | 1 up, 0 down or unknown |
//! | `lvskit_lb_real_server_up` | `virtual_server`, `real_server` | every check passes |
//! | `lvskit_lb_real_server_weight` | `virtual_server`, `real_server` | weight in the table (-1: out) |
//! | `lvskit_lb_quorum_up` | `virtual_server` | quorum met |
//! | `lvskit_lb_reloads_total` | | reloads applied |
//! | `lvskit_lb_reload_duration_seconds_total` | | time spent reloading |
//! | `lvskit_ipvs_connections_total` | `virtual_server`, `real_server` | IPVS connections (`real_server=""`: the service) |
//! | `lvskit_ipvs_packets_total` | `virtual_server`, `real_server`, `direction` | packets `in`/`out` |
//! | `lvskit_ipvs_bytes_total` | `virtual_server`, `real_server`, `direction` | bytes `in`/`out` |
//! | `lvskit_ipvs_connections_per_second` | `virtual_server`, `real_server` | the kernel's rate estimate |
//!
//! Not yet: a latency histogram of checks (the check scheduler reports transitions, not
//! attempts).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::state::{IpvsStats, State};

/// The `Content-Type` of [`encode_state`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(&'static str, String)>;

fn gauge(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Gauge> {
    let family = Family::<Labels, Gauge>::default();
    registry.register(name, help, family.clone());
    family
}

fn counter(registry: &mut Registry, name: &str, help: &str) -> Family<Labels, Counter> {
    let family = Family::<Labels, Counter>::default();
    registry.register(name, help, family.clone());
    family
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// The state as OpenMetrics text (what `/metrics` serves).
pub fn encode_state(state: &State) -> String {
    let mut registry = Registry::with_prefix("lvskit");
    let info = gauge(&mut registry, "build_info", "The running lvskitd's version");
    info.get_or_create(&vec![("version", state.version.clone())])
        .set(1);
    let uptime = Gauge::<f64, AtomicU64>::default();
    registry.register_with_unit(
        "uptime",
        "Time since lvskitd started",
        Unit::Seconds,
        uptime.clone(),
    );
    uptime.set(state.uptime_ms / 1000.0);
    if let Some(vrrp) = &state.vrrp {
        let inst_state = gauge(
            &mut registry,
            "vrrp_instance_state",
            "1 for the state each VRRP instance is in, 0 for the others",
        );
        let priority = gauge(
            &mut registry,
            "vrrp_instance_priority",
            "Effective priority (configured plus trackers)",
        );
        let base = gauge(
            &mut registry,
            "vrrp_instance_base_priority",
            "Configured priority",
        );
        let master_priority = gauge(
            &mut registry,
            "vrrp_master_priority",
            "The master's priority as last heard (this router's while MASTER)",
        );
        let transitions = counter(&mut registry, "vrrp_transitions", "State changes");
        let became_master = counter(&mut registry, "vrrp_became_master", "Transitions to MASTER");
        let sent = counter(&mut registry, "vrrp_adverts_sent", "Adverts sent");
        let received = counter(
            &mut registry,
            "vrrp_adverts_received",
            "Adverts for an instance, by outcome: accepted or the reason it was dropped",
        );
        let trackers = gauge(
            &mut registry,
            "vrrp_tracker_up",
            "1 when a tracker passes, 0 when it fails",
        );
        for i in &vrrp.instances {
            let name = || ("instance", i.name.clone());
            for s in ["INIT", "BACKUP", "MASTER", "FAULT"] {
                inst_state
                    .get_or_create(&vec![name(), ("state", s.to_string())])
                    .set(flag(i.state == s));
            }
            priority
                .get_or_create(&vec![name()])
                .set(i64::from(i.effective_priority));
            base.get_or_create(&vec![name()])
                .set(i64::from(i.base_priority));
            if let Some(m) = &i.master {
                master_priority
                    .get_or_create(&vec![name()])
                    .set(i64::from(m.priority));
            }
            transitions
                .get_or_create(&vec![name()])
                .inc_by(i.counters.transitions);
            became_master
                .get_or_create(&vec![name()])
                .inc_by(i.counters.became_master);
            sent.get_or_create(&vec![name()])
                .inc_by(i.counters.adverts_sent);
            received
                .get_or_create(&vec![name(), ("outcome", "accepted".to_string())])
                .inc_by(i.counters.adverts_received);
            for (reason, n) in &i.counters.dropped {
                received
                    .get_or_create(&vec![name(), ("outcome", reason.clone())])
                    .inc_by(*n);
            }
            for t in &i.trackers {
                trackers
                    .get_or_create(&vec![
                        name(),
                        ("kind", t.kind.clone()),
                        ("tracker", t.name.clone()),
                    ])
                    .set(flag(t.ok == Some(true)));
            }
        }
        let packets = Counter::<u64>::default();
        registry.register(
            "vrrp_packets_received",
            "Packets read from the VRRP sockets",
            packets.clone(),
        );
        packets.inc_by(vrrp.packets.received);
        let dropped = counter(
            &mut registry,
            "vrrp_packets_dropped",
            "Packets dropped, by reason (those of every instance and those no instance took)",
        );
        for (reason, n) in &vrrp.packets.dropped {
            dropped
                .get_or_create(&vec![("reason", reason.clone())])
                .inc_by(*n);
        }
        let garps = Counter::<u64>::default();
        registry.register(
            "vrrp_garps_sent",
            "Gratuitous ARPs and unsolicited neighbour advertisements sent",
            garps.clone(),
        );
        garps.inc_by(vrrp.garps_sent);
        let scripts = gauge(
            &mut registry,
            "vrrp_script_up",
            "1 when a vrrp_script passes (after rise/fall), 0 when it fails",
        );
        for s in &vrrp.scripts {
            scripts
                .get_or_create(&vec![("script", s.name.clone())])
                .set(flag(s.ok));
        }
    }
    if let Some(lb) = &state.lb {
        let checks = gauge(&mut registry, "lb_checks", "Health checks by state");
        for (s, n) in &lb.checks {
            checks
                .get_or_create(&vec![("state", s.clone())])
                .set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
        let check_up = gauge(
            &mut registry,
            "lb_check_up",
            "1 when a health check passes, 0 when it fails or has no verdict yet",
        );
        let rs_up = gauge(
            &mut registry,
            "lb_real_server_up",
            "1 when every check of a real server passes",
        );
        let rs_weight = gauge(
            &mut registry,
            "lb_real_server_weight",
            "A real server's weight in the IPVS table (-1: not in it)",
        );
        let quorum = gauge(
            &mut registry,
            "lb_quorum_up",
            "1 when a virtual server has its quorum",
        );
        let conns = counter(
            &mut registry,
            "ipvs_connections",
            "IPVS connections scheduled (real_server empty: the whole service)",
        );
        let packets = counter(&mut registry, "ipvs_packets", "IPVS packets by direction");
        let bytes = Family::<Labels, Counter>::default();
        registry.register_with_unit(
            "ipvs",
            "IPVS bytes by direction",
            Unit::Bytes,
            bytes.clone(),
        );
        let cps = gauge(
            &mut registry,
            "ipvs_connections_per_second",
            "The kernel's estimate of new connections per second",
        );
        let ipvs = |vs: &str, rs: &str, s: &IpvsStats| {
            let labels = |extra: Option<&'static str>| {
                let mut l: Labels = vec![("virtual_server", vs.to_string())];
                l.push(("real_server", rs.to_string()));
                if let Some(d) = extra {
                    l.push(("direction", d.to_string()));
                }
                l
            };
            conns.get_or_create(&labels(None)).inc_by(s.connections);
            packets
                .get_or_create(&labels(Some("in")))
                .inc_by(s.packets_in);
            packets
                .get_or_create(&labels(Some("out")))
                .inc_by(s.packets_out);
            bytes.get_or_create(&labels(Some("in"))).inc_by(s.bytes_in);
            bytes
                .get_or_create(&labels(Some("out")))
                .inc_by(s.bytes_out);
            cps.get_or_create(&labels(None))
                .set(i64::try_from(s.connections_per_second).unwrap_or(i64::MAX));
        };
        for vs in &lb.virtual_servers {
            quorum
                .get_or_create(&vec![("virtual_server", vs.name.clone())])
                .set(flag(vs.quorum_up));
            if let Some(s) = &vs.stats {
                ipvs(&vs.name, "", s);
            }
            for rs in &vs.real_servers {
                let labels = || {
                    vec![
                        ("virtual_server", vs.name.clone()),
                        ("real_server", rs.address.clone()),
                    ]
                };
                rs_up.get_or_create(&labels()).set(flag(rs.alive));
                rs_weight
                    .get_or_create(&labels())
                    .set(rs.table_weight.map_or(-1, i64::from));
                for (n, c) in rs.checks.iter().enumerate() {
                    let mut l = labels();
                    l.push(("check", format!("{}#{n}", c.kind)));
                    check_up.get_or_create(&l).set(flag(c.state == "up"));
                }
                if let Some(s) = &rs.stats {
                    ipvs(&vs.name, &rs.address, s);
                }
            }
        }
        let reloads = Counter::<u64>::default();
        registry.register("lb_reloads", "Reloads applied", reloads.clone());
        reloads.inc_by(lb.reloads);
        let reload_time = Counter::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "lb_reload_duration",
            "Time spent applying reloads",
            Unit::Seconds,
            reload_time.clone(),
        );
        reload_time.inc_by(lb.reload_ms_total / 1000.0);
    }
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &registry) {
        tracing::error!("metrics: cannot encode: {e}");
    }
    text
}
