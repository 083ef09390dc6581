//! Two `lvskitd` (or `lvskitd` and keepalived) on a bridge, watched from a client namespace:
//! elections, takeovers, trackers, sync groups, unicast, IPv6, authentication, notify. What
//! happened is read from a capture on the client (the wire), not from logs; timings are
//! printed, and only protocol bounds (no takeover before the down interval) are asserted.
//! Needs root.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use testbed::{Capture, Frame, Netns, bridge_port, require_root, veth_pair};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

/// The tests share the machine's two cores with each other: one lab at a time keeps timings
/// honest.
static SERIAL: Mutex<()> = Mutex::new(());

/// A LAN: a bridge in its own namespace, two routers (`a` .1, `b` .2) and a client (`c` .9).
struct Lab {
    _lan: Netns,
    a: Netns,
    b: Netns,
    c: Netns,
    capture: Capture,
    dir: PathBuf,
}

impl Lab {
    fn new(tag: &str) -> Self {
        let lan = Netns::new(&format!("{tag}lan")).unwrap();
        lan.add_bridge("br0").unwrap();
        lan.set_up("br0").unwrap();
        let a = Netns::new(&format!("{tag}a")).unwrap();
        let b = Netns::new(&format!("{tag}b")).unwrap();
        let c = Netns::new(&format!("{tag}c")).unwrap();
        for (ns, port, v4, v6) in [
            (&a, "pa", "192.0.2.1/24", "2001:db8::1/64"),
            (&b, "pb", "192.0.2.2/24", "2001:db8::2/64"),
            (&c, "pc", "192.0.2.9/24", "2001:db8::9/64"),
        ] {
            veth_pair(ns, "eth0", &lan, port).unwrap();
            bridge_port(&lan, port, "br0").unwrap();
            lan.set_up(port).unwrap();
            ns.add_addr("eth0", v4).unwrap();
            ns.ip(&["addr", "add", v6, "dev", "eth0", "nodad"]).unwrap();
            ns.set_up("eth0").unwrap();
            ns.set_up("lo").unwrap();
        }
        let capture = Capture::start(&c, "eth0").unwrap();
        let dir = std::env::temp_dir().join(format!("lvskitd-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Let link-local addresses settle (DAD) before IPv6 adverts need them.
        std::thread::sleep(Duration::from_millis(200));
        Self {
            _lan: lan,
            a,
            b,
            c,
            capture,
            dir,
        }
    }

    /// Starts `lvskitd -f` in `ns` with `conf`; its log goes to `DIR/NAME.log`.
    fn lvskitd(&self, ns: &Netns, name: &str, conf: &str) -> Daemon {
        let path = self.dir.join(format!("{name}.conf"));
        std::fs::write(&path, conf.replace("$DIR", self.dir.to_str().unwrap())).unwrap();
        let log = self.dir.join(format!("{name}.log"));
        let child = ns
            .command(LVSKITD)
            .args(["-n", "-l", "-D", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            child: Some(child),
            log,
        }
    }

    /// The adverts seen by the client so far.
    fn adverts(&self) -> Vec<Advert> {
        adverts(&self.capture.frames())
    }

    /// Waits until `done` holds for the adverts seen, or `timeout`; returns them either way.
    fn wait_adverts(&self, timeout: Duration, done: impl Fn(&[Advert]) -> bool) -> Vec<Advert> {
        adverts(
            &self
                .capture
                .wait_until(timeout, |frames| done(&adverts(frames))),
        )
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running lvskitd, killed when dropped.
struct Daemon {
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    fn signal(&mut self, signal: i32) {
        if let Some(child) = &self.child {
            // SAFETY: kill(2) on our own child's pid (`ip netns exec` execs the program).
            unsafe {
                libc::kill(child.id() as i32, signal);
            }
        }
    }

    /// SIGTERM, and the exit status.
    fn stop(&mut self) -> Option<i32> {
        self.signal(libc::SIGTERM);
        let mut child = self.child.take()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("lvskitd did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One VRRP advert on the wire.
#[derive(Debug, Clone)]
struct Advert {
    at: SystemTime,
    src: IpAddr,
    priority: u8,
}

fn adverts(frames: &[Frame]) -> Vec<Advert> {
    frames
        .iter()
        .filter_map(|f| {
            let payload = f.data.get(14..)?;
            let received = match f.ethertype() {
                0x0800 => vrrp_packet::recv::parse_ipv4(payload, vrrp_packet::ChecksumModes::ALL),
                0x86dd => {
                    let ip = payload.get(..40)?;
                    if ip[6] != 112 {
                        return None;
                    }
                    let src = <[u8; 16]>::try_from(&ip[8..24]).ok()?;
                    let dst = <[u8; 16]>::try_from(&ip[24..40]).ok()?;
                    vrrp_packet::recv::parse_ipv6(&payload[40..], src.into(), dst.into(), ip[7])
                }
                _ => return None,
            }
            .ok()?;
            Some(Advert {
                at: f.timestamp,
                src: received.src,
                priority: received.vrrp.priority,
            })
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";

/// The last advert of `old` before the first of `new`, and that first one.
fn takeover(adverts: &[Advert], old: &str, new: &str) -> (Option<SystemTime>, Option<SystemTime>) {
    let first_new = adverts.iter().find(|a| a.src == v4(new)).map(|a| a.at);
    let last_old = adverts
        .iter()
        .filter(|a| a.src == v4(old) && first_new.is_none_or(|f| a.at < f))
        .map(|a| a.at)
        .max();
    (last_old, first_new)
}

/// The last `n` adverts all come from `src` (with a non-zero priority).
fn settled_on(adverts: &[Advert], src: &str, n: usize) -> bool {
    adverts.len() >= n
        && adverts[adverts.len() - n..]
            .iter()
            .all(|a| a.src == v4(src) && a.priority > 0)
}

fn has_vip(ns: &Netns, vip: &str) -> bool {
    ns.ip(&["-o", "addr", "show", "dev", "eth0"])
        .unwrap()
        .contains(&format!(" {vip}/"))
}

fn instance(name: &str, vrid: u8, priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
    {extra}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
"
    )
}

/// Brings up `a` at 150 and `b` at 100 and waits until `a` is the settled master.
fn elect(lab: &Lab, extra_a: &str, extra_b: &str) -> (Daemon, Daemon) {
    let da = lab.lvskitd(&lab.a, "a", &instance("VI_1", 51, 150, extra_a));
    let db = lab.lvskitd(&lab.b, "b", &instance("VI_1", 51, 100, extra_b));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 2));
    assert!(
        settled_on(&seen, A, 2),
        "a did not become master: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    (da, db)
}

#[test]
fn election_by_priority_then_sigkill_takeover_and_preemption_back() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("el");
    let (mut da, db) = elect(&lab, "", "");
    assert!(has_vip(&lab.a, "192.0.2.100"));
    assert!(!has_vip(&lab.b, "192.0.2.100"));
    assert!(
        !lab.adverts().iter().any(|a| a.src == v4(B)),
        "the backup advertised"
    );

    // The client talks to the VIP: its neighbour entry points at a.
    let vip = v4("192.0.2.100");
    let to = std::net::SocketAddr::new(vip, 9);
    let on_a = lab.a.udp_bind("0.0.0.0:9".parse().unwrap()).unwrap();
    let on_b = lab.b.udp_bind("0.0.0.0:9".parse().unwrap()).unwrap();
    for s in [&on_a, &on_b] {
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    }
    lab.c.udp_send(None, to, b"before").unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = on_a.recv_from(&mut buf).expect("a receives for the VIP");
    assert_eq!(&buf[..n], b"before");
    assert_eq!(
        lab.c.neighbour_mac(vip).unwrap(),
        Some(lab.a.mac("eth0").unwrap())
    );

    // SIGKILL: no priority 0; b takes over after its Master_Down_Interval (3 s + 156/256 s).
    da.kill();
    let killed = SystemTime::now();
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| {
        ads.iter().any(|a| a.src == v4(B))
    });
    let (last_a, first_b) = takeover(&seen, A, B);
    let (Some(last_a), Some(first_b)) = (last_a, first_b) else {
        panic!("no takeover: {seen:?}\n--- b:\n{}", db.log());
    };
    assert!(first_b > killed);
    let gap = first_b.duration_since(last_a).unwrap();
    eprintln!("SIGKILL takeover: {:.1} ms (bound 3609.4 ms)", ms(gap));
    assert!(
        gap >= Duration::from_millis(3_590),
        "b took over early: {gap:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(has_vip(&lab.b, "192.0.2.100"));
    assert!(
        db.log()
            .contains("entering MASTER state: master down timer expired"),
        "{}",
        db.log()
    );
    // b's GARP moved the client's neighbour entry: the client reaches the VIP on b.
    assert_eq!(
        lab.c.neighbour_mac(vip).unwrap(),
        Some(lab.b.mac("eth0").unwrap())
    );
    lab.c.udp_send(None, to, b"after").unwrap();
    let (n, _) = on_b.recv_from(&mut buf).expect("b receives for the VIP");
    assert_eq!(&buf[..n], b"after");

    // a comes back with the higher priority and preempts.
    lab.capture.take();
    let _da = lab.lvskitd(&lab.a, "a2", &instance("VI_1", 51, 150, ""));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 2));
    assert!(settled_on(&seen, A, 2), "{seen:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(has_vip(&lab.a, "192.0.2.100"));
    assert!(!has_vip(&lab.b, "192.0.2.100"), "b kept the VIP");
    assert!(
        db.log()
            .contains("entering BACKUP state: higher priority 150 from 192.0.2.1"),
        "{}",
        db.log()
    );
}

#[test]
fn sigterm_sends_priority_zero_and_the_backup_takes_over_after_its_skew() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("st");
    let (mut da, db) = elect(&lab, "", "");
    lab.capture.take();
    assert_eq!(da.stop(), Some(0), "{}", da.log());
    assert!(!has_vip(&lab.a, "192.0.2.100"), "a left its VIP behind");
    let seen = lab.wait_adverts(Duration::from_secs(5), |ads| {
        ads.iter().any(|a| a.src == v4(B))
    });
    let Some(zero) = seen.iter().find(|a| a.src == v4(A) && a.priority == 0) else {
        panic!("no priority 0 from a: {seen:?}\n{}", da.log());
    };
    let Some(first_b) = seen.iter().find(|a| a.src == v4(B)) else {
        panic!("no takeover: {seen:?}\n{}", db.log());
    };
    let gap = first_b.at.duration_since(zero.at).unwrap();
    // Skew_Time for v2 priority 100: 156/256 s.
    eprintln!("SIGTERM takeover: {:.1} ms (skew 609.4 ms)", ms(gap));
    assert!(
        gap >= Duration::from_millis(595),
        "before the skew: {gap:?}"
    );
    assert!(
        gap < Duration::from_millis(3_000),
        "waited a whole down interval: {gap:?}"
    );
}

#[test]
fn nopreempt_keeps_the_current_master() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("np");
    // b alone becomes master; a (higher, nopreempt) joins and stays backup.
    let db = lab.lvskitd(&lab.b, "b", &instance("VI_1", 51, 100, "nopreempt"));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 1));
    assert!(settled_on(&seen, B, 1), "{seen:?}\n{}", db.log());
    let da = lab.lvskitd(&lab.a, "a", &instance("VI_1", 51, 150, "nopreempt"));
    std::thread::sleep(Duration::from_secs(6));
    let seen = lab.adverts();
    assert!(
        settled_on(&seen, B, 4),
        "a preempted: {seen:?}\n{}",
        da.log()
    );
    assert!(!seen.iter().any(|a| a.src == v4(A)), "{seen:?}");
}

#[test]
fn preempt_delay_holds_the_preemption() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("pd");
    let db = lab.lvskitd(&lab.b, "b", &instance("VI_1", 51, 100, ""));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 1));
    assert!(settled_on(&seen, B, 1), "{seen:?}\n{}", db.log());
    lab.capture.take();
    let started = SystemTime::now();
    let da = lab.lvskitd(&lab.a, "a", &instance("VI_1", 51, 150, "preempt_delay 4"));
    let seen = lab.wait_adverts(Duration::from_secs(12), |ads| settled_on(ads, A, 1));
    let Some(first_a) = seen.iter().find(|a| a.src == v4(A)) else {
        panic!("a never preempted: {seen:?}\n{}", da.log());
    };
    let waited = first_a.at.duration_since(started).unwrap();
    eprintln!(
        "preempt_delay 4: a's first advert {:.1} ms after its start",
        ms(waited)
    );
    assert!(
        waited >= Duration::from_secs(4),
        "preempted before the delay: {waited:?}"
    );
}

