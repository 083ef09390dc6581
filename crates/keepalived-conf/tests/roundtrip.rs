//! `parse(print(model)) == model` over generated models, and over the shared configurations.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use keepalived_conf::model::*;
use keepalived_conf::{Options, Origin, Spanned, parse_file, parse_str, print};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_.:-]{0,8}"
}

/// Free text: spaces, quotes, comment characters and braces, which the printer must quote.
/// No double quote: keepalived 2.2.7 cannot read one in an ordinary word (script commands, which
/// can, have their own test below).
fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 _./#!{}'\\\\@~-]{0,14}"
}

fn timer() -> impl Strategy<Value = Timer> {
    (0u64..100_000_000_000).prop_map(Timer)
}

fn v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        v4().prop_map(IpAddr::V4),
        any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
    ]
}

fn prefix() -> impl Strategy<Value = Prefix> {
    (ip(), any::<bool>(), 0u8..=128).prop_map(|(addr, has, len)| Prefix {
        addr,
        len: has.then(|| if addr.is_ipv4() { len % 33 } else { len }),
    })
}

fn script() -> impl Strategy<Value = Script> {
    (text(), of((name(), of(name())))).prop_map(|(command, user)| Script {
        command,
        user: user.as_ref().map(|u| u.0.clone()),
        group: user.and_then(|u| u.1),
    })
}

fn weight(max: i32) -> impl Strategy<Value = Weight> {
    (-max..=max, any::<bool>()).prop_map(|(value, reverse)| Weight { value, reverse })
}

fn tracks(max: i32) -> impl Strategy<Value = Vec<Track>> {
    vec((name(), of(weight(max))), 0..3).prop_map(|v| {
        v.into_iter()
            .map(|(name, weight)| Track {
                name,
                weight,
                origin: Origin::NONE,
            })
            .collect()
    })
}

fn scope() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::Global),
        Just(Scope::Site),
        Just(Scope::Link),
        Just(Scope::Host),
        Just(Scope::Nowhere),
        (1u8..200).prop_map(Scope::Other),
    ]
}

fn ip_address(is_static: bool) -> impl Strategy<Value = IpAddress> {
    (
        prefix(),
        of(prop_oneof![
            Just(Broadcast::SetHostBits),
            Just(Broadcast::ClearHostBits),
            Just(Broadcast::Addr(IpAddr::V4(Ipv4Addr::BROADCAST))),
        ]),
        of(name()),
        of(scope()),
        of(name()),
        any::<[bool; 7]>(),
        of(prop_oneof![
            Just(Lifetime::Forever),
            any::<u32>().prop_map(Lifetime::Secs)
        ]),
        of(name()),
    )
        .prop_map(
            move |(prefix, brd, dev, scope, label, flags, lft, track_group)| {
                let mut a = IpAddress::new(prefix.addr, prefix.len);
                // Broadcast and peer must be of the address's family.
                a.broadcast =
                    brd.filter(|b| !matches!(b, Broadcast::Addr(_)) || prefix.addr.is_ipv4());
                a.dev = dev;
                a.scope = scope;
                a.label = label;
                a.peer = flags[6].then_some(Prefix {
                    addr: prefix.addr,
                    len: None,
                });
                a.use_vmac = flags[0] && !is_static;
                a.home = flags[1];
                a.nodad = flags[2];
                a.mngtmpaddr = flags[3];
                a.noprefixroute = flags[4];
                a.autojoin = flags[5];
                a.no_track = flags[5] && !is_static;
                a.preferred_lft = lft;
                a.track_group = if is_static { track_group } else { None };
                a
            },
        )
}

