//! The blocking client on a netlink-sys socket.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_ipvs::{IPVS_GENL_NAME, IpvsAttr, IpvsCmd, IpvsMessage};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_GENERIC};

use crate::batch::{BatchReport, OnError, Op};
use crate::error::{Error, Result, receive_error};
use crate::mrecv::{self, MultiRecv};
use crate::proto::{
    BatchPlan, Codec, DumpReader, Exchanged, Reply, decode, read_destinations, read_messages,
    read_services, start_exchange,
};
use crate::reconcile::ServiceEntry;
use crate::reply;
use crate::types::{Daemon, DaemonState, Destination, Info, Service, ServiceKey, Timeouts};

/// How many times a dump is restarted when the kernel flags it as interrupted.
pub(crate) const DUMP_ATTEMPTS: usize = 8;
/// Largest datagram the kernel sends to a dump (it caps them at 32 KiB), with room to spare.
pub(crate) const RECV_BUFFER: usize = 64 * 1024;
/// What one queued ACK costs the socket's receive buffer, generously (skb overhead included).
const ACK_TRUESIZE: usize = 1024;
/// Socket receive buffer asked for, so a window of ACKs never overflows it.
pub(crate) const SOCKET_RCVBUF: usize = 4 * 1024 * 1024;

/// Settings for opening a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Run `modprobe ip_vs` when the "IPVS" family is missing, then try again.
    pub load_module: bool,
    /// Most requests sent in one `sendmsg` by a batch in [`OnError::Continue`] mode.
    pub window: usize,
    /// The longest wait for one answer from the kernel (an ACK, the next datagram of a dump, the
    /// family reply) before the call fails with [`Error::Timeout`] (default 10 s). Zero is
    /// taken as the default: the kernel's "no timeout" is what this bounds.
    pub timeout: Duration,
}

