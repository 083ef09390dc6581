//! Fuzzes `vip::fuzz::watch`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vip::fuzz::watch(data);
});
