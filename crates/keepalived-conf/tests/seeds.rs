//! Every shared configuration parses without errors, and each seed gives the model written out
//! here by hand from the file.

use std::net::IpAddr;

use keepalived_conf::model::*;
use keepalived_conf::{Config, Options, Spanned, parse_file};

const SEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/configs/seeds");
const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/vectors/keepalived-2.2.7"
);

/// Parses a shared file; the only diagnostic any of them has is the deprecation warning for
/// `nb_get_retry` in seed 002-lvs-dr-http-get (keepalived 2.2.7 gives it too).
fn parse(dir: &str, name: &str) -> Config {
    let parsed = parse_file(format!("{dir}/{name}"), &Options::default()).expect("readable");
    let rendered: Vec<String> = parsed.diagnostics.iter().map(|d| d.render()).collect();
    if name == "002-lvs-dr-http-get.conf" {
        let d = &parsed.diagnostics;
        assert_eq!(d.len(), 1, "{rendered:?}");
        assert_eq!(d[0].kind, keepalived_conf::DiagnosticKind::Deprecated);
        assert_eq!(d[0].message, "`nb_get_retry` is deprecated; use `retry`");
        let loc = d[0].location.as_ref().unwrap();
        assert_eq!((loc.line, loc.column), (44, 13));
    } else {
        assert!(
            rendered.is_empty(),
            "{name}: unexpected diagnostics:\n{}",
            rendered.join("\n")
        );
    }
    parsed.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn vip(s: &str) -> IpAddress {
    match s.split_once('/') {
        Some((a, l)) => IpAddress::new(ip(a), Some(l.parse().unwrap())),
        None => IpAddress::new(ip(s), None),
    }
}

fn sp<T>(v: T) -> Option<Spanned<T>> {
    Some(Spanned::new(v))
}

fn pass_1111() -> Option<Authentication> {
    Some(Authentication {
        auth_type: Some(AuthType::Pass),
        auth_pass: Some("1111".into()),
        origin: keepalived_conf::Origin::NONE,
    })
}

fn instance(name: &str, state: InitialState, interface: &str, vrid: u8, prio: u8) -> VrrpInstance {
    VrrpInstance {
        name: name.into(),
        state: Some(state),
        interface: sp(interface.to_string()),
        virtual_router_id: sp(vrid),
        priority: sp(prio),
        advert_int: sp(Timer::from_secs(1)),
        ..VrrpInstance::default()
    }
}

#[test]
fn every_shared_config_parses_without_errors() {
    let mut count = 0;
    for dir in [SEEDS, VECTORS] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "conf") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let config = parse(dir, &name);
                assert_eq!(config.vrrp_instances.len(), 1, "{name}");
                count += 1;
            }
        }
    }
    assert_eq!(count, 10, "5 seeds and 5 vectors");
}

#[test]
fn seed_000_lvs_dr_master() {
    let expected = Config {
        global_defs: GlobalDefs {
            router_id: Some("LVS_DEVEL".into()),
            ..GlobalDefs::default()
        },
        vrrp_instances: vec![VrrpInstance {
            src_ip: sp(ip("192.168.220.141")),
            authentication: pass_1111(),
            virtual_ipaddress: vec![vip("192.168.220.140")],
            ..instance("VI_1", InitialState::Master, "eth0", 51, 120)
        }],
        ..Config::default()
    };
    assert_eq!(parse(SEEDS, "000-lvs-dr-master.conf"), expected);
}

