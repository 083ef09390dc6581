//! Named network namespaces, deleted on drop, and the links between them.

use std::fs::File;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use crate::{Error, addr::check_prefix};

static COUNTER: AtomicU32 = AtomicU32::new(0);
static REAP_ONCE: Once = Once::new();

/// Deletes the namespaces that testbed made in processes that no longer exist, and returns
/// their names.
///
/// A test process killed by a timeout or a signal cannot run its destructors, so its
/// namespaces (`lvk-TAG-PID-N`) stay behind. [`Netns::new`] calls this once per process;
/// namespaces of running processes (other tests running in parallel) are never touched. It
/// assumes every process that uses testbed on this host sees the same process ids (one PID
/// namespace), as tests run by cargo do.
pub fn reap_orphans() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return Vec::new();
    };
    let mut reaped = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = orphan_pid(&name) else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if run_checked(Command::new("ip").args(["netns", "del", &name])).is_ok() {
            reaped.push(name);
        }
    }
    reaped
}

/// The process id in a testbed namespace name (`lvk-TAG-PID-N`, TAG alphanumeric), if it is one.
fn orphan_pid(name: &str) -> Option<u32> {
    let mut parts = name.split('-');
    let (lvk, tag, pid, n) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let well_formed = lvk == "lvk"
        && parts.next().is_none()
        && tag.bytes().all(|b| b.is_ascii_alphanumeric())
        && n.parse::<u32>().is_ok();
    well_formed.then(|| pid.parse().ok()).flatten()
}

/// Runs `ip ARGS...` in the calling thread's namespace (inside [`Netns::run`], the namespace's)
/// and returns its stdout; a failure carries the command line and what `ip` printed on stderr.
pub fn ip(args: &[&str]) -> Result<String, Error> {
    run_checked(Command::new("ip").args(args))
}

