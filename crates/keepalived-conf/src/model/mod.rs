//! The typed model of a keepalived.conf. Names follow keepalived.conf(5) of keepalived 2.x; old
//! spellings (`lb_algo`, `lb_kind`, `nb_get_retry`, `vrrp_track_file`, ...) land in the same fields.
//!
//! Settings that are not given stay `None` (or empty / `false`): the model says what the file
//! says, and defaults are the consumer's business. Keywords that keepalived knows but that are
//! outside this model's typed fields are kept verbatim in `extra`, so nothing is lost.

use serde::Serialize;

use crate::source::Origin;

mod checker;
mod global;
mod lvs;
mod net;
mod vrrp;

pub use checker::*;
pub use global::*;
pub use lvs::*;
pub use net::*;
pub use vrrp::*;

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
    /// `vrrp_track_process` blocks.
    pub track_processes: Vec<TrackProcess>,
    /// `bfd_instance` blocks.
    pub bfd_instances: Vec<BfdInstance>,
    /// `track_group` blocks.
    pub track_groups: Vec<TrackGroup>,
    /// `garp_group` blocks.
    pub garp_groups: Vec<GarpGroup>,
    /// `linkbeat_interfaces { ... }` (all blocks together).
    pub linkbeat_interfaces: Vec<LinkbeatInterface>,
    /// `interface_up_down_delays { ... }` (all blocks together).
    pub interface_up_down_delays: Vec<UpDownDelay>,
    /// The settings written at the top level, outside any block.
    pub top: TopLevel,
    /// Other top-level statements keepalived knows, kept verbatim (none at present: every
    /// top-level keyword of keepalived 2.2.7 is typed).
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
