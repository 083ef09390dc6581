//! `vip-bench`: how long adding and removing 1,000 VIPs takes through the `vip` crate, compared
//! with `ip -batch` adding and removing the same 1,000 in the same run.
//!
//! It needs root: every measurement runs in a fresh network namespace (`testbed::Netns`), so
//! nothing outside is touched, with a veth pair there. The addresses are 600 IPv4 ones
//! from the three TEST-NETs and 400 from 2001:db8::/32 (IPv6 with `nodad`, both ways).
//!
//! ```text
//! sudo target/release/vip-bench --rounds 7
//! ```

use std::{
    fmt::Write as _,
    net::IpAddr,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, ensure};
use clap::Parser;
use testbed::Netns;
use vip::{Change, Client, Vip};

/// Times 1,000 VIPs added and removed through `vip` and through `ip -batch`.
#[derive(Parser)]
struct Args {
    /// How many times to add and remove the 1,000 (the median is reported).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Also time 1,000 `Client::add_vip` calls one after the other.
    #[arg(long)]
    sequential: bool,
    /// Skip `ip -batch` (time only the crate).
    #[arg(long)]
    no_ip: bool,
    /// Only the addresses of one family (`4` or `6`).
    #[arg(long)]
    family: Option<u8>,
}

const DEV: &str = "bench0";

fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.rounds > 0, "--rounds must be at least 1");
    let addrs: Vec<IpAddr> = addresses()
        .into_iter()
        .filter(|a| match args.family {
            Some(4) => a.is_ipv4(),
            Some(6) => a.is_ipv6(),
            _ => true,
        })
        .collect();
    let vips: Vec<Vip> = addrs.iter().map(|a| Vip::new(*a, DEV)).collect();
    let dir = std::env::temp_dir();
    let add_file = dir.join(format!("vip-bench-add-{}", std::process::id()));
    let del_file = dir.join(format!("vip-bench-del-{}", std::process::id()));
    std::fs::write(&add_file, batch("add", &addrs))?;
    std::fs::write(&del_file, batch("del", &addrs))?;
    let add_file = add_file.to_str().context("temp path")?.to_owned();
    let del_file = del_file.to_str().context("temp path")?.to_owned();

    let [mut ours_add, mut ours_del, mut ours_again] = [(); 3].map(|()| Vec::new());
    let [mut ip_add, mut ip_del, mut ip_again] = [(); 3].map(|()| Vec::new());
    let mut seq_add = Vec::new();
    for _ in 0..args.rounds {
        // Each measurement starts in a fresh namespace: the kernel keeps per-address state
        // (IPv6 multicast memberships, routes) for a while after a removal, which slows the next
        // add of the same addresses down.
        let ns = fresh_netns()?;
        let [add, del, again] = in_netns(&ns, vips.clone(), |runtime, client, vips| {
            let t = Instant::now();
            let changes = runtime.block_on(client.add_vips(vips))?;
            let add = t.elapsed();
            ensure!(
                changes.iter().all(|c| *c == Change::Changed),
                "add_vips did not add all"
            );
            ensure!(
                count_addrs(None)? >= vips.len(),
                "the VIPs are not all there"
            );
            let t = Instant::now();
            runtime.block_on(client.remove_vips(vips))?;
            let del = t.elapsed();
            let t = Instant::now();
            runtime.block_on(client.add_vips(vips))?;
            Ok([add, del, t.elapsed()])
        })?;
        ours_add.push(add);
        ours_del.push(del);
        ours_again.push(again);
        drop(ns);

        if !args.no_ip {
            let ns = fresh_netns()?;
            let t = Instant::now();
            ns.ip(&["-batch", &add_file])?;
            ip_add.push(t.elapsed());
            ensure!(
                count_addrs(Some(&ns))? >= vips.len(),
                "ip -batch did not add all"
            );
            let t = Instant::now();
            ns.ip(&["-batch", &del_file])?;
            ip_del.push(t.elapsed());
            let t = Instant::now();
            ns.ip(&["-batch", &add_file])?;
            ip_again.push(t.elapsed());
        }

        if args.sequential {
            let ns = fresh_netns()?;
            seq_add.push(in_netns(&ns, vips.clone(), |runtime, client, vips| {
                let t = Instant::now();
                runtime.block_on(async {
                    for v in vips {
                        let _ = client.add_vip(v).await?;
                    }
                    Ok::<_, vip::Error>(())
                })?;
                Ok(t.elapsed())
            })?);
        }
    }
    std::fs::remove_file(&add_file).ok();
    std::fs::remove_file(&del_file).ok();

    let v4 = addrs.iter().filter(|a| a.is_ipv4()).count();
    println!(
        "{} VIPs ({v4} IPv4, {} IPv6) on a veth, {} rounds: median (min .. max)",
        addrs.len(),
        addrs.len() - v4,
        args.rounds
    );
    report("vip::Client::add_vips (fresh netns)", &mut ours_add);
    report("vip::Client::remove_vips", &mut ours_del);
    report("vip::Client::add_vips again (same netns)", &mut ours_again);
    if !args.no_ip {
        report("ip -batch add (fresh netns)", &mut ip_add);
        report("ip -batch del", &mut ip_del);
        report("ip -batch add again (same netns)", &mut ip_again);
    }
    if args.sequential {
        report(
            "vip::Client::add_vip one by one (fresh netns)",
            &mut seq_add,
        );
    }
    Ok(())
}

