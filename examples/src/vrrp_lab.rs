//! A VRRP lab in network namespaces, shared by the `lvskitd` netns tests and `failover-bench`:
//! a bridge, two routers (`a` 192.0.2.1, `b` 192.0.2.2) and a client (`c` 192.0.2.9) that
//! captures every frame, plus `lvskitd` or keepalived started from a configuration text, and the
//! adverts and announcements read back from the capture. Needs root.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use testbed::{Capture, Frame, Netns, bridge_port, veth_pair};

/// The bridge, the routers, the client and its capture; removed when dropped.
#[derive(Debug)]
pub struct Lab {
    /// The namespace holding the bridge `br0` (ports `pa`, `pb`, `pc`).
    pub lan: Netns,
    /// Router `a`: `eth0` 192.0.2.1/24, 2001:db8::1/64.
    pub a: Netns,
    /// Router `b`: `eth0` 192.0.2.2/24, 2001:db8::2/64.
    pub b: Netns,
    /// The client: `eth0` 192.0.2.9/24, 2001:db8::9/64; the capture runs there.
    pub c: Netns,
    /// Every frame the client sees.
    pub capture: Capture,
    /// A scratch directory for configurations and logs.
    pub dir: PathBuf,
}

impl Lab {
    /// Builds the lab; `tag` keeps namespace and file names apart.
    pub fn new(tag: &str) -> Result<Self> {
        let lan = Netns::new(&format!("{tag}lan"))?;
        lan.add_bridge("br0")?;
        lan.set_up("br0")?;
        let a = Netns::new(&format!("{tag}a"))?;
        let b = Netns::new(&format!("{tag}b"))?;
        let c = Netns::new(&format!("{tag}c"))?;
        for (ns, port, v4, v6) in [
            (&a, "pa", "192.0.2.1/24", "2001:db8::1/64"),
            (&b, "pb", "192.0.2.2/24", "2001:db8::2/64"),
            (&c, "pc", "192.0.2.9/24", "2001:db8::9/64"),
        ] {
            veth_pair(ns, "eth0", &lan, port)?;
            bridge_port(&lan, port, "br0")?;
            lan.set_up(port)?;
            ns.add_addr("eth0", v4)?;
            ns.ip(&["addr", "add", v6, "dev", "eth0", "nodad"])?;
            ns.set_up("eth0")?;
            ns.set_up("lo")?;
        }
        let capture = Capture::start(&c, "eth0")?;
        let dir = std::env::temp_dir().join(format!("vrrp-lab-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        // Let the link-local addresses settle before IPv6 adverts need them.
        std::thread::sleep(Duration::from_millis(200));
        Ok(Self {
            lan,
            a,
            b,
            c,
            capture,
            dir,
        })
    }

    /// A path in the scratch directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The adverts the client has seen so far.
    pub fn adverts(&self) -> Vec<Advert> {
        adverts(&self.capture.frames())
    }

    /// Waits until `done` holds for the adverts seen, or `timeout`; returns them either way.
    pub fn wait_adverts(&self, timeout: Duration, done: impl Fn(&[Advert]) -> bool) -> Vec<Advert> {
        adverts(
            &self
                .capture
                .wait_until(timeout, |frames| done(&adverts(frames))),
        )
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Which VRRP implementation a [`Daemon`] runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Implementation {
    /// `lvskitd -n -l -D -P -f CONF --socket DIR/NAME.sock` (the VRRP half, as keepalived's
    /// `-P`) from this path.
    Lvskitd(PathBuf),
    /// `keepalived -n -l -D -P -f CONF` (Debian's 2.2.7), with its pid files in the lab.
    Keepalived,
}

/// A running `lvskitd` or keepalived, killed when dropped.
#[derive(Debug)]
pub struct Daemon {
    child: Option<Child>,
    /// keepalived's VRRP child writes its pid here.
    vrrp_pid: Option<PathBuf>,
    log: PathBuf,
}

impl Daemon {
    /// Starts `implementation` in `ns` with `conf` (written to `DIR/NAME.conf`, `$DIR` replaced
    /// by the lab's directory); its log goes to `DIR/NAME.log`. lvskitd keeps its state
    /// (`--state-dir`, the file of `lvskitd standby`) in [`Daemon::state_dir`].
    pub fn start(
        lab: &Lab,
        ns: &Netns,
        name: &str,
        conf: &str,
        implementation: &Implementation,
    ) -> Result<Self> {
        Self::start_with(lab, ns, name, conf, implementation, &[])
    }

    /// [`Daemon::start`] with `extra` arguments after lvskitd's own (`-i ID`, for instance);
    /// keepalived gets them too.
    pub fn start_with(
        lab: &Lab,
        ns: &Netns,
        name: &str,
        conf: &str,
        implementation: &Implementation,
        extra: &[&str],
    ) -> Result<Self> {
        let path = lab.file(&format!("{name}.conf"));
        std::fs::write(&path, conf.replace("$DIR", &lab.dir.to_string_lossy()))?;
        let log = lab.file(&format!("{name}.log"));
        let log_file = std::fs::File::create(&log)?;
        let (child, vrrp_pid) = match implementation {
            Implementation::Lvskitd(exe) => {
                let child = ns
                    .command(&exe.to_string_lossy())
                    .args(["-n", "-l", "-D", "-P", "-f"])
                    .arg(&path)
                    .arg("--socket")
                    .arg(lab.file(&format!("{name}.sock")))
                    .arg("--state-dir")
                    .arg(Self::state_dir(lab, name))
                    .args(extra)
                    .stdout(Stdio::null())
                    .stderr(log_file)
                    .spawn()
                    .with_context(|| format!("run {}", exe.display()))?;
                (child, None)
            }
            Implementation::Keepalived => {
                let vrrp_pid = lab.file(&format!("{name}.vrrp.pid"));
                let child = ns
                    .command("keepalived")
                    .args(["-n", "-l", "-D", "-P", "-f"])
                    .arg(&path)
                    .arg("-p")
                    .arg(lab.file(&format!("{name}.pid")))
                    .arg("-r")
                    .arg(&vrrp_pid)
                    .args(extra)
                    .stdout(log_file)
                    .stderr(Stdio::null())
                    .spawn()
                    .context("run keepalived (apt-get install keepalived)")?;
                (child, Some(vrrp_pid))
            }
        };
        Ok(Self {
            child: Some(child),
            vrrp_pid,
            log,
        })
    }

    /// The `--state-dir` of the lvskitd started as `name` in `lab`.
    pub fn state_dir(lab: &Lab, name: &str) -> PathBuf {
        lab.file(&format!("{name}.state"))
    }

    /// The process that runs VRRP: lvskitd itself, or keepalived's VRRP child (once it wrote
    /// its pid file).
    pub fn vrrp_pid(&self) -> Option<i32> {
        match &self.vrrp_pid {
            Some(path) => std::fs::read_to_string(path).ok()?.trim().parse().ok(),
            None => self.child.as_ref().map(|c| c.id() as i32),
        }
    }

    /// SIGKILL, as a crash: keepalived's VRRP child first, so it cannot say goodbye.
    pub fn kill(&mut self) {
        if self.vrrp_pid.is_some()
            && let Some(pid) = self.vrrp_pid()
        {
            // SAFETY: kill(2) on the pid keepalived's VRRP child wrote for us.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then waits up to 10 s for the exit status.
    pub fn stop(&mut self) -> Result<Option<i32>> {
        let Some(mut child) = self.child.take() else {
            return Ok(None);
        };
        // SAFETY: kill(2) on our own child (`ip netns exec` execs the program).
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One VRRP advert on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// When the capture saw it.
    pub at: SystemTime,
    /// IP source.
    pub src: IpAddr,
    /// VRID.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
}

/// The VRRP adverts (IPv4 and IPv6, any version, good checksums) among `frames`.
pub fn adverts(frames: &[Frame]) -> Vec<Advert> {
    frames
        .iter()
        .filter_map(|f| {
            let payload = f.data.get(14..)?;
            let received = match f.ethertype() {
                0x0800 => vrrp_packet::recv::parse_ipv4(payload, vrrp_packet::ChecksumModes::ALL),
                0x86dd => {
                    let ip = payload.get(..40)?;
                    if ip[6] != vrrp_packet::IP_PROTOCOL {
                        return None;
                    }
                    let src = <[u8; 16]>::try_from(&ip[8..24]).ok()?;
                    let dst = <[u8; 16]>::try_from(&ip[24..40]).ok()?;
                    vrrp_packet::recv::parse_ipv6(&payload[40..], src.into(), dst.into(), ip[7])
                }
                _ => return None,
            }
            .ok()?;
            Some(Advert {
                at: f.timestamp,
                src: received.src,
                vrid: received.vrrp.vrid,
                priority: received.vrrp.priority,
            })
        })
        .collect()
}

/// The gratuitous ARPs and unsolicited NAs among `frames`: when, and for which address.
pub fn announcements(frames: &[Frame]) -> Vec<(SystemTime, IpAddr)> {
    frames
        .iter()
        .filter_map(|f| {
            let announcement = garp::Announcement::parse(&f.data).ok()?;
            Some((f.timestamp, announcement.addr()))
        })
        .collect()
}

/// Resident set size and CPU time (user + system) of a process, from `/proc`.
pub fn process_usage(pid: i32) -> Result<(u64, Duration)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .context("no VmRSS")?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("bad stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    let (utime, stime) = (ticks(11).context("utime")?, ticks(12).context("stime")?);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let cpu = Duration::from_nanos((utime + stime) * 1_000_000_000 / hz);
    Ok((rss_kib * 1024, cpu))
}