fn route() -> impl Strategy<Value = Route> {
    (
        of(prop_oneof![
            Just(RouteType::Blackhole),
            Just(RouteType::Unreachable),
            Just(RouteType::Prohibit),
            Just(RouteType::Throw),
        ]),
        v4(),
        0u8..=32,
        of(v4()),
        of(v4()),
        of(name()),
        of(0u32..1000),
        of(scope()),
        any::<bool>(),
        vec(
            prop_oneof![Just("onlink"), Just("mtu"), Just("1400"), Just("cwnd")],
            0..3,
        ),
    )
        .prop_map(
            |(route_type, to, len, src, via, dev, metric, scope, no_track, options)| Route {
                route_type,
                to: Prefix {
                    addr: to.into(),
                    len: Some(len),
                },
                src: src.map(IpAddr::V4),
                via: via.map(IpAddr::V4),
                or: None,
                dev,
                table: metric.map(|m| m.to_string()),
                metric,
                scope,
                protocol: None,
                no_track,
                track_group: None,
                options: options.into_iter().map(String::from).collect(),
                origin: Origin::NONE,
            },
        )
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        of(v4()),
        of(v4()),
        of(name()),
        of(any::<u32>()),
        of("[0-9]{1,3}(/[0-9]{1,2})?"),
        of(name()),
        any::<bool>(),
    )
        .prop_map(
            |(from, to, table, preference, fwmark, iif, no_track)| Rule {
                from: from.map(|a| Prefix {
                    addr: a.into(),
                    len: Some(24),
                }),
                to: to.map(|a| Prefix {
                    addr: a.into(),
                    len: None,
                }),
                table,
                preference,
                fwmark,
                iif: iif.clone(),
                oif: iif,
                no_track,
                track_group: None,
                options: Vec::new(),
                origin: Origin::NONE,
            },
        )
}

fn global_defs() -> impl Strategy<Value = GlobalDefs> {
    (
        (
            of(text()),
            vec(name(), 0..3),
            of(name()),
            of((name(), of(any::<u16>()))),
            of(timer()),
            of(any::<bool>()),
        ),
        (
            of((224u8..240, any::<[u8; 3]>())
                .prop_map(|(a, r)| Ipv4Addr::new(a, r[0], r[1], r[2]))),
            of(any::<[u16; 7]>()
                .prop_map(|s| Ipv6Addr::new(0xff02, s[0], s[1], s[2], s[3], s[4], s[5], s[6]))),
            of(name()),
            of((name(), of(name()), of(any::<u8>()), of(any::<u16>()))),
        ),
        (
            of(any::<u32>()),
            of(any::<u32>()),
            // keepalived's range for vrrp_garp_interval: 1 µs to u32::MAX µs.
            of((1u64..=u32::MAX.into()).prop_map(Timer)),
            of(2u8..=3),
            of(1u32..=100),
            any::<[bool; 4]>(),
        ),
        (
            of(script()),
            of((name(), of(name()))),
            of(of(-1i32..=99)),
            of(any::<bool>()),
            of(vec(name(), 0..=2)),
        ),
    )
        .prop_map(|(a, b, c, d)| {
            let mut g = GlobalDefs {
                router_id: a.0,
                notification_email: a.1,
                notification_email_from: a.2,
                smtp_server: a.3.map(|(host, port)| SmtpServer { host, port }),
                smtp_connect_timeout: a.4,
                smtp_alert: a.5,
                vrrp_mcast_group4: b.0,
                vrrp_mcast_group6: b.1,
                default_interface: b.2,
                lvs_sync_daemon: b.3.map(|(interface, instance, id, port)| LvsSyncDaemon {
                    interface,
                    instance,
                    id,
                    port,
                    ..LvsSyncDaemon::default()
                }),
                vrrp_garp_master_delay: c.0,
                vrrp_garp_master_refresh: c.1,
                vrrp_garp_interval: c.2,
                vrrp_version: c.3,
                vrrp_down_timer_adverts: c.4,
                vrrp_strict: c.5[0],
                enable_script_security: c.5[1],
                lvs_flush: c.5[2],
                no_email_faults: c.5[3],
                vrrp_notify_fifo: d.0,
                script_user: d.1,
                max_auto_priority: d.2,
                vrrp_min_garp: d.3,
                vrrp_iptables: d.4,
                ..GlobalDefs::default()
            };
            if g.vrrp_strict {
                g.extra.push(Directive {
                    keyword: "enable_snmp_vrrp".into(),
                    args: vec![],
                    block: None,
                });
            }
            g
        })
}

fn notify() -> impl Strategy<Value = Notify> {
    (
        of(script()),
        of(script()),
        of(script()),
        of(script()),
        of(any::<bool>()),
    )
        .prop_map(|(m, b, f, any, pc)| Notify {
            master: m,
            backup: b,
            fault: f,
            any,
            priority_changes: pc,
            ..Notify::default()
        })
}

