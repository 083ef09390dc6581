//! The line layer of keepalived.conf: comments, quotes, `include`, `$NAME=value` definitions and
//! their use, `@id`/`@^id` conditional lines, multiline definitions ending in `\`, and `~SEQ`.
//! Its output is a flat stream of words, braces and line ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::Options;
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::source::{Origin, SourceMap};

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Word(String),
    Open,
    Close,
    Eol,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) origin: Origin,
}

/// Deepest include nesting and substitution recursion accepted.
const MAX_DEPTH: usize = 32;
/// Most lines one `~SEQ` line may produce (keeps a typo from eating the memory).
const MAX_SEQ_LINES: i64 = 100_000;

pub(crate) struct Lexer<'o> {
    pub(crate) sources: SourceMap,
    pub(crate) diags: Diagnostics,
    pub(crate) tokens: Vec<Token>,
    options: &'o Options,
    defs: HashMap<String, String>,
    /// A multiline definition being collected: name, value so far.
    pending_def: Option<(String, String)>,
}

impl<'o> Lexer<'o> {
    pub(crate) fn new(options: &'o Options) -> Self {
        Self {
            sources: SourceMap::default(),
            diags: Diagnostics {
                list: Vec::new(),
                strict: options.strict,
            },
            tokens: Vec::new(),
            options,
            defs: HashMap::new(),
            pending_def: None,
        }
    }

