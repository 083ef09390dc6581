//! Golden tests: the seed clusters and an input with every directive of each format, imported
//! and compared byte for byte with `testdata/import/expected/`; then the output parsed back and
//! checked setting by setting, so a wrong golden file cannot hide a wrong mapping.
//!
//! `UPDATE_GOLDEN=1 cargo test -p lvskit-import --test golden` rewrites the expected files.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use keepalived_conf::model::{
    CheckerKind, Config, Granularity, InitialState, LvsMethod, LvsSched, Protocol, Timer,
    VirtualServer, VirtualServerAddr,
};
use lvskit_import::{Heartbeat, Imported, Input, Options};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// An input named by its path under testdata/, so the output does not depend on the checkout.
fn input(rel: &str) -> Input {
    let text = std::fs::read_to_string(testdata().join(rel)).unwrap();
    Input::new(rel, text)
}

fn golden(name: &str, imported: &Imported) {
    let dir = testdata().join("import/expected");
    let warnings: String = imported.warnings.iter().map(|w| format!("{w}\n")).collect();
    for (ext, actual) in [("conf", &imported.config), ("warnings", &warnings)] {
        let path = dir.join(format!("{name}.{ext}"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
        assert!(
            *actual == expected,
            "{name}.{ext} differs from {}:\n{actual}",
            path.display()
        );
    }
}

/// The output as the director with config id `id` reads it, which must be clean.
fn parsed(imported: &Imported, id: Option<&str>) -> Config {
    let options = keepalived_conf::Options {
        config_id: id.map(str::to_string),
        strict: true,
        includes: false,
        ..Default::default()
    };
    let p = keepalived_conf::parse_str("out.conf", &imported.config, &options);
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    p.config
}

fn vs<'a>(config: &'a Config, addr: &str, port: Option<u16>) -> &'a VirtualServer {
    let want = match addr.parse::<IpAddr>() {
        Ok(a) => VirtualServerAddr::Ip { addr: a, port },
        Err(_) => VirtualServerAddr::Fwmark(addr.parse().unwrap()),
    };
    config
        .virtual_servers
        .iter()
        .find(|v| v.addr == want)
        .unwrap_or_else(|| panic!("no virtual server {addr} {port:?}"))
}

fn warned(imported: &Imported, prefix: &str) -> bool {
    imported
        .warnings
        .iter()
        .any(|w| w.message.starts_with(prefix))
}

fn heartbeat_inputs(dir: &str, ldirectord: &[&str]) -> Heartbeat {
    Heartbeat {
        ha_cf: input(&format!("{dir}/ha.cf")),
        haresources: input(&format!("{dir}/haresources")),
        authkeys: Some(input(&format!("{dir}/authkeys"))),
        ldirectord: ldirectord
            .iter()
            .map(|f| input(&format!("{dir}/{f}")))
            .collect(),
    }
}

const SEED_001: &str = "configs/seeds/001-heartbeat-ldirectord";

#[test]
fn seed_001_ldirectord() {
    let imported = lvskit_import::ldirectord(
        &input(&format!("{SEED_001}/ldirectord.cf")),
        &Options::default(),
    )
    .unwrap();
    golden("seed-001-ldirectord", &imported);
    let c = parsed(&imported, None);
    let v = vs(&c, "192.168.1.106", Some(80));
    assert_eq!(v.lvs_sched, Some(LvsSched::Wrr));
    assert_eq!(v.lvs_method, Some(LvsMethod::Dr));
    assert_eq!(v.persistence_timeout, Some(Some(5)));
    assert_eq!(v.protocol, Some(Protocol::Tcp));
    assert_eq!(v.defaults.delay_loop, Some(Timer::from_secs(1)));
    assert_eq!(v.defaults.inhibit_on_failure, Some(false)); // quiescent=no
    assert_eq!(
        v.sorry_server.as_ref().unwrap().addr.to_string(),
        "127.0.0.1"
    );
    assert_eq!(v.real_servers.len(), 2);
    for rs in &v.real_servers {
        assert_eq!(rs.checkers.len(), 1);
        assert_eq!(rs.checkers[0].kind, CheckerKind::Tcp);
        assert_eq!(rs.checkers[0].connect.connect_port, None); // checkport=80 is the real port
        assert_eq!(
            rs.checkers[0].defaults.connect_timeout,
            Some(Timer::from_secs(3))
        );
    }
    assert_eq!(c.global_defs.notification_email, ["cnseek@gmail.com"]);
    for flagged in [
        "autoreload",
        "logfile",
        "emailalertfreq",
        "emailalert without smtp",
    ] {
        assert!(warned(&imported, flagged), "{flagged} not flagged");
    }
}

