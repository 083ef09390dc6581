//! Virtual addresses, routes, rules and VMAC interfaces through rtnetlink, and link-state watching.
//!
//! This is what a VRRP director does to the host when it becomes master or backup:
//! - [`Vip`]: add or remove a virtual address (IPv4 with prefix, broadcast, label and scope; IPv6
//!   with `nodad`), one at a time or a thousand at once ([`Client::add_vips`]);
//! - [`Route`] and [`Rule`]: keepalived's `virtual_routes` and `virtual_rules`;
//! - [`Vmac`]: a macvlan interface in private mode carrying the VRRP virtual MAC
//!   (`00:00:5e:00:01:VRID` for IPv4, `00:00:5e:00:02:VRID` for IPv6), with the sysctls that make
//!   it, and not its base interface, answer ARP for the VIPs;
//! - [`realserver`]: the other end of LVS-DR and LVS-TUN, the VIPs on `lo` (or a tunnel
//!   device) of a real server with the ARP sysctls that keep it quiet, undone exactly;
//! - [`Watcher`]: link up/down (for `track_interface`) and addresses added or removed by anyone,
//!   so a director can put back a VIP that someone deleted while it was master. The watcher
//!   survives an overflow of its event socket (`ENOBUFS`) by reading the kernel's state again.
//!
//! Every change is idempotent: adding what is there, or removing what is not, succeeds and says
//! [`Change::Unchanged`]. Every request is checked before anything is sent (interface exists and
//! is up, address families agree, prefix fits, names are valid), so bad input changes nothing.
//!
//! Everything is `async` on tokio: [`Client::new`] spawns the netlink connection on the current
//! runtime. The network namespace is the one of the thread that calls [`Client::new`] or
//! [`Watcher::new`].
//!
//! ```no_run
//! use vip::{Change, Client, Vip};
//!
//! # async fn run() -> Result<(), vip::Error> {
//! let client = Client::new()?;
//! let vip = Vip::new("192.0.2.10".parse().unwrap(), "eth0")
//!     .prefix(24)
//!     .label("eth0:vip");
//! assert_eq!(client.add_vip(&vip).await?, Change::Changed);
//! assert_eq!(client.add_vip(&vip).await?, Change::Unchanged);
//! client.remove_vip(&vip).await?;
//! # Ok(())
//! # }
//! ```

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod addr;
mod client;
mod error;
pub mod fou;
pub mod fuzz;
mod link;
mod nl;
pub mod realserver;
mod route;
mod vmac;
mod watch;

use std::{fmt, net::IpAddr};

pub use addr::Vip;
pub use client::Client;
pub use error::Error;
pub use link::Link;
pub use route::{Route, RouteKind, Rule, RuleAction};
pub use vmac::{SYSCTL_VMAC_IPV6, SYSCTLS_BASE, SYSCTLS_VMAC, Vmac, vrrp_mac};
pub use watch::{Address, Event, LinkState, Watcher};

/// An IP address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// The longest prefix length in this family (32 or 128).
    pub fn max_prefix(self) -> u8 {
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
        }
    }
}

/// The seam with the VRRP codec's family (`vrrp_packet::AddressFamily`, the workspace's lowest
/// one): `V4` is `Ipv4`, `V6` is `Ipv6`, both ways.
impl From<Family> for vrrp_packet::AddressFamily {
    fn from(family: Family) -> Self {
        match family {
            Family::V4 => Self::Ipv4,
            Family::V6 => Self::Ipv6,
        }
    }
}

impl From<vrrp_packet::AddressFamily> for Family {
    fn from(family: vrrp_packet::AddressFamily) -> Self {
        match family {
            vrrp_packet::AddressFamily::Ipv4 => Self::V4,
            vrrp_packet::AddressFamily::Ipv6 => Self::V6,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        })
    }
}

/// What a change did: callers that keep state (or log) can tell a real change from a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Change {
    /// The kernel's state was changed.
    Changed,
    /// The kernel already was in the requested state; nothing was done.
    Unchanged,
}

/// The scope of an address or route, as `ip` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// `global` (`universe`): valid everywhere.
    #[default]
    Global,
    /// `site`: IPv6 site-local (deprecated, kept for keepalived configurations).
    Site,
    /// `link`: valid only on this link.
    Link,
    /// `host`: valid only inside this host.
    Host,
    /// `nowhere`: the destination does not exist.
    Nowhere,
}

impl Scope {
    /// The kernel's number for the scope (`RT_SCOPE_*`).
    pub fn to_raw(self) -> u8 {
        match self {
            Self::Global => 0,
            Self::Site => 200,
            Self::Link => 253,
            Self::Host => 254,
            Self::Nowhere => 255,
        }
    }

    /// The scope for a kernel number, if it is one of the named ones.
    pub fn from_raw(raw: u8) -> Option<Self> {
        Some(match raw {
            0 => Self::Global,
            200 => Self::Site,
            253 => Self::Link,
            254 => Self::Host,
            255 => Self::Nowhere,
            _ => return None,
        })
    }
}

/// Checks an interface name as the kernel would (`dev_valid_name`).
pub(crate) fn check_ifname(name: &str) -> Result<(), Error> {
    let bad = |reason| {
        Err(Error::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > 15 {
        return bad("longer than 15 bytes");
    }
    if name == "." || name == ".." {
        return bad("reserved name");
    }
    if name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace())
    {
        return bad("contains '/', ':' or white space");
    }
    Ok(())
}

/// Checks that `prefix_len` fits `addr`.
pub(crate) fn check_prefix(addr: IpAddr, prefix_len: u8) -> Result<(), Error> {
    let max = Family::of(&addr).max_prefix();
    if prefix_len > max {
        return Err(Error::InvalidPrefix {
            addr,
            prefix_len,
            max,
        });
    }
    Ok(())
}

/// Checks that `addr` has the `expected` family.
pub(crate) fn check_family(
    what: &'static str,
    expected: Family,
    addr: IpAddr,
) -> Result<(), Error> {
    if Family::of(&addr) != expected {
        return Err(Error::WrongFamily {
            what,
            expected,
            found: addr,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_family_seam_with_the_codec_holds_both_ways() {
        use vrrp_packet::AddressFamily;
        for (ours, codec) in [
            (Family::V4, AddressFamily::Ipv4),
            (Family::V6, AddressFamily::Ipv6),
        ] {
            assert_eq!(AddressFamily::from(ours), codec);
            assert_eq!(Family::from(codec), ours);
        }
    }

    #[test]
    fn interface_names_are_checked_like_the_kernel() {
        assert!(check_ifname("eth0").is_ok());
        assert!(check_ifname("vrrp.4.eth0.2500").is_err(), "16 bytes");
        assert!(check_ifname("vrrp.eth0.250").is_ok());
        for bad in ["", ".", "..", "a/b", "eth0:1", "a b"] {
            assert!(
                matches!(check_ifname(bad), Err(Error::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn scopes_round_trip() {
        for s in [
            Scope::Global,
            Scope::Site,
            Scope::Link,
            Scope::Host,
            Scope::Nowhere,
        ] {
            assert_eq!(Scope::from_raw(s.to_raw()), Some(s));
        }
        assert_eq!(Scope::from_raw(7), None);
    }
}
