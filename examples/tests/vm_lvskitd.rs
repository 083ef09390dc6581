//! `lvskitd -C` against the real kernel in the VM (`cargo xtask vm vm_lvskitd`), with `ipvsadm`
//! as the oracle: the table `ipvsadm -Ln` shows is the one the configuration says; a real server
//! whose listener stops is taken out by its TCP_CHECK and put back when it listens again; a
//! SIGHUP that changes one weight sends one request; a restart adopts the table; a service the
//! configuration does not name is never touched; `--lvs-remove-on-stop` removes ours on SIGTERM;
//! `lvs_timeouts` and `lvs_sync_daemon` reach the kernel.
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
global_defs {
    lvs_timeouts tcp 900 tcpfin 30 udp 60
    lvs_sync_daemon lvs0 id 7
}
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
        Self::start_halves(&["-C"], conf, extra, log)
    }

    /// `halves`: `["-C"]` for the load balancer alone, `[]` for both halves.
    fn start_halves(halves: &[&str], conf: &Path, extra: &[&str], log: &Path) -> Self {
        let file = std::fs::File::create(log).unwrap();
        let child = Command::new(LVSKITD)
            .args(halves)
            .args(["-n", "-f"])
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
    // lvs_timeouts, and the sync daemon (backup: no VRRP instance makes it master).
    assert_eq!(
        ipvsadm(&["-L", "--timeout"]).trim(),
        "Timeout (tcp tcpfin udp): 900 30 60"
    );
    let daemons = ipvsadm(&["-L", "--daemon"]);
    assert!(
        daemons.starts_with("backup sync daemon (mcast=lvs0, syncid=7,"),
        "{daemons}"
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
    assert_eq!(
        ipvsadm(&["-L", "--daemon"]),
        "",
        "the sync daemon stops with lvskitd"
    );
    drop((first, second));
    ipvsadm(&["-C"]);
}

/// keepalived.conf(5) allows schedulers this 6.1 kernel does not have (`twos` came in 6.8): the
/// refusal names the file and line of the virtual server, and everything else runs.
#[test]
fn a_scheduler_the_kernel_lacks_is_reported_with_its_line_and_the_rest_runs() {
    let dir = std::env::temp_dir().join("vm_lvskitd");
    let _ = std::fs::create_dir_all(&dir);
    let conf = dir.join("keepalived-twos.conf");
    std::fs::write(
        &conf,
        "
virtual_server 192.0.2.52 80 {
    protocol TCP
    lvs_sched twos
    real_server 198.51.100.20 80 {
    }
}
virtual_server 192.0.2.53 80 {
    protocol TCP
    lvs_sched rr
    real_server 198.51.100.21 80 {
    }
}
",
    )
    .unwrap();
    ipvsadm(&["-C"]);
    let log = dir.join("lvskitd-twos.log");
    let daemon = Daemon::start(&conf, &["--lvs-remove-on-stop"], &log);
    wait_for(
        "the refusal logged",
        Duration::from_secs(30),
        || daemon.log().contains("refused by the kernel"),
        &log,
    );
    let text = daemon.log();
    let at = format!("{}:2:1: virtual_server TCP 192.0.2.52:80", conf.display());
    assert!(text.contains(&at), "{at} not in:\n{text}");
    assert_eq!(
        listing(),
        "\nTCP 192.0.2.53:80 rr\n-> 198.51.100.21:80 Masq 1 0 0\n"
    );
    daemon.stop();
    assert_eq!(listing(), "\n");
}

/// With both halves, `lvs_sync_daemon` follows the VRRP instance it names: a backup daemon
/// while the instance is BACKUP, the master daemon once it is MASTER. The notify script and the
/// MISC_CHECK with a `user` run as that user (`nobody` here).
#[test]
fn the_sync_daemon_follows_vrrp_and_scripts_run_as_their_user() {
    let dir = std::env::temp_dir().join("vm_lvskitd_user");
    let _ = std::fs::create_dir_all(&dir);
    // nobody writes the notify script's output here.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = dir.join("notify-uid");
    let _ = std::fs::remove_file(&out);
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "
global_defs {{
    lvs_sync_daemon lvs0 VI_1 id 9
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface lvs0
    virtual_router_id 61
    priority 100
    advert_int 1
    virtual_ipaddress {{
        192.0.2.200/24
    }}
}}
virtual_server 192.0.2.60 80 {{
    protocol TCP
    lvs_sched rr
    delay_loop 1
    real_server 192.0.2.1 8090 {{
        alpha
        notify_up \"/bin/sh -c 'id -u > {out}'\" nobody
        MISC_CHECK {{
            misc_path \"/bin/sh -c 'test $(id -u) = 65534'\"
            user nobody
            warmup 0
        }}
    }}
}}
",
            out = out.display()
        ),
    )
    .unwrap();
    ipvsadm(&["-C"]);
    let log = dir.join("lvskitd.log");
    let daemon = Daemon::start_halves(&[], &conf, &["--lvs-remove-on-stop"], &log);
    // alpha: the real server is in the table only once its MISC_CHECK passed, which it does
    // only as nobody (uid 65534).
    wait_for(
        "the MISC_CHECK run as nobody passes",
        Duration::from_secs(60),
        || listing().contains("-> 192.0.2.1:8090 Masq 1 0 0"),
        &log,
    );
    wait_for(
        "notify_up run as nobody",
        Duration::from_secs(30),
        || std::fs::read_to_string(&out).is_ok_and(|t| t.trim() == "65534"),
        &log,
    );
    wait_for(
        "VI_1 MASTER and the master sync daemon",
        Duration::from_secs(60),
        || {
            let daemons = ipvsadm(&["-L", "--daemon"]);
            daemons.contains("master sync daemon (mcast=lvs0, syncid=9")
                && !daemons.contains("backup sync daemon")
        },
        &log,
    );
    assert!(
        daemon.log().contains("(VI_1) entering MASTER state"),
        "{}",
        daemon.log()
    );
    daemon.stop();
    assert_eq!(ipvsadm(&["-L", "--daemon"]), "");
    assert_eq!(listing(), "\n");
}
