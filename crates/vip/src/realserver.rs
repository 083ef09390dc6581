//! The real-server side of LVS direct routing (DR) and tunnelling (TUN): what every DR guide's
//! `lvsRealServer.sh` does, through rtnetlink and `/proc/sys`, undone exactly by [`RealServer::down`].
//!
//! - DR: each VIP on `lo` as a host address (`/32`, `/128`), so the real server accepts packets
//!   the director forwards to it unchanged; `arp_ignore=1` and `arp_announce=2` on `lo` and
//!   `all`, so it never answers ARP for the VIP (only the director may) nor uses it as the source
//!   of its own ARP requests. IPv6 needs no sysctl: the kernel answers neighbour solicitations
//!   only for addresses on the interface they arrive on, and `lo` has none of its own.
//! - TUN ([`Tunnel::Ipip`], [`Tunnel::Gre`]): each VIP on the kernel's catch-all tunnel device
//!   (`tunl0` or `gre0`), which receives every IPIP or GRE packet, brought up; the same ARP
//!   sysctls; and `rp_filter=0` on the device and `all`, since the decapsulated packets come
//!   from clients the tunnel has no route back to. IPv4 VIPs only.
//! - TUN over GUE ([`Tunnel::Gue`], keepalived's `lvs_method TUN type gue port N`): as IPIP,
//!   plus a FOU receive port in GUE mode ([`crate::fou`], `ip fou add port N gue`) whose
//!   socket strips the UDP and GUE headers so the inner IPIP packet reaches `tunl0`.
//!
//! [`RealServer::up`] records what it changed in a state file (default
//! [`DEFAULT_STATE_FILE`]): every sysctl's previous value (the first time it is changed), every
//! address it added (not those already there), every link it brought up or created. A second
//! `up` changes nothing and records nothing more; [`RealServer::down`] removes the addresses it
//! added, and once none is left restores the sysctls, closes the FOU port it opened, sets the
//! links down again, deletes the links it created and removes the state file. The fallback
//! tunnel devices appear with their kernel module and cannot be deleted; `down` leaves them
//! down.
//!
//! The state file is text, one change a line, in the order made (written whole to a temporary
//! file and renamed, after every change, so an interrupted `up` can still be undone):
//!
//! ```text
//! # lvskit real-server state: what `up` changed; `down` restores it.
//! sysctl net/ipv4/conf/all/arp_ignore 0
//! link-up tunl0
//! fou-port 6080
//! address 192.0.2.10/32 tunl0
//! ```
//!
//! Sysctls and netlink act in the network namespace of the calling thread (create the
//! [`Client`] on the same thread).

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use netlink_packet_route::link::LinkMessage;
use rtnetlink::{LinkGre, LinkIpIp};

use crate::vmac::{read_sysctl, write_sysctl};
use crate::{Change, Client, Error, Family, Vip};

/// Where [`RealServer`] records its changes unless told otherwise.
pub const DEFAULT_STATE_FILE: &str = "/run/lvskit/realserver.state";

/// The ARP sysctls of a DR or TUN real server, set on `lo` and `all`.
pub const SYSCTLS_ARP: &[(&str, &str)] = &[("arp_ignore", "1"), ("arp_announce", "2")];

/// How LVS-TUN packets reach the real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tunnel {
    /// IP in IP (keepalived's `lvs_method TUN`, the default): device `tunl0`.
    Ipip,
    /// GRE (`lvs_method TUN type gre`): device `gre0`.
    Gre,
    /// IPIP inside GUE on this UDP port (`lvs_method TUN type gue port N`): device `tunl0`
    /// and a FOU receive port.
    Gue(u16),
}

impl Tunnel {
    /// The kernel's catch-all device for this encapsulation.
    pub fn device(self) -> &'static str {
        match self {
            Self::Ipip | Self::Gue(_) => "tunl0",
            Self::Gre => "gre0",
        }
    }

    fn create_message(self) -> LinkMessage {
        match self {
            Self::Ipip | Self::Gue(_) => LinkIpIp::new(self.device()).build(),
            Self::Gre => LinkGre::new(self.device()).build(),
        }
    }
}

