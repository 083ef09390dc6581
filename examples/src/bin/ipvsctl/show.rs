//! ipvsadm's listings (`-L`, `-S`, `-c`, `--timeout`, `--daemon`), byte for byte, and its sort.
//!
//! ipvsadm sorts with comparisons that subtract unsigned fields and read the difference as a
//! signed int, through glibc's merge sort. Far-apart values therefore compare "backwards"
//! (`-f 4294967295` lists before address services, 10.0.0.1 after 203.0.113.1 only sometimes),
//! and the result depends on the merge order. [`merge_sort`] is the same top-down merge (left
//! half `n/2`, ties to the left), so the same input gives the same order.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipvs::packet::{
    IP_VS_SVC_F_ONEPACKET, IP_VS_TUNNEL_ENCAP_FLAG_CSUM, IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
    SchedFlagName,
};
use ipvs::{
    Daemon, DaemonState, Destination, Family, ForwardMethod, Info, Protocol, Service, ServiceKey,
    Stats, Timeouts, TunnelType,
};

use crate::args::ListOptions;
use crate::{names, text};

/// A service with its destinations, as listed.
pub(crate) type Entry = ipvs::ServiceEntry;

/// Top-down merge sort: sort the first `n/2` and the rest, then merge taking from the left
/// while `cmp(left, right) <= 0`. Tolerates comparisons that are not a total order.
///
/// It sorts indices with one scratch buffer and moves each item once at the end, so a table of
/// 10,000 services is not copied at every level of the recursion.
pub(crate) fn merge_sort<T>(items: Vec<T>, cmp: &impl Fn(&T, &T) -> i64) -> Vec<T> {
    if items.len() <= 1 {
        return items;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut scratch = vec![0; items.len()];
    sort_indices(&mut order, &mut scratch, &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn sort_indices(order: &mut [usize], scratch: &mut [usize], cmp: &impl Fn(usize, usize) -> i64) {
    let n = order.len();
    if n <= 1 {
        return;
    }
    let mid = n / 2;
    {
        let (left, right) = order.split_at_mut(mid);
        let (scratch_left, scratch_right) = scratch.split_at_mut(mid);
        sort_indices(left, scratch_left, cmp);
        sort_indices(right, scratch_right, cmp);
    }
    let (left, right) = order.split_at(mid);
    let (mut i, mut j) = (0, 0);
    for slot in scratch.iter_mut().take(n) {
        let take_left = j == right.len() || (i < left.len() && cmp(left[i], right[j]) <= 0);
        if take_left {
            *slot = left[i];
            i += 1;
        } else {
            *slot = right[j];
            j += 1;
        }
    }
    order.copy_from_slice(&scratch[..n]);
}

/// `a - b` on unsigned 32-bit fields, read as a signed int.
fn wrapping_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

fn af(family: Family) -> i64 {
    match family {
        Family::V4 => 2,
        Family::V6 => 10,
    }
}

/// The address as ipvsadm compares it: 32-bit words, one for IPv4, four for IPv6.
fn words(ip: IpAddr) -> ([u32; 4], usize) {
    match ip {
        IpAddr::V4(v4) => ([u32::from(v4), 0, 0, 0], 1),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            let word = |k: usize| u32::from_be_bytes([o[k], o[k + 1], o[k + 2], o[k + 3]]);
            ([word(0), word(4), word(8), word(12)], 4)
        }
    }
}

fn compare_addrs(a: IpAddr, b: IpAddr) -> i64 {
    let ((wa, na), (wb, nb)) = (words(a), words(b));
    for (x, y) in wa.into_iter().zip(wb).take(na.min(nb)) {
        let r = wrapping_diff(x, y);
        if r != 0 {
            return r;
        }
    }
    0
}

fn service_cmp(a: &Entry, b: &Entry) -> i64 {
    let parts = |key: &ServiceKey| match *key {
        ServiceKey::Addr { protocol, addr } => {
            (0, af(key.family()), i64::from(protocol.number()), addr)
        }
        ServiceKey::Fwmark { mark, .. } => (
            mark,
            af(key.family()),
            0,
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        ),
    };
    let (fa, afa, pa, aa) = parts(&a.service.key);
    let (fb, afb, pb, ab) = parts(&b.service.key);
    let r = wrapping_diff(fa, fb);
    if r != 0 {
        return r;
    }
    if afa != afb {
        return afa - afb;
    }
    if pa != pb {
        return pa - pb;
    }
    let r = compare_addrs(aa.ip(), ab.ip());
    if r != 0 {
        return r;
    }
    i64::from(aa.port()) - i64::from(ab.port())
}

fn dest_cmp(a: &Destination, b: &Destination) -> i64 {
    let (fa, fb) = (af(Family::of(a.addr.ip())), af(Family::of(b.addr.ip())));
    if fa != fb {
        return fa - fb;
    }
    let r = compare_addrs(a.addr.ip(), b.addr.ip());
    if r != 0 {
        return r;
    }
    i64::from(a.addr.port()) - i64::from(b.addr.port())
}

/// Sorts services and each service's destinations as ipvsadm does (unless `--nosort`).
pub(crate) fn sort(entries: Vec<Entry>) -> Vec<Entry> {
    merge_sort(entries, &service_cmp)
        .into_iter()
        .map(|mut e| {
            e.destinations = merge_sort(std::mem::take(&mut e.destinations), &dest_cmp);
            e
        })
        .collect()
}

fn proto_name(key: &ServiceKey) -> Option<&'static str> {
    match key {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            ..
        } => Some("tcp"),
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            ..
        } => Some("udp"),
        _ => None,
    }
}