/// A network namespace made for one test, deleted (with everything in it) on drop.
///
/// Its name is `lvk-TAG-PID-N`: unique across the tests of one run and across processes, and
/// recognisable in `ip netns list` if a killed test leaves one behind.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates a fresh namespace with its loopback up. `tag` is a hint for humans (a few
    /// letters); characters outside `[A-Za-z0-9]` are dropped and it is cut to 12.
    pub fn new(tag: &str) -> Result<Self, Error> {
        let tag: String = tag
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect();
        REAP_ONCE.call_once(|| {
            reap_orphans();
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("lvk-{tag}-{}-{n}", std::process::id());
        run_checked(Command::new("ip").args(["netns", "add", &name]))?;
        // From here on, drop deletes it even if the next step fails.
        let netns = Self { name };
        netns.ip(&["link", "set", "lo", "up"])?;
        Ok(netns)
    }

    /// The namespace's name, as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's file, for `setns(2)` or `ip netns exec`.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// A command that runs `program` inside the namespace (through `ip netns exec`, which also
    /// gives it the namespace's own `/sys`). Add arguments and run it as usual.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name, program]);
        command
    }

    /// Runs `ip -n NAME ARGS...` and returns its stdout; a failure carries the command line and
    /// what `ip` printed on stderr.
    pub fn ip(&self, args: &[&str]) -> Result<String, Error> {
        ip(&[&["-n", &self.name], args].concat())
    }

    /// Runs `ip -n NAME -batch -` with `lines` on stdin (one `ip` command per line, without the
    /// leading `ip`). Addresses are not checked here: the caller builds the lines.
    pub fn ip_batch(&self, lines: &str) -> Result<String, Error> {
        run_with_stdin(
            Command::new("ip").args(["-n", &self.name, "-batch", "-"]),
            lines,
        )
    }

    /// Runs `f` on a new thread that has joined this namespace, and waits for its result.
    /// Sockets opened by `f` belong to the namespace for their whole life, so a closure may
    /// open a socket and return it for use from the calling thread. A panic in `f` becomes
    /// [`Error::Panicked`].
    pub fn run<F, R>(&self, f: F) -> Result<R, Error>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn(f)?.join().map_err(|payload| Error::Panicked {
            netns: self.name.clone(),
            message: panic_message(&*payload),
        })?
    }

    /// Like [`run`](Self::run) but does not wait: the thread runs `f` inside the namespace and
    /// the handle yields `f`'s result, or the error of joining the namespace.
    pub fn spawn<F, R>(&self, f: F) -> Result<JoinHandle<Result<R, Error>>, Error>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let path = self.path();
        let file = File::open(&path).map_err(|e| Error::io(format!("open {path}"), e))?;
        std::thread::Builder::new()
            .name(format!("netns {}", self.name))
            .spawn(move || {
                // SAFETY: `file` is an open namespace file; setns only affects this thread,
                // which is ours and ends when `f` returns.
                if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(Error::io(
                        format!("setns({path})"),
                        std::io::Error::last_os_error(),
                    ));
                }
                drop(file);
                Ok(f())
            })
            .map_err(|e| Error::io("spawn a namespace thread", e))
    }

    /// Brings an interface up.
    pub fn set_up(&self, ifname: &str) -> Result<(), Error> {
        check_ifname(ifname)?;
        self.ip(&["link", "set", "dev", ifname, "up"]).map(drop)
    }

    /// Takes an interface down.
    pub fn set_down(&self, ifname: &str) -> Result<(), Error> {
        check_ifname(ifname)?;
        self.ip(&["link", "set", "dev", ifname, "down"]).map(drop)
    }

    /// Sets an interface's MAC address (`aa:bb:cc:dd:ee:ff`).
    pub fn set_mac(&self, ifname: &str, mac: [u8; 6]) -> Result<(), Error> {
        check_ifname(ifname)?;
        self.ip(&["link", "set", "dev", ifname, "address", &format_mac(mac)])
            .map(drop)
    }

    /// An interface's MAC address.
    pub fn mac(&self, ifname: &str) -> Result<[u8; 6], Error> {
        check_ifname(ifname)?;
        let out = self.ip(&["-br", "link", "show", "dev", ifname])?;
        out.split_whitespace()
            .find_map(parse_mac)
            .ok_or_else(|| Error::UnexpectedOutput {
                command: format!("ip -n {} -br link show dev {ifname}", self.name),
                expected: "a MAC address",
                output: out.trim().to_string(),
            })
    }

    /// An interface's index inside the namespace.
    pub fn ifindex(&self, ifname: &str) -> Result<u32, Error> {
        check_ifname(ifname)?;
        let name = std::ffi::CString::new(ifname).expect("checked: no NUL in the name");
        let index = self.run(move || {
            // SAFETY: `name` is a valid NUL-terminated string.
            unsafe { libc::if_nametoindex(name.as_ptr()) }
        })?;
        if index == 0 {
            Err(Error::io(
                format!("no interface {ifname} in {}", self.name),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ))
        } else {
            Ok(index)
        }
    }

    /// Adds an address (`192.0.2.1/24`, `2001:db8::1/64`) to an interface. The address must be in
    /// a documentation range. IPv6 addresses are added with `nodad`, so they are usable at once.
    pub fn add_addr(&self, ifname: &str, cidr: &str) -> Result<(), Error> {
        check_ifname(ifname)?;
        let (addr, _) = check_prefix(cidr)?;
        let mut args = vec!["addr", "add", cidr, "dev", ifname];
        if addr.is_ipv6() {
            args.push("nodad");
        }
        self.ip(&args).map(drop)
    }

    /// Removes an address from an interface.
    pub fn del_addr(&self, ifname: &str, cidr: &str) -> Result<(), Error> {
        check_ifname(ifname)?;
        check_prefix(cidr)?;
        self.ip(&["addr", "del", cidr, "dev", ifname]).map(drop)
    }

    /// Adds a route to `dest` (a documentation prefix, or `default`) through the gateway `via`.
    pub fn add_route(&self, dest: &str, via: IpAddr) -> Result<(), Error> {
        if dest != "default" {
            check_prefix(dest)?;
        }
        crate::addr::check_addr(via)?;
        let family = if via.is_ipv4() { "-4" } else { "-6" };
        self.ip(&[family, "route", "add", dest, "via", &via.to_string()])
            .map(drop)
    }

    /// Adds a route to `dest` straight out of an interface (on-link).
    pub fn add_route_dev(&self, dest: &str, ifname: &str) -> Result<(), Error> {
        check_ifname(ifname)?;
        let (addr, _) = check_prefix(dest)?;
        let family = if addr.is_ipv4() { "-4" } else { "-6" };
        self.ip(&[family, "route", "add", dest, "dev", ifname])
            .map(drop)
    }

    /// Opens a UDP socket bound to `addr` inside the namespace (it stays there): the receiving
    /// end of a reachability probe, since `ping` is not everywhere.
    pub fn udp_bind(&self, addr: SocketAddr) -> Result<UdpSocket, Error> {
        if !addr.ip().is_unspecified() {
            crate::addr::check_addr(addr.ip())?;
        }
        let context = format!("bind UDP {addr} in {}", self.name);
        self.run(move || UdpSocket::bind(addr))?
            .map_err(|e| Error::io(context, e))
    }

    /// Sends one UDP datagram to `to` (a documentation address) from inside the namespace, from
    /// `from` (an address of the namespace) or from whatever address the routing picks.
    pub fn udp_send(
        &self,
        from: Option<IpAddr>,
        to: SocketAddr,
        payload: &[u8],
    ) -> Result<(), Error> {
        crate::addr::check_addr(to.ip())?;
        let context = format!("send UDP to {to} from {}", self.name);
        let payload = payload.to_vec();
        self.run(move || {
            let any: IpAddr = if to.is_ipv4() {
                std::net::Ipv4Addr::UNSPECIFIED.into()
            } else {
                std::net::Ipv6Addr::UNSPECIFIED.into()
            };
            let socket = UdpSocket::bind((from.unwrap_or(any), 0))?;
            socket.send_to(&payload, to).map(drop)
        })?
        .map_err(|e| Error::io(context, e))
    }

    /// Creates a bridge and brings it up. Ports are added with [`bridge_port`].
    pub fn add_bridge(&self, name: &str) -> Result<(), Error> {
        check_ifname(name)?;
        self.ip(&["link", "add", name, "type", "bridge"])?;
        self.set_up(name)
    }

    /// Sets a sysctl inside the namespace, e.g. `net.ipv4.ip_forward`, `1`.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), Error> {
        run_checked(
            self.command("sysctl")
                .arg("-qw")
                .arg(format!("{key}={value}")),
        )
        .map(drop)
    }

    /// The link-layer address the namespace's neighbour table holds for `addr`, if any (in any
    /// state but FAILED/INCOMPLETE).
    pub fn neighbour_mac(&self, addr: IpAddr) -> Result<Option<[u8; 6]>, Error> {
        let out = self.ip(&["neigh", "show", "to", &addr.to_string()])?;
        Ok(out.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "lladdr")?;
            parse_mac(words.next()?)
        }))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = run_checked(Command::new("ip").args(["netns", "del", &self.name])) {
            eprintln!("testbed: could not delete namespace {}: {e}", self.name);
        }
    }
}