/// What [`RealServer::up`] changed, as the state file records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Sysctls (path under `/proc/sys`) and the value they had before.
    pub sysctls: Vec<(String, String)>,
    /// Addresses added: address, prefix length, device.
    pub addresses: Vec<(IpAddr, u8, String)>,
    /// Links that were down and were brought up.
    pub links_up: Vec<String>,
    /// Links that were created.
    pub links_created: Vec<String>,
    /// FOU ports that were opened.
    pub fou_ports: Vec<u16>,
}

impl Changes {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.sysctls.is_empty()
            && self.addresses.is_empty()
            && self.links_up.is_empty()
            && self.links_created.is_empty()
            && self.fou_ports.is_empty()
    }

    /// The state file's text.
    pub fn to_text(&self) -> String {
        let mut out =
            String::from("# lvskit real-server state: what `up` changed; `down` restores it.\n");
        for name in &self.links_created {
            out.push_str(&format!("link-created {name}\n"));
        }
        for name in &self.links_up {
            out.push_str(&format!("link-up {name}\n"));
        }
        for port in &self.fou_ports {
            out.push_str(&format!("fou-port {port}\n"));
        }
        for (path, value) in &self.sysctls {
            out.push_str(&format!("sysctl {path} {value}\n"));
        }
        for (addr, len, dev) in &self.addresses {
            out.push_str(&format!("address {addr}/{len} {dev}\n"));
        }
        out
    }

    /// Reads a state file's text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut changes = Self::default();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad =
                || Error::Invalid(format!("state file line {}: cannot read {line:?}", no + 1));
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["link-created", name] => changes.links_created.push((*name).to_string()),
                ["link-up", name] => changes.links_up.push((*name).to_string()),
                ["fou-port", port] => changes.fou_ports.push(port.parse().map_err(|_| bad())?),
                ["sysctl", path, value] if sysctl_path_ok(path) => {
                    changes
                        .sysctls
                        .push(((*path).to_string(), (*value).to_string()));
                }
                ["address", cidr, dev] => {
                    let (addr, len) = cidr.split_once('/').ok_or_else(bad)?;
                    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
                    let len: u8 = len.parse().map_err(|_| bad())?;
                    changes.addresses.push((addr, len, (*dev).to_string()));
                }
                _ => return Err(bad()),
            }
        }
        Ok(changes)
    }
}

/// Only the per-interface IPv4 sysctls this module writes may appear in a state file, so a
/// tampered file cannot make `down` write elsewhere under `/proc/sys`.
fn sysctl_path_ok(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("net/ipv4/conf/") else {
        return false;
    };
    let mut parts = rest.split('/');
    let (Some(dev), Some(key), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    crate::check_ifname(dev).is_ok() && matches!(key, "arp_ignore" | "arp_announce" | "rp_filter")
}

/// A real server's VIPs and how it receives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServer {
    /// The VIPs.
    pub vips: Vec<IpAddr>,
    /// `None` for direct routing, else the tunnel.
    pub tunnel: Option<Tunnel>,
    /// Where the changes are recorded.
    pub state_file: PathBuf,
}

impl RealServer {
    /// A DR real server for these VIPs, recording to [`DEFAULT_STATE_FILE`].
    pub fn new(vips: impl IntoIterator<Item = IpAddr>) -> Self {
        Self {
            vips: vips.into_iter().collect(),
            tunnel: None,
            state_file: PathBuf::from(DEFAULT_STATE_FILE),
        }
    }

    /// Receives the VIPs through a tunnel (LVS-TUN) instead.
    pub fn tunnel(mut self, tunnel: Tunnel) -> Self {
        self.tunnel = Some(tunnel);
        self
    }

