//! keepalived's rules for checker values that other crates read too: HTTP status codes and hex
//! strings. One place, so that what `lvskitd -t` accepts is exactly what a checker built from the
//! same words runs (the `healthcheck` crate parses through these functions).

use std::ops::RangeInclusive;

use crate::model::StatusRange;

/// The HTTP status codes keepalived 2.2.7 accepts in `status_code` (its `HTTP_STATUS_CODE_MIN`
/// and `_MAX`).
pub const STATUS_CODES: RangeInclusive<u16> = 100..=599;

/// Why a value was refused; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A `status_code` word that is not a code or a `LOW-HIGH` range of codes 100 to 599.
    #[error("expected a status code or range within 100-599, found `{0}`")]
    StatusCode(String),
    /// A hex string with something other than hex digits (or `x` wildcards where allowed).
    #[error("expected hex digits{}, found `{found}`", if *.wildcards { " or x wildcards" } else { "" })]
    Hex {
        /// The text.
        found: String,
        /// Whether `x` was allowed.
        wildcards: bool,
    },
}

impl std::str::FromStr for StatusRange {
    type Err = ValueError;

    /// One `status_code` word: `CODE` or `LOW-HIGH`, each an unsigned decimal (a leading `+`
    /// and leading zeros are fine, as for C's `strtoul`), within [`STATUS_CODES`], low <= high.
    fn from_str(word: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::StatusCode(word.to_string());
        let number = |s: &str| -> Option<u64> {
            let digits = s.strip_prefix('+').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Saturates like strtoul; anything that large is out of range anyway.
            Some(digits.parse().unwrap_or(u64::MAX))
        };
        let (low, high) = match word.split_once('-') {
            Some((low, "")) => (number(low).ok_or_else(bad)?, 0),
            Some((low, high)) => (number(low).ok_or_else(bad)?, number(high).ok_or_else(bad)?),
            None => {
                let code = number(word).ok_or_else(bad)?;
                (code, code)
            }
        };
        let codes = u64::from(*STATUS_CODES.start())..=u64::from(*STATUS_CODES.end());
        if !codes.contains(&low) || !codes.contains(&high) || low > high {
            return Err(bad());
        }
        Ok(Self {
            low: low as u16,
            high: high as u16,
        })
    }
}

/// One byte of a hex pattern: its value and the mask of the bits that must match (`0xff` for a
/// plain byte; `x` wildcards clear a nibble of the mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HexByte {
    /// The byte (wildcard nibbles are 0).
    pub value: u8,
    /// The bits that count.
    pub mask: u8,
}

/// keepalived's HEX_STR (`payload`, `require_reply`): blank-separated groups of hex digits, read
/// two digits to a byte; a digit left alone at the end of a group is a byte of its own (`Ab12f 3`
/// is `AB 12 0F 03`). With `wildcards` (only `require_reply` has them), `x` or `X` is a nibble
/// that matches anything. An empty string is refused.
pub fn parse_hex(text: &str, wildcards: bool) -> Result<Vec<HexByte>, ValueError> {
    let bad = || ValueError::Hex {
        found: text.to_string(),
        wildcards,
    };
    let nibble = |c: char| -> Option<(u8, u8)> {
        match c {
            'x' | 'X' if wildcards => Some((0, 0)),
            c => c.to_digit(16).map(|d| (d as u8, 0xf)),
        }
    };
    let mut out = Vec::new();
    for group in text.split([' ', '\t']).filter(|g| !g.is_empty()) {
        let chars: Vec<char> = group.chars().collect();
        for pair in chars.chunks(2) {
            let (high, high_mask) = nibble(pair[0]).ok_or_else(bad)?;
            let byte = match pair.get(1) {
                Some(&c) => {
                    let (low, low_mask) = nibble(c).ok_or_else(bad)?;
                    HexByte {
                        value: (high << 4) | low,
                        mask: (high_mask << 4) | low_mask,
                    }
                }
                // A digit alone is the low nibble of a byte whose high nibble is 0.
                None => HexByte {
                    value: high,
                    mask: 0xf0 | high_mask,
                },
            };
            out.push(byte);
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_follow_keepalived() {
        let ok = |w: &str| w.parse::<StatusRange>().map(|r| (r.low, r.high));
        assert_eq!(ok("200"), Ok((200, 200)));
        assert_eq!(ok("300-399"), Ok((300, 399)));
        assert_eq!(ok("+200"), Ok((200, 200)));
        assert_eq!(ok("0200-0204"), Ok((200, 204)));
        assert_eq!(ok("100-599"), Ok((100, 599)));
        for bad in [
            "99",
            "600",
            "999",
            "300-200",
            "200-",
            "-200",
            "2x0",
            "",
            "200-600",
            "18446744073709551617",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hex_follows_keepalived() {
        let values = |t: &str, w: bool| {
            parse_hex(t, w).map(|b| b.iter().map(|b| (b.value, b.mask)).collect::<Vec<_>>())
        };
        assert_eq!(
            values("Ab12f 3", false),
            Ok(vec![(0xab, 0xff), (0x12, 0xff), (0x0f, 0xff), (0x03, 0xff)])
        );
        assert_eq!(values("0x 1X", true), Ok(vec![(0x00, 0xf0), (0x10, 0xf0)]));
        assert_eq!(values("x", true), Ok(vec![(0x00, 0xf0)]));
        assert!(values("0x", false).is_err());
        assert!(values("zz", true).is_err());
        assert!(values("", true).is_err());
        assert!(values("   ", false).is_err());
    }
}
