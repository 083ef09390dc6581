//! The option table (long and short names, what each takes) and the popt-like tokenizer.

use ipvs::{ForwardMethod, Protocol};

use super::*;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Takes {
    Nothing,
    Value,
    MaybeValue,
}

#[derive(Clone, Copy)]
pub(super) enum What {
    Cmd(Cmd),
    Opt(Opt),
    Service(Option<Protocol>),
    Forward(ForwardMethod),
}

pub(super) struct Spec {
    pub(super) long: &'static str,
    pub(super) short: Option<char>,
    pub(super) takes: Takes,
    pub(super) what: What,
}

pub(super) const fn spec(
    long: &'static str,
    short: Option<char>,
    takes: Takes,
    what: What,
) -> Spec {
    Spec {
        long,
        short,
        takes,
        what,
    }
}

pub(super) const SPECS: &[Spec] = &[
    spec(
        "add-service",
        Some('A'),
        Takes::Nothing,
        What::Cmd(Cmd::AddService),
    ),
    spec(
        "edit-service",
        Some('E'),
        Takes::Nothing,
        What::Cmd(Cmd::EditService),
    ),
    spec(
        "delete-service",
        Some('D'),
        Takes::Nothing,
        What::Cmd(Cmd::DelService),
    ),
    spec("clear", Some('C'), Takes::Nothing, What::Cmd(Cmd::Flush)),
    spec(
        "restore",
        Some('R'),
        Takes::Nothing,
        What::Cmd(Cmd::Restore),
    ),
    spec("save", Some('S'), Takes::Nothing, What::Cmd(Cmd::Save)),
    spec(
        "add-server",
        Some('a'),
        Takes::Nothing,
        What::Cmd(Cmd::AddServer),
    ),
    spec(
        "edit-server",
        Some('e'),
        Takes::Nothing,
        What::Cmd(Cmd::EditServer),
    ),
    spec(
        "delete-server",
        Some('d'),
        Takes::Nothing,
        What::Cmd(Cmd::DelServer),
    ),
    spec("list", Some('L'), Takes::Nothing, What::Cmd(Cmd::List)),
    spec("list", Some('l'), Takes::Nothing, What::Cmd(Cmd::List)),
    spec("zero", Some('Z'), Takes::Nothing, What::Cmd(Cmd::Zero)),
    spec("set", None, Takes::Nothing, What::Cmd(Cmd::SetTimeouts)),
    spec(
        "start-daemon",
        None,
        Takes::Value,
        What::Cmd(Cmd::StartDaemon),
    ),
    spec(
        "stop-daemon",
        None,
        Takes::Value,
        What::Cmd(Cmd::StopDaemon),
    ),
    spec("help", Some('h'), Takes::Nothing, What::Cmd(Cmd::Help)),
    spec(
        "version",
        Some('v'),
        Takes::Nothing,
        What::Cmd(Cmd::Version),
    ),
    spec(
        "tcp-service",
        Some('t'),
        Takes::Value,
        What::Service(Some(Protocol::Tcp)),
    ),
    spec(
        "udp-service",
        Some('u'),
        Takes::Value,
        What::Service(Some(Protocol::Udp)),
    ),
    spec(
        "sctp-service",
        None,
        Takes::Value,
        What::Service(Some(Protocol::Sctp)),
    ),
    spec(
        "fwmark-service",
        Some('f'),
        Takes::Value,
        What::Service(None),
    ),
    spec("ipv6", Some('6'), Takes::Nothing, What::Opt(Opt::Ipv6)),
    spec(
        "scheduler",
        Some('s'),
        Takes::Value,
        What::Opt(Opt::Scheduler),
    ),
    spec("pe", None, Takes::Value, What::Opt(Opt::Pe)),
    spec(
        "persistent",
        Some('p'),
        Takes::MaybeValue,
        What::Opt(Opt::Persistent),
    ),
    spec("netmask", Some('M'), Takes::Value, What::Opt(Opt::Netmask)),
    spec(
        "real-server",
        Some('r'),
        Takes::Value,
        What::Opt(Opt::RealServer),
    ),
    spec(
        "gatewaying",
        Some('g'),
        Takes::Nothing,
        What::Forward(ForwardMethod::DirectRoute),
    ),
    spec(
        "ipip",
        Some('i'),
        Takes::Nothing,
        What::Forward(ForwardMethod::Tunnel),
    ),
    spec(
        "masquerading",
        Some('m'),
        Takes::Nothing,
        What::Forward(ForwardMethod::Masquerade),
    ),
    spec("tun-type", None, Takes::Value, What::Opt(Opt::TunType)),
    spec("tun-port", None, Takes::Value, What::Opt(Opt::TunPort)),
    spec(
        "tun-nocsum",
        None,
        Takes::Nothing,
        What::Opt(Opt::TunNoCsum),
    ),
    spec("tun-csum", None, Takes::Nothing, What::Opt(Opt::TunCsum)),
    spec(
        "tun-remcsum",
        None,
        Takes::Nothing,
        What::Opt(Opt::TunRemCsum),
    ),
    spec("weight", Some('w'), Takes::Value, What::Opt(Opt::Weight)),
    spec(
        "u-threshold",
        Some('x'),
        Takes::Value,
        What::Opt(Opt::UThreshold),
    ),
    spec(
        "l-threshold",
        Some('y'),
        Takes::Value,
        What::Opt(Opt::LThreshold),
    ),
    spec(
        "connection",
        Some('c'),
        Takes::Nothing,
        What::Opt(Opt::Connection),
    ),
    spec("timeout", None, Takes::Nothing, What::Opt(Opt::Timeout)),
    spec("daemon", None, Takes::Nothing, What::Opt(Opt::Daemon)),
    spec("stats", None, Takes::Nothing, What::Opt(Opt::Stats)),
    spec("rate", None, Takes::Nothing, What::Opt(Opt::Rate)),
    spec(
        "thresholds",
        None,
        Takes::Nothing,
        What::Opt(Opt::Thresholds),
    ),
    spec(
        "persistent-conn",
        None,
        Takes::Nothing,
        What::Opt(Opt::PersistentConn),
    ),
    spec("tun-info", None, Takes::Nothing, What::Opt(Opt::TunInfo)),
    spec("nosort", None, Takes::Nothing, What::Opt(Opt::NoSort)),
    spec("sort", None, Takes::Nothing, What::Opt(Opt::Sort)),
    spec("exact", None, Takes::Nothing, What::Opt(Opt::Exact)),
    spec("ops", Some('o'), Takes::Nothing, What::Opt(Opt::Ops)),
    spec(
        "numeric",
        Some('n'),
        Takes::Nothing,
        What::Opt(Opt::Numeric),
    ),
    spec(
        "sched-flags",
        Some('b'),
        Takes::Value,
        What::Opt(Opt::SchedFlags),
    ),
    spec("syncid", None, Takes::Value, What::Opt(Opt::SyncId)),
    spec(
        "sync-maxlen",
        None,
        Takes::Value,
        What::Opt(Opt::SyncMaxLen),
    ),
    spec(
        "mcast-interface",
        None,
        Takes::Value,
        What::Opt(Opt::McastInterface),
    ),
    spec(
        "mcast-group",
        None,
        Takes::Value,
        What::Opt(Opt::McastGroup),
    ),
    spec("mcast-port", None, Takes::Value, What::Opt(Opt::McastPort)),
    spec("mcast-ttl", None, Takes::Value, What::Opt(Opt::McastTtl)),
];

