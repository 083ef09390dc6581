//! Nests to types and back, and malformed nests as errors.

use netlink_packet_core::{DefaultNla, Emitable, NlasIterator, Parseable};
use netlink_packet_ipvs::{
    DestAttr, IP_VS_SVC_F_HASHED, IP_VS_SVC_F_PERSISTENT, ServiceFlags, Stats32Attr, Stats64Attr,
};

use super::*;

fn stats32(base: u32) -> Vec<Stats32Attr> {
    vec![
        Stats32Attr::Conns(base),
        Stats32Attr::InPkts(base + 1),
        Stats32Attr::OutPkts(base + 2),
        Stats32Attr::InBytes(u64::from(base) << 33),
        Stats32Attr::OutBytes(u64::from(base) + 4),
        Stats32Attr::Cps(base + 5),
        Stats32Attr::InPps(base + 6),
        Stats32Attr::OutPps(base + 7),
        Stats32Attr::InBps(base + 8),
        Stats32Attr::OutBps(base + 9),
        Stats32Attr::Other(DefaultNla::new(11, vec![0; 4])),
    ]
}

fn stats64(base: u64) -> Vec<Stats64Attr> {
    vec![
        Stats64Attr::Conns(base),
        Stats64Attr::InPkts(base << 40),
        Stats64Attr::OutPkts(base + 2),
        Stats64Attr::InBytes(base + 3),
        Stats64Attr::OutBytes(base + 4),
        Stats64Attr::Cps(base + 5),
        Stats64Attr::InPps(base + 6),
        Stats64Attr::OutPps(base + 7),
        Stats64Attr::InBps(base + 8),
        Stats64Attr::OutBps(base + 9),
    ]
}

fn wire<T: netlink_packet_core::Nla>(attrs: &[T]) -> Vec<u8> {
    let mut buf = vec![0; attrs.buffer_len()];
    attrs.emit(&mut buf);
    buf
}

fn parse_all<T>(buf: &[u8]) -> Vec<T>
where
    T: for<'a> Parseable<netlink_packet_core::NlaBuffer<&'a [u8]>>,
{
    NlasIterator::new(buf)
        .map(|nla| T::parse(&nla.unwrap()).unwrap())
        .collect()
}

/// Destination nests as the kernel sends them, and with the odd cases: no 64-bit stats,
/// an IPv6 address with its own family, unknown attributes, attributes out of order.
fn dest_nests() -> Vec<Vec<DestAttr>> {
    let v4 = InetAddr::from(IpAddr::from([198, 51, 100, 7]));
    let v6 = InetAddr::from(IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 9]));
    vec![
        vec![
            DestAttr::Address(v4),
            DestAttr::Port(8080),
            DestAttr::ForwardMethod(ForwardMethod::Masquerade),
            DestAttr::Weight(3),
            DestAttr::UpperThreshold(100),
            DestAttr::LowerThreshold(10),
            DestAttr::ActiveConns(5),
            DestAttr::InactiveConns(6),
            DestAttr::PersistentConns(7),
            DestAttr::Stats(stats32(20)),
            DestAttr::AddressFamily(AF_INET),
            DestAttr::Stats64(stats64(40)),
            DestAttr::TunnelType(TunnelType::Gue),
            DestAttr::TunnelPort(6080),
            DestAttr::TunnelFlags(3),
        ],
        vec![
            DestAttr::Stats(stats32(1)),
            DestAttr::Weight(-1),
            DestAttr::Address(v6),
            DestAttr::AddressFamily(AF_INET6),
            DestAttr::Other(DefaultNla::new(99, vec![1, 2, 3])),
            DestAttr::Port(443),
        ],
        vec![DestAttr::Address(v4)],
    ]
}

#[test]
fn a_destination_read_from_the_wire_equals_the_parsed_one() {
    for nest in dest_nests() {
        let buf = wire(&nest);
        let reference = Destination::from_attrs(&parse_all::<DestAttr>(&buf), Family::V4);
        let fast = Destination::from_nest(&buf, Family::V4);
        assert_eq!(fast, reference, "{nest:?}");
        assert!(fast.is_ok());
    }
    // 64-bit statistics win over 32-bit ones, whatever their order.
    let d = Destination::from_nest(&wire(&dest_nests()[0]), Family::V4).unwrap();
    assert_eq!(d.stats.in_pkts, 40 << 40);
    let d = Destination::from_nest(&wire(&dest_nests()[1]), Family::V4).unwrap();
    assert_eq!(d.stats.in_bytes, 1 << 33);
    assert_eq!(d.addr, "[2001:db8::9]:443".parse().unwrap());
}

#[test]
fn a_service_read_from_the_wire_equals_the_parsed_one() {
    let nests = vec![
        vec![
            ServiceAttr::AddressFamily(AF_INET),
            ServiceAttr::Protocol(IPPROTO_TCP),
            ServiceAttr::Address(InetAddr::from(IpAddr::from([192, 0, 2, 1]))),
            ServiceAttr::Port(80),
            ServiceAttr::Scheduler("wlc".into()),
            ServiceAttr::Flags(ServiceFlags {
                flags: IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_HASHED,
                mask: u32::MAX,
            }),
            ServiceAttr::Timeout(300),
            ServiceAttr::Netmask(Netmask::from_prefix(AF_INET, 24)),
            ServiceAttr::Stats(stats32(3)),
            ServiceAttr::PersistenceEngine("sip".into()),
            ServiceAttr::Stats64(stats64(9)),
        ],
        vec![
            ServiceAttr::Stats64(stats64(1)),
            ServiceAttr::Fwmark(7),
            ServiceAttr::AddressFamily(AF_INET6),
            ServiceAttr::Other(DefaultNla::new(42, vec![0; 8])),
            ServiceAttr::Scheduler("mh".into()),
        ],
    ];
    for nest in nests {
        let buf = wire(&nest);
        let reference = Service::from_attrs(&parse_all::<ServiceAttr>(&buf));
        let fast = Service::from_nest(&buf);
        assert_eq!(fast, reference, "{nest:?}");
        assert!(fast.is_ok());
    }
}

#[test]
fn malformed_nests_are_errors_on_both_paths() {
    let mut buf = wire(&dest_nests()[0]);
    // Cut inside the active-connections attribute: its length now overruns the buffer.
    buf.truncate(66);
    assert!(Destination::from_nest(&buf, Family::V4).is_err());
    // A statistics nest whose inner attribute is too short for its type.
    let bad = [
        12u8, 0, 10, 0, // STATS nest, 8 bytes of value
        8, 0, 4, 0, 1, 2, 3, 4, // INBYTES (u64) with 4 bytes
    ];
    assert!(Destination::from_nest(&bad, Family::V4).is_err());
    assert!(Service::from_nest(&bad).is_err());
    // No address at all.
    assert!(Destination::from_nest(&wire(&[DestAttr::Port(1)]), Family::V4).is_err());
}

/// The family seam agrees with both crates' `of`, both ways, and round-trips.
#[test]
fn family_converts_to_and_from_the_workspace_family() {
    use vrrp_packet::AddressFamily;
    for ip in ["192.0.2.1", "2001:db8::1"] {
        let ip: IpAddr = ip.parse().unwrap();
        assert_eq!(AddressFamily::from(Family::of(ip)), AddressFamily::of(&ip));
        assert_eq!(Family::from(AddressFamily::of(&ip)), Family::of(ip));
    }
    for family in [Family::V4, Family::V6] {
        assert_eq!(Family::from(AddressFamily::from(family)), family);
    }
    assert_eq!(
        (Family::V4.max_prefix(), Family::V6.max_prefix()),
        (32, 128)
    );
}