fn instance() -> impl Strategy<Value = VrrpInstance> {
    (
        (
            name(),
            of(prop_oneof![
                Just(InitialState::Master),
                Just(InitialState::Backup)
            ]),
            of(name()),
            of((of(name()), of(Just("02:00:5e:00:01:33".to_string())))),
            tracks(253),
            tracks(253),
            tracks(254),
        ),
        (
            of(ip()),
            of(2u8..=3),
            vec((ip(), of(any::<u8>()), of(any::<u8>())), 0..3),
            of(any::<u8>()),
            of(1u8..=255),
            of(1u8..=255),
            of(timer()),
        ),
        (
            of((
                of(prop_oneof![Just(AuthType::Pass), Just(AuthType::Ah)]),
                of("[A-Za-z0-9]{1,8}"),
            )),
            vec(ip_address(false), 0..4),
            vec(ip_address(false), 0..2),
            vec(route(), 0..2),
            vec(rule(), 0..2),
        ),
        (
            of(any::<bool>()),
            of(any::<bool>()),
            of(timer()),
            notify(),
            of(any::<u32>()),
            of((any::<bool>(), 0u32..86400)),
            any::<[bool; 5]>(),
        ),
    )
        .prop_map(|(a, b, c, d)| VrrpInstance {
            name: a.0,
            state: a.1,
            interface: a.2.map(Spanned::new),
            use_vmac: a.3.map(|(name, mac)| UseVmac { name, mac }),
            track_interface: a.4,
            track_script: a.5,
            track_file: a.6,
            src_ip: b.0.map(Spanned::new),
            version: b.1.map(Spanned::new),
            unicast_peer: b
                .2
                .into_iter()
                .map(|(addr, min_ttl, max_ttl)| UnicastPeer {
                    addr,
                    min_ttl,
                    max_ttl,
                    origin: Origin::NONE,
                })
                .collect(),
            unicast_ttl: b.3,
            virtual_router_id: b.4.map(Spanned::new),
            priority: b.5.map(Spanned::new),
            advert_int: b.6.map(Spanned::new),
            authentication: c.0.map(|(auth_type, auth_pass)| Authentication {
                auth_type,
                auth_pass,
                origin: Origin::NONE,
            }),
            virtual_ipaddress: c.1,
            virtual_ipaddress_excluded: c.2,
            virtual_routes: c.3,
            virtual_rules: c.4,
            accept: d.0,
            nopreempt: d.1,
            preempt_delay: d
                .2
                .filter(|t| *t <= Timer::from_secs(1000))
                .map(Spanned::new),
            notify: d.3,
            garp_master_delay: d.4,
            garp_extra_if: d.5.map(|(all, delay)| GarpExtraIf { all, delay }),
            vmac_xmit_base: d.6[0],
            dont_track_primary: d.6[1],
            promote_secondaries: d.6[2],
            old_unicast_checksum: d.6[3].then_some(d.6[4]),
            smtp_alert: d.6[4].then_some(true),
            extra: if d.6[0] {
                vec![Directive {
                    keyword: "kernel_rx_buf_size".into(),
                    args: vec!["4096".into()],
                    block: None,
                }]
            } else {
                Vec::new()
            },
            ..VrrpInstance::default()
        })
}

fn defaults() -> impl Strategy<Value = CheckDefaults> {
    (
        of(timer()),
        of(any::<u32>()),
        of(timer()),
        of(timer()),
        of(timer()),
        of(any::<bool>()),
        of(any::<bool>()),
        of(name()),
    )
        .prop_map(
            |(ct, retry, dbr, warmup, dl, alpha, inhibit, vh)| CheckDefaults {
                connect_timeout: ct,
                retry,
                delay_before_retry: dbr,
                warmup,
                delay_loop: dl,
                alpha,
                inhibit_on_failure: inhibit,
                smtp_alert: None,
                virtualhost: vh,
            },
        )
}

