//! One test per diagnostic class: the kind, severity, file:line:col and message a user sees.

use keepalived_conf::{Diagnostic, DiagnosticKind, Options, Severity, parse_str};

const FILE: &str = "/etc/keepalived/test.conf";

fn diags_with(text: &str, options: &Options) -> Vec<Diagnostic> {
    parse_str(FILE, text, options).diagnostics
}

fn diags(text: &str) -> Vec<Diagnostic> {
    diags_with(text, &Options::default())
}

/// Asserts that exactly one diagnostic has `kind`, and that it says `message` at `line:col`.
#[track_caller]
fn assert_one(
    list: &[Diagnostic],
    kind: DiagnosticKind,
    severity: Severity,
    line: usize,
    col: usize,
    message: &str,
) {
    let found: Vec<&Diagnostic> = list.iter().filter(|d| d.kind == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind:?} in {list:#?}");
    let d = found[0];
    let loc = d.location.as_ref().expect("a location");
    assert_eq!(
        (
            d.severity,
            loc.path.to_str().unwrap(),
            loc.line,
            loc.column,
            d.message.as_str()
        ),
        (severity, FILE, line, col, message)
    );
}

fn vi(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n{body}    virtual_ipaddress {{ 192.0.2.1 }}\n}}\n"
    )
}

#[test]
fn unknown_keyword_is_a_warning_and_an_error_when_strict() {
    let text = vi("    priorty 100\n");
    assert_one(
        &diags(&text),
        DiagnosticKind::UnknownKeyword,
        Severity::Warning,
        4,
        5,
        "unknown keyword `priorty` in vrrp_instance",
    );
    let strict = Options {
        strict: true,
        ..Options::default()
    };
    assert_one(
        &diags_with(&text, &strict),
        DiagnosticKind::UnknownKeyword,
        Severity::Error,
        4,
        5,
        "unknown keyword `priorty` in vrrp_instance",
    );
}

#[test]
fn extra_arguments_are_a_syntax_warning() {
    let list = diags(&vi("    priority 100 101\n"));
    assert_one(
        &list,
        DiagnosticKind::Syntax,
        Severity::Warning,
        4,
        18,
        "`priority` takes at most 1 argument; `101` and the rest are ignored",
    );
}

#[test]
fn unclosed_block() {
    let list = diags("global_defs {\n    router_id a\n");
    assert_one(
        &list,
        DiagnosticKind::Braces,
        Severity::Error,
        1,
        13,
        "this `{` is never closed",
    );
}

#[test]
fn stray_close_brace() {
    let list = diags("global_defs {\n    router_id a\n}\n  }\n");
    assert_one(
        &list,
        DiagnosticKind::Braces,
        Severity::Error,
        4,
        3,
        "`}` without a matching `{`",
    );
}

#[test]
fn unterminated_quote() {
    let list = diags("vrrp_script s {\n  script \"/bin/true\n}\n");
    assert_one(
        &list,
        DiagnosticKind::Braces,
        Severity::Error,
        2,
        10,
        "quoted string is not closed before the end of the line",
    );
}

#[test]
fn include_that_matches_nothing() {
    // keepalived: "Config files missing" for a file name, nothing for a wildcard (an empty
    // conf.d is normal); `includew` makes the wildcard an error.
    let list = diags("\n  include /nonexistent/keepalived-conf-test/x.conf\n");
    assert_one(
        &list,
        DiagnosticKind::Include,
        Severity::Warning,
        2,
        3,
        "include `/nonexistent/keepalived-conf-test/x.conf` matched no file",
    );
    assert!(diags("include /nonexistent/keepalived-conf-test/*.conf\n").is_empty());
    assert_one(
        &diags("includew /nonexistent/keepalived-conf-test/*.conf\n"),
        DiagnosticKind::IncludeCheck,
        Severity::Error,
        1,
        1,
        "include `/nonexistent/keepalived-conf-test/*.conf` matched no file",
    );
}

