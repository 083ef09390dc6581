//! Checks across the model: the things keepalived.conf(5) says must hold between settings.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::diag::{DiagnosticKind as K, Diagnostics};
use crate::model::*;
use crate::source::{Origin, SourceMap};

/// Most addresses keepalived puts in one advert before it advises `virtual_ipaddress_excluded`.
const MAX_ADVERT_VIPS: usize = 20;

pub(crate) fn check(config: &Config, sources: &SourceMap, diags: &mut Diagnostics) {
    let mut c = Checker { sources, diags };
    c.instances(config);
    c.sync_groups(config);
    c.virtual_servers(config);
    c.globals(config);
}

struct Checker<'a> {
    sources: &'a SourceMap,
    diags: &'a mut Diagnostics,
}

/// The group a `virtual_server group NAME` uses ("" for the other kinds).
fn vs_group_name(vs: &VirtualServer) -> &str {
    match &vs.addr {
        VirtualServerAddr::Group(name) => name,
        _ => "",
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

impl Checker<'_> {
    fn err(&mut self, kind: K, origin: Origin, msg: impl Into<String>) {
        self.diags.error(self.sources, kind, origin, msg);
    }

    fn warn(&mut self, kind: K, origin: Origin, msg: impl Into<String>) {
        self.diags.warn(self.sources, kind, origin, msg);
    }

    fn note(&mut self, kind: K, origin: Origin, msg: impl Into<String>) {
        self.diags.note(self.sources, kind, origin, msg);
    }

    fn instances(&mut self, config: &Config) {
        let scripts: HashSet<&str> = config
            .vrrp_scripts
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let files: HashSet<&str> = config.track_files.iter().map(|s| s.name.as_str()).collect();
        let mut seen_names: HashMap<&str, Origin> = HashMap::new();
        let mut seen_scripts: HashSet<&str> = HashSet::new();
        for s in &config.vrrp_scripts {
            if !seen_scripts.insert(&s.name) {
                self.err(
                    K::Duplicate,
                    s.origin,
                    format!("vrrp_script `{}` is defined twice", s.name),
                );
            }
        }
        let mut seen_files: HashSet<&str> = HashSet::new();
        for f in &config.track_files {
            if !seen_files.insert(&f.name) {
                self.err(
                    K::Duplicate,
                    f.origin,
                    format!("track_file `{}` is defined twice", f.name),
                );
            }
        }
        // (interface, family, vrid) -> instance name
        let mut vrids: HashMap<(String, bool, u8), &str> = HashMap::new();
        for v in &config.vrrp_instances {
            if let Some(first) = seen_names.insert(&v.name, v.origin) {
                let _ = first;
                self.err(
                    K::Duplicate,
                    v.origin,
                    format!("vrrp_instance `{}` is defined twice", v.name),
                );
            }
            let is_v4 = v.is_ipv4();
            let fam = if is_v4 { "IPv4" } else { "IPv6" };
            let strict = v.strict_mode.unwrap_or(config.global_defs.vrrp_strict);
            let version = v.effective_version(&config.global_defs);

            match v.virtual_router_id {
                None => self.err(
                    K::Missing,
                    v.origin,
                    format!("vrrp_instance `{}` has no virtual_router_id", v.name),
                ),
                Some(vrid) => {
                    let interface = v
                        .interface
                        .as_ref()
                        .map(|i| i.value.clone())
                        .or_else(|| config.global_defs.default_interface.clone())
                        .unwrap_or_default();
                    if let Some(other) =
                        vrids.insert((interface.clone(), is_v4, vrid.value), &v.name)
                    {
                        self.err(
                            K::Duplicate,
                            vrid.origin,
                            format!(
                                "virtual_router_id {} on {interface} ({fam}) is already used by vrrp_instance `{other}`",
                                vrid.value
                            ),
                        );
                    }
                }
            }
            if v.interface.is_none() && config.global_defs.default_interface.is_none() {
                if v.unicast_peer.is_empty() {
                    self.err(
                        K::Missing,
                        v.origin,
                        format!(
                            "vrrp_instance `{}` has no interface (and there is no default_interface)",
                            v.name
                        ),
                    );
                } else if v.src_ip.is_none() {
                    self.err(
                        K::Missing,
                        v.origin,
                        format!(
                            "vrrp_instance `{}` is unicast without an interface, so it needs unicast_src_ip",
                            v.name
                        ),
                    );
                }
            }
            if let Some(adv) = v.advert_int {
                let micros = adv.value.as_micros();
                if version == 2 {
                    if micros % 1_000_000 != 0 || !(1..=255).contains(&(micros / 1_000_000)) {
                        self.err(
                            K::OutOfRange,
                            adv.origin,
                            format!(
                                "advert_int {} is not valid for VRRPv2: whole seconds from 1 to 255",
                                adv.value
                            ),
                        );
                    }
                } else if micros % 10_000 != 0 || !(1..=4095).contains(&(micros / 10_000)) {
                    self.err(
                        K::OutOfRange,
                        adv.origin,
                        format!(
                            "advert_int {} is not valid for VRRPv3: hundredths of a second from 0.01 to 40.95",
                            adv.value
                        ),
                    );
                }
            }
            if !is_v4 && strict && v.version.is_some_and(|s| s.value == 2) {
                self.err(
                    K::AddressFamily,
                    v.origin,
                    format!(
                        "vrrp_instance `{}` is IPv6, which needs VRRP version 3 (keepalived uses 3)",
                        v.name
                    ),
                );
            }
            self.owner_and_state(v, strict, version, is_v4);
            for a in &v.virtual_ipaddress {
                if a.prefix.addr.is_ipv4() != is_v4 {
                    self.err(
                        K::AddressFamily,
                        a.origin,
                        format!(
                            "{} address {} in an {fam} instance; put it in virtual_ipaddress_excluded",
                            family(a.prefix.addr),
                            a.prefix.addr
                        ),
                    );
                }
            }
            for p in &v.unicast_peer {
                if p.addr.is_ipv4() != is_v4 {
                    self.err(
                        K::AddressFamily,
                        p.origin,
                        format!(
                            "unicast_peer {} is {} in an {fam} instance",
                            p.addr,
                            family(p.addr)
                        ),
                    );
                }
                if let (Some(min), Some(max)) = (p.min_ttl, p.max_ttl)
                    && min > max
                {
                    self.err(
                        K::Conflict,
                        p.origin,
                        format!("min_ttl {min} is above max_ttl {max}"),
                    );
                }
            }
            if let Some(src) = v.src_ip
                && src.value.is_ipv4() != is_v4
            {
                self.err(
                    K::AddressFamily,
                    src.origin,
                    "source address family differs from the instance",
                );
            }
            for t in &v.track_script {
                if !scripts.contains(t.name.as_str()) {
                    self.err(
                        K::UndefinedReference,
                        t.origin,
                        format!("track_script `{}` is not a defined vrrp_script", t.name),
                    );
                }
            }
            self.tracked_defined(config, &v.track_process, &v.track_bfd);
            for t in &v.track_file {
                if !files.contains(t.name.as_str()) {
                    self.err(
                        K::UndefinedReference,
                        t.origin,
                        format!("track_file `{}` is not a defined track_file", t.name),
                    );
                }
            }
            if v.priority.is_some_and(|p| p.value == 255)
                && v.track_script
                    .iter()
                    .chain(&v.track_file)
                    .any(|t| t.weight.is_some_and(|w| w.value != 0))
            {
                self.warn(
                    K::Conflict,
                    v.priority.map_or(v.origin, |p| p.origin),
                    "an address owner (priority 255) ignores tracking weights",
                );
            }
        }
        self.unused_scripts(config);
    }

    /// `track_process` and `track_bfd` entries must name a `vrrp_track_process` and a
    /// `bfd_instance` (keepalived ignores the others, saying so).
    fn tracked_defined(&mut self, config: &Config, processes: &[Track], bfds: &[Track]) {
        for t in processes {
            if !config.track_processes.iter().any(|p| p.name == t.name) {
                self.err(
                    K::UndefinedReference,
                    t.origin,
                    format!(
                        "track_process `{}` is not a defined vrrp_track_process",
                        t.name
                    ),
                );
            }
        }
        for t in bfds {
            if !config.bfd_instances.iter().any(|b| b.name == t.name) {
                self.err(
                    K::UndefinedReference,
                    t.origin,
                    format!("track_bfd `{}` is not a defined bfd_instance", t.name),
                );
            }
        }
    }

    /// keepalived 2.2.7's own rules for one instance, in its order (its "complete instance"
    /// step): the address owner and the initial state, authentication, strict mode, preemption.
    /// Where keepalived corrects a setting and says so, this is an error; where it only advises,
    /// a warning.
    fn owner_and_state(&mut self, v: &VrrpInstance, strict: bool, version: u8, is_v4: bool) {
        let name = &v.name;
        if v.virtual_ipaddress.is_empty() {
            if version == 3 || strict {
                self.err(
                    K::Missing,
                    v.origin,
                    format!("vrrp_instance `{name}` has no virtual_ipaddress, which VRRPv3 and strict mode need"),
                );
            } else {
                self.warn(
                    K::Missing,
                    v.origin,
                    format!("vrrp_instance `{name}` has no virtual_ipaddress"),
                );
            }
        }
        // Without a priority the initial state decides it (MASTER is the owner, 255), and
        // without a state the priority decides it.
        let priority = v.effective_priority();
        let owner = priority == 255;
        let mut master = v.state.map_or(owner, |s| s == InitialState::Master);
        if strict && v.state.is_some() && master != owner {
            self.err(
                K::Conflict,
                v.priority.map_or(v.origin, |p| p.origin),
                format!(
                    "strict mode: vrrp_instance `{name}` must start as MASTER exactly when it is the address owner (priority 255)"
                ),
            );
            master = owner;
        }
        if let Some(auth) = &v.authentication
            && let Some(auth_type) = auth.auth_type
        {
            let problem = if strict {
                Some("strict mode does not allow authentication; it is ignored")
            } else if version == 3 {
                Some("VRRP version 3 has no authentication; it is ignored")
            } else if auth.auth_pass.as_deref().is_none_or(str::is_empty) {
                Some("authentication without an auth_pass is ignored")
            } else if !is_v4 && auth_type == AuthType::Ah {
                Some("AH authentication does not work with IPv6; it is ignored")
            } else if auth_type == AuthType::Ah && master && !owner {
                // An AH master needs the sequence number of a received advert first.
                master = false;
                Some(
                    "initial state MASTER does not work with AH authentication; keepalived starts as BACKUP",
                )
            } else {
                None
            };
            if let Some(problem) = problem {
                self.err(K::Conflict, auth.origin, problem);
            }
        }
        if strict && !v.unicast_peer.is_empty() {
            self.err(
                K::Conflict,
                v.unicast_peer[0].origin,
                "strict mode does not allow unicast_peer",
            );
        }
        let mut nopreempt = v.nopreempt == Some(true);
        if owner && nopreempt {
            self.err(
                K::Conflict,
                v.origin,
                "nopreempt does not work for the address owner (priority 255); it is ignored",
            );
            nopreempt = false;
        }
        let mut preempt_delay = v.preempt_delay.is_some_and(|d| d.value.as_micros() > 0);
        if master {
            if nopreempt {
                self.err(
                    K::Conflict,
                    v.origin,
                    "nopreempt does not work with initial state MASTER; it is ignored",
                );
                nopreempt = false;
            }
            if preempt_delay {
                self.err(
                    K::Conflict,
                    v.origin,
                    "preempt_delay does not work with initial state MASTER; it is ignored",
                );
                preempt_delay = false;
            }
        }
        if preempt_delay && strict {
            self.err(
                K::Conflict,
                v.origin,
                "preempt_delay does not work in strict mode; it is ignored",
            );
        }
        if preempt_delay && nopreempt {
            self.err(
                K::Conflict,
                v.origin,
                "preempt_delay does not work with nopreempt; it is ignored",
            );
        }
        if strict {
            let checks = [
                (
                    v.down_timer_adverts.is_some_and(|n| n != 3),
                    "down_timer_adverts other than 3",
                ),
                (
                    v.accept == Some(true) && !owner && version == 2,
                    "accept with VRRPv2",
                ),
                (
                    v.garp_lower_prio_repeat.is_some_and(|n| n != 0),
                    "garp_lower_prio_repeat",
                ),
                (
                    v.garp_lower_prio_delay.is_some_and(|n| n != 0),
                    "garp_lower_prio_delay",
                ),
                (
                    v.lower_prio_no_advert == Some(false),
                    "lower_prio_no_advert off",
                ),
                (
                    v.higher_prio_send_advert == Some(true),
                    "higher_prio_send_advert",
                ),
                (v.vmac_xmit_base, "vmac_xmit_base"),
            ];
            for (_, what) in checks.iter().filter(|(bad, _)| *bad) {
                self.err(
                    K::Conflict,
                    v.origin,
                    format!("strict mode does not allow {what}; it is reset"),
                );
            }
        }
        if !v.unicast_peer.is_empty() && v.mcast_dst_ip.is_some() {
            self.err(
                K::Conflict,
                v.origin,
                "mcast_dst_ip does nothing for a unicast instance; it is ignored",
            );
        }
        if v.virtual_ipaddress.len() > MAX_ADVERT_VIPS {
            self.note(
                K::OutOfRange,
                v.virtual_ipaddress[MAX_ADVERT_VIPS].origin,
                format!(
                    "{} addresses in virtual_ipaddress; keepalived advises at most {MAX_ADVERT_VIPS} and the rest in virtual_ipaddress_excluded",
                    v.virtual_ipaddress.len()
                ),
            );
        }
    }

    /// A `vrrp_script` no instance or sync group tracks: keepalived drops it without a word
    /// (its "not used" message never shows in 2.2.7's `-t`), so this is a note.
    fn unused_scripts(&mut self, config: &Config) {
        let used: HashSet<&str> = config
            .vrrp_instances
            .iter()
            .flat_map(|v| &v.track_script)
            .chain(config.sync_groups.iter().flat_map(|g| &g.track_script))
            .map(|t| t.name.as_str())
            .collect();
        for s in &config.vrrp_scripts {
            if !used.contains(s.name.as_str()) {
                self.note(
                    K::UndefinedReference,
                    s.origin,
                    format!(
                        "vrrp_script `{}` is not used by any instance or sync group",
                        s.name
                    ),
                );
            }
        }
    }

    fn sync_groups(&mut self, config: &Config) {
        let instances: HashSet<&str> = config
            .vrrp_instances
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        let scripts: HashSet<&str> = config
            .vrrp_scripts
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let mut member_of: HashMap<&str, &str> = HashMap::new();
        for g in &config.sync_groups {
            if g.group.len() == 1 {
                self.warn(
                    K::Conflict,
                    g.origin,
                    format!(
                        "vrrp_sync_group `{}` has only one member, which is rarely what is meant",
                        g.name
                    ),
                );
            }
            if g.group.is_empty() {
                self.err(
                    K::Missing,
                    g.origin,
                    format!("vrrp_sync_group `{}` has no `group` members", g.name),
                );
            }
            for m in &g.group {
                if !instances.contains(m.name.as_str()) {
                    self.err(
                        K::UndefinedReference,
                        m.origin,
                        format!(
                            "sync group member `{}` is not a defined vrrp_instance",
                            m.name
                        ),
                    );
                } else if let Some(other) = member_of.insert(&m.name, &g.name) {
                    self.err(
                        K::Duplicate,
                        m.origin,
                        format!(
                            "vrrp_instance `{}` is already in sync group `{other}`",
                            m.name
                        ),
                    );
                }
            }
            self.tracked_defined(config, &g.track_process, &g.track_bfd);
            for t in &g.track_script {
                if !scripts.contains(t.name.as_str()) {
                    self.err(
                        K::UndefinedReference,
                        t.origin,
                        format!("track_script `{}` is not a defined vrrp_script", t.name),
                    );
                }
            }
            if !g.sync_group_tracking_weight {
                for v in config
                    .vrrp_instances
                    .iter()
                    .filter(|v| g.group.iter().any(|m| m.name == v.name))
                {
                    for t in v
                        .track_script
                        .iter()
                        .chain(&v.track_file)
                        .chain(&v.track_interface)
                    {
                        if t.weight.is_some_and(|w| w.value != 0) {
                            self.warn(
                                K::Conflict,
                                t.origin,
                                format!(
                                    "`{}` is in sync group `{}`, so this tracking weight is set to 0 (use sync_group_tracking_weight)",
                                    v.name, g.name
                                ),
                            );
                        }
                    }
                }
            }
        }
        if let Some(d) = &config.global_defs.lvs_sync_daemon
            && let Some(inst) = &d.instance
            && !instances.contains(inst.as_str())
        {
            self.err(
                K::UndefinedReference,
                d.origin,
                format!("lvs_sync_daemon names vrrp_instance `{inst}`, which is not defined"),
            );
        }
    }

    fn virtual_servers(&mut self, config: &Config) {
        let groups: HashMap<&str, &VirtualServerGroup> = config
            .virtual_server_groups
            .iter()
            .map(|g| (g.name.as_str(), g))
            .collect();
        let mut seen: HashMap<(String, Option<Protocol>), Origin> = HashMap::new();
        for vs in &config.virtual_servers {
            let key = match &vs.addr {
                VirtualServerAddr::Ip { addr, port } => format!("{addr} {}", port.unwrap_or(0)),
                VirtualServerAddr::Fwmark(m) => format!("fwmark {m}"),
                VirtualServerAddr::Group(g) => format!("group {g}"),
            };
            if seen.insert((key.clone(), vs.protocol), vs.origin).is_some() {
                self.err(
                    K::Duplicate,
                    vs.origin,
                    format!("virtual_server {key} is defined twice for the same protocol"),
                );
            }
            let (vs_family, vs_port) = match &vs.addr {
                VirtualServerAddr::Ip { addr, port } => (Some(addr.is_ipv4()), *port),
                VirtualServerAddr::Fwmark(_) => (vs.ip_family.map(|f| f == Family::Inet), None),
                VirtualServerAddr::Group(name) => match groups.get(name.as_str()) {
                    None => {
                        self.err(
                            K::UndefinedReference,
                            vs.origin,
                            format!("virtual_server_group `{name}` is not defined"),
                        );
                        (None, None)
                    }
                    Some(g) => {
                        let fam = g.entries.iter().find_map(|e| match e {
                            GroupEntry::Addr { addr, .. } => Some(addr.is_ipv4()),
                            GroupEntry::Fwmark { .. } => None,
                        });
                        let port = g.entries.iter().find_map(|e| match e {
                            GroupEntry::Addr { port, .. } => *port,
                            GroupEntry::Fwmark { .. } => None,
                        });
                        (fam, port)
                    }
                },
            };
            self.lvs_rules(vs, groups.get(vs_group_name(vs)).copied());
            let method = vs.lvs_method.unwrap_or(LvsMethod::Nat);
            for rs in &vs.real_servers {
                let rs_method = rs.lvs_method.unwrap_or(method);
                let tunnelled = matches!(rs_method, LvsMethod::Tun { .. });
                if let Some(f) = vs_family
                    && !tunnelled
                    && rs.addr.is_ipv4() != f
                {
                    self.err(
                        K::AddressFamily,
                        rs.origin,
                        format!(
                            "real server {} is {} but the virtual server is {}",
                            rs.addr,
                            family(rs.addr),
                            if f { "IPv4" } else { "IPv6" }
                        ),
                    );
                }
                for c in &rs.checkers {
                    let needs_port = matches!(
                        c.kind,
                        CheckerKind::Tcp
                            | CheckerKind::Http(_)
                            | CheckerKind::Ssl(_)
                            | CheckerKind::Smtp { .. }
                    );
                    if needs_port
                        && c.connect.connect_port.is_none()
                        && rs.port.is_none()
                        && vs_port.is_none()
                    {
                        self.note(
                            K::Missing,
                            c.origin,
                            format!(
                                "{} has no port to connect to: set connect_port",
                                c.kind.keyword()
                            ),
                        );
                    }
                    if let Some(ip) = c.connect.connect_ip
                        && let Some(bind) = c.connect.bindto
                        && ip.is_ipv4() != bind.is_ipv4()
                    {
                        self.err(
                            K::AddressFamily,
                            c.origin,
                            "connect_ip and bindto are of different families",
                        );
                    }
                }
            }
            if let (Some(f), Some(sorry)) = (vs_family, &vs.sorry_server)
                && sorry.addr.is_ipv4() != f
                && !matches!(vs.sorry_server_lvs_method, Some(LvsMethod::Tun { .. }))
            {
                self.err(
                    K::AddressFamily,
                    vs.origin,
                    format!(
                        "sorry_server {} is not of the virtual server's family",
                        sorry.addr
                    ),
                );
            }
        }
        for g in &config.virtual_server_groups {
            if g.entries.is_empty() {
                self.warn(
                    K::Missing,
                    g.origin,
                    format!("virtual_server_group `{}` is empty", g.name),
                );
            }
        }
    }

    /// keepalived 2.2.7's own rules for one virtual server, in its order (its checker
    /// validation step). Where keepalived resets a setting and says so, this is an error; where
    /// it only warns or fills in a default, a warning.
    fn lvs_rules(&mut self, vs: &VirtualServer, group: Option<&VirtualServerGroup>) {
        let o = vs.origin;
        if vs.real_servers.is_empty() {
            self.warn(
                K::Missing,
                o,
                "virtual_server has no real_server, so keepalived ignores it",
            );
            return;
        }
        let group_addrs: Vec<(IpAddr, Option<u16>)> = group
            .map(|g| {
                g.entries
                    .iter()
                    .filter_map(|e| match e {
                        GroupEntry::Addr { addr, port, .. } => Some((*addr, *port)),
                        GroupEntry::Fwmark { .. } => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let group_has_fwmark = group.is_some_and(|g| {
            g.entries
                .iter()
                .any(|e| matches!(e, GroupEntry::Fwmark { .. }))
        });
        let fwmark = matches!(vs.addr, VirtualServerAddr::Fwmark(_));
        let persistent = vs.persistence_timeout.is_some_and(|t| t != Some(0));
        if vs.ha_suspend && (fwmark || group_has_fwmark) {
            self.err(
                K::Conflict,
                o,
                "ha_suspend does not work with fwmarks; it is ignored",
            );
        }
        let address_based = match &vs.addr {
            VirtualServerAddr::Group(_) => !group_addrs.is_empty(),
            VirtualServerAddr::Ip { .. } => true,
            VirtualServerAddr::Fwmark(_) => false,
        };
        if address_based {
            let protocol = vs.protocol.unwrap_or(Protocol::Udp);
            if vs.protocol.is_none() {
                self.warn(
                    K::Missing,
                    o,
                    "virtual_server has no `protocol`; keepalived 2.2.7 then uses UDP, write `protocol TCP` if TCP is meant",
                );
            }
            if vs.ops && protocol != Protocol::Udp {
                self.err(
                    K::Conflict,
                    o,
                    "ops (one-packet scheduling) is for UDP virtual servers; it is ignored",
                );
            }
            if let VirtualServerAddr::Ip { port, .. } = vs.addr
                && port.unwrap_or(0) == 0
                && !persistent
            {
                self.err(
                    K::Missing,
                    o,
                    "a virtual server without a port must be persistent (persistence_timeout); keepalived makes it so",
                );
            }
        }
        if !persistent && group_addrs.iter().any(|(_, port)| port.unwrap_or(0) == 0) {
            self.err(
                K::Missing,
                o,
                "a virtual server group entry without a port needs a persistent virtual server (persistence_timeout); keepalived makes it so",
            );
        }
        if vs.protocol.is_some() && (fwmark || (group.is_some() && !address_based)) {
            self.warn(
                K::Conflict,
                o,
                "`protocol` is ignored for a fwmark virtual server",
            );
        }
        if vs.lvs_sched.is_none() {
            self.warn(
                K::Missing,
                o,
                "virtual_server has no lb_algo (lvs_sched); keepalived uses wlc",
            );
        }
        let mut seen = HashSet::new();
        let mut weight_sum: u64 = 0;
        for rs in &vs.real_servers {
            if !seen.insert((rs.addr, rs.port)) {
                self.err(
                    K::Duplicate,
                    rs.origin,
                    format!(
                        "real server {} is listed twice; the second is ignored",
                        rs.addr
                    ),
                );
                continue;
            }
            weight_sum += rs.weight.map_or(1, |w| w.max(0) as u64);
        }
        let method_missing = vs.lvs_method.is_none()
            && (vs.real_servers.iter().any(|rs| rs.lvs_method.is_none())
                || (vs.sorry_server.is_some() && vs.sorry_server_lvs_method.is_none()));
        if method_missing {
            self.warn(
                K::Missing,
                o,
                "virtual_server has no lb_kind (lvs_method); keepalived uses NAT",
            );
        }
        let quorum = vs.quorum.map_or(1, |q| u64::from(q.value));
        // keepalived lowers the quorum and runs on (all real servers at weight 0 is a way to
        // drain a service), so these two are warnings.
        if quorum > weight_sum {
            self.warn(
                K::Conflict,
                vs.quorum.map_or(o, |q| q.origin),
                format!(
                    "quorum {quorum} is above the total weight {weight_sum} of the real servers; keepalived lowers it to {weight_sum}"
                ),
            );
        }
        let quorum = quorum.min(weight_sum);
        if u64::from(vs.hysteresis.unwrap_or(0)) >= quorum {
            self.warn(
                K::Conflict,
                vs.quorum.map_or(o, |q| q.origin),
                format!(
                    "hysteresis {} must be below quorum {quorum}; keepalived lowers it",
                    vs.hysteresis.unwrap_or(0)
                ),
            );
        }
        let method = vs.lvs_method.unwrap_or(LvsMethod::Nat);
        let vs_port = match vs.addr {
            VirtualServerAddr::Ip { port, .. } => port,
            _ => None,
        };
        let sorry = vs.sorry_server.as_ref().map(|s| {
            let m = vs.sorry_server_lvs_method.unwrap_or(method);
            (s.port, m, "sorry server".to_string(), o)
        });
        let servers = vs
            .real_servers
            .iter()
            .map(|rs| {
                let m = rs.lvs_method.unwrap_or(method);
                (rs.port, m, format!("real server {}", rs.addr), rs.origin)
            })
            .chain(sorry);
        for (port, m, what, origin) in servers {
            // NAT can rewrite the port; the other methods forward to the virtual port.
            let Some(port) = port.filter(|&p| p != 0 && m != LvsMethod::Nat) else {
                continue;
            };
            if fwmark || group_has_fwmark {
                self.warn(
                    K::Conflict,
                    origin,
                    format!("{what} port {port} is ignored by a fwmark virtual server"),
                );
            }
            let mismatch = match group {
                Some(_) => group_addrs.iter().any(|(_, p)| p.unwrap_or(0) != port),
                None => vs_port.is_some_and(|v| v != port) && !fwmark,
            };
            if mismatch {
                self.err(
                    K::Conflict,
                    origin,
                    format!(
                        "{what} port {port} differs from the virtual port, which {} cannot forward to; keepalived uses the virtual port",
                        if m == LvsMethod::Dr { "DR" } else { "TUN" }
                    ),
                );
            }
        }
    }

    fn globals(&mut self, config: &Config) {
        let g = &config.global_defs;
        if let Some(d) = &g.lvs_sync_daemon
            && let Some(port) = d.port
            && port == 0
        {
            self.err(
                K::OutOfRange,
                d.origin,
                "lvs_sync_daemon port must not be 0",
            );
        }
    }
}