    /// Records to another state file.
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = path.into();
        self
    }

    /// The device the VIPs go on.
    pub fn device(&self) -> &'static str {
        self.tunnel.map_or("lo", Tunnel::device)
    }

    /// Checks the request before anything is changed.
    pub fn validate(&self) -> Result<(), Error> {
        if self.vips.is_empty() {
            return Err(Error::Invalid(
                "a real server needs at least one VIP".into(),
            ));
        }
        if self.tunnel == Some(Tunnel::Gue(0)) {
            return Err(Error::Invalid("a GUE port cannot be 0".into()));
        }
        for (i, v) in self.vips.iter().enumerate() {
            if self.vips[..i].contains(v) {
                return Err(Error::Invalid(format!("VIP {v} is given twice")));
            }
            if v.is_unspecified() || v.is_loopback() || v.is_multicast() {
                return Err(Error::Invalid(format!("{v} cannot be a VIP")));
            }
            if let (Some(t), IpAddr::V6(_)) = (self.tunnel, v) {
                return Err(Error::WrongFamily {
                    what: match t {
                        Tunnel::Ipip => "VIP of an IPIP real server",
                        Tunnel::Gre => "VIP of a GRE real server",
                        Tunnel::Gue(_) => "VIP of a GUE real server",
                    },
                    expected: Family::V4,
                    found: *v,
                });
            }
        }
        Ok(())
    }

    /// Configures the real server; idempotent. Says whether anything changed.
    pub async fn up(&self, client: &Client) -> Result<Change, Error> {
        self.validate()?;
        let mut state = load(&self.state_file)?;
        let mut change = Change::Unchanged;
        let dev = self.device();
        let record = |state: &Changes| save(&self.state_file, state);

        // The device, up.
        if let Some(tunnel) = self.tunnel
            && matches!(client.link(dev).await, Err(Error::NoSuchInterface { .. }))
        {
            // Loads the module, which makes the catch-all device in every namespace (then
            // this request finds it there), or makes one of that name where it does not.
            if client
                .create_link(tunnel.create_message(), "create tunnel device")
                .await?
                == Change::Changed
            {
                state.links_created.push(dev.to_string());
                record(&state)?;
                change = Change::Changed;
            }
        }
        let link = client.link(dev).await?;
        if !link.up {
            client.set_link_up(link.index, true).await?;
            if !state.links_created.iter().any(|l| l == dev)
                && !state.links_up.iter().any(|l| l == dev)
            {
                state.links_up.push(dev.to_string());
            }
            record(&state)?;
            change = Change::Changed;
        }

        // The GUE receive port.
        if let Some(Tunnel::Gue(port)) = self.tunnel
            && crate::fou::add_fou_port(crate::fou::FouPort::gue(port))? == Change::Changed
        {
            if !state.fou_ports.contains(&port) {
                state.fou_ports.push(port);
            }
            record(&state)?;
            change = Change::Changed;
        }

        // The sysctls.
        let mut wanted: Vec<(String, &str)> = Vec::new();
        if self.vips.iter().any(IpAddr::is_ipv4) {
            for d in ["lo", "all"] {
                for (key, value) in SYSCTLS_ARP {
                    wanted.push((format!("net/ipv4/conf/{d}/{key}"), value));
                }
            }
        }
        if self.tunnel.is_some() {
            for d in [dev, "all"] {
                wanted.push((format!("net/ipv4/conf/{d}/rp_filter"), "0"));
            }
        }
        for (path, value) in wanted {
            let full = format!("/proc/sys/{path}");
            let old = read_sysctl(&full)?;
            if old != value {
                if !state.sysctls.iter().any(|(p, _)| *p == path) {
                    state.sysctls.push((path, old));
                    record(&state)?;
                }
                write_sysctl(&full, value)?;
                change = Change::Changed;
            }
        }

        // The VIPs.
        for &addr in &self.vips {
            let vip = Vip::new(addr, dev);
            if client.add_vip(&vip).await? == Change::Changed {
                state
                    .addresses
                    .push((addr, vip.prefix_len, dev.to_string()));
                record(&state)?;
                change = Change::Changed;
            }
        }
        Ok(change)
    }

    /// Undoes what [`Self::up`] recorded: the addresses of these VIPs (every recorded one when
    /// `vips` is empty), and, once no recorded address is left, the sysctls and links. Without
    /// a state file there is nothing to undo.
    pub async fn down(&self, client: &Client) -> Result<Change, Error> {
        if !self.state_file.exists() {
            return Ok(Change::Unchanged);
        }
        let mut state = load(&self.state_file)?;
        let mut change = Change::Unchanged;
        let mut kept = Vec::new();
        for (addr, len, dev) in std::mem::take(&mut state.addresses) {
            if !self.vips.is_empty() && !self.vips.contains(&addr) {
                kept.push((addr, len, dev));
                continue;
            }
            if client.remove_vip(&Vip::new(addr, &dev).prefix(len)).await? == Change::Changed {
                change = Change::Changed;
            }
        }
        state.addresses = kept;
        if !state.addresses.is_empty() {
            save(&self.state_file, &state)?;
            return Ok(change);
        }
        for (path, value) in state.sysctls.iter().rev() {
            let full = format!("/proc/sys/{path}");
            // An interface that went away took its sysctls with it.
            if Path::new(&full).exists() && read_sysctl(&full)? != *value {
                write_sysctl(&full, value)?;
                change = Change::Changed;
            }
        }
        for &port in state.fou_ports.iter().rev() {
            if crate::fou::remove_fou_port(port)? == Change::Changed {
                change = Change::Changed;
            }
        }
        for name in state.links_up.iter().rev() {
            match client.link(name).await {
                Ok(link) if link.up => {
                    client.set_link_up(link.index, false).await?;
                    change = Change::Changed;
                }
                Ok(_) | Err(Error::NoSuchInterface { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        for name in state.links_created.iter().rev() {
            if client.delete_link(name).await? == Change::Changed {
                change = Change::Changed;
            }
        }
        std::fs::remove_file(&self.state_file)
            .map_err(|source| state_error(&self.state_file, source))?;
        Ok(change)
    }
}

fn state_error(path: &Path, source: std::io::Error) -> Error {
    Error::StateFile {
        path: path.display().to_string(),
        source,
    }
}

fn load(path: &Path) -> Result<Changes, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Changes::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Changes::default()),
        Err(e) => Err(state_error(path, e)),
    }
}

