//! Replays the committed corpus of the `vip_*` fuzz targets on stable.

use std::path::Path;

#[test]
fn every_target_replays_its_corpus() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    for &(target, entry) in vip::fuzz::TARGETS {
        testbed::replay_corpus(root, target, entry, 2);
    }
}
