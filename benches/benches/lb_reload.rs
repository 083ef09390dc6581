//! The load balancer's reload of 2,300 virtual servers / 37,000 real servers with one weight
//! changed (acassen/keepalived#2318 took keepalived 100–130 s): parse, map, and the core's diff,
//! which must be exactly one IPVS operation and no check restarted.
//!
//! `cargo xtask bench lb_reload`. The netlink request itself is measured in the VM
//! (`tests/vm_lvskitd.rs` shows it is one request).

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion};
use director::lb::{Balancer, Input, LbSetup, Output, map};
use ipvs::Op;
use keepalived_conf::{Options, parse_str};
use lvskit_benches::{REAL_SERVERS, VIRTUAL_SERVERS, big_config};

fn setup(text: &str) -> LbSetup {
    let parsed = parse_str("big.conf", text, &Options::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.errors().next());
    map(&parsed.config, Some(&parsed.sources)).expect("the big configuration maps")
}

fn drain(b: &mut Balancer) -> Vec<Output> {
    std::iter::from_fn(|| b.poll_output()).collect()
}

fn main() {
    let text = big_config();
    // The first real server of the first virtual server: weight 1 -> 4.
    let changed = text.replacen("        weight 1\n", "        weight 4\n", 1);
    assert_ne!(text, changed);
    let mut balancer = Balancer::new(setup(&text));
    balancer.handle_input(Input::Start {
        now: Instant::now(),
    });
    let started = drain(&mut balancer);
    let checks = started
        .iter()
        .filter(|o| matches!(o, Output::InsertCheck { .. }))
        .count();
    assert_eq!(checks, REAL_SERVERS);

    let t0 = Instant::now();
    let parsed = parse_str("big.conf", &changed, &Options::default());
    let t1 = Instant::now();
    let new = map(&parsed.config, Some(&parsed.sources)).expect("maps");
    let t2 = Instant::now();
    balancer.handle_input(Input::Reload {
        now: Instant::now(),
        setup: new,
    });
    let out = drain(&mut balancer);
    let t3 = Instant::now();
    let ops: Vec<&Op> = out
        .iter()
        .filter_map(|o| match o {
            Output::Ipvs(ops) => Some(ops.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(out.len(), 1, "one output: {out:?}");
    assert!(matches!(ops[..], [Op::SetDest(..)]), "{ops:?}");
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    println!(
        "lb_reload: {VIRTUAL_SERVERS} virtual servers, {REAL_SERVERS} real servers, one weight changed: \
         parse+check {:.1} ms, map {:.1} ms, core diff {:.1} ms, total {:.1} ms; {} IPVS operation, 0 checks restarted",
        ms(t0, t1),
        ms(t1, t2),
        ms(t2, t3),
        ms(t0, t3),
        ops.len()
    );

    let old = setup(&text);
    let new = setup(&changed);
    let mut flip = false;
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("lb_reload");
    group.sample_size(10);
    group.bench_function("core_reload_2300vs_37000rs_one_weight", |b| {
        b.iter_batched(
            || {
                flip = !flip;
                if flip { new.clone() } else { old.clone() }
            },
            |setup| {
                balancer.handle_input(Input::Reload {
                    now: Instant::now(),
                    setup,
                });
                black_box(drain(&mut balancer))
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
    c.final_summary();
}
