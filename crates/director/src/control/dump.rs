//! keepalived's signal dumps: the same kinds of files in the same places, so the scripts an
//! operator has keep working. keepalived(8): `SIGUSR1` (`DATA`) writes `/tmp/keepalived.data`,
//! `SIGUSR2` (`STATS`) `/tmp/keepalived.stats`, and the real-time signal `keepalived
//! --signum=JSON` prints writes `/tmp/keepalived.json`.
//!
//! The data and stats files use keepalived's headings and `Key = value` lines for what lvskit
//! has; the JSON file is lvskit's state document ([`crate::state::State`]), not keepalived's
//! layout. `STATS_CLEAR` and `TDATA` are not offered: lvskit's counters are never cleared.

use std::fmt::Write;

use crate::state::State;

/// A dump keepalived writes on a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    /// `DATA`: the configuration and state as text.
    Data,
    /// `STATS`: the counters as text.
    Stats,
    /// `JSON`: the state document.
    Json,
}

impl Dump {
    /// Every dump.
    pub const ALL: [Self; 3] = [Self::Data, Self::Stats, Self::Json];

    /// keepalived's file name (in `/tmp`).
    pub const fn file_name(self) -> &'static str {
        match self {
            Self::Data => "keepalived.data",
            Self::Stats => "keepalived.stats",
            Self::Json => "keepalived.json",
        }
    }

    /// The signal that asks for it, as keepalived's `--signum` gives it.
    pub fn signal(self) -> i32 {
        match self {
            Self::Data => libc::SIGUSR1,
            Self::Stats => libc::SIGUSR2,
            Self::Json => libc::SIGRTMIN() + 2,
        }
    }

    /// The text to write.
    pub fn render(self, state: &State) -> String {
        match self {
            Self::Data => data(state),
            Self::Stats => stats(state),
            Self::Json => serde_json::to_string_pretty(state).unwrap_or_default() + "\n",
        }
    }
}

/// `keepalived --signum=NAME`: the signal number for `STOP`, `RELOAD`, `DATA`, `STATS`, `JSON`.
pub fn signum(name: &str) -> Option<i32> {
    Some(match name.to_ascii_uppercase().as_str() {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => Dump::Data.signal(),
        "STATS" => Dump::Stats.signal(),
        "JSON" => Dump::Json.signal(),
        _ => return None,
    })
}

