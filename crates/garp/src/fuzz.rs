//! Entry point for the cargo-fuzz target `garp_frame` (`fuzz/fuzz_targets/garp_frame.rs`),
//! public so that the stable test `tests/fuzz_corpus.rs` replays the committed seeds
//! (`fuzz/corpus/garp_frame/`) through exactly the code the fuzzer runs. The seeds are frames
//! `Announcement::emit` wrote (a GARP request and reply, an NA with and without the router
//! flag), and one NA with a damaged checksum.

use crate::Announcement;

/// Target `garp_frame`: the bytes are an Ethernet frame read back as an announcement (what a
/// test or a monitor does with a captured GARP or NA). When it parses, emitting it again gives
/// a frame that parses to the same announcement, and emitting never writes past
/// [`Announcement::buffer_len`]. Returns whether it parsed.
pub fn frame(data: &[u8]) -> bool {
    let Ok(announcement) = Announcement::parse(data) else {
        return false;
    };
    let len = announcement.buffer_len();
    let mut buf = vec![0xa5; len + 8];
    let written = announcement
        .emit(&mut buf[..len])
        .expect("a buffer of buffer_len() bytes is enough");
    assert_eq!(written, len);
    assert!(
        buf[len..].iter().all(|&b| b == 0xa5),
        "emit wrote past its length"
    );
    assert_eq!(
        Announcement::parse(&buf[..len]).as_ref(),
        Ok(&announcement),
        "parse(emit(parse(x))) != parse(x)"
    );
    true
}
