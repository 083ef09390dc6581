//! Round trip, the load-balancer half: the seed's `ldirectord.cf`
//! (`testdata/configs/seeds/001-heartbeat-ldirectord`) imported by `lvskit-import ldirectord`
//! and run by `lvskitd -C` against the real kernel in the VM (`cargo xtask vm
//! vm_import_roundtrip`), with `ipvsadm` as the oracle. What ldirectord did with that file:
//! the virtual service with both real servers (`gate`, weight 1, `wrr`, `persistent=5`), a
//! real server whose port stops answering the `connect` check taken out (`quiescent=no`), the
//! `fallback` server in the table while every real server is down and out again when one
//! returns.
//!
//! The seed's private addresses are mapped onto documentation ones before the import
//! (192.168.1.106 → 192.0.2.100, the real servers .104/.105 → 192.0.2.4/.5, added to the VM's
//! `lvs0` so that this test's listeners are the real servers). Waits are bounded so a failure
//! ends the test; no assertion is about time.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IMPORT: &str = env!("CARGO_BIN_EXE_lvskit-import");
const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

const MAP: &[(&str, &str)] = &[
    ("192.168.1.106", "192.0.2.100"),
    ("192.168.1.104", "192.0.2.4"),
    ("192.168.1.105", "192.0.2.5"),
];

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (this test runs in the VM): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ipvsadm -Ln` without its header, whitespace-normalised, destinations sorted.
fn listing() -> String {
    let text = run("ipvsadm", &["-Ln"]);
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

fn wait_for(what: &str, bound: Duration, expected: &str, log: &Path) {
    let start = Instant::now();
    while listing() != expected {
        if start.elapsed() > bound {
            panic!(
                "{what}: expected{expected}ipvsadm -Ln:{}lvskitd's log:\n{}",
                listing(),
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// lvskitd, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_seed_ldirectord_cf_runs_as_ldirectord_ran_it() {
    let dir = std::env::temp_dir().join("vm_import_roundtrip");
    std::fs::create_dir_all(&dir).unwrap();
    let mut cf = SEED.to_string();
    for (from, to) in MAP {
        cf = cf.replace(from, to);
    }
    let cf_path = dir.join("ldirectord.cf");
    std::fs::write(&cf_path, &cf).unwrap();
    let conf = run(IMPORT, &["ldirectord", cf_path.to_str().unwrap()]);
    let conf_path = dir.join("keepalived.conf");
    std::fs::write(&conf_path, &conf).unwrap();

    run("ipvsadm", &["-C"]);
    for real in ["192.0.2.4/24", "192.0.2.5/24"] {
        run("ip", &["addr", "add", real, "dev", "lvs0"]);
    }
    let mut four = Some(TcpListener::bind("192.0.2.4:80").unwrap());
    let mut five = Some(TcpListener::bind("192.0.2.5:80").unwrap());

    let log = dir.join("lvskitd.log");
    let daemon = Daemon(
        Command::new(LVSKITD)
            .args(["-C", "-n", "-f"])
            .arg(&conf_path)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("lvskitd starts"),
    );
    let both = "
TCP 192.0.2.100:80 wrr persistent 5
-> 192.0.2.4:80 Route 1 0 0
-> 192.0.2.5:80 Route 1 0 0
";
    wait_for("both real servers", Duration::from_secs(60), both, &log);

    // checktype=connect on checkport 80, quiescent=no: a real server that stops answering
    // leaves the table.
    drop(five.take());
    let one = "
TCP 192.0.2.100:80 wrr persistent 5
-> 192.0.2.4:80 Route 1 0 0
";
    wait_for("192.0.2.5 out", Duration::from_secs(30), one, &log);

    // Every real server down: the fallback server serves.
    drop(four.take());
    let fallback = std::fs::read_to_string(&conf_path)
        .unwrap()
        .lines()
        .find(|l| l.trim_start().starts_with("sorry_server"))
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    assert_eq!(fallback, "sorry_server 127.0.0.1 80", "{conf}");
    // The sorry server takes the virtual server's forwarding method (DR), as in keepalived.
    let sorry = "
TCP 192.0.2.100:80 wrr persistent 5
-> 127.0.0.1:80 Route 1 0 0
";
    wait_for("the fallback server", Duration::from_secs(30), sorry, &log);

    // One returns: it serves again and the fallback goes.
    four = Some(TcpListener::bind("192.0.2.4:80").unwrap());
    wait_for("192.0.2.4 back", Duration::from_secs(30), one, &log);

    drop((daemon, four, five));
    run("ipvsadm", &["-C"]);
    for real in ["192.0.2.4/24", "192.0.2.5/24"] {
        run("ip", &["addr", "del", real, "dev", "lvs0"]);
    }
}

/// The seed (compiled in: the VM image does not carry the source tree).
const SEED: &str =
    include_str!("../../testdata/configs/seeds/001-heartbeat-ldirectord/ldirectord.cf");