impl Options {
    /// The default [`Options::timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// The timeout to apply: the asked one, or the default for zero.
    pub(crate) fn effective_timeout(&self) -> Duration {
        if self.timeout.is_zero() {
            Self::DEFAULT_TIMEOUT
        } else {
            self.timeout
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            load_module: false,
            window: 128,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

/// How much the client has talked to the kernel, to prove what a change costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Netlink requests sent (each message counts; a dump is one request, a retried dump two).
    pub requests: u64,
    /// `sendmsg` calls.
    pub sends: u64,
    /// Datagrams received.
    pub receives: u64,
    /// Receive system calls (one `recvmmsg` can take many datagrams).
    pub receive_calls: u64,
}

/// A blocking client for the kernel's IPVS table.
///
/// It resolves the "IPVS" generic-netlink family once, when opened. Every request asks for an
/// ACK; replies are matched to requests by sequence number, so ACKs of a batch may come in any
/// order. Not `Sync`: use one client per thread.
#[derive(Debug)]
pub struct Ipvs {
    socket: Socket,
    codec: Codec,
    recv: MultiRecv,
    /// The socket for small dumps (one service's destinations), opened on first use.
    small: SmallDumps,
    send_buf: Vec<u8>,
    counters: Counters,
    /// Most requests in flight: `options.window`, capped so their ACKs fit the receive buffer.
    window: usize,
    /// The longest wait for one answer (set on every socket as `SO_RCVTIMEO`).
    timeout: Duration,
}

impl Ipvs {
    /// Opens a client; fails with [`Error::ModuleNotLoaded`] when IPVS is not in the kernel.
    pub fn new() -> Result<Self> {
        Self::with_options(Options::default())
    }

    /// Opens a client with the given options.
    pub fn with_options(options: Options) -> Result<Self> {
        let timeout = options.effective_timeout();
        let socket = open_socket()?;
        set_receive_timeout(&socket, timeout)?;
        let mut recv_buf = Vec::with_capacity(RECV_BUFFER);
        let family_id = match resolve_family(&socket, &mut recv_buf, IPVS_GENL_NAME, timeout) {
            Err(Error::ModuleNotLoaded { detail }) if options.load_module => {
                crate::load_module(&detail)?;
                resolve_family(&socket, &mut recv_buf, IPVS_GENL_NAME, timeout)?
            }
            other => other?,
        };
        tracing::debug!(family_id, "resolved the IPVS generic-netlink family");
        let window = window_for(&socket, options.window);
        Ok(Self {
            socket,
            codec: Codec::new(family_id),
            recv: MultiRecv::new(mrecv::SLOTS, mrecv::SLOT),
            small: SmallDumps::Unopened,
            send_buf: Vec::new(),
            counters: Counters::default(),
            window,
            timeout,
        })
    }

    /// Resolves any generic-netlink family by name, mapping a missing one to
    /// [`Error::ModuleNotLoaded`] as for "IPVS". Exposed so the error path can be exercised.
    pub fn resolve_family(name: &str) -> Result<u16> {
        let socket = open_socket()?;
        set_receive_timeout(&socket, Options::DEFAULT_TIMEOUT)?;
        resolve_family(
            &socket,
            &mut Vec::with_capacity(RECV_BUFFER),
            name,
            Options::DEFAULT_TIMEOUT,
        )
    }

    /// The family id the kernel gave "IPVS".
    pub fn family_id(&self) -> u16 {
        self.codec.family_id()
    }

    /// Most requests a [`OnError::Continue`] batch puts in one `sendmsg`: the asked
    /// [`Options::window`], capped so that their ACKs fit the socket's receive buffer.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Requests, sends and receives so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Sets the counters back to zero.
    pub fn reset_counters(&mut self) {
        self.counters = Counters::default();
    }

    /// All services, with their statistics.
    pub fn services(&mut self) -> Result<Vec<Service>> {
        self.dump(
            &IpvsMessage::new(IpvsCmd::GetService),
            Via::Main,
            read_services,
        )
    }

    /// One service, looked up by key.
    pub fn service(&mut self, key: &ServiceKey) -> Result<Service> {
        let msgs = self.request(&crate::proto::get_service_request(key))?;
        crate::proto::first_service(&msgs)
    }

    /// The destinations of a service, with their counters.
    ///
    /// The kernel answers a dump for a service that does not exist with an empty list, not an
    /// error; use [`Ipvs::service`] to tell the two apart.
    pub fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>> {
        let msg = IpvsMessage {
            cmd: IpvsCmd::GetDest,
            attrs: vec![IpvsAttr::Service(key.attrs())],
        };
        self.dump(&msg, Via::Small, read_destinations(key.family()))
    }

    /// Every service with its destinations, in the kernel's order: one dump of services, then
    /// one dump of destinations per service. [`Table::read`](crate::Table::read) keys the same
    /// by service and address.
    pub fn entries(&mut self) -> Result<Vec<ServiceEntry>> {
        let services = self.services()?;
        let mut entries = Vec::with_capacity(services.len());
        for service in services {
            let destinations = self.destinations(&service.key)?;
            entries.push(ServiceEntry {
                service,
                destinations,
            });
        }
        Ok(entries)
    }

    /// Adds a service.
    pub fn new_service(&mut self, service: &Service) -> Result<()> {
        self.apply(&Op::NewService(service.clone()))
    }

    /// Edits a service in place.
    pub fn set_service(&mut self, service: &Service) -> Result<()> {
        self.apply(&Op::SetService(service.clone()))
    }

    /// Deletes a service and its destinations.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<()> {
        self.apply(&Op::DelService(*key))
    }

    /// Adds a destination to a service.
    pub fn new_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.apply(&Op::NewDest(*key, dest.clone()))
    }

    /// Edits a destination in place.
    pub fn set_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<()> {
        self.apply(&Op::SetDest(*key, dest.clone()))
    }

    /// Deletes a destination.
    pub fn del_destination(&mut self, key: &ServiceKey, addr: std::net::SocketAddr) -> Result<()> {
        self.apply(&Op::DelDest(*key, addr))
    }

    /// Deletes every service.
    pub fn flush(&mut self) -> Result<()> {
        self.apply(&Op::Flush)
    }

