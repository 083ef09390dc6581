//! The client: one rtnetlink connection, and every change this crate makes.

use std::{collections::HashMap, net::IpAddr, sync::Arc};

use futures::{StreamExt, TryStreamExt, stream};
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::{
    AddressFamily, RouteNetlinkMessage,
    address::AddressMessage,
    link::{LinkAttribute, LinkMessage},
    route::RouteMessage,
};
use netlink_sys::AsyncSocket;
use rtnetlink::Handle;
use tokio::task::JoinHandle;
use tracing::debug;

use crate::{
    Address, Change, Error, Link, Route, Rule, Vip, Vmac,
    addr::message_address,
    check_ifname,
    nl::{self, Failure},
    vmac::read_sysctl,
};

/// How many requests [`Client::add_vips`] and [`Client::remove_vips`] keep in flight. Enough to
/// hide the round trips, few enough that the ACKs never fill the socket's receive buffer.
const IN_FLIGHT: usize = 64;
/// The receive buffer asked for on the request socket.
const RECEIVE_BUFFER: usize = 1 << 20;

/// A connection to the kernel's routing netlink, through which VIPs, routes, rules and VMAC
/// interfaces are added and removed.
///
/// Create it inside a tokio runtime: [`Client::new`] spawns the connection task, which ends when
/// the last clone of the client is dropped. It works in the network namespace of the thread that
/// created it. All methods take `&self`, and clones share the connection, so one client can
/// serve concurrent tasks.
#[derive(Debug, Clone)]
pub struct Client {
    handle: Handle,
    /// Held only for its `Drop`.
    _task: Arc<AbortOnDrop>,
}

