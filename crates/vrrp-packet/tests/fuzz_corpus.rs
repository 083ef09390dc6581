//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same `pub fn`s the
//! cargo-fuzz targets call, on stable, so CI exercises the targets without nightly: the
//! workspace's one replay, `testbed::replay_corpus`. Seeds taken from the keepalived captures
//! (`seed-keepalived-*`) must still be accepted, and a seed with its last byte flipped
//! (`broken-*`) refused, so a target that accepts everything fails here.

use std::path::Path;

type Target = fn(&[u8]) -> bool;

const TARGETS: [(&str, Target, usize); 5] = [
    ("vrrp_v2", vrrp_packet::fuzz::vrrp_v2, 4),
    ("vrrp_v3", vrrp_packet::fuzz::vrrp_v3, 4),
    ("vrrp_ipv4_recv", vrrp_packet::fuzz::vrrp_ipv4_recv, 4),
    ("capture_frame", vrrp_packet::fuzz::capture_frame, 3),
    ("capture_file", vrrp_packet::fuzz::capture_file, 3),
];

#[test]
fn every_target_replays_its_corpus() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    for (target, entry, min_seeds) in TARGETS {
        testbed::replay_corpus(root, target, entry, min_seeds);
    }
}

#[test]
fn the_codec_targets_refuse_nothing_at_all() {
    for (target, entry, _) in &TARGETS[..3] {
        assert!(!entry(&[]), "{target} accepts nothing at all");
    }
}