    /// Lexes one file's text (already loaded), including what it includes.
    pub(crate) fn lex_text(&mut self, path: PathBuf, text: String, depth: usize) {
        let file = self.sources.add(path.clone(), text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        self.defs
            .insert("_PWD".into(), dir.display().to_string());
        // Lines are copied out so the source map can grow (includes) while we walk them.
        let text = self.sources.files[file as usize].text.clone();
        let mut offset = 0usize;
        for raw in text.split_inclusive('\n') {
            let line = raw.trim_end_matches(['\n', '\r']);
            self.line(file, offset, line, &dir, depth);
            offset += raw.len();
        }
        if let Some((name, _)) = self.pending_def.take() {
            let origin = Origin {
                file,
                start: text.len() as u32,
                len: 0,
            };
            self.diags.error(
                &self.sources,
                DiagnosticKind::Syntax,
                origin,
                format!("multiline definition `${name}` runs to the end of the file"),
            );
        }
    }

    fn line(&mut self, file: u32, offset: usize, line: &str, dir: &Path, depth: usize) {
        let origin_of = |start: usize, len: usize| Origin {
            file,
            start: (offset + start) as u32,
            len: len as u32,
        };
        if let Some((name, mut value)) = self.pending_def.take() {
            let body = strip_comment(line);
            let (body, more) = match body.trim_end().strip_suffix('\\') {
                Some(b) => (b, true),
                None => (body, false),
            };
            if !value.is_empty() {
                value.push('\n');
            }
            value.push_str(body.trim_end());
            if more {
                self.pending_def = Some((name, value));
            } else {
                self.defs.insert(name, value);
            }
            return;
        }
        let content = strip_comment(line);
        let lead = content.len() - content.trim_start().len();
        let trimmed = content.trim();
        if trimmed.is_empty() {
            return;
        }
        // include and its variants, before conditionals and substitution (as keepalived does).
        let first = trimmed.split_whitespace().next().unwrap_or("");
        if matches!(
            first,
            "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
        ) {
            let pattern = trimmed[first.len()..].trim();
            let origin = origin_of(lead, trimmed.len());
            self.include(pattern, dir, origin, depth);
            return;
        }
        self.logical(file, offset + lead, trimmed, dir, depth, 0);
    }

    /// Handles a line after comments are gone: conditionals, definitions, `~SEQ`, substitution.
    fn logical(
        &mut self,
        file: u32,
        start: usize,
        text: &str,
        dir: &Path,
        depth: usize,
        subst_depth: usize,
    ) {
        let line_origin = Origin {
            file,
            start: start as u32,
            len: text.split_whitespace().next().map_or(0, str::len) as u32,
        };
        let mut text = text;
        let mut start = start;
        // Conditional lines: @id / @^id, possibly several.
        while let Some(rest) = text.strip_prefix('@') {
            let (negate, rest) = match rest.strip_prefix('^') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let id_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let id = &rest[..id_len];
            let matches = self.options.config_id.as_deref() == Some(id);
            if matches == negate {
                return;
            }
            let after = &rest[id_len..];
            let skipped = text.len() - after.trim_start().len();
            start += skipped;
            text = after.trim_start();
            if text.is_empty() {
                return;
            }
        }
        // Definitions: $NAME=value (no space before '=').
        if let Some(rest) = text.strip_prefix('$') {
            let name_len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            if !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && rest[name_len..].starts_with('=')
            {
                let value = rest[name_len + 1..].trim();
                if let Some(first) = value.strip_suffix('\\') {
                    self.pending_def = Some((name.to_string(), first.trim().to_string()));
                } else {
                    self.defs.insert(name.to_string(), value.to_string());
                }
                return;
            }
        }
        // ~SEQ(var, start, step, end) / ~SEQx(...): repeat the rest of the line.
        if let Some(rest) = text.strip_prefix("~SEQ") {
            self.seq(file, start, rest, line_origin, dir, depth, subst_depth);
            return;
        }
        if text.contains('$') {
            if subst_depth >= MAX_DEPTH {
                self.diags.error(
                    &self.sources,
                    DiagnosticKind::Syntax,
                    line_origin,
                    "parameter substitution nests too deep (a definition that uses itself?)",
                );
                return;
            }
            let (replaced, changed) = self.substitute(text);
            if changed {
                for part in replaced.split('\n') {
                    let part = part.trim();
                    if part.is_empty() {
                        continue;
                    }
                    // Substituted text has no place in the file: its tokens point at the line.
                    let before = self.tokens.len();
                    self.logical(file, start, part, dir, depth, subst_depth + 1);
                    for token in &mut self.tokens[before..] {
                        token.origin = line_origin;
                    }
                }
                return;
            }
        }
        self.tokenize(file, start, text);
    }

    #[allow(clippy::too_many_arguments)]
    fn seq(
        &mut self,
        file: u32,
        start: usize,
        rest: &str,
        origin: Origin,
        dir: &Path,
        depth: usize,
        subst_depth: usize,
    ) {
        let (hex, rest) = match rest.strip_prefix('x') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let parsed = rest.strip_prefix('(').and_then(|r| {
            let close = r.find(')')?;
            let args: Vec<&str> = r[..close].split(',').map(str::trim).collect();
            Some((args, r[close + 1..].trim()))
        });
        let Some((args, body)) = parsed else {
            self.diags.error(
                &self.sources,
                DiagnosticKind::Syntax,
                origin,
                "expected ~SEQ(var, start, step, end)",
            );
            return;
        };
        let num = |s: &str| -> Option<i64> {
            let s = s.trim();
            if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()
            } else {
                s.parse().ok()
            }
        };
        let nums: Option<Vec<i64>> = args[1..].iter().map(|a| num(a)).collect();
        let var = args[0];
        let bounds = match nums.as_deref() {
            Some([end]) => Some((if *end >= 0 { 1 } else { -1 }, None, *end)),
            Some([s, end]) => Some((*s, None, *end)),
            Some([s, step, end]) => Some((*s, Some(*step), *end)),
            _ => None,
        };
        let Some((first, step, end)) = bounds.filter(|_| !var.is_empty()) else {
            self.diags.error(
                &self.sources,
                DiagnosticKind::InvalidValue,
                origin,
                "~SEQ needs a variable and one to three numbers",
            );
            return;
        };
        let step = step.unwrap_or(if end >= first { 1 } else { -1 });
        if step == 0 || (step > 0) != (end >= first) && first != end {
            self.diags.error(
                &self.sources,
                DiagnosticKind::InvalidValue,
                origin,
                "~SEQ step goes away from the end",
            );
            return;
        }
        let count = (i128::from(end) - i128::from(first)) / i128::from(step) + 1;
        if count > i128::from(MAX_SEQ_LINES) {
            self.diags.error(
                &self.sources,
                DiagnosticKind::OutOfRange,
                origin,
                format!("~SEQ would produce {count} lines; at most {MAX_SEQ_LINES} are accepted"),
            );
            return;
        }
        let mut value = first;
        for _ in 0..count {
            let text = if hex {
                format!("{value:x}")
            } else {
                value.to_string()
            };
            self.defs.insert(var.to_string(), text);
            self.logical(file, start, body, dir, depth, subst_depth + 1);
            value = value.saturating_add(step);
        }
    }

