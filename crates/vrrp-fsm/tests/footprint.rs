//! Memory per instance: `size_of` plus the heap it owns, printed and held to the 512-byte budget
//! for a typical instance (one virtual address, one tracker) after it has run.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_fsm::{Config, Input, Instance, InterfaceId, Output, Tracker, TrackerId, Version};

#[test]
fn an_instance_fits_in_512_bytes() {
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
    // Drained outputs leave the queue's allocation behind: count it.
    while !matches!(vr.poll_output(), Output::Timeout(_)) {}
    let inline = size_of::<Instance>();
    let heap = vr.heap_bytes();
    println!(
        "vrrp-fsm Instance: size_of = {inline} bytes, heap = {heap} bytes, total = {}",
        inline + heap
    );
    assert!(heap > 0, "the addresses and the tracker live on the heap");
    assert!(
        inline + heap <= 512,
        "{inline} + {heap} bytes is over the 512-byte budget"
    );
}
