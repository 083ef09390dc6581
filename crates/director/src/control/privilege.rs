//! Least privilege: once the director has started (sockets open, IPVS opened, VMACs made),
//! every capability it does not need to run is dropped, with the `caps` crate.
//!
//! A running director needs `CAP_NET_ADMIN` (addresses, routes, IPVS, netlink) and
//! `CAP_NET_RAW` (VRRP sockets, GARP, ICMP checks). Scripts run as `script_user` need
//! `CAP_SETUID`, `CAP_SETGID` (to become that user) and `CAP_KILL` (to kill them at their
//! timeout): [`for_scripts`] adds these. A notify script that runs as root and changes the
//! system itself needs more: the operator names it (`lvskitd --keep-caps CAP_SYS_ADMIN,...`).
//!
//! Capabilities belong to threads: drop them on the thread that runs the director before any
//! other thread of it exists (lvskitd runs a current-thread runtime; threads made later inherit
//! the reduced sets).

use std::collections::HashSet;

use caps::CapSet;
pub use caps::Capability;

/// What a running director needs.
pub const RUNNING: [Capability; 2] = [Capability::CAP_NET_ADMIN, Capability::CAP_NET_RAW];

/// What running scripts as another user, and killing them at their timeout, needs.
pub const SCRIPTS: [Capability; 3] = [
    Capability::CAP_SETUID,
    Capability::CAP_SETGID,
    Capability::CAP_KILL,
];

/// [`RUNNING`], and [`SCRIPTS`] when `scripts`.
pub fn for_scripts(scripts: bool) -> Vec<Capability> {
    let mut keep = RUNNING.to_vec();
    if scripts {
        keep.extend(SCRIPTS);
    }
    keep
}

/// Parses `CAP_NET_ADMIN,net_raw,...` (case and the `CAP_` prefix optional).
pub fn parse_list(text: &str) -> Result<Vec<Capability>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| {
            caps::to_canonical(name)
                .parse::<Capability>()
                .map_err(|_| format!("no capability {name}"))
        })
        .collect()
}

/// Keeps only `keep` in the effective, permitted and bounding sets of this thread (and clears
/// the inheritable and ambient sets), so neither this process nor a program it runs can get
/// any other back. Returns what was dropped.
pub fn drop_all_but(keep: &[Capability]) -> Result<Vec<Capability>, String> {
    let keep: HashSet<Capability> = keep.iter().copied().collect();
    let permitted = caps::read(None, CapSet::Permitted).map_err(|e| e.to_string())?;
    let kept: HashSet<Capability> = permitted.intersection(&keep).copied().collect();
    let mut dropped: Vec<Capability> = permitted.difference(&keep).copied().collect();
    dropped.sort_by_key(|c| c.index());
    // The bounding set first (that needs CAP_SETPCAP, which is about to go).
    for cap in caps::all() {
        if !keep.contains(&cap) && caps::has_cap(None, CapSet::Bounding, cap).unwrap_or(false) {
            caps::drop(None, CapSet::Bounding, cap)
                .map_err(|e| format!("bounding set, {cap}: {e}"))?;
        }
    }
    caps::clear(None, CapSet::Ambient).map_err(|e| format!("ambient set: {e}"))?;
    caps::clear(None, CapSet::Inheritable).map_err(|e| format!("inheritable set: {e}"))?;
    caps::set(None, CapSet::Effective, &kept).map_err(|e| format!("effective set: {e}"))?;
    caps::set(None, CapSet::Permitted, &kept).map_err(|e| format!("permitted set: {e}"))?;
    Ok(dropped)
}