    /// Replaces `$NAME` (followed by whitespace or the end) and `${NAME}` once per pass, until
    /// nothing changes. Unknown names stay as they are.
    fn substitute(&self, text: &str) -> (String, bool) {
        let mut current = text.to_string();
        let mut changed_any = false;
        for _ in 0..MAX_DEPTH {
            let (next, changed) = self.substitute_once(&current);
            if !changed {
                break;
            }
            changed_any = true;
            current = next;
        }
        (current, changed_any)
    }

    fn substitute_once(&self, text: &str) -> (String, bool) {
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(inner) = after.strip_prefix('{')
                && let Some(close) = inner.find('}')
            {
                let name = &inner[..close];
                let value = if let Some(range) = name.strip_prefix("_RANDOM") {
                    Some(random_in(range))
                } else {
                    match name {
                        "_HASH" => Some("#".to_string()),
                        "_BANG" => Some("!".to_string()),
                        "_INSTANCE" => Some(self.options.config_id.clone().unwrap_or_default()),
                        _ => self.defs.get(name).cloned(),
                    }
                };
                if let Some(value) = value {
                    out.push_str(&value);
                    changed = true;
                    rest = &inner[close + 1..];
                    continue;
                }
            } else {
                let len = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                let name = &after[..len];
                let followed_ok = after[len..].is_empty()
                    || after[len..].starts_with(char::is_whitespace);
                if followed_ok && let Some(value) = self.defs.get(name) {
                    out.push_str(value);
                    changed = true;
                    rest = &after[len..];
                    continue;
                }
            }
            out.push('$');
            rest = after;
        }
        out.push_str(rest);
        (out, changed)
    }

    fn include(&mut self, pattern: &str, dir: &Path, origin: Origin, depth: usize) {
        if !self.options.includes {
            self.diags.warn(
                &self.sources,
                DiagnosticKind::Include,
                origin,
                "include ignored: includes are switched off for this parse",
            );
            return;
        }
        let pattern = unquote_simple(pattern);
        if pattern.is_empty() {
            self.diags.error(
                &self.sources,
                DiagnosticKind::Missing,
                origin,
                "include needs a file name or pattern",
            );
            return;
        }
        if depth >= MAX_DEPTH {
            self.diags.error(
                &self.sources,
                DiagnosticKind::Include,
                origin,
                format!("includes nest deeper than {MAX_DEPTH} files"),
            );
            return;
        }
        let full = if Path::new(&pattern).is_absolute() {
            PathBuf::from(&pattern)
        } else {
            dir.join(&pattern)
        };
        let paths: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            Err(e) => {
                self.diags.error(
                    &self.sources,
                    DiagnosticKind::Include,
                    origin,
                    format!("include pattern `{pattern}` is not valid: {e}"),
                );
                return;
            }
        };
        if paths.is_empty() {
            self.diags.warn(
                &self.sources,
                DiagnosticKind::Include,
                origin,
                format!("include `{pattern}` matched no file"),
            );
            return;
        }
        let saved_pwd = self.defs.get("_PWD").cloned();
        for path in paths {
            if self.sources.contains(&path) {
                self.diags.error(
                    &self.sources,
                    DiagnosticKind::Include,
                    origin,
                    format!("`{}` is included twice (an include loop?)", path.display()),
                );
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    // A block may be left open at the end of an included file; keepalived
                    // reads includes as if pasted in, so the stream simply goes on.
                    self.lex_text(path, text, depth + 1);
                }
                Err(e) => self.diags.error(
                    &self.sources,
                    DiagnosticKind::Include,
                    origin,
                    format!("cannot read included file `{}`: {e}", path.display()),
                ),
            }
        }
        if let Some(pwd) = saved_pwd {
            self.defs.insert("_PWD".into(), pwd);
        }
    }

    /// Splits a line into words and braces. Quotes (`"` or `'`) group words and may sit inside a
    /// word; escapes inside quotes follow the shell.
    fn tokenize(&mut self, file: u32, start: usize, text: &str) {
        let bytes = text.as_bytes();
        let mut i = 0;
        let at = |s: usize, e: usize| Origin {
            file,
            start: (start + s) as u32,
            len: (e - s) as u32,
        };
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if b == b'{' || b == b'}' {
                let tok = if b == b'{' { Tok::Open } else { Tok::Close };
                self.tokens.push(Token {
                    tok,
                    origin: at(i, i + 1),
                });
                i += 1;
                continue;
            }
            let word_start = i;
            let mut word = String::new();
            let mut quote: Option<u8> = None;
            let mut chars = text[i..].char_indices().peekable();
            let mut end = text.len();
            while let Some((off, c)) = chars.next() {
                let pos = i + off;
                match quote {
                    Some(q) => {
                        if c as u32 == q as u32 {
                            quote = None;
                        } else if c == '\\' {
                            match chars.next() {
                                Some((_, e)) => escape(e, &mut chars, &mut word),
                                None => word.push('\\'),
                            }
                        } else {
                            word.push(c);
                        }
                    }
                    None => {
                        if c.is_whitespace() || c == '{' || c == '}' {
                            end = pos;
                            break;
                        }
                        if c == '"' || c == '\'' {
                            quote = Some(c as u8);
                        } else {
                            word.push(c);
                        }
                    }
                }
            }
            if quote.is_some() {
                self.diags.error(
                    &self.sources,
                    DiagnosticKind::Braces,
                    at(word_start, word_start + 1),
                    "quoted string is not closed before the end of the line",
                );
            }
            self.tokens.push(Token {
                tok: Tok::Word(word),
                origin: at(word_start, end),
            });
            i = end;
        }
        self.tokens.push(Token {
            tok: Tok::Eol,
            origin: at(text.len(), text.len()),
        });
    }
}

