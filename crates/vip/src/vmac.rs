//! VMAC interfaces: a macvlan in private mode that carries the VRRP virtual MAC, so that after a
//! takeover the VIPs keep their MAC address and neighbours need no new ARP entry.

use std::{
    fs,
    io::ErrorKind,
    net::{IpAddr, Ipv6Addr},
};

use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};

use crate::{Change, Error, Family, check_ifname};

/// The VRRP virtual MAC for a virtual router (RFC 5798 §7.3): `00:00:5e:00:01:VRID` for IPv4,
/// `00:00:5e:00:02:VRID` for IPv6.
pub fn vrrp_mac(family: Family, vrid: u8) -> [u8; 6] {
    vrrp_packet::virtual_mac(family.into(), vrid)
}

/// The IPv4 sysctls set on a VMAC interface (under `/proc/sys/net/ipv4/conf/<vmac>/`):
/// - `arp_ignore=1`: answer ARP only for addresses configured on the VMAC itself (the VIPs),
///   never for the base interface's own address with the virtual MAC;
/// - `arp_filter=0`: do not second-guess that answer through the routing table;
/// - `accept_local=1`: accept packets whose source is a local address (our own adverts come back
///   through the base interface);
/// - `rp_filter=0`: no reverse-path filtering, since replies leave through the base interface.
pub const SYSCTLS_VMAC: &[(&str, &str)] = &[
    ("arp_ignore", "1"),
    ("arp_filter", "0"),
    ("accept_local", "1"),
    ("rp_filter", "0"),
];

/// The IPv6 sysctl set on an IPv4 VMAC (under `/proc/sys/net/ipv6/conf/<vmac>/`), before it is
/// brought up: `disable_ipv6=1`. Otherwise the kernel gives it a link-local address derived from
/// the virtual MAC, which is the same on every router of the group and fails duplicate address
/// detection on all of them (and an IPv4 instance has no use for IPv6 there).
pub const SYSCTL_VMAC_IPV6: (&str, &str) = ("disable_ipv6", "1");

/// The IPv4 sysctls set on the base interface of a VMAC:
/// - `arp_ignore=1` and `arp_filter=1`: the base interface does not answer ARP for the VIPs with
///   its own MAC (the macvlan does, with the virtual one);
/// - `arp_announce=2`: ARP requests leaving the base interface (to resolve a neighbour for a
///   reply sent from a VIP) carry the base's own address as sender, not the VIP, so neighbours do
///   not re-learn the VIP with the base MAC.
pub const SYSCTLS_BASE: &[(&str, &str)] = &[
    ("arp_ignore", "1"),
    ("arp_filter", "1"),
    ("arp_announce", "2"),
];

/// A VMAC interface: a macvlan named `name` on `base`, in private mode, with the VRRP MAC of
/// `vrid` for `family` (or `mac` if set).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Vmac {
    /// The macvlan's name (keepalived's default is `vrrp.VRID`).
    pub name: String,
    /// The interface it sits on.
    pub base: String,
    /// The virtual router id.
    pub vrid: u8,
    /// Which VRRP MAC to use, and which sysctls to set.
    pub family: Family,
    /// A MAC address to use instead of the VRRP one (keepalived's `use_vmac NAME MAC`).
    pub mac: Option<[u8; 6]>,
    /// Whether to set [`SYSCTLS_VMAC`] and [`SYSCTLS_BASE`] (IPv4); on by default.
    pub sysctls: bool,
    /// IPv6 only: a link-local address to put on the VMAC (with `nodad`). The kernel generates
    /// none on an IPv6 VMAC (see [`Vmac::new`]), but VRRPv3 adverts sent on the VMAC need one;
    /// the base interface's own link-local address is the usual choice.
    pub link_local: Option<Ipv6Addr>,
}

impl Vmac {
    /// A VMAC for `vrid` named `name` on `base`, with the VRRP MAC and the sysctls.
    ///
    /// An IPv6 VMAC is created with IPv6 address generation off: the link-local address the
    /// kernel would derive from the virtual MAC is the same on every router of the group and
    /// would fail DAD. Give it one with [`Vmac::link_local`].
    pub fn new(name: impl Into<String>, base: impl Into<String>, vrid: u8, family: Family) -> Self {
        Self {
            name: name.into(),
            base: base.into(),
            vrid,
            family,
            mac: None,
            sysctls: true,
            link_local: None,
        }
    }

