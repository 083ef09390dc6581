//! `cargo xtask bench ipvs`: ipvsadm and ipvsctl on the same kernel in one VM run (release
//! build). From empty: 10,000 services × 4 destinations restored with `-R`, then `-Sn` and
//! `-Ln --stats` of the full table by both tools, and a one-destination change through the
//! reconciler. Prints `bench:` lines with the times and the ratios.
//!
//! Every restore starts from a kernel whose IPVS modules were just unloaded and loaded again:
//! after a flush the kernel keeps the deleted destinations in a trash list that every new
//! destination is looked up in, which would slow whichever restore comes second. The tools take
//! turns at going first, round by round; the best time of each is reported.
//!
//! Ignored in the normal VM suite (it takes minutes under TCG); it still checks what it measures:
//! both restores give the same table, both dumps are byte-identical, the change is one request.

use std::ffi::CString;
use std::fs::File;
use std::io::Read;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipvs::{Ipvs, Reconciler, Table};

const IPVSCTL: &str = env!("CARGO_BIN_EXE_ipvsctl");
const SERVICES: usize = 10_000;
const DESTS: usize = 4;
const ROUNDS: usize = 2;

/// The three documentation networks (RFC 5737).
const NETS: [[u8; 3]; 3] = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
/// Hosts per network: .1 to .254.
const HOSTS: usize = 254;
/// Addresses in the table: every host of the three networks.
const ADDRESSES: usize = NETS.len() * HOSTS;
/// Service ports, in the order they are handed out to the addresses.
const PORTS: [u16; 14] = [
    80, 443, 22, 25, 110, 143, 587, 993, 995, 3306, 5432, 6379, 8080, 8443,
];

/// Address number `n` (wrapping) of the 762 host addresses 192.0.2.1-254, 198.51.100.1-254,
/// 203.0.113.1-254.
fn address(n: usize) -> Ipv4Addr {
    let n = n % ADDRESSES;
    let [a, b, c] = NETS[n / HOSTS];
    Ipv4Addr::new(a, b, c, u8::try_from(1 + n % HOSTS).unwrap())
}

/// The restore file. Service `i` is TCP at address `i mod 762` (see [`address`]) and port
/// `PORTS[i / 762]`: 10,000 distinct VIP:port pairs, every host of the three networks in use,
/// 13-14 ports each, so the low bytes of addresses and ports vary. Its 4 NAT destinations are the
/// addresses 191, 382, 573 and 764 places further on in the same list, at the service port
/// + 8000, weights 1-4; scheduler wlc.
fn restore_text() -> String {
    let mut text = String::new();
    for i in 0..SERVICES {
        let (n, port) = (i % ADDRESSES, PORTS[i / ADDRESSES]);
        let svc = format!("{}:{port}", address(n));
        text.push_str(&format!("-A -t {svc} -s wlc\n"));
        for d in 0..DESTS {
            text.push_str(&format!(
                "-a -t {svc} -r {}:{} -m -w {}\n",
                address(n + 191 * (d + 1)),
                port + 8000,
                1 + d
            ));
        }
    }
    text
}

/// Runs `tool args` with stdin from `input`, returns (elapsed, stdout).
fn timed(tool: &str, args: &[&str], input: Option<&str>) -> (Duration, String) {
    let stdin = match input {
        Some(path) => Stdio::from(File::open(path).unwrap()),
        None => Stdio::null(),
    };
    let started = Instant::now();
    let mut child = Command::new(tool)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{tool} {args:?}: {} {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    (elapsed, stdout)
}

fn flush() {
    let status = Command::new("ipvsadm").arg("-C").status().unwrap();
    assert!(status.success());
}

fn line(what: &str, adm: Duration, ctl: Duration) {
    println!(
        "bench: {what:<18} ipvsadm {:>8.2} s   ipvsctl {:>8.2} s   ratio {:>6.1}x",
        adm.as_secs_f64(),
        ctl.as_secs_f64(),
        adm.as_secs_f64() / ctl.as_secs_f64()
    );
}

/// The lines of a `-Sn` dump, sorted.
fn sorted_lines(dump: &str) -> Vec<String> {
    let mut lines: Vec<String> = dump.lines().map(str::to_owned).collect();
    lines.sort_unstable();
    lines
}

/// The IPVS modules loaded now, from `/proc/modules`.
fn ipvs_modules() -> Vec<String> {
    std::fs::read_to_string("/proc/modules")
        .expect("/proc/modules")
        .lines()
        .filter_map(|line| line.split(' ').next())
        .filter(|name| name.starts_with("ip_vs"))
        .map(str::to_owned)
        .collect()
}

/// `rmmod name`, retried for a while if the module is still busy.
fn unload(name: &str) {
    let c_name = CString::new(name).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // SAFETY: a NUL-terminated module name and flags.
        let rc =
            unsafe { libc::syscall(libc::SYS_delete_module, c_name.as_ptr(), libc::O_NONBLOCK) };
        if rc == 0 {
            return;
        }
        let err = std::io::Error::last_os_error();
        let busy = matches!(err.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN));
        assert!(busy && Instant::now() < deadline, "rmmod {name}: {err}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Loads the modules back when dropped, on success and on panic alike, so the kernel is left as
/// the harness expects.
struct LoadBack<'a>(&'a [String]);

impl Drop for LoadBack<'_> {
    fn drop(&mut self) {
        for module in self.0 {
            let status = Command::new("modprobe").arg(module).status();
            let loaded = matches!(&status, Ok(s) if s.success());
            if !loaded {
                eprintln!("modprobe {module}: {status:?}");
                assert!(std::thread::panicking(), "modprobe {module}: {status:?}");
            }
        }
    }
}

