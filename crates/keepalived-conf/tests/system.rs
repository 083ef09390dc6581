//! The checks against the system (`keepalived_conf::system`), on scratch directories standing in
//! for `/sys/class/net` and `/etc/passwd`, with the exit status `keepalived -t` gives for each
//! case (seen with keepalived 2.2.7; the netns differential suite runs the same cases for real).

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use keepalived_conf::system::{SystemPaths, check_system};
use keepalived_conf::{ConfigTestStatus, Diagnostic, DiagnosticKind, Options, Severity, parse_str};

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kc-system-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("net/eth0")).unwrap();
        std::fs::write(dir.join("passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(dir.join("group"), "root:x:0:\n").unwrap();
        Self(dir)
    }

    fn paths(&self) -> SystemPaths {
        SystemPaths {
            interfaces: self.0.join("net"),
            passwd: self.0.join("passwd"),
            group: self.0.join("group"),
            path: "/usr/bin:/bin".into(),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check(scratch: &Scratch, text: &str) -> Vec<Diagnostic> {
    let parsed = parse_str("system.conf", text, &Options::default());
    assert!(!parsed.has_errors(), "{:#?}", parsed.diagnostics);
    check_system(&parsed.config, &parsed.sources, &scratch.paths())
}

fn instance(interface: &str, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface {interface}\n virtual_router_id 5\n priority 100\n virtual_ipaddress {{\n  192.0.2.1\n }}\n{extra}}}\n"
    )
}

#[test]
fn an_interface_that_does_not_exist_is_a_message() {
    let scratch = Scratch::new("if");
    assert!(check(&scratch, &instance("eth0", "")).is_empty());
    let found = check(
        &scratch,
        &instance("eth1", " track_interface {\n  eth9\n }\n"),
    );
    let kinds: Vec<_> = found.iter().map(|d| (d.kind, d.severity)).collect();
    assert_eq!(
        kinds,
        [
            (DiagnosticKind::Interface, Severity::Warning),
            (DiagnosticKind::Interface, Severity::Warning)
        ]
    );
    assert!(found[0].message.contains("interface eth1"), "{}", found[0]);
    assert!(found[1].message.contains("eth9"), "{}", found[1]);
    assert_eq!(ConfigTestStatus::of(&found).code(), 5);
}

#[test]
fn scripts_without_script_security_are_a_security_violation() {
    let scratch = Scratch::new("sec");
    let found = check(&scratch, &instance("eth0", " notify_master /bin/true\n"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind, DiagnosticKind::ScriptSecurity);
    assert_eq!(ConfigTestStatus::of(&found).code(), 6);
    // A script that does not exist is not run, and keepalived says nothing.
    let missing = check(
        &scratch,
        &instance("eth0", " notify_master /nonexistent/x.sh\n"),
    );
    assert!(missing.is_empty(), "{missing:#?}");
    // With script security and a user to run it as, all is well.
    let secure = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\n{}",
        instance("eth0", " notify_master /bin/true\n")
    );
    assert!(check(&scratch, &secure).is_empty());
}

#[test]
fn script_security_needs_a_user_to_run_scripts_as() {
    let scratch = Scratch::new("user");
    let text = format!(
        "global_defs {{\n enable_script_security\n}}\n{}",
        instance("eth0", " notify_master /bin/true\n")
    );
    let found = check(&scratch, &text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind, DiagnosticKind::Script);
    assert!(
        found[0].message.contains("keepalived_script"),
        "{}",
        found[0]
    );
    assert_eq!(ConfigTestStatus::of(&found).code(), 5);
}

#[test]
fn a_root_script_others_can_change_is_insecure() {
    let scratch = Scratch::new("insecure");
    let dir = scratch.0.join("open");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let script = dir.join("notify.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let notify = format!(" notify_master {}\n", script.display());
    let found = check(&scratch, &instance("eth0", &notify));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].kind, DiagnosticKind::ScriptSecurity);
    assert!(
        found[0].message.contains("a non-root user can change them"),
        "{}",
        found[0]
    );
    // With script security keepalived disables it without a configuration message: a note.
    let text = format!(
        "global_defs {{\n enable_script_security\n script_user root\n}}\n{}",
        instance("eth0", &notify)
    );
    let found = check(&scratch, &text);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        (found[0].kind, found[0].severity),
        (DiagnosticKind::Script, Severity::Note)
    );
    assert_eq!(ConfigTestStatus::of(&found).code(), 0);
}

#[test]
fn a_missing_interface_stops_the_vrrp_script_checks_as_in_keepalived() {
    let scratch = Scratch::new("stop");
    let found = check(&scratch, &instance("eth1", " notify_master /bin/true\n"));
    let kinds: Vec<_> = found.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, [DiagnosticKind::Interface]);
    assert_eq!(ConfigTestStatus::of(&found).code(), 5);
}

#[test]
fn start_and_shutdown_scripts_are_checked_too() {
    let scratch = Scratch::new("startstop");
    let found = check(&scratch, "global_defs {\n shutdown_script /bin/true\n}\n");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].message.starts_with("start/shutdown scripts"),
        "{}",
        found[0]
    );
    assert_eq!(ConfigTestStatus::of(&found).code(), 6);
}

#[test]
fn a_linkbeat_or_delay_interface_that_does_not_exist_is_fatal() {
    let scratch = Scratch::new("fatal");
    let found = check(
        &scratch,
        "linkbeat_interfaces {\n eth7\n}\ninterface_up_down_delays {\n eth8 1\n eth0 2\n}\n",
    );
    let kinds: Vec<_> = found.iter().map(|d| (d.kind, d.severity)).collect();
    assert_eq!(
        kinds,
        [
            (DiagnosticKind::Fatal, Severity::Error),
            (DiagnosticKind::Fatal, Severity::Error)
        ]
    );
    // keepalived exits 4 when these are all it has to say, 5 with any other message too.
    assert_eq!(ConfigTestStatus::of(&found).code(), 4);
    let mut more = found.clone();
    more.extend(check(&scratch, &instance("eth1", "")));
    assert_eq!(ConfigTestStatus::of(&more).code(), 5);
}
