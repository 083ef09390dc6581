//! Two `lvskitd` (or `lvskitd` and keepalived) on a bridge, watched from a client namespace:
//! elections, takeovers, trackers, sync groups, unicast, IPv6, authentication, notify. What
//! happened is read from a capture on the client (the wire), not from logs; timings are
//! printed, and only protocol bounds (no takeover before the down interval) are asserted.
//! Needs root.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use lvskit_examples::vrrp_lab::{Advert, Daemon, Implementation, Lab, adverts};
use testbed::{Netns, require_root};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

/// The tests share the machine's two cores with each other: one lab at a time keeps timings
/// honest.
static SERIAL: Mutex<()> = Mutex::new(());

/// Starts lvskitd in `ns`.
fn lvskitd(lab: &Lab, ns: &Netns, name: &str, conf: &str) -> Daemon {
    Daemon::start(
        lab,
        ns,
        name,
        conf,
        &Implementation::Lvskitd(LVSKITD.into()),
    )
    .unwrap()
}

/// Starts keepalived in `ns`.
fn keepalived(lab: &Lab, ns: &Netns, name: &str, conf: &str) -> Daemon {
    Daemon::start(lab, ns, name, conf, &Implementation::Keepalived).unwrap()
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
    let da = lvskitd(lab, &lab.a, "a", &instance("VI_1", 51, 150, extra_a));
    let db = lvskitd(lab, &lab.b, "b", &instance("VI_1", 51, 100, extra_b));
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
    let lab = Lab::new("el").unwrap();
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
    let _da = lvskitd(&lab, &lab.a, "a2", &instance("VI_1", 51, 150, ""));
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
    let lab = Lab::new("st").unwrap();
    let (mut da, db) = elect(&lab, "", "");
    lab.capture.take();
    assert_eq!(da.stop().unwrap(), Some(0), "{}", da.log());
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
    let lab = Lab::new("np").unwrap();
    // b alone becomes master; a (higher, nopreempt) joins and stays backup.
    let db = lvskitd(&lab, &lab.b, "b", &instance("VI_1", 51, 100, "nopreempt"));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 1));
    assert!(settled_on(&seen, B, 1), "{seen:?}\n{}", db.log());
    let da = lvskitd(&lab, &lab.a, "a", &instance("VI_1", 51, 150, "nopreempt"));
    std::thread::sleep(Duration::from_secs(6));
    let seen = lab.adverts();
    assert!(
        settled_on(&seen, B, 4),
        "a preempted: {seen:?}\n{}",
        da.log()
    );
    assert!(!seen.iter().any(|a| a.src == v4(A)), "{seen:?}");
}

/// `preempt_delay` in the tests below (seconds).
const PREEMPT_DELAY: Duration = Duration::from_secs(6);
/// Master_Down_Interval of a v2 priority-150 backup: 3 s + 106/256 s.
const MASTER_DOWN_150: Duration = Duration::from_nanos(3_414_062_500);

