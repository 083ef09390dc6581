//! The load-balancer core without root: the desired IPVS table of each keyword, and what each
//! check event, reload and shutdown does to it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use director::lb::{Balancer, Input, LbSetup, Output, map};
use healthcheck::{Check, CheckId, State};
use ipvs::packet::{
    IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2,
    IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
};
use ipvs::{
    DaemonState, Destination, Family, ForwardMethod, Netmask, Op, Protocol, Service, ServiceKey,
    Table, TunnelType,
};

fn setup(text: &str) -> LbSetup {
    let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
    assert!(
        !parsed.has_errors(),
        "{:#?}",
        parsed.errors().map(|d| d.render()).collect::<Vec<_>>()
    );
    map(&parsed.config, Some(&parsed.sources)).unwrap_or_else(|e| panic!("{e:?}"))
}

fn drain(b: &mut Balancer) -> Vec<Output> {
    let mut out = Vec::new();
    while let Some(o) = b.poll_output() {
        out.push(o);
    }
    out
}

fn ops(out: &[Output]) -> Vec<Op> {
    out.iter()
        .filter_map(|o| match o {
            Output::Ipvs(ops) => Some(ops.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn notes(out: &[Output]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Output::Notify { command, .. } => Some(command.argv.join(" ")),
            _ => None,
        })
        .collect()
}

fn inserted(out: &[Output]) -> Vec<CheckId> {
    out.iter()
        .filter_map(|o| match o {
            Output::InsertCheck { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

fn removed(out: &[Output]) -> Vec<CheckId> {
    out.iter()
        .filter_map(|o| match o {
            Output::RemoveCheck(id) => Some(*id),
            _ => None,
        })
        .collect()
}

fn started(text: &str) -> (Balancer, Vec<Output>) {
    let mut b = Balancer::new(setup(text));
    b.handle_input(Input::Start { now: now() });
    let out = drain(&mut b);
    (b, out)
}

fn now() -> Instant {
    Instant::now()
}

fn event(b: &mut Balancer, id: CheckId, state: State) -> Vec<Output> {
    b.handle_input(Input::Check {
        now: now(),
        id,
        state,
        weight: None,
    });
    drain(b)
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn tcp(s: &str) -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: sa(s),
    }
}

fn dests(b: &Balancer, key: &ServiceKey) -> Vec<(SocketAddr, i32)> {
    b.table().services[key]
        .destinations
        .values()
        .map(|d| (d.addr, d.weight))
        .collect()
}

const WEB: &str = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    lvs_sched wrr
    lvs_method DR
    delay_loop 6
    real_server 198.51.100.10 80 {
        weight 3
        notify_up \"/bin/up 10\"
        notify_down \"/bin/down 10\"
        TCP_CHECK {
            retry 2
            delay_before_retry 2
        }
    }
    real_server 198.51.100.11 80 {
        weight 1
        inhibit_on_failure
        TCP_CHECK {
        }
    }
}
";

#[test]
fn start_adds_every_service_and_destination_in_one_batch() {
    let (b, out) = started(WEB);
    let web = Service::tcp(sa("192.0.2.1:80")).scheduler("wrr");
    let d = |a: &str, w| {
        Destination::new(sa(a))
            .weight(w)
            .forward(ForwardMethod::DirectRoute)
    };
    assert_eq!(
        ops(&out),
        vec![
            Op::NewService(web.clone()),
            Op::NewDest(web.key, d("198.51.100.10:80", 3)),
            Op::NewDest(web.key, d("198.51.100.11:80", 1)),
        ]
    );
    assert_eq!(inserted(&out).len(), 2);
    assert_eq!(b.table().services.len(), 1);
}

#[test]
fn checks_get_keepalived_timing_from_the_virtual_and_real_server() {
    let (_, out) = started(WEB);
    let schedules: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::InsertCheck {
                schedule, check, ..
            } => Some((*schedule, check.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(schedules[0].0.delay_loop, Duration::from_secs(6));
    assert_eq!(schedules[0].0.retry, 2);
    assert_eq!(schedules[0].0.delay_before_retry, Duration::from_secs(2));
    assert_eq!(schedules[1].0.retry, 1, "TCP_CHECK default");
    match &schedules[1].1 {
        Check::Tcp(t) => assert_eq!(t.connect.target(), sa("198.51.100.11:80")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_server_is_removed_and_comes_back() {
    let (mut b, out) = started(WEB);
    let ids = inserted(&out);
    let key = tcp("192.0.2.1:80");
    let out = event(&mut b, ids[0], State::Down);
    assert_eq!(ops(&out), vec![Op::DelDest(key, sa("198.51.100.10:80"))]);
    assert_eq!(notes(&out), vec!["/bin/down 10"]);
    let out = event(&mut b, ids[0], State::Down);
    assert!(out.is_empty(), "the same state twice changes nothing");
    let out = event(&mut b, ids[0], State::Up);
    assert_eq!(
        ops(&out),
        vec![Op::NewDest(
            key,
            Destination::new(sa("198.51.100.10:80")).weight(3)
        )]
    );
    assert_eq!(notes(&out), vec!["/bin/up 10"]);
}

#[test]
fn inhibit_on_failure_sets_weight_zero() {
    let (mut b, out) = started(WEB);
    let ids = inserted(&out);
    let key = tcp("192.0.2.1:80");
    let out = event(&mut b, ids[1], State::Down);
    assert_eq!(
        ops(&out),
        vec![Op::SetDest(
            key,
            Destination::new(sa("198.51.100.11:80")).weight(0)
        )]
    );
    assert_eq!(
        dests(&b, &key),
        vec![(sa("198.51.100.10:80"), 3), (sa("198.51.100.11:80"), 0)]
    );
}

#[test]
fn alpha_starts_down_until_the_first_pass() {
    let text = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    alpha
    real_server 198.51.100.10 80 {
        TCP_CHECK {
        }
    }
}
";
    let (mut b, out) = started(text);
    let key = tcp("192.0.2.1:80");
    assert!(dests(&b, &key).is_empty());
    let id = inserted(&out)[0];
    let out = event(&mut b, id, State::Up);
    assert_eq!(ops(&out).len(), 1);
    assert_eq!(dests(&b, &key), vec![(sa("198.51.100.10:80"), 1)]);
}

const SORRY: &str = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    quorum 4
    hysteresis 1
    quorum_up /bin/qup
    quorum_down /bin/qdown
    sorry_server 203.0.113.9 8080
    real_server 198.51.100.10 80 {
        weight 2
        TCP_CHECK {
        }
    }
    real_server 198.51.100.11 80 {
        weight 2
        TCP_CHECK {
        }
    }
    real_server 198.51.100.12 80 {
        weight 1
        TCP_CHECK {
        }
    }
}
";

#[test]
fn quorum_with_hysteresis_and_the_sorry_server() {
    let (mut b, out) = started(SORRY);
    let ids = inserted(&out);
    let key = tcp("192.0.2.1:80");
    assert_eq!(b.has_quorum(0), Some(true));
    // 5 -> 3: not below quorum - hysteresis (3).
    let out = event(&mut b, ids[0], State::Down);
    assert!(notes(&out).is_empty());
    assert_eq!(b.has_quorum(0), Some(true));
    // 3 -> 1: lost. The sorry server takes over, the live server goes out.
    let out = event(&mut b, ids[1], State::Down);
    assert_eq!(notes(&out), vec!["/bin/qdown"]);
    assert_eq!(dests(&b, &key), vec![(sa("203.0.113.9:8080"), 1)]);
    // 1 -> 3: not yet quorum + hysteresis (5).
    let out = event(&mut b, ids[0], State::Up);
    assert!(notes(&out).is_empty());
    assert_eq!(dests(&b, &key), vec![(sa("203.0.113.9:8080"), 1)]);
    // 3 -> 5: back; the sorry server goes, the live servers come back.
    let out = event(&mut b, ids[1], State::Up);
    assert_eq!(notes(&out), vec!["/bin/qup"]);
    assert_eq!(
        dests(&b, &key),
        vec![
            (sa("198.51.100.10:80"), 2),
            (sa("198.51.100.11:80"), 2),
            (sa("198.51.100.12:80"), 1)
        ]
    );
}

#[test]
fn sorry_server_inhibit_keeps_it_at_weight_zero() {
    let text = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    sorry_server 203.0.113.9 80
    sorry_server_inhibit
    sorry_server_lvs_method DR
    real_server 198.51.100.10 80 {
        TCP_CHECK {
        }
    }
}
";
    let (mut b, out) = started(text);
    let key = tcp("192.0.2.1:80");
    assert_eq!(
        dests(&b, &key),
        vec![(sa("198.51.100.10:80"), 1), (sa("203.0.113.9:80"), 0)]
    );
    let out = event(&mut b, inserted(&out)[0], State::Down);
    assert_eq!(
        ops(&out),
        vec![
            Op::DelDest(key, sa("198.51.100.10:80")),
            Op::SetDest(
                key,
                Destination::new(sa("203.0.113.9:80")).forward(ForwardMethod::DirectRoute)
            ),
        ]
    );
}

#[test]
fn misc_dynamic_sets_the_weight() {
    let text = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    quorum 5
    quorum_down /bin/qdown
    real_server 198.51.100.10 80 {
        weight 10
        MISC_CHECK {
            misc_path \"/bin/load 10\"
            misc_dynamic
        }
    }
}
";
    let (mut b, out) = started(text);
    let id = inserted(&out)[0];
    b.handle_input(Input::Check {
        now: now(),
        id,
        state: State::Up,
        weight: Some(4),
    });
    let out = drain(&mut b);
    let key = tcp("192.0.2.1:80");
    assert_eq!(
        ops(&out),
        vec![Op::SetDest(
            key,
            Destination::new(sa("198.51.100.10:80"))
                .weight(4)
                .forward(ForwardMethod::Masquerade)
        )]
    );
    assert_eq!(
        notes(&out),
        vec!["/bin/qdown"],
        "4 is below the quorum of 5"
    );
}

#[test]
fn a_shared_real_server_drives_every_virtual_server() {
    let text = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    real_server 198.51.100.10 80 {
        TCP_CHECK {
        }
    }
}
virtual_server 192.0.2.2 80 {
    protocol TCP
    real_server 198.51.100.10 80 {
        TCP_CHECK {
        }
    }
}
";
    let (mut b, out) = started(text);
    let checks: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::InsertCheck {
                check, schedule, ..
            } => Some((check.clone(), *schedule)),
            _ => None,
        })
        .collect();
    // Identical (check, schedule) pairs: the scheduler runs them once and fans the events out.
    assert_eq!(checks[0], checks[1]);
    let mut all = Vec::new();
    for id in inserted(&out) {
        all.extend(ops(&event(&mut b, id, State::Down)));
    }
    assert_eq!(
        all,
        vec![
            Op::DelDest(tcp("192.0.2.1:80"), sa("198.51.100.10:80")),
            Op::DelDest(tcp("192.0.2.2:80"), sa("198.51.100.10:80")),
        ]
    );
}

#[test]
fn every_scheduler_flag_method_and_persistence_keyword() {
    let text = "
global_defs {
    lvs_timeouts tcp 900 tcpfin 30 udp 60
    lvs_sync_daemon eth0 VI_1 id 7
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24
    }
}
virtual_server 192.0.2.1 53 {
    protocol UDP
    lvs_sched sh
    sh-port
    flag-1
    ops
    lvs_method TUN type gue port 6080 csum
    persistence_timeout
    persistence_granularity 255.255.255.0
    real_server 198.51.100.10 53 {
        uthreshold 100
        lthreshold 10
    }
    real_server 198.51.100.11 53 {
        lvs_method NAT
    }
}
virtual_server fwmark 7 {
    ip_family inet6
    lvs_sched mh
    persistence_timeout 60
    persistence_granularity 64
    persistence_engine sip
    real_server 2001:db8::10 {
    }
}
virtual_server 2001:db8::1 443 {
    protocol SCTP
    real_server 2001:db8::11 8443 {
    }
}
";
    let (b, out) = started(text);
    let udp = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: sa("192.0.2.1:53"),
    };
    let svc = &b.table().services[&udp];
    assert_eq!(svc.service.scheduler, "sh");
    assert_eq!(
        svc.service.flags,
        IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_ONEPACKET | IP_VS_SVC_F_PERSISTENT
    );
    assert_eq!(svc.service.timeout, 360);
    assert_eq!(
        svc.service.netmask,
        Netmask::from_v4_mask("255.255.255.0".parse().unwrap())
    );
    let tun = &svc.destinations[&sa("198.51.100.10:53")];
    assert_eq!(tun.forward, ForwardMethod::Tunnel);
    assert_eq!(
        (tun.tunnel_type, tun.tunnel_port, tun.tunnel_flags),
        (TunnelType::Gue, 6080, IP_VS_TUNNEL_ENCAP_FLAG_CSUM)
    );
    assert_eq!((tun.upper_threshold, tun.lower_threshold), (100, 10));
    assert_eq!(
        svc.destinations[&sa("198.51.100.11:53")].forward,
        ForwardMethod::Masquerade
    );

    let fwm = ServiceKey::Fwmark {
        family: Family::V6,
        mark: 7,
    };
    let svc = &b.table().services[&fwm];
    assert_eq!(svc.service.scheduler, "mh");
    assert_eq!(svc.service.timeout, 60);
    assert_eq!(svc.service.pe_name.as_deref(), Some("sip"));
    assert_eq!(
        svc.service.netmask,
        Netmask::from_prefix(Family::V6.af(), 64)
    );
    assert_eq!(
        svc.destinations.keys().copied().collect::<Vec<_>>(),
        vec![sa("[2001:db8::10]:0")]
    );
    assert_eq!(
        svc.destinations[&sa("[2001:db8::10]:0")].forward,
        ForwardMethod::Masquerade,
        "NAT by default"
    );

    let sctp = ServiceKey::Addr {
        protocol: Protocol::Sctp,
        addr: sa("[2001:db8::1]:443"),
    };
    assert_eq!(b.table().services[&sctp].service.scheduler, "wlc");
    assert!(
        b.table().services[&sctp]
            .destinations
            .contains_key(&sa("[2001:db8::11]:8443"))
    );

    let config: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            Output::IpvsConfig(op) => Some(op.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(config.len(), 2);
    assert_eq!(
        config[0],
        Op::SetTimeouts(ipvs::Timeouts {
            tcp: 900,
            tcp_fin: 30,
            udp: 60
        })
    );
    match &config[1] {
        Op::StartDaemon(d) => {
            assert_eq!(d.state, DaemonState::Backup);
            assert_eq!((d.interface.as_str(), d.sync_id), ("eth0", 7));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sync_daemon_follows_its_vrrp_instance() {
    let text = "
global_defs {
    lvs_sync_daemon eth0 VI_1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";
    let (mut b, _) = started(text);
    b.handle_input(Input::Instance {
        now: now(),
        name: "VI_1".into(),
        master: true,
    });
    let out = drain(&mut b);
    assert!(matches!(
        &out[..],
        [
            Output::IpvsConfig(Op::StopDaemon(DaemonState::Backup)),
            Output::IpvsConfig(Op::StartDaemon(d)),
        ] if d.state == DaemonState::Master
    ));
    b.handle_input(Input::Instance {
        now: now(),
        name: "VI_2".into(),
        master: true,
    });
    assert!(drain(&mut b).is_empty(), "another instance");
}

#[test]
fn a_group_expands_ranges_and_marks() {
    let text = "
virtual_server_group web {
    192.0.2.1-3 80
    192.0.2.10 443
    fwmark 5
}
virtual_server group web {
    protocol TCP
    lvs_method DR
    real_server 198.51.100.10 {
    }
}
";
    let (b, _) = started(text);
    let keys: Vec<_> = b.table().services.keys().copied().collect();
    assert_eq!(
        keys,
        vec![
            tcp("192.0.2.1:80"),
            tcp("192.0.2.2:80"),
            tcp("192.0.2.3:80"),
            tcp("192.0.2.10:443"),
            ServiceKey::Fwmark {
                family: Family::V4,
                mark: 5
            },
        ]
    );
    // The real server's port is each service's.
    assert_eq!(
        dests(&b, &tcp("192.0.2.10:443")),
        vec![(sa("198.51.100.10:443"), 1)]
    );
}

#[test]
fn start_adopts_matching_entries_and_leaves_foreign_ones() {
    let (reference, _) = started(WEB);
    let mut kernel = reference.table().clone();
    let foreign = Service::tcp(sa("203.0.113.1:25"));
    kernel.insert_service(foreign.clone());
    kernel.insert_destination(&foreign.key, Destination::new(sa("203.0.113.2:25")));
    // A weight that differs from the configuration is corrected in place.
    kernel.insert_destination(
        &tcp("192.0.2.1:80"),
        Destination::new(sa("198.51.100.11:80")).weight(7),
    );
    let mut b = Balancer::new(setup(WEB));
    b.handle_input(Input::Kernel {
        now: now(),
        table: kernel,
    });
    b.handle_input(Input::Start { now: now() });
    let out = drain(&mut b);
    assert_eq!(
        ops(&out),
        vec![Op::SetDest(
            tcp("192.0.2.1:80"),
            Destination::new(sa("198.51.100.11:80"))
        )]
    );
    assert!(b.table().services.contains_key(&foreign.key));
    assert!(!b.owns(&foreign.key));
    // Removed on shutdown only with keepalived's behaviour, and never the foreign service.
    b.handle_input(Input::Shutdown {
        now: now(),
        remove: true,
    });
    let out = drain(&mut b);
    assert_eq!(ops(&out), vec![Op::DelService(tcp("192.0.2.1:80"))]);
    assert!(matches!(out.last(), Some(Output::Stopped)));
}

#[test]
fn shutdown_leaves_entries_and_runs_omega_scripts() {
    let text = "
virtual_server 192.0.2.1 80 {
    protocol TCP
    omega
    quorum_down /bin/qdown
    real_server 198.51.100.10 80 {
        notify_down /bin/down
        TCP_CHECK {
        }
    }
}
";
    let (mut b, _) = started(text);
    b.handle_input(Input::Shutdown {
        now: now(),
        remove: false,
    });
    let out = drain(&mut b);
    assert!(ops(&out).is_empty());
    assert_eq!(notes(&out), vec!["/bin/down", "/bin/qdown"]);
    assert_eq!(removed(&out).len(), 1);
}

#[test]
fn a_weight_change_reloads_as_one_operation_and_keeps_the_checks() {
    let (mut b, out) = started(WEB);
    let ids = inserted(&out);
    event(&mut b, ids[1], State::Down);
    let new = WEB.replace("weight 3", "weight 5");
    b.handle_input(Input::Reload {
        now: now(),
        setup: setup(&new),
    });
    let out = drain(&mut b);
    assert_eq!(
        out,
        vec![Output::Ipvs(vec![Op::SetDest(
            tcp("192.0.2.1:80"),
            Destination::new(sa("198.51.100.10:80")).weight(5)
        )])]
    );
    // The failed server's state survived the reload.
    assert_eq!(b.is_alive(0, 1), Some(false));
    b.handle_input(Input::Reload {
        now: now(),
        setup: setup(&new),
    });
    assert!(
        drain(&mut b).is_empty(),
        "an unchanged file changes nothing"
    );
}

#[test]
fn a_changed_check_is_replaced_and_a_removed_server_stops_its_check() {
    let (mut b, out) = started(WEB);
    let ids = inserted(&out);
    let new = WEB.replace("retry 2", "retry 3");
    b.handle_input(Input::Reload {
        now: now(),
        setup: setup(&new),
    });
    let out = drain(&mut b);
    assert_eq!(removed(&out), vec![ids[0]]);
    assert_eq!(inserted(&out).len(), 1);
    assert!(ops(&out).is_empty());

    let start = new.find("    real_server 198.51.100.11").unwrap();
    let end = new.rfind("}\n").unwrap();
    let fewer = format!("{}{}", &new[..start], &new[end..]);
    b.handle_input(Input::Reload {
        now: now(),
        setup: setup(&fewer),
    });
    let out = drain(&mut b);
    assert_eq!(removed(&out), vec![ids[1]]);
    assert_eq!(
        ops(&out),
        vec![Op::DelDest(tcp("192.0.2.1:80"), sa("198.51.100.11:80"))]
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let text = "virtual_server 192.0.2.1 80 {\n    protocol TCP\n    real_server 198.51.100.10 80 {\n        FILE_CHECK {\n            track_file f\n        }\n    }\n}\n";
    let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
    let errors = map(&parsed.config, Some(&parsed.sources)).unwrap_err();
    let text = errors[0].to_string();
    assert!(text.starts_with("keepalived.conf:4:"), "{text}");
    assert!(text.contains("real_server 198.51.100.10:80"), "{text}");
    assert!(text.contains("FILE_CHECK"), "{text}");
}

#[test]
fn a_kernel_reread_gives_the_operations_back_to_the_desired_table() {
    let (mut b, _) = started(WEB);
    let mut kernel = Table::new();
    let foreign = Service::tcp(sa("203.0.113.1:25"));
    kernel.insert_service(foreign.clone());
    b.handle_input(Input::Kernel {
        now: now(),
        table: kernel,
    });
    let out = drain(&mut b);
    assert_eq!(ops(&out).len(), 3, "the service and two destinations again");
    assert!(b.table().services.contains_key(&foreign.key));
}
