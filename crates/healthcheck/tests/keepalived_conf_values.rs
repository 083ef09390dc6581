//! The checker and the configuration test agree on every value: a `status_code`, `payload` or
//! `require_reply` that `keepalived-conf` accepts builds the checker, and one the checker refuses
//! is refused by the parse (so by `lvskitd -t`) too. The tables hold the cases keepalived 2.2.7
//! itself was seen to accept or refuse with `keepalived -t`.

use healthcheck::StatusRange;
use healthcheck::udp::{ReplyPattern, parse_hex};
use keepalived_conf::{DiagnosticKind, Options, parse_str};
use proptest::prelude::*;

/// Whether the parser accepts `status_code WORD` in a url block.
fn conf_accepts_status(word: &str) -> bool {
    accepts(&format!(
        "HTTP_GET {{\n url {{\n path /\n status_code {word}\n }}\n }}"
    ))
}

/// Whether the parser accepts `KEYWORD TEXT` in a UDP_CHECK.
fn conf_accepts_udp(keyword: &str, text: &str) -> bool {
    accepts(&format!("UDP_CHECK {{\n {keyword} {text}\n }}"))
}

fn accepts(checker: &str) -> bool {
    let text = format!(
        "virtual_server 192.0.2.1 80 {{\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 192.0.2.2 80 {{\n {checker}\n }}\n}}\n"
    );
    let options = Options {
        includes: false,
        ..Options::default()
    };
    !parse_str("values.conf", &text, &options)
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::InvalidValue)
}

/// keepalived 2.2.7's verdicts (`keepalived -t`: a "Invalid HTTP_GET status code" message or not).
const STATUS_CODES: &[(&str, bool)] = &[
    ("200", true),
    ("100", true),
    ("599", true),
    ("300-399", true),
    ("+200", true),
    ("0200", true),
    ("99", false),
    ("600", false),
    ("999", false),
    ("300-200", false),
    ("200-", false),
    ("-200", false),
    ("2x0", false),
];

/// keepalived 2.2.7's verdicts for `require_reply` (wildcards allowed) and `payload` (not).
const HEX: &[(&str, bool, bool)] = &[
    // (text, require_reply accepted, payload accepted)
    ("00 01", true, true),
    ("abc d", true, true),
    ("0x 1X ab", true, false),
    ("x", true, false),
    ("zz", false, false),
    ("0g", false, false),
];

#[test]
fn the_tables_hold_for_both() {
    for &(word, ok) in STATUS_CODES {
        assert_eq!(conf_accepts_status(word), ok, "status_code {word}");
        assert_eq!(
            word.parse::<StatusRange>().is_ok(),
            ok,
            "StatusRange {word}"
        );
    }
    for &(text, reply_ok, payload_ok) in HEX {
        assert_eq!(
            conf_accepts_udp("require_reply", text),
            reply_ok,
            "require_reply {text}"
        );
        assert_eq!(
            ReplyPattern::parse(text).is_ok(),
            reply_ok,
            "ReplyPattern {text}"
        );
        assert_eq!(
            conf_accepts_udp("payload", text),
            payload_ok,
            "payload {text}"
        );
        assert_eq!(parse_hex(text).is_ok(), payload_ok, "parse_hex {text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn status_code_verdicts_agree(word in "[+-]?[0-9]{1,4}(-[+-]?[0-9]{0,4})?|[0-9a-z+-]{1,6}") {
        prop_assert_eq!(conf_accepts_status(&word), word.parse::<StatusRange>().is_ok(), "{}", word);
    }

    #[test]
    fn hex_verdicts_agree(text in "[0-9a-fA-FxXg ]{1,12}") {
        prop_assume!(!text.trim().is_empty());
        prop_assert_eq!(conf_accepts_udp("require_reply", &text), ReplyPattern::parse(&text).is_ok(), "{}", text);
        prop_assert_eq!(conf_accepts_udp("payload", &text), parse_hex(&text).is_ok(), "{}", text);
    }
}