/// `a` (150, `preempt_delay 6`) measured on the wire, run with `implementation`: alone, from its
/// start to its first advert; then opposite `b` (100) already master, from `b`'s first advert
/// after `a` started (the first `a` can hear) to `a`'s first advert.
fn preempt_delay_on_the_wire(implementation: &str) -> (Duration, Duration) {
    let lab = Lab::new(&format!("pd{}", &implementation[..1])).unwrap();
    let start = |ns: &Netns, name: &str, conf: &str| {
        if implementation == "lvskitd" {
            lvskitd(&lab, ns, name, conf)
        } else {
            keepalived(&lab, ns, name, conf)
        }
    };
    let delayed = instance("VI_1", 51, 150, "preempt_delay 6");

    // Alone: nobody to preempt, so nothing to delay.
    let started = SystemTime::now();
    let mut da = start(&lab.a, "a", &delayed);
    let seen = lab.wait_adverts(Duration::from_secs(15), |ads| settled_on(ads, A, 1));
    let Some(first_a) = seen.iter().find(|a| a.src == v4(A)) else {
        panic!(
            "{implementation}: a alone never became master: {seen:?}\n{}",
            da.log()
        );
    };
    let alone = first_a.at.duration_since(started).unwrap();
    assert_eq!(da.stop().unwrap(), Some(0), "{}", da.log());

    // Opposite a lower-priority master.
    let db = start(&lab.b, "b", &instance("VI_1", 51, 100, ""));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 1));
    assert!(settled_on(&seen, B, 1), "{seen:?}\n{}", db.log());
    lab.capture.take();
    let started = SystemTime::now();
    let da = start(&lab.a, "a2", &delayed);
    let seen = lab.wait_adverts(Duration::from_secs(20), |ads| settled_on(ads, A, 1));
    let Some(first_a) = seen.iter().find(|a| a.src == v4(A)) else {
        panic!(
            "{implementation}: a never preempted: {seen:?}\n{}",
            da.log()
        );
    };
    let sight = seen
        .iter()
        .find(|a| a.src == v4(B) && a.at > started)
        .expect("b advertised after a started");
    let after_sight = first_a.at.duration_since(sight.at).unwrap();
    eprintln!(
        "{implementation} preempt_delay 6: alone, MASTER {:.1} ms after start \
         (Master_Down_Interval {:.1} ms); opposite a lower master, {:.1} ms after its first advert \
         heard (delay + Master_Down_Interval of the last advert followed: {:.1} .. {:.1} ms)",
        ms(alone),
        ms(MASTER_DOWN_150),
        ms(after_sight),
        ms(PREEMPT_DELAY + MASTER_DOWN_150 - Duration::from_secs(1)),
        ms(PREEMPT_DELAY + MASTER_DOWN_150),
    );
    (alone, after_sight)
}

/// keepalived's `preempt_delay`, as keepalived 2.2.7 does it on the wire (run here side by
/// side): alone, the instance takes over after Master_Down_Interval (no master, nothing to
/// delay); opposite a live lower master, it follows that master for the delay from its first
/// advert heard, then discards its adverts until Master_Down_Timer runs out. Only these
/// protocol windows are asserted, for both implementations.
#[test]
fn preempt_delay_holds_the_preemption_as_keepalived_does() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for implementation in ["lvskitd", "keepalived"] {
        let (alone, after_sight) = preempt_delay_on_the_wire(implementation);
        assert!(
            alone >= MASTER_DOWN_150,
            "{implementation}: alone, MASTER before Master_Down_Interval: {alone:?}"
        );
        assert!(
            alone < PREEMPT_DELAY,
            "{implementation}: alone, the delay held a takeover with nobody to preempt: {alone:?}"
        );
        // The advert at the delay's end may or may not still be followed.
        assert!(
            after_sight >= PREEMPT_DELAY + MASTER_DOWN_150 - Duration::from_secs(1),
            "{implementation}: preempted before delay + Master_Down_Interval: {after_sight:?}"
        );
        assert!(
            after_sight < PREEMPT_DELAY + MASTER_DOWN_150 + Duration::from_secs(1),
            "{implementation}: held the preemption past delay + Master_Down_Interval: \
             {after_sight:?}"
        );
    }
}

#[test]
fn a_vip_deleted_by_hand_while_master_is_put_back() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("rm").unwrap();
    let (da, _db) = elect(&lab, "", "");
    assert!(has_vip(&lab.a, "192.0.2.100"));
    lab.a
        .ip(&["addr", "del", "192.0.2.100/24", "dev", "eth0"])
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while !has_vip(&lab.a, "192.0.2.100") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        has_vip(&lab.a, "192.0.2.100"),
        "not put back:\n{}",
        da.log()
    );
    assert!(da.log().contains("putting it back"), "{}", da.log());
}

/// Sends SIGHUP to `daemon`.
fn hup(daemon: &Daemon) {
    let pid = daemon.vrrp_pid().expect("lvskitd runs");
    // SAFETY: kill(2) on the lvskitd child this test started.
    unsafe {
        libc::kill(pid, libc::SIGHUP);
    }
}

