//! `ipvsctl`: an ipvsadm-compatible command on the `ipvs` crate.
//!
//! Same commands, options, listings (`-Sn`, `-Ln` and its variants are byte-identical to
//! ipvsadm 1.31), messages and exit codes; `-R` sends the whole restore as netlink batches
//! (many requests per `sendmsg`) instead of one round trip per line.
//!
//! Differences: names in `-L`/`-S` without `-n`, and host names in arguments, come from
//! `/etc/hosts` and `/etc/services` only (no DNS); a non-contiguous IPv4 persistence mask is
//! refused; `-h` and `-v` print ipvsctl's own text.

mod args;
mod names;
mod show;
mod text;

use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use ipvs::{
    Daemon, Destination, Error, ForwardMethod, Ipvs, OnError, Op, OpStatus, Options, Service,
    Timeouts,
};

use crate::args::{Cmd, Failure, Invocation, TRY_HELP};
use crate::show::Entry;

/// Exit status of a command the kernel refused.
const KERNEL_FAILURE: u8 = 255;

fn main() -> ExitCode {
    // The subscriber costs a few milliseconds per run; ipvsctl runs in loops from scripts, so it
    // is installed only when someone asks for logs.
    if std::env::var_os("RUST_LOG").is_some() {
        lvskit_examples::init_logging();
    }
    let argv: Vec<String> = std::env::args().skip(1).collect();
    ExitCode::from(run(&argv))
}

fn run(argv: &[String]) -> u8 {
    let parsed = args::parse(argv);
    match &parsed {
        Ok(inv) if inv.cmd == Cmd::Help => {
            print!("{}", HELP);
            return 0;
        }
        Ok(inv) if inv.cmd == Cmd::Version => {
            println!(
                "ipvsctl {} (lvskit; ipvsadm v1.31 compatible)",
                env!("CARGO_PKG_VERSION")
            );
            return 0;
        }
        _ => {}
    }
    // ipvsadm opens IPVS before it looks at its arguments: same order, same message.
    let mut ipvs = match Ipvs::with_options(Options {
        load_module: true,
        window: 1024,
        ..Options::default()
    }) {
        Ok(ipvs) => ipvs,
        Err(e) => {
            let reason = match e.errno() {
                Some(errno) => strerror(errno),
                None => "Protocol not available".to_string(),
            };
            eprintln!(
                "Can't initialize ipvs: {reason}\nAre you sure that IP Virtual Server is built in the kernel or as module?"
            );
            return 2;
        }
    };
    let inv = match parsed {
        Ok(inv) => inv,
        Err(failure) => return report(&failure),
    };
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let code = if inv.cmd == Cmd::Restore {
        let mut input = String::new();
        if let Err(e) = io::stdin().read_to_string(&mut input) {
            eprintln!("reading standard input: {e}");
            return 2;
        }
        restore(&mut ipvs, &input, &mut out)
    } else {
        match execute(&mut ipvs, &inv, &mut out) {
            Ok(()) => 0,
            Err(failure) => {
                let _ = out.flush();
                report(&failure)
            }
        }
    };
    let _ = out.flush();
    code
}

fn report(failure: &Failure) -> u8 {
    eprintln!("{}", failure.message);
    failure.code
}

/// The text of an errno, as `strerror` gives it.
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// A kernel refusal in ipvsadm's words, which depend on the request.
fn kernel_message(error: &Error, op: &Op) -> String {
    let dest_op = matches!(op, Op::NewDest(..) | Op::SetDest(..) | Op::DelDest(..));
    match error {
        Error::ServiceExists(_) => "Service already exists".into(),
        Error::ServiceNotFound(_) if dest_op => "Service not defined".into(),
        Error::ServiceNotFound(_) => "No such service".into(),
        Error::DestinationExists(_) => "Destination already exists".into(),
        Error::DestinationNotFound(_) => "No such destination".into(),
        Error::SchedulerNotFound(_) => "Scheduler or persistence engine not found".into(),
        Error::PermissionDenied(_) => "Permission denied (you must be root)".into(),
        Error::Kernel(k) => match (op, k.errno) {
            (Op::StartDaemon(_), libc::EEXIST) => "Daemon has already run".into(),
            (Op::StopDaemon(_), libc::ESRCH) => "No daemon is running".into(),
            (_, libc::EINVAL) => {
                "Invalid operation.  Possibly wrong module version, address not unicast, ...".into()
            }
            (_, errno) => strerror(errno),
        },
        Error::Io(e) => e.raw_os_error().map_or_else(|| e.to_string(), strerror),
        other => other.to_string(),
    }
}

fn kernel_failure(error: &Error, op: &Op) -> Failure {
    Failure {
        code: KERNEL_FAILURE,
        message: kernel_message(error, op),
    }
}