#[test]
fn invalid_value() {
    let list = diags(&vi("    priority 100\n    mcast_src_ip 192.0.2.300\n"));
    assert_one(
        &list,
        DiagnosticKind::InvalidValue,
        Severity::Error,
        5,
        18,
        "expected an IP address, found `192.0.2.300`",
    );
}

#[test]
fn vrid_out_of_range() {
    let list = diags(
        "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 256\n    virtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    assert_one(
        &list,
        DiagnosticKind::OutOfRange,
        Severity::Error,
        3,
        23,
        "`virtual_router_id` 256 is outside the range [1, 255]",
    );
}

#[test]
fn priority_out_of_range() {
    let list = diags(&vi("    priority 0\n"));
    assert_one(
        &list,
        DiagnosticKind::OutOfRange,
        Severity::Error,
        4,
        14,
        "`priority` 0 is outside the range [1, 255]",
    );
}

#[test]
fn advert_int_not_valid_for_version_2() {
    let list = diags(&vi("    advert_int 0.5\n"));
    assert_one(
        &list,
        DiagnosticKind::OutOfRange,
        Severity::Error,
        4,
        16,
        "advert_int 0.5 is not valid for VRRPv2: whole seconds from 1 to 255",
    );
}

#[test]
fn advert_int_not_valid_for_version_3() {
    let list = diags(&vi("    version 3\n    advert_int 0.005\n"));
    assert_one(
        &list,
        DiagnosticKind::OutOfRange,
        Severity::Error,
        5,
        16,
        "advert_int 0.005 is not valid for VRRPv3: hundredths of a second from 0.01 to 40.95",
    );
    // The same value is fine when the global version says 3 and 0.5 is a multiple of 10 ms.
    let ok = diags(&format!(
        "global_defs {{ vrrp_version 3 }}\n{}",
        vi("    advert_int 0.5\n")
    ));
    assert!(ok.is_empty(), "{ok:#?}");
}

#[test]
fn missing_virtual_router_id() {
    let list = diags(
        "\nvrrp_instance VI_9 {\n    interface eth0\n    virtual_ipaddress { 192.0.2.1 }\n}\n",
    );
    assert_one(
        &list,
        DiagnosticKind::Missing,
        Severity::Error,
        2,
        1,
        "vrrp_instance `VI_9` has no virtual_router_id",
    );
}

#[test]
fn duplicate_vrid_on_one_interface_and_family() {
    let text = format!("{}{}", vi(""), vi("").replace("VI_1", "VI_2"));
    let list = diags(&text);
    assert_one(
        &list,
        DiagnosticKind::Duplicate,
        Severity::Error,
        8,
        23,
        "virtual_router_id 51 on eth0 (IPv4) is already used by vrrp_instance `VI_1`",
    );
    // Another interface, or another family, is fine.
    let other_if = format!(
        "{}{}",
        vi(""),
        vi("").replace("VI_1", "VI_2").replace("eth0", "eth1")
    );
    assert!(diags(&other_if).is_empty());
    let other_family = format!(
        "{}{}",
        vi(""),
        vi("    version 3\n")
            .replace("VI_1", "VI_2")
            .replace("192.0.2.1", "2001:db8::1")
    );
    assert!(
        diags(&other_family).is_empty(),
        "{:#?}",
        diags(&other_family)
    );
}

#[test]
fn track_script_that_does_not_exist() {
    let list = diags(&vi(
        "    track_script {\n        chk_missing weight 10\n    }\n",
    ));
    assert_one(
        &list,
        DiagnosticKind::UndefinedReference,
        Severity::Error,
        5,
        9,
        "track_script `chk_missing` is not a defined vrrp_script",
    );
}

#[test]
fn vip_family_differs_from_the_instance() {
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        192.0.2.1\n        2001:db8::1\n    }\n}\n";
    let list = diags(text);
    assert_one(
        &list,
        DiagnosticKind::AddressFamily,
        Severity::Error,
        6,
        9,
        "IPv6 address 2001:db8::1 in an IPv4 instance; put it in virtual_ipaddress_excluded",
    );
}

