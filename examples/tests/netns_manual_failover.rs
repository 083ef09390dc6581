//! `lvskitd standby` / `lvskitd takeover` (heartbeat's `hb_standby` / `hb_takeover`) with two
//! lvskitd on a bridge: the VIP moves to the peer on standby and back on takeover, seen in the
//! adverts the client captures and in the routers' addresses. Needs root.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lvskit_examples::vrrp_lab::{Advert, Daemon, Implementation, Lab};
use testbed::{Netns, require_root};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

/// One lab at a time: the machine's cores are shared.
static SERIAL: Mutex<()> = Mutex::new(());

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";
const VIP: &str = "192.0.2.100";

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

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

fn instance(priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    {extra}
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
"
    )
}

/// `lvskitd --state-dir DIR COMMAND`; its standard output.
fn manual(dir: &Path, command: &str) -> String {
    let out = Command::new(LVSKITD)
        .arg("--state-dir")
        .arg(dir)
        .arg(command)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The last `n` adverts all come from `src` with `priority`.
fn settled_on(adverts: &[Advert], src: &str, priority: u8, n: usize) -> bool {
    adverts.len() >= n
        && adverts[adverts.len() - n..]
            .iter()
            .all(|a| a.src == v4(src) && a.priority == priority)
}

fn has_vip(ns: &Netns) -> bool {
    ns.ip(&["-o", "addr", "show", "dev", "eth0"])
        .unwrap()
        .contains(&format!(" {VIP}/"))
}

/// Waits up to `timeout` for `ns` to hold (or not hold) the VIP; returns whether it does.
fn wait_vip(ns: &Netns, held: bool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while has_vip(ns) != held && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    has_vip(ns)
}

/// Waits up to `timeout` for `daemon` to log `text`.
fn wait_log(daemon: &Daemon, text: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while !daemon.log().contains(text) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    daemon.log().contains(text)
}

/// `a` at 150 and `b` at 100 (both with `extra`), `a` the settled master.
fn elect(lab: &Lab, extra: &str) -> (Daemon, Daemon) {
    let da = lvskitd(lab, &lab.a, "a", &instance(150, extra));
    let db = lvskitd(lab, &lab.b, "b", &instance(100, extra));
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 150, 2));
    assert!(
        settled_on(&seen, A, 150, 2),
        "a did not become master: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    assert!(wait_vip(&lab.a, true, Duration::from_secs(2)));
    assert!(!has_vip(&lab.b));
    (da, db)
}

#[test]
fn standby_moves_the_vip_to_the_peer_and_takeover_brings_it_back() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("mf").unwrap();
    let (da, db) = elect(&lab, "");
    let state_a = Daemon::state_dir(&lab, "a");
    // The daemon wrote its init value: no standby.
    assert_eq!(
        std::fs::read_to_string(state_a.join("standby")).unwrap(),
        "0\n"
    );

    lab.capture.take();
    let said = manual(&state_a, "standby");
    assert!(said.contains("standby"), "{said}");
    // a advertises priority 1 (150 - 253, clamped), b preempts, a follows it.
    let seen = lab.wait_adverts(Duration::from_secs(15), |ads| settled_on(ads, B, 100, 2));
    assert!(
        settled_on(&seen, B, 100, 2),
        "b did not take over: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    assert!(
        seen.iter().any(|a| a.src == v4(A) && a.priority == 1),
        "a never advertised priority 1: {seen:?}"
    );
    assert!(
        !seen.iter().any(|a| a.src == v4(A) && a.priority == 0),
        "a went to FAULT instead of staying BACKUP: {seen:?}"
    );
    assert!(
        wait_vip(&lab.b, true, Duration::from_secs(2)),
        "b has no VIP"
    );
    assert!(
        !wait_vip(&lab.a, false, Duration::from_secs(2)),
        "a kept it"
    );
    assert!(
        wait_log(
            &da,
            "entering BACKUP state: higher priority 100 from 192.0.2.2",
            Duration::from_secs(2)
        ),
        "{}",
        da.log()
    );

    // Takeover: a's priority is 150 again, it preempts b.
    lab.capture.take();
    let said = manual(&state_a, "takeover");
    assert!(said.contains("takeover"), "{said}");
    let seen = lab.wait_adverts(Duration::from_secs(15), |ads| settled_on(ads, A, 150, 2));
    assert!(
        settled_on(&seen, A, 150, 2),
        "a did not take back: {seen:?}\n--- a:\n{}",
        da.log()
    );
    assert!(
        wait_vip(&lab.a, true, Duration::from_secs(2)),
        "a has no VIP"
    );
    assert!(
        !wait_vip(&lab.b, false, Duration::from_secs(2)),
        "b kept it"
    );
    assert!(
        wait_log(
            &db,
            "entering BACKUP state: higher priority 150 from 192.0.2.1",
            Duration::from_secs(2)
        ),
        "{}",
        db.log()
    );
}

