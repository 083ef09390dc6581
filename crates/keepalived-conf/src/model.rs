//! The typed model of a keepalived.conf. Names follow keepalived.conf(5) of keepalived 2.x; old
//! spellings (`lb_algo`, `lb_kind`, `nb_get_retry`, `vrrp_track_file`, ...) land in the same fields.
//!
//! Settings that are not given stay `None` (or empty / `false`): the model says what the file
//! says, and defaults are the consumer's business. Keywords that keepalived knows but that are
//! outside this model's typed fields are kept verbatim in `extra`, so nothing is lost.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_ipvs::{
    IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3, SchedFlagName,
};
use serde::Serialize;

use crate::source::{Origin, Spanned};

/// A whole configuration: every block of the main file and its includes, in file order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Config {
    /// All `global_defs` blocks, merged (a later setting overrides an earlier one).
    pub global_defs: GlobalDefs,
    /// `static_ipaddress` entries (all blocks together).
    pub static_ipaddress: Vec<IpAddress>,
    /// `static_routes` entries.
    pub static_routes: Vec<Route>,
    /// `static_rules` entries.
    pub static_rules: Vec<Rule>,
    /// `vrrp_script` blocks.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `track_file` / `vrrp_track_file` blocks.
    pub track_files: Vec<TrackFile>,
    /// `vrrp_sync_group` blocks.
    pub sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance` blocks.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `virtual_server_group` blocks.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<VirtualServer>,
    /// The `SSL` block used by SSL_GET checkers.
    pub ssl: Option<SslContext>,
    /// Other top-level statements keepalived knows (`net_namespace`, `bfd_instance`,
    /// `vrrp_track_process`, `garp_group`, `linkbeat_interfaces`, ...), kept verbatim.
    pub extra: Vec<Directive>,
}

/// A statement kept verbatim: keyword, arguments and an optional block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Directive {
    /// The keyword.
    pub keyword: String,
    /// The words after it.
    pub args: Vec<String>,
    /// The statements of its block, if it had one.
    pub block: Option<Vec<Self>>,
}

/// A time in keepalived's `<TIMER>` syntax: seconds with up to six decimals, kept in
/// microseconds. Serialised as seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timer(pub u64);

impl Timer {
    /// Whole seconds.
    pub fn from_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1_000_000))
    }

    /// The time in microseconds.
    pub fn as_micros(self) -> u64 {
        self.0
    }

    /// The time as a [`std::time::Duration`].
    pub fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_micros(self.0)
    }
}

impl std::fmt::Display for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0 / 1_000_000;
        let frac = self.0 % 1_000_000;
        if frac == 0 {
            write!(f, "{secs}")
        } else {
            let digits = format!("{frac:06}");
            write!(f, "{secs}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl Serialize for Timer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0 as f64 / 1e6)
    }
}

/// A script to run, as keepalived writes it: the command line and an optional user and group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Script {
    /// The command (quoted in the file when it has spaces).
    pub command: String,
    /// User to run it as.
    pub user: Option<String>,
    /// Group to run it as.
    pub group: Option<String>,
}

/// `weight N [reverse]` on a tracked object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Weight {
    /// The weight (negative lowers the priority).
    pub value: i32,
    /// `reverse`: apply the weight when the tracked object is down rather than up.
    pub reverse: bool,
}

/// One entry of `track_interface`, `track_script`, `track_file`, `track_process` or `track_bfd`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    /// The interface, script, file, process or BFD name.
    pub name: String,
    /// Optional weight.
    pub weight: Option<Weight>,
    /// Where the name was written (for "not defined" diagnostics).
    #[serde(skip)]
    pub origin: Origin,
}

/// A prefix `ADDR[/LEN]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Prefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length, if written.
    pub len: Option<u8>,
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.len {
            Some(len) => write!(f, "{}/{len}", self.addr),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// `brd` of an address: an address, or `+`/`-` to set or clear the host bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Broadcast {
    /// An explicit broadcast address.
    Addr(IpAddr),
    /// `+`: the host bits set.
    SetHostBits,
    /// `-`: the host bits cleared.
    ClearHostBits,
}

/// An address scope (`scope` option), as `ip` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Scope {
    /// `global` (0).
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
    /// A number without a name.
    Other(u8),
}

/// `preferred_lft`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lifetime {
    /// `forever`.
    Forever,
    /// Seconds.
    Secs(u32),
}

