//! The tokio driver: carries out what the [`Director`] core decides, and feeds it what happens.
//!
//! Everything that can fail at start (sockets, GARP senders, netlink) is opened before the
//! first change to the host, so a configuration that cannot run leaves the host as it was.

mod process;
mod socket;

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
use crate::{Director, HostChange, Input, Output};

use self::socket::{Received, VrrpSocket};

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
}

/// Options of [`run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long a notify command may run before it is killed.
    pub notify_timeout: Duration,
    /// How often track files are read.
    pub track_file_poll: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            notify_timeout: Duration::from_secs(30),
            track_file_poll: Duration::from_secs(1),
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

/// Runs `setup` until SIGTERM or SIGINT, then leaves cleanly (priority-0 adverts, addresses
/// removed, `notify_stop`). `ready` is called once the sockets are open and the instances
/// started (for systemd's READY=1).
pub async fn run(setup: Setup, options: RunOptions, ready: impl FnOnce()) -> Result<(), Error> {
    // Everything that can fail, before anything changes.
    let mut sockets: Vec<VrrpSocket> = Vec::new();
    for inst in &setup.instances {
        let ifindex = inst.fsm.interface.0;
        let ipv6 = inst.fsm.primary_address.is_ipv6();
        if sockets
            .iter()
            .any(|s| s.ifindex == ifindex && s.ipv6 == ipv6)
        {
            continue;
        }
        let groups: Vec<IpAddr> = setup
            .instances
            .iter()
            .filter(|i| i.fsm.interface.0 == ifindex && i.fsm.primary_address.is_ipv6() == ipv6)
            .flat_map(|i| i.destinations.iter().copied())
            .collect();
        let socket = VrrpSocket::open(&inst.ifname, ifindex, ipv6, &groups).map_err(|source| {
            Error::Socket {
                ifname: inst.ifname.clone(),
                source,
            }
        })?;
        sockets.push(socket);
    }
    let mut senders: HashMap<u32, garp::Sender> = HashMap::new();
    for inst in &setup.instances {
        for (v, &ifindex) in inst.vips.iter().zip(inst.vip_ifindex.iter()) {
            if senders.contains_key(&ifindex) {
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
    let client = vip::Client::new()?;
    let mut watcher = vip::Watcher::new().await?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
    let (notify_tx, notify_rx) = mpsc::unbounded_channel::<NotifyJob>();
    let notifier = tokio::spawn(notify_worker(notify_rx, options.notify_timeout));
    let files: Vec<(PathBuf, Option<(i64, bool)>)> = setup
        .track_files
        .iter()
        .map(|f| (f.path.clone(), f.init))
        .collect();
    if !files.is_empty() {
        tokio::spawn(watch_files(
            files,
            options.track_file_poll,
            events_tx.clone(),
        ));
    }

    let links: Vec<(u32, bool)> = setup.interfaces.iter().map(|i| (i.index, i.up)).collect();
    let mut director = Director::new(setup)?;
    let now = Instant::now();
    for (ifindex, up) in links {
        director.handle_input(Input::Link { now, ifindex, up });
    }
    director.handle_input(Input::Start { now });
    let mut ready = Some(ready);
    let mut buf = vec![0u8; MAX_PACKET_LEN.max(65_536)];
    let mut out = vec![0u8; MAX_PACKET_LEN];
    loop {
        // Act on everything the core has to say.
        let deadline = loop {
            match director.poll_output() {
                Output::Timeout(deadline) => break Some(deadline),
                Output::Stopped => break None,
                output => {
                    act(
                        output, &director, &sockets, &senders, &client, &events_tx, &notify_tx,
                        &mut out,
                    )
                    .await
                }
            }
        };
        let Some(deadline) = deadline else { break };
        if let Some(ready) = ready.take() {
            ready();
        }
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
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
    Ok(())
}

/// Reads every packet queued on `socket` and hands it to the core.
fn drain_socket(socket: &VrrpSocket, director: &mut Director, buf: &mut [u8]) {
    for _ in 0..256 {
        match socket.try_recv(buf) {
            Ok(Some(Received::V4(len))) => director.handle_input(Input::Ipv4 {
                now: Instant::now(),
                ifindex: socket.ifindex,
                datagram: &buf[..len],
            }),
            Ok(Some(Received::V6(len, meta))) => director.handle_input(Input::Ipv6 {
                now: Instant::now(),
                ifindex: socket.ifindex,
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

#[allow(clippy::too_many_arguments)]
async fn act(
    output: Output,
    director: &Director,
    sockets: &[VrrpSocket],
    senders: &HashMap<u32, garp::Sender>,
    client: &vip::Client,
    events: &mpsc::UnboundedSender<Event>,
    notify: &mpsc::UnboundedSender<NotifyJob>,
    out: &mut [u8],
) {
    match output {
        Output::Send(t) => {
            let ipv6 = t.advert.src.is_ipv6();
            let Some(socket) = sockets
                .iter()
                .find(|s| s.ifindex == t.ifindex && s.ipv6 == ipv6)
            else {
                return;
            };
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
        Output::AddVips(change) => add(director, client, &change).await,
        Output::RemoveVips(change) => remove(director, client, &change).await,
        Output::Announce { ifindex, addr } => {
            if let Some(sender) = senders.get(&ifindex)
                && let Err(e) = sender.announce(addr)
            {
                tracing::warn!(%addr, "cannot announce: {e}");
            }
        }
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
        Output::StateChange(_) | Output::Timeout(_) | Output::Stopped => {}
    }
}

async fn add(director: &Director, client: &vip::Client, change: &HostChange) {
    let name = &director.setup().instances[change.instance].name;
    if let Err(e) = client.add_vips(&change.vips).await {
        tracing::error!(instance = %name, "cannot add virtual addresses: {e}");
    }
    for route in change.routes.iter() {
        if let Err(e) = client.add_route(route).await {
            tracing::error!(instance = %name, "cannot add route: {e}");
        }
    }
    for rule in change.rules.iter() {
        if let Err(e) = client.add_rule(rule).await {
            tracing::error!(instance = %name, "cannot add rule: {e}");
        }
    }
}

async fn remove(director: &Director, client: &vip::Client, change: &HostChange) {
    let name = &director.setup().instances[change.instance].name;
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
            let value = match std::fs::read_to_string(path) {
                Ok(text) => text.trim().parse().unwrap_or(0),
                Err(_) => 0,
            };
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