/// One option occurrence: which spec, its value if any, and the token it came from.
pub(super) struct Occurrence<'a> {
    pub(super) spec: &'a Spec,
    pub(super) value: Option<String>,
    pub(super) token: String,
}

/// Splits the arguments into option occurrences and leftover words, as popt does.
pub(super) fn tokenize(
    args: &[String],
) -> Result<(Vec<Occurrence<'static>>, Vec<String>), Failure> {
    let mut found = Vec::new();
    let mut leftovers = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if let Some(long) = arg.strip_prefix("--") {
            if long.is_empty() {
                leftovers.extend(args[i..].iter().cloned());
                break;
            }
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let spec = SPECS
                .iter()
                .find(|s| s.long == name)
                .ok_or_else(Failure::try_help)?;
            let value = match (spec.takes, attached) {
                (Takes::Nothing, Some(_)) => return Err(Failure::try_help()),
                (Takes::Nothing, None) => None,
                (_, Some(v)) => Some(v),
                (Takes::Value, None) => {
                    let v = args.get(i).cloned().ok_or_else(Failure::try_help)?;
                    i += 1;
                    Some(v)
                }
                (Takes::MaybeValue, None) => match args.get(i) {
                    Some(v) if !v.starts_with('-') => {
                        i += 1;
                        Some(v.clone())
                    }
                    _ => None,
                },
            };
            found.push(Occurrence {
                spec,
                value,
                token: arg.clone(),
            });
        } else if arg.len() > 1 && arg.starts_with('-') {
            let chars: Vec<char> = arg[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                let spec = SPECS
                    .iter()
                    .find(|s| s.short == Some(c))
                    .ok_or_else(Failure::try_help)?;
                let rest: String = chars[k..].iter().collect();
                let value = match spec.takes {
                    Takes::Nothing => None,
                    _ if !rest.is_empty() => {
                        k = chars.len();
                        Some(rest)
                    }
                    Takes::Value => {
                        let v = args.get(i).cloned().ok_or_else(Failure::try_help)?;
                        i += 1;
                        Some(v)
                    }
                    Takes::MaybeValue => match args.get(i) {
                        Some(v) if !v.starts_with('-') => {
                            i += 1;
                            Some(v.clone())
                        }
                        _ => None,
                    },
                };
                found.push(Occurrence {
                    spec,
                    value,
                    token: arg.clone(),
                });
            }
        } else {
            leftovers.push(arg.clone());
        }
    }
    Ok((found, leftovers))
}