/// `addr:port`, `[v6]:port`, or names when not numeric.
pub(crate) fn endpoint(addr: SocketAddr, proto: Option<&str>, numeric: bool) -> String {
    let host = (!numeric).then(|| names::host_name(addr.ip())).flatten();
    let port = proto
        .filter(|_| !numeric)
        .and_then(|p| names::port_name(addr.port(), p))
        .map_or_else(|| addr.port().to_string(), str::to_string);
    match (host, addr.ip()) {
        (Some(name), _) => format!("{name}:{port}"),
        (None, IpAddr::V4(ip)) => format!("{ip}:{port}"),
        (None, IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
    }
}

/// `TCP  192.0.2.1:80`, `FWM  7`, `FWM  7 IPv6`.
fn service_label(key: &ServiceKey, numeric: bool) -> String {
    match *key {
        ServiceKey::Addr { protocol, addr } => {
            let proto = match protocol {
                Protocol::Tcp => "TCP",
                Protocol::Udp => "UDP",
                Protocol::Sctp => "SCTP",
            };
            format!("{proto:<4} {}", endpoint(addr, proto_name(key), numeric))
        }
        ServiceKey::Fwmark { family, mark } => {
            let v6 = if family == Family::V6 { " IPv6" } else { "" };
            format!("FWM  {}{v6}", mark as i32)
        }
    }
}

/// `-t 192.0.2.1:80`, `-f 7 -6`, ...
fn service_option(key: &ServiceKey, numeric: bool) -> String {
    match *key {
        ServiceKey::Addr { protocol, addr } => {
            let flag = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                Protocol::Sctp => "--sctp-service",
            };
            format!("{flag} {}", endpoint(addr, proto_name(key), numeric))
        }
        ServiceKey::Fwmark { family, mark } => {
            let v6 = if family == Family::V6 { " -6" } else { "" };
            format!("-f {}{v6}", mark as i32)
        }
    }
}

fn sched_flag_names(service: &Service) -> Vec<&'static str> {
    SchedFlagName::names_for(&service.scheduler, service.flags).collect()
}

/// The mask to show, when the service is persistent with a mask other than one address.
fn shown_mask(service: &Service) -> Option<String> {
    if !service.is_persistent() {
        return None;
    }
    match service.key.family() {
        Family::V4 => {
            let mask = service.netmask.v4_mask();
            (mask != Ipv4Addr::BROADCAST).then(|| mask.to_string())
        }
        Family::V6 => {
            let prefix = service.netmask.v6_prefix();
            (prefix < 128).then(|| prefix.to_string())
        }
    }
}

fn forward_option(forward: ForwardMethod) -> &'static str {
    match forward {
        ForwardMethod::Masquerade => "-m",
        ForwardMethod::Tunnel => "-i",
        _ => "-g",
    }
}

fn forward_name(forward: ForwardMethod) -> &'static str {
    match forward {
        ForwardMethod::Masquerade => "Masq",
        ForwardMethod::Local => "Local",
        ForwardMethod::Tunnel => "Tunnel",
        ForwardMethod::DirectRoute => "Route",
        ForwardMethod::Bypass => "Bypass",
        _ => "Unknown",
    }
}

fn csum_option(flags: u16) -> &'static str {
    if flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM != 0 {
        "--tun-remcsum"
    } else if flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM != 0 {
        "--tun-csum"
    } else {
        "--tun-nocsum"
    }
}

