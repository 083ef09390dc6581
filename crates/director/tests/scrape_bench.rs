//! The figure of BENCHMARKS.md "Operating lvskitd": one scrape (state document and metrics) of
//! a load balancer with 2,300 virtual servers and 37,000 real servers, and what a scrape a
//! second does to the check scheduler's start slip when it runs on the same thread (as in
//! lvskitd, where the load balancer's loop answers the scrape between two check events).
//! No IPVS: the kernel's counters are not read (that dump is measured in "ipvs").
//!
//! `cargo test --release -p director --test scrape_bench -- --ignored --nocapture`

use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use director::control::metrics::encode_state;
use director::lb::{Balancer, Input, Output, map};
use director::state::State;
use healthcheck::{Check, CheckFuture, Checker, Outcome, Schedule, Scheduler};

const VIRTUAL_SERVERS: usize = 2_300;
const REAL_SERVERS: usize = 37_000;

fn config() -> String {
    let mut text = String::new();
    let mut left = REAL_SERVERS;
    for v in 0..VIRTUAL_SERVERS {
        let per = left / (VIRTUAL_SERVERS - v);
        left -= per;
        let _ = writeln!(
            text,
            "virtual_server 203.0.{}.{} {} {{\n delay_loop 10\n lvs_sched wrr\n protocol TCP",
            v / 250,
            v % 250 + 1,
            80 + (v % 7)
        );
        for r in 0..per {
            let _ = writeln!(
                text,
                " real_server 198.51.{}.{} 80 {{\n  weight 1\n  TCP_CHECK {{\n   connect_timeout 1\n  }}\n }}",
                r / 250,
                r % 250 + 1
            );
        }
        text.push_str("}\n");
    }
    text
}

/// A check that passes at once: the figure is the scheduler's, not the network's.
#[derive(Debug)]
struct Instant0;

impl Checker for Instant0 {
    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async { Outcome::up("ok") })
    }
    fn timeout(&self) -> Duration {
        Duration::from_secs(1)
    }
}

fn scrape(balancer: &Balancer) -> (usize, usize) {
    let lb = balancer.snapshot(|_| Some(("connected".to_string(), 1.0)));
    let state = State {
        format: director::state::FORMAT,
        pid: 1,
        version: "bench".into(),
        generated_unix_ms: 0,
        uptime_ms: 0.0,
        vrrp: None,
        lb: Some(lb),
    };
    let json = serde_json::to_vec(&state).unwrap();
    let metrics = encode_state(&state);
    (json.len(), metrics.len())
}

fn p(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q) as usize]
}

#[test]
#[ignore = "a benchmark: run with --ignored --nocapture, in release"]
fn scrape_latency_and_check_slip() {
    let text = config();
    let parsed = keepalived_conf::parse_str("keepalived.conf", &text, &Default::default());
    let setup = map(&parsed.config, Some(&parsed.sources)).unwrap();
    let mut balancer = Balancer::new(setup);
    balancer.handle_input(Input::Start {
        now: Instant::now(),
    });
    let mut checks = Vec::new();
    while let Some(output) = balancer.poll_output() {
        if let Output::InsertCheck { id, schedule, .. } = output {
            checks.push((id, schedule));
        }
    }
    assert_eq!(checks.len(), REAL_SERVERS);

    let mut times = Vec::new();
    let mut sizes = (0, 0);
    for _ in 0..20 {
        let started = Instant::now();
        sizes = scrape(&balancer);
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "bench: scrape of {VIRTUAL_SERVERS} VS / {REAL_SERVERS} RS (snapshot + JSON {} kB + metrics {} kB): median {:.1} ms, max {:.1} ms",
        sizes.0 / 1000,
        sizes.1 / 1000,
        p(&times, 0.5).as_secs_f64() * 1000.0,
        p(&times, 1.0).as_secs_f64() * 1000.0
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let balancer = Arc::new(balancer);
    for scraped in [false, true] {
        let checks = checks.clone();
        let balancer = Arc::clone(&balancer);
        let (p99, p50, attempts) = runtime.block_on(async move {
            let (scheduler, mut events) = Scheduler::new();
            tokio::spawn(async move { while events.recv().await.is_some() {} });
            let check = Check::Custom(Arc::new(Instant0));
            for (id, schedule) in checks {
                let schedule = Schedule {
                    warmup: Some(Duration::from_secs(10)),
                    ..schedule
                };
                scheduler.insert(id, check.clone(), schedule);
            }
            let scrapes = tokio::spawn(async move {
                if !scraped {
                    return;
                }
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    scrape(&balancer);
                }
            });
            tokio::time::sleep(Duration::from_secs(30)).await;
            scrapes.abort();
            let stats = scheduler.stats();
            (
                stats.quantile(0.99).unwrap(),
                stats.quantile(0.5).unwrap(),
                stats.attempts(),
            )
        });
        println!(
            "bench: check start slip, {REAL_SERVERS} checks every 10 s, 30 s, {}: p50 {:.2} ms, p99 {:.2} ms ({attempts} attempts)",
            if scraped {
                "scraped once a second"
            } else {
                "not scraped"
            },
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        );
    }
}
