//! Replays the committed fuzz corpus (`fuzz/corpus/ipvs_*/`) through the functions the
//! cargo-fuzz targets call (`netlink_packet_ipvs::fuzz::*`), on stable. `seed-*` files are
//! replies captured from a real kernel and must parse; `broken-*` files must not; anything else
//! (inputs the fuzzer saved) must simply not panic.

use std::path::PathBuf;

use netlink_packet_ipvs::fuzz;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus")).join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn replay(target: &str, entry: fn(&[u8]) -> bool, min_seeds: usize) {
    let (mut seeds, mut broken) = (0, 0);
    for (name, data) in corpus(target) {
        let parsed = entry(&data);
        if name.starts_with("seed-") {
            assert!(
                parsed,
                "{target}/{name} is a kernel capture but did not parse"
            );
            seeds += 1;
        } else if name.starts_with("broken-") {
            assert!(!parsed, "{target}/{name} is malformed but parsed");
            broken += 1;
        }
        // Every prefix and some byte flips must not panic either.
        for cut in 0..data.len() {
            entry(&data[..cut]);
        }
        for i in 0..data.len() {
            let mut flipped = data.clone();
            flipped[i] ^= 0x5a;
            entry(&flipped);
        }
    }
    assert!(seeds >= min_seeds, "{target}: only {seeds} seeds");
    assert!(broken >= 1, "{target}: no broken seed");
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
