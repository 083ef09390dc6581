//! VIPs, routes and rules for real, in a network namespace (root only: the "netns" suite).

mod common;

use std::net::IpAddr;

use common::{addrs_on, ip, label_of, run_in, thousand_addresses};
use testbed::{CAP_NET_ADMIN, Netns, drop_capability, require_root, veth_pair};
use vip::{Change, Client, Error, Family, Route, RouteKind, Rule, RuleAction, Scope, Vip};

fn ipa(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A namespace with a veth pair `eth0`/`eth1` inside it, both up.
fn netns(tag: &str) -> Netns {
    require_root();
    let ns = Netns::new(tag).unwrap();
    veth_pair(&ns, "eth0", &ns, "eth1").unwrap();
    ns.set_up("eth0").unwrap();
    ns.set_up("eth1").unwrap();
    ns
}

#[test]
fn thousand_vips_added_and_removed() {
    let ns = netns("vip1000");
    run_in(&ns, || async {
        let client = Client::new().unwrap();
        let vips: Vec<Vip> = thousand_addresses()
            .into_iter()
            .map(|a| Vip::new(a, "eth0"))
            .collect();
        assert_eq!(vips.len(), 1000);

        let changes = client.add_vips(&vips).await.unwrap();
        assert!(changes.iter().all(|c| *c == Change::Changed));
        let present = addrs_on("eth0");
        for v in &vips {
            assert!(
                present.contains(&(v.addr, v.prefix_len)),
                "{} missing after add ({} addresses present)",
                v.addr,
                present.len()
            );
        }

        // Again: everything is there already.
        let again = client.add_vips(&vips).await.unwrap();
        assert!(
            again.iter().all(|c| *c == Change::Unchanged),
            "re-add changed something"
        );
        assert!(client.has_vip(&vips[999]).await.unwrap());

        let removed = client.remove_vips(&vips).await.unwrap();
        assert!(removed.iter().all(|c| *c == Change::Changed));
        let left = addrs_on("eth0");
        for v in &vips {
            assert!(
                !left.contains(&(v.addr, v.prefix_len)),
                "{} left behind",
                v.addr
            );
        }
        let again = client.remove_vips(&vips).await.unwrap();
        assert!(again.iter().all(|c| *c == Change::Unchanged));
        assert!(!client.has_vip(&vips[0]).await.unwrap());
    });
}

#[test]
fn vip_attributes_reach_the_kernel_and_conflicts_are_typed() {
    let ns = netns("vipattr");
    run_in(&ns, || async {
        let client = Client::new().unwrap();
        let vip = Vip::new(ipa("192.0.2.17"), "eth0")
            .prefix(24)
            .broadcast_from_prefix()
            .label("eth0:vip")
            .scope(Scope::Link);
        assert_eq!(client.add_vip(&vip).await.unwrap(), Change::Changed);
        let shown = ip(&["addr", "show", "dev", "eth0"]);
        assert!(
            shown.contains("inet 192.0.2.17/24 brd 192.0.2.255 scope link eth0:vip"),
            "{shown}"
        );
        assert_eq!(
            label_of("eth0", ipa("192.0.2.17")).as_deref(),
            Some("eth0:vip")
        );
        assert_eq!(client.add_vip(&vip).await.unwrap(), Change::Unchanged);

        // The same address with another label is not "already there".
        let other = vip.clone().label("eth0:other");
        match client.add_vip(&other).await {
            Err(Error::Exists { detail, .. }) => assert!(detail.contains("label"), "{detail}"),
            other => panic!("expected Exists, got {other:?}"),
        }

        // IPv6 with nodad is usable at once (not tentative).
        let v6 = Vip::new(ipa("2001:db8:5::1"), "eth0").prefix(64);
        assert_eq!(client.add_vip(&v6).await.unwrap(), Change::Changed);
        let shown = ip(&["-6", "addr", "show", "dev", "eth0"]);
        let line = shown
            .lines()
            .find(|l| l.contains("2001:db8:5::1/64"))
            .unwrap();
        assert!(!line.contains("tentative"), "{line}");
        assert!(line.contains("nodad"), "{line}");

        // Removing matches on address and prefix even though the label differs.
        assert_eq!(client.remove_vip(&other).await.unwrap(), Change::Changed);
        assert_eq!(client.remove_vip(&vip).await.unwrap(), Change::Unchanged);
        assert_eq!(client.remove_vip(&v6).await.unwrap(), Change::Changed);
    });
}

#[test]
fn bad_input_is_refused_with_typed_errors_and_changes_nothing() {
    let ns = netns("vipbad");
    ns.ip(&[
        "link", "add", "down0", "type", "veth", "peer", "name", "down1",
    ])
    .unwrap();
    run_in(&ns, || async {
        let client = Client::new().unwrap();
        let before = addrs_on("eth0");

        let e = client
            .add_vip(&Vip::new(ipa("192.0.2.1"), "nosuch0"))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::NoSuchInterface { ref name } if name == "nosuch0"),
            "{e:?}"
        );

        let e = client
            .add_vip(&Vip::new(ipa("192.0.2.1"), "down0"))
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::InterfaceDown { ref name } if name == "down0"),
            "{e:?}"
        );

        let e = client
            .add_vip(
                &Vip::new(ipa("2001:db8::1"), "eth0").broadcast("192.0.2.255".parse().unwrap()),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::WrongFamily {
                    expected: Family::V6,
                    ..
                }
            ),
            "{e:?}"
        );

        let e = client
            .add_route(&Route::new(ipa("198.51.100.0"), 24).via(ipa("2001:db8::1")))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::WrongFamily { what: "via", .. }), "{e:?}");

        let e = client
            .add_route(&Route::new(ipa("198.51.100.0"), 24).dev("nosuch0"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NoSuchInterface { .. }), "{e:?}");

        let e = client
            .add_vmac(&vip::Vmac::new("vrrp.3", "nosuch0", 3, Family::V4))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NoSuchInterface { .. }), "{e:?}");
        let e = client
            .add_vmac(&vip::Vmac::new("vrrp.3", "down0", 3, Family::V4))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InterfaceDown { .. }), "{e:?}");
        assert!(matches!(
            client.link("vrrp.3").await,
            Err(Error::NoSuchInterface { .. })
        ));

        // A batch with one bad VIP at the end: nothing of it is added.
        let mut batch: Vec<Vip> = (1..=20u8)
            .map(|i| Vip::new(ipa(&format!("203.0.113.{i}")), "eth0"))
            .collect();
        batch.push(Vip::new(ipa("203.0.113.99"), "down0"));
        let e = client.add_vips(&batch).await.unwrap_err();
        assert!(matches!(e, Error::InterfaceDown { .. }), "{e:?}");
        batch.pop();
        batch.push(Vip::new(ipa("203.0.113.99"), "eth0").prefix(40));
        let e = client.add_vips(&batch).await.unwrap_err();
        assert!(matches!(e, Error::InvalidPrefix { .. }), "{e:?}");
        assert_eq!(
            addrs_on("eth0"),
            before,
            "a refused batch changed addresses"
        );

        // Removing from an interface that does not exist is "nothing to do".
        assert_eq!(
            client
                .remove_vip(&Vip::new(ipa("192.0.2.1"), "nosuch0"))
                .await
                .unwrap(),
            Change::Unchanged
        );

        // The kernel's own refusal keeps its extended-ACK text.
        let e = client
            .add_route(&Route::new(ipa("198.51.100.0"), 24).via(ipa("203.0.113.254")))
            .await
            .unwrap_err();
        match e {
            Error::Kernel { ext, source, .. } => {
                assert_eq!(source.raw_os_error(), Some(libc::ENETUNREACH), "{source}");
                assert!(ext.is_some(), "no extended ACK text");
            }
            other => panic!("expected a kernel error, got {other:?}"),
        }
    });
}

