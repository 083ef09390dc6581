//! The LVS lab: two directors running `lvskitd`, two real servers running busybox httpd, and a
//! client sending HTTP requests through the VIP, all network namespaces on one bridge. It is
//! shared by the VM traffic tests (`examples/tests/vm_traffic.rs`) and `cargo xtask lab` (the
//! `lvs-lab` binary run inside the VM); it needs root and a kernel with IPVS, `veth` and
//! `bridge` (the `cargo xtask vm` image).
//!
//! ```text
//!                     bridge br0 (namespace "lan")
//!   ┌──────────┬──────────┬─────────────┬─────────────┬──────────┐
//!   dir a      dir b      rs1           rs2           client
//!   .1         .2         .11 (NAT:     .12 (NAT:     192.0.2.9
//!   (MASTER)   (BACKUP)   198.51.100.11) 198.51.100.12)
//! ```
//!
//! Addresses: the VIP is 192.0.2.100 (HTTP on port 80, an echo service on port 7000 for the
//! established-connection checks). LVS-DR (the default) and LVS-TUN real servers are
//! 192.0.2.11/.12 with the VIP on `lo` or `tunl0` (set up by `lvskit-realserver`, which also sets
//! `arp_ignore=1` / `arp_announce=2`); LVS-NAT real servers are 198.51.100.11/.12 on the same
//! bridge, routed through a second VIP, 198.51.100.254, that the MASTER holds (the directors also
//! have 198.51.100.1/.2 and forward). The directors sync their connections (`lvs_sync_daemon`),
//! so an established connection survives a takeover.
//!
//! [`Topology`] builds the namespaces and runs the daemons; [`Client`] is the request loop;
//! [`scenario`] runs the lab's scripted steps and checks each outcome; [`plot`] draws what the
//! client saw.

pub mod plot;
pub mod scenario;
pub mod seeds;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use testbed::{Netns, bridge_port, veth_pair};

/// The virtual address the client sends to.
pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
/// The directors' addresses on the client's network (a, b).
pub const DIRECTORS: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
/// The directors' addresses on the real servers' network in LVS-NAT.
pub const DIRECTORS_NAT: [Ipv4Addr; 2] = [
    Ipv4Addr::new(198, 51, 100, 1),
    Ipv4Addr::new(198, 51, 100, 2),
];
/// The real servers' gateway in LVS-NAT: a second VIP of the VRRP instance.
pub const NAT_GATEWAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 254);
/// The client.
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);
/// The HTTP service's port.
pub const HTTP_PORT: u16 = 80;
/// The echo service's port (long-lived connections).
pub const ECHO_PORT: u16 = 7000;
/// Names of the directors and real servers, as the live view and the summaries print them.
pub const DIRECTOR_NAMES: [&str; 2] = ["a", "b"];
/// Names of the real servers; busybox httpd answers with this name.
pub const SERVER_NAMES: [&str; 2] = ["rs1", "rs2"];

/// The LVS forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Direct routing (`lvs_method DR`): the VIP on the real servers' `lo`.
    Dr,
    /// Masquerading (`lvs_method NAT`): the real servers route through the directors.
    Nat,
    /// IP-in-IP tunnelling (`lvs_method TUN`): the VIP on the real servers' `tunl0`.
    Tun,
}

impl Method {
    /// The keepalived.conf keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Dr => "DR",
            Self::Nat => "NAT",
            Self::Tun => "TUN",
        }
    }

    /// The real servers' addresses.
    pub fn servers(self) -> [Ipv4Addr; 2] {
        match self {
            Self::Nat => [
                Ipv4Addr::new(198, 51, 100, 11),
                Ipv4Addr::new(198, 51, 100, 12),
            ],
            Self::Dr | Self::Tun => [Ipv4Addr::new(192, 0, 2, 11), Ipv4Addr::new(192, 0, 2, 12)],
        }
    }
}

/// The virtual server's settings that the scenario changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbSettings {
    /// `lvs_sched`.
    pub scheduler: String,
    /// The real servers' weights.
    pub weights: [u32; 2],
    /// `persistence_timeout`, if any.
    pub persistence: Option<u32>,
}

impl Default for LbSettings {
    fn default() -> Self {
        Self {
            scheduler: "wrr".into(),
            weights: [3, 1],
            persistence: None,
        }
    }
}

