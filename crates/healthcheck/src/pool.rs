//! TCP_CHECK's probe on a kernel socket: a reused socket, the verdict from `connect(2)` itself,
//! and no connection left behind on the real server. (With `CAP_NET_RAW`, [`crate::syn`] takes
//! the probes it can, and this is the rest: `bind_port`, no privilege, every port busy.)
//!
//! Creating and closing a socket costs the kernel about as much as the handshake it carries, so a
//! probe without `bindto`/`bind_port` takes an idle, disconnected socket from a small pool,
//! connects it, and afterwards dissolves the connection with `connect(AF_UNSPEC)` (the kernel's
//! `tcp_disconnect`: an RST to the server, the socket back to CLOSE, its ephemeral port released)
//! and puts it back. Every error, timeout or cancellation closes the socket instead: only sockets
//! that went through a clean disconnect are reused.
//!
//! - **Keys.** The pool is keyed by address family and `fwmark`: SO_MARK survives a disconnect.
//!   Probes with `bindto` or `bind_port` always get a fresh socket, because a bound address or
//!   port stays locked to the socket across a disconnect.
//! - **Per thread, and registered with no reactor.** A socket belongs to the network namespace it
//!   was made in, and `setns(2)` is per thread, so each thread has its own pool (a thread that
//!   changes namespace after running TCP checks would keep sockets of the old one: do not).
//!   Idle sockets are plain descriptors, not registered with any runtime's reactor, so a pool
//!   that outlives a runtime never hands out a socket tied to a dead or idle reactor; a probe
//!   that has to wait registers its socket for that wait only (epoll ADD, then DEL).
//! - **The verdict comes from connect.** Asking `connect(2)` again on a connecting socket answers
//!   0 once the handshake is done, `EALREADY` while it is not, and the failure itself
//!   (`ECONNREFUSED`, ...) when it failed. On loopback the handshake completes inside the first
//!   `connect`, so most local probes never wait, and never touch the reactor. A probe that waits
//!   registers its socket after `connect` (in SYN_SENT it reports nothing), and takes a wake-up
//!   only as a reason to ask again: a socket registered while disconnected would show a stale
//!   HUP, which tokio keeps once seen, so such a wake-up leads to a fresh registration, never to
//!   "up".
//! - **A port of its own.** A pooled socket is bound once to an ephemeral port (the kernel's
//!   pick) and keeps it across disconnects, so its probes skip the per-connect search for a free
//!   port; the address stays unspecified and comes from the route at each connect.
//! - **Half-open.** The kernel holds back the last ACK of the handshake when the connecting
//!   socket has `TCP_DEFER_ACCEPT` set (`tcp_rcv_synsent_state_process`, "save one ACK"; up to
//!   200 ms). The probe resets within microseconds of the SYN-ACK, so the real server answers SYN
//!   with SYN-ACK and drops its half-open request on the RST: no child socket, no `accept()`, and
//!   no "connection reset" in the application's log. Our side has reached ESTABLISHED all the
//!   same, which is what TCP_CHECK asks. HAProxy's plain TCP checks send the same three packets
//!   (SYN, SYN-ACK, RST; through `TCP_QUICKACK` 0, which a disconnect clears, hence
//!   `TCP_DEFER_ACCEPT` here, which it keeps). Should the RST come later than 200 ms (a starved
//!   runtime), the ACK goes out and the probe simply ends as a reset full connection.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::ConnectOptions;
use crate::net::{self, set_int};

/// Idle sockets kept per key and thread at most; more are closed. Only probes that wait hold a
/// socket across an await, so this bounds nothing but the idle memory.
pub(crate) const IDLE_PER_KEY: usize = 256;

/// Which idle sockets a probe may use: those of its address family and mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    v6: bool,
    mark: Option<u32>,
}

