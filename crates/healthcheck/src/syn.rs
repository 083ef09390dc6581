//! TCP_CHECK's probe without a socket of its own: a SYN written on a raw socket, the answer read
//! from it, and the kernel's own reset.
//!
//! TCP_CHECK asks one thing: does the real server answer a SYN with a SYN-ACK (up) or with an RST
//! (refused), and within `connect_timeout`. A kernel TCP socket gets that answer at a price: a
//! connect, the socket's state machine, timers, hashing, and a disconnect for the RST, three
//! system calls per probe. With `CAP_NET_RAW` (the director runs as root, as keepalived does)
//! this module sends the SYN itself on a raw IPPROTO_TCP socket, one `sendmsg`, and reads the
//! answer from the same socket, one `recvmmsg` for all the answers there are. The kernel finds no
//! socket for the SYN-ACK and answers it with an RST of its own, so the wire shows what the
//! pooled probe ([`crate::pool`]) shows and what HAProxy's TCP checks show: SYN, SYN-ACK, RST;
//! the real server accepts nothing. Measured on loopback (both halves of the handshake in our
//! process), 28 % less kernel time per probe than the pooled socket.
//!
//! - **Ports of our own.** Each prober holds [`PORTS`] TCP sockets bound to a block of
//!   consecutive ports inside `ip_local_port_range` (never listening): no other socket of this
//!   host can get those ports, and a SYN-ACK to one of them finds no listener and gets the
//!   kernel's RST. (When no such block is free, the kernel's ephemeral picks.) A probe takes the next port in turn
//!   that has no probe in flight to the same target, so successive probes of one target come
//!   from different ports.
//! - **Answers are matched** by target, our port and the acknowledgement number (a random
//!   initial sequence number per probe, plus one): SYN-ACK is up, RST-ACK is "connection
//!   refused". A classic BPF filter keeps everything else (segments to other ports, of other
//!   sockets of this host; our own SYN on loopback; the kernel's bare RST) out of the raw
//!   socket's queue, so that nothing foreign can fill it.
//! - **Source address.** IPv6 lets the kernel fill in the checksum (`IPV6_CHECKSUM`) and pick the
//!   source. The IPv4 checksum covers the source address, so the prober asks the routing table
//!   which source a connection to the target would get (a UDP socket's `connect` and
//!   `getsockname`, with the probe's mark), caches it for [`SOURCE_TTL`], and pins it with
//!   `IP_PKTINFO`; a send the kernel refuses, and every retransmission, asks again. `bindto` is
//!   the source as given.
//! - **Waiting.** On loopback the SYN-ACK is queued before `sendmsg` returns, so the probe reads it
//!   at once and never waits. A probe that waits leaves a waker in its flight; one reader task
//!   per runtime reads the socket when it is readable and wakes the flights answered. SYNs are
//!   sent again after 1 s, 2 s, 4 s... (the kernel's initial RTO, doubled) until the caller's
//!   `connect_timeout` drops the probe.
//! - **Not covered**, so handled by the pooled socket: `bind_port` (a port the operator chose is
//!   not ours to hold), a thread without `CAP_NET_RAW` (or whose kernel lacks the family), and a
//!   target with probes in flight on every one of our ports. ICMP errors are not read: an
//!   unreachable host times out instead of failing at once.
//! - **Per thread**, like the pool: a raw socket belongs to the network namespace of the thread
//!   that made it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, SockFilter, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;
use vrrp_packet::checksum;

use crate::ConnectOptions;
use crate::net::set_int;
use crate::pool::ProbeError;

/// Ports each prober holds for its probes.
pub(crate) const PORTS: usize = 64;
/// How long a looked-up IPv4 source address is used before the routing table is asked again.
pub(crate) const SOURCE_TTL: Duration = Duration::from_secs(10);
/// The first retransmission; each later one waits twice as long.
const FIRST_RTO: Duration = Duration::from_secs(1);
/// The receive buffer the raw socket asks for, in bytes.
const RECEIVE_BUFFER: libc::c_int = 1 << 20;
/// Answers read per `recvmmsg`.
const BATCH: usize = 16;
/// `recvmmsg` calls one drain makes at most (1,024 answers) before it lets go of the lock and
/// the thread: a flood of SYN-ACKs (answers to nothing, or forged) must not hold the prober's
/// mutex, and with it every probe of the runtime thread, for as long as it lasts.
const DRAIN_BATCHES: usize = 64;
/// Single reads a probe makes for its own answer right after its SYN, at most.
const DRAIN_FOR_READS: usize = 4 * BATCH;
/// The longest wait between two retransmissions (the kernel's `TCP_RTO_MAX`).
const MAX_RTO: Duration = Duration::from_secs(120);
/// Bytes kept of each answer: an IPv4 header with options and the TCP header's first 20 bytes.
const SNAP: usize = 80;
/// The maximum segment size we announce (a probe carries no data; the value is the usual one).
const MSS: [u16; 2] = [1460, 1440];