    /// Puts `addr` (an `fe80::/10` address) on an IPv6 VMAC as its link-local address.
    pub fn link_local(mut self, addr: Ipv6Addr) -> Self {
        self.link_local = Some(addr);
        self
    }

    /// The link-local address as a VIP on this VMAC, if one is set.
    pub(crate) fn link_local_vip(&self) -> Option<crate::Vip> {
        self.link_local.map(|ll| {
            crate::Vip::new(IpAddr::V6(ll), self.name.clone())
                .prefix(64)
                .scope(crate::Scope::Link)
        })
    }

    /// Uses `mac` instead of the VRRP MAC.
    pub fn mac(mut self, mac: [u8; 6]) -> Self {
        self.mac = Some(mac);
        self
    }

    /// Sets (`true`) or leaves alone (`false`) the ARP sysctls.
    pub fn sysctls(mut self, sysctls: bool) -> Self {
        self.sysctls = sysctls;
        self
    }

    /// The MAC address the interface carries.
    pub fn hw_addr(&self) -> [u8; 6] {
        self.mac.unwrap_or_else(|| vrrp_mac(self.family, self.vrid))
    }

    /// Checks everything that can be checked without asking the kernel.
    pub fn validate(&self) -> Result<(), Error> {
        check_ifname(&self.name)?;
        check_ifname(&self.base)?;
        if self.name == self.base {
            return Err(Error::Invalid(format!(
                "the VMAC cannot have its base's name {:?}",
                self.base
            )));
        }
        if let Some(ll) = self.link_local {
            if self.family != Family::V6 {
                return Err(Error::WrongFamily {
                    what: "link_local",
                    expected: Family::V4,
                    found: IpAddr::V6(ll),
                });
            }
            if ll.segments()[0] & 0xffc0 != 0xfe80 {
                return Err(Error::Invalid(format!(
                    "{ll} is not a link-local (fe80::/10) address"
                )));
            }
        }
        if self.vrid == 0 {
            return Err(Error::Invalid(
                "VRID 0 is not a virtual router id (1-255)".into(),
            ));
        }
        let mac = self.hw_addr();
        if mac[0] & 1 == 1 || mac == [0; 6] {
            return Err(Error::Invalid(format!(
                "{} is not a unicast MAC address",
                crate::link::fmt_mac(&mac)
            )));
        }
        Ok(())
    }

    /// The `RTM_NEWLINK` message that creates the macvlan (down; it is brought up after the
    /// sysctls are set).
    pub(crate) fn create_message(&self, base_index: u32) -> LinkMessage {
        let mut msg = LinkMessage::default();
        msg.attributes
            .push(LinkAttribute::IfName(self.name.clone()));
        msg.attributes.push(LinkAttribute::Link(base_index));
        msg.attributes
            .push(LinkAttribute::Address(self.hw_addr().to_vec()));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                MacVlanMode::Private,
            )])),
        ]));
        msg
    }

    /// For an IPv6 VMAC, the `RTM_SETLINK` message that stops the kernel from generating a
    /// link-local address: the one it would derive from the virtual MAC is the same on every
    /// router of the group, so it would fail DAD. (The kernel refuses this attribute when the
    /// link is created, so it is set between creation and bringing the link up.)
    pub(crate) fn addr_gen_message(&self, index: u32) -> Option<LinkMessage> {
        if self.family != Family::V6 {
            return None;
        }
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.attributes
            .push(LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
                vec![AfSpecInet6::AddrGenMode(In6AddrGenMode::None)],
            )]));
        Some(msg)
    }

    /// The `RTM_NEWLINK` (set) message that brings interface `index` up.
    pub(crate) fn up_message(index: u32) -> LinkMessage {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg
    }

    /// Writes the sysctls of an IPv4 VMAC (in the calling thread's network namespace), each only
    /// if it differs; says whether any did. IPv6 is switched off on the VMAC
    /// ([`SYSCTL_VMAC_IPV6`]) whatever `sysctls` says; the ARP ones follow `sysctls`.
    pub(crate) fn write_sysctls(&self) -> Result<Change, Error> {
        let mut change = Change::Unchanged;
        if self.family != Family::V4 {
            return Ok(change);
        }
        let (key, value) = SYSCTL_VMAC_IPV6;
        let path = format!("/proc/sys/net/ipv6/conf/{}/{key}", self.name);
        // No such file: a kernel without IPv6 (or with it off everywhere): nothing to do.
        if std::path::Path::new(&path).exists() && read_sysctl(&path)? != value {
            write_sysctl(&path, value)?;
            change = Change::Changed;
        }
        if !self.sysctls {
            return Ok(change);
        }
        for (dev, list) in [(&self.name, SYSCTLS_VMAC), (&self.base, SYSCTLS_BASE)] {
            for (key, value) in list {
                let path = format!("/proc/sys/net/ipv4/conf/{dev}/{key}");
                if read_sysctl(&path)? != *value {
                    write_sysctl(&path, value)?;
                    change = Change::Changed;
                }
            }
        }
        Ok(change)
    }
}

