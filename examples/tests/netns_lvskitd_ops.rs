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
    // The script, and the standby file every instance tracks (`lvskitd standby`).
    assert_eq!(i.trackers.len(), 2, "{:?}", i.trackers);
    let standby = i.trackers.iter().find(|t| t.kind == "file").unwrap();
    assert_eq!(standby.ok, Some(true));
    let t = i.trackers.iter().find(|t| t.kind == "script").unwrap();
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
    assert!(
        i.trackers
            .iter()
            .all(|t| t.kind == "file" && t.ok == Some(true))
    );
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
    let t = i.trackers.iter().find(|t| t.kind == "script").unwrap();
    assert_eq!(t.ok, Some(false));
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

/// One HTTP/1.1 request from inside `ns`; the status code and body (the server closes).
fn http(ns: &Netns, addr: &str, method: &str, path: &str, body: Option<String>) -> (u16, String) {
    let (addr, method, path) = (addr.to_string(), method.to_string(), path.to_string());
    ns.run(move || -> std::io::Result<(u16, String)> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let body = body.unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        // Read the head, then exactly the body (chromedriver keeps the connection open).
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break raw.len();
            }
            raw.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
        let code = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        let chunked = head.contains("transfer-encoding: chunked");
        loop {
            let have = raw.len() - head_end;
            let done = match length {
                Some(len) => have >= len,
                None if chunked => raw.ends_with(b"0\r\n\r\n"),
                None => false,
            };
            if done {
                break;
            }
            let n = stream.read(&mut buf)?;
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
        }
        let body = String::from_utf8_lossy(&raw[head_end..]).into_owned();
        let body = if chunked { dechunk(&body) } else { body };
        Ok((code, body))
    })
    .unwrap()
    .unwrap()
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

const HTTP: &str = "127.0.0.1:9650";

fn script_conf(flag: &Path) -> String {
    let script = format!(
        "vrrp_script chk {{
    script \"/usr/bin/test -e {}\"
    interval 1
    weight -60
}}
",
        flag.display()
    );
    conf(150, &script, "secret", "")
}

