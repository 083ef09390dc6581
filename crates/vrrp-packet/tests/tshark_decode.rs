//! Cross-check with Wireshark's dissector: advertisements we emit, framed in Ethernet and written
//! to a pcap, are decoded by tshark with the fields we meant and the checksum reported good.
//!
//! Needs `tshark` (`cargo xtask test` installs it as root); without it this test fails, it does
//! not pass silently.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapWriter};
use vrrp_packet::recv::emit_ipv4;
use vrrp_packet::{
    AddressList, AuthType, ChecksumMode, IP_PROTOCOL, MULTICAST_V4, MULTICAST_V6, Packet,
    PseudoHeader, Repr, TTL, VersionFields, ipv4,
};

const SRC_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const PEER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const SRC_V6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// One advertisement to frame, and what tshark must say about it.
struct Case {
    repr: Repr<'static>,
    pseudo: PseudoHeader,
    mode: ChecksumMode,
}

/// Ethernet frame: to the group's MAC (or a made-up unicast MAC), from the virtual MAC.
fn frame(case: &Case) -> Vec<u8> {
    let mut frame = Vec::new();
    let (dst_mac, ethertype): ([u8; 6], u16) = match case.pseudo {
        PseudoHeader::V4 { dst, .. } if dst == MULTICAST_V4 => ([1, 0, 0x5e, 0, 0, 0x12], 0x0800),
        PseudoHeader::V4 { .. } => ([2, 0, 0, 0, 0, 2], 0x0800),
        PseudoHeader::V6 { .. } => ([0x33, 0x33, 0, 0, 0, 0x12], 0x86dd),
    };
    frame.extend_from_slice(&dst_mac);
    frame.extend_from_slice(&[0, 0, 0x5e, 0, 1, case.repr.vrid]);
    frame.extend_from_slice(&ethertype.to_be_bytes());
    let mut ip = vec![0u8; 1500];
    let len = match case.pseudo {
        PseudoHeader::V4 { src, dst } => {
            let header = ipv4::Repr::vrrp(src, dst, 0);
            emit_ipv4(&mut ip, &header, &case.repr, case.mode).unwrap()
        }
        PseudoHeader::V6 { src, dst } => {
            let payload_len = case.repr.buffer_len();
            ip[0] = 0x60;
            ip[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
            ip[6] = IP_PROTOCOL;
            ip[7] = TTL;
            ip[8..24].copy_from_slice(&src.octets());
            ip[24..40].copy_from_slice(&dst.octets());
            let payload = &mut ip[40..40 + payload_len];
            case.repr
                .emit(&mut Packet::new_unchecked(payload), &case.pseudo, case.mode);
            40 + payload_len
        }
    };
    frame.extend_from_slice(&ip[..len]);
    frame
}

/// Writes the frames to a pcap file of its own and returns its path.
fn write_pcap(name: &str, cases: &[Case]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("vrrp-packet-{name}-{}.pcap", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let mut writer = PcapWriter::new(file).unwrap();
    for (index, case) in cases.iter().enumerate() {
        let data = frame(case);
        let packet = PcapPacket::new(
            Duration::from_secs(index as u64 + 1),
            data.len() as u32,
            &data,
        );
        writer.write_packet(&packet).unwrap();
    }
    path
}

/// tshark's fields, one line per frame, `;`-separated.
fn tshark(path: &PathBuf, prefs: &[&str]) -> Vec<Vec<String>> {
    let mut command = Command::new("tshark");
    command
        .arg("-r")
        .arg(path)
        .args(["-o", "ip.check_checksum:TRUE"]);
    for pref in prefs {
        command.args(["-o", pref]);
    }
    command.args(["-T", "fields", "-E", "separator=;"]);
    for field in [
        "vrrp.version",
        "vrrp.virt_rtr_id",
        "vrrp.prio",
        "vrrp.adver_int",
        "vrrp.short_adver_int",
        "vrrp.ip_addr",
        "vrrp.ipv6_addr",
        "vrrp.auth_string",
        "vrrp.checksum.status",
        "ip.checksum.status",
        "ip.ttl",
        "ipv6.hlim",
    ] {
        command.args(["-e", field]);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run tshark (apt-get install tshark): {e}"));
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| line.split(';').map(str::to_string).collect())
        .collect()
}

static V4_ONE: [Ipv4Addr; 1] = [Ipv4Addr::new(192, 0, 2, 100)];
static V4_FOUR: [Ipv4Addr; 4] = [
    Ipv4Addr::new(192, 0, 2, 100),
    Ipv4Addr::new(192, 0, 2, 101),
    Ipv4Addr::new(192, 0, 2, 102),
    Ipv4Addr::new(198, 51, 100, 7),
];
static V4_TWO: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 200), Ipv4Addr::new(192, 0, 2, 201)];
static V6_EIGHT: [Ipv6Addr; 8] = [
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x101),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x102),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x103),
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x104),
    Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x105),
    Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x106),
    Ipv6Addr::new(0x2001, 0xdb8, 3, 0, 0, 0, 0, 0x107),
];