fn build_service(inv: &Invocation) -> Option<Service> {
    let key = inv.service?;
    let mut service = Service::new(key)
        .scheduler(
            inv.scheduler
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "wlc".into()),
        )
        .one_packet(inv.one_packet);
    service.flags |= inv.sched_flags;
    if let Some(timeout) = inv.persistent {
        service = service.persistent(timeout);
    }
    if let Some(mask) = inv.netmask {
        service.netmask = mask;
    }
    if let Some(pe) = inv.pe.clone().filter(|pe| !pe.is_empty()) {
        service = service.pe_name(pe);
    }
    Some(service)
}

fn build_dest(inv: &Invocation) -> Option<Destination> {
    let forward = inv.forward.unwrap_or(ForwardMethod::DirectRoute);
    let mut dest = Destination::new(inv.dest?)
        .forward(forward)
        .weight(inv.weight.unwrap_or(1))
        .thresholds(inv.upper.unwrap_or(0), inv.lower.unwrap_or(0));
    if forward == ForwardMethod::Tunnel {
        dest = dest.tunnel(
            inv.tunnel_type.unwrap_or(ipvs::TunnelType::Ipip),
            inv.tunnel_port.unwrap_or(0),
            inv.tunnel_flags,
        );
    }
    Some(dest)
}

/// The change a command line asks for; `None` for the commands that only read.
fn to_op(inv: &Invocation) -> Option<Op> {
    Some(match inv.cmd {
        Cmd::AddService => Op::NewService(build_service(inv)?),
        Cmd::EditService => Op::SetService(build_service(inv)?),
        Cmd::DelService => Op::DelService(inv.service?),
        Cmd::Flush => Op::Flush,
        Cmd::AddServer => Op::NewDest(inv.service?, build_dest(inv)?),
        Cmd::EditServer => Op::SetDest(inv.service?, build_dest(inv)?),
        Cmd::DelServer => Op::DelDest(inv.service?, inv.dest?),
        Cmd::Zero => Op::Zero(inv.service),
        Cmd::SetTimeouts => Op::SetTimeouts(Timeouts {
            tcp: inv.timeouts[0],
            tcp_fin: inv.timeouts[1],
            udp: inv.timeouts[2],
        }),
        Cmd::StartDaemon => {
            let mut daemon = Daemon::new(
                inv.daemon_state?,
                inv.mcast_interface.clone().unwrap_or_else(|| "eth0".into()),
            )
            .sync_id(inv.sync_id.unwrap_or(0));
            daemon.max_len = inv.sync_maxlen;
            daemon.group = inv.mcast_group;
            daemon.port = inv.mcast_port;
            daemon.ttl = inv.mcast_ttl;
            Op::StartDaemon(daemon)
        }
        Cmd::StopDaemon => Op::StopDaemon(inv.daemon_state?),
        _ => return None,
    })
}

/// Runs one command line.
fn execute(ipvs: &mut Ipvs, inv: &Invocation, out: &mut impl Write) -> Result<(), Failure> {
    match inv.cmd {
        Cmd::List => list(ipvs, inv, out),
        Cmd::Save => {
            let entries = read_table(ipvs, !inv.list.nosort)?;
            show::save(out, &entries, inv.list.numeric).map_err(write_failure)
        }
        Cmd::Restore | Cmd::Help | Cmd::Version => Err(Failure {
            code: 255,
            message: TRY_HELP.into(),
        }),
        _ => {
            let op = to_op(inv).ok_or_else(|| Failure::usage("incomplete command"))?;
            ipvs.apply(&op).map_err(|e| kernel_failure(&e, &op))
        }
    }
}

fn write_failure(e: io::Error) -> Failure {
    Failure {
        code: 1,
        message: format!("writing the output: {e}"),
    }
}

fn read_failure(e: &Error) -> Failure {
    Failure {
        code: 1,
        message: kernel_message(e, &Op::Flush),
    }
}

/// Every service and its destinations, in kernel order or ipvsadm's sort.
fn read_table(ipvs: &mut Ipvs, sorted: bool) -> Result<Vec<Entry>, Failure> {
    let entries = ipvs.entries().map_err(|e| read_failure(&e))?;
    Ok(if sorted { show::sort(entries) } else { entries })
}

