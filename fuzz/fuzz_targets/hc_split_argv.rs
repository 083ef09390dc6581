//! Fuzzes `healthcheck::fuzz::split_argv`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    healthcheck::fuzz::split_argv(data);
});
