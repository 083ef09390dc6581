//! Routing received adverts to instances, so one socket can serve many of them.

use std::collections::HashMap;

use crate::{Error, Family, InterfaceId, ReceivedAdvert, RouteKey};

/// Maps (interface, VRID, family) to the caller's handle for an instance (an index, a name...).
///
/// A director with one raw socket per family hands every validated advert to
/// [`route`](Self::route) and feeds the instance it names; adverts for no instance are dropped
/// there (RFC 9568 §7.1: "MUST discard" adverts for a VRID not configured on the interface).
#[derive(Debug, Clone)]
pub struct Demux<K> {
    routes: HashMap<RouteKey, K>,
}

impl<K> Default for Demux<K> {
    fn default() -> Self {
        Self {
            routes: HashMap::new(),
        }
    }
}

impl<K> Demux<K> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handle` for `key`; two instances cannot share a key.
    pub fn insert(&mut self, key: RouteKey, handle: K) -> Result<(), Error> {
        if self.routes.contains_key(&key) {
            return Err(Error::DuplicateRoute {
                interface: key.interface,
                vrid: key.vrid,
                family: key.family,
            });
        }
        self.routes.insert(key, handle);
        Ok(())
    }

    /// Unregisters `key`, returning its handle.
    pub fn remove(&mut self, key: &RouteKey) -> Option<K> {
        self.routes.remove(key)
    }

    /// The instance that accepts a packet received on `interface` for `vrid` in `family`.
    pub fn lookup(&self, interface: InterfaceId, vrid: u8, family: Family) -> Option<&K> {
        self.routes.get(&RouteKey {
            interface,
            vrid,
            family,
        })
    }

    /// The instance that accepts `advert`.
    pub fn route(&self, advert: &ReceivedAdvert<'_>) -> Option<&K> {
        self.routes.get(&advert.route_key())
    }

    /// How many instances are registered.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Version;

    fn advert(interface: u32, vrid: u8, src: &str) -> ReceivedAdvert<'static> {
        ReceivedAdvert {
            version: Version::V3,
            vrid,
            priority: 100,
            max_advert_interval_cs: 100,
            addresses: &[],
            src: src.parse().unwrap(),
            interface: InterfaceId(interface),
        }
    }

    #[test]
    fn routes_by_interface_vrid_and_family() {
        let mut demux = Demux::new();
        let key = |i, v, f| RouteKey {
            interface: InterfaceId(i),
            vrid: v,
            family: f,
        };
        demux.insert(key(2, 7, Family::Ipv4), "a").unwrap();
        demux.insert(key(2, 7, Family::Ipv6), "b").unwrap();
        demux.insert(key(3, 7, Family::Ipv4), "c").unwrap();
        demux.insert(key(2, 8, Family::Ipv4), "d").unwrap();
        assert_eq!(demux.route(&advert(2, 7, "192.0.2.9")), Some(&"a"));
        assert_eq!(demux.route(&advert(2, 7, "fe80::9")), Some(&"b"));
        assert_eq!(demux.route(&advert(3, 7, "192.0.2.9")), Some(&"c"));
        assert_eq!(demux.route(&advert(2, 8, "192.0.2.9")), Some(&"d"));
        assert_eq!(demux.route(&advert(4, 7, "192.0.2.9")), None);
        assert_eq!(demux.route(&advert(3, 7, "fe80::9")), None);
        assert_eq!(demux.lookup(InterfaceId(2), 9, Family::Ipv4), None);
        assert_eq!(
            demux.insert(key(2, 7, Family::Ipv4), "again"),
            Err(Error::DuplicateRoute {
                interface: InterfaceId(2),
                vrid: 7,
                family: Family::Ipv4
            })
        );
        assert_eq!(demux.remove(&key(2, 7, Family::Ipv4)), Some("a"));
        assert_eq!(demux.route(&advert(2, 7, "192.0.2.9")), None);
        assert_eq!(demux.len(), 3);
    }
}
