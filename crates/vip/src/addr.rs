//! Virtual addresses: what keepalived's `virtual_ipaddress` lines describe.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::{
    AddressFamily,
    address::{AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressScope},
};

use crate::{Error, Family, Scope, check_family, check_ifname, check_prefix};

/// One virtual address on one interface.
///
/// Build it with [`Vip::new`] and the chained setters; [`Vip::validate`] (which every
/// [`Client`](crate::Client) method calls first) says whether the kernel could take it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Vip {
    /// The address.
    pub addr: IpAddr,
    /// Its prefix length: `/32` or `/128` unless set.
    pub prefix_len: u8,
    /// The interface it goes on.
    pub dev: String,
    /// IPv4 only: the broadcast address (`brd`); none unless set.
    pub broadcast: Option<Ipv4Addr>,
    /// IPv4 only: the label (`eth0:1`); it must start with the interface name.
    pub label: Option<String>,
    /// The address scope; `global` unless set.
    pub scope: Scope,
    /// IPv6 only: skip duplicate address detection, so the address is usable at once (on by
    /// default, as a VIP moves between routers and must not sit tentative after a takeover).
    pub nodad: bool,
    /// Do not add the prefix route that the kernel adds for a prefix shorter than the address.
    pub noprefixroute: bool,
}

impl Vip {
    /// A VIP with a host prefix (`/32`, `/128`), global scope, no broadcast and no label.
    pub fn new(addr: IpAddr, dev: impl Into<String>) -> Self {
        Self {
            addr,
            prefix_len: Family::of(&addr).max_prefix(),
            dev: dev.into(),
            broadcast: None,
            label: None,
            scope: Scope::Global,
            nodad: addr.is_ipv6(),
            noprefixroute: false,
        }
    }

    /// Sets the prefix length.
    pub fn prefix(mut self, prefix_len: u8) -> Self {
        self.prefix_len = prefix_len;
        self
    }

    /// Sets the IPv4 broadcast address.
    pub fn broadcast(mut self, broadcast: Ipv4Addr) -> Self {
        self.broadcast = Some(broadcast);
        self
    }

    /// Sets the IPv4 broadcast address to the last address of the prefix (`brd +`).
    ///
    /// Call it after [`Vip::prefix`]. For an IPv6 VIP it does nothing.
    pub fn broadcast_from_prefix(mut self) -> Self {
        if let IpAddr::V4(v4) = self.addr
            && self.prefix_len < 31
        {
            let host_bits = u32::MAX
                .checked_shr(u32::from(self.prefix_len))
                .unwrap_or(0);
            self.broadcast = Some(Ipv4Addr::from(u32::from(v4) | host_bits));
        }
        self
    }

    /// Sets the IPv4 label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Turns IPv6 duplicate address detection off (`true`) or on (`false`).
    pub fn nodad(mut self, nodad: bool) -> Self {
        self.nodad = nodad;
        self
    }

    /// Asks the kernel not to add a prefix route.
    pub fn noprefixroute(mut self, noprefixroute: bool) -> Self {
        self.noprefixroute = noprefixroute;
        self
    }

    /// The address family.
    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }

    /// Checks everything that can be checked without asking the kernel.
    pub fn validate(&self) -> Result<(), Error> {
        check_ifname(&self.dev)?;
        check_prefix(self.addr, self.prefix_len)?;
        if let Some(brd) = self.broadcast {
            check_family("broadcast", self.family(), IpAddr::V4(brd))?;
        }
        if let Some(label) = &self.label {
            let bad = |reason| {
                Err(Error::InvalidLabel {
                    label: label.clone(),
                    reason,
                })
            };
            if self.family() != Family::V4 {
                return bad("labels exist only for IPv4 addresses");
            }
            if label.len() > 15 {
                return bad("longer than 15 bytes");
            }
            if !label.starts_with(self.dev.as_str()) {
                return bad("must start with the interface name");
            }
        }
        if self.nodad && self.family() == Family::V4 {
            return Err(Error::Invalid(format!(
                "nodad is for IPv6 addresses, not {}",
                self.addr
            )));
        }
        if self.addr.is_multicast() || self.addr.is_unspecified() {
            return Err(Error::Invalid(format!(
                "{} cannot be an interface address",
                self.addr
            )));
        }
        Ok(())
    }

    /// The `RTM_NEWADDR` / `RTM_DELADDR` message for this VIP on interface `index`.
    pub(crate) fn message(&self, index: u32) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = match self.family() {
            Family::V4 => AddressFamily::Inet,
            Family::V6 => AddressFamily::Inet6,
        };
        msg.header.prefix_len = self.prefix_len;
        msg.header.scope = AddressScope::from(self.scope.to_raw());
        msg.header.index = index;
        let mut flags = AddressFlags::empty();
        if self.nodad {
            msg.header.flags = AddressHeaderFlags::Nodad;
            flags |= AddressFlags::Nodad;
        }
        if self.noprefixroute {
            flags |= AddressFlags::Noprefixroute;
        }
        msg.attributes.push(AddressAttribute::Local(self.addr));
        msg.attributes.push(AddressAttribute::Address(self.addr));
        if let Some(brd) = self.broadcast {
            msg.attributes.push(AddressAttribute::Broadcast(brd));
        }
        if let Some(label) = &self.label {
            msg.attributes.push(AddressAttribute::Label(label.clone()));
        }
        if !flags.is_empty() {
            msg.attributes.push(AddressAttribute::Flags(flags));
        }
        msg
    }

    /// How an address the kernel reports differs from this VIP, if it does (`None`: same).
    pub(crate) fn difference(&self, existing: &AddressMessage) -> Option<String> {
        let mut diffs = Vec::new();
        if existing.header.prefix_len != self.prefix_len {
            diffs.push(format!(
                "prefix /{} instead of /{}",
                existing.header.prefix_len, self.prefix_len
            ));
        }
        if u8::from(existing.header.scope) != self.scope.to_raw() {
            diffs.push(format!("scope {}", existing.header.scope));
        }
        if self.family() == Family::V4 {
            let label = existing.attributes.iter().find_map(|a| match a {
                AddressAttribute::Label(l) => Some(l.as_str()),
                _ => None,
            });
            // The kernel reports the interface name as the label of an unlabelled address.
            let wanted = self.label.as_deref().unwrap_or(&self.dev);
            if let Some(label) = label
                && label != wanted
            {
                diffs.push(format!("label {label:?} instead of {wanted:?}"));
            }
            let brd = existing.attributes.iter().find_map(|a| match a {
                AddressAttribute::Broadcast(b) => Some(*b),
                _ => None,
            });
            if brd != self.broadcast {
                diffs.push(format!("broadcast {brd:?} instead of {:?}", self.broadcast));
            }
        }
        if diffs.is_empty() {
            None
        } else {
            Some(diffs.join(", "))
        }
    }
}