#[test]
fn sighup_reload_adds_a_vip_without_a_transition_and_an_invalid_file_changes_nothing() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("hup").unwrap();
    // No second set of GARPs 5 s after the take-over, so that every GARP after the reload is
    // the reload's.
    let extra = "garp_master_delay 0";
    let (mut da, db) = elect(&lab, extra, extra);
    // Every address change on a, from now on, as the kernel reports it.
    let mut monitor = lab
        .a
        .command("ip")
        .args(["-o", "monitor", "address"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    lab.capture.take();
    let logged = da.log().len();

    // An invalid file: logged, the running configuration stays.
    let conf = lab.file("a.conf");
    std::fs::write(
        &conf,
        "vrrp_instance VI_1 {\n    interface eth0\n    priority 300\n",
    )
    .unwrap();
    hup(&da);
    std::thread::sleep(Duration::from_millis(1_500));
    assert!(
        da.log().contains("NOT valid") || da.log().contains("error"),
        "{}",
        da.log()
    );

    // The same instance with one more address.
    let two_vips = instance("VI_1", 51, 150, extra).replace(
        "192.0.2.100/24\n",
        "192.0.2.100/24\n        192.0.2.101/24\n",
    );
    // Both routers (an advert whose address list differs from the instance's is dropped, as
    // keepalived does), one right after the other.
    std::fs::write(
        lab.file("b.conf"),
        two_vips.replace("priority 150", "priority 100"),
    )
    .unwrap();
    std::fs::write(&conf, two_vips).unwrap();
    hup(&db);
    hup(&da);
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while !has_vip(&lab.a, "192.0.2.101") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(has_vip(&lab.a, "192.0.2.101"), "{}", da.log());
    std::thread::sleep(Duration::from_secs(3));
    assert!(has_vip(&lab.a, "192.0.2.100"));
    assert!(!has_vip(&lab.b, "192.0.2.101"));

    // On the wire: a's adverts went on at their interval, never priority 0, b never spoke, and
    // they now list both addresses.
    let frames = lab.capture.take();
    let seen = adverts(&frames);
    assert!(seen.len() >= 3, "{seen:?}");
    assert!(
        seen.iter().all(|a| a.src == v4(A) && a.priority == 150),
        "a transition on the wire: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    let gaps: Vec<Duration> = seen
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at).unwrap())
        .collect();
    eprintln!("advert gaps across the two reloads: {gaps:?}");
    assert!(
        gaps.iter().all(|g| *g < Duration::from_millis(1_500)),
        "adverts paused: {gaps:?}"
    );
    let last = frames
        .iter()
        .rev()
        .find(|f| {
            adverts(std::slice::from_ref(*f))
                .iter()
                .any(|a| a.src == v4(A))
        })
        .unwrap();
    let ip = &last.data[14..];
    let count = ip[20 + 3];
    assert_eq!(count, 2, "the last advert lists {count} addresses");
    // GARPs for the new address only.
    let announced: Vec<IpAddr> = testbed_announcements(&frames);
    assert!(announced.contains(&v4("192.0.2.101")), "{announced:?}");
    assert!(!announced.contains(&v4("192.0.2.100")), "{announced:?}");

    // The kernel never saw 192.0.2.100 deleted.
    let _ = monitor.kill();
    let out = monitor.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&out.stdout);
    assert!(
        !events
            .lines()
            .any(|l| l.starts_with("Deleted") && l.contains("192.0.2.100/")),
        "{events}"
    );
    assert!(events.contains("192.0.2.101/"), "{events}");
    assert!(da.log().contains("configuration reloaded"), "{}", da.log());
    let since = &da.log()[logged..];
    assert!(!since.contains("entering"), "a changed state:\n{since}");
    assert_eq!(da.stop().unwrap(), Some(0), "{}", da.log());
}

fn testbed_announcements(frames: &[testbed::Frame]) -> Vec<IpAddr> {
    lvskit_examples::vrrp_lab::announcements(frames)
        .into_iter()
        .map(|(_, addr)| addr)
        .collect()
}

