//! Operating the director: its state asked of the running halves, served as JSON on a unix
//! socket ([`unix`]), printed as tables ([`table`]), as Prometheus metrics ([`metrics`]) and a
//! status page on an HTTP listener ([`http`]).
//!
//! Each driver loop owns its core, so the state is asked for, not shared: an [`Asker`] sends a
//! request that the loop answers between two events (the drivers' `run_observed`). Nothing is
//! copied or locked while nobody asks.
//!
//! ```no_run
//! # async fn example(setup: director::setup::Setup) {
//! use director::control::{self, StateSource};
//!
//! let (asker, requests) = control::requests();
//! let source = StateSource::new(Some(asker), None);
//! tokio::spawn(director::driver::run_observed(setup, Default::default(), requests, || {}));
//! let state = source.state().await; // the VRRP half's snapshot
//! # }
//! ```

pub mod dump;
pub mod http;
pub mod metrics;
pub mod privilege;
pub mod table;
pub mod unix;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::state::{FORMAT, LbState, State, VrrpState};

/// The side that asks for a `T` (a snapshot); cheap to clone.
#[derive(Debug)]
pub struct Asker<T>(mpsc::Sender<oneshot::Sender<T>>);

impl<T> Clone for Asker<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Asker<T> {
    /// Asks the loop and waits for its answer; `None` when the loop is gone (that half stopped
    /// or never ran).
    pub async fn ask(&self) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.0.send(reply).await.ok()?;
        answer.await.ok()
    }
}

/// The side a driver loop answers from.
#[derive(Debug)]
pub struct Requests<T>(Option<mpsc::Receiver<oneshot::Sender<T>>>);

impl<T> Requests<T> {
    /// Requests that never come: for a loop nobody observes.
    pub fn none() -> Self {
        Self(None)
    }

    /// The next request; never resolves once every [`Asker`] is gone (so a `select!` branch on
    /// it goes quiet instead of spinning).
    pub async fn next(&mut self) -> oneshot::Sender<T> {
        if let Some(rx) = &mut self.0
            && let Some(reply) = rx.recv().await
        {
            return reply;
        }
        self.0 = None;
        std::future::pending().await
    }
}

/// A connected pair: the loop answers on [`Requests`], anyone asks with the [`Asker`]. A few
/// requests can wait at once; more wait for room.
pub fn requests<T>() -> (Asker<T>, Requests<T>) {
    let (tx, rx) = mpsc::channel(16);
    (Asker(tx), Requests(Some(rx)))
}

/// Where the whole [`State`] document comes from: the halves that run, and the process.
#[derive(Debug, Clone)]
pub struct StateSource {
    vrrp: Option<Asker<VrrpState>>,
    lb: Option<Asker<LbState>>,
    started: Instant,
}

impl StateSource {
    /// A source asking the VRRP half and the load balancer, where they run; the daemon's
    /// uptime counts from now.
    pub fn new(vrrp: Option<Asker<VrrpState>>, lb: Option<Asker<LbState>>) -> Self {
        Self {
            vrrp,
            lb,
            started: Instant::now(),
        }
    }

    /// The document now: each half answers between two of its events.
    pub async fn state(&self) -> State {
        let vrrp = async {
            match &self.vrrp {
                Some(asker) => asker.ask().await,
                None => None,
            }
        };
        let lb = async {
            match &self.lb {
                Some(asker) => asker.ask().await,
                None => None,
            }
        };
        let (vrrp, lb) = tokio::join!(vrrp, lb);
        State {
            format: FORMAT,
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            generated_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            uptime_ms: crate::state::ms(self.started.elapsed()),
            vrrp,
            lb,
        }
    }
}
