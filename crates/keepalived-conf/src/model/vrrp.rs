//! The VRRP side: `vrrp_script`, `track_file`, `vrrp_sync_group`, `vrrp_instance`, and the
//! tracking blocks (`vrrp_track_process`, `bfd_instance`, `track_group`, `garp_group`).

use std::net::IpAddr;

use serde::Serialize;

use super::*;
use crate::source::{Origin, Spanned};

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VrrpScript {
    /// The name instances refer to in `track_script`.
    pub name: String,
    /// `script`.
    pub script: Option<Script>,
    /// `interval` (seconds).
    pub interval: Option<Timer>,
    /// `timeout`.
    pub timeout: Option<Timer>,
    /// `weight N [reverse]`.
    pub weight: Option<Weight>,
    /// `rise`.
    pub rise: Option<u32>,
    /// `fall`.
    pub fall: Option<u32>,
    /// `user USER [GROUP]`.
    pub user: Option<(String, Option<String>)>,
    /// `init_fail`.
    pub init_fail: bool,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `track_file NAME { ... }` (`vrrp_track_file` is the old name).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackFile {
    /// The name `track_file` lists refer to.
    pub name: String,
    /// `file`.
    pub file: Option<String>,
    /// `weight N [reverse]`.
    pub weight: Option<Weight>,
    /// `init_file [VALUE] [overwrite]`: `Some((value, overwrite))`.
    pub init_file: Option<(Option<i64>, bool)>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// The notify scripts of a sync group or an instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Script>,
    /// `notify_backup`.
    pub backup: Option<Script>,
    /// `notify_fault`.
    pub fault: Option<Script>,
    /// `notify_stop`.
    pub stop: Option<Script>,
    /// `notify_deleted` (sync groups).
    pub deleted: Option<Script>,
    /// `notify`: called on every change with the new state as arguments.
    pub any: Option<Script>,
    /// `notify_master_rx_lower_pri` (instances).
    pub master_rx_lower_pri: Option<Script>,
    /// `notify_priority_changes`.
    pub priority_changes: Option<bool>,
}

impl Notify {
    /// The scripts that are set, in keepalived's order of checking them.
    pub fn scripts(&self) -> impl Iterator<Item = &Script> {
        [
            &self.backup,
            &self.master,
            &self.fault,
            &self.stop,
            &self.deleted,
            &self.any,
            &self.master_rx_lower_pri,
        ]
        .into_iter()
        .flatten()
    }
}

/// `vrrp_sync_group NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncGroup {
    /// The group's name.
    pub name: String,
    /// `group { INSTANCE ... }`.
    pub group: Vec<Track>,
    /// `track_interface`.
    pub track_interface: Vec<Track>,
    /// `track_script`.
    pub track_script: Vec<Track>,
    /// `track_file`.
    pub track_file: Vec<Track>,
    /// `track_process`.
    pub track_process: Vec<Track>,
    /// `track_bfd`.
    pub track_bfd: Vec<Track>,
    /// The notify scripts.
    pub notify: Notify,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `global_tracking`.
    pub global_tracking: bool,
    /// `sync_group_tracking_weight`.
    pub sync_group_tracking_weight: bool,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `state MASTER|BACKUP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialState {
    /// `MASTER`.
    Master,
    /// `BACKUP`.
    Backup,
}

/// `auth_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuthType {
    /// `PASS`: a clear-text password (VRRPv2 only).
    Pass,
    /// `AH`: IPsec AH (VRRPv2 only).
    Ah,
}

/// `authentication { auth_type ...; auth_pass ... }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Authentication {
    /// `auth_type`.
    pub auth_type: Option<AuthType>,
    /// `auth_pass` (keepalived uses the first 8 characters).
    pub auth_pass: Option<String>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `use_vmac [NAME] [MAC]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UseVmac {
    /// The VMAC interface name (default `vrrp.VRID`).
    pub name: Option<String>,
    /// A MAC address to use instead of the VRRP one.
    pub mac: Option<String>,
}

/// `unicast_peer { ADDR [min_ttl N] [max_ttl N] }` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnicastPeer {
    /// The peer.
    pub addr: IpAddr,
    /// `min_ttl`.
    pub min_ttl: Option<u8>,
    /// `max_ttl`.
    pub max_ttl: Option<u8>,
    /// Where the peer was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VrrpInstance {
    /// The instance's name.
    pub name: String,
    /// `state`.
    pub state: Option<InitialState>,
    /// `interface`.
    pub interface: Option<Spanned<String>>,
    /// `vrf`.
    pub vrf: Option<String>,
    /// `use_vmac`.
    pub use_vmac: Option<UseVmac>,
    /// `use_vmac_addr`.
    pub use_vmac_addr: bool,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `track_interface { IF [weight N [reverse]] }`.
    pub track_interface: Vec<Track>,
    /// `track_script`.
    pub track_script: Vec<Track>,
    /// `track_file`.
    pub track_file: Vec<Track>,
    /// `track_process`.
    pub track_process: Vec<Track>,
    /// `track_bfd`.
    pub track_bfd: Vec<Track>,
    /// `mcast_src_ip` / `unicast_src_ip`: one setting in keepalived, the source address.
    pub src_ip: Option<Spanned<IpAddr>>,
    /// `mcast_dst_ip`.
    pub mcast_dst_ip: Option<IpAddr>,
    /// `track_src_ip`.
    pub track_src_ip: bool,
    /// `version`.
    pub version: Option<Spanned<u8>>,
    /// `check_unicast_src`.
    pub check_unicast_src: bool,
    /// `unicast_peer { ... }`.
    pub unicast_peer: Vec<UnicastPeer>,
    /// `unicast_fault_no_peer`.
    pub unicast_fault_no_peer: bool,
    /// `unicast_ttl`.
    pub unicast_ttl: Option<u8>,
    /// `old_unicast_checksum [never]`: `Some(true)` for `never`.
    pub old_unicast_checksum: Option<bool>,
    /// `garp_master_delay`.
    pub garp_master_delay: Option<u32>,
    /// `garp_master_repeat`.
    pub garp_master_repeat: Option<u32>,
    /// `garp_lower_prio_delay`.
    pub garp_lower_prio_delay: Option<u32>,
    /// `garp_lower_prio_repeat`.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `garp_master_refresh`.
    pub garp_master_refresh: Option<u32>,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: Option<u32>,
    /// `garp_extra_if`.
    pub garp_extra_if: Option<GarpExtraIf>,
    /// `lvs_sync_daemon_interface` (deprecated here: `lvs_sync_daemon` in `global_defs`).
    pub lvs_sync_daemon_interface: Option<String>,
    /// `down_timer_adverts`.
    pub down_timer_adverts: Option<u32>,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: Option<bool>,
    /// `virtual_router_id` (1..=255).
    pub virtual_router_id: Option<Spanned<u8>>,
    /// `priority` (1..=255; 255 is the address owner).
    pub priority: Option<Spanned<u8>>,
    /// `advert_int`.
    pub advert_int: Option<Spanned<Timer>>,
    /// `authentication { ... }`.
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress { ... }`.
    pub virtual_ipaddress: Vec<IpAddress>,
    /// `virtual_ipaddress_excluded { ... }`.
    pub virtual_ipaddress_excluded: Vec<IpAddress>,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `virtual_routes { ... }`.
    pub virtual_routes: Vec<Route>,
    /// `virtual_rules { ... }`.
    pub virtual_rules: Vec<Rule>,
    /// `accept` (`Some(true)`) or `no_accept` (`Some(false)`).
    pub accept: Option<bool>,
    /// `nopreempt` (`Some(true)`) or `preempt` (`Some(false)`).
    pub nopreempt: Option<bool>,
    /// `preempt_delay`.
    pub preempt_delay: Option<Spanned<Timer>>,
    /// `skip_check_adv_addr`.
    pub skip_check_adv_addr: Option<bool>,
    /// `strict_mode`.
    pub strict_mode: Option<bool>,
    /// `debug`.
    pub debug: Option<u32>,
    /// The notify scripts and `notify_priority_changes`.
    pub notify: Notify,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `linkbeat_use_polling`.
    pub linkbeat_use_polling: bool,
    /// Other known keywords (`use_ipvlan`, `kernel_rx_buf_size`, ...), verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

impl VrrpInstance {
    /// Whether the instance is IPv4, as keepalived decides: by its source address, else its
    /// first virtual address, else IPv4 unless `native_ipv6`.
    pub fn is_ipv4(&self) -> bool {
        match (self.src_ip, self.virtual_ipaddress.first()) {
            (Some(src), _) => src.value.is_ipv4(),
            (None, Some(first)) => first.prefix.addr.is_ipv4(),
            (None, None) => !self.native_ipv6,
        }
    }

    /// The priority the instance runs with: its own `priority`, else 255 (the address owner)
    /// for `state MASTER`, else 100 (keepalived 2.2.7's defaults).
    pub fn effective_priority(&self) -> u8 {
        self.priority.map_or(
            match self.state {
                Some(InitialState::Master) => 255,
                _ => 100,
            },
            |p| p.value,
        )
    }

    /// The VRRP version the instance runs: its own `version`, else 3 for an IPv6 instance,
    /// else `vrrp_version` of `global_defs`, else 2 (keepalived 2.2.7's order).
    pub fn effective_version(&self, global: &GlobalDefs) -> u8 {
        match self.version {
            Some(v) => v.value,
            None if !self.is_ipv4() => 3,
            None => global.vrrp_version.unwrap_or(2),
        }
    }
}

/// How `vrrp_track_process` compares a process's parameters (`param_match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamMatch {
    /// `param_match` alone: the parameters must match exactly (none given means none allowed).
    Exact,
    /// `initial`: the last parameter may be longer than the one configured.
    Initial,
    /// `partial`: the first parameters match exactly, more may follow.
    Partial,
}

