//! Watching links and addresses: the events a director needs for `track_interface` and for
//! putting back a VIP that someone removed.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    net::IpAddr,
};

use futures::{StreamExt, channel::mpsc::UnboundedReceiver};
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::{
    AddressFamily, RouteNetlinkMessage,
    address::{AddressAttribute, AddressMessage},
    link::LinkMessage,
};
use netlink_sys::{AsyncSocket, SocketAddr};
use rtnetlink::MulticastGroup;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::{Client, Error, Link, addr::message_address};

/// An address on an interface, as the watcher and [`Client::addresses`] report it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Address {
    /// The interface index.
    pub index: u32,
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// Its label (IPv4).
    pub label: Option<String>,
}

impl Address {
    pub(crate) fn from_message(msg: &AddressMessage) -> Option<Self> {
        Some(Self {
            index: msg.header.index,
            addr: message_address(msg)?,
            prefix_len: msg.header.prefix_len,
            label: msg.attributes.iter().find_map(|a| match a {
                AddressAttribute::Label(l) => Some(l.clone()),
                _ => None,
            }),
        })
    }

    fn key(&self) -> (u32, IpAddr, u8) {
        (self.index, self.addr, self.prefix_len)
    }
}

/// The state of an interface, as the watcher knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkState {
    /// The interface index.
    pub index: u32,
    /// The interface name.
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Operationally up (`IFF_RUNNING`).
    pub running: bool,
}

impl LinkState {
    /// Up and running: what `track_interface` calls "up".
    pub fn is_usable(&self) -> bool {
        self.up && self.running
    }

    fn from_link(link: &Link) -> Self {
        Self {
            index: link.index,
            name: link.name.clone(),
            up: link.up,
            running: link.running,
        }
    }
}

/// Something that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// An interface appeared.
    LinkAdded(LinkState),
    /// An interface became usable (up and running).
    LinkUp(LinkState),
    /// An interface stopped being usable (down, or lost its carrier).
    LinkDown(LinkState),
    /// An interface went away.
    LinkRemoved(LinkState),
    /// An address appeared.
    AddressAdded(Address),
    /// An address went away: if it is one of our VIPs and we are master, someone removed it.
    AddressRemoved(Address),
    /// The event socket overflowed (`ENOBUFS`) and events were lost; the watcher read the whole
    /// state again. The events that follow (up to the next event from the kernel) are the
    /// differences it found, so nothing is missed, but the order of what happened meanwhile is
    /// lost.
    Resynced,
}

