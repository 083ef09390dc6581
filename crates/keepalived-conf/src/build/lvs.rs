//! The LVS blocks: `virtual_server_group`, `virtual_server`, `real_server`.

use std::net::IpAddr;

use super::{Builder, is_checker, node_origin, span};
use crate::diag::DiagnosticKind as K;
use crate::keywords;
use crate::model::*;
use crate::source::Spanned;
use crate::tree::Node;

impl<'s> Builder<'_, 's> {
    pub(super) fn vs_group(&mut self, node: &Node<'s>) -> VirtualServerGroup {
        let mut g = VirtualServerGroup {
            name: self.name_arg(node, "a group name"),
            origin: node_origin(node),
            entries: Vec::new(),
        };
        for item in self.block(node) {
            self.no_block(item);
            if item.keyword.text == "fwmark" {
                self.too_many(item, 2);
                let Some(w) = self.arg(item, 0, "a mark") else {
                    continue;
                };
                let Some(mark) = self.int_word(w, 1, u32::MAX.into()) else {
                    continue;
                };
                let family = match self.args(item).get(1).map(|w| (w, w.s())) {
                    None => None,
                    Some((_, "inet")) => Some(Family::Inet),
                    Some((_, "inet6")) => Some(Family::Inet6),
                    Some((w, other)) => {
                        self.err(
                            K::InvalidValue,
                            span(w),
                            format!("expected inet or inet6, found `{other}`"),
                        );
                        None
                    }
                };
                g.entries.push(GroupEntry::Fwmark {
                    mark: mark as u32,
                    family,
                });
                continue;
            }
            self.too_many(item, 1);
            let text = &item.keyword.text;
            // ADDR-LAST: the range suffix follows the last '-'.
            let (addr_text, range) = match text.rsplit_once('-') {
                Some((a, r)) if a.parse::<IpAddr>().is_ok() => (a, Some(r)),
                _ => (&**text, None),
            };
            let Ok(addr) = addr_text.parse::<IpAddr>() else {
                self.err(
                    K::InvalidValue,
                    node_origin(item),
                    format!("expected ADDRESS[-LAST] [PORT] or fwmark N, found `{text}`"),
                );
                continue;
            };
            let range_end = match range {
                None => None,
                Some(r) => {
                    let parsed = if addr.is_ipv4() {
                        r.parse::<u8>().ok().map(u16::from)
                    } else {
                        u16::from_str_radix(r, 16).ok()
                    };
                    let first = match addr {
                        IpAddr::V4(a) => u16::from(a.octets()[3]),
                        IpAddr::V6(a) => a.segments()[7],
                    };
                    match parsed {
                        Some(end) if end >= first => Some(end),
                        _ => {
                            self.err(
                                K::InvalidValue,
                                node_origin(item),
                                format!("range end `{r}` is not a number at or above the start of `{text}`"),
                            );
                            continue;
                        }
                    }
                }
            };
            let port = match self.args(item).first() {
                Some(p) => self.port_word(p),
                None => None,
            };
            g.entries.push(GroupEntry::Addr {
                addr,
                range_end,
                port,
            });
        }
        g
    }

    /// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
    pub(super) fn lvs_method(&mut self, node: &Node<'s>) -> Option<LvsMethod> {
        self.no_block(node);
        let word = self.arg(node, 0, "NAT, DR or TUN")?;
        match word.s() {
            "NAT" | "DR" => {
                self.too_many(node, 1);
                Some(if word.text == "NAT" {
                    LvsMethod::Nat
                } else {
                    LvsMethod::Dr
                })
            }
            "TUN" => {
                let mut tunnel_type = None;
                let mut checksum = None;
                let mut args = self.args(node)[1..].iter();
                while let Some(w) = args.next() {
                    match w.s() {
                        "type" => match args.next().map(|t| (t, t.s())) {
                            Some((_, "ipip")) => tunnel_type = Some(TunnelType::Ipip),
                            Some((_, "gre")) => tunnel_type = Some(TunnelType::Gre),
                            Some((_, "gue")) => {
                                let port_kw = args.next();
                                let port = args.next();
                                match (port_kw.map(|p| p.s()), port) {
                                    (Some("port"), Some(p)) => {
                                        if let Some(port) = self.port_word(p) {
                                            tunnel_type = Some(TunnelType::Gue { port });
                                        }
                                    }
                                    _ => self.err(
                                        K::Missing,
                                        span(w),
                                        "tunnel type gue needs `port N`",
                                    ),
                                }
                            }
                            Some((t, other)) => self.err(
                                K::InvalidValue,
                                span(t),
                                format!("expected ipip, gue or gre, found `{other}`"),
                            ),
                            None => self.err(K::Missing, span(w), "`type` needs ipip, gue or gre"),
                        },
                        "nocsum" => checksum = Some(TunnelChecksum::NoCsum),
                        "csum" => checksum = Some(TunnelChecksum::Csum),
                        "remcsum" => checksum = Some(TunnelChecksum::RemCsum),
                        other => self.err(
                            K::InvalidValue,
                            span(w),
                            format!("unexpected `{other}` after TUN"),
                        ),
                    }
                }
                if checksum.is_some()
                    && !matches!(
                        tunnel_type,
                        Some(TunnelType::Gue { .. }) | Some(TunnelType::Gre)
                    )
                {
                    self.err(
                        K::Conflict,
                        node_origin(node),
                        "tunnel checksum options need type gue or gre",
                    );
                }
                Some(LvsMethod::Tun {
                    tunnel_type,
                    checksum,
                })
            }
            other => {
                self.err(
                    K::InvalidValue,
                    span(word),
                    format!("expected NAT, DR or TUN, found `{other}`"),
                );
                None
            }
        }
    }

    /// The options shared by virtual servers, real servers and checkers; false if not one.
    /// `in_checker`: the node is inside a checker, the only place `nb_get_retry` is read.
    pub(super) fn check_default(
        &mut self,
        node: &Node<'s>,
        d: &mut CheckDefaults,
        in_checker: bool,
    ) -> bool {
        match node.keyword.s() {
            "nb_get_retry" if !in_checker => return false,
            "connect_timeout" => d.connect_timeout = self.timer(node),
            "retry" => d.retry = self.u32(node),
            "nb_get_retry" => {
                self.deprecated(node, "retry");
                d.retry = self.u32(node);
            }
            "delay_before_retry" => d.delay_before_retry = self.timer(node),
            "warmup" => d.warmup = self.timer(node),
            "delay_loop" => d.delay_loop = self.timer(node),
            "alpha" => d.alpha = self.flag(node),
            "inhibit_on_failure" => d.inhibit_on_failure = self.flag(node),
            "smtp_alert" => d.smtp_alert = self.flag(node),
            "virtualhost" => d.virtualhost = self.string(node),
            _ => return false,
        }
        true
    }

    pub(super) fn virtual_server(&mut self, node: &Node<'s>) -> Option<VirtualServer> {
        let origin = node_origin(node);
        let first = self.arg(node, 0, "ADDRESS [PORT], fwmark N or group NAME");
        let addr = match first.map(|w| (w, w.s())) {
            None => None,
            Some((_, "fwmark")) => {
                self.too_many(node, 2);
                self.arg(node, 1, "a mark")
                    .and_then(|w| self.int_word(w, 1, u32::MAX.into()))
                    .map(|m| VirtualServerAddr::Fwmark(m as u32))
            }
            Some((_, "group")) => {
                self.too_many(node, 2);
                self.arg(node, 1, "a group name")
                    .map(|w| VirtualServerAddr::Group(w.text.to_string()))
            }
            Some((w, _)) => {
                self.too_many(node, 2);
                let addr = self.ip_word(w);
                let port = match self.args(node).get(1) {
                    Some(p) => self.port_word(p),
                    None => None,
                };
                addr.map(|addr| VirtualServerAddr::Ip { addr, port })
            }
        };
        let mut vs = VirtualServer {
            origin,
            ..VirtualServer::new(addr.clone().unwrap_or(VirtualServerAddr::Fwmark(0)))
        };
        let block = self.block(node);
        vs.real_servers = Vec::with_capacity(
            block
                .iter()
                .filter(|n| n.keyword.s() == "real_server")
                .count(),
        );
        for item in block {
            let kw = item.keyword.s();
            if self.check_default(item, &mut vs.defaults, false) {
                continue;
            }
            match kw {
                "lvs_sched" | "lb_algo" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "a scheduler")
                    } {
                        match LvsSched::ALL.iter().find(|(_, n)| *n == w.text) {
                            Some((s, _)) => vs.lvs_sched = Some(*s),
                            None => self.err(
                                K::InvalidValue,
                                span(w),
                                format!("unknown scheduler `{}` (expected rr, wrr, lc, wlc, lblc, lblcr, dh, sh, mh, sed, nq, fo, ovf or twos)", w.text),
                            ),
                        }
                    }
                }
                "flag-1" => vs.flag_1 = self.bare(item),
                "flag-2" => vs.flag_2 = self.bare(item),
                // keepalived reads these against the scheduler set so far: they need sh (or
                // mh) before them, and `hashed` is never more than this message.
                kw @ ("sh-fallback" | "mh-fallback" | "sh-port" | "mh-port" | "hashed") => {
                    let flag = self.bare(item);
                    let wanted = match kw {
                        "sh-fallback" | "sh-port" => Some(LvsSched::Sh),
                        "mh-fallback" | "mh-port" => Some(LvsSched::Mh),
                        _ => None,
                    };
                    if !matches!(vs.lvs_sched, Some(LvsSched::Sh | LvsSched::Mh)) {
                        self.err(
                            K::Conflict,
                            node_origin(item),
                            format!("`{kw}` only applies to the sh and mh schedulers (set before it); it is ignored"),
                        );
                    } else if wanted == vs.lvs_sched {
                        if kw.ends_with("fallback") {
                            vs.flag_1 = flag;
                        } else {
                            vs.flag_2 = flag;
                        }
                    }
                }
                "flag-3" => vs.flag_3 = self.bare(item),
                "ops" => vs.ops = self.bare(item),
                "lvs_method" | "lb_kind" => vs.lvs_method = self.lvs_method(item),
                "persistence_engine" => vs.persistence_engine = self.string(item),
                "persistence_timeout" => {
                    self.no_block(item);
                    self.too_many(item, 1);
                    vs.persistence_timeout = match self.args(item).first() {
                        None => Some(None),
                        Some(w) => self.int_word(w, 1, u32::MAX.into()).map(|t| Some(t as u32)),
                    };
                }
                "persistence_granularity" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "a netmask or prefix length")
                    } {
                        if let Ok(mask) = w.text.parse::<std::net::Ipv4Addr>() {
                            let bits = u32::from(mask);
                            if bits.leading_ones() + bits.trailing_zeros() == 32 {
                                vs.persistence_granularity = Some(Granularity::Mask(mask));
                            } else {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("`{mask}` is not a contiguous netmask"),
                                );
                            }
                        } else if let Some(n) = self.int_word(w, 1, 128) {
                            vs.persistence_granularity = Some(Granularity::PrefixLen(n as u8));
                        }
                    }
                }
                "protocol" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.too_many(item, 1);
                        self.arg(item, 0, "TCP, UDP or SCTP")
                    } {
                        vs.protocol = match w.s() {
                            "TCP" => Some(Protocol::Tcp),
                            "UDP" => Some(Protocol::Udp),
                            "SCTP" => Some(Protocol::Sctp),
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("expected TCP, UDP or SCTP, found `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "ha_suspend" => vs.ha_suspend = self.bare(item),
                "snmp_name" => vs.snmp_name = self.string(item),
                "omega" => vs.omega = self.bare(item),
                "weight" => vs.weight = self.int(item, 1, i32::MAX.into()).map(|w| w as u32),
                "quorum" => {
                    vs.quorum = self.int(item, 1, u32::MAX.into()).map(|q| Spanned {
                        value: q as u32,
                        origin: span(&self.args(item)[0]),
                    });
                }
                "hysteresis" => vs.hysteresis = self.u32(item),
                "quorum_up" => vs.quorum_up = self.script(item),
                "quorum_down" => vs.quorum_down = self.script(item),
                "ip_family" => {
                    if let Some(w) = {
                        self.no_block(item);
                        self.arg(item, 0, "inet or inet6")
                    } {
                        vs.ip_family = match w.s() {
                            "inet" => Some(Family::Inet),
                            "inet6" => Some(Family::Inet6),
                            other => {
                                self.err(
                                    K::InvalidValue,
                                    span(w),
                                    format!("expected inet or inet6, found `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "sorry_server" => {
                    self.no_block(item);
                    self.too_many(item, 2);
                    if let Some(w) = self.arg(item, 0, "an address") {
                        let addr = self.ip_word(w);
                        let port = match self.args(item).get(1) {
                            Some(p) => self.port_word(p),
                            None => None,
                        };
                        vs.sorry_server = addr.map(|addr| SorryServer { addr, port });
                    }
                }
                "sorry_server_inhibit" => vs.sorry_server_inhibit = self.bare(item),
                "sorry_server_lvs_method" => vs.sorry_server_lvs_method = self.lvs_method(item),
                "real_server" => {
                    if let Some(rs) = self.real_server(item) {
                        vs.real_servers.push(rs);
                    }
                }
                _ => self.other(
                    item,
                    keywords::VIRTUAL_SERVER,
                    "virtual_server",
                    &mut vs.extra,
                ),
            }
        }
        addr.map(|_| vs)
    }

    pub(super) fn real_server(&mut self, node: &Node<'s>) -> Option<RealServer> {
        self.too_many(node, 2);
        let addr = self
            .arg(node, 0, "ADDRESS [PORT]")
            .and_then(|w| self.ip_word(w));
        let port = match self.args(node).get(1) {
            Some(p) => self.port_word(p),
            None => None,
        };
        let mut rs = RealServer {
            origin: node_origin(node),
            ..RealServer::new(
                addr.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
                port,
            )
        };
        // real_server may be written without a block (no checker).
        let block = self.kids(node);
        rs.checkers =
            Vec::with_capacity(block.iter().filter(|n| is_checker(n.keyword.s())).count());
        for item in block {
            if self.check_default(item, &mut rs.defaults, false) {
                continue;
            }
            match item.keyword.s() {
                "weight" => {
                    rs.weight = self.int(item, 0, 65535).map(|w| w as i32);
                }
                "lvs_method" => rs.lvs_method = self.lvs_method(item),
                "notify_up" => rs.notify_up = self.script(item).map(Box::new),
                "notify_down" => rs.notify_down = self.script(item).map(Box::new),
                "uthreshold" => rs.uthreshold = self.u32(item),
                "lthreshold" => rs.lthreshold = self.u32(item),
                "snmp_name" => rs.snmp_name = self.string(item),
                kw if is_checker(kw) => {
                    let c = self.checker(item);
                    rs.checkers.push(c);
                }
                _ => self.other(item, keywords::REAL_SERVER, "real_server", &mut rs.extra),
            }
        }
        if let (Some(u), Some(l)) = (rs.uthreshold, rs.lthreshold)
            && l > u
        {
            self.err(
                K::Conflict,
                rs.origin,
                format!("lthreshold {l} is above uthreshold {u}"),
            );
        }
        addr.map(|_| rs)
    }
}
