//! The client against a real kernel, inside the VM (`cargo xtask vm vm_ipvs`).
//!
//! Every command and attribute round-trips: what is created, edited, deleted, zeroed, flushed,
//! set is dumped back and compared. The tests share the kernel's table and run one at a time
//! (the harness passes `--test-threads 1`); each starts from an empty table.

use std::net::{SocketAddr, UdpSocket};

use ipvs::packet::{
    IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
    IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};
use ipvs::{
    Daemon, DaemonState, Destination, Family, ForwardMethod, Ipvs, OnError, Op, OpStatus, Service,
    ServiceKey, Timeouts, TunnelType,
};

/// A client on an empty table. Panics (fails the test) when IPVS is not there.
fn fresh() -> Ipvs {
    let mut ipvs = Ipvs::new().expect("the VM kernel has IPVS loaded");
    ipvs.flush().expect("flush");
    ipvs
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Services covering every protocol, both families, fwmarks, every flag and persistence setting.
fn sample_services() -> Vec<Service> {
    vec![
        Service::tcp(sa("192.0.2.10:80")).scheduler("rr"),
        Service::udp(sa("192.0.2.10:53"))
            .scheduler("wrr")
            .one_packet(true),
        Service::sctp(sa("192.0.2.10:9999")).scheduler("lc"),
        Service::tcp(sa("[2001:db8::10]:443"))
            .scheduler("wlc")
            .persistent(600)
            .netmask(64),
        Service::tcp(sa("192.0.2.11:443"))
            .scheduler("lblc")
            .persistent(300)
            .netmask(24),
        Service::tcp(sa("192.0.2.12:80"))
            .scheduler("sh")
            .flags(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2),
        Service::tcp(sa("192.0.2.13:80"))
            .scheduler("mh")
            .flags(IP_VS_SVC_F_SCHED2),
        Service::udp(sa("192.0.2.14:5060"))
            .scheduler("rr")
            .persistent(60)
            .pe_name("sip"),
        Service::fwmark(Family::V4, 7).scheduler("dh"),
        Service::fwmark(Family::V6, 8)
            .scheduler("sed")
            .persistent(120)
            .netmask(48),
        Service::tcp(sa("192.0.2.15:80")).scheduler("nq"),
        Service::tcp(sa("192.0.2.16:80")).scheduler("fo"),
        Service::tcp(sa("192.0.2.17:80")).scheduler("ovf"),
        Service::tcp(sa("192.0.2.18:80")).scheduler("lblcr"),
        // A non-contiguous IPv4 persistence mask, which ipvsadm accepts and the kernel keeps.
        Service::tcp(sa("192.0.2.19:80"))
            .persistent(60)
            .netmask_v4(std::net::Ipv4Addr::new(255, 0, 255, 0)),
    ]
}

fn find(list: &[Service], key: &ServiceKey) -> Service {
    list.iter()
        .find(|s| s.key == *key)
        .unwrap_or_else(|| panic!("{key} is not in the dump: {list:#?}"))
        .clone()
}

#[test]
fn services_round_trip_through_the_kernel() {
    let mut ipvs = fresh();
    let wanted = sample_services();
    for svc in &wanted {
        ipvs.new_service(svc)
            .unwrap_or_else(|e| panic!("adding {}: {e}", svc.key));
    }
    let dumped = ipvs.services().unwrap();
    assert_eq!(dumped.len(), wanted.len());
    for svc in &wanted {
        let got = find(&dumped, &svc.key);
        assert!(got.same_config(svc), "sent {svc:#?}\ngot {got:#?}");
        // GET_SERVICE of one key gives the same.
        let one = ipvs.service(&svc.key).unwrap();
        assert!(one.same_config(svc), "sent {svc:#?}\ngot {one:#?}");
    }
}

#[test]
fn services_are_edited_in_place() {
    let mut ipvs = fresh();
    let v4 = Service::tcp(sa("192.0.2.20:80")).scheduler("rr");
    let v6 = Service::udp(sa("[2001:db8::20]:5060"))
        .scheduler("wlc")
        .persistent(30)
        .pe_name("sip");
    ipvs.new_service(&v4).unwrap();
    ipvs.new_service(&v6).unwrap();
    ipvs.new_destination(&v4.key, &Destination::new(sa("198.51.100.1:80")))
        .unwrap();

    let v4_edited = v4
        .clone()
        .scheduler("sh")
        .flags(IP_VS_SVC_F_SCHED1)
        .persistent(900)
        .netmask(16);
    let mut v6_edited = v6.clone().scheduler("rr").one_packet(true).netmask(96);
    v6_edited.pe_name = None;
    ipvs.set_service(&v4_edited).unwrap();
    ipvs.set_service(&v6_edited).unwrap();

    let dumped = ipvs.services().unwrap();
    let got4 = find(&dumped, &v4.key);
    assert!(got4.same_config(&v4_edited), "{got4:#?}");
    let got6 = find(&dumped, &v6.key);
    assert!(got6.same_config(&v6_edited), "{got6:#?}");
    assert_eq!(got6.flags & IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_ONEPACKET);
    // Editing kept the destination.
    assert_eq!(ipvs.destinations(&v4.key).unwrap().len(), 1);
}

/// Destinations covering every forwarding method, tunnel type and flag, thresholds, weights.
fn sample_destinations() -> Vec<Destination> {
    vec![
        Destination::new(sa("198.51.100.1:80")),
        Destination::new(sa("198.51.100.2:8080"))
            .forward(ForwardMethod::Masquerade)
            .weight(5),
        Destination::new(sa("198.51.100.3:80"))
            .forward(ForwardMethod::Tunnel)
            .weight(0),
        Destination::new(sa("198.51.100.4:80"))
            .forward(ForwardMethod::Tunnel)
            .tunnel(TunnelType::Gue, 6080, IP_VS_TUNNEL_ENCAP_FLAG_CSUM),
        Destination::new(sa("198.51.100.5:80"))
            .forward(ForwardMethod::Tunnel)
            .tunnel(TunnelType::Gue, 6081, IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM),
        Destination::new(sa("198.51.100.6:80"))
            .forward(ForwardMethod::Tunnel)
            .tunnel(TunnelType::Gre, 0, IP_VS_TUNNEL_ENCAP_FLAG_CSUM),
        Destination::new(sa("198.51.100.7:80"))
            .thresholds(1000, 200)
            .weight(65535),
        // A destination of the other family, which the kernel allows for tunnels only.
        Destination::new(sa("[2001:db8::7]:80")).forward(ForwardMethod::Tunnel),
    ]
}

fn find_dest(list: &[Destination], addr: SocketAddr) -> Destination {
    list.iter()
        .find(|d| d.addr == addr)
        .unwrap_or_else(|| panic!("{addr} is not in the dump: {list:#?}"))
        .clone()
}

#[test]
fn destinations_round_trip_edit_and_delete() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("192.0.2.30:80")).scheduler("wrr");
    ipvs.new_service(&svc).unwrap();
    let wanted = sample_destinations();
    for d in &wanted {
        ipvs.new_destination(&svc.key, d)
            .unwrap_or_else(|e| panic!("adding {}: {e}", d.addr));
    }
    let dumped = ipvs.destinations(&svc.key).unwrap();
    assert_eq!(dumped.len(), wanted.len());
    for d in &wanted {
        let got = find_dest(&dumped, d.addr);
        assert!(got.same_config(d), "sent {d:#?}\ngot {got:#?}");
        assert_eq!(
            (got.active_conns, got.inactive_conns, got.persistent_conns),
            (0, 0, 0)
        );
    }

    // Edit every editable field of one destination.
    let edited = wanted[1]
        .clone()
        .forward(ForwardMethod::Tunnel)
        .weight(9)
        .thresholds(50, 10)
        .tunnel(TunnelType::Gue, 5555, IP_VS_TUNNEL_ENCAP_FLAG_CSUM);
    ipvs.set_destination(&svc.key, &edited).unwrap();
    let got = find_dest(&ipvs.destinations(&svc.key).unwrap(), edited.addr);
    assert!(got.same_config(&edited), "{got:#?}");

    // Delete one, the others stay.
    ipvs.del_destination(&svc.key, wanted[0].addr).unwrap();
    let left = ipvs.destinations(&svc.key).unwrap();
    assert_eq!(left.len(), wanted.len() - 1);
    assert!(left.iter().all(|d| d.addr != wanted[0].addr));
}

