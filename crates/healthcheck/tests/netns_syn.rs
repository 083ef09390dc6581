//! TCP_CHECK's raw SYN probe, as root, between two namespaces, read off the wire.
//!
//! With CAP_NET_RAW a TCP_CHECK without `bind_port` sends its SYN on a raw socket (24-byte TCP
//! header: the MSS option only) and leaves the RST to the kernel; a socket's SYN (the pooled
//! probe, and the fallback) carries 40 bytes of header (MSS, SACK, timestamps, window scale). So
//! the header length tells which probe went out, and the server's SYN-ACK tells that our
//! checksum, source address and mark were right.

mod common;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use common::{ACK, Director, RST, SYN, Segment, segments};
use healthcheck::{Checker, ConnectOptions, Outcome, TcpCheck};
use testbed::{CAP_NET_RAW, Capture, Frame, Netns, drop_capability, require_root, veth_pair};

/// The tests share the process-wide raw-probe switch: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One TCP_CHECK of `target`, 3 s at most.
async fn check(target: &str) -> Outcome {
    TcpCheck::new(options(target, Duration::from_secs(3)))
        .check()
        .await
}

fn options(target: &str, timeout: Duration) -> ConnectOptions {
    ConnectOptions::new(target.parse().unwrap()).connect_timeout(timeout)
}

struct Lab {
    director_ns: Netns,
    server_ns: Netns,
    capture: Capture,
    director: Director,
    /// Every frame [`Lab::wire`] took, for tshark.
    seen: std::cell::RefCell<Vec<Frame>>,
    /// The test holds the raw-probe switch as long as its lab lives.
    _serial: std::sync::MutexGuard<'static, ()>,
}

/// Two namespaces joined by a veth (the director 192.0.2.1, .3 and 2001:db8::1; the server
/// 192.0.2.2 and 2001:db8::2), a capture on the server's side, and the director thread: as
/// root, one test at a time.
fn lab() -> Lab {
    require_root();
    let serial = serial();
    let director_ns = Netns::new("syndir").unwrap();
    let server_ns = Netns::new("synrs").unwrap();
    veth_pair(&director_ns, "eth0", &server_ns, "eth0").unwrap();
    for cidr in ["192.0.2.1/24", "192.0.2.3/24", "2001:db8::1/64"] {
        director_ns.add_addr("eth0", cidr).unwrap();
    }
    for cidr in ["192.0.2.2/24", "2001:db8::2/64"] {
        server_ns.add_addr("eth0", cidr).unwrap();
    }
    director_ns.set_up("eth0").unwrap();
    server_ns.set_up("eth0").unwrap();
    let capture = Capture::start(&server_ns, "eth0").unwrap();
    let director = Director::start(&director_ns);
    Lab {
        director_ns,
        server_ns,
        capture,
        director,
        seen: std::cell::RefCell::new(Vec::new()),
        _serial: serial,
    }
}

impl Lab {
    /// Runs `f` on a new thread in the director's namespace, with a current-thread runtime of
    /// its own (so a prober of its own), and returns what `f` returns.
    fn on_a_director_thread<R: Send + 'static>(
        &self,
        f: impl FnOnce(&tokio::runtime::Runtime) -> R + Send + 'static,
    ) -> R {
        self.director_ns
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                f(&runtime)
            })
            .unwrap()
            .join()
            .unwrap()
            .unwrap()
    }

    /// A busy service on the server, 192.0.2.2:8080, that accepts and closes (on a thread of
    /// its own, for the rest of the test process).
    fn busy_service(&self) {
        let (bound, is_bound) = std::sync::mpsc::channel();
        self.server_ns
            .spawn(move || {
                let busy = TcpListener::bind("192.0.2.2:8080").unwrap();
                bound.send(()).unwrap();
                for stream in busy.incoming() {
                    drop(stream);
                }
            })
            .unwrap();
        is_bound.recv().unwrap();
    }

    fn listen(&self, addr: &str) -> TcpListener {
        let addr: SocketAddr = addr.parse().unwrap();
        self.server_ns
            .run(move || {
                let listener = TcpListener::bind(addr).unwrap();
                listener.set_nonblocking(true).unwrap();
                listener
            })
            .unwrap()
    }

    /// The segments of the probes to `server`, once its RST (or `count` of them) went by.
    fn wire(&self, server: SocketAddr, resets: usize) -> Vec<Segment> {
        let frames = self.capture.wait_until(Duration::from_secs(3), |f| {
            segments(f)
                .iter()
                .filter(|s| s.to == server && s.flags & RST != 0)
                .count()
                >= resets
        });
        self.capture.take();
        self.seen.borrow_mut().extend(frames.iter().cloned());
        segments(&frames)
            .into_iter()
            .filter(|s| s.to == server || s.from == server)
            .collect()
    }
}