/// Creates a veth pair: `a_if` in namespace `a`, `b_if` in namespace `b` (which may be the same
/// namespace). Both ends stay down until [`Netns::set_up`]. Interface names only need to be
/// unique inside their own namespace.
pub fn veth_pair(a: &Netns, a_if: &str, b: &Netns, b_if: &str) -> Result<(), Error> {
    check_ifname(a_if)?;
    check_ifname(b_if)?;
    let mut args = vec!["link", "add", a_if, "type", "veth", "peer", "name", b_if];
    if a.name != b.name {
        args.extend(["netns", &b.name]);
    }
    a.ip(&args).map(drop)
}

/// Makes `ifname` (in the same namespace) a port of `bridge`, and brings it up.
pub fn bridge_port(netns: &Netns, ifname: &str, bridge: &str) -> Result<(), Error> {
    check_ifname(ifname)?;
    check_ifname(bridge)?;
    netns.ip(&["link", "set", "dev", ifname, "master", bridge])?;
    netns.set_up(ifname)
}

/// Refuses names the kernel would refuse (more than 15 bytes) or that would confuse `ip`.
pub(crate) fn check_ifname(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !matches!(name, "." | "..");
    if ok {
        Ok(())
    } else {
        Err(Error::BadInterfaceName(name.to_string()))
    }
}

/// Formats a MAC as `aa:bb:cc:dd:ee:ff`.
pub(crate) fn format_mac(mac: [u8; 6]) -> String {
    mac.map(|b| format!("{b:02x}")).join(":")
}

/// Parses `aa:bb:cc:dd:ee:ff`.
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn command_line(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|s| s.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs a command to completion; a non-zero exit is an [`Error::Command`] with its stderr.
pub(crate) fn run_checked(command: &mut Command) -> Result<String, Error> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("start `{}`", command_line(command)), e))?;
    finish(command, output)
}

fn run_with_stdin(command: &mut Command, input: &str) -> Result<String, Error> {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(format!("start `{}`", command_line(command)), e))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| Error::io(format!("wait for `{}`", command_line(command)), e))?;
    writer
        .join()
        .expect("writer thread does not panic")
        .map_err(|e| Error::io(format!("write to `{}`", command_line(command)), e))?;
    finish(command, output)
}

fn finish(command: &Command, output: std::process::Output) -> Result<String, Error> {
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(Error::Command {
            command: command_line(command),
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_are_checked() {
        for ok in ["eth0", "veth-a.1", "a", "abcdefghijklmno"] {
            assert!(check_ifname(ok).is_ok(), "{ok}");
        }
        for bad in ["", "abcdefghijklmnop", "a b", "x/y", "..", "é"] {
            assert!(
                matches!(check_ifname(bad), Err(Error::BadInterfaceName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn orphan_names_are_recognised() {
        assert_eq!(orphan_pid("lvk-dir-1234-0"), Some(1234));
        assert_eq!(orphan_pid("lvk--99-12"), Some(99));
        for other in [
            "lvk-dir-1234",
            "lvk-a-b-1234-0",
            "kc-cmp-f",
            "lvk-dir-x-0",
            "lvk-d-1-x",
        ] {
            assert_eq!(orphan_pid(other), None, "{other}");
        }
    }

    #[test]
    fn macs_round_trip() {
        let mac = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x2a];
        assert_eq!(format_mac(mac), "00:00:5e:00:01:2a");
        assert_eq!(parse_mac("00:00:5e:00:01:2a"), Some(mac));
        assert_eq!(parse_mac("00:00:5e:00:01"), None);
        assert_eq!(parse_mac("00:00:5e:00:01:2a:00"), None);
        assert_eq!(parse_mac("UP"), None);
    }
}
