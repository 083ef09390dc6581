//! Live capture on an AF_PACKET socket.
//!
//! A `SOCK_DGRAM` packet socket hands over the network-layer packet and names its protocol in the
//! sender address (`sockaddr_ll`), so every link type looks the same from here.

use std::mem::MaybeUninit;
use std::time::SystemTime;

use anyhow::Context;
use garp::packet_socket;
use socket2::Type;

use crate::Printer;

pub(crate) fn capture(interface: &str, printer: &mut Printer) -> anyhow::Result<()> {
    let index = packet_socket::ifindex(interface)?;
    let socket = packet_socket::open(Type::DGRAM, packet_socket::ETH_P_ALL)
        .context("AF_PACKET socket (needs CAP_NET_RAW)")?;
    socket
        .bind(&packet_socket::link_addr(
            index,
            packet_socket::ETH_P_ALL,
            None,
        ))
        .with_context(|| format!("bind to {interface}"))?;

    let mut buf = vec![MaybeUninit::<u8>::uninit(); 65_536];
    loop {
        let (len, from) = socket.recv_from(&mut buf).context("receive")?;
        let time = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        // SAFETY: the kernel wrote `len` bytes.
        let data = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), len) };
        let Some(ip) = packet_socket::protocol_of(&from)
            .and_then(|protocol| vrrp_packet::capture::ip_by_ethertype(protocol, data))
        else {
            continue;
        };
        if !printer.ip(time, ip) {
            return Ok(());
        }
    }
}
