//! Checks of a configuration against the system it is to run on: the interfaces it names and the
//! scripts it runs. `keepalived -t` makes these checks too, so `lvskitd -t` runs them after the
//! parse; the parser itself never looks at the system.
//!
//! The rules are keepalived 2.2.7's, as observed with its `-t`:
//!
//! - A `vrrp_instance` interface (its own, else `default_interface`), a `track_interface` entry
//!   or a virtual address's `dev` that does not exist is a configuration message.
//! - A script is looked up as keepalived runs it: a bare name in `PATH`, a path through its
//!   links. One that is missing is silently not run, except a `vrrp_script`'s, which keepalived
//!   reports as disabled. A command starting `</` only tests that a file opens and is not a
//!   script.
//! - A script that runs as root (user or group root, or a set-uid/set-gid root file) must not be
//!   changeable by anyone else: every directory of its path and the file itself owned by root,
//!   and not writable by a non-root group or by all (a directory with the sticky bit may be).
//! - Any script that exists, without `enable_script_security`, is a script-security message
//!   (exit 6), with "There are insecure scripts" when one of them is changeable. With
//!   `enable_script_security` keepalived instead disables insecure scripts (a message only for a
//!   `vrrp_script`) and needs a user to run them as: `script_user`, or the `keepalived_script`
//!   user, which must exist.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, DiagnosticKind as K, Diagnostics};
use crate::model::{CheckerKind, Config, Script};
use crate::source::{Origin, SourceMap};

/// The VRRP side's scripts, as keepalived names them in its security message.
const VRRP_SCRIPTS: &str = "scripts";

/// keepalived's default user for scripts when `script_user` is not given.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Where the system keeps what the checks read; tests point it at a scratch directory.
#[derive(Debug, Clone)]
pub struct SystemPaths {
    /// The directory listing the network interfaces (`/sys/class/net`).
    pub interfaces: PathBuf,
    /// The user database (`/etc/passwd`).
    pub passwd: PathBuf,
    /// The group database (`/etc/group`).
    pub group: PathBuf,
    /// The search path for scripts given by bare name (keepalived uses its own `PATH`).
    pub path: String,
}

impl Default for SystemPaths {
    fn default() -> Self {
        Self {
            interfaces: PathBuf::from("/sys/class/net"),
            passwd: PathBuf::from("/etc/passwd"),
            group: PathBuf::from("/etc/group"),
            path: std::env::var("PATH").unwrap_or_else(|_| {
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
            }),
        }
    }
}

/// Checks `config` against this system (see the module docs for the rules); positions are
/// resolved against `sources`. The diagnostics are of kinds [`K::Interface`], [`K::Script`]
/// and [`K::ScriptSecurity`].
pub fn check_system(config: &Config, sources: &SourceMap, paths: &SystemPaths) -> Vec<Diagnostic> {
    let mut diags = Diagnostics::new(false);
    let mut sys = System {
        sources,
        diags: &mut diags,
        paths,
        users: read_ids(&paths.passwd),
        groups: read_ids(&paths.group),
    };
    let missing = sys.interfaces(config);
    sys.scripts(config, missing);
    diags.finish()
}

/// Name to (id, group id) from a passwd-style file; group files give (gid, gid).
fn read_ids(path: &Path) -> HashMap<String, (u32, u32)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse().ok()?;
            let gid = fields.next().and_then(|g| g.parse().ok()).unwrap_or(id);
            Some((name.to_string(), (id, gid)))
        })
        .collect()
}

struct System<'a> {
    sources: &'a SourceMap,
    diags: &'a mut Diagnostics,
    paths: &'a SystemPaths,
    users: HashMap<String, (u32, u32)>,
    groups: HashMap<String, (u32, u32)>,
}

/// What keepalived found out about one script.
#[derive(Debug, Default, Clone, Copy)]
struct Verdict {
    /// It exists and would be run.
    found: bool,
    /// It runs as root and someone else could change it.
    insecure: bool,
}