#[test]
fn a_failing_track_script_weight_moves_mastership() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("ts");
    let flag = lab.file("healthy");
    std::fs::write(&flag, "").unwrap();
    let script = format!(
        "vrrp_script chk {{
    script \"/usr/bin/test -e {}\"
    interval 1
    weight -60
}}
",
        flag.display()
    );
    let conf_a = format!(
        "{script}{}",
        instance("VI_1", 51, 150, "track_script {\n chk\n }")
    );
    let da = lab.lvskitd(&lab.a, "a", &conf_a);
    let db = lab.lvskitd(&lab.b, "b", &instance("VI_1", 51, 100, ""));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 2));
    assert!(settled_on(&seen, A, 2), "{seen:?}\n{}", da.log());
    std::fs::remove_file(&flag).unwrap();
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 2));
    assert!(
        settled_on(&seen, B, 2),
        "{seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    assert!(
        seen.iter().any(|a| a.src == v4(A) && a.priority == 90),
        "a never advertised 150 - 60"
    );
    std::fs::write(&flag, "").unwrap();
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 2));
    assert!(settled_on(&seen, A, 2), "a did not take back: {seen:?}");
}

#[test]
fn track_interface_down_is_fault_and_the_peer_takes_over() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("ti");
    // up0 is up and running while its veth peer up1 is up.
    lab.a
        .ip(&["link", "add", "up0", "type", "veth", "peer", "name", "up1"])
        .unwrap();
    lab.a.set_up("up0").unwrap();
    lab.a.set_up("up1").unwrap();
    let (da, _db) = elect(&lab, "track_interface {\n up0\n }", "");
    lab.capture.take();
    lab.a.set_down("up1").unwrap();
    let seen = lab.wait_adverts(Duration::from_secs(5), |ads| settled_on(ads, B, 1));
    assert!(
        seen.iter().any(|a| a.src == v4(A) && a.priority == 0),
        "no priority 0 on FAULT: {seen:?}"
    );
    assert!(settled_on(&seen, B, 1), "{seen:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(!has_vip(&lab.a, "192.0.2.100"));
    assert!(
        da.log()
            .contains("entering FAULT state: tracked interface up0 down"),
        "{}",
        da.log()
    );
}