/// Writes one sysctl file.
pub(crate) fn write_sysctl(path: &str, value: &str) -> Result<(), Error> {
    fs::write(path, value).map_err(|source| {
        if source.kind() == ErrorKind::PermissionDenied {
            Error::Permission { op: "write sysctl" }
        } else {
            Error::Sysctl {
                path: path.to_owned(),
                source,
            }
        }
    })
}

/// Reads one sysctl file, trimmed.
pub(crate) fn read_sysctl(path: &str) -> Result<String, Error> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|source| Error::Sysctl {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrrp_macs() {
        assert_eq!(vrrp_mac(Family::V4, 7), [0, 0, 0x5e, 0, 1, 7]);
        assert_eq!(vrrp_mac(Family::V6, 255), [0, 0, 0x5e, 0, 2, 255]);
        assert_eq!(
            Vmac::new("vrrp.7", "eth0", 7, Family::V4).hw_addr(),
            [0, 0, 0x5e, 0, 1, 7]
        );
        assert_eq!(
            Vmac::new("v", "eth0", 7, Family::V4)
                .mac([2, 0, 0, 0, 0, 1])
                .hw_addr(),
            [2, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn bad_vmacs_are_refused() {
        for (v, what) in [
            (Vmac::new("vrrp.0", "eth0", 0, Family::V4), "vrid 0"),
            (Vmac::new("eth0", "eth0", 1, Family::V4), "same name"),
            (
                Vmac::new("a-very-long-vmac-name", "eth0", 1, Family::V4),
                "long name",
            ),
            (
                Vmac::new("vrrp.1", "eth0", 1, Family::V4).mac([1, 0, 0, 0, 0, 1]),
                "multicast MAC",
            ),
        ] {
            assert!(v.validate().is_err(), "{what}");
        }
        Vmac::new("vrrp.1", "eth0", 1, Family::V6)
            .validate()
            .unwrap();
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        Vmac::new("vrrp.1", "eth0", 1, Family::V6)
            .link_local(ll)
            .validate()
            .unwrap();
        assert!(matches!(
            Vmac::new("vrrp.1", "eth0", 1, Family::V4)
                .link_local(ll)
                .validate(),
            Err(Error::WrongFamily { .. })
        ));
        assert!(matches!(
            Vmac::new("vrrp.1", "eth0", 1, Family::V6)
                .link_local("2001:db8::1".parse().unwrap())
                .validate(),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn create_message_is_private_macvlan() {
        let m = Vmac::new("vrrp.9", "eth0", 9, Family::V6).create_message(3);
        assert!(m.attributes.contains(&LinkAttribute::Link(3)));
        assert!(
            m.attributes
                .contains(&LinkAttribute::Address(vec![0, 0, 0x5e, 0, 2, 9]))
        );
        let link = crate::Link::from_message(&m);
        assert_eq!(link.macvlan_private, Some(true));
        assert_eq!(link.kind.as_deref(), Some("macvlan"));
        assert!(!link.up, "created down, brought up after the sysctls");
    }
}
