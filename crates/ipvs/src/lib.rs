//! A client for the kernel's IPVS table over generic netlink, with batches and a reconciler.
//!
//! - [`Ipvs`]: a blocking client (netlink-sys socket); `AsyncIpvs` is the same on tokio
//!   (feature `tokio`). Both resolve the "IPVS" family once when opened, and can load the
//!   module first ([`Options::load_module`]).
//! - Typed [`Service`], [`Destination`], [`Stats`], [`Daemon`], [`Timeouts`], [`Info`] with
//!   builder methods and ipvsadm's defaults.
//! - [`Ipvs::batch`]: many requests per `sendmsg`, each acknowledged and matched by sequence
//!   number, with a status per operation and [`OnError::Stop`] or [`OnError::Continue`].
//! - [`Reconciler`]: desired vs current [`Table`] → the minimal ordered [`Op`]s, one batch, a
//!   [`Summary`]; with its cache, a one-destination change is one netlink request
//!   ([`Ipvs::counters`] proves it).
//! - [`Error`] sorts kernel refusals into kinds and keeps the errno and extended-ACK text.
//!
//! ```no_run
//! use ipvs::{Destination, Ipvs, Service};
//!
//! let mut ipvs = Ipvs::new()?;
//! let web = Service::tcp("192.0.2.1:80".parse().unwrap()).scheduler("rr");
//! ipvs.new_service(&web)?;
//! ipvs.new_destination(&web.key, &Destination::new("198.51.100.10:80".parse().unwrap()).weight(3))?;
//! for service in ipvs.services()? {
//!     println!("{} {} conns={}", service.key, service.scheduler, service.stats.conns);
//! }
//! # Ok::<(), ipvs::Error>(())
//! ```

mod batch;
mod client;
mod conn;
mod ctrl;
mod error;
pub mod fuzz;
mod mrecv;
mod proto;
mod reconcile;
mod reply;
#[cfg(feature = "tokio")]
mod tokio_client;
mod types;

pub use batch::{BatchReport, OnError, Op, OpStatus};
pub use client::{Counters, Ipvs, Options};
pub use conn::{Connection, PROC_IP_VS_CONN, connections, read_connection_table};
pub use error::{Error, KernelError, Result};
pub use reconcile::{Reconciler, ServiceEntry, Summary, Table, VirtualService, plan};
#[cfg(feature = "tokio")]
pub use tokio_client::AsyncIpvs;
pub use types::{
    Daemon, DaemonState, Destination, Family, ForwardMethod, Info, Netmask, Protocol, Service,
    ServiceKey, Stats, Timeouts, TunnelType,
};

/// The message crate, re-exported for flag constants and raw messages.
pub use netlink_packet_ipvs as packet;

/// Runs `modprobe ip_vs`; on failure says what was missing and why loading failed.
pub(crate) fn load_module(missing: &str) -> Result<()> {
    tracing::info!("IPVS family missing; running modprobe ip_vs");
    match std::process::Command::new("modprobe").arg("ip_vs").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(Error::ModuleNotLoaded {
            detail: format!(
                "{missing}; `modprobe ip_vs` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }),
        Err(e) => Err(Error::ModuleNotLoaded {
            detail: format!("{missing}; could not run `modprobe ip_vs`: {e}"),
        }),
    }
}
