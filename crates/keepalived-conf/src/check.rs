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
        let global_version = config.global_defs.vrrp_version.unwrap_or(2);
        for v in &config.vrrp_instances {
            if let Some(first) = seen_names.insert(&v.name, v.origin) {
                let _ = first;
                self.err(
                    K::Duplicate,
                    v.origin,
                    format!("vrrp_instance `{}` is defined twice", v.name),
                );
            }
            let version = v.version.map_or(global_version, |s| s.value);
            // The instance's family: its source address, else its first address, else IPv4.
            let is_v4 = match (v.src_ip, v.virtual_ipaddress.first()) {
                (Some(src), _) => src.value.is_ipv4(),
                (None, Some(first)) => first.prefix.addr.is_ipv4(),
                (None, None) => !v.native_ipv6,
            };
            let fam = if is_v4 { "IPv4" } else { "IPv6" };

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
                        .unwrap_or_else(|| "eth0".to_string());
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
                self.warn(
                    K::Missing,
                    v.origin,
                    format!(
                        "vrrp_instance `{}` has no interface; keepalived falls back to eth0",
                        v.name
                    ),
                );
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
            if version == 2 && !is_v4 {
                self.err(
                    K::AddressFamily,
                    v.origin,
                    format!(
                        "vrrp_instance `{}` is IPv6, which needs VRRP version 3",
                        v.name
                    ),
                );
            }
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
            if v.virtual_ipaddress.len() > MAX_ADVERT_VIPS {
                self.warn(
                    K::OutOfRange,
                    v.virtual_ipaddress[MAX_ADVERT_VIPS].origin,
                    format!(
                        "{} addresses in virtual_ipaddress; keepalived advises at most {MAX_ADVERT_VIPS} and the rest in virtual_ipaddress_excluded",
                        v.virtual_ipaddress.len()
                    ),
                );
            }
            if v.virtual_ipaddress.is_empty() && v.virtual_ipaddress_excluded.is_empty() {
                self.warn(
                    K::Missing,
                    v.origin,
                    format!("vrrp_instance `{}` has no virtual_ipaddress", v.name),
                );
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
            for t in &v.track_file {
                if !files.contains(t.name.as_str()) {
                    self.err(
                        K::UndefinedReference,
                        t.origin,
                        format!("track_file `{}` is not a defined track_file", t.name),
                    );
                }
            }
            if let Some(p) = v.priority {
                if p.value == 255 && v.state == Some(InitialState::Backup) {
                    self.warn(
                        K::Conflict,
                        p.origin,
                        "priority 255 makes this the address owner, which always starts as MASTER, but state is BACKUP",
                    );
                }
                if p.value == 255
                    && (!v.track_script.is_empty() || !v.track_file.is_empty())
                    && v.track_script
                        .iter()
                        .chain(&v.track_file)
                        .any(|t| t.weight.is_some_and(|w| w.value != 0))
                {
                    self.warn(
                        K::Conflict,
                        p.origin,
                        "an address owner (priority 255) ignores tracking weights",
                    );
                }
            }
            if v.nopreempt == Some(true) && v.state == Some(InitialState::Master) {
                self.warn(
                    K::Conflict,
                    v.origin,
                    "nopreempt only works with state BACKUP; keepalived treats this instance as BACKUP",
                );
            }
            if v.preempt_delay.is_some() && v.nopreempt == Some(true) {
                self.warn(
                    K::Conflict,
                    v.origin,
                    "preempt_delay has no effect with nopreempt",
                );
            }
            if let Some(auth) = &v.authentication {
                if version == 3 {
                    self.warn(
                        K::Conflict,
                        auth.origin,
                        "authentication is ignored by VRRP version 3",
                    );
                }
                if auth.auth_type == Some(AuthType::Pass) && auth.auth_pass.is_none() {
                    self.err(K::Missing, auth.origin, "auth_type PASS needs an auth_pass");
                }
                if auth.auth_type.is_none() && auth.auth_pass.is_some() {
                    self.err(K::Missing, auth.origin, "auth_pass without auth_type");
                }
                if config.global_defs.vrrp_strict {
                    self.err(
                        K::Conflict,
                        auth.origin,
                        "vrrp_strict does not allow authentication",
                    );
                }
            }
            if config.global_defs.vrrp_strict && !v.unicast_peer.is_empty() {
                self.err(
                    K::Conflict,
                    v.unicast_peer[0].origin,
                    "vrrp_strict does not allow unicast_peer",
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
            if let VirtualServerAddr::Ip { port: None, .. } = vs.addr
                && vs.persistence_timeout.is_none()
            {
                self.err(
                    K::Missing,
                    vs.origin,
                    "a virtual server without a port must be persistent (persistence_timeout)",
                );
            }
            if vs.protocol.is_some() && matches!(vs.addr, VirtualServerAddr::Fwmark(_)) {
                self.warn(
                    K::Conflict,
                    vs.origin,
                    "`protocol` is ignored for a fwmark virtual server",
                );
            }
            if vs.protocol.is_none() && !matches!(vs.addr, VirtualServerAddr::Fwmark(_)) {
                self.warn(
                    K::Missing,
                    vs.origin,
                    "virtual_server has no `protocol`; keepalived 2.2.7 then uses UDP, write `protocol TCP` if TCP is meant",
                );
            }
            if vs.protocol == Some(Protocol::Tcp) && vs.ops {
                self.err(
                    K::Conflict,
                    vs.origin,
                    "ops (one-packet scheduling) is for UDP virtual servers",
                );
            }
            let method = vs.lvs_method.unwrap_or(LvsMethod::Nat);
            let mut total_weight: u64 = 0;
            let is_fwmark = matches!(vs.addr, VirtualServerAddr::Fwmark(_));
            for rs in &vs.real_servers {
                if is_fwmark && let Some(port) = rs.port {
                    self.warn(
                        K::Conflict,
                        rs.origin,
                        format!("real server port {port} is ignored by a fwmark virtual server"),
                    );
                }
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
                if rs_method == LvsMethod::Dr
                    && let (Some(vport), Some(rport)) = (vs_port, rs.port)
                    && vport != rport
                {
                    self.err(
                        K::Conflict,
                        rs.origin,
                        format!(
                            "real server port {rport} differs from the virtual port {vport}, which DR cannot forward to"
                        ),
                    );
                }
                total_weight += rs.weight.map_or(1, |w| w.max(0) as u64);
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
                        self.warn(
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
            if let Some(q) = vs.quorum {
                if !vs.real_servers.is_empty() && u64::from(q.value) > total_weight {
                    self.err(
                        K::Conflict,
                        q.origin,
                        format!(
                            "quorum {} is above the total weight {total_weight} of the real servers, so it can never be met",
                            q.value
                        ),
                    );
                }
                if let Some(h) = vs.hysteresis
                    && h >= q.value
                {
                    self.err(
                        K::Conflict,
                        q.origin,
                        format!("hysteresis {h} must be below quorum {}", q.value),
                    );
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
            if vs.real_servers.is_empty() && vs.sorry_server.is_none() {
                self.warn(K::Missing, vs.origin, "virtual_server has no real_server");
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
