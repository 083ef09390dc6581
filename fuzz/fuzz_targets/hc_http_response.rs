//! Fuzzes `healthcheck::fuzz::http_response`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    healthcheck::fuzz::http_response(data);
});