#[test]
fn seed_002_lvs_dr_http_get() {
    let mut rs = RealServer::new(ip("192.168.1.201"), Some(8080));
    rs.weight = Some(3);
    let mut http = Checker::new(CheckerKind::Http(HttpCheck {
        urls: vec![Url {
            path: Some("/".into()),
            status_code: vec![StatusRange {
                low: 200,
                high: 200,
            }],
            ..Url::default()
        }],
        ..HttpCheck::default()
    }));
    http.defaults.connect_timeout = Some(Timer::from_secs(10));
    http.defaults.retry = Some(3); // written as the old nb_get_retry
    http.defaults.delay_before_retry = Some(Timer::from_secs(3));
    rs.checkers.push(http);
    let mut vs = VirtualServer::new(VirtualServerAddr::Ip {
        addr: ip("192.168.1.77"),
        port: Some(8080),
    });
    vs.defaults.delay_loop = Some(Timer::from_secs(6));
    vs.lvs_sched = Some(LvsSched::Wrr); // lb_algo
    vs.lvs_method = Some(LvsMethod::Dr); // lb_kind
    vs.persistence_timeout = Some(Some(60));
    vs.protocol = Some(Protocol::Tcp);
    vs.real_servers.push(rs);
    let expected = Config {
        global_defs: GlobalDefs {
            router_id: Some("lvs_master".into()),
            vrrp_mcast_group4: Some("224.0.0.18".parse().unwrap()),
            vrrp_mcast_group6: Some("ff02::12".parse().unwrap()),
            ..GlobalDefs::default()
        },
        vrrp_instances: vec![VrrpInstance {
            authentication: pass_1111(),
            virtual_ipaddress: vec![vip("192.168.1.77")],
            ..instance("VI_1", InitialState::Master, "eth0", 51, 101)
        }],
        virtual_servers: vec![vs],
        ..Config::default()
    };
    assert_eq!(parse(SEEDS, "002-lvs-dr-http-get.conf"), expected);
}

#[test]
fn seed_002_nginx_ha_backup() {
    let expected = Config {
        global_defs: GlobalDefs {
            router_id: Some("cc_backup".into()),
            notification_email: vec!["cc@cc.com".into()],
            notification_email_from: Some("cc@cc.com".into()),
            smtp_server: Some(SmtpServer {
                host: "192.168.200.1".into(),
                port: None,
            }),
            smtp_connect_timeout: Some(Timer::from_secs(30)),
            ..GlobalDefs::default()
        },
        vrrp_instances: vec![VrrpInstance {
            authentication: pass_1111(),
            virtual_ipaddress: vec![vip("192.168.1.77")],
            ..instance("VI_1", InitialState::Backup, "eth0", 51, 99)
        }],
        ..Config::default()
    };
    assert_eq!(parse(SEEDS, "002-nginx-ha-backup.conf"), expected);
}

#[test]
fn seed_002_nginx_ha_master() {
    let expected = Config {
        global_defs: GlobalDefs {
            router_id: Some("nginx_master".into()),
            notification_email: vec!["cc@cc.com".into()],
            notification_email_from: Some("cc@cc.com".into()),
            smtp_server: Some(SmtpServer {
                host: "smtp.cc.com".into(),
                port: None,
            }),
            smtp_connect_timeout: Some(Timer::from_secs(30)),
            ..GlobalDefs::default()
        },
        vrrp_scripts: vec![VrrpScript {
            name: "chk_http_port".into(),
            script: Some(Script {
                command: "/usr/common/keepalived/etc/keepalived/checkNginx.sh".into(),
                user: None,
                group: None,
            }),
            interval: Some(Timer::from_secs(2)),
            weight: Some(Weight {
                value: 2,
                reverse: false,
            }),
            ..VrrpScript::default()
        }],
        vrrp_instances: vec![VrrpInstance {
            authentication: pass_1111(),
            virtual_ipaddress: vec![vip("192.168.1.77")],
            track_script: vec![Track::new("chk_http_port")],
            ..instance("VI_1", InitialState::Master, "eth0", 51, 101)
        }],
        ..Config::default()
    };
    assert_eq!(parse(SEEDS, "002-nginx-ha-master.conf"), expected);
}

#[test]
fn seed_004_lvs_dr_tcp_check() {
    let real = |addr: &str| {
        let mut rs = RealServer::new(ip(addr), Some(80));
        rs.weight = Some(1);
        let mut tcp = Checker::new(CheckerKind::Tcp);
        tcp.defaults.connect_timeout = Some(Timer::from_secs(10));
        tcp.defaults.retry = Some(3);
        tcp.defaults.delay_before_retry = Some(Timer::from_secs(3));
        tcp.connect.connect_port = Some(80);
        rs.checkers.push(tcp);
        rs
    };
    let mut vs = VirtualServer::new(VirtualServerAddr::Ip {
        addr: ip("172.17.13.252"),
        port: Some(80),
    });
    vs.defaults.delay_loop = Some(Timer::from_secs(3));
    vs.lvs_sched = Some(LvsSched::Rr);
    vs.lvs_method = Some(LvsMethod::Dr);
    vs.persistence_timeout = Some(Some(50));
    vs.protocol = Some(Protocol::Tcp);
    vs.real_servers = vec![real("172.17.13.173"), real("172.17.13.142")];
    let expected = Config {
        global_defs: GlobalDefs {
            router_id: Some("LVS_DEVEL".into()),
            ..GlobalDefs::default()
        },
        vrrp_instances: vec![VrrpInstance {
            authentication: pass_1111(),
            virtual_ipaddress: vec![vip("172.17.13.252")],
            ..instance("VI_1", InitialState::Master, "enp1s0", 62, 200)
        }],
        virtual_servers: vec![vs],
        ..Config::default()
    };
    assert_eq!(parse(SEEDS, "004-lvs-dr-tcp-check.conf"), expected);
}

