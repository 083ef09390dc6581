#![no_main]
//! Parses the input as keepalived.conf via `keepalived_conf::fuzz_parse` (includes off), renders
//! the diagnostics and checks that a valid configuration survives print + parse unchanged.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keepalived_conf::fuzz_parse(data);
});
