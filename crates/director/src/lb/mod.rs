//! The load-balancer half of the director: what `keepalived --check` does, as a library.
//!
//! - [`desired`]: the `virtual_server` part of the keepalived.conf model mapped onto IPVS
//!   services and destinations (`ipvs` types), health checks (`healthcheck` types) with their
//!   keepalived timing, and the quorum, sorry-server and notify settings ([`map`]).
//! - [`Balancer`]: the sans-IO core. It takes check events, VRRP instance states, reloads and
//!   the kernel's table ([`Input`], each with `now`) and hands out actions ([`Output`]): checks
//!   to start and stop, the minimal IPVS operations, scripts to run. It never touches a socket,
//!   clock or process.
//! - [`driver`]: the tokio driver: `ipvs::AsyncIpvs` with the reconciler's cache (start-up
//!   adopts what the kernel has), `healthcheck::Scheduler`, scripts; SIGHUP reloads.
//!
//! ```
//! use std::time::Instant;
//! use director::lb::{Balancer, Input, Output, map};
//!
//! let text = "virtual_server 192.0.2.1 80 {\n protocol TCP\n lvs_sched rr\n \
//!             real_server 198.51.100.10 80 {\n  weight 3\n }\n}\n";
//! let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
//! let setup = map(&parsed.config, Some(&parsed.sources)).expect("runs here");
//! let mut balancer = Balancer::new(setup);
//! balancer.handle_input(Input::Start { now: Instant::now() });
//! while let Some(output) = balancer.poll_output() {
//!     if let Output::Ipvs(ops) = output {
//!         assert_eq!(ops.len(), 2); // the service, then its destination
//!     }
//! }
//! ```

mod core;
pub mod desired;
pub mod driver;

pub use self::core::{Balancer, Input, Output};
pub use desired::{
    CheckSetup, LbSetup, RealServerSetup, SorryServerSetup, SyncDaemonSetup, VirtualServerSetup,
    map,
};
pub use driver::{Control, LbDriver, LbError, LbOptions};
