//! Manual failover: heartbeat's `hb_standby` and `hb_takeover` for a running director.
//!
//! `lvskitd standby` makes this director give up MASTER for every VRRP instance and stay out
//! of the way until `lvskitd takeover`, without touching keepalived.conf. The command and the
//! daemon meet at one file, `STATE_DIR/standby` ([`standby_path`]; `STATE_DIR` is
//! [`DEFAULT_STATE_DIR`] unless `--state-dir` says otherwise): [`standby`] writes `1` there,
//! [`takeover`] removes it. The daemon tracks that file as an ordinary keepalived
//! `track_file` that [`track`] adds to every instance before the configuration is mapped, so
//! the director core needs nothing new: the file is read every second (the driver's
//! `track_file_poll`) and its value moves the instance the way keepalived.conf(5) says a track
//! file does.
//!
//! What standby does to an instance ([`effect`]):
//!
//! | instance | standby | while in standby |
//! | --- | --- | --- |
//! | priority below 255, `preempt` (the default), not in a sync group | the priority drops to 1 (weight -253): the peer preempts after its Master_Down_Interval, this director goes BACKUP on the peer's first advert | BACKUP: it takes the VIP again only if no other router advertises (the peer dies) |
//! | `nopreempt` | FAULT (weight 0): a priority-0 advert, the VIPs go at once and the peer takes over after its skew time | FAULT: it never takes the VIP, even if the peer dies |
//! | priority 255 (address owner) | FAULT, as above: an owner ignores tracker weights and cannot be a backup | FAULT |
//! | member of a `vrrp_sync_group` without `sync_group_tracking_weight` | FAULT for the whole group (keepalived zeroes tracker weights in sync groups) | FAULT |
//!
//! A priority drop is not enough under `nopreempt`: a non-preempting peer keeps following a
//! master of priority 1, so the VIP would not move. The drop relies on the peer preempting, so
//! the peers' `preempt` settings should match, as they usually do.
//!
//! `takeover` ends standby: the file reads 0, the priority comes back (or FAULT clears into
//! BACKUP), and the instance behaves as configured: with `preempt` and the higher priority it
//! takes mastership back after its Master_Down_Interval; with `nopreempt` it stays BACKUP
//! until the peer fails or is itself put in standby (heartbeat's `auto_failback off` has the
//! same meaning).
//!
//! A restart clears standby, as heartbeat's does: the tracked file has `init_file 0
//! overwrite`, so a starting director writes 0 into it before reading it.

use std::io;
use std::path::{Path, PathBuf};

use keepalived_conf::model::{Config, Track, TrackFile, Weight};

/// Where `lvskitd` keeps its state when `--state-dir` does not say.
pub const DEFAULT_STATE_DIR: &str = "/run/lvskit";

/// The name of the `track_file` [`track`] adds; a configuration may not define it itself.
pub const TRACK_NAME: &str = "lvskit_manual_standby";

/// The weight of the standby file for an instance that drops to priority 1: value 1 × -253
/// lowers any priority below 255 to 1 (a product below -253 would mean FAULT).
pub const BACKUP_WEIGHT: i32 = -253;

/// The standby file in `state_dir`.
pub fn standby_path(state_dir: &Path) -> PathBuf {
    state_dir.join("standby")
}

/// Puts the director that uses `state_dir` in standby: writes `1` into [`standby_path`]
/// (through a temporary file and a rename, so the director never reads half a file),
/// creating `state_dir` if needed. Returns whether it was already in standby.
pub fn standby(state_dir: &Path) -> io::Result<bool> {
    let was = is_standby(state_dir)?;
    std::fs::create_dir_all(state_dir)?;
    let path = standby_path(state_dir);
    let tmp = state_dir.join(".standby.tmp");
    std::fs::write(&tmp, "1\n")?;
    std::fs::rename(&tmp, &path)?;
    Ok(was)
}

/// Ends standby: removes [`standby_path`]. Returns whether the director was in standby.
pub fn takeover(state_dir: &Path) -> io::Result<bool> {
    let was = is_standby(state_dir)?;
    match std::fs::remove_file(standby_path(state_dir)) {
        Ok(()) => Ok(was),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(was),
        Err(e) => Err(e),
    }
}

/// Whether the standby file asks for standby: it holds a non-zero number, as the director
/// reads it (a missing file, or text that is no number, is 0).
pub fn is_standby(state_dir: &Path) -> io::Result<bool> {
    match std::fs::read_to_string(standby_path(state_dir)) {
        Ok(text) => Ok(text.trim().parse::<i64>().unwrap_or(0) != 0),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// What standby does to one instance (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The priority drops to 1; the instance stays BACKUP behind a preempting peer.
    Backup,
    /// The instance goes to FAULT and releases its addresses at once.
    Fault,
}

/// What standby does to instance number `instance` of `config` (an index in
/// `config.vrrp_instances`).
///
/// # Panics
/// If `instance` is out of range.
pub fn effect(config: &Config, instance: usize) -> Effect {
    let inst = &config.vrrp_instances[instance];
    let owner = inst.priority.as_ref().is_some_and(|p| p.value == 255);
    let nopreempt = inst.nopreempt == Some(true);
    let weightless_group = config
        .sync_groups
        .iter()
        .any(|g| !g.sync_group_tracking_weight && g.group.iter().any(|m| m.name == inst.name));
    if owner || nopreempt || weightless_group {
        Effect::Fault
    } else {
        Effect::Backup
    }
}

/// Why [`track`] refused a configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration already has a `track_file` of that name.
    #[error("track_file {TRACK_NAME} is reserved for lvskitd standby/takeover")]
    Reserved,
}

