//! Operating `lvskitd`: the state document on its unix socket, read with `lvskitd status`,
//! against two directors on a bridge (the VRRP lab), after a failover caused by a failing
//! `vrrp_script`. Needs root.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use director::state::{InstanceState, State};
use lvskit_examples::vrrp_lab::{Daemon, Implementation, Lab};
use testbed::{Netns, require_root};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

/// One lab at a time: the tests share two cores.
static SERIAL: Mutex<()> = Mutex::new(());

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";

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

/// `lvskitd status --json --socket PATH`, parsed; `None` while the socket does not answer.
fn status_json(socket: &Path) -> Option<State> {
    let out = Command::new(LVSKITD)
        .args(["status", "--json", "--socket"])
        .arg(socket)
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    Some(serde_json::from_slice(&out.stdout).expect("status --json prints the state document"))
}

/// Polls the state until `done` holds for it, or 15 s; returns the last one read.
fn wait_state(socket: &Path, done: impl Fn(&State) -> bool) -> State {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let state = status_json(socket);
        if let Some(state) = &state
            && (done(state) || Instant::now() > deadline)
        {
            return state.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{} never answered",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn instance<'a>(state: &'a State, name: &str) -> &'a InstanceState {
    state
        .vrrp
        .as_ref()
        .expect("the VRRP half runs")
        .instances
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no instance {name} in {state:#?}"))
}

fn conf(priority: u8, script: &str, pass: &str, extra_instance: &str) -> String {
    let track = if script.is_empty() {
        String::new()
    } else {
        "track_script {\n chk\n }".to_string()
    };
    format!(
        "{script}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1
    {track}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
vrrp_instance VI_3 {{
    interface eth0
    virtual_router_id 53
    priority {priority}
    advert_int 1
    authentication {{
        auth_type PASS
        auth_pass {pass}
    }}
    virtual_ipaddress {{
        192.0.2.103/24
    }}
}}
{extra_instance}"
    )
}

/// Every field of the document after an election, then after `a`'s `vrrp_script` fails and
/// `b` takes over: states, priorities, the master as heard, trackers, scripts, counters, drops
/// by reason (an instance with another password, a VRID only the peer has), the timeline.
#[test]
fn the_state_document_follows_a_failover_and_a_failing_check() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("op").unwrap();
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
    let conf_a = conf(150, &script, "secret-a", "");
    // b has an instance a does not know (dropped as unknown_vrid by a).
    let conf_b = conf(
        100,
        "",
        "secret-b",
        "vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.102/24
    }
}
",
    );
    let da = lvskitd(&lab, &lab.a, "a", &conf_a);
    let db = lvskitd(&lab, &lab.b, "b", &conf_b);
    let sock_a = lab.file("a.sock");
    let sock_b = lab.file("b.sock");

    let a = wait_state(&sock_a, |s| {
        let i = instance(s, "VI_1");
        i.state == "MASTER" && instance(s, "VI_3").counters.dropped["auth_mismatch"] > 0
    });
    let b = wait_state(&sock_b, |s| {
        let i = instance(s, "VI_1");
        i.state == "BACKUP" && i.master.as_ref().is_some_and(|m| !m.is_self)
    });
    let logs = || format!("--- a:\n{}\n--- b:\n{}", da.log(), db.log());

    // The socket is root's alone.
    let mode = std::fs::metadata(&sock_a).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");

    // The process.
    assert_eq!(a.format, director::state::FORMAT);
    assert_eq!(i64::from(a.pid), i64::from(da.vrrp_pid().unwrap()));
    assert!(a.uptime_ms > 0.0);
    assert!(a.generated_unix_ms > 1_600_000_000_000);
    assert!(a.lb.is_none(), "-P runs no load balancer");

    // a: MASTER of VI_1 at 150, its script passing.
    let i = instance(&a, "VI_1");
    assert_eq!(i.interface, "eth0");
    assert_eq!((i.vrid, i.version), (51, 2));
    assert_eq!((i.base_priority, i.effective_priority), (150, 150));
    assert_eq!(i.address, v4(A));
    assert_eq!(i.virtual_addresses, vec![v4("192.0.2.100")]);
    let m = i.master.as_ref().expect("a master");
    assert!(m.is_self && m.address == v4(A) && m.priority == 150 && m.last_heard_ms_ago.is_none());
    assert_eq!(i.trackers.len(), 1);
    let t = &i.trackers[0];
    assert_eq!(
        (t.kind.as_str(), t.name.as_str(), t.weight, t.reverse, t.ok),
        ("script", "chk", -60, false, Some(true))
    );
    assert!(i.counters.adverts_sent > 0);
    assert!(i.counters.transitions >= 1 && i.counters.became_master == 1);
    let last = i.last_transition.as_ref().expect("a transition");
    assert_eq!(last.to, "MASTER");
    assert!(last.ms_ago >= 0.0);
    let vrrp = a.vrrp.as_ref().unwrap();
    assert_eq!(vrrp.scripts.len(), 1);
    assert_eq!(vrrp.scripts[0].name, "chk");
    assert!(vrrp.scripts[0].ok && vrrp.scripts[0].failures == 0);
    assert_eq!(vrrp.scripts[0].interval_ms, 1000.0);
    // A master hears only what it drops here (b's VI_2 and VI_3).
    assert!(vrrp.packets.received >= vrrp.packets.accepted + vrrp.packets.dropped["unknown_vrid"]);
    assert!(vrrp.packets.dropped["unknown_vrid"] > 0, "{vrrp:#?}");
    assert!(
        vrrp.garps_sent > 0,
        "a MASTER sent gratuitous ARPs: {vrrp:#?}"
    );
    for reason in director::DropReason::ALL {
        assert!(vrrp.packets.dropped.contains_key(reason.name()));
        assert!(i.counters.dropped.contains_key(reason.name()));
    }
    // VI_3: both sides are MASTER (the passwords differ) and drop each other's adverts.
    let i3 = instance(&a, "VI_3");
    assert_eq!(i3.state, "MASTER");
    assert!(i3.counters.dropped["auth_mismatch"] > 0);
    assert_eq!(i3.counters.adverts_received, 0);
    assert!(
        vrrp.timeline
            .iter()
            .any(|t| t.instance == "VI_1" && t.to == "MASTER")
    );

    // b: BACKUP, hearing a at 150.
    let i = instance(&b, "VI_1");
    assert_eq!((i.base_priority, i.effective_priority), (100, 100));
    let m = i.master.as_ref().unwrap();
    assert!(
        !m.is_self && m.address == v4(A) && m.priority == 150,
        "{m:?}"
    );
    let heard = m.last_heard_ms_ago.expect("heard");
    assert!((0.0..5000.0).contains(&heard), "last heard {heard} ms ago");
    assert!(i.counters.adverts_received > 0);
    assert!(b.vrrp.as_ref().unwrap().packets.accepted >= i.counters.adverts_received);
    assert!(i.trackers.is_empty());
    let transitions_b = i.counters.transitions;

    // a's check fails: 150 - 60 = 90 < 100, b takes over.
    std::fs::remove_file(&flag).unwrap();
    let a = wait_state(&sock_a, |s| {
        let i = instance(s, "VI_1");
        i.state == "BACKUP" && i.master.as_ref().is_some_and(|m| m.address == v4(B))
    });
    let b = wait_state(&sock_b, |s| instance(s, "VI_1").state == "MASTER");
    let i = instance(&a, "VI_1");
    assert_eq!(i.state, "BACKUP", "{}", logs());
    assert_eq!((i.base_priority, i.effective_priority), (150, 90));
    assert_eq!(i.trackers[0].ok, Some(false));
    let m = i.master.as_ref().unwrap();
    assert!(!m.is_self && m.priority == 100, "{m:?}");
    let last = i.last_transition.as_ref().unwrap();
    assert_eq!((last.from.as_str(), last.to.as_str()), ("MASTER", "BACKUP"));
    assert!(
        last.reason.contains("higher priority 100 from 192.0.2.2"),
        "{last:?}"
    );
    assert!(i.counters.transitions >= 2);
    let vrrp = a.vrrp.as_ref().unwrap();
    assert!(!vrrp.scripts[0].ok && vrrp.scripts[0].failures >= 1);
    let newest = vrrp.timeline.last().unwrap();
    assert_eq!(
        (newest.instance.as_str(), newest.to.as_str()),
        ("VI_1", "BACKUP")
    );
    let i = instance(&b, "VI_1");
    assert!(i.master.as_ref().unwrap().is_self);
    assert_eq!(i.counters.became_master, 1);
    assert!(i.counters.transitions > transitions_b);

    // The tables name the same.
    let out = Command::new(LVSKITD)
        .args(["status", "--socket"])
        .arg(&sock_a)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("VI_1") && text.contains("BACKUP") && text.contains("script chk=FAIL"));
    assert!(text.contains("192.0.2.2 prio 100"), "{text}");
    assert!(
        text.contains("higher priority 100 from 192.0.2.2"),
        "{text}"
    );

    // Gone with the daemon.
    drop(da);
    let out = Command::new(LVSKITD)
        .args(["status", "--socket"])
        .arg(&sock_a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