/// An address line of `virtual_ipaddress`, `virtual_ipaddress_excluded` or `static_ipaddress`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpAddress {
    /// `ADDR[/LEN]`.
    pub prefix: Prefix,
    /// `brd`.
    pub broadcast: Option<Broadcast>,
    /// `dev`.
    pub dev: Option<String>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `label` (for `ifconfig` compatibility, `realdev:anytext`).
    pub label: Option<String>,
    /// `peer ADDR[/LEN]`.
    pub peer: Option<Prefix>,
    /// `use_vmac`: put the address on the instance's VMAC.
    pub use_vmac: bool,
    /// `home`.
    pub home: bool,
    /// `-nodad`.
    pub nodad: bool,
    /// `mngtmpaddr`.
    pub mngtmpaddr: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// `no_track`: do not go to FAULT when the address disappears.
    pub no_track: bool,
    /// `preferred_lft`.
    pub preferred_lft: Option<Lifetime>,
    /// `track_group` (static addresses).
    pub track_group: Option<String>,
    /// Where the address was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// Route types other than unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `throw`.
    Throw,
}

/// A route line of `virtual_routes` or `static_routes` (the `ip route add` syntax).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// `blackhole`, `unreachable`, ... before the destination.
    pub route_type: Option<RouteType>,
    /// Destination prefix (`to` may be written before it).
    pub to: Prefix,
    /// `src`.
    pub src: Option<IpAddr>,
    /// `via` (or the old `gw`).
    pub via: Option<IpAddr>,
    /// `or ADDR`: a second gateway.
    pub or: Option<IpAddr>,
    /// `dev`.
    pub dev: Option<String>,
    /// `table`.
    pub table: Option<String>,
    /// `metric` / `priority` / `preference`.
    pub metric: Option<u32>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `protocol` / `proto`.
    pub protocol: Option<String>,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group`.
    pub track_group: Option<String>,
    /// The other `ip route` options (`mtu 1000`, `nexthop ...`, `onlink`, ...), word by word.
    pub options: Vec<String>,
    /// Where the route was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// A rule line of `virtual_rules` or `static_rules` (the `ip rule add` syntax).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// `from`.
    pub from: Option<Prefix>,
    /// `to`.
    pub to: Option<Prefix>,
    /// `table` (or `lookup`).
    pub table: Option<String>,
    /// `preference` / `priority` / `pref`.
    pub preference: Option<u32>,
    /// `fwmark VALUE[/MASK]`.
    pub fwmark: Option<String>,
    /// `iif`.
    pub iif: Option<String>,
    /// `oif`.
    pub oif: Option<String>,
    /// `no_track`.
    pub no_track: bool,
    /// `track_group`.
    pub track_group: Option<String>,
    /// The other `ip rule` options (`tos`, `goto`, `uidrange`, ...), word by word.
    pub options: Vec<String>,
    /// Where the rule was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// `smtp_server ADDR|NAME [PORT]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmtpServer {
    /// Address or host name.
    pub host: String,
    /// Port (25 when not given).
    pub port: Option<u16>,
}

/// `lvs_sync_daemon IF [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LvsSyncDaemon {
    /// Interface.
    pub interface: String,
    /// The VRRP instance whose state drives the sync daemon.
    pub instance: Option<String>,
    /// `id`.
    pub id: Option<u8>,
    /// `maxlen`.
    pub maxlen: Option<u16>,
    /// `port`.
    pub port: Option<u16>,
    /// `ttl`.
    pub ttl: Option<u8>,
    /// `group`.
    pub group: Option<IpAddr>,
    /// Where it was written.
    #[serde(skip)]
    pub origin: Origin,
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LvsTimeouts {
    /// `tcp`.
    pub tcp: Option<u32>,
    /// `tcpfin`.
    pub tcpfin: Option<u32>,
    /// `udp`.
    pub udp: Option<u32>,
}

/// `garp_extra_if [all] DELAY` / `vrrp_garp_extra_if`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GarpExtraIf {
    /// `all`: on every interface, not only those with VIPs.
    pub all: bool,
    /// Seconds between refreshes (0 switches it off).
    pub delay: u32,
}