/// Sends one v2 advert from the client, as a router at `priority` would.
fn inject_advert(lab: &Lab, priority: u8) {
    let advert = vrrp_fsm::AdvertToSend {
        version: vrrp_fsm::Version::V2,
        vrid: 51,
        priority,
        max_advert_interval_cs: 100,
        addresses: std::sync::Arc::from(["192.0.2.100".parse::<IpAddr>().unwrap()]),
        src: "192.0.2.9".parse().unwrap(),
        interface: vrrp_fsm::InterfaceId(0),
    };
    let mut buf = [0u8; director::codec::MAX_PACKET_LEN];
    let len = director::codec::emit(
        &advert,
        "224.0.0.18".parse().unwrap(),
        &director::codec::WireOptions::default(),
        &mut buf,
    )
    .unwrap();
    let packet = buf[..len].to_vec();
    lab.c
        .run(move || -> std::io::Result<()> {
            use socket2::{Domain, Protocol, Socket, Type};
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))?;
            s.set_header_included_v4(true)?;
            s.bind_device(Some(b"eth0"))?;
            s.set_multicast_if_v4(&"192.0.2.9".parse().unwrap())?;
            let to: std::net::SocketAddr = "224.0.0.18:0".parse().unwrap();
            s.send_to(&packet, &to.into())?;
            Ok(())
        })
        .unwrap()
        .unwrap();
}

/// A MASTER hearing a lower priority: an advert at once, `garp_lower_prio_repeat` GARPs now and
/// as many again after `garp_lower_prio_delay`. Run against lvskitd and keepalived, which must
/// agree on the wire.
fn lower_priority_behaviour(implementation: &str) -> (usize, usize, usize) {
    let lab = Lab::new(&format!("lp{}", &implementation[..1])).unwrap();
    let conf = instance(
        "VI_1",
        51,
        150,
        "garp_master_delay 0\n garp_lower_prio_repeat 3\n garp_lower_prio_delay 2",
    );
    let daemon = if implementation == "lvskitd" {
        lvskitd(&lab, &lab.a, "a", &conf)
    } else {
        keepalived(&lab, &lab.a, "a", &conf)
    };
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 2));
    assert!(
        settled_on(&seen, A, 2),
        "{implementation}: {seen:?}\n{}",
        daemon.log()
    );
    // Between two periodic adverts: wait for one, then 300 ms.
    lab.capture.take();
    lab.wait_adverts(Duration::from_secs(2), |ads| !ads.is_empty());
    std::thread::sleep(Duration::from_millis(300));
    lab.capture.take();
    let injected = SystemTime::now();
    inject_advert(&lab, 50);
    std::thread::sleep(Duration::from_millis(2_600));
    let frames = lab.capture.take();
    let vip: IpAddr = "192.0.2.100".parse().unwrap();
    let after = |f: &testbed::Frame| f.timestamp.duration_since(injected).unwrap_or_default();
    let garps: Vec<Duration> = frames
        .iter()
        .filter(|f| garp::Announcement::parse(&f.data).is_ok_and(|a| a.addr() == vip))
        .map(after)
        .collect();
    let now = garps
        .iter()
        .filter(|d| **d < Duration::from_millis(500))
        .count();
    let later = garps
        .iter()
        .filter(|d| **d >= Duration::from_millis(1_900) && **d < Duration::from_millis(2_500))
        .count();
    // The answering advert: a priority-150 advert well before the next periodic one.
    let answered = adverts(&frames)
        .iter()
        .filter(|a| a.src == v4(A) && after_advert(a, injected) < Duration::from_millis(300))
        .count();
    eprintln!("{implementation}: GARPs {garps:?}");
    (answered, now, later)
}

fn after_advert(a: &Advert, since: SystemTime) -> Duration {
    a.at.duration_since(since).unwrap_or(Duration::MAX)
}

#[test]
fn a_lower_priority_advert_gets_what_keepalived_sends() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ours = lower_priority_behaviour("lvskitd");
    let theirs = lower_priority_behaviour("keepalived");
    assert_eq!(
        ours,
        (1, 3, 3),
        "lvskitd: (answering adverts, GARPs now, GARPs after the delay)"
    );
    assert_eq!(ours, theirs, "lvskitd and keepalived differ");
}

fn vmac_has_vip(ns: &Netns, vip: &str) -> bool {
    ns.ip(&["-o", "addr", "show", "dev", "vrrp.51"])
        .is_ok_and(|out| out.contains(&format!(" {vip}/")))
}

