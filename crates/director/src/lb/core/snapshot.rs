//! [`Balancer::snapshot`]: the load balancer's state as [`crate::state`] data.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use healthcheck::{Check, CheckId};

use super::Balancer;
use crate::state::{CheckState, LbState, RealServerState, VirtualServerState};

/// keepalived's name of a checker block.
fn kind(check: &Check) -> &'static str {
    match check {
        Check::Tcp(_) => "TCP_CHECK",
        Check::Http(h) if h.tls.is_some() => "SSL_GET",
        Check::Http(_) => "HTTP_GET",
        Check::Smtp(_) => "SMTP_CHECK",
        Check::Dns(_) => "DNS_CHECK",
        Check::Misc(_) => "MISC_CHECK",
        Check::Udp(_) => "UDP_CHECK",
        Check::Ping(_) => "PING_CHECK",
        _ => "custom",
    }
}

impl Balancer {
    /// Every virtual and real server with its check states and weights in the desired table, as
    /// plain data. `verdict` tells the reason and age in milliseconds of a check's last verdict
    /// (the core keeps only up/down); a check without one is `unknown`. IPVS counters are left `None`: the
    /// driver fills them in from the kernel. Changes nothing.
    pub fn snapshot(&self, verdict: impl Fn(CheckId) -> Option<(String, f64)>) -> LbState {
        let mut checks: BTreeMap<String, u64> = ["up", "down", "unknown"]
            .into_iter()
            .map(|s| (s.to_string(), 0))
            .collect();
        let virtual_servers = self
            .setup
            .virtual_servers
            .iter()
            .zip(&self.states)
            .map(|(vs, st)| {
                let sorry_active = !st.quorum_up && vs.sorry_server.is_some();
                let real_servers = vs
                    .real_servers
                    .iter()
                    .zip(&st.real_servers)
                    .map(|(rs, rst)| {
                        let table_weight = vs.services.first().and_then(|service| {
                            let dest = rs.destination(&service.key);
                            let weight = self
                                .table
                                .services
                                .get(&service.key)?
                                .destinations
                                .get(&dest.addr)?
                                .weight;
                            Some(u32::try_from(weight).unwrap_or(0))
                        });
                        let rs_checks = rs
                            .checks
                            .iter()
                            .zip(&rst.checks)
                            .map(|(setup, c)| {
                                let known = verdict(c.id);
                                let state = match (&known, c.up) {
                                    (None, _) => "unknown",
                                    (Some(_), true) => "up",
                                    (Some(_), false) => "down",
                                };
                                *checks.entry(state.to_string()).or_default() += 1;
                                let (reason, since_ms_ago) = match known {
                                    Some((reason, ago)) => (Some(reason), Some(ago)),
                                    None => (None, None),
                                };
                                CheckState {
                                    kind: kind(&setup.check).to_string(),
                                    state: state.to_string(),
                                    reason,
                                    since_ms_ago,
                                }
                            })
                            .collect();
                        let address = match rs.port {
                            Some(port) => SocketAddr::new(rs.addr, port).to_string(),
                            None => rs.addr.to_string(),
                        };
                        RealServerState {
                            address,
                            weight: u32::try_from(rs.template.weight).unwrap_or(0),
                            table_weight,
                            alive: rst.alive(),
                            checks: rs_checks,
                            stats: None,
                        }
                    })
                    .collect();
                VirtualServerState {
                    name: vs.name.clone(),
                    location: vs.location.clone(),
                    services: vs.services.iter().map(|s| s.key.to_string()).collect(),
                    scheduler: vs
                        .services
                        .first()
                        .map(|s| s.scheduler.clone())
                        .unwrap_or_default(),
                    quorum: vs.quorum,
                    quorum_up: st.quorum_up,
                    sorry_active,
                    real_servers,
                    stats: None,
                }
            })
            .collect();
        LbState {
            virtual_servers,
            checks,
            reloads: 0,
            reload_ms_total: 0.0,
            ipvs_read: false,
        }
    }
}