const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// How a probe stands after its synchronous start.
pub(crate) enum Started {
    /// Answered (or failed) already.
    Done(Result<(), ProbeError>),
    /// Sent; await [`Waiting::finish`] under the time limit.
    Waiting(Waiting),
    /// This prober cannot take the probe: use a socket.
    Unavailable,
}

enum Availability {
    Unknown,
    No,
    Yes(Arc<Prober>),
}

thread_local! {
    static PROBERS: RefCell<[Availability; 2]> =
        const { RefCell::new([Availability::Unknown, Availability::Unknown]) };
}

/// This thread's prober for the family, made on first use; `None` when it could not be made
/// (remembered: the thread's probes use sockets).
fn prober(v6: bool) -> Option<Arc<Prober>> {
    PROBERS
        .try_with(|probers| {
            let mut probers = probers.borrow_mut();
            let slot = &mut probers[usize::from(v6)];
            match slot {
                Availability::Yes(prober) => Some(Arc::clone(prober)),
                Availability::No => None,
                Availability::Unknown => match Prober::new(v6) {
                    Ok(prober) => {
                        let prober = Arc::new(prober);
                        *slot = Availability::Yes(Arc::clone(&prober));
                        Some(prober)
                    }
                    // No privilege, no such family, or no room for the sockets: sockets
                    // serve this thread from now on (trying again at every probe could cost
                    // a raw socket and 64 binds each time).
                    Err(_) => {
                        *slot = Availability::No;
                        None
                    }
                },
            }
        })
        .ok()
        .flatten()
}

/// Starts a TCP_CHECK probe on this thread's raw socket: the SYN is sent, and when its answer is
/// already there (loopback), the probe is done.
pub(crate) fn start(opts: &ConnectOptions) -> Started {
    if opts.bind_port.is_some() {
        return Started::Unavailable;
    }
    let Some(prober) = prober(opts.connect_ip.is_ipv6()) else {
        return Started::Unavailable;
    };
    Prober::start(&prober, opts)
}

/// One probe in flight: its sequence number and, once read, its answer.
struct Flight {
    seq: u32,
    verdict: Option<io::Result<()>>,
    waker: Option<Waker>,
}

type FlightKey = (SocketAddr, u16);

struct Prober {
    v6: bool,
    /// Whether the filter names our ports (else other sockets' answers queue up too).
    block: bool,
    /// Sends every SYN and receives every answer.
    raw: Socket,
    state: Mutex<State>,
}

