//! `garp-send`: announce addresses on an interface, like `arping -U` (IPv4) and `ndsend` (IPv6).
//!
//! ```text
//! garp-send eth0 192.0.2.100 2001:db8::100 --count 3 --interval 0.5
//! garp-send eth0 192.0.2.100 --vrid 51            # from 00:00:5e:00:01:33
//! garp-send eth0 192.0.2.100 --form reply --source-mac 02:00:00:00:00:01
//! ```
//!
//! IPv4 addresses get a gratuitous ARP, IPv6 addresses an unsolicited neighbour advertisement.
//! Needs CAP_NET_RAW.

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use garp::{ArpForm, MacAddr, Sender, SourceMac, VirtualMac};

/// Send gratuitous ARPs (IPv4) and unsolicited neighbour advertisements (IPv6).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Interface to send on.
    interface: String,
    /// Addresses to announce (IPv4 and/or IPv6).
    #[arg(required = true)]
    addresses: Vec<IpAddr>,
    /// Rounds to send; each round announces every address once.
    #[arg(short, long, default_value_t = 1)]
    count: u32,
    /// Seconds between rounds (decimal).
    #[arg(short, long, default_value_t = 1.0, value_parser = seconds)]
    interval: f64,
    /// Seconds between two frames of a round (pacing, like keepalived's garp_interval).
    #[arg(long, default_value_t = 0.0, value_parser = seconds)]
    gap: f64,
    /// ARP opcode: request (keepalived's form) or reply (`arping -A`).
    #[arg(long, value_enum, default_value_t = Form::Request)]
    form: Form,
    /// Source MAC (default: the interface's).
    #[arg(long, conflicts_with = "vrid")]
    source_mac: Option<MacAddr>,
    /// Send from the VRRP virtual MAC of this virtual router (00:00:5e:00:01:VRID for IPv4,
    /// 00:00:5e:00:02:VRID for IPv6).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
    vrid: Option<u8>,
    /// Set the router flag on neighbour advertisements.
    #[arg(long)]
    router: bool,
    /// Print one line per frame.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Form {
    Request,
    Reply,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=3600.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "expected seconds between 0 and 3600, found {text:?}"
        )),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("garp-send: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn open(args: &Args, source: SourceMac) -> anyhow::Result<Sender> {
    let mut sender = Sender::open(&args.interface, source)?;
    sender.set_arp_form(match args.form {
        Form::Request => ArpForm::Request,
        Form::Reply => ArpForm::Reply,
    });
    sender.set_router(args.router);
    Ok(sender)
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.count == 0 {
        bail!("--count must be at least 1");
    }
    // One sender per source MAC: with --vrid, IPv4 and IPv6 use different virtual MACs.
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = args.addresses.iter().partition(|a| a.is_ipv4());
    let mut groups = Vec::new();
    for (addrs, vmac) in [
        (v4, VirtualMac::V4 as fn(u8) -> VirtualMac),
        (v6, VirtualMac::V6),
    ] {
        if addrs.is_empty() {
            continue;
        }
        let source = match (args.vrid, args.source_mac) {
            (Some(vrid), _) => SourceMac::Vrrp(vmac(vrid)),
            (None, Some(mac)) => SourceMac::Fixed(mac),
            (None, None) => SourceMac::Interface,
        };
        let sender = open(&args, source)?;
        // Check every address before sending anything.
        for &addr in &addrs {
            sender.source_mac(addr)?;
        }
        groups.push((sender, addrs));
    }
    let gap = Duration::from_secs_f64(args.gap);
    let mut sent = 0u64;
    for round in 0..args.count {
        if round > 0 {
            std::thread::sleep(Duration::from_secs_f64(args.interval));
        }
        let mut first_of_round = true;
        for (sender, addrs) in &groups {
            for &addr in addrs {
                if !first_of_round && !gap.is_zero() {
                    std::thread::sleep(gap);
                }
                first_of_round = false;
                let announcement = sender.announcement(addr)?;
                sender
                    .send(&announcement)
                    .with_context(|| format!("announce {addr} on {}", args.interface))?;
                sent += 1;
                if args.verbose {
                    let what = if addr.is_ipv4() {
                        "gratuitous ARP"
                    } else {
                        "unsolicited NA"
                    };
                    println!(
                        "{what} {addr} is-at {} on {}",
                        announcement.mac(),
                        args.interface
                    );
                }
            }
        }
    }
    println!(
        "sent {sent} announcement(s) for {} address(es) on {}",
        args.addresses.len(),
        args.interface
    );
    Ok(())
}
