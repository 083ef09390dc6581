//! Replays the committed corpus of the `garp_frame` fuzz target on stable.

use std::path::Path;

#[test]
fn garp_frame_replays_its_corpus() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    testbed::replay_corpus(root, "garp_frame", garp::fuzz::frame, 4);
}
