//! Replaying a committed fuzz corpus on stable, so CI runs every fuzz target's code without
//! nightly.

use std::path::Path;

/// Runs `entry` (the function a cargo-fuzz target calls) over every file of
/// `fuzz/corpus/<target>/` under the workspace root `root`: files named `seed-*` must be
/// accepted (`entry` returns true), `broken-*` ones refused, any other (inputs the fuzzer saved)
/// must simply not panic. Every prefix of every file and a byte flip at every position must not
/// panic either. Fails when fewer than `min_seeds` seeds or no broken input are there.
///
/// # Panics
/// On any of the failures above, or when the directory cannot be read.
pub fn replay_corpus(root: &Path, target: &str, entry: fn(&[u8]) -> bool, min_seeds: usize) {
    let dir = root.join("fuzz/corpus").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, data)
        })
        .collect();
    files.sort();
    let (mut seeds, mut broken) = (0, 0);
    for (name, data) in files {
        let accepted = entry(&data);
        if name.starts_with("seed-") {
            assert!(accepted, "{target}/{name} is a seed but was refused");
            seeds += 1;
        } else if name.starts_with("broken-") {
            assert!(!accepted, "{target}/{name} is broken but was accepted");
            broken += 1;
        }
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
    assert!(broken >= 1, "{target}: no broken input");
}
