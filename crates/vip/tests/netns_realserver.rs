//! The real-server side of LVS-DR in network namespaces (root only: the "netns" suite): after
//! `up` the real server answers for the VIP and never answers ARP for it; after `down` the
//! namespace is as it was, sysctls, addresses and links.

mod common;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use common::{ip, run_in};
use testbed::{Netns, require_root, veth_pair};
use vip::realserver::{RealServer, Tunnel};
use vip::{Change, Client};

const VIP4: &str = "192.0.2.10";
const VIP6: &str = "2001:db8::10";

/// Everything `up` may touch, read from inside the namespace.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    sysctls: Vec<(String, String)>,
    addresses: String,
    links: String,
}

fn snapshot(ns: &Netns) -> Snapshot {
    ns.run(|| {
        let mut sysctls = Vec::new();
        for dev in ["lo", "all", "default", "eth0"] {
            for key in ["arp_ignore", "arp_announce", "rp_filter"] {
                let path = format!("/proc/sys/net/ipv4/conf/{dev}/{key}");
                sysctls.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
        Snapshot {
            sysctls,
            addresses: ip(&["-o", "addr", "show"]),
            links: ip(&["-o", "link", "show"])
                .lines()
                .map(|l| l.split(" qdisc").next().unwrap_or(l).to_string() + "\n")
                .collect(),
        }
    })
    .unwrap()
}

/// A client (the director's role: it routes the VIP to the real server, as LVS-DR forwards
/// frames to it) and a real server, joined by a veth pair.
fn lab(tag: &str) -> (Netns, Netns, PathBuf) {
    require_root();
    let client = Netns::new(&format!("{tag}c")).unwrap();
    let rs = Netns::new(&format!("{tag}r")).unwrap();
    veth_pair(&client, "eth0", &rs, "eth0").unwrap();
    client.add_addr("eth0", "192.0.2.1/24").unwrap();
    rs.add_addr("eth0", "192.0.2.2/24").unwrap();
    client.set_up("eth0").unwrap();
    rs.set_up("eth0").unwrap();
    let state = std::env::temp_dir().join(format!("lvskit-rs-{}-{tag}.state", std::process::id()));
    let _ = std::fs::remove_file(&state);
    (client, rs, state)
}

/// Sends from the client to the VIP and waits for the real server's answer from the VIP.
fn answers_for_the_vip(client: &Netns, rs: &Netns, vip: IpAddr) -> bool {
    let server = rs.udp_bind(SocketAddr::new(vip, 7)).unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let from: IpAddr = if vip.is_ipv4() {
        "192.0.2.1"
    } else {
        "2001:db8::1"
    }
    .parse()
    .unwrap();
    let sock: UdpSocket = client.udp_bind(SocketAddr::new(from, 0)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    sock.send_to(b"ping", SocketAddr::new(vip, 7)).unwrap();
    let mut buf = [0u8; 16];
    let Ok((n, peer)) = server.recv_from(&mut buf) else {
        return false;
    };
    server.send_to(&buf[..n], peer).unwrap();
    matches!(sock.recv_from(&mut buf), Ok((4, src)) if src.ip() == vip)
}

/// Whether the real server answers the client's ARP request for `vip` on the segment.
fn answers_arp(client: &Netns, rs: &Netns, vip: &str) -> bool {
    client.ip(&["neigh", "flush", "dev", "eth0"]).unwrap();
    client
        .ip(&["route", "replace", &format!("{vip}/32"), "dev", "eth0"])
        .unwrap();
    let _ = client.udp_send(None, format!("{vip}:9").parse().unwrap(), b"arp?");
    std::thread::sleep(Duration::from_millis(1500));
    let mac = client.neighbour_mac(vip.parse().unwrap()).unwrap();
    client
        .ip(&["route", "del", &format!("{vip}/32"), "dev", "eth0"])
        .unwrap();
    mac == Some(rs.mac("eth0").unwrap())
}

#[test]
fn dr_real_server_answers_for_the_vip_never_arps_and_down_restores() {
    let (client, rs, state) = lab("rsdr");
    client.add_addr("eth0", "2001:db8::1/64").unwrap();
    rs.add_addr("eth0", "2001:db8::2/64").unwrap();
    // The director's role: frames for the VIP go to the real server.
    client
        .add_route(&format!("{VIP4}/32"), "192.0.2.2".parse().unwrap())
        .unwrap();
    client
        .ip(&[
            "-6",
            "route",
            "add",
            &format!("{VIP6}/128"),
            "via",
            "2001:db8::2",
            "nodad",
        ])
        .ok();
    client
        .ip(&[
            "-6",
            "route",
            "replace",
            &format!("{VIP6}/128"),
            "via",
            "2001:db8::2",
        ])
        .unwrap();
    // DAD of the link addresses before anything is measured.
    std::thread::sleep(Duration::from_secs(2));
    let before = snapshot(&rs);

    let vips: Vec<IpAddr> = vec![VIP4.parse().unwrap(), VIP6.parse().unwrap()];
    let server = RealServer::new(vips.clone()).state_file(&state);
    let s = server.clone();
    let (first, second) = run_in(&rs, move || async move {
        let c = Client::new().unwrap();
        (s.up(&c).await.unwrap(), s.up(&c).await.unwrap())
    });
    assert_eq!(
        (first, second),
        (Change::Changed, Change::Unchanged),
        "up is idempotent"
    );
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains(&format!("address {VIP4}/32 lo")), "{text}");
    assert!(text.contains(&format!("address {VIP6}/128 lo")), "{text}");
    let after_up = snapshot(&rs);
    for (path, value) in &after_up.sysctls {
        if path.ends_with("lo/arp_ignore") || path.ends_with("all/arp_ignore") {
            assert_eq!(value.trim(), "1", "{path}");
        }
        if path.ends_with("lo/arp_announce") || path.ends_with("all/arp_announce") {
            assert_eq!(value.trim(), "2", "{path}");
        }
    }

    for vip in &vips {
        assert!(
            answers_for_the_vip(&client, &rs, *vip),
            "no answer from {vip}"
        );
    }
    assert!(
        !answers_arp(&client, &rs, VIP4),
        "the real server answered ARP for the VIP"
    );

    let s = server.clone();
    let (down, again) = run_in(&rs, move || async move {
        let c = Client::new().unwrap();
        (s.down(&c).await.unwrap(), s.down(&c).await.unwrap())
    });
    assert_eq!((down, again), (Change::Changed, Change::Unchanged));
    assert!(!state.exists(), "down removes the state file");
    assert_eq!(snapshot(&rs), before, "down restores the namespace");

    // The ARP check can fail: a VIP on lo without the sysctls is answered for.
    rs.add_addr("lo", &format!("{VIP4}/32")).unwrap();
    assert!(
        answers_arp(&client, &rs, VIP4),
        "control: Linux answers ARP for a VIP on lo by default"
    );
}

/// `down` with some VIPs removes only theirs; the sysctls stay until the last one goes.
#[test]
fn down_one_vip_at_a_time() {
    let (_client, rs, state) = lab("rsone");
    let before = snapshot(&rs);
    let a: IpAddr = "192.0.2.10".parse().unwrap();
    let b: IpAddr = "192.0.2.11".parse().unwrap();
    let st = state.clone();
    run_in(&rs, move || async move {
        let c = Client::new().unwrap();
        let up = |vips: Vec<IpAddr>| RealServer::new(vips).state_file(&st);
        assert_eq!(up(vec![a]).up(&c).await.unwrap(), Change::Changed);
        assert_eq!(up(vec![a, b]).up(&c).await.unwrap(), Change::Changed);
        assert_eq!(up(vec![a]).down(&c).await.unwrap(), Change::Changed);
        // b is still there: so are the sysctls.
        assert_eq!(Client::ipv4_conf("all", "arp_ignore").unwrap(), "1");
        assert!(ip(&["-o", "addr", "show", "dev", "lo"]).contains("192.0.2.11/32"));
        assert_eq!(up(vec![b]).down(&c).await.unwrap(), Change::Changed);
    });
    assert!(!state.exists());
    assert_eq!(snapshot(&rs), before);
}

/// A VIP that was on lo before `up` is not recorded, and `down` leaves it.
#[test]
fn down_leaves_what_was_there_before() {
    let (_client, rs, state) = lab("rskeep");
    rs.add_addr("lo", "192.0.2.10/32").unwrap();
    rs.sysctl("net.ipv4.conf.all.arp_ignore", "1").unwrap();
    let before = snapshot(&rs);
    let st = state.clone();
    run_in(&rs, move || async move {
        let c = Client::new().unwrap();
        let server = RealServer::new(["192.0.2.10".parse().unwrap()]).state_file(&st);
        assert_eq!(server.up(&c).await.unwrap(), Change::Changed); // the other sysctls
        let text = std::fs::read_to_string(&st).unwrap();
        assert!(!text.contains("address"), "{text}");
        assert!(!text.contains("all/arp_ignore"), "{text}");
        assert_eq!(server.down(&c).await.unwrap(), Change::Changed);
    });
    assert_eq!(snapshot(&rs), before);
}

/// LVS-TUN: the VIP on the catch-all tunnel device with rp_filter relaxed; on a kernel without
/// the tunnel driver, a clear kernel error and nothing changed.
#[test]
fn tun_real_server() {
    let (_client, rs, state) = lab("rstun");
    let before = snapshot(&rs);
    for tunnel in [Tunnel::Ipip, Tunnel::Gre] {
        let st = state.clone();
        let dev = tunnel.device();
        let result = run_in(&rs, move || async move {
            let c = Client::new().unwrap();
            let server = RealServer::new(["192.0.2.10".parse().unwrap()])
                .tunnel(tunnel)
                .state_file(&st);
            match server.up(&c).await {
                Ok(change) => {
                    let addrs = ip(&["-o", "addr", "show", "dev", dev]);
                    assert!(addrs.contains("192.0.2.10/32"), "{addrs}");
                    assert_eq!(Client::ipv4_conf(dev, "rp_filter").unwrap(), "0");
                    assert_eq!(Client::ipv4_conf("all", "rp_filter").unwrap(), "0");
                    assert_eq!(server.down(&c).await.unwrap(), Change::Changed);
                    Ok(change)
                }
                Err(e) => Err(e.to_string()),
            }
        });
        match result {
            Ok(change) => assert_eq!(change, Change::Changed),
            Err(e) => {
                assert!(e.contains("create tunnel device"), "{tunnel:?}: {e}");
                eprintln!("{tunnel:?}: this kernel has no {dev} driver: {e}");
            }
        }
        assert!(!state.exists() || std::fs::read_to_string(&state).unwrap().lines().count() <= 1);
        let _ = std::fs::remove_file(&state);
        // The fallback device stays once its module is loaded; compare the rest.
        let mut now = snapshot(&rs);
        now.links = now
            .links
            .lines()
            .filter(|l| {
                !l.contains(dev)
                    && !l.contains("ip6tnl0")
                    && !l.contains("sit0")
                    && !l.contains("gretap0")
                    && !l.contains("erspan0")
                    && !l.contains("ip_vti0")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        now.sysctls.retain(|(p, _)| !p.contains(dev));
        let mut then = Snapshot {
            sysctls: before.sysctls.clone(),
            addresses: before.addresses.clone(),
            links: before.links.clone(),
        };
        then.sysctls.retain(|(p, _)| !p.contains(dev));
        assert_eq!(now.sysctls, then.sysctls, "{tunnel:?}");
        assert_eq!(now.links, then.links, "{tunnel:?}");
    }
}
