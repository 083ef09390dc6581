//! Desired state vs current state: the minimal ordered list of operations, applied as one batch.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::batch::{BatchReport, OnError, Op, OpStatus};
use crate::client::Ipvs;
use crate::error::{Error, Result};
use crate::types::{Destination, Service, ServiceKey};

/// A whole IPVS table: services by key, each with its destinations by address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Services by key.
    pub services: BTreeMap<ServiceKey, VirtualService>,
}

/// A service and its destinations in the kernel's order, as a listing shows them
/// ([`Ipvs::entries`]); [`Table`] keys the same by service and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The service's settings and counters.
    pub service: Service,
    /// Its destinations.
    pub destinations: Vec<Destination>,
}

/// A service and its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualService {
    /// The service's settings.
    pub service: Service,
    /// Its destinations by address.
    pub destinations: BTreeMap<SocketAddr, Destination>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the kernel's table: one dump of services, then one dump of destinations per service.
    pub fn read(ipvs: &mut Ipvs) -> Result<Self> {
        Ok(Self::from_entries(ipvs.entries()?))
    }

    /// [`Table::read`] on the async client.
    #[cfg(feature = "tokio")]
    pub async fn read_async(ipvs: &mut crate::AsyncIpvs) -> Result<Self> {
        Ok(Self::from_entries(ipvs.entries().await?))
    }

    /// The table of a listing, keyed by service and address (a later duplicate replaces an
    /// earlier one).
    pub fn from_entries(entries: impl IntoIterator<Item = ServiceEntry>) -> Self {
        let services = entries
            .into_iter()
            .map(|entry| {
                let destinations = entry
                    .destinations
                    .into_iter()
                    .map(|d| (d.addr, d))
                    .collect();
                (
                    entry.service.key,
                    VirtualService {
                        service: entry.service,
                        destinations,
                    },
                )
            })
            .collect();
        Self { services }
    }

    /// Adds (or replaces) a service, keeping its destinations if it was already there.
    pub fn insert_service(&mut self, service: Service) -> &mut VirtualService {
        let entry = self
            .services
            .entry(service.key)
            .or_insert_with(|| VirtualService {
                service: service.clone(),
                destinations: BTreeMap::new(),
            });
        entry.service = service;
        entry
    }

    /// Adds (or replaces) a destination of an existing service; `false` if there is no such service.
    pub fn insert_destination(&mut self, key: &ServiceKey, dest: Destination) -> bool {
        match self.services.get_mut(key) {
            Some(vs) => {
                vs.destinations.insert(dest.addr, dest);
                true
            }
            None => false,
        }
    }

    /// Whether two tables hold the same services and destinations with the same settings,
    /// counters aside.
    pub fn same_config(&self, other: &Self) -> bool {
        self.services.len() == other.services.len()
            && self
                .services
                .iter()
                .zip(&other.services)
                .all(|((ka, a), (kb, b))| {
                    ka == kb
                        && a.service.same_config(&b.service)
                        && a.destinations.len() == b.destinations.len()
                        && a.destinations
                            .iter()
                            .zip(&b.destinations)
                            .all(|((aa, da), (ab, db))| aa == ab && da.same_config(db))
                })
    }

    /// Applies one operation to this in-memory table, as the kernel would on success.
    fn record(&mut self, op: &Op) {
        match op {
            Op::NewService(s) | Op::SetService(s) => {
                self.insert_service(s.clone());
            }
            Op::DelService(key) => {
                self.services.remove(key);
            }
            Op::NewDest(key, d) | Op::SetDest(key, d) => {
                self.insert_destination(key, d.clone());
            }
            Op::DelDest(key, addr) => {
                if let Some(vs) = self.services.get_mut(key) {
                    vs.destinations.remove(addr);
                }
            }
            Op::Flush => self.services.clear(),
            _ => {}
        }
    }
}