impl Key {
    /// The pool a probe with these options draws from, or `None` when it needs a fresh socket
    /// (`bindto`, `bind_port`).
    pub(crate) fn of(opts: &ConnectOptions) -> Option<Self> {
        if opts.bindto.is_some() || opts.bind_port.is_some() {
            return None;
        }
        Some(Self {
            v6: opts.connect_ip.is_ipv6(),
            mark: opts.fwmark,
        })
    }
}

struct Pool {
    idle: Vec<(Key, Vec<Socket>)>,
    created: u64,
    reused: u64,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            idle: Vec::new(),
            created: 0,
            reused: 0,
        })
    };
}

fn take(key: Key) -> Option<Socket> {
    POOL.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        let Pool { idle, reused, .. } = &mut *pool;
        let socket = idle.iter_mut().find(|(k, _)| *k == key)?.1.pop()?;
        *reused += 1;
        Some(socket)
    })
    .ok()
    .flatten()
}

fn put(key: Key, socket: Socket) {
    // When the thread is exiting, the closure is dropped and the socket with it (closed).
    let _ = POOL.try_with(move |pool| {
        let mut pool = pool.borrow_mut();
        let at = match pool.idle.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                pool.idle.push((key, Vec::new()));
                pool.idle.len() - 1
            }
        };
        let idle = &mut pool.idle[at].1;
        if idle.len() < IDLE_PER_KEY {
            idle.push(socket);
        }
    });
}

fn count_created() {
    let _ = POOL.try_with(|pool| pool.borrow_mut().created += 1);
}

/// Sockets made and sockets reused by this thread's probes so far, and the descriptors now idle
/// under `key`: for tests.
#[cfg(test)]
pub(crate) fn stats(key: Key) -> (u64, u64, Vec<std::os::fd::RawFd>) {
    POOL.with(|pool| {
        let pool = pool.borrow();
        let idle = pool
            .idle
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, sockets)| sockets.iter().map(AsRawFd::as_raw_fd).collect())
            .unwrap_or_default();
        (pool.created, pool.reused, idle)
    })
}

/// Why a probe failed: the socket could not be made as the options ask (the reason says "cannot
/// set up a socket"), or the connection failed ("connect to ...").
#[derive(Debug)]
pub(crate) enum ProbeError {
    /// socket(2), SO_MARK, bind, or another option failed.
    Setup(io::Error),
    /// The connection failed: refused, unreachable, reset...
    Connect(io::Error),
}

/// A socket out of the pool (or fresh) for one probe. Dropping it closes the socket (SO_LINGER
/// 0: an RST if anything was connected); only [`Lease::release`] returns it to the pool.
struct Lease {
    socket: Socket,
    key: Option<Key>,
}

impl Lease {
    fn new(opts: &ConnectOptions) -> io::Result<Self> {
        let key = Key::of(opts);
        if let Some(socket) = key.and_then(take) {
            return Ok(Self { socket, key });
        }
        let socket = net::socket(opts, Type::STREAM, Protocol::TCP)?;
        socket.set_linger(Some(std::time::Duration::ZERO))?;
        set_int(&socket, libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1)?;
        plain_congestion_control(&socket);
        if key.is_some() {
            keep_a_port(&socket, opts);
        }
        count_created();
        Ok(Self { socket, key })
    }

    /// After a completed handshake: reset the connection and keep the socket for the next probe
    /// (or close it, for a socket with a bound address).
    fn release(self) {
        let Some(key) = self.key else { return };
        if disconnect(&self.socket).is_ok() {
            put(key, self.socket);
        }
    }
}