/// A new network namespace with `bench0` (one end of a veth pair) up.
fn fresh_netns() -> Result<Netns> {
    let ns = Netns::new("vipbench").context("a network namespace (run as root)")?;
    ns.ip(&["link", "add", DEV, "type", "veth", "peer", "name", "bench1"])?;
    ns.set_up(DEV)?;
    ns.set_up("bench1")?;
    // Let the kernel finish tearing down the namespace of the last round, which it does in the
    // background.
    std::thread::sleep(Duration::from_millis(300));
    Ok(ns)
}

/// Runs `measure` on a thread inside `ns`, with a current-thread runtime and a `vip` client
/// opened there.
fn in_netns<R: Send + 'static>(
    ns: &Netns,
    vips: Vec<Vip>,
    measure: impl FnOnce(&tokio::runtime::Runtime, &Client, &[Vip]) -> Result<R> + Send + 'static,
) -> Result<R> {
    ns.run(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let client = runtime.block_on(async { Client::new() })?;
        measure(&runtime, &client, &vips)
    })?
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  {what:<42} {:>8.2} ms  ({:.2} .. {:.2})",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}

/// The same 1,000 addresses as the crate's netns test.
fn addresses() -> Vec<IpAddr> {
    let mut out = Vec::with_capacity(1000);
    for (net, count) in [
        ([192, 0, 2], 254u8),
        ([198, 51, 100], 254),
        ([203, 0, 113], 92),
    ] {
        for host in 1..=count {
            out.push(IpAddr::from([net[0], net[1], net[2], host]));
        }
    }
    for i in 1..=400u16 {
        out.push(IpAddr::from([0x2001, 0xdb8, 0x1, 0, 0, 0, 0, i]));
    }
    out
}

fn batch(verb: &str, addrs: &[IpAddr]) -> String {
    let mut out = String::new();
    for a in addrs {
        let (len, extra) = if a.is_ipv4() {
            (32, "")
        } else {
            (128, " nodad")
        };
        let _ = writeln!(out, "addr {verb} {a}/{len} dev {DEV}{extra}");
    }
    out
}

/// How many addresses `bench0` has: in `ns`, or (from inside [`in_netns`]) in this thread's.
fn count_addrs(ns: Option<&Netns>) -> Result<usize> {
    let args = ["-o", "addr", "show", "dev", DEV];
    let shown = match ns {
        Some(ns) => ns.ip(&args)?,
        None => testbed::ip(&args)?,
    };
    Ok(shown.lines().count())
}