    /// Zeroes the counters of one service, or of every service with `None`.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<()> {
        self.apply(&Op::Zero(key.copied()))
    }

    /// The connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts> {
        let msgs = self.request(&IpvsMessage::new(IpvsCmd::GetConfig))?;
        Ok(reply::timeouts(&msgs))
    }

    /// Sets the connection timeouts; a zero leaves that one unchanged.
    pub fn set_timeouts(&mut self, timeouts: &Timeouts) -> Result<()> {
        self.apply(&Op::SetTimeouts(*timeouts))
    }

    /// The IPVS version and connection-table size.
    pub fn info(&mut self) -> Result<Info> {
        let msgs = self.request(&IpvsMessage::new(IpvsCmd::GetInfo))?;
        reply::info(&msgs)
    }

    /// The running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<Daemon>> {
        let msgs = self.dump(
            &IpvsMessage::new(IpvsCmd::GetDaemon),
            Via::Small,
            read_messages,
        )?;
        Ok(reply::daemons(&msgs))
    }

    /// Starts a sync daemon.
    pub fn start_daemon(&mut self, daemon: &Daemon) -> Result<()> {
        self.apply(&Op::StartDaemon(daemon.clone()))
    }

    /// Stops the sync daemon in the given state.
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<()> {
        self.apply(&Op::StopDaemon(state))
    }

    /// Applies one operation.
    pub fn apply(&mut self, op: &Op) -> Result<()> {
        self.request(&op.to_message()).map(drop)
    }

    /// Applies many operations: in [`OnError::Continue`] mode up to `window` requests go in each
    /// `sendmsg`; every one carries `NLM_F_ACK` and gets its own status. Only a socket failure
    /// is returned as an error; kernel refusals are in the report.
    pub fn batch(&mut self, ops: &[Op], on_error: OnError) -> Result<BatchReport> {
        let mut plan = BatchPlan::new(ops, on_error, self.window);
        while let Some(msgs) = plan.next_window() {
            let (results, _) = self.exchange(&msgs)?;
            plan.record(results);
        }
        Ok(plan.finish())
    }

    /// Sends one request that is answered by an ACK (and maybe data) and returns the data.
    fn request(&mut self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>> {
        crate::proto::single_reply(self.exchange(std::slice::from_ref(msg))?)
    }

    /// Sends `msgs` in one `sendmsg`, each with `NLM_F_ACK`, and waits for every ACK.
    fn exchange(&mut self, msgs: &[IpvsMessage]) -> Result<Exchanged> {
        let Some(mut tracker) = start_exchange(&mut self.codec, &mut self.send_buf, msgs) else {
            return Ok((Vec::new(), Vec::new()));
        };
        self.send()?;
        self.counters.requests += msgs.len() as u64;
        while !tracker.complete() {
            for reply in self.recv()? {
                tracker.on_reply(reply);
            }
        }
        Ok(tracker.into_results())
    }

    /// Runs a dump to its end, starting again when the kernel says it was interrupted; `read`
    /// turns each data message (its generic-netlink payload) into items as it arrives.
    fn dump<T>(
        &mut self,
        msg: &IpvsMessage,
        via: Via,
        mut read: impl FnMut(&[u8], &mut Vec<T>) -> std::result::Result<(), String>,
    ) -> Result<Vec<T>> {
        for attempt in 1..=DUMP_ATTEMPTS {
            self.send_buf.clear();
            let seq = self
                .codec
                .encode(&mut self.send_buf, msg, NLM_F_REQUEST | NLM_F_DUMP);
            let mut dump = DumpReader::new(self.codec.family_id(), seq, msg.cmd, &mut read);
            let small = match via {
                Via::Small => self.small.get(self.timeout),
                Via::Main => None,
            };
            let outcome = match small {
                Some((socket, recv)) => run_dump(
                    (socket, self.timeout),
                    recv,
                    &self.send_buf,
                    &mut dump,
                    &mut self.counters,
                ),
                None => run_dump(
                    (&self.socket, self.timeout),
                    &mut self.recv,
                    &self.send_buf,
                    &mut dump,
                    &mut self.counters,
                ),
            };
            match outcome {
                Err(Error::Io(e)) if via == Via::Small && mrecv::is_truncated(&e) => {
                    // A datagram larger than the small socket's slots: this kernel packs dumps
                    // bigger than a page. Use the main socket for small dumps from now on.
                    tracing::debug!("small-dump socket truncated a datagram; not using it again");
                    self.small = SmallDumps::Refused;
                    continue;
                }
                other => other?,
            }
            if let Some(kernel) = dump.error {
                return Err(Error::from_kernel(kernel));
            }
            if !dump.interrupted {
                return Ok(dump.items);
            }
            tracing::debug!(attempt, cmd = ?msg.cmd, "dump interrupted by a change; starting again");
        }
        Err(Error::Protocol(format!(
            "the {:?} dump was interrupted {DUMP_ATTEMPTS} times in a row",
            msg.cmd
        )))
    }

    fn send(&mut self) -> Result<()> {
        send_all(&self.socket, &self.send_buf, &mut self.counters)
    }

    /// Takes every datagram that is waiting (at least one) and splits them into replies.
    fn recv(&mut self) -> Result<Vec<Reply>> {
        let n = receive(&mut self.recv, &self.socket, self.timeout)?;
        self.counters.receives += n as u64;
        self.counters.receive_calls += 1;
        let mut replies = Vec::new();
        for i in 0..n {
            replies.extend(decode(self.codec.family_id(), self.recv.datagram(i))?);
        }
        Ok(replies)
    }
}

