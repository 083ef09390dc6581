//! From the keepalived.conf model to what each crate runs: `vrrp-fsm` configurations, GARP
//! timings, `vip` addresses, routes and rules, trackers and notify commands. One module, so that
//! `lvskitd -t` and the running director agree on what a file means: [`map`] succeeds exactly
//! when the director can run the configuration on this host.
//!
//! Defaults are keepalived 2.2.7's (priority 100, `advert_int` 1 s, version 2, GARP 5 + 5 after
//! 5 s, script interval 1 s, rise and fall 1, ...). Settings this director does not implement are
//! errors rather than silently ignored, so a configuration never runs differently from what it
//! says.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use keepalived_conf::model;
use vrrp_fsm::{GarpConfig, InitialState, InterfaceId, Tracker, TrackerId, Version};
use vrrp_packet::{ChecksumMode, ChecksumModes};

use crate::codec::{WireOptions, auth_data, default_group};

mod net;

/// An interface of the host, as the mapping needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInterface {
    /// Kernel index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Up and running (what `track_interface` calls up).
    pub up: bool,
    /// Its first IPv4 address: keepalived's default source of IPv4 adverts.
    pub ipv4: Option<Ipv4Addr>,
    /// Its first link-local IPv6 address: the source of IPv6 adverts.
    pub ipv6_link_local: Option<Ipv6Addr>,
    /// A macvlan: its parent's index and its MAC (so `use_vmac` can tell a VMAC left over by an
    /// earlier run, which it takes over, from another interface of that name, which it
    /// refuses); `None` for any other kind of interface.
    pub macvlan: Option<(u32, [u8; 6])>,
}

/// A program to run, split into words as keepalived splits it (no shell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Program and arguments.
    pub argv: Arc<[String]>,
    /// `USER [GROUP]` to run it as (the script's own, else `script_user`); `None`: as we are.
    pub user: Option<(String, Option<String>)>,
}

/// The notify commands of an instance or a sync group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Command>,
    /// `notify_backup`.
    pub backup: Option<Command>,
    /// `notify_fault`.
    pub fault: Option<Command>,
    /// `notify_stop`.
    pub stop: Option<Command>,
    /// `notify`: run after the state's own script, with four more arguments.
    pub any: Option<Command>,
}

/// What a tracker of an instance watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackSource {
    /// A `vrrp_script`, by index in [`Setup::scripts`].
    Script(usize),
    /// An interface, by kernel index.
    Interface(u32),
    /// A `track_file`, by index in [`Setup::track_files`].
    File(usize),
}

/// One tracker of one instance: its id in the instance's `vrrp_fsm::Config::trackers`, what it
/// watches and how a result maps onto the state machine's OK/failed with a fixed weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerLink {
    /// The state machine's id.
    pub id: TrackerId,
    /// What it watches.
    pub source: TrackSource,
    /// keepalived's `reverse`: the result is inverted (and the weight negated in the
    /// state-machine configuration).
    pub reverse: bool,
    /// The configured weight; for a track file the value read is multiplied by it.
    pub weight: i32,
}

/// One `vrrp_instance`, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceSetup {
    /// The instance's name (notify argument, logs).
    pub name: String,
    /// The interface it runs on.
    pub ifname: String,
    /// The state machine's configuration.
    pub fsm: vrrp_fsm::Config,
    /// How its adverts are written.
    pub wire: WireOptions,
    /// Checksum forms accepted from peers (v3 over IPv4).
    pub accept_checksums: ChecksumModes,
    /// Where adverts go: the multicast group, or every unicast peer.
    pub destinations: Arc<[IpAddr]>,
    /// Unicast peers are configured.
    pub unicast: bool,
    /// Adverts from a source that is no configured peer are dropped (`check_unicast_src`).
    pub check_unicast_src: bool,
    /// `virtual_ipaddress` and `virtual_ipaddress_excluded`, as `vip` adds them.
    pub vips: Arc<[vip::Vip]>,
    /// The interface index of each of `vips`.
    pub vip_ifindex: Arc<[u32]>,
    /// `virtual_routes`.
    pub routes: Arc<[vip::Route]>,
    /// `virtual_rules`.
    pub rules: Arc<[vip::Rule]>,
    /// The trackers, in the order of `fsm.trackers`.
    pub trackers: Vec<TrackerLink>,
    /// Notify commands.
    pub notify: Notify,
    /// `use_vmac`: the macvlan the director creates at start (and removes at exit), on which
    /// the virtual addresses without a `dev` live and from which GARPs go out. Its index is
    /// unknown until it exists: their entries of `vip_ifindex` are 0 until the driver creates
    /// it and sets them.
    pub vmac: Option<vip::Vmac>,
    /// `vmac_xmit_base`: adverts leave from the base interface, not from the VMAC.
    pub vmac_xmit_base: bool,
}

