//! `vrrp-dump` on the keepalived captures and on hand-made captures with broken and foreign
//! frames: what it prints, in text and JSON, and when it fails.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use serde_json::{Value, json};
use vrrp_packet::recv::emit_ipv4;
use vrrp_packet::{AddressList, ChecksumMode, MULTICAST_V4, Repr, VersionFields, ipv4};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/vectors/keepalived-2.2.7"
);

fn dump(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vrrp-dump"))
        .args(args)
        .output()
        .expect("run vrrp-dump")
}

/// The JSON objects `vrrp-dump --json` prints for `path`; it must exit 0.
fn json_lines(path: &Path) -> Vec<Value> {
    let output = dump(&["--json", "-r", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

/// What each capture holds (see `testdata/README.md` and the `.conf` files).
struct Expected {
    name: &'static str,
    count: usize,
    version: u8,
    vrid: u8,
    priority: u8,
    interval_cs: u16,
    addresses: &'static [&'static str],
    auth: Option<(&'static str, &'static str)>,
    src: &'static str,
    dst: &'static str,
    mode: &'static str,
}

const EXPECTED: [Expected; 5] = [
    Expected {
        name: "v2_pass",
        count: 3,
        version: 2,
        vrid: 51,
        priority: 120,
        interval_cs: 100,
        addresses: &["192.0.2.100"],
        auth: Some(("simple", "3131313100000000")),
        src: "192.0.2.1",
        dst: "224.0.0.18",
        mode: "no_pseudo_header",
    },
    Expected {
        name: "v2_noauth_multi",
        count: 3,
        version: 2,
        vrid: 62,
        priority: 200,
        interval_cs: 100,
        addresses: &["192.0.2.100", "192.0.2.101", "192.0.2.102", "198.51.100.7"],
        auth: Some(("none", "0000000000000000")),
        src: "192.0.2.1",
        dst: "224.0.0.18",
        mode: "no_pseudo_header",
    },
    Expected {
        name: "v3_ipv4",
        count: 8,
        version: 3,
        vrid: 7,
        priority: 150,
        interval_cs: 50,
        addresses: &["192.0.2.200", "192.0.2.201"],
        auth: None,
        src: "192.0.2.1",
        dst: "224.0.0.18",
        mode: "pseudo_header",
    },
    Expected {
        name: "v3_ipv6",
        count: 3,
        version: 3,
        vrid: 9,
        priority: 254,
        interval_cs: 100,
        addresses: &["2001:db8::100", "2001:db8::101"],
        auth: None,
        src: "fe80::cc95:8eff:fe97:4ae5",
        dst: "ff02::12",
        mode: "pseudo_header",
    },
    Expected {
        name: "v3_unicast",
        count: 3,
        version: 3,
        vrid: 77,
        priority: 100,
        interval_cs: 100,
        addresses: &["192.0.2.77"],
        auth: None,
        src: "192.0.2.1",
        dst: "192.0.2.2",
        mode: "pseudo_header",
    },
];

#[test]
fn json_for_every_capture_in_pcap_and_pcapng() {
    for expected in &EXPECTED {
        for ext in ["pcap", "pcapng"] {
            let path = Path::new(VECTORS).join(format!("{}.{ext}", expected.name));
            let lines = json_lines(&path);
            let what = path.display();
            // The captures also hold ARP and ICMPv6 frames: skipped.
            assert_eq!(lines.len(), expected.count, "{what}: {lines:?}");
            for (index, line) in lines.iter().enumerate() {
                let mut keys: Vec<&str> = line
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                keys.sort_unstable();
                assert_eq!(
                    keys,
                    [
                        "addresses",
                        "advert_interval_cs",
                        "auth_data",
                        "auth_type",
                        "checksum_mode",
                        "checksum_ok",
                        "dst",
                        "priority",
                        "src",
                        "ttl",
                        "version",
                        "vrid"
                    ],
                    "{what}"
                );
                let last = index == lines.len() - 1;
                let priority = if last { 0 } else { expected.priority };
                let (auth_type, auth_data) = match expected.auth {
                    Some((t, d)) => (json!(t), json!(d)),
                    None => (Value::Null, Value::Null),
                };
                let want = json!({
                    "version": expected.version,
                    "vrid": expected.vrid,
                    "priority": priority,
                    "advert_interval_cs": expected.interval_cs,
                    "addresses": expected.addresses,
                    "auth_type": auth_type,
                    "auth_data": auth_data,
                    "checksum_ok": true,
                    "checksum_mode": expected.mode,
                    "src": expected.src,
                    "dst": expected.dst,
                    "ttl": 255,
                });
                assert_eq!(*line, want, "{what} line {index}");
            }
        }
    }
}

#[test]
fn text_lines_say_what_the_packet_says() {
    let path = Path::new(VECTORS).join("v2_pass.pcap");
    let output = dump(&["-r", path.to_str().unwrap()]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let first = lines[0];
    for part in [
        "192.0.2.1 > 224.0.0.18",
        "VRRPv2",
        "vrid 51",
        "prio 120",
        "intvl 1s",
        "addrs [192.0.2.100]",
        "auth simple \"1111\"",
        "ttl 255",
        "checksum ok (no_pseudo_header)",
    ] {
        assert!(first.contains(part), "no `{part}` in {first}");
    }
    // Times are the capture's, in UTC.
    assert!(
        first.starts_with("20")
            && first.contains('T')
            && first.split(' ').next().unwrap().ends_with('Z'),
        "{first}"
    );
    assert!(lines[2].contains("prio 0"), "{}", lines[2]);
}

#[test]
fn count_stops_early() {
    let path = Path::new(VECTORS).join("v3_ipv4.pcapng");
    let output = dump(&["--json", "-c", "2", "-r", path.to_str().unwrap()]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 2);
}

/// A file of its own in the temp directory.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("vrrp-dump-test-{name}-{}", std::process::id()))
}

fn write_pcap(name: &str, link: DataLink, frames: &[Vec<u8>]) -> PathBuf {
    let path = temp_path(name);
    let header = PcapHeader {
        datalink: link,
        ..PcapHeader::default()
    };
    let mut writer =
        PcapWriter::with_header(std::fs::File::create(&path).unwrap(), header).unwrap();
    for (index, frame) in frames.iter().enumerate() {
        let packet = PcapPacket::new(
            Duration::from_secs(1_700_000_000 + index as u64),
            frame.len() as u32,
            frame,
        );
        writer.write_packet(&packet).unwrap();
    }
    path
}

static VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(203, 0, 113, 10)];

/// A v3 advertisement in an IPv4 datagram, from 192.0.2.1 to the group.
fn vrrp_datagram() -> Vec<u8> {
    let repr = Repr {
        vrid: 42,
        priority: 100,
        version: VersionFields::V3 {
            max_advert_interval_cs: 100,
        },
        addresses: AddressList::ipv4(&VIPS),
    };
    let ip = ipv4::Repr::vrrp(Ipv4Addr::new(192, 0, 2, 1), MULTICAST_V4, 0);
    let mut buf = vec![0; 64];
    let len = emit_ipv4(&mut buf, &ip, &repr, ChecksumMode::NoPseudoHeader).unwrap();
    buf.truncate(len);
    buf
}

fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![1, 0, 0x5e, 0, 0, 0x12, 0, 0, 0x5e, 0, 1, 42];
    frame.extend_from_slice(&ethertype.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Sets a byte of an IPv4 datagram and fixes the header checksum.
fn patched(mut datagram: Vec<u8>, at: usize, value: u8) -> Vec<u8> {
    datagram[at] = value;
    ipv4::Packet::new_unchecked(&mut datagram[..20]).fill_checksum();
    datagram
}

#[test]
fn broken_packets_print_errors_and_foreign_frames_are_skipped() {
    let good = vrrp_datagram();
    let mut bad_vrrp_checksum = good.clone();
    *bad_vrrp_checksum.last_mut().unwrap() ^= 0x01;
    let mut truncated = good[..good.len() - 2].to_vec();
    truncated[3] -= 2; // IPv4 total length still right: the VRRP message is short
    ipv4::Packet::new_unchecked(&mut truncated[..20]).fill_checksum();
    let bad_version = patched(good.clone(), 20, 0x51);
    let mut bad_header_checksum = good.clone();
    bad_header_checksum[10] ^= 0xff;
    let udp = patched(good.clone(), 9, 17);
    let arp = vec![0u8; 28];

    let frames = [
        ethernet(0x0806, &arp),
        ethernet(0x0800, &udp),
        ethernet(0x0800, &good),
        ethernet(0x0800, &bad_vrrp_checksum),
        ethernet(0x0800, &truncated),
        ethernet(0x0800, &bad_version),
        ethernet(0x0800, &bad_header_checksum),
    ];
    let path = write_pcap("broken", DataLink::ETHERNET, &frames);
    let lines = json_lines(&path);
    let text = dump(&["-r", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();

    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert_eq!(lines[0]["vrid"], 42);
    assert_eq!(lines[0]["checksum_ok"], true);
    assert_eq!(lines[0]["checksum_mode"], "no_pseudo_header");
    assert_eq!(lines[0]["advert_interval_cs"], 100);
    assert_eq!(lines[1]["vrid"], 42);
    assert_eq!(lines[1]["checksum_ok"], false);
    assert_eq!(lines[1]["checksum_mode"], Value::Null);
    for (line, words) in [
        (&lines[2], "does not match the length"),
        (&lines[3], "bad VRRP version"),
        (&lines[4], "header checksum"),
    ] {
        let error = line["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {line}"));
        assert!(error.contains(words), "{error}");
        assert_eq!(line["src"], "192.0.2.1", "{line}");
    }

    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    let text_lines: Vec<&str> = text.lines().collect();
    assert_eq!(text_lines.len(), 5, "{text}");
    assert!(text_lines[1].contains("checksum BAD"), "{}", text_lines[1]);
    assert!(
        text_lines[3].contains("VRRP error: bad VRRP version"),
        "{}",
        text_lines[3]
    );
}

#[test]
fn linux_cooked_captures_are_read() {
    let good = vrrp_datagram();
    // SLL v1: packet type, ARPHRD_ETHER, address length 6, address, padding, protocol.
    let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0, 0x5e, 0, 1, 42, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&good);
    // SLL v2: protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length,
    // address and padding.
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0, 0x5e, 0, 1, 42, 0, 0,
    ];
    sll2.extend_from_slice(&good);
    for (name, link, frame) in [
        ("sll", DataLink::LINUX_SLL, sll),
        ("sll2", DataLink::LINUX_SLL2, sll2),
        ("raw", DataLink::RAW, good.clone()),
    ] {
        let path = write_pcap(name, link, &[frame]);
        let lines = json_lines(&path);
        std::fs::remove_file(&path).ok();
        assert_eq!(lines.len(), 1, "{name}");
        assert_eq!(lines[0]["vrid"], 42, "{name}");
        assert_eq!(lines[0]["addresses"], json!(["203.0.113.10"]), "{name}");
        assert_eq!(lines[0]["checksum_ok"], true, "{name}");
    }
}

#[test]
fn unreadable_files_fail() {
    let missing = dump(&["-r", "/nonexistent/capture.pcap"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/capture.pcap"));

    let garbage = temp_path("garbage");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let output = dump(&["-r", garbage.to_str().unwrap()]);
    std::fs::remove_file(&garbage).ok();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());

    let empty = temp_path("empty");
    std::fs::write(&empty, b"").unwrap();
    let output = dump(&["-r", empty.to_str().unwrap()]);
    std::fs::remove_file(&empty).ok();
    assert!(!output.status.success());
}
