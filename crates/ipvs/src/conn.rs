//! The connection table, read from `/proc/net/ip_vs_conn`: IPVS has no netlink dump of
//! connections, so this text file (one header line, then one connection per line, addresses
//! and ports in hex) is the only way to list them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Where the kernel lists IPVS connections.
pub const PROC_IP_VS_CONN: &str = "/proc/net/ip_vs_conn";

/// One entry of the connection table, as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// The protocol as the kernel names it (`TCP`, `UDP`, `SCTP`, ...).
    pub protocol: &'a str,
    /// The client.
    pub client: SocketAddr,
    /// The virtual service's address and port.
    pub virtual_addr: SocketAddr,
    /// The real server the connection goes to.
    pub destination: SocketAddr,
    /// The protocol state as the kernel names it (`ESTABLISHED`, `FIN_WAIT`, ...).
    pub state: &'a str,
    /// Seconds until the entry expires (0 when the kernel wrote something else).
    pub expires: u64,
    /// The persistence engine's name, when the kernel lists one.
    pub pe_name: Option<&'a str>,
    /// The persistence engine's data, when the kernel lists it.
    pub pe_data: Option<&'a str>,
}

/// Reads `/proc/net/ip_vs_conn` whole; parse it with [`connections`].
pub fn read_connection_table() -> std::io::Result<String> {
    std::fs::read_to_string(PROC_IP_VS_CONN)
}

/// The connections in the text of `/proc/net/ip_vs_conn`, in the kernel's order.
///
/// The header line is skipped, and so is any line with fewer than nine fields or an address or
/// port that does not read, as ipvsadm does: the file changes while it is read, so a torn line
/// is expected rather than an error.
pub fn connections(proc_text: &str) -> impl Iterator<Item = Connection<'_>> {
    proc_text.lines().skip(1).filter_map(connection)
}

fn connection(line: &str) -> Option<Connection<'_>> {
    let mut fields = line.split_whitespace();
    let mut next = || fields.next();
    let protocol = next()?;
    let client = endpoint(next()?, next()?)?;
    let virtual_addr = endpoint(next()?, next()?)?;
    let destination = endpoint(next()?, next()?)?;
    let state = next()?;
    let expires = next()?.parse().unwrap_or(0);
    let pe_name = next();
    let pe_data = next();
    Some(Connection {
        protocol,
        client,
        virtual_addr,
        destination,
        state,
        expires,
        pe_name,
        pe_data,
    })
}

/// An address (8 hex digits for IPv4, the usual text for IPv6) and a port in hex.
fn endpoint(addr: &str, port: &str) -> Option<SocketAddr> {
    let ip = if addr.contains(':') {
        IpAddr::V6(addr.parse::<Ipv6Addr>().ok()?)
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(addr, 16).ok()?))
    };
    Some(SocketAddr::new(ip, u16::from_str_radix(port, 16).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The layout of a 6.1 kernel's file (two entries, one with a persistence engine).
    const TEXT: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP C0000264 D431 C0000201 0050 C6336410 0050 ESTABLISHED     899
UDP 2001:0db8:0000:0000:0000:0000:0000:0064 1388 2001:0db8:0000:0000:0000:0000:0000:0001 13C4 2001:0db8:0000:0000:0000:0000:0000:000a 13C4 UDP             299 sip 6162
";

    #[test]
    fn reads_both_families_and_the_persistence_engine() {
        let all: Vec<_> = connections(TEXT).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].protocol, "TCP");
        assert_eq!(all[0].client, "192.0.2.100:54321".parse().unwrap());
        assert_eq!(all[0].virtual_addr, "192.0.2.1:80".parse().unwrap());
        assert_eq!(all[0].destination, "198.51.100.16:80".parse().unwrap());
        assert_eq!(all[0].state, "ESTABLISHED");
        assert_eq!(all[0].expires, 899);
        assert_eq!((all[0].pe_name, all[0].pe_data), (None, None));
        assert_eq!(all[1].client, "[2001:db8::64]:5000".parse().unwrap());
        assert_eq!(all[1].destination, "[2001:db8::a]:5060".parse().unwrap());
        assert_eq!(
            (all[1].pe_name, all[1].pe_data),
            (Some("sip"), Some("6162"))
        );
    }

    #[test]
    fn torn_and_garbled_lines_are_skipped() {
        let text = "header\nTCP C0000264 D431\nTCP zz000264 D431 C0000201 0050 C6336410 0050 X 1\n\
            TCP C0000264 D431 C0000201 0050 C6336410 0050 CLOSE soon\n";
        let all: Vec<_> = connections(text).collect();
        assert_eq!(all.len(), 1);
        assert_eq!((all[0].state, all[0].expires), ("CLOSE", 0));
    }
}