/// An empty IPVS with no history: flush, unload every IPVS module (schedulers and engines first,
/// then `ip_vs`, which frees the destination trash), load them all again.
fn fresh_kernel(modules: &[String]) {
    flush();
    {
        let _back = LoadBack(modules);
        for module in modules.iter().filter(|m| *m != "ip_vs") {
            unload(module);
        }
        unload("ip_vs");
        assert!(ipvs_modules().is_empty(), "{:?}", ipvs_modules());
    }
    let now = ipvs_modules();
    assert!(
        modules.iter().all(|m| now.contains(m)),
        "reloaded {now:?}, wanted {modules:?}"
    );
    let (_, empty) = timed("ipvsadm", &["-Sn"], None);
    assert!(empty.is_empty(), "a reloaded IPVS is empty: {empty}");
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tool {
    Ipvsadm,
    Ipvsctl,
}

impl Tool {
    fn path(self) -> &'static str {
        match self {
            Self::Ipvsadm => "ipvsadm",
            Self::Ipvsctl => IPVSCTL,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Ipvsadm => "ipvsadm",
            Self::Ipvsctl => "ipvsctl",
        }
    }

    /// 0 for ipvsadm, 1 for ipvsctl: the column in the tables of times.
    fn index(self) -> usize {
        self as usize
    }
}

/// Best times so far, `[ipvsadm, ipvsctl]`.
#[derive(Clone, Copy)]
struct Best([Duration; 2]);

impl Best {
    const fn new() -> Self {
        Self([Duration::MAX; 2])
    }

    fn keep(&mut self, tool: Tool, time: Duration) {
        let best = &mut self.0[tool.index()];
        *best = (*best).min(time);
    }
}

