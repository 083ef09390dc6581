//! GARP/NA bursts on the wire, timed by the capture (not a criterion bench: the figures are
//! kernel receive timestamps in a peer namespace). Needs root.
//!
//! `cargo bench -p lvskit-benches --bench garp_wire` (add `-- RUNS` to change the 30 runs).
//!
//! For each burst: the time from just before `Sender::announce_all` to the first frame's
//! transmit timestamp, and from the first frame to the last, both from an `AF_PACKET` capture on
//! the sender's interface in its namespace (the kernel stamps outgoing frames as they are
//! handed to the veth). A second capture in the peer namespace checks that every frame arrived.
//! (Receive timestamps on the peer's veth are not used: with veth NAPI the kernel stamps them
//! only when the capture reads them.) Reported as median, 90th percentile and max over the runs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant, SystemTime};

use garp::schedule::{Announcer, Config, Input, Output, Plan, Target};
use garp::{Announcement, Sender, SourceMac};
use testbed::{Capture, Frame, Netns, PacketType, veth_pair};

fn main() {
    if !testbed::is_root() {
        eprintln!("garp_wire: needs root (network namespaces); run as root");
        std::process::exit(1);
    }
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(30);
    let director = Netns::new("bdir").expect("namespace");
    let peer = Netns::new("bpeer").expect("namespace");
    veth_pair(&director, "eth0", &peer, "eth0").expect("veth");
    director.set_up("eth0").expect("up");
    peer.set_up("eth0").expect("up");
    let sender = director
        .run(|| Sender::open("eth0", SourceMac::Interface))
        .expect("thread")
        .expect("sender");

    // One pair of captures for the whole run: the kernel's timestamping stays on (see
    // `testbed::Capture` on timestamps).
    let capture = Capture::start(&peer, "eth0").expect("capture");
    let transmit = Capture::start(&director, "eth0").expect("capture");
    std::thread::sleep(Duration::from_millis(100));

    let v4: Vec<IpAddr> = [[192, 0, 2], [198, 51, 100], [203, 0, 113]]
        .iter()
        .flat_map(|p| (1..=250).map(move |h| IpAddr::V4(Ipv4Addr::new(p[0], p[1], p[2], h))))
        .collect();
    let v6: Vec<IpAddr> = (1..=1000u16)
        .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 1, i)))
        .collect();
    let ipv4_only: Vec<IpAddr> = v4.iter().cycle().take(1000).copied().collect();
    let mixed: Vec<IpAddr> = v4.iter().chain(&v6[..250]).copied().collect();

    println!("garp_wire: {runs} runs per burst, veth between two namespaces, no pacing");
    println!(
        "{:<42} {:>24} {:>24} {:>24} {:>6}",
        "burst (median/p90/max)",
        "call → first frame",
        "first → last frame",
        "call duration",
        "frames"
    );
    for (name, addrs) in [
        ("1000 GARP (IPv4, 750 VIPs)", &ipv4_only),
        ("1000 NA (IPv6, 1000 VIPs)", &v6),
        ("1000 mixed (750 GARP + 250 NA)", &mixed),
    ] {
        let mut first = Vec::new();
        let mut span = Vec::new();
        let mut call = Vec::new();
        for _ in 0..runs {
            std::thread::sleep(Duration::from_millis(20));
            capture.take();
            transmit.take();
            let called = SystemTime::now();
            let started = Instant::now();
            sender.announce_all(addrs, Duration::ZERO).expect("send");
            call.push(started.elapsed());
            let frames = captured(&transmit, addrs.len(), true);
            assert_eq!(frames.len(), addrs.len(), "{name}: frames not sent");
            let delivered = captured(&capture, addrs.len(), false);
            assert_eq!(delivered.len(), addrs.len(), "{name}: frames lost");
            first.push(since(called, frames[0].timestamp));
            span.push(since(
                frames[0].timestamp,
                frames[frames.len() - 1].timestamp,
            ));
        }
        report(name, &mut first, &mut span, &mut call, addrs.len());
    }

    // The sans-IO announcer driven in real time, with keepalived's per-interface pacing.
    let vips: Vec<Target> = v4[..50]
        .iter()
        .map(|&addr| Target {
            ifindex: sender.ifindex(),
            addr,
        })
        .collect();
    let mut first = Vec::new();
    let mut span = Vec::new();
    let mut call = Vec::new();
    for _ in 0..runs.min(10) {
        capture.take();
        transmit.take();
        let mut announcer = Announcer::new(Config {
            garp_interval: Duration::from_millis(1),
            ..Config::default()
        });
        std::thread::sleep(Duration::from_millis(20));
        let called = SystemTime::now();
        let started = Instant::now();
        announcer.handle_input(Input::Start {
            now: Instant::now(),
            owner: 0,
            vips: vips.clone(),
            plan: Plan {
                repeat: 1,
                delay: None,
                refresh: None,
                refresh_repeat: 1,
            },
        });
        loop {
            match announcer.poll_output() {
                Output::Announce(vip) => sender.announce(vip.addr).expect("send"),
                Output::Timeout(at) => {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    announcer.handle_input(Input::Timeout(Instant::now()));
                }
                _ => break,
            }
        }
        call.push(started.elapsed());
        let frames = captured(&transmit, vips.len(), true);
        assert_eq!(frames.len(), vips.len(), "paced: frames not sent");
        assert_eq!(
            captured(&capture, vips.len(), false).len(),
            vips.len(),
            "paced: frames lost"
        );
        first.push(since(called, frames[0].timestamp));
        span.push(since(
            frames[0].timestamp,
            frames[frames.len() - 1].timestamp,
        ));
    }
    report(
        "50 GARP via Announcer, garp_interval 1 ms",
        &mut first,
        &mut span,
        &mut call,
        vips.len(),
    );
}

/// The announcements a capture saw: the ones sent from its interface (`outgoing`), or received.
fn captured(capture: &Capture, expected: usize, outgoing: bool) -> Vec<Frame> {
    let wanted = |f: &Frame| {
        (f.packet_type == PacketType::Outgoing) == outgoing && Announcement::parse(&f.data).is_ok()
    };
    capture.wait_until(Duration::from_secs(5), |frames| {
        frames.iter().filter(|f| wanted(f)).count() >= expected
    });
    capture.take().into_iter().filter(wanted).collect()
}

fn since(earlier: SystemTime, later: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

fn stats(values: &mut [Duration]) -> String {
    values.sort();
    let pick = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "{:.3}/{:.3}/{:.3} ms",
        ms(pick(0.5)),
        ms(pick(0.9)),
        ms(values[values.len() - 1])
    )
}

fn report(
    name: &str,
    first: &mut [Duration],
    span: &mut [Duration],
    call: &mut [Duration],
    frames: usize,
) {
    println!(
        "{name:<42} {:>24} {:>24} {:>24} {frames:>6}",
        stats(first),
        stats(span),
        stats(call),
    );
}
