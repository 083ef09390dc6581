//! `cargo xtask bench lb`: the load-balancer figures of BENCHMARKS.md, measured in the VM with
//! the real kernel (release build), for keepalived#2318's size: 2,300 virtual servers and 37,000
//! real servers (`lvskit_benches::big_config`, generated here, never committed).
//!
//! - start-up against an empty table and against a full one (a restart: adoption): time from
//!   spawning `lvskitd -C` to its "started" line, and the netlink requests it says it sent;
//! - reload with one weight changed: lvskitd's own "reloaded in" time (from the SIGHUP it took
//!   to the batch acknowledged) and requests, and the time from `kill -HUP` to that line;
//! - RSS of lvskitd (VmRSS, VmHWM) and its growth over many reloads;
//! - with the 37,000 TCP_CHECKs passing (198.51.100.0/24 routed to `lo`, listeners on the ten
//!   ports): RSS and CPU seconds of `lvskitd -C` and `keepalived -C` with the same file, one
//!   after the other in the same VM; keepalived's time to a full table; keepalived's reload of the
//!   same one-weight change, timed until `ipvsadm` shows it.
//!
//! The first figures use the file without its checkers (a real server without a checker is up):
//! 37,000 checks against the VM's one TCG CPU would otherwise be what is measured. Ignored in the
//! normal VM suite (minutes under TCG); it still checks what it measures: the table is complete,
//! the reload is one request, adoption changes nothing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lvskit_benches::{REAL_SERVERS, VIRTUAL_SERVERS, big_config};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");
const KEEPALIVED: &str = "/usr/sbin/keepalived";

