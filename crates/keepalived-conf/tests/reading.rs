//! Reading in keepalived 2.2.7's order and with its quoting: each case was run through
//! `keepalived -t` (Debian's 2.2.7) and, for values, through its configuration dump (`-d`), and
//! the test says what keepalived did.

use std::sync::Arc;

use keepalived_conf::{DiagnosticKind, MemoryFs, Options, Parsed, Severity, parse_file, parse_str};

const MAIN: &str = "/etc/keepalived/keepalived.conf";

/// Parses `main` with the other files in memory, config id `node`.
fn read(main: &str, files: &[(&str, &str)]) -> Parsed {
    let mut fs = MemoryFs::new();
    fs.insert(MAIN, main);
    for (path, text) in files {
        fs.insert(path, *text);
    }
    let options = Options {
        config_id: Some("node".into()),
        fs: Arc::new(fs),
        ..Options::default()
    };
    parse_file(MAIN, &options).expect("the main file is in memory")
}

/// The keywords keepalived would call unknown, in the order it meets them: each file below
/// holds one, so the order of reading shows.
fn unknown(parsed: &Parsed) -> Vec<String> {
    parsed
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::UnknownKeyword)
        .map(|d| {
            let start = d.message.find('`').unwrap() + 1;
            let end = start + d.message[start..].find('`').unwrap();
            d.message[start..end].to_string()
        })
        .collect()
}

fn messages(parsed: &Parsed) -> Vec<String> {
    parsed
        .diagnostics
        .iter()
        .filter(|d| d.kind != DiagnosticKind::UnknownKeyword)
        .map(|d| d.message.clone())
        .collect()
}

const PARTS: &[(&str, &str)] = &[
    ("/etc/keepalived/parts/global.conf", "unknown_global\n"),
    ("/etc/keepalived/parts/vrrp.conf", "unknown_vrrp\n"),
    ("/etc/keepalived/x1.conf", "unknown_x1\n"),
    ("/etc/keepalived/x2.conf", "unknown_x2\n"),
];

#[test]
fn conditionals_apply_before_include() {
    let parsed = read(
        "@node include parts/vrrp.conf\n@^node include parts/global.conf\n@other include x1.conf\n",
        PARTS,
    );
    assert_eq!(unknown(&parsed), ["unknown_vrrp"]);
    assert!(messages(&parsed).is_empty(), "{:?}", parsed.diagnostics);
}

#[test]
fn definitions_are_substituted_before_include() {
    // `$DIR/global.conf` is not substituted: `$NAME` must be followed by whitespace.
    let parsed = read(
        "$DIR=parts\ninclude ${DIR}/vrrp.conf\ninclude $DIR/global.conf\n$INC=include x1.conf\n$INC\n",
        PARTS,
    );
    assert_eq!(unknown(&parsed), ["unknown_vrrp", "unknown_x1"]);
    assert_eq!(
        messages(&parsed),
        ["include `$DIR/global.conf` matched no file"]
    );
}

#[test]
fn includes_inside_expansions_are_read_at_their_place() {
    // keepalived: x1 then x2 from the ~SEQ; from the multiline definition, x2 before the
    // keyword that follows the include in the definition.
    let parsed = read(
        "~SEQ(N, 1, 2) include x${N}.conf\n$M= \\\ninclude x2.conf \\\nunknown_after\n$M\nunknown_last\n",
        PARTS,
    );
    assert_eq!(
        unknown(&parsed),
        [
            "unknown_x1",
            "unknown_x2",
            "unknown_x2",
            "unknown_after",
            "unknown_last"
        ]
    );
}

#[test]
fn brace_globs_are_read_in_the_order_written() {
    let parsed = read("include parts/{vrrp,global}.conf\n", PARTS);
    assert_eq!(unknown(&parsed), ["unknown_vrrp", "unknown_global"]);
    let parsed = read("include parts/{global,vrrp}.conf\ninclude x*.conf\n", PARTS);
    assert_eq!(
        unknown(&parsed),
        ["unknown_global", "unknown_vrrp", "unknown_x1", "unknown_x2"]
    );
    // An alternative without a file: keepalived says "Some config files missing" and reads
    // the rest; `includeb` makes it an error.
    let parsed = read("include parts/{vrrp,nope}.conf\n", PARTS);
    assert_eq!(unknown(&parsed), ["unknown_vrrp"]);
    assert_eq!(parsed.errors().count(), 0);
    assert_eq!(
        messages(&parsed),
        ["include `parts/{vrrp,nope}.conf`: `parts/nope.conf` matched no file"]
    );
    let parsed = read("includeb parts/{vrrp,nope}.conf\n", PARTS);
    assert_eq!(parsed.errors().count(), 1);
}

