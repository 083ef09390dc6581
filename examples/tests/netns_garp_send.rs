//! `garp-send` run inside a namespace: what the peer receives, and how bad input is reported.
//! Needs root.

use std::net::IpAddr;
use std::time::Duration;

use garp::{Announcement, ArpForm, MacAddr};
use testbed::{Capture, Netns, PacketType, require_root, veth_pair};

const GARP_SEND: &str = env!("CARGO_BIN_EXE_garp-send");

fn pair() -> (Netns, Netns) {
    let director = Netns::new("gsdir").unwrap();
    let peer = Netns::new("gspeer").unwrap();
    veth_pair(&director, "eth0", &peer, "eth0").unwrap();
    director.set_up("eth0").unwrap();
    peer.set_up("eth0").unwrap();
    (director, peer)
}

fn received(capture: &Capture, at_least: usize) -> Vec<Announcement> {
    let parse = |frames: &[testbed::Frame]| -> Vec<Announcement> {
        frames
            .iter()
            .filter(|f| f.packet_type != PacketType::Outgoing)
            .filter_map(|f| Announcement::parse(&f.data).ok())
            .collect()
    };
    parse(&capture.wait_until(Duration::from_secs(3), |f| parse(f).len() >= at_least))
}

#[test]
fn count_interval_form_and_virtual_mac() {
    require_root();
    let (director, peer) = pair();
    let capture = Capture::start(&peer, "eth0").unwrap();
    let out = director
        .command(GARP_SEND)
        .args(["eth0", "192.0.2.100", "2001:db8::100", "--count", "3"])
        .args([
            "--interval",
            "0.05",
            "--form",
            "reply",
            "--vrid",
            "42",
            "--router",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "sent 6 announcement(s) for 2 address(es) on eth0"
    );
    let got = received(&capture, 6);
    let one_round = [
        Announcement::Arp {
            form: ArpForm::Reply,
            mac: MacAddr(0, 0, 0x5e, 0, 1, 42),
            addr: "192.0.2.100".parse().unwrap(),
        },
        Announcement::NeighbourAdvert {
            mac: MacAddr(0, 0, 0x5e, 0, 2, 42),
            addr: "2001:db8::100".parse().unwrap(),
            router: true,
        },
    ];
    assert_eq!(got, one_round.repeat(3));

    // The default: request form from the interface's MAC.
    let own = director.mac("eth0").unwrap();
    let capture = Capture::start(&peer, "eth0").unwrap();
    let status = director
        .command(GARP_SEND)
        .args(["eth0", "203.0.113.9"])
        .status()
        .unwrap();
    assert!(status.success());
    let got = received(&capture, 1);
    assert_eq!(
        got,
        [Announcement::Arp {
            form: ArpForm::Request,
            mac: MacAddr(own[0], own[1], own[2], own[3], own[4], own[5]),
            addr: "203.0.113.9".parse().unwrap(),
        }]
    );
    let addr: IpAddr = "203.0.113.9".parse().unwrap();
    assert_eq!(got[0].addr(), addr);

    // Any source MAC, both families, paced within the round.
    let capture = Capture::start(&peer, "eth0").unwrap();
    let status = director
        .command(GARP_SEND)
        .args(["eth0", "198.51.100.7", "2001:db8::7"])
        .args(["--source-mac", "02:00:00:00:00:2a", "--gap", "0.001"])
        .status()
        .unwrap();
    assert!(status.success());
    let fixed = MacAddr(2, 0, 0, 0, 0, 0x2a);
    assert_eq!(
        received(&capture, 2),
        [
            Announcement::Arp {
                form: ArpForm::Request,
                mac: fixed,
                addr: "198.51.100.7".parse().unwrap(),
            },
            Announcement::NeighbourAdvert {
                mac: fixed,
                addr: "2001:db8::7".parse().unwrap(),
                router: false,
            },
        ]
    );
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    require_root();
    let (director, _peer) = pair();
    for (args, expected) in [
        (
            &["nosuch0", "192.0.2.1"][..],
            "no interface named \"nosuch0\"",
        ),
        (&["eth0", "ff02::1"][..], "not a unicast address"),
        (
            &["eth0", "192.0.2.1", "--source-mac", "zz"][..],
            "--source-mac",
        ),
        (&["eth0", "192.0.2.1", "--vrid", "0"][..], "--vrid"),
    ] {
        let out = director.command(GARP_SEND).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    director.set_down("eth0").unwrap();
    let out = director
        .command(GARP_SEND)
        .args(["eth0", "192.0.2.1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("interface eth0 is down"));
}
