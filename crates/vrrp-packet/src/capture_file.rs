//! The frames of a pcap or pcapng file, for tools that read captures (feature `pcap`).
//!
//! [`for_each_frame`] tells the two formats apart by their magic number and hands every frame
//! of a link type [`capture::supported`](crate::capture::supported) takes apart to a callback,
//! with its time and `LINKTYPE_*`. The reader keeps one bounded buffer (pcap-file's), whatever
//! the file's length fields claim.

use std::io::Read;
use std::time::Duration;
use std::vec::Vec;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

use crate::capture;

/// The first four bytes of a pcapng file (its section header block type).
pub const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

/// One frame of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// When it was captured (zero for pcapng's simple packets, which carry no time).
    pub time: Duration,
    /// Its `LINKTYPE_*`.
    pub linktype: u32,
    /// The bytes captured.
    pub data: &'a [u8],
}

/// What reading a capture file found besides its frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Frames handed to the callback.
    pub frames: u64,
    /// Link types of pcapng interfaces whose frames were skipped (not supported), each once.
    pub skipped_link_types: Vec<u32>,
}

/// Why a capture file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file is shorter than a magic number.
    #[error("too short for a capture file")]
    TooShort,
    /// pcap-file refused it (or the read failed).
    #[error("{format}: {source}")]
    Format {
        /// `pcap` or `pcapng`.
        format: &'static str,
        /// What pcap-file said.
        source: pcap_file::PcapError,
    },
    /// A pcap file of a link type that cannot be taken apart.
    #[error("pcap: link type {0} is not one that can be taken apart")]
    UnsupportedLinkType(u32),
    /// A pcapng packet on an interface the file never described.
    #[error("pcapng: packet on interface {0}, which the file never described")]
    UnknownInterface(u32),
}

/// Reads a pcap or pcapng file from `reader` and calls `on_frame` with each frame of a
/// supported link type, until the file ends or `on_frame` returns false.
pub fn for_each_frame<R: Read>(
    mut reader: R,
    mut on_frame: impl FnMut(Frame<'_>) -> bool,
) -> Result<Summary, FileError> {
    let mut magic = [0u8; 4];
    reader
        .read_exact(&mut magic)
        .map_err(|_| FileError::TooShort)?;
    let reader = std::io::Cursor::new(magic).chain(reader);
    let mut summary = Summary::default();
    if magic == PCAPNG_MAGIC {
        let format = |source| FileError::Format {
            format: "pcapng",
            source,
        };
        let mut reader = PcapNgReader::new(reader).map_err(format)?;
        while let Some(block) = reader.next_block() {
            let (time, interface, data) = match block.map_err(format)? {
                // Owned: the reader's interface table is looked up while the packet is held.
                Block::EnhancedPacket(packet) => (
                    packet.timestamp,
                    packet.interface_id,
                    packet.data.into_owned(),
                ),
                Block::SimplePacket(packet) => (Duration::ZERO, 0, packet.data.into_owned()),
                _ => continue,
            };
            let Some(linktype) = reader
                .interfaces()
                .get(interface as usize)
                .map(|i| u32::from(i.linktype))
            else {
                return Err(FileError::UnknownInterface(interface));
            };
            if !capture::supported(linktype) {
                if !summary.skipped_link_types.contains(&linktype) {
                    summary.skipped_link_types.push(linktype);
                }
                continue;
            }
            summary.frames += 1;
            if !on_frame(Frame {
                time,
                linktype,
                data: &data,
            }) {
                break;
            }
        }
    } else {
        let format = |source| FileError::Format {
            format: "pcap",
            source,
        };
        let mut reader = PcapReader::new(reader).map_err(format)?;
        let linktype = u32::from(reader.header().datalink);
        if !capture::supported(linktype) {
            return Err(FileError::UnsupportedLinkType(linktype));
        }
        while let Some(packet) = reader.next_packet() {
            let packet = packet.map_err(format)?;
            summary.frames += 1;
            if !on_frame(Frame {
                time: packet.timestamp,
                linktype,
                data: &packet.data,
            }) {
                break;
            }
        }
    }
    Ok(summary)
}
