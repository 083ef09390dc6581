#![no_main]
//! Parses the input as `vrrp_packet::fuzz::vrrp_ipv4_recv` documents and re-emits what parses.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vrrp_packet::fuzz::vrrp_ipv4_recv(data);
});
