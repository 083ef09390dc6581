//! `lvskitd -C` against the real kernel in the VM (`cargo xtask vm vm_lvskitd`), with `ipvsadm`
//! as the oracle: the table `ipvsadm -Ln` shows is the one the configuration says; a real server
//! whose listener stops is taken out by its TCP_CHECK and put back when it listens again; a
//! SIGHUP that changes one weight sends one request; a restart adopts the table; a service the
//! configuration does not name is never touched; `--lvs-remove-on-stop` removes ours on SIGTERM.
//!
//! Real servers are listeners of this test on 192.0.2.1 (the VM's `lvs0`); the checks reach
//! them as they would reach a remote server. Waits are bounded so a failure ends the test; no
//! assertion is about time.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

const CONFIG: &str = "
virtual_server 192.0.2.50 80 {
    protocol TCP
    lvs_sched wrr
    lvs_method NAT
    delay_loop 1
    real_server 192.0.2.1 8081 {
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
    real_server 192.0.2.1 8082 {
        weight 1
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
}
virtual_server fwmark 9 {
    lvs_sched sh
    sh-port
    lvs_method DR
    persistence_timeout 30
    real_server 198.51.100.10 {
        weight 2
    }
}
virtual_server 192.0.2.51 53 {
    protocol UDP
    lvs_sched rr
    ops
    lvs_method TUN
    real_server 198.51.100.11 53 {
        uthreshold 100
        lthreshold 10
    }
}
";

/// What `ipvsadm -Ln` must show for [`CONFIG`] with both listeners up, plus the foreign
/// service, as sorted blocks of whitespace-normalised lines (ipvsadm lists in hash order).
const EXPECTED: &str = "
FWM 9 sh (sh-port) persistent 30
-> 198.51.100.10:0 Route 2 0 0
TCP 192.0.2.50:80 wrr
-> 192.0.2.1:8081 Masq 3 0 0
-> 192.0.2.1:8082 Masq 1 0 0
TCP 203.0.113.1:25 rr
-> 203.0.113.2:25 Masq 1 0 0
UDP 192.0.2.51:53 rr ops
-> 198.51.100.11:53 Tunnel 1 0 0
";

fn ipvsadm(args: &[&str]) -> String {
    let out = Command::new("ipvsadm")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ipvsadm (this test runs in the VM): {e}"));
    assert!(
        out.status.success(),
        "ipvsadm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ipvsadm -Ln` as blocks (a service line and its destination lines), normalised and sorted.
fn listing() -> String {
    let text = ipvsadm(&["-Ln"]);
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in text.lines().skip(3) {
        let words = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.starts_with("  ->") {
            if let Some(block) = blocks.last_mut() {
                block.push(words);
            }
        } else if !words.is_empty() {
            blocks.push(vec![words]);
        }
    }
    for block in &mut blocks {
        block[1..].sort();
    }
    blocks.sort();
    let mut out = String::from("\n");
    for line in blocks.into_iter().flatten() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn wait_for(what: &str, bound: Duration, mut ok: impl FnMut() -> bool, log: &Path) {
    let start = Instant::now();
    while !ok() {
        if start.elapsed() > bound {
            panic!(
                "{what}: not reached; ipvsadm -Ln:\n{}\nlvskitd's log:\n{}",
                listing(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(conf: &Path, extra: &[&str], log: &Path) -> Self {
        let file = std::fs::File::create(log).unwrap();
        let child = Command::new(LVSKITD)
            .args(["-C", "-n", "-f"])
            .arg(conf)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("lvskitd starts");
        Self {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as i32, sig) };
        assert_eq!(rc, 0);
    }

    fn stop(mut self) {
        self.signal(libc::SIGTERM);
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "lvskitd exited with {status}:\n{}",
            self.log()
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_table_follows_the_configuration_and_the_checks() {
    let dir = std::env::temp_dir().join("vm_lvskitd");
    let _ = std::fs::create_dir_all(&dir);
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONFIG).unwrap();
    ipvsadm(&["-C"]);
    // A service lvskitd does not own: it must never be touched.
    ipvsadm(&["-A", "-t", "203.0.113.1:25", "-s", "rr"]);
    ipvsadm(&["-a", "-t", "203.0.113.1:25", "-r", "203.0.113.2:25", "-m"]);
    let foreign = "\nTCP 203.0.113.1:25 rr\n-> 203.0.113.2:25 Masq 1 0 0\n";

    let first = TcpListener::bind("192.0.2.1:8081").unwrap();
    let mut second = Some(TcpListener::bind("192.0.2.1:8082").unwrap());
    let log = dir.join("lvskitd-1.log");
    let daemon = Daemon::start(&conf, &[], &log);
    wait_for(
        "the configured table",
        Duration::from_secs(60),
        || listing() == EXPECTED,
        &log,
    );
    let thresholds = ipvsadm(&["-Ln", "--thresholds", "-u", "192.0.2.51:53"]);
    assert!(
        thresholds
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["->", "198.51.100.11:53", "100", "10", "0", "0"]),
        "{thresholds}"
    );

    // The second real server stops listening: removed (delay_loop 1 + retry 1 after 1 s).
    drop(second.take());
    wait_for(
        "192.0.2.1:8082 removed",
        Duration::from_secs(30),
        || !listing().contains("192.0.2.1:8082"),
        &log,
    );
    assert!(listing().contains("-> 192.0.2.1:8081 Masq 3 0 0"));
    // It listens again: back with its weight.
    second = Some(TcpListener::bind("192.0.2.1:8082").unwrap());
    wait_for(
        "192.0.2.1:8082 back",
        Duration::from_secs(30),
        || listing().contains("-> 192.0.2.1:8082 Masq 1 0 0"),
        &log,
    );

    // SIGHUP with one weight changed: one netlink request.
    std::fs::write(&conf, CONFIG.replace("weight 3", "weight 5")).unwrap();
    daemon.signal(libc::SIGHUP);
    wait_for(
        "the new weight",
        Duration::from_secs(30),
        || listing().contains("-> 192.0.2.1:8081 Masq 5 0 0"),
        &log,
    );
    wait_for(
        "the reload logged",
        Duration::from_secs(10),
        || daemon.log().contains("with 1 IPVS requests"),
        &log,
    );
    // An invalid file keeps the running configuration.
    std::fs::write(
        &conf,
        "virtual_server 192.0.2.50 80 {\n    lvs_sched nonsense\n}\n",
    )
    .unwrap();
    daemon.signal(libc::SIGHUP);
    wait_for(
        "the invalid reload logged",
        Duration::from_secs(10),
        || daemon.log().contains("NOT valid"),
        &log,
    );
    assert!(listing().contains("-> 192.0.2.1:8081 Masq 5 0 0"));
    std::fs::write(&conf, CONFIG.replace("weight 3", "weight 5")).unwrap();

    // SIGTERM leaves the entries.
    let before = listing();
    daemon.stop();
    assert_eq!(listing(), before);

    // A restart adopts them: nothing to send.
    let log = dir.join("lvskitd-2.log");
    let daemon = Daemon::start(&conf, &["--lvs-remove-on-stop"], &log);
    wait_for(
        "the restart",
        Duration::from_secs(30),
        || daemon.log().contains("started:"),
        &log,
    );
    assert!(
        daemon.log().contains("0 IPVS requests to converge"),
        "{}",
        daemon.log()
    );
    assert_eq!(listing(), before);

    // keepalived's behaviour on request: ours go, the foreign service stays.
    daemon.stop();
    assert_eq!(listing(), foreign);
    drop((first, second));
    ipvsadm(&["-C"]);
}
