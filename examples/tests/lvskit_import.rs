//! `lvskit-import` on the seed clusters and the every-directive inputs: its output passes
//! `lvskitd -t --strict` for every director, warnings go to stderr with `file:line`, and bad
//! input exits 1 with the line and nothing on stdout.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const IMPORT: &str = env!("CARGO_BIN_EXE_lvskit-import");
const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");

fn testdata(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
        .to_str()
        .unwrap()
        .to_string()
}

fn import(args: &[&str]) -> Output {
    Command::new(IMPORT)
        .args(args)
        .output()
        .expect("lvskit-import runs")
}

/// A scratch file removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path =
            std::env::temp_dir().join(format!("lvskit-import-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Imports, then runs `lvskitd -t --strict` on the output as each director.
fn imports_cleanly(name: &str, args: &[&str], ids: &[&str], warning_file: &str) {
    let out = import(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name}: {stderr}");
    assert!(
        stderr.contains(&format!("--> {warning_file}")),
        "{name}: warnings name their file and line: {stderr}"
    );
    let again = import(args);
    assert_eq!(
        out.stdout, again.stdout,
        "{name}: a second run gives other bytes"
    );
    let conf = Scratch::new(&format!("{name}.conf"), &out.stdout);
    let ids: Vec<Option<&str>> = if ids.is_empty() {
        vec![None]
    } else {
        ids.iter().copied().map(Some).collect()
    };
    for id in ids {
        let run = |extra: &[&str]| {
            let mut cmd = Command::new(LVSKITD);
            cmd.args(["-t", "--strict", "-f", conf.path()]).args(extra);
            if let Some(id) = id {
                cmd.args(["-i", id]);
            }
            let out = cmd.output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        // As a file for another host (the cluster's director): keepalived's exit status, which
        // is 0 only when nothing at all was said.
        let (code, said) = run(&["--no-system-checks"]);
        assert_eq!(code, Some(0), "{name} as {id:?}: {said}");
        assert!(
            said.contains("configuration is valid (0 warning(s))")
                && !said
                    .lines()
                    .any(|l| l.starts_with("warning") || l.starts_with("error")),
            "{name} as {id:?}: {said}"
        );
        // On this host, with the director's own mapping onto it: valid, and the only warnings
        // are about this host, which is not the director: its interfaces and the scripts.
        // On this host, with the director's own mapping onto it (which refuses what lvskitd
        // cannot run yet): the only complaints may be about this host, which is not the
        // director: its interfaces and the scripts the configuration runs.
        let (_, said) = run(&["--exit-status", "lvskit"]);
        for line in said.lines().filter(|l| {
            l.starts_with("warning") || l.starts_with("error") || l.starts_with("lvskitd: error")
        }) {
            assert!(
                line.contains("does not exist") || line.contains("is not found or not accessible"),
                "{name} as {id:?}: {said}"
            );
        }
        // The director reads its own lines: a VRRP instance with a state and a priority.
        if let Some(id) = id {
            let mut dump = Command::new(LVSKITD);
            dump.args(["-t", "--dump-config", "-i", id, "-f", conf.path()]);
            let json: serde_json::Value =
                serde_json::from_slice(&dump.output().unwrap().stdout).unwrap();
            let vi = &json["vrrp_instances"][0];
            assert!(vi["state"].is_string(), "{name} as {id}: {vi}");
            assert!(vi["priority"].is_number(), "{name} as {id}: {vi}");
        }
    }
}

#[test]
fn seed_001_ldirectord() {
    let file = testdata("configs/seeds/001-heartbeat-ldirectord/ldirectord.cf");
    imports_cleanly("seed-ld", &["ldirectord", &file], &[], &file);
}

#[test]
fn seed_001_heartbeat() {
    let dir = testdata("configs/seeds/001-heartbeat-ldirectord");
    let (ha, hr, ak) = (
        format!("{dir}/ha.cf"),
        format!("{dir}/haresources"),
        format!("{dir}/authkeys"),
    );
    imports_cleanly(
        "seed-hb",
        &["heartbeat", &ha, &hr, &ak],
        &["primarylb", "backuplb"],
        &ha,
    );
    // haresources starts ldirectord: its virtual server is in the output.
    let out = import(&["heartbeat", &ha, &hr, &ak]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("virtual_server 192.168.1.106 80 {"));
}

#[test]
fn seed_003_piranha() {
    let file = testdata("configs/seeds/003-piranha/lvs.cf");
    imports_cleanly(
        "seed-pi",
        &["piranha", &file],
        &["primary", "backup"],
        &file,
    );
}

#[test]
fn every_directive() {
    let ld = testdata("import/ldirectord/every-directive.cf");
    imports_cleanly("every-ld", &["ldirectord", &ld], &[], &ld);
    let dir = testdata("import/heartbeat/every-directive");
    let ha = format!("{dir}/ha.cf");
    imports_cleanly(
        "every-hb",
        &[
            "heartbeat",
            &ha,
            &format!("{dir}/haresources"),
            &format!("{dir}/authkeys"),
        ],
        &["lb1", "lb2", "lb3"],
        &ha,
    );
    let pi = testdata("import/piranha/every-directive.cf");
    imports_cleanly("every-pi", &["piranha", &pi], &["primary", "backup"], &pi);
}

#[test]
fn check_program_option() {
    let dir = testdata("configs/seeds/001-heartbeat-ldirectord");
    let out = import(&[
        "heartbeat",
        "--check-program",
        "/usr/local/bin/check",
        &format!("{dir}/ha.cf"),
        &format!("{dir}/haresources"),
    ]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("script \"/usr/local/bin/check ping --connect-timeout 2 192.168.1.103\"")
    );
}

#[test]
fn bad_input_exits_1_with_the_line() {
    let bad = Scratch::new(
        "bad.cf",
        b"checkinterval=5\nreal=198.51.100.1:80 gate\nvirtual=192.0.2.1:80\n\treal=198.51.100.1:80 gate\n\tchecktypo=connect\n",
    );
    let out = import(&["ldirectord", bad.path()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing is written for bad input");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("--> {}:2:1", bad.path())),
        "{stderr}"
    );
    assert!(stderr.contains("`real=` before any `virtual=`"), "{stderr}");
    assert!(
        stderr.contains(&format!("--> {}:5:2", bad.path())),
        "{stderr}"
    );
    assert!(
        stderr.contains("unknown ldirectord directive `checktypo`"),
        "{stderr}"
    );

    let missing = import(&["piranha", "/nonexistent/lvs.cf"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read /nonexistent/lvs.cf"));
}