#[test]
#[ignore = "benchmark: cargo xtask bench ipvs"]
fn bench_ipvsadm_against_ipvsctl() {
    let path = "/tmp/bench-restore.txt";
    let text = restore_text();
    std::fs::write(path, &text).unwrap();
    let lines = text.lines().count();
    let modules = ipvs_modules();
    assert!(modules.iter().any(|m| m == "ip_vs"), "{modules:?}");
    // libtest has printed `test ... ` without a newline: start the `bench:` lines on their own.
    println!();
    println!(
        "bench: table {SERVICES} TCP services x {DESTS} NAT destinations ({lines} lines), \
         VIPs on all {ADDRESSES} hosts of 192.0.2/24, 198.51.100/24, 203.0.113/24 x {} ports; \
         TCG, release build",
        PORTS.len()
    );
    println!(
        "bench: every restore from freshly reloaded IPVS modules ({}); {ROUNDS} rounds, the \
         tools taking turns at going first; best of each",
        modules.join(" ")
    );

    let (mut restore, mut save, mut list) = (Best::new(), Best::new(), Best::new());
    let mut reference: Option<Vec<String>> = None;
    for round in 0..ROUNDS {
        let order = if round % 2 == 0 {
            [Tool::Ipvsadm, Tool::Ipvsctl]
        } else {
            [Tool::Ipvsctl, Tool::Ipvsadm]
        };
        let mut report = format!("bench: round {} ({} first):", round + 1, order[0].name());
        for (turn, restorer) in order.into_iter().enumerate() {
            fresh_kernel(&modules);
            let (took, _) = timed(restorer.path(), &["-R"], Some(path));
            restore.keep(restorer, took);
            report += &format!(" {} -R {:.2} s", restorer.name(), took.as_secs_f64());

            // -Sn by both tools after every restore: byte-identical text whoever saves it, and
            // the same table whoever restored it. (Across reloads only as a set of lines: the
            // kernel's service hash mixes in the address of its per-namespace state, so the
            // order of the services may change with every reload.)
            let mut dumps = Vec::new();
            for saver in order {
                let (took, dump) = timed(saver.path(), &["-Sn"], None);
                save.keep(saver, took);
                report += &format!(", {} -Sn {:.2} s", saver.name(), took.as_secs_f64());
                dumps.push(dump);
            }
            assert!(
                dumps[0] == dumps[1],
                "-Sn of the full table differs between the tools (after {} -R)",
                restorer.name()
            );
            let table = sorted_lines(&dumps[0]);
            assert_eq!(
                table.len(),
                lines,
                "{} -R restored everything",
                restorer.name()
            );
            match &reference {
                None => reference = Some(table),
                Some(reference) => assert!(
                    table == *reference,
                    "{} -R made another table than the first restore",
                    restorer.name()
                ),
            }

            // -Ln --stats once a round, on the second restore's table.
            if turn == 1 {
                let mut outputs = Vec::new();
                for lister in order {
                    let (took, out) = timed(lister.path(), &["-Ln", "--stats"], None);
                    list.keep(lister, took);
                    report += &format!(", {} -Ln {:.2} s", lister.name(), took.as_secs_f64());
                    outputs.push(out);
                }
                assert!(
                    outputs[0] == outputs[1],
                    "-Ln --stats of the full table differs"
                );
                assert!(outputs[0].lines().count() > lines);
            }
        }
        println!("{report}");
    }
    let restored = reference.unwrap();
    line("restore (-R)", restore.0[0], restore.0[1]);
    line("save (-Sn)", save.0[0], save.0[1]);
    line("list (-Ln --stats)", list.0[0], list.0[1]);

    // The kernel's share: the same 50,000 changes as one reconciler batch, no parsing at all,
    // on freshly reloaded modules too (a new client: the family may have a new id).
    let full = Table::read(&mut Ipvs::new().expect("IPVS in the VM")).unwrap();
    fresh_kernel(&modules);
    let mut ipvs = Ipvs::new().expect("IPVS in the VM after the reload");
    let started = Instant::now();
    let summary = Reconciler::new().apply(&mut ipvs, &full).unwrap();
    let from_empty = started.elapsed();
    assert_eq!(summary.applied(), lines);
    println!(
        "bench: reconciler from empty: {lines} operations in one batch {:.2} s (the kernel's floor for -R)",
        from_empty.as_secs_f64()
    );

    // The reconciler on the full table: read it once, then change one weight.
    let mut reconciler = Reconciler::new();
    let started = Instant::now();
    let current = Table::read(&mut ipvs).unwrap();
    let summary = reconciler.apply(&mut ipvs, &current).unwrap();
    let warm = started.elapsed();
    assert_eq!(summary.applied(), 0, "the table is already what is desired");
    let mut desired = current.clone();
    let vs = desired.services.values_mut().nth(SERVICES / 2).unwrap();
    let dest = vs.destinations.values_mut().next().unwrap();
    dest.weight += 10;
    ipvs.reset_counters();
    let started = Instant::now();
    let summary = reconciler.apply(&mut ipvs, &desired).unwrap();
    let change = started.elapsed();
    let requests = ipvs.counters().requests;
    assert_eq!(summary.applied(), 1);
    assert_eq!(
        requests, 1,
        "a one-destination change is one netlink request"
    );
    println!(
        "bench: reconciler: read+plan of the full table {:.2} s; one-destination change {:.1} ms, {requests} request",
        warm.as_secs_f64(),
        change.as_secs_f64() * 1000.0
    );
    let (_, after) = timed("ipvsadm", &["-Sn"], None);
    let after = sorted_lines(&after);
    let gone: Vec<_> = restored
        .iter()
        .filter(|l| after.binary_search(l).is_err())
        .collect();
    let new: Vec<_> = after
        .iter()
        .filter(|l| restored.binary_search(l).is_err())
        .collect();
    assert!(
        gone.len() == 1 && new.len() == 1,
        "the weight change reached the kernel, and only it: {gone:?} -> {new:?}"
    );
    flush();
}
