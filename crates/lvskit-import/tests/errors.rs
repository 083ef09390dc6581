//! Bad input gives `file:line:col` errors with a clear message, and nothing is written.

use lvskit_import::{DiagnosticKind, Error, Heartbeat, Input, Options};

/// The errors of an import that must fail.
fn errors(result: Result<lvskit_import::Imported, Error>) -> Vec<lvskit_import::Diagnostic> {
    match result {
        Err(Error::Invalid { errors, .. }) => {
            assert!(!errors.is_empty());
            errors
        }
        Ok(i) => panic!("imported bad input:\n{}", i.config),
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn ldirectord(text: &str) -> Vec<lvskit_import::Diagnostic> {
    errors(lvskit_import::ldirectord(
        &Input::new("ldirectord.cf", text),
        &Options::default(),
    ))
}

/// Asserts one error at `line:col` whose message contains `needle`, shown with a caret.
fn assert_error(errors: &[lvskit_import::Diagnostic], at: &str, needle: &str) {
    let found = errors
        .iter()
        .find(|e| e.to_string().starts_with(at) && e.message.contains(needle));
    let Some(e) = found else {
        panic!("no error at {at} containing {needle:?}: {errors:#?}");
    };
    let rendered = e.render();
    assert!(
        rendered.contains(&format!("--> {}", &at[..at.len() - 1])),
        "{rendered}"
    );
    assert!(rendered.contains('^'), "{rendered}");
}

#[test]
fn ldirectord_unknown_directive() {
    let e = ldirectord(
        "checkinterval=5\nvirtual=192.0.2.1:80\n\treal=198.51.100.1:80 gate\n\tchecktypo=connect\n",
    );
    assert_error(
        &e,
        "ldirectord.cf:4:2:",
        "unknown ldirectord directive `checktypo`",
    );
    assert_eq!(e[0].kind, DiagnosticKind::UnknownKeyword);
}

#[test]
fn ldirectord_real_before_virtual() {
    let e = ldirectord("checkinterval=5\nreal=198.51.100.1:80 gate\nvirtual=192.0.2.1:80\n");
    assert_error(&e, "ldirectord.cf:2:1:", "`real=` before any `virtual=`");
}

#[test]
fn ldirectord_bad_addresses() {
    let e = ldirectord("virtual=192.0.2.300:80\n\treal=198.51.100.1:80 gate\n");
    assert_error(&e, "ldirectord.cf:1:9:", "virtual= expects ADDRESS:PORT");
    let e = ldirectord("virtual=192.0.2.1:80\n\treal=www.example.test:80 gate\n");
    assert_error(
        &e,
        "ldirectord.cf:2:7:",
        "real= expects an IP address, found `www.example.test`",
    );
    let e = ldirectord("virtual=192.0.2.1:80\n\treal=198.51.100.1:80 tunnel\n");
    assert_error(
        &e,
        "ldirectord.cf:2:23:",
        "forwarding method must be gate, masq or ipip",
    );
    let e = ldirectord("virtual=192.0.2.1\n\treal=198.51.100.1 gate\n");
    assert_error(&e, "ldirectord.cf:1:9:", "no port");
}

#[test]
fn ldirectord_bad_values() {
    let e = ldirectord(
        "virtual=192.0.2.1:80\n\treal=198.51.100.1:80 gate\n\tscheduler=fastest\n\tchecktype=sometimes\n\tchecktimeout=soon\n",
    );
    assert_error(&e, "ldirectord.cf:3:12:", "unknown scheduler `fastest`");
    assert_error(&e, "ldirectord.cf:4:12:", "unknown checktype `sometimes`");
    assert_error(
        &e,
        "ldirectord.cf:5:15:",
        "checktimeout` expects a number of seconds",
    );
    let e = ldirectord("virtual=192.0.2.1:80\n\treal=198.51.100.1:80 gate\n\tchecktype=external\n");
    assert_error(&e, "ldirectord.cf:3:12:", "checkcommand");
    let e = ldirectord("virtual=192.0.2.1:80\n\tautoreload=yes\n");
    assert_error(&e, "ldirectord.cf:2:2:", "global directive");
    let e = ldirectord("virtual=192.0.2.1:80\n\treal=198.51.100.1->198.51.101.1 gate\n");
    assert_error(&e, "ldirectord.cf:2:7:", "at most 256");
}

fn heartbeat(
    ha_cf: &str,
    haresources: &str,
    authkeys: Option<&str>,
) -> Vec<lvskit_import::Diagnostic> {
    errors(lvskit_import::heartbeat(
        &Heartbeat {
            ha_cf: Input::new("ha.cf", ha_cf),
            haresources: Input::new("haresources", haresources),
            authkeys: authkeys.map(|a| Input::new("authkeys", a)),
            ldirectord: Vec::new(),
        },
        &Options::default(),
    ))
}

const HA: &str = "keepalive 1\ndeadtime 10\nnode a.example.test\nnode b.example.test\n";

#[test]
fn heartbeat_errors() {
    let e = heartbeat(
        &format!("{HA}keepalives 2\n"),
        "a.example.test 192.0.2.1/24/eth0\n",
        None,
    );
    assert_error(&e, "ha.cf:5:1:", "unknown ha.cf directive `keepalives`");
    let e = heartbeat(
        &format!("{HA}ucast eth0 lb2\n"),
        "a.example.test 192.0.2.1/24/eth0\n",
        None,
    );
    assert_error(
        &e,
        "ha.cf:5:12:",
        "ucast expects an IP address, found `lb2`",
    );
    let e = heartbeat(HA, "c.example.test 192.0.2.1/24/eth0\n", None);
    assert_error(
        &e,
        "haresources:1:1:",
        "`c.example.test` is not a node of ha.cf",
    );
    let e = heartbeat(HA, "a.example.test IPaddr::192.0.2.300/24/eth0\n", None);
    assert_error(
        &e,
        "haresources:1:16:",
        "`192.0.2.300` is not an IP address",
    );
    let e = heartbeat(HA, "a.example.test 192.0.2.1/24\n", None);
    assert_error(&e, "haresources:1:1:", "no interface");
    let e = heartbeat(
        HA,
        "a.example.test 192.0.2.1/24/eth0 ldirectord::www.cf\n",
        None,
    );
    assert_error(&e, "haresources:1:34:", "give that file");
    let e = heartbeat(
        HA,
        "a.example.test 192.0.2.1/24/eth0\n",
        Some("auth 3\n1 sha1 secret\n"),
    );
    assert_error(&e, "authkeys:1:6:", "no key line numbered 3");
    let e = heartbeat(
        HA,
        "a.example.test 192.0.2.1/24/eth0\n",
        Some("auth 1\n1 rot13 secret\n"),
    );
    assert_error(&e, "authkeys:2:3:", "must be crc, md5 or sha1");
}

fn piranha(text: &str) -> Vec<lvskit_import::Diagnostic> {
    errors(lvskit_import::piranha(
        &Input::new("lvs.cf", text),
        &Options::default(),
    ))
}

#[test]
fn piranha_errors() {
    let head = "primary = 192.0.2.1\nbackup_active = 1\nbackup = 192.0.2.2\n";
    let e = piranha(&format!("{head}keepalives = 6\n"));
    assert_error(&e, "lvs.cf:4:1:", "unknown global setting `keepalives`");
    let e = piranha(&format!(
        "{head}virtual web {{\n  address = 192.0.2.10 eth0\n  port = 80\n  server a {{\n    address = 198.51.100.300\n  }}\n}}\n"
    ));
    assert_error(
        &e,
        "lvs.cf:8:15:",
        "address expects an IP address, found `198.51.100.300`",
    );
    let e = piranha(&format!(
        "{head}virtual web {{\n  address = 192.0.2.10 eth0\n  port = 80\n"
    ));
    assert_error(&e, "lvs.cf:4:1:", "is not closed");
    let e = piranha(&format!(
        "{head}network = bridged\nvirtual web {{\n  address = 192.0.2.10 eth0\n  port = 80\n}}\n"
    ));
    assert_error(&e, "lvs.cf:4:11:", "network must be direct, nat or tunnel");
    let e = piranha(&format!(
        "{head}virtual web {{\n  address = 192.0.2.10 eth0\n  prot = 80\n}}\n"
    ));
    assert_error(&e, "lvs.cf:6:3:", "unknown virtual setting `prot`");
}

/// Every error is reported, not just the first, and a warning found before stays a warning.
#[test]
fn reports_every_error() {
    let e = ldirectord(
        "bogus=1\nreal=198.51.100.1:80 gate\nvirtual=192.0.2.1:80\n\treal=nowhere gate\n",
    );
    assert_eq!(e.len(), 3, "{e:#?}");
}

/// Arbitrary bytes never panic.
#[test]
fn garbage_does_not_panic() {
    let inputs = [
        "",
        "=",
        "virtual=",
        "virtual=[::1\n\treal=[",
        "virtual=1:2:3:4\n\treal=\"\"",
        "\u{feff}virtual=192.0.2.1:80\n\treal=198.51.100.1:80 gate 99999999999\n",
        "virtual=192.0.2.1:80\n\treal=198.51.100.1:80 gate 1 \"a\", \"b\", \"c\"\n",
        "é=ü\n\t\t\t",
    ];
    for text in inputs {
        let _ = lvskit_import::ldirectord(&Input::new("x", text), &Options::default());
        let _ = lvskit_import::piranha(&Input::new("x", text), &Options::default());
        let _ = lvskit_import::heartbeat(
            &Heartbeat {
                ha_cf: Input::new("x", text),
                haresources: Input::new("y", text),
                authkeys: Some(Input::new("z", text)),
                ldirectord: Vec::new(),
            },
            &Options::default(),
        );
    }
}
