//! The differential suite: every configuration of the corpus goes through `keepalived -t` (Debian's
//! 2.2.7) and `lvskitd -t`, inside a network namespace holding the interfaces the files name, and
//! both must give the same exit status, which is keepalived's verdict. A file where they differ on
//! purpose is listed, with the reason, in the table of intended differences in
//! `crates/keepalived-conf/README.md`; a listed file that agrees fails too, so the table stays true.
//!
//! The corpus: keepalived's shipped samples (`testdata/configs/keepalived-samples/`), the examples
//! of keepalived.conf(5) made into whole files (`testdata/configs/keepalived-man/`), and tricky
//! or invalid files written for this suite (`testdata/configs/differential/`). Both tools only
//! read the files: nothing is configured and nothing is sent, so the samples' own addresses
//! (outside the documentation ranges) never reach a network.
//!
//! Needs root and keepalived (`cargo xtask test netns` has both).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use testbed::{Netns, require_root};

mod keepalived_dump;

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const CORPUS: [&str; 3] = [
    "testdata/configs/keepalived-samples",
    "testdata/configs/keepalived-man",
    "testdata/configs/differential",
];
/// The interfaces the corpus names; each is one end of a veth pair in the namespace, up, with an
/// IPv4 address (lvskitd -t also checks that it could send adverts from them).
const INTERFACES: [&str; 6] = ["eth0", "eth1", "eth2", "eth3", "eth0.0", "eth0.1"];

fn corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in CORPUS {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).expect("corpus folder") {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Files a corpus file includes are read through it, not on their own.
            if path.is_file() && !name.ends_with(".inc") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The files listed in the README's table of intended differences: the first column holds
/// the file name in backquotes.
fn known_differences() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("crates/keepalived-conf/README.md"))
        .expect("crate README");
    let table = readme
        .split("## Intended differences")
        .nth(1)
        .expect("the README has a section `## Intended differences`");
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            file.contains('/')
                .then(|| (file.to_string(), cells.get(2).unwrap_or(&"").to_string()))
        })
        .collect()
}

/// The exit status of `program -t [EXTRA] -f FILE` in the namespace, run from the file's
/// folder, and what it printed.
fn config_test(netns: &Netns, program: &str, extra: &[&str], file: &Path) -> (i32, String) {
    let out = netns
        .command(program)
        .arg("-t")
        .args(extra)
        .arg("-f")
        .arg(file)
        .current_dir(file.parent().unwrap())
        .output()
        .expect("runs");
    let code = out.status.code().expect("exited, not killed");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn lvskitd_t_gives_keepalived_t_verdict_on_the_corpus() {
    require_root();
    let keepalived = Command::new("keepalived").arg("--version").output();
    assert!(
        keepalived.is_ok(),
        "keepalived is not installed (apt-get install keepalived; `cargo xtask test netns` does it)"
    );
    let netns = Netns::new("kdiff").unwrap();
    for (i, name) in INTERFACES.iter().enumerate() {
        let peer = format!("peer{i}");
        netns
            .ip(&["link", "add", name, "type", "veth", "peer", "name", &peer])
            .unwrap();
        netns
            .add_addr(name, &format!("192.0.2.{}/32", i + 1))
            .unwrap();
        netns.set_up(name).unwrap();
        netns.set_up(&peer).unwrap();
    }
    // IPv6 instances send from the link-local address, which the kernel adds once the link is up.
    let ready = (0..100).any(|_| {
        let shown = netns
            .ip(&["-6", "addr", "show", "dev", INTERFACES[0], "scope", "link"])
            .unwrap_or_default();
        let done = shown.contains("fe80") && !shown.contains("tentative");
        if !done {
            std::thread::sleep(Duration::from_millis(100));
        }
        done
    });
    assert!(
        ready,
        "no IPv6 link-local address on {} after 10 s",
        INTERFACES[0]
    );
    let known = known_differences();
    let files = corpus();
    assert!(files.len() >= 40, "corpus has only {} files", files.len());
    let mut agree = 0;
    let mut failures = Vec::new();
    // Files keepalived ran (exit 0 or 5), for the comparison of the models below.
    let mut ran = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(Path::new(ROOT).join("testdata/configs"))
            .unwrap()
            .display()
            .to_string();
        let (k, k_out) = config_test(&netns, "keepalived", &[], file);
        let (l, l_out) = config_test(&netns, LVSKITD, &[], file);
        // The include files again with `-e` (every include checked, as `includea`).
        if rel.starts_with("differential/include") {
            let (ke, ke_out) = config_test(&netns, "keepalived", &["-e"], file);
            let (le, le_out) = config_test(&netns, LVSKITD, &["-e"], file);
            if ke != le {
                failures.push(format!(
                    "{rel}: keepalived -t -e exits {ke}, lvskitd -t -e exits {le}\n--- keepalived:\n{ke_out}--- lvskitd:\n{le_out}"
                ));
            }
        }
        let listed = known.contains_key(&rel);
        if k == 0 || k == 5 {
            ran.push((file.clone(), rel.clone()));
        }
        if k == l {
            agree += 1;
            if listed {
                failures.push(format!(
                    "{rel}: listed as a known difference but both exit {k}"
                ));
            }
        } else if !listed {
            failures.push(format!(
                "{rel}: keepalived -t exits {k}, lvskitd -t exits {l}\n--- keepalived:\n{k_out}--- lvskitd:\n{l_out}"
            ));
        }
    }
    for rel in known.keys() {
        assert!(
            files.iter().any(|f| f.ends_with(rel)),
            "the README lists {rel}, which is not in the corpus"
        );
    }
    eprintln!(
        "differential corpus: {agree} of {} files agree with keepalived -t ({} listed differences)",
        files.len(),
        known.len()
    );
    failures.extend(compare_models(&netns, &ran));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The config id keepalived and lvskitd use by default: the host name up to the first dot.
fn short_hostname() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().split('.').next()?.to_string())
}

