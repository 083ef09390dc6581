//! The tokio driver: carries out what the [`Director`] core decides, and feeds it what happens.
//!
//! Everything that can fail at start (sockets, GARP senders, netlink) is opened before the
//! first change to the host, so a configuration that cannot run leaves the host as it was.

pub(crate) mod process;
mod socket;
mod timer;

use std::collections::HashMap;
use std::future::poll_fn;
use std::net::IpAddr;
use std::path::PathBuf;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::codec::{self, MAX_PACKET_LEN};
use crate::setup::{HostInterface, Setup};
use crate::{Director, HostChange, Input, Output, Transition};

use self::socket::{Received, VridFilter, VrrpSocket};

/// Why the driver could not start or had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A VRRP socket could not be opened.
    #[error("cannot open the VRRP socket on {ifname}: {source}")]
    Socket {
        /// The interface.
        ifname: String,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A GARP/NA sender could not be opened.
    #[error("cannot open the GARP sender on {ifname}: {source}")]
    Garp {
        /// The interface.
        ifname: String,
        /// Its reason.
        source: garp::Error,
    },
    /// Netlink (addresses, routes, links) failed.
    #[error(transparent)]
    Vip(#[from] vip::Error),
    /// The core refused the setup.
    #[error(transparent)]
    Build(#[from] crate::BuildError),
    /// Signals could not be set up.
    #[error("cannot install signal handlers: {0}")]
    Signal(std::io::Error),
    /// The deadline timer could not be set up.
    #[error("cannot create the timer: {0}")]
    Timer(std::io::Error),
}

/// Options of [`run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long a notify command may run before it is killed.
    pub notify_timeout: Duration,
    /// How often track files are read.
    pub track_file_poll: Duration,
    /// Where every state change of an instance is sent, for the load-balancer half (its
    /// `lvs_sync_daemon` follows the instance it names: see [`crate::lb::Control::Instance`]).
    pub transitions: Option<mpsc::UnboundedSender<Transition>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            notify_timeout: Duration::from_secs(30),
            track_file_poll: Duration::from_secs(1),
            transitions: None,
        }
    }
}

/// The interfaces of this network namespace as [`crate::setup::map`] needs them: index, name,
/// up and running, first IPv4 address, first link-local IPv6 address.
pub async fn host_interfaces(client: &vip::Client) -> Result<Vec<HostInterface>, vip::Error> {
    let links = client.links().await?;
    let addresses = client.addresses().await?;
    Ok(links
        .iter()
        .map(|l| HostInterface {
            index: l.index,
            name: l.name.clone(),
            up: l.is_usable(),
            ipv4: addresses.iter().find_map(|a| match a.addr {
                IpAddr::V4(v4) if a.index == l.index => Some(v4),
                _ => None,
            }),
            ipv6_link_local: addresses.iter().find_map(|a| match a.addr {
                IpAddr::V6(v6) if a.index == l.index && v6.is_unicast_link_local() => Some(v6),
                _ => None,
            }),
            macvlan: match (l.kind.as_deref(), l.parent, l.mac) {
                (Some("macvlan"), Some(parent), Some(mac)) => Some((parent, mac)),
                // A macvlan whose parent or MAC the kernel did not report: never a match.
                (Some("macvlan"), _, _) => Some((0, [0; 6])),
                _ => None,
            },
        })
        .collect())
}

/// A notify command to run: argv and the user to run it as.
type NotifyJob = (Vec<String>, Option<(String, Option<String>)>);

/// Events from helper tasks to the loop.
enum Event {
    Script { script: usize, ok: bool },
    File { file: usize, value: i64 },
}