/// `vrrp_track_process NAME { ... }`: a process whose presence instances track.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackProcess {
    /// The name `track_process` lists refer to.
    pub name: String,
    /// `process NAME [PARAM ...]`: the process name and the parameters to match.
    pub process: Vec<String>,
    /// `param_match [initial|partial]`.
    pub param_match: Option<ParamMatch>,
    /// `weight N [reverse]` (-254 to 254).
    pub weight: Option<Weight>,
    /// `quorum`: fewest matching processes for up.
    pub quorum: Option<u32>,
    /// `quorum_max`: most matching processes for up.
    pub quorum_max: Option<u32>,
    /// `delay`: sets both `fork_delay` and `terminate_delay`.
    pub delay: Option<Timer>,
    /// `terminate_delay`.
    pub terminate_delay: Option<Timer>,
    /// `fork_delay`.
    pub fork_delay: Option<Timer>,
    /// `full_command`: match the whole command line, not the process name.
    pub full_command: bool,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `bfd_instance NAME { ... }`: a BFD session (RFC 5880) instances and checkers can track.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BfdInstance {
    /// The name `track_bfd` lists and BFD_CHECK refer to.
    pub name: String,
    /// `neighbor_ip` (or `neighbour_ip`).
    pub neighbor_ip: Option<IpAddr>,
    /// `source_ip`.
    pub source_ip: Option<IpAddr>,
    /// `min_rx`, in microseconds (written in milliseconds with three decimals).
    pub min_rx: Option<u32>,
    /// `min_tx`, in microseconds.
    pub min_tx: Option<u32>,
    /// `idle_tx`, in microseconds.
    pub idle_tx: Option<u32>,
    /// `multiplier` (1 to 255).
    pub multiplier: Option<u8>,
    /// `passive`.
    pub passive: bool,
    /// `ttl` (IPv4, 1 to 255).
    pub ttl: Option<u8>,
    /// `hoplimit` (IPv6, 1 to 255).
    pub hoplimit: Option<u8>,
    /// `max_hops` (-1 to 255; 255 turns the check off).
    pub max_hops: Option<i16>,
    /// `weight N [reverse]` (-253 to 253).
    pub weight: Option<Weight>,
    /// `vrrp`: send events to the VRRP side only.
    pub vrrp: bool,
    /// `checker`: send events to the checkers only.
    pub checker: bool,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `track_group NAME { group { INSTANCE ... } }`: the instances a static address, route or rule
/// puts in fault when it cannot be restored.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrackGroup {
    /// The name static addresses, routes and rules refer to (`track_group NAME`).
    pub name: String,
    /// `group { ... }`: vrrp_instance names.
    pub group: Vec<Track>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `garp_group { ... }`: pacing of gratuitous ARPs and neighbour adverts on some interfaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GarpGroup {
    /// `garp_interval`.
    pub garp_interval: Option<Timer>,
    /// `gna_interval`.
    pub gna_interval: Option<Timer>,
    /// `interface`: the one interface the intervals apply to.
    pub interface: Option<String>,
    /// `interfaces { ... }`: interfaces that share the intervals.
    pub interfaces: Vec<String>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// One line of `linkbeat_interfaces { IFNAME [MII|ETHTOOL|IOCTL] }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkbeatInterface {
    /// The interface.
    pub interface: String,
    /// The preferred way of polling it.
    pub poll: Option<String>,
}

/// One line of `interface_up_down_delays { IFNAME DOWN [UP] }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpDownDelay {
    /// The interface.
    pub interface: String,
    /// Delay before an instance goes to FAULT when the interface goes down (up to 255 s).
    pub down: Timer,
    /// Delay before it leaves FAULT when the interface comes back (the down delay if not given).
    pub up: Option<Timer>,
}
