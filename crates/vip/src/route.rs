//! Routes and policy rules: what keepalived's `virtual_routes` and `virtual_rules` describe.

use std::net::IpAddr;

use netlink_packet_route::{
    AddressFamily,
    route::{
        RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope,
        RouteType,
    },
    rule::{RuleAction as RawRuleAction, RuleAttribute, RuleMessage},
};

use crate::{Error, Family, Scope, check_family, check_ifname, check_prefix};

/// `RT_TABLE_COMPAT`: the header's table when the real one does not fit a byte.
const RT_TABLE_COMPAT: u8 = 252;
/// `RTPROT_STATIC`: routes added by an administrator (or a daemon on their behalf).
const RTPROT_STATIC: u8 = 4;

/// What a route does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RouteKind {
    /// Forward them (through `via`, or directly out of `dev`).
    #[default]
    Unicast,
    /// Drop them silently (`blackhole`).
    Blackhole,
    /// Drop them with "host unreachable" (`unreachable`).
    Unreachable,
    /// Drop them with "administratively prohibited" (`prohibit`).
    Prohibit,
    /// Go on with the next rule (`throw`).
    Throw,
}

impl RouteKind {
    fn raw(self) -> RouteType {
        match self {
            Self::Unicast => RouteType::Unicast,
            Self::Blackhole => RouteType::BlackHole,
            Self::Unreachable => RouteType::Unreachable,
            Self::Prohibit => RouteType::Prohibit,
            Self::Throw => RouteType::Throw,
        }
    }
}

/// A route: `[src SRC] DST/LEN [via GW] [dev DEV] [scope S] [table T] [metric M]`, or
/// `blackhole|unreachable|prohibit|throw DST/LEN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Route {
    /// Destination prefix (`0.0.0.0/0` for a default route).
    pub dst: IpAddr,
    /// Destination prefix length.
    pub prefix_len: u8,
    /// Preferred source address for packets sent along the route (keepalived's `src`).
    pub src: Option<IpAddr>,
    /// Gateway (`via` / `gw`).
    pub via: Option<IpAddr>,
    /// Output interface.
    pub dev: Option<String>,
    /// Scope; when unset, `link` for a unicast route without gateway, else `global`.
    pub scope: Option<Scope>,
    /// Routing table; `main` (254) when unset.
    pub table: Option<u32>,
    /// Metric (`metric` / `priority` / `preference`).
    pub metric: Option<u32>,
    /// What the route does.
    pub kind: RouteKind,
    /// Routing protocol number the route is tagged with (`RTPROT_STATIC` unless set).
    pub protocol: u8,
}

impl Route {
    /// A unicast route to `dst/prefix_len` in the main table, with nothing else set.
    pub fn new(dst: IpAddr, prefix_len: u8) -> Self {
        Self {
            dst,
            prefix_len,
            src: None,
            via: None,
            dev: None,
            scope: None,
            table: None,
            metric: None,
            kind: RouteKind::Unicast,
            protocol: RTPROT_STATIC,
        }
    }

    /// Sets the gateway.
    pub fn via(mut self, gateway: IpAddr) -> Self {
        self.via = Some(gateway);
        self
    }

    /// Sets the output interface.
    pub fn dev(mut self, dev: impl Into<String>) -> Self {
        self.dev = Some(dev.into());
        self
    }

    /// Sets the preferred source address.
    pub fn src(mut self, src: IpAddr) -> Self {
        self.src = Some(src);
        self
    }

    /// Sets the scope.
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Sets the table.
    pub fn table(mut self, table: u32) -> Self {
        self.table = Some(table);
        self
    }

    /// Sets the metric.
    pub fn metric(mut self, metric: u32) -> Self {
        self.metric = Some(metric);
        self
    }

    /// Sets what the route does.
    pub fn kind(mut self, kind: RouteKind) -> Self {
        self.kind = kind;
        self
    }

    /// Sets the protocol tag.
    pub fn protocol(mut self, protocol: u8) -> Self {
        self.protocol = protocol;
        self
    }

