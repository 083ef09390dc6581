//! Replays the committed fuzz corpus (`fuzz/corpus/ipvs_*/`) through the functions the
//! cargo-fuzz targets call (`netlink_packet_ipvs::fuzz::*`), on stable. `seed-*` files are
//! replies captured from a real kernel and must parse; `broken-*` files must not; anything else
//! (inputs the fuzzer saved) must simply not panic.

use std::path::Path;

use netlink_packet_ipvs::fuzz;

/// The workspace's one corpus replay (`testbed::replay_corpus`) over `fuzz/corpus/<target>/`.
fn replay(target: &str, entry: fn(&[u8]) -> bool, min_seeds: usize) {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    testbed::replay_corpus(root, target, entry, min_seeds);
}

#[test]
fn ipvs_message() {
    replay("ipvs_message", fuzz::message, 6);
}

#[test]
fn ipvs_service() {
    replay("ipvs_service", fuzz::service_nest, 2);
}

#[test]
fn ipvs_dest() {
    replay("ipvs_dest", fuzz::dest_nest, 1);
}

#[test]
fn ipvs_daemon() {
    replay("ipvs_daemon", fuzz::daemon_nest, 1);
}

#[test]
fn ipvs_stats() {
    replay("ipvs_stats", fuzz::stats_nest, 4);
}