/// One connection of another socket of the director to the busy service, reset at once: its
/// SYN-ACK reaches the host like a probe's answer. Load, not a subject: a connection that fails
/// (now and then a source port is reused before the server is done with it, and the server
/// resets it) is just one SYN-ACK fewer.
fn connect_to_the_busy_service() {
    if let Ok(stream) = std::net::TcpStream::connect("192.0.2.2:8080") {
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    }
}

fn assert_up(outcome: &Outcome, target: &str) {
    assert!(outcome.healthy, "{outcome}");
    assert!(
        outcome
            .reason
            .starts_with(&format!("connected to {target} in ")),
        "{outcome}"
    );
}

/// SYN (ours: 24-byte header) from `source`, SYN-ACK, the kernel's bare RST, and no ACK.
fn assert_raw_half_open(wire: &[Segment], source: IpAddr, server: SocketAddr) -> u16 {
    let syn = wire
        .iter()
        .find(|s| s.to == server && s.flags == SYN)
        .unwrap_or_else(|| panic!("no SYN: {wire:?}"));
    assert_eq!(syn.from.ip(), source, "{wire:?}");
    assert_eq!(syn.header_len, 24, "the raw probe's SYN: {wire:?}");
    assert!(
        wire.iter()
            .any(|s| s.from == server && s.to == syn.from && s.flags == SYN | ACK),
        "{wire:?}"
    );
    assert!(
        wire.iter()
            .any(|s| s.from == syn.from && s.to == server && s.flags == RST),
        "the kernel's RST: {wire:?}"
    );
    assert!(
        !wire.iter().any(|s| s.to == server && s.flags == ACK),
        "no bare ACK: {wire:?}"
    );
    syn.from.port()
}