    /// The address family.
    pub fn family(&self) -> Family {
        Family::of(&self.dst)
    }

    /// Checks everything that can be checked without asking the kernel.
    pub fn validate(&self) -> Result<(), Error> {
        let family = self.family();
        check_prefix(self.dst, self.prefix_len)?;
        if let Some(via) = self.via {
            check_family("via", family, via)?;
        }
        if let Some(src) = self.src {
            check_family("src", family, src)?;
        }
        if let Some(dev) = &self.dev {
            check_ifname(dev)?;
        }
        if self.table == Some(0) {
            return Err(Error::Invalid("table 0 is not a routing table".into()));
        }
        match self.kind {
            RouteKind::Unicast => {
                if self.via.is_none() && self.dev.is_none() {
                    return Err(Error::Invalid(format!(
                        "route to {}/{} needs a gateway or an interface",
                        self.dst, self.prefix_len
                    )));
                }
            }
            _ => {
                if self.via.is_some() || self.dev.is_some() {
                    return Err(Error::Invalid(format!(
                        "a {:?} route takes no gateway or interface",
                        self.kind
                    )));
                }
            }
        }
        Ok(())
    }

    /// The `RTM_NEWROUTE`/`RTM_DELROUTE` message; `oif` is the resolved `dev`.
    pub(crate) fn message(&self, oif: Option<u32>, delete: bool) -> RouteMessage {
        let mut msg = RouteMessage::default();
        let h = &mut msg.header;
        h.address_family = family_raw(self.family());
        h.destination_prefix_length = self.prefix_len;
        h.protocol = RouteProtocol::from(self.protocol);
        h.kind = self.kind.raw();
        let table = self.table.unwrap_or(u32::from(RouteHeader::RT_TABLE_MAIN));
        h.table = u8::try_from(table).unwrap_or(RT_TABLE_COMPAT);
        h.scope = match self.scope {
            Some(s) => RouteScope::from(s.to_raw()),
            // As `ip route`: a delete matches any scope; a direct route is link-scoped.
            None if delete => RouteScope::NoWhere,
            None if self.kind == RouteKind::Unicast && self.via.is_none() => RouteScope::Link,
            None => RouteScope::Universe,
        };
        if self.prefix_len > 0 || !delete {
            msg.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(self.dst)));
        }
        msg.attributes.push(RouteAttribute::Table(table));
        if let Some(via) = self.via {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(via)));
        }
        if let Some(src) = self.src {
            msg.attributes
                .push(RouteAttribute::PrefSource(RouteAddress::from(src)));
        }
        if let Some(oif) = oif {
            msg.attributes.push(RouteAttribute::Oif(oif));
        }
        if let Some(metric) = self.metric {
            msg.attributes.push(RouteAttribute::Priority(metric));
        }
        msg
    }
}

impl Route {
    /// Whether `existing` (from a dump) has this route's key: family, destination, table and
    /// metric (the kernel's default metric when none is given: 0 for IPv4, 1024 for IPv6).
    pub(crate) fn same_key(&self, existing: &RouteMessage) -> bool {
        let h = &existing.header;
        let table = self.table.unwrap_or(u32::from(RouteHeader::RT_TABLE_MAIN));
        let default_metric = match self.family() {
            Family::V4 => 0,
            Family::V6 => 1024,
        };
        let mut dst = None;
        let mut existing_table = u32::from(h.table);
        let mut metric = 0;
        for attribute in &existing.attributes {
            match attribute {
                RouteAttribute::Destination(a) => dst = route_ip(a),
                RouteAttribute::Table(t) => existing_table = *t,
                RouteAttribute::Priority(p) => metric = *p,
                _ => {}
            }
        }
        h.address_family == family_raw(self.family())
            && h.tos == 0
            && h.destination_prefix_length == self.prefix_len
            && (dst == Some(self.dst) || (dst.is_none() && self.prefix_len == 0))
            && existing_table == table
            && metric == self.metric.unwrap_or(default_metric)
    }