#[test]
fn use_vmac_moves_the_virtual_mac_with_the_vip() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("vm").unwrap();
    let vmac = [0, 0, 0x5e, 0, 1, 51];
    let (mut da, mut db) = elect(&lab, "use_vmac", "use_vmac");
    std::thread::sleep(Duration::from_millis(300));
    assert!(vmac_has_vip(&lab.a, "192.0.2.100"), "{}", da.log());
    assert!(!vmac_has_vip(&lab.b, "192.0.2.100"));
    // IPv4 instances: no IPv6 on either VMAC, so no link-local address derived from the shared
    // virtual MAC failing DAD.
    for ns in [&lab.a, &lab.b] {
        let v6 = ns.ip(&["-6", "addr", "show", "dev", "vrrp.51"]).unwrap();
        assert!(!v6.contains("inet6"), "{v6}");
        let sysctl = ns
            .run(|| std::fs::read_to_string("/proc/sys/net/ipv6/conf/vrrp.51/disable_ipv6"))
            .unwrap()
            .unwrap();
        assert_eq!(sysctl.trim(), "1");
    }
    // Adverts and GARPs leave from the virtual MAC.
    let frames = lab.capture.frames();
    let from_a: Vec<&testbed::Frame> = frames
        .iter()
        .filter(|f| {
            adverts(std::slice::from_ref(*f))
                .iter()
                .any(|a| a.src == v4(A))
        })
        .collect();
    assert!(!from_a.is_empty());
    assert!(
        from_a.iter().all(|f| f.data[6..12] == vmac),
        "advert not from the VMAC"
    );
    let vip = v4("192.0.2.100");
    let to = std::net::SocketAddr::new(vip, 9);
    let on_b = lab.b.udp_bind("0.0.0.0:9".parse().unwrap()).unwrap();
    on_b.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    lab.c.udp_send(None, to, b"before").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(lab.c.neighbour_mac(vip).unwrap(), Some(vmac));
    // a's host dies (the daemon killed, its link down: a crashed daemon's kernel would go on
    // answering for the VIP from the VMAC): b's VMAC takes the address, the client's neighbour
    // entry does not change, and its traffic now reaches b (the bridge learnt the VMAC on b's
    // port from b's GARPs).
    da.kill();
    lab.a.set_down("eth0").unwrap();
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 1));
    assert!(settled_on(&seen, B, 1), "{seen:?}\n{}", db.log());
    std::thread::sleep(Duration::from_millis(300));
    assert!(vmac_has_vip(&lab.b, "192.0.2.100"), "{}", db.log());
    assert_eq!(lab.c.neighbour_mac(vip).unwrap(), Some(vmac));
    lab.c.udp_send(None, to, b"after").unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = on_b.recv_from(&mut buf).expect("b receives for the VIP");
    assert_eq!(&buf[..n], b"after");
    // A clean stop removes the VMAC.
    assert_eq!(db.stop().unwrap(), Some(0), "{}", db.log());
    assert!(
        lab.b.ip(&["link", "show", "vrrp.51"]).is_err(),
        "vrrp.51 left behind"
    );
}

#[test]
fn config_test_refuses_a_use_vmac_name_taken_by_another_interface() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("vt").unwrap();
    let conf = lab.file("vmac.conf");
    std::fs::write(&conf, instance("VI_1", 51, 150, "use_vmac")).unwrap();
    let check = || {
        lab.a
            .command(LVSKITD)
            .args(["-t", "-f"])
            .arg(&conf)
            .output()
            .unwrap()
    };
    let fine = check();
    assert!(fine.status.success(), "{fine:?}");
    // The VMAC's name is taken by a bridge: the director could not create its VMAC.
    lab.a
        .ip(&["link", "add", "vrrp.51", "type", "bridge"])
        .unwrap();
    let taken = check();
    let stderr = String::from_utf8_lossy(&taken.stderr);
    assert!(!taken.status.success(), "{stderr}");
    assert!(
        stderr.contains("vrrp.51 exists and is not a macvlan"),
        "{stderr}"
    );
}