#[test]
fn dr_real_server_port_differs() {
    let text = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind DR\n    real_server 192.0.2.20 8080 {\n    }\n}\n";
    let list = diags(text);
    assert_one(
        &list,
        DiagnosticKind::Conflict,
        Severity::Error,
        5,
        5,
        "real server 192.0.2.20 port 8080 differs from the virtual port, which DR cannot forward to; keepalived uses the virtual port",
    );
    // NAT may map ports.
    assert!(diags(&text.replace("DR", "NAT")).is_empty());
}

#[test]
fn quorum_above_total_weight() {
    let text = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_algo rr\n    lb_kind NAT\n    quorum 5\n    real_server 192.0.2.20 80 {\n        weight 2\n    }\n    real_server 192.0.2.21 80 {\n    }\n}\n";
    let list = diags(text);
    assert_one(
        &list,
        DiagnosticKind::Conflict,
        Severity::Warning,
        5,
        12,
        "quorum 5 is above the total weight 3 of the real servers; keepalived lowers it to 3",
    );
}

#[test]
fn render_shows_the_line_and_a_caret() {
    let list = diags(&vi("    priority 300\n"));
    let rendered = list[0].render();
    let expected = "error: `priority` 300 is outside the range [1, 255]\n --> /etc/keepalived/test.conf:4:14\n  |\n4 |     priority 300\n  |              ^^^";
    assert_eq!(rendered.trim_end(), expected);
    assert_eq!(
        list[0].to_string(),
        "/etc/keepalived/test.conf:4:14: error: `priority` 300 is outside the range [1, 255]"
    );
}

#[test]
fn sync_group_member_that_does_not_exist() {
    let text = format!(
        "{}vrrp_sync_group G {{\n    group {{\n        VI_1\n        VI_X\n    }}\n}}\n",
        vi("")
    );
    let list = diags(&text);
    assert_one(
        &list,
        DiagnosticKind::UndefinedReference,
        Severity::Error,
        9,
        9,
        "sync group member `VI_X` is not a defined vrrp_instance",
    );
}

#[test]
fn virtual_server_group_that_does_not_exist() {
    let list = diags(
        "virtual_server group WEB {\n    protocol TCP\n    real_server 192.0.2.20 80 {\n    }\n}\n",
    );
    assert_one(
        &list,
        DiagnosticKind::UndefinedReference,
        Severity::Error,
        1,
        1,
        "virtual_server_group `WEB` is not defined",
    );
}

#[test]
fn virtual_server_without_port_must_be_persistent() {
    let list = diags(
        "virtual_server 192.0.2.10 {\n    protocol UDP\n    lb_algo rr\n    lb_kind NAT\n    real_server 192.0.2.20 80 {\n    }\n}\n",
    );
    assert_one(
        &list,
        DiagnosticKind::Missing,
        Severity::Error,
        1,
        1,
        "a virtual server without a port must be persistent (persistence_timeout); keepalived makes it so",
    );
    let persistent = diags(
        "virtual_server 192.0.2.10 {\n    protocol UDP\n    lb_algo rr\n    lb_kind NAT\n    persistence_timeout\n    real_server 192.0.2.20 80 {\n    }\n}\n",
    );
    assert!(persistent.is_empty(), "{persistent:#?}");
}

#[test]
fn lvs_sync_daemon_instance_that_does_not_exist() {
    let list = diags("global_defs {\n    lvs_sync_daemon eth0 VI_9 id 3\n}\n");
    assert_one(
        &list,
        DiagnosticKind::UndefinedReference,
        Severity::Error,
        2,
        5,
        "lvs_sync_daemon names vrrp_instance `VI_9`, which is not defined",
    );
}

#[test]
fn multiline_definition_left_open() {
    let list = diags("global_defs {\n    router_id a\n}\n$X= \\\n  router_id b \\\n");
    assert_one(
        &list,
        DiagnosticKind::Syntax,
        Severity::Error,
        6,
        1,
        "multiline definition `$X` runs to the end of the file",
    );
}

