//! The VRRP half shared by the heartbeat and piranha imports: one `vrrp_instance` written for
//! every director, with the lines that differ marked `@ID`.

use std::net::IpAddr;

use keepalived_conf::Spanned;
use keepalived_conf::model::{
    Authentication, Config, InitialState, IpAddress, Script, Timer, Track, UnicastPeer,
    VrrpInstance, VrrpScript, Weight,
};

use crate::Options;
use crate::output::Output;

/// The priority of the preferred director; the others get 100, 99, ...
pub(crate) const MASTER_PRIORITY: u8 = 150;
/// The priority of the first backup.
pub(crate) const BACKUP_PRIORITY: u8 = 100;

/// One director of the cluster.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Its config id (`@ID` lines, `lvskitd -i ID`).
    pub(crate) id: String,
    /// Its source address for unicast adverts, when known.
    pub(crate) src_ip: Option<IpAddr>,
    /// The addresses it sends unicast adverts to.
    pub(crate) peers: Vec<IpAddr>,
}

/// A VRRP instance as the old cluster described it.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub(crate) name: String,
    pub(crate) interface: String,
    pub(crate) vrid: u8,
    pub(crate) advert: Timer,
    pub(crate) version: Option<u8>,
    pub(crate) vips: Vec<IpAddress>,
    pub(crate) auth: Option<Authentication>,
    /// Take mastership back when the preferred director returns.
    pub(crate) preempt: bool,
    /// The preferred director first.
    pub(crate) nodes: Vec<Node>,
    pub(crate) scripts: Vec<VrrpScript>,
    /// Write the `vrrp_script` blocks (the first of several instances that share them).
    pub(crate) define_scripts: bool,
    pub(crate) track_interface: Vec<String>,
    pub(crate) dont_track_primary: bool,
    pub(crate) notify_master: Option<String>,
    pub(crate) notify_backup: Option<String>,
}

impl Cluster {
    /// The priority of the node at `index` (the preferred one first).
    pub(crate) fn priority(index: usize) -> u8 {
        if index == 0 {
            MASTER_PRIORITY
        } else {
            BACKUP_PRIORITY.saturating_sub(index as u8 - 1).max(1)
        }
    }

    /// The weight a lost gateway takes off: enough to put the preferred director below every
    /// backup, not so much that a backup that lost it too would win.
    pub(crate) fn tracker_weight(nodes: usize) -> i32 {
        let lowest = Self::priority(nodes.saturating_sub(1).max(1));
        -(i32::from(MASTER_PRIORITY) - i32::from(lowest) + 1)
    }

    /// The instance as one node sees it.
    fn instance(&self, index: usize) -> VrrpInstance {
        let node = &self.nodes[index];
        let mut vi = VrrpInstance {
            name: self.name.clone(),
            ..VrrpInstance::default()
        };
        vi.state = Some(if self.preempt && index == 0 {
            InitialState::Master
        } else {
            InitialState::Backup
        });
        vi.interface = Some(Spanned::new(self.interface.clone()));
        vi.virtual_router_id = Some(Spanned::new(self.vrid));
        vi.priority = Some(Spanned::new(Self::priority(index)));
        vi.advert_int = Some(Spanned::new(self.advert));
        vi.version = self.version.map(Spanned::new);
        vi.authentication = self.auth.clone();
        vi.virtual_ipaddress = self.vips.clone();
        vi.nopreempt = Some(!self.preempt);
        vi.src_ip = node.src_ip.map(Spanned::new);
        vi.unicast_peer = node
            .peers
            .iter()
            .map(|&addr| UnicastPeer {
                addr,
                min_ttl: None,
                max_ttl: None,
                origin: Default::default(),
            })
            .collect();
        vi.track_script = self.scripts.iter().map(|s| Track::new(&s.name)).collect();
        vi.track_interface = self.track_interface.iter().map(Track::new).collect();
        vi.dont_track_primary = self.dont_track_primary;
        let script = |c: &Option<String>| {
            c.as_ref().map(|command| Script {
                command: command.clone(),
                user: None,
                group: None,
            })
        };
        vi.notify.master = script(&self.notify_master);
        vi.notify.backup = script(&self.notify_backup);
        vi
    }

