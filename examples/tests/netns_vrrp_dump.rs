//! `vrrp-dump -i` capturing live, in a namespace, what a real keepalived in the neighbouring
//! namespace sends. Needs root and keepalived (`cargo xtask test netns` has both).

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testbed::{Netns, require_root, veth_pair};

const VRRP_DUMP: &str = env!("CARGO_BIN_EXE_vrrp-dump");

/// Kills and reaps a child on drop, so a failed assertion leaves no process behind.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `child` to exit, for at most `limit`.
fn wait_for(child: &mut Reaped, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.0.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn live_capture_of_keepalived_v3_advertisements() {
    require_root();
    let director = Netns::new("vdkeep").unwrap();
    let peer = Netns::new("vdpeer").unwrap();
    veth_pair(&director, "eth0", &peer, "eth0").unwrap();
    director.set_up("eth0").unwrap();
    peer.set_up("eth0").unwrap();
    director.add_addr("eth0", "192.0.2.1/24").unwrap();
    peer.add_addr("eth0", "192.0.2.2/24").unwrap();

    let dir = std::env::temp_dir().join(format!("vrrp-dump-live-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        "global_defs {\n router_id vrrp_dump_live\n vrrp_version 3\n}\n\
         vrrp_instance VI_LIVE {\n state MASTER\n interface eth0\n virtual_router_id 93\n\
         priority 180\n advert_int 0.2\n virtual_ipaddress {\n 203.0.113.93\n 203.0.113.94\n }\n}\n",
    )
    .unwrap();

    let dump = peer
        .command(VRRP_DUMP)
        .args(["-i", "eth0", "--json", "-c", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start vrrp-dump");
    let mut dump = Reaped(dump);
    std::thread::sleep(Duration::from_millis(300));

    let pid = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let keepalived = director
        .command("keepalived")
        .args(["--dont-fork", "--log-console", "--no-syslog", "-f"])
        .arg(&conf)
        .args([
            "-p",
            &pid("k.pid"),
            "-r",
            &pid("v.pid"),
            "-c",
            &pid("c.pid"),
            "-b",
            &pid("b.pid"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start keepalived (apt-get install keepalived)");
    let keepalived = Reaped(keepalived);

    let exited = wait_for(&mut dump, Duration::from_secs(20));
    drop(keepalived);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(exited, "vrrp-dump saw fewer than 3 VRRP packets in 20 s");
    let output = child_output(&mut dump.0);
    let lines: Vec<Value> = output
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    assert_eq!(lines.len(), 3, "{output}");
    for line in &lines {
        assert_eq!(line["version"], 3, "{line}");
        assert_eq!(line["vrid"], 93, "{line}");
        assert_eq!(line["priority"], 180, "{line}");
        assert_eq!(line["advert_interval_cs"], 20, "{line}");
        assert_eq!(
            line["addresses"],
            serde_json::json!(["203.0.113.93", "203.0.113.94"]),
            "{line}"
        );
        assert_eq!(line["src"], "192.0.2.1", "{line}");
        assert_eq!(line["dst"], "224.0.0.18", "{line}");
        assert_eq!(line["ttl"], 255, "{line}");
        assert_eq!(line["checksum_ok"], true, "{line}");
        assert_eq!(line["checksum_mode"], "pseudo_header", "{line}");
    }
}

/// The stdout of an exited child, which must have exited successfully.
fn child_output(child: &mut Child) -> String {
    use std::io::Read;
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "vrrp-dump failed: {stderr}");
    stdout
}
