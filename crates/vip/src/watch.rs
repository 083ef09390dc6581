//! Watching links and addresses: the events a director needs for `track_interface` and for
//! putting back a VIP that someone removed.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    net::IpAddr,
};

use netlink_packet_core::{NetlinkBuffer, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::{
    AddressFamily, RouteNetlinkMessage,
    address::{AddressAttribute, AddressMessage},
    link::LinkMessage,
};
use netlink_sys::{AsyncSocket, AsyncSocketExt, TokioSocket, protocols::NETLINK_ROUTE};
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
///
/// There is no queue between the kernel and the caller other than the socket's receive buffer:
/// [`Watcher::next`] reads the socket itself. A consumer that is slow lets the buffer fill, the
/// kernel drops messages and says so (`ENOBUFS`), and the next call resynchronises; memory never
/// grows with the backlog. A message that cannot be decoded is counted
/// ([`Watcher::undecodable`]), logged, and also answered by a resync, since it may have been a
/// removal.
pub struct Watcher {
    socket: TokioSocket,
    buffer: Vec<u8>,
    client: Client,
    links: BTreeMap<u32, LinkState>,
    addresses: HashMap<(u32, IpAddr, u8), Address>,
    pending: VecDeque<Event>,
    resyncs: u64,
    undecodable: u64,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("links", &self.links.len())
            .field("addresses", &self.addresses.len())
            .field("pending", &self.pending.len())
            .field("resyncs", &self.resyncs)
            .field("undecodable", &self.undecodable)
            .finish_non_exhaustive()
    }
}

/// The kernel's multicast groups (`RTNLGRP_*`) the watcher joins: links, IPv4 and IPv6 addresses.
const GROUPS: [u32; 3] = [1, 5, 9];
/// Receive buffer for one datagram: the kernel's notifications fit a page; a bigger one would
/// be cut, fail to decode, and be answered by a resync.
const DATAGRAM: usize = 64 * 1024;

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
        tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Connection("Watcher::new must be called inside a tokio runtime".into())
        })?;
        let mut socket = TokioSocket::new(NETLINK_ROUTE).map_err(Error::Socket)?;
        let raw = socket.socket_mut();
        raw.bind_auto().map_err(Error::Socket)?;
        for group in GROUPS {
            raw.add_membership(group).map_err(Error::Socket)?;
        }
        if let Some(bytes) = receive_buffer {
            raw.set_rx_buf_sz(bytes).map_err(Error::Socket)?;
        }
        let client = Client::new()?;
        let mut watcher = Self {
            socket,
            buffer: Vec::with_capacity(DATAGRAM),
            client,
            links: BTreeMap::new(),
            addresses: HashMap::new(),
            pending: VecDeque::new(),
            resyncs: 0,
            undecodable: 0,
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

    /// How many kernel messages could not be decoded (each was logged and answered by a
    /// resync).
    pub fn undecodable(&self) -> u64 {
        self.undecodable
    }

    /// The next change. Cancel-safe between events: dropping the future loses nothing that
    /// was already received, except during a resynchronisation.
    pub async fn next(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            self.buffer.clear();
            match self.socket.recv_from(&mut self.buffer).await {
                Ok(_) => {}
                // The kernel dropped messages for want of room: what we know may be stale.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.resync().await?;
                    continue;
                }
                Err(e) => return Err(Error::Socket(e)),
            }
            let read = read_datagram(
                &self.buffer,
                &mut self.links,
                &mut self.addresses,
                &mut self.pending,
            );
            if read.undecodable > 0 {
                self.undecodable += read.undecodable as u64;
                warn!(
                    count = read.undecodable,
                    total = self.undecodable,
                    "undecodable netlink event; reading links and addresses again"
                );
            }
            if read.undecodable > 0 || read.overrun {
                self.resync().await?;
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
        // What is queued is older than the dump we are about to take: drop it (a message that
        // arrives after this is applied on top of the dump, which changes nothing if the dump
        // already has it).
        let mut dropped = 0usize;
        loop {
            self.buffer.clear();
            match self
                .socket
                .socket_ref()
                .recv(&mut self.buffer, libc::MSG_DONTWAIT)
            {
                Ok(_) => dropped += 1,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                // Another overflow while draining: the dump below covers it.
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {}
                Err(e) => return Err(Error::Socket(e)),
            }
        }
        debug!("dropped {dropped} queued datagrams before the dump");
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
}

/// What reading one datagram of notifications found besides the model's changes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Read {
    /// Messages that could not be decoded (or a malformed rest of the datagram).
    pub(crate) undecodable: usize,
    /// The kernel said it dropped messages (`NLMSG_OVERRUN`).
    pub(crate) overrun: bool,
}

/// Applies every message of one datagram from the event socket to the model, queueing events.
pub(crate) fn read_datagram(
    mut data: &[u8],
    links: &mut BTreeMap<u32, LinkState>,
    addresses: &mut HashMap<(u32, IpAddr, u8), Address>,
    pending: &mut VecDeque<Event>,
) -> Read {
    let mut read = Read::default();
    while !data.is_empty() {
        let len = match NetlinkBuffer::new_checked(data) {
            Ok(buffer) => buffer.length() as usize,
            Err(e) => {
                debug!(error = %e, "malformed netlink header in an event datagram");
                read.undecodable += 1;
                break;
            }
        };
        // `new_checked` saw 16 <= len <= data.len(): the loop always moves on.
        let message = &data[..len];
        data = data.get(len.next_multiple_of(4)..).unwrap_or(&[]);
        match NetlinkMessage::<RouteNetlinkMessage>::deserialize(message) {
            Ok(msg) => match msg.payload {
                NetlinkPayload::InnerMessage(inner) => apply_to(links, addresses, pending, inner),
                NetlinkPayload::Overrun(_) => read.overrun = true,
                _ => {}
            },
            Err(e) => {
                debug!(error = %e, "undecodable netlink event");
                read.undecodable += 1;
            }
        }
    }
    read
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
    fn a_datagram_is_read_message_by_message_and_bad_ones_are_counted() {
        let vip = crate::Vip::new("192.0.2.9".parse().unwrap(), "eth0").message(4);
        let mut good = NetlinkMessage::from(RouteNetlinkMessage::NewAddress(vip));
        good.finalize();
        let mut data = vec![0u8; good.buffer_len()];
        good.serialize(&mut data);
        // A RTM_DELADDR (type 21) whose body is cut short: it cannot be decoded, and it might
        // have been the removal of a VIP, so the caller must resync.
        let mut bad = vec![0u8; 20];
        bad[0..4].copy_from_slice(&20u32.to_ne_bytes());
        bad[4..6].copy_from_slice(&21u16.to_ne_bytes());
        data.extend_from_slice(&bad);
        // An overrun notice (NLMSG_OVERRUN, type 4), then a header that lies about its length.
        let mut overrun = vec![0u8; 16];
        overrun[0..4].copy_from_slice(&16u32.to_ne_bytes());
        overrun[4..6].copy_from_slice(&4u16.to_ne_bytes());
        data.extend_from_slice(&overrun);
        data.extend_from_slice(&500u32.to_ne_bytes());
        data.extend_from_slice(&[0; 12]);

        let (mut links, mut addresses, mut pending) =
            (BTreeMap::new(), HashMap::new(), VecDeque::new());
        let read = read_datagram(&data, &mut links, &mut addresses, &mut pending);
        assert_eq!(
            read,
            Read {
                undecodable: 2,
                overrun: true
            }
        );
        assert!(matches!(pending.pop_front(), Some(Event::AddressAdded(a)) if a.index == 4));
        assert!(pending.is_empty());
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
