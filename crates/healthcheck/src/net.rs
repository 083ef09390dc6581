//! Socket set-up shared by the checkers: source binding, SO_MARK, RST on close.

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use crate::ConnectOptions;

/// A duration the way an operator writes it: "5s", "250ms", "1.5s".
pub(crate) struct Human(pub(crate) Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else if d < Duration::from_secs(1) {
            let ms = d.as_secs_f64() * 1e3;
            if ms.fract() == 0.0 {
                write!(f, "{ms}ms")
            } else {
                write!(f, "{ms:.3}ms")
            }
        } else {
            write!(f, "{:.3}s", d.as_secs_f64())
        }
    }
}

/// A socket with the source address and mark the options ask for.
pub(crate) fn socket(opts: &ConnectOptions, ty: Type, proto: Protocol) -> io::Result<Socket> {
    let target = opts.target();
    let socket = Socket::new(Domain::for_address(target), ty.nonblocking(), Some(proto))?;
    prepare(&socket, opts)?;
    Ok(socket)
}

/// Applies `fwmark`, `bindto` and `bind_port` to a fresh socket.
pub(crate) fn prepare(socket: &Socket, opts: &ConnectOptions) -> io::Result<()> {
    if let Some(mark) = opts.fwmark {
        socket.set_mark(mark)?;
    }
    if let Some(local) = opts.local() {
        if opts.bind_port.is_some() {
            socket.set_reuse_address(true)?;
        }
        socket.bind(&local.into())?;
    }
    Ok(())
}

/// Connects a TCP stream as the options say. The stream closes with a reset (SO_LINGER 0), so
/// tens of thousands of probes a second leave no TIME_WAIT behind. Errors are reasons.
pub(crate) async fn connect_tcp(opts: &ConnectOptions) -> Result<TcpStream, String> {
    let target = opts.target();
    let socket = socket(opts, Type::STREAM, Protocol::TCP)
        .map_err(|e| format!("cannot set up a socket for {target}: {e}"))?;
    socket
        .set_linger(Some(Duration::ZERO))
        .map_err(|e| format!("cannot set SO_LINGER for {target}: {e}"))?;
    let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
    socket
        .connect(target)
        .await
        .map_err(|e| format!("connect to {target}: {e}"))
}

/// A UDP socket connected to the target, so ICMP errors come back as errors on receive.
pub(crate) fn connect_udp(opts: &ConnectOptions) -> Result<UdpSocket, String> {
    let target = opts.target();
    let socket = socket(opts, Type::DGRAM, Protocol::UDP)
        .map_err(|e| format!("cannot set up a socket for {target}: {e}"))?;
    socket
        .connect(&target.into())
        .map_err(|e| format!("connect to {target}: {e}"))?;
    UdpSocket::from_std(std::net::UdpSocket::from(socket))
        .map_err(|e| format!("cannot register the socket for {target}: {e}"))
}

/// Runs `fut` under `limit`; running out of time becomes the reason "timed out after X".
pub(crate) async fn within<T>(
    limit: Duration,
    fut: impl Future<Output = Result<T, String>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result,
        Err(_) => Err(format!("timed out after {}", Human(limit))),
    }
}

/// `setsockopt` of a C int.
pub(crate) fn set_int(
    socket: &Socket,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: the option value is a live c_int of the size we pass.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            (&raw const value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