/// Ends the connection task when the last client goes.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Client {
    /// Opens the netlink socket and spawns its connection task on the current tokio runtime.
    pub fn new() -> Result<Self, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Connection("Client::new must be called inside a tokio runtime".into())
        })?;
        let (mut conn, handle, _unsolicited) =
            rtnetlink::new_connection().map_err(Error::Socket)?;
        let socket = conn.socket_mut().socket_mut();
        // The kernel's explanation of a refusal, without echoing our whole request back.
        socket.set_ext_ack(true).map_err(Error::Socket)?;
        socket.set_cap_ack(true).map_err(Error::Socket)?;
        if let Err(e) = socket.set_rx_buf_sz(RECEIVE_BUFFER) {
            debug!("could not enlarge the netlink receive buffer: {e}");
        }
        let task = Arc::new(AbortOnDrop(runtime.spawn(conn)));
        Ok(Self {
            handle,
            _task: task,
        })
    }

    /// Looks an interface up by name.
    pub async fn link(&self, name: &str) -> Result<Link, Error> {
        check_ifname(name)?;
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
        match nl::query(&self.handle, RouteNetlinkMessage::GetLink(msg), false).await {
            Ok(replies) => replies
                .iter()
                .find_map(|m| match m {
                    RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                    _ => None,
                })
                .ok_or_else(|| Error::Connection("RTM_GETLINK answered without a link".into())),
            Err(Failure::Nack(n)) if n.errno == libc::ENODEV => Err(Error::NoSuchInterface {
                name: name.to_owned(),
            }),
            Err(f) => Err(f.into_error("get link")),
        }
    }

    /// Looks an interface up by name and checks that it is administratively up.
    async fn up_link(&self, name: &str) -> Result<Link, Error> {
        let link = self.link(name).await?;
        if !link.up {
            return Err(Error::InterfaceDown { name: link.name });
        }
        Ok(link)
    }

    /// Every interface.
    pub async fn links(&self) -> Result<Vec<Link>, Error> {
        let replies = nl::query(
            &self.handle,
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            true,
        )
        .await
        .map_err(|f| f.into_error("dump links"))?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                _ => None,
            })
            .collect())
    }

    /// Every address on every interface.
    pub async fn addresses(&self) -> Result<Vec<Address>, Error> {
        Ok(self
            .address_messages()
            .await?
            .iter()
            .filter_map(Address::from_message)
            .collect())
    }

    async fn address_messages(&self) -> Result<Vec<AddressMessage>, Error> {
        let replies = nl::query(
            &self.handle,
            RouteNetlinkMessage::GetAddress(AddressMessage::default()),
            true,
        )
        .await
        .map_err(|f| f.into_error("dump addresses"))?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Some(a),
                _ => None,
            })
            .collect())
    }

    /// Whether the VIP's address is on its interface (with any prefix).
    pub async fn has_vip(&self, vip: &Vip) -> Result<bool, Error> {
        vip.validate()?;
        let link = match self.link(&vip.dev).await {
            Ok(link) => link,
            Err(Error::NoSuchInterface { .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        Ok(self.find_address(link.index, vip.addr).await?.is_some())
    }

    async fn find_address(
        &self,
        index: u32,
        addr: IpAddr,
    ) -> Result<Option<AddressMessage>, Error> {
        Ok(self
            .address_messages()
            .await?
            .into_iter()
            .find(|m| m.header.index == index && message_address(m) == Some(addr)))
    }

    /// Adds a VIP. The interface must exist and be up.
    ///
    /// If the address is already there with the same prefix, scope, label and broadcast, this
    /// is [`Change::Unchanged`]; if it is there but differs, [`Error::Exists`].
    pub async fn add_vip(&self, vip: &Vip) -> Result<Change, Error> {
        vip.validate()?;
        let link = self.up_link(&vip.dev).await?;
        self.add_vip_on(vip, link.index).await
    }

    async fn add_vip_on(&self, vip: &Vip, index: u32) -> Result<Change, Error> {
        let msg = RouteNetlinkMessage::NewAddress(vip.message(index));
        match nl::change(&self.handle, msg, NLM_F_CREATE | NLM_F_EXCL).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if n.errno == libc::EEXIST => {
                match self.find_address(index, vip.addr).await? {
                    Some(existing) => match vip.difference(&existing) {
                        None => Ok(Change::Unchanged),
                        Some(detail) => Err(Error::Exists {
                            what: format!("{}/{} on {}", vip.addr, vip.prefix_len, vip.dev),
                            detail,
                        }),
                    },
                    // Removed between our add and our look: it was there, so nothing changed.
                    None => Ok(Change::Unchanged),
                }
            }
            Err(Failure::Nack(n)) if n.errno == libc::ENODEV => Err(Error::NoSuchInterface {
                name: vip.dev.clone(),
            }),
            Err(f) => Err(f.into_error("add address")),
        }
    }

    /// Removes a VIP (matched by interface, address and prefix length). A VIP that is not
    /// there, or whose interface is gone, is [`Change::Unchanged`].
    pub async fn remove_vip(&self, vip: &Vip) -> Result<Change, Error> {
        vip.validate()?;
        let link = match self.link(&vip.dev).await {
            Ok(link) => link,
            Err(Error::NoSuchInterface { .. }) => return Ok(Change::Unchanged),
            Err(e) => return Err(e),
        };
        self.remove_vip_on(vip, link.index).await
    }

    async fn remove_vip_on(&self, vip: &Vip, index: u32) -> Result<Change, Error> {
        let mut msg = vip.message(index);
        // Match on address and prefix only: a label or broadcast that differs must not make a
        // present VIP look absent.
        msg.attributes.retain(|a| {
            matches!(
                a,
                netlink_packet_route::address::AddressAttribute::Local(_)
                    | netlink_packet_route::address::AddressAttribute::Address(_)
            )
        });
        match nl::change(&self.handle, RouteNetlinkMessage::DelAddress(msg), 0).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n))
                if matches!(
                    n.errno,
                    libc::EADDRNOTAVAIL | libc::ENODEV | libc::ESRCH | libc::ENOENT
                ) =>
            {
                Ok(Change::Unchanged)
            }
            Err(f) => Err(f.into_error("remove address")),
        }
    }

    /// Checks all `vips` and resolves their interfaces (which must exist and be up) before
    /// sending anything: on bad input nothing is changed.
    async fn resolve_all(
        &self,
        vips: &[Vip],
        need_up: bool,
    ) -> Result<HashMap<String, Option<u32>>, Error> {
        for vip in vips {
            vip.validate()?;
        }
        let mut indexes = HashMap::new();
        for vip in vips {
            if indexes.contains_key(&vip.dev) {
                continue;
            }
            let index = if need_up {
                Some(self.up_link(&vip.dev).await?.index)
            } else {
                match self.link(&vip.dev).await {
                    Ok(link) => Some(link.index),
                    Err(Error::NoSuchInterface { .. }) => None,
                    Err(e) => return Err(e),
                }
            };
            indexes.insert(vip.dev.clone(), index);
        }
        Ok(indexes)
    }

    /// Adds many VIPs, with up to 64 requests in flight.
    ///
    /// Every VIP is checked, and every interface looked up, before the first request: if one
    /// is bad, nothing is added. A kernel refusal after that stops the batch with the first
    /// error (the VIPs already added stay). The result has one [`Change`] per VIP, in order.
    pub async fn add_vips(&self, vips: &[Vip]) -> Result<Vec<Change>, Error> {
        let indexes = self.resolve_all(vips, true).await?;
        // The futures are made before the stream so that no closure is held across an await:
        // that keeps the returned future `Send`.
        let requests: Vec<_> = vips
            .iter()
            .map(|vip| self.add_vip_on(vip, indexes[&vip.dev].unwrap_or_default()))
            .collect();
        stream::iter(requests)
            .buffered(IN_FLIGHT)
            .try_collect()
            .await
    }

    /// Removes many VIPs, with up to 64 requests in flight; like [`Client::add_vips`], but a
    /// missing interface or address is [`Change::Unchanged`].
    pub async fn remove_vips(&self, vips: &[Vip]) -> Result<Vec<Change>, Error> {
        let indexes = self.resolve_all(vips, false).await?;
        let requests: Vec<_> = vips
            .iter()
            .map(|vip| self.remove_vip_at(vip, indexes[&vip.dev]))
            .collect();
        stream::iter(requests)
            .buffered(IN_FLIGHT)
            .try_collect()
            .await
    }

    async fn remove_vip_at(&self, vip: &Vip, index: Option<u32>) -> Result<Change, Error> {
        match index {
            Some(index) => self.remove_vip_on(vip, index).await,
            None => Ok(Change::Unchanged),
        }
    }

    /// Adds a route. Its interface, if it names one, must exist and be up.
    ///
    /// If the kernel already has a route with the same key (destination, table, metric) and
    /// the same type, gateway, interface and preferred source, this is [`Change::Unchanged`];
    /// if that route differs (say, another gateway), [`Error::Exists`]: it is not replaced.
    pub async fn add_route(&self, route: &Route) -> Result<Change, Error> {
        route.validate()?;
        let oif = match &route.dev {
            Some(dev) => Some(self.up_link(dev).await?.index),
            None => None,
        };
        let msg = RouteNetlinkMessage::NewRoute(route.message(oif, false));
        match nl::change(&self.handle, msg, NLM_F_CREATE | NLM_F_EXCL).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if n.errno == libc::EEXIST => {
                let existing = self.route_messages(route).await?;
                let same_key: Vec<&RouteMessage> =
                    existing.iter().filter(|m| route.same_key(m)).collect();
                if same_key.is_empty()
                    || same_key.iter().any(|m| route.difference(m, oif).is_none())
                {
                    // Gone between our add and our look, or there as asked.
                    return Ok(Change::Unchanged);
                }
                Err(Error::Exists {
                    what: format!("route to {}/{}", route.dst, route.prefix_len),
                    detail: route
                        .difference(same_key[0], oif)
                        .expect("checked: it differs"),
                })
            }
            Err(f) => Err(f.into_error("add route")),
        }
    }

    /// Every route of the route's family, in every table.
    async fn route_messages(&self, route: &Route) -> Result<Vec<RouteMessage>, Error> {
        let mut request = RouteMessage::default();
        request.header.address_family = match route.family() {
            crate::Family::V4 => AddressFamily::Inet,
            crate::Family::V6 => AddressFamily::Inet6,
        };
        let replies = nl::query(&self.handle, RouteNetlinkMessage::GetRoute(request), true)
            .await
            .map_err(|f| f.into_error("dump routes"))?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRoute(r) => Some(r),
                _ => None,
            })
            .collect())
    }

    /// Removes a route. One that is not there, or whose interface is gone, is
    /// [`Change::Unchanged`].
    pub async fn remove_route(&self, route: &Route) -> Result<Change, Error> {
        route.validate()?;
        let oif = match &route.dev {
            Some(dev) => match self.link(dev).await {
                Ok(link) => Some(link.index),
                Err(Error::NoSuchInterface { .. }) => return Ok(Change::Unchanged),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let msg = RouteNetlinkMessage::DelRoute(route.message(oif, true));
        match nl::change(&self.handle, msg, 0).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if matches!(n.errno, libc::ESRCH | libc::ENOENT) => {
                Ok(Change::Unchanged)
            }
            Err(f) => Err(f.into_error("remove route")),
        }
    }

    /// Adds a policy rule. An identical rule already there is [`Change::Unchanged`].
    pub async fn add_rule(&self, rule: &Rule) -> Result<Change, Error> {
        rule.validate()?;
        let msg = RouteNetlinkMessage::NewRule(rule.message());
        match nl::change(&self.handle, msg, NLM_F_CREATE | NLM_F_EXCL).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if n.errno == libc::EEXIST => Ok(Change::Unchanged),
            Err(f) => Err(f.into_error("add rule")),
        }
    }

    /// Removes a policy rule. One that is not there is [`Change::Unchanged`].
    pub async fn remove_rule(&self, rule: &Rule) -> Result<Change, Error> {
        rule.validate()?;
        let msg = RouteNetlinkMessage::DelRule(rule.message());
        match nl::change(&self.handle, msg, 0).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if matches!(n.errno, libc::ENOENT | libc::ESRCH) => {
                Ok(Change::Unchanged)
            }
            Err(f) => Err(f.into_error("remove rule")),
        }
    }

    /// Creates a VMAC interface (macvlan, private mode, virtual MAC), sets its sysctls and
    /// brings it up. The base interface must exist and be up.
    ///
    /// If an interface of that name exists and is this VMAC (a private macvlan on the same base
    /// with the same MAC), its sysctls, up state and link-local address are made right again,
    /// and the result is [`Change::Unchanged`] unless one of them had to change; if it is
    /// anything else, [`Error::Exists`]. If the sysctls cannot be set, the
    /// new interface is removed again. Sysctls are written under `/proc/sys` in the calling
    /// thread's network namespace.
    pub async fn add_vmac(&self, vmac: &Vmac) -> Result<(Change, Link), Error> {
        vmac.validate()?;
        let base = self.up_link(&vmac.base).await?;
        let change = match self.link(&vmac.name).await {
            Ok(existing) => {
                self.check_is_vmac(vmac, &base, &existing)?;
                let mut change = vmac.write_sysctls()?;
                if !existing.up {
                    self.set_up(existing.index).await?;
                    change = Change::Changed;
                }
                if let Some(ll) = vmac.link_local_vip()
                    && self.add_vip_on(&ll, existing.index).await? == Change::Changed
                {
                    change = Change::Changed;
                }
                change
            }
            Err(Error::NoSuchInterface { .. }) => {
                let msg = RouteNetlinkMessage::NewLink(vmac.create_message(base.index));
                match nl::change(&self.handle, msg, NLM_F_CREATE | NLM_F_EXCL).await {
                    Ok(()) => {}
                    Err(Failure::Nack(n)) if n.errno == libc::EOPNOTSUPP => {
                        return Err(Error::Invalid(format!(
                            "cannot create a macvlan on {:?} (is the macvlan module available?)",
                            vmac.base
                        )));
                    }
                    Err(f) => return Err(f.into_error("create macvlan")),
                }
                let created = self.link(&vmac.name).await?;
                let setup = self.set_up_vmac(vmac, created.index).await;
                if let Err(e) = setup {
                    // Nothing half-done: take the interface away again.
                    let _ = self.remove_link(&vmac.name).await;
                    return Err(e);
                }
                Change::Changed
            }
            Err(e) => return Err(e),
        };
        Ok((change, self.link(&vmac.name).await?))
    }

    fn check_is_vmac(&self, vmac: &Vmac, base: &Link, existing: &Link) -> Result<(), Error> {
        let mut diffs = Vec::new();
        if existing.kind.as_deref() != Some("macvlan") {
            diffs.push(format!(
                "kind {:?}",
                existing.kind.as_deref().unwrap_or("none")
            ));
        }
        if existing.parent != Some(base.index) {
            diffs.push(format!("not on {}", base.name));
        }
        if existing.mac != Some(vmac.hw_addr()) {
            diffs.push(format!(
                "MAC {}",
                existing
                    .mac
                    .map(|m| crate::link::fmt_mac(&m))
                    .unwrap_or_default()
            ));
        }
        if existing.macvlan_private == Some(false) {
            diffs.push("not in private mode".into());
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(Error::Exists {
                what: format!("interface {}", vmac.name),
                detail: diffs.join(", "),
            })
        }
    }

    /// Removes a VMAC interface. One that is not there is [`Change::Unchanged`]; an interface of
    /// that name that is not a macvlan is refused ([`Error::Invalid`]) and left alone.
    pub async fn remove_vmac(&self, name: &str) -> Result<Change, Error> {
        let link = match self.link(name).await {
            Ok(link) => link,
            Err(Error::NoSuchInterface { .. }) => return Ok(Change::Unchanged),
            Err(e) => return Err(e),
        };
        if link.kind.as_deref() != Some("macvlan") {
            return Err(Error::Invalid(format!(
                "{name:?} is a {} interface, not a VMAC",
                link.kind.as_deref().unwrap_or("plain")
            )));
        }
        self.remove_link(name).await
    }

    async fn remove_link(&self, name: &str) -> Result<Change, Error> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
        match nl::change(&self.handle, RouteNetlinkMessage::DelLink(msg), 0).await {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if n.errno == libc::ENODEV => Ok(Change::Unchanged),
            Err(f) => Err(f.into_error("remove link")),
        }
    }

    /// Everything between creating a VMAC and having it ready: address generation (IPv6),
    /// sysctls (IPv4), up, link-local address (IPv6).
    async fn set_up_vmac(&self, vmac: &Vmac, index: u32) -> Result<(), Error> {
        if let Some(msg) = vmac.addr_gen_message(index) {
            nl::change(&self.handle, RouteNetlinkMessage::SetLink(msg), 0)
                .await
                .map_err(|f| f.into_error("set IPv6 address generation"))?;
        }
        let _ = vmac.write_sysctls()?;
        self.set_up(index).await?;
        if let Some(ll) = vmac.link_local_vip() {
            let _ = self.add_vip_on(&ll, index).await?;
        }
        Ok(())
    }

    /// Sets interface `index` administratively up or down (for [`crate::realserver`]).
    pub(crate) async fn set_link_up(&self, index: u32, up: bool) -> Result<(), Error> {
        let mut msg = Vmac::up_message(index);
        if !up {
            msg.header.flags = netlink_packet_route::link::LinkFlags::empty();
        }
        nl::change(&self.handle, RouteNetlinkMessage::SetLink(msg), 0)
            .await
            .map_err(|f| f.into_error(if up { "set link up" } else { "set link down" }))
    }

    /// Creates a link from a complete `RTM_NEWLINK` message; one of that name already there is
    /// [`Change::Unchanged`] (for [`crate::realserver`]).
    pub(crate) async fn create_link(
        &self,
        msg: LinkMessage,
        op: &'static str,
    ) -> Result<Change, Error> {
        match nl::change(
            &self.handle,
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .await
        {
            Ok(()) => Ok(Change::Changed),
            Err(Failure::Nack(n)) if n.errno == libc::EEXIST => Ok(Change::Unchanged),
            Err(f) => Err(f.into_error(op)),
        }
    }

    /// Deletes a link by name; one that is not there is [`Change::Unchanged`].
    pub(crate) async fn delete_link(&self, name: &str) -> Result<Change, Error> {
        self.remove_link(name).await
    }

    async fn set_up(&self, index: u32) -> Result<(), Error> {
        let msg = RouteNetlinkMessage::SetLink(Vmac::up_message(index));
        nl::change(&self.handle, msg, 0)
            .await
            .map_err(|f| f.into_error("set link up"))
    }

    /// Reads an IPv4 per-interface sysctl (`/proc/sys/net/ipv4/conf/<dev>/<key>`) in the calling
    /// thread's network namespace; handy to check what [`Client::add_vmac`] set.
    pub fn ipv4_conf(dev: &str, key: &str) -> Result<String, Error> {
        check_ifname(dev)?;
        if key.contains('/') || key.contains("..") {
            return Err(Error::Invalid(format!("bad sysctl name {key:?}")));
        }
        read_sysctl(&format!("/proc/sys/net/ipv4/conf/{dev}/{key}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// A director drives the client from a multi-threaded runtime: its futures must be `Send`.
    #[test]
    fn futures_are_send() {
        let _ = |c: &Client, vips: &[Vip], route: &Route, rule: &Rule, vmac: &Vmac| {
            assert_send(&c.add_vips(vips));
            assert_send(&c.remove_vips(vips));
            assert_send(&c.add_vip(&vips[0]));
            assert_send(&c.add_route(route));
            assert_send(&c.remove_rule(rule));
            assert_send(&c.add_vmac(vmac));
            assert_send(&c.links());
        };
        fn sync_and_send<T: Send + Sync>() {}
        sync_and_send::<Client>();
    }
}