fn url() -> impl Strategy<Value = Url> {
    (
        text(),
        of("[0-9a-f]{32}"),
        vec((100u16..600, 0u16..50), 0..3),
        of(name()),
        any::<bool>(),
    )
        .prop_map(|(path, digest, codes, vh, no_match)| Url {
            path: Some(path),
            digest,
            status_code: codes
                .into_iter()
                .map(|(low, span)| StatusRange {
                    low,
                    high: (low + span).min(599),
                })
                .collect(),
            virtualhost: vh,
            regex: no_match.then(|| "ok.*".to_string()),
            regex_no_match: no_match,
            ..Url::default()
        })
}

fn http() -> impl Strategy<Value = HttpCheck> {
    (
        of(prop_oneof![Just("1.0"), Just("1.1")]),
        of(any::<bool>()),
        any::<bool>(),
        vec(url(), 1..3),
    )
        .prop_map(|(proto, fast, sni, urls)| HttpCheck {
            http_protocol: proto.map(String::from),
            fast_recovery: fast,
            enable_sni: sni,
            urls,
        })
}

fn connect() -> impl Strategy<Value = Connect> {
    (of(ip()), of(any::<u16>()), of(name()), of(1u32..1000)).prop_map(
        |(ip, port, bind_if, fwmark)| Connect {
            connect_ip: ip,
            connect_port: port,
            bindto: None,
            bind_if,
            bind_port: None,
            fwmark,
            connect_timeout: None,
        },
    )
}

fn checker() -> impl Strategy<Value = Checker> {
    let kind = prop_oneof![
        Just(CheckerKind::Tcp),
        Just(CheckerKind::Ping),
        http().prop_map(CheckerKind::Http),
        http().prop_map(|mut h| {
            h.enable_sni = true;
            CheckerKind::Ssl(h)
        }),
        (of(name()), vec((connect(), of(timer())), 0..2)).prop_map(|(helo_name, hosts)| {
            CheckerKind::Smtp {
                helo_name,
                hosts: hosts
                    .into_iter()
                    .map(|(mut c, t)| {
                        c.connect_timeout = t;
                        SmtpHost {
                            connect: c,
                            ..SmtpHost::default()
                        }
                    })
                    .collect(),
            }
        }),
        (of(Just("A".to_string())), of(name()))
            .prop_map(|(query_type, name)| CheckerKind::Dns { query_type, name }),
        (script(), of(timer()), any::<bool>()).prop_map(|(p, timeout, dynamic)| {
            CheckerKind::Misc {
                path: Some(p),
                timeout,
                dynamic,
            }
        }),
        (
            of("[0-9a-f]{2}( [0-9a-f]{2}){0,3}"),
            of(of("[0-9a-f]{4}")),
            of(any::<u32>())
        )
            .prop_map(|(payload, rr, min)| {
                CheckerKind::Udp {
                    payload,
                    require_reply: rr,
                    min_reply_length: min,
                    max_reply_length: None,
                }
            }),
        (name(), of(weight(1000))).prop_map(|(t, weight)| CheckerKind::File {
            track_file: Some(t),
            weight,
        }),
        of(name()).prop_map(|name| CheckerKind::Bfd { name }),
    ];
    (
        kind,
        connect(),
        defaults(),
        of(any::<bool>()),
        of((name(), of(name()))),
    )
        .prop_map(|(kind, connect, mut defaults, laf, user)| {
            // What keepalived takes in each checker: no connection keywords in MISC_CHECK,
            // FILE_CHECK and BFD_CHECK take none of the common ones, `virtualhost` is HTTP's.
            defaults.inhibit_on_failure = None;
            let is_misc = matches!(kind, CheckerKind::Misc { .. });
            let bare = matches!(kind, CheckerKind::File { .. } | CheckerKind::Bfd { .. });
            if !matches!(kind, CheckerKind::Http(_) | CheckerKind::Ssl(_)) {
                defaults.virtualhost = None;
            }
            let mut c = Checker::new(kind);
            if !is_misc && !bare {
                c.connect = connect;
            } else {
                defaults.connect_timeout = None;
            }
            if bare {
                defaults = CheckDefaults {
                    alpha: defaults
                        .alpha
                        .filter(|_| matches!(c.kind, CheckerKind::Bfd { .. })),
                    ..CheckDefaults::default()
                };
            }
            c.defaults = defaults;
            c.log_all_failures = if bare { None } else { laf };
            c.user = if is_misc { user.map(Box::new) } else { None };
            c
        })
}

