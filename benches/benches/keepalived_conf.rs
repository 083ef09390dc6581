//! Parse and check a keepalived.conf of 2,300 virtual servers and 37,000 real servers (the size
//! in acassen/keepalived#2318), and report the peak heap that takes.
//!
//! `cargo xtask bench keepalived_conf` (criterion: time per parse + check), and the peak heap
//! and allocation count are printed first, measured with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use criterion::{Criterion, Throughput};
use keepalived_conf::{Options, parse_str};
use lvskit_benches::{REAL_SERVERS, VIRTUAL_SERVERS, big_config};

/// Counts live bytes, the peak of live bytes, and allocations, while `COUNTING` is on (only
/// for the one measured parse, so the criterion timings do not pay for the counting).
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged and only updates counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// CPU time of the calling thread: on a shared machine it says what the parse costs, where wall
/// time also counts the time other processes had the core.
fn thread_cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn main() {
    let text = big_config();
    let options = Options::default();

    // Peak heap of one parse + check. LIVE counts from zero here, so a block freed during the
    // parse that was allocated before it could make LIVE dip below zero: nothing is (the text is
    // only read), and `drop(parsed)` happens after the counting stops.
    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let before = 0;
    let allocs_before = ALLOCS.load(Ordering::Relaxed);
    let start = std::time::Instant::now();
    let cpu_start = thread_cpu_time();
    let parsed = parse_str("big.conf", &text, &options);
    let cpu = thread_cpu_time() - cpu_start;
    let elapsed = start.elapsed();
    COUNTING.store(false, Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let retained = LIVE.load(Ordering::Relaxed) - before;
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs_before;
    assert!(!parsed.has_errors(), "{:?}", parsed.errors().next());
    let rs: usize = parsed
        .config
        .virtual_servers
        .iter()
        .map(|v| v.real_servers.len())
        .sum();
    assert_eq!(
        (parsed.config.virtual_servers.len(), rs),
        (VIRTUAL_SERVERS, REAL_SERVERS)
    );
    println!(
        "keepalived_conf: {} bytes, {} lines, {VIRTUAL_SERVERS} virtual servers, {REAL_SERVERS} real servers",
        text.len(),
        text.lines().count()
    );
    println!(
        "keepalived_conf: one parse+check {:.1} ms wall, {:.1} ms CPU (this thread); peak heap {:.1} MiB, {:.1} MiB retained (model + sources), {allocs} allocations",
        elapsed.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        peak as f64 / (1 << 20) as f64,
        retained as f64 / (1 << 20) as f64
    );
    drop(parsed);

    // Warm runs: wall and thread CPU time of parse + check (the model is dropped outside the
    // timing). On a shared machine the CPU time is the steadier figure.
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..15 {
        let (w0, c0) = (std::time::Instant::now(), thread_cpu_time());
        let parsed = parse_str("big.conf", black_box(&text), &options);
        cpu.push(thread_cpu_time() - c0);
        wall.push(w0.elapsed());
        drop(parsed);
    }
    wall.sort();
    cpu.sort();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "keepalived_conf: 15 warm runs: wall min {:.1} / median {:.1} ms, CPU min {:.1} / median {:.1} ms",
        ms(wall[0]),
        ms(wall[7]),
        ms(cpu[0]),
        ms(cpu[7])
    );

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("keepalived_conf");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse_check_2300vs_37000rs", |b| {
        b.iter_with_large_drop(|| parse_str("big.conf", black_box(&text), &options));
    });
    group.finish();
    c.final_summary();
}