/// A `vrrp_sync_group`, or a lone instance (no name) so every instance runs in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSetup {
    /// The group's name; `None` for a lone instance.
    pub name: Option<String>,
    /// Indexes into [`Setup::instances`].
    pub members: Vec<usize>,
    /// The group's notify commands.
    pub notify: Notify,
}

/// A `vrrp_script` some instance tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptSetup {
    /// Its name.
    pub name: String,
    /// What to run.
    pub command: Command,
    /// Time between runs (`interval`, default 1 s).
    pub interval: Duration,
    /// A run that takes longer fails and is killed (`timeout`, default: the interval).
    pub timeout: Duration,
    /// Consecutive successes that make it OK (`rise`, default 1).
    pub rise: u32,
    /// Consecutive failures that make it fail (`fall`, default 1).
    pub fall: u32,
    /// Starts failed (`init_fail`).
    pub init_fail: bool,
}

/// A `track_file` some instance tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackFileSetup {
    /// Its name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// `init_file VALUE [overwrite]`.
    pub init: Option<(i64, bool)>,
}

/// Everything the director runs, mapped from one configuration on one host.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The instances.
    pub instances: Vec<InstanceSetup>,
    /// Every instance in exactly one group.
    pub groups: Vec<GroupSetup>,
    /// The scripts tracked by at least one instance.
    pub scripts: Vec<ScriptSetup>,
    /// The files tracked by at least one instance.
    pub track_files: Vec<TrackFileSetup>,
    /// GARP / NA pacing per interface (`vrrp_garp_interval`, `vrrp_gna_interval`).
    pub garp_pacing: garp::schedule::Config,
    /// The host's interfaces the mapping saw (names for indexes).
    pub interfaces: Vec<HostInterface>,
}

/// Why a configuration cannot run here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting the director does not implement; refused so nothing runs differently from the
    /// file.
    #[error("{context}: {what} is not supported by lvskitd yet")]
    Unsupported {
        /// Instance, group or script.
        context: String,
        /// The setting.
        what: String,
    },
    /// A required setting is missing.
    #[error("{context}: {what} is required")]
    Missing {
        /// Where.
        context: String,
        /// What.
        what: &'static str,
    },
    /// An interface named in the configuration is not on this host.
    #[error("{context}: interface {name} does not exist")]
    NoSuchInterface {
        /// Where it is named.
        context: String,
        /// The name.
        name: String,
    },
    /// No source address for adverts.
    #[error(
        "{context}: interface {ifname} has no {family} address to send adverts from (set unicast_src_ip)"
    )]
    NoSourceAddress {
        /// The instance.
        context: String,
        /// The interface.
        ifname: String,
        /// `IPv4` or `link-local IPv6`.
        family: &'static str,
    },
    /// A name refers to nothing.
    #[error("{context}: {kind} {name} is not defined")]
    Undefined {
        /// Where.
        context: String,
        /// `vrrp_script`, `track_file`, `vrrp_instance`.
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// A value is out of range or inconsistent.
    #[error("{context}: {message}")]
    Invalid {
        /// Where.
        context: String,
        /// What is wrong.
        message: String,
    },
    /// The state machine refused the configuration.
    #[error("{context}: {source}")]
    Fsm {
        /// The instance.
        context: String,
        /// Its reason.
        source: vrrp_fsm::Error,
    },
    /// `vip` refused an address, route or rule.
    #[error("{context}: {source}")]
    Vip {
        /// The instance.
        context: String,
        /// Its reason.
        source: vip::Error,
    },
}