#[test]
fn routes_and_rules_are_idempotent() {
    let ns = netns("viproute");
    ns.add_addr("eth0", "192.0.2.1/24").unwrap();
    ns.add_addr("eth0", "2001:db8::1/64").unwrap();
    run_in(&ns, || async {
        let client = Client::new().unwrap();
        let via = Route::new(ipa("198.51.100.0"), 24)
            .via(ipa("192.0.2.254"))
            .dev("eth0")
            .src(ipa("192.0.2.1"))
            .table(100)
            .metric(7);
        let direct = Route::new(ipa("203.0.113.0"), 25).dev("eth0");
        let hole = Route::new(ipa("203.0.113.128"), 25).kind(RouteKind::Blackhole);
        let v6 = Route::new(ipa("2001:db8:99::"), 48)
            .via(ipa("2001:db8::fe"))
            .table(100);
        let unreachable = Route::new(ipa("2001:db8:98::"), 48).kind(RouteKind::Unreachable);
        let routes = [&via, &direct, &hole, &v6, &unreachable];
        for r in routes {
            assert_eq!(client.add_route(r).await.unwrap(), Change::Changed, "{r:?}");
            assert_eq!(
                client.add_route(r).await.unwrap(),
                Change::Unchanged,
                "{r:?}"
            );
        }
        // The same key (destination, table, metric) with another gateway, type or interface
        // is not "already there": it is refused, and the route in place is left alone.
        let conflicts = [
            via.clone().via(ipa("192.0.2.253")),
            Route::new(ipa("203.0.113.128"), 25).dev("eth0"),
            Route::new(ipa("203.0.113.0"), 25).dev("eth1"),
            Route::new(ipa("2001:db8:99::"), 48)
                .via(ipa("2001:db8::fd"))
                .table(100),
        ];
        for (r, what) in conflicts
            .iter()
            .zip(["gateway", "type", "interface", "gateway"])
        {
            match client.add_route(r).await {
                Err(Error::Exists { detail, .. }) => assert!(detail.contains(what), "{detail}"),
                other => panic!("{r:?}: expected Exists ({what}), got {other:?}"),
            }
        }
        let t100 = ip(&["route", "show", "table", "100"]);
        assert!(
            t100.contains(
                "198.51.100.0/24 via 192.0.2.254 dev eth0 proto static src 192.0.2.1 metric 7"
            ),
            "{t100}"
        );
        let main = ip(&["route", "show"]);
        assert!(
            main.contains("203.0.113.0/25 dev eth0 proto static scope link"),
            "{main}"
        );
        assert!(
            main.contains("blackhole 203.0.113.128/25 proto static"),
            "{main}"
        );
        let t100v6 = ip(&["-6", "route", "show", "table", "100"]);
        assert!(
            t100v6.contains("2001:db8:99::/48 via 2001:db8::fe dev eth0"),
            "{t100v6}"
        );
        assert!(ip(&["-6", "route"]).contains("unreachable 2001:db8:98::/48"));

        let from = Rule::new(Family::V4, RuleAction::Table(100))
            .from(ipa("192.0.2.0"), 24)
            .priority(1000);
        let mark = Rule::new(Family::V4, RuleAction::Table(200))
            .fwmark(7, Some(0xff))
            .iif("eth0")
            .priority(1001);
        let to6 = Rule::new(Family::V6, RuleAction::Table(100))
            .to(ipa("2001:db8:99::"), 48)
            .priority(1002);
        let rules = [&from, &mark, &to6];
        for r in rules {
            assert_eq!(client.add_rule(r).await.unwrap(), Change::Changed, "{r:?}");
            assert_eq!(
                client.add_rule(r).await.unwrap(),
                Change::Unchanged,
                "{r:?}"
            );
        }
        let shown = ip(&["rule", "show"]);
        assert!(
            shown.contains("1000:\tfrom 192.0.2.0/24 lookup 100"),
            "{shown}"
        );
        assert!(
            shown.contains("1001:\tfrom all fwmark 0x7/0xff iif eth0 lookup 200"),
            "{shown}"
        );
        assert!(
            ip(&["-6", "rule", "show"]).contains("1002:\tfrom all to 2001:db8:99::/48 lookup 100")
        );

        for r in rules {
            assert_eq!(
                client.remove_rule(r).await.unwrap(),
                Change::Changed,
                "{r:?}"
            );
            assert_eq!(
                client.remove_rule(r).await.unwrap(),
                Change::Unchanged,
                "{r:?}"
            );
        }
        assert!(!ip(&["rule", "show"]).contains("lookup 100"));
        for r in routes {
            assert_eq!(
                client.remove_route(r).await.unwrap(),
                Change::Changed,
                "{r:?}"
            );
            assert_eq!(
                client.remove_route(r).await.unwrap(),
                Change::Unchanged,
                "{r:?}"
            );
        }
        assert_eq!(ip(&["route", "show", "table", "100"]).trim(), "");
        assert!(!ip(&["route"]).contains("203.0.113"));
    });
}

#[test]
fn missing_privilege_is_a_permission_error_and_changes_nothing() {
    let ns = netns("vipperm");
    run_in(&ns, || async {
        drop_capability(CAP_NET_ADMIN);
        let client = Client::new().unwrap();
        // Reading is allowed without privilege.
        assert!(client.link("eth0").await.unwrap().up);
        let vip = Vip::new(ipa("192.0.2.50"), "eth0");
        let e = client.add_vip(&vip).await.unwrap_err();
        assert!(matches!(e, Error::Permission { .. }), "{e:?}");
        let e = client
            .add_vmac(&vip::Vmac::new("vrrp.5", "eth0", 5, Family::V4))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Permission { .. }), "{e:?}");
        assert!(!addrs_on("eth0").iter().any(|(a, _)| *a == vip.addr));
    });
}
