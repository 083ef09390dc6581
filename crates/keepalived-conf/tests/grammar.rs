//! The grammar points of keepalived.conf(5), each on a small configuration.

use std::net::IpAddr;

use keepalived_conf::model::*;
use keepalived_conf::{Options, Parsed, parse_file, parse_str};

mod common;
use common::TempDir;

fn parse_with(text: &str, options: &Options) -> Parsed {
    parse_str("/nonexistent/test.conf", text, options)
}

/// Parses and insists on no diagnostics at all (notes, lvskit's advice where keepalived is
/// silent, aside).
fn clean(text: &str) -> Config {
    clean_but(text, &[])
}

/// Parses and insists on exactly the `expected` messages (keepalived gives them too), notes aside.
#[track_caller]
fn clean_but(text: &str, expected: &[&str]) -> Config {
    let parsed = parse_with(text, &Options::default());
    let messages: Vec<&str> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity != keepalived_conf::Severity::Note)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(messages, expected, "unexpected diagnostics");
    parsed.config
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A minimal valid instance body around `extra` lines.
fn instance(extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n priority 100\n{extra}\n virtual_ipaddress {{ 192.0.2.1 }}\n}}\n"
    )
}

#[test]
fn comments_whole_line_and_trailing_with_both_characters() {
    let c = clean(
        "! bang comment\n# hash comment\nglobal_defs { # trailing hash\n  router_id r1 ! trailing bang\n}\n   ! indented\n",
    );
    assert_eq!(c.global_defs.router_id.as_deref(), Some("r1"));
}

#[test]
fn quoted_strings_join_and_keep_spaces_and_hide_comment_characters() {
    let c = clean(
        "vrrp_script s {\n script \"/bin/check --flag 'a b' # not a comment\"\n}\nvrrp_script t {\n script abcd\" efg h jkl \"mnop\n}\n",
    );
    assert_eq!(
        c.vrrp_scripts[0].script.as_ref().unwrap().command,
        "/bin/check --flag 'a b' # not a comment"
    );
    assert_eq!(
        c.vrrp_scripts[1].script.as_ref().unwrap().command,
        "abcd efg h jkl mnop"
    );
}

#[test]
fn quoted_string_escapes_apply_to_script_words_only() {
    // keepalived 2.2.7: an ordinary word keeps its backslashes; a script command is split
    // like a shell, escapes included (`\042` is a `"` that does not unbalance the line).
    let c = clean(
        "global_defs {\n router_id \"a\\tb\\c\"\n}\nvrrp_script s {\n script \"/bin/x a\\tb\\042c\\\\d\\x41\\101\"\n}\n",
    );
    assert_eq!(c.global_defs.router_id.as_deref(), Some("a\\tb\\c"));
    assert_eq!(
        c.vrrp_scripts[0].script.as_ref().unwrap().command,
        "/bin/x a\tb\"c\\dAA"
    );
}

#[test]
fn braces_on_the_same_line_the_next_line_and_several_blocks_on_one_line() {
    let same = clean(&instance(
        " authentication { auth_type PASS\n auth_pass 1111 }",
    ));
    let next = clean(&instance(
        " authentication\n {\n  auth_type PASS\n  auth_pass 1111\n }",
    ));
    let one_line = clean(&instance(
        " authentication { auth_type PASS } track_interface { eth1 }\n authentication { auth_type PASS\n auth_pass 1111 }",
    ));
    assert_eq!(same, next);
    let mut without_track = one_line.clone();
    without_track.vrrp_instances[0].track_interface.clear();
    assert_eq!(same, without_track);
    assert_eq!(one_line.vrrp_instances[0].track_interface[0].name, "eth1");
    let whole = clean("global_defs { router_id a } vrrp_script s { script /bin/true }\n");
    assert_eq!(whole.global_defs.router_id.as_deref(), Some("a"));
    assert_eq!(whole.vrrp_scripts[0].name, "s");
}

