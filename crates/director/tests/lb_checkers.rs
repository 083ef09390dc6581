//! The checkers lb::map builds for keywords beyond a plain probe: FILE_CHECK from a
//! `track_file`, HTTP_GET `regex`, SMTP_CHECK `host` blocks, MISC_CHECK `user`, and BFD_CHECK's
//! refusal; and what a FILE_CHECK outcome does to the table.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use director::lb::{Balancer, CheckSetup, Input, LbSetup, Output, map};
use healthcheck::{Check, Checker, State};
use ipvs::{Destination, ForwardMethod, Op, Protocol, ServiceKey};

fn parse(text: &str) -> keepalived_conf::Parsed {
    let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
    assert!(
        !parsed.has_errors(),
        "{:#?}",
        parsed.errors().map(|d| d.render()).collect::<Vec<_>>()
    );
    parsed
}

fn setup(text: &str) -> LbSetup {
    let parsed = parse(text);
    map(&parsed.config, Some(&parsed.sources)).unwrap_or_else(|e| panic!("{e:?}"))
}

fn errors(text: &str) -> Vec<String> {
    let parsed = parse(text);
    map(&parsed.config, Some(&parsed.sources))
        .expect_err("the mapping must refuse this")
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn checks(setup: &LbSetup) -> Vec<CheckSetup> {
    setup.virtual_servers[0].real_servers[0].checks.clone()
}

fn vs(real_server_body: &str) -> String {
    format!(
        "virtual_server 192.0.2.1 80 {{\n    protocol TCP\n    real_server 198.51.100.10 80 {{\n{real_server_body}\n    }}\n}}\n"
    )
}

#[test]
fn file_check_reads_its_track_file_and_sets_the_weight() {
    let dir = std::env::temp_dir().join(format!("lb-file-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("weight");
    let text = format!(
        "track_file tf {{\n    file \"{}\"\n    weight 2\n}}\n{}",
        path.display(),
        vs("        weight 3\n        FILE_CHECK {\n            track_file tf\n        }")
    );
    let setup = setup(&text);
    let [check] = &checks(&setup)[..] else {
        panic!("one check")
    };
    let Check::File(file) = &check.check else {
        panic!("{:?}", check.check)
    };
    assert_eq!(file.path, path);
    assert_eq!(
        file.weight, 2,
        "the track_file's weight when FILE_CHECK has none"
    );
    assert_eq!(file.base_weight, 3);
    assert_eq!(check.schedule.retry, 0);

    // FILE_CHECK's own weight, reversed, wins over the track_file's.
    let text = text.replace(
        "track_file tf\n        }",
        "track_file tf\n            weight 5 reverse\n        }",
    );
    let Check::File(file) = &checks(&self::setup(&text))[0].check else {
        panic!()
    };
    assert_eq!(file.weight, -5);

    // What the check reads drives the destination's weight through the core.
    let mut b = Balancer::new(setup.clone());
    b.handle_input(Input::Start {
        now: Instant::now(),
    });
    let out = drain(&mut b);
    let id = out
        .iter()
        .find_map(|o| match o {
            Output::InsertCheck { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    std::fs::write(&path, "4\n").unwrap();
    let outcome = futures_ready(check.check.check());
    assert!(outcome.healthy);
    assert_eq!(outcome.weight, Some(11), "3 + 4 × 2");
    b.handle_input(Input::Check {
        now: Instant::now(),
        id,
        state: State::Up,
        weight: outcome.weight,
    });
    let key = ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: "192.0.2.1:80".parse().unwrap(),
    };
    assert_eq!(
        ops(&drain(&mut b)),
        vec![Op::SetDest(
            key,
            Destination::new("198.51.100.10:80".parse::<SocketAddr>().unwrap())
                .weight(11)
                .forward(ForwardMethod::Masquerade)
        )]
    );
    std::fs::write(&path, "-2\n").unwrap();
    assert!(
        !futures_ready(check.check.check()).healthy,
        "3 - 4 is below 1"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_check_of_an_undefined_track_file_is_an_error_with_its_line() {
    let text = vs("        FILE_CHECK {\n            track_file nowhere\n        }");
    let errors = errors(&text);
    assert!(errors[0].starts_with("keepalived.conf:4:"), "{errors:?}");
    assert!(errors[0].contains("nowhere"), "{errors:?}");
}

#[test]
fn bfd_check_is_refused_with_the_reason() {
    let text = vs("        BFD_CHECK {\n            name b1\n        }");
    let errors = errors(&text);
    assert!(errors[0].starts_with("keepalived.conf:4:"), "{errors:?}");
    assert!(errors[0].contains("no BFD implementation"), "{errors:?}");
}

#[test]
fn http_get_regex_is_compiled_with_its_options_and_offsets() {
    let text = vs("        HTTP_GET {
            url {
                path /health
                regex \"status: *OK\"
                regex_no_match
                regex_options caseless multiline
                regex_min_offset 2
                regex_max_offset 100
            }
        }");
    let Check::Http(get) = &checks(&setup(&text))[0].check else {
        panic!()
    };
    let regex = get.urls[0].regex.as_ref().expect("a regex");
    assert_eq!(regex.pattern(), "status: *OK");
    assert!(regex.no_match);
    assert_eq!((regex.min_offset, regex.max_offset), (2, Some(100)));
    // caseless: a match, which regex_no_match turns into a failure.
    assert!(!regex.passes(b"..STATUS: ok"));
    assert!(regex.passes(b"..status: down"));
    // The same file maps to an equal check (a reload keeps it running).
    assert_eq!(checks(&setup(&text)), checks(&setup(&text)));

    let bad = vs(
        "        HTTP_GET {\n            url {\n                path /\n                regex \"a(?=b)\"\n            }\n        }",
    );
    let errors = errors(&bad);
    assert!(errors[0].starts_with("keepalived.conf:4:"), "{errors:?}");
    assert!(errors[0].contains("regex"), "{errors:?}");
}

#[test]
fn smtp_check_hosts_are_checks_of_their_own() {
    let text = vs("        SMTP_CHECK {
            helo_name lb.example
            connect_timeout 7
            retry 4
            host {
                connect_ip 198.51.100.20
                connect_port 2525
            }
            host {
                connect_ip 198.51.100.21
                connect_timeout 3
                retry 1
            }
        }");
    let checks = checks(&setup(&text));
    assert_eq!(checks.len(), 2);
    let smtp = |c: &CheckSetup| match &c.check {
        Check::Smtp(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let (a, b) = (smtp(&checks[0]), smtp(&checks[1]));
    assert_eq!(a.connect.target(), "198.51.100.20:2525".parse().unwrap());
    assert_eq!(b.connect.target(), "198.51.100.21:80".parse().unwrap());
    assert_eq!(a.connect.connect_timeout, Duration::from_secs(7));
    assert_eq!(b.connect.connect_timeout, Duration::from_secs(3));
    assert_eq!((checks[0].schedule.retry, checks[1].schedule.retry), (4, 1));
    assert_eq!(a.helo_name, "lb.example");
    assert_eq!(b.helo_name, "lb.example");
}

#[test]
fn misc_check_user_and_script_user_are_resolved() {
    let text = vs(
        "        MISC_CHECK {\n            misc_path /bin/true\n            user root\n        }",
    );
    let Check::Misc(misc) = &checks(&setup(&text))[0].check else {
        panic!()
    };
    assert_eq!(misc.user, Some((0, 0)));
    // No user on the checker: global_defs' script_user.
    let text = format!(
        "global_defs {{\n    script_user root root\n}}\n{}",
        vs("        MISC_CHECK {\n            misc_path /bin/true\n        }")
    );
    let Check::Misc(misc) = &checks(&setup(&text))[0].check else {
        panic!()
    };
    assert_eq!(misc.user, Some((0, 0)));
    // Neither: the daemon's own user.
    let text = vs("        MISC_CHECK {\n            misc_path /bin/true\n        }");
    let Check::Misc(misc) = &checks(&setup(&text))[0].check else {
        panic!()
    };
    assert_eq!(misc.user, None);
    // A user this host does not have: an error naming the line.
    let text = vs(
        "        MISC_CHECK {\n            misc_path /bin/true\n            user no-such-user-lbfig\n        }",
    );
    let errors = errors(&text);
    assert!(errors[0].starts_with("keepalived.conf:4:"), "{errors:?}");
    assert!(
        errors[0].contains("no user no-such-user-lbfig"),
        "{errors:?}"
    );
}

#[test]
fn notify_scripts_keep_their_user() {
    let text = vs("        notify_up \"/bin/up\" nobody\n        notify_down /bin/down");
    let rs = &setup(&text).virtual_servers[0].real_servers[0];
    assert_eq!(
        rs.notify_up.as_ref().unwrap().user,
        Some(("nobody".into(), None))
    );
    assert_eq!(rs.notify_down.as_ref().unwrap().user, None);
}

fn drain(b: &mut Balancer) -> Vec<Output> {
    let mut out = Vec::new();
    while let Some(o) = b.poll_output() {
        out.push(o);
    }
    out
}

fn ops(out: &[Output]) -> Vec<Op> {
    out.iter()
        .filter_map(|o| match o {
            Output::Ipvs(ops) => Some(ops.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Runs a future that is ready at once (a FILE_CHECK attempt reads a file synchronously).
fn futures_ready<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}