fn vector_globals(name: &str) -> GlobalDefs {
    GlobalDefs {
        router_id: Some(name.into()),
        vrrp_garp_master_delay: Some(1),
        vrrp_garp_master_repeat: Some(2),
        ..GlobalDefs::default()
    }
}

#[test]
fn vector_v2_pass() {
    let expected = Config {
        global_defs: vector_globals("vec_v2_pass"),
        vrrp_instances: vec![VrrpInstance {
            authentication: pass_1111(),
            virtual_ipaddress: vec![vip("192.0.2.100")],
            ..instance("VI_1", InitialState::Master, "eva", 51, 120)
        }],
        ..Config::default()
    };
    assert_eq!(parse(VECTORS, "v2_pass.conf"), expected);
}

#[test]
fn vector_v2_noauth_multi() {
    let expected = Config {
        global_defs: vector_globals("vec_v2_noauth_multi"),
        vrrp_instances: vec![VrrpInstance {
            virtual_ipaddress: vec![
                vip("192.0.2.100"),
                vip("192.0.2.101"),
                vip("192.0.2.102/24"),
                vip("198.51.100.7"),
            ],
            ..instance("VI_2", InitialState::Master, "eva", 62, 200)
        }],
        ..Config::default()
    };
    assert_eq!(parse(VECTORS, "v2_noauth_multi.conf"), expected);
}

#[test]
fn vector_v3_ipv4_merges_global_defs() {
    let expected = Config {
        global_defs: GlobalDefs {
            vrrp_version: Some(3),
            ..vector_globals("vec_v3_ipv4")
        },
        vrrp_instances: vec![VrrpInstance {
            advert_int: sp(Timer(500_000)),
            virtual_ipaddress: vec![vip("192.0.2.200"), vip("192.0.2.201")],
            ..instance("VI_3", InitialState::Master, "eva", 7, 150)
        }],
        ..Config::default()
    };
    assert_eq!(parse(VECTORS, "v3_ipv4.conf"), expected);
}

#[test]
fn vector_v3_ipv6() {
    let expected = Config {
        global_defs: vector_globals("vec_v3_ipv6"),
        vrrp_instances: vec![VrrpInstance {
            version: sp(3),
            virtual_ipaddress: vec![vip("2001:db8::100"), vip("2001:db8::101")],
            ..instance("VI_6", InitialState::Master, "eva", 9, 254)
        }],
        ..Config::default()
    };
    assert_eq!(parse(VECTORS, "v3_ipv6.conf"), expected);
}

#[test]
fn vector_v3_unicast() {
    let expected = Config {
        global_defs: vector_globals("vec_v3_unicast"),
        vrrp_instances: vec![VrrpInstance {
            version: sp(3),
            src_ip: sp(ip("192.0.2.1")),
            unicast_peer: vec![UnicastPeer {
                addr: ip("192.0.2.2"),
                min_ttl: None,
                max_ttl: None,
                origin: keepalived_conf::Origin::NONE,
            }],
            virtual_ipaddress: vec![vip("192.0.2.77")],
            ..instance("VI_U", InitialState::Master, "eva", 77, 100)
        }],
        ..Config::default()
    };
    assert_eq!(parse(VECTORS, "v3_unicast.conf"), expected);
}

#[test]
fn origins_point_at_the_file() {
    let parsed = parse_file(
        format!("{SEEDS}/004-lvs-dr-tcp-check.conf"),
        &Options::default(),
    )
    .unwrap();
    let vi = &parsed.config.vrrp_instances[0];
    let vrid = parsed
        .sources
        .location(vi.virtual_router_id.unwrap().origin)
        .unwrap();
    assert_eq!((vrid.line, vrid.column), (9, 23));
    let rs = &parsed.config.virtual_servers[0].real_servers[1];
    let loc = parsed.sources.location(rs.origin).unwrap();
    assert_eq!((loc.line, loc.column), (37, 5));
}
