//! Helpers shared by the netns tests: run async code inside a namespace, read `ip -j` output.

#![allow(dead_code, unreachable_pub)]

use std::{future::Future, net::IpAddr, time::Duration};

use testbed::Netns;

/// Runs `body` on a current-thread tokio runtime on a thread inside `ns`, so the netlink sockets
/// and `/proc/sys` writes it makes are the namespace's. Panics inside come back as panics.
pub fn run_in<F, Fut, R>(ns: &Netns, body: F) -> R
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = R>,
    R: Send + 'static,
{
    match ns.run(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(body())
    }) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// Runs `ip ARGS` in the calling thread's namespace (use it from inside [`run_in`]) and returns
/// its standard output; panics on failure.
pub fn ip(args: &[&str]) -> String {
    testbed::ip(args).unwrap_or_else(|e| panic!("{e}"))
}

/// The addresses `ip -j addr show dev DEV` lists (from inside [`run_in`]).
pub fn addrs_on(dev: &str) -> Vec<(IpAddr, u8)> {
    let json: serde_json::Value =
        serde_json::from_str(&ip(&["-j", "addr", "show", "dev", dev])).expect("ip -j");
    let mut out = Vec::new();
    for link in json.as_array().into_iter().flatten() {
        for a in link["addr_info"].as_array().into_iter().flatten() {
            let addr: IpAddr = a["local"].as_str().unwrap().parse().unwrap();
            let len = a["prefixlen"].as_u64().unwrap() as u8;
            out.push((addr, len));
        }
    }
    out
}

/// The `label` of `addr` on `dev`, from `ip -j`.
pub fn label_of(dev: &str, addr: IpAddr) -> Option<String> {
    let json: serde_json::Value =
        serde_json::from_str(&ip(&["-j", "addr", "show", "dev", dev])).expect("ip -j");
    json.as_array()?.iter().find_map(|link| {
        link["addr_info"].as_array()?.iter().find_map(|a| {
            (a["local"].as_str()?.parse::<IpAddr>().ok()? == addr)
                .then(|| a["label"].as_str().map(str::to_owned))
                .flatten()
        })
    })
}

/// 1,000 distinct documentation addresses: 600 IPv4 (all three TEST-NETs) and 400 IPv6.
pub fn thousand_addresses() -> Vec<IpAddr> {
    let mut out = Vec::with_capacity(1000);
    for (net, count) in [
        ([192, 0, 2], 254u16),
        ([198, 51, 100], 254),
        ([203, 0, 113], 92),
    ] {
        for host in 1..=count {
            out.push(IpAddr::from([net[0], net[1], net[2], host as u8]));
        }
    }
    for i in 1..=400u16 {
        out.push(IpAddr::from([0x2001, 0xdb8, 0x1, 0, 0, 0, 0, i]));
    }
    out
}

/// A bound on every wait in these tests, so a missing event fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(10);