#[test]
fn seed_001_heartbeat() {
    let imported = lvskit_import::heartbeat(
        &heartbeat_inputs(SEED_001, &["ldirectord.cf"]),
        &Options::default(),
    )
    .unwrap();
    golden("seed-001-heartbeat", &imported);
    assert_eq!(imported.config_ids, ["backuplb", "primarylb"]);
    let primary = parsed(&imported, Some("primarylb"));
    let backup = parsed(&imported, Some("backuplb"));
    let (p, b) = (&primary.vrrp_instances[0], &backup.vrrp_instances[0]);
    assert_eq!(p.state, Some(InitialState::Master));
    assert_eq!(b.state, Some(InitialState::Backup));
    assert!(p.priority.unwrap().value > b.priority.unwrap().value);
    assert_eq!(p.nopreempt, Some(false)); // auto_failback on
    // keepalive 2, deadtime 30: adverts every 2 s, takeover within 8 s.
    assert_eq!(p.advert_int.unwrap().value, Timer::from_secs(2));
    assert_eq!(
        p.virtual_ipaddress[0].prefix.to_string(),
        "192.168.1.106/24"
    );
    assert_eq!(p.virtual_ipaddress[0].dev.as_deref(), Some("eth0"));
    assert_eq!(p.interface.as_ref().unwrap().value, "eth0");
    assert_eq!(p.unicast_peer[0].addr.to_string(), "192.168.1.103");
    assert_eq!(
        p.authentication.as_ref().unwrap().auth_pass.as_deref(),
        Some("Hey!")
    );
    // ping and ping_group: trackers that put the master below the backup.
    assert_eq!(p.track_script.len(), 2);
    let weight = primary.vrrp_scripts[0].weight.unwrap().value;
    assert!(i32::from(p.priority.unwrap().value) + weight < i32::from(b.priority.unwrap().value));
    assert!(
        primary.vrrp_scripts[1]
            .script
            .as_ref()
            .unwrap()
            .command
            .ends_with("10.0.0.1 10.0.0.2 192.168.1.102 192.168.1.103")
    );
    // The lvs resource runs from notify scripts; ldirectord's virtual servers are there.
    assert_eq!(
        p.notify.master.as_ref().unwrap().command,
        "/etc/ha.d/resource.d/lvs start"
    );
    assert_eq!(primary.virtual_servers.len(), 1);
    for flagged in ["crm on", "watchdog", "resource `lvs`", "sha1 HMAC", "ucast"] {
        assert!(warned(&imported, flagged), "{flagged} not flagged");
    }
}