/// The VRRP advert interval of the built-in configurations, in seconds.
pub const ADVERT_INT: u32 = 1;
/// The backup's priority; the master has 150.
pub const BACKUP_PRIORITY: u32 = 100;

/// RFC 9568's Master_Down_Interval for the backup: 3 × advert + skew.
pub fn master_down_interval() -> Duration {
    let advert = f64::from(ADVERT_INT);
    Duration::from_secs_f64(3.0 * advert + (256.0 - f64::from(BACKUP_PRIORITY)) / 256.0 * advert)
}

/// The built-in keepalived.conf of director `i` (0 is the MASTER, priority 150; 1 the BACKUP).
pub fn config(method: Method, i: usize, lb: &LbSettings) -> String {
    let (state, priority) = if i == 0 {
        ("MASTER", 150)
    } else {
        ("BACKUP", BACKUP_PRIORITY)
    };
    let gateway = if method == Method::Nat {
        format!("        {NAT_GATEWAY}/24\n")
    } else {
        String::new()
    };
    let persistence = lb
        .persistence
        .map(|t| format!("    persistence_timeout {t}\n"))
        .unwrap_or_default();
    let servers = method.servers();
    let mut http = String::new();
    let mut echo = String::new();
    for (addr, weight) in servers.iter().zip(lb.weights) {
        http.push_str(&format!(
            "    real_server {addr} {HTTP_PORT} {{
        weight {weight}
        TCP_CHECK {{
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }}
    }}
"
        ));
        echo.push_str(&format!("    real_server {addr} {ECHO_PORT} {{\n    }}\n"));
    }
    let m = method.keyword();
    format!(
        "! lvs-lab director {name} ({m})
global_defs {{
    router_id lab-{name}
    lvs_sync_daemon eth0 VI_1 id 7
}}
vrrp_instance VI_1 {{
    state {state}
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int {ADVERT_INT}
    virtual_ipaddress {{
        {VIP}/24
{gateway}    }}
}}
virtual_server {VIP} {HTTP_PORT} {{
    protocol TCP
    lvs_sched {sched}
    lvs_method {m}
    delay_loop 1
{persistence}{http}}}
virtual_server {VIP} {ECHO_PORT} {{
    protocol TCP
    lvs_sched rr
    lvs_method {m}
{echo}}}
",
        name = DIRECTOR_NAMES[i],
        sched = lb.scheduler,
    )
}

/// Where the lab finds the programs it runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `lvskitd`.
    pub lvskitd: PathBuf,
    /// `lvskit-realserver`.
    pub realserver: PathBuf,
}

/// The namespaces, the bridge, the real servers' httpd and echo listeners, and the directors'
/// `lvskitd`; everything is stopped and removed on drop.
#[derive(Debug)]
pub struct Topology {
    /// The forwarding method.
    pub method: Method,
    /// The namespace of the bridge `br0`.
    pub lan: Netns,
    /// Directors a and b (`eth0`).
    pub directors: [Netns; 2],
    /// Real servers rs1 and rs2 (`eth0`).
    pub servers: [Netns; 2],
    /// The client (`eth0`, 192.0.2.9).
    pub client: Netns,
    /// Configurations, logs and web roots.
    pub dir: PathBuf,
    bins: Binaries,
    daemons: [Option<Child>; 2],
    /// How many times each director was started (its log files are numbered).
    starts: [u32; 2],
    httpd: [Option<Child>; 2],
    echo_stop: Arc<AtomicBool>,
}