/// Binds a pooled socket to an ephemeral port of its own, for good: a port bound explicitly
/// survives the disconnect, so the socket's later probes skip the kernel's search for a free port
/// and the bind bucket it allocates and frees (measured: about a tenth of a loopback probe's
/// kernel time). The kernel picks the port, honouring `ip_local_port_range` and
/// `ip_local_reserved_ports`, on a scratch socket; the address stays unspecified, so each probe
/// still takes its source address from the route to its target. Should the port be taken in
/// between, the socket stays unbound and the kernel picks a port per probe, as it otherwise does.
fn keep_a_port(socket: &Socket, opts: &ConnectOptions) {
    let any = SocketAddr::new(
        match opts.connect_ip {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        },
        0,
    );
    let Ok(scratch) = Socket::new(Domain::for_address(any), Type::STREAM, None) else {
        return;
    };
    let port = scratch
        .bind(&any.into())
        .and_then(|()| scratch.local_addr())
        .ok()
        .and_then(|local| local.as_socket())
        .map(|local| local.port());
    drop(scratch);
    if let Some(port) = port {
        let _ = socket.bind(&SocketAddr::new(any.ip(), port).into());
    }
}

/// Gives the probe socket Reno, the kernel's built-in congestion control: a probe sends no data,
/// so the system default (BBR here, with its per-ACK model update and its set-up at every
/// handshake, about 1 % of a loopback probe) buys nothing. Reno is always built in and always
/// allowed; should the kernel refuse anyway, the default stays.
fn plain_congestion_control(socket: &Socket) {
    const RENO: &[u8] = b"reno";
    // SAFETY: the option value is a live byte string of the length we pass.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_CONGESTION,
            RENO.as_ptr().cast(),
            RENO.len() as libc::socklen_t,
        );
    }
}

