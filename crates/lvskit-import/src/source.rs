//! Positions in the input files, and the errors and warnings found in them.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use keepalived_conf::{Diagnostic, DiagnosticKind, Location, Severity};

use crate::Input;

/// Most errors kept for one import; an input with more is not worth reading further.
const MAX_ERRORS: usize = 100;

/// A place in an input: a 1-based line and a byte range inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) line: usize,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    /// A whole-word span.
    pub(crate) fn new(line: usize, start: usize, end: usize) -> Self {
        Self { line, start, end }
    }
}

/// One line of an input with its number, comments left in.
pub(crate) fn lines(input: &Input) -> impl Iterator<Item = (usize, &str)> {
    input
        .text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// A word of a line and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) span: Span,
}

/// Splits a line into words at whitespace; `"..."` is one word (quotes removed, no escapes);
/// a `#` that starts a word starts a comment. `extra_separators` also split (`,` for
/// ldirectord's `"request", "receive"`).
pub(crate) fn words(line_no: usize, line: &str, extra_separators: &[char]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = 0;
    let is_sep = |c: char| c.is_whitespace() || extra_separators.contains(&c);
    while i < line.len() {
        let c = line[i..].chars().next().unwrap_or(' ');
        if is_sep(c) {
            i += c.len_utf8();
            continue;
        }
        if c == '#' {
            break;
        }
        let start = i;
        let mut text = String::new();
        while i < line.len() {
            let c = line[i..].chars().next().unwrap_or(' ');
            if is_sep(c) {
                break;
            }
            if c == '"' {
                let close = line[i + 1..].find('"').map(|p| i + 1 + p);
                let end = close.unwrap_or(line.len());
                text.push_str(&line[i + 1..end]);
                i = close.map_or(line.len(), |p| p + 1);
                continue;
            }
            text.push(c);
            i += c.len_utf8();
        }
        out.push(Word {
            text,
            span: Span::new(line_no, start, i),
        });
    }
    out
}

/// Strips one pair of double quotes around a value, as ldirectord and piranha read them.
pub(crate) fn unquote(value: &str) -> &str {
    let v = value.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// Parses an IPv4 netmask (`255.255.255.0`) or a prefix length (`24`) into a prefix length.
pub(crate) fn prefix_len(text: &str) -> Option<u8> {
    if let Ok(len) = text.parse::<u8>() {
        return (len <= 32).then_some(len);
    }
    let mask: Ipv4Addr = text.parse().ok()?;
    let bits = u32::from(mask);
    let len = bits.leading_ones();
    (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

/// An address, for error messages that say what was expected.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The errors and warnings of one import, and the comments waiting for the next output block.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) warnings: Vec<Diagnostic>,
    notes: Vec<String>,
    seen: HashSet<(PathBuf, usize, String)>,
}

impl Report {
    /// An error in the input.
    pub(crate) fn error(
        &mut self,
        input: &Input,
        span: Span,
        kind: DiagnosticKind,
        message: impl Into<String>,
    ) {
        if self.errors.len() < MAX_ERRORS {
            let d = diagnostic(input, Severity::Error, kind, span, message.into());
            self.errors.push(d);
        }
    }

    /// A setting translated approximately or left out: a warning, and a comment above the next
    /// output block. The same message for the same line is reported once.
    pub(crate) fn approx(&mut self, input: &Input, span: Span, message: impl Into<String>) {
        let message = message.into();
        if !self
            .seen
            .insert((input.path.clone(), span.line, message.clone()))
        {
            return;
        }
        self.notes
            .push(format!("{}:{}: {message}", input.path.display(), span.line));
        let d = diagnostic(
            input,
            Severity::Warning,
            DiagnosticKind::NoEquivalent,
            span,
            message,
        );
        self.warnings.push(d);
    }

    /// A comment for the next output block that is not a warning (where a block came from).
    pub(crate) fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    /// The comments gathered since the last block.
    pub(crate) fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// A keepalived-conf diagnostic pointing into an input.
pub(crate) fn diagnostic(
    input: &Input,
    severity: Severity,
    kind: DiagnosticKind,
    span: Span,
    message: String,
) -> Diagnostic {
    let line_text = lines(input)
        .nth(span.line.saturating_sub(1))
        .map_or("", |(_, l)| l)
        .to_string();
    let mut start = span.start.min(line_text.len());
    while !line_text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = span.end.clamp(start, line_text.len());
    while !line_text.is_char_boundary(end) {
        end += 1;
    }
    let column = line_text[..start].chars().count() + 1;
    Diagnostic::from_parts(
        severity,
        kind,
        message,
        Some(Location {
            path: input.path.clone(),
            line: span.line,
            column,
        }),
        line_text,
        start..end.max(start),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_quotes_and_comments() {
        let w = words(3, r#"  real=1.2.3.4:80 gate 2 "/x y", "OK" # c"#, &[',']);
        let texts: Vec<&str> = w.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["real=1.2.3.4:80", "gate", "2", "/x y", "OK"]);
        assert_eq!(w[1].span, Span::new(3, 18, 22));
    }

    #[test]
    fn netmasks() {
        assert_eq!(prefix_len("255.255.255.0"), Some(24));
        assert_eq!(prefix_len("255.255.255.255"), Some(32));
        assert_eq!(prefix_len("0.0.0.0"), Some(0));
        assert_eq!(prefix_len("255.0.255.0"), None);
        assert_eq!(prefix_len("16"), Some(16));
        assert_eq!(prefix_len("33"), None);
    }

    #[test]
    fn diagnostic_points_at_the_word() {
        let input = Input::new("x.cf", "a\n\tbad=1\n");
        let d = diagnostic(
            &input,
            Severity::Error,
            DiagnosticKind::UnknownKeyword,
            Span::new(2, 1, 4),
            "unknown".into(),
        );
        assert_eq!(d.to_string(), "x.cf:2:2: error: unknown");
        assert_eq!(&d.line_text[d.underline.clone()], "bad");
    }
}