/// One service with more destinations than a page-sized datagram holds: its dump spans several
/// datagrams on the client's small-dump socket, and every destination comes back once.
#[test]
fn a_destination_dump_larger_than_a_page_comes_back_whole() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("192.0.2.40:80")).scheduler("rr");
    ipvs.new_service(&svc).unwrap();
    let mut ops = Vec::new();
    for i in 0..300u16 {
        let addr = SocketAddr::from(([198, 51, 100, 1 + (i % 250) as u8], 8000 + i));
        ops.push(Op::NewDest(
            svc.key,
            Destination::new(addr).weight(i32::from(i)),
        ));
    }
    ipvs.batch(&ops, OnError::Stop)
        .unwrap()
        .into_result()
        .unwrap();
    ipvs.reset_counters();
    let dests = ipvs.destinations(&svc.key).unwrap();
    assert_eq!(dests.len(), 300);
    let mut weights: Vec<i32> = dests.iter().map(|d| d.weight).collect();
    weights.sort_unstable();
    assert_eq!(weights, (0..300).collect::<Vec<_>>());
    let counters = ipvs.counters();
    assert_eq!(counters.requests, 1);
    assert!(
        counters.receives >= 300 * 150 / 4096,
        "one dump, several datagrams: {counters:?}"
    );
}

