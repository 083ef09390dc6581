//! TCP_CHECK across a veth between two namespaces, as root, where the handshake does not
//! complete inside `connect` (on loopback it does): the probe has to wait, on a socket reused
//! from the pool, and must neither say "up" before the handshake nor miss it when it comes late.
//! (The unit test `pool::tests::a_stale_wake_is_not_a_handshake` forces a stale wake-up.)
//!
//! A slow handshake without sch_netem: the director's neighbour entry for the real server points
//! at a wrong MAC, so the SYN is dropped by the server's interface (a frame for another host);
//! fixing the entry while the probe waits lets the SYN retransmission (1 s) through.

mod common;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use common::{ACK, Director, RST, SYN, segments};
use healthcheck::ConnectOptions;
use testbed::{Capture, Netns, require_root, veth_pair};

const SERVER: &str = "192.0.2.2:80";

fn options(timeout: Duration) -> ConnectOptions {
    ConnectOptions::new(SERVER.parse().unwrap()).connect_timeout(timeout)
}

fn mac_text(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

#[test]
fn a_waiting_probe_on_a_reused_socket_never_says_up_early() {
    require_root();
    let director_ns = Netns::new("hcdir").unwrap();
    let server_ns = Netns::new("hcrs").unwrap();
    veth_pair(&director_ns, "eth0", &server_ns, "eth0").unwrap();
    director_ns.add_addr("eth0", "192.0.2.1/24").unwrap();
    director_ns.add_addr("eth0", "192.0.2.3/24").unwrap();
    server_ns.add_addr("eth0", "192.0.2.2/24").unwrap();
    director_ns.set_up("eth0").unwrap();
    server_ns.set_up("eth0").unwrap();
    let server_mac = mac_text(server_ns.mac("eth0").unwrap());
    let listen = || {
        server_ns
            .run(|| {
                let listener = TcpListener::bind(SERVER).unwrap();
                listener.set_nonblocking(true).unwrap();
                listener
            })
            .unwrap()
    };
    let listener = listen();
    let capture = Capture::start(&server_ns, "eth0").unwrap();
    let director = Director::start(&director_ns);

    // 1. Up, half-open: SYN, SYN-ACK, RST on the wire, never the bare ACK, never an accept.
    let (outcome, _) = director.check(options(Duration::from_secs(3)));
    assert!(outcome.healthy, "{outcome}");
    assert!(
        outcome.reason.starts_with("connected to 192.0.2.2:80 in "),
        "{outcome}"
    );
    let frames = capture.wait_until(Duration::from_secs(2), |f| {
        segments(f).iter().any(|s| s.flags & RST != 0)
    });
    let tcp = segments(&frames);
    let server: SocketAddr = SERVER.parse().unwrap();
    let director_ip: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    assert!(
        tcp.iter()
            .any(|s| (s.from.ip(), s.to, s.flags) == (director_ip, server, SYN)),
        "{tcp:?}"
    );
    assert!(
        tcp.iter().any(|s| s.from == server && s.flags == SYN | ACK),
        "{tcp:?}"
    );
    assert!(
        tcp.iter().any(|s| s.to == server && s.flags & RST != 0),
        "{tcp:?}"
    );
    assert!(
        !tcp.iter().any(|s| s.to == server && s.flags == ACK),
        "no bare ACK: {tcp:?}"
    );
    assert_eq!(
        listener.accept().map_err(|e| e.kind()).unwrap_err(),
        std::io::ErrorKind::WouldBlock,
        "the application never sees a half-open probe"
    );
    capture.take();

    // 2. The SYN cannot arrive: the probe (on the pooled socket) waits, and must time out,
    //    never conclude "up".
    let wrong = [
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        "00:00:5e:00:53:99",
    ];
    let right = [
        "neigh",
        "replace",
        "192.0.2.2",
        "lladdr",
        server_mac.as_str(),
    ];
    let rest = ["dev", "eth0", "nud", "permanent"];
    director_ns.ip(&[&wrong[..], &rest[..]].concat()).unwrap();
    let (outcome, _) = director.check(options(Duration::from_millis(500)));
    assert!(!outcome.healthy, "{outcome}");
    assert_eq!(
        outcome.reason,
        "connect to 192.0.2.2:80: timed out after 500ms"
    );

    // 3. The path heals: up again, on a new socket (the timed-out one was closed)...
    director_ns.ip(&[&right[..], &rest[..]].concat()).unwrap();
    let (outcome, _) = director.check(options(Duration::from_secs(3)));
    assert!(outcome.healthy, "{outcome}");

    // ...which goes back to the pool. Break the path again and heal it while the next probe
    // (on that socket) waits: the retransmitted SYN gets its SYN-ACK, and the probe says up,
    // not before the path was fixed.
    director_ns.ip(&[&wrong[..], &rest[..]].concat()).unwrap();
    director.send(vec![options(Duration::from_secs(5))]);
    let fixed_after = Duration::from_millis(300);
    std::thread::sleep(fixed_after);
    director_ns.ip(&[&right[..], &rest[..]].concat()).unwrap();
    let (outcome, took) = director.outcomes().remove(0);
    assert!(outcome.healthy, "{outcome}");
    assert!(
        outcome.reason.starts_with("connected to 192.0.2.2:80 in "),
        "{outcome}"
    );
    assert!(
        took >= fixed_after,
        "up after {took:?}, before the path was fixed"
    );

    // 4. The server goes away between two probes: refused, with the kernel's words.
    drop(listener);
    let (outcome, _) = director.check(options(Duration::from_secs(3)));
    assert!(!outcome.healthy, "{outcome}");
    assert_eq!(
        outcome.reason,
        "connect to 192.0.2.2:80: Connection refused (os error 111)"
    );

    // 5. And comes back.
    let _listener = listen();
    let (outcome, _) = director.check(options(Duration::from_secs(3)));
    assert!(outcome.healthy, "{outcome}");

    // 6. bindto and bind_port: the SYN leaves from that address and port (fresh socket, not
    //    pooled), still half-open.
    capture.take();
    let mut bound = options(Duration::from_secs(3));
    bound.bindto = Some("192.0.2.3".parse().unwrap());
    bound.bind_port = Some(40_123);
    let (outcome, _) = director.check(bound);
    assert!(outcome.healthy, "{outcome}");
    let frames = capture.wait_until(Duration::from_secs(2), |f| {
        segments(f).iter().any(|s| s.flags & RST != 0)
    });
    let tcp = segments(&frames);
    let source: SocketAddr = "192.0.2.3:40123".parse().unwrap();
    assert!(
        tcp.iter()
            .any(|s| (s.from, s.to, s.flags) == (source, server, SYN)),
        "{tcp:?}"
    );
    assert!(
        tcp.iter()
            .any(|s| s.from == source && s.to == server && s.flags & RST != 0),
        "{tcp:?}"
    );
    assert!(
        !tcp.iter().any(|s| s.to == server && s.flags == ACK),
        "no bare ACK: {tcp:?}"
    );
}
