//! Keyword coverage against keepalived 2.2.7: every block/keyword pair keepalived registers
//! (`testdata/keepalived-2.2.7-keywords.txt`) is typed by the parser, or on the short reviewed
//! list below of pairs kept verbatim on purpose; and no pair keepalived calls unknown is accepted.

use std::collections::BTreeSet;

use keepalived_conf::{DiagnosticKind, Options, parse_str};
use serde_json::Value;

const KEYWORDS: &str = include_str!("../../../testdata/keepalived-2.2.7-keywords.txt");

/// Pairs kept verbatim (in an `extra` list) on purpose: settings of the parts of keepalived lvskit
/// does not carry out (SNMP, D-Bus, process scheduling, nftables/iptables, network namespaces,
/// ...), which a model field would only pass along.
const UNTYPED: &[&str] = &[];

/// The source of the builder: its match arms name every keyword it reads, in any block.
const BUILDER: &[&str] = &[
    include_str!("../src/build.rs"),
    include_str!("../src/keywords.rs"),
];

/// The lines that put a keyword inside `block`: (before, after).
fn context(block: &str) -> (String, String) {
    let mut before = String::new();
    let mut after = String::new();
    let mut path = String::new();
    for part in block.split('/').filter(|p| *p != "-") {
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
        let header = match path.as_str() {
            "virtual_server" => "virtual_server 192.0.2.1 80".to_string(),
            "virtual_server/real_server" => "real_server 192.0.2.2 80".to_string(),
            "global_defs"
            | "SSL"
            | "garp_group"
            | "linkbeat_interfaces"
            | "static_ipaddress"
            | "static_routes"
            | "static_rules" => part.to_string(),
            p if p.starts_with("virtual_server/real_server/") => part.to_string(),
            "vrrp_instance/authentication" => "authentication".to_string(),
            _ => format!("{part} NAME"),
        };
        before.push_str(&header);
        before.push_str(" {\n");
        after.push_str("}\n");
    }
    (before, after)
}

/// How the parser takes `keyword` inside `block`.
#[derive(Debug, PartialEq, Eq)]
enum Taken {
    Typed,
    Untyped,
    Unknown,
}

fn probe(block: &str, keyword: &str) -> Taken {
    let (before, after) = context(block);
    let text = format!("{before}{keyword}\n{after}");
    let options = Options {
        includes: false,
        ..Options::default()
    };
    let parsed = parse_str("probe.conf", &text, &options);
    let unknown = parsed.diagnostics.iter().any(|d| {
        d.kind == DiagnosticKind::UnknownKeyword && d.message.contains(&format!("`{keyword}`"))
    });
    if unknown {
        return Taken::Unknown;
    }
    let json = serde_json::to_value(&parsed.config).unwrap();
    if in_extra(&json, keyword) {
        Taken::Untyped
    } else {
        Taken::Typed
    }
}

/// Whether a directive named `keyword` sits in any `extra` list of the model.
fn in_extra(value: &Value, keyword: &str) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, v)| {
            (key == "extra"
                && v.as_array().is_some_and(|list| {
                    list.iter()
                        .any(|d| d["keyword"] == keyword || in_extra(&d["block"], keyword))
                }))
                || in_extra(v, keyword)
        }),
        Value::Array(list) => list.iter().any(|v| in_extra(v, keyword)),
        _ => false,
    }
}

fn keepalived_pairs() -> BTreeSet<(String, String)> {
    KEYWORDS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (block, keyword) = l.split_once(' ').expect("BLOCK KEYWORD");
            (block.to_string(), keyword.to_string())
        })
        .collect()
}

#[test]
fn every_keepalived_pair_is_typed_or_reviewed() {
    let pairs = keepalived_pairs();
    assert_eq!(pairs.len(), 500);
    let mut typed = 0;
    let mut problems = Vec::new();
    for (block, keyword) in &pairs {
        let name = format!("{block} {keyword}");
        match probe(block, keyword) {
            Taken::Typed if UNTYPED.contains(&name.as_str()) => {
                problems.push(format!("{name}: typed, so drop it from UNTYPED"));
            }
            Taken::Typed => typed += 1,
            Taken::Untyped if UNTYPED.contains(&name.as_str()) => {}
            Taken::Untyped => problems.push(format!("{name}: kept verbatim, not typed")),
            Taken::Unknown => problems.push(format!("{name}: unknown to the parser")),
        }
    }
    eprintln!(
        "keyword coverage: {typed} of {} keepalived 2.2.7 pairs typed, {} kept verbatim on purpose",
        pairs.len(),
        UNTYPED.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_pair_keepalived_calls_unknown_is_accepted() {
    let pairs = keepalived_pairs();
    let blocks: BTreeSet<&str> = pairs.iter().map(|(b, _)| b.as_str()).collect();
    // Every word keepalived knows anywhere, every word the builder matches on, and checkers
    // keepalived does not have.
    let mut words: BTreeSet<String> = pairs.iter().map(|(_, k)| k.clone()).collect();
    for source in BUILDER {
        for piece in source.split('"').skip(1).step_by(2) {
            if !piece.is_empty()
                && piece
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                words.insert(piece.to_string());
            }
        }
    }
    words.insert("ICMP_CHECK".into());
    let mut accepted = Vec::new();
    for block in &blocks {
        for word in &words {
            if !pairs.contains(&(block.to_string(), word.clone()))
                && probe(block, word) != Taken::Unknown
            {
                accepted.push(format!("{block} {word}"));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "{} pairs keepalived calls unknown are accepted:\n{}",
        accepted.len(),
        accepted.join("\n")
    );
}
