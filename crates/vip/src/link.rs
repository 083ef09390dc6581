//! What we need to know about an interface.

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoMacVlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};

/// An interface as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Operationally up (`IFF_RUNNING`: up and carrier present).
    pub running: bool,
    /// The hardware address, when it is an Ethernet one.
    pub mac: Option<[u8; 6]>,
    /// The link kind (`macvlan`, `veth`, `dummy`...), when it has one.
    pub kind: Option<String>,
    /// The index of the interface this one sits on (`IFLA_LINK`), for macvlans and the like.
    pub parent: Option<u32>,
    /// For a macvlan: whether it is in private mode.
    pub macvlan_private: Option<bool>,
}

impl Link {
    /// Reads a `RTM_NEWLINK` message.
    pub(crate) fn from_message(msg: &LinkMessage) -> Self {
        let mut link = Self {
            index: msg.header.index,
            name: String::new(),
            up: msg.header.flags.contains(LinkFlags::Up),
            running: msg.header.flags.contains(LinkFlags::Running),
            mac: None,
            kind: None,
            parent: None,
            macvlan_private: None,
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(name) => link.name.clone_from(name),
                LinkAttribute::Address(mac) => link.mac = <[u8; 6]>::try_from(mac.as_slice()).ok(),
                LinkAttribute::Link(parent) => link.parent = Some(*parent),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        match info {
                            LinkInfo::Kind(kind) => link.kind = Some(kind_name(kind)),
                            LinkInfo::Data(InfoData::MacVlan(data)) => {
                                for d in data {
                                    if let InfoMacVlan::Mode(mode) = d {
                                        link.macvlan_private = Some(*mode == MacVlanMode::Private);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        link
    }

    /// Up and running: what `track_interface` calls "up".
    pub fn is_usable(&self) -> bool {
        self.up && self.running
    }
}

fn kind_name(kind: &InfoKind) -> String {
    kind.to_string()
}

/// Formats a MAC address as `ip` does.
pub(crate) fn fmt_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_macvlan_message() {
        let mut msg = LinkMessage::default();
        msg.header.index = 9;
        msg.header.flags = LinkFlags::Up | LinkFlags::Running;
        msg.attributes.push(LinkAttribute::IfName("vrrp.7".into()));
        msg.attributes
            .push(LinkAttribute::Address(vec![0, 0, 0x5e, 0, 1, 7]));
        msg.attributes.push(LinkAttribute::Link(2));
        msg.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::MacVlan),
            LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                MacVlanMode::Private,
            )])),
        ]));
        let link = Link::from_message(&msg);
        assert_eq!(link.index, 9);
        assert_eq!(link.name, "vrrp.7");
        assert!(link.is_usable());
        assert_eq!(link.mac, Some([0, 0, 0x5e, 0, 1, 7]));
        assert_eq!(link.parent, Some(2));
        assert_eq!(link.kind.as_deref(), Some("macvlan"));
        assert_eq!(link.macvlan_private, Some(true));
        assert_eq!(fmt_mac(&link.mac.unwrap()), "00:00:5e:00:01:07");
    }
}