/// Reads, checks and maps the configuration at `path` on this host for a reload: `None` (with
/// every reason logged) when it cannot run, so the running configuration stays.
pub async fn load(path: &std::path::Path, options: &keepalived_conf::Options) -> Option<Setup> {
    let parsed = match keepalived_conf::parse_file(path, options) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::error!("{}: {e}", path.display());
            return None;
        }
    };
    for d in &parsed.diagnostics {
        tracing::warn!("{}", d.render());
    }
    if parsed.has_errors() {
        tracing::error!("{}: configuration is NOT valid", path.display());
        return None;
    }
    let interfaces = match vip::Client::new() {
        Ok(client) => host_interfaces(&client).await,
        Err(e) => Err(e),
    };
    let interfaces = match interfaces {
        Ok(interfaces) => interfaces,
        Err(e) => {
            tracing::error!("cannot read this host's interfaces: {e}");
            return None;
        }
    };
    match crate::setup::map(&parsed.config, &interfaces) {
        Ok(setup) => Some(setup),
        Err(errors) => {
            for e in errors {
                tracing::error!("{e}");
            }
            None
        }
    }
}

/// Runs `setup` until SIGTERM or SIGINT, then leaves cleanly (priority-0 adverts, addresses
/// removed, `notify_stop`). `ready` is called once the sockets are open and the instances
/// started (for systemd's READY=1). On SIGHUP, `reload` gives the new configuration (see
/// [`load`]; `None` keeps the running one) and the core applies what changed
/// ([`Input::Reload`]); a reload that would add or remove a VMAC, or needs a multicast group
/// an open socket has not joined, is refused and logged.
pub async fn run(
    setup: Setup,
    options: RunOptions,
    reload: impl AsyncFnMut() -> Option<Setup>,
    ready: impl FnOnce(),
) -> Result<(), Error> {
    run_observed(
        setup,
        options,
        reload,
        crate::control::Requests::none(),
        ready,
    )
    .await
}