/// Which socket a dump goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// The client's socket, which receives into 32 KiB slots (service dumps, batches).
    Main,
    /// The small-dump socket, when it can be used.
    Small,
}

/// A second socket for dumps that fit in a page, such as one service's destinations.
///
/// The kernel sizes every datagram of a dump by the largest receive buffer the socket has been
/// read with (capped at 32 KiB). On the main socket, read with 32 KiB slots, each of the 10,000
/// destination dumps of a big table made the kernel allocate two 32 KiB buffers (the data and
/// `NLMSG_DONE`) from the page allocator; read with page-sized slots it takes them from a slab,
/// which halves the kernel's time for those dumps (measured in the VM, BENCHMARKS.md). A
/// separate socket keeps the main one free for service dumps, where big datagrams are better
/// (the kernel walks the service table from the start for every datagram).
#[derive(Debug)]
enum SmallDumps {
    /// Not needed yet.
    Unopened,
    Open(Box<(Socket, MultiRecv)>),
    /// Could not be opened, or truncated a datagram: small dumps use the main socket.
    Refused,
}

impl SmallDumps {
    fn get(&mut self, timeout: Duration) -> Option<(&Socket, &mut MultiRecv)> {
        if matches!(self, Self::Unopened) {
            *self = match open_socket().and_then(|socket| {
                set_receive_timeout(&socket, timeout)?;
                Ok(socket)
            }) {
                Ok(socket) => Self::Open(Box::new((
                    socket,
                    MultiRecv::new(mrecv::SMALL_SLOTS, mrecv::small_slot()),
                ))),
                Err(e) => {
                    tracing::debug!(error = %e, "no small-dump socket; using the main one");
                    Self::Refused
                }
            };
        }
        match self {
            Self::Open(open) => {
                let (socket, recv) = &mut **open;
                Some((socket, recv))
            }
            _ => None,
        }
    }
}

/// Sends the dump request in `request` on `socket` and feeds every datagram to `dump` until
/// it is complete.
fn run_dump<T, F>(
    (socket, timeout): (&Socket, Duration),
    recv: &mut MultiRecv,
    request: &[u8],
    dump: &mut DumpReader<T, F>,
    counters: &mut Counters,
) -> Result<()>
where
    F: FnMut(&[u8], &mut Vec<T>) -> std::result::Result<(), String>,
{
    send_all(socket, request, counters)?;
    counters.requests += 1;
    while !dump.complete() {
        let n = receive(recv, socket, timeout)?;
        counters.receives += n as u64;
        counters.receive_calls += 1;
        for i in 0..n {
            dump.feed(recv.datagram(i))?;
        }
    }
    Ok(())
}

/// Waits (at most `timeout`, the socket's `SO_RCVTIMEO`) for datagrams and takes those queued.
fn receive(recv: &mut MultiRecv, socket: &Socket, timeout: Duration) -> Result<usize> {
    recv.recv(socket.as_raw_fd())
        .map_err(|e| receive_error(e, timeout))
}

/// Sets `SO_RCVTIMEO`: every blocking receive on `socket` gives up after `timeout` with
/// `EAGAIN`, which [`receive_error`] turns into [`Error::Timeout`].
pub(crate) fn set_receive_timeout(socket: &Socket, timeout: Duration) -> Result<()> {
    let secs = libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX);
    // A timeval of zero means "no timeout": a sub-microsecond timeout waits one microsecond.
    let micros = if secs == 0 {
        timeout.subsec_micros().max(1)
    } else {
        timeout.subsec_micros()
    };
    let value = libc::timeval {
        tv_sec: secs,
        tv_usec: libc::suseconds_t::from(micros),
    };
    // SAFETY: a valid socket, a timeval option and its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const value).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::Io(io::Error::last_os_error()));
    }
    Ok(())
}

