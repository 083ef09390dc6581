//! A snapshot of everything the director knows, for operators: what `lvskitd status` prints,
//! what the control socket serves as JSON, what `/metrics` and the status page are made from.
//!
//! The types are plain data (serde, no behaviour) so that a client can read the JSON back into
//! them: [`State`] is the whole document, [`VrrpState`] comes from
//! [`Director::snapshot`](crate::Director::snapshot) and [`LbState`] from
//! [`LbDriver::snapshot`](crate::lb::LbDriver::snapshot). Durations are in milliseconds as
//! `f64`, times are "how long ago" relative to when the snapshot was taken (the core has no wall
//! clock); [`State::generated_unix_ms`] ties them to the wall clock.
//!
//! The document is versioned by [`State::format`]; fields are only ever added.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The version of the document's layout, in [`State::format`].
pub const FORMAT: u32 = 1;

/// The whole document: this process and each half that runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// The daemon's process id.
    pub pid: u32,
    /// The daemon's version.
    pub version: String,
    /// When this document was made, in milliseconds since the Unix epoch.
    pub generated_unix_ms: u64,
    /// How long the daemon has been running.
    pub uptime_ms: f64,
    /// The VRRP half, when it runs (not with `-C`).
    pub vrrp: Option<VrrpState>,
    /// The load-balancer half, when it runs (not with `-P`, nor without virtual servers).
    pub lb: Option<LbState>,
}

/// The VRRP half: instances, scripts, packet counters and recent transitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpState {
    /// Every `vrrp_instance`, in configuration order.
    pub instances: Vec<InstanceState>,
    /// Every `vrrp_script` and its current result.
    pub scripts: Vec<ScriptState>,
    /// Packets of every instance together (and those no instance took).
    pub packets: PacketCounters,
    /// Gratuitous ARPs and unsolicited NAs sent.
    pub garps_sent: u64,
    /// The latest state changes, oldest first (at most [`TIMELINE_LEN`]).
    pub timeline: Vec<TransitionRecord>,
}

/// How many transitions [`VrrpState::timeline`] keeps.
pub const TIMELINE_LEN: usize = 64;

/// One `vrrp_instance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    /// Its name.
    pub name: String,
    /// Its interface.
    pub interface: String,
    /// Its virtual router id.
    pub vrid: u8,
    /// VRRP version (2 or 3).
    pub version: u8,
    /// `MASTER`, `BACKUP`, `FAULT` or `INIT`, as keepalived spells them.
    pub state: String,
    /// The configured priority.
    pub base_priority: u8,
    /// The priority trackers make of it, the one sent in adverts.
    pub effective_priority: u8,
    /// This router's own address, the source of its adverts.
    pub address: IpAddr,
    /// The virtual addresses.
    pub virtual_addresses: Vec<IpAddr>,
    /// Each tracker and its current result.
    pub trackers: Vec<TrackerState>,
    /// The master as last heard: this router itself while MASTER, else the source of the last
    /// accepted advert.
    pub master: Option<MasterState>,
    /// Counters of this instance.
    pub counters: InstanceCounters,
    /// The last state change, if any.
    pub last_transition: Option<TransitionRecord>,
}

/// A tracker of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerState {
    /// `script`, `interface` or `file`.
    pub kind: String,
    /// The script's, interface's or file's name.
    pub name: String,
    /// Its weight (0: a failure is FAULT).
    pub weight: i32,
    /// Whether `reverse` is set.
    pub reverse: bool,
    /// Whether it currently passes (after `reverse`); `None` before its first result.
    pub ok: Option<bool>,
}

/// The master of an instance's virtual router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MasterState {
    /// Its address.
    pub address: IpAddr,
    /// Its advertised priority.
    pub priority: u8,
    /// Whether it is this router.
    pub is_self: bool,
    /// How long ago its last advert was accepted (`None` for this router).
    pub last_heard_ms_ago: Option<f64>,
}

/// Counters of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceCounters {
    /// Adverts sent (priority 0 included).
    pub adverts_sent: u64,
    /// Adverts accepted by this instance.
    pub adverts_received: u64,
    /// Adverts for this instance dropped, by reason (every reason listed, zeros too).
    pub dropped: BTreeMap<String, u64>,
    /// State changes.
    pub transitions: u64,
    /// Times it became MASTER.
    pub became_master: u64,
}

/// One state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionRecord {
    /// The instance.
    pub instance: String,
    /// Old state.
    pub from: String,
    /// New state.
    pub to: String,
    /// Why, in words.
    pub reason: String,
    /// How long before the snapshot it happened.
    pub ms_ago: f64,
}

