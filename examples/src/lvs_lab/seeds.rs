//! `--config DIR`: operators' keepalived.conf files run in the lab, their addresses mapped into
//! the lab's networks by the lab (the files are not edited by hand).
//!
//! The mapping, applied to the text (comments and everything else are kept):
//! - every `interface NAME` becomes `interface eth0` (the directors' only interface);
//! - the VIPs (addresses in `virtual_ipaddress` blocks and on `virtual_server` lines) become
//!   192.0.2.100, .101, … in order of appearance;
//! - the real servers (`real_server` lines) become the lab's two real servers, in order
//!   (a third is an error: the lab has two);
//! - `mcast_src_ip` / `unicast_src_ip` become the director's own address, `unicast_peer`
//!   addresses the other director's;
//! - any other IPv4 address (an SMTP server, say) becomes 203.0.113.N, which nothing uses;
//! - the ports of `virtual_server`, `real_server` and `connect_port` become 80 (busybox httpd).
//!
//! DIR holds one file per director: the one whose `vrrp_instance` says `state MASTER` (or the
//! first by name) runs on director a, the other on b. A directory with a single file (a seed
//! that shows the MASTER's file and says the BACKUP differs by `state` and `priority`) gets the
//! BACKUP's file made from it: `state BACKUP` and the priority lowered by 50. A seed without a
//! `virtual_server` (VRRP only) gets the lab's built-in HTTP service appended, so that the
//! client has something to reach.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{DIRECTORS, HTTP_PORT, LbSettings, Method, VIP, config};

/// Reads DIR and returns the two mapped configurations (a's, b's) and the forwarding method
/// their first `virtual_server` names (`fallback` when there is none).
pub fn load(dir: &Path, fallback: Method) -> Result<([String; 2], Method)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("{}", p.display())))
        .collect::<Result<_>>()?;
    let (master, backup) = match texts.as_slice() {
        [] => bail!("{}: no .conf file", dir.display()),
        [one] => (one.clone(), derive_backup(one)),
        [a, b] => {
            if state_of(b) == Some("MASTER") && state_of(a) != Some("MASTER") {
                (b.clone(), a.clone())
            } else {
                (a.clone(), b.clone())
            }
        }
        _ => bail!("{}: more than two .conf files", dir.display()),
    };
    let method = method_of(&master).unwrap_or(fallback);
    let a = map(&master, 0, method)?;
    let b = map(&backup, 1, method)?;
    Ok(([a, b], method))
}

fn words(line: &str) -> Vec<&str> {
    let code = line.split(['#', '!']).next().unwrap_or("");
    code.split_whitespace().collect()
}

fn state_of(text: &str) -> Option<&str> {
    text.lines().find_map(|l| match words(l).as_slice() {
        ["state", s, ..] => Some(*s),
        _ => None,
    })
}

fn method_of(text: &str) -> Option<Method> {
    text.lines().find_map(|l| match words(l).as_slice() {
        ["lb_kind" | "lvs_method", m, ..] => match m.to_ascii_uppercase().as_str() {
            "DR" => Some(Method::Dr),
            "NAT" => Some(Method::Nat),
            "TUN" => Some(Method::Tun),
            _ => None,
        },
        _ => None,
    })
}

