//! `lvskitd -t` accepts every configuration in `testdata/` and rejects broken ones, like `keepalived -t`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LVSKITD: &str = env!("CARGO_BIN_EXE_lvskitd");
const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata");

/// Runs lvskitd without its checks against this system: the files name interfaces this host
/// does not have (the netns differential suite runs them with the checks).
fn lvskitd(args: &[&str]) -> Output {
    Command::new(LVSKITD)
        .arg("--no-system-checks")
        .args(args)
        .output()
        .expect("lvskitd runs")
}

fn shared_configs() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["configs/seeds", "vectors/keepalived-2.2.7"] {
        for entry in std::fs::read_dir(Path::new(TESTDATA).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "conf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A scratch file removed when dropped.
struct TempConf(PathBuf);

impl TempConf {
    fn new(name: &str, text: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("lvskitd-t-{name}-{}.conf", std::process::id()));
        std::fs::write(&path, text).unwrap();
        Self(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn accepts_every_shared_config() {
    let files = shared_configs();
    assert_eq!(files.len(), 10);
    for file in files {
        let out = lvskitd(&["-t", "-f", file.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // The one warning among them: keepalived 2.2.7 also calls nb_get_retry deprecated.
        let warnings = if file.ends_with("002-lvs-dr-http-get.conf") {
            assert!(
                stderr.contains("warning: `nb_get_retry` is deprecated; use `retry`"),
                "{stderr}"
            );
            1
        } else {
            0
        };
        assert!(
            stderr.contains(&format!("configuration is valid ({warnings} warning(s))")),
            "{stderr}"
        );
        // keepalived -t exits 5 when it printed any message, warnings too.
        let code = if warnings > 0 { 5 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}: {stderr}",
            file.display()
        );
        // --strict accepts them too: they have no unknown keywords.
        let strict = lvskitd(&["-t", "--strict", "-f", file.to_str().unwrap()]);
        assert_eq!(strict.status.code(), Some(code), "{}", file.display());
        let friendly = lvskitd(&[
            "-t",
            "--exit-status",
            "lvskit",
            "-f",
            file.to_str().unwrap(),
        ]);
        assert!(friendly.status.success(), "{}", file.display());
    }
}

#[test]
fn rejects_a_broken_config_with_diagnostics_on_stderr() {
    let conf = TempConf::new(
        "broken",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n    priority 100\n    virtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    let out = lvskitd(&["-t", "-f", conf.path()]);
    assert_eq!(out.status.code(), Some(5));
    let friendly = lvskitd(&["-t", "--exit-status", "lvskit", "-f", conf.path()]);
    assert_eq!(friendly.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("--> {}:3:23", conf.path())),
        "no file:line:col in {stderr}"
    );
    assert!(
        stderr.contains("`virtual_router_id` 300 is outside the range [1, 255]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("    virtual_router_id 300\n"),
        "source line missing: {stderr}"
    );
    assert!(stderr.contains("^^^"), "caret missing: {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_keyword_warns_and_strict_rejects() {
    let conf = TempConf::new(
        "unknown",
        "global_defs {\n    router_id r1\n    no_such_keyword 1\n}\n",
    );
    let lax = lvskitd(&["-t", "-f", conf.path()]);
    assert_eq!(
        lax.status.code(),
        Some(5),
        "a warning is a message for keepalived -t"
    );
    let lax_friendly = lvskitd(&["-t", "--exit-status", "lvskit", "-f", conf.path()]);
    assert_eq!(lax_friendly.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&lax.stderr);
    assert!(
        stderr.contains("warning: unknown keyword `no_such_keyword` in global_defs"),
        "{stderr}"
    );
    let strict = lvskitd(&["-t", "--strict", "-f", conf.path()]);
    assert_eq!(strict.status.code(), Some(5));
    let strict_friendly = lvskitd(&[
        "-t",
        "--strict",
        "--exit-status",
        "lvskit",
        "-f",
        conf.path(),
    ]);
    assert_eq!(strict_friendly.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&strict.stderr)
            .contains("error: unknown keyword `no_such_keyword`")
    );
}

#[test]
fn config_id_selects_conditional_lines() {
    let conf = TempConf::new(
        "cid",
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 5\n    @main priority 300\n    @backup priority 90\n    virtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    assert_eq!(
        lvskitd(&["-t", "-i", "backup", "-f", conf.path()])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        lvskitd(&["-t", "-i", "main", "-f", conf.path()])
            .status
            .code(),
        Some(5)
    );
}

#[test]
fn dump_config_prints_the_model_as_json() {
    let file = format!("{TESTDATA}/vectors/keepalived-2.2.7/v3_unicast.conf");
    let out = lvskitd(&["-t", "--dump-config", "-f", &file]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["global_defs"]["router_id"], "vec_v3_unicast");
    let vi = &json["vrrp_instances"][0];
    assert_eq!(vi["name"], "VI_U");
    assert_eq!(vi["virtual_router_id"], 77);
    assert_eq!(vi["version"], 3);
    assert_eq!(vi["advert_int"], 1.0);
    assert_eq!(vi["src_ip"], "192.0.2.1");
    assert_eq!(vi["unicast_peer"][0]["addr"], "192.0.2.2");
    assert_eq!(vi["virtual_ipaddress"][0]["prefix"]["addr"], "192.0.2.77");
}

#[test]
fn missing_file_is_exit_4_or_2() {
    // keepalived 2.2.7 exits 0 here ("Config files missing"); lvskitd gives keepalived's "cannot
    // run this configuration" status instead (a difference listed in the crate README).
    let out = lvskitd(&["-t", "-f", "/nonexistent/keepalived.conf"]);
    assert_eq!(out.status.code(), Some(4));
    let friendly = lvskitd(&[
        "-t",
        "--exit-status",
        "lvskit",
        "-f",
        "/nonexistent/keepalived.conf",
    ]);
    assert_eq!(friendly.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/keepalived.conf")
    );
}