#[test]
fn seed_003_piranha() {
    let imported = lvskit_import::piranha(
        &input("configs/seeds/003-piranha/lvs.cf"),
        &Options::default(),
    )
    .unwrap();
    golden("seed-003-piranha", &imported);
    let primary = parsed(&imported, Some("primary"));
    let backup = parsed(&imported, Some("backup"));
    let (p, b) = (&primary.vrrp_instances[0], &backup.vrrp_instances[0]);
    assert_eq!(p.src_ip.unwrap().value.to_string(), "192.168.0.20");
    assert_eq!(p.unicast_peer[0].addr.to_string(), "192.168.0.21");
    assert_eq!(b.src_ip.unwrap().value.to_string(), "192.168.0.21");
    assert_eq!(b.unicast_peer[0].addr.to_string(), "192.168.0.20");
    // keepalive 6, deadtime 18: 4 s adverts keep the takeover within 16 s.
    assert_eq!(p.advert_int.unwrap().value, Timer::from_secs(4));
    assert!(p.dont_track_primary); // monitor_links = 0
    let vip = &p.virtual_ipaddress[0];
    assert_eq!(vip.prefix.to_string(), "192.168.0.200/32");
    assert_eq!(vip.label.as_deref(), Some("eth0:1"));
    let v = vs(&primary, "192.168.0.200", Some(80));
    assert_eq!(v.lvs_method, Some(LvsMethod::Dr));
    assert_eq!(v.lvs_sched, Some(LvsSched::Wlc));
    assert_eq!(v.real_servers.len(), 2);
    let CheckerKind::Http(http) = &v.real_servers[0].checkers[0].kind else {
        panic!("send GET / expect HTTP is an HTTP_GET");
    };
    assert_eq!(http.urls[0].path.as_deref(), Some("/"));
    assert_eq!(
        v.real_servers[0].checkers[0].defaults.connect_timeout,
        Some(Timer::from_secs(6))
    );
    for flagged in ["serial_no", "heartbeat_port", "reentry", "send \"GET"] {
        assert!(warned(&imported, flagged), "{flagged} not flagged");
    }
}

