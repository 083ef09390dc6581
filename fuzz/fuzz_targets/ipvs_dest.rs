//! Fuzzes `netlink_packet_ipvs::fuzz::dest_nest`: parse, and when that succeeds, emit and parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netlink_packet_ipvs::fuzz::dest_nest(data);
});