/// Maps `config` onto this host's `interfaces`. Every problem is reported, not only the first.
pub fn map(config: &model::Config, interfaces: &[HostInterface]) -> Result<Setup, Vec<Error>> {
    let mut m = Mapper {
        config,
        interfaces,
        errors: Vec::new(),
        scripts: Vec::new(),
        script_index: Vec::new(),
        files: Vec::new(),
        file_index: Vec::new(),
    };
    let setup = m.run();
    if m.errors.is_empty() {
        Ok(setup)
    } else {
        Err(m.errors)
    }
}

struct Mapper<'a> {
    config: &'a model::Config,
    interfaces: &'a [HostInterface],
    errors: Vec<Error>,
    scripts: Vec<ScriptSetup>,
    /// Config index of each entry of `scripts`.
    script_index: Vec<usize>,
    files: Vec<TrackFileSetup>,
    file_index: Vec<usize>,
}

/// keepalived's default timings (keepalived.conf(5)).
const DEFAULT_GARP_DELAY_S: u32 = 5;
const DEFAULT_GARP_REPEAT: u32 = 5;

impl Mapper<'_> {
    fn run(&mut self) -> Setup {
        let g = &self.config.global_defs;
        self.global_checks();
        let mut instances = Vec::new();
        for instance in &self.config.vrrp_instances {
            if let Some(setup) = self.instance(instance) {
                instances.push(setup);
            }
        }
        let groups = self.groups(&mut instances);
        let mut routes_seen = std::collections::HashMap::new();
        for (i, setup) in instances.iter().enumerate() {
            let key = (setup.fsm.interface, setup.fsm.vrid, setup.fsm.family());
            if let Some(other) = routes_seen.insert(key, i) {
                self.errors.push(Error::Invalid {
                    context: format!("vrrp_instance {}", setup.name),
                    message: format!(
                        "virtual_router_id {} is used by vrrp_instance {} on {} too",
                        key.1, instances[other].name, setup.ifname
                    ),
                });
            }
        }
        Setup {
            instances,
            groups,
            scripts: std::mem::take(&mut self.scripts),
            track_files: std::mem::take(&mut self.files),
            garp_pacing: garp::schedule::Config {
                garp_interval: g
                    .vrrp_garp_interval
                    .map_or(Duration::ZERO, |t| t.as_duration()),
                gna_interval: g
                    .vrrp_gna_interval
                    .map_or(Duration::ZERO, |t| t.as_duration()),
            },
            interfaces: self.interfaces.to_vec(),
        }
    }

    fn unsupported(&mut self, context: &str, what: impl Into<String>) {
        self.errors.push(Error::Unsupported {
            context: context.to_string(),
            what: what.into(),
        });
    }

    fn global_checks(&mut self) {
        let g = &self.config.global_defs;
        let context = "global_defs";
        if g.vrrp_startup_delay.is_some() {
            self.unsupported(context, "vrrp_startup_delay");
        }
        if g.vrrp_down_timer_adverts.is_some_and(|n| n != 3) {
            self.unsupported(context, "vrrp_down_timer_adverts other than 3");
        }
        for (set, what) in [
            (g.vrrp_notify_fifo.is_some(), "vrrp_notify_fifo"),
            (g.notify_fifo.is_some(), "notify_fifo"),
            (g.vrrp_garp_extra_if.is_some(), "vrrp_garp_extra_if"),
        ] {
            if set {
                self.unsupported(context, what);
            }
        }
    }

    fn interface(&self, name: &str) -> Option<&HostInterface> {
        self.interfaces.iter().find(|i| i.name == name)
    }

    /// An interface already named as `vmac` must be that VMAC (a macvlan on its base with its
    /// MAC, left by an earlier run): the driver takes it over. Anything else is refused, as the
    /// driver would refuse it at start.
    fn check_vmac_name(&mut self, context: &str, vmac: &vip::Vmac) {
        let Some(existing) = self.interface(&vmac.name) else {
            return;
        };
        let base = self.interface(&vmac.base).map(|b| b.index);
        let message = match existing.macvlan {
            None => format!(
                "use_vmac: interface {} exists and is not a macvlan",
                vmac.name
            ),
            Some((parent, _)) if Some(parent) != base => format!(
                "use_vmac: interface {} exists and is a macvlan on another interface than {}",
                vmac.name, vmac.base
            ),
            Some((_, mac)) if mac != vmac.hw_addr() => format!(
                "use_vmac: interface {} exists and is a macvlan with another MAC than this \
                 instance's virtual MAC",
                vmac.name
            ),
            Some(_) => return,
        };
        self.errors.push(Error::Invalid {
            context: context.to_string(),
            message,
        });
    }

    fn command(&mut self, context: &str, script: &model::Script) -> Option<Command> {
        match healthcheck::misc::split_argv(&script.command) {
            Ok(argv) => {
                let user = match &script.user {
                    Some(user) => Some((user.clone(), script.group.clone())),
                    None => self.config.global_defs.script_user.clone(),
                };
                Some(Command {
                    argv: argv.into(),
                    user,
                })
            }
            Err(e) => {
                self.errors.push(Error::Invalid {
                    context: context.to_string(),
                    message: format!("cannot split {:?} into words: {e}", script.command),
                });
                None
            }
        }
    }

    fn notify(&mut self, context: &str, notify: &model::Notify) -> Notify {
        let mut one = |s: &Option<model::Script>| s.as_ref().and_then(|s| self.command(context, s));
        let out = Notify {
            master: one(&notify.master),
            backup: one(&notify.backup),
            fault: one(&notify.fault),
            stop: one(&notify.stop),
            any: one(&notify.any),
        };
        if notify.master_rx_lower_pri.is_some() {
            self.unsupported(context, "notify_master_rx_lower_pri");
        }
        if notify.deleted.is_some() {
            self.unsupported(context, "notify_deleted");
        }
        out
    }

    /// The index in `scripts` of the `vrrp_script` called `name`, mapping it on first use.
    fn script(&mut self, context: &str, name: &str) -> Option<(usize, model::Weight)> {
        let Some(ci) = self.config.vrrp_scripts.iter().position(|s| s.name == name) else {
            self.errors.push(Error::Undefined {
                context: context.to_string(),
                kind: "vrrp_script",
                name: name.to_string(),
            });
            return None;
        };
        let s = &self.config.vrrp_scripts[ci];
        let weight = s.weight.unwrap_or_default();
        if let Some(i) = self.script_index.iter().position(|&c| c == ci) {
            return Some((i, weight));
        }
        let sc = format!("vrrp_script {name}");
        let Some(script) = &s.script else {
            self.errors.push(Error::Missing {
                context: sc,
                what: "script",
            });
            return None;
        };
        let mut command = self.command(&sc, script)?;
        if let Some(user) = &s.user {
            command.user = Some(user.clone());
        }
        let interval = s
            .interval
            .map_or(Duration::from_secs(1), |t| t.as_duration());
        if interval.is_zero() {
            self.errors.push(Error::Invalid {
                context: sc,
                message: "interval must be above 0".into(),
            });
            return None;
        }
        self.scripts.push(ScriptSetup {
            name: name.to_string(),
            command,
            interval,
            timeout: s
                .timeout
                .map(|t| t.as_duration())
                .filter(|t| !t.is_zero())
                .unwrap_or(interval),
            rise: s.rise.unwrap_or(1).max(1),
            fall: s.fall.unwrap_or(1).max(1),
            init_fail: s.init_fail,
        });
        self.script_index.push(ci);
        Some((self.scripts.len() - 1, weight))
    }

    fn track_file(&mut self, context: &str, name: &str) -> Option<(usize, model::Weight)> {
        let Some(ci) = self.config.track_files.iter().position(|s| s.name == name) else {
            self.errors.push(Error::Undefined {
                context: context.to_string(),
                kind: "track_file",
                name: name.to_string(),
            });
            return None;
        };
        let f = &self.config.track_files[ci];
        let weight = f.weight.unwrap_or(model::Weight {
            value: 1,
            reverse: false,
        });
        if let Some(i) = self.file_index.iter().position(|&c| c == ci) {
            return Some((i, weight));
        }
        let Some(path) = &f.file else {
            self.errors.push(Error::Missing {
                context: format!("track_file {name}"),
                what: "file",
            });
            return None;
        };
        self.files.push(TrackFileSetup {
            name: name.to_string(),
            path: PathBuf::from(path),
            init: f
                .init_file
                .map(|(v, overwrite)| (v.unwrap_or(0), overwrite)),
        });
        self.file_index.push(ci);
        Some((self.files.len() - 1, weight))
    }

    /// Adds the trackers of `tracks` (interfaces, scripts, files) to an instance.
    fn trackers(
        &mut self,
        context: &str,
        interfaces: &[model::Track],
        scripts: &[model::Track],
        files: &[model::Track],
        links: &mut Vec<TrackerLink>,
    ) {
        for t in interfaces {
            let Some(index) = self.interface(&t.name).map(|i| i.index) else {
                self.errors.push(Error::NoSuchInterface {
                    context: format!("{context} track_interface"),
                    name: t.name.clone(),
                });
                continue;
            };
            let w = t.weight.unwrap_or_default();
            push_link(links, TrackSource::Interface(index), w);
        }
        for t in scripts {
            if let Some((index, default)) = self.script(context, &t.name) {
                push_link(
                    links,
                    TrackSource::Script(index),
                    t.weight.unwrap_or(default),
                );
            }
        }
        for t in files {
            if let Some((index, default)) = self.track_file(context, &t.name) {
                push_link(links, TrackSource::File(index), t.weight.unwrap_or(default));
            }
        }
    }

    fn instance(&mut self, inst: &model::VrrpInstance) -> Option<InstanceSetup> {
        let context = format!("vrrp_instance {}", inst.name);
        let errors_before = self.errors.len();
        let g = &self.config.global_defs;
        for (set, what) in [
            (
                inst.use_vmac.as_ref().is_some_and(|v| v.mac.is_some()),
                "use_vmac with a MAC address",
            ),
            (inst.use_vmac_addr, "use_vmac_addr"),
            (!inst.track_process.is_empty(), "track_process"),
            (!inst.track_bfd.is_empty(), "track_bfd"),
            (inst.vrf.is_some(), "vrf"),
            (inst.garp_extra_if.is_some(), "garp_extra_if"),
            (
                inst.down_timer_adverts.is_some_and(|n| n != 3),
                "down_timer_adverts other than 3",
            ),
            (
                inst.authentication
                    .as_ref()
                    .is_some_and(|a| a.auth_type == Some(model::AuthType::Ah)),
                "auth_type AH",
            ),
        ] {
            if set {
                self.unsupported(&context, what);
            }
        }
        let Some(ifname) = inst
            .interface
            .as_ref()
            .map(|i| i.value.clone())
            .or_else(|| g.default_interface.clone())
        else {
            self.errors.push(Error::Missing {
                context,
                what: "interface",
            });
            return None;
        };
        let Some(host_if) = self.interface(&ifname).cloned() else {
            self.errors.push(Error::NoSuchInterface {
                context,
                name: ifname,
            });
            return None;
        };
        let Some(vrid) = inst.virtual_router_id.as_ref().map(|v| v.value) else {
            self.errors.push(Error::Missing {
                context,
                what: "virtual_router_id",
            });
            return None;
        };
        // keepalived's rule (an IPv6 instance without its own version runs VRRPv3).
        let version = match inst.effective_version(g) {
            2 => Version::V2,
            3 => Version::V3,
            other => {
                self.errors.push(Error::Invalid {
                    context,
                    message: format!("version must be 2 or 3, found {other}"),
                });
                return None;
            }
        };
        let vmac_name = inst
            .use_vmac
            .as_ref()
            .map(|v| v.name.clone().unwrap_or_else(|| format!("vrrp.{vrid}")));
        // The virtual addresses: the advertised ones first, then the excluded ones. Without a
        // `dev`, they go on the VMAC when there is one (index known once it exists: 0 here).
        let mut vips = Vec::new();
        let mut vip_ifindex = Vec::new();
        let mut advertised = Vec::new();
        for (excluded, list) in [
            (false, &inst.virtual_ipaddress),
            (true, &inst.virtual_ipaddress_excluded),
        ] {
            for a in list {
                if let (None, Some(vmac)) = (&a.dev, &vmac_name) {
                    if let Some(v) = self.vip(&context, a, vmac) {
                        if !excluded {
                            advertised.push(v.addr);
                        }
                        vips.push(v);
                        vip_ifindex.push(0);
                    }
                    continue;
                }
                let dev = a.dev.clone().unwrap_or_else(|| ifname.clone());
                let Some(index) = self.interface(&dev).map(|i| i.index) else {
                    self.errors.push(Error::NoSuchInterface {
                        context: format!("{context} virtual_ipaddress {}", a.prefix),
                        name: dev,
                    });
                    continue;
                };
                if let Some(v) = self.vip(&context, a, &dev) {
                    if !excluded {
                        advertised.push(v.addr);
                    }
                    vips.push(v);
                    vip_ifindex.push(index);
                }
            }
        }
        let Some(first) = advertised.first().copied() else {
            self.errors.push(Error::Missing {
                context,
                what: "virtual_ipaddress",
            });
            return None;
        };
        let ipv6 = first.is_ipv6();
        let primary = match inst.src_ip.as_ref().map(|s| s.value) {
            Some(src) => src,
            None if ipv6 => match host_if.ipv6_link_local {
                Some(a) => IpAddr::V6(a),
                None => {
                    self.errors.push(Error::NoSourceAddress {
                        context,
                        ifname,
                        family: "link-local IPv6",
                    });
                    return None;
                }
            },
            None => match host_if.ipv4 {
                Some(a) => IpAddr::V4(a),
                None => {
                    self.errors.push(Error::NoSourceAddress {
                        context,
                        ifname,
                        family: "IPv4",
                    });
                    return None;
                }
            },
        };
        let interval = inst
            .advert_int
            .as_ref()
            .map_or(Duration::from_secs(1), |t| t.value.as_duration());
        let interval_cs = interval.as_millis() / 10;
        let Ok(advert_interval_cs) = u16::try_from(interval_cs) else {
            self.errors.push(Error::Invalid {
                context,
                message: format!("advert_int {interval:?} is too long"),
            });
            return None;
        };
        let mut fsm = vrrp_fsm::Config::new(
            vrid,
            version,
            InterfaceId(host_if.index),
            primary,
            advertised,
        );
        fsm.priority = inst.effective_priority();
        fsm.advert_interval_cs = advert_interval_cs;
        fsm.initial_state = match inst.state {
            Some(model::InitialState::Master) => InitialState::Master,
            _ => InitialState::Backup,
        };
        fsm.preempt = inst.nopreempt != Some(true);
        fsm.preempt_delay = inst
            .preempt_delay
            .as_ref()
            .map_or(Duration::ZERO, |t| t.value.as_duration());
        fsm.lower_prio_send_advert = !(g.vrrp_strict
            || inst
                .lower_prio_no_advert
                .or(g.vrrp_lower_prio_no_advert)
                .unwrap_or(false));
        fsm.higher_prio_send_advert = inst
            .higher_prio_send_advert
            .or(g.vrrp_higher_prio_send_advert)
            .unwrap_or(false);
        fsm.garp = garp_config(g, inst);
        let mut trackers = Vec::new();
        self.trackers(
            &context,
            &inst.track_interface,
            &inst.track_script,
            &inst.track_file,
            &mut trackers,
        );
        fsm.trackers = trackers.iter().map(fsm_tracker).collect();

        let unicast = !inst.unicast_peer.is_empty();
        let destinations: Arc<[IpAddr]> = if unicast {
            inst.unicast_peer.iter().map(|p| p.addr).collect()
        } else {
            let group = match (ipv6, inst.mcast_dst_ip) {
                (_, Some(dst)) => dst,
                (false, None) => g
                    .vrrp_mcast_group4
                    .map_or_else(|| default_group(false), IpAddr::V4),
                (true, None) => g
                    .vrrp_mcast_group6
                    .map_or_else(|| default_group(true), IpAddr::V6),
            };
            Arc::from([group])
        };
        if let Some(bad) = destinations.iter().find(|d| d.is_ipv6() != ipv6) {
            self.errors.push(Error::Invalid {
                context: context.clone(),
                message: format!("peer or group {bad} is not of the family of {first}"),
            });
        }
        if unicast && inst.unicast_ttl.is_some_and(|t| t != 255) {
            self.unsupported(&context, "unicast_ttl other than 255");
        }
        let auth = match (&inst.authentication, version) {
            (Some(a), Version::V2) if a.auth_type == Some(model::AuthType::Pass) => {
                Some(auth_data(a.auth_pass.as_deref().unwrap_or("")))
            }
            _ => None,
        };
        let legacy = inst.old_unicast_checksum == Some(false);
        let wire = WireOptions {
            auth,
            checksum: if legacy {
                ChecksumMode::LegacyMulticastDestination
            } else {
                ChecksumMode::PseudoHeader
            },
        };
        let accept_checksums = if inst.old_unicast_checksum == Some(true) {
            ChecksumModes::RFC
        } else {
            ChecksumModes::RFC.with(ChecksumMode::LegacyMulticastDestination)
        };
        let mut routes = Vec::new();
        for r in &inst.virtual_routes {
            if let Some(route) = self.route(&context, r) {
                routes.push(route);
            }
        }
        let mut rules = Vec::new();
        for r in &inst.virtual_rules {
            if let Some(rule) = self.rule(&context, r, ipv6) {
                rules.push(rule);
            }
        }
        let notify = self.notify(&context, &inst.notify);
        let vmac = match vmac_name {
            Some(_) if ipv6 => {
                self.unsupported(&context, "use_vmac with IPv6");
                None
            }
            Some(name) => {
                let vmac = vip::Vmac::new(name, ifname.clone(), vrid, vip::Family::of(&first));
                if let Err(source) = vmac.validate() {
                    self.errors.push(Error::Vip {
                        context: format!("{context} use_vmac"),
                        source,
                    });
                }
                self.check_vmac_name(&context, &vmac);
                Some(vmac)
            }
            None => None,
        };
        if let Err(source) = fsm.validate() {
            self.errors.push(Error::Fsm {
                context: context.clone(),
                source,
            });
        }
        if self.errors.len() > errors_before {
            return None;
        }
        Some(InstanceSetup {
            name: inst.name.clone(),
            ifname,
            fsm,
            wire,
            accept_checksums,
            destinations,
            unicast,
            check_unicast_src: unicast && (inst.check_unicast_src || g.vrrp_check_unicast_src),
            vips: vips.into(),
            vip_ifindex: vip_ifindex.into(),
            routes: routes.into(),
            rules: rules.into(),
            trackers,
            notify,
            vmac,
            vmac_xmit_base: inst.vmac_xmit_base,
        })
    }

    fn groups(&mut self, instances: &mut [InstanceSetup]) -> Vec<GroupSetup> {
        let mut groups = Vec::new();
        let mut grouped = vec![false; instances.len()];
        for sg in &self.config.sync_groups {
            let context = format!("vrrp_sync_group {}", sg.name);
            if !sg.track_process.is_empty() || !sg.track_bfd.is_empty() {
                self.unsupported(&context, "track_process/track_bfd");
            }
            let mut members = Vec::new();
            for t in &sg.group {
                match instances.iter().position(|i| i.name == t.name) {
                    Some(i) if grouped[i] => self.errors.push(Error::Invalid {
                        context: context.clone(),
                        message: format!("vrrp_instance {} is in two sync groups", t.name),
                    }),
                    Some(i) => {
                        grouped[i] = true;
                        members.push(i);
                    }
                    None => {
                        // Unknown names, or an instance that failed to map (already reported).
                        if !self.config.vrrp_instances.iter().any(|v| v.name == t.name) {
                            self.errors.push(Error::Undefined {
                                context: context.clone(),
                                kind: "vrrp_instance",
                                name: t.name.clone(),
                            });
                        }
                    }
                }
            }
            // The group's trackers apply to every member.
            let mut links = Vec::new();
            self.trackers(
                &context,
                &sg.track_interface,
                &sg.track_script,
                &sg.track_file,
                &mut links,
            );
            for &m in &members {
                let inst = &mut instances[m];
                let mut all = inst.trackers.clone();
                for link in &links {
                    push_link(
                        &mut all,
                        link.source,
                        model::Weight {
                            value: link.weight,
                            reverse: link.reverse,
                        },
                    );
                }
                // keepalived ignores tracker weights in a sync group unless told otherwise.
                if !sg.sync_group_tracking_weight {
                    for link in &mut all {
                        link.weight = 0;
                    }
                }
                inst.trackers = all;
                inst.fsm.trackers = inst.trackers.iter().map(fsm_tracker).collect();
                if let Err(source) = inst.fsm.validate() {
                    self.errors.push(Error::Fsm {
                        context: format!("vrrp_instance {}", inst.name),
                        source,
                    });
                }
            }
            let notify = self.notify(&context, &sg.notify);
            if !members.is_empty() {
                groups.push(GroupSetup {
                    name: Some(sg.name.clone()),
                    members,
                    notify,
                });
            }
        }
        for (i, done) in grouped.iter().enumerate() {
            if !done {
                groups.push(GroupSetup {
                    name: None,
                    members: vec![i],
                    notify: Notify::default(),
                });
            }
        }
        groups
    }
}

