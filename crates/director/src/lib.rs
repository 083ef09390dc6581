//! A VRRP director from keepalived.conf: what `keepalived --vrrp` does, as a library.
//!
//! - [`setup`]: the keepalived.conf model ([`keepalived_conf::Config`]) mapped onto this host:
//!   `vrrp-fsm` configurations, GARP timings, `vip` addresses, routes and rules, trackers and
//!   notify commands. [`setup::map`] succeeds exactly when the director can run the file, so
//!   a configuration test and the daemon agree.
//! - [`Director`]: the sans-IO core. It owns the instances, their sync groups, trackers
//!   (`vrrp_script` with rise/fall, `track_interface`, `track_file`), notify commands with
//!   keepalived's arguments, the receive checks with drop counters by reason, and the GARP
//!   schedule; it takes events with `now` ([`Input`]) and hands out actions ([`Output`]). It
//!   never touches a socket, clock or process.
//! - [`codec`]: the one seam between `vrrp-packet` and `vrrp-fsm`, without an allocation per
//!   packet.
//! - [`lb`]: the load-balancer half (keepalived's checker process): IPVS from `virtual_server`
//!   blocks, health checks, quorum and sorry servers, reload, as a sans-IO core and a driver.
//! - [`manual`]: `lvskitd standby` / `takeover` (heartbeat's `hb_standby` / `hb_takeover`): a
//!   standby file every instance tracks.
//! - [`driver`]: tokio drivers that carry the actions out: raw VRRP sockets, `vip`, `garp`,
//!   the link watcher, scripts run without a shell.
//! - [`state`] and [`control`]: a snapshot of everything ([`Director::snapshot`],
//!   [`lb::LbDriver::snapshot`]) as serde data, asked of the running drivers and served as JSON
//!   on a unix socket, as tables, as Prometheus metrics and as a status page.
//!
//! ```
//! use std::time::Instant;
//! use director::{Director, Input, Output};
//! use director::setup::{HostInterface, map};
//!
//! let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n \
//!             virtual_ipaddress {\n  192.0.2.100/24\n }\n}\n";
//! let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
//! let host = [HostInterface {
//!     index: 2,
//!     name: "eth0".into(),
//!     up: true,
//!     ipv4: Some("192.0.2.1".parse().unwrap()),
//!     ipv6_link_local: None,
//!     macvlan: None,
//! }];
//! let setup = map(&parsed.config, &host).expect("runs here");
//! let mut director = Director::new(setup).unwrap();
//! let now = Instant::now();
//! director.handle_input(Input::Link { now, ifindex: 2, up: true });
//! director.handle_input(Input::Start { now });
//! loop {
//!     match director.poll_output() {
//!         Output::Timeout(deadline) => break, // wait for a packet or the deadline
//!         other => println!("{other:?}"),    // a driver acts on it
//!     }
//! }
//! ```

pub mod codec;
mod codec_seam;
pub mod control;
mod core;
pub mod driver;
pub mod lb;
pub mod manual;
pub mod setup;
pub mod state;

pub use crate::core::{
    BuildError, Counters, Director, DropReason, HostChange, Input, Output, ReloadSummary,
    Transition, Transmit, state_name,
};
pub use codec_seam::garp_plan;

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