fn data(state: &State) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "------< Global definitions >------");
    let _ = writeln!(out, " lvskitd version = {}", state.version);
    let _ = writeln!(out, " Process id = {}", state.pid);
    if let Some(vrrp) = &state.vrrp {
        let _ = writeln!(out, "------< VRRP Topology >------");
        for i in &vrrp.instances {
            let _ = writeln!(out, " VRRP Instance = {}", i.name);
            let _ = writeln!(out, "   VRRP Version = {}", i.version);
            let _ = writeln!(out, "   State = {}", i.state);
            if let Some(t) = &i.last_transition {
                let _ = writeln!(
                    out,
                    "   Last transition = {:.0} ms ago ({})",
                    t.ms_ago, t.reason
                );
            }
            let _ = writeln!(out, "   Interface = {}", i.interface);
            let _ = writeln!(out, "   Virtual Router ID = {}", i.vrid);
            let _ = writeln!(out, "   Priority = {}", i.base_priority);
            let _ = writeln!(out, "   Effective priority = {}", i.effective_priority);
            let _ = writeln!(out, "   Using src_ip = {}", i.address);
            if let Some(m) = &i.master {
                let _ = writeln!(out, "   Master router = {}", m.address);
                let _ = writeln!(out, "   Master priority = {}", m.priority);
            }
            let _ = writeln!(out, "   Virtual IP = {}", i.virtual_addresses.len());
            for a in &i.virtual_addresses {
                let _ = writeln!(out, "     {a}");
            }
            if !i.trackers.is_empty() {
                let _ = writeln!(out, "   Tracked = {}", i.trackers.len());
                for t in &i.trackers {
                    let result = match t.ok {
                        Some(true) => "UP",
                        Some(false) => "DOWN",
                        None => "UNKNOWN",
                    };
                    let _ = writeln!(
                        out,
                        "     {} {} weight {}{} {result}",
                        t.kind,
                        t.name,
                        t.weight,
                        if t.reverse { " reverse" } else { "" }
                    );
                }
            }
        }
        if !vrrp.scripts.is_empty() {
            let _ = writeln!(out, "------< VRRP Scripts >------");
            for s in &vrrp.scripts {
                let _ = writeln!(out, " VRRP Script = {}", s.name);
                let _ = writeln!(out, "   Interval = {:.0} sec", s.interval_ms / 1000.0);
                let _ = writeln!(out, "   Status = {}", if s.ok { "GOOD" } else { "BAD" });
            }
        }
    }
    if let Some(lb) = &state.lb {
        let _ = writeln!(out, "------< LVS Topology >------");
        for vs in &lb.virtual_servers {
            let _ = writeln!(out, " VS = {}", vs.name);
            let _ = writeln!(out, "   lb_algo = {}", vs.scheduler);
            let _ = writeln!(
                out,
                "   quorum = {}, {}",
                vs.quorum,
                if vs.quorum_up { "up" } else { "down" }
            );
            for rs in &vs.real_servers {
                let _ = writeln!(out, "   RS = {}", rs.address);
                let _ = writeln!(out, "     Weight = {}", rs.weight);
                let _ = writeln!(out, "     Alive = {}", if rs.alive { "yes" } else { "no" });
                for c in &rs.checks {
                    let _ = writeln!(
                        out,
                        "     {} = {} ({})",
                        c.kind,
                        c.state,
                        c.reason.as_deref().unwrap_or("no result yet")
                    );
                }
            }
        }
    }
    out
}

fn stats(state: &State) -> String {
    let mut out = String::new();
    if let Some(vrrp) = &state.vrrp {
        for i in &vrrp.instances {
            let c = &i.counters;
            let d = |reason: &str| c.dropped.get(reason).copied().unwrap_or(0);
            let _ = writeln!(out, "VRRP Instance: {}", i.name);
            let _ = writeln!(out, "  Advertisements:");
            let _ = writeln!(out, "    Received: {}", c.adverts_received);
            let _ = writeln!(out, "    Sent: {}", c.adverts_sent);
            let _ = writeln!(out, "  Became master: {}", c.became_master);
            let _ = writeln!(out, "  Transitions: {}", c.transitions);
            let _ = writeln!(out, "  Packet Errors:");
            let _ = writeln!(out, "    TTL: {}", d("bad_ttl"));
            let _ = writeln!(out, "    Invalid Type: {}", d("malformed"));
            let _ = writeln!(
                out,
                "    Advertisement Interval: {}",
                d("interval_mismatch")
            );
            let _ = writeln!(out, "    Address List: {}", d("address_list_mismatch"));
            let _ = writeln!(out, "    Version: {}", d("version_mismatch"));
            let _ = writeln!(out, "  Authentication Errors:");
            let _ = writeln!(out, "    Type Mismatch: {}", d("auth_mismatch"));
        }
        let _ = writeln!(out, "VRRP packets:");
        let _ = writeln!(out, "  Received: {}", vrrp.packets.received);
        let _ = writeln!(out, "  Accepted: {}", vrrp.packets.accepted);
        for (reason, n) in &vrrp.packets.dropped {
            let _ = writeln!(out, "  Dropped {reason}: {n}");
        }
        let _ = writeln!(out, "  Gratuitous ARP/NA sent: {}", vrrp.garps_sent);
    }
    if let Some(lb) = &state.lb {
        let _ = writeln!(out, "Checks:");
        for (s, n) in &lb.checks {
            let _ = writeln!(out, "  {s}: {n}");
        }
        let _ = writeln!(out, "Reloads: {}", lb.reloads);
    }
    out
}