/// Reports link and address changes in the network namespace where it was created.
///
/// It subscribes to the kernel's link and address groups, then reads the current state, and
/// keeps a model of both; [`Watcher::next`] returns changes to that model, so repeated or stale
/// kernel messages do not produce events. When the kernel reports that the socket overflowed,
/// the watcher throws away what was queued, dumps links and addresses, and reports the
/// differences after an [`Event::Resynced`].
#[derive(Debug)]
pub struct Watcher {
    events: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    task: JoinHandle<()>,
    client: Client,
    links: BTreeMap<u32, LinkState>,
    addresses: HashMap<(u32, IpAddr, u8), Address>,
    pending: VecDeque<Event>,
    resyncs: u64,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Watcher {
    /// Subscribes to link and address events and reads the current state.
    pub async fn new() -> Result<Self, Error> {
        Self::open(None).await
    }

    /// Like [`Watcher::new`], with the event socket's receive buffer set to `bytes` (the kernel
    /// doubles it and enforces a minimum). A small buffer overflows sooner; tests use it to
    /// check that an overflow is survived.
    pub async fn with_receive_buffer(bytes: usize) -> Result<Self, Error> {
        Self::open(Some(bytes)).await
    }

    async fn open(receive_buffer: Option<usize>) -> Result<Self, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Connection("Watcher::new must be called inside a tokio runtime".into())
        })?;
        let (mut conn, _handle, events) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Link,
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(Error::Socket)?;
        if let Some(bytes) = receive_buffer {
            conn.socket_mut()
                .socket_mut()
                .set_rx_buf_sz(bytes)
                .map_err(Error::Socket)?;
        }
        let task = runtime.spawn(conn);
        let client = Client::new()?;
        let mut watcher = Self {
            events,
            task,
            client,
            links: BTreeMap::new(),
            addresses: HashMap::new(),
            pending: VecDeque::new(),
            resyncs: 0,
        };
        let (links, addresses) = watcher.dump().await?;
        watcher.links = links;
        watcher.addresses = addresses;
        Ok(watcher)
    }

    /// The interfaces as the watcher knows them.
    pub fn links(&self) -> impl Iterator<Item = &LinkState> {
        self.links.values()
    }

    /// An interface by name.
    pub fn link(&self, name: &str) -> Option<&LinkState> {
        self.links.values().find(|l| l.name == name)
    }

    /// The addresses as the watcher knows them.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.addresses.values()
    }

    /// How many times the watcher had to resynchronise after an overflow.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// The next change. Cancel-safe between events: dropping the future loses nothing that
    /// was already received, except during a resynchronisation.
    pub async fn next(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            let Some((msg, _)) = self.events.next().await else {
                return Err(Error::Connection("the event socket closed".into()));
            };
            match msg.payload {
                NetlinkPayload::Overrun(_) => self.resync().await?,
                NetlinkPayload::InnerMessage(inner) => self.apply(inner),
                _ => {}
            }
        }
    }

    async fn dump(
        &self,
    ) -> Result<
        (
            BTreeMap<u32, LinkState>,
            HashMap<(u32, IpAddr, u8), Address>,
        ),
        Error,
    > {
        let links = self
            .client
            .links()
            .await?
            .iter()
            .map(|l| (l.index, LinkState::from_link(l)))
            .collect();
        let addresses = self
            .client
            .addresses()
            .await?
            .into_iter()
            .map(|a| (a.key(), a))
            .collect();
        Ok((links, addresses))
    }

    async fn resync(&mut self) -> Result<(), Error> {
        warn!("netlink event socket overflowed; reading links and addresses again");
        self.resyncs += 1;
        // What is queued is older than the dump we are about to take: drop it.
        let mut dropped = 0usize;
        while self.events.try_recv().is_ok() {
            dropped += 1;
        }
        debug!("dropped {dropped} queued events before the dump");
        let (links, addresses) = self.dump().await?;
        self.pending.push_back(Event::Resynced);
        diff_into(
            &self.links,
            &self.addresses,
            &links,
            &addresses,
            &mut self.pending,
        );
        self.links = links;
        self.addresses = addresses;
        Ok(())
    }

    fn apply(&mut self, msg: RouteNetlinkMessage) {
        apply_to(&mut self.links, &mut self.addresses, &mut self.pending, msg);
    }
}

/// Applies one kernel message to the model, queueing an event if the model changed.
fn apply_to(
    links: &mut BTreeMap<u32, LinkState>,
    addresses: &mut HashMap<(u32, IpAddr, u8), Address>,
    pending: &mut VecDeque<Event>,
    msg: RouteNetlinkMessage,
) {
    match msg {
        RouteNetlinkMessage::NewLink(link) if is_plain_link(&link) => {
            let new = LinkState::from_link(&Link::from_message(&link));
            match links.insert(new.index, new.clone()) {
                None => pending.push_back(Event::LinkAdded(new)),
                Some(old) if old.is_usable() && !new.is_usable() => {
                    pending.push_back(Event::LinkDown(new));
                }
                Some(old) if !old.is_usable() && new.is_usable() => {
                    pending.push_back(Event::LinkUp(new));
                }
                Some(_) => {}
            }
        }
        RouteNetlinkMessage::DelLink(link) if is_plain_link(&link) => {
            let index = link.header.index;
            if let Some(old) = links.remove(&index) {
                addresses.retain(|k, _| k.0 != index);
                pending.push_back(Event::LinkRemoved(old));
            }
        }
        RouteNetlinkMessage::NewAddress(addr) => {
            if let Some(a) = Address::from_message(&addr)
                && addresses.insert(a.key(), a.clone()).is_none()
            {
                pending.push_back(Event::AddressAdded(a));
            }
        }
        RouteNetlinkMessage::DelAddress(addr) => {
            if let Some(a) = Address::from_message(&addr)
                && let Some(old) = addresses.remove(&a.key())
            {
                pending.push_back(Event::AddressRemoved(old));
            }
        }
        _ => {}
    }
}

/// Queues the events that turn the `old` model into the `new` one (after a resync).
fn diff_into(
    old_links: &BTreeMap<u32, LinkState>,
    old_addresses: &HashMap<(u32, IpAddr, u8), Address>,
    links: &BTreeMap<u32, LinkState>,
    addresses: &HashMap<(u32, IpAddr, u8), Address>,
    pending: &mut VecDeque<Event>,
) {
    for (index, old) in old_links {
        match links.get(index) {
            None => pending.push_back(Event::LinkRemoved(old.clone())),
            Some(new) if old.is_usable() != new.is_usable() => {
                pending.push_back(if new.is_usable() {
                    Event::LinkUp(new.clone())
                } else {
                    Event::LinkDown(new.clone())
                });
            }
            Some(_) => {}
        }
    }
    for (index, new) in links {
        if !old_links.contains_key(index) {
            pending.push_back(Event::LinkAdded(new.clone()));
        }
    }
    for (key, old) in old_addresses {
        if !addresses.contains_key(key) {
            pending.push_back(Event::AddressRemoved(old.clone()));
        }
    }
    for (key, new) in addresses {
        if !old_addresses.contains_key(key) {
            pending.push_back(Event::AddressAdded(new.clone()));
        }
    }
}

