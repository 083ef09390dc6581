#![no_main]
//! Parses the input as `vrrp_packet::fuzz::vrrp_v3` documents and re-emits what parses.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vrrp_packet::fuzz::vrrp_v3(data);
});
