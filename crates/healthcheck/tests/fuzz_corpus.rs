//! Replays the committed corpus of every `hc_*` fuzz target (`fuzz/corpus/hc_*/`) through the
//! functions the cargo-fuzz targets call (`healthcheck::fuzz::*`), on stable.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_target_replays_its_corpus() {
    for &(target, entry) in healthcheck::fuzz::TARGETS {
        testbed::replay_corpus(root(), target, entry, 2);
    }
}
