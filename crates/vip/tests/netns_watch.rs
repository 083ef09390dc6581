//! The watcher for real: addresses removed by hand, link down/up, and an overflowing event
//! socket (root only: the "netns" suite).

mod common;

use std::{net::IpAddr, time::Duration};

use common::{WAIT, ip, run_in, thousand_addresses};
use testbed::{Netns, require_root, veth_pair};
use vip::{Change, Client, Event, Vip, Watcher};

fn ipa(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Waits for the first event that `want` accepts, failing after [`WAIT`].
async fn wait_for(watcher: &mut Watcher, what: &str, want: impl Fn(&Event) -> bool) -> Event {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, watcher.next()).await {
            Ok(Ok(e)) if want(&e) => return e,
            Ok(Ok(e)) => seen.push(e),
            Ok(Err(e)) => panic!("watcher failed while waiting for {what}: {e}"),
            Err(_) => panic!(
                "no {what} within {WAIT:?}; saw {} events, the last: {:?}",
                seen.len(),
                &seen[seen.len().saturating_sub(5)..]
            ),
        }
    }
}

#[test]
fn vip_deleted_by_hand_is_reported() {
    require_root();
    let ns = Netns::new("watchdel").unwrap();
    veth_pair(&ns, "eth0", &ns, "eth1").unwrap();
    ns.set_up("eth0").unwrap();
    run_in(&ns, || async {
        let client = Client::new().unwrap();
        let vip = Vip::new(ipa("192.0.2.10"), "eth0").prefix(24);
        let vip6 = Vip::new(ipa("2001:db8::10"), "eth0").prefix(64);
        assert_eq!(client.add_vip(&vip).await.unwrap(), Change::Changed);
        assert_eq!(client.add_vip(&vip6).await.unwrap(), Change::Changed);
        let index = client.link("eth0").await.unwrap().index;

        let mut watcher = Watcher::new().await.unwrap();
        assert!(
            watcher
                .addresses()
                .any(|a| a.addr == vip.addr && a.index == index),
            "the initial dump misses the VIP"
        );

        ip(&["addr", "del", "192.0.2.10/24", "dev", "eth0"]);
        let e = wait_for(
            &mut watcher,
            "removal of 192.0.2.10",
            |e| matches!(e, Event::AddressRemoved(a) if a.addr == vip.addr),
        )
        .await;
        let Event::AddressRemoved(a) = e else {
            unreachable!()
        };
        assert_eq!((a.index, a.prefix_len), (index, 24));

        ip(&["addr", "del", "2001:db8::10/64", "dev", "eth0"]);
        wait_for(
            &mut watcher,
            "removal of 2001:db8::10",
            |e| matches!(e, Event::AddressRemoved(a) if a.addr == vip6.addr),
        )
        .await;

        // The director puts it back; the watcher sees that too.
        assert_eq!(client.add_vip(&vip).await.unwrap(), Change::Changed);
        wait_for(
            &mut watcher,
            "the VIP put back",
            |e| matches!(e, Event::AddressAdded(a) if a.addr == vip.addr),
        )
        .await;
        assert!(watcher.addresses().any(|a| a.addr == vip.addr));
        assert!(!watcher.addresses().any(|a| a.addr == vip6.addr));
    });
}

#[test]
fn link_down_and_up_are_reported() {
    require_root();
    let ns = Netns::new("watchlink").unwrap();
    let peer = Netns::new("watchpeer").unwrap();
    veth_pair(&ns, "eth0", &peer, "eth0").unwrap();
    ns.set_up("eth0").unwrap();
    peer.set_up("eth0").unwrap();
    let peer_name = peer.name().to_owned();
    run_in(&ns, move || async move {
        let mut watcher = Watcher::new().await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        // The carrier may take a moment after both ends came up.
        while !watcher.link("eth0").is_some_and(|l| l.is_usable()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "eth0 never became usable"
            );
            let _ = tokio::time::timeout(Duration::from_millis(100), watcher.next()).await;
        }

        ip(&["link", "set", "eth0", "down"]);
        let e = wait_for(
            &mut watcher,
            "eth0 down",
            |e| matches!(e, Event::LinkDown(l) if l.name == "eth0"),
        )
        .await;
        let Event::LinkDown(l) = e else {
            unreachable!()
        };
        assert!(!l.up);

        ip(&["link", "set", "eth0", "up"]);
        let e = wait_for(
            &mut watcher,
            "eth0 up",
            |e| matches!(e, Event::LinkUp(l) if l.name == "eth0"),
        )
        .await;
        let Event::LinkUp(l) = e else { unreachable!() };
        assert!(l.up && l.running);

        // Carrier loss: the peer end goes down, ours stays administratively up.
        ip(&["-n", &peer_name, "link", "set", "eth0", "down"]);
        let e = wait_for(
            &mut watcher,
            "eth0 losing its carrier",
            |e| matches!(e, Event::LinkDown(l) if l.name == "eth0"),
        )
        .await;
        let Event::LinkDown(l) = e else {
            unreachable!()
        };
        assert!(l.up && !l.running, "{l:?}");

        ip(&[
            "link", "add", "extra0", "type", "veth", "peer", "name", "extra1",
        ]);
        wait_for(
            &mut watcher,
            "extra0 added",
            |e| matches!(e, Event::LinkAdded(l) if l.name == "extra0"),
        )
        .await;
        ip(&["link", "del", "extra0"]);
        wait_for(
            &mut watcher,
            "extra0 removed",
            |e| matches!(e, Event::LinkRemoved(l) if l.name == "extra0"),
        )
        .await;
    });
}