/// Adds a tracker of `source` with `weight`, numbered after the ones already there.
fn push_link(links: &mut Vec<TrackerLink>, source: TrackSource, weight: model::Weight) {
    let id = TrackerId(links.len() as u32);
    links.push(TrackerLink {
        id,
        source,
        reverse: weight.reverse,
        weight: weight.value,
    });
}

/// The state machine's view of a tracker. Scripts and interfaces have a fixed weight (negated
/// with `reverse`, whose result is inverted); a file's weight depends on the value it holds, so
/// it starts at 0 with an OK result (no effect) until the first value is read.
pub(crate) fn fsm_tracker(link: &TrackerLink) -> Tracker {
    let weight = match link.source {
        TrackSource::File(_) => 0,
        _ => {
            let w = link.weight.clamp(-254, 254) as i16;
            if link.reverse { -w } else { w }
        }
    };
    Tracker {
        id: link.id,
        weight,
    }
}

/// keepalived's GARP timings for an instance: its own, else the global ones, else the defaults;
/// the lower-priority ones default to the master ones.
fn garp_config(g: &model::GlobalDefs, inst: &model::VrrpInstance) -> GarpConfig {
    let secs = |s: u32| (s > 0).then(|| Duration::from_secs(u64::from(s)));
    let master_delay = inst
        .garp_master_delay
        .or(g.vrrp_garp_master_delay)
        .unwrap_or(DEFAULT_GARP_DELAY_S);
    let master_repeat = inst
        .garp_master_repeat
        .or(g.vrrp_garp_master_repeat)
        .unwrap_or(DEFAULT_GARP_REPEAT);
    GarpConfig {
        master_repeat,
        master_delay: secs(master_delay),
        master_refresh: secs(
            inst.garp_master_refresh
                .or(g.vrrp_garp_master_refresh)
                .unwrap_or(0),
        ),
        master_refresh_repeat: inst
            .garp_master_refresh_repeat
            .or(g.vrrp_garp_master_refresh_repeat)
            .unwrap_or(1),
        lower_prio_repeat: inst
            .garp_lower_prio_repeat
            .or(g.vrrp_garp_lower_prio_repeat)
            .unwrap_or(master_repeat),
        lower_prio_delay: secs(
            inst.garp_lower_prio_delay
                .or(g.vrrp_garp_lower_prio_delay)
                .unwrap_or(master_delay),
        ),
    }
}