fn ipvsadm(args: &[&str]) -> String {
    let out = Command::new("ipvsadm").args(args).output().unwrap();
    assert!(out.status.success(), "ipvsadm {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (services, destinations) in the kernel's table.
fn table_size() -> (usize, usize) {
    let text = ipvsadm(&["-Ln"]);
    let services = text
        .lines()
        .filter(|l| l.starts_with("TCP") || l.starts_with("UDP") || l.starts_with("FWM"))
        .count();
    let dests = text.lines().filter(|l| l.starts_with("  ->")).count() - 1;
    (services, dests)
}

/// The configuration without its checkers, for `lvskitd -C` (its VRRP blocks are ignored).
fn without_checks(text: &str) -> String {
    text.replace(
        "        TCP_CHECK {\n            connect_timeout 3\n            retry 3\n            delay_before_retry 3\n        }\n",
        "",
    )
}

/// The first real server of the first virtual server to weight `w` (it is 1 in the file).
fn with_weight(text: &str, w: u32) -> String {
    text.replacen("        weight 1\n", &format!("        weight {w}\n"), 1)
}

/// The kernel's weight of the real server [`with_weight`] changes.
fn first_weight() -> u32 {
    let text = ipvsadm(&["-Ln", "-t", "203.0.113.1:8000"]);
    let line = text
        .lines()
        .find(|l| l.contains("198.51.100.1:8000"))
        .unwrap_or_else(|| panic!("{text}"));
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

fn wait_for<T>(what: &str, bound: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(start.elapsed() < bound, "{what}: not within {bound:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB.
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `after` starts at field 3.
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks as f64 / hz
}

/// Every process whose command is `name`.
fn pids_named(name: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_to_string(entry.path().join("comm")).is_ok_and(|c| c.trim() == name) {
            pids.push(pid);
        }
    }
    pids
}

/// A Rust `Duration` as `{:?}` prints it, in milliseconds.
fn debug_ms(text: &str) -> f64 {
    let units = [("ns", 1e-6), ("µs", 1e-3), ("ms", 1.0), ("s", 1e3)];
    for (unit, scale) in units {
        if let Some(number) = text.strip_suffix(unit)
            && let Ok(v) = number.parse::<f64>()
        {
            return v * scale;
        }
    }
    panic!("not a duration: {text:?}")
}

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(conf: &Path, log: &Path, extra: &[&str]) -> Self {
        let file = std::fs::File::create(log).unwrap();
        let child = Command::new(LVSKITD)
            .args(["-C", "-n", "-f"])
            .arg(conf)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Self {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(self.pid() as i32, sig) }, 0);
    }

    /// Waits for the "started" line: (time since `since`, requests to converge).
    fn started(&self, since: Instant) -> (Duration, u64) {
        let line = wait_for("lvskitd started", Duration::from_secs(600), || {
            self.log()
                .lines()
                .find(|l| l.contains("started: "))
                .map(str::to_owned)
        });
        let took = since.elapsed();
        let requests = line
            .split(", ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        (took, requests)
    }

    /// Sends SIGHUP and waits for the next "reloaded in" line: (lvskitd's time in ms,
    /// requests, ms from the kill to the line seen).
    fn reload(&self) -> (f64, u64, f64) {
        let before = self.log().matches("reloaded in ").count();
        let sent = Instant::now();
        self.signal(libc::SIGHUP);
        let line = wait_for("lvskitd reloaded", Duration::from_secs(600), || {
            let log = self.log();
            (log.matches("reloaded in ").count() > before).then(|| {
                log.lines()
                    .rfind(|l| l.contains("reloaded in "))
                    .unwrap()
                    .to_owned()
            })
        });
        let seen = sent.elapsed().as_secs_f64() * 1e3;
        let rest = line.split("reloaded in ").nth(1).unwrap();
        let mut words = rest.split_whitespace();
        let took = debug_ms(words.next().unwrap());
        let requests = words.nth(1).and_then(|n| n.parse().ok()).unwrap();
        (took, requests, seen)
    }

    fn stop(mut self) {
        self.signal(libc::SIGTERM);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "lvskitd: {status}\n{}", self.log());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "minutes under TCG: cargo xtask bench lb"]
fn lvskitd_load_balancer_figures() {
    let dir = std::env::temp_dir().join("vm_lvskitd_bench");
    std::fs::create_dir_all(&dir).unwrap();
    let big = big_config();
    let plain = without_checks(&big);
    assert_eq!(plain.matches("TCP_CHECK").count(), 0);
    let conf = dir.join("big.conf");
    let log = dir.join("lvskitd.log");
    let full = (VIRTUAL_SERVERS, REAL_SERVERS);
    println!(
        "bench: config {VIRTUAL_SERVERS} virtual servers, {REAL_SERVERS} real servers, {} bytes",
        big.len()
    );

    // Start-up against an empty table.
    ipvsadm(&["-C"]);
    std::fs::write(&conf, &plain).unwrap();
    let t0 = Instant::now();
    let daemon = Daemon::start(&conf, &log, &[]);
    let (took, requests) = daemon.started(t0);
    assert_eq!(table_size(), full);
    println!(
        "bench: lvskitd start, empty table: {:.0} ms to converged, {requests} netlink requests",
        took.as_secs_f64() * 1e3
    );
    let (rss0, hwm0) = rss(daemon.pid());
    println!("bench: lvskitd RSS without checks: {rss0} KiB (peak {hwm0} KiB)");

    // Reloads with one weight changed (1 -> 9 -> 1 ...).
    let rounds = env_number("LVSKIT_BENCH_RELOAD_ROUNDS", 7);
    let (mut took, mut seen) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let weight = if i % 2 == 0 { 9 } else { 1 };
        std::fs::write(&conf, with_weight(&plain, weight)).unwrap();
        let (t, requests, s) = daemon.reload();
        assert_eq!(first_weight(), weight, "the weight reached the kernel");
        assert_eq!(requests, 1, "a one-weight reload is one netlink request");
        took.push(t);
        seen.push(s);
    }
    println!(
        "bench: lvskitd reload, one weight changed: median {:.1} ms SIGHUP to applied (lvskitd's own clock), {:.1} ms kill to log line; max {:.1} ms; 1 netlink request each; {rounds} rounds",
        median(took.clone()),
        median(seen),
        took.iter().copied().fold(0.0, f64::max)
    );

    // Memory over many reloads (each parses, maps and diffs the whole file).
    let reloads = env_number("LVSKIT_BENCH_RELOADS", 200);
    let (rss_before, _) = rss(daemon.pid());
    let cpu_before = cpu_seconds(daemon.pid());
    let started = Instant::now();
    let mut samples = Vec::new();
    for i in 0..reloads {
        let weight = if i % 2 == 0 { 2 } else { 1 };
        std::fs::write(&conf, with_weight(&plain, weight)).unwrap();
        let (_, requests, _) = daemon.reload();
        assert_eq!(requests, 1);
        if (i + 1) % (reloads / 4).max(1) == 0 {
            samples.push(rss(daemon.pid()).0);
        }
    }
    let (rss_after, hwm_after) = rss(daemon.pid());
    println!(
        "bench: lvskitd {reloads} reloads in {:.0} s ({:.2} CPU s each): RSS {rss_before} KiB before, {rss_after} KiB after (samples {samples:?}), peak {hwm_after} KiB",
        started.elapsed().as_secs_f64(),
        (cpu_seconds(daemon.pid()) - cpu_before) / reloads as f64
    );

    // A restart: adoption of the full table.
    std::fs::write(&conf, &plain).unwrap();
    daemon.stop();
    assert_eq!(table_size(), full, "SIGTERM leaves the table");
    let t0 = Instant::now();
    let daemon = Daemon::start(&conf, &log, &["--lvs-remove-on-stop"]);
    let (took, requests) = daemon.started(t0);
    assert_eq!(table_size(), full);
    let adopted = daemon.log();
    println!(
        "bench: lvskitd start, full table (adoption): {:.0} ms to converged, {requests} netlink requests ({})",
        took.as_secs_f64() * 1e3,
        adopted
            .lines()
            .find(|l| l.contains("IPVS: "))
            .map_or("no change sent", |l| l.split("IPVS: ").nth(1).unwrap_or(""))
    );
    daemon.stop();
    assert_eq!(table_size().0, 0);

    // With the 37,000 TCP_CHECKs passing: every 198.51.100.x is this host, ten listeners.
    let ok = Command::new("ip")
        .args(["route", "add", "local", "198.51.100.0/24", "dev", "lo"])
        .status()
        .unwrap();
    assert!(ok.success());
    let listeners: Vec<TcpListener> = (8000..8010)
        .map(|port| TcpListener::bind(("0.0.0.0", port)).unwrap())
        .collect();
    for listener in &listeners {
        let listener = listener.try_clone().unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                drop(conn);
            }
        });
    }
    std::fs::write(&conf, &big).unwrap();
    let window = Duration::from_secs(env_number("LVSKIT_BENCH_CHECK_SECONDS", 30) as u64);
    let t0 = Instant::now();
    let daemon = Daemon::start(&conf, &log, &["--lvs-remove-on-stop"]);
    let (took, _) = daemon.started(t0);
    let cpu0 = cpu_seconds(daemon.pid());
    std::thread::sleep(window);
    let cpu = cpu_seconds(daemon.pid()) - cpu0;
    let (rss1, hwm1) = rss(daemon.pid());
    let (services, dests) = table_size();
    println!(
        "bench: lvskitd -C with {REAL_SERVERS} TCP_CHECKs (delay_loop 6): started in {:.0} ms; after {} s: RSS {rss1} KiB (peak {hwm1} KiB), {cpu:.2} CPU s in the window, table {services}/{dests}",
        took.as_secs_f64() * 1e3,
        window.as_secs()
    );
    daemon.stop();

    if !Path::new(KEEPALIVED).exists() {
        println!("bench: keepalived is not in the image: no side-by-side figures");
        return;
    }
    ipvsadm(&["-C"]);
    for (name, text) in [("with checks", &big), ("without checks", &plain)] {
        std::fs::write(&conf, text).unwrap();
        let t0 = Instant::now();
        let mut child = Command::new(KEEPALIVED)
            .args(["-C", "-n", "-l", "-f"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for("keepalived's table", Duration::from_secs(900), || {
            (table_size() == full).then_some(())
        });
        let took = t0.elapsed();
        let pids = pids_named("keepalived");
        let cpu0: f64 = pids.iter().map(|&p| cpu_seconds(p)).sum();
        std::thread::sleep(window);
        let cpu: f64 = pids.iter().map(|&p| cpu_seconds(p)).sum::<f64>() - cpu0;
        let mems: Vec<(u64, u64)> = pids.iter().map(|&p| rss(p)).collect();
        let total: u64 = mems.iter().map(|m| m.0).sum();
        println!(
            "bench: keepalived -C {name}: full table {:.0} ms after spawn; after {} s: RSS {total} KiB over {} processes {mems:?} (RSS, peak), {cpu:.2} CPU s in the window",
            took.as_secs_f64() * 1e3,
            window.as_secs(),
            pids.len()
        );
        if name == "without checks" {
            std::fs::write(&conf, with_weight(text, 9)).unwrap();
            let sent = Instant::now();
            // SAFETY: kill(2) on our own child.
            assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGHUP) }, 0);
            wait_for("keepalived's reload", Duration::from_secs(900), || {
                (first_weight() == 9).then_some(())
            });
            println!(
                "bench: keepalived reload, one weight changed: {:.0} ms from SIGHUP to the weight in ipvsadm -Ln",
                sent.elapsed().as_secs_f64() * 1e3
            );
        }
        // SAFETY: as above.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let _ = child.wait();
        for pid in pids_named("keepalived") {
            // SAFETY: kill(2); a keepalived child left over.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        ipvsadm(&["-C"]);
    }
}