/// `global_defs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GlobalDefs {
    /// `router_id`.
    pub router_id: Option<String>,
    /// `notification_email { ... }`.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout`.
    pub smtp_connect_timeout: Option<Timer>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`.
    pub smtp_alert_checker: Option<bool>,
    /// `checker_log_all_failures`.
    pub checker_log_all_failures: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `vrrp_mcast_group4`.
    pub vrrp_mcast_group4: Option<Ipv4Addr>,
    /// `vrrp_mcast_group6`.
    pub vrrp_mcast_group6: Option<Ipv6Addr>,
    /// `default_interface`.
    pub default_interface: Option<String>,
    /// `lvs_sync_daemon` (or the old `lvs_sync_daemon_interface`).
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_timeouts`.
    pub lvs_timeouts: Option<LvsTimeouts>,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]`: `Some(false)` flushes all, `Some(true)` only our virtual servers.
    pub lvs_flush_on_stop: Option<bool>,
    /// `vrrp_garp_master_delay`.
    pub vrrp_garp_master_delay: Option<u32>,
    /// `vrrp_garp_master_repeat`.
    pub vrrp_garp_master_repeat: Option<u32>,
    /// `vrrp_garp_lower_prio_delay`.
    pub vrrp_garp_lower_prio_delay: Option<u32>,
    /// `vrrp_garp_lower_prio_repeat`.
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_master_refresh`.
    pub vrrp_garp_master_refresh: Option<u32>,
    /// `vrrp_garp_master_refresh_repeat`.
    pub vrrp_garp_master_refresh_repeat: Option<u32>,
    /// `vrrp_garp_interval`.
    pub vrrp_garp_interval: Option<Timer>,
    /// `vrrp_gna_interval`.
    pub vrrp_gna_interval: Option<Timer>,
    /// `vrrp_min_garp`.
    pub vrrp_min_garp: Option<bool>,
    /// `vrrp_garp_extra_if`.
    pub vrrp_garp_extra_if: Option<GarpExtraIf>,
    /// `vrrp_down_timer_adverts`.
    pub vrrp_down_timer_adverts: Option<u32>,
    /// `vrrp_lower_prio_no_advert`.
    pub vrrp_lower_prio_no_advert: Option<bool>,
    /// `vrrp_higher_prio_send_advert`.
    pub vrrp_higher_prio_send_advert: Option<bool>,
    /// `vrrp_version`.
    pub vrrp_version: Option<u8>,
    /// `vrrp_iptables [IN [OUT]]`.
    pub vrrp_iptables: Option<Vec<String>>,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_notify_priority_changes`.
    pub vrrp_notify_priority_changes: Option<bool>,
    /// `vrrp_startup_delay`.
    pub vrrp_startup_delay: Option<Timer>,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `notify_fifo`.
    pub notify_fifo: Option<Script>,
    /// `notify_fifo_script`.
    pub notify_fifo_script: Option<Script>,
    /// `vrrp_notify_fifo`.
    pub vrrp_notify_fifo: Option<Script>,
    /// `vrrp_notify_fifo_script`.
    pub vrrp_notify_fifo_script: Option<Script>,
    /// `lvs_notify_fifo`.
    pub lvs_notify_fifo: Option<Script>,
    /// `lvs_notify_fifo_script`.
    pub lvs_notify_fifo_script: Option<Script>,
    /// `max_auto_priority [N]` (`Some(None)` when given without a number).
    pub max_auto_priority: Option<Option<i32>>,
    /// `dynamic_interfaces [allow_if_changes]`.
    pub dynamic_interfaces: Option<bool>,
    /// `enable_snmp_*`, `enable_traps`, `enable_dbus`, ...: the other known keywords, verbatim.
    pub extra: Vec<Directive>,
}

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

/// An entry of `virtual_server_group`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum GroupEntry {
    /// `ADDR[-LAST] [PORT]`: one address or a range whose last part ends at `range_end`.
    Addr {
        /// First address.
        addr: IpAddr,
        /// `-N`: the last byte (IPv4) or last 16-bit group (IPv6) of the range.
        range_end: Option<u16>,
        /// Port.
        port: Option<u16>,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family, when written.
        family: Option<Family>,
    },
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VirtualServerGroup {
    /// The name `virtual_server group NAME` refers to.
    pub name: String,
    /// The addresses, ranges and marks.
    pub entries: Vec<GroupEntry>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `inet`.
    Inet,
    /// `inet6`.
    Inet6,
}

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum VirtualServerAddr {
    /// `ADDR [PORT]` (the port may be left out only for a persistent service).
    Ip {
        /// Address.
        addr: IpAddr,
        /// Port.
        port: Option<u16>,
    },
    /// `fwmark N`.
    Fwmark(u32),
    /// `group NAME`.
    Group(String),
}

/// `lvs_sched` / `lb_algo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connection.
    Lc,
    /// Weighted least connection.
    Wlc,
    /// Locality-based least connection.
    Lblc,
    /// LBLC with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing.
    Sh,
    /// Maglev hashing.
    Mh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Weighted random twos choice.
    Twos,
}