    /// How `existing` (a route with the same key) differs from this one, if it does: its type,
    /// gateway, interface (`oif`, resolved from `dev`) or preferred source.
    pub(crate) fn difference(&self, existing: &RouteMessage, oif: Option<u32>) -> Option<String> {
        let mut differences = Vec::new();
        if existing.header.kind != self.kind.raw() {
            differences.push(format!(
                "type {:?}, not {:?}",
                existing.header.kind,
                self.kind.raw()
            ));
        }
        let (mut gateway, mut existing_oif, mut src) = (None, None, None);
        for attribute in &existing.attributes {
            match attribute {
                RouteAttribute::Gateway(a) => gateway = route_ip(a),
                RouteAttribute::Oif(o) => existing_oif = Some(*o),
                RouteAttribute::PrefSource(a) => src = route_ip(a),
                _ => {}
            }
        }
        if gateway != self.via {
            let show = |g: Option<IpAddr>| g.map_or("none".to_owned(), |g| g.to_string());
            differences.push(format!("gateway {}, not {}", show(gateway), show(self.via)));
        }
        if let Some(oif) = oif
            && existing_oif != Some(oif)
        {
            differences.push(format!(
                "interface index {}, not {oif}",
                existing_oif.map_or("none".to_owned(), |o| o.to_string())
            ));
        }
        if let Some(want) = self.src
            && src != Some(want)
        {
            differences.push(format!("preferred source {src:?}, not {want}"));
        }
        (!differences.is_empty()).then(|| differences.join(", "))
    }
}

/// The IP address in a route attribute, if it holds one.
fn route_ip(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

/// What a rule does with the packets it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RuleAction {
    /// Look the packet up in this table (`table N` / `lookup N`).
    Table(u32),
    /// Drop silently.
    Blackhole,
    /// Drop with "network unreachable".
    Unreachable,
    /// Drop with "administratively prohibited".
    Prohibit,
}

/// A policy rule: `[from P] [to P] [iif DEV] [oif DEV] [fwmark M[/MASK]] [priority N] ACTION`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rule {
    /// The family the rule is for (needed when it has neither `from` nor `to`).
    pub family: Family,
    /// Source prefix.
    pub from: Option<(IpAddr, u8)>,
    /// Destination prefix.
    pub to: Option<(IpAddr, u8)>,
    /// Input interface name (need not exist yet).
    pub iif: Option<String>,
    /// Output interface name (need not exist yet).
    pub oif: Option<String>,
    /// Firewall mark and optional mask.
    pub fwmark: Option<(u32, Option<u32>)>,
    /// Priority (the kernel picks one when unset, so the rule can then not be matched exactly).
    pub priority: Option<u32>,
    /// What the rule does.
    pub action: RuleAction,
}

impl Rule {
    /// A rule of `family` that sends everything it matches to `table`; add selectors with the
    /// setters.
    pub fn new(family: Family, action: RuleAction) -> Self {
        Self {
            family,
            from: None,
            to: None,
            iif: None,
            oif: None,
            fwmark: None,
            priority: None,
            action,
        }
    }

    /// Matches on the source prefix.
    pub fn from(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        self.from = Some((addr, prefix_len));
        self
    }

    /// Matches on the destination prefix.
    pub fn to(mut self, addr: IpAddr, prefix_len: u8) -> Self {
        self.to = Some((addr, prefix_len));
        self
    }

    /// Matches on the input interface.
    pub fn iif(mut self, dev: impl Into<String>) -> Self {
        self.iif = Some(dev.into());
        self
    }

    /// Matches on the output interface.
    pub fn oif(mut self, dev: impl Into<String>) -> Self {
        self.oif = Some(dev.into());
        self
    }

    /// Matches on the firewall mark.
    pub fn fwmark(mut self, mark: u32, mask: Option<u32>) -> Self {
        self.fwmark = Some((mark, mask));
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, priority: u32) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Checks everything that can be checked without asking the kernel.
    pub fn validate(&self) -> Result<(), Error> {
        for (what, sel) in [("from", self.from), ("to", self.to)] {
            if let Some((addr, len)) = sel {
                check_family(what, self.family, addr)?;
                check_prefix(addr, len)?;
            }
        }
        for dev in [&self.iif, &self.oif].into_iter().flatten() {
            check_ifname(dev)?;
        }
        if self.action == RuleAction::Table(0) {
            return Err(Error::Invalid("table 0 is not a routing table".into()));
        }
        Ok(())
    }