/// `connect(AF_UNSPEC)`: the kernel's `tcp_disconnect` (RST, CLOSE, port released).
fn disconnect(socket: &Socket) -> io::Result<()> {
    let unspec = libc::sockaddr {
        sa_family: libc::AF_UNSPEC as libc::sa_family_t,
        sa_data: [0; 14],
    };
    // SAFETY: a plain sockaddr of the size we pass.
    let rc = unsafe {
        libc::connect(
            socket.as_raw_fd(),
            &raw const unspec,
            size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What asking `connect(2)` about a connecting socket said.
enum Progress {
    Connected,
    Connecting,
}

/// Asks `connect(2)` where the handshake of `socket` to `target` stands.
fn ask(socket: &Socket, target: &SockAddr) -> io::Result<Progress> {
    match socket.connect(target) {
        Ok(()) => Ok(Progress::Connected),
        Err(e) => match e.raw_os_error() {
            Some(libc::EISCONN) => Ok(Progress::Connected),
            Some(libc::EALREADY | libc::EINPROGRESS | libc::EINTR) => Ok(Progress::Connecting),
            _ => Err(e),
        },
    }
}

/// A probe whose handshake had not completed when `connect` returned.
pub(crate) struct Waiting {
    lease: Lease,
    target: SockAddr,
}

/// How a probe stands after its synchronous start.
pub(crate) enum Started {
    /// Finished: connected (the socket is already reset and back in the pool) or failed.
    Done(Result<(), ProbeError>),
    /// Still in the handshake: await [`Waiting::finish`], under a time limit.
    Waiting(Waiting),
}

/// Starts a TCP_CHECK probe: a socket from the pool, `connect`, and the first answer. No await,
/// no reactor, no timer: on loopback (and whenever the SYN-ACK is back before `connect` returns)
/// this is the whole probe.
pub(crate) fn start(opts: &ConnectOptions) -> Started {
    let lease = match Lease::new(opts) {
        Ok(lease) => lease,
        Err(e) => return Started::Done(Err(ProbeError::Setup(e))),
    };
    let target = SockAddr::from(opts.target());
    let progress = match lease.socket.connect(&target) {
        Ok(()) => Ok(Progress::Connected),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => ask(&lease.socket, &target),
        Err(e) => Err(e),
    };
    match progress {
        Ok(Progress::Connected) => {
            lease.release();
            Started::Done(Ok(()))
        }
        Ok(Progress::Connecting) => Started::Waiting(Waiting { lease, target }),
        Err(e) => Started::Done(Err(ProbeError::Connect(e))),
    }
}

impl Waiting {
    /// Waits for the handshake to end and says how. Dropping the future (a timeout) closes the
    /// socket; it never returns to the pool.
    pub(crate) async fn finish(self) -> Result<(), ProbeError> {
        let Self { lease, target } = self;
        let key = lease.key;
        let fd = register(lease.socket).map_err(ProbeError::Setup)?;
        let socket = until_connected(fd, &target)
            .await
            .map_err(ProbeError::Connect)?;
        Lease { socket, key }.release();
        Ok(())
    }
}

fn register(socket: Socket) -> io::Result<AsyncFd<Socket>> {
    // SAFETY: the Socket owns its descriptor, and the AsyncFd owns the Socket until into_inner
    // or drop.
    unsafe { AsyncFd::register_with_interest(socket, Interest::WRITABLE) }.map_err(Into::into)
}

/// Waits until `connect(2)` says the handshake of `fd` to `target` is done, or says why it
/// failed, and gives the socket back. A wake-up is only a reason to ask: registered right after
/// `connect`, a socket in SYN_SENT reports nothing, but a socket registered earlier still shows
/// the HUP and OUT of its last disconnect, and no wake-up may pass for a handshake. tokio keeps a
/// HUP ("write closed") once seen, whatever `clear_ready` says, so a stale one would wake the wait
/// again and again: then the socket is registered anew, which starts from what the kernel reports
/// now.
async fn until_connected(mut fd: AsyncFd<Socket>, target: &SockAddr) -> io::Result<Socket> {
    loop {
        let mut guard = fd.writable().await?;
        match ask(fd.get_ref(), target)? {
            Progress::Connected => {
                drop(guard);
                return Ok(fd.into_inner());
            }
            Progress::Connecting if guard.ready().is_write_closed() => {
                drop(guard);
                fd = register(fd.into_inner())?;
            }
            // An early wake-up: forget it and wait for the next event.
            Progress::Connecting => guard.clear_ready(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn opts(target: SocketAddr) -> ConnectOptions {
        ConnectOptions::new(target).connect_timeout(Duration::from_secs(3))
    }

    /// Runs a probe to the end, as TCP_CHECK does (with a limit for the waiting part).
    async fn probe(opts: &ConnectOptions) -> Result<(), ProbeError> {
        match start(opts) {
            Started::Done(result) => result,
            Started::Waiting(waiting) => {
                match tokio::time::timeout(opts.connect_timeout, waiting.finish()).await {
                    Ok(result) => result,
                    Err(_) => Err(ProbeError::Connect(io::ErrorKind::TimedOut.into())),
                }
            }
        }
    }

    fn listener(addr: &str) -> std::net::TcpListener {
        std::net::TcpListener::bind(addr).unwrap()
    }

    fn key(v6: bool, mark: Option<u32>) -> Key {
        Key { v6, mark }
    }

    // Each #[tokio::test] runs on its own thread, so each sees a pool of its own.

    #[tokio::test]
    async fn one_socket_serves_every_target_and_the_server_never_accepts() {
        let a = listener("127.0.0.1:0");
        let b = listener("127.0.0.1:0");
        a.set_nonblocking(true).unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        probe(&opts(a_addr)).await.unwrap();
        let (created, reused, idle) = stats(key(false, None));
        assert_eq!((created, reused), (1, 0));
        assert_eq!(idle.len(), 1);
        let fd = idle[0];
        for target in [b_addr, a_addr, b_addr] {
            probe(&opts(target)).await.unwrap();
        }
        assert_eq!(stats(key(false, None)), (1, 3, vec![fd]));
        // Half-open: the handshake never completed on the server's side.
        assert_eq!(
            a.accept().map_err(|e| e.kind()).unwrap_err(),
            io::ErrorKind::WouldBlock
        );
    }

    #[tokio::test]
    async fn refused_after_a_reuse_is_refused_and_the_socket_is_not_kept() {
        let up = listener("127.0.0.1:0");
        let up_addr = up.local_addr().unwrap();
        let gone = listener("127.0.0.1:0");
        let gone_addr = gone.local_addr().unwrap();
        probe(&opts(gone_addr)).await.unwrap();
        drop(gone);
        let (_, _, idle) = stats(key(false, None));
        assert_eq!(idle.len(), 1);
        let Err(ProbeError::Connect(e)) = probe(&opts(gone_addr)).await else {
            panic!("a closed port must refuse");
        };
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused, "{e}");
        assert_eq!(
            stats(key(false, None)),
            (1, 1, vec![]),
            "closed after the error"
        );
        // The next probe makes a new socket, and works.
        probe(&opts(up_addr)).await.unwrap();
        let (created, _, idle) = stats(key(false, None));
        assert_eq!((created, idle.len()), (2, 1));
    }

    /// A listener with a full accept queue drops SYNs: the handshake never completes.
    #[tokio::test]
    async fn a_timed_out_probe_is_not_returned_and_a_late_handshake_still_counts() {
        let (full, _filler, full_addr) = full_listener();
        let other = listener("127.0.0.1:0");

        // A socket in the pool first, with its stale HUP from the disconnect.
        probe(&opts(other.local_addr().unwrap())).await.unwrap();
        let (_, _, idle) = stats(key(false, None));
        assert_eq!(idle.len(), 1);

        let short = opts(full_addr).connect_timeout(Duration::from_millis(300));
        let Started::Waiting(waiting) = start(&short) else {
            panic!("a full queue cannot complete a handshake at once");
        };
        let outcome = tokio::time::timeout(short.connect_timeout, waiting.finish()).await;
        assert!(
            outcome.is_err(),
            "no wake-up may end a handshake that never happened"
        );
        let (created, reused, idle) = stats(key(false, None));
        assert_eq!(
            (created, reused, idle.len()),
            (1, 1, 0),
            "timed out: closed"
        );

        // The same, but the queue drains while the probe waits: the SYN retransmission (1 s)
        // completes the handshake, and the probe says so.
        let _ = probe(&opts(other.local_addr().unwrap())).await;
        let Started::Waiting(waiting) = start(&opts(full_addr)) else {
            panic!("a full queue cannot complete a handshake at once");
        };
        let drain = tokio::task::spawn_blocking(move || {
            std::thread::sleep(Duration::from_millis(100));
            let accepted = full.accept().unwrap();
            (full, accepted)
        });
        waiting
            .finish()
            .await
            .expect("the handshake completes late");
        drop(drain.await.unwrap());
        let (_, _, idle) = stats(key(false, None));
        assert_eq!(idle.len(), 1, "a completed late probe is kept");
    }

    /// A full accept queue: the kernel drops further SYNs, so no handshake completes. (Backlog 0
    /// admits one connection; the returned stream keeps the queue full.)
    fn full_listener() -> (Socket, std::net::TcpStream, SocketAddr) {
        let full = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        full.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        full.listen(0).unwrap();
        let addr = full.local_addr().unwrap().as_socket().unwrap();
        let filler = std::net::TcpStream::connect(addr).unwrap();
        (full, filler, addr)
    }

    /// Registered before its connect (as a pool of registered sockets would have it), a reused
    /// socket wakes at once with the HUP of its disconnect; the wait must not take that for a
    /// handshake.
    #[tokio::test]
    async fn a_stale_wake_is_not_a_handshake() {
        let other = listener("127.0.0.1:0");
        probe(&opts(other.local_addr().unwrap())).await.unwrap();
        let (_full, _filler, full_addr) = full_listener();
        let socket = take(key(false, None)).expect("a pooled socket");
        let fd = register(socket).unwrap();
        let stale = tokio::time::timeout(Duration::from_secs(2), fd.writable()).await;
        assert!(
            matches!(stale, Ok(Ok(_))),
            "the disconnected socket shows a stale event (else this test proves nothing)"
        );
        drop(stale); // the readiness stays set
        let target = SockAddr::from(full_addr);
        let started = fd.get_ref().connect(&target).unwrap_err();
        assert_eq!(started.raw_os_error(), Some(libc::EINPROGRESS));
        let waited =
            tokio::time::timeout(Duration::from_millis(300), until_connected(fd, &target)).await;
        assert!(waited.is_err(), "said {waited:?} with no handshake");
    }

    #[tokio::test]
    async fn families_keep_apart() {
        let v4 = listener("127.0.0.1:0");
        probe(&opts(v4.local_addr().unwrap())).await.unwrap();
        let Ok(v6) = std::net::TcpListener::bind("[::1]:0") else {
            eprintln!("no IPv6 loopback here: only the IPv4 half ran");
            return;
        };
        probe(&opts(v6.local_addr().unwrap())).await.unwrap();
        probe(&opts(v6.local_addr().unwrap())).await.unwrap();
        assert_eq!(stats(key(false, None)).2.len(), 1);
        assert_eq!(stats(key(true, None)).2.len(), 1);
        assert_eq!(stats(key(true, None)).1, 1, "the IPv6 socket was reused");
    }

    #[tokio::test]
    async fn fwmark_keys_apart() {
        let server = listener("127.0.0.1:0");
        let target = server.local_addr().unwrap();
        let mut marked = opts(target);
        marked.fwmark = Some(7);
        assert_ne!(Key::of(&marked), Key::of(&opts(target)));
        match probe(&marked).await {
            Ok(()) => {}
            // SO_MARK needs CAP_NET_ADMIN: without it, the set-up fails and nothing is pooled.
            Err(ProbeError::Setup(e)) if e.kind() == io::ErrorKind::PermissionDenied => {
                assert_eq!(stats(key(false, Some(7))).2.len(), 0);
                return;
            }
            Err(e) => panic!("{e:?}"),
        }
        probe(&opts(target)).await.unwrap();
        let marked_idle = stats(key(false, Some(7))).2;
        let plain_idle = stats(key(false, None)).2;
        assert_eq!((marked_idle.len(), plain_idle.len()), (1, 1));
        assert_ne!(marked_idle, plain_idle);
        // The mark survived the disconnect, and the marked socket serves marked probes.
        let mut mark: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `mark`.
        let rc = unsafe {
            libc::getsockopt(
                marked_idle[0],
                libc::SOL_SOCKET,
                libc::SO_MARK,
                (&raw mut mark).cast(),
                &raw mut len,
            )
        };
        assert_eq!((rc, mark), (0, 7));
        probe(&marked).await.unwrap();
        assert_eq!(stats(key(false, Some(7))).2, marked_idle);
    }

    #[tokio::test]
    async fn bound_probes_are_never_pooled() {
        let server = listener("127.0.0.1:0");
        let target = server.local_addr().unwrap();
        let mut bound = opts(target);
        bound.bindto = Some("127.0.0.2".parse().unwrap());
        assert_eq!(Key::of(&bound), None);
        probe(&bound).await.unwrap();
        probe(&bound).await.unwrap();
        let (created, reused, idle) = stats(key(false, None));
        assert_eq!((created, reused, idle.len()), (2, 0, 0));
    }

    #[tokio::test]
    async fn a_cancelled_probe_closes_its_socket() {
        let (_full, _filler, full_addr) = full_listener();
        let Started::Waiting(waiting) = start(&opts(full_addr)) else {
            panic!("a full queue cannot complete a handshake at once");
        };
        let fd = waiting.lease.socket.as_raw_fd();
        let link = format!("/proc/self/fd/{fd}");
        let before = std::fs::read_link(&link).unwrap();
        let mut finish = Box::pin(waiting.finish());
        assert!(poll_once(finish.as_mut()).await.is_none());
        drop(finish);
        // Closed: the descriptor is gone, or (another test's thread reused the number) names
        // another socket.
        assert_ne!(std::fs::read_link(&link).ok(), Some(before));
        assert_eq!(stats(key(false, None)).2.len(), 0);
    }

    async fn poll_once<F: Future + Unpin>(mut fut: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut fut).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