/// The minimal ordered operations that turn `current` into `desired`.
///
/// Order: destinations removed from services that stay, then services removed (the kernel drops
/// their destinations with them, so those are not deleted one by one), then services edited in
/// place, services added, destinations edited in place and destinations added. Anything that
/// can be edited (scheduler, flags, persistence, netmask, engine; weight, forwarding method,
/// thresholds, tunnel) is edited, never deleted and added again.
pub fn plan(current: &Table, desired: &Table) -> Vec<Op> {
    let mut del_dests = Vec::new();
    let mut del_services = Vec::new();
    let mut set_services = Vec::new();
    let mut new_services = Vec::new();
    let mut set_dests = Vec::new();
    let mut new_dests = Vec::new();

    for (key, have) in &current.services {
        match desired.services.get(key) {
            None => del_services.push(Op::DelService(*key)),
            Some(want) => {
                for addr in have.destinations.keys() {
                    if !want.destinations.contains_key(addr) {
                        del_dests.push(Op::DelDest(*key, *addr));
                    }
                }
            }
        }
    }
    for (key, want) in &desired.services {
        let have = current.services.get(key);
        match have {
            None => new_services.push(Op::NewService(want.service.clone())),
            Some(have) if !have.service.same_config(&want.service) => {
                set_services.push(Op::SetService(want.service.clone()));
            }
            Some(_) => {}
        }
        for (addr, dest) in &want.destinations {
            match have.and_then(|h| h.destinations.get(addr)) {
                None => new_dests.push(Op::NewDest(*key, dest.clone())),
                Some(old) if !old.same_config(dest) => {
                    set_dests.push(Op::SetDest(*key, dest.clone()))
                }
                Some(_) => {}
            }
        }
    }
    let mut ops = del_dests;
    ops.extend(del_services);
    ops.extend(set_services);
    ops.extend(new_services);
    ops.extend(set_dests);
    ops.extend(new_dests);
    ops
}

/// What one reconciliation did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Services added.
    pub services_added: usize,
    /// Services edited in place.
    pub services_edited: usize,
    /// Services removed.
    pub services_removed: usize,
    /// Destinations added.
    pub destinations_added: usize,
    /// Destinations edited in place.
    pub destinations_edited: usize,
    /// Destinations removed.
    pub destinations_removed: usize,
    /// Operations the kernel refused, with its reason.
    pub failures: Vec<(Op, Error)>,
    /// Netlink requests this reconciliation sent, reads of the current state included.
    pub requests: u64,
}

impl Summary {
    /// Operations applied.
    pub fn applied(&self) -> usize {
        self.services_added
            + self.services_edited
            + self.services_removed
            + self.destinations_added
            + self.destinations_edited
            + self.destinations_removed
    }

    fn count(&mut self, op: &Op) {
        match op {
            Op::NewService(_) => self.services_added += 1,
            Op::SetService(_) => self.services_edited += 1,
            Op::DelService(_) => self.services_removed += 1,
            Op::NewDest(..) => self.destinations_added += 1,
            Op::SetDest(..) => self.destinations_edited += 1,
            Op::DelDest(..) => self.destinations_removed += 1,
            _ => {}
        }
    }
}

/// Brings the kernel's table to a desired state, keeping what it believes the current state is.
///
/// The first [`Reconciler::apply`] reads the table from the kernel; later ones trust the cache
/// (updated with every acknowledged operation), so a one-destination change costs exactly one
/// netlink request. Any failure drops the cache, so the next call reads the kernel again; call
/// [`Reconciler::invalidate`] when something else may have changed the table.
#[derive(Debug, Default)]
pub struct Reconciler {
    cache: Option<Table>,
    on_error: OnError,
}

impl Reconciler {
    /// A reconciler with no cache that goes on past failures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Chooses what a batch does after a failure.
    #[must_use]
    pub fn on_error(mut self, on_error: OnError) -> Self {
        self.on_error = on_error;
        self
    }

    /// What a batch does after a failure (send batches of your own in this mode too).
    pub fn on_error_mode(&self) -> OnError {
        self.on_error
    }

    /// Forgets the cached state; the next apply reads the kernel.
    pub fn invalidate(&mut self) {
        self.cache = None;
    }

    /// What the reconciler believes the kernel holds.
    pub fn cached(&self) -> Option<&Table> {
        self.cache.as_ref()
    }

    /// The operations the next apply would send for `desired`, reading the kernel if uncached.
    pub fn plan(&mut self, ipvs: &mut Ipvs, desired: &Table) -> Result<Vec<Op>> {
        if self.cache.is_none() {
            self.set_current(Table::read(ipvs)?);
        }
        Ok(self.plan_cached(desired).unwrap_or_default())
    }

    /// Applies the minimal operations in one batch and reports what was done.
    pub fn apply(&mut self, ipvs: &mut Ipvs, desired: &Table) -> Result<Summary> {
        let before = ipvs.counters().requests;
        if self.cache.is_none() {
            self.set_current(Table::read(ipvs)?);
        }
        let ops = self.plan_cached(desired).unwrap_or_default();
        let report = ipvs.batch(&ops, self.on_error);
        let mut summary = self.record_batch(ops, report)?;
        summary.requests = ipvs.counters().requests - before;
        Ok(summary)
    }

    /// [`Reconciler::plan`] on the async client.
    #[cfg(feature = "tokio")]
    pub async fn plan_async(
        &mut self,
        ipvs: &mut crate::AsyncIpvs,
        desired: &Table,
    ) -> Result<Vec<Op>> {
        if self.cache.is_none() {
            self.set_current(Table::read_async(ipvs).await?);
        }
        Ok(self.plan_cached(desired).unwrap_or_default())
    }