    /// The `RTM_NEWRULE`/`RTM_DELRULE` message.
    pub(crate) fn message(&self) -> RuleMessage {
        let mut msg = RuleMessage::default();
        msg.header.family = family_raw(self.family);
        let (action, table) = match self.action {
            RuleAction::Table(t) => (RawRuleAction::ToTable, Some(t)),
            RuleAction::Blackhole => (RawRuleAction::Blackhole, None),
            RuleAction::Unreachable => (RawRuleAction::Unreachable, None),
            RuleAction::Prohibit => (RawRuleAction::Prohibit, None),
        };
        msg.header.action = action;
        if let Some(t) = table {
            msg.header.table = u8::try_from(t).unwrap_or(RT_TABLE_COMPAT);
            msg.attributes.push(RuleAttribute::Table(t));
        }
        if let Some((addr, len)) = self.from {
            msg.header.src_len = len;
            msg.attributes.push(RuleAttribute::Source(addr));
        }
        if let Some((addr, len)) = self.to {
            msg.header.dst_len = len;
            msg.attributes.push(RuleAttribute::Destination(addr));
        }
        if let Some(dev) = &self.iif {
            msg.attributes.push(RuleAttribute::Iifname(dev.clone()));
        }
        if let Some(dev) = &self.oif {
            msg.attributes.push(RuleAttribute::Oifname(dev.clone()));
        }
        if let Some((mark, mask)) = self.fwmark {
            msg.attributes.push(RuleAttribute::FwMark(mark));
            if let Some(mask) = mask {
                msg.attributes.push(RuleAttribute::FwMask(mask));
            }
        }
        if let Some(p) = self.priority {
            msg.attributes.push(RuleAttribute::Priority(p));
        }
        msg
    }
}

