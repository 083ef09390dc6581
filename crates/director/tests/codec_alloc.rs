//! The receive path allocates nothing per packet: the codec seam maps a received advert into a
//! reused scratch and writes an advert to send into the caller's buffer, and the core follows a
//! master's adverts without allocating. Measured with a global allocator that counts per thread
//! (the test harness allocates on other threads meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;

use director::codec::{self, AddressScratch, WireOptions};
use vrrp_fsm::{AdvertToSend, InterfaceId, Version};
use vrrp_packet::ChecksumModes;

struct Counting;

thread_local! {
    /// Allocations made by this thread (const-initialised: reading it never allocates).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
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
        let before = allocations();
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
        let after = allocations();
        assert_eq!(count, 100 * advert.addresses.len());
        assert_eq!(
            after - before,
            0,
            "{:?}: allocations per 100 packets",
            advert.version
        );
    }
}

#[test]
fn the_core_follows_a_master_without_allocating() {
    use director::setup::{HostInterface, map};
    use director::{Director, Input, Output};
    use std::time::{Duration, Instant};

    let conf = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n \
                virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n";
    let parsed = keepalived_conf::parse_str("keepalived.conf", conf, &Default::default());
    let host = [HostInterface {
        index: 2,
        name: "eth0".into(),
        up: true,
        ipv4: Some("192.0.2.1".parse().unwrap()),
        ipv6_link_local: None,
        macvlan: None,
    }];
    let mut director = Director::new(map(&parsed.config, &host).unwrap()).unwrap();
    let t0 = Instant::now();
    director.handle_input(Input::Link {
        now: t0,
        ifindex: 2,
        up: true,
    });
    director.handle_input(Input::Start { now: t0 });
    while !matches!(director.poll_output(), Output::Timeout(_)) {}
    let master = AdvertToSend {
        version: Version::V2,
        vrid: 51,
        priority: 200,
        max_advert_interval_cs: 100,
        addresses: vec!["192.0.2.100".parse().unwrap()].into(),
        src: "192.0.2.2".parse().unwrap(),
        interface: InterfaceId(2),
    };
    let mut buf = [0u8; codec::MAX_PACKET_LEN];
    let len = codec::emit(
        &master,
        "224.0.0.18".parse().unwrap(),
        &WireOptions::default(),
        &mut buf,
    )
    .unwrap();
    // One round to warm up (queues reach their size), then count.
    let mut now = t0;
    let feed = |director: &mut Director, now: Instant| {
        director.handle_input(Input::Ipv4 {
            now,
            ifindex: 2,
            datagram: &buf[..len],
        });
        while !matches!(director.poll_output(), Output::Timeout(_)) {}
    };
    feed(&mut director, now);
    let before = allocations();
    for _ in 0..1000 {
        now += Duration::from_secs(1);
        feed(&mut director, now);
    }
    let after = allocations();
    assert_eq!(director.counters().accepted, 1001);
    assert_eq!(
        after - before,
        0,
        "allocations while following 1000 adverts"
    );
}
