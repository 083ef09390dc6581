//! Round trip: heartbeat's seed cluster (`testdata/configs/seeds/001-heartbeat-ldirectord`)
//! imported by `lvskit-import heartbeat` and run by two `lvskitd -P` on a bridge, each as the
//! director its config id names. The behaviour heartbeat described: the first `node` of
//! `ha.cf` (the owner of the haresources group) holds the VIP, the other takes it over when
//! the first dies (within `deadtime`), and with `auto_failback on` the first takes it back
//! when it returns; with `auto_failback off` it does not. Adverts are read from a capture on
//! `b`'s `eth0` (`ucast` makes them unicast, which the bridge does not flood to the client);
//! the VIP from the routers' addresses. Needs root.
//!
//! The seed's addresses are private ones; the test maps them onto the lab's documentation
//! addresses before importing (the VIP 192.168.1.106 is 192.0.2.100, the `ucast` peer
//! 192.168.1.103 is `b`, 192.0.2.2), and gives each director the `ucast` line that names its
//! peer, as heartbeat clusters using `ucast` do (the seed's ha.cf is the primary's).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lvskit_examples::vrrp_lab::{Advert, Daemon, Implementation, Lab, adverts};
use testbed::{Capture, Netns, require_root};

const IMPORT: &str = env!("CARGO_BIN_EXE_lvskit-import");
const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");
const CHECK: &str = env!("CARGO_BIN_EXE_check");

/// One lab at a time: the machine's cores are shared.
static SERIAL: Mutex<()> = Mutex::new(());

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";
const VIP: &str = "192.0.2.100";

/// The seed's addresses and the lab's.
const MAP: &[(&str, &str)] = &[
    ("192.168.1.106", VIP),
    ("192.168.1.103", B),
    ("192.168.1.102", "192.0.2.9"),
    ("192.168.1.104", "192.0.2.4"),
    ("192.168.1.105", "192.0.2.5"),
    ("10.0.0.", "198.51.100."),
];