#[test]
fn ldirectord_every_directive() {
    let imported = lvskit_import::ldirectord(
        &input("import/ldirectord/every-directive.cf"),
        &Options::default(),
    )
    .unwrap();
    golden("ldirectord-every-directive", &imported);
    let c = parsed(&imported, None);
    let g = &c.global_defs;
    assert_eq!(
        g.notification_email,
        ["ops@example.test", "noc@example.test", "web@example.test"]
    );
    assert_eq!(
        g.notification_email_from.as_deref(),
        Some("lb@example.test")
    );
    let smtp = g.smtp_server.as_ref().unwrap();
    assert_eq!((smtp.host.as_str(), smtp.port), ("192.0.2.25", Some(25)));

    let www = vs(&c, "192.0.2.10", Some(80));
    assert_eq!(www.lvs_sched, Some(LvsSched::Wlc));
    assert_eq!(www.persistence_timeout, Some(Some(300)));
    assert_eq!(
        www.persistence_granularity,
        Some(Granularity::Mask("255.255.255.0".parse().unwrap()))
    );
    assert_eq!(
        www.sorry_server.as_ref().unwrap().addr.to_string(),
        "192.0.2.251"
    );
    assert_eq!(www.defaults.inhibit_on_failure, Some(false));
    assert_eq!(www.defaults.retry, Some(2)); // failurecount=3
    assert_eq!(www.defaults.delay_loop, Some(Timer::from_secs(6)));
    assert!(
        www.quorum_down
            .as_ref()
            .unwrap()
            .command
            .ends_with("sorry-page start")
    );
    assert_eq!(www.real_servers.len(), 4); // a range of two
    let rs = &www.real_servers;
    // The first real server's method is the service's; the masq ones say theirs.
    assert_eq!((rs[0].weight, rs[0].lvs_method), (Some(5), None));
    assert_eq!(www.lvs_method, Some(LvsMethod::Dr));
    assert_eq!(
        (rs[3].port, rs[3].lvs_method),
        (Some(8080), Some(LvsMethod::Nat))
    );
    let CheckerKind::Http(own) = &rs[1].checkers[0].kind else {
        panic!()
    };
    assert_eq!(own.urls[0].path.as_deref(), Some("/alive.html"));
    // lvskitd's HTTP_GET matches no body yet: no regex, and receive is flagged.
    assert_eq!(own.urls[0].regex, None);
    let CheckerKind::Http(section) = &rs[0].checkers[0].kind else {
        panic!()
    };
    assert_eq!(section.urls[0].path.as_deref(), Some("/health"));
    assert_eq!(
        section.urls[0].virtualhost.as_deref(),
        Some("www.example.test")
    );
    assert_eq!(
        rs[0].checkers[0].defaults.connect_timeout,
        Some(Timer::from_secs(12))
    );

    let https = vs(&c, "192.0.2.10", Some(443));
    assert!(matches!(https.lvs_method, Some(LvsMethod::Tun { .. })));
    assert_eq!(https.sorry_server_lvs_method, Some(LvsMethod::Nat));
    let checkers = &https.real_servers[0].checkers;
    assert_eq!(checkers[0].kind, CheckerKind::Tcp);
    assert_eq!(checkers[0].connect.connect_port, Some(8443));
    assert_eq!(
        checkers[0].defaults.connect_timeout,
        Some(Timer::from_secs(3))
    );
    assert!(matches!(checkers[1].kind, CheckerKind::Ssl(_)));
    assert_eq!(checkers[1].defaults.delay_loop, Some(Timer::from_secs(18)));

    let kind =
        |addr: &str, port: Option<u16>| vs(&c, addr, port).real_servers[0].checkers[0].kind.clone();
    assert!(matches!(
        kind("192.0.2.11", Some(25)),
        CheckerKind::Smtp { .. }
    ));
    let CheckerKind::Dns { name, .. } = kind("192.0.2.11", Some(53)) else {
        panic!()
    };
    assert_eq!(name.as_deref(), Some("www.example.test"));
    assert_eq!(vs(&c, "192.0.2.11", Some(53)).protocol, Some(Protocol::Udp));
    assert_eq!(kind("192.0.2.12", Some(21)), CheckerKind::Tcp);
    assert_eq!(kind("192.0.2.12", Some(3306)), CheckerKind::Tcp);

    let fwm = vs(&c, "42", None);
    assert_eq!(fwm.protocol, None);
    assert_eq!(fwm.real_servers[0].port, None);
    let CheckerKind::Misc { path, .. } = &fwm.real_servers[0].checkers[0].kind else {
        panic!()
    };
    assert_eq!(
        path.as_ref().unwrap().command,
        "/usr/local/bin/check_app 42 0 198.51.100.9 80"
    );
    let CheckerKind::Misc { path, .. } = kind("192.0.2.13", Some(8080)) else {
        panic!()
    };
    assert!(
        path.unwrap()
            .command
            .starts_with("/usr/bin/perl /usr/local/lib/check.pl")
    );
    let ping = &vs(&c, "192.0.2.13", Some(22)).real_servers[0].checkers[0];
    assert_eq!(
        (ping.kind.clone(), ping.defaults.retry),
        (CheckerKind::Ping, Some(5))
    );
    assert!(
        vs(&c, "192.0.2.13", Some(7)).real_servers[0]
            .checkers
            .is_empty()
    );
    // checktype=off: a check that always fails keeps the real server out.
    let CheckerKind::Misc { path, .. } = kind("192.0.2.13", Some(9)) else {
        panic!()
    };
    assert_eq!(path.unwrap().command, "/bin/false");
    let v6 = vs(&c, "2001:db8::10", Some(80));
    assert_eq!(v6.persistence_granularity, Some(Granularity::PrefixLen(64)));
    assert_eq!(v6.sorry_server, None);

    for flagged in [
        "autoreload",
        "callback",
        "logfile",
        "execute",
        "fork",
        "supervised",
        "readdquiescent",
        "maintenancedir",
        "emailalertfreq",
        "emailalertstatus",
        "emailalert in a virtual",
        "fallbackcommand",
        "monitorfile",
        "cleanstop=no",
        "httpmethod",
        "checkcount",
        "checktype=3",
        "login",
        "passwd",
        "database",
        "secret",
        "checktype=external-perl",
        "checktype=off",
        "receive=\"192.0.2.10\"",
        "receive=\"OK\"",
        "real= receive \"I am alive\"",
        "negotiate check of service ftp",
        "fallback=192.0.2.250",
    ] {
        assert!(warned(&imported, flagged), "{flagged} not flagged");
    }
}