#[test]
fn v2_pass_mismatch_is_ignored_and_counted() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("pw");
    let auth = |p: &str| format!("authentication {{\n auth_type PASS\n auth_pass {p}\n }}");
    let da = lab.lvskitd(&lab.a, "a", &instance("VI_1", 51, 150, &auth("right")));
    let db = lab.lvskitd(&lab.b, "b", &instance("VI_1", 51, 100, &auth("wrong")));
    // Each ignores the other: both become MASTER.
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| {
        ads.iter().any(|a| a.src == v4(B)) && ads.iter().any(|a| a.src == v4(A))
    });
    assert!(
        seen.iter().any(|a| a.src == v4(B)),
        "b never advertised: {seen:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    for log in [da.log(), db.log()] {
        assert!(log.contains("reason=\"auth_mismatch\""), "{log}");
    }
}

#[test]
fn notify_scripts_get_keepalived_arguments_in_order() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("nt");
    let out = lab.file("notify.out");
    let script = lab.file("notify.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let s = script.display();
    let extra = format!(
        "notify_master \"{s} to-master\"\n notify_backup \"{s} to-backup\"\n notify_stop \"{s} stopping\"\n notify {s}"
    );
    let mut da = lab.lvskitd(&lab.a, "a", &instance("VI_1", 51, 150, &extra));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 1));
    assert!(settled_on(&seen, A, 1));
    assert_eq!(da.stop(), Some(0));
    let lines = std::fs::read_to_string(&out).unwrap_or_default();
    assert_eq!(
        lines.lines().collect::<Vec<_>>(),
        [
            "to-backup",
            "INSTANCE VI_1 BACKUP 150",
            "to-master",
            "INSTANCE VI_1 MASTER 150",
            "stopping",
            "INSTANCE VI_1 STOP 150",
        ],
        "{}",
        da.log()
    );
}

#[test]
fn a_configuration_that_cannot_run_here_changes_nothing() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("bad");
    let conf = instance("VI_1", 51, 150, "").replace("interface eth0", "interface eth7");
    let path = lab.file("bad.conf");
    std::fs::write(&path, &conf).unwrap();
    let out = lab
        .a
        .command(LVSKITD)
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("vrrp_instance VI_1: interface eth7 does not exist"),
        "{stderr}"
    );
    let test = lab
        .a
        .command(LVSKITD)
        .args(["-t", "--exit-status", "lvskit", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        test.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    let good = lab.file("good.conf");
    std::fs::write(&good, instance("VI_1", 51, 150, "")).unwrap();
    let test = lab
        .a
        .command(LVSKITD)
        .args(["-t", "--exit-status", "lvskit", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(
        test.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(lab.adverts().is_empty());
    let _ = Ipv4Addr::UNSPECIFIED;
}