    /// Writes the scripts and the instance, one variant per node.
    pub(crate) fn write(&self, notes: Vec<String>, out: &mut Output) {
        if self.define_scripts && !self.scripts.is_empty() {
            let config = Config {
                vrrp_scripts: self.scripts.clone(),
                ..Config::default()
            };
            out.config(Vec::new(), &config);
        }
        let variants: Vec<(String, Config)> = (0..self.nodes.len())
            .map(|i| {
                let config = Config {
                    vrrp_instances: vec![self.instance(i)],
                    ..Config::default()
                };
                (self.nodes[i].id.clone(), config)
            })
            .collect();
        if variants.len() == 1 {
            out.config(notes, &variants[0].1);
        } else {
            out.per_node(notes, &variants);
        }
    }
}

/// The advert interval that makes a backup take over no later than the old cluster did, and
/// the VRRP version it needs, with a sentence saying why.
///
/// A backup declares the master dead after 3 adverts plus a skew below one advert, so
/// `advert_int <= deadtime / 4` keeps the takeover within `deadtime`; it is also no longer than
/// the old heartbeat interval. Intervals under a second need VRRPv3 (centiseconds).
pub(crate) fn advert_int(keepalive: Timer, deadtime: Timer) -> (Timer, Option<u8>, String) {
    let quarter = deadtime.as_micros() / 4;
    let wanted = keepalive.as_micros().min(quarter).max(10_000);
    let (advert, version) = if wanted >= 1_000_000 {
        (Timer(wanted / 1_000_000 * 1_000_000), None)
    } else {
        (Timer(wanted / 10_000 * 10_000), Some(3))
    };
    let why = format!(
        "advert_int {advert}: a backup takes over within 4 x {advert} s = {} s (3 adverts and the skew), no later than deadtime {deadtime} s",
        Timer(advert.as_micros() * 4)
    );
    (advert, version, why)
}

/// A `vrrp_script` that runs `check ping` against a gateway (or a group, healthy when any one
/// answers), lowering the priority by `weight` while it fails.
pub(crate) fn ping_script(
    name: String,
    addrs: &[IpAddr],
    options: &Options,
    interval: Timer,
    fall: u32,
    weight: i32,
) -> VrrpScript {
    let secs = interval.as_micros().div_ceil(1_000_000).max(1);
    let mut command = format!("{} ping --connect-timeout {secs}", options.check_program);
    for a in addrs {
        command.push(' ');
        command.push_str(&a.to_string());
    }
    VrrpScript {
        name,
        script: Some(Script {
            command,
            user: None,
            group: None,
        }),
        interval: Some(Timer::from_secs(secs)),
        timeout: Some(Timer::from_secs(secs + 1)),
        weight: Some(Weight {
            value: weight,
            reverse: false,
        }),
        rise: Some(1),
        fall: Some(fall.max(1)),
        user: None,
        init_fail: false,
        origin: Default::default(),
    }
}

/// A VRID from the first VIP's last byte: stable across runs, and different for VIPs that
/// differ in their last byte; the comment tells the operator to keep it unique on the segment.
pub(crate) fn vrid_for(vips: &[IpAddress]) -> u8 {
    let last = match vips.first().map(|v| v.prefix.addr) {
        Some(IpAddr::V4(a)) => a.octets()[3],
        Some(IpAddr::V6(a)) => a.octets()[15],
        None => 51,
    };
    last.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advert_is_no_slower_than_deadtime() {
        let (a, v, _) = advert_int(Timer::from_secs(2), Timer::from_secs(30));
        assert_eq!((a, v), (Timer::from_secs(2), None));
        let (a, v, _) = advert_int(Timer::from_secs(6), Timer::from_secs(18));
        assert_eq!((a, v), (Timer::from_secs(4), None));
        let (a, v, _) = advert_int(Timer::from_secs(1), Timer::from_secs(2));
        assert_eq!((a, v), (Timer(500_000), Some(3)));
        for (k, d) in [(2, 30), (6, 18), (1, 2), (1, 1), (10, 5)] {
            let (a, _, _) = advert_int(Timer::from_secs(k), Timer::from_secs(d));
            assert!(a.as_micros() * 4 <= d * 1_000_000, "{k} {d}");
        }
    }

    #[test]
    fn tracker_weight_moves_mastership() {
        for nodes in 2..6 {
            let w = Cluster::tracker_weight(nodes);
            let master = i32::from(Cluster::priority(0)) + w;
            for i in 1..nodes {
                let backup = i32::from(Cluster::priority(i));
                assert!(
                    master < backup,
                    "{nodes} nodes: master {master} backup {backup}"
                );
                // When every director lost the gateway, the preferred one stays master.
                assert!(backup + w < master);
            }
        }
    }
}