#[test]
fn heartbeat_every_directive() {
    let imported = lvskit_import::heartbeat(
        &heartbeat_inputs("import/heartbeat/every-directive", &["www.cf"]),
        &Options::default(),
    )
    .unwrap();
    golden("heartbeat-every-directive", &imported);
    assert_eq!(imported.config_ids, ["lb1", "lb2", "lb3"]);
    let lb1 = parsed(&imported, Some("lb1"));
    let lb2 = parsed(&imported, Some("lb2"));
    let lb3 = parsed(&imported, Some("lb3"));
    let prio = |c: &Config, i: usize| c.vrrp_instances[i].priority.unwrap().value;
    // Group 1 prefers lb1, group 2 lb2; lb3 backs both up.
    assert!(prio(&lb1, 0) > prio(&lb2, 0) && prio(&lb2, 0) > prio(&lb3, 0));
    assert!(prio(&lb2, 1) > prio(&lb1, 1) && prio(&lb1, 1) > prio(&lb3, 1));
    for c in [&lb1, &lb2, &lb3] {
        for vi in &c.vrrp_instances {
            // auto_failback off
            assert_eq!(vi.state, Some(InitialState::Backup));
            assert_eq!(vi.nopreempt, Some(true));
            assert_eq!(vi.advert_int.unwrap().value, Timer::from_secs(1));
            assert_eq!(vi.interface.as_ref().unwrap().value, "eth0");
            assert_eq!(vi.unicast_peer.len(), 2);
            // authkeys: auth 2 is md5 with a key of several words.
            assert_eq!(
                vi.authentication.as_ref().unwrap().auth_pass.as_deref(),
                Some("correct ")
            );
        }
    }
    let vi1 = &lb1.vrrp_instances[0];
    assert_eq!(vi1.virtual_ipaddress.len(), 2);
    assert_eq!(vi1.virtual_ipaddress[1].label.as_deref(), Some("eth0:1"));
    assert_eq!(
        vi1.notify.master.as_ref().unwrap().command,
        "/etc/ha.d/resource.d/httpd start"
    );
    let vi2 = &lb1.vrrp_instances[1];
    assert_eq!(
        vi2.virtual_ipaddress[0].prefix.to_string(),
        "192.0.2.120/24"
    );
    assert!(
        vi2.notify
            .master
            .as_ref()
            .unwrap()
            .command
            .contains("postfix start")
    );
    // deadping 6 at keepalive 1: six missed pings.
    assert_eq!(lb1.vrrp_scripts.len(), 2);
    assert_eq!(lb1.vrrp_scripts[0].fall, Some(6));
    let vs = vs(&lb1, "192.0.2.100", Some(80));
    assert_eq!(vs.real_servers.len(), 2);
    for flagged in [
        "debugfile",
        "logfile",
        "logfacility",
        "use_logd",
        "warntime",
        "initdead",
        "udpport",
        "bcast",
        "mcast",
        "respawn /usr/local/sbin/collector",
        "apiauth",
        "watchdog",
        "stonith_host",
        "realtime",
        "compression",
        "debug",
        "baud",
        "serial",
        "md5 HMAC",
        "resource `httpd`",
        "resource `Filesystem",
        "resource `postfix`",
        "ucast",
    ] {
        assert!(warned(&imported, flagged), "{flagged} not flagged");
    }
}

