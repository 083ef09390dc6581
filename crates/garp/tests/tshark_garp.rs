//! Our frames as tshark reads them, without sending anything (the "tshark" suite: needs tshark,
//! not root). Every variant: request and reply ARP, NA with and without the router flag, from
//! the interface MAC and from both VRRP virtual MACs.

use std::time::SystemTime;

use garp::{Announcement, ArpForm, MacAddr, VirtualMac};
use testbed::{Frame, PacketType, tshark_fields, write_pcap};

const OWN: MacAddr = MacAddr(0x02, 0x00, 0x5e, 0x10, 0x20, 0x30);

fn announcements() -> Vec<Announcement> {
    let v4 = "203.0.113.45".parse().unwrap();
    let v6 = "2001:db8:1::45".parse().unwrap();
    vec![
        Announcement::Arp {
            form: ArpForm::Request,
            mac: OWN,
            addr: v4,
        },
        Announcement::Arp {
            form: ArpForm::Reply,
            mac: OWN,
            addr: v4,
        },
        Announcement::Arp {
            form: ArpForm::Request,
            mac: VirtualMac::V4(255).mac(),
            addr: v4,
        },
        Announcement::NeighbourAdvert {
            mac: OWN,
            addr: v6,
            router: false,
        },
        Announcement::NeighbourAdvert {
            mac: OWN,
            addr: v6,
            router: true,
        },
        Announcement::NeighbourAdvert {
            mac: VirtualMac::V6(1).mac(),
            addr: v6,
            router: false,
        },
    ]
}

fn decode(filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let frames: Vec<Frame> = announcements()
        .iter()
        .map(|a| {
            let mut data = vec![0; a.buffer_len()];
            a.emit(&mut data).unwrap();
            Frame {
                timestamp: SystemTime::now(),
                packet_type: PacketType::Outgoing,
                data,
            }
        })
        .collect();
    let path = std::env::temp_dir().join(format!(
        "tshark_garp-{}-{}.pcap",
        std::process::id(),
        filter.len()
    ));
    write_pcap(&path, &frames).unwrap();
    let rows = tshark_fields(&path, filter, fields).unwrap();
    std::fs::remove_file(&path).unwrap();
    rows
}

fn row(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|s| s.to_string()).collect()
}

#[test]
fn tshark_reads_our_gratuitous_arps() {
    let rows = decode(
        "arp",
        &[
            "eth.src",
            "eth.dst",
            "arp.isgratuitous",
            "arp.opcode",
            "arp.src.hw_mac",
            "arp.src.proto_ipv4",
            "arp.dst.hw_mac",
            "arp.dst.proto_ipv4",
        ],
    );
    let own = "02:00:5e:10:20:30";
    let vmac = "00:00:5e:00:01:ff";
    let bc = "ff:ff:ff:ff:ff:ff";
    let ip = "203.0.113.45";
    assert_eq!(
        rows,
        [
            row(&[own, bc, "1", "1", own, ip, bc, ip]),
            row(&[own, bc, "1", "2", own, ip, own, ip]),
            row(&[vmac, bc, "1", "1", vmac, ip, bc, ip]),
        ]
    );
}

#[test]
fn tshark_reads_our_neighbour_advertisements_with_good_checksums() {
    let rows = decode(
        "icmpv6",
        &[
            "eth.src",
            "eth.dst",
            "ipv6.src",
            "ipv6.dst",
            "ipv6.hlim",
            "icmpv6.type",
            "icmpv6.checksum.status",
            "icmpv6.nd.na.flag.r",
            "icmpv6.nd.na.flag.s",
            "icmpv6.nd.na.flag.o",
            "icmpv6.nd.na.target_address",
            "icmpv6.opt.type",
            "icmpv6.opt.linkaddr",
        ],
    );
    let own = "02:00:5e:10:20:30";
    let vmac = "00:00:5e:00:02:01";
    let ip = "2001:db8:1::45";
    let na = |src: &str, r: &str| {
        row(&[
            src,
            "33:33:00:00:00:01",
            ip,
            "ff02::1",
            "255",
            "136",
            "1",
            r,
            "0",
            "1",
            ip,
            "2",
            src,
        ])
    };
    assert_eq!(rows, [na(own, "0"), na(own, "1"), na(vmac, "0")]);
}
