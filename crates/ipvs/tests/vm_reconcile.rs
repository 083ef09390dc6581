//! The reconciler against a real kernel, inside the VM: random desired states applied on random
//! current states converge in one pass, a second pass sends nothing, and with a warm cache a
//! one-destination change is exactly one netlink request.

use std::net::{Ipv4Addr, SocketAddr};

use ipvs::packet::{IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_SCHED1};
use ipvs::{
    Destination, Family, ForwardMethod, Ipvs, OnError, Op, Reconciler, Service, Table, TunnelType,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn fresh() -> Ipvs {
    let mut ipvs = Ipvs::new().expect("the VM kernel has IPVS loaded");
    ipvs.flush().expect("flush");
    ipvs
}

/// A service drawn from a small pool of keys, so current and desired states overlap.
fn service() -> impl Strategy<Value = Service> {
    let key = prop_oneof![
        (0u8..4, 0u16..3).prop_map(|(host, port)| Service::tcp(SocketAddr::from((
            Ipv4Addr::new(192, 0, 2, 100 + host),
            80 + port
        )))),
        (0u8..2).prop_map(|host| Service::udp(SocketAddr::from((
            Ipv4Addr::new(192, 0, 2, 110 + host),
            53
        )))),
        (1u32..3).prop_map(|mark| Service::fwmark(Family::V4, mark)),
    ];
    (
        key,
        prop::sample::select(vec!["rr", "wrr", "wlc", "sh", "lc"]),
        prop::option::of(1u32..1000),
        prop::sample::select(vec![32u8, 24, 16]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(svc, sched, persistent, netmask, one_packet, sched1)| {
            let mut svc = svc.scheduler(sched).one_packet(one_packet).netmask(netmask);
            if let Some(timeout) = persistent {
                svc = svc.persistent(timeout);
            }
            if sched1 {
                let flags = svc.flags | IP_VS_SVC_F_SCHED1;
                svc = svc.flags(flags);
            }
            svc
        })
}

fn destination() -> impl Strategy<Value = Destination> {
    (
        0u8..6,
        prop::sample::select(vec![
            ForwardMethod::DirectRoute,
            ForwardMethod::Masquerade,
            ForwardMethod::Tunnel,
        ]),
        0i32..5,
        prop::option::of((10u32..100, 0u32..10)),
        any::<bool>(),
    )
        .prop_map(|(host, forward, weight, thresholds, gre)| {
            let mut d = Destination::new(SocketAddr::from((
                Ipv4Addr::new(198, 51, 100, 1 + host),
                80,
            )))
            .forward(forward)
            .weight(weight);
            if let Some((upper, lower)) = thresholds {
                d = d.thresholds(upper, lower);
            }
            if gre && forward == ForwardMethod::Tunnel {
                d = d.tunnel(TunnelType::Gre, 0, 0);
            }
            d
        })
}

fn table() -> impl Strategy<Value = Table> {
    prop::collection::vec(
        (service(), prop::collection::vec(destination(), 0..4)),
        0..6,
    )
    .prop_map(|entries| {
        let mut t = Table::new();
        for (svc, dests) in entries {
            let key = svc.key;
            t.insert_service(svc);
            for d in dests {
                t.insert_destination(&key, d);
            }
        }
        t
    })
}

/// Puts `table` into the kernel from scratch.
fn load(ipvs: &mut Ipvs, table: &Table) {
    ipvs.flush().unwrap();
    let mut ops = Vec::new();
    for (key, vs) in &table.services {
        ops.push(Op::NewService(vs.service.clone()));
        ops.extend(
            vs.destinations
                .values()
                .map(|d| Op::NewDest(*key, d.clone())),
        );
    }
    let report = ipvs.batch(&ops, OnError::Continue).unwrap();
    assert!(
        report.all_done(),
        "loading the current state: {:?}",
        report.failures().next()
    );
}

#[test]
fn random_desired_states_converge_in_one_pass_and_the_second_pass_is_empty() {
    let ipvs = std::cell::RefCell::new(fresh());
    let config = Config {
        cases: 128,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    runner
        .run(&(table(), table()), |(current, desired)| {
            let ipvs = &mut *ipvs.borrow_mut();
            load(ipvs, &current);
            let mut reconciler = Reconciler::new();
            let summary = reconciler.apply(ipvs, &desired).unwrap();
            prop_assert!(summary.failures.is_empty(), "{:?}", summary.failures);
            let now = Table::read(ipvs).unwrap();
            prop_assert!(
                now.same_config(&desired),
                "kernel {now:#?}\ndesired {desired:#?}"
            );

            // A second pass from a cold cache plans nothing...
            let mut cold = Reconciler::new();
            prop_assert_eq!(cold.plan(ipvs, &desired).unwrap(), Vec::<Op>::new());
            // ...and from the warm cache it sends nothing at all.
            let second = reconciler.apply(ipvs, &desired).unwrap();
            prop_assert_eq!(second.applied(), 0);
            prop_assert_eq!(second.requests, 0);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_one_destination_change_is_one_request_with_a_warm_cache() {
    let mut ipvs = fresh();
    let mut desired = Table::new();
    for i in 0..50u16 {
        let svc = Service::tcp(SocketAddr::from(([203, 0, 113, 1], 1000 + i))).scheduler("wrr");
        let key = svc.key;
        desired.insert_service(svc);
        for host in 1..=4u8 {
            desired.insert_destination(
                &key,
                Destination::new(SocketAddr::from(([198, 51, 100, host], 80))).weight(1),
            );
        }
    }
    let mut reconciler = Reconciler::new();
    let first = reconciler.apply(&mut ipvs, &desired).unwrap();
    assert_eq!(first.services_added, 50);
    assert_eq!(first.destinations_added, 200);

    let key = *desired.services.keys().nth(17).unwrap();
    let addr = SocketAddr::from(([198, 51, 100, 3], 80));

    // Edit one weight.
    let mut changed = desired.clone();
    changed.insert_destination(&key, Destination::new(addr).weight(7));
    let summary = reconciler.apply(&mut ipvs, &changed).unwrap();
    assert_eq!(summary.requests, 1);
    assert_eq!(summary.destinations_edited, 1);
    let dest = ipvs
        .destinations(&key)
        .unwrap()
        .into_iter()
        .find(|d| d.addr == addr)
        .unwrap();
    assert_eq!(dest.weight, 7);

    // Remove one destination.
    changed
        .services
        .get_mut(&key)
        .unwrap()
        .destinations
        .remove(&addr);
    let summary = reconciler.apply(&mut ipvs, &changed).unwrap();
    assert_eq!((summary.requests, summary.destinations_removed), (1, 1));
    assert_eq!(ipvs.destinations(&key).unwrap().len(), 3);

    // Add it back with another forwarding method.
    changed.insert_destination(
        &key,
        Destination::new(addr).forward(ForwardMethod::Masquerade),
    );
    let summary = reconciler.apply(&mut ipvs, &changed).unwrap();
    assert_eq!((summary.requests, summary.destinations_added), (1, 1));

    // A service edit is one request too, and never a delete-and-add: the counters of the
    // service survive it.
    let mut svc = changed.services[&key].service.clone();
    svc = svc.scheduler("rr").flags(IP_VS_SVC_F_ONEPACKET);
    changed.insert_service(svc);
    let summary = reconciler.apply(&mut ipvs, &changed).unwrap();
    assert_eq!(
        (summary.requests, summary.services_edited, summary.applied()),
        (1, 1, 1)
    );
    assert!(Table::read(&mut ipvs).unwrap().same_config(&changed));
}

#[test]
fn a_failure_drops_the_cache_and_the_next_pass_repairs() {
    let mut ipvs = fresh();
    let mut desired = Table::new();
    let svc = Service::tcp(SocketAddr::from(([203, 0, 113, 2], 80)));
    let key = svc.key;
    desired.insert_service(svc.clone());
    desired.insert_destination(
        &key,
        Destination::new(SocketAddr::from(([198, 51, 100, 9], 80))),
    );
    let mut reconciler = Reconciler::new();
    assert!(
        reconciler
            .apply(&mut ipvs, &desired)
            .unwrap()
            .failures
            .is_empty()
    );

    // Someone else deletes the service behind the reconciler's back...
    ipvs.del_service(&key).unwrap();
    // ...so a change based on the stale cache fails,
    let mut changed = desired.clone();
    changed.insert_destination(
        &key,
        Destination::new(SocketAddr::from(([198, 51, 100, 9], 80))).weight(3),
    );
    let summary = reconciler.apply(&mut ipvs, &changed).unwrap();
    assert_eq!(summary.failures.len(), 1);
    assert!(matches!(
        summary.failures[0].1,
        ipvs::Error::ServiceNotFound(_)
    ));
    assert!(reconciler.cached().is_none());
    // and the next pass reads the kernel and repairs it.
    let summary = reconciler.apply(&mut ipvs, &changed).unwrap();
    assert!(summary.failures.is_empty());
    assert_eq!((summary.services_added, summary.destinations_added), (1, 1));
    assert!(Table::read(&mut ipvs).unwrap().same_config(&changed));
}

#[tokio::test(flavor = "current_thread")]
async fn the_async_reconciler_converges_like_the_blocking_one() {
    let mut sync = fresh();
    let mut ipvs = ipvs::AsyncIpvs::new().await.expect("IPVS in the VM");
    let mut desired = Table::new();
    for port in [80, 443] {
        let svc = Service::tcp(SocketAddr::from(([203, 0, 113, 3], port))).scheduler("rr");
        let key = svc.key;
        desired.insert_service(svc);
        for host in [21, 22] {
            desired.insert_destination(
                &key,
                Destination::new(SocketAddr::from(([198, 51, 100, host], port))),
            );
        }
    }
    let mut reconciler = Reconciler::new();
    let first = reconciler.apply_async(&mut ipvs, &desired).await.unwrap();
    assert_eq!((first.services_added, first.destinations_added), (2, 4));
    assert!(first.failures.is_empty());
    // What the blocking client reads is what the async one wrote, in either listing.
    assert!(Table::read(&mut sync).unwrap().same_config(&desired));
    assert!(
        Table::read_async(&mut ipvs)
            .await
            .unwrap()
            .same_config(&desired)
    );
    let entries = ipvs.entries().await.unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.destinations.len() == 2));
    let key = *desired.services.keys().next().unwrap();
    assert!(
        ipvs.service(&key)
            .await
            .unwrap()
            .same_config(&desired.services[&key].service)
    );

    // A warm cache: one weight is one request, and a second pass sends nothing.
    let mut changed = desired.clone();
    changed.insert_destination(
        &key,
        Destination::new(SocketAddr::from(([198, 51, 100, 21], key_port(&key)))).weight(5),
    );
    let summary = reconciler.apply_async(&mut ipvs, &changed).await.unwrap();
    assert_eq!((summary.requests, summary.destinations_edited), (1, 1));
    assert!(
        reconciler
            .plan_async(&mut ipvs, &changed)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(Table::read(&mut sync).unwrap().same_config(&changed));
}

fn key_port(key: &ipvs::ServiceKey) -> u16 {
    match key {
        ipvs::ServiceKey::Addr { addr, .. } => addr.port(),
        ipvs::ServiceKey::Fwmark { .. } => 0,
    }
}