/// Link messages for bridge ports (`AF_BRIDGE`) describe the port, not the interface.
fn is_plain_link(link: &LinkMessage) -> bool {
    link.header.interface_family != AddressFamily::Bridge
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn watcher_and_its_futures_are_send() {
        let _ = |w: &mut Watcher| assert_send(&w.next());
        let _ = || assert_send(&Watcher::new());
        fn send<T: Send>() {}
        send::<Watcher>();
    }

    #[test]
    fn model_reports_changes_once() {
        use netlink_packet_route::link::{LinkAttribute, LinkFlags};

        // The model logic needs no socket: build a watcher's state by hand through `apply`.
        let mut links = BTreeMap::new();
        let mut addresses = HashMap::new();
        let mut pending = VecDeque::new();
        let mut link = LinkMessage::default();
        link.header.index = 4;
        link.header.flags = LinkFlags::Up | LinkFlags::Running;
        link.attributes.push(LinkAttribute::IfName("eth0".into()));
        apply_to(
            &mut links,
            &mut addresses,
            &mut pending,
            RouteNetlinkMessage::NewLink(link.clone()),
        );
        apply_to(
            &mut links,
            &mut addresses,
            &mut pending,
            RouteNetlinkMessage::NewLink(link.clone()),
        );
        assert!(matches!(pending.pop_front(), Some(Event::LinkAdded(l)) if l.name == "eth0"));
        assert!(pending.is_empty(), "a repeated NEWLINK is no event");

        link.header.flags = LinkFlags::Up; // carrier lost
        apply_to(
            &mut links,
            &mut addresses,
            &mut pending,
            RouteNetlinkMessage::NewLink(link.clone()),
        );
        assert!(matches!(pending.pop_front(), Some(Event::LinkDown(l)) if l.up && !l.running));

        let vip = crate::Vip::new("192.0.2.9".parse().unwrap(), "eth0").message(4);
        apply_to(
            &mut links,
            &mut addresses,
            &mut pending,
            RouteNetlinkMessage::NewAddress(vip.clone()),
        );
        apply_to(
            &mut links,
            &mut addresses,
            &mut pending,
            RouteNetlinkMessage::DelAddress(vip.clone()),
        );
        apply_to(
            &mut links,
            &mut addresses,
            &mut pending,
            RouteNetlinkMessage::DelAddress(vip),
        );
        assert!(matches!(pending.pop_front(), Some(Event::AddressAdded(_))));
        assert!(matches!(pending.pop_front(), Some(Event::AddressRemoved(a)) if a.index == 4));
        assert!(pending.is_empty(), "a repeated DELADDR is no event");
    }

    #[test]
    fn resync_reports_the_differences() {
        let link = |index, up, running| LinkState {
            index,
            name: format!("eth{index}"),
            up,
            running,
        };
        let addr = |index, last| Address {
            index,
            addr: IpAddr::from([192, 0, 2, last]),
            prefix_len: 32,
            label: None,
        };
        let old_links = BTreeMap::from([(1, link(1, true, true)), (2, link(2, true, true))]);
        let new_links = BTreeMap::from([(1, link(1, true, false)), (3, link(3, true, true))]);
        let old_addrs = HashMap::from([
            (addr(1, 1).key(), addr(1, 1)),
            (addr(1, 2).key(), addr(1, 2)),
        ]);
        let new_addrs = HashMap::from([
            (addr(1, 2).key(), addr(1, 2)),
            (addr(3, 3).key(), addr(3, 3)),
        ]);
        let mut pending = VecDeque::new();
        diff_into(&old_links, &old_addrs, &new_links, &new_addrs, &mut pending);
        let events: Vec<Event> = pending.into();
        assert_eq!(
            events,
            vec![
                Event::LinkDown(link(1, true, false)),
                Event::LinkRemoved(link(2, true, true)),
                Event::LinkAdded(link(3, true, true)),
                Event::AddressRemoved(addr(1, 1)),
                Event::AddressAdded(addr(3, 3)),
            ]
        );
    }
}