/// `/metrics` scraped on the director's loopback, every family parsed with a text-format
/// parser; the listener cannot be reached from another namespace; a non-loopback address is
/// refused without `--http-public`.
#[test]
fn metrics_are_served_on_loopback_only() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("om").unwrap();
    let flag = lab.file("healthy");
    std::fs::write(&flag, "").unwrap();
    let da = Daemon::start_with(
        &lab,
        &lab.a,
        "a",
        &script_conf(&flag),
        &Implementation::Lvskitd(LVSKITD.into()),
        &["--http", HTTP],
    )
    .unwrap();
    let _db = lvskitd(&lab, &lab.b, "b", &conf(100, "", "secret", ""));
    wait_state(&lab.file("a.sock"), |s| {
        instance(s, "VI_1").state == "MASTER"
    });

    let (code, text) = http(&lab.a, HTTP, "GET", "/metrics", None);
    assert_eq!(code, 200, "{text}\n{}", da.log());
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let get = |metric: &str, labels: &[(&str, &str)]| -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .unwrap_or_else(|| panic!("no {metric} {labels:?} in\n{text}"));
        match s.value {
            prometheus_parse::Value::Counter(x)
            | prometheus_parse::Value::Gauge(x)
            | prometheus_parse::Value::Untyped(x) => x,
            _ => panic!("{metric}: not a single value"),
        }
    };
    assert_eq!(
        get(
            "lvskit_vrrp_instance_state",
            &[("instance", "VI_1"), ("state", "MASTER")]
        ),
        1.0
    );
    assert_eq!(
        get(
            "lvskit_vrrp_instance_state",
            &[("instance", "VI_1"), ("state", "BACKUP")]
        ),
        0.0
    );
    assert_eq!(
        get("lvskit_vrrp_instance_priority", &[("instance", "VI_1")]),
        150.0
    );
    assert_eq!(get("lvskit_vrrp_script_up", &[("script", "chk")]), 1.0);
    assert!(get("lvskit_vrrp_adverts_sent_total", &[("instance", "VI_1")]) > 0.0);
    assert!(get("lvskit_vrrp_garps_sent_total", &[]) > 0.0);
    assert!(get("lvskit_vrrp_transitions_total", &[("instance", "VI_1")]) >= 1.0);
    for reason in director::DropReason::ALL {
        get(
            "lvskit_vrrp_packets_dropped_total",
            &[("reason", reason.name())],
        );
        get(
            "lvskit_vrrp_adverts_received_total",
            &[("instance", "VI_1"), ("outcome", reason.name())],
        );
    }
    for name in [
        "lvskit_build_info",
        "lvskit_uptime_seconds",
        "lvskit_vrrp_instance_base_priority",
        "lvskit_vrrp_master_priority",
        "lvskit_vrrp_became_master_total",
        "lvskit_vrrp_packets_received_total",
        "lvskit_vrrp_tracker_up",
    ] {
        get(name, &[]);
    }
    // The state document and the page on the same listener.
    let (code, json) = http(&lab.a, HTTP, "GET", "/state.json", None);
    assert_eq!(code, 200);
    let state: State = serde_json::from_str(&json).unwrap();
    assert_eq!(instance(&state, "VI_1").state, "MASTER");
    let (code, page) = http(&lab.a, HTTP, "GET", "/", None);
    assert_eq!(code, 200);
    assert!(page.contains("<title>lvskitd status</title>"));
    assert_eq!(http(&lab.a, HTTP, "GET", "/nothing", None).0, 404);
    assert_eq!(http(&lab.a, HTTP, "POST", "/metrics", None).0, 405);

    // Not reachable from another namespace: neither at a's address nor at the client's own
    // loopback.
    for target in ["192.0.2.1:9650", HTTP] {
        let target = target.to_string();
        let refused = lab
            .c
            .run(move || {
                std::net::TcpStream::connect_timeout(
                    &target.parse().unwrap(),
                    Duration::from_secs(2),
                )
                .is_err()
            })
            .unwrap();
        assert!(refused);
    }

    // A non-loopback address needs --http-public.
    let out = Command::new(LVSKITD)
        .args(["--http", "192.0.2.1:9650", "-P", "-f"])
        .arg(lab.file("a.conf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--http-public"));
}

/// A WebDriver session to chromium headless, driven over plain HTTP JSON from inside a
/// namespace; the session is deleted and chromedriver killed when dropped.
struct Browser<'a> {
    ns: &'a Netns,
    driver: std::process::Child,
    session: String,
    _profile: tempdir::TempDir,
}

mod tempdir {
    /// A directory removed when dropped.
    pub(crate) struct TempDir(pub(crate) std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

const DRIVER: &str = "127.0.0.1:9515";

impl<'a> Browser<'a> {
    fn start(ns: &'a Netns, profile: std::path::PathBuf) -> Self {
        std::fs::create_dir_all(&profile).unwrap();
        let driver = ns
            .command("chromedriver")
            .arg("--port=9515")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver (cargo xtask test netns installs chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = {
                let ns_addr = DRIVER.to_string();
                ns.run(move || std::net::TcpStream::connect(ns_addr).is_ok())
                    .unwrap()
            };
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = serde_json::json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }}
        });
        let (code, body) = http(ns, DRIVER, "POST", "/session", Some(caps.to_string()));
        assert_eq!(code, 200, "new session: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let session = v["value"]["sessionId"].as_str().unwrap().to_string();
        Self {
            ns,
            driver,
            session,
            _profile: tempdir::TempDir(profile),
        }
    }