    /// [`Reconciler::apply`] on the async client.
    #[cfg(feature = "tokio")]
    pub async fn apply_async(
        &mut self,
        ipvs: &mut crate::AsyncIpvs,
        desired: &Table,
    ) -> Result<Summary> {
        let before = ipvs.counters().requests;
        if self.cache.is_none() {
            self.set_current(Table::read_async(ipvs).await?);
        }
        let ops = self.plan_cached(desired).unwrap_or_default();
        let report = ipvs.batch(&ops, self.on_error).await;
        let mut summary = self.record_batch(ops, report)?;
        summary.requests = ipvs.counters().requests - before;
        Ok(summary)
    }

    /// Gives the reconciler the kernel's table, read by the caller: the sans-IO way in, for a
    /// driver on another client. [`Reconciler::cached`] is `None` until this or an apply.
    pub fn set_current(&mut self, current: Table) {
        self.cache = Some(current);
    }

    /// The operations that turn the cached table into `desired`; `None` without a cache (read
    /// the kernel and [`Reconciler::set_current`] first).
    pub fn plan_cached(&self, desired: &Table) -> Option<Vec<Op>> {
        self.cache.as_ref().map(|current| plan(current, desired))
    }

    /// Takes in what the kernel said to a batch of `ops` (from [`Reconciler::plan_cached`],
    /// sent in [`Reconciler::on_error_mode`]): acknowledged operations update the cache,
    /// and any failure drops it. [`Summary::requests`] is left for the caller, who counted them.
    pub fn record_batch(&mut self, ops: Vec<Op>, report: Result<BatchReport>) -> Result<Summary> {
        let report = match report {
            Ok(report) => report,
            Err(e) => {
                self.cache = None;
                return Err(e);
            }
        };
        let mut summary = Summary::default();
        let mut cache = self.cache.take().unwrap_or_default();
        let mut clean = true;
        for (op, status) in ops.into_iter().zip(report.statuses) {
            match status {
                OpStatus::Done => {
                    cache.record(&op);
                    summary.count(&op);
                }
                OpStatus::Failed(e) => {
                    clean = false;
                    summary.failures.push((op, e));
                }
                _ => clean = false,
            }
        }
        self.cache = clean.then_some(cache);
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Family, ForwardMethod};

    fn svc(port: u16) -> Service {
        Service::tcp(SocketAddr::from(([192, 0, 2, 1], port)))
    }

    fn dest(last: u8) -> Destination {
        Destination::new(SocketAddr::from(([198, 51, 100, last], 80)))
    }

    fn table(entries: &[(Service, Vec<Destination>)]) -> Table {
        let mut t = Table::new();
        for (s, ds) in entries {
            t.insert_service(s.clone());
            for d in ds {
                assert!(t.insert_destination(&s.key, d.clone()));
            }
        }
        t
    }

    #[test]
    fn an_empty_diff_is_no_operation() {
        let t = table(&[(svc(80), vec![dest(1), dest(2)])]);
        assert!(plan(&t, &t).is_empty());
    }

    #[test]
    fn services_come_before_their_destinations_and_deletes_come_first() {
        let current = table(&[(svc(80), vec![dest(1), dest(2)]), (svc(81), vec![dest(1)])]);
        let desired = table(&[(svc(80), vec![dest(1)]), (svc(82), vec![dest(3)])]);
        let ops = plan(&current, &desired);
        assert_eq!(
            ops,
            vec![
                Op::DelDest(svc(80).key, dest(2).addr),
                Op::DelService(svc(81).key),
                Op::NewService(svc(82)),
                Op::NewDest(svc(82).key, dest(3)),
            ]
        );
    }

    #[test]
    fn edits_are_made_in_place() {
        let current = table(&[(svc(80), vec![dest(1)])]);
        let desired = table(&[(
            svc(80).scheduler("rr").persistent(300),
            vec![dest(1).weight(5).forward(ForwardMethod::Masquerade)],
        )]);
        let ops = plan(&current, &desired);
        assert_eq!(
            ops,
            vec![
                Op::SetService(svc(80).scheduler("rr").persistent(300)),
                Op::SetDest(
                    svc(80).key,
                    dest(1).weight(5).forward(ForwardMethod::Masquerade)
                ),
            ]
        );
    }

    #[test]
    fn applying_the_plan_to_the_model_reaches_the_desired_table() {
        let current = table(&[
            (svc(80), vec![dest(1), dest(2)]),
            (Service::fwmark(Family::V4, 3), vec![dest(9)]),
        ]);
        let desired = table(&[(svc(80).scheduler("sh"), vec![dest(2).weight(0), dest(4)])]);
        let mut model = current.clone();
        for op in plan(&current, &desired) {
            model.record(&op);
        }
        assert!(model.same_config(&desired));
        assert!(plan(&model, &desired).is_empty());
    }
}