#[test]
fn the_raw_probe_on_the_wire_ipv4_and_ipv6() {
    let lab = lab();
    let v4 = "192.0.2.2:80";
    let v6 = "[2001:db8::2]:80";
    let listener4 = lab.listen(v4);
    let listener6 = lab.listen(v6);
    let director_ip: IpAddr = "192.0.2.1".parse().unwrap();

    // Up, half-open, three times: our SYN each time from another of our ports.
    let mut ports = Vec::new();
    for _ in 0..3 {
        assert_up(
            &lab.director.check(options(v4, Duration::from_secs(3))).0,
            v4,
        );
        let wire = lab.wire(v4.parse().unwrap(), 1);
        ports.push(assert_raw_half_open(
            &wire,
            director_ip,
            v4.parse().unwrap(),
        ));
    }
    ports.dedup();
    assert_eq!(
        ports.len(),
        3,
        "successive probes use different ports: {ports:?}"
    );

    // IPv6: the kernel writes the checksum and picks the source.
    assert_up(
        &lab.director.check(options(v6, Duration::from_secs(3))).0,
        v6,
    );
    let wire = lab.wire(v6.parse().unwrap(), 1);
    assert_raw_half_open(&wire, "2001:db8::1".parse().unwrap(), v6.parse().unwrap());

    // bindto: our checksum over the other source address.
    let mut bound = options(v4, Duration::from_secs(3));
    bound.bindto = Some("192.0.2.3".parse().unwrap());
    assert_up(&lab.director.check(bound).0, v4);
    let wire = lab.wire(v4.parse().unwrap(), 1);
    assert_raw_half_open(&wire, "192.0.2.3".parse().unwrap(), v4.parse().unwrap());

    // fwmark: marked probes follow a rule whose route prefers 192.0.2.3, so the mark reached
    // both the source lookup and the SYN.
    lab.director_ns
        .ip_batch(
            "route add 192.0.2.2/32 dev eth0 src 192.0.2.3 table 100\n\
             rule add fwmark 7 table 100\n",
        )
        .unwrap();
    let mut marked = options(v4, Duration::from_secs(3));
    marked.fwmark = Some(7);
    assert_up(&lab.director.check(marked.clone()).0, v4);
    let wire = lab.wire(v4.parse().unwrap(), 1);
    assert_raw_half_open(&wire, "192.0.2.3".parse().unwrap(), v4.parse().unwrap());
    // And a mark whose table has no way there fails as connect would.
    lab.director_ns
        .ip_batch(
            "route add unreachable 192.0.2.2/32 table 101\n\
             rule add fwmark 8 table 101\n",
        )
        .unwrap();
    marked.fwmark = Some(8);
    let outcome = lab.director.check(marked.clone()).0;
    assert!(!outcome.healthy, "{outcome}");
    assert!(
        outcome.reason.starts_with("connect to 192.0.2.2:80: "),
        "{outcome}"
    );
    marked.bindto = Some("192.0.2.1".parse().unwrap());
    let outcome = lab.director.check(marked).0;
    assert!(
        !outcome.healthy,
        "the mark applies to the SYN itself: {outcome}"
    );
    lab.capture.take();

    // Nobody ever accepted a probe.
    for listener in [&listener4, &listener6] {
        assert_eq!(
            listener.accept().map_err(|e| e.kind()).unwrap_err(),
            std::io::ErrorKind::WouldBlock
        );
    }

    // tshark checks the checksums of our SYNs (IPv4: ours; IPv6: the kernel's).
    let pcap = std::env::temp_dir().join(format!("lvskit-syn-{}.pcap", std::process::id()));
    testbed::write_pcap(&pcap, &lab.seen.borrow()).unwrap();
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "ip.check_checksum:TRUE",
        ])
        .args([
            "-Y",
            "tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.hdr_len == 24",
        ])
        .args([
            "-T",
            "fields",
            "-e",
            "ip.version",
            "-e",
            "ipv6.version",
            "-e",
            "tcp.checksum.status",
            "-e",
            "tcp.options.mss_val",
        ])
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("tshark (cargo xtask test installs it)");
    let _ = std::fs::remove_file(&pcap);
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rows.len() >= 6, "our SYNs as tshark reads them: {rows:?}");
    assert!(rows.iter().any(|r| r[1] == "6"), "an IPv6 SYN: {rows:?}");
    for row in &rows {
        assert_eq!(row[2], "1", "checksum good (1): {rows:?}");
        let mss = if row[1] == "6" { "1440" } else { "1460" };
        assert_eq!(row[3], mss, "{rows:?}");
    }

    // Refused: the server's RST-ACK, in the kernel's words.
    drop(listener4);
    drop(listener6);
    for target in [v4, v6] {
        let outcome = lab
            .director
            .check(options(target, Duration::from_secs(3)))
            .0;
        assert!(!outcome.healthy, "{outcome}");
        assert_eq!(
            outcome.reason,
            format!("connect to {target}: Connection refused (os error 111)")
        );
    }
}

#[test]
fn no_answer_times_out_and_a_target_busy_on_every_port_falls_back_to_a_socket() {
    let lab = lab();
    let server: SocketAddr = "192.0.2.2:80".parse().unwrap();
    let _listener = lab.listen("192.0.2.2:80");
    // Every SYN is lost: the director's neighbour entry for the server names another host, so
    // the server's interface drops the frames (the capture still sees them).
    lab.director_ns
        .ip(&[
            "neigh",
            "replace",
            "192.0.2.2",
            "lladdr",
            "00:00:5e:00:53:99",
            "dev",
            "eth0",
            "nud",
            "permanent",
        ])
        .unwrap();

    // One probe: SYN, the retransmission after 1 s, then the time limit.
    let outcomes = lab
        .director
        .check_all(vec![options("192.0.2.2:80", Duration::from_millis(1500))]);
    let (outcome, took) = &outcomes[0];
    assert!(!outcome.healthy, "{outcome}");
    assert_eq!(
        outcome.reason,
        "connect to 192.0.2.2:80: timed out after 1.500s"
    );
    assert!(*took >= Duration::from_millis(1500), "{took:?}");
    let wire = segments(&lab.capture.take());
    let syns: Vec<_> = wire
        .iter()
        .filter(|s| s.to == server && s.flags == SYN)
        .collect();
    assert_eq!(syns.len(), 2, "the SYN and its retransmission: {wire:?}");
    assert_eq!(syns[0].from, syns[1].from, "{wire:?}");
    assert!(syns.iter().all(|s| s.header_len == 24), "{wire:?}");

    // 65 probes of one target at once: 64 on our ports, the 65th on a socket.
    let outcomes = lab.director.check_all(
        (0..65)
            .map(|_| options("192.0.2.2:80", Duration::from_millis(300)))
            .collect(),
    );
    assert!(outcomes.iter().all(|(o, _)| !o.healthy));
    let wire = segments(&lab.capture.take());
    let raw: std::collections::BTreeSet<u16> = wire
        .iter()
        .filter(|s| s.to == server && s.flags == SYN && s.header_len == 24)
        .map(|s| s.from.port())
        .collect();
    let kernel = wire
        .iter()
        .filter(|s| s.to == server && s.flags == SYN && s.header_len > 24)
        .count();
    assert_eq!(raw.len(), 64, "{wire:?}");
    assert_eq!(kernel, 1, "{wire:?}");
}