struct State {
    /// The sockets that hold our ports, and the ports.
    _holders: Vec<Socket>,
    ports: Vec<u16>,
    next_port: usize,
    flights: HashMap<FlightKey, Flight>,
    /// IPv4: the source address the route to a target (and mark) gives, and when it was asked.
    sources: HashMap<(Ipv4Addr, Option<u32>), (Ipv4Addr, Instant)>,
    resolver: Option<Socket>,
    /// Runtimes that have a reader task for this prober.
    readers: Readers,
    rng: u64,
    buffers: Box<[[u8; SNAP]; BATCH]>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn domain(v6: bool) -> Domain {
    if v6 { Domain::IPV6 } else { Domain::IPV4 }
}

fn unspecified(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// The filter on the receiving socket: only SYN-ACK and RST-ACK segments, to our block of ports
/// when there is one, first [`SNAP`] bytes.
fn answer_filter(v6: bool, block: Option<u16>) -> Vec<SockFilter> {
    let op = |code: u32, jt: u8, jf: u8, k: u32| SockFilter::new(code as u16, jt, jf, k);
    let (load_half, load_byte) = if v6 {
        // The segment starts the packet.
        (
            libc::BPF_LD | libc::BPF_H | libc::BPF_ABS,
            libc::BPF_LD | libc::BPF_B | libc::BPF_ABS,
        )
    } else {
        // After the IPv4 header: X = 4 * IHL.
        (
            libc::BPF_LD | libc::BPF_H | libc::BPF_IND,
            libc::BPF_LD | libc::BPF_B | libc::BPF_IND,
        )
    };
    let mut program = Vec::new();
    if !v6 {
        program.push(op(libc::BPF_LDX | libc::BPF_B | libc::BPF_MSH, 0, 0, 0));
    }
    // Offsets count from the next instruction; "reject" and "accept" are the last two.
    if let Some(first) = block {
        let first = u32::from(first);
        program.extend([
            op(load_half, 0, 0, 2), // destination port
            op(libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K, 0, 5, first),
            op(
                libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
                4,
                0,
                first + PORTS as u32,
            ),
        ]);
    }
    let flags = u32::from(SYN | RST | ACK);
    let jeq = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    program.extend([
        op(load_byte, 0, 0, 13),
        op(libc::BPF_ALU | libc::BPF_AND | libc::BPF_K, 0, 0, flags),
        op(jeq, 2, 0, u32::from(SYN | ACK)),
        op(jeq, 1, 0, u32::from(RST | ACK)),
        op(libc::BPF_RET | libc::BPF_K, 0, 0, 0),
        op(libc::BPF_RET | libc::BPF_K, 0, 0, SNAP as u32),
    ]);
    program
}

/// A TCP socket bound to `port` of the unspecified address (0: the kernel picks), never to
/// listen: it keeps the port from every other socket of this host.
fn holder(v6: bool, port: u16) -> io::Result<(Socket, u16)> {
    let socket = Socket::new(domain(v6), Type::STREAM, None)?;
    if v6 {
        socket.set_only_v6(true)?;
    }
    socket.bind(&SocketAddr::new(unspecified(v6), port).into())?;
    let port = socket
        .local_addr()?
        .as_socket()
        .map(|local| local.port())
        .ok_or_else(|| io::Error::other("a TCP socket without a port"))?;
    Ok((socket, port))
}

/// A contiguous block of [`PORTS`] free ports inside `ip_local_port_range`, avoiding
/// `ip_local_reserved_ports`, so that the socket filter can keep out every segment not for us;
/// `None` when no block came free in a few tries (the ports are then the kernel's picks).
fn hold_block(v6: bool) -> Option<(Vec<Socket>, u16)> {
    let read = |name: &str| std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}")).ok();
    let range = read("ip_local_port_range")?;
    let mut bounds = range.split_whitespace().map(|n| n.parse::<u16>().ok());
    let (low, high) = (bounds.next()??, bounds.next()??);
    let reserved: Vec<(u16, u16)> = read("ip_local_reserved_ports")
        .unwrap_or_default()
        .trim()
        .split(',')
        .filter_map(|part| {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect();
    let last_first = high.checked_sub(PORTS as u16 - 1)?;
    if last_first < low {
        return None;
    }
    'attempt: for _ in 0..16 {
        let first = rand::random_range(low..=last_first);
        let last = first + (PORTS as u16 - 1);
        if reserved.iter().any(|&(a, b)| a <= last && first <= b) {
            continue;
        }
        let mut held = Vec::with_capacity(PORTS);
        for port in first..=last {
            match holder(v6, port) {
                Ok((socket, _)) => held.push(socket),
                Err(_) => continue 'attempt,
            }
        }
        return Some((held, first));
    }
    None
}

impl Prober {
    fn new(v6: bool) -> io::Result<Self> {
        let raw = Socket::new(domain(v6), Type::RAW.nonblocking(), Some(Protocol::TCP))?;
        if v6 {
            set_int(&raw, libc::IPPROTO_IPV6, libc::IPV6_CHECKSUM, 16)?;
        }
        let (holders, ports, block) = match hold_block(v6) {
            Some((holders, first)) => (
                holders,
                (first..first + PORTS as u16).collect(),
                Some(first),
            ),
            None => {
                let (holders, ports): (Vec<Socket>, Vec<u16>) = (0..PORTS)
                    .map(|_| holder(v6, 0))
                    .collect::<io::Result<_>>()?;
                (holders, ports, None)
            }
        };
        raw.attach_filter(&answer_filter(v6, block))?;
        // Room for a burst of answers (a thousand or so) between two reads: past rmem_max
        // when we may (SO_RCVBUFFORCE, CAP_NET_ADMIN), else as far as it allows.
        if set_int(&raw, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RECEIVE_BUFFER).is_err() {
            let _ = raw.set_recv_buffer_size(RECEIVE_BUFFER as usize);
        }
        // What queued before the filter was attached.
        let mut scratch = [0u8; SNAP];
        // SAFETY: reading into a live buffer of the length we pass.
        while unsafe {
            libc::recv(
                raw.as_raw_fd(),
                scratch.as_mut_ptr().cast(),
                SNAP,
                libc::MSG_DONTWAIT,
            )
        } >= 0
        {}
        Ok(Self {
            v6,
            block: block.is_some(),
            raw,
            state: Mutex::new(State {
                _holders: holders,
                ports,
                next_port: 0,
                flights: HashMap::new(),
                sources: HashMap::new(),
                resolver: None,
                readers: Readers::default(),
                rng: rand::random::<u64>() | 1,
                buffers: Box::new([[0; SNAP]; BATCH]),
            }),
        })
    }

    fn start(this: &Arc<Self>, opts: &ConnectOptions) -> Started {
        // Without a block of ports the filter lets other sockets' answers in as well: a reader
        // keeps them from filling the queue between probes.
        if !this.block && tokio::runtime::Handle::try_current().is_ok() {
            let _ = Self::ensure_reader(this);
        }
        let target = opts.target();
        let mut state = lock(&this.state);
        let Some(port) = state.free_port(target) else {
            return Started::Unavailable;
        };
        let seq = state.next_seq();
        let probe = Probe {
            target,
            bindto: opts.bindto,
            mark: opts.fwmark,
            port,
        };
        if let Err(e) = this.send(&mut state, &probe, seq, false) {
            return Started::Done(Err(e));
        }
        let key = (target, port);
        state.flights.insert(
            key,
            Flight {
                seq,
                verdict: None,
                waker: None,
            },
        );
        this.drain_for(&mut state, key);
        if let Some(verdict) = state.flights.get_mut(&key).and_then(|f| f.verdict.take()) {
            state.flights.remove(&key);
            return Started::Done(verdict.map_err(ProbeError::Connect));
        }
        Started::Waiting(Waiting {
            prober: Arc::clone(this),
            probe,
            seq,
            sent: Instant::now(),
        })
    }

    /// Sends the SYN of `probe`. `fresh` asks the routing table for the IPv4 source again.
    fn send(
        &self,
        state: &mut State,
        probe: &Probe,
        seq: u32,
        fresh: bool,
    ) -> Result<(), ProbeError> {
        let source = match (probe.bindto, probe.target.ip()) {
            (Some(source), _) => Some(source),
            (None, IpAddr::V4(dst)) => Some(IpAddr::V4(
                state
                    .source(dst, probe.mark, fresh)
                    .map_err(ProbeError::Connect)?,
            )),
            (None, IpAddr::V6(_)) => None,
        };
        let segment = syn_segment(source, probe.target, probe.port, seq);
        match send_to(&self.raw, &segment, probe.target.ip(), source, probe.mark) {
            Ok(()) => Ok(()),
            // A cached source that is no longer ours: ask the route again, once.
            Err(e)
                if !fresh
                    && probe.bindto.is_none()
                    && probe.target.is_ipv4()
                    && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EADDRNOTAVAIL)) =>
            {
                self.send(state, probe, seq, true)
            }
            Err(e) => match probe.bindto.map(unbindable) {
                // Say it as a socket would have, at bind(2).
                Some(Some(bind)) => Err(ProbeError::Setup(bind)),
                _ => Err(ProbeError::Connect(e)),
            },
        }
    }