#[test]
fn the_same_file_included_twice_is_read_twice() {
    let snippet = "weight 2\nTCP_CHECK {\n connect_timeout 3\n}\n";
    let main = "virtual_server 192.0.2.10 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 192.0.2.1 80 {\n  include rs.conf\n }\n real_server 192.0.2.2 80 {\n  include rs.conf\n }\n}\n";
    let parsed = read(main, &[("/etc/keepalived/rs.conf", snippet)]);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let rs = &parsed.config.virtual_servers[0].real_servers;
    assert_eq!(rs.len(), 2);
    assert!(
        rs.iter()
            .all(|r| r.weight == Some(2) && r.checkers.len() == 1)
    );
    // Read once: the source map has the main file and the snippet.
    assert_eq!(parsed.sources.files.len(), 2);
}

#[test]
fn a_real_include_loop_is_an_error() {
    let parsed = read(
        "include a.conf\n",
        &[
            ("/etc/keepalived/a.conf", "include sub/b.conf\n"),
            ("/etc/keepalived/sub/b.conf", "include ../a.conf\n"),
        ],
    );
    let errors: Vec<&str> = parsed.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(
        errors,
        [
            "include loop: `/etc/keepalived/a.conf` includes itself (directly or through other files)"
        ]
    );
    let parsed = read("include keepalived.conf\n", &[]);
    assert_eq!(parsed.errors().count(), 1);
}

#[test]
fn include_paths_are_taken_as_written() {
    // keepalived: the rest of the line, comment cut, quotes kept ("Config files missing
    // '"x1.conf"'"); `includem` makes a missing file an error, `include` a message.
    let parsed = read("include \"x1.conf\"#c\ninclude x1.conf x2.conf\n", PARTS);
    assert_eq!(unknown(&parsed), Vec::<String>::new());
    assert_eq!(
        messages(&parsed),
        [
            "include `\"x1.conf\"` matched no file",
            "include `x1.conf x2.conf` matched no file"
        ]
    );
    assert!(
        parsed
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning)
    );
    let parsed = read("includem nope.conf\n", PARTS);
    assert_eq!(parsed.errors().count(), 1);
    // A lone `include` names nothing.
    let parsed = read("include\n", PARTS);
    assert_eq!(messages(&parsed), ["include needs a file name or pattern"]);
}

#[test]
fn pwd_follows_the_file_being_read() {
    let parsed = read(
        "include conf.d/*.conf\nvrrp_script m { script \"${_PWD}/m.sh\" }\n",
        &[(
            "/etc/keepalived/conf.d/a.conf",
            "vrrp_script a { script \"${_PWD}/a.sh\" }\n",
        )],
    );
    let commands: Vec<&str> = parsed
        .config
        .vrrp_scripts
        .iter()
        .map(|s| s.script.as_ref().unwrap().command.as_str())
        .collect();
    assert_eq!(
        commands,
        ["/etc/keepalived/conf.d/a.sh", "/etc/keepalived/m.sh"]
    );
}

fn words(line: &str) -> (Vec<String>, Vec<String>) {
    let text = format!("global_defs {{\n notification_email {{\n  {line}\n }}\n}}\n");
    let parsed = parse_str(MAIN, &text, &Options::default());
    let errors = parsed.errors().map(|d| d.message.clone()).collect();
    (parsed.config.global_defs.notification_email, errors)
}

