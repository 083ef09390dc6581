//! Operations that change the table, and what became of each in a batch.

use std::net::SocketAddr;

use netlink_packet_ipvs::{DaemonAttr, IpvsAttr, IpvsCmd, IpvsMessage};

use crate::error::Error;
use crate::types::{Daemon, DaemonState, Destination, Service, ServiceKey, Timeouts};

/// One change to the IPVS table: a request answered by an ACK.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Add a service.
    NewService(Service),
    /// Edit a service in place (scheduler, flags, timeout, netmask, persistence engine).
    SetService(Service),
    /// Delete a service and its destinations.
    DelService(ServiceKey),
    /// Add a destination to a service.
    NewDest(ServiceKey, Destination),
    /// Edit a destination in place (forwarding method, weight, thresholds, tunnel).
    SetDest(ServiceKey, Destination),
    /// Delete a destination.
    DelDest(ServiceKey, SocketAddr),
    /// Delete every service.
    Flush,
    /// Zero the counters of one service, or of all with `None`.
    Zero(Option<ServiceKey>),
    /// Set timeouts (0 leaves one unchanged).
    SetTimeouts(Timeouts),
    /// Start a sync daemon.
    StartDaemon(Daemon),
    /// Stop the sync daemon in that state.
    StopDaemon(DaemonState),
}

impl Op {
    /// The request that carries this operation.
    pub fn to_message(&self) -> IpvsMessage {
        let (cmd, attrs) = match self {
            Self::NewService(svc) => (IpvsCmd::NewService, vec![IpvsAttr::Service(svc.attrs())]),
            Self::SetService(svc) => (IpvsCmd::SetService, vec![IpvsAttr::Service(svc.attrs())]),
            Self::DelService(key) => (IpvsCmd::DelService, vec![IpvsAttr::Service(key.attrs())]),
            Self::NewDest(key, dest) => (
                IpvsCmd::NewDest,
                vec![IpvsAttr::Service(key.attrs()), IpvsAttr::Dest(dest.attrs())],
            ),
            Self::SetDest(key, dest) => (
                IpvsCmd::SetDest,
                vec![IpvsAttr::Service(key.attrs()), IpvsAttr::Dest(dest.attrs())],
            ),
            Self::DelDest(key, addr) => (
                IpvsCmd::DelDest,
                vec![
                    IpvsAttr::Service(key.attrs()),
                    IpvsAttr::Dest(Destination::key_attrs(*addr)),
                ],
            ),
            Self::Flush => (IpvsCmd::Flush, Vec::new()),
            Self::Zero(None) => (IpvsCmd::Zero, Vec::new()),
            Self::Zero(Some(key)) => (IpvsCmd::Zero, vec![IpvsAttr::Service(key.attrs())]),
            Self::SetTimeouts(t) => (
                IpvsCmd::SetConfig,
                vec![
                    IpvsAttr::TimeoutTcp(t.tcp),
                    IpvsAttr::TimeoutTcpFin(t.tcp_fin),
                    IpvsAttr::TimeoutUdp(t.udp),
                ],
            ),
            Self::StartDaemon(d) => (IpvsCmd::NewDaemon, vec![IpvsAttr::Daemon(d.attrs())]),
            Self::StopDaemon(state) => (
                IpvsCmd::DelDaemon,
                vec![IpvsAttr::Daemon(vec![DaemonAttr::State(*state)])],
            ),
        };
        IpvsMessage { cmd, attrs }
    }
}

/// What a batch does after an operation fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Apply nothing after the first failure; later operations are [`OpStatus::Skipped`].
    ///
    /// The kernel carries on through every request of a `sendmsg`, so this mode keeps one request
    /// in flight at a time: exact, but one round trip per operation.
    Stop,
    /// Apply every operation whatever the others did; many requests per `sendmsg`.
    #[default]
    Continue,
}

/// What became of one operation of a batch.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpStatus {
    /// The kernel acknowledged it.
    Done,
    /// The kernel refused it.
    Failed(Error),
    /// Not sent, because an earlier operation failed under [`OnError::Stop`].
    Skipped,
}

impl OpStatus {
    /// Whether the operation was applied.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Done)
    }
}

/// The result of a batch: one status per operation, in order.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// One status per operation, in the order given.
    pub statuses: Vec<OpStatus>,
}

impl BatchReport {
    /// Whether every operation was applied.
    pub fn all_done(&self) -> bool {
        self.statuses.iter().all(OpStatus::is_done)
    }

    /// The failures, with the index of their operation.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &Error)> {
        self.statuses
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                OpStatus::Failed(e) => Some((i, e)),
                _ => None,
            })
    }

    /// The first failure, as a result.
    pub fn into_result(self) -> Result<(), Error> {
        for status in self.statuses {
            if let OpStatus::Failed(e) = status {
                return Err(e);
            }
        }
        Ok(())
    }
}
