//! Replays the committed fuzz corpus (`fuzz/corpus/keepalived_conf/`) through
//! `keepalived_conf::fuzz_parse`, the function the cargo-fuzz target calls, on stable. The seeds
//! copied from the shared configurations (`seed-*`, `vector-*`) and the `grammar-*` ones must be
//! valid; `broken-*` must not. `hostile-*` are the findings of issue 19 in small (each must end in
//! its error); `regress-*` are inputs the fuzzer found slow. A NUL byte separates the files of
//! one input (see `keepalived_conf::fuzz_parse`).

use std::path::PathBuf;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/keepalived_conf"
    ));
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

#[test]
fn replay_every_corpus_file() {
    let (mut seeds, mut broken, mut hostile) = (0, 0, 0);
    for (name, data) in corpus() {
        let valid = keepalived_conf::fuzz_parse(&data);
        if name.starts_with("seed-") || name.starts_with("vector-") || name.starts_with("grammar-")
        {
            assert!(valid, "{name} is a valid configuration but was refused");
            seeds += 1;
        } else if name.starts_with("broken-") {
            assert!(!valid, "{name} is broken but was accepted");
            broken += 1;
        } else if name.starts_with("hostile-") {
            hostile += 1;
        }
    }
    assert!(seeds >= 10, "only {seeds} valid seeds");
    assert!(broken >= 2, "only {broken} broken seeds");
    assert!(hostile >= 9, "only {hostile} hostile seeds");
}

#[test]
fn truncations_and_byte_flips_of_the_seeds_never_panic() {
    // The `regress-*` and `hostile-*` files are slow on purpose; replayed whole above, not cut
    // up.
    for (_, data) in corpus()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("regress-") && !name.starts_with("hostile-"))
    {
        for cut in (0..data.len()).step_by(7) {
            keepalived_conf::fuzz_parse(&data[..cut]);
        }
        let mut flipped = data.clone();
        for i in (0..flipped.len()).step_by(11) {
            flipped[i] = match flipped[i] {
                b'{' => b'}',
                b'}' => b'{',
                b'"' => b'$',
                b' ' => b'"',
                other => other ^ 0x20,
            };
        }
        keepalived_conf::fuzz_parse(&flipped);
    }
}

#[test]
fn nesting_and_recursion_bombs_are_refused_without_overflowing() {
    let deep = "a {".repeat(100_000);
    assert!(!keepalived_conf::fuzz_parse(deep.as_bytes()));
    let defs = "$A=${B}\n$B=${A}\nglobal_defs { router_id ${A} }\n";
    assert!(!keepalived_conf::fuzz_parse(defs.as_bytes()));
    let seq = "~SEQ(I, 0, 1, 99999999999) x\n";
    assert!(!keepalived_conf::fuzz_parse(seq.as_bytes()));
}
