//! Fuzzes `ipvs::fuzz::fast_decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ipvs::fuzz::fast_decode(data);
});