/// SYNs to `ports` seen on `lo`, per destination: every check opens with one, whether the
/// checker connects (keepalived, HTTP_GET) or probes half-open (lvskitd's TCP_CHECK), so the
/// wire times both tools the same way.
struct SynCapture {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(u32, u16, Instant)>>,
}

impl SynCapture {
    fn start(ports: std::ops::Range<u16>) -> Self {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            // SAFETY: plain socket(2), setsockopt(2), bind(2) and recvfrom(2) calls on a socket
            // this thread owns, with buffers of the sizes given.
            unsafe {
                let proto = (libc::ETH_P_IP as u16).to_be();
                let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto));
                assert!(fd >= 0, "AF_PACKET socket");
                let tv = libc::timeval {
                    tv_sec: 0,
                    tv_usec: 100_000,
                };
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    (&raw const tv).cast(),
                    size_of::<libc::timeval>() as u32,
                );
                let size = 8 << 20;
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_RCVBUF,
                    (&raw const size).cast(),
                    4,
                );
                let mut sll: libc::sockaddr_ll = std::mem::zeroed();
                sll.sll_family = libc::AF_PACKET as u16;
                sll.sll_protocol = proto;
                sll.sll_ifindex = libc::if_nametoindex(c"lo".as_ptr()) as i32;
                let rc = libc::bind(
                    fd,
                    (&raw const sll).cast(),
                    size_of::<libc::sockaddr_ll>() as u32,
                );
                assert_eq!(rc, 0, "bind to lo");
                let mut seen = Vec::new();
                let mut buf = [0u8; 256];
                while !flag.load(Ordering::Relaxed) {
                    let mut from: libc::sockaddr_ll = std::mem::zeroed();
                    let mut len = size_of::<libc::sockaddr_ll>() as u32;
                    let n = libc::recvfrom(
                        fd,
                        buf.as_mut_ptr().cast(),
                        buf.len(),
                        0,
                        (&raw mut from).cast(),
                        &mut len,
                    );
                    if n <= 0 {
                        continue;
                    }
                    let now = Instant::now();
                    // Each packet on lo shows twice: keep the receiving side's copy.
                    if from.sll_pkttype != libc::PACKET_HOST {
                        continue;
                    }
                    let frame = &buf[..n as usize];
                    // SOCK_RAW on lo: a 14-byte (zero) Ethernet header, then IPv4.
                    let Some(ip) = frame.get(14..) else { continue };
                    if ip.len() < 20 || ip[0] >> 4 != 4 || ip[9] != 6 {
                        continue;
                    }
                    let ihl = usize::from(ip[0] & 0x0f) * 4;
                    let Some(tcp) = ip.get(ihl..ihl + 14) else {
                        continue;
                    };
                    let port = u16::from_be_bytes([tcp[2], tcp[3]]);
                    let (syn, ack) = (tcp[13] & 0x02 != 0, tcp[13] & 0x10 != 0);
                    if syn && !ack && ports.contains(&port) {
                        let dst = u32::from_be_bytes([ip[16], ip[17], ip[18], ip[19]]);
                        seen.push((dst, port, now));
                    }
                }
                libc::close(fd);
                seen
            }
        });
        Self { stop, thread }
    }

    /// (SYNs in `[from, to)`, p50, p99 and max of how late each was against the previous one
    /// to the same destination plus `period`, in ms).
    fn finish(self, from: Instant, to: Instant, period: Duration) -> (usize, f64, f64, f64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let seen = self.thread.join().unwrap();
        let mut last: std::collections::HashMap<(u32, u16), Instant> = Default::default();
        let mut late = Vec::new();
        let mut count = 0;
        for (dst, port, at) in seen {
            if at >= from && at < to {
                count += 1;
                if let Some(prev) = last.get(&(dst, port)) {
                    let gap = at.duration_since(*prev).as_secs_f64() - period.as_secs_f64();
                    late.push(gap * 1e3);
                }
            }
            last.insert((dst, port), at);
        }
        late.sort_by(f64::total_cmp);
        let q = |p: f64| {
            late.get(((late.len() as f64 - 1.0) * p).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        (count, q(0.5), q(0.99), q(1.0))
    }
}

/// `servers` real servers in virtual servers of 250, each checked by `checker` every second.
fn checks_config(servers: usize, checker: &str) -> String {
    let mut out = String::new();
    for v in 0..servers.div_ceil(250) {
        out.push_str(&format!(
            "virtual_server 203.0.113.{} 80 {{\n    protocol TCP\n    lvs_sched rr\n    lvs_method DR\n    delay_loop 1\n",
            v + 1
        ));
        for r in 0..(servers - v * 250).min(250) {
            out.push_str(&format!(
                "    real_server 198.51.100.{} {} {{\n        {checker}\n    }}\n",
                r + 1,
                9000 + v
            ));
        }
        out.push_str("}\n");
    }
    out
}

/// Listeners on `ports` of every address: each connection gets a 200 answer after its
/// request (HTTP_GET) or is closed (TCP_CHECK connects).
fn listeners(ports: std::ops::Range<u16>) {
    use std::io::{Read, Write};
    for port in ports {
        let listener = TcpListener::bind(("0.0.0.0", port)).unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            for mut conn in listener.incoming().flatten() {
                let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if !head.is_empty() {
                    let _ = conn.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
                }
            }
        });
    }
}

