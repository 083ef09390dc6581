//! Fuzzes `healthcheck::fuzz::ping_answer`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    healthcheck::fuzz::ping_answer(data);
});