#[test]
fn ipv6_service_with_ipv6_destinations() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("[2001:db8::40]:80")).scheduler("rr");
    ipvs.new_service(&svc).unwrap();
    let d1 = Destination::new(sa("[2001:db8::41]:8080"))
        .forward(ForwardMethod::Masquerade)
        .weight(2);
    let d2 = Destination::new(sa("[2001:db8::42]:80"));
    ipvs.new_destination(&svc.key, &d1).unwrap();
    ipvs.new_destination(&svc.key, &d2).unwrap();
    let dumped = ipvs.destinations(&svc.key).unwrap();
    assert!(find_dest(&dumped, d1.addr).same_config(&d1));
    assert!(find_dest(&dumped, d2.addr).same_config(&d2));
}

#[test]
fn deleting_a_service_takes_its_destinations() {
    let mut ipvs = fresh();
    let a = Service::tcp(sa("192.0.2.50:80"));
    let b = Service::fwmark(Family::V4, 50);
    ipvs.new_service(&a).unwrap();
    ipvs.new_service(&b).unwrap();
    ipvs.new_destination(&a.key, &Destination::new(sa("198.51.100.50:80")))
        .unwrap();
    ipvs.del_service(&a.key).unwrap();
    let left = ipvs.services().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key, b.key);
    // The kernel answers a destination dump of a missing service with an empty dump.
    assert!(ipvs.destinations(&a.key).unwrap().is_empty());
    ipvs.del_service(&b.key).unwrap();
    assert!(ipvs.services().unwrap().is_empty());
}

#[test]
fn flush_empties_the_table() {
    let mut ipvs = fresh();
    for svc in sample_services() {
        ipvs.new_service(&svc).unwrap();
    }
    assert!(!ipvs.services().unwrap().is_empty());
    ipvs.flush().unwrap();
    assert!(ipvs.services().unwrap().is_empty());
}

/// Sends UDP datagrams to a service from inside the VM, so its counters move.
fn traffic_to(addr: SocketAddr, datagrams: usize) {
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    for _ in 0..datagrams {
        socket.send_to(b"lvskit", addr).unwrap();
    }
}