#[test]
fn with_raw_probes_off_the_probe_is_a_kernel_socket() {
    let lab = lab();
    let server: SocketAddr = "192.0.2.2:80".parse().unwrap();
    let _listener = lab.listen("192.0.2.2:80");
    healthcheck::tcp::set_raw_probes(false);
    let outcome = lab
        .director
        .check(options("192.0.2.2:80", Duration::from_secs(3)))
        .0;
    healthcheck::tcp::set_raw_probes(true);
    assert_up(&outcome, "192.0.2.2:80");
    let wire = lab.wire(server, 1);
    let syn = wire
        .iter()
        .find(|s| s.to == server && s.flags == SYN)
        .unwrap_or_else(|| panic!("no SYN: {wire:?}"));
    assert!(
        syn.header_len > 24,
        "a socket's SYN carries more options: {wire:?}"
    );
    // The socket resets the connection itself (RST-ACK in reply to the SYN-ACK's sequence).
    assert!(
        wire.iter()
            .any(|s| s.from == syn.from && s.flags & RST != 0),
        "{wire:?}"
    );
    assert!(healthcheck::tcp::raw_probes());
    // And back on: the raw probe again.
    assert_up(
        &lab.director
            .check(options("192.0.2.2:80", Duration::from_secs(3)))
            .0,
        "192.0.2.2:80",
    );
    let wire = lab.wire(server, 1);
    assert_raw_half_open(&wire, "192.0.2.1".parse().unwrap(), server);
}

#[test]
fn other_connections_of_the_host_never_fill_the_probe_socket() {
    let lab = lab();
    let _listener = lab.listen("192.0.2.2:80");
    lab.busy_service();
    let outcomes = lab.on_a_director_thread(|runtime| {
        let probe = || {
            let started = Instant::now();
            let outcome = runtime.block_on(check("192.0.2.2:80"));
            (outcome, started.elapsed())
        };
        let first = probe();
        // 5,000 connections of other sockets on this thread: their SYN-ACKs reach the host,
        // more than the raw socket's queue would hold, and no probe reads it meanwhile.
        for _ in 0..5_000 {
            connect_to_the_busy_service();
        }
        (first, probe())
    });
    let ((first, _), (second, took)) = outcomes;
    assert_up(&first, "192.0.2.2:80");
    assert_up(&second, "192.0.2.2:80");
    assert!(
        took < Duration::from_millis(500),
        "answered at once, not after a retransmission: {took:?}"
    );
}

#[test]
fn without_cap_net_raw_the_probe_is_a_kernel_socket() {
    let lab = lab();
    let server: SocketAddr = "192.0.2.2:80".parse().unwrap();
    let _listener = lab.listen("192.0.2.2:80");
    let outcomes = lab.on_a_director_thread(|runtime| {
        drop_capability(CAP_NET_RAW);
        (0..2)
            .map(|_| runtime.block_on(check("192.0.2.2:80")))
            .collect::<Vec<_>>()
    });
    for outcome in &outcomes {
        assert_up(outcome, "192.0.2.2:80");
    }
    let wire = lab.wire(server, 2);
    let syns: Vec<_> = wire
        .iter()
        .filter(|s| s.to == server && s.flags == SYN)
        .collect();
    assert_eq!(syns.len(), 2, "{wire:?}");
    assert!(
        syns.iter().all(|s| s.header_len > 24),
        "a socket's SYNs: {wire:?}"
    );
}