#[test]
fn overflowing_event_socket_is_survived_by_a_resync() {
    require_root();
    let ns = Netns::new("watchnobufs").unwrap();
    veth_pair(&ns, "eth0", &ns, "eth1").unwrap();
    ns.set_up("eth0").unwrap();
    run_in(&ns, || async {
        // The smallest buffer the kernel allows: a few messages.
        let mut watcher = Watcher::with_receive_buffer(1).await.unwrap();
        let addrs = thousand_addresses();

        // Flood: `ip -batch` adds 1,000 addresses while this thread (and so the watcher's
        // connection task) is blocked waiting for it.
        let batch: String = addrs
            .iter()
            .map(|a| format!("addr add {a} dev eth0\n"))
            .collect();
        let path = std::env::temp_dir().join(format!("vip-flood-{}.batch", std::process::id()));
        std::fs::write(&path, batch).unwrap();
        ip(&["-batch", path.to_str().unwrap()]);
        std::fs::remove_file(&path).ok();

        wait_for(&mut watcher, "a resync after ENOBUFS", |e| {
            *e == Event::Resynced
        })
        .await;
        assert!(watcher.resyncs() >= 1);
        // After the resync the model holds every address, whatever was lost.
        let index = Client::new().unwrap().link("eth0").await.unwrap().index;
        let known = watcher.addresses().filter(|a| a.index == index).count();
        assert!(
            known >= 1000,
            "watcher knows {known} addresses on eth0 after the resync"
        );

        // And it still reports what happens next.
        ip(&["addr", "del", "192.0.2.77/32", "dev", "eth0"]);
        wait_for(
            &mut watcher,
            "removal after the resync",
            |e| matches!(e, Event::AddressRemoved(a) if a.addr == ipa("192.0.2.77")),
        )
        .await;
    });
}

#[test]
fn a_slow_consumer_gets_a_resync_and_the_removal_it_missed() {
    require_root();
    let ns = Netns::new("watchslow").unwrap();
    veth_pair(&ns, "eth0", &ns, "eth1").unwrap();
    ns.set_up("eth0").unwrap();
    let name = ns.name().to_owned();
    run_in(&ns, move || async move {
        // A VIP that is there when the watcher starts, and removed while nobody reads.
        ip(&["addr", "add", "203.0.113.200/32", "dev", "eth0"]);
        let vip = ipa("203.0.113.200");
        let mut watcher = Watcher::new().await.unwrap();
        assert!(watcher.addresses().any(|a| a.addr == vip));

        // The consumer is slow: while 1,000 addresses are added and the VIP removed, it reads
        // nothing, but the runtime is idle (an async wait, not a blocked thread), so any reader
        // task of the watcher's could run and queue every message in memory.
        let batch: String = thousand_addresses()
            .iter()
            .map(|a| format!("addr add {a} dev eth0\n"))
            .chain(std::iter::once(
                "addr del 203.0.113.200/32 dev eth0\n".to_owned(),
            ))
            .collect();
        let flood = tokio::task::spawn_blocking(move || {
            let path = std::env::temp_dir().join(format!("vip-slow-{}.batch", std::process::id()));
            std::fs::write(&path, batch).unwrap();
            let out = std::process::Command::new("ip")
                .args(["-n", &name, "-batch", path.to_str().unwrap()])
                .output()
                .unwrap();
            std::fs::remove_file(&path).ok();
            assert!(out.status.success(), "{out:?}");
        });
        flood.await.unwrap();

        // The socket's buffer was the only queue: it overflowed, and the watcher resyncs.
        wait_for(&mut watcher, "a resync after the slow read", |e| {
            *e == Event::Resynced
        })
        .await;
        assert!(watcher.resyncs() >= 1);
        // The removal's notification was dropped by the kernel; the resync still reports it.
        wait_for(
            &mut watcher,
            "the removal missed while slow",
            |e| matches!(e, Event::AddressRemoved(a) if a.addr == vip),
        )
        .await;
        assert!(!watcher.addresses().any(|a| a.addr == vip));
    });
}
