//! The state as text tables, what `lvskitd status` prints.

use std::fmt::Write;

use crate::state::State;

/// Lays out rows under a header, each column as wide as its widest cell.
fn grid(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', pad));
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(out, &mut header.iter().copied());
    for row in rows {
        line(out, &mut row.iter().map(String::as_str));
    }
}

fn ago(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms ago")
    } else if ms < 120_000.0 {
        format!("{:.1} s ago", ms / 1000.0)
    } else {
        format!("{:.0} min ago", ms / 60_000.0)
    }
}

/// The document as tables: instances, scripts, transitions, virtual and real servers.
pub fn render(state: &State) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "lvskitd {} (pid {}), up {:.0} s",
        state.version,
        state.pid,
        state.uptime_ms / 1000.0
    );
    if let Some(vrrp) = &state.vrrp {
        out.push_str("\nVRRP instances\n");
        let rows: Vec<Vec<String>> = vrrp
            .instances
            .iter()
            .map(|i| {
                let master = match &i.master {
                    Some(m) if m.is_self => "this router".to_string(),
                    Some(m) => format!("{} prio {}", m.address, m.priority),
                    None => "-".to_string(),
                };
                let trackers: Vec<String> = i
                    .trackers
                    .iter()
                    .map(|t| {
                        let result = match t.ok {
                            Some(true) => "ok",
                            Some(false) => "FAIL",
                            None => "?",
                        };
                        format!("{} {}={result}", t.kind, t.name)
                    })
                    .collect();
                let dropped: u64 = i.counters.dropped.values().sum();
                vec![
                    i.name.clone(),
                    i.interface.clone(),
                    i.vrid.to_string(),
                    i.state.clone(),
                    format!("{}/{}", i.effective_priority, i.base_priority),
                    master,
                    i.counters.adverts_sent.to_string(),
                    i.counters.adverts_received.to_string(),
                    dropped.to_string(),
                    i.counters.transitions.to_string(),
                    if trackers.is_empty() {
                        "-".to_string()
                    } else {
                        trackers.join(", ")
                    },
                ]
            })
            .collect();
        grid(
            &mut out,
            &[
                "INSTANCE", "IFACE", "VRID", "STATE", "PRIO", "MASTER", "SENT", "RECV", "DROP",
                "TRANS", "TRACKERS",
            ],
            &rows,
        );
        if !vrrp.scripts.is_empty() {
            out.push_str("\nvrrp_scripts\n");
            let rows: Vec<Vec<String>> = vrrp
                .scripts
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        if s.ok { "ok" } else { "FAIL" }.to_string(),
                        s.successes.to_string(),
                        s.failures.to_string(),
                    ]
                })
                .collect();
            grid(&mut out, &["SCRIPT", "RESULT", "PASSED", "FAILED"], &rows);
        }
        let _ = writeln!(
            out,
            "\npackets: {} received, {} accepted, {} dropped; {} GARP/NA sent",
            vrrp.packets.received,
            vrrp.packets.accepted,
            vrrp.packets.dropped.values().sum::<u64>(),
            vrrp.garps_sent
        );
        if !vrrp.timeline.is_empty() {
            out.push_str("\nrecent transitions\n");
            let rows: Vec<Vec<String>> = vrrp
                .timeline
                .iter()
                .rev()
                .map(|t| {
                    vec![
                        ago(t.ms_ago),
                        t.instance.clone(),
                        format!("{} -> {}", t.from, t.to),
                        t.reason.clone(),
                    ]
                })
                .collect();
            grid(&mut out, &["WHEN", "INSTANCE", "CHANGE", "REASON"], &rows);
        }
    }
    if let Some(lb) = &state.lb {
        out.push_str("\nvirtual servers\n");
        let mut rows = Vec::new();
        for vs in &lb.virtual_servers {
            let stats = vs.stats.map_or_else(
                || "-".to_string(),
                |s| format!("{} conns, {} cps", s.connections, s.connections_per_second),
            );
            rows.push(vec![
                vs.name.clone(),
                vs.scheduler.clone(),
                format!(
                    "quorum {}{}",
                    if vs.quorum_up { "up" } else { "DOWN" },
                    if vs.sorry_active {
                        ", sorry server"
                    } else {
                        ""
                    }
                ),
                String::new(),
                stats,
                String::new(),
            ]);
            for rs in &vs.real_servers {
                let reason = rs
                    .checks
                    .iter()
                    .find(|c| c.state == "down")
                    .or_else(|| rs.checks.first())
                    .and_then(|c| c.reason.clone())
                    .unwrap_or_default();
                rows.push(vec![
                    format!("  -> {}", rs.address),
                    rs.table_weight
                        .map_or_else(|| "out".to_string(), |w| format!("weight {w}")),
                    if rs.alive { "UP" } else { "DOWN" }.to_string(),
                    rs.checks
                        .iter()
                        .map(|c| format!("{} {}", c.kind, c.state))
                        .collect::<Vec<_>>()
                        .join(", "),
                    rs.stats.map_or_else(
                        || "-".to_string(),
                        |s| format!("{} conns, {} cps", s.connections, s.connections_per_second),
                    ),
                    reason,
                ]);
            }
        }
        grid(
            &mut out,
            &["SERVER", "WEIGHT", "STATE", "CHECKS", "IPVS", "LAST RESULT"],
            &rows,
        );
        let _ = writeln!(
            out,
            "\nchecks: {} up, {} down, {} unknown; {} reloads",
            lb.checks.get("up").copied().unwrap_or(0),
            lb.checks.get("down").copied().unwrap_or(0),
            lb.checks.get("unknown").copied().unwrap_or(0),
            lb.reloads
        );
    }
    if state.vrrp.is_none() && state.lb.is_none() {
        out.push_str("\nno half is running\n");
    }
    out
}