fn lvs_method() -> impl Strategy<Value = LvsMethod> {
    prop_oneof![
        Just(LvsMethod::Nat),
        Just(LvsMethod::Dr),
        (
            of(prop_oneof![
                Just(TunnelType::Ipip),
                Just(TunnelType::Gre),
                any::<u16>().prop_map(|port| TunnelType::Gue { port })
            ]),
            of(prop_oneof![
                Just(TunnelChecksum::NoCsum),
                Just(TunnelChecksum::Csum),
                Just(TunnelChecksum::RemCsum)
            ]),
        )
            .prop_map(|(tunnel_type, checksum)| LvsMethod::Tun {
                tunnel_type,
                checksum
            }),
    ]
}

fn real_server() -> impl Strategy<Value = RealServer> {
    (
        ip(),
        of(any::<u16>()),
        of(0i32..=65535),
        of(lvs_method()),
        of(script()),
        of(any::<u32>()),
        defaults(),
        vec(checker(), 0..3),
    )
        .prop_map(
            |(addr, port, weight, method, up, uth, defaults, checkers)| {
                let mut rs = RealServer::new(addr, port);
                rs.weight = weight;
                rs.lvs_method = method;
                rs.notify_up = up.map(Box::new);
                rs.uthreshold = uth;
                rs.defaults = defaults;
                rs.checkers = checkers;
                rs
            },
        )
}

fn virtual_server() -> impl Strategy<Value = VirtualServer> {
    let addr = prop_oneof![
        (ip(), of(any::<u16>())).prop_map(|(addr, port)| VirtualServerAddr::Ip { addr, port }),
        (1u32..).prop_map(VirtualServerAddr::Fwmark),
        name().prop_map(VirtualServerAddr::Group),
    ];
    (
        (
            addr,
            of(0usize..14),
            any::<[bool; 8]>(),
            of(lvs_method()),
            of(of(1u32..100_000)),
        ),
        (
            of(prop_oneof![
                (8u32..=32).prop_map(|n| Granularity::Mask(Ipv4Addr::from(u32::MAX << (32 - n)))),
                (1u8..=128).prop_map(Granularity::PrefixLen),
            ]),
            of(prop_oneof![
                Just(Protocol::Tcp),
                Just(Protocol::Udp),
                Just(Protocol::Sctp)
            ]),
            of(1u32..1000),
            of(script()),
            of((ip(), of(any::<u16>()))),
        ),
        (
            defaults(),
            vec(real_server(), 0..3),
            of(prop_oneof![Just(Family::Inet), Just(Family::Inet6)]),
        ),
    )
        .prop_map(|(a, b, c)| {
            let mut vs = VirtualServer::new(a.0);
            vs.lvs_sched = a.1.map(|i| LvsSched::ALL[i].0);
            vs.flag_1 = a.2[0];
            vs.flag_2 = a.2[1];
            vs.flag_3 = a.2[2];
            vs.ops = a.2[3];
            vs.ha_suspend = a.2[4];
            vs.omega = a.2[5];
            vs.sorry_server_inhibit = a.2[6];
            vs.lvs_method = a.3;
            vs.persistence_timeout = a.4;
            vs.persistence_granularity = b.0;
            vs.protocol = b.1;
            vs.quorum = b.2.map(Spanned::new);
            vs.hysteresis = b.2.map(|q| q / 2);
            vs.quorum_up = b.3;
            vs.sorry_server = b.4.map(|(addr, port)| SorryServer { addr, port });
            vs.sorry_server_lvs_method = a.2[7].then_some(LvsMethod::Nat);
            vs.defaults = c.0;
            vs.real_servers = c.1;
            vs.ip_family = c.2;
            vs
        })
}