impl Scheduler {
    /// All schedulers with their keepalived names.
    pub const ALL: [(Self, &'static str); 14] = [
        (Self::Rr, "rr"),
        (Self::Wrr, "wrr"),
        (Self::Lc, "lc"),
        (Self::Wlc, "wlc"),
        (Self::Lblc, "lblc"),
        (Self::Lblcr, "lblcr"),
        (Self::Dh, "dh"),
        (Self::Sh, "sh"),
        (Self::Mh, "mh"),
        (Self::Sed, "sed"),
        (Self::Nq, "nq"),
        (Self::Fo, "fo"),
        (Self::Ovf, "ovf"),
        (Self::Twos, "twos"),
    ];

    /// The keepalived (and ipvsadm) name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _)| *s == self)
            .map_or("rr", |(_, n)| n)
    }
}

/// Tunnel encapsulation of `lvs_method TUN type ...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelType {
    /// `ipip`.
    Ipip,
    /// `gue port N`.
    Gue {
        /// UDP port.
        port: u16,
    },
    /// `gre`.
    Gre,
}

/// Tunnel checksum option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelChecksum {
    /// `nocsum`.
    NoCsum,
    /// `csum`.
    Csum,
    /// `remcsum`.
    RemCsum,
}

/// `lvs_method` / `lb_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LvsMethod {
    /// `NAT`.
    Nat,
    /// `DR` (direct routing): real servers must use the virtual port.
    Dr,
    /// `TUN [type ...] [csum]`.
    Tun {
        /// `type`.
        tunnel_type: Option<TunnelType>,
        /// Checksum option.
        checksum: Option<TunnelChecksum>,
    },
}

/// `protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// `TCP`.
    Tcp,
    /// `UDP`.
    Udp,
    /// `SCTP`.
    Sctp,
}

/// `persistence_granularity`: a netmask (IPv4) or prefix length (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Granularity {
    /// An IPv4 netmask such as 255.255.255.0.
    Mask(Ipv4Addr),
    /// A prefix length.
    PrefixLen(u8),
}

/// The options shared by virtual servers, real servers and checkers: a virtual server's value
/// is the default for its real servers, a real server's for its checkers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckDefaults {
    /// `connect_timeout`.
    pub connect_timeout: Option<Timer>,
    /// `retry` (`nb_get_retry` is the old name).
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    pub delay_before_retry: Option<Timer>,
    /// `warmup`.
    pub warmup: Option<Timer>,
    /// `delay_loop`.
    pub delay_loop: Option<Timer>,
    /// `alpha`.
    pub alpha: Option<bool>,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: Option<bool>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
}

/// `sorry_server ADDR [PORT]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SorryServer {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: Option<u16>,
}

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualServer {
    /// What the service is.
    pub addr: VirtualServerAddr,
    /// `lvs_sched` / `lb_algo`.
    pub lvs_sched: Option<Scheduler>,
    /// `flag-1` (also `sh-fallback`, `mh-fallback`).
    pub flag_1: bool,
    /// `flag-2` (also `sh-port`, `mh-port`).
    pub flag_2: bool,
    /// `flag-3`.
    pub flag_3: bool,
    /// `ops`: one-packet scheduling (UDP).
    pub ops: bool,
    /// `lvs_method` / `lb_kind`.
    pub lvs_method: Option<LvsMethod>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `persistence_timeout [N]` (`Some(None)` when written without a number: 360 s).
    pub persistence_timeout: Option<Option<u32>>,
    /// `persistence_granularity`.
    pub persistence_granularity: Option<Granularity>,
    /// `protocol`.
    pub protocol: Option<Protocol>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// `omega`.
    pub omega: bool,
    /// `quorum`.
    pub quorum: Option<Spanned<u32>>,
    /// `hysteresis`.
    pub hysteresis: Option<u32>,
    /// `quorum_up`.
    pub quorum_up: Option<Script>,
    /// `quorum_down`.
    pub quorum_down: Option<Script>,
    /// `ip_family`.
    pub ip_family: Option<Family>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `sorry_server_inhibit`.
    pub sorry_server_inhibit: bool,
    /// `sorry_server_lvs_method`.
    pub sorry_server_lvs_method: Option<LvsMethod>,
    /// Defaults for the real servers and checkers (`delay_loop`, `retry`, `alpha`, ...).
    pub defaults: CheckDefaults,
    /// `real_server` blocks.
    pub real_servers: Vec<RealServer>,
    /// Other known keywords, verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// `real_server ADDR [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RealServer {
    /// Address.
    pub addr: IpAddr,
    /// Port (the virtual port when left out).
    pub port: Option<u16>,
    /// `weight`.
    pub weight: Option<i32>,
    /// `lvs_method` for this real server.
    pub lvs_method: Option<LvsMethod>,
    /// `notify_up`.
    pub notify_up: Option<Script>,
    /// `notify_down`.
    pub notify_down: Option<Script>,
    /// `uthreshold`.
    pub uthreshold: Option<u32>,
    /// `lthreshold`.
    pub lthreshold: Option<u32>,
    /// `snmp_name`.
    pub snmp_name: Option<String>,
    /// Defaults for this real server's checkers.
    pub defaults: CheckDefaults,
    /// The health checkers.
    pub checkers: Vec<Checker>,
    /// Other known keywords, verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// Where and how a checker connects.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Connect {
    /// `connect_ip`.
    pub connect_ip: Option<IpAddr>,
    /// `connect_port`.
    pub connect_port: Option<u16>,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// `connect_timeout` (per host in SMTP_CHECK).
    pub connect_timeout: Option<Timer>,
}

