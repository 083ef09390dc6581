#![no_main]
//! Parses the input as keepalived.conf via `keepalived_conf::fuzz_parse`, with the default
//! limits and includes through an in-memory file system (a NUL byte starts the next file:
//! `/fuzz/1.conf`, `/fuzz/2.conf`, ...), renders the diagnostics and checks that a valid
//! configuration survives print + parse unchanged. `cargo xtask fuzz keepalived_conf` runs it
//! with inputs up to 1 MiB.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keepalived_conf::fuzz_parse(data);
});