/// One `vrrp_script`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptState {
    /// Its name.
    pub name: String,
    /// Whether it counts as passing now (after rise/fall).
    pub ok: bool,
    /// Consecutive passed runs.
    pub successes: u32,
    /// Consecutive failed runs.
    pub failures: u32,
    /// Whether a run is going on.
    pub running: bool,
    /// Its interval.
    pub interval_ms: f64,
}

/// Packet counters of the VRRP half.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PacketCounters {
    /// Packets read from the VRRP sockets.
    pub received: u64,
    /// Adverts handed to an instance.
    pub accepted: u64,
    /// Packets dropped, by reason (every reason listed).
    pub dropped: BTreeMap<String, u64>,
}

/// The load-balancer half.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LbState {
    /// Every `virtual_server` (or group), in configuration order.
    pub virtual_servers: Vec<VirtualServerState>,
    /// Checks by current state: `up`, `down`, `unknown` (no verdict yet).
    pub checks: BTreeMap<String, u64>,
    /// Reloads applied (SIGHUP with a valid file).
    pub reloads: u64,
    /// Time the reloads took, together.
    pub reload_ms_total: f64,
    /// Whether the IPVS counters below were read from the kernel for this snapshot.
    pub ipvs_read: bool,
}

/// One `virtual_server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualServerState {
    /// `TCP 192.0.2.1:80`, `fwmark 1`, `group NAME`.
    pub name: String,
    /// `file:line` of its block.
    pub location: Option<String>,
    /// The IPVS services it makes (`TCP 192.0.2.1:80`), one per group member.
    pub services: Vec<String>,
    /// The scheduler.
    pub scheduler: String,
    /// Its quorum.
    pub quorum: u32,
    /// Whether the quorum is met.
    pub quorum_up: bool,
    /// Whether the sorry server is in the table now.
    pub sorry_active: bool,
    /// Its real servers.
    pub real_servers: Vec<RealServerState>,
    /// IPVS counters summed over its services, when read.
    pub stats: Option<IpvsStats>,
}

/// One `real_server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealServerState {
    /// `198.51.100.10:80`.
    pub address: String,
    /// The configured weight.
    pub weight: u32,
    /// The weight in the desired table now (0 when inhibited), `None` when it is out.
    pub table_weight: Option<u32>,
    /// Whether every check passes.
    pub alive: bool,
    /// Its checks.
    pub checks: Vec<CheckState>,
    /// IPVS counters summed over the services, when read.
    pub stats: Option<IpvsStats>,
}

/// One check of a real server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckState {
    /// `TCP_CHECK`, `HTTP_GET`, ...
    pub kind: String,
    /// `up`, `down` or `unknown` (no verdict yet).
    pub state: String,
    /// The reason the attempt that decided the state gave.
    pub reason: Option<String>,
    /// How long ago the state was decided.
    pub since_ms_ago: Option<f64>,
}

/// IPVS counters and rates of a service or destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpvsStats {
    /// Connections scheduled.
    pub connections: u64,
    /// Packets in.
    pub packets_in: u64,
    /// Packets out.
    pub packets_out: u64,
    /// Bytes in.
    pub bytes_in: u64,
    /// Bytes out.
    pub bytes_out: u64,
    /// Connections per second (the kernel's estimate).
    pub connections_per_second: u64,
    /// Packets in per second.
    pub packets_in_per_second: u64,
    /// Packets out per second.
    pub packets_out_per_second: u64,
    /// Bytes in per second.
    pub bytes_in_per_second: u64,
    /// Bytes out per second.
    pub bytes_out_per_second: u64,
}

impl IpvsStats {
    /// The kernel's counters in this layout.
    pub fn from_kernel(s: &ipvs::Stats) -> Self {
        Self {
            connections: s.conns,
            packets_in: s.in_pkts,
            packets_out: s.out_pkts,
            bytes_in: s.in_bytes,
            bytes_out: s.out_bytes,
            connections_per_second: s.cps,
            packets_in_per_second: s.in_pps,
            packets_out_per_second: s.out_pps,
            bytes_in_per_second: s.in_bps,
            bytes_out_per_second: s.out_bps,
        }
    }

    /// Adds `other` (counters of another service of the same virtual server).
    pub fn add(&mut self, other: &Self) {
        self.connections += other.connections;
        self.packets_in += other.packets_in;
        self.packets_out += other.packets_out;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.connections_per_second += other.connections_per_second;
        self.packets_in_per_second += other.packets_in_per_second;
        self.packets_out_per_second += other.packets_out_per_second;
        self.bytes_in_per_second += other.bytes_in_per_second;
        self.bytes_out_per_second += other.bytes_out_per_second;
    }
}

/// Milliseconds of a duration, as the document writes them.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
