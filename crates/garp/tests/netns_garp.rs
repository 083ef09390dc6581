//! Gratuitous ARP and unsolicited NA between network namespaces: what goes on the wire (decoded
//! by tshark and by our parser), what it does to a neighbour's table, and the typed errors for
//! bad input. Needs root.

use std::net::IpAddr;
use std::time::Duration;

use garp::{Announcement, ArpForm, Error, MacAddr, Sender, SourceMac, VirtualMac};
use testbed::{
    CAP_NET_RAW, Capture, Frame, Netns, PacketType, bridge_port, drop_capability, require_root,
    tshark_fields, veth_pair, write_pcap,
};

const WAIT: Duration = Duration::from_secs(3);

/// A director namespace and a peer namespace joined by a veth pair (`eth0` on both sides), up,
/// with 192.0.2.1/24 + 2001:db8::1/64 on the director and .2 / ::2 on the peer.
fn pair() -> (Netns, Netns) {
    let director = Netns::new("dir").unwrap();
    let peer = Netns::new("peer").unwrap();
    veth_pair(&director, "eth0", &peer, "eth0").unwrap();
    director.add_addr("eth0", "192.0.2.1/24").unwrap();
    director.add_addr("eth0", "2001:db8::1/64").unwrap();
    peer.add_addr("eth0", "192.0.2.2/24").unwrap();
    peer.add_addr("eth0", "2001:db8::2/64").unwrap();
    director.set_up("eth0").unwrap();
    peer.set_up("eth0").unwrap();
    (director, peer)
}

fn open(netns: &Netns, ifname: &'static str, source: SourceMac) -> Result<Sender, Error> {
    netns.run(move || Sender::open(ifname, source)).unwrap()
}

fn mac(m: [u8; 6]) -> MacAddr {
    MacAddr(m[0], m[1], m[2], m[3], m[4], m[5])
}

/// Incoming frames that are announcements, parsed by our own parser.
fn announcements(frames: &[Frame]) -> Vec<Announcement> {
    frames
        .iter()
        .filter(|f| f.packet_type != PacketType::Outgoing)
        .filter_map(|f| Announcement::parse(&f.data).ok())
        .collect()
}

fn tshark(frames: &[Frame], tag: &str, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let path = std::env::temp_dir().join(format!("garp-{tag}-{}.pcap", std::process::id()));
    let incoming: Vec<Frame> = frames
        .iter()
        .filter(|f| f.packet_type != PacketType::Outgoing)
        .cloned()
        .collect();
    write_pcap(&path, &incoming).unwrap();
    let rows = tshark_fields(&path, filter, fields).unwrap();
    std::fs::remove_file(&path).unwrap();
    rows
}

fn row(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|s| s.to_string()).collect()
}