    fn call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let path = format!("/session/{}{path}", self.session);
        let body = (method == "POST").then(|| body.to_string());
        let (code, text) = http(self.ns, DRIVER, method, &path, body);
        assert_eq!(code, 200, "{method} {path}: {text}");
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["value"].clone()
    }

    fn open(&self, url: &str) {
        self.call("POST", "/url", serde_json::json!({ "url": url }));
    }

    /// The visible text of the first element matching `css`, `None` when there is none. The
    /// page redraws its tables twice a second, so an element found may be gone before it is
    /// read: then it is found again.
    fn text(&self, css: &str) -> Option<String> {
        for _ in 0..50 {
            let path = format!("/session/{}/element", self.session);
            let body = serde_json::json!({ "using": "css selector", "value": css }).to_string();
            let (code, text) = http(self.ns, DRIVER, "POST", &path, Some(body));
            if code != 200 {
                return None;
            }
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let id = v["value"]["element-6066-11e4-a52e-4f735466cecf"]
                .as_str()?
                .to_string();
            let path = format!("/session/{}/element/{id}/text", self.session);
            let (code, text) = http(self.ns, DRIVER, "GET", &path, None);
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            if code == 200 {
                return v["value"].as_str().map(str::to_string);
            }
            assert_eq!(v["value"]["error"], "stale element reference", "{text}");
        }
        panic!("{css} was always replaced before it could be read");
    }

    /// Waits until the element's text satisfies `ok`, or `timeout`; the last text seen.
    fn wait_text(&self, css: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text(css);
            if text.as_deref().is_some_and(&ok) || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = http(self.ns, DRIVER, "DELETE", &path, None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The status page in chromium headless: it shows the director's state, and when the
/// `vrrp_script` fails it changes on its own (no reload) to the failed script, the lower
/// priority, BACKUP and the peer as master, with the transition in the timeline.
#[test]
fn the_status_page_in_a_browser_follows_a_failing_check() {
    require_root();
    assert!(
        Command::new("chromedriver")
            .arg("--version")
            .output()
            .is_ok(),
        "chromedriver missing: cargo xtask test netns installs chromium and chromium-driver"
    );
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("ob").unwrap();
    let flag = lab.file("healthy");
    std::fs::write(&flag, "").unwrap();
    let da = Daemon::start_with(
        &lab,
        &lab.a,
        "a",
        &script_conf(&flag),
        &Implementation::Lvskitd(LVSKITD.into()),
        &["--http", HTTP],
    )
    .unwrap();
    let db = lvskitd(&lab, &lab.b, "b", &conf(100, "", "secret", ""));
    wait_state(&lab.file("a.sock"), |s| {
        instance(s, "VI_1").state == "MASTER"
    });

    let browser = Browser::start(&lab.a, lab.file("chromium-profile"));
    browser.open(&format!("http://{HTTP}/"));
    let row = "#instances tr[data-instance='VI_1']";
    let state = browser.wait_text(&format!("{row} td.state"), Duration::from_secs(10), |t| {
        t == "MASTER"
    });
    assert_eq!(
        state.as_deref(),
        Some("MASTER"),
        "page:\n{}\n{}",
        browser.call("GET", "/source", serde_json::Value::Null),
        da.log()
    );
    assert_eq!(
        browser.text(&format!("{row} td.priority")).as_deref(),
        Some("150 / 150")
    );
    assert_eq!(
        browser.text(&format!("{row} td.master")).as_deref(),
        Some("this router")
    );
    let trackers = browser.text(&format!("{row} td.trackers")).unwrap();
    assert!(trackers.starts_with("script chk: ok"), "{trackers}");
    assert_eq!(
        browser
            .text("#scripts tr[data-script='chk'] td.result")
            .as_deref(),
        Some("ok")
    );
    let summary = browser
        .text(".summary-instance[data-instance='VI_1']")
        .unwrap();
    assert!(summary.contains("MASTER"), "{summary}");
    let timeline = browser.text("#timeline tbody").unwrap();
    assert!(
        timeline.contains("VI_1") && timeline.contains("→ MASTER"),
        "{timeline}"
    );
    // Nothing came from elsewhere: every resource the page loaded is its own origin's.
    let foreign = browser.call(
        "POST",
        "/execute/sync",
        serde_json::json!({
            "script": "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin));",
            "args": []
        }),
    );
    assert_eq!(foreign, serde_json::json!([]));
    let generated = |b: &Browser| {
        b.call(
            "POST",
            "/execute/sync",
            serde_json::json!({ "script": "return document.body.dataset.generated;", "args": [] }),
        )
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(0)
    };
    let before = generated(&browser);

    // The check fails: within one interval (1 s) plus a page refresh the page shows it.
    let failed_at = Instant::now();
    std::fs::remove_file(&flag).unwrap();
    let script = browser.wait_text(
        "#scripts tr[data-script='chk'] td.result",
        Duration::from_secs(3),
        |t| t == "FAIL",
    );
    let shown = failed_at.elapsed();
    assert_eq!(script.as_deref(), Some("FAIL"), "{}", da.log());
    println!(
        "the page showed the failed check {:.0} ms after the file went",
        shown.as_secs_f64() * 1000.0
    );
    let state = browser.wait_text(&format!("{row} td.state"), Duration::from_secs(10), |t| {
        t == "BACKUP"
    });
    assert_eq!(
        state.as_deref(),
        Some("BACKUP"),
        "{}\n{}",
        da.log(),
        db.log()
    );
    assert_eq!(
        browser.text(&format!("{row} td.priority")).as_deref(),
        Some("90 / 150")
    );
    assert_eq!(
        browser.text(&format!("{row} td.master")).as_deref(),
        Some("192.0.2.2 priority 100")
    );
    let trackers = browser.text(&format!("{row} td.trackers")).unwrap();
    assert!(trackers.starts_with("script chk: FAIL"), "{trackers}");
    let timeline = browser.text("#timeline tbody tr").unwrap();
    assert!(
        timeline.contains("MASTER → BACKUP")
            && timeline.contains("higher priority 100 from 192.0.2.2"),
        "{timeline}"
    );
    // The page was not reloaded: it is the same document, refreshed.
    assert!(generated(&browser) > before);
    let nav = browser.call(
        "POST",
        "/execute/sync",
        serde_json::json!({ "script": "return performance.getEntriesByType('navigation').length;", "args": [] }),
    );
    assert_eq!(nav, serde_json::json!(1));
}

/// The capability sets of every thread of `pid`: (name, CapInh, CapPrm, CapEff, CapBnd, CapAmb).
fn thread_caps(pid: i32) -> Vec<(String, [u64; 5])> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = task.unwrap().path();
        let Ok(status) = std::fs::read_to_string(path.join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
                .unwrap()
        };
        out.push((
            path.display().to_string(),
            ["CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"].map(field),
        ));
    }
    out
}