#[test]
fn counters_are_read_and_zeroed() {
    let mut ipvs = fresh();
    // lvs0 holds 192.0.2.1/24, so 192.0.2.1 is local and local output goes through IPVS.
    let a = Service::udp(sa("192.0.2.1:7001")).scheduler("rr");
    let b = Service::udp(sa("192.0.2.1:7002")).scheduler("rr");
    for svc in [&a, &b] {
        ipvs.new_service(svc).unwrap();
        let dest = Destination::new(sa("192.0.2.77:7000")).forward(ForwardMethod::Masquerade);
        ipvs.new_destination(&svc.key, &dest).unwrap();
    }
    traffic_to(sa("192.0.2.1:7001"), 3);
    traffic_to(sa("192.0.2.1:7002"), 2);

    // The kernel folds its per-CPU counters into what it reports every two seconds (the
    // estimator timer), so wait for them to show, with a bound.
    let mut before = ipvs.services().unwrap();
    for _ in 0..50 {
        if before.iter().all(|s| s.stats.in_pkts > 0) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        before = ipvs.services().unwrap();
    }
    let sa_ = find(&before, &a.key).stats;
    let sb = find(&before, &b.key).stats;
    assert!(
        sa_.conns >= 1 && sa_.in_pkts >= 3 && sa_.in_bytes >= 3 * 6,
        "{sa_:?}"
    );
    assert!(sb.conns >= 1 && sb.in_pkts >= 2, "{sb:?}");
    let dest = &ipvs.destinations(&a.key).unwrap()[0];
    assert!(dest.stats.in_pkts >= 3, "{dest:?}");
    assert!(dest.active_conns + dest.inactive_conns >= 1, "{dest:?}");

    // Zero one service: its counters go, the other's stay.
    ipvs.zero(Some(&a.key)).unwrap();
    let after = ipvs.services().unwrap();
    assert_eq!(find(&after, &a.key).stats.in_pkts, 0);
    assert_eq!(find(&after, &a.key).stats.conns, 0);
    assert!(find(&after, &b.key).stats.in_pkts >= 2);

    // Zero everything.
    ipvs.zero(None).unwrap();
    let all = ipvs.services().unwrap();
    assert!(
        all.iter()
            .all(|s| s.stats.in_pkts == 0 && s.stats.conns == 0),
        "{all:#?}"
    );
}

#[test]
fn timeouts_are_set_and_read_back() {
    let mut ipvs = fresh();
    let original = ipvs.timeouts().unwrap();
    assert!(
        original.tcp > 0 && original.tcp_fin > 0 && original.udp > 0,
        "{original:?}"
    );

    ipvs.set_timeouts(&Timeouts {
        tcp: 1000,
        tcp_fin: 60,
        udp: 200,
    })
    .unwrap();
    assert_eq!(
        ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 1000,
            tcp_fin: 60,
            udp: 200
        }
    );

    // A zero leaves that timeout alone.
    ipvs.set_timeouts(&Timeouts {
        tcp: 0,
        tcp_fin: 0,
        udp: 45,
    })
    .unwrap();
    assert_eq!(
        ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 1000,
            tcp_fin: 60,
            udp: 45
        }
    );

    ipvs.set_timeouts(&original).unwrap();
    assert_eq!(ipvs.timeouts().unwrap(), original);
}

#[test]
fn info_reports_version_and_table_size() {
    let mut ipvs = fresh();
    let info = ipvs.info().unwrap();
    assert_eq!(info.version_string(), "1.2.1");
    assert!(info.conn_table_size.is_power_of_two(), "{info:?}");
}