    /// Reads the answers queued on the socket, [`DRAIN_BATCHES`] batches at most, and hands
    /// each to its flight; false when the budget ran out with more queued.
    fn drain(&self, state: &mut State) -> bool {
        drain_batches(DRAIN_BATCHES, || {
            let (count, answers) = self.receive(state);
            for answer in answers.into_iter().take(count).flatten() {
                state.deliver(answer);
            }
            count
        })
    }

    /// Reads answers one at a time until `key`'s is there or none is left: right after the send
    /// on loopback, one `recv` that finds exactly that answer (cheaper than a `recvmmsg`, which
    /// would go on to ask for a second datagram).
    /// At most [`DRAIN_FOR_READS`] reads: under a flood the probe waits for the reader task.
    fn drain_for(&self, state: &mut State, key: FlightKey) {
        for _ in 0..DRAIN_FOR_READS {
            let Some(answer) = self.receive_one(state) else {
                return;
            };
            if let Some(answer) = answer
                && state.deliver(answer) == Some(key)
            {
                return;
            }
        }
    }

    /// One `recvfrom`: `None` when nothing is queued, else the answer it read, if it is one.
    fn receive_one(&self, state: &mut State) -> Option<Option<Answer>> {
        // SAFETY: a zeroed sockaddr_in6 is valid.
        let mut name: libc::sockaddr_in6 = unsafe { zeroed() };
        let mut name_len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        let buffer = &mut state.buffers[0];
        // SAFETY: buffer and name are live and of the lengths we pass.
        let len = unsafe {
            libc::recvfrom(
                self.raw.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                SNAP,
                libc::MSG_DONTWAIT,
                (&raw mut name).cast(),
                &raw mut name_len,
            )
        };
        let len = usize::try_from(len).ok()?.min(SNAP);
        Some(self.parse(&buffer[..len], &name))
    }

    /// The answer in a datagram of this prober's socket, if it is one: IPv4 raw sockets hand
    /// over the IP header, IPv6 ones only the segment and the sender's address.
    fn parse(&self, packet: &[u8], from: &libc::sockaddr_in6) -> Option<Answer> {
        if self.v6 {
            parse_segment(IpAddr::V6(Ipv6Addr::from(from.sin6_addr.s6_addr)), packet)
        } else {
            parse_ipv4(packet)
        }
    }

