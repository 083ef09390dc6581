//! Memory per instance: `size_of` plus the heap it owns, printed and held to the 512-byte budget
//! for a typical instance (one virtual address, one tracker) after it has run.
//!
//! The heap is measured by a counting global allocator (bytes live, as the allocator was asked
//! for them), not taken from `Instance::heap_bytes`, which is checked against it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::IpAddr;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use vrrp_fsm::{Config, Input, Instance, InterfaceId, Output, Tracker, TrackerId, Version};

/// Bytes currently allocated by this test binary.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to `System` with the same arguments; the counter is a side note.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: `ptr` was allocated by `System` with `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A typical instance, started and run to MASTER, its outputs drained. Built and run in one
/// function so nothing else in the test allocates meanwhile.
fn typical_instance() -> Instance {
    let mut config = Config::new(
        7,
        Version::V3,
        InterfaceId(2),
        "192.0.2.1".parse().unwrap(),
        vec!["192.0.2.100".parse::<IpAddr>().unwrap()],
    );
    config.trackers = vec![Tracker {
        id: TrackerId(1),
        weight: -20,
    }];
    let mut vr = Instance::new(config).unwrap();
    let t0 = Instant::now();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    vr.handle_input(Input::Timeout(t0 + Duration::from_secs(4)))
        .unwrap();
    assert_eq!(vr.state(), vrrp_fsm::State::Master);
    // Drained outputs leave the queue's allocation behind: it counts.
    while !matches!(vr.poll_output(), Output::Timeout(_)) {}
    vr
}

#[test]
fn an_instance_fits_in_512_bytes() {
    let before = LIVE.load(Ordering::SeqCst);
    let vr = typical_instance();
    let measured = LIVE.load(Ordering::SeqCst) - before;
    let inline = size_of::<Instance>();
    let reported = vr.heap_bytes();
    println!(
        "vrrp-fsm Instance: size_of = {inline} bytes, heap = {measured} bytes measured \
         ({reported} reported by heap_bytes), total = {}",
        inline as isize + measured
    );
    assert!(
        measured > 0,
        "the addresses and the tracker live on the heap"
    );
    assert_eq!(
        reported as isize, measured,
        "heap_bytes disagrees with the allocator"
    );
    assert!(
        inline as isize + measured <= 512,
        "{inline} + {measured} bytes is over the 512-byte budget"
    );
    drop(vr);
}