fn csum_short(flags: u16) -> &'static str {
    if flags & IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM != 0 {
        "r+c"
    } else if flags & IP_VS_TUNNEL_ENCAP_FLAG_CSUM != 0 {
        "+c"
    } else {
        "-c"
    }
}

fn tunnel_info(dest: &Destination) -> String {
    if dest.forward != ForwardMethod::Tunnel {
        return "n/a".into();
    }
    match dest.tunnel_type {
        TunnelType::Gue => format!("gue:{}:{}", dest.tunnel_port, csum_short(dest.tunnel_flags)),
        TunnelType::Gre => format!("gre:{}", csum_short(dest.tunnel_flags)),
        _ => "ipip".into(),
    }
}

/// `-S`: the table as commands for `-R`.
pub(crate) fn save(out: &mut impl Write, entries: &[Entry], numeric: bool) -> io::Result<()> {
    let mut line = Vec::with_capacity(256);
    for entry in entries {
        let svc = &entry.service;
        let option = service_option(&svc.key, numeric);
        line.clear();
        line.extend_from_slice(b"-A ");
        line.extend_from_slice(option.as_bytes());
        line.extend_from_slice(b" -s ");
        line.extend_from_slice(svc.scheduler.as_bytes());
        if svc.is_persistent() {
            line.extend_from_slice(b" -p ");
            text::push_u64(&mut line, svc.timeout.into());
            if let Some(mask) = shown_mask(svc) {
                text::push_fmt(&mut line, format_args!(" -M {mask}"));
            }
        }
        if let Some(pe) = &svc.pe_name {
            text::push_fmt(&mut line, format_args!(" --pe {pe}"));
        }
        if svc.flags & IP_VS_SVC_F_ONEPACKET != 0 {
            line.extend_from_slice(b" -o");
        }
        let flags = sched_flag_names(svc);
        if !flags.is_empty() {
            text::push_fmt(&mut line, format_args!(" -b {}", flags.join(",")));
        }
        line.push(b'\n');
        for dest in &entry.destinations {
            line.extend_from_slice(b"-a ");
            line.extend_from_slice(option.as_bytes());
            line.extend_from_slice(b" -r ");
            text::push_endpoint(&mut line, dest.addr, proto_name(&svc.key), numeric);
            line.push(b' ');
            line.extend_from_slice(forward_option(dest.forward).as_bytes());
            line.extend_from_slice(b" -w ");
            text::push_i64(&mut line, dest.weight.into());
            if dest.forward == ForwardMethod::Tunnel {
                match dest.tunnel_type {
                    TunnelType::Gue => text::push_fmt(
                        &mut line,
                        format_args!(
                            " --tun-type gue --tun-port {} {}",
                            dest.tunnel_port,
                            csum_option(dest.tunnel_flags)
                        ),
                    ),
                    TunnelType::Gre => text::push_fmt(
                        &mut line,
                        format_args!(" --tun-type gre {}", csum_option(dest.tunnel_flags)),
                    ),
                    _ => line.extend_from_slice(b" --tun-type ipip"),
                }
            }
            line.push(b'\n');
        }
        out.write_all(&line)?;
    }
    Ok(())
}

/// ipvsadm's big numbers: exact, or scaled to K/M/G/T past eight digits.
fn large(n: u64, exact: bool) -> String {
    if exact {
        let digits = n.to_string();
        let width = if digits.len() <= 8 {
            9
        } else {
            digits.len() + 1
        };
        return format!("{digits:>width$}");
    }
    match n {
        0..100_000_000 => format!("{n:>9}"),
        100_000_000..1_000_000_000 => format!("{:>8}K", n / 1_000),
        1_000_000_000..100_000_000_000 => format!("{:>8}M", n / 1_000_000),
        100_000_000_000..100_000_000_000_000 => format!("{:>8}G", n / 1_000_000_000),
        _ => format!("{:>8}T", n / 1_000_000_000_000),
    }
}

/// [`large`] appended to a line; the common case (under 100,000,000, not exact) by hand.
fn push_large(line: &mut Vec<u8>, n: u64, exact: bool) {
    if !exact && n < 100_000_000 {
        text::push_u64_right(line, n, 9);
    } else {
        line.extend_from_slice(large(n, exact).as_bytes());
    }
}