/// The tracking blocks and top-level settings.
fn tracking() -> impl Strategy<Value = Config> {
    let track_process = (
        name(),
        vec(name(), 1..3),
        of(prop_oneof![
            Just(ParamMatch::Exact),
            Just(ParamMatch::Initial),
            Just(ParamMatch::Partial)
        ]),
        of(weight(254)),
        of(1u32..10),
        of(timer()),
        any::<bool>(),
    )
        .prop_map(
            |(name, process, param_match, weight, quorum, delay, full_command)| TrackProcess {
                name,
                process,
                param_match,
                weight,
                quorum,
                quorum_max: quorum.map(|q| q + 1),
                fork_delay: delay,
                full_command,
                ..TrackProcess::default()
            },
        );
    let bfd = (
        name(),
        ip(),
        of(1_000u32..100_000),
        of(1u8..=255),
        of(-1i16..=255),
        of(weight(253)),
        any::<[bool; 3]>(),
    )
        .prop_map(
            |(name, neighbor, min_rx, multiplier, max_hops, weight, flags)| BfdInstance {
                name,
                neighbor_ip: Some(neighbor),
                min_rx,
                multiplier,
                max_hops,
                weight,
                passive: flags[0],
                vrrp: flags[1],
                checker: flags[2],
                ..BfdInstance::default()
            },
        );
    let garp = (
        of(timer()),
        prop_oneof![
            name().prop_map(|i| (Some(i), Vec::new())),
            vec(name(), 1..3).prop_map(|l| (None, l)),
        ],
    )
        .prop_map(|(interval, (interface, interfaces))| GarpGroup {
            garp_interval: interval.filter(|t| t.as_micros() <= u32::MAX.into()),
            interface,
            interfaces,
            ..GarpGroup::default()
        });
    let track_group = (name(), vec(name(), 0..3)).prop_map(|(name, members)| TrackGroup {
        name,
        group: members
            .into_iter()
            .map(|n| Track {
                name: n,
                weight: None,
                origin: Origin::NONE,
            })
            .collect(),
        origin: Origin::NONE,
    });
    (
        vec(track_process, 0..2),
        vec(bfd, 0..2),
        vec(garp, 0..2),
        vec(track_group, 0..2),
        vec((name(), of(Just("ETHTOOL".to_string()))), 0..2),
        vec((name(), 0u64..=255_000_000, of(0u64..=255_000_000)), 0..2),
        (
            of(name()),
            of(of(name())),
            any::<[bool; 3]>(),
            of(any::<u32>()),
        ),
    )
        .prop_map(|(tps, bfds, garps, tgs, lbs, delays, top)| Config {
            track_processes: tps,
            bfd_instances: bfds,
            garp_groups: garps,
            track_groups: tgs,
            linkbeat_interfaces: lbs
                .into_iter()
                .map(|(interface, poll)| LinkbeatInterface { interface, poll })
                .collect(),
            interface_up_down_delays: delays
                .into_iter()
                .map(|(interface, down, up)| UpDownDelay {
                    interface,
                    down: Timer(down),
                    up: up.map(Timer),
                })
                .collect(),
            top: TopLevel {
                net_namespace: top.0,
                net_namespace_ipvs: top.1,
                namespace_with_ipsets: top.2[0],
                use_pid_dir: top.2[1],
                linkbeat_use_polling: top.2[2],
                child_wait_time: top.3,
                instance: None,
            },
            ..Config::default()
        })
}