#[test]
fn several_global_defs_merge_later_overriding() {
    let c = clean(
        "global_defs {\n router_id a\n vrrp_version 2\n}\nglobal_defs {\n vrrp_version 3\n notification_email { x@example.com }\n}\n",
    );
    assert_eq!(c.global_defs.router_id.as_deref(), Some("a"));
    assert_eq!(c.global_defs.vrrp_version, Some(3));
    assert_eq!(
        c.global_defs.notification_email,
        vec!["x@example.com".to_string()]
    );
}

#[test]
fn include_with_globs_relative_to_the_including_file() {
    let dir = TempDir::new("include");
    let main = dir.write(
        "keepalived.conf",
        "global_defs { router_id main }\ninclude conf.d/*.conf\n",
    );
    dir.write(
        "conf.d/a.conf",
        "vrrp_script a { script /bin/a }\ninclude ../more/b.inc\n",
    );
    dir.write("conf.d/c.conf", "vrrp_script c { script /bin/c }\n");
    dir.write("more/b.inc", "vrrp_script b { script /bin/b }\n");
    let parsed = parse_file(&main, &Options::default()).unwrap();
    assert!(
        parsed.warnings().next().is_none() && !parsed.has_errors(),
        "{:?}",
        parsed.diagnostics
    );
    let names: Vec<&str> = parsed
        .config
        .vrrp_scripts
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(parsed.sources.files.len(), 4);
}

#[test]
fn diagnostics_in_included_files_name_that_file() {
    let dir = TempDir::new("include-diag");
    let main = dir.write("main.conf", "include sub.conf\n");
    let sub = dir.write("sub.conf", "\n\nvrrp_instance X {\n  priority 999\n}\n");
    let parsed = parse_file(&main, &Options::default()).unwrap();
    let d = parsed
        .errors()
        .find(|d| d.kind == keepalived_conf::DiagnosticKind::OutOfRange)
        .unwrap();
    let loc = d.location.as_ref().unwrap();
    assert_eq!(
        (loc.path.as_path(), loc.line, loc.column),
        (sub.as_path(), 4, 12)
    );
}

#[test]
fn definitions_and_their_use() {
    let c = clean(
        "$RID=r1\n$BASE=192.0.2\n$PRIO=150\nglobal_defs { router_id $RID }\n\
         vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n priority $PRIO\n\
         virtual_ipaddress {\n  ${BASE}.10/24\n }\n}\n",
    );
    assert_eq!(c.global_defs.router_id.as_deref(), Some("r1"));
    assert_eq!(c.vrrp_instances[0].priority.unwrap().value, 150);
    assert_eq!(
        c.vrrp_instances[0].virtual_ipaddress[0].prefix.addr,
        ip("192.0.2.10")
    );
}

#[test]
fn substitution_is_recursive_and_late_and_leaves_unknown_names() {
    let c = clean(
        "$A=10.2.${SUB}\n$SUB=0\nstatic_ipaddress {\n ${A}.100/32\n}\n$SUB=10\nstatic_ipaddress {\n ${A}.100/32\n}\n\
         vrrp_script s { script \"/bin/x $UNDEFINED ${ALSO}\" }\n",
    );
    let addrs: Vec<IpAddr> = c.static_ipaddress.iter().map(|a| a.prefix.addr).collect();
    assert_eq!(addrs, [ip("10.2.0.100"), ip("10.2.10.100")]);
    assert_eq!(
        c.vrrp_scripts[0].script.as_ref().unwrap().command,
        "/bin/x $UNDEFINED ${ALSO}"
    );
}

#[test]
fn multiline_definitions_are_the_line_continuation() {
    let c = clean(
        "$RS= \\\n real_server 192.0.2.${N} 80 { \\\n  weight ${N} \\\n  TCP_CHECK { \\\n   connect_timeout 3 \\\n  } \\\n }\n\
         virtual_server 192.0.2.100 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n $N=1\n $RS\n $N=2\n $RS\n}\n",
    );
    let rs: Vec<(IpAddr, Option<i32>)> = c.virtual_servers[0]
        .real_servers
        .iter()
        .map(|r| (r.addr, r.weight))
        .collect();
    assert_eq!(rs, [(ip("192.0.2.1"), Some(1)), (ip("192.0.2.2"), Some(2))]);
    assert_eq!(c.virtual_servers[0].real_servers[1].checkers.len(), 1);
}