/// An HTTP status-code item: one code or a range `LO-HI`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusRange {
    /// First code.
    pub low: u16,
    /// Last code (equal to `low` for a single code).
    pub high: u16,
}

/// `url { ... }` of HTTP_GET / SSL_GET.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Url {
    /// `path`.
    pub path: Option<String>,
    /// `digest` (MD5 hex of the body).
    pub digest: Option<String>,
    /// `status_code`.
    pub status_code: Vec<StatusRange>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `regex`.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
    /// `regex_options`.
    pub regex_options: Vec<String>,
    /// `regex_stack START MAX`.
    pub regex_stack: Option<(u32, u32)>,
    /// `regex_min_offset`.
    pub regex_min_offset: Option<u32>,
    /// `regex_max_offset`.
    pub regex_max_offset: Option<u32>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// HTTP_GET / SSL_GET settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HttpCheck {
    /// `http_protocol` (`1.0`, `1.0C`, `1.1`, `0.9`).
    pub http_protocol: Option<String>,
    /// `fast_recovery`.
    pub fast_recovery: Option<bool>,
    /// `enable_sni` (SSL_GET).
    pub enable_sni: bool,
    /// `url` blocks.
    pub urls: Vec<Url>,
}

/// The kind of a checker and its own settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CheckerKind {
    /// `TCP_CHECK`.
    Tcp,
    /// `HTTP_GET`.
    Http(HttpCheck),
    /// `SSL_GET`.
    Ssl(HttpCheck),
    /// `SMTP_CHECK`.
    Smtp {
        /// `helo_name`.
        helo_name: Option<String>,
        /// `host { ... }` blocks (older syntax: several servers to try).
        hosts: Vec<Connect>,
    },
    /// `DNS_CHECK`.
    Dns {
        /// `type` (A, NS, ...).
        query_type: Option<String>,
        /// `name`.
        name: Option<String>,
    },
    /// `MISC_CHECK`.
    Misc {
        /// `misc_path`.
        path: Option<Script>,
        /// `misc_timeout`.
        timeout: Option<Timer>,
        /// `misc_dynamic`.
        dynamic: bool,
    },
    /// `UDP_CHECK`.
    Udp {
        /// `payload` (hex).
        payload: Option<String>,
        /// `require_reply [HEX]`.
        require_reply: Option<Option<String>>,
        /// `min_reply_length`.
        min_reply_length: Option<u32>,
        /// `max_reply_length`.
        max_reply_length: Option<u32>,
    },
    /// `PING_CHECK`.
    Ping,
    /// `FILE_CHECK`.
    File {
        /// `track_file`.
        track_file: Option<String>,
        /// `dynamic`.
        dynamic: bool,
        /// `weight`.
        weight: Option<Weight>,
    },
    /// `BFD_CHECK`.
    Bfd {
        /// `name`.
        name: Option<String>,
    },
}