fn config() -> impl Strategy<Value = Config> {
    (
        global_defs(),
        vec(ip_address(true), 0..2),
        vec(route(), 0..2),
        vec(rule(), 0..2),
        vec(
            (
                name(),
                of(text()),
                of(timer()),
                of(weight(253)),
                of(1u32..10),
                any::<bool>(),
            )
                .prop_map(|(name, cmd, interval, weight, rise, init_fail)| {
                    VrrpScript {
                        name,
                        script: cmd.map(|command| Script {
                            command,
                            user: None,
                            group: None,
                        }),
                        interval,
                        weight,
                        rise,
                        fall: rise,
                        init_fail,
                        ..VrrpScript::default()
                    }
                }),
            0..2,
        ),
        vec(
            (
                name(),
                of(text()),
                of(weight(1000)),
                of((of(-5i64..5), any::<bool>())),
            )
                .prop_map(|(name, file, weight, init_file)| TrackFile {
                    name,
                    file,
                    weight,
                    init_file,
                    origin: Origin::NONE,
                }),
            0..2,
        ),
        vec(
            (
                name(),
                tracks(0).prop_map(|t| {
                    t.into_iter()
                        .map(|mut t| {
                            t.weight = None;
                            t
                        })
                        .collect()
                }),
                tracks(253),
                notify(),
                any::<bool>(),
            )
                .prop_map(|(name, group, track_script, notify, gt)| SyncGroup {
                    name,
                    group,
                    track_script,
                    notify,
                    global_tracking: gt,
                    ..SyncGroup::default()
                }),
            0..2,
        ),
        vec(instance(), 0..3),
        vec(
            (
                name(),
                vec(
                    prop_oneof![
                        (v4(), of(any::<u8>()), of(any::<u16>())).prop_map(|(a, end, port)| {
                            GroupEntry::Addr {
                                addr: a.into(),
                                range_end: end.map(|e| u16::from(e.max(a.octets()[3]))),
                                port,
                            }
                        }),
                        (
                            1u32..,
                            of(prop_oneof![Just(Family::Inet), Just(Family::Inet6)])
                        )
                            .prop_map(|(mark, family)| GroupEntry::Fwmark { mark, family }),
                    ],
                    0..3,
                ),
            )
                .prop_map(|(name, entries)| VirtualServerGroup {
                    name,
                    entries,
                    origin: Origin::NONE,
                }),
            0..2,
        ),
        vec(virtual_server(), 0..3),
        of((of(text()), of(text())).prop_map(|(ca, key)| SslContext {
            ca,
            key,
            ..SslContext::default()
        })),
        tracking(),
    )
        .prop_map(
            |(g, sa, sr, srl, scripts, tfs, sgs, vis, vsgs, vss, ssl, t)| Config {
                global_defs: g,
                static_ipaddress: sa,
                static_routes: sr,
                static_rules: srl,
                vrrp_scripts: scripts,
                track_files: tfs,
                sync_groups: sgs,
                vrrp_instances: vis,
                virtual_server_groups: vsgs,
                virtual_servers: vss,
                ssl,
                ..t
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_print_is_the_model(model in config()) {
        let text = print(&model);
        let parsed = parse_str("printed.conf", &text, &Options { includes: false, ..Options::default() });
        // Syntax must be clean; semantic errors (a random VRID twice, ...) are allowed.
        let syntax: Vec<String> = parsed
            .diagnostics
            .iter()
            .filter(|d| matches!(d.kind, keepalived_conf::DiagnosticKind::Braces | keepalived_conf::DiagnosticKind::UnknownKeyword | keepalived_conf::DiagnosticKind::Syntax | keepalived_conf::DiagnosticKind::InvalidValue))
            .map(|d| d.render())
            .collect();
        prop_assert!(syntax.is_empty(), "{}\n{}", text, syntax.join("\n"));
        prop_assert_eq!(&parsed.config, &model, "printed:\n{}", text);
    }

    #[test]
    fn quote_round_trips_any_word_without_a_double_quote(word in "[^\"\\p{C}]{0,20}") {
        let line = format!("global_defs {{\n router_id {}\n}}\n", keepalived_conf::quote(&word));
        let parsed = parse_str("q.conf", &line, &Options::default());
        prop_assert_eq!(parsed.config.global_defs.router_id.as_deref(), Some(word.as_str()));
    }

    #[test]
    fn script_commands_round_trip_any_text(command in "\\PC{1,20}") {
        let model = Config {
            vrrp_scripts: vec![VrrpScript {
                name: "s".into(),
                script: Some(Script { command: command.clone(), user: None, group: None }),
                ..VrrpScript::default()
            }],
            ..Config::default()
        };
        let text = print(&model);
        let parsed = parse_str("printed.conf", &text, &Options::default());
        let got = parsed.config.vrrp_scripts[0].script.as_ref().map(|s| s.command.as_str());
        prop_assert_eq!(got, Some(command.as_str()), "printed:\n{}", text);
    }
}

#[test]
fn shared_configs_round_trip() {
    let dirs = [
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/configs/seeds"),
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/vectors/keepalived-2.2.7"
        ),
    ];
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "conf") {
                let parsed = parse_file(&path, &Options::default()).unwrap();
                let printed = print(&parsed.config);
                let again = parse_str("printed.conf", &printed, &Options::default());
                assert!(
                    again.diagnostics.is_empty(),
                    "{}: {:?}",
                    path.display(),
                    again.diagnostics
                );
                assert_eq!(again.config, parsed.config, "{}", path.display());
            }
        }
    }
}