#[test]
fn a_backslash_outside_a_definition_does_not_continue_the_line() {
    // keepalived 2.2.7 reads `100\` as a bad number here; so do we.
    let parsed = parse_with(&instance(" advert_int 1\\\n  "), &Options::default());
    let errors: Vec<String> = parsed.errors().map(|d| d.message.clone()).collect();
    assert_eq!(
        errors,
        ["expected a time in seconds (such as 3 or 0.5), found `1\\`"]
    );
}

#[test]
fn conditional_lines_match_the_config_id() {
    let text = "global_defs {\n @main router_id main_router\n @backup router_id backup_router\n}\n\
                vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 }\n\
                unicast_peer {\n  @^main 192.0.2.4\n  @^backup 192.0.2.5\n  @^backup2 192.0.2.6\n }\n}\n";
    let main = Options {
        config_id: Some("main".into()),
        ..Options::default()
    };
    let c = parse_with(text, &main).config;
    assert_eq!(c.global_defs.router_id.as_deref(), Some("main_router"));
    let peers: Vec<IpAddr> = c.vrrp_instances[0]
        .unicast_peer
        .iter()
        .map(|p| p.addr)
        .collect();
    assert_eq!(peers, [ip("192.0.2.5"), ip("192.0.2.6")]);
    let none = parse_with(text, &Options::default()).config;
    assert_eq!(none.global_defs.router_id, None);
    assert_eq!(none.vrrp_instances[0].unicast_peer.len(), 3);
}

#[test]
fn conditional_definitions() {
    let text = "@main $PRIORITY=240\n@backup $PRIORITY=200\nvrrp_instance V {\n interface eth0\n virtual_router_id 1\n priority $PRIORITY\n virtual_ipaddress { 192.0.2.1 }\n}\n";
    let backup = Options {
        config_id: Some("backup".into()),
        ..Options::default()
    };
    let c = parse_with(text, &backup).config;
    assert_eq!(c.vrrp_instances[0].priority.unwrap().value, 200);
}

#[test]
fn seq_lines_repeat_with_the_variable_set() {
    let c = clean(
        "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  ~SEQ(N, 0, 2, 4) 192.0.2.${N}\n }\n}\n",
    );
    let addrs: Vec<String> = c.vrrp_instances[0]
        .virtual_ipaddress
        .iter()
        .map(|a| a.prefix.addr.to_string())
        .collect();
    assert_eq!(addrs, ["192.0.2.0", "192.0.2.2", "192.0.2.4"]);
    // The IPv6 ones are in an IPv4 instance: they parse, and the family check reports them.
    let parsed = parse_with(
        "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  ~SEQx(H, 10, 11) 2001:db8::${H}\n }\n}\n",
        &Options::default(),
    );
    let v6: Vec<String> = parsed.config.vrrp_instances[0]
        .virtual_ipaddress
        .iter()
        .map(|a| a.prefix.addr.to_string())
        .collect();
    assert_eq!(v6, ["2001:db8::a", "2001:db8::b"]);
}

#[test]
fn old_names_parse_to_the_same_model_as_new_ones() {
    // sh-port needs the sh scheduler before it; nb_get_retry is read in HTTP_GET and SSL_GET.
    let old = "vrrp_track_file f { file /tmp/f }\nvirtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo sh\n lb_kind TUN\n sh-port\n\
               real_server 192.0.2.2 80 {\n  HTTP_GET {\n   nb_get_retry 4\n   url {\n    path /\n   }\n  }\n }\n}\n";
    let new = "track_file f { file /tmp/f }\nvirtual_server 192.0.2.1 80 {\n protocol TCP\n lvs_sched sh\n lvs_method TUN\n flag-2\n\
               real_server 192.0.2.2 80 {\n  HTTP_GET {\n   retry 4\n   url {\n    path /\n   }\n  }\n }\n}\n";
    let parsed_old = parse_with(old, &Options::default());
    let kinds: Vec<_> = parsed_old.diagnostics.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [keepalived_conf::DiagnosticKind::Deprecated],
        "only nb_get_retry warns"
    );
    let (old, new) = (parsed_old.config, clean(new));
    assert_eq!(old, new);
    let vs = &new.virtual_servers[0];
    assert_eq!(vs.lvs_sched, Some(LvsSched::Sh));
    assert!(vs.flag_2);
    assert_eq!(vs.real_servers[0].checkers[0].defaults.retry, Some(4));
    assert_eq!(new.track_files[0].file.as_deref(), Some("/tmp/f"));
}

