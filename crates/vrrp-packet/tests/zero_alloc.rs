//! Parsing and emitting allocate nothing: a counting global allocator watches this thread while
//! every captured advertisement is received, validated and re-emitted, and while the three shapes
//! of BENCHMARKS.md are emitted from the caller's address lists and parsed back.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, Ipv6Addr};

use common::{Datagram, all_datagrams};
use vrrp_packet::recv::{emit_ipv4, parse_ipv4, parse_ipv6};
use vrrp_packet::{
    AddressList, AuthType, ChecksumMode, ChecksumModes, MULTICAST_V4, MULTICAST_V6, Packet,
    PseudoHeader, Repr, VersionFields,
};

struct Counting;

thread_local! {
    static WATCHING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator may run while thread-locals are torn down.
    let _ = WATCHING.try_with(|watching| {
        if watching.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded to `System` unchanged; counting touches only const-initialised
// thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts the allocations `f` makes on this thread.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    WATCHING.with(|w| w.set(true));
    f();
    WATCHING.with(|w| w.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_an_allocation() {
    // Without this, a counter that never counts would make the next test pass.
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 16])));
    assert_eq!(n, 1);
}

#[test]
fn parse_and_emit_allocate_nothing() {
    let captures = all_datagrams();
    let mut out = [0u8; 1024];
    let mut handled = 0usize;
    let n = allocations_in(|| {
        for (_, datagrams) in &captures {
            for datagram in datagrams {
                match datagram {
                    Datagram::V4(bytes) => {
                        let received = parse_ipv4(bytes, ChecksumModes::ALL).expect("parses");
                        let ip = received.ipv4.expect("IPv4 header");
                        let len = emit_ipv4(&mut out, &ip, &received.vrrp, received.checksum_mode)
                            .expect("emits");
                        assert!(out[..len] == bytes[..]);
                    }
                    Datagram::V6 {
                        src,
                        dst,
                        hop_limit,
                        payload,
                    } => {
                        let received = parse_ipv6(payload, *src, *dst, *hop_limit).expect("parses");
                        let len = received.vrrp.buffer_len();
                        received.vrrp.emit(
                            &mut Packet::new_unchecked(&mut out[..len]),
                            &received.pseudo_header(),
                            received.checksum_mode,
                        );
                        let addresses = received.vrrp.addresses.iter().count();
                        assert!(addresses == 2 && out[..len] == payload[..]);
                    }
                }
                handled += 1;
            }
        }
    });
    assert!(handled >= 15, "{handled}");
    assert_eq!(
        n, 0,
        "allocations while parsing and emitting {handled} advertisements"
    );
}

#[test]
fn benchmarked_shapes_built_from_address_lists_allocate_nothing() {
    // `emit` from the caller's `Ipv4Addr`/`Ipv6Addr` slices takes another path than re-emitting
    // a parsed list: v2 PASS 1 VIP, v3 IPv4 2 VIPs, v3 IPv6 8 VIPs, as in the benches.
    let v4 = [Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(192, 0, 2, 101)];
    let v6: [Ipv6Addr; 8] =
        std::array::from_fn(|i| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100 + i as u16));
    let src_v4 = Ipv4Addr::new(192, 0, 2, 1);
    let pseudo_v4 = PseudoHeader::V4 {
        src: src_v4,
        dst: MULTICAST_V4,
    };
    let pseudo_v6 = PseudoHeader::V6 {
        src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0xcc95, 0x8eff, 0xfe97, 0x4ae5),
        dst: MULTICAST_V6,
    };
    let v3 = VersionFields::V3 {
        max_advert_interval_cs: 100,
    };
    let shapes = [
        (
            VersionFields::V2 {
                advert_interval_s: 1,
                auth_type: AuthType::SimpleText,
                auth_data: *b"1111\0\0\0\0",
            },
            AddressList::ipv4(&v4[..1]),
            pseudo_v4,
        ),
        (v3, AddressList::ipv4(&v4), pseudo_v4),
        (v3, AddressList::ipv6(&v6), pseudo_v6),
    ];
    let mut out = [0xa5u8; 256];
    let mut checked = 0;
    let n = allocations_in(|| {
        for (version, addresses, pseudo) in shapes {
            let repr = Repr {
                vrid: 9,
                priority: 254,
                version,
                addresses,
            };
            let len = repr
                .emit_into(&mut out, &pseudo, ChecksumMode::PseudoHeader)
                .expect("emits");
            let packet = Packet::new_checked(&out[..len]).expect("header");
            let (parsed, _) = Repr::parse(&packet, &pseudo, ChecksumModes::RFC).expect("parses");
            assert!(parsed == repr);
            checked += 1;
        }
    });
    assert_eq!(checked, 3);
    assert_eq!(
        n, 0,
        "allocations while emitting and parsing the benchmarked shapes"
    );
}