fn counters(stats: &Stats, rate: bool) -> [u64; 5] {
    if rate {
        [
            stats.cps,
            stats.in_pps,
            stats.out_pps,
            stats.in_bps,
            stats.out_bps,
        ]
    } else {
        [
            stats.conns,
            stats.in_pkts,
            stats.out_pkts,
            stats.in_bytes,
            stats.out_bytes,
        ]
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Plain,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
}

fn mode(list: &ListOptions) -> Mode {
    if list.stats {
        Mode::Stats
    } else if list.rate {
        Mode::Rate
    } else if list.thresholds {
        Mode::Thresholds
    } else if list.persistent_conn {
        Mode::PersistentConn
    } else {
        Mode::Plain
    }
}

/// `-L`: the header (with the version line when `info` is given) and the entries.
pub(crate) fn list(
    out: &mut impl Write,
    info: Option<&Info>,
    entries: &[Entry],
    options: &ListOptions,
) -> io::Result<()> {
    let mode = mode(options);
    if let Some(info) = info {
        writeln!(
            out,
            "IP Virtual Server version {} (size={})",
            info.version_string(),
            info.conn_table_size
        )?;
    }
    match mode {
        Mode::Plain if options.tun_info => writeln!(
            out,
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn"
        )?,
        Mode::Plain => writeln!(
            out,
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
        )?,
        Mode::Stats => writeln!(
            out,
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port"
        )?,
        Mode::Rate => writeln!(
            out,
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port"
        )?,
        Mode::Thresholds => writeln!(
            out,
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port"
        )?,
        Mode::PersistentConn => writeln!(
            out,
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port"
        )?,
    }
    let numeric = options.numeric;
    let mut line = Vec::with_capacity(256);
    for entry in entries {
        let svc = &entry.service;
        let label = service_label(&svc.key, numeric);
        line.clear();
        if matches!(mode, Mode::Stats | Mode::Rate) {
            let start = line.len();
            line.extend_from_slice(label.as_bytes());
            text::pad(&mut line, start, 33);
            for n in counters(&svc.stats, mode == Mode::Rate) {
                push_large(&mut line, n, options.exact);
            }
        } else {
            line.extend_from_slice(label.as_bytes());
            line.push(b' ');
            line.extend_from_slice(svc.scheduler.as_bytes());
            let flags = sched_flag_names(svc);
            if !flags.is_empty() {
                text::push_fmt(&mut line, format_args!(" ({})", flags.join(",")));
            }
            if svc.is_persistent() {
                line.extend_from_slice(b" persistent ");
                text::push_u64(&mut line, svc.timeout.into());
                if let Some(mask) = shown_mask(svc) {
                    text::push_fmt(&mut line, format_args!(" mask {mask}"));
                }
                if let Some(pe) = &svc.pe_name {
                    text::push_fmt(&mut line, format_args!(" pe {pe}"));
                }
            }
            if svc.flags & IP_VS_SVC_F_ONEPACKET != 0 {
                line.extend_from_slice(b" ops");
            }
        }
        line.push(b'\n');
        for dest in &entry.destinations {
            line.extend_from_slice(b"  -> ");
            let start = line.len();
            text::push_endpoint(&mut line, dest.addr, proto_name(&svc.key), numeric);
            text::pad(&mut line, start, 28);
            match mode {
                Mode::Stats | Mode::Rate => {
                    for n in counters(&dest.stats, mode == Mode::Rate) {
                        push_large(&mut line, n, options.exact);
                    }
                }
                Mode::Thresholds => text::push_fmt(
                    &mut line,
                    format_args!(
                        " {:<10} {:<10} {:<10} {:<10}",
                        dest.upper_threshold,
                        dest.lower_threshold,
                        dest.active_conns,
                        dest.inactive_conns
                    ),
                ),
                Mode::PersistentConn => text::push_fmt(
                    &mut line,
                    format_args!(
                        " {:<9} {:<11} {:<10} {:<10}",
                        dest.weight, dest.persistent_conns, dest.active_conns, dest.inactive_conns
                    ),
                ),
                Mode::Plain if options.tun_info => text::push_fmt(
                    &mut line,
                    format_args!(
                        " {:<7} {:<13} {:<6} {:<10} {:<10}",
                        forward_name(dest.forward),
                        tunnel_info(dest),
                        dest.weight,
                        dest.active_conns,
                        dest.inactive_conns
                    ),
                ),
                Mode::Plain => {
                    for (value, width) in [
                        (None, 7),
                        (Some(i64::from(dest.weight)), 6),
                        (Some(i64::from(dest.active_conns)), 10),
                        (Some(i64::from(dest.inactive_conns)), 10),
                    ] {
                        line.push(b' ');
                        let start = line.len();
                        match value {
                            None => line.extend_from_slice(forward_name(dest.forward).as_bytes()),
                            Some(n) => text::push_i64(&mut line, n),
                        }
                        text::pad(&mut line, start, width);
                    }
                }
            }
            line.push(b'\n');
        }
        out.write_all(&line)?;
    }
    Ok(())
}

/// `-L --timeout`.
pub(crate) fn timeouts(out: &mut impl Write, t: &Timeouts) -> io::Result<()> {
    writeln!(
        out,
        "Timeout (tcp tcpfin udp): {} {} {}",
        t.tcp, t.tcp_fin, t.udp
    )
}

/// `-L --daemon`: master first.
pub(crate) fn daemons(out: &mut impl Write, daemons: &[Daemon]) -> io::Result<()> {
    for wanted in [DaemonState::Master, DaemonState::Backup] {
        for d in daemons.iter().filter(|d| d.state == wanted) {
            let state = if wanted == DaemonState::Master {
                "master"
            } else {
                "backup"
            };
            let group = d
                .group
                .map_or_else(|| "224.0.0.81".to_string(), |g| g.to_string());
            writeln!(
                out,
                "{state} sync daemon (mcast={}, syncid={}, maxlen={}, group={group}, port={}, ttl={})",
                d.interface,
                d.sync_id,
                d.max_len.unwrap_or(1472),
                d.port.unwrap_or(8848),
                d.ttl.unwrap_or(1)
            )?;
        }
    }
    Ok(())
}

/// `-c`: the connection table, from the text of `/proc/net/ip_vs_conn`.
pub(crate) fn connections(
    out: &mut impl Write,
    proc_text: &str,
    options: &ListOptions,
) -> io::Result<()> {
    writeln!(out, "IPVS connection entries")?;
    if options.persistent_conn {
        writeln!(
            out,
            "pro expire state       source             virtual            destination        pe name          pe_data"
        )?;
    } else {
        writeln!(
            out,
            "pro expire state       source             virtual            destination"
        )?;
    }
    for conn in ipvs::connections(proc_text) {
        let proto = conn.protocol;
        let lower = proto.to_ascii_lowercase();
        let proto_lookup = matches!(lower.as_str(), "tcp" | "udp").then_some(lower.as_str());
        let ep = |addr| endpoint(addr, proto_lookup, options.numeric);
        let (src, vip, dst) = (ep(conn.client), ep(conn.virtual_addr), ep(conn.destination));
        let expires = conn.expires;
        write!(
            out,
            "{proto:<3} {:02}:{:02}  {:<11} {src:<18} {vip:<18} ",
            expires / 60,
            expires % 60,
            conn.state
        )?;
        match (options.persistent_conn, conn.pe_name) {
            (true, Some(pe_name)) => writeln!(
                out,
                "{dst:<18} {pe_name:<16} {}",
                conn.pe_data.unwrap_or("")
            )?,
            _ => writeln!(out, "{dst}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ipvs::packet::IP_VS_SVC_F_SCHED1;

    use super::*;

    #[test]
    fn large_numbers_scale_like_ipvsadm() {
        assert_eq!(large(0, false), "        0");
        assert_eq!(large(99_999_999, false), " 99999999");
        assert_eq!(large(123_456_789, false), "  123456K");
        assert_eq!(large(123_456_789, true), " 123456789");
        assert_eq!(large(5_000_000_000, false), "    5000M");
    }

    fn entry(label: &str) -> Entry {
        let (proto, rest) = label.split_once("  ").unwrap();
        let service = match proto {
            "TCP" => Service::tcp(rest.parse().unwrap()),
            "UDP" => Service::udp(rest.parse().unwrap()),
            _ => Service::fwmark(Family::V4, rest.parse::<i32>().unwrap() as u32),
        };
        Entry {
            service,
            destinations: Vec::new(),
        }
    }

    /// The straightforward top-down merge sort the index version replaced.
    fn reference_sort<T>(items: Vec<T>, cmp: &impl Fn(&T, &T) -> i64) -> Vec<T> {
        if items.len() <= 1 {
            return items;
        }
        let mut left = items;
        let right = left.split_off(left.len() / 2);
        let left = reference_sort(left, cmp);
        let right = reference_sort(right, cmp);
        let mut out = Vec::new();
        let mut left = left.into_iter().peekable();
        let mut right = right.into_iter().peekable();
        while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
            if cmp(l, r) <= 0 {
                out.extend(left.next());
            } else {
                out.extend(right.next());
            }
        }
        out.extend(left);
        out.extend(right);
        out
    }

    #[test]
    fn index_merge_sort_equals_the_reference_even_for_inconsistent_comparisons() {
        // Wrapping differences are not a total order: the result depends on the merge order,
        // which must be the same.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..200 {
            let items: Vec<(u32, usize)> = (0..len)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed as u32 >> (seed % 31), i)
                })
                .collect();
            let cmp = |a: &(u32, usize), b: &(u32, usize)| wrapping_diff(a.0, b.0);
            assert_eq!(merge_sort(items.clone(), &cmp), reference_sort(items, &cmp));
        }
    }

    #[test]
    fn sort_reproduces_ipvsadm_order_with_wrapping_comparisons() {
        // The kernel's order (`--nosort`) and ipvsadm's sorted order, observed in the VM.
        let kernel = "UDP  127.0.0.1:80|UDP  1.0.0.1:80|UDP  255.0.0.1:80|UDP  192.0.2.1:80|\
            UDP  128.0.0.1:80|UDP  10.0.0.1:80|UDP  129.0.0.2:80|TCP  129.0.0.2:80|\
            TCP  203.0.113.1:80|TCP  [8000::1]:80|TCP  [::1]:80|TCP  [ff00::1]:80|\
            TCP  127.0.0.1:80|TCP  1.0.0.1:80|TCP  255.0.0.1:80|TCP  192.0.2.1:80|\
            TCP  128.0.0.1:80|TCP  10.0.0.1:80|TCP  [2001:db8::8000:0:0:1]:80|\
            TCP  [2001:db8:8000::1]:80|TCP  [2001:db8::ffff:1]:80|TCP  [2001:db8::1]:80|\
            FWM  100|FWM  -2147483648|FWM  -2147483647|FWM  1|FWM  3|FWM  2147483647|FWM  -1";
        let ipvsadm = "TCP  10.0.0.1:80|TCP  128.0.0.1:80|TCP  129.0.0.2:80|TCP  192.0.2.1:80|\
            TCP  203.0.113.1:80|TCP  255.0.0.1:80|TCP  1.0.0.1:80|TCP  127.0.0.1:80|\
            UDP  10.0.0.1:80|UDP  127.0.0.1:80|UDP  128.0.0.1:80|UDP  129.0.0.2:80|\
            UDP  192.0.2.1:80|UDP  255.0.0.1:80|UDP  1.0.0.1:80|\
            TCP  [2001:db8::8000:0:0:1]:80|TCP  [2001:db8:8000::1]:80|\
            TCP  [2001:db8::ffff:1]:80|TCP  [2001:db8::1]:80|TCP  [8000::1]:80|\
            TCP  [ff00::1]:80|TCP  [::1]:80|FWM  1|FWM  3|FWM  100|FWM  2147483647|\
            FWM  -2147483648|FWM  -2147483647|FWM  -1";
        let sorted = sort(kernel.split('|').map(|l| entry(l.trim())).collect());
        let got: Vec<String> = sorted
            .iter()
            .map(|e| service_label(&e.service.key, true))
            .collect();
        let want: Vec<&str> = ipvsadm.split('|').map(str::trim).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn save_and_list_lines() {
        let mut svc = Service::udp("192.0.2.1:53".parse().unwrap())
            .scheduler("sh")
            .persistent(60)
            .netmask(24)
            .pe_name("sip")
            .one_packet(true);
        svc.flags |= IP_VS_SVC_F_SCHED1;
        let dest = Destination::new("198.51.100.1:53".parse().unwrap())
            .forward(ForwardMethod::Tunnel)
            .tunnel(TunnelType::Gue, 6080, 0);
        let entries = [Entry {
            service: svc,
            destinations: vec![dest],
        }];
        let mut out = Vec::new();
        save(&mut out, &entries, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-A -u 192.0.2.1:53 -s sh -p 60 -M 255.255.255.0 --pe sip -o -b sh-fallback\n\
             -a -u 192.0.2.1:53 -r 198.51.100.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum\n"
        );
        let mut out = Vec::new();
        let options = ListOptions {
            numeric: true,
            tun_info: true,
            ..ListOptions::default()
        };
        list(&mut out, None, &entries, &options).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(
            "UDP  192.0.2.1:53 sh (sh-fallback) persistent 60 mask 255.255.255.0 pe sip ops\n"
        ));
        assert!(text.contains(
            "  -> 198.51.100.1:53              Tunnel  gue:6080:-c   1      0          0         \n"
        ));
    }
}