/// The address an `RTM_NEWADDR`/`RTM_DELADDR` message is about (`IFA_LOCAL`, else
/// `IFA_ADDRESS`).
pub(crate) fn message_address(msg: &AddressMessage) -> Option<IpAddr> {
    let local = msg.attributes.iter().find_map(|a| match a {
        AddressAttribute::Local(ip) => Some(*ip),
        _ => None,
    });
    local.or_else(|| {
        msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(ip) => Some(*ip),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_are_host_prefixes() {
        let a = Vip::new(v4("192.0.2.1"), "eth0");
        assert_eq!(a.prefix_len, 32);
        assert!(!a.nodad);
        let b = Vip::new(v4("2001:db8::1"), "eth0");
        assert_eq!(b.prefix_len, 128);
        assert!(b.nodad);
        a.validate().unwrap();
        b.validate().unwrap();
    }

    #[test]
    fn broadcast_from_prefix() {
        let a = Vip::new(v4("192.0.2.17"), "eth0")
            .prefix(24)
            .broadcast_from_prefix();
        assert_eq!(a.broadcast, Some("192.0.2.255".parse().unwrap()));
        let b = Vip::new(v4("192.0.2.17"), "eth0")
            .prefix(0)
            .broadcast_from_prefix();
        assert_eq!(b.broadcast, Some(Ipv4Addr::BROADCAST));
        let c = Vip::new(v4("192.0.2.17"), "eth0").broadcast_from_prefix();
        assert_eq!(c.broadcast, None, "no broadcast on a /32");
    }

    #[test]
    fn bad_vips_are_refused_with_the_reason() {
        let e = Vip::new(v4("192.0.2.1"), "eth0").prefix(33).validate();
        assert!(
            matches!(e, Err(Error::InvalidPrefix { max: 32, .. })),
            "{e:?}"
        );
        let e = Vip::new(v4("2001:db8::1"), "eth0")
            .broadcast("192.0.2.255".parse().unwrap())
            .validate();
        assert!(
            matches!(
                e,
                Err(Error::WrongFamily {
                    expected: Family::V6,
                    ..
                })
            ),
            "{e:?}"
        );
        let e = Vip::new(v4("192.0.2.1"), "eth0").label("eth1:1").validate();
        assert!(matches!(e, Err(Error::InvalidLabel { .. })), "{e:?}");
        let e = Vip::new(v4("2001:db8::1"), "eth0")
            .label("eth0:1")
            .validate();
        assert!(matches!(e, Err(Error::InvalidLabel { .. })), "{e:?}");
        let e = Vip::new(v4("192.0.2.1"), "eth0").nodad(true).validate();
        assert!(matches!(e, Err(Error::Invalid(_))), "{e:?}");
        let e = Vip::new(v4("224.0.0.18"), "eth0").validate();
        assert!(matches!(e, Err(Error::Invalid(_))), "{e:?}");
        let e = Vip::new(v4("192.0.2.1"), "eth0:1").validate();
        assert!(matches!(e, Err(Error::InvalidName { .. })), "{e:?}");
    }

    #[test]
    fn message_carries_every_field() {
        let vip = Vip::new(v4("192.0.2.17"), "eth0")
            .prefix(24)
            .broadcast("192.0.2.255".parse().unwrap())
            .label("eth0:1")
            .scope(Scope::Link);
        let msg = vip.message(7);
        assert_eq!(msg.header.index, 7);
        assert_eq!(msg.header.prefix_len, 24);
        assert_eq!(msg.header.family, AddressFamily::Inet);
        assert_eq!(msg.header.scope, AddressScope::Link);
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Local(v4("192.0.2.17")))
        );
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Label("eth0:1".into()))
        );
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Broadcast("192.0.2.255".parse().unwrap()))
        );
        assert_eq!(message_address(&msg), Some(v4("192.0.2.17")));
        assert_eq!(vip.difference(&msg), None);

        let other = Vip::new(v4("192.0.2.17"), "eth0").prefix(24);
        let diff = other.difference(&msg).unwrap();
        assert!(
            diff.contains("label") && diff.contains("broadcast"),
            "{diff}"
        );
    }

    #[test]
    fn ipv6_message_has_nodad() {
        let msg = Vip::new(v4("2001:db8::5"), "eth0").message(3);
        assert_eq!(msg.header.family, AddressFamily::Inet6);
        assert!(msg.header.flags.contains(AddressHeaderFlags::Nodad));
        assert!(
            msg.attributes
                .contains(&AddressAttribute::Flags(AddressFlags::Nodad))
        );
    }
}
