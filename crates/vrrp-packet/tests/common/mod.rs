//! Reading the keepalived 2.2.7 captures in `testdata/vectors/` for the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

/// The capture names, each with a `.conf`, a `.pcap` and a `.pcapng`.
pub const VECTORS: [&str; 5] = [
    "v2_pass",
    "v2_noauth_multi",
    "v3_ipv4",
    "v3_ipv6",
    "v3_unicast",
];

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/vectors/keepalived-2.2.7"
    ))
}

/// Ethernet frames of a classic pcap file.
pub fn pcap_frames(name: &str) -> Vec<Vec<u8>> {
    let path = vectors_dir().join(format!("{name}.pcap"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(file).expect("pcap header");
    assert_eq!(reader.header().datalink, DataLink::ETHERNET);
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        frames.push(packet.expect("pcap record").data.into_owned());
    }
    frames
}

/// Ethernet frames of a pcapng file.
pub fn pcapng_frames(name: &str) -> Vec<Vec<u8>> {
    let path = vectors_dir().join(format!("{name}.pcapng"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapNgReader::new(file).expect("pcapng section");
    let mut frames = Vec::new();
    while let Some(block) = reader.next_block() {
        if let Block::EnhancedPacket(packet) = block.expect("pcapng block") {
            frames.push(packet.data.into_owned());
        }
    }
    frames
}

/// A VRRP advertisement as the receive path gets it.
#[derive(Debug, Clone)]
pub enum Datagram {
    /// A whole IPv4 datagram, as a raw IPv4 socket delivers it.
    V4(Vec<u8>),
    /// The IPv6 payload and what ancillary data would say.
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        payload: Vec<u8>,
    },
}

impl Datagram {
    pub fn src(&self) -> IpAddr {
        match self {
            Self::V4(d) => IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15])),
            Self::V6 { src, .. } => IpAddr::V6(*src),
        }
    }

    /// The VRRP message.
    pub fn vrrp(&self) -> &[u8] {
        match self {
            Self::V4(d) => {
                let header_len = d.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
                d.get(header_len..).unwrap_or(&[])
            }
            Self::V6 { payload, .. } => payload,
        }
    }
}

/// The VRRP advertisements among Ethernet frames (other frames: ARP, ICMPv6, are skipped).
pub fn vrrp_datagrams(frames: &[Vec<u8>]) -> Vec<Datagram> {
    let mut out = Vec::new();
    for frame in frames {
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        let ip = &frame[14..];
        match ethertype {
            0x0800 if ip[9] == 112 => {
                let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
                out.push(Datagram::V4(ip[..total].to_vec()));
            }
            0x86dd if ip[6] == 112 => {
                let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
                let octets = |r: std::ops::Range<usize>| -> [u8; 16] { ip[r].try_into().unwrap() };
                out.push(Datagram::V6 {
                    src: Ipv6Addr::from(octets(8..24)),
                    dst: Ipv6Addr::from(octets(24..40)),
                    hop_limit: ip[7],
                    payload: ip[40..40 + len].to_vec(),
                });
            }
            _ => {}
        }
    }
    out
}

/// Every VRRP advertisement of every capture, by capture name.
pub fn all_datagrams() -> Vec<(&'static str, Vec<Datagram>)> {
    VECTORS
        .iter()
        .map(|name| (*name, vrrp_datagrams(&pcap_frames(name))))
        .collect()
}

/// What a capture's `.conf` says, read with a few lines of tokenising (only the keys the
/// captures use).
#[derive(Debug, Default)]
pub struct Conf {
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    pub advert_int_cs: u16,
    pub auth_pass: Option<String>,
    pub addresses: Vec<IpAddr>,
    pub unicast_src: Option<IpAddr>,
    pub unicast_peers: Vec<IpAddr>,
}

pub fn conf(name: &str) -> Conf {
    let path = vectors_dir().join(format!("{name}.conf"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spaced = text.replace('{', " { ").replace('}', " } ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut conf = Conf {
        version: 2,
        ..Conf::default()
    };
    let block = |at: usize| -> Vec<IpAddr> {
        assert_eq!(tokens[at + 1], "{");
        tokens[at + 2..]
            .iter()
            .take_while(|t| **t != "}")
            .map(|t| t.split('/').next().unwrap().parse().unwrap())
            .collect()
    };
    for (at, token) in tokens.iter().enumerate() {
        let next = tokens.get(at + 1).copied().unwrap_or("");
        match *token {
            "vrrp_version" | "version" => conf.version = next.parse().unwrap(),
            "virtual_router_id" => conf.vrid = next.parse().unwrap(),
            "priority" => conf.priority = next.parse().unwrap(),
            "advert_int" => {
                conf.advert_int_cs = (next.parse::<f64>().unwrap() * 100.0).round() as u16
            }
            "auth_pass" => conf.auth_pass = Some(next.to_string()),
            "virtual_ipaddress" => conf.addresses = block(at),
            "unicast_src_ip" => conf.unicast_src = Some(next.parse().unwrap()),
            "unicast_peer" => conf.unicast_peers = block(at),
            _ => {}
        }
    }
    conf
}