#[test]
fn only_double_quotes_group_words() {
    // Each line below went through keepalived -d: `notification_email` lists every word.
    let cases: &[(&str, &[&str])] = &[
        (r#""x y"z"#, &["x y", "z"]),
        (r#"a"b c"d e"#, &["a", "b c", "d", "e"]),
        (r##"a"#"b q"##, &["a", "#", "b", "q"]),
        (r#""a\tb" q"#, &[r"a\tb", "q"]),
        ("a'b c'd", &["a'b", "c'd"]),
        (r#"a"b c"d"e f"g h"#, &["a", "b c", "d", "e f", "g", "h"]),
        (r#"x "" y"#, &["x", "", "y"]),
        (r#"x""y z"#, &["x", "", "y", "z"]),
        ("a'#'b", &["a'"]),
        ("a\\ b", &["a\\", "b"]),
    ];
    for (line, want) in cases {
        let (got, errors) = words(line);
        assert_eq!(got, *want, "{line}");
        assert!(errors.is_empty(), "{line}: {errors:?}");
    }
    // keepalived: "Unmatched quote" (a backslash does not escape a quote here).
    let (_, errors) = words(r#""a\"b""#);
    assert_eq!(
        errors,
        ["quoted string is not closed before the end of the line"]
    );
}

#[test]
fn script_keywords_split_like_a_shell() {
    let vi = |line: &str| {
        format!(
            "vrrp_instance V {{\n interface eth0\n virtual_router_id 5\n priority 100\n virtual_ipaddress {{\n  192.0.2.1\n }}\n {line}\n}}\n"
        )
    };
    let parse = |line: &str| {
        let parsed = parse_str(MAIN, &vi(line), &Options::default());
        let errors: Vec<String> = parsed.errors().map(|d| d.message.clone()).collect();
        let s = parsed.config.vrrp_instances[0].notify.master.clone();
        (s.map(|s| (s.command, s.user, s.group)), errors)
    };
    let some = |c: &str, u: Option<&str>, g: Option<&str>| {
        Some((c.to_string(), u.map(str::to_string), g.map(str::to_string)))
    };
    // keepalived: "Script user 'a b' does not exist" (single quotes group here).
    assert_eq!(
        parse("notify_master /bin/echo 'a b' c"),
        (some("/bin/echo", Some("a b"), Some("c")), vec![])
    );
    assert_eq!(
        parse("notify_master \"/bin/echo 'a b' c\" root"),
        (some("/bin/echo 'a b' c", Some("root"), None), vec![])
    );
    // Adjacent quoted parts join; `\ ` and `\t` are escapes.
    assert_eq!(
        parse("notify_master \"/bin/echo\"'q r' nobody"),
        (some("/bin/echoq r", Some("nobody"), None), vec![])
    );
    assert_eq!(
        parse("notify_master /bin/echo\\ x root"),
        (some("/bin/echo x", Some("root"), None), vec![])
    );
    // A comment is cut at `#` even inside single quotes, so the quote is left open.
    let (_, errors) = parse("notify_master '/bin/echo #x' 'y z'");
    assert_eq!(
        errors,
        ["quoted string is not closed before the end of the line"]
    );
    // An odd number of double quotes is an error even where the shell split accepts it.
    let (_, errors) = parse("notify_master /bin/echo \"a\\\"b\" root");
    assert_eq!(
        errors,
        ["quoted string is not closed before the end of the line"]
    );
}

#[test]
fn seq_arguments_are_substituted_and_bodies_per_repetition() {
    // keepalived: unk_1 .. unk_3, then the nested ~SEQ reuses its variable without the outer
    // line's substitution getting in the way.
    let parsed = read(
        "$N=3\n~SEQ(I,1,${N}) unk_${I}\n~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2, 168, 2, 170) unk_${IP2}.${IP}.${IP1}\n",
        &[],
    );
    assert_eq!(
        unknown(&parsed),
        [
            "unk_1",
            "unk_2",
            "unk_3",
            "unk_168.10.1",
            "unk_170.10.1",
            "unk_168.20.4",
            "unk_170.20.4"
        ]
    );
}

#[test]
fn the_man_pages_nested_seq_of_multiline_definitions() {
    // keepalived.conf(5), "Sequence blocks", with smaller ranges than its 65,024 instances
    // (that full size parses too, see BENCHMARKS.md; the old 32 MiB substitution budget
    // refused it).
    let text = "$VI4= \\\n\
        track_file offset_instance_4.${IF}.${NUM}.${ID} { \\\n\
        \x20   file \"${_PWD}/679/track_files/4.${IF}.${NUM}.${ID}\" \\\n\
        \x20   weight -100 \\\n\
        } \\\n\
        vrrp_instance vrrp4.${IF}.${NUM}.${ID} { \\\n\
        \x20   interface bond${IF}.${NUM} \\\n\
        \x20   use_vmac vrrp4.${IF}.${NUM}.${ID} \\\n\
        \x20   virtual_router_id ${ID} \\\n\
        \x20   priority 130 \\\n\
        \x20   virtual_ipaddress { \\\n\
        \x20       10.${IF}.${NUM}.${ID}/24 \\\n\
        \x20   } \\\n\
        \x20   track_file { \\\n\
        \x20       offset_instance_4.${IF}.${NUM}.${ID} \\\n\
        \x20   } \\\n\
        }\n\n\
        ~SEQ(IF,0,1) ~SEQ(NUM,0,1) ~SEQ(ID,1,254) $VI4\n";
    let parsed = read(text, &[]);
    assert!(
        parsed.diagnostics.is_empty(),
        "{:?}",
        &parsed.diagnostics[..1]
    );
    let names: Vec<&str> = parsed
        .config
        .vrrp_instances
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(names.len(), 2 * 2 * 254);
    assert_eq!(
        (names[0], names[253], names[254], names[1015]),
        (
            "vrrp4.0.0.1",
            "vrrp4.0.0.254",
            "vrrp4.0.1.1",
            "vrrp4.1.1.254"
        )
    );
    assert_eq!(
        parsed.config.track_files[1015].file.as_deref(),
        Some("/etc/keepalived/679/track_files/4.1.1.254")
    );
}

#[test]
fn conditionals_made_by_substitution_and_inside_multiline_definitions() {
    // keepalived.conf(5), "Parameter substitution": `$IF_MAIN=@main` then `$IF_MAIN priority
    // 240`; and `@high priority 130 \` lines inside a multiline definition.
    let text = "$IF_NODE=@node\n$IF_OTHER=@other\n$IF_NODE unknown_kept\n$IF_OTHER unknown_dropped\n\
                $M= \\\n@node unknown_m_node \\\n@^node unknown_m_not_node \\\nunknown_m_all\n$M\n";
    let parsed = read(text, &[]);
    assert_eq!(
        unknown(&parsed),
        ["unknown_kept", "unknown_m_node", "unknown_m_all"]
    );
}

/// The exit status `keepalived -t` gives for `main` (with the other files), as lvskitd computes
/// it; `all_config` is keepalived's `-e`.
fn status(main: &str, files: &[(&str, &str)], all_config: bool) -> u8 {
    let mut fs = MemoryFs::new();
    fs.insert(MAIN, main);
    for (path, text) in files {
        fs.insert(path, *text);
    }
    let options = Options {
        config_id: Some("node".into()),
        fs: Arc::new(fs),
        all_config,
        ..Options::default()
    };
    parse_file(MAIN, &options)
        .expect("the main file is in memory")
        .config_test_status()
        .code()
}

#[test]
fn include_check_applies_from_its_line_to_the_end_of_its_file() {
    // Each status is what keepalived -t 2.2.7 gave for the same files on disk (the ones in
    // testdata/configs/differential/include-check-*.conf are run through it by the netns suite).
    let set = (
        "/etc/keepalived/set.inc",
        "global_defs {\n include_check\n}\n",
    );
    let part = (
        "/etc/keepalived/part.inc",
        "global_defs {\n router_id a\n}\n",
    );
    // Before the line: a message only ("Config files missing"), exit 0; after it: exit 6.
    assert_eq!(status("include none.conf\n", &[], false), 0);
    assert_eq!(
        status(
            "global_defs {\n include_check\n}\ninclude none.conf\n",
            &[],
            false
        ),
        6
    );
    // Set in an included file: set back when that file ends.
    assert_eq!(
        status("include set.inc\ninclude none.conf\n", &[set], false),
        0
    );
    // `match` leaves a wildcard alone, `wildcard_match` does not.
    let check = |option: &str, pattern: &str| {
        status(
            &format!("global_defs {{\n include_check {option}\n}}\ninclude {pattern}\n"),
            &[part],
            false,
        )
    };
    assert_eq!(check("match", "none-*.conf"), 0);
    assert_eq!(check("wildcard_match", "none-*.conf"), 6);
    // `brace_match`: an alternative without a wildcard must match, one with a wildcard need not.
    assert_eq!(check("brace_match", "{part,none}.inc"), 6);
    assert_eq!(check("brace_match", "{part,none-*}.inc"), 0);
    // `-match` takes `match` back; `readable` is unknown to keepalived 2.2.7 (a message, exit
    // 5) and the list it starts sets no check.
    assert_eq!(check("brace_match -brace_match", "{part,none}.inc"), 0);
    assert_eq!(check("readable match", "none.conf"), 5);
    // keepalived's -e: every include is checked from the start.
    assert_eq!(status("include none.conf\n", &[], true), 6);
    assert_eq!(
        status("include set.inc\nincludem none-*.conf\n", &[set], true),
        6
    );
}
