//! `check-bench`: the health-check scheduler at scale against loopback listeners; `cargo xtask
//! bench check` runs it and tabulates the figures.
//!
//! ```text
//! check-bench run --kind tcp --servers 10000 --interval 1 --seconds 20
//! check-bench serve --kind tcp --first 0 --count 15000      (started by `run`)
//! ```
//! `run` starts listener processes (`serve`, at most 15,000 sockets each, to stay within
//! RLIMIT_NOFILE), registers one check per real server on a single-threaded tokio runtime, lets
//! the warm-up pass, then measures for `--seconds`: attempts per second, the process's CPU time
//! (so attempts per CPU-second is the per-core figure), start slip p50/p99 and RSS. It prints one
//! JSON object.
//!
//! Real server `i` is 127.0.0.`(1 + i % 100)`:`(20000 + i / 100)`.

use std::io::{BufRead, BufReader, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use healthcheck::{
    Check, CheckId, ConnectOptions, HttpGet, Schedule, Scheduler, State, TcpCheck, UrlCheck,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Listening sockets per listener process at most (less when RLIMIT_NOFILE is lower).
const PER_SERVER_PROCESS: usize = 15_000;
const BODY: &[u8] = b"<html><body>healthy</body></html>\n";

#[derive(Parser)]
#[command(name = "check-bench")]
/// Health-check scheduler benchmark against loopback listeners.
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Kind {
    Tcp,
    Http,
}

#[derive(Subcommand)]
enum Mode {
    /// Measure: start listeners, run the checks, print JSON.
    Run {
        /// TCP_CHECK or HTTP_GET.
        #[arg(long, value_enum, default_value = "tcp")]
        kind: Kind,
        /// Real servers (one check each).
        #[arg(long, default_value_t = 10_000)]
        servers: usize,
        /// delay_loop in seconds.
        #[arg(long, default_value_t = 1.0, value_parser = seconds)]
        interval: f64,
        /// Measured seconds after the warm-up.
        #[arg(long, default_value_t = 20.0, value_parser = seconds)]
        seconds: f64,
        /// Runtime worker threads: 1 is a current-thread runtime (the per-core figure); more is
        /// a multi-thread runtime, measured with the whole process's CPU.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// TCP_CHECK on kernel sockets only (`healthcheck::tcp::set_raw_probes(false)`), as a
        /// process without CAP_NET_RAW runs it.
        #[arg(long)]
        sockets: bool,
    },
    /// Listen on real servers `first..first+count` and answer probes.
    Serve {
        /// TCP accept-and-close, or an HTTP 200 with a small body.
        #[arg(long, value_enum)]
        kind: Kind,
        /// First real server index.
        #[arg(long)]
        first: usize,
        /// How many.
        #[arg(long)]
        count: usize,
    },
}

fn server_addr(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::new(127, 0, 0, 1 + (i % 100) as u8);
    SocketAddr::new(IpAddr::V4(ip), 20_000 + (i / 100) as u16)
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (and the hard limit too, when root).
fn raise_nofile(want: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write or read the plain struct we pass.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        let raised = libc::rlimit {
            rlim_cur: want.max(limit.rlim_max),
            rlim_max: want.max(limit.rlim_max),
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

/// User and system CPU seconds of the calling thread (the current-thread runtime's only thread),
/// or of the whole process.
fn cpu_seconds(whole_process: bool) -> (f64, f64) {
    let who = if whole_process {
        libc::RUSAGE_SELF
    } else {
        libc::RUSAGE_THREAD
    };
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct.
    let usage = unsafe {
        libc::getrusage(who, usage.as_mut_ptr());
        usage.assume_init()
    };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

/// Nanoseconds spent runnable but waiting for a CPU (schedstat), by the calling thread or by all
/// of the process's threads.
fn runqueue_wait_ns(whole_process: bool) -> u64 {
    let wait = |path: std::path::PathBuf| -> u64 {
        std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(1).and_then(|w| w.parse().ok()))
            .unwrap_or(0)
    };
    if whole_process {
        std::fs::read_dir("/proc/self/task")
            .map(|tasks| tasks.flatten().map(|t| wait(t.path())).sum())
            .unwrap_or(0)
    } else {
        // SAFETY: gettid has no memory effects.
        let tid = unsafe { libc::gettid() };
        wait(format!("/proc/self/task/{tid}").into())
    }
}

/// CPU seconds of another process, from /proc/PID/stat.
fn cpu_seconds_of(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ... utime(11) stime(12), in clock ticks.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no memory effects.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

/// A line of /proc/self/status in MiB ("VmRSS", "VmHWM").
fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn serve(kind: Kind, first: usize, count: usize) -> Result<(), String> {
    raise_nofile(count as u64 + 1024);
    // The listeners stand in for remote machines: SCHED_BATCH keeps their wake-ups (one per
    // probe) from preempting the scheduler being measured on this shared 2-core box.
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain syscall on this process with a valid parameter struct.
    unsafe {
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        for i in first..first + count {
            let addr = server_addr(i);
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
                .map_err(|e| format!("socket: {e}"))?;
            socket.set_reuse_address(true).map_err(|e| e.to_string())?;
            socket.set_nonblocking(true).map_err(|e| e.to_string())?;
            socket
                .bind(&addr.into())
                .map_err(|e| format!("bind {addr}: {e}"))?;
            socket.listen(1024).map_err(|e| format!("listen {addr}: {e}"))?;
            let listener = TcpListener::from_std(socket.into()).map_err(|e| e.to_string())?;
            tokio::spawn(async move {
                loop {
                    let Ok((mut conn, _)) = listener.accept().await else {
                        continue;
                    };
                    if kind == Kind::Tcp {
                        continue; // dropped: the prober has its answer (and resets anyway)
                    }
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let mut seen = 0;
                        loop {
                            match conn.read(&mut buf[seen..]).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => seen += n,
                            }
                            if buf[..seen].windows(4).any(|w| w == b"\r\n\r\n") || seen == buf.len() {
                                break;
                            }
                        }
                        let head = format!(
                            "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                            BODY.len()
                        );
                        let mut response = head.into_bytes();
                        response.extend_from_slice(BODY);
                        let _ = conn.write_all(&response).await;
                        // Let the prober close first (it resets), so no TIME_WAIT piles up here.
                        let _ = conn.read(&mut buf).await;
                    });
                }
            });
        }
        println!("ready");
        let _ = std::io::stdout().flush();
        // Serve until the parent closes our stdin.
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
        Ok(())
    })
}

/// The control: how late a bare OS thread wakes from a 1 ms sleep on this machine right now.
/// When the scheduler's slip resembles this, the slip is the machine's, not the scheduler's.
fn os_wakeup_probe(stop: Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<Vec<u64>> {
    std::thread::spawn(move || {
        let mut lateness = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let planned = Instant::now() + Duration::from_millis(1);
            std::thread::sleep(Duration::from_millis(1));
            lateness.push(
                Instant::now()
                    .saturating_duration_since(planned)
                    .as_micros() as u64,
            );
        }
        lateness
    })
}

fn percentile_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1e3
}

fn spawn_servers(kind: Kind, servers: usize) -> Result<Vec<Child>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let kind_word = match kind {
        Kind::Tcp => "tcp",
        Kind::Http => "http",
    };
    // Each listener process raises its soft limit to the hard one; leave room for the runtime.
    let per_process = usize::try_from(raise_nofile(0))
        .unwrap_or(usize::MAX)
        .saturating_sub(256)
        .clamp(100, PER_SERVER_PROCESS);
    let mut children = Vec::new();
    let mut first = 0;
    while first < servers {
        let count = per_process.min(servers - first);
        let mut child = Command::new(&exe)
            .args(["serve", "--kind", kind_word])
            .args(["--first", &first.to_string(), "--count", &count.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start a listener process: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if line.trim() != "ready" {
            return Err(format!("listener process for {first}.. did not start"));
        }
        children.push(child);
        first += count;
    }
    Ok(children)
}

/// A number of seconds within the checkers' limits (a negative or NaN one would panic later).
fn seconds(text: &str) -> Result<f64, String> {
    healthcheck::options::parse_secs("seconds", text)
        .map(|d| d.as_secs_f64())
        .map_err(|e| e.to_string())
}

fn run(
    kind: Kind,
    servers: usize,
    interval: f64,
    seconds: f64,
    threads: usize,
) -> Result<(), String> {
    let nofile = raise_nofile(65_536);
    let children = spawn_servers(kind, servers)?;
    let whole = threads > 1;
    let runtime = if whole {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .map_err(|e| e.to_string())?;
    let delay_loop = Duration::from_secs_f64(interval);
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let result = runtime.block_on(async move {
        let (scheduler, mut events) = Scheduler::new();
        let ups = Arc::new(AtomicU64::new(0));
        let downs = Arc::new(AtomicU64::new(0));
        let last_down = Arc::new(std::sync::Mutex::new(String::new()));
        {
            let (ups, downs, last_down) = (ups.clone(), downs.clone(), last_down.clone());
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    match event.state {
                        State::Up => ups.fetch_add(1, Ordering::Relaxed),
                        State::Down => {
                            *last_down.lock().unwrap() = event.reason;
                            downs.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            });
        }
        let schedule = Schedule::new(delay_loop).warmup(delay_loop);
        // The digest an operator would take with genhash from one real server.
        let digest = if kind == Kind::Http {
            let probe = HttpGet::new(
                ConnectOptions::new(server_addr(0)),
                vec![UrlCheck::new("/health")],
            );
            let response = probe.fetch(&probe.urls[0], true).await?;
            healthcheck::http::digest_hex(&response.digest)
        } else {
            String::new()
        };
        for i in 0..servers {
            let connect =
                ConnectOptions::new(server_addr(i)).connect_timeout(Duration::from_secs(2));
            let check = match kind {
                Kind::Tcp => Check::Tcp(TcpCheck::new(connect)),
                Kind::Http => {
                    let url = UrlCheck::new("/health")
                        .digest(&digest)
                        .map_err(|e| e.to_string())?;
                    Check::Http(HttpGet::new(connect, vec![url]))
                }
            };
            scheduler.insert(CheckId(i as u64), check, schedule);
        }
        // Warm-up: every check has started once.
        tokio::time::sleep(delay_loop + Duration::from_millis(500)).await;
        scheduler.stats().reset();
        let cpu0 = cpu_seconds(whole);
        let wait0 = runqueue_wait_ns(whole);
        let server_cpu0: f64 = pids.iter().map(|&pid| cpu_seconds_of(pid)).sum();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let probe = os_wakeup_probe(Arc::clone(&stop));
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        let elapsed = t0.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let mut control = probe.join().unwrap_or_default();
        control.sort_unstable();
        let cpu1 = cpu_seconds(whole);
        let waited = runqueue_wait_ns(whole).saturating_sub(wait0) as f64 / 1e6;
        let (user, system) = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1);
        let cpu = user + system;
        let server_cpu: f64 =
            pids.iter().map(|&pid| cpu_seconds_of(pid)).sum::<f64>() - server_cpu0;
        let stats = scheduler.stats();
        let attempts = stats.attempts() as f64;
        let ms = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3);
        let report = serde_json::json!({
            "kind": match kind { Kind::Tcp => "TCP_CHECK", Kind::Http => "HTTP_GET" },
            "servers": servers,
            "threads": threads,
            "tcp_probe": if healthcheck::tcp::raw_probes() { "raw when permitted" } else { "socket" },
            "delay_loop_s": interval,
            "measured_s": elapsed,
            "checks": attempts,
            "checks_per_s": attempts / elapsed,
            "cpu_s": cpu,
            "cpu_user_s": user,
            "runqueue_wait_ms_per_s": waited / elapsed,
            "cpu_system_s": system,
            "cpu_pct_of_one_core": 100.0 * cpu / elapsed,
            "checks_per_cpu_s": attempts / cpu,
            "listener_cpu_pct": 100.0 * server_cpu / elapsed,
            "slip_p50_ms": ms(stats.quantile(0.50)),
            "slip_p99_ms": ms(stats.quantile(0.99)),
            "slip_max_ms": ms(stats.quantile(1.0)),
            "os_wakeup_late_p50_ms": percentile_ms(&control, 0.50),
            "os_wakeup_late_p99_ms": percentile_ms(&control, 0.99),
            "rss_mib": status_mib("VmRSS:"),
            "rss_peak_mib": status_mib("VmHWM:"),
            "up_events": ups.load(Ordering::Relaxed),
            "down_events": downs.load(Ordering::Relaxed),
            "last_down_reason": last_down.lock().unwrap().clone(),
            "nofile": nofile,
            "running_checks": scheduler.running(),
        });
        drop(scheduler);
        Ok::<_, String>(report)
    });
    for mut child in children {
        drop(child.stdin.take());
        let _ = child.wait();
    }
    let report = result?;
    println!("{report}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.mode {
        Mode::Run {
            kind,
            servers,
            interval,
            seconds,
            threads,
            sockets,
        } => {
            healthcheck::tcp::set_raw_probes(!sockets);
            run(kind, servers, interval, seconds, threads)
        }
        Mode::Serve { kind, first, count } => serve(kind, first, count),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("check-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