#[test]
fn piranha_every_directive() {
    let imported = lvskit_import::piranha(
        &input("import/piranha/every-directive.cf"),
        &Options::default(),
    )
    .unwrap();
    golden("piranha-every-directive", &imported);
    let p = parsed(&imported, Some("primary"));
    let b = parsed(&imported, Some("backup"));
    assert_eq!(p.vrrp_instances[0].state, Some(InitialState::Master));
    assert_eq!(b.vrrp_instances[0].state, Some(InitialState::Backup));
    let vi = &p.vrrp_instances[0];
    // keepalive 2, deadtime 10: 2 s adverts.
    assert_eq!(vi.advert_int.unwrap().value, Timer::from_secs(2));
    // Every active VIP and the NAT router address; not the inactive virtual's.
    let vips: Vec<String> = vi
        .virtual_ipaddress
        .iter()
        .map(|a| a.prefix.to_string())
        .collect();
    assert_eq!(
        vips,
        [
            "192.0.2.200/24",
            "192.0.2.201",
            "192.0.2.202",
            "192.0.2.203",
            "198.51.100.254/24"
        ]
    );
    assert_eq!(vi.track_interface[0].name, "eth1"); // monitor_links = 1
    let sync = p.global_defs.lvs_sync_daemon.as_ref().unwrap();
    assert_eq!((sync.interface.as_str(), sync.id), ("eth2", Some(7)));
    let t = p.global_defs.lvs_timeouts.as_ref().unwrap();
    assert_eq!((t.tcp, t.tcpfin, t.udp), (Some(900), Some(120), Some(300)));

    let web = vs(&p, "192.0.2.200", Some(80));
    assert_eq!(web.lvs_method, Some(LvsMethod::Nat));
    assert_eq!(web.persistence_timeout, Some(Some(300)));
    assert!(web.persistence_granularity.is_some());
    assert_eq!(
        web.sorry_server.as_ref().unwrap().addr.to_string(),
        "198.51.100.99"
    );
    assert_eq!(web.real_servers.len(), 2); // web3 is inactive
    assert_eq!(web.real_servers[0].weight, Some(3));
    assert_eq!(web.real_servers[1].port, Some(8080));
    let CheckerKind::Http(http) = &web.real_servers[0].checkers[0].kind else {
        panic!()
    };
    assert_eq!(http.urls[0].path.as_deref(), Some("/health"));
    assert_eq!(http.urls[0].regex, None);
    assert_eq!(
        vs(&p, "192.0.2.201", Some(21)).real_servers[0].checkers[0].kind,
        CheckerKind::Tcp
    );
    let CheckerKind::Misc { path, .. } =
        &vs(&p, "192.0.2.202", Some(53)).real_servers[0].checkers[0].kind
    else {
        panic!()
    };
    assert_eq!(
        path.as_ref().unwrap().command,
        "/usr/local/bin/dig-check 198.51.100.53"
    );
    let mail = vs(&p, "25", None);
    assert_eq!(
        mail.real_servers[0].checkers[0].connect.connect_port,
        Some(25)
    );
    assert!(p.virtual_servers.iter().all(|v| !matches!(
        v.addr,
        VirtualServerAddr::Ip {
            port: Some(110),
            ..
        }
    )));
    for flagged in [
        "serial_no",
        "primary_private",
        "backup_private",
        "heartbeat_port",
        "debug_level",
        "rsh_command",
        "hard_shutdown",
        "failover ssh",
        "reentry",
        "quiesce_server",
        "load_monitor",
        "send \"GET",
        "server web3",
        "send \"quit",
        "send_program",
        "send \"HELO",
        "virtual old",
    ] {
        assert!(warned(&imported, flagged), "{flagged} not flagged");
    }
}

/// The same input gives the same bytes.
#[test]
fn deterministic() {
    let run = || {
        let h = lvskit_import::heartbeat(
            &heartbeat_inputs("import/heartbeat/every-directive", &["www.cf"]),
            &Options::default(),
        )
        .unwrap();
        let l = lvskit_import::ldirectord(
            &input("import/ldirectord/every-directive.cf"),
            &Options::default(),
        )
        .unwrap();
        let p = lvskit_import::piranha(
            &input("import/piranha/every-directive.cf"),
            &Options::default(),
        )
        .unwrap();
        (h, l, p)
    };
    assert_eq!(run(), run());
}