fn v4(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A seed file with the lab's addresses.
fn seed(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/configs/seeds/001-heartbeat-ldirectord")
        .join(name);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in MAP {
        text = text.replace(from, to);
    }
    text
}

/// Imports the seed as `node`'s files: its ha.cf's `ucast` names `peer`, `edit` changes the
/// rest. Returns keepalived.conf.
fn import(lab: &Lab, node: &str, peer: &str, edit: impl Fn(String) -> String) -> String {
    let dir: PathBuf = lab.file(&format!("{node}-heartbeat"));
    std::fs::create_dir_all(&dir).unwrap();
    let ha = seed("ha.cf").replace(&format!("ucast eth0 {B}"), &format!("ucast eth0 {peer}"));
    std::fs::write(dir.join("ha.cf"), edit(ha)).unwrap();
    for name in ["haresources", "authkeys", "ldirectord.cf"] {
        std::fs::write(dir.join(name), seed(name)).unwrap();
    }
    let out = Command::new(IMPORT)
        .args(["heartbeat", "--check-program", CHECK])
        .args(["ha.cf", "haresources", "authkeys"].map(|f| dir.join(f)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conf = String::from_utf8(out.stdout).unwrap();
    assert!(
        conf.contains(&format!("unicast_peer {{\n        {peer}\n")),
        "{conf}"
    );
    conf
}

/// `lvskitd -P` as director `id` (the `@id` lines of the import).
fn lvskitd(lab: &Lab, ns: &Netns, name: &str, conf: &str, id: &str) -> Daemon {
    Daemon::start_with(
        lab,
        ns,
        name,
        conf,
        &Implementation::Lvskitd(LVSKITD.into()),
        &["-i", id],
    )
    .unwrap()
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

/// The last `n` adverts all come from `src` with `priority`.
fn settled_on(ads: &[Advert], src: &str, priority: u8, n: usize) -> bool {
    ads.len() >= n
        && ads[ads.len() - n..]
            .iter()
            .all(|a| a.src == v4(src) && a.priority == priority)
}

fn wait_adverts(
    capture: &Capture,
    timeout: Duration,
    done: impl Fn(&[Advert]) -> bool,
) -> Vec<Advert> {
    adverts(&capture.wait_until(timeout, |frames| done(&adverts(frames))))
}

/// Both directors from the seed (with `edit` applied to both ha.cf), `a` the settled master.
fn start(lab: &Lab, edit: impl Fn(String) -> String + Copy) -> (Daemon, Daemon, Capture, String) {
    let conf_a = import(lab, "primarylb", B, edit);
    let conf_b = import(lab, "backuplb", A, edit);
    let capture = Capture::start(&lab.b, "eth0").unwrap();
    let da = lvskitd(lab, &lab.a, "a", &conf_a, "primarylb");
    let db = lvskitd(lab, &lab.b, "b", &conf_b, "backuplb");
    // advert_int 2 (keepalive 2): 3 adverts and the skew before a backup takes over.
    let seen = wait_adverts(&capture, Duration::from_secs(20), |ads| {
        settled_on(ads, A, 150, 2)
    });
    assert!(
        settled_on(&seen, A, 150, 2),
        "the first node did not become master: {seen:?}\n--- a:\n{}\n--- b:\n{}",
        da.log(),
        db.log()
    );
    assert!(
        wait_vip(&lab.a, true, Duration::from_secs(2)),
        "{}",
        da.log()
    );
    assert!(!has_vip(&lab.b));
    assert!(
        !seen.iter().any(|a| a.src == v4(B) && a.priority > 0),
        "the backup advertised: {seen:?}"
    );
    (da, db, capture, conf_a)
}

/// Kills the master `a`: `b` takes over after its down interval, within heartbeat's deadtime.
fn kill_master(lab: &Lab, da: &mut Daemon, db: &Daemon, capture: &Capture) {
    capture.take();
    da.kill();
    // A heartbeat node that dies takes its addresses with it; a killed process leaves them
    // (lvskitd restarted as BACKUP does not remove them: what a restart on a live host does is
    // not this test's question).
    lab.a
        .ip(&["addr", "del", &format!("{VIP}/24"), "dev", "eth0"])
        .unwrap();
    let seen = wait_adverts(&capture, Duration::from_secs(30), |ads| {
        settled_on(ads, B, 100, 2)
    });
    assert!(settled_on(&seen, B, 100, 2), "{seen:?}\n{}", db.log());
    assert!(
        wait_vip(&lab.b, true, Duration::from_secs(2)),
        "{}",
        db.log()
    );
    assert!(
        db.log()
            .contains("entering MASTER state: master down timer expired"),
        "{}",
        db.log()
    );
}

#[test]
fn heartbeat_seed_first_node_masters_the_other_takes_over_and_auto_failback_returns_it() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("rt").unwrap();
    let (mut da, db, capture, conf_a) = start(&lab, |ha| ha);
    assert!(
        conf_a.contains("    preempt\n"),
        "auto_failback on: {conf_a}"
    );
    kill_master(&lab, &mut da, &db, &capture);

    // auto_failback on: the first node takes its resources back when it returns.
    capture.take();
    let _da = lvskitd(&lab, &lab.a, "a2", &conf_a, "primarylb");
    let seen = wait_adverts(&capture, Duration::from_secs(20), |ads| {
        settled_on(ads, A, 150, 2)
    });
    assert!(settled_on(&seen, A, 150, 2), "{seen:?}\n{}", db.log());
    assert!(wait_vip(&lab.a, true, Duration::from_secs(2)));
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
fn heartbeat_seed_without_auto_failback_leaves_the_vip_on_the_survivor() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("ru").unwrap();
    let off = |ha: String| ha.replace("auto_failback on", "auto_failback off");
    let (mut da, db, capture, conf_a) = start(&lab, off);
    assert!(
        conf_a.contains("    nopreempt\n"),
        "auto_failback off: {conf_a}"
    );
    kill_master(&lab, &mut da, &db, &capture);

    // auto_failback off: the returning first node stays BACKUP behind the survivor.
    let da = lvskitd(&lab, &lab.a, "a2", &conf_a, "primarylb");
    assert!(
        wait_log(&da, "entering BACKUP state", Duration::from_secs(10)),
        "{}",
        da.log()
    );
    capture.take();
    let seen = wait_adverts(&capture, Duration::from_secs(20), |ads| ads.len() >= 5);
    assert!(
        settled_on(&seen, B, 100, 5),
        "a preempted: {seen:?}\n{}",
        da.log()
    );
    assert!(has_vip(&lab.b));
    assert!(!has_vip(&lab.a), "{}", da.log());
}