#[test]
fn without_a_block_of_ports_a_reader_keeps_the_queue_clear() {
    let lab = lab();
    let server: SocketAddr = "192.0.2.2:80".parse().unwrap();
    let _listener = lab.listen("192.0.2.2:80");
    lab.busy_service();
    // 201 ephemeral ports, every 60th taken: no 64 consecutive ones are free, so the prober
    // holds 64 the kernel picks, and its filter cannot name them. (The other 134 leave the
    // connections below room enough not to reuse a port the server has not finished with.)
    lab.director_ns
        .sysctl("net.ipv4.ip_local_port_range", "40000 40200")
        .unwrap();
    let _taken = lab
        .director_ns
        .run(|| [40_060, 40_120, 40_180].map(|port| TcpListener::bind(("0.0.0.0", port)).unwrap()))
        .unwrap();
    // Other sockets of the host connect again and again (thousands a second) while a runtime
    // runs probes.
    let others = lab
        .director_ns
        .spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(2_200) {
                connect_to_the_busy_service();
            }
        })
        .unwrap();
    let probes = lab
        .director_ns
        .spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut results = Vec::new();
                // Far enough apart that more answers of the others come in between two probes
                // than the socket's queue holds.
                for _ in 0..8 {
                    let started = Instant::now();
                    let outcome = TcpCheck::new(options("192.0.2.2:80", Duration::from_secs(3)))
                        .check()
                        .await;
                    results.push((outcome, started.elapsed()));
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                results
            })
        })
        .unwrap();
    others.join().unwrap().unwrap();
    let results = probes.join().unwrap().unwrap();
    for (outcome, took) in &results {
        assert_up(outcome, "192.0.2.2:80");
        assert!(
            *took < Duration::from_millis(500),
            "answered at once, not after a retransmission: {took:?}"
        );
    }
    let wire = segments(&lab.capture.take());
    let raw: Vec<_> = wire
        .iter()
        .filter(|s| s.to == server && s.flags == SYN)
        .collect();
    assert_eq!(raw.len(), 8, "{wire:?}");
    assert!(
        raw.iter().all(|s| s.header_len == 24),
        "raw probes: {raw:?}"
    );
}

#[test]
fn waiting_probes_on_a_multi_thread_runtime_are_all_answered() {
    let lab = lab();
    let targets = [
        "192.0.2.2:80",
        "192.0.2.2:81",
        "192.0.2.2:82",
        "192.0.2.2:83",
    ];
    let _listeners: Vec<_> = targets.iter().map(|t| lab.listen(t)).collect();
    let server_mac = lab
        .server_ns
        .mac("eth0")
        .unwrap()
        .map(|b| format!("{b:02x}"))
        .join(":");
    let neighbour = |mac: &str| {
        lab.director_ns
            .ip(&[
                "neigh",
                "replace",
                "192.0.2.2",
                "lladdr",
                mac,
                "dev",
                "eth0",
                "nud",
                "permanent",
            ])
            .unwrap();
    };
    // The SYNs are lost until the path is fixed, so every probe waits for its retransmission.
    neighbour("00:00:5e:00:53:99");
    let probes = lab
        .director_ns
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let tasks: Vec<_> = (0..160)
                    .map(|i| {
                        let target = targets[i % targets.len()];
                        tokio::spawn(async move {
                            let started = Instant::now();
                            let outcome = TcpCheck::new(options(target, Duration::from_secs(5)))
                                .check()
                                .await;
                            (target, outcome, started.elapsed())
                        })
                    })
                    .collect();
                let mut results = Vec::new();
                for task in tasks {
                    results.push(task.await.unwrap());
                }
                results
            })
        })
        .unwrap();
    let fixed_after = Duration::from_millis(300);
    std::thread::sleep(fixed_after);
    neighbour(&server_mac);
    let results = probes.join().unwrap().unwrap();
    for (target, outcome, took) in &results {
        assert_up(outcome, target);
        assert!(
            *took >= fixed_after,
            "up before the path was fixed: {took:?}"
        );
    }
    let wire = segments(&lab.capture.take());
    let probes: std::collections::BTreeSet<(SocketAddr, SocketAddr)> = wire
        .iter()
        .filter(|s| s.flags == SYN && s.header_len == 24)
        .map(|s| (s.from, s.to))
        .collect();
    assert_eq!(probes.len(), 160, "one raw probe each: {wire:?}");
}