fn escape(
    e: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    word: &mut String,
) {
    match e {
        'a' => word.push('\x07'),
        'b' => word.push('\x08'),
        'E' => word.push('\x1b'),
        'f' => word.push('\x0c'),
        'n' => word.push('\n'),
        'r' => word.push('\r'),
        't' => word.push('\t'),
        'v' => word.push('\x0b'),
        'x' => {
            let mut v: u32 = 0;
            let mut any = false;
            while let Some(&(_, d)) = chars.peek() {
                let Some(n) = d.to_digit(16) else { break };
                v = (v.wrapping_mul(16) + n) & 0xff;
                any = true;
                chars.next();
            }
            if any {
                word.push(char::from(v as u8));
            } else {
                word.push('x');
            }
        }
        'c' => {
            if let Some((_, c)) = chars.next() {
                word.push(char::from((c as u32 & 0x1f) as u8));
            }
        }
        '0'..='7' => {
            let mut v = e.to_digit(8).unwrap_or(0);
            for _ in 0..2 {
                match chars.peek().and_then(|&(_, d)| d.to_digit(8)) {
                    Some(n) => {
                        v = v * 8 + n;
                        chars.next();
                    }
                    None => break,
                }
            }
            word.push(char::from((v & 0xff) as u8));
        }
        other => word.push(other),
    }
}

/// Cuts a `#` or `!` comment off a line, outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<u8> = None;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => {
                if b == b'"' || b == b'\'' {
                    quote = Some(b);
                } else if b == b'#' || b == b'!' {
                    return &line[..i];
                }
            }
        }
        i += 1;
    }
    line
}

fn unquote_simple(s: &str) -> String {
    let s = s.trim();
    if s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
    {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// `${_RANDOM [MIN [MAX]]}`: a number from a small generator seeded from the clock; the
/// configuration check never depends on its value.
fn random_in(range: &str) -> String {
    let nums: Vec<u64> = range
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let (min, max) = match nums.as_slice() {
        [] => (0, 32767),
        [min] => (*min, 32767.max(*min)),
        [min, max, ..] => (*min, (*max).max(*min)),
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    let span = (max - min).saturating_add(1);
    (min + seed % span.max(1)).to_string()
}
