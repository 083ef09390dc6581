//! Which option goes with which command, in the order ipvsadm checks them.

use super::*;

/// The options, in the order ipvsadm checks them against the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
    Numeric,
    Connection,
    ServiceAddress,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    ForwardingMethod,
    Weight,
    UThreshold,
    LThreshold,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxLen,
    TunType,
    TunPort,
    TunNoCsum,
    TunCsum,
    TunRemCsum,
    TunInfo,
}

pub(super) const CHECK_ORDER: [Opt; 36] = [
    Opt::Numeric,
    Opt::Connection,
    Opt::ServiceAddress,
    Opt::Scheduler,
    Opt::Persistent,
    Opt::Netmask,
    Opt::RealServer,
    Opt::ForwardingMethod,
    Opt::Weight,
    Opt::UThreshold,
    Opt::LThreshold,
    Opt::McastInterface,
    Opt::SyncId,
    Opt::Timeout,
    Opt::Daemon,
    Opt::Stats,
    Opt::Rate,
    Opt::Thresholds,
    Opt::PersistentConn,
    Opt::NoSort,
    Opt::Sort,
    Opt::Exact,
    Opt::Ipv6,
    Opt::Ops,
    Opt::Pe,
    Opt::SchedFlags,
    Opt::McastGroup,
    Opt::McastPort,
    Opt::McastTtl,
    Opt::SyncMaxLen,
    Opt::TunType,
    Opt::TunPort,
    Opt::TunNoCsum,
    Opt::TunCsum,
    Opt::TunRemCsum,
    Opt::TunInfo,
];

impl Opt {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Numeric => "numeric",
            Self::Connection => "connection",
            Self::ServiceAddress => "service-address",
            Self::Scheduler => "scheduler",
            Self::Persistent => "persistent",
            Self::Netmask => "netmask",
            Self::RealServer => "real-server",
            Self::ForwardingMethod => "forwarding-method",
            Self::Weight => "weight",
            Self::UThreshold => "u-threshold",
            Self::LThreshold => "l-threshold",
            Self::McastInterface => "mcast-interface",
            Self::SyncId => "syncid",
            Self::Timeout => "timeout",
            Self::Daemon => "daemon",
            Self::Stats => "stats",
            Self::Rate => "rate",
            Self::Thresholds => "thresholds",
            Self::PersistentConn => "persistent-conn",
            Self::NoSort => "nosort",
            Self::Sort => "sort",
            Self::Exact => "exact",
            Self::Ipv6 => "ipv6",
            Self::Ops => "ops",
            Self::Pe => "pe",
            Self::SchedFlags => "sched-flags",
            Self::McastGroup => "mcast-group",
            Self::McastPort => "mcast-port",
            Self::McastTtl => "mcast-ttl",
            Self::SyncMaxLen => "sync-maxlen",
            Self::TunType => "tun-type",
            Self::TunPort => "tun-port",
            Self::TunNoCsum => "tun-nocsum",
            Self::TunCsum => "tun-csum",
            Self::TunRemCsum => "tun-remcsum",
            Self::TunInfo => "tun-info",
        }
    }

    pub(super) fn bit(self) -> u64 {
        1 << (self as u64)
    }
}

/// Whether `opt` may (or must) go with `cmd`.
#[derive(PartialEq)]
pub(super) enum Rule {
    Illegal,
    Optional,
    Required,
}

pub(super) fn rule(cmd: Cmd, opt: Opt) -> Rule {
    use Cmd::*;
    use Opt::*;
    let allowed: &[Cmd] = match opt {
        Sort => return Rule::Optional,
        Numeric => &[Save, List],
        Connection | Timeout | Daemon | Stats | Rate | Thresholds | PersistentConn | NoSort
        | Exact | TunInfo => &[List],
        ServiceAddress | Ipv6 => {
            return match cmd {
                AddService | EditService | DelService | AddServer | EditServer | DelServer
                    if opt == ServiceAddress =>
                {
                    Rule::Required
                }
                AddService | EditService | DelService | AddServer | EditServer | DelServer
                | List | Zero => Rule::Optional,
                _ => Rule::Illegal,
            };
        }
        Scheduler | Persistent | Netmask | Ops | Pe | SchedFlags => &[AddService, EditService],
        RealServer => {
            return match cmd {
                AddServer | EditServer | DelServer => Rule::Required,
                _ => Rule::Illegal,
            };
        }
        ForwardingMethod | Weight | UThreshold | LThreshold | TunType | TunPort | TunNoCsum
        | TunCsum | TunRemCsum => &[AddServer, EditServer],
        McastInterface | McastGroup | McastPort | McastTtl | SyncMaxLen => &[StartDaemon],
        SyncId => &[List, StartDaemon, StopDaemon],
    };
    if allowed.contains(&cmd) {
        Rule::Optional
    } else {
        Rule::Illegal
    }
}
