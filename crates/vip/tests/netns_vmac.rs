//! VMAC interfaces for real: the macvlan carries the virtual MAC, answers ARP for the VIP with
//! it, and GARPs sent through it come from it (root only: the "netns" suite).

mod common;

use std::{
    net::{IpAddr, UdpSocket},
    time::{Duration, Instant},
};

use common::{WAIT, ip, run_in};
use garp::{Announcement, ArpForm, MacAddr, Sender, SourceMac};
use testbed::{Capture, Frame, Netns, PacketType, require_root, veth_pair};
use vip::{Change, Client, Error, Family, Vip, Vmac, vrrp_mac};

const VRID: u8 = 7;

/// The announcements the peer received (its own outgoing frames left out), as `garp` reads them.
fn received_announcements(frames: &[Frame]) -> Vec<Announcement> {
    frames
        .iter()
        .filter(|f| f.packet_type != PacketType::Outgoing)
        .filter_map(|f| Announcement::parse(&f.data).ok())
        .collect()
}

fn mac_addr(m: [u8; 6]) -> MacAddr {
    MacAddr(m[0], m[1], m[2], m[3], m[4], m[5])
}

fn ipa(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Director and peer namespaces joined by a veth pair, `eth0` on both sides, up and addressed.
fn pair(tag: &str) -> (Netns, Netns) {
    require_root();
    let dir = Netns::new(&format!("{tag}d")).unwrap();
    let peer = Netns::new(&format!("{tag}p")).unwrap();
    veth_pair(&dir, "eth0", &peer, "eth0").unwrap();
    dir.add_addr("eth0", "192.0.2.1/24").unwrap();
    peer.add_addr("eth0", "192.0.2.2/24").unwrap();
    dir.set_up("eth0").unwrap();
    peer.set_up("eth0").unwrap();
    (dir, peer)
}

#[test]
fn vmac_carries_the_virtual_mac_answers_arp_and_sends_garps() {
    let (dir, peer) = pair("vmac");
    let vmac_mac = vrrp_mac(Family::V4, VRID);
    let base_mac = dir.mac("eth0").unwrap();

    run_in(&dir, move || async move {
        let client = Client::new().unwrap();
        let vmac = Vmac::new("vrrp.7", "eth0", VRID, Family::V4);
        let (change, link) = client.add_vmac(&vmac).await.unwrap();
        assert_eq!(change, Change::Changed);
        assert_eq!(link.mac, Some(vmac_mac));
        assert!(link.up);
        assert_eq!(link.kind.as_deref(), Some("macvlan"));
        assert_eq!(link.macvlan_private, Some(true));
        let shown = ip(&["-d", "link", "show", "vrrp.7"]);
        assert!(shown.contains("link/ether 00:00:5e:00:01:07"), "{shown}");
        assert!(shown.contains("macvlan mode private"), "{shown}");
        for (key, value) in vip::SYSCTLS_VMAC {
            assert_eq!(
                Client::ipv4_conf("vrrp.7", key).unwrap(),
                *value,
                "vrrp.7 {key}"
            );
        }
        for (key, value) in vip::SYSCTLS_BASE {
            assert_eq!(
                Client::ipv4_conf("eth0", key).unwrap(),
                *value,
                "eth0 {key}"
            );
        }
        // No IPv6 on an IPv4 VMAC: no link-local address (that would fail DAD against the other
        // routers' VMACs, which have the same MAC).
        let (key, value) = vip::SYSCTL_VMAC_IPV6;
        let ipv6 = std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/vrrp.7/{key}"));
        assert_eq!(ipv6.unwrap().trim(), value);
        let shown = ip(&["-6", "addr", "show", "dev", "vrrp.7"]);
        assert!(!shown.contains("inet6"), "{shown}");

        // Again: the same VMAC is there.
        let (again, _) = client.add_vmac(&vmac).await.unwrap();
        assert_eq!(again, Change::Unchanged);
        // Someone downs it and resets a sysctl: adding it again repairs both, and says so.
        ip(&["link", "set", "vrrp.7", "down"]);
        std::fs::write("/proc/sys/net/ipv4/conf/vrrp.7/arp_ignore", "0").unwrap();
        std::fs::write("/proc/sys/net/ipv6/conf/vrrp.7/disable_ipv6", "0").unwrap();
        let (repaired, link) = client.add_vmac(&vmac).await.unwrap();
        assert_eq!(repaired, Change::Changed);
        assert!(link.up);
        assert_eq!(Client::ipv4_conf("vrrp.7", "arp_ignore").unwrap(), "1");
        let ipv6 = std::fs::read_to_string("/proc/sys/net/ipv6/conf/vrrp.7/disable_ipv6");
        assert_eq!(ipv6.unwrap().trim(), "1");
        // Another VRID under the same name is not.
        let other = Vmac::new("vrrp.7", "eth0", 8, Family::V4);
        assert!(matches!(
            client.add_vmac(&other).await,
            Err(Error::Exists { .. })
        ));
        // Not a VMAC: refused, left alone.
        assert!(matches!(
            client.remove_vmac("eth0").await,
            Err(Error::Invalid(_))
        ));

        let vip = Vip::new(ipa("192.0.2.100"), "vrrp.7").prefix(24);
        assert_eq!(client.add_vip(&vip).await.unwrap(), Change::Changed);
    });

    // Seen from another process in the namespace (not through the client's own thread): the
    // sysctls were set there, and not in the test's own namespace.
    for (dev, sysctls) in [("vrrp.7", vip::SYSCTLS_VMAC), ("eth0", vip::SYSCTLS_BASE)] {
        for (key, value) in sysctls {
            let out = dir
                .command("sysctl")
                .args(["-n", &format!("net/ipv4/conf/{dev}/{key}")])
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim(),
                *value,
                "{dev} {key} as `sysctl` in the namespace reads it"
            );
        }
    }

    // The peer talks to the VIP: its ARP request must be answered by the macvlan, with the
    // virtual MAC (the base interface keeps quiet thanks to arp_ignore).
    peer.run(|| {
        let s = UdpSocket::bind("192.0.2.2:0").unwrap();
        s.send_to(b"hello", "192.0.2.100:9").unwrap();
    })
    .unwrap();
    let deadline = Instant::now() + WAIT;
    let seen = loop {
        if let Some(mac) = peer.neighbour_mac(ipa("192.0.2.100")).unwrap() {
            break mac;
        }
        assert!(
            Instant::now() < deadline,
            "the peer never learnt a MAC for the VIP"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        seen, vmac_mac,
        "ARP for the VIP answered by {seen:02x?}, not the VMAC"
    );
    // The base address is still answered with the base MAC.
    peer.run(|| {
        let s = UdpSocket::bind("192.0.2.2:0").unwrap();
        s.send_to(b"hello", "192.0.2.1:9").unwrap();
    })
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while peer.neighbour_mac(ipa("192.0.2.1")).unwrap() != Some(base_mac) {
        assert!(
            Instant::now() < deadline,
            "the base address is not answered with the base MAC"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A GARP sent through the VMAC leaves with the virtual MAC.
    let capture = Capture::start(&peer, "eth0").unwrap();
    dir.run(|| {
        let sender = Sender::open("vrrp.7", SourceMac::Interface).unwrap();
        sender.announce(ipa("192.0.2.100")).unwrap();
    })
    .unwrap();
    let frames = capture.wait_until(WAIT, |f| !received_announcements(f).is_empty());
    assert_eq!(
        received_announcements(&frames),
        [Announcement::Arp {
            form: ArpForm::Request,
            mac: mac_addr(vmac_mac),
            addr: "192.0.2.100".parse().unwrap(),
        }],
        "the GARP through the VMAC (Ethernet source = ARP sender = virtual MAC)"
    );

    run_in(&dir, || async {
        let client = Client::new().unwrap();
        assert_eq!(client.remove_vmac("vrrp.7").await.unwrap(), Change::Changed);
        assert_eq!(
            client.remove_vmac("vrrp.7").await.unwrap(),
            Change::Unchanged
        );
        assert!(matches!(
            client.link("vrrp.7").await,
            Err(Error::NoSuchInterface { .. })
        ));
    });
}

#[test]
fn ipv6_vmac_has_the_v6_virtual_mac_answers_nd_and_sends_na() {
    let (dir, peer) = pair("vmac6");
    peer.add_addr("eth0", "2001:db8::2/64").unwrap();
    let vmac_mac = vrrp_mac(Family::V6, 9);
    run_in(&dir, move || async move {
        let client = Client::new().unwrap();
        let vmac =
            Vmac::new("vrrp6.9", "eth0", 9, Family::V6).link_local("fe80::9".parse().unwrap());
        let (change, link) = client.add_vmac(&vmac).await.unwrap();
        assert_eq!(change, Change::Changed);
        assert_eq!(link.mac, Some(vmac_mac));
        assert_eq!(vmac_mac, [0, 0, 0x5e, 0, 2, 9]);
        let vip = Vip::new(ipa("2001:db8::100"), "vrrp6.9").prefix(64);
        assert_eq!(client.add_vip(&vip).await.unwrap(), Change::Changed);
        // The kernel generates no link-local address on it at all (rather than waiting and
        // checking that none appeared).
        let details = ip(&["-d", "link", "show", "vrrp6.9"]);
        assert!(details.contains("addrgenmode none"), "{details}");
        let shown = ip(&["-6", "addr", "show", "dev", "vrrp6.9"]);
        assert!(
            !shown.contains("fe80::200:5eff:fe00:209"),
            "the link-local address derived from the shared MAC was generated:\n{shown}"
        );
        assert!(shown.contains("2001:db8::100/64"), "{shown}");
        let ll = shown
            .lines()
            .find(|l| l.contains("inet6 fe80::9/64"))
            .unwrap_or_else(|| panic!("the link-local address asked for is missing:\n{shown}"));
        assert!(
            ll.contains("scope link") && !ll.contains("tentative"),
            "{ll}"
        );
        let (again, _) = client.add_vmac(&vmac).await.unwrap();
        assert_eq!(again, Change::Unchanged);
    });

    // The peer's neighbour solicitation for the VIP is answered by the VMAC, with its MAC.
    peer.run(|| {
        let s = UdpSocket::bind("[2001:db8::2]:0").unwrap();
        s.send_to(b"hello", "[2001:db8::100]:9").unwrap();
    })
    .unwrap();
    let deadline = Instant::now() + WAIT;
    let seen = loop {
        if let Some(mac) = peer.neighbour_mac(ipa("2001:db8::100")).unwrap() {
            break mac;
        }
        assert!(
            Instant::now() < deadline,
            "the peer never learnt a MAC for the IPv6 VIP"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(seen, vmac_mac, "ND for the VIP answered by {seen:02x?}");

    // An unsolicited NA sent through the VMAC leaves with the IPv6 virtual MAC.
    let capture = Capture::start(&peer, "eth0").unwrap();
    dir.run(|| {
        let sender = Sender::open("vrrp6.9", SourceMac::Interface).unwrap();
        sender.announce(ipa("2001:db8::100")).unwrap();
    })
    .unwrap();
    let frames = capture.wait_until(WAIT, |f| !received_announcements(f).is_empty());
    assert_eq!(
        received_announcements(&frames),
        [Announcement::NeighbourAdvert {
            mac: mac_addr(vmac_mac),
            addr: "2001:db8::100".parse().unwrap(),
            router: false,
        }],
        "the NA through the VMAC (Ethernet source = target link-layer address = virtual MAC)"
    );

    run_in(&dir, || async {
        let client = Client::new().unwrap();
        assert_eq!(
            client.remove_vmac("vrrp6.9").await.unwrap(),
            Change::Changed
        );
    });
}
