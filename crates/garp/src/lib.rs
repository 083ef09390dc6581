//! Gratuitous ARP and unsolicited IPv6 neighbour advertisements on raw packet sockets.
//!
//! When a VRRP router becomes master it must tell the segment that its virtual addresses now
//! live at its MAC (or at the VRRP virtual MAC), or neighbours keep sending to the old master
//! until their caches time out. This crate has the three pieces of that:
//!
//! - [`frame`]: the frames, [`Announcement::emit`] and [`Announcement::parse`], byte-for-byte
//!   what keepalived 2.2.7 sends (gratuitous ARP request, or reply form; unsolicited NA to
//!   ff02::1 with hop limit 255, override flag, optional router flag, target link-layer
//!   address option).
//! - [`Sender`]: an `AF_PACKET` socket on one interface that sends them from the interface MAC,
//!   a VRRP virtual MAC ([`VirtualMac`]) or any MAC, with typed errors for the usual mistakes.
//! - [`schedule`]: carries out the schedules the VRRP state machine decides on (repeat now,
//!   second set after a delay, periodic refresh: a [`schedule::Plan`]), with keepalived's
//!   per-interface pacing, as a sans-IO [`Announcer`] that the director drives with its own
//!   clock.
//!
//! ```no_run
//! use std::net::IpAddr;
//! use std::time::{Duration, Instant};
//! use garp::{schedule::{Announcer, Config, Input, Output, Plan, Target}, Sender, SourceMac, VirtualMac};
//!
//! # fn main() -> Result<(), garp::Error> {
//! let sender = Sender::open("eth0", SourceMac::Vrrp(VirtualMac::V4(51)))?;
//! let vip: IpAddr = "192.0.2.100".parse().unwrap();
//! sender.announce(vip)?; // one gratuitous ARP, from 00:00:5e:00:01:33
//!
//! // Or follow keepalived's schedule:
//! let mut announcer = Announcer::new(Config::default());
//! announcer.handle_input(Input::Start {
//!     now: Instant::now(),
//!     owner: 51,
//!     vips: vec![Target { ifindex: sender.ifindex(), addr: vip }],
//!     plan: Plan::KEEPALIVED_MASTER,
//! });
//! loop {
//!     match announcer.poll_output() {
//!         Output::Announce(vip) => sender.announce(vip.addr)?,
//!         Output::Timeout(at) => {
//!             std::thread::sleep(at.saturating_duration_since(Instant::now()));
//!             announcer.handle_input(Input::Timeout(Instant::now()));
//!         }
//!         Output::Idle => break,
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod frame;
pub mod fuzz;
pub mod packet_socket;
pub mod schedule;
mod sender;

pub use frame::{Announcement, ArpForm, FrameError};
pub use pnet_base::MacAddr;
pub use schedule::Announcer;
/// The old name of [`Announcer`].
#[deprecated(note = "renamed `Announcer` (`healthcheck::Scheduler` runs checks)")]
pub type Scheduler = Announcer;
pub use sender::{Burst, BurstStep, Error, Sender, SourceMac, VirtualMac};