/// Writes the state whole: a temporary file beside it, then a rename.
fn save(path: &Path, state: &Changes) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| state_error(dir, e))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(|e| state_error(&tmp, e))?;
    f.write_all(state.to_text().as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| state_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| state_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_text_round_trip() {
        let c = Changes {
            sysctls: vec![("net/ipv4/conf/all/arp_ignore".into(), "0".into())],
            addresses: vec![("192.0.2.10".parse().unwrap(), 32, "lo".into())],
            links_up: vec!["tunl0".into()],
            links_created: vec!["gre0".into()],
            fou_ports: vec![6080],
        };
        assert_eq!(Changes::parse(&c.to_text()).unwrap(), c);
    }

    #[test]
    fn state_file_cannot_write_other_sysctls() {
        for bad in [
            "sysctl kernel/core_pattern |/tmp/x",
            "sysctl net/ipv4/conf/../../../kernel/x 1",
            "sysctl net/ipv4/ip_forward 1",
            "address 192.0.2.1 lo",
            "nonsense",
        ] {
            assert!(Changes::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validation() {
        let v4: IpAddr = "192.0.2.10".parse().unwrap();
        let v6: IpAddr = "2001:db8::10".parse().unwrap();
        assert!(RealServer::new([v4, v6]).validate().is_ok());
        assert!(RealServer::new([]).validate().is_err());
        assert!(RealServer::new([v4, v4]).validate().is_err());
        assert!(
            RealServer::new([v6])
                .tunnel(Tunnel::Ipip)
                .validate()
                .is_err()
        );
        assert!(
            RealServer::new(["127.0.0.1".parse().unwrap()])
                .validate()
                .is_err()
        );
        assert_eq!(RealServer::new([v4]).tunnel(Tunnel::Gre).device(), "gre0");
        assert_eq!(
            RealServer::new([v4]).tunnel(Tunnel::Gue(6080)).device(),
            "tunl0"
        );
        assert!(
            RealServer::new([v4])
                .tunnel(Tunnel::Gue(0))
                .validate()
                .is_err()
        );
        assert!(Changes::parse("fou-port 70000").is_err());
    }
}
