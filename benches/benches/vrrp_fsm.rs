//! `vrrp-fsm`: 1,000 instances driven in one loop, one input each per iteration, every output
//! drained (the driving rule: `handle_input`, then `poll_output` until `Output::Timeout`).
//! Criterion's per-element time is the time per input. Also prints the memory per instance.
//!
//! `cargo xtask bench vrrp_fsm` (or `cargo bench -p lvskit-benches --bench vrrp_fsm`).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vrrp_fsm::{
    Config, Input, Instance, InterfaceId, Output, ReceivedAdvert, State, Tracker, TrackerId,
    Version,
};

const INSTANCES: usize = 1000;
const SECOND: Duration = Duration::from_secs(1);

/// Instance `i`: VRID 1..=250 on interfaces 2..=5, one virtual address, one tracker.
fn config(i: usize, priority: u8) -> Config {
    let vip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, (i % 250) as u8));
    let mut c = Config::new(
        (i % 250) as u8 + 1,
        Version::V3,
        InterfaceId(2 + (i / 250) as u32),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        vec![vip],
    );
    c.priority = priority;
    c.trackers = vec![Tracker {
        id: TrackerId(1),
        weight: -20,
    }];
    c
}

fn drain(vr: &mut Instance) -> usize {
    let mut n = 0;
    loop {
        match vr.poll_output() {
            Output::Timeout(deadline) => {
                black_box(deadline);
                return n;
            }
            output => {
                black_box(&output);
                n += 1;
            }
        }
    }
}

fn started(priority: u8, t0: Instant) -> Vec<Instance> {
    (0..INSTANCES)
        .map(|i| {
            let mut vr = Instance::new(config(i, priority)).unwrap();
            vr.handle_input(Input::Start { now: t0 }).unwrap();
            drain(&mut vr);
            vr
        })
        .collect()
}

fn memory_report() {
    let t0 = Instant::now();
    let mut fleet = started(100, t0);
    let heap: usize = fleet
        .iter_mut()
        .map(|vr| {
            vr.handle_input(Input::Timeout(t0 + 4 * SECOND)).unwrap();
            drain(vr);
            vr.heap_bytes()
        })
        .sum();
    let heap = heap / INSTANCES;
    let inline = size_of::<Instance>();
    eprintln!(
        "vrrp_fsm memory per instance: size_of {inline} B + heap {heap} B = {} B (1 VIP, 1 tracker)",
        inline + heap
    );
}

fn bench(c: &mut Criterion) {
    memory_report();
    let mut group = c.benchmark_group("vrrp_fsm_1000");
    group.throughput(Throughput::Elements(INSTANCES as u64));

    // BACKUPs hearing their master's advert: the common input of a fleet.
    let t0 = Instant::now();
    let mut backups = started(100, t0);
    let addresses: Vec<[IpAddr; 1]> = backups
        .iter()
        .map(|vr| [vr.config().addresses[0]])
        .collect();
    let mut now = t0;
    group.bench_function("backup_advert", |b| {
        b.iter(|| {
            now += SECOND;
            for (vr, addresses) in backups.iter_mut().zip(&addresses) {
                let c = vr.config();
                let advert = ReceivedAdvert {
                    version: Version::V3,
                    vrid: c.vrid,
                    priority: 200,
                    max_advert_interval_cs: 100,
                    addresses,
                    src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                    interface: c.interface,
                };
                vr.handle_input(Input::Advert { now, advert }).unwrap();
                drain(vr);
            }
        })
    });
    assert!(backups.iter().all(|vr| vr.state() == State::Backup));

    // MASTERs at their advert deadline: one SendAdvert each.
    let mut masters = started(255, t0);
    let mut now = t0;
    group.bench_function("master_advert_timer", |b| {
        b.iter(|| {
            now += SECOND;
            for vr in &mut masters {
                vr.handle_input(Input::Timeout(now)).unwrap();
                drain(vr);
            }
        })
    });
    assert!(masters.iter().all(|vr| vr.stats().adverts_sent > 1));

    // Tracker results flipping the priority of BACKUPs.
    let mut tracked = started(100, t0);
    let mut ok = false;
    let now = t0 + SECOND;
    group.bench_function("backup_tracker", |b| {
        b.iter(|| {
            ok = !ok;
            for vr in &mut tracked {
                vr.handle_input(Input::Tracker {
                    now,
                    id: TrackerId(1),
                    ok,
                })
                .unwrap();
                drain(vr);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
