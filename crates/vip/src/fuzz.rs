//! Entry points for the cargo-fuzz targets `vip_watch` and `vip_ext_ack`, public so that the
//! stable test `tests/fuzz_corpus.rs` replays the committed seeds (`fuzz/corpus/vip_*/`) through
//! exactly the code the fuzzer runs. The seeds are messages the route crate serialised (a link,
//! IPv4 and IPv6 addresses added, removed, a link removed with its addresses) and extended ACKs
//! laid out as the kernel sends them (capped and full echo).

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::watch::{Event, read_datagram};

/// Target `vip_watch`: a sequence of datagrams from the event socket, each preceded by its
/// length (2 bytes, little-endian), applied in turn to one watcher model. After each, the model
/// must be consistent (every address filed under its own key) and the events it queued must be
/// bounded by the datagram (a message gives one event at most). Returns whether every message
/// decoded.
pub fn watch(mut data: &[u8]) -> bool {
    let mut links = BTreeMap::new();
    let mut addresses = HashMap::new();
    let mut pending = VecDeque::new();
    let mut clean = true;
    while let Some((len, rest)) = data.split_first_chunk::<2>() {
        let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
        let (datagram, rest) = rest.split_at(len);
        data = rest;
        pending.clear();
        let read = read_datagram(datagram, &mut links, &mut addresses, &mut pending);
        clean &= read.undecodable == 0;
        // A netlink message is 16 bytes at least and yields one event at most.
        assert!(pending.len() <= datagram.len() / 16, "{pending:?}");
        for (key, address) in &addresses {
            assert_eq!(*key, (address.index, address.addr, address.prefix_len));
        }
        for event in &pending {
            if let Event::AddressRemoved(a) = event {
                assert!(
                    !addresses.contains_key(&(a.index, a.addr, a.prefix_len)),
                    "a removed address is still in the model"
                );
            }
        }
    }
    clean
}

/// Target `vip_ext_ack` (the `netlink-ext-ack` reader vip uses): bytes 0–1 are an error message's flags (little-endian), the rest what
/// follows its errno (the echoed request, then the extended-ACK attributes). Returns whether a
/// message text was found; it is never longer than the input.
pub fn ext_ack(data: &[u8]) -> bool {
    let Some((flags, echoed)) = data.split_first_chunk::<2>() else {
        return false;
    };
    match netlink_ext_ack::message(u16::from_le_bytes(*flags), echoed) {
        Some(text) => {
            // Lossy decoding may turn one bad byte into three: bound it accordingly.
            assert!(text.len() <= 3 * echoed.len());
            true
        }
        None => false,
    }
}

/// A fuzz entry point: takes the input, says whether it was accepted.
pub type Entry = fn(&[u8]) -> bool;

/// Every target, by name, for the stable replay.
pub const TARGETS: &[(&str, Entry)] = &[("vip_watch", watch), ("vip_ext_ack", ext_ack)];