/// Makes every VRRP instance of `config` track the standby file of `state_dir`, with the
/// weight [`effect`] chooses, and adds the `track_file` block (with `init_file 0 overwrite`,
/// so a restart clears standby). A configuration without VRRP instances is left as it is.
pub fn track(config: &mut Config, state_dir: &Path) -> Result<(), Error> {
    if config.track_files.iter().any(|f| f.name == TRACK_NAME) {
        return Err(Error::Reserved);
    }
    if config.vrrp_instances.is_empty() {
        return Ok(());
    }
    config.track_files.push(TrackFile {
        name: TRACK_NAME.to_string(),
        file: Some(standby_path(state_dir).to_string_lossy().into_owned()),
        weight: None,
        init_file: Some((Some(0), true)),
        ..TrackFile::default()
    });
    for i in 0..config.vrrp_instances.len() {
        let value = match effect(config, i) {
            Effect::Backup => BACKUP_WEIGHT,
            Effect::Fault => 0,
        };
        let mut entry = Track::new(TRACK_NAME);
        entry.weight = Some(Weight {
            value,
            reverse: false,
        });
        config.vrrp_instances[i].track_file.push(entry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        let parsed = keepalived_conf::parse_str("k.conf", text, &Default::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        parsed.config
    }

    const CONF: &str = "
vrrp_instance PLAIN { interface eth0\n virtual_router_id 1\n priority 150\n virtual_ipaddress { 192.0.2.10 } }
vrrp_instance NOPRE { interface eth0\n virtual_router_id 2\n nopreempt\n virtual_ipaddress { 192.0.2.11 } }
vrrp_instance OWNER { interface eth0\n virtual_router_id 3\n priority 255\n virtual_ipaddress { 192.0.2.12 } }
vrrp_instance GROUPED { interface eth0\n virtual_router_id 4\n virtual_ipaddress { 192.0.2.13 } }
vrrp_instance WEIGHTED { interface eth0\n virtual_router_id 5\n virtual_ipaddress { 192.0.2.14 } }
vrrp_sync_group G1 { group { GROUPED } }
vrrp_sync_group G2 { group { WEIGHTED }\n sync_group_tracking_weight }
";

    #[test]
    fn effect_follows_preempt_ownership_and_sync_groups() {
        let config = parse(CONF);
        let effects: Vec<_> = (0..config.vrrp_instances.len())
            .map(|i| (config.vrrp_instances[i].name.clone(), effect(&config, i)))
            .collect();
        assert_eq!(
            effects,
            [
                ("PLAIN".to_string(), Effect::Backup),
                ("NOPRE".to_string(), Effect::Fault),
                ("OWNER".to_string(), Effect::Fault),
                ("GROUPED".to_string(), Effect::Fault),
                ("WEIGHTED".to_string(), Effect::Backup),
            ]
        );
    }

    #[test]
    fn track_adds_one_file_and_one_entry_per_instance() {
        let mut config = parse(CONF);
        let before = config.vrrp_instances[0].track_file.len();
        track(&mut config, Path::new("/run/x")).unwrap();
        let file = config
            .track_files
            .iter()
            .find(|f| f.name == TRACK_NAME)
            .unwrap();
        assert_eq!(file.file.as_deref(), Some("/run/x/standby"));
        assert_eq!(file.init_file, Some((Some(0), true)));
        let weights: Vec<i32> = config
            .vrrp_instances
            .iter()
            .map(|v| {
                let t = v.track_file.last().unwrap();
                assert_eq!(t.name, TRACK_NAME);
                t.weight.unwrap().value
            })
            .collect();
        assert_eq!(weights, [BACKUP_WEIGHT, 0, 0, 0, BACKUP_WEIGHT]);
        assert_eq!(config.vrrp_instances[0].track_file.len(), before + 1);
        // The result maps: the director runs it.
        let host = [crate::setup::HostInterface {
            index: 2,
            name: "eth0".into(),
            up: true,
            ipv4: Some("192.0.2.1".parse().unwrap()),
            ipv6_link_local: None,
            macvlan: None,
        }];
        let setup = crate::setup::map(&config, &host).unwrap();
        assert_eq!(setup.track_files.len(), 1);
        assert_eq!(setup.track_files[0].init, Some((0, true)));
    }

    #[test]
    fn a_reserved_name_is_refused_and_no_instances_add_nothing() {
        let mut config = parse(&format!(
            "track_file {TRACK_NAME} {{ file /tmp/x }}\n{CONF}"
        ));
        assert!(matches!(
            track(&mut config, Path::new("/run/x")),
            Err(Error::Reserved)
        ));
        let mut empty = Config::default();
        track(&mut empty, Path::new("/run/x")).unwrap();
        assert_eq!(empty, Config::default());
    }

    #[test]
    fn standby_and_takeover_write_and_remove_the_file() {
        let dir = std::env::temp_dir().join(format!("lvskit-manual-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!is_standby(&dir).unwrap());
        assert!(!standby(&dir).unwrap());
        assert_eq!(std::fs::read_to_string(standby_path(&dir)).unwrap(), "1\n");
        assert!(is_standby(&dir).unwrap());
        assert!(standby(&dir).unwrap(), "already in standby");
        assert!(takeover(&dir).unwrap());
        assert!(!standby_path(&dir).exists());
        assert!(!takeover(&dir).unwrap());
        // What a restarted director writes reads as no standby.
        std::fs::write(standby_path(&dir), "0\n").unwrap();
        assert!(!is_standby(&dir).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