#[test]
fn frames_on_the_wire_are_decoded_by_tshark_and_by_our_parser() {
    require_root();
    let (director, peer) = pair();
    let capture = Capture::start(&peer, "eth0").unwrap();
    let mut sender = open(&director, "eth0", SourceMac::Interface).unwrap();
    let own = sender.interface_mac();
    assert_eq!(own, mac(director.mac("eth0").unwrap()));
    let v4: IpAddr = "192.0.2.100".parse().unwrap();
    let v6: IpAddr = "2001:db8::100".parse().unwrap();
    sender.announce(v4).unwrap();
    sender.announce(v6).unwrap();
    sender.set_arp_form(ArpForm::Reply);
    sender.set_router(true);
    sender.announce(v4).unwrap();
    sender.announce(v6).unwrap();
    // From the VRRP virtual MACs.
    let vmac4 = open(&director, "eth0", SourceMac::Vrrp(VirtualMac::V4(51))).unwrap();
    vmac4.announce(v4).unwrap();
    let vmac6 = open(&director, "eth0", SourceMac::Vrrp(VirtualMac::V6(9))).unwrap();
    vmac6.announce(v6).unwrap();

    let frames = capture.wait_until(WAIT, |f| announcements(f).len() >= 6);
    let vrrp4 = MacAddr(0, 0, 0x5e, 0, 1, 51);
    let vrrp6 = MacAddr(0, 0, 0x5e, 0, 2, 9);
    let v4a: std::net::Ipv4Addr = "192.0.2.100".parse().unwrap();
    let v6a: std::net::Ipv6Addr = "2001:db8::100".parse().unwrap();
    assert_eq!(
        announcements(&frames),
        [
            Announcement::Arp {
                form: ArpForm::Request,
                mac: own,
                addr: v4a
            },
            Announcement::NeighbourAdvert {
                mac: own,
                addr: v6a,
                router: false
            },
            Announcement::Arp {
                form: ArpForm::Reply,
                mac: own,
                addr: v4a
            },
            Announcement::NeighbourAdvert {
                mac: own,
                addr: v6a,
                router: true
            },
            Announcement::Arp {
                form: ArpForm::Request,
                mac: vrrp4,
                addr: v4a
            },
            Announcement::NeighbourAdvert {
                mac: vrrp6,
                addr: v6a,
                router: false
            },
        ]
    );

    let own = own.to_string();
    let arp = tshark(
        &frames,
        "arp",
        "arp",
        &[
            "eth.dst",
            "arp.isgratuitous",
            "arp.opcode",
            "arp.src.hw_mac",
            "arp.src.proto_ipv4",
            "arp.dst.hw_mac",
            "arp.dst.proto_ipv4",
        ],
    );
    let bcast = "ff:ff:ff:ff:ff:ff";
    assert_eq!(
        arp,
        [
            row(&[bcast, "1", "1", &own, "192.0.2.100", bcast, "192.0.2.100"]),
            row(&[bcast, "1", "2", &own, "192.0.2.100", &own, "192.0.2.100"]),
            row(&[
                bcast,
                "1",
                "1",
                "00:00:5e:00:01:33",
                "192.0.2.100",
                bcast,
                "192.0.2.100"
            ]),
        ]
    );
    let na = tshark(
        &frames,
        "na",
        "icmpv6.type == 136",
        &[
            "eth.src",
            "eth.dst",
            "ipv6.src",
            "ipv6.dst",
            "ipv6.hlim",
            "icmpv6.checksum.status",
            "icmpv6.nd.na.flag.r",
            "icmpv6.nd.na.flag.s",
            "icmpv6.nd.na.flag.o",
            "icmpv6.nd.na.target_address",
            "icmpv6.opt.type",
            "icmpv6.opt.linkaddr",
        ],
    );
    let na_row = |src: &str, router: &str| {
        row(&[
            src,
            "33:33:00:00:00:01",
            "2001:db8::100",
            "ff02::1",
            "255",
            "1",
            router,
            "0",
            "1",
            "2001:db8::100",
            "2",
            src,
        ])
    };
    assert_eq!(
        na,
        [
            na_row(&own, "0"),
            na_row(&own, "1"),
            na_row("00:00:5e:00:02:09", "0"),
        ],
        "checksum.status 1 is tshark's \"Good\""
    );
}

/// Sends one UDP datagram from `from` to `dst` and returns the namespace that received it, if
/// any of `candidates` did.
fn udp_to(from: &Netns, dst: IpAddr, candidates: &[&Netns]) -> Option<String> {
    let dst = std::net::SocketAddr::new(dst, 7777);
    // Only the namespace that holds the address can bind it.
    let receivers: Vec<(&Netns, std::net::UdpSocket)> = candidates
        .iter()
        .filter_map(|ns| Some((*ns, ns.udp_bind(dst).ok()?)))
        .collect();
    from.udp_send(None, dst, b"where are you").unwrap();
    receivers.into_iter().find_map(|(ns, socket)| {
        socket.set_read_timeout(Some(WAIT)).unwrap();
        let mut buf = [0; 32];
        socket.recv(&mut buf).ok().map(|_| ns.name().to_string())
    })
}

/// Two routers and a client on one bridge; a VIP moves from the old master to the new one.
/// Without the announcement the client keeps the old MAC (its entry is fresh); after it, the
/// client's neighbour table holds the new master's MAC and traffic reaches the new master.
fn vip_moves(vip: &str, prefix: &str) {
    require_root();
    let hub = Netns::new("hub").unwrap();
    let old = Netns::new("old").unwrap();
    let new = Netns::new("new").unwrap();
    let client = Netns::new("client").unwrap();
    hub.add_bridge("br0").unwrap();
    for (i, (ns, host)) in [(&old, "1"), (&new, "2"), (&client, "3")]
        .into_iter()
        .enumerate()
    {
        let port = format!("p{i}");
        veth_pair(&hub, &port, ns, "eth0").unwrap();
        bridge_port(&hub, &port, "br0").unwrap();
        ns.set_up("eth0").unwrap();
        if vip.contains(':') {
            ns.add_addr("eth0", &format!("2001:db8::{host}/64"))
                .unwrap();
        } else {
            ns.add_addr("eth0", &format!("192.0.2.{host}/24")).unwrap();
        }
    }
    let vip_addr: IpAddr = vip.parse().unwrap();
    let with_prefix = format!("{vip}/{prefix}");
    old.add_addr("eth0", &with_prefix).unwrap();
    // The client talks to the VIP and learns the old master's MAC.
    assert_eq!(
        udp_to(&client, vip_addr, &[&old, &new]).as_deref(),
        Some(old.name())
    );
    let old_mac = old.mac("eth0").unwrap();
    let new_mac = new.mac("eth0").unwrap();
    assert_eq!(client.neighbour_mac(vip_addr).unwrap(), Some(old_mac));

    // Failover: the VIP moves, but the client still points at the old master.
    old.del_addr("eth0", &with_prefix).unwrap();
    new.add_addr("eth0", &with_prefix).unwrap();
    assert_eq!(client.neighbour_mac(vip_addr).unwrap(), Some(old_mac));

    let capture = Capture::start(&client, "eth0").unwrap();
    let sender = open(&new, "eth0", SourceMac::Interface).unwrap();
    sender.announce(vip_addr).unwrap();
    capture.wait_until(WAIT, |f| !announcements(f).is_empty());
    drop(capture);
    // Bounded polling: the entry moves as the frame is received, but a loaded machine may
    // take a while to get there.
    let deadline = std::time::Instant::now() + WAIT;
    let mut seen = client.neighbour_mac(vip_addr).unwrap();
    while seen != Some(new_mac) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        seen = client.neighbour_mac(vip_addr).unwrap();
    }
    assert_eq!(seen, Some(new_mac), "client's entry for {vip} did not move");
    assert_eq!(
        udp_to(&client, vip_addr, &[&old, &new]).as_deref(),
        Some(new.name())
    );
}