#[test]
fn mcast_src_ip_and_unicast_src_ip_are_one_setting() {
    let a = clean(&instance(" mcast_src_ip 192.0.2.9"));
    let b = clean(&instance(" unicast_src_ip 192.0.2.9"));
    assert_eq!(a, b);
}

#[test]
fn full_vrrp_instance() {
    let c = clean(
        "vrrp_script chk { script \"/bin/true\"\n interval 1\n weight -20\n rise 2\n fall 3\n user nobody nogroup\n init_fail }\n\
         track_file tf { file /run/tf\n weight 5 reverse\n init_file 0 overwrite }\n\
         vrrp_instance VI {\n state BACKUP\n interface eth0\n use_vmac vrrp.51\n vmac_xmit_base\n\
         track_interface {\n  eth1 weight -10\n  eth2\n }\n track_script {\n  chk weight 30 reverse\n }\n track_file {\n  tf\n }\n\
         unicast_src_ip 192.0.2.1\n unicast_peer {\n  192.0.2.2 min_ttl 250 max_ttl 255\n }\n virtual_router_id 51\n priority 90\n advert_int 2\n\
         authentication {\n  auth_type AH\n  auth_pass secret\n }\n\
         virtual_ipaddress {\n  192.0.2.10/24 brd 192.0.2.255 dev eth0 scope global label eth0:1\n  192.0.2.11/24 dev eth1 no_track\n }\n\
         virtual_ipaddress_excluded {\n  2001:db8::10/64 dev eth0 -nodad preferred_lft 0\n }\n\
         virtual_routes {\n  src 192.0.2.1 to 198.51.100.0/24 via 192.0.2.254 dev eth1\n  blackhole 203.0.113.0/24 no_track\n  0.0.0.0/0 via 192.0.2.1 dev eth0 table 100\n }\n\
         virtual_rules {\n  from 192.0.2.0/24 table 1\n  to 198.51.100.0/24 table 1 no_track\n }\n\
         preempt\n preempt_delay 30\n accept\n garp_master_delay 5\n garp_master_refresh 60\n garp_extra_if all 100\n\
         notify_master \"/bin/notify master\" root\n notify_backup /bin/b\n notify /bin/any\n smtp_alert\n}\n",
    );
    let v = &c.vrrp_instances[0];
    assert_eq!(v.state, Some(InitialState::Backup));
    assert_eq!(
        v.use_vmac.as_ref().unwrap().name.as_deref(),
        Some("vrrp.51")
    );
    assert!(v.vmac_xmit_base);
    assert_eq!(
        v.track_interface[0].weight,
        Some(Weight {
            value: -10,
            reverse: false
        })
    );
    assert_eq!(
        v.track_script[0].weight,
        Some(Weight {
            value: 30,
            reverse: true
        })
    );
    assert_eq!(v.unicast_peer[0].min_ttl, Some(250));
    assert_eq!(
        v.authentication.as_ref().unwrap().auth_type,
        Some(AuthType::Ah)
    );
    let a = &v.virtual_ipaddress[0];
    assert_eq!(a.broadcast, Some(Broadcast::Addr(ip("192.0.2.255"))));
    assert_eq!(
        (a.dev.as_deref(), a.scope, a.label.as_deref()),
        (Some("eth0"), Some(Scope::Global), Some("eth0:1"))
    );
    assert!(v.virtual_ipaddress[1].no_track);
    assert!(v.virtual_ipaddress_excluded[0].nodad);
    assert_eq!(
        v.virtual_ipaddress_excluded[0].preferred_lft,
        Some(Lifetime::Secs(0))
    );
    assert_eq!(v.virtual_routes[0].src, Some(ip("192.0.2.1")));
    assert_eq!(v.virtual_routes[0].via, Some(ip("192.0.2.254")));
    assert_eq!(v.virtual_routes[1].route_type, Some(RouteType::Blackhole));
    assert_eq!(v.virtual_routes[2].via, Some(ip("192.0.2.1")));
    assert_eq!(v.virtual_routes[2].table.as_deref(), Some("100"));
    assert!(v.virtual_rules[1].no_track);
    assert_eq!(v.nopreempt, Some(false));
    assert_eq!(v.preempt_delay.unwrap().value, Timer::from_secs(30));
    assert_eq!(v.accept, Some(true));
    assert_eq!(
        v.garp_extra_if,
        Some(GarpExtraIf {
            all: true,
            delay: 100
        })
    );
    let master = v.notify.master.as_ref().unwrap();
    assert_eq!(
        (master.command.as_str(), master.user.as_deref()),
        ("/bin/notify master", Some("root"))
    );
    assert_eq!(v.smtp_alert, Some(true));
    assert_eq!(
        c.vrrp_scripts[0].user,
        Some(("nobody".into(), Some("nogroup".into())))
    );
    assert_eq!(c.track_files[0].init_file, Some((Some(0), true)));
}

