//! Fuzzes `healthcheck::fuzz::udp_reply`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    healthcheck::fuzz::udp_reply(data);
});