/// [`run`], answering state requests ([`crate::control`]) with [`Director::snapshot`] between
/// two events.
pub async fn run_observed(
    setup: Setup,
    options: RunOptions,
    mut reload: impl AsyncFnMut() -> Option<Setup>,
    mut requests: crate::control::Requests<crate::state::VrrpState>,
    ready: impl FnOnce(),
) -> Result<(), Error> {
    // Everything that can fail, before anything changes.
    let mut sockets: Vec<VrrpSocket> = Vec::new();
    open_sockets(&setup, &mut sockets)?;
    let mut senders: HashMap<u32, garp::Sender> = HashMap::new();
    open_senders(&setup, &mut senders)?;
    let client = vip::Client::new()?;
    let mut watcher = vip::Watcher::new().await?;
    let timer = timer::Deadline::new().map_err(Error::Timer)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    // keepalived reloads on SIGHUP; this half cannot yet, but a HUP must not kill it (the
    // default action) when it runs alone (`-P`).
    let mut sighup = signal(SignalKind::hangup()).map_err(Error::Signal)?;
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let (notify_tx, notify_rx) = mpsc::unbounded_channel::<NotifyJob>();
    let notifier = tokio::spawn(notify_worker(notify_rx, options.notify_timeout));
    let spawn_watcher = |setup: &Setup| {
        let files: Vec<(PathBuf, Option<(i64, bool)>)> = setup
            .track_files
            .iter()
            .map(|f| (f.path.clone(), f.init))
            .collect();
        (!files.is_empty()).then(|| {
            tokio::spawn(watch_files(
                files,
                options.track_file_poll,
                events_tx.clone(),
            ))
        })
    };
    let mut file_watcher = spawn_watcher(&setup);

    // The first change to the host: the VMACs (removed again if anything after fails).
    let mut setup = setup;
    let vmacs = match create_vmacs(&client, &mut setup, &mut senders, &mut sockets).await {
        Ok(vmacs) => vmacs,
        Err((e, created)) => {
            remove_vmacs(&client, &created).await;
            return Err(e);
        }
    };
    let links: Vec<(u32, bool)> = setup.interfaces.iter().map(|i| (i.index, i.up)).collect();
    let mut director = match Director::new(setup) {
        Ok(director) => director,
        Err(e) => {
            remove_vmacs(&client, &vmacs).await;
            return Err(e.into());
        }
    };
    let now = Instant::now();
    for (ifindex, up) in links {
        director.handle_input(Input::Link { now, ifindex, up });
    }
    director.handle_input(Input::Start { now });
    let mut ready = Some(ready);
    let mut buf = vec![0u8; MAX_PACKET_LEN.max(65_536)];
    let mut out = vec![0u8; MAX_PACKET_LEN];
    loop {
        // Act on everything the core has to say: adverts first (they are what a peer times),
        // then the host changes in order (the additions of many instances taking over together
        // in one netlink batch), then the GARPs (after their addresses exist), then the rest.
        let mut changes = Vec::new();
        let mut announcements = Vec::new();
        let mut rest = Vec::new();
        let deadline = loop {
            match director.poll_output() {
                Output::Timeout(deadline) => break Some(deadline),
                Output::Stopped => break None,
                Output::Send(t) => {
                    let vmac = vmacs.iter().find(|v| {
                        v.base == t.ifindex
                            && v.vrid == t.advert.vrid
                            && !t.advert.src.is_ipv6()
                            && !v.xmit_base
                    });
                    match vmac.and_then(|v| sockets.get(v.socket)) {
                        Some(socket) => send_on(&t, socket, &mut out),
                        None => send(&t, &sockets, &mut out),
                    }
                }
                output @ (Output::AddVips(_) | Output::RemoveVips(_)) => changes.push(output),
                Output::Announce { ifindex, addr } => announcements.push((ifindex, addr)),
                Output::StateChange(t) => {
                    if let Some(tx) = &options.transitions {
                        let _ = tx.send(t);
                    }
                }
                output => rest.push(output),
            }
        };
        apply(&client, changes).await;
        for (ifindex, addr) in announcements {
            announce(&senders, ifindex, addr);
        }
        for output in rest {
            act(output, &events_tx, &notify_tx);
        }
        let Some(deadline) = deadline else { break };
        if let Some(ready) = ready.take() {
            ready();
        }
        let sleep = async {
            match deadline {
                Some(d) => {
                    if let Err(e) = timer.wait_until(d).await {
                        tracing::warn!("timer: {e}; falling back to tokio's");
                        tokio::time::sleep_until(d.into()).await;
                    }
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = sigterm.recv() => {
                tracing::info!("SIGTERM: stopping");
                director.handle_input(Input::Shutdown { now: Instant::now() });
            }
            _ = sigint.recv() => {
                tracing::info!("SIGINT: stopping");
                director.handle_input(Input::Shutdown { now: Instant::now() });
            }
            _ = sighup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                if let Some(new) = reload().await
                    && let Some(new) = prepare_reload(director.setup(), new, &mut sockets, &mut senders)
                {
                    let files_changed = new.track_files != director.setup().track_files;
                    director.handle_input(Input::Reload { now: Instant::now(), setup: &new });
                    if files_changed {
                        if let Some(watcher) = file_watcher.take() {
                            watcher.abort();
                        }
                        file_watcher = spawn_watcher(director.setup());
                    }
                }
            }
            reply = requests.next() => {
                let _ = reply.send(director.snapshot(Instant::now()));
            }
            index = poll_fn(|cx| {
                for (i, s) in sockets.iter().enumerate() {
                    if let Poll::Ready(r) = s.poll_read_ready(cx) {
                        return Poll::Ready(r.map(|()| i));
                    }
                }
                Poll::Pending
            }) => {
                match index {
                    Ok(i) => drain_socket(&sockets[i], &mut director, &mut buf),
                    Err(e) => tracing::warn!("VRRP socket: {e}"),
                }
            }
            event = events.recv() => match event {
                Some(Event::Script { script, ok }) => {
                    director.handle_input(Input::ScriptResult { now: Instant::now(), script, ok });
                }
                Some(Event::File { file, value }) => {
                    director.handle_input(Input::FileValue { now: Instant::now(), file, value });
                }
                None => {}
            },
            event = watcher.next() => match event {
                Ok(vip::Event::LinkUp(l)) | Ok(vip::Event::LinkAdded(l)) => {
                    director.handle_input(Input::Link { now: Instant::now(), ifindex: l.index, up: l.is_usable() });
                }
                Ok(vip::Event::LinkDown(l)) | Ok(vip::Event::LinkRemoved(l)) => {
                    director.handle_input(Input::Link { now: Instant::now(), ifindex: l.index, up: false });
                }
                Ok(vip::Event::AddressRemoved(a)) => {
                    director.handle_input(Input::AddressRemoved { now: Instant::now(), ifindex: a.index, addr: a.addr });
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("link watcher: {e}"),
            },
            () = sleep => {
                director.handle_input(Input::Timeout(Instant::now()));
            }
        }
    }
    // Let the notify commands of the shutdown run (each has its timeout).
    drop(notify_tx);
    let _ = notifier.await;
    remove_vmacs(&client, &vmacs).await;
    Ok(())
}

/// A VMAC the driver created: its name, its instance's interface and VRID, and its socket (an
/// index in the sockets: adverts leave from it unless `vmac_xmit_base`, and its VRID arrives
/// on it).
struct VmacPort {
    name: String,
    base: u32,
    vrid: u8,
    socket: usize,
    xmit_base: bool,
}

/// Opens the VRRP socket of every (interface, family) of `setup` that has none in `sockets`.
fn open_sockets(setup: &Setup, sockets: &mut Vec<VrrpSocket>) -> Result<(), Error> {
    for inst in &setup.instances {
        let ifindex = inst.fsm.interface.0;
        let ipv6 = inst.fsm.primary_address.is_ipv6();
        if sockets
            .iter()
            .any(|s| s.ifindex == ifindex && s.ipv6 == ipv6)
        {
            continue;
        }
        let groups = multicast_groups(setup, ifindex, ipv6);
        let socket = VrrpSocket::open(&inst.ifname, ifindex, ipv6, &groups).map_err(|source| {
            Error::Socket {
                ifname: inst.ifname.clone(),
                source,
            }
        })?;
        let mut socket = socket;
        let vmac_vrids: Vec<u8> = setup
            .instances
            .iter()
            .filter(|i| i.fsm.interface.0 == ifindex && !ipv6 && i.vmac.is_some())
            .map(|i| i.fsm.vrid)
            .collect();
        if !vmac_vrids.is_empty() {
            socket.vrids = VridFilter::Except(vmac_vrids);
        }
        sockets.push(socket);
    }
    Ok(())
}

/// The multicast groups the instances of `setup` on (`ifindex`, family) send to, each once
/// (joining twice is EADDRINUSE).
fn multicast_groups(setup: &Setup, ifindex: u32, ipv6: bool) -> Vec<IpAddr> {
    let mut groups: Vec<IpAddr> = setup
        .instances
        .iter()
        .filter(|i| i.fsm.interface.0 == ifindex && i.fsm.primary_address.is_ipv6() == ipv6)
        .flat_map(|i| i.destinations.iter().copied())
        .filter(IpAddr::is_multicast)
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

/// Opens a GARP/NA sender on every interface of `setup`'s addresses that has none.
fn open_senders(setup: &Setup, senders: &mut HashMap<u32, garp::Sender>) -> Result<(), Error> {
    for inst in &setup.instances {
        for (v, &ifindex) in inst.vips.iter().zip(inst.vip_ifindex.iter()) {
            // 0: on a VMAC that does not exist yet (opened once it does).
            if ifindex == 0 || senders.contains_key(&ifindex) {
                continue;
            }
            let sender =
                garp::Sender::open(&v.dev, garp::SourceMac::Interface).map_err(|source| {
                    Error::Garp {
                        ifname: v.dev.clone(),
                        source,
                    }
                })?;
            senders.insert(ifindex, sender);
        }
    }
    Ok(())
}

/// Makes `new` ready for [`Input::Reload`] against the `running` setup: the VMACs' interface
/// indexes filled in, sockets and senders opened for new interfaces. `None` (logged) when it
/// needs what a reload cannot do.
fn prepare_reload(
    running: &Setup,
    mut new: Setup,
    sockets: &mut Vec<VrrpSocket>,
    senders: &mut HashMap<u32, garp::Sender>,
) -> Option<Setup> {
    let vmacs = |s: &Setup| {
        let mut v: Vec<(String, vip::Vmac, bool)> = s
            .instances
            .iter()
            .filter_map(|i| Some((i.name.clone(), i.vmac.clone()?, i.vmac_xmit_base)))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    if vmacs(running) != vmacs(&new) {
        tracing::error!(
            "reload refused, the running configuration stays: use_vmac instances added, removed \
             or changed (restart lvskitd for that)"
        );
        return None;
    }
    for inst in &mut new.instances {
        if inst.vmac.is_some()
            && let Some(old) = running.instances.iter().find(|o| o.name == inst.name)
        {
            inst.vip_ifindex = old.vip_ifindex.clone();
        }
    }
    for s in sockets.iter().filter(|s| s.feed_as == s.ifindex) {
        let joined = multicast_groups(running, s.ifindex, s.ipv6);
        if let Some(group) = multicast_groups(&new, s.ifindex, s.ipv6)
            .iter()
            .find(|g| !joined.contains(g))
        {
            tracing::error!(
                "reload refused, the running configuration stays: multicast group {group} is \
                 new on interface {} (restart lvskitd for that)",
                s.ifindex
            );
            return None;
        }
    }
    if let Err(e) = open_sockets(&new, sockets).and_then(|()| open_senders(&new, senders)) {
        tracing::error!("reload refused, the running configuration stays: {e}");
        return None;
    }
    Some(new)
}

/// Creates the VMAC of every instance with `use_vmac`, fills in the index of the addresses that
/// live on it and opens its GARP sender (and its advert socket unless `vmac_xmit_base`). On
/// failure, returns the VMACs created so far with the error.
async fn create_vmacs(
    client: &vip::Client,
    setup: &mut Setup,
    senders: &mut HashMap<u32, garp::Sender>,
    sockets: &mut Vec<VrrpSocket>,
) -> Result<Vec<VmacPort>, (Error, Vec<VmacPort>)> {
    let mut created = Vec::new();
    for i in 0..setup.instances.len() {
        let Some(vmac) = setup.instances[i].vmac.clone() else {
            continue;
        };
        let link = match client.add_vmac(&vmac).await {
            Ok((_, link)) => link,
            Err(e) => return Err((e.into(), created)),
        };
        tracing::info!(instance = %setup.instances[i].name, "VMAC {} (index {})", vmac.name, link.index);
        let inst = &mut setup.instances[i];
        let mut indexes = inst.vip_ifindex.to_vec();
        for (x, v) in indexes.iter_mut().zip(inst.vips.iter()) {
            if *x == 0 && v.dev == vmac.name {
                *x = link.index;
            }
        }
        inst.vip_ifindex = indexes.into();
        let socket = VrrpSocket::open_vmac(
            &vmac.name,
            link.index,
            inst.fsm.interface.0,
            inst.fsm.vrid,
            &inst.destinations,
        );
        let socket = match socket {
            Ok(socket) => socket,
            Err(source) => {
                let e = Error::Socket {
                    ifname: vmac.name.clone(),
                    source,
                };
                created.push(VmacPort {
                    name: vmac.name,
                    base: inst.fsm.interface.0,
                    vrid: inst.fsm.vrid,
                    socket: usize::MAX,
                    xmit_base: true,
                });
                return Err((e, created));
            }
        };
        sockets.push(socket);
        created.push(VmacPort {
            name: vmac.name.clone(),
            base: inst.fsm.interface.0,
            vrid: inst.fsm.vrid,
            socket: sockets.len() - 1,
            xmit_base: inst.vmac_xmit_base,
        });
        if let std::collections::hash_map::Entry::Vacant(slot) = senders.entry(link.index) {
            match garp::Sender::open(&vmac.name, garp::SourceMac::Interface) {
                Ok(sender) => {
                    slot.insert(sender);
                }
                Err(source) => {
                    return Err((
                        Error::Garp {
                            ifname: vmac.name,
                            source,
                        },
                        created,
                    ));
                }
            }
        }
    }
    Ok(created)
}

async fn remove_vmacs(client: &vip::Client, vmacs: &[VmacPort]) {
    for vmac in vmacs {
        if let Err(e) = client.remove_vmac(&vmac.name).await {
            tracing::warn!("cannot remove VMAC {}: {e}", vmac.name);
        }
    }
}

/// Reads every packet queued on `socket` and hands it to the core.
fn drain_socket(socket: &VrrpSocket, director: &mut Director, buf: &mut [u8]) {
    for _ in 0..256 {
        match socket.try_recv(buf) {
            Ok(Some(Received::V4(len))) => {
                if socket.vrids.passes_ipv4(&buf[..len]) {
                    director.handle_input(Input::Ipv4 {
                        now: Instant::now(),
                        ifindex: socket.feed_as,
                        datagram: &buf[..len],
                    });
                }
            }
            Ok(Some(Received::V6(len, meta))) => director.handle_input(Input::Ipv6 {
                now: Instant::now(),
                ifindex: socket.feed_as,
                meta,
                payload: &buf[..len],
            }),
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(ifindex = socket.ifindex, "VRRP receive: {e}");
                return;
            }
        }
    }
}

/// Writes and sends one advert to each destination, on its interface's socket.
fn send(t: &crate::Transmit, sockets: &[VrrpSocket], out: &mut [u8]) {
    let ipv6 = t.advert.src.is_ipv6();
    if let Some(socket) = sockets
        .iter()
        .find(|s| s.ifindex == t.ifindex && s.ipv6 == ipv6)
    {
        send_on(t, socket, out);
    }
}

/// Writes and sends one advert to each destination on `socket`.
fn send_on(t: &crate::Transmit, socket: &VrrpSocket, out: &mut [u8]) {
    for &dst in t.destinations.iter() {
        match codec::emit(&t.advert, dst, &t.wire, out) {
            Ok(len) => {
                if let Err(e) = socket.send(&out[..len], t.advert.src, dst) {
                    tracing::warn!(vrid = t.advert.vrid, %dst, "cannot send advert: {e}");
                }
            }
            Err(e) => tracing::error!(vrid = t.advert.vrid, "cannot write advert: {e}"),
        }
    }
}

/// Sends one gratuitous ARP or unsolicited NA.
fn announce(senders: &HashMap<u32, garp::Sender>, ifindex: u32, addr: IpAddr) {
    if let Some(sender) = senders.get(&ifindex)
        && let Err(e) = sender.announce(addr)
    {
        tracing::warn!(%addr, "cannot announce: {e}");
    }
}

/// Starts scripts and queues notify commands; neither holds the loop up.
fn act(
    output: Output,
    events: &mpsc::UnboundedSender<Event>,
    notify: &mpsc::UnboundedSender<NotifyJob>,
) {
    match output {
        Output::RunScript {
            script,
            command,
            timeout,
        } => {
            let events = events.clone();
            tokio::spawn(async move {
                let ok = process::run_script(&command, timeout).await;
                let _ = events.send(Event::Script { script, ok });
            });
        }
        Output::Notify { argv, user } => {
            let _ = notify.send((argv, user));
        }
        _ => {}
    }
}

/// Applies host changes in order; consecutive additions go to the kernel as one batch of
/// addresses (then their routes and rules).
async fn apply(client: &vip::Client, changes: Vec<Output>) {
    let mut adds: Vec<HostChange> = Vec::new();
    for change in changes {
        match change {
            Output::AddVips(c) => adds.push(c),
            Output::RemoveVips(c) => {
                add(client, std::mem::take(&mut adds)).await;
                remove(client, &c).await;
            }
            _ => {}
        }
    }
    add(client, adds).await;
}

async fn add(client: &vip::Client, changes: Vec<HostChange>) {
    if changes.is_empty() {
        return;
    }
    let vips: Vec<vip::Vip> = changes
        .iter()
        .flat_map(|c| c.vips.iter().cloned())
        .collect();
    if let Err(e) = client.add_vips(&vips).await {
        // One bad interface must not keep the other instances' addresses off: one at a time.
        tracing::debug!(
            "batch of {} addresses refused ({e}); adding one instance at a time",
            vips.len()
        );
        for c in &changes {
            if let Err(e) = client.add_vips(&c.vips).await {
                tracing::error!(instance = %c.name, "cannot add virtual addresses: {e}");
            }
        }
    }
    for c in &changes {
        let name = &c.name;
        for route in c.routes.iter() {
            if let Err(e) = client.add_route(route).await {
                tracing::error!(instance = %name, "cannot add route: {e}");
            }
        }
        for rule in c.rules.iter() {
            if let Err(e) = client.add_rule(rule).await {
                tracing::error!(instance = %name, "cannot add rule: {e}");
            }
        }
    }
}

async fn remove(client: &vip::Client, change: &HostChange) {
    let name = &change.name;
    for rule in change.rules.iter() {
        if let Err(e) = client.remove_rule(rule).await {
            tracing::warn!(instance = %name, "cannot remove rule: {e}");
        }
    }
    for route in change.routes.iter() {
        if let Err(e) = client.remove_route(route).await {
            tracing::warn!(instance = %name, "cannot remove route: {e}");
        }
    }
    if let Err(e) = client.remove_vips(&change.vips).await {
        tracing::warn!(instance = %name, "cannot remove virtual addresses: {e}");
    }
}

/// Runs notify commands one after the other, in the order the core gave them.
async fn notify_worker(mut queue: mpsc::UnboundedReceiver<NotifyJob>, timeout: Duration) {
    while let Some((argv, user)) = queue.recv().await {
        match process::run(&argv, user.as_ref(), timeout).await {
            Ok(true) => tracing::debug!(program = %argv[0], "notify done"),
            Ok(false) => tracing::warn!(program = %argv[0], "notify command failed or timed out"),
            Err(e) => tracing::warn!(program = ?argv.first(), "cannot run notify command: {e}"),
        }
    }
}

/// Reads each track file every `period` and reports changed values (a missing or unreadable
/// file, or text that is no number, reads as 0). `init_file` is written first.
async fn watch_files(
    files: Vec<(PathBuf, Option<(i64, bool)>)>,
    period: Duration,
    events: mpsc::UnboundedSender<Event>,
) {
    for (path, init) in &files {
        if let Some((value, overwrite)) = init
            && (*overwrite || !path.exists())
            && let Err(e) = std::fs::write(path, format!("{value}\n"))
        {
            tracing::warn!(path = %path.display(), "cannot initialise track file: {e}");
        }
    }
    let mut last: Vec<Option<i64>> = vec![None; files.len()];
    loop {
        for (file, (path, _)) in files.iter().enumerate() {
            // A track file is a few bytes: reading it does not hold the runtime up.
            let value = healthcheck::file::read_track_value(path);
            if last[file] != Some(value) {
                last[file] = Some(value);
                if events.send(Event::File { file, value }).is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(period).await;
    }
}