impl Topology {
    /// Builds the namespaces and starts the real servers (httpd, echo); the directors are
    /// started by [`start_director`](Self::start_director).
    pub fn new(method: Method, bins: Binaries) -> Result<Self> {
        let lan = Netns::new("lan")?;
        lan.add_bridge("br0")?;
        let directors = [Netns::new("dira")?, Netns::new("dirb")?];
        let servers = [Netns::new("rs1")?, Netns::new("rs2")?];
        let client = Netns::new("client")?;
        let dir = std::env::temp_dir().join(format!("lvs-lab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let mut topo = Self {
            method,
            lan,
            directors,
            servers,
            client,
            dir,
            bins,
            daemons: [None, None],
            starts: [0, 0],
            httpd: [None, None],
            echo_stop: Arc::new(AtomicBool::new(false)),
        };
        topo.wire()?;
        for i in 0..2 {
            topo.start_httpd(i)?;
            topo.start_echo(i)?;
        }
        Ok(topo)
    }

    fn wire(&self) -> Result<()> {
        let ports = ["pa", "pb", "p1", "p2", "pc"];
        let all = [
            &self.directors[0],
            &self.directors[1],
            &self.servers[0],
            &self.servers[1],
            &self.client,
        ];
        for (ns, port) in all.iter().zip(ports) {
            veth_pair(ns, "eth0", &self.lan, port)?;
            bridge_port(&self.lan, port, "br0")?;
        }
        for (i, d) in self.directors.iter().enumerate() {
            d.add_addr("eth0", &format!("{}/24", DIRECTORS[i]))?;
            if self.method == Method::Nat {
                d.add_addr("eth0", &format!("{}/24", DIRECTORS_NAT[i]))?;
                proc_sys(d, "net/ipv4/ip_forward", "1")?;
                // Replies come back on the interface they leave by: no redirects to the
                // real servers.
                proc_sys(d, "net/ipv4/conf/all/send_redirects", "0")?;
                proc_sys(d, "net/ipv4/conf/eth0/send_redirects", "0")?;
            }
            d.set_up("eth0")?;
        }
        let addrs = self.method.servers();
        for (i, s) in self.servers.iter().enumerate() {
            s.add_addr("eth0", &format!("{}/24", addrs[i]))?;
            s.set_up("eth0")?;
            match self.method {
                Method::Nat => s.add_route("default", NAT_GATEWAY.into())?,
                Method::Dr => self.realserver(i, &[])?,
                Method::Tun => self.realserver(i, &["--tun", "ipip"])?,
            }
        }
        self.client.add_addr("eth0", &format!("{CLIENT}/24"))?;
        self.client.set_up("eth0")?;
        Ok(())
    }

    fn realserver(&self, i: usize, extra: &[&str]) -> Result<()> {
        let state = self.dir.join(format!("{}.state", SERVER_NAMES[i]));
        let out = self.servers[i]
            .command(&self.bins.realserver.to_string_lossy())
            .args(["up", "--vip", &VIP.to_string(), "--state"])
            .arg(&state)
            .args(extra)
            .output()
            .context("run lvskit-realserver")?;
        if !out.status.success() {
            bail!(
                "lvskit-realserver up on {}: {}",
                SERVER_NAMES[i],
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Starts busybox httpd on real server `i` (port 80, answering with its name).
    pub fn start_httpd(&mut self, i: usize) -> Result<()> {
        let root = self.dir.join(format!("www-{}", SERVER_NAMES[i]));
        std::fs::create_dir_all(&root)?;
        std::fs::write(root.join("index.html"), format!("{}\n", SERVER_NAMES[i]))?;
        let child = self.servers[i]
            .command("busybox")
            .args(["httpd", "-f", "-p", &format!("0.0.0.0:{HTTP_PORT}"), "-h"])
            .arg(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start busybox httpd")?;
        self.httpd[i] = Some(child);
        // Listening once a local connection is accepted.
        let addr = SocketAddr::from((self.method.servers()[i], HTTP_PORT));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let up = self.servers[i].run(move || {
                TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
            })?;
            if up {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("httpd on {} does not listen", SERVER_NAMES[i])
    }

    /// Stops real server `i`'s httpd (SIGKILL), as a crashed web server.
    pub fn stop_httpd(&mut self, i: usize) {
        if let Some(mut child) = self.httpd[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn start_echo(&self, i: usize) -> Result<()> {
        let listener = self.servers[i]
            .run(|| TcpListener::bind(("0.0.0.0", ECHO_PORT)))?
            .context("bind the echo listener")?;
        listener.set_nonblocking(true)?;
        let stop = Arc::clone(&self.echo_stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 512];
                            while let Ok(n) = conn.read(&mut buf) {
                                if n == 0 || conn.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        Ok(())
    }

    /// The configuration file of director `i`.
    pub fn config_path(&self, i: usize) -> PathBuf {
        self.dir
            .join(format!("director-{}.conf", DIRECTOR_NAMES[i]))
    }

    /// Writes director `i`'s configuration (it takes effect at the next start or SIGHUP).
    pub fn write_config(&self, i: usize, text: &str) -> Result<()> {
        std::fs::write(self.config_path(i), text).context("write the configuration")
    }

    /// The log of director `i`'s `n`th start (1-based).
    pub fn log_path(&self, i: usize, n: u32) -> PathBuf {
        self.dir
            .join(format!("lvskitd-{}-{n}.log", DIRECTOR_NAMES[i]))
    }

    /// How many times director `i` was started.
    pub fn starts(&self, i: usize) -> u32 {
        self.starts[i]
    }

    /// Director `i`'s current log (empty before its first start).
    pub fn log(&self, i: usize) -> String {
        if self.starts[i] == 0 {
            return String::new();
        }
        std::fs::read_to_string(self.log_path(i, self.starts[i])).unwrap_or_default()
    }

    /// Every log of director `i`, oldest first, joined.
    pub fn all_logs(&self, i: usize) -> String {
        (1..=self.starts[i])
            .map(|n| std::fs::read_to_string(self.log_path(i, n)).unwrap_or_default())
            .collect()
    }

    /// Starts `lvskitd` (both halves) on director `i` with its configuration file.
    pub fn start_director(&mut self, i: usize) -> Result<()> {
        self.starts[i] += 1;
        let log = File::create(self.log_path(i, self.starts[i]))?;
        let child = self.directors[i]
            .command(&self.bins.lvskitd.to_string_lossy())
            .args(["-n", "-l", "-f"])
            .arg(self.config_path(i))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("start lvskitd")?;
        self.daemons[i] = Some(child);
        Ok(())
    }

    /// Sends `signal` to director `i`'s `lvskitd`; SIGKILL and SIGTERM also reap it.
    pub fn signal_director(&mut self, i: usize, signal: i32) -> Result<()> {
        let Some(child) = self.daemons[i].as_mut() else {
            bail!("director {} is not running", DIRECTOR_NAMES[i]);
        };
        let pid = i32::try_from(child.id()).context("pid")?;
        // SAFETY: kill(2) on the pid of our own child, not yet reaped.
        if unsafe { libc::kill(pid, signal) } != 0 {
            bail!("kill: {}", std::io::Error::last_os_error());
        }
        if signal == libc::SIGKILL || signal == libc::SIGTERM {
            let _ = child.wait();
            self.daemons[i] = None;
        }
        Ok(())
    }

    /// Whether director `i`'s `lvskitd` is running.
    pub fn director_running(&mut self, i: usize) -> bool {
        self.daemons[i]
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Takes director `i`'s `eth0` down or up.
    pub fn set_director_link(&self, i: usize, up: bool) -> Result<()> {
        if up {
            self.directors[i].set_up("eth0")?;
        } else {
            self.directors[i].set_down("eth0")?;
        }
        Ok(())
    }

    /// Director `i`'s VRRP state as its current log last said it (`MASTER`, `BACKUP`,
    /// `FAULT`), or `None` before any transition or when it is not running.
    pub fn vrrp_state(&mut self, i: usize) -> Option<String> {
        if !self.director_running(i) {
            return None;
        }
        last_state(&self.log(i))
    }

    /// The director whose `lvskitd` says it is MASTER, when exactly one does.
    pub fn master(&mut self) -> Option<usize> {
        let masters: Vec<usize> = (0..2)
            .filter(|&i| self.vrrp_state(i).as_deref() == Some("MASTER"))
            .collect();
        (masters.len() == 1).then(|| masters[0])
    }

    /// `ipvsadm ARGS` in director `i`'s namespace (IPVS tables are per namespace).
    pub fn ipvsadm(&self, i: usize, args: &[&str]) -> Result<String> {
        let out = self.directors[i]
            .command("ipvsadm")
            .args(args)
            .output()
            .context("run ipvsadm")?;
        if !out.status.success() {
            bail!("ipvsadm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The real servers of the HTTP service in director `i`'s table, with their weights.
    pub fn http_table(&self, i: usize) -> Result<Vec<(usize, u32)>> {
        let text = self.ipvsadm(i, &["-Ln", "-t", &format!("{VIP}:{HTTP_PORT}")])?;
        Ok(parse_destinations(&text, self.method.servers()))
    }
}

/// Writes `/proc/sys/KEY` from a thread inside `ns` (`/proc/sys/net` is the namespace of the
/// thread that opens it; busybox's `sysctl` is not relied on).
fn proc_sys(ns: &Netns, key: &str, value: &str) -> Result<()> {
    let path = format!("/proc/sys/{key}");
    let value = value.to_string();
    ns.run(move || std::fs::write(&path, value))?
        .with_context(|| format!("write /proc/sys/{key}"))
}

/// `(server index, weight)` of the `->` lines of `ipvsadm -Ln` that name one of `servers`.
pub fn parse_destinations(text: &str, servers: [Ipv4Addr; 2]) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"->") || words.len() < 4 {
            continue;
        }
        let Some(addr) = words[1].split(':').next() else {
            continue;
        };
        if let Some(i) = servers.iter().position(|s| s.to_string() == addr)
            && let Ok(weight) = words[3].parse()
        {
            out.push((i, weight));
        }
    }
    out
}

/// The state of the last "entering X state" line of an `lvskitd` log.
pub fn last_state(log: &str) -> Option<String> {
    log.lines().rev().find_map(entered_state)
}

/// The state a log line says the instance entered, if it is a transition line.
pub fn entered_state(line: &str) -> Option<String> {
    let rest = line.split(" entering ").nth(1)?;
    let state = rest.split_whitespace().next()?;
    rest.contains(" state")
        .then(|| state.to_string())
        .filter(|s| s.chars().all(|c| c.is_ascii_uppercase()))
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.echo_stop.store(true, Ordering::Relaxed);
        for child in self
            .daemons
            .iter_mut()
            .chain(self.httpd.iter_mut())
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("true").status();
        if std::env::var_os("LVS_LAB_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What one request got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The real server (0 or 1) that answered.
    Server(usize),
    /// No answer, a wrong one, or a timeout; the reason.
    Failed(String),
}

/// One request of the client loop.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When it was sent, from the client's start.
    pub at: Duration,
    /// What came back.
    pub answer: Answer,
}

impl Sample {
    /// Whether it failed.
    pub fn failed(&self) -> bool {
        matches!(self.answer, Answer::Failed(_))
    }
}

/// The client loop: one HTTP request to the VIP every `interval`, each on its own thread with
/// `timeout` for connect and for the answer, so a hung request does not slow the rate.
#[derive(Debug)]
pub struct Client {
    samples: Arc<Mutex<Vec<Sample>>>,
    stop: Arc<AtomicBool>,
    start: Instant,
    /// The time between requests.
    pub interval: Duration,
    thread: Option<std::thread::JoinHandle<Result<(), testbed::Error>>>,
}

impl Client {
    /// Starts the loop in the client's namespace.
    pub fn start(topo: &Topology, interval: Duration, timeout: Duration) -> Result<Self> {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let thread = {
            let samples = Arc::clone(&samples);
            let stop = Arc::clone(&stop);
            topo.client.spawn(move || {
                let mut next = start;
                while !stop.load(Ordering::Relaxed) {
                    let at = next.duration_since(start);
                    let samples = Arc::clone(&samples);
                    // Threads made here inherit the namespace of this one.
                    std::thread::spawn(move || {
                        let answer = request(timeout);
                        samples.lock().unwrap().push(Sample { at, answer });
                    });
                    next += interval;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        // Behind (a slow machine): skip the missed slots, keep the rate.
                        while next <= now {
                            next += interval;
                        }
                    }
                }
            })?
        };
        Ok(Self {
            samples,
            stop,
            start,
            interval,
            thread: Some(thread),
        })
    }

    /// Time since the client started.
    pub fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// The instant the client started.
    pub fn started(&self) -> Instant {
        self.start
    }

    /// The requests answered or failed so far, by send time.
    pub fn samples(&self) -> Vec<Sample> {
        let mut samples = self.samples.lock().unwrap().clone();
        samples.sort_by_key(|s| s.at);
        samples
    }

    /// The requests sent in `[from, to)` that have completed.
    pub fn between(&self, from: Duration, to: Duration) -> Vec<Sample> {
        self.samples()
            .into_iter()
            .filter(|s| s.at >= from && s.at < to)
            .collect()
    }

    /// Stops the loop and waits for the requests in flight.
    pub fn stop(&mut self, timeout: Duration) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::thread::sleep(timeout + Duration::from_millis(200));
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn request(timeout: Duration) -> Answer {
    let attempt = || -> std::io::Result<String> {
        let addr = SocketAddr::from((VIP, HTTP_PORT));
        let mut conn = TcpStream::connect_timeout(&addr, timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.set_write_timeout(Some(timeout))?;
        conn.write_all(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")?;
        let mut text = String::new();
        conn.read_to_string(&mut text)?;
        Ok(text)
    };
    match attempt() {
        Ok(text) => {
            let body = text.split("\r\n\r\n").nth(1).unwrap_or("").trim();
            match SERVER_NAMES.iter().position(|n| *n == body) {
                Some(i) if text.starts_with("HTTP/1.") && text.contains(" 200 ") => {
                    Answer::Server(i)
                }
                _ => Answer::Failed(format!(
                    "unexpected answer {:?}",
                    text.lines().next().unwrap_or("")
                )),
            }
        }
        Err(e) => Answer::Failed(match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timeout".into(),
            std::io::ErrorKind::ConnectionRefused => "refused".into(),
            std::io::ErrorKind::ConnectionReset => "reset".into(),
            _ => e.to_string(),
        }),
    }
}

/// A long-lived connection to the echo service through the VIP, opened from the client.
#[derive(Debug)]
pub struct EchoConnection {
    conn: TcpStream,
    count: u32,
}

impl EchoConnection {
    /// Connects from the client's namespace.
    pub fn open(topo: &Topology) -> Result<Self> {
        let conn = topo
            .client
            .run(|| {
                TcpStream::connect_timeout(
                    &SocketAddr::from((VIP, ECHO_PORT)),
                    Duration::from_secs(2),
                )
            })?
            .context("connect to the echo service")?;
        Ok(Self { conn, count: 0 })
    }

    /// Sends a line and waits up to `timeout` for it to come back (TCP retransmits across a
    /// takeover, so the timeout is generous).
    pub fn exchange(&mut self, timeout: Duration) -> Result<()> {
        self.count += 1;
        let line = format!("ping {}\n", self.count);
        self.conn.set_read_timeout(Some(timeout))?;
        self.conn.write_all(line.as_bytes())?;
        let mut got = vec![0u8; line.len()];
        self.conn
            .read_exact(&mut got)
            .with_context(|| format!("echo of {:?}", line.trim()))?;
        if got != line.as_bytes() {
            bail!(
                "echo: sent {line:?}, got {:?}",
                String::from_utf8_lossy(&got)
            );
        }
        Ok(())
    }

    /// The client port, to find the connection in `ipvsadm -Lnc`.
    pub fn local_port(&self) -> u16 {
        self.conn.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

/// Whether `path` exists and is executable by someone.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_read_from_transition_lines() {
        let log = "2026 INFO director: (VI_1) entering BACKUP state: startup\n\
                   2026 INFO director: (VI_1) entering MASTER state: no advert for 3.6 s\n\
                   2026 INFO lb: started: 2 services";
        assert_eq!(last_state(log).as_deref(), Some("MASTER"));
        assert_eq!(entered_state("entering the loop"), None);
        assert_eq!(last_state(""), None);
    }

    #[test]
    fn destinations_are_read_from_ipvsadm() {
        let text = "IP Virtual Server version 1.2.1 (size=4096)\n\
                    Prot LocalAddress:Port Scheduler Flags\n\
                      -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
                    TCP  192.0.2.100:80 wrr\n\
                      -> 192.0.2.11:80                Route   3      0          4\n\
                      -> 192.0.2.12:80                Route   1      0          1\n";
        assert_eq!(
            parse_destinations(text, Method::Dr.servers()),
            [(0, 3), (1, 1)]
        );
        assert!(parse_destinations(text, Method::Nat.servers()).is_empty());
    }

    #[test]
    fn configs_name_the_method_and_weights() {
        let lb = LbSettings::default();
        let a = config(Method::Nat, 0, &lb);
        assert!(a.contains("state MASTER") && a.contains("priority 150"));
        assert!(a.contains("lvs_method NAT") && a.contains("198.51.100.254/24"));
        assert!(a.contains("real_server 198.51.100.11 80 {\n        weight 3"));
        let b = config(Method::Dr, 1, &lb);
        assert!(b.contains("state BACKUP") && !b.contains("198.51.100.254"));
        let lb = LbSettings {
            persistence: Some(60),
            ..lb
        };
        assert!(config(Method::Tun, 0, &lb).contains("persistence_timeout 60"));
        assert!(master_down_interval() > Duration::from_secs(3));
    }
}