#[test]
fn deprecated_name_warns_and_is_not_an_error_even_when_strict() {
    // keepalived reads the old name in HTTP_GET and SSL_GET only.
    let text = "virtual_server 192.0.2.10 80 {\n    protocol TCP\n    real_server 192.0.2.20 80 {\n        HTTP_GET {\n            nb_get_retry 3\n            url {\n                path /\n            }\n        }\n    }\n}\n";
    for strict in [false, true] {
        let list = diags_with(
            text,
            &Options {
                strict,
                ..Options::default()
            },
        );
        assert_one(
            &list,
            DiagnosticKind::Deprecated,
            Severity::Warning,
            5,
            13,
            "`nb_get_retry` is deprecated; use `retry`",
        );
    }
}

#[test]
fn virtual_server_without_protocol_warns() {
    let list = diags(
        "virtual_server 192.0.2.10 80 {\n    lb_algo rr\n    lb_kind NAT\n    real_server 192.0.2.20 80 {\n    }\n}\n",
    );
    assert_one(
        &list,
        DiagnosticKind::Missing,
        Severity::Warning,
        1,
        1,
        "virtual_server has no `protocol`; keepalived 2.2.7 then uses UDP, write `protocol TCP` if TCP is meant",
    );
}

#[test]
fn check_of_a_model_built_in_code_has_no_location_and_still_renders() {
    use keepalived_conf::model::{Config, VrrpInstance};
    let config = Config {
        vrrp_instances: vec![VrrpInstance {
            name: "VI_CODE".into(),
            ..VrrpInstance::default()
        }],
        ..Config::default()
    };
    let list = keepalived_conf::check(&config, &keepalived_conf::SourceMap::default(), false);
    let missing = list
        .iter()
        .find(|d| d.kind == DiagnosticKind::Missing && d.is_error())
        .expect("missing virtual_router_id");
    assert_eq!(missing.location, None);
    assert_eq!(
        missing.message,
        "vrrp_instance `VI_CODE` has no virtual_router_id"
    );
    assert!(
        missing
            .render()
            .starts_with("error: vrrp_instance `VI_CODE` has no virtual_router_id")
    );
    assert_eq!(
        missing.to_string(),
        "error: vrrp_instance `VI_CODE` has no virtual_router_id"
    );
}

#[test]
fn route_gw_is_deprecated_and_a_route_without_dev_cannot_be_tracked() {
    let text = vi("    virtual_routes {\n        0.0.0.0/0 gw 192.0.2.254\n    }\n");
    let list = diags(&text);
    assert_one(
        &list,
        DiagnosticKind::Deprecated,
        Severity::Warning,
        5,
        19,
        "`gw` for routes is deprecated; use `via`",
    );
    assert_one(
        &list,
        DiagnosticKind::Missing,
        Severity::Warning,
        5,
        9,
        "route 0.0.0.0/0 has no `dev`, so keepalived cannot track it",
    );
    assert_eq!(list.len(), 2, "{list:#?}");
}

#[test]
fn unknown_keywords_in_the_tracking_blocks_are_errors_when_strict() {
    // These blocks used to be kept verbatim, so anything passed; now each is typed.
    for block in [
        "bfd_instance b1 {\n    neighbor_ip 192.0.2.9\n    no_such_option 1\n}\n",
        "vrrp_track_process p {\n    process nginx\n    no_such_option 1\n}\n",
        "garp_group {\n    interface eth0\n    no_such_option 1\n}\n",
        "track_group g {\n    group {\n        VI_1\n    }\n    no_such_option 1\n}\n",
    ] {
        let strict = diags_with(
            block,
            &Options {
                strict: true,
                ..Options::default()
            },
        );
        let unknown: Vec<_> = strict
            .iter()
            .filter(|d| d.kind == DiagnosticKind::UnknownKeyword)
            .collect();
        assert_eq!(unknown.len(), 1, "{block}: {strict:#?}");
        assert_eq!(unknown[0].severity, Severity::Error);
        assert!(unknown[0].message.contains("`no_such_option`"));
    }
}
