//! Reload property: random edits to a generated keepalived.conf give exactly the IPVS
//! operations and check changes of the edit, nothing more; an unchanged file gives none.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::Instant;

use director::lb::{Balancer, Input, LbSetup, Output, map};
use healthcheck::CheckId;
use ipvs::{Destination, ForwardMethod, Op, Service, ServiceKey};
use proptest::prelude::*;

const SCHEDULERS: [&str; 4] = ["rr", "wrr", "wlc", "sh"];

/// A generated configuration: virtual servers by the last byte of their address, real servers
/// by the last byte of theirs, with (weight, delay_loop).
#[derive(Debug, Clone, PartialEq)]
struct Desc {
    vs: BTreeMap<u8, (usize, Reals)>,
}

/// Real servers by last address byte: (weight, delay_loop).
type Reals = BTreeMap<u8, (u8, u8)>;

impl Desc {
    fn text(&self) -> String {
        let mut t = String::new();
        for (ip, (sched, rs)) in &self.vs {
            let _ = writeln!(
                t,
                "virtual_server 192.0.2.{ip} 80 {{\n    protocol TCP\n    lvs_sched {}\n    lvs_method DR",
                SCHEDULERS[*sched]
            );
            for (last, (weight, delay)) in rs {
                let _ = writeln!(
                    t,
                    "    real_server 198.51.100.{last} 80 {{\n        weight {weight}\n        TCP_CHECK {{\n            delay_loop {delay}\n        }}\n    }}"
                );
            }
            t.push_str("}\n");
        }
        t
    }
}

fn setup(text: &str) -> LbSetup {
    let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
    assert!(
        !parsed.has_errors(),
        "{}",
        parsed
            .errors()
            .map(|d| d.render())
            .collect::<Vec<_>>()
            .join("\n")
    );
    map(&parsed.config, Some(&parsed.sources)).unwrap()
}

fn key(ip: u8) -> ServiceKey {
    ServiceKey::Addr {
        protocol: ipvs::Protocol::Tcp,
        addr: SocketAddr::from(([192, 0, 2, ip], 80)),
    }
}

fn service(ip: u8, sched: usize) -> Service {
    Service::tcp(SocketAddr::from(([192, 0, 2, ip], 80))).scheduler(SCHEDULERS[sched])
}

fn dest(last: u8, weight: u8) -> Destination {
    Destination::new(SocketAddr::from(([198, 51, 100, last], 80)))
        .weight(i32::from(weight))
        .forward(ForwardMethod::DirectRoute)
}

/// The operations the edit must give, worked out from the descriptions alone.
fn expected_ops(old: &Desc, new: &Desc) -> Vec<Op> {
    let mut ops = Vec::new();
    for ip in old.vs.keys() {
        if !new.vs.contains_key(ip) {
            ops.push(Op::DelService(key(*ip)));
        }
    }
    for (ip, (sched, rs)) in &new.vs {
        match old.vs.get(ip) {
            None => {
                ops.push(Op::NewService(service(*ip, *sched)));
                ops.extend(
                    rs.iter()
                        .map(|(l, (w, _))| Op::NewDest(key(*ip), dest(*l, *w))),
                );
            }
            Some((old_sched, old_rs)) => {
                if old_sched != sched {
                    ops.push(Op::SetService(service(*ip, *sched)));
                }
                for (l, (w, _)) in rs {
                    match old_rs.get(l) {
                        None => ops.push(Op::NewDest(key(*ip), dest(*l, *w))),
                        Some((ow, _)) if ow != w => ops.push(Op::SetDest(key(*ip), dest(*l, *w))),
                        Some(_) => {}
                    }
                }
                for l in old_rs.keys() {
                    if !rs.contains_key(l) {
                        ops.push(Op::DelDest(
                            key(*ip),
                            SocketAddr::from(([198, 51, 100, *l], 80)),
                        ));
                    }
                }
            }
        }
    }
    ops
}

/// (virtual server, real server, delay_loop) of every check of a description.
fn checks(d: &Desc) -> BTreeSet<(u8, u8, u8)> {
    d.vs.iter()
        .flat_map(|(ip, (_, rs))| rs.iter().map(move |(l, (_, delay))| (*ip, *l, *delay)))
        .collect()
}

/// The check ids of a running balancer by (virtual server, real server, delay_loop).
fn ids(b: &Balancer) -> BTreeMap<(u8, u8, u8), CheckId> {
    b.check_ids()
        .map(|(id, (v, r, c))| {
            let vs = &b.setup().virtual_servers[v];
            let rs = &vs.real_servers[r];
            let ServiceKey::Addr { addr, .. } = vs.services[0].key else {
                unreachable!()
            };
            let std::net::IpAddr::V4(vip) = addr.ip() else {
                unreachable!()
            };
            let std::net::IpAddr::V4(rip) = rs.addr else {
                unreachable!()
            };
            let delay = rs.checks[c].schedule.delay_loop.as_secs() as u8;
            ((vip.octets()[3], rip.octets()[3], delay), id)
        })
        .collect()
}

fn sorted(mut ops: Vec<Op>) -> Vec<String> {
    let mut s: Vec<String> = ops.drain(..).map(|o| format!("{o:?}")).collect();
    s.sort();
    s
}