fn v2(vrid: u8, addresses: &'static [Ipv4Addr], auth: Option<&[u8]>) -> Repr<'static> {
    let mut auth_data = [0; 8];
    if let Some(pass) = auth {
        auth_data[..pass.len()].copy_from_slice(pass);
    }
    Repr {
        vrid,
        priority: 120,
        version: VersionFields::V2 {
            advert_interval_s: 3,
            auth_type: if auth.is_some() {
                AuthType::SimpleText
            } else {
                AuthType::None
            },
            auth_data,
        },
        addresses: AddressList::ipv4(addresses),
    }
}

fn v3(vrid: u8, addresses: AddressList<'static>) -> Repr<'static> {
    Repr {
        vrid,
        priority: 254,
        version: VersionFields::V3 {
            max_advert_interval_cs: 75,
        },
        addresses,
    }
}

fn multicast_v4() -> PseudoHeader {
    PseudoHeader::V4 {
        src: SRC_V4,
        dst: MULTICAST_V4,
    }
}

fn unicast_v4() -> PseudoHeader {
    PseudoHeader::V4 {
        src: SRC_V4,
        dst: PEER_V4,
    }
}

/// The addresses as tshark lists them.
fn listed(repr: &Repr<'_>) -> String {
    repr.addresses
        .iter()
        .map(|a: IpAddr| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn tshark_decodes_what_we_emit_with_good_checksums() {
    let cases = [
        Case {
            repr: v2(51, &V4_ONE, Some(b"1111")),
            pseudo: multicast_v4(),
            mode: ChecksumMode::PseudoHeader,
        },
        Case {
            repr: v2(62, &V4_FOUR, None),
            pseudo: multicast_v4(),
            mode: ChecksumMode::PseudoHeader,
        },
        Case {
            repr: v3(7, AddressList::ipv4(&V4_TWO)),
            pseudo: multicast_v4(),
            mode: ChecksumMode::PseudoHeader,
        },
        Case {
            repr: v3(77, AddressList::ipv4(&V4_ONE)),
            pseudo: unicast_v4(),
            mode: ChecksumMode::PseudoHeader,
        },
        Case {
            repr: v3(9, AddressList::ipv6(&V6_EIGHT)),
            pseudo: PseudoHeader::V6 {
                src: SRC_V6,
                dst: MULTICAST_V6,
            },
            mode: ChecksumMode::PseudoHeader,
        },
        // The legacy form only differs for unicast; for the group it is the RFC form.
        Case {
            repr: v3(8, AddressList::ipv4(&V4_TWO)),
            pseudo: multicast_v4(),
            mode: ChecksumMode::LegacyMulticastDestination,
        },
    ];
    let path = write_pcap("good", &cases);
    let rows = tshark(&path, &[]);
    std::fs::remove_file(&path).ok();
    assert_eq!(rows.len(), cases.len(), "{rows:?}");
    for (case, row) in cases.iter().zip(&rows) {
        let repr = &case.repr;
        let what = format!("{repr:?}: tshark says {row:?}");
        assert_eq!(row[0], u8::from(repr.version()).to_string(), "{what}");
        assert_eq!(row[1], repr.vrid.to_string(), "{what}");
        assert_eq!(row[2], repr.priority.to_string(), "{what}");
        match repr.version {
            VersionFields::V2 {
                advert_interval_s,
                auth_type,
                auth_data,
            } => {
                assert_eq!(row[3], advert_interval_s.to_string(), "{what}");
                if auth_type == AuthType::SimpleText {
                    let pass = auth_data.split(|b| *b == 0).next().unwrap();
                    assert_eq!(row[7].as_bytes(), pass, "{what}");
                }
            }
            VersionFields::V3 {
                max_advert_interval_cs,
            } => {
                assert_eq!(row[4], max_advert_interval_cs.to_string(), "{what}")
            }
        }
        let addresses = match case.pseudo {
            PseudoHeader::V4 { .. } => &row[5],
            PseudoHeader::V6 { .. } => &row[6],
        };
        assert_eq!(*addresses, listed(repr), "{what}");
        assert_eq!(row[8], "1", "VRRP checksum not good: {what}");
        match case.pseudo {
            PseudoHeader::V4 { .. } => {
                assert_eq!(row[9], "1", "IPv4 header checksum not good: {what}");
                assert_eq!(row[10], "255", "{what}");
            }
            PseudoHeader::V6 { .. } => assert_eq!(row[11], "255", "{what}"),
        }
    }
}

#[test]
fn tshark_needs_its_v3_checksum_as_in_v2_switch_for_that_mode() {
    let cases = [
        Case {
            repr: v3(7, AddressList::ipv4(&V4_TWO)),
            pseudo: multicast_v4(),
            mode: ChecksumMode::NoPseudoHeader,
        },
        Case {
            repr: v3(77, AddressList::ipv4(&V4_ONE)),
            pseudo: unicast_v4(),
            mode: ChecksumMode::NoPseudoHeader,
        },
    ];
    let path = write_pcap("as-v2", &cases);
    let with_switch = tshark(&path, &["vrrp.v3_checksum_as_in_v2:TRUE"]);
    let without = tshark(&path, &[]);
    std::fs::remove_file(&path).ok();
    assert_eq!(with_switch.len(), 2);
    for row in &with_switch {
        assert_eq!(
            row[8], "1",
            "not good with vrrp.v3_checksum_as_in_v2: {row:?}"
        );
    }
    for row in &without {
        assert_eq!(
            row[8], "0",
            "good without vrrp.v3_checksum_as_in_v2: {row:?}"
        );
    }
}

#[test]
fn tshark_refuses_the_legacy_form_for_unicast() {
    // keepalived <= 1.3.6 put 224.0.0.18 in the pseudo-header even when sending unicast; tshark
    // sums with the real destination, so it must call our legacy unicast checksum bad, and the
    // RFC form of the same advertisement good.
    let cases = [
        Case {
            repr: v3(77, AddressList::ipv4(&V4_ONE)),
            pseudo: unicast_v4(),
            mode: ChecksumMode::LegacyMulticastDestination,
        },
        Case {
            repr: v3(77, AddressList::ipv4(&V4_ONE)),
            pseudo: unicast_v4(),
            mode: ChecksumMode::PseudoHeader,
        },
    ];
    let path = write_pcap("legacy", &cases);
    let rows = tshark(&path, &[]);
    std::fs::remove_file(&path).ok();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][8], "0", "{rows:?}");
    assert_eq!(rows[1][8], "1", "{rows:?}");
}