/// Sends one datagram, all of it.
fn send_all(socket: &Socket, buf: &[u8], counters: &mut Counters) -> Result<()> {
    let sent = socket.send(buf, 0)?;
    counters.sends += 1;
    if sent != buf.len() {
        return Err(Error::Protocol(format!(
            "sent {sent} of {} bytes",
            buf.len()
        )));
    }
    Ok(())
}

/// Opens a generic-netlink socket with extended ACKs, capped ACKs and a large receive buffer.
pub(crate) fn open_socket() -> Result<Socket> {
    let mut socket = Socket::new(NETLINK_GENERIC)?;
    configure_socket(&mut socket)?;
    Ok(socket)
}

/// Binds and connects to the kernel, turns on extended and capped ACKs, enlarges the buffer.
pub(crate) fn configure_socket(socket: &mut Socket) -> Result<()> {
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    socket.set_ext_ack(true)?;
    socket.set_cap_ack(true)?;
    set_rcvbuf(socket, SOCKET_RCVBUF);
    Ok(())
}

/// The batch window: what was asked for, but no more ACKs than the receive buffer holds.
pub(crate) fn window_for(socket: &Socket, asked: usize) -> usize {
    let rcvbuf = socket.get_rx_buf_sz().unwrap_or(212_992);
    let fits = (rcvbuf / ACK_TRUESIZE).max(1);
    if asked > fits {
        tracing::debug!(
            asked,
            fits,
            rcvbuf,
            "batch window capped by the receive buffer"
        );
    }
    asked.clamp(1, fits)
}

/// Asks for a big receive buffer: `SO_RCVBUFFORCE` when allowed (root), else `SO_RCVBUF`, which the
/// kernel caps at `net.core.rmem_max`.
fn set_rcvbuf(socket: &Socket, size: usize) {
    let value = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a valid socket, an int option and its size.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&raw const value).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            return;
        }
    }
    tracing::debug!(error = %io::Error::last_os_error(), "could not enlarge the receive buffer");
}

/// `CTRL_CMD_GETFAMILY` for `name`; a missing family is [`Error::ModuleNotLoaded`].
fn resolve_family(
    socket: &Socket,
    buf: &mut Vec<u8>,
    name: &str,
    timeout: Duration,
) -> Result<u16> {
    let request = crate::ctrl::get_family_request(name, crate::ctrl::RESOLVE_SEQ);
    socket.send(&request, 0)?;
    let mut found = None;
    loop {
        buf.clear();
        let n = socket.recv(buf, 0).map_err(|e| receive_error(e, timeout))?;
        if let Some(id) =
            crate::ctrl::parse_family_reply(&buf[..n], crate::ctrl::RESOLVE_SEQ, name, &mut found)?
        {
            return Ok(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket the kernel never answers (nothing was asked) must not block forever: the wait
    /// ends with the typed timeout. (Generic netlink needs no privilege and no IPVS.)
    #[test]
    fn a_silent_kernel_is_a_timeout() {
        let socket = open_socket().unwrap();
        let timeout = Duration::from_millis(50);
        set_receive_timeout(&socket, timeout).unwrap();
        let mut recv = MultiRecv::new(mrecv::SMALL_SLOTS, mrecv::small_slot());
        match receive(&mut recv, &socket, timeout) {
            Err(Error::Timeout(after)) => assert_eq!(after, timeout),
            other => panic!("expected a timeout, found {other:?}"),
        }
        let mut buf = Vec::with_capacity(RECV_BUFFER);
        let err = socket.recv(&mut buf, 0).unwrap_err();
        assert!(matches!(receive_error(err, timeout), Error::Timeout(_)));
    }

    #[test]
    fn a_zero_timeout_is_the_default_not_forever() {
        let options = Options {
            timeout: Duration::ZERO,
            ..Options::default()
        };
        assert_eq!(options.effective_timeout(), Options::DEFAULT_TIMEOUT);
    }
}