#[derive(Debug, Clone)]
enum Edit {
    Weight(usize, usize, u8),
    Delay(usize, usize, u8),
    Scheduler(usize, usize),
    AddReal(usize, u8, u8),
    RemoveReal(usize, usize),
    AddVirtual(u8, u8),
    RemoveVirtual(usize),
}

fn apply(d: &mut Desc, edit: &Edit) {
    let nth_vs = |d: &mut Desc, i: usize| {
        let n = d.vs.len();
        (n > 0).then(|| *d.vs.keys().nth(i % n).unwrap())
    };
    match *edit {
        Edit::Weight(v, r, w) | Edit::Delay(v, r, w) => {
            let Some(ip) = nth_vs(d, v) else { return };
            let rs = &mut d.vs.get_mut(&ip).unwrap().1;
            let n = rs.len();
            if n == 0 {
                return;
            }
            let entry = rs.values_mut().nth(r % n).unwrap();
            if matches!(edit, Edit::Weight(..)) {
                entry.0 = 1 + w % 10;
            } else {
                entry.1 = 1 + w % 4;
            }
        }
        Edit::Scheduler(v, s) => {
            if let Some(ip) = nth_vs(d, v) {
                d.vs.get_mut(&ip).unwrap().0 = s % SCHEDULERS.len();
            }
        }
        Edit::AddReal(v, last, w) => {
            if let Some(ip) = nth_vs(d, v) {
                let rs = &mut d.vs.get_mut(&ip).unwrap().1;
                rs.entry(10 + last % 40).or_insert((1 + w % 10, 1 + w % 4));
            }
        }
        Edit::RemoveReal(v, r) => {
            if let Some(ip) = nth_vs(d, v) {
                let rs = &mut d.vs.get_mut(&ip).unwrap().1;
                let n = rs.len();
                // keepalived-conf refuses a virtual server whose total weight is below its quorum.
                if n > 1 {
                    let l = *rs.keys().nth(r % n).unwrap();
                    rs.remove(&l);
                }
            }
        }
        Edit::AddVirtual(ip, last) => {
            let ip = 1 + ip % 20;
            d.vs.entry(ip)
                .or_insert((0, BTreeMap::from([(10 + last % 40, (1, 1))])));
        }
        Edit::RemoveVirtual(v) => {
            if let Some(ip) = nth_vs(d, v) {
                d.vs.remove(&ip);
            }
        }
    }
}

fn desc() -> impl Strategy<Value = Desc> {
    let rs = prop::collection::btree_map(10u8..50, (1u8..11, 1u8..5), 1..5);
    prop::collection::btree_map(1u8..21, (0..SCHEDULERS.len(), rs), 0..6).prop_map(|vs| Desc { vs })
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>(), any::<u8>()).prop_map(|(a, b, c)| Edit::Weight(a, b, c)),
        (any::<usize>(), any::<usize>(), any::<u8>()).prop_map(|(a, b, c)| Edit::Delay(a, b, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::Scheduler(a, b)),
        (any::<usize>(), any::<u8>(), any::<u8>()).prop_map(|(a, b, c)| Edit::AddReal(a, b, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::RemoveReal(a, b)),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Edit::AddVirtual(a, b)),
        any::<usize>().prop_map(Edit::RemoveVirtual),
    ]
}

fn drain(b: &mut Balancer) -> Vec<Output> {
    std::iter::from_fn(|| b.poll_output()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_reload_gives_exactly_the_diff(old in desc(), edits in prop::collection::vec(edit(), 1..6)) {
        let mut new = old.clone();
        for e in &edits {
            apply(&mut new, e);
        }
        let mut b = Balancer::new(setup(&old.text()));
        b.handle_input(Input::Start { now: Instant::now() });
        drain(&mut b);
        let before = ids(&b);

        b.handle_input(Input::Reload { now: Instant::now(), setup: setup(&new.text()) });
        let out = drain(&mut b);
        let mut ops = Vec::new();
        let mut inserted = 0;
        let mut removed = BTreeSet::new();
        for o in out {
            match o {
                Output::Ipvs(o) => ops.extend(o),
                Output::InsertCheck { .. } => inserted += 1,
                Output::RemoveCheck(id) => { removed.insert(id); }
                other => prop_assert!(false, "unexpected {other:?}"),
            }
        }
        prop_assert_eq!(sorted(ops), sorted(expected_ops(&old, &new)));

        let (old_checks, new_checks) = (checks(&old), checks(&new));
        let gone: BTreeSet<CheckId> = old_checks.difference(&new_checks).map(|k| before[k]).collect();
        prop_assert_eq!(removed, gone);
        prop_assert_eq!(inserted, new_checks.difference(&old_checks).count());
        // Every check whose definition stayed kept its id (and so its state).
        let after = ids(&b);
        for k in old_checks.intersection(&new_checks) {
            prop_assert_eq!(before[k], after[k]);
        }

        // The same file again: nothing.
        b.handle_input(Input::Reload { now: Instant::now(), setup: setup(&new.text()) });
        prop_assert!(drain(&mut b).is_empty());
    }
}