#[test]
fn sync_daemons_start_list_and_stop() {
    let mut ipvs = fresh();
    assert!(ipvs.daemons().unwrap().is_empty());

    let master = Daemon::new(DaemonState::Master, "lvs0")
        .sync_id(7)
        .max_len(1400)
        .port(8850)
        .ttl(3)
        .group("239.1.2.3".parse().unwrap());
    let backup = Daemon::new(DaemonState::Backup, "lvs0").sync_id(8);
    ipvs.start_daemon(&master).unwrap();
    ipvs.start_daemon(&backup).unwrap();

    let running = ipvs.daemons().unwrap();
    assert_eq!(running.len(), 2, "{running:#?}");
    let m = running
        .iter()
        .find(|d| d.state == DaemonState::Master)
        .expect("master listed");
    assert_eq!((m.interface.as_str(), m.sync_id), ("lvs0", 7));
    assert_eq!(m.max_len, Some(1400));
    assert_eq!(m.port, Some(8850));
    assert_eq!(m.ttl, Some(3));
    assert_eq!(m.group, Some("239.1.2.3".parse().unwrap()));
    // ipvsadm reads the same kernel state the same way (ports and group included).
    let listed = std::process::Command::new("/usr/sbin/ipvsadm")
        .args(["-L", "--daemon"])
        .output()
        .expect("ipvsadm is in the VM image");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("master sync daemon (mcast=lvs0, syncid=7, maxlen=1400, group=239.1.2.3, port=8850, ttl=3)"),
        "{listed}"
    );
    let b = running
        .iter()
        .find(|d| d.state == DaemonState::Backup)
        .expect("backup listed");
    assert_eq!((b.interface.as_str(), b.sync_id), ("lvs0", 8));

    // A second master is refused while one runs.
    let again = ipvs.start_daemon(&master).unwrap_err();
    assert_eq!(again.errno(), Some(libc::EEXIST), "{again}");

    ipvs.stop_daemon(DaemonState::Master).unwrap();
    let running = ipvs.daemons().unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].state, DaemonState::Backup);
    ipvs.stop_daemon(DaemonState::Backup).unwrap();
    assert!(ipvs.daemons().unwrap().is_empty());
}

#[test]
fn a_large_table_comes_back_whole_through_multipart_dumps() {
    let mut ipvs = fresh();
    let services: Vec<Service> = (0..3000u16)
        .map(|i| {
            Service::tcp(SocketAddr::from((
                [192, 0, 2, (i % 200) as u8 + 1],
                1000 + i / 200,
            )))
            .scheduler("rr")
        })
        .collect();
    let ops: Vec<Op> = services.iter().cloned().map(Op::NewService).collect();
    let report = ipvs.batch(&ops, OnError::Continue).unwrap();
    assert!(report.all_done(), "{:?}", report.failures().next());
    let key = services[0].key;
    let dests: Vec<Op> = (0..1000u32)
        .map(|i| {
            let ip = std::net::Ipv6Addr::from(
                0x2001_0db8_0000_0000_0000_0000_0000_1000u128 + u128::from(i),
            );
            Op::NewDest(
                key,
                Destination::new(SocketAddr::from((ip, 80))).forward(ForwardMethod::Tunnel),
            )
        })
        .collect();
    assert!(ipvs.batch(&dests, OnError::Continue).unwrap().all_done());

    ipvs.reset_counters();
    let dumped = ipvs.services().unwrap();
    assert_eq!(dumped.len(), services.len());
    let counters = ipvs.counters();
    assert_eq!(counters.requests, 1);
    assert!(
        counters.receives > 2,
        "a 3000-service dump spans datagrams: {counters:?}"
    );
    let mut keys: Vec<ServiceKey> = dumped.iter().map(|s| s.key).collect();
    keys.sort();
    let mut wanted: Vec<ServiceKey> = services.iter().map(|s| s.key).collect();
    wanted.sort();
    assert_eq!(keys, wanted);
    assert_eq!(ipvs.destinations(&key).unwrap().len(), 1000);
}

