//! Turning reply messages into the typed view.

use netlink_packet_ipvs::{IpvsAttr, IpvsMessage};

use crate::error::{Error, Result};
use crate::types::{Daemon, Info, Service, Timeouts};

pub(crate) fn services(msgs: &[IpvsMessage]) -> Result<Vec<Service>> {
    let mut out = Vec::with_capacity(msgs.len());
    for msg in msgs {
        for attr in &msg.attrs {
            if let IpvsAttr::Service(attrs) = attr {
                out.push(Service::from_attrs(attrs).map_err(Error::Protocol)?);
            }
        }
    }
    Ok(out)
}

pub(crate) fn daemons(msgs: &[IpvsMessage]) -> Vec<Daemon> {
    msgs.iter()
        .flat_map(|m| &m.attrs)
        .filter_map(|attr| match attr {
            IpvsAttr::Daemon(attrs) => Some(Daemon::from_attrs(attrs)),
            _ => None,
        })
        .collect()
}

pub(crate) fn timeouts(msgs: &[IpvsMessage]) -> Timeouts {
    let mut t = Timeouts::default();
    for attr in msgs.iter().flat_map(|m| &m.attrs) {
        match attr {
            IpvsAttr::TimeoutTcp(v) => t.tcp = *v,
            IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
            IpvsAttr::TimeoutUdp(v) => t.udp = *v,
            _ => {}
        }
    }
    t
}

pub(crate) fn info(msgs: &[IpvsMessage]) -> Result<Info> {
    let mut version = None;
    let mut size = None;
    for attr in msgs.iter().flat_map(|m| &m.attrs) {
        match attr {
            IpvsAttr::InfoVersion(v) => version = Some(*v),
            IpvsAttr::InfoConnTabSize(v) => size = Some(*v),
            _ => {}
        }
    }
    match (version, size) {
        (Some(version), Some(conn_table_size)) => Ok(Info {
            version,
            conn_table_size,
        }),
        _ => Err(Error::Protocol(
            "GET_INFO reply without version or table size".into(),
        )),
    }
}