#[test]
fn full_virtual_server_and_checkers() {
    // keepalived says the same things about this file (fwmark and TUN with ports).
    let c = clean_but(
        "virtual_server_group G {\n 192.0.2.10-20 80\n 2001:db8::1 443\n fwmark 7 inet6\n}\n\
         SSL {\n ca /etc/ca.pem\n certificate /etc/c.pem\n key /etc/k.pem\n}\n\
         virtual_server group G {\n delay_loop 10\n lvs_sched mh\n mh-fallback\n lvs_method TUN type gue port 6080 csum\n\
         persistence_timeout\n persistence_granularity 255.255.255.0\n protocol TCP\n ha_suspend\n virtualhost www.example.com\n\
         alpha\n omega\n quorum 2\n hysteresis 1\n quorum_up \"/bin/up vs\"\n quorum_down /bin/down\n\
         sorry_server 192.0.2.99 80\n sorry_server_inhibit\n\
         real_server 192.0.2.1 80 {\n  weight 2\n  inhibit_on_failure\n  notify_up /bin/rsup\n  notify_down /bin/rsdown\n\
           SSL_GET {\n   url {\n    path /health\n    digest 0123456789abcdef0123456789abcdef\n    status_code 200-299 301\n   }\n   enable_sni\n   connect_port 443\n  }\n\
           SMTP_CHECK {\n   helo_name mx.example.com\n   host {\n    connect_ip 192.0.2.1\n    connect_port 25\n   }\n  }\n\
           DNS_CHECK {\n   type A\n   name example.com\n  }\n\
           MISC_CHECK {\n   misc_path \"/bin/check rs1\"\n   misc_timeout 5\n   misc_dynamic\n  }\n\
           UDP_CHECK {\n   payload 0a0b\n   require_reply\n  }\n\
           PING_CHECK {\n  }\n\
           FILE_CHECK {\n   track_file tf\n   weight -2\n  }\n\
         }\n real_server 192.0.2.2 80 {\n  weight 1\n }\n}\n",
        &[
            "ha_suspend does not work with fwmarks; it is ignored",
            "real server 192.0.2.1 port 80 is ignored by a fwmark virtual server",
            "real server 192.0.2.1 port 80 differs from the virtual port, which TUN cannot forward to; keepalived uses the virtual port",
            "real server 192.0.2.2 port 80 is ignored by a fwmark virtual server",
            "real server 192.0.2.2 port 80 differs from the virtual port, which TUN cannot forward to; keepalived uses the virtual port",
            "sorry server port 80 is ignored by a fwmark virtual server",
            "sorry server port 80 differs from the virtual port, which TUN cannot forward to; keepalived uses the virtual port",
        ],
    );
    let g = &c.virtual_server_groups[0];
    assert_eq!(
        g.entries[0],
        GroupEntry::Addr {
            addr: ip("192.0.2.10"),
            range_end: Some(20),
            port: Some(80)
        }
    );
    assert_eq!(
        g.entries[2],
        GroupEntry::Fwmark {
            mark: 7,
            family: Some(Family::Inet6)
        }
    );
    assert_eq!(c.ssl.as_ref().unwrap().ca.as_deref(), Some("/etc/ca.pem"));
    let vs = &c.virtual_servers[0];
    assert_eq!(vs.addr, VirtualServerAddr::Group("G".into()));
    assert_eq!(vs.lvs_sched, Some(LvsSched::Mh));
    assert!(vs.flag_1);
    assert_eq!(
        vs.lvs_method,
        Some(LvsMethod::Tun {
            tunnel_type: Some(TunnelType::Gue { port: 6080 }),
            checksum: Some(TunnelChecksum::Csum)
        })
    );
    assert_eq!(vs.persistence_timeout, Some(None));
    assert_eq!(
        vs.persistence_granularity,
        Some(Granularity::Mask("255.255.255.0".parse().unwrap()))
    );
    assert_eq!(vs.defaults.alpha, Some(true));
    assert!(vs.omega && vs.ha_suspend && vs.sorry_server_inhibit);
    assert_eq!(vs.quorum.unwrap().value, 2);
    assert_eq!(
        vs.sorry_server,
        Some(SorryServer {
            addr: ip("192.0.2.99"),
            port: Some(80)
        })
    );
    let rs = &vs.real_servers[0];
    assert_eq!(rs.defaults.inhibit_on_failure, Some(true));
    let kinds: Vec<&str> = rs.checkers.iter().map(|c| c.kind.keyword()).collect();
    assert_eq!(
        kinds,
        [
            "SSL_GET",
            "SMTP_CHECK",
            "DNS_CHECK",
            "MISC_CHECK",
            "UDP_CHECK",
            "PING_CHECK",
            "FILE_CHECK"
        ]
    );
    let CheckerKind::Ssl(ssl) = &rs.checkers[0].kind else {
        panic!()
    };
    assert!(ssl.enable_sni);
    assert_eq!(
        ssl.urls[0].status_code,
        [
            StatusRange {
                low: 200,
                high: 299
            },
            StatusRange {
                low: 301,
                high: 301
            }
        ]
    );
    let CheckerKind::Smtp { hosts, .. } = &rs.checkers[1].kind else {
        panic!()
    };
    assert_eq!(hosts[0].connect.connect_port, Some(25));
    let CheckerKind::Misc {
        path,
        timeout,
        dynamic,
    } = &rs.checkers[3].kind
    else {
        panic!()
    };
    assert_eq!(path.as_ref().unwrap().command, "/bin/check rs1");
    assert_eq!((*timeout, *dynamic), (Some(Timer::from_secs(5)), true));
    let CheckerKind::Udp { require_reply, .. } = &rs.checkers[4].kind else {
        panic!()
    };
    assert_eq!(*require_reply, Some(None));
}