#[test]
fn a_gratuitous_arp_moves_the_clients_neighbour_entry() {
    vip_moves("192.0.2.100", "32");
}

#[test]
fn an_unsolicited_na_moves_the_clients_neighbour_entry() {
    vip_moves("2001:db8::100", "128");
}

#[test]
fn bad_input_gives_typed_errors_and_sends_nothing() {
    require_root();
    let (director, peer) = pair();
    let capture = Capture::start(&peer, "eth0").unwrap();

    let err = open(&director, "nosuch0", SourceMac::Interface).unwrap_err();
    assert!(
        matches!(err, Error::NoSuchInterface(ref n) if n == "nosuch0"),
        "{err}"
    );
    let err = open(&director, "lo", SourceMac::Interface).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotEthernet {
                hardware_type: 772,
                ..
            }
        ),
        "{err}"
    );

    // Wrong family: an IPv6 address with the IPv4 VRRP MAC, and the other way round. A list with
    // one bad address sends nothing at all.
    let vmac4 = open(&director, "eth0", SourceMac::Vrrp(VirtualMac::V4(7))).unwrap();
    let err = vmac4
        .announce_all(
            &[
                "192.0.2.10".parse().unwrap(),
                "2001:db8::10".parse().unwrap(),
            ],
            Duration::ZERO,
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongFamily {
                expected: "IPv4",
                ..
            }
        ),
        "{err}"
    );
    let vmac6 = open(&director, "eth0", SourceMac::Vrrp(VirtualMac::V6(7))).unwrap();
    let err = vmac6.announce("192.0.2.10".parse().unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::WrongFamily {
                expected: "IPv6",
                ..
            }
        ),
        "{err}"
    );
    for bad in ["255.255.255.255", "0.0.0.0", "ff02::1", "::", "224.0.0.18"] {
        let err = vmac4.announce(bad.parse().unwrap()).unwrap_err();
        assert!(matches!(err, Error::NotUnicast(_)), "{bad}: {err}");
    }

    // Interface down: refused at open, and when it goes down after opening.
    let sender = open(&director, "eth0", SourceMac::Interface).unwrap();
    director.set_down("eth0").unwrap();
    let err = open(&director, "eth0", SourceMac::Interface).unwrap_err();
    assert!(
        matches!(err, Error::InterfaceDown(ref n) if n == "eth0"),
        "{err}"
    );
    let err = sender.announce("192.0.2.10".parse().unwrap()).unwrap_err();
    assert!(matches!(err, Error::InterfaceDown(_)), "{err}");
    assert!(matches!(sender.check_up(), Err(Error::InterfaceDown(_))));
    director.set_up("eth0").unwrap();
    sender.check_up().unwrap();

    // Nothing of the above reached the wire; a good announcement does.
    sender.announce("192.0.2.11".parse().unwrap()).unwrap();
    let frames = capture.wait_until(WAIT, |f| !announcements(f).is_empty());
    let seen: Vec<IpAddr> = announcements(&frames)
        .iter()
        .map(Announcement::addr)
        .collect();
    assert_eq!(seen, ["192.0.2.11".parse::<IpAddr>().unwrap()]);
}

#[test]
fn without_cap_net_raw_opening_is_a_permission_error() {
    require_root();
    let (director, _peer) = pair();
    let result = director
        .run(|| {
            drop_capability(CAP_NET_RAW);
            Sender::open("eth0", SourceMac::Interface)
        })
        .unwrap();
    let err = result.unwrap_err();
    assert!(
        matches!(err, Error::Permission(ref n) if n == "eth0"),
        "{err}"
    );
}