#[test]
fn standby_under_nopreempt_is_fault_and_takeover_leaves_the_peer_master() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("mn").unwrap();
    let (da, db) = elect(&lab, "nopreempt");
    let state_a = Daemon::state_dir(&lab, "a");
    let state_b = Daemon::state_dir(&lab, "b");

    // A priority drop would not move the VIP to a non-preempting peer: a goes to FAULT, says
    // goodbye with priority 0, and b takes over after its skew time.
    lab.capture.take();
    manual(&state_a, "standby");
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, B, 100, 2));
    assert!(
        settled_on(&seen, B, 100, 2),
        "b did not take over: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    assert!(
        seen.iter().any(|a| a.src == v4(A) && a.priority == 0),
        "no priority 0 from a: {seen:?}"
    );
    assert!(wait_vip(&lab.b, true, Duration::from_secs(2)));
    assert!(!wait_vip(&lab.a, false, Duration::from_secs(2)));
    assert!(
        da.log()
            .contains("entering FAULT state: track_file lvskit_manual_standby failed"),
        "{}",
        da.log()
    );

    // Takeover: a is BACKUP again, and under nopreempt b stays master.
    manual(&state_a, "takeover");
    assert!(
        wait_log(
            &da,
            "entering BACKUP state: fault cleared",
            Duration::from_secs(5)
        ),
        "{}",
        da.log()
    );
    lab.capture.take();
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| ads.len() >= 4);
    assert!(settled_on(&seen, B, 100, 4), "a preempted: {seen:?}");
    assert!(has_vip(&lab.b));
    assert!(!has_vip(&lab.a));

    // Standby on b hands the VIP back to a.
    lab.capture.take();
    manual(&state_b, "standby");
    let seen = lab.wait_adverts(Duration::from_secs(10), |ads| settled_on(ads, A, 150, 2));
    assert!(
        settled_on(&seen, A, 150, 2),
        "a did not take over: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    assert!(wait_vip(&lab.a, true, Duration::from_secs(2)));
    assert!(!wait_vip(&lab.b, false, Duration::from_secs(2)));
}

#[test]
fn a_restart_clears_standby() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("mr").unwrap();
    let (mut da, _db) = elect(&lab, "");
    let state_a = Daemon::state_dir(&lab, "a");
    manual(&state_a, "standby");
    let seen = lab.wait_adverts(Duration::from_secs(15), |ads| settled_on(ads, B, 100, 2));
    assert!(settled_on(&seen, B, 100, 2), "{seen:?}\n{}", da.log());
    assert_eq!(
        std::fs::read_to_string(state_a.join("standby")).unwrap(),
        "1\n"
    );

    // A restarted a writes 0 into the file and preempts with its configured 150.
    da.stop().unwrap();
    lab.capture.take();
    let da = lvskitd(&lab, &lab.a, "a", &instance(150, ""));
    let seen = lab.wait_adverts(Duration::from_secs(15), |ads| settled_on(ads, A, 150, 2));
    assert!(settled_on(&seen, A, 150, 2), "{seen:?}\n{}", da.log());
    assert_eq!(
        std::fs::read_to_string(state_a.join("standby")).unwrap(),
        "0\n"
    );
    assert!(wait_vip(&lab.a, true, Duration::from_secs(2)));
}
