//! Parsing and emitting allocate nothing: a counting global allocator watches this thread while
//! every captured advertisement is received, validated and re-emitted.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::{Datagram, all_datagrams};
use vrrp_packet::recv::{emit_ipv4, parse_ipv4, parse_ipv6};
use vrrp_packet::{ChecksumModes, Packet};

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
