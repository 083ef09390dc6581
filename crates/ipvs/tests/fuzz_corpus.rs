//! Replays the committed corpus of the client's fuzz targets (`ipvs_framing`,
//! `ipvs_fast_decode`) on stable.

use std::path::Path;

#[test]
fn every_target_replays_its_corpus() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    for &(target, entry) in ipvs::fuzz::TARGETS {
        testbed::replay_corpus(root, target, entry, 2);
    }
}
