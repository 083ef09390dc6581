//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the same `pub fn`s the
//! cargo-fuzz targets call, on stable, so CI exercises the targets without nightly. Seeds taken
//! from the keepalived captures (`keepalived-*`) must also still be accepted.

use std::path::PathBuf;

type Target = fn(&[u8]) -> bool;

const TARGETS: [(&str, Target); 3] = [
    ("vrrp_v2", vrrp_packet::fuzz::vrrp_v2),
    ("vrrp_v3", vrrp_packet::fuzz::vrrp_v3),
    ("vrrp_ipv4_recv", vrrp_packet::fuzz::vrrp_ipv4_recv),
];

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus")).join(target)
}

#[test]
fn replay_every_corpus_file() {
    for (target, run) in TARGETS {
        let dir = corpus_dir(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let (mut files, mut seeds) = (0, 0);
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let accepted = run(&data);
            let name = path.file_name().unwrap().to_string_lossy();
            if name.starts_with("keepalived-") {
                assert!(accepted, "{target}: seed {name} from a capture is refused");
                seeds += 1;
            }
            files += 1;
        }
        assert!(
            seeds >= 4,
            "{target}: only {seeds} capture seeds in {}",
            dir.display()
        );
        eprintln!("{target}: {files} corpus files replayed");
    }
}

#[test]
fn targets_refuse_what_is_broken() {
    // A replay whose targets accept everything would prove nothing.
    for (target, run) in TARGETS {
        let seed = corpus_dir(target).join(match target {
            "vrrp_v3" => "keepalived-v3_ipv4-first",
            _ => "keepalived-v2_pass-first",
        });
        let mut data = std::fs::read(seed).unwrap();
        *data.last_mut().unwrap() ^= 1;
        assert!(!run(&data), "{target} accepts a corrupted seed");
        assert!(!run(&[]), "{target} accepts nothing at all");
    }
}

#[test]
fn capture_frame_replays_its_corpus() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    testbed::replay_corpus(root, "capture_frame", vrrp_packet::fuzz::capture_frame, 3);
}

#[test]
fn capture_file_replays_its_corpus() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    testbed::replay_corpus(root, "capture_file", vrrp_packet::fuzz::capture_file, 3);
}