#[test]
fn unmodelled_known_keywords_are_kept_verbatim_without_warning() {
    let c = clean(
        "global_defs {\n enable_snmp_vrrp\n vrrp_priority -5\n}\nnet_namespace blue\nbfd_instance b1 {\n neighbor_ip 192.0.2.7\n}\n",
    );
    assert_eq!(c.global_defs.extra[1].keyword, "vrrp_priority");
    assert_eq!(c.global_defs.extra[1].args, ["-5"]);
    // The top-level settings and the BFD block are typed.
    assert_eq!(c.top.net_namespace.as_deref(), Some("blue"));
    assert_eq!(c.bfd_instances[0].neighbor_ip, Some(ip("192.0.2.7")));
    assert!(c.extra.is_empty());
}

#[test]
fn lst_lines_repeat_with_the_variables_set() {
    let c = clean(
        "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  ~LST({IP, IP1}, {10,1},{20,4}) ~SEQ(IP2, 168, 2, 170) 192.${IP2}.${IP}.${IP1}\n  ~LST(X, 7, 9) 198.51.100.$X\n }\n}\n",
    );
    let addrs: Vec<String> = c.vrrp_instances[0]
        .virtual_ipaddress
        .iter()
        .map(|a| a.prefix.addr.to_string())
        .collect();
    assert_eq!(
        addrs,
        [
            "192.168.10.1",
            "192.170.10.1",
            "192.168.20.4",
            "192.170.20.4",
            "198.51.100.7",
            "198.51.100.9"
        ]
    );
}

