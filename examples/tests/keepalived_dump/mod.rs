//! keepalived's own configuration dump (`keepalived -d`), read back and compared field by field
//! with lvskit's model (`keepalived_conf`), for the fields both have.
//!
//! `keepalived -t` prints no dump, so the VRRP half runs for a moment (`-P -n -l -d`) in the
//! differential suite's namespace, which dumps its configuration at start-up. The checker half
//! cannot dump here: it needs IPVS before it reads the file, and the host kernel has none.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::net::IpAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use keepalived_conf::Config;
use keepalived_conf::model::{AuthType, InitialState, Track, VrrpInstance};
use testbed::Netns;

/// The section keepalived prints after the VRRP instances: once it is there, the instances are.
const AFTER_TOPOLOGY: &str = "------< Interfaces >------";

/// One `VRRP Instance` of the dump: its `key = value` lines and its lists (`Virtual IP (3):`
/// and the lines under it).
#[derive(Debug, Default)]
pub(crate) struct DumpedInstance {
    /// `VRRP Instance = NAME`.
    pub(crate) name: String,
    /// `   Key = value`.
    pub(crate) fields: BTreeMap<String, String>,
    /// `   Header :` (or `Virtual IP (N):`, counted part dropped) and its entries.
    pub(crate) lists: BTreeMap<String, Vec<String>>,
}

