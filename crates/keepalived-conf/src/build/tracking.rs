//! The tracking and pacing blocks of the VRRP side (`vrrp_track_process`, `bfd_instance`,
//! `track_group`, `garp_group`, `linkbeat_interfaces`, `interface_up_down_delays`) and the
//! top-level settings.

use super::{Builder, node_origin, parse_timer, span};
use crate::diag::DiagnosticKind as K;
use crate::model::*;
use crate::tree::Node;

impl<'s> Builder<'_, 's> {
    /// A top-level setting outside any block; false when `node` is not one.
    pub(super) fn top_setting(&mut self, node: &Node<'s>, top: &mut TopLevel) -> bool {
        match node.keyword.s() {
            "net_namespace" => top.net_namespace = self.string(node),
            "net_namespace_ipvs" => {
                self.no_block(node);
                self.too_many(node, 1);
                top.net_namespace_ipvs = Some(self.args(node).first().map(|w| w.text.to_string()));
            }
            "namespace_with_ipsets" => top.namespace_with_ipsets = self.bare(node),
            "use_pid_dir" => top.use_pid_dir = self.bare(node),
            "instance" => top.instance = self.string(node),
            "child_wait_time" => top.child_wait_time = self.u32(node),
            "linkbeat_use_polling" => top.linkbeat_use_polling = self.bare(node),
            _ => return false,
        }
        true
    }

    pub(super) fn track_process(&mut self, node: &Node<'s>) -> TrackProcess {
        let mut t = TrackProcess {
            name: self.name_arg(node, "a process tracker name"),
            origin: node_origin(node),
            ..TrackProcess::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "process" => {
                    self.no_block(item);
                    if self.arg(item, 0, "a process name").is_some() {
                        t.process = self.args(item).iter().map(|w| w.text.to_string()).collect();
                    }
                }
                "param_match" => {
                    self.no_block(item);
                    self.too_many(item, 1);
                    t.param_match = match self.args(item).first().map(|w| (w, w.s())) {
                        None => Some(ParamMatch::Exact),
                        Some((_, "initial")) => Some(ParamMatch::Initial),
                        Some((_, "partial")) => Some(ParamMatch::Partial),
                        Some((w, other)) => {
                            self.err(
                                K::InvalidValue,
                                span(w),
                                format!("expected `initial` or `partial`, found `{other}`"),
                            );
                            None
                        }
                    };
                }
                "weight" => t.weight = self.weight(item, -254, 254),
                "quorum" => t.quorum = self.int(item, 1, u32::MAX.into()).map(|v| v as u32),
                "quorum_max" => t.quorum_max = self.u32(item),
                "delay" => t.delay = self.timer(item),
                "terminate_delay" => t.terminate_delay = self.timer(item),
                "fork_delay" => t.fork_delay = self.timer(item),
                "full_command" => t.full_command = self.bare(item),
                _ => self.unknown(item, "vrrp_track_process"),
            }
        }
        if t.process.is_empty() {
            self.err(
                K::Missing,
                t.origin,
                format!("vrrp_track_process `{}` has no `process`", t.name),
            );
        }
        if let (Some(min), Some(max)) = (t.quorum, t.quorum_max)
            && min > max
        {
            self.err(
                K::Conflict,
                t.origin,
                format!("quorum {min} is above quorum_max {max}"),
            );
        }
        t
    }

    /// A BFD interval, written in milliseconds with up to three decimals, in microseconds.
    fn bfd_interval(&mut self, node: &Node<'s>, min_ms: u32) -> Option<u32> {
        let max_ms = u32::MAX / 1000;
        let timer = self.timer(node)?;
        // The text was read as seconds; it means milliseconds.
        let micros = timer.as_micros() / 1000;
        if (u64::from(min_ms) * 1000..=u64::from(max_ms) * 1000).contains(&micros) {
            Some(micros as u32)
        } else {
            self.err(
                K::OutOfRange,
                span(&self.args(node)[0]),
                format!(
                    "`{}` must be from {min_ms} to {max_ms} milliseconds",
                    node.keyword.text
                ),
            );
            None
        }
    }

    pub(super) fn bfd_instance(&mut self, node: &Node<'s>) -> BfdInstance {
        let mut b = BfdInstance {
            name: self.name_arg(node, "a BFD instance name"),
            origin: node_origin(node),
            ..BfdInstance::default()
        };
        if b.name.len() > 31 {
            self.err(
                K::OutOfRange,
                b.origin,
                format!(
                    "bfd_instance name `{}` is longer than 31 characters",
                    b.name
                ),
            );
        }
        for item in self.block(node) {
            match item.keyword.s() {
                "neighbor_ip" | "neighbour_ip" => b.neighbor_ip = self.ip(item),
                "source_ip" => b.source_ip = self.ip(item),
                "min_rx" => b.min_rx = self.bfd_interval(item, 1),
                "min_tx" => b.min_tx = self.bfd_interval(item, 1),
                "idle_tx" => b.idle_tx = self.bfd_interval(item, 1000),
                "multiplier" => b.multiplier = self.int(item, 1, 255).map(|v| v as u8),
                "passive" => b.passive = self.bare(item),
                "ttl" => b.ttl = self.int(item, 1, 255).map(|v| v as u8),
                "hoplimit" => b.hoplimit = self.int(item, 1, 255).map(|v| v as u8),
                "max_hops" => b.max_hops = self.int(item, -1, 255).map(|v| v as i16),
                "weight" => b.weight = self.weight(item, -253, 253),
                "vrrp" => b.vrrp = self.bare(item),
                "checker" => b.checker = self.bare(item),
                _ => self.unknown(item, "bfd_instance"),
            }
        }
        if b.neighbor_ip.is_none() {
            self.err(
                K::Missing,
                b.origin,
                format!("bfd_instance `{}` has no neighbor_ip", b.name),
            );
        }
        if let (Some(n), Some(s)) = (b.neighbor_ip, b.source_ip)
            && n.is_ipv4() != s.is_ipv4()
        {
            self.err(
                K::AddressFamily,
                b.origin,
                "neighbor_ip and source_ip are of different families",
            );
        }
        b
    }

    pub(super) fn track_group(&mut self, node: &Node<'s>) -> TrackGroup {
        let mut g = TrackGroup {
            name: self.name_arg(node, "a track group name"),
            origin: node_origin(node),
            ..TrackGroup::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "group" => {
                    for member in self.block(item) {
                        self.no_block(member);
                        self.too_many(member, 0);
                        g.group.push(Track {
                            name: member.keyword.text.to_string(),
                            weight: None,
                            origin: node_origin(member),
                        });
                    }
                }
                _ => self.unknown(item, "track_group"),
            }
        }
        g
    }

    pub(super) fn garp_group(&mut self, node: &Node<'s>) -> GarpGroup {
        self.too_many(node, 0);
        let mut g = GarpGroup {
            origin: node_origin(node),
            ..GarpGroup::default()
        };
        for item in self.block(node) {
            match item.keyword.s() {
                "garp_interval" => g.garp_interval = self.timer_in(item, 0, u32::MAX.into()),
                "gna_interval" => g.gna_interval = self.timer_in(item, 0, u32::MAX.into()),
                "interface" => g.interface = self.string(item),
                "interfaces" => {
                    for i in self.block(item) {
                        self.no_block(i);
                        self.too_many(i, 0);
                        g.interfaces.push(i.keyword.text.to_string());
                    }
                }
                _ => self.unknown(item, "garp_group"),
            }
        }
        if g.interface.is_some() && !g.interfaces.is_empty() {
            self.err(
                K::Conflict,
                g.origin,
                "garp_group takes `interface` or `interfaces`, not both",
            );
        }
        if g.interface.is_none() && g.interfaces.is_empty() {
            self.err(K::Missing, g.origin, "garp_group names no interface");
        }
        g
    }

    pub(super) fn linkbeat_interfaces(
        &mut self,
        node: &Node<'s>,
        out: &mut Vec<LinkbeatInterface>,
    ) {
        self.too_many(node, 0);
        for item in self.block(node) {
            self.no_block(item);
            self.too_many(item, 1);
            let poll = match self.args(item).first() {
                None => None,
                Some(w) if matches!(w.s(), "MII" | "ETHTOOL" | "IOCTL") => Some(w.text.to_string()),
                Some(w) => {
                    self.err(
                        K::InvalidValue,
                        span(w),
                        format!("expected MII, ETHTOOL or IOCTL, found `{}`", w.text),
                    );
                    None
                }
            };
            out.push(LinkbeatInterface {
                interface: item.keyword.text.to_string(),
                poll,
            });
        }
    }

    pub(super) fn up_down_delays(&mut self, node: &Node<'s>, out: &mut Vec<UpDownDelay>) {
        self.too_many(node, 0);
        for item in self.block(node) {
            self.no_block(item);
            self.too_many(item, 2);
            let mut delays = Vec::new();
            for w in self.args(item) {
                match parse_timer(w.s()) {
                    Some(t) if t.as_micros() <= 255_000_000 => delays.push(t),
                    _ => self.err(
                        K::InvalidValue,
                        span(w),
                        format!("expected a delay from 0 to 255 seconds, found `{}`", w.text),
                    ),
                }
            }
            if self.args(item).is_empty() {
                self.arg(item, 0, "a down delay");
            }
            if let Some(&down) = delays.first() {
                out.push(UpDownDelay {
                    interface: item.keyword.text.to_string(),
                    down,
                    up: delays.get(1).copied(),
                });
            }
        }
    }
}
