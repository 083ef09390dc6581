//! The LVS-TUN real server against a kernel with the tunnel drivers (`cargo xtask vm
//! vm_realserver`; the host kernel of this project has none, see `netns_realserver`): the VIP on
//! `tunl0` / `gre0`, brought up, `rp_filter` relaxed and the ARP sysctls set; `up` twice changes
//! nothing more; `down` puts every sysctl, address and link state back.
//!
//! GUE: a FOU port opened through generic netlink, and a packet as an IPVS director with
//! `tun_type gue` sends it delivered to the service on the VIP.
//!
//! It runs in the VM's own network namespace, which exists only for the test.

use std::net::IpAddr;

use vip::realserver::{RealServer, Tunnel};
use vip::{Change, Client};

/// What `up` may touch: the sysctls, the addresses, and which links are up.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    sysctls: Vec<(String, String)>,
    addresses: Vec<(u32, IpAddr, u8)>,
    links: Vec<(String, bool)>,
}

async fn snapshot(client: &Client) -> Snapshot {
    let mut sysctls = Vec::new();
    for dev in ["lo", "all", "tunl0", "gre0"] {
        for key in ["arp_ignore", "arp_announce", "rp_filter"] {
            sysctls.push((format!("{dev}/{key}"), Client::ipv4_conf(dev, key).unwrap()));
        }
    }
    let mut addresses: Vec<(u32, IpAddr, u8)> = client
        .addresses()
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.index, a.addr, a.prefix_len))
        .collect();
    addresses.sort();
    let mut links: Vec<(String, bool)> = client
        .links()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.up))
        .collect();
    links.sort();
    Snapshot {
        sysctls,
        addresses,
        links,
    }
}

#[tokio::test]
async fn tun_real_server_up_and_down() {
    // It changes the namespace's sysctls: never on a host.
    assert_eq!(
        std::env::var("LVSKIT_VM").as_deref(),
        Ok("1"),
        "this test runs in the VM: cargo xtask vm vm_realserver"
    );
    let client = Client::new().unwrap();
    for tunnel in [Tunnel::Ipip, Tunnel::Gre] {
        let dev = tunnel.device();
        assert!(
            client.link(dev).await.is_ok(),
            "{dev} missing: the VM loads ipip and ip_gre at boot"
        );
        let before = snapshot(&client).await;
        let state = std::env::temp_dir().join(format!("realserver-{dev}.state"));
        let vip: IpAddr = "192.0.2.10".parse().unwrap();
        let server = RealServer::new([vip]).tunnel(tunnel).state_file(&state);
        assert_eq!(server.up(&client).await.unwrap(), Change::Changed);
        assert_eq!(server.up(&client).await.unwrap(), Change::Unchanged);
        let link = client.link(dev).await.unwrap();
        assert!(link.up, "{dev} is up");
        let on_dev = client
            .addresses()
            .await
            .unwrap()
            .into_iter()
            .any(|a| a.index == link.index && a.addr == vip && a.prefix_len == 32);
        assert!(on_dev, "the VIP is on {dev} as /32");
        for (d, key, value) in [
            (dev, "rp_filter", "0"),
            ("all", "rp_filter", "0"),
            ("all", "arp_ignore", "1"),
            ("all", "arp_announce", "2"),
            ("lo", "arp_ignore", "1"),
        ] {
            assert_eq!(Client::ipv4_conf(d, key).unwrap(), value, "{d}/{key}");
        }
        assert_eq!(server.down(&client).await.unwrap(), Change::Changed);
        assert!(!state.exists());
        assert_eq!(snapshot(&client).await, before, "{dev}: down restores");
    }
    gue_real_server_receives_for_the_vip_and_down_restores(&client).await;
}

/// The IPv4 header checksum of `header`.
fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// What an LVS director with `tun_type gue` sends: a GUE header (version 0, no options,
/// protocol 4) and the client's packet inside, here a UDP datagram from 198.51.100.7:4000 to
/// `vip`:`port` carrying `payload`.
fn gue_payload(vip: std::net::Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + 8 + payload.len();
    let mut inner = vec![
        0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 7,
    ];
    inner[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    inner.extend_from_slice(&vip.octets());
    let checksum = ipv4_checksum(&inner);
    inner[10..12].copy_from_slice(&checksum.to_be_bytes());
    inner.extend_from_slice(&4000u16.to_be_bytes());
    inner.extend_from_slice(&port.to_be_bytes());
    inner.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    inner.extend_from_slice(&[0, 0]); // no UDP checksum (allowed in IPv4)
    inner.extend_from_slice(payload);
    let mut gue = vec![0x00, 0x00, 0x00, 0x00];
    gue[1] = 4; // proto_ctype: IPPROTO_IPIP
    gue.extend_from_slice(&inner);
    gue
}

/// GUE (run by the test above, after IPIP and GRE: they share `tunl0` and the sysctls): the VIP
/// on `tunl0` and a FOU port; a packet as the director sends it reaches the VIP's service.
async fn gue_real_server_receives_for_the_vip_and_down_restores(client: &Client) {
    use std::net::{Ipv4Addr, UdpSocket};
    use std::time::Duration;
    use vip::fou::{FouPort, fou_ports};

    let before = snapshot(client).await;
    let ports_before = fou_ports().expect("the fou family (the VM loads fou at boot)");
    let vip = Ipv4Addr::new(192, 0, 2, 11);
    let state = std::env::temp_dir().join("realserver-gue.state");
    let server = RealServer::new([IpAddr::V4(vip)])
        .tunnel(Tunnel::Gue(6080))
        .state_file(&state);
    assert_eq!(server.up(client).await.unwrap(), Change::Changed);
    assert_eq!(server.up(client).await.unwrap(), Change::Unchanged);
    assert!(
        fou_ports().unwrap().contains(&FouPort::gue(6080)),
        "{:?}",
        fou_ports()
    );
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.contains("fou-port 6080\n"), "{text}");

    // A packet as the director sends it, to the FOU port: the service on the VIP gets the
    // client's datagram.
    let service = UdpSocket::bind((vip, 9000)).unwrap();
    service
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let director = UdpSocket::bind("192.0.2.1:0").unwrap();
    let packet = gue_payload(vip, 9000, b"through gue");
    director.send_to(&packet, "192.0.2.1:6080").unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = service
        .recv_from(&mut buf)
        .expect("the VIP's service receives the decapsulated datagram");
    assert_eq!(&buf[..n], b"through gue");
    assert_eq!(from, "198.51.100.7:4000".parse().unwrap());

    assert_eq!(server.down(client).await.unwrap(), Change::Changed);
    assert!(!state.exists());
    assert_eq!(fou_ports().unwrap(), ports_before, "down closes the port");
    assert_eq!(snapshot(client).await, before, "down restores");
    assert_eq!(server.down(client).await.unwrap(), Change::Unchanged);
}