/// The model comparison: for each file keepalived ran that has VRRP instances, the VRRP half
/// of keepalived dumps its configuration (`-d`), and every field both have must say the same
/// as lvskit's model, or be listed in the README's table as `dump FILE`, `FIELD`.
fn compare_models(netns: &Netns, ran: &[(PathBuf, String)]) -> Vec<String> {
    let known = known_dump_differences();
    let options = keepalived_conf::Options {
        config_id: short_hostname(),
        ..keepalived_conf::Options::default()
    };
    let mut failures = Vec::new();
    let mut seen_known = BTreeSet::new();
    let (mut compared, mut instances, mut fields) = (0, 0, 0);
    let mut no_dump = Vec::new();
    for (file, rel) in ran {
        let parsed = keepalived_conf::parse_file(file, &options).expect("lvskitd read it");
        // A file with an error is one lvskitd refuses to run: its model keeps what was written
        // where keepalived runs with a default or a correction (the README's table says so).
        if parsed.config.vrrp_instances.is_empty() || parsed.has_errors() {
            continue;
        }
        let log = keepalived_dump::run_keepalived_dump(netns, file, Duration::from_secs(10));
        let dumped = keepalived_dump::parse_vrrp(&log);
        if dumped.is_empty() {
            // keepalived stopped on the file (a fatal error, or IPVS it cannot have here).
            no_dump.push(rel.as_str());
            continue;
        }
        compared += 1;
        let names = |v: Vec<&str>| v.join(", ");
        let model_names: Vec<&str> = parsed
            .config
            .vrrp_instances
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        let dumped_names: Vec<&str> = dumped.iter().map(|d| d.name.as_str()).collect();
        let mut sorted_model = model_names.clone();
        let mut sorted_dumped = dumped_names.clone();
        sorted_model.sort_unstable();
        sorted_dumped.sort_unstable();
        if sorted_model != sorted_dumped {
            failures.push(format!(
                "{rel}: instances: model [{}], keepalived [{}]",
                names(model_names),
                names(dumped_names)
            ));
        }
        for vi in &parsed.config.vrrp_instances {
            let Some(d) = dumped.iter().find(|d| d.name == vi.name) else {
                continue;
            };
            instances += 1;
            let want = keepalived_dump::expected(&parsed.config, vi);
            fields += want.fields.len() + want.lists.len();
            for diff in keepalived_dump::compare(&want, d) {
                let field = diff.split(':').next().unwrap().to_string();
                let key = (rel.clone(), field);
                if known.contains(&key) {
                    seen_known.insert(key);
                } else {
                    failures.push(format!("{rel}: instance {}: {diff}", vi.name));
                }
            }
        }
    }
    for key in known.difference(&seen_known) {
        failures.push(format!(
            "the README lists dump `{}` `{}` as a difference, but the models agree there",
            key.0, key.1
        ));
    }
    eprintln!(
        "model comparison: {compared} files dumped by keepalived, {instances} VRRP instances, {fields} fields and lists compared; no dump from keepalived for {}",
        no_dump.join(", ")
    );
    assert!(compared >= 20, "only {compared} files compared");
    failures
}

/// The model differences listed in the README's table: rows whose first cell is
/// ``dump `FILE` `FIELD` ``.
fn known_dump_differences() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("crates/keepalived-conf/README.md"))
        .expect("crate README");
    readme
        .lines()
        .filter_map(|line| {
            let cell = line.split('|').nth(1)?.trim().strip_prefix("dump `")?;
            let (file, rest) = cell.split_once('`')?;
            let field = rest.trim().strip_prefix('`')?.strip_suffix('`')?;
            Some((file.to_string(), field.to_string()))
        })
        .collect()
}
