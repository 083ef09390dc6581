//! The LVS-TUN real server against a kernel with the tunnel drivers (`cargo xtask vm
//! vm_realserver`; the host kernel of this project has none, see `netns_realserver`): the VIP on
//! `tunl0` / `gre0`, brought up, `rp_filter` relaxed and the ARP sysctls set; `up` twice changes
//! nothing more; `down` puts every sysctl, address and link state back.
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
}