/// After start-up every thread of lvskitd holds CAP_NET_ADMIN and CAP_NET_RAW only (plus what
/// `--keep-caps` names), in its effective, permitted and bounding sets; and it still works
/// (a failover after the drop).
#[test]
fn capabilities_are_dropped_after_start_up() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("oc").unwrap();
    let net = (1u64 << 12) | (1 << 13); // CAP_NET_ADMIN, CAP_NET_RAW
    let da = lvskitd(&lab, &lab.a, "a", &conf(150, "", "secret", ""));
    let mut db = Daemon::start_with(
        &lab,
        &lab.b,
        "b",
        &conf(200, "", "secret", ""),
        &Implementation::Lvskitd(LVSKITD.into()),
        &["--keep-caps", "CAP_SYS_ADMIN"],
    )
    .unwrap();
    wait_state(&lab.file("b.sock"), |s| {
        instance(s, "VI_1").state == "MASTER"
    });
    wait_state(&lab.file("a.sock"), |s| {
        instance(s, "VI_1").state == "BACKUP"
    });
    for (daemon, expected) in [(&da, net), (&db, net | (1 << 21))] {
        let pid = daemon.vrrp_pid().unwrap();
        let threads = thread_caps(pid);
        assert!(!threads.is_empty());
        for (thread, [inh, prm, eff, bnd, amb]) in &threads {
            assert_eq!(
                (*prm, *eff, *bnd, *inh, *amb),
                (expected, expected, expected, 0, 0),
                "{thread}: permitted {prm:x} effective {eff:x} bounding {bnd:x} inheritable {inh:x} ambient {amb:x}\n{}",
                daemon.log()
            );
        }
    }
    assert!(da.log().contains("capabilities dropped"), "{}", da.log());
    // Still a working director: a takes over when b goes (adverts, addresses, GARPs).
    db.stop().unwrap();
    let a = wait_state(&lab.file("a.sock"), |s| {
        instance(s, "VI_1").state == "MASTER"
    });
    assert_eq!(instance(&a, "VI_1").state, "MASTER", "{}", da.log());
    let addrs = lab.a.ip(&["-o", "addr", "show", "dev", "eth0"]).unwrap();
    assert!(addrs.contains(" 192.0.2.100/24"), "{addrs}\n{}", da.log());
}