#[test]
fn nested_expansions_stop_at_the_budget_and_diagnostics_are_capped() {
    let parsed = parse_with(
        "~SEQ(A, 1, 1000) ~SEQ(B, 1, 1000) ~SEQ(C, 1, 1000) x\n",
        &Options::default(),
    );
    let errors: Vec<&str> = parsed.errors().map(|d| d.message.as_str()).collect();
    assert!(
        errors.contains(&"~SEQ and ~LST would produce more than 250000 lines"),
        "{errors:?}"
    );
    // Every `x` is an unknown keyword: 10,000 are shown, then the error (read in order, it
    // comes after them and is kept past the cap), then one line counts the rest.
    assert_eq!(parsed.diagnostics.len(), 10_002);
    let last = parsed.diagnostics.last().unwrap();
    assert!(
        last.message.ends_with("more diagnostics not shown"),
        "{}",
        last.message
    );
    assert!(!last.is_error(), "only warnings were left out");
    assert!(parsed.has_errors(), "the budget error is kept");
}

#[test]
fn include_loops_are_reported_and_pwd_follows_the_file() {
    let dir = TempDir::new("loop");
    let main = dir.write(
        "main.conf",
        "include sub/b.conf\nvrrp_script m { script \"${_PWD}/m.sh\" }\n",
    );
    dir.write(
        "sub/b.conf",
        "vrrp_script b { script \"${_PWD}/b.sh\" }\ninclude ../main.conf\n",
    );
    let parsed = parse_file(&main, &Options::default()).unwrap();
    let errors: Vec<String> = parsed.errors().map(|d| d.message.clone()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("include loop: `")
            && errors[0].ends_with("main.conf` includes itself (directly or through other files)"),
        "{errors:?}"
    );
    let commands: Vec<&str> = parsed
        .config
        .vrrp_scripts
        .iter()
        .map(|s| s.script.as_ref().unwrap().command.as_str())
        .collect();
    let base = dir.0.display().to_string();
    assert_eq!(
        commands,
        [format!("{base}/sub/b.sh"), format!("{base}/m.sh")]
    );
}

#[test]
fn nested_multiline_definitions_read_their_lines_in_order() {
    // The man page's example: definitions inside a multiline definition apply to the lines
    // after them.
    let c = clean(
        "$RS= \\\nreal_server 192.0.2.${RS_NUM} 80 { \\\n  weight ${RS_NUM} \\\n}\n\
         $VS= \\\nvirtual_server 198.51.100.${VS_NUM} 80 { \\\n  protocol TCP \\\n  lb_algo rr \\\n  lb_kind NAT \\\n  $RS_NUM=1 \\\n  $RS \\\n  $RS_NUM=2 \\\n  $RS \\\n}\n\
         $VS_NUM=1\n$VS\n$VS_NUM=2\n$VS\n",
    );
    let got: Vec<(String, Vec<Option<i32>>)> = c
        .virtual_servers
        .iter()
        .map(|vs| {
            let VirtualServerAddr::Ip { addr, .. } = vs.addr else {
                panic!()
            };
            (
                addr.to_string(),
                vs.real_servers.iter().map(|r| r.weight).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("198.51.100.1".to_string(), vec![Some(1), Some(2)]),
            ("198.51.100.2".to_string(), vec![Some(1), Some(2)]),
        ]
    );
}

#[test]
fn a_definition_that_uses_itself_is_an_error_not_a_hang() {
    let parsed = parse_with(
        "$A=x $A $A\nglobal_defs { router_id $A }\n",
        &Options::default(),
    );
    let errors: Vec<&str> = parsed.errors().map(|d| d.message.as_str()).collect();
    assert_eq!(
        errors,
        ["parameter substitution grows too large (a definition that uses itself?)"]
    );
}