fn family_raw(family: Family) -> AddressFamily {
    match family {
        Family::V4 => AddressFamily::Inet,
        Family::V6 => AddressFamily::Inet6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_with_the_same_key_is_compared_field_by_field() {
        let route = Route::new(ip("198.51.100.0"), 24)
            .via(ip("192.0.2.254"))
            .src(ip("192.0.2.1"))
            .table(100)
            .metric(7);
        let same = route.message(Some(2), false);
        assert!(route.same_key(&same));
        assert_eq!(route.difference(&same, Some(2)), None);
        let other_gateway = route.clone().via(ip("192.0.2.253")).message(Some(2), false);
        assert!(route.same_key(&other_gateway));
        let detail = route.difference(&other_gateway, Some(2)).unwrap();
        assert!(detail.contains("gateway 192.0.2.253"), "{detail}");
        let detail = route.difference(&same, Some(3)).unwrap();
        assert!(detail.contains("interface index 2"), "{detail}");
        let hole = route
            .clone()
            .kind(RouteKind::Blackhole)
            .message(None, false);
        assert!(route.difference(&hole, None).unwrap().contains("type"));
        for other_key in [
            route.clone().metric(8),
            route.clone().table(101),
            Route::new(ip("198.51.100.0"), 25).table(100).metric(7),
        ] {
            assert!(
                !route.same_key(&other_key.message(None, false)),
                "{other_key:?}"
            );
        }
        // No metric: the kernel's default, 1024 for IPv6.
        let v6 = Route::new(ip("2001:db8:99::"), 48).via(ip("2001:db8::fe"));
        let mut dumped = v6.message(None, false);
        dumped.attributes.push(RouteAttribute::Priority(1024));
        assert!(v6.same_key(&dumped));
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn routes_are_validated() {
        Route::new(ip("198.51.100.0"), 24)
            .via(ip("192.0.2.254"))
            .validate()
            .unwrap();
        let e = Route::new(ip("198.51.100.0"), 24)
            .via(ip("2001:db8::1"))
            .validate();
        assert!(
            matches!(e, Err(Error::WrongFamily { what: "via", .. })),
            "{e:?}"
        );
        let e = Route::new(ip("198.51.100.0"), 24)
            .dev("eth0")
            .src(ip("2001:db8::1"))
            .validate();
        assert!(
            matches!(e, Err(Error::WrongFamily { what: "src", .. })),
            "{e:?}"
        );
        let e = Route::new(ip("198.51.100.0"), 33).dev("eth0").validate();
        assert!(matches!(e, Err(Error::InvalidPrefix { .. })), "{e:?}");
        let e = Route::new(ip("198.51.100.0"), 24).validate();
        assert!(matches!(e, Err(Error::Invalid(_))), "{e:?}");
        let e = Route::new(ip("198.51.100.0"), 24)
            .kind(RouteKind::Blackhole)
            .dev("eth0")
            .validate();
        assert!(matches!(e, Err(Error::Invalid(_))), "{e:?}");
        Route::new(ip("198.51.100.0"), 24)
            .kind(RouteKind::Blackhole)
            .validate()
            .unwrap();
    }

    #[test]
    fn route_message_fields() {
        let r = Route::new(ip("0.0.0.0"), 0)
            .via(ip("192.0.2.1"))
            .table(1000)
            .metric(5)
            .src(ip("192.0.2.10"));
        let m = r.message(Some(4), false);
        assert_eq!(m.header.table, RT_TABLE_COMPAT);
        assert_eq!(m.header.scope, RouteScope::Universe);
        assert!(m.attributes.contains(&RouteAttribute::Table(1000)));
        assert!(m.attributes.contains(&RouteAttribute::Priority(5)));
        assert!(m.attributes.contains(&RouteAttribute::Oif(4)));
        assert!(
            m.attributes
                .contains(&RouteAttribute::PrefSource(RouteAddress::Inet(
                    "192.0.2.10".parse().unwrap()
                )))
        );
        let direct = Route::new(ip("198.51.100.0"), 24)
            .dev("eth0")
            .message(Some(2), false);
        assert_eq!(direct.header.scope, RouteScope::Link);
        assert_eq!(direct.header.table, RouteHeader::RT_TABLE_MAIN);
        let bh = Route::new(ip("2001:db8:1::"), 48)
            .kind(RouteKind::Blackhole)
            .message(None, true);
        assert_eq!(bh.header.kind, RouteType::BlackHole);
        assert_eq!(bh.header.scope, RouteScope::NoWhere);
        assert_eq!(bh.header.address_family, AddressFamily::Inet6);
    }

    #[test]
    fn rules_are_validated_and_built() {
        let e = Rule::new(Family::V4, RuleAction::Table(100))
            .from(ip("2001:db8::"), 32)
            .validate();
        assert!(
            matches!(e, Err(Error::WrongFamily { what: "from", .. })),
            "{e:?}"
        );
        let e = Rule::new(Family::V6, RuleAction::Table(100))
            .to(ip("2001:db8::"), 129)
            .validate();
        assert!(matches!(e, Err(Error::InvalidPrefix { .. })), "{e:?}");
        let rule = Rule::new(Family::V4, RuleAction::Table(300))
            .from(ip("192.0.2.0"), 24)
            .iif("eth0")
            .fwmark(7, Some(0xff))
            .priority(100);
        rule.validate().unwrap();
        let m = rule.message();
        assert_eq!(m.header.src_len, 24);
        assert_eq!(m.header.action, RawRuleAction::ToTable);
        assert_eq!(m.header.table, RT_TABLE_COMPAT);
        for a in [
            RuleAttribute::Table(300),
            RuleAttribute::Source(ip("192.0.2.0")),
            RuleAttribute::Iifname("eth0".into()),
            RuleAttribute::FwMark(7),
            RuleAttribute::FwMask(0xff),
            RuleAttribute::Priority(100),
        ] {
            assert!(m.attributes.contains(&a), "{a:?}");
        }
    }
}
