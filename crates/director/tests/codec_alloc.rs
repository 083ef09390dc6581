//! The codec seam allocates nothing per packet: a received advert is mapped into a reused
//! scratch, an advert to send is written into the caller's buffer. Measured with a counting
//! global allocator (this file is its own test binary, with one test, so nothing else counts).

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use director::codec::{self, AddressScratch, WireOptions};
use vrrp_fsm::{AdvertToSend, InterfaceId, Version};
use vrrp_packet::ChecksumModes;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn send_and_receive_do_not_allocate() {
    let cases: Vec<(AdvertToSend, IpAddr)> = vec![
        (
            AdvertToSend {
                version: Version::V2,
                vrid: 1,
                priority: 100,
                max_advert_interval_cs: 100,
                addresses: vec!["192.0.2.100".parse().unwrap(); 20].into(),
                src: "192.0.2.1".parse().unwrap(),
                interface: InterfaceId(2),
            },
            "224.0.0.18".parse().unwrap(),
        ),
        (
            AdvertToSend {
                version: Version::V3,
                vrid: 2,
                priority: 200,
                max_advert_interval_cs: 10,
                addresses: vec!["2001:db8::1".parse().unwrap(); 255].into(),
                src: "fe80::1".parse().unwrap(),
                interface: InterfaceId(2),
            },
            "ff02::12".parse().unwrap(),
        ),
    ];
    let wire = WireOptions::default();
    let mut buf = [0u8; codec::MAX_PACKET_LEN];
    let mut scratch = AddressScratch::default();
    for (advert, dst) in &cases {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut count = 0;
        for _ in 0..100 {
            let len = codec::emit(advert, *dst, &wire, &mut buf).unwrap();
            let received = match (advert.src, *dst) {
                (IpAddr::V6(src), IpAddr::V6(dst)) => {
                    vrrp_packet::recv::parse_ipv6(&buf[..len], src, dst, 255).unwrap()
                }
                _ => vrrp_packet::recv::parse_ipv4(&buf[..len], ChecksumModes::ALL).unwrap(),
            };
            let got = codec::to_fsm(&received, InterfaceId(2), &mut scratch);
            count += got.addresses.len();
        }
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(count, 100 * advert.addresses.len());
        assert_eq!(
            after - before,
            0,
            "{:?}: allocations per 100 packets",
            advert.version
        );
    }
}
