//! Fuzzes `vip::fuzz::ext_ack`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vip::fuzz::ext_ack(data);
});