#[test]
#[ignore = "minutes under TCG: cargo xtask bench lb"]
fn health_checks_side_by_side_with_keepalived() {
    let dir = std::env::temp_dir().join("vm_lvskitd_bench");
    std::fs::create_dir_all(&dir).unwrap();
    // Every 198.51.100.x is this host (the route may be there from the other bench).
    let _ = Command::new("ip")
        .args(["route", "add", "local", "198.51.100.0/24", "dev", "lo"])
        .status();
    let tcp_servers = env_number("LVSKIT_BENCH_TCP_CHECKS", 10_000);
    let http_servers = env_number("LVSKIT_BENCH_HTTP_CHECKS", 2_000);
    let ports = 9000..9000 + u16::try_from(tcp_servers.max(http_servers).div_ceil(250)).unwrap();
    listeners(ports.clone());
    let warmup = Duration::from_secs(env_number("LVSKIT_BENCH_CHECK_WARMUP", 8) as u64);
    let window = Duration::from_secs(env_number("LVSKIT_BENCH_CHECK_SECONDS", 30) as u64);
    let conf = dir.join("checks.conf");
    let log = dir.join("lvskitd-checks.log");
    let keepalived = Path::new(KEEPALIVED).exists();
    for (kind, servers, checker) in [
        (
            "TCP_CHECK",
            tcp_servers,
            "TCP_CHECK {\n            connect_timeout 3\n        }",
        ),
        (
            "HTTP_GET",
            http_servers,
            "HTTP_GET {\n            url {\n                path /\n            }\n            connect_timeout 3\n        }",
        ),
    ] {
        std::fs::write(&conf, checks_config(servers, checker)).unwrap();
        for tool in ["lvskitd", "keepalived"] {
            if tool == "keepalived" && !keepalived {
                println!("bench: keepalived is not in the image");
                continue;
            }
            ipvsadm(&["-C"]);
            let capture = SynCapture::start(ports.clone());
            let (pids, mut stop): (Vec<u32>, Box<dyn FnMut()>) = if tool == "lvskitd" {
                let daemon = Daemon::start(&conf, &log, &["--lvs-remove-on-stop"]);
                daemon.started(Instant::now());
                let pid = daemon.pid();
                (vec![pid], Box::new(move || daemon.signal(libc::SIGTERM)))
            } else {
                let mut child = Command::new(KEEPALIVED)
                    .args(["-C", "-n", "-l", "-f"])
                    .arg(&conf)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                wait_for("keepalived's table", Duration::from_secs(600), || {
                    (table_size().1 == servers).then_some(())
                });
                let pids = pids_named("keepalived");
                (
                    pids,
                    Box::new(move || {
                        // SAFETY: kill(2) on our own child.
                        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                        let _ = child.wait();
                    }),
                )
            };
            std::thread::sleep(warmup);
            let from = Instant::now();
            let cpu0: f64 = pids.iter().map(|&p| cpu_seconds(p)).sum();
            std::thread::sleep(window);
            let cpu = pids.iter().map(|&p| cpu_seconds(p)).sum::<f64>() - cpu0;
            let to = Instant::now();
            let mem: u64 = pids.iter().map(|&p| rss(p).0).sum();
            let (_, dests) = table_size();
            stop();
            for pid in pids_named("keepalived") {
                // SAFETY: kill(2) on a keepalived child left over.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
            let (syns, p50, p99, max) = capture.finish(from, to, Duration::from_secs(1));
            println!(
                "bench: {tool} -C, {servers} {kind} delay_loop 1: {syns} checks in {} s ({:.0}/s of {servers}/s due), {cpu:.2} CPU s = {:.3} CPU s per 1,000 checks; lateness against the previous check + 1 s: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; RSS {mem} KiB; table {dests} destinations",
                window.as_secs(),
                syns as f64 / window.as_secs_f64(),
                cpu / (syns as f64 / 1000.0)
            );
            ipvsadm(&["-C"]);
        }
    }
}
