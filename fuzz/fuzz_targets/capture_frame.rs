//! Fuzzes `vrrp_packet::fuzz::capture_frame` (vrrp-dump's link-layer and capture-file decoding).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vrrp_packet::fuzz::capture_frame(data);
});