/// keepalived's signal dumps: `--signum` gives keepalived's numbers, and SIGUSR1, SIGUSR2 and
/// the JSON signal write the data, stats and JSON files.
#[test]
fn keepalived_signals_write_the_dumps() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for name in ["STOP", "RELOAD", "DATA", "STATS", "JSON"] {
        let ours = Command::new(LVSKITD)
            .arg(format!("--signum={name}"))
            .output()
            .unwrap();
        assert!(ours.status.success());
        let theirs = Command::new("keepalived")
            .arg(format!("--signum={name}"))
            .output()
            .expect("keepalived (cargo xtask test netns installs it)");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout).trim(),
            String::from_utf8_lossy(&theirs.stdout).trim(),
            "--signum={name}"
        );
    }
    let lab = Lab::new("od").unwrap();
    let dumps = lab.file("dumps");
    std::fs::create_dir_all(&dumps).unwrap();
    let da = Daemon::start_with(
        &lab,
        &lab.a,
        "a",
        &conf(150, "", "secret", ""),
        &Implementation::Lvskitd(LVSKITD.into()),
        &["--dump-dir", dumps.to_str().unwrap()],
    )
    .unwrap();
    wait_state(&lab.file("a.sock"), |s| {
        instance(s, "VI_1").state == "MASTER"
    });
    let pid = da.vrrp_pid().unwrap();
    let signum = |name: &str| -> i32 {
        let out = Command::new(LVSKITD)
            .arg(format!("--signum={name}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    let wait_file = |name: &str| -> String {
        let path = dumps.join(name);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !path.exists() {
            assert!(Instant::now() < deadline, "no {name}:\n{}", da.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(&path).unwrap()
    };
    // SAFETY: kill(2) on the lvskitd this test started.
    unsafe { libc::kill(pid, signum("DATA")) };
    let data = wait_file("keepalived.data");
    assert!(data.contains(" VRRP Instance = VI_1\n"), "{data}");
    assert!(data.contains("   State = MASTER\n"), "{data}");
    assert!(data.contains("   Virtual Router ID = 51\n"), "{data}");
    assert!(data.contains("   Master router = 192.0.2.1\n"), "{data}");
    // SAFETY: as above.
    unsafe { libc::kill(pid, signum("STATS")) };
    let stats = wait_file("keepalived.stats");
    assert!(
        stats.contains("VRRP Instance: VI_3\n  Advertisements:\n    Received: 0\n"),
        "{stats}"
    );
    assert!(stats.contains("  Became master: 1\n"), "{stats}");
    // SAFETY: as above.
    unsafe { libc::kill(pid, signum("JSON")) };
    let json = wait_file("keepalived.json");
    let state: State = serde_json::from_str(&json).unwrap();
    assert_eq!(instance(&state, "VI_1").state, "MASTER");
    // Still running after all three.
    assert!(status_json(&lab.file("a.sock")).is_some(), "{}", da.log());
}

/// Writes an executable shell script owned by root, with `mode`.
fn script_file(path: &Path, body: &str, mode: u32) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// With `enable_script_security`, a script that runs as root and anyone may change is refused:
/// lvskitd does not start. The same script, not world-writable, runs.
#[test]
fn a_world_writable_script_is_refused() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("ow").unwrap();
    let script = lab.file("check.sh");
    script_file(&script, "exit 0", 0o777);
    let conf = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\n{}",
        conf(
            150,
            &format!(
                "vrrp_script chk {{\n script \"{}\"\n interval 1\n}}\n",
                script.display()
            ),
            "secret",
            ""
        )
    );
    std::fs::write(lab.file("ww.conf"), &conf).unwrap();
    let out = lab
        .a
        .command(LVSKITD)
        .args(["-P", "--socket"])
        .arg(lab.file("ww.sock"))
        .arg("-f")
        .arg(lab.file("ww.conf"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a non-root user can change it"), "{stderr}");
    assert!(stderr.contains("check.sh"), "{stderr}");
    // Not world-writable: it starts and the script passes.
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let da = lvskitd(&lab, &lab.a, "a", &conf);
    let a = wait_state(&lab.file("a.sock"), |s| {
        s.vrrp.as_ref().unwrap().scripts[0].successes > 0
    });
    assert!(a.vrrp.as_ref().unwrap().scripts[0].ok, "{}", da.log());
}

/// A notify script runs with a clean environment (PATH only, nothing of lvskitd's), and what it
/// prints reaches lvskitd's log, cut at the size limit.
#[test]
fn a_notify_script_gets_a_clean_environment_and_its_output_is_logged() {
    require_root();
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let lab = Lab::new("oe").unwrap();
    let script = lab.file("notify.sh");
    // Prints its environment, then 10 kB, and fails (so the output is logged at info).
    script_file(
        &script,
        "echo ENV-BEGIN; /usr/bin/env; echo ENV-END; /usr/bin/head -c 10000 /dev/zero | /usr/bin/tr '\\0' x; exit 1",
        0o755,
    );
    let conf = conf(150, "", "secret", "").replacen(
        "    advert_int 1\n",
        &format!(
            "    advert_int 1\n    notify_master \"{}\"\n",
            script.display()
        ),
        1,
    );
    let da = Daemon::start_with(
        &lab,
        &lab.a,
        "a",
        &conf,
        &Implementation::Lvskitd(LVSKITD.into()),
        &[],
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !da.log().contains("ENV-END") {
        assert!(
            Instant::now() < deadline,
            "no notify output in the log:\n{}",
            da.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Give the stderr/stdout lines a moment to be written whole.
    std::thread::sleep(Duration::from_millis(200));
    let log = da.log();
    let begin = log.find("ENV-BEGIN").unwrap();
    let end = log.find("ENV-END").unwrap();
    let env: Vec<&str> = log[begin..end]
        .lines()
        .skip(1)
        .filter(|l| l.contains('='))
        .collect();
    // The shell adds PWD (and may add OLDPWD/SHLVL/_); nothing else comes from outside.
    for var in &env {
        let name = var.split('=').next().unwrap().trim();
        assert!(
            ["PATH", "PWD", "OLDPWD", "SHLVL", "_"].contains(&name),
            "unexpected {var} in the script's environment:\n{log}"
        );
    }
    assert!(
        env.iter()
            .any(|v| v.trim() == format!("PATH={}", healthcheck::misc::SCRIPT_PATH)),
        "{env:?}"
    );
    // The parent's environment has CARGO_* (cargo test sets it): none of it got through.
    assert!(std::env::vars().any(|(k, _)| k.starts_with("CARGO")));
    // The 10 kB line is cut at the limit.
    assert!(log.contains("more bytes not kept"), "{log}");
    let longest = log.lines().map(|l| l.matches('x').count()).max().unwrap();
    assert!(longest <= healthcheck::misc::OUTPUT_LIMIT, "{longest}");
}
