//! The testbed itself, for real: namespaces, veth pairs, bridges, addresses, routes, closures and
//! commands inside a namespace, capture, and cleanup (also after a panic). Needs root.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use testbed::{
    Capture, Error, Netns, bridge_port, require_root, tshark_fields, veth_pair, write_pcap,
};

/// Sends one UDP datagram from `from` (bound to `src`) to `dst` in `to`, and says whether it
/// arrived.
fn udp_reaches(from: &Netns, src: &str, to: &Netns, dst: &str) -> bool {
    let dst = SocketAddr::new(dst.parse().unwrap(), 7777);
    let receiver = to.udp_bind(dst).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    from.udp_send(Some(src.parse().unwrap()), dst, b"testbed")
        .unwrap();
    let mut buf = [0; 16];
    matches!(receiver.recv(&mut buf), Ok(7)) && &buf[..7] == b"testbed"
}

fn namespace_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

#[test]
fn udp_crosses_a_veth_pair_and_the_capture_sees_it() {
    require_root();
    let left = Netns::new("left").unwrap();
    let right = Netns::new("right").unwrap();
    assert_ne!(left.name(), right.name());
    veth_pair(&left, "eth0", &right, "eth0").unwrap();
    left.add_addr("eth0", "192.0.2.1/24").unwrap();
    right.add_addr("eth0", "192.0.2.2/24").unwrap();
    left.add_addr("eth0", "2001:db8::1/64").unwrap();
    right.add_addr("eth0", "2001:db8::2/64").unwrap();
    left.set_up("eth0").unwrap();
    right.set_up("eth0").unwrap();

    // Taken before the capture starts: IPv6 autoconfiguration frames (router solicitation,
    // MLD) may arrive as soon as the socket is bound.
    let before = std::time::SystemTime::now();
    let capture = Capture::start(&right, "eth0").unwrap();
    assert!(udp_reaches(&left, "192.0.2.1", &right, "192.0.2.2"));
    assert!(udp_reaches(&left, "2001:db8::1", &right, "2001:db8::2"));
    let frames = capture.stop();
    let after = std::time::SystemTime::now();
    assert!(
        frames
            .iter()
            .all(|f| f.timestamp >= before && f.timestamp <= after),
        "kernel timestamps outside the test's own time"
    );
    assert!(frames.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    let left_mac = left.mac("eth0").unwrap();
    let incoming_from_left = frames.iter().filter(|f| f.data[6..12] == left_mac).count();
    assert!(incoming_from_left >= 2, "captured {frames:#?}");
    // ARP, then the IPv4 datagram, and the IPv6 one (after neighbour discovery).
    assert!(frames.iter().any(|f| f.ethertype() == 0x0806));
    assert!(frames.iter().any(|f| f.ethertype() == 0x0800));
    assert!(frames.iter().any(|f| f.ethertype() == 0x86dd));

    // The peer learnt left's MAC.
    let learnt = right.neighbour_mac("192.0.2.1".parse().unwrap()).unwrap();
    assert_eq!(learnt, Some(left_mac));

    // tshark reads what we wrote.
    let dir = std::env::temp_dir().join(format!("testbed-{}", right.name()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("ping.pcap");
    write_pcap(&pcap, &frames).unwrap();
    let rows = tshark_fields(&pcap, "udp && ip", &["ip.src", "ip.dst"]).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        rows,
        vec![vec!["192.0.2.1".to_string(), "192.0.2.2".to_string()]]
    );
}

#[test]
fn a_closure_runs_inside_the_namespace_and_its_sockets_stay_there() {
    require_root();
    let ns = Netns::new("closure").unwrap();
    veth_pair(&ns, "va", &ns, "vb").unwrap();
    let index = ns.ifindex("vb").unwrap();
    // The closure sees the namespace's interfaces, the test thread does not.
    let seen = ns
        .run(|| {
            let name = std::ffi::CString::new("vb").unwrap();
            // SAFETY: `name` is a valid C string.
            unsafe { libc::if_nametoindex(name.as_ptr()) }
        })
        .unwrap();
    assert_eq!(seen, index);
    // A socket bound inside the namespace to its address works after the closure returned.
    ns.add_addr("lo", "203.0.113.9/32").unwrap();
    let socket = ns
        .run(|| std::net::UdpSocket::bind("203.0.113.9:0"))
        .unwrap()
        .unwrap();
    assert!(
        std::net::UdpSocket::bind("203.0.113.9:0").is_err(),
        "the address is not in the test's own namespace"
    );
    let port = socket.local_addr().unwrap().port();
    let sender = ns
        .run(|| std::net::UdpSocket::bind("203.0.113.9:0"))
        .unwrap()
        .unwrap();
    sender.send_to(b"hello", ("203.0.113.9", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0; 16];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");

    // A panic inside the closure is an error, not a crash.
    let err = ns.run(|| panic!("boom")).unwrap_err();
    assert!(
        matches!(err, Error::Panicked { ref message, .. } if message == "boom"),
        "{err}"
    );
}

#[test]
fn a_bridge_joins_three_namespaces_and_routes_reach_beyond_it() {
    require_root();
    let hub = Netns::new("hub").unwrap();
    let a = Netns::new("a").unwrap();
    let b = Netns::new("b").unwrap();
    hub.add_bridge("br0").unwrap();
    for (peer, port) in [(&a, "pa"), (&b, "pb")] {
        veth_pair(&hub, port, peer, "eth0").unwrap();
        bridge_port(&hub, port, "br0").unwrap();
        peer.set_up("eth0").unwrap();
    }
    a.add_addr("eth0", "198.51.100.1/24").unwrap();
    b.add_addr("eth0", "198.51.100.2/24").unwrap();
    // b owns 203.0.113.5 on its loopback; a reaches it through a route via b.
    b.add_addr("lo", "203.0.113.5/32").unwrap();
    a.add_route("203.0.113.0/24", "198.51.100.2".parse::<IpAddr>().unwrap())
        .unwrap();
    assert!(udp_reaches(&a, "198.51.100.1", &b, "203.0.113.5"));
    // Commands run inside the namespace see its interfaces.
    let out = a.command("ip").args(["-br", "addr"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("198.51.100.1/24"),
        "{text}"
    );
    assert!(!text.contains("198.51.100.2"), "{text}");
}

#[test]
fn addresses_outside_the_documentation_ranges_are_refused() {
    require_root();
    let ns = Netns::new("refuse").unwrap();
    let err = ns.add_addr("lo", "10.1.2.3/8").unwrap_err();
    assert!(matches!(err, Error::AddressNotAllowed(_)), "{err}");
    let err = ns
        .add_route("192.0.2.0/24", "8.8.8.8".parse().unwrap())
        .unwrap_err();
    assert!(matches!(err, Error::AddressNotAllowed(_)), "{err}");
    assert!(
        !ns.ip(&["addr", "show", "dev", "lo"])
            .unwrap()
            .contains("10.1.2.3")
    );
    let err = ns
        .udp_send(None, "9.9.9.9:53".parse().unwrap(), b"no")
        .unwrap_err();
    assert!(matches!(err, Error::AddressNotAllowed(_)), "{err}");
    // A failing `ip` command says what it ran and why it failed.
    let err = ns.set_up("nosuchif").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("nosuchif") && text.contains(ns.name()),
        "{text}"
    );
    let err = veth_pair(&ns, "a-name-that-is-too-long", &ns, "b").unwrap_err();
    assert!(matches!(err, Error::BadInterfaceName(_)), "{err}");
}

#[test]
fn namespaces_are_deleted_on_drop_even_when_a_test_panics() {
    require_root();
    let ns = Netns::new("dropped").unwrap();
    let name = ns.name().to_string();
    assert!(namespace_exists(&name));
    drop(ns);
    assert!(!namespace_exists(&name));

    let (tx, rx) = std::sync::mpsc::channel();
    let result = std::thread::spawn(move || {
        let ns = Netns::new("panics").unwrap();
        tx.send(ns.name().to_string()).unwrap();
        panic!("the test failed");
    })
    .join();
    assert!(result.is_err());
    let name = rx.recv().unwrap();
    assert!(!namespace_exists(&name), "{name} left behind after a panic");
}

/// Deletes a namespace made by hand on drop, so this test leaves nothing behind either.
struct HandMade(String);

impl HandMade {
    /// `ip netns add NAME`. A test process starting in parallel may reap an orphan's name while
    /// `ip` is still creating it, which makes `ip` fail: then it is tried again (a process reaps
    /// only once, so this ends).
    fn new(name: String) -> Self {
        for _ in 0..20 {
            let status = std::process::Command::new("ip")
                .args(["netns", "add", &name])
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            if status.success() {
                return Self(name);
            }
        }
        panic!("ip netns add {name} failed 20 times");
    }
}

impl Drop for HandMade {
    fn drop(&mut self) {
        if namespace_exists(&self.0) {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", &self.0])
                .status();
        }
    }
}

#[test]
fn namespaces_of_killed_test_processes_are_reaped() {
    require_root();
    let own = Netns::new("own").unwrap();
    // A process that has ended, as a test killed by a timeout would have.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let orphan = HandMade::new(format!("lvk-orphan-{dead_pid}-0"));
    // One of a process that still runs (pid 1).
    let alive = HandMade::new("lvk-alive-1-0".to_string());

    // (A test process starting in parallel may reap the orphan first: either way it is gone.)
    let reaped = testbed::reap_orphans();
    assert!(
        !namespace_exists(&orphan.0),
        "orphan left; reaped {reaped:?}"
    );
    assert!(
        namespace_exists(&alive.0),
        "a running process's namespace was deleted"
    );
    assert!(
        namespace_exists(own.name()),
        "this process's namespace was deleted"
    );
    assert!(!reaped.contains(&alive.0) && !reaped.iter().any(|n| n == own.name()));
}