/// The BACKUP's file made from the MASTER's: `state BACKUP`, priority lowered by 50.
pub fn derive_backup(master: &str) -> String {
    master
        .lines()
        .map(|line| {
            let indent = &line[..line.len() - line.trim_start().len()];
            match words(line).as_slice() {
                ["state", "MASTER", ..] => format!("{indent}state BACKUP"),
                ["priority", p, ..] => {
                    let p: u32 = p.parse().unwrap_or(100);
                    format!("{indent}priority {}", p.saturating_sub(50).max(1))
                }
                _ => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Maps one file into the lab's addresses for director `me`.
pub fn map(text: &str, me: usize, method: Method) -> Result<String> {
    let servers = method.servers();
    let mut vips: BTreeMap<String, Ipv4Addr> = BTreeMap::new();
    let mut reals: BTreeMap<String, Ipv4Addr> = BTreeMap::new();
    let mut others: BTreeMap<String, Ipv4Addr> = BTreeMap::new();
    let mut out = String::new();
    let mut in_vips = false;
    let mut in_peers = false;
    let mut has_vs = false;
    for line in text.lines() {
        let w = words(line);
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut new = line.to_string();
        match w.as_slice() {
            ["virtual_ipaddress", ..] => in_vips = true,
            ["unicast_peer", ..] => in_peers = true,
            ["}", ..] => {
                in_vips = false;
                in_peers = false;
            }
            ["interface", _, ..] => new = format!("{indent}interface eth0"),
            ["mcast_src_ip" | "unicast_src_ip", _, ..] => {
                new = format!("{indent}{} {}", w[0], DIRECTORS[me]);
            }
            ["virtual_server", addr, port, rest @ ..] if addr.parse::<Ipv4Addr>().is_ok() => {
                has_vs = true;
                let _ = port;
                let n = vips.len();
                let vip = *vips
                    .entry((*addr).to_string())
                    .or_insert_with(|| nth_vip(n));
                new = format!(
                    "{indent}virtual_server {vip} {HTTP_PORT} {}",
                    rest.join(" ")
                );
            }
            ["virtual_server", ..] => has_vs = true,
            ["real_server", addr, rest @ ..] if addr.parse::<Ipv4Addr>().is_ok() => {
                let n = reals.len();
                if !reals.contains_key(*addr) && n >= servers.len() {
                    bail!("real_server {addr}: the lab has two real servers");
                }
                let real = *reals
                    .entry((*addr).to_string())
                    .or_insert_with(|| servers[n]);
                let tail = if rest.first().is_some_and(|p| p.parse::<u16>().is_ok()) {
                    &rest[1..]
                } else {
                    rest
                };
                new = format!("{indent}real_server {real} {HTTP_PORT} {}", tail.join(" "));
            }
            ["connect_port", _, ..] => new = format!("{indent}connect_port {HTTP_PORT}"),
            [first, ..]
                if in_vips
                    && first
                        .split('/')
                        .next()
                        .is_some_and(|a| a.parse::<Ipv4Addr>().is_ok()) =>
            {
                let addr = first.split('/').next().unwrap_or(first);
                let n = vips.len();
                let vip = *vips.entry(addr.to_string()).or_insert_with(|| nth_vip(n));
                let rest: Vec<&str> = w[1..]
                    .iter()
                    .map(|word| {
                        if w.contains(&"dev")
                            && w.iter()
                                .position(|x| *x == "dev")
                                .is_some_and(|p| w.get(p + 1) == Some(word))
                        {
                            "eth0"
                        } else {
                            word
                        }
                    })
                    .collect();
                new = format!("{indent}{vip}/24 {}", rest.join(" "));
            }
            [first, ..] if in_peers && first.parse::<Ipv4Addr>().is_ok() => {
                new = format!("{indent}{}", DIRECTORS[1 - me]);
            }
            _ => {}
        }
        out.push_str(&replace_other_addresses(&new, &mut others, &vips, &reals));
        out.push('\n');
    }
    if !has_vs {
        out.push_str(
            "\n! appended by lvs-lab: the seed has no virtual_server, the client needs one\n",
        );
        let lab = config(method, me, &LbSettings::default());
        let vs = lab
            .find(&format!("virtual_server {VIP} {HTTP_PORT}"))
            .map(|at| &lab[at..])
            .unwrap_or("");
        let end = vs.find("\nvirtual_server").map_or(vs.len(), |e| e + 1);
        out.push_str(&vs[..end]);
    }
    Ok(out)
}

fn nth_vip(n: usize) -> Ipv4Addr {
    let o = VIP.octets();
    Ipv4Addr::new(o[0], o[1], o[2], o[3] + u8::try_from(n).unwrap_or(0))
}

/// Replaces IPv4 addresses that are not already the lab's with 203.0.113.N.
fn replace_other_addresses(
    line: &str,
    others: &mut BTreeMap<String, Ipv4Addr>,
    vips: &BTreeMap<String, Ipv4Addr>,
    reals: &BTreeMap<String, Ipv4Addr>,
) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let len = from
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(from.len());
        let token = &from[..len];
        let preceded_by_word = before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        match token.parse::<Ipv4Addr>() {
            Ok(addr) if !preceded_by_word && !is_lab(addr) => {
                let mapped = vips
                    .get(token)
                    .or_else(|| reals.get(token))
                    .copied()
                    .unwrap_or_else(|| {
                        let n = others.len();
                        *others.entry(token.to_string()).or_insert_with(|| {
                            Ipv4Addr::new(203, 0, 113, 1 + u8::try_from(n % 250).unwrap_or(0))
                        })
                    });
                out.push_str(&mapped.to_string());
            }
            _ => out.push_str(token),
        }
        rest = &from[len..];
    }
    out.push_str(rest);
    out
}

fn is_lab(addr: Ipv4Addr) -> bool {
    let o = addr.octets();
    matches!(
        (o[0], o[1], o[2]),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113)
    ) || o[0] >= 224
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "global_defs {
   smtp_server 192.168.200.1
   router_id LVS_DEVEL
}
vrrp_instance VI_1 {
    state MASTER            # one DS is MASTER
    interface enp1s0
    priority 200
    mcast_src_ip 172.17.13.141
    virtual_ipaddress {
        172.17.13.252       # the VIP
    }
}
virtual_server 172.17.13.252 8080 {
    lb_kind DR
    real_server 172.17.13.173 8080 {
        TCP_CHECK {
            connect_port 8080
        }
    }
    real_server 172.17.13.142 8080 {
    }
}
";

    #[test]
    fn addresses_interfaces_and_ports_are_mapped() {
        let a = map(SEED, 0, Method::Dr).unwrap();
        for want in [
            "interface eth0",
            "mcast_src_ip 192.0.2.1",
            "        192.0.2.100/24",
            "virtual_server 192.0.2.100 80 {",
            "real_server 192.0.2.11 80 {",
            "real_server 192.0.2.12 80 {",
            "connect_port 80",
            "smtp_server 203.0.113.1",
        ] {
            assert!(a.contains(want), "{want:?} not in:\n{a}");
        }
        assert!(!a.contains("172.17") && !a.contains("8080") && !a.contains("192.168"));
        let b = map(&derive_backup(SEED), 1, Method::Dr).unwrap();
        assert!(
            b.contains("state BACKUP") && b.contains("priority 150"),
            "{b}"
        );
        assert!(b.contains("mcast_src_ip 192.0.2.2"));
        assert_eq!(method_of(SEED), Some(Method::Dr));
    }

    #[test]
    fn a_seed_without_virtual_server_gets_the_labs() {
        let seed = "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_ipaddress {\n  192.168.1.77\n }\n}\n";
        let a = map(seed, 0, Method::Dr).unwrap();
        assert!(a.contains("virtual_server 192.0.2.100 80 {"), "{a}");
        assert!(!a.contains("7000"), "only the HTTP service: {a}");
    }

    #[test]
    fn every_seed_maps() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/configs/seeds");
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "conf") {
                let text = std::fs::read_to_string(&path).unwrap();
                let a = map(&text, 0, Method::Dr).unwrap();
                assert!(a.contains("192.0.2.100"), "{}", path.display());
                assert!(
                    !a.contains("192.168.") && !a.contains("172.17."),
                    "{}:\n{a}",
                    path.display()
                );
            }
        }
    }
}