fn list(ipvs: &mut Ipvs, inv: &Invocation, out: &mut impl Write) -> Result<(), Failure> {
    let options = &inv.list;
    if options.connection {
        let text = ipvs::read_connection_table().map_err(|e| Failure {
            code: 1,
            message: format!("{}: {e}", ipvs::PROC_IP_VS_CONN),
        })?;
        return show::connections(out, &text, options).map_err(write_failure);
    }
    if options.timeout {
        let timeouts = ipvs.timeouts().map_err(|e| read_failure(&e))?;
        return show::timeouts(out, &timeouts).map_err(write_failure);
    }
    if options.daemon {
        let daemons = ipvs.daemons().map_err(|e| read_failure(&e))?;
        return show::daemons(out, &daemons).map_err(write_failure);
    }
    if let Some(key) = inv.service {
        let service = ipvs.service(&key).map_err(|_| Failure {
            code: 1,
            message: "No such service".into(),
        })?;
        let destinations = ipvs.destinations(&key).map_err(|e| read_failure(&e))?;
        let mut entries = vec![Entry {
            service,
            destinations,
        }];
        if !options.nosort {
            entries = show::sort(entries);
        }
        return show::list(out, None, &entries, options).map_err(write_failure);
    }
    let info = ipvs.info().map_err(|e| read_failure(&e))?;
    let entries = read_table(ipvs, !options.nosort)?;
    show::list(out, Some(&info), &entries, options).map_err(write_failure)
}

/// `-R`: every line is an ipvsadm command line. Changes are gathered and sent as batches; a
/// listing line first sends what came before it. As with ipvsadm, a kernel refusal is printed
/// and the restore goes on; a line that does not parse stops it; the exit status is that of the
/// last line.
fn restore(ipvs: &mut Ipvs, input: &str, out: &mut impl Write) -> u8 {
    let mut pending: Vec<Op> = Vec::new();
    let mut last = 0;
    for line in input.lines() {
        let Some(words) = args::restore_words(line) else {
            continue;
        };
        let inv = match args::parse(&words) {
            Ok(inv) => inv,
            Err(failure) => {
                send(ipvs, &mut pending, out);
                return report(&failure);
            }
        };
        if let Some(op) = to_op(&inv) {
            pending.push(op);
            continue;
        }
        send(ipvs, &mut pending, out);
        last = match execute(ipvs, &inv, out) {
            Ok(()) => 0,
            Err(failure) => {
                let _ = out.flush();
                let code = report(&failure);
                if failure.message == TRY_HELP {
                    return code;
                }
                code
            }
        };
    }
    if let Some(code) = send(ipvs, &mut pending, out) {
        last = code;
    }
    last
}

/// Sends the pending changes as one batch, printing each refusal; returns the status of the
/// last one (`None` when nothing was pending).
fn send(ipvs: &mut Ipvs, pending: &mut Vec<Op>, out: &mut impl Write) -> Option<u8> {
    if pending.is_empty() {
        return None;
    }
    let _ = out.flush();
    let ops = std::mem::take(pending);
    let report = match ipvs.batch(&ops, OnError::Continue) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{}", kernel_message(&e, &Op::Flush));
            return Some(KERNEL_FAILURE);
        }
    };
    let mut last = 0;
    for (op, status) in ops.iter().zip(&report.statuses) {
        last = match status {
            OpStatus::Failed(e) => {
                eprintln!("{}", kernel_message(e, op));
                KERNEL_FAILURE
            }
            _ => 0,
        };
    }
    Some(last)
}

const HELP: &str = "\
ipvsctl: ipvsadm-compatible administration of the kernel's IP Virtual Server table
Usage:
  ipvsctl -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ipvsctl -D virtual-service
  ipvsctl -C
  ipvsctl -R                      restore: ipvsadm -S lines on standard input, sent as netlink batches
  ipvsctl -S [-n]
  ipvsctl -a|e virtual-service -r server-address [options]
  ipvsctl -d virtual-service -r server-address
  ipvsctl -L|l [virtual-service] [options]
  ipvsctl -Z [virtual-service]
  ipvsctl --set tcp tcpfin udp
  ipvsctl --start-daemon {master|backup} [daemon-options]
  ipvsctl --stop-daemon {master|backup}
  ipvsctl -h

virtual-service: -t|-u|--sctp-service host[:port], or -f fwmark [-6]
server options: -g|-i|-m, -w weight, -x upper, -y lower,
  --tun-type ipip|gue|gre, --tun-port port, --tun-nocsum|--tun-csum|--tun-remcsum
list options: -n, -c, --timeout, --daemon, --stats, --rate, --exact, --thresholds,
  --persistent-conn, --tun-info, --sort, --nosort
service options: -o (one-packet, UDP), -b sh-fallback,sh-port,mh-fallback,mh-port,flag-1,flag-2,flag-3
daemon options: --syncid id, --sync-maxlen len, --mcast-interface if, --mcast-group addr,
  --mcast-port port, --mcast-ttl ttl
Names are looked up in /etc/hosts and /etc/services only.
";