/// Runs the VRRP half of keepalived on `file` in `netns` until it has dumped its instances (or
/// exited, or `deadline` passed), stops it, and returns what it logged.
pub(crate) fn run_keepalived_dump(netns: &Netns, file: &Path, deadline: Duration) -> String {
    let dir = std::env::temp_dir().join(format!("lvskit-kdump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log_path = dir.join("log");
    let log = File::create(&log_path).unwrap();
    let mut child = netns
        .command("keepalived")
        .args(["-P", "-n", "-l", "-G", "-d"])
        .arg("-p")
        .arg(dir.join("k.pid"))
        .arg("-r")
        .arg(dir.join("v.pid"))
        .arg("-c")
        .arg(dir.join("c.pid"))
        .arg("-b")
        .arg(dir.join("b.pid"))
        .arg("-f")
        .arg(file)
        .current_dir(file.parent().unwrap())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("keepalived runs");
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        if text.contains(AFTER_TOPOLOGY) || start.elapsed() > deadline {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGTERM: keepalived removes what it set up in the namespace and exits.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let stop = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if stop.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    text
}

/// A log line without keepalived's time stamp (`Wed Dec  2 11:10:59 2026: `).
fn message(line: &str) -> &str {
    match line.get(24..26) {
        Some(": ") => &line[26..],
        _ => line,
    }
}

/// The instances of the dump's `VRRP Topology` section.
pub(crate) fn parse_vrrp(log: &str) -> Vec<DumpedInstance> {
    let mut instances: Vec<DumpedInstance> = Vec::new();
    let mut in_topology = false;
    let mut list: Option<String> = None;
    for line in log.lines().map(message) {
        if line.starts_with("------<") {
            in_topology = line.contains("VRRP Topology");
            continue;
        }
        if !in_topology {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if let Some(name) = text.strip_prefix("VRRP Instance = ") {
            instances.push(DumpedInstance {
                name: name.to_string(),
                ..DumpedInstance::default()
            });
            list = None;
            continue;
        }
        let Some(instance) = instances.last_mut() else {
            continue;
        };
        if indent >= 5 {
            if let Some(header) = &list {
                instance
                    .lists
                    .entry(header.clone())
                    .or_default()
                    .push(text.to_string());
            }
            continue;
        }
        list = None;
        if let Some((key, value)) = text.split_once(" = ") {
            instance
                .fields
                .insert(key.to_string(), value.trim().to_string());
        } else if let Some(header) = text.strip_suffix(':') {
            // `Virtual IP (3):` is the list `Virtual IP`.
            let header = header.split(" (").next().unwrap().trim().to_string();
            instance.lists.entry(header.clone()).or_default();
            list = Some(header);
        }
    }
    instances
}

/// What keepalived's dump says for `vi`, by lvskit's model: the dump's field and list names with
/// the values keepalived prints, keepalived's defaults filled in where the file sets nothing.
pub(crate) fn expected(config: &Config, vi: &VrrpInstance) -> DumpedInstance {
    let global = &config.global_defs;
    let mut e = DumpedInstance {
        name: vi.name.clone(),
        ..DumpedInstance::default()
    };
    let mut field = |key: &str, value: String| {
        e.fields.insert(key.to_string(), value);
    };
    let priority = vi.effective_priority();
    let group = config
        .sync_groups
        .iter()
        .find(|g| g.group.iter().any(|m| m.name == vi.name));
    // `Wantstate` is where keepalived starts: the written state, MASTER for the address owner.
    // In a sync group keepalived starts every member as BACKUP and the group decides, which is
    // a decision at run time and not in the model: not compared there.
    if group.is_none() {
        let state = match vi.state {
            Some(InitialState::Master) => "MASTER",
            _ if priority == 255 => "MASTER",
            _ => "BACKUP",
        };
        field("Wantstate", state.into());
    }
    if let Some(vrid) = vi.virtual_router_id {
        field("Virtual Router ID", vrid.value.to_string());
    }
    field("Priority", priority.to_string());
    let version = vi.effective_version(global);
    let advert = vi.advert_int.map_or(1_000_000, |a| a.value.as_micros());
    // keepalived prints a VRRPv3 interval (centiseconds on the wire) in milliseconds.
    field(
        "Advert interval",
        if advert.is_multiple_of(1_000_000) && version == 2 {
            format!("{} sec", advert / 1_000_000)
        } else {
            format!("{} milli-sec", advert / 1000)
        },
    );
    field("VRRP Version", version.to_string());
    if let Some(interface) = &vi.interface {
        field("Interface", interface.value.clone());
    }
    // Accept mode: on unless strict mode turns it off; the address owner always accepts.
    let strict = vi.strict_mode.unwrap_or(global.vrrp_strict);
    field(
        "Accept",
        if vi.accept.unwrap_or(!strict) || priority == 255 {
            "enabled"
        } else {
            "disabled"
        }
        .into(),
    );
    field(
        "Preempt",
        if vi.nopreempt == Some(true) {
            "disabled"
        } else {
            "enabled"
        }
        .into(),
    );
    // Authentication exists in VRRPv2 only; keepalived prints the password of PASS (its first
    // 8 characters), not the AH key.
    if version == 2 {
        let auth = vi.authentication.as_ref().and_then(|a| a.auth_type);
        field(
            "Authentication type",
            match auth {
                None => "none",
                Some(AuthType::Pass) => "SIMPLE_PASSWORD",
                Some(AuthType::Ah) => "IPSEC_AH",
            }
            .into(),
        );
        if let Some(pass) = vi
            .authentication
            .as_ref()
            .and_then(|a| a.auth_pass.as_ref())
            && auth == Some(AuthType::Pass)
        {
            field("Password", pass.chars().take(8).collect());
        }
    }
    if let Some(group) = group {
        field("Sync group", group.name.clone());
    }
    let prefix = |p: &keepalived_conf::model::Prefix| {
        let full = if p.addr.is_ipv4() { 32 } else { 128 };
        match p.len {
            Some(len) if len != full => format!("{}/{len}", p.addr),
            _ => p.addr.to_string(),
        }
    };
    let addresses: Vec<String> = vi
        .virtual_ipaddress
        .iter()
        .map(|a| prefix(&a.prefix))
        .collect();
    if !addresses.is_empty() {
        e.lists.insert("Virtual IP".into(), addresses);
    }
    let excluded: Vec<String> = vi
        .virtual_ipaddress_excluded
        .iter()
        .map(|a| prefix(&a.prefix))
        .collect();
    if !excluded.is_empty() {
        e.lists.insert("Virtual IP Excluded".into(), excluded);
    }
    let tracked = |tracks: &[Track], own: &dyn Fn(&str) -> Option<i32>| -> Vec<String> {
        tracks
            .iter()
            .map(|t| {
                let weight = t.weight.map(|w| w.value).or_else(|| own(&t.name));
                format!("{} weight {}", t.name, weight.unwrap_or(0))
            })
            .collect()
    };
    let none = |_: &str| None;
    let script_weight = |name: &str| {
        config
            .vrrp_scripts
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.weight.map(|w| w.value))
    };
    for (header, list) in [
        ("Tracked interfaces", tracked(&vi.track_interface, &none)),
        ("Tracked scripts", tracked(&vi.track_script, &script_weight)),
    ] {
        if !list.is_empty() {
            e.lists.insert(header.into(), list);
        }
    }
    if !vi.unicast_peer.is_empty() {
        e.lists.insert(
            "Unicast Peer".into(),
            vi.unicast_peer.iter().map(|p| p.addr.to_string()).collect(),
        );
    }
    e
}

/// The differences between what the model says keepalived prints and what it printed, one line
/// each; list entries are compared by their first word (an address, a name) and weight, in any
/// order.
pub(crate) fn compare(expected: &DumpedInstance, dumped: &DumpedInstance) -> Vec<String> {
    let mut out = Vec::new();
    for (key, want) in &expected.fields {
        let got = dumped.fields.get(key).map(String::as_str);
        // `Interface = vrrp.1, vmac on eth0`: the instance's own interface is the last word.
        let got = match (key.as_str(), got) {
            ("Interface", Some(v)) => v.rsplit(' ').next(),
            _ => got,
        };
        if got != Some(want.as_str()) {
            out.push(format!("{key}: model {want:?}, keepalived {got:?}"));
        }
    }
    let entry_key = |entry: &str| -> String {
        let mut words = entry.split_whitespace();
        let first = words.next().unwrap_or("");
        let first = first.trim_end_matches([',', ':']);
        // Unicast peers are printed with their TTL bounds, tracks with `weight N`.
        let first = first
            .parse::<IpAddr>()
            .map_or_else(|_| first.to_string(), |a| a.to_string());
        let rest: Vec<&str> = words.collect();
        match rest.as_slice() {
            ["weight", w, ..] => format!("{first} weight {w}"),
            _ => first,
        }
    };
    let mut headers: Vec<&String> = expected.lists.keys().collect();
    headers.extend(dumped.lists.keys().filter(|h| {
        [
            "Virtual IP",
            "Virtual IP Excluded",
            "Tracked interfaces",
            "Tracked scripts",
            "Unicast Peer",
        ]
        .contains(&h.as_str())
            && !expected.lists.contains_key(*h)
    }));
    for header in headers {
        let mut want: Vec<String> = expected
            .lists
            .get(header)
            .map(|l| l.iter().map(|e| entry_key(e)).collect())
            .unwrap_or_default();
        let mut got: Vec<String> = dumped
            .lists
            .get(header)
            .map(|l| l.iter().map(|e| entry_key(e)).collect())
            .unwrap_or_default();
        want.sort();
        got.sort();
        if want != got {
            let mut line = format!("{header}: model {want:?}, keepalived {got:?}");
            if want.len() != got.len() {
                let _ = write!(line, " ({} vs {} entries)", want.len(), got.len());
            }
            out.push(line);
        }
    }
    out
}
