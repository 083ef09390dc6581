//! The documentation address ranges, the only ones the testbed will configure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Error;

/// The ranges a test may use: RFC 5737 (IPv4) and RFC 3849 (IPv6) documentation prefixes.
pub const ALLOWED_RANGES: [(IpAddr, u8); 4] = [
    (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 0)), 24),
    (IpAddr::V4(Ipv4Addr::new(198, 51, 100, 0)), 24),
    (IpAddr::V4(Ipv4Addr::new(203, 0, 113, 0)), 24),
    (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
        32,
    ),
];

fn in_prefix(addr: IpAddr, net: IpAddr, len: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Checks that one address lies in a documentation range.
pub fn check_addr(addr: IpAddr) -> Result<IpAddr, Error> {
    if ALLOWED_RANGES
        .iter()
        .any(|&(net, len)| in_prefix(addr, net, len))
    {
        Ok(addr)
    } else {
        Err(Error::AddressNotAllowed(addr.to_string()))
    }
}

/// Parses `ADDR/LEN` (or a bare address, taken as a host route) and checks that the whole prefix
/// lies inside a documentation range: `192.0.2.0/16` is refused even though its first address
/// is allowed.
pub fn check_prefix(text: &str) -> Result<(IpAddr, u8), Error> {
    let bad = || Error::BadAddress(text.to_string());
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (
            a.parse::<IpAddr>().map_err(|_| bad())?,
            Some(l.parse::<u8>().map_err(|_| bad())?),
        ),
        None => (text.parse::<IpAddr>().map_err(|_| bad())?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    if len > max {
        return Err(bad());
    }
    let inside = ALLOWED_RANGES
        .iter()
        .any(|&(net, net_len)| len >= net_len && in_prefix(addr, net, net_len));
    if inside {
        Ok((addr, len))
    } else {
        Err(Error::AddressNotAllowed(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documentation_ranges_pass() {
        for ok in [
            "192.0.2.1/24",
            "198.51.100.255/32",
            "203.0.113.7",
            "2001:db8::1/64",
            "2001:db8:ffff::/48",
        ] {
            assert!(check_prefix(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn other_addresses_are_refused() {
        for bad in [
            "10.0.0.1/8",
            "192.0.3.1/24",
            "192.0.2.0/16",
            "2001:db9::1/64",
            "2001:db8::/16",
            "fe80::1/64",
            "0.0.0.0/0",
        ] {
            assert!(
                matches!(check_prefix(bad), Err(Error::AddressNotAllowed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            check_addr("8.8.8.8".parse().unwrap()),
            Err(Error::AddressNotAllowed(_))
        ));
    }

    #[test]
    fn garbage_is_a_parse_error() {
        for bad in ["", "192.0.2.1/33", "2001:db8::1/129", "x/24", "192.0.2.1/x"] {
            assert!(
                matches!(check_prefix(bad), Err(Error::BadAddress(_))),
                "{bad}"
            );
        }
    }
}