impl CheckerKind {
    /// The block keyword (`TCP_CHECK`, `HTTP_GET`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Self::Tcp => "TCP_CHECK",
            Self::Http(_) => "HTTP_GET",
            Self::Ssl(_) => "SSL_GET",
            Self::Smtp { .. } => "SMTP_CHECK",
            Self::Dns { .. } => "DNS_CHECK",
            Self::Misc { .. } => "MISC_CHECK",
            Self::Udp { .. } => "UDP_CHECK",
            Self::Ping => "PING_CHECK",
            Self::File { .. } => "FILE_CHECK",
            Self::Bfd { .. } => "BFD_CHECK",
        }
    }
}

/// A health checker block of a real server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checker {
    /// Which checker and its own settings.
    pub kind: CheckerKind,
    /// Where to connect.
    pub connect: Connect,
    /// `retry`, `delay_before_retry`, `delay_loop`, `warmup`, `alpha`.
    pub defaults: CheckDefaults,
    /// `log_all_failures`.
    pub log_all_failures: Option<bool>,
    /// `user USER [GROUP]` (MISC_CHECK).
    pub user: Option<(String, Option<String>)>,
    /// Other known keywords, verbatim.
    pub extra: Vec<Directive>,
    /// Where the block starts.
    #[serde(skip)]
    pub origin: Origin,
}

/// The top-level `SSL { ... }` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SslContext {
    /// `password`.
    pub password: Option<String>,
    /// `ca`.
    pub ca: Option<String>,
    /// `certificate`.
    pub certificate: Option<String>,
    /// `key`.
    pub key: Option<String>,
}

impl IpAddress {
    /// An address with no options, as a bare `ADDR[/LEN]` line gives.
    pub fn new(addr: IpAddr, len: Option<u8>) -> Self {
        Self {
            prefix: Prefix { addr, len },
            broadcast: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            use_vmac: false,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            preferred_lft: None,
            track_group: None,
            origin: Origin::NONE,
        }
    }
}

impl Track {
    /// A tracked name without a weight.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            weight: None,
            origin: Origin::NONE,
        }
    }
}

impl VirtualServer {
    /// A virtual server with nothing set but what it is.
    pub fn new(addr: VirtualServerAddr) -> Self {
        Self {
            addr,
            lvs_sched: None,
            flag_1: false,
            flag_2: false,
            flag_3: false,
            ops: false,
            lvs_method: None,
            persistence_engine: None,
            persistence_timeout: None,
            persistence_granularity: None,
            protocol: None,
            ha_suspend: false,
            snmp_name: None,
            omega: false,
            quorum: None,
            hysteresis: None,
            quorum_up: None,
            quorum_down: None,
            ip_family: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            sorry_server_lvs_method: None,
            defaults: CheckDefaults::default(),
            real_servers: Vec::new(),
            extra: Vec::new(),
            origin: Origin::NONE,
        }
    }

    /// The `IP_VS_SVC_F_SCHED*` bits of `flag-1`..`flag-3` (whatever name set them), as the
    /// kernel's service flags hold them.
    pub fn sched_flags(&self) -> u32 {
        [
            (self.flag_1, IP_VS_SVC_F_SCHED1),
            (self.flag_2, IP_VS_SVC_F_SCHED2),
            (self.flag_3, IP_VS_SVC_F_SCHED3),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(0, |flags, (_, bit)| flags | bit)
    }

    /// Sets the flag a scheduler-flag keyword names (`sh-port` sets `flag_2`, as
    /// [`SchedFlagName`] says); `false` if the keyword names no flag.
    pub fn set_sched_flag(&mut self, keyword: &str) -> bool {
        match SchedFlagName::find(keyword).map(|f| f.bit) {
            Some(IP_VS_SVC_F_SCHED1) => self.flag_1 = true,
            Some(IP_VS_SVC_F_SCHED2) => self.flag_2 = true,
            Some(IP_VS_SVC_F_SCHED3) => self.flag_3 = true,
            _ => return false,
        }
        true
    }
}

impl RealServer {
    /// A real server with nothing set but its address and port.
    pub fn new(addr: IpAddr, port: Option<u16>) -> Self {
        Self {
            addr,
            port,
            weight: None,
            lvs_method: None,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            snmp_name: None,
            defaults: CheckDefaults::default(),
            checkers: Vec::new(),
            extra: Vec::new(),
            origin: Origin::NONE,
        }
    }
}

impl Checker {
    /// A checker of a kind with no connection settings.
    pub fn new(kind: CheckerKind) -> Self {
        Self {
            kind,
            connect: Connect::default(),
            defaults: CheckDefaults::default(),
            log_all_failures: None,
            user: None,
            extra: Vec::new(),
            origin: Origin::NONE,
        }
    }
}
