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