#[test]
fn batches_put_many_requests_in_one_sendmsg_and_report_each() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("192.0.2.60:80"));
    let missing = ServiceKey::Addr {
        protocol: ipvs::Protocol::Tcp,
        addr: sa("192.0.2.61:80"),
    };
    let mut ops = vec![Op::NewService(svc.clone())];
    for i in 1..=20u8 {
        ops.push(Op::NewDest(
            svc.key,
            Destination::new(SocketAddr::from(([198, 51, 100, i], 80))),
        ));
    }
    ops.push(Op::NewService(svc.clone())); // 21: exists
    ops.push(Op::NewDest(
        missing,
        Destination::new(sa("198.51.100.99:80")),
    )); // 22: no service
    ops.push(Op::NewDest(
        svc.key,
        Destination::new(sa("198.51.100.21:80")),
    )); // 23: fine

    ipvs.reset_counters();
    let report = ipvs.batch(&ops, OnError::Continue).unwrap();
    let counters = ipvs.counters();
    assert_eq!(counters.requests, ops.len() as u64);
    assert_eq!(counters.sends, 1, "{} requests fit one window", ops.len());
    assert_eq!(report.statuses.len(), ops.len());
    for (i, status) in report.statuses.iter().enumerate() {
        match i {
            21 => assert!(
                matches!(status, OpStatus::Failed(ipvs::Error::ServiceExists(_))),
                "{status:?}"
            ),
            22 => assert!(
                matches!(status, OpStatus::Failed(ipvs::Error::ServiceNotFound(_))),
                "{status:?}"
            ),
            _ => assert!(status.is_done(), "op {i}: {status:?}"),
        }
    }
    assert_eq!(ipvs.destinations(&svc.key).unwrap().len(), 21);

    // Stop mode: nothing after the failure reaches the kernel.
    let stop_ops = vec![
        Op::DelDest(svc.key, sa("198.51.100.1:80")),
        Op::DelDest(svc.key, sa("198.51.100.250:80")), // not there
        Op::DelDest(svc.key, sa("198.51.100.2:80")),
    ];
    let report = ipvs.batch(&stop_ops, OnError::Stop).unwrap();
    assert!(report.statuses[0].is_done());
    assert!(matches!(
        report.statuses[1],
        OpStatus::Failed(ipvs::Error::DestinationNotFound(_))
    ));
    assert!(matches!(report.statuses[2], OpStatus::Skipped));
    let left = ipvs.destinations(&svc.key).unwrap();
    assert_eq!(left.len(), 20);
    assert!(
        left.iter().any(|d| d.addr == sa("198.51.100.2:80")),
        "the skipped delete was not sent"
    );
}

#[test]
fn a_big_batch_spans_windows_without_losing_acks() {
    let mut ipvs = fresh();
    let ops: Vec<Op> = (0..2000u16)
        .map(|i| {
            Op::NewService(Service::udp(SocketAddr::from((
                [203, 0, 113, (i % 250) as u8],
                2000 + i / 250,
            ))))
        })
        .collect();
    ipvs.reset_counters();
    let report = ipvs.batch(&ops, OnError::Continue).unwrap();
    assert!(report.all_done());
    let counters = ipvs.counters();
    assert_eq!(counters.requests, 2000);
    assert!(counters.sends <= 2000 / 128 + 1, "{counters:?}");
    assert_eq!(ipvs.services().unwrap().len(), 2000);
}

#[tokio::test(flavor = "current_thread")]
async fn the_async_client_does_the_same() {
    let mut sync = fresh();
    drop(sync.services().unwrap());
    let mut ipvs = ipvs::AsyncIpvs::new().await.expect("IPVS in the VM");
    let svc = Service::tcp(sa("192.0.2.70:80"))
        .scheduler("rr")
        .persistent(100);
    ipvs.new_service(&svc).await.unwrap();
    let d = Destination::new(sa("198.51.100.70:80")).weight(4);
    ipvs.new_destination(&svc.key, &d).await.unwrap();
    let got = ipvs.services().await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(got[0].same_config(&svc));
    let dests = ipvs.destinations(&svc.key).await.unwrap();
    assert!(dests[0].same_config(&d));
    assert!(matches!(
        ipvs.new_service(&svc).await,
        Err(ipvs::Error::ServiceExists(_))
    ));
    let report = ipvs
        .batch(
            &[Op::DelDest(svc.key, d.addr), Op::DelService(svc.key)],
            OnError::Continue,
        )
        .await
        .unwrap();
    assert!(report.all_done());
    assert!(ipvs.services().await.unwrap().is_empty());
    assert_eq!(ipvs.info().await.unwrap().version_string(), "1.2.1");
    assert!(ipvs.timeouts().await.unwrap().tcp > 0);
    assert!(ipvs.daemons().await.unwrap().is_empty());
}
