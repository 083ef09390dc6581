//! Addresses and persistence netmasks, whose wire form depends on the address family.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::DecodeError;

use crate::{AF_INET, AF_INET6};

/// An address as IPVS carries it: the 16 bytes of `union nf_inet_addr`.
///
/// The kernel always sends 16 bytes, an IPv4 address sitting in the first four, so the bytes
/// alone do not say which family they hold: pair them with the `AF`/`ADDR_FAMILY` attribute via
/// [`InetAddr::to_ip`]. Parsing also accepts a bare 4-byte IPv4 address, which the kernel takes
/// as input too; emitting always writes 16 bytes, as ipvsadm does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct InetAddr(pub [u8; 16]);

impl InetAddr {
    /// Bytes on the wire.
    pub const LEN: usize = 16;

    /// The address, read in the given family (`AF_INET` or `AF_INET6`); `None` for another family.
    pub fn to_ip(&self, family: u16) -> Option<IpAddr> {
        match family {
            AF_INET => {
                let [a, b, c, d, ..] = self.0;
                Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            }
            AF_INET6 => Some(IpAddr::V6(Ipv6Addr::from(self.0))),
            _ => None,
        }
    }

    /// The family number that goes with an address.
    pub fn family_of(ip: IpAddr) -> u16 {
        match ip {
            IpAddr::V4(_) => AF_INET,
            IpAddr::V6(_) => AF_INET6,
        }
    }

    pub(crate) fn parse(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut bytes = [0; 16];
        match payload.len() {
            4 | 16 => bytes[..payload.len()].copy_from_slice(payload),
            n => {
                return Err(DecodeError::from(format!(
                    "expected a 4- or 16-byte address, found {n} bytes"
                )));
            }
        }
        Ok(Self(bytes))
    }
}

impl From<IpAddr> for InetAddr {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => v4.into(),
            IpAddr::V6(v6) => v6.into(),
        }
    }
}

impl From<Ipv4Addr> for InetAddr {
    fn from(ip: Ipv4Addr) -> Self {
        let mut bytes = [0; 16];
        bytes[..4].copy_from_slice(&ip.octets());
        Self(bytes)
    }
}

impl From<Ipv6Addr> for InetAddr {
    fn from(ip: Ipv6Addr) -> Self {
        Self(ip.octets())
    }
}

/// The persistence netmask of a service, as the four raw bytes of `IPVS_SVC_ATTR_NETMASK`.
///
/// For IPv4 the kernel wants a network-order mask (`255.255.255.0` is `ff ff ff 00`); for IPv6 it
/// wants a prefix length in host order (`64` is `40 00 00 00` on x86). Build one with
/// [`Netmask::from_v4_mask`] / [`Netmask::from_v6_prefix`] or [`Netmask::from_prefix`], read it
/// back with [`Netmask::prefix_len`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Netmask(pub [u8; 4]);

impl Netmask {
    /// An IPv4 mask, sent as is in network order.
    pub fn from_v4_mask(mask: Ipv4Addr) -> Self {
        Self(mask.octets())
    }

    /// An IPv6 prefix length, sent as a host-order `u32`.
    pub fn from_v6_prefix(prefix: u32) -> Self {
        Self(prefix.to_ne_bytes())
    }

    /// A prefix length in the given family: an IPv4 prefix becomes the contiguous mask.
    pub fn from_prefix(family: u16, prefix: u8) -> Self {
        if family == AF_INET6 {
            Self::from_v6_prefix(u32::from(prefix))
        } else {
            let bits = u32::from(prefix.min(32));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            Self::from_v4_mask(Ipv4Addr::from(mask))
        }
    }

    /// The IPv4 mask these bytes hold.
    pub fn v4_mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.0)
    }

    /// The IPv6 prefix length these bytes hold.
    pub fn v6_prefix(&self) -> u32 {
        u32::from_ne_bytes(self.0)
    }

    /// The prefix length in the given family: for IPv4 the number of leading one bits of the mask.
    pub fn prefix_len(&self, family: u16) -> u32 {
        if family == AF_INET6 {
            self.v6_prefix()
        } else {
            u32::from_be_bytes(self.0).leading_ones()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_address_sits_in_the_first_four_bytes() {
        let addr = InetAddr::from(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(&addr.0[..4], &[192, 0, 2, 1]);
        assert_eq!(&addr.0[4..], &[0; 12]);
        assert_eq!(addr.to_ip(AF_INET), Some("192.0.2.1".parse().unwrap()));
        assert_eq!(InetAddr::parse(&[192, 0, 2, 1]).unwrap(), addr);
        assert!(InetAddr::parse(&[1, 2, 3]).is_err());
    }

    #[test]
    fn netmask_is_a_mask_for_v4_and_a_host_order_prefix_for_v6() {
        let v4 = Netmask::from_prefix(AF_INET, 24);
        assert_eq!(v4.0, [255, 255, 255, 0]);
        assert_eq!(v4.prefix_len(AF_INET), 24);
        assert_eq!(Netmask::from_prefix(AF_INET, 0).0, [0; 4]);
        let v6 = Netmask::from_prefix(AF_INET6, 64);
        assert_eq!(v6.0, 64u32.to_ne_bytes());
        assert_eq!(v6.prefix_len(AF_INET6), 64);
    }
}