/// A script, who owns it in the configuration, and where that was written.
struct Use {
    script: Script,
    owner: String,
    origin: Origin,
    /// A `vrrp_script`: keepalived reports it when disabled.
    tracked: bool,
}

impl Use {
    fn new(script: &Script, owner: String, origin: Origin) -> Self {
        Self {
            script: script.clone(),
            owner,
            origin,
            tracked: false,
        }
    }

    /// The script run as the user of a `user USER [GROUP]` keyword next to it, when given.
    fn run_by(mut self, user: &Option<(String, Option<String>)>) -> Self {
        if let Some((u, g)) = user {
            self.script.user = Some(u.clone());
            self.script.group.clone_from(g);
        }
        self
    }
}

/// Every script keepalived checks, in its order: the VRRP process's when there is an
/// instance, the checker process's when there is a virtual server.
fn uses(config: &Config) -> [(&'static str, Vec<Use>); 3] {
    let g = &config.global_defs;
    // keepalived's main process checks these two before anything else; lvskit keeps them
    // verbatim (it runs no start-up or shutdown script), so they are read from `extra`.
    let start_stop = g
        .extra
        .iter()
        .filter(|d| matches!(d.keyword.as_str(), "startup_script" | "shutdown_script"))
        .filter_map(|d| {
            let script = Script {
                command: d.args.first()?.clone(),
                user: d.args.get(1).cloned(),
                group: d.args.get(2).cloned(),
            };
            Some(Use::new(&script, "global_defs".into(), Origin::NONE))
        })
        .collect();
    let mut vrrp = Vec::new();
    let mut checker = Vec::new();
    if !config.vrrp_instances.is_empty() {
        for s in &config.vrrp_scripts {
            if let Some(script) = &s.script {
                let mut u = Use::new(script, format!("vrrp_script `{}`", s.name), s.origin);
                u.tracked = true;
                vrrp.push(u.run_by(&s.user));
            }
        }
        for v in &config.vrrp_instances {
            for s in v.notify.scripts() {
                vrrp.push(Use::new(s, format!("vrrp_instance `{}`", v.name), v.origin));
            }
        }
        for sg in &config.sync_groups {
            for s in sg.notify.scripts() {
                vrrp.push(Use::new(
                    s,
                    format!("vrrp_sync_group `{}`", sg.name),
                    sg.origin,
                ));
            }
        }
        for s in [&g.notify_fifo_script, &g.vrrp_notify_fifo_script]
            .into_iter()
            .flatten()
        {
            vrrp.push(Use::new(s, "global_defs".into(), Origin::NONE));
        }
    }
    if !config.virtual_servers.is_empty() {
        for vs in &config.virtual_servers {
            for rs in &vs.real_servers {
                for c in &rs.checkers {
                    if let CheckerKind::Misc {
                        path: Some(path), ..
                    } = &c.kind
                    {
                        checker.push(
                            Use::new(path, "MISC_CHECK".into(), c.origin)
                                .run_by(&c.user.as_deref().cloned()),
                        );
                    }
                }
            }
        }
        for vs in &config.virtual_servers {
            for s in [&vs.quorum_up, &vs.quorum_down].into_iter().flatten() {
                checker.push(Use::new(s, "virtual_server".into(), vs.origin));
            }
            for rs in &vs.real_servers {
                for s in [rs.notify_up.as_deref(), rs.notify_down.as_deref()]
                    .into_iter()
                    .flatten()
                {
                    checker.push(Use::new(s, "real_server".into(), rs.origin));
                }
            }
        }
        for s in [&g.notify_fifo_script, &g.lvs_notify_fifo_script]
            .into_iter()
            .flatten()
        {
            checker.push(Use::new(s, "global_defs".into(), Origin::NONE));
        }
    }
    [
        ("start/shutdown scripts", start_stop),
        (VRRP_SCRIPTS, vrrp),
        ("check scripts", checker),
    ]
}

impl System<'_> {
    fn interface_exists(&self, name: &str) -> bool {
        !name.is_empty()
            && !name.contains('/')
            && name != "."
            && name != ".."
            && self.paths.interfaces.join(name).exists()
    }

    fn missing_interface(&mut self, origin: Origin, message: String) {
        self.diags.warn(self.sources, K::Interface, origin, message);
    }

    /// Returns whether an interface is missing.
    fn interfaces(&mut self, config: &Config) -> bool {
        let before = self.diags.list.len();
        // keepalived cannot run at all without these (its "fatal" class).
        let fatal = config
            .linkbeat_interfaces
            .iter()
            .map(|l| (l.interface.as_str(), "linkbeat_interfaces"))
            .chain(
                config
                    .interface_up_down_delays
                    .iter()
                    .map(|d| (d.interface.as_str(), "interface_up_down_delays")),
            );
        for (name, block) in fatal {
            if !self.interface_exists(name) {
                self.diags.error(
                    self.sources,
                    K::Fatal,
                    Origin::NONE,
                    format!("interface {name} of {block} does not exist on this system"),
                );
            }
        }
        for v in &config.vrrp_instances {
            let interface = v
                .interface
                .as_ref()
                .map(|i| (i.value.as_str(), i.origin))
                .or_else(|| {
                    let default = config.global_defs.default_interface.as_deref();
                    default.map(|i| (i, v.origin))
                });
            match interface {
                Some((name, origin)) if !self.interface_exists(name) => self.missing_interface(
                    origin,
                    format!(
                        "interface {name} of vrrp_instance `{}` does not exist on this system",
                        v.name
                    ),
                ),
                // No interface at all is a configuration error, found by the parser's checks.
                Some(_) | None => {}
            }
            for t in &v.track_interface {
                if !self.interface_exists(&t.name) {
                    self.missing_interface(
                        t.origin,
                        format!("tracked interface {} does not exist on this system", t.name),
                    );
                }
            }
            for a in v
                .virtual_ipaddress
                .iter()
                .chain(&v.virtual_ipaddress_excluded)
            {
                if let Some(dev) = &a.dev
                    && !self.interface_exists(dev)
                {
                    self.missing_interface(
                        a.origin,
                        format!(
                            "interface {dev} for address {} does not exist on this system",
                            a.prefix.addr
                        ),
                    );
                }
            }
        }
        self.diags.list.len() > before
    }

    /// `missing_interface`: keepalived's VRRP side stops at a missing interface, before it
    /// looks at its scripts.
    fn scripts(&mut self, config: &Config, missing_interface: bool) {
        for (process, uses) in uses(config) {
            if missing_interface && process == VRRP_SCRIPTS {
                continue;
            }
            let mut found = false;
            let mut insecure = false;
            for u in &uses {
                let Some((uid, gid)) = self.run_as(config, u) else {
                    continue;
                };
                let verdict = self.verdict(&u.script, uid, gid);
                found |= verdict.found;
                insecure |= verdict.insecure;
                let security = config.global_defs.enable_script_security;
                if u.tracked && !verdict.found {
                    self.diags.warn(
                        self.sources,
                        K::Script,
                        u.origin,
                        format!(
                            "{}: script `{}` is not found or not accessible, so it is disabled",
                            u.owner, u.script.command
                        ),
                    );
                } else if verdict.insecure && security {
                    let message = format!(
                        "{}: script `{}` runs as root but a non-root user can change it or a directory above it, so it is disabled",
                        u.owner, u.script.command
                    );
                    if u.tracked {
                        self.diags.warn(self.sources, K::Script, u.origin, message);
                    } else {
                        self.diags.note(self.sources, K::Script, u.origin, message);
                    }
                }
            }
            if found && !config.global_defs.enable_script_security {
                self.diags.warn(
                    self.sources,
                    K::ScriptSecurity,
                    Origin::NONE,
                    format!(
                        "{process} are run but enable_script_security is not set (keepalived calls this a security violation){}",
                        if insecure {
                            "; some of them run as root and a non-root user can change them"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
    }

    /// The user and group a script runs as, or `None` when keepalived would not run it
    /// (and has said so).
    fn run_as(&mut self, config: &Config, u: &Use) -> Option<(u32, u32)> {
        let g = &config.global_defs;
        let (user, group) = match (&u.script.user, &g.script_user) {
            (Some(user), _) => (user.clone(), u.script.group.clone()),
            (None, Some((user, group))) => (user.clone(), group.clone()),
            (None, None) => match self.users.get(DEFAULT_SCRIPT_USER) {
                Some(&ids) => return Some(ids),
                None if g.enable_script_security => {
                    self.diags.warn(
                        self.sources,
                        K::Script,
                        u.origin,
                        format!(
                            "{}: no script_user and no `{DEFAULT_SCRIPT_USER}` user to run `{}` as",
                            u.owner, u.script.command
                        ),
                    );
                    return None;
                }
                None => return Some((0, 0)),
            },
        };
        let Some(&(uid, user_gid)) = self.users.get(&user) else {
            self.diags.note(
                self.sources,
                K::Script,
                u.origin,
                format!(
                    "{}: user `{user}` does not exist, so keepalived does not run `{}`",
                    u.owner, u.script.command
                ),
            );
            return None;
        };
        let gid = match group {
            None => user_gid,
            Some(group) => match self.groups.get(&group) {
                Some(&(gid, _)) => gid,
                None => {
                    self.diags.note(
                        self.sources,
                        K::Script,
                        u.origin,
                        format!(
                            "{}: group `{group}` does not exist, so keepalived does not run `{}`",
                            u.owner, u.script.command
                        ),
                    );
                    return None;
                }
            },
        };
        Some((uid, gid))
    }

    fn verdict(&self, script: &Script, uid: u32, gid: u32) -> Verdict {
        let command = script.command.split_whitespace().next().unwrap_or("");
        if let Some(rest) = command.strip_prefix('<')
            && rest.trim_start().starts_with('/')
        {
            return Verdict::default();
        }
        if script.command.trim_start().starts_with('<') {
            return Verdict::default();
        }
        let path = if command.contains('/') {
            PathBuf::from(command)
        } else {
            match self
                .paths
                .path
                .split(':')
                .map(|dir| Path::new(dir).join(command))
                .find(|p| p.is_file())
            {
                Some(p) => p,
                None => return Verdict::default(),
            }
        };
        let Ok(real) = std::fs::canonicalize(&path) else {
            return Verdict::default();
        };
        let Ok(meta) = std::fs::metadata(&real) else {
            return Verdict::default();
        };
        let mode = meta.mode();
        let root_setid = (meta.uid() == 0 && mode & 0o4100 == 0o4100)
            || (meta.gid() == 0 && mode & 0o2010 == 0o2010);
        let as_root = uid == 0 || gid == 0 || root_setid;
        let insecure = as_root
            && executable(&meta, uid, gid)
            && (changeable(&path) || (real != path && changeable(&real)));
        Verdict {
            found: true,
            insecure,
        }
    }
}

/// Whether `uid`/`gid` may execute the file (root may when anyone may).
fn executable(meta: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let mode = meta.mode();
    if uid == 0 {
        mode & 0o111 != 0
    } else if meta.uid() == uid {
        mode & 0o100 != 0
    } else if meta.gid() == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

/// Whether someone other than root could change the file at `path` or a directory above it:
/// each part must be owned by root and not writable by a non-root group or by all, except a
/// directory with the sticky bit. Parts are not followed through links, as keepalived does.
fn changeable(path: &Path) -> bool {
    let mut prefix = PathBuf::new();
    for part in path.components() {
        prefix.push(part);
        let Ok(meta) = std::fs::symlink_metadata(&prefix) else {
            return false;
        };
        let mode = meta.mode();
        let sticky_dir = meta.is_dir() && mode & 0o1000 != 0;
        let writable = (meta.gid() != 0 && mode & 0o020 != 0) || mode & 0o002 != 0;
        if meta.uid() != 0 || (!sticky_dir && !meta.file_type().is_symlink() && writable) {
            return true;
        }
    }
    false
}