    /// One `recvmmsg`: how many datagrams it read, and the answers among them.
    fn receive(&self, state: &mut State) -> (usize, [Option<Answer>; BATCH]) {
        let mut answers = [None; BATCH];
        // SAFETY: a zeroed iovec is a valid (null, empty) value.
        let mut iov: [libc::iovec; BATCH] = unsafe { zeroed() };
        // SAFETY: a zeroed mmsghdr is a valid (null, empty) value.
        let mut headers: [libc::mmsghdr; BATCH] = unsafe { zeroed() };
        // SAFETY: a zeroed sockaddr_in6 is a valid value (the unspecified address).
        let mut names: [libc::sockaddr_in6; BATCH] = unsafe { zeroed() };
        for (i, buffer) in state.buffers.iter_mut().enumerate() {
            iov[i].iov_base = buffer.as_mut_ptr().cast();
            iov[i].iov_len = SNAP;
            let header = &mut headers[i].msg_hdr;
            header.msg_iov = &raw mut iov[i];
            header.msg_iovlen = 1;
            header.msg_name = (&raw mut names[i]).cast();
            header.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        }
        // SAFETY: every header points at live buffers of the lengths it gives.
        let count = unsafe {
            libc::recvmmsg(
                self.raw.as_raw_fd(),
                headers.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        let Ok(count) = usize::try_from(count) else {
            return (0, answers);
        };
        for i in 0..count {
            let len = (headers[i].msg_len as usize).min(SNAP);
            answers[i] = self.parse(&state.buffers[i][..len], &names[i]);
        }
        (count, answers)
    }

    /// Makes sure a task of the current runtime reads the socket when it becomes readable.
    fn ensure_reader(this: &Arc<Self>) -> io::Result<()> {
        let id = tokio::runtime::Handle::current().id();
        let mut state = lock(&this.state);
        if state.readers.has(id) {
            return Ok(());
        }
        let fd: OwnedFd = this.raw.try_clone()?.into();
        // SAFETY: the AsyncFd owns the duplicate descriptor until it is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
        let alive = state.readers.claim(id);
        drop(state);
        tokio::spawn(read_answers(Arc::downgrade(this), fd, alive));
        Ok(())
    }
}

/// Calls `receive` (which reads one batch and returns how many datagrams it read) until a batch
/// comes back short or `batches` calls were made; false in the second case (more may be queued).
fn drain_batches(batches: usize, mut receive: impl FnMut() -> usize) -> bool {
    for _ in 0..batches {
        if receive() < BATCH {
            return true;
        }
    }
    false
}

/// The runtimes that have a reader task for a prober. Each task holds its entry's token; a task
/// that ends, or that goes with its runtime (a runtime dropped with its tasks never runs their
/// last lines), drops it, and the entry is pruned at the next claim.
#[derive(Default)]
struct Readers(Vec<(tokio::runtime::Id, Weak<()>)>);

impl Readers {
    /// Whether a live reader task serves runtime `id`.
    fn has(&self, id: tokio::runtime::Id) -> bool {
        self.0
            .iter()
            .any(|(other, alive)| *other == id && alive.strong_count() > 0)
    }

    /// Records a reader task for runtime `id`, dropping the entries of tasks that are gone; the
    /// task holds the returned token for as long as it lives.
    fn claim(&mut self, id: tokio::runtime::Id) -> Arc<()> {
        self.0.retain(|(_, alive)| alive.strong_count() > 0);
        let alive = Arc::new(());
        self.0.push((id, Arc::downgrade(&alive)));
        alive
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// The reader task: drains the socket whenever it is readable, for as long as the prober lives.
/// A drain that used its budget yields the thread (the socket stays marked readable, so the
/// task comes back at once) instead of holding the lock through a flood.
async fn read_answers(prober: Weak<Prober>, fd: AsyncFd<OwnedFd>, _alive: Arc<()>) {
    while let Ok(mut ready) = fd.readable().await {
        let Some(prober) = prober.upgrade() else {
            return;
        };
        let drained = {
            let mut state = lock(&prober.state);
            prober.drain(&mut state)
        };
        if drained {
            ready.clear_ready();
        } else {
            drop(ready);
            tokio::task::yield_now().await;
        }
    }
}

impl State {
    /// Hands an answer to its flight, if it has one that waits for it; returns that flight.
    fn deliver(&mut self, answer: Answer) -> Option<FlightKey> {
        let key = (answer.from, answer.port);
        let flight = self.flights.get_mut(&key)?;
        if flight.verdict.is_some() || answer.ack != flight.seq.wrapping_add(1) {
            return None;
        }
        flight.verdict = Some(if answer.flags & SYN != 0 {
            Ok(())
        } else {
            Err(io::Error::from_raw_os_error(libc::ECONNREFUSED))
        });
        if let Some(waker) = flight.waker.take() {
            waker.wake();
        }
        Some(key)
    }

    /// The next of our ports with no probe to `target` in flight.
    fn free_port(&mut self, target: SocketAddr) -> Option<u16> {
        for _ in 0..self.ports.len() {
            let port = self.ports[self.next_port];
            self.next_port = (self.next_port + 1) % self.ports.len();
            if !self.flights.contains_key(&(target, port)) {
                return Some(port);
            }
        }
        None
    }

    /// A fresh initial sequence number.
    fn next_seq(&mut self) -> u32 {
        next_seq(&mut self.rng)
    }

    /// The source address of a connection to `dst` with `mark`, from the cache unless it is old
    /// or `fresh` is asked.
    fn source(&mut self, dst: Ipv4Addr, mark: Option<u32>, fresh: bool) -> io::Result<Ipv4Addr> {
        let now = Instant::now();
        if !fresh
            && let Some(&(source, asked)) = self.sources.get(&(dst, mark))
            && now.saturating_duration_since(asked) < SOURCE_TTL
        {
            return Ok(source);
        }
        let marked;
        let resolver = match mark {
            None => match &self.resolver {
                Some(resolver) => resolver,
                None => self
                    .resolver
                    .insert(Socket::new(Domain::IPV4, Type::DGRAM, None)?),
            },
            Some(mark) => {
                marked = Socket::new(Domain::IPV4, Type::DGRAM, None)?;
                marked.set_mark(mark)?;
                &marked
            }
        };
        // Connecting a UDP socket sends nothing; it routes, and binds the source.
        resolver.connect(&SocketAddr::from((dst, 9)).into())?;
        let source = match resolver.local_addr()?.as_socket() {
            Some(SocketAddr::V4(local)) => *local.ip(),
            _ => return Err(io::Error::from_raw_os_error(libc::EADDRNOTAVAIL)),
        };
        if self.sources.len() >= 1 << 16 {
            self.sources.clear();
        }
        self.sources.insert((dst, mark), (source, now));
        Ok(source)
    }
}

/// Why `source` cannot be bound, if it cannot (not an address of this host): asked only after
/// a send from it failed.
fn unbindable(source: IpAddr) -> Option<io::Error> {
    let socket = match Socket::new(
        Domain::for_address(SocketAddr::new(source, 0)),
        Type::DGRAM,
        None,
    ) {
        Ok(socket) => socket,
        Err(e) => return Some(e),
    };
    socket.bind(&SocketAddr::new(source, 0).into()).err()
}

/// xorshift64*: unpredictable enough off-path, as a sequence number here only has to tell our
/// answers apart.
fn next_seq(rng: &mut u64) -> u32 {
    let mut x = *rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *rng = x;
    (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
}

/// What a probe sends, again on each retransmission.
struct Probe {
    target: SocketAddr,
    bindto: Option<IpAddr>,
    mark: Option<u32>,
    port: u16,
}

/// A probe whose answer had not come when it was sent.
pub(crate) struct Waiting {
    prober: Arc<Prober>,
    probe: Probe,
    seq: u32,
    sent: Instant,
}

impl Waiting {
    fn key(&self) -> FlightKey {
        (self.probe.target, self.probe.port)
    }

    /// Waits for the answer, sending the SYN again after 1 s, 2 s, 4 s...; dropping the future
    /// (the time limit) forgets the probe.
    pub(crate) async fn finish(self) -> Result<(), ProbeError> {
        Prober::ensure_reader(&self.prober).map_err(ProbeError::Setup)?;
        let key = self.key();
        let mut rto = FIRST_RTO;
        let mut resend = self.sent + rto;
        loop {
            let answer = std::future::poll_fn(|cx| {
                // The reader task reads the socket (an answer queued before it registered
                // makes the socket readable at registration, so it is read too).
                let mut state = lock(&self.prober.state);
                let Some(flight) = state.flights.get_mut(&key) else {
                    return Poll::Ready(Err(io::Error::other("the probe was forgotten")));
                };
                match flight.verdict.take() {
                    Some(verdict) => Poll::Ready(verdict),
                    None => {
                        flight.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            });
            let mut answer = pin!(answer);
            tokio::select! {
                verdict = &mut answer => return verdict.map_err(ProbeError::Connect),
                () = tokio::time::sleep_until(resend) => {
                    let mut state = lock(&self.prober.state);
                    self.prober.send(&mut state, &self.probe, self.seq, true)?;
                    rto = rto.saturating_mul(2).min(MAX_RTO);
                    resend += rto;
                }
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let key = self.key();
        lock(&self.prober.state).flights.remove(&key);
    }
}

/// A segment read from the socket, as far as matching needs it.
#[derive(Clone, Copy)]
pub(crate) struct Answer {
    from: SocketAddr,
    pub(crate) port: u16,
    ack: u32,
    flags: u8,
}

pub(crate) fn parse_ipv4(packet: &[u8]) -> Option<Answer> {
    let header = usize::from(packet.first()? & 0x0f) * 4;
    let from = Ipv4Addr::new(
        *packet.get(12)?,
        *packet.get(13)?,
        *packet.get(14)?,
        *packet.get(15)?,
    );
    parse_segment(IpAddr::V4(from), packet.get(header..)?)
}

pub(crate) fn parse_segment(from: IpAddr, segment: &[u8]) -> Option<Answer> {
    let be16 = |at: usize| {
        Some(u16::from_be_bytes([
            *segment.get(at)?,
            *segment.get(at + 1)?,
        ]))
    };
    let ack = u32::from_be_bytes(segment.get(8..12)?.try_into().ok()?);
    Some(Answer {
        from: SocketAddr::new(from, be16(0)?),
        port: be16(2)?,
        ack,
        flags: *segment.get(13)?,
    })
}

/// A SYN from our `port` to `target` with sequence number `seq` and an MSS option; the IPv4
/// checksum is ours to write (over `source`), the IPv6 one the kernel's.
fn syn_segment(source: Option<IpAddr>, target: SocketAddr, port: u16, seq: u32) -> [u8; 24] {
    let mut segment = [0u8; 24];
    segment[0..2].copy_from_slice(&port.to_be_bytes());
    segment[2..4].copy_from_slice(&target.port().to_be_bytes());
    segment[4..8].copy_from_slice(&seq.to_be_bytes());
    segment[12] = 6 << 4; // 24-byte header
    segment[13] = SYN;
    segment[14..16].copy_from_slice(&64_240u16.to_be_bytes());
    let mss = MSS[usize::from(target.is_ipv6())];
    segment[20..24].copy_from_slice(&[2, 4, (mss >> 8) as u8, mss as u8]);
    if let (Some(IpAddr::V4(source)), IpAddr::V4(dst)) = (source, target.ip()) {
        let checksum = tcp_checksum_v4(source, dst, &segment);
        segment[16..18].copy_from_slice(&checksum.to_be_bytes());
    }
    segment
}

/// The TCP checksum over the IPv4 pseudo-header and `segment` (checksum field zero).
fn tcp_checksum_v4(source: Ipv4Addr, dst: Ipv4Addr, segment: &[u8]) -> u16 {
    let tcp = libc::IPPROTO_TCP as u8;
    let pseudo = checksum::pseudo_header_v4(source, dst, tcp, segment.len() as u16);
    !checksum::combine(&[pseudo, checksum::data(segment)])
}

/// `sendmsg` of `segment` to `dst`, from `source` when given (`IP_PKTINFO` / `IPV6_PKTINFO`),
/// with `mark` when given (`SO_MARK` as a control message: one socket serves every mark).
fn send_to(
    socket: &Socket,
    segment: &[u8],
    dst: IpAddr,
    source: Option<IpAddr>,
    mark: Option<u32>,
) -> io::Result<()> {
    let to = SockAddr::from(SocketAddr::new(dst, 0));
    let mut iov = libc::iovec {
        iov_base: segment.as_ptr().cast_mut().cast(),
        iov_len: segment.len(),
    };
    // Room for both control messages; u64 for cmsghdr's alignment.
    let mut control = [0u64; 12];
    let mut options: [(libc::c_int, libc::c_int, [u8; 20], usize); 2] = [(0, 0, [0; 20], 0); 2];
    let mut count = 0;
    match source {
        Some(IpAddr::V4(source)) => {
            // struct in_pktinfo: ifindex 0, spec_dst = source, addr unused.
            let mut data = [0u8; 20];
            data[4..8].copy_from_slice(&source.octets());
            options[count] = (libc::IPPROTO_IP, libc::IP_PKTINFO, data, 12);
            count += 1;
        }
        Some(IpAddr::V6(source)) => {
            // struct in6_pktinfo: addr = source, ifindex 0.
            let mut data = [0u8; 20];
            data[..16].copy_from_slice(&source.octets());
            options[count] = (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, data, 20);
            count += 1;
        }
        None => {}
    }
    if let Some(mark) = mark {
        let mut data = [0u8; 20];
        data[..4].copy_from_slice(&mark.to_ne_bytes());
        options[count] = (libc::SOL_SOCKET, libc::SO_MARK, data, 4);
        count += 1;
    }
    // SAFETY: a zeroed msghdr is empty.
    let mut message: libc::msghdr = unsafe { zeroed() };
    message.msg_name = to.as_ptr().cast_mut().cast();
    message.msg_namelen = to.len();
    message.msg_iov = &raw mut iov;
    message.msg_iovlen = 1;
    if count > 0 {
        message.msg_control = control.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE is arithmetic.
        message.msg_controllen = options[..count]
            .iter()
            .map(|option| unsafe { libc::CMSG_SPACE(option.3 as u32) } as usize)
            .sum();
        // SAFETY: the control buffer is aligned for cmsghdr and holds `msg_controllen` bytes
        // (at most 2 × CMSG_SPACE(20) = 80 < 96), so every header and its data stay inside it.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&raw const message);
            for &(level, kind, data, len) in &options[..count] {
                (*cmsg).cmsg_level = level;
                (*cmsg).cmsg_type = kind;
                (*cmsg).cmsg_len = libc::CMSG_LEN(len as u32) as usize;
                std::ptr::copy_nonoverlapping(data.as_ptr(), libc::CMSG_DATA(cmsg), len);
                cmsg = libc::CMSG_NXTHDR(&raw const message, cmsg);
            }
        }
    }
    // SAFETY: the message points at live buffers of the lengths it gives.
    let rc = unsafe { libc::sendmsg(socket.as_raw_fd(), &raw const message, 0) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_ipv4_checksum_matches_one_a_kernel_accepted() {
        // A SYN with an MSS option that a Linux listener on 127.0.0.1:20000 answered (so its
        // checksum, 0x1d49, was right), with the checksum field zeroed.
        let mut segment = hex("bed94e2054cb1b16000000006002ffff00000000020405b4");
        let local = Ipv4Addr::LOCALHOST;
        assert_eq!(tcp_checksum_v4(local, local, &segment), 0x1d49);
        // Over a segment that carries its checksum, the sum comes out as zero.
        segment[16..18].copy_from_slice(&0x1d49u16.to_be_bytes());
        assert_eq!(tcp_checksum_v4(local, local, &segment), 0);
    }

    #[test]
    fn a_syn_segment_says_what_it_should() {
        let source = Ipv4Addr::new(192, 0, 2, 1);
        let target: SocketAddr = "192.0.2.2:443".parse().unwrap();
        let segment = syn_segment(Some(IpAddr::V4(source)), target, 40_000, 0xdead_beef);
        assert_eq!(&segment[0..4], &[0x9c, 0x40, 0x01, 0xbb]);
        assert_eq!(&segment[4..8], &0xdead_beefu32.to_be_bytes());
        assert_eq!(&segment[8..12], &[0; 4], "no ACK number");
        assert_eq!(segment[12] >> 4, 6, "24-byte header");
        assert_eq!(segment[13], SYN);
        assert_eq!(&segment[20..24], &[2, 4, 0x05, 0xb4], "MSS 1460");
        assert_eq!(
            tcp_checksum_v4(
                source,
                *match &target.ip() {
                    IpAddr::V4(ip) => ip,
                    IpAddr::V6(_) => unreachable!(),
                },
                &segment
            ),
            0
        );
        // IPv6: the kernel's checksum (IPV6_CHECKSUM), MSS 1440.
        let v6: SocketAddr = "[2001:db8::2]:80".parse().unwrap();
        let segment = syn_segment(None, v6, 40_000, 1);
        assert_eq!(&segment[16..18], &[0, 0]);
        assert_eq!(&segment[20..24], &[2, 4, 0x05, 0xa0]);
    }

    #[test]
    fn answers_are_read_from_ipv4_packets() {
        // A SYN-ACK from 192.0.2.2:80 to port 40000, ack 0xdeadbef0, behind a 24-byte IPv4
        // header (with options).
        let mut packet = vec![0u8; 24 + 20];
        packet[0] = 0x46;
        packet[12..16].copy_from_slice(&[192, 0, 2, 2]);
        packet[16..20].copy_from_slice(&[192, 0, 2, 1]);
        let tcp = &mut packet[24..];
        tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&40_000u16.to_be_bytes());
        tcp[8..12].copy_from_slice(&0xdead_bef0u32.to_be_bytes());
        tcp[13] = SYN | ACK;
        let answer = parse_ipv4(&packet).unwrap();
        assert_eq!(answer.from, "192.0.2.2:80".parse::<SocketAddr>().unwrap());
        assert_eq!(answer.port, 40_000);
        assert_eq!(answer.ack, 0xdead_bef0);
        assert_eq!(answer.flags, SYN | ACK);
        // Cut short: no answer rather than a panic.
        for len in 0..packet.len() - 6 {
            assert!(parse_ipv4(&packet[..len]).is_none(), "{len}");
        }
    }

    #[test]
    fn a_flood_ends_a_drain_at_its_budget() {
        // An endless flood: every batch comes back full. The drain must give up, not spin.
        let mut calls = 0;
        let drained = drain_batches(DRAIN_BATCHES, || {
            calls += 1;
            assert!(calls <= DRAIN_BATCHES, "the drain went past its budget");
            BATCH
        });
        assert!(!drained);
        assert_eq!(calls, DRAIN_BATCHES);
        // A short batch ends it early, drained.
        let mut calls = 0;
        assert!(drain_batches(DRAIN_BATCHES, || {
            calls += 1;
            if calls == 3 { 5 } else { BATCH }
        }));
        assert_eq!(calls, 3);
    }

    #[test]
    fn readers_of_dropped_runtimes_are_pruned() {
        let mut readers = Readers::default();
        for _ in 0..50 {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let id = runtime.handle().id();
            assert!(!readers.has(id));
            let alive = readers.claim(id);
            assert!(readers.has(id));
            // The reader task holds the token and never ends by itself; dropping the runtime
            // drops it.
            runtime.spawn(async move {
                let _alive = alive;
                std::future::pending::<()>().await;
            });
            drop(runtime);
            assert!(!readers.has(id));
        }
        assert!(readers.len() <= 1, "{} readers kept", readers.len());
    }

    #[test]
    fn sequence_numbers_do_not_repeat_soon() {
        let mut rng = 0x1234_5678_9abc_def1u64;
        let seen: std::collections::HashSet<u32> =
            (0..100_000).map(|_| next_seq(&mut rng)).collect();
        assert!(seen.len() > 99_990, "{}", seen.len());
    }
}
