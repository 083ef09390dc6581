//! The line layer of keepalived.conf: comments, quotes, `include`, `$NAME=value` definitions and
//! their use, `@id`/`@^id` conditional lines, multiline definitions ending in `\`, and `~SEQ`.
//! Its output is a flat stream of words, braces and line ends.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use crate::Options;
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::source::{Origin, SourceMap};

/// One lexical token. Words borrow the file text unless quotes, escapes or substitution made
/// new text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'s> {
    Word(Cow<'s, str>),
    Open,
    Close,
    Eol,
}

#[derive(Debug, Clone)]
pub(crate) struct Token<'s> {
    pub(crate) tok: Tok<'s>,
    pub(crate) origin: Origin,
}

/// The files each `include` line brought in: (file, byte offset of the line) to file ids.
pub(crate) type IncludeMap = HashMap<(u32, usize), Vec<u32>>;

fn is_include(word: &str) -> bool {
    matches!(
        word,
        "include" | "includer" | "includem" | "includew" | "includeb" | "includea"
    )
}

/// Reads the main text and, recursively, every file it includes. keepalived resolves `include`
/// before conditionals and substitution, so this is a plain textual pass.
pub(crate) fn load(
    path: PathBuf,
    text: String,
    options: &Options,
    diags: &mut Diagnostics,
) -> (SourceMap, IncludeMap) {
    let mut sources = SourceMap::default();
    let mut includes = IncludeMap::new();
    load_file(&mut sources, &mut includes, options, diags, path, text, 0);
    (sources, includes)
}

fn load_file(
    sources: &mut SourceMap,
    includes: &mut IncludeMap,
    options: &Options,
    diags: &mut Diagnostics,
    path: PathBuf,
    text: String,
    depth: usize,
) {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // Most files have neither an include nor a definition: nothing to look for.
    let nothing_to_find = !text.contains("include") && !text.contains('$');
    let file = sources.add(path, text);
    if nothing_to_find {
        return;
    }
    let mut found = Vec::new();
    let mut in_def = false;
    let mut offset = 0usize;
    for raw in sources.files[file as usize].text.split_inclusive('\n') {
        // Most lines have neither an include nor a definition: skip them cheaply.
        if !in_def && !raw.contains("include") && !raw.contains('$') {
            offset += raw.len();
            continue;
        }
        let line = strip_comment(raw.trim_end_matches(['\n', '\r']));
        let trimmed = line.trim();
        let continued = trimmed.ends_with('\\');
        if in_def {
            in_def = continued;
        } else if trimmed.starts_with('$') && trimmed.contains('=') && continued {
            in_def = true;
        } else if let Some(first) = trimmed.split_whitespace().next()
            && is_include(first)
        {
            let lead = line.len() - line.trim_start().len();
            let origin = Origin {
                file,
                start: (offset + lead) as u32,
                len: trimmed.len() as u32,
            };
            found.push((offset, trimmed[first.len()..].trim().to_string(), origin));
        }
        offset += raw.len();
    }
    for (line_offset, pattern, origin) in found {
        let ids = include(
            sources, includes, options, diags, &pattern, &dir, origin, depth,
        );
        includes.insert((file, line_offset), ids);
    }
}

#[allow(clippy::too_many_arguments)]
fn include(
    sources: &mut SourceMap,
    includes: &mut IncludeMap,
    options: &Options,
    diags: &mut Diagnostics,
    pattern: &str,
    dir: &Path,
    origin: Origin,
    depth: usize,
) -> Vec<u32> {
    let mut ids = Vec::new();
    if !options.includes {
        diags.warn(
            sources,
            DiagnosticKind::Include,
            origin,
            "include ignored: includes are switched off for this parse",
        );
        return ids;
    }
    let pattern = unquote_simple(pattern);
    if pattern.is_empty() {
        diags.error(
            sources,
            DiagnosticKind::Missing,
            origin,
            "include needs a file name or pattern",
        );
        return ids;
    }
    if depth >= MAX_DEPTH {
        diags.error(
            sources,
            DiagnosticKind::Include,
            origin,
            format!("includes nest deeper than {MAX_DEPTH} files"),
        );
        return ids;
    }
    let full = if Path::new(&pattern).is_absolute() {
        PathBuf::from(&pattern)
    } else {
        dir.join(&pattern)
    };
    let paths: Vec<PathBuf> = match glob::glob(&full.to_string_lossy()) {
        Ok(paths) => paths.filter_map(Result::ok).collect(),
        Err(e) => {
            diags.error(
                sources,
                DiagnosticKind::Include,
                origin,
                format!("include pattern `{pattern}` is not valid: {e}"),
            );
            return ids;
        }
    };
    if paths.is_empty() {
        diags.warn(
            sources,
            DiagnosticKind::Include,
            origin,
            format!("include `{pattern}` matched no file"),
        );
        return ids;
    }
    for path in paths {
        if sources.contains(&path) {
            diags.error(
                sources,
                DiagnosticKind::Include,
                origin,
                format!("`{}` is included twice (an include loop?)", path.display()),
            );
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                ids.push(sources.files.len() as u32);
                load_file(sources, includes, options, diags, path, text, depth + 1);
            }
            Err(e) => diags.error(
                sources,
                DiagnosticKind::Include,
                origin,
                format!("cannot read included file `{}`: {e}", path.display()),
            ),
        }
    }
    ids
}

/// Deepest include nesting and substitution recursion accepted.
const MAX_DEPTH: usize = 32;
/// Most lines one `~SEQ` line may produce (keeps a typo from eating the memory).
const MAX_SEQ_LINES: i64 = 100_000;
/// Longest line parameter substitution may produce.
const MAX_SUBST_LINE: usize = 1 << 20;
/// Most lines all `~SEQ` and `~LST` expansions of one configuration may produce together
/// (nested ones multiply).
const MAX_EXPANDED_LINES: usize = 250_000;

/// Where the lexer is in one file.
struct Cursor {
    file: u32,
    pos: usize,
}

/// Produces tokens line by line on demand, walking included files as they come.
pub(crate) struct Lexer<'s> {
    sources: &'s SourceMap,
    includes: &'s IncludeMap,
    pub(crate) diags: Diagnostics,
    buffer: VecDeque<Token<'s>>,
    stack: Vec<Cursor>,
    options: &'s Options,
    defs: HashMap<String, String>,
    /// A multiline definition being collected: name, value so far.
    pending_def: Option<(String, String)>,
    /// Lines produced by `~SEQ` / `~LST` so far.
    expanded: usize,
    /// Bytes produced by parameter substitution so far.
    substituted: usize,
}

impl<'s> Lexer<'s> {
    pub(crate) fn new(
        sources: &'s SourceMap,
        includes: &'s IncludeMap,
        options: &'s Options,
        diags: Diagnostics,
    ) -> Self {
        let mut lexer = Self {
            sources,
            includes,
            diags,
            buffer: VecDeque::new(),
            stack: Vec::new(),
            options,
            defs: HashMap::new(),
            pending_def: None,
            expanded: 0,
            substituted: 0,
        };
        if !sources.files.is_empty() {
            lexer.push_file(0);
        }
        lexer
    }

    pub(crate) fn sources(&self) -> &'s SourceMap {
        self.sources
    }

    fn push_file(&mut self, file: u32) {
        self.stack.push(Cursor { file, pos: 0 });
        self.set_pwd();
    }

    /// `${_PWD}` is the directory of the file being read.
    fn set_pwd(&mut self) {
        if let Some(top) = self.stack.last() {
            let path = &self.sources.files[top.file as usize].path;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            self.defs.insert("_PWD".into(), dir.display().to_string());
        }
    }

    /// The next token, or `None` at the end of the input.
    pub(crate) fn next_token(&mut self) -> Option<Token<'s>> {
        if self.buffer.is_empty() {
            self.fill();
        }
        self.buffer.pop_front()
    }

    /// The next token without taking it.
    pub(crate) fn peek(&mut self) -> Option<&Tok<'s>> {
        if self.buffer.is_empty() {
            self.fill();
        }
        self.buffer.front().map(|t| &t.tok)
    }

    /// Reads lines until some produce tokens or the input ends.
    fn fill(&mut self) {
        while self.buffer.is_empty() {
            let Some(top) = self.stack.last_mut() else {
                return;
            };
            let file = top.file;
            let text: &'s str = &self.sources.files[file as usize].text;
            if top.pos >= text.len() {
                self.stack.pop();
                if let Some((name, _)) = self.pending_def.take() {
                    let origin = Origin {
                        file,
                        start: text.len() as u32,
                        len: 0,
                    };
                    self.diags.error(
                        self.sources,
                        DiagnosticKind::Syntax,
                        origin,
                        format!("multiline definition `${name}` runs to the end of the file"),
                    );
                }
                self.set_pwd();
                continue;
            }
            let offset = top.pos;
            let raw = match text[offset..].find('\n') {
                Some(n) => &text[offset..offset + n + 1],
                None => &text[offset..],
            };
            top.pos += raw.len();
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            let line = line.strip_suffix('\r').unwrap_or(line);
            self.line(file, offset, line);
        }
    }

    fn line(&mut self, file: u32, offset: usize, line: &'s str) {
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
        let (content, has_dollar) = strip_comment_scan(line);
        let trimmed = content.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        let lead = content.len() - content.trim_ascii_start().len();
        // include and its variants were resolved by `load`; read the files it found.
        let first = if trimmed.starts_with("include") {
            trimmed.split_whitespace().next().unwrap_or("")
        } else {
            ""
        };
        if is_include(first) {
            if let Some(ids) = self.includes.get(&(file, offset)) {
                for &id in ids.iter().rev() {
                    self.stack.push(Cursor { file: id, pos: 0 });
                }
                self.set_pwd();
            }
            return;
        }
        if !has_dollar && !trimmed.starts_with(['@', '~']) {
            // The common line: nothing to expand, straight to words.
            self.tokenize(file, offset + lead, Cow::Borrowed(trimmed));
            return;
        }
        self.logical(file, offset + lead, Cow::Borrowed(trimmed), 0);
    }

    /// Handles a line after comments are gone: conditionals, definitions, `~SEQ`, substitution.
    /// A borrowed `text` is the file's own text at `start`; an owned one was made by
    /// substitution, and its tokens all point at the line that made it.
    fn logical(&mut self, file: u32, start: usize, text: Cow<'s, str>, subst_depth: usize) {
        let line_origin = Origin {
            file,
            start: start as u32,
            len: text
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(text.len()) as u32,
        };
        let mut start = start;
        let mut text = text;
        // Conditional lines: @id / @^id, possibly several.
        while text.starts_with('@') {
            let rest = &text[1..];
            let (negate, rest) = match rest.strip_prefix('^') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let id_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let matches = self.options.config_id.as_deref() == Some(&rest[..id_len]);
            if matches == negate {
                return;
            }
            let skipped = text.len() - rest[id_len..].trim_start().len();
            start += skipped;
            text = match text {
                Cow::Borrowed(t) => Cow::Borrowed(&t[skipped..]),
                Cow::Owned(t) => Cow::Owned(t[skipped..].to_string()),
            };
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
        if text.starts_with("~SEQ") {
            self.seq(file, start, text, line_origin, subst_depth);
            return;
        }
        if text.starts_with("~LST") {
            self.lst(file, start, text, line_origin, subst_depth);
            return;
        }
        if text.contains('$') {
            if subst_depth >= MAX_DEPTH {
                self.diags.error(
                    self.sources,
                    DiagnosticKind::Syntax,
                    line_origin,
                    "parameter substitution nests too deep (a definition that uses itself?)",
                );
                return;
            }
            let Some((replaced, changed)) = self.substitute(&text) else {
                self.diags.error(
                    self.sources,
                    DiagnosticKind::OutOfRange,
                    line_origin,
                    "parameter substitution grows too large (a definition that uses itself?)",
                );
                return;
            };
            if changed {
                for part in replaced.split('\n') {
                    let part = part.trim();
                    if part.is_empty() {
                        continue;
                    }
                    // Substituted text has no place in the file: its tokens point at the line.
                    let before = self.buffer.len();
                    self.logical(file, start, Cow::Owned(part.to_string()), subst_depth + 1);
                    for token in self.buffer.range_mut(before..) {
                        token.origin = line_origin;
                    }
                }
                return;
            }
        }
        self.tokenize(file, start, text);
    }

    fn seq(
        &mut self,
        file: u32,
        start: usize,
        text: Cow<'s, str>,
        origin: Origin,
        subst_depth: usize,
    ) {
        let rest = &text[4..];
        let (hex, rest) = match rest.strip_prefix('x') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let parsed = rest.strip_prefix('(').and_then(|r| {
            let close = r.find(')')?;
            let args: Vec<&str> = r[..close].split(',').map(str::trim).collect();
            Some((args, r[close + 1..].trim_start()))
        });
        let Some((args, body)) = parsed else {
            self.diags.error(
                self.sources,
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
        let var = args[0].to_string();
        let bounds = match nums.as_deref() {
            Some([end]) => Some((if *end >= 0 { 1 } else { -1 }, None, *end)),
            Some([s, end]) => Some((*s, None, *end)),
            Some([s, step, end]) => Some((*s, Some(*step), *end)),
            _ => None,
        };
        let Some((first, step, end)) = bounds.filter(|_| !var.is_empty()) else {
            self.diags.error(
                self.sources,
                DiagnosticKind::InvalidValue,
                origin,
                "~SEQ needs a variable and one to three numbers",
            );
            return;
        };
        let step = step.unwrap_or(if end >= first { 1 } else { -1 });
        if step == 0 || (step > 0) != (end >= first) && first != end {
            self.diags.error(
                self.sources,
                DiagnosticKind::InvalidValue,
                origin,
                "~SEQ step goes away from the end",
            );
            return;
        }
        let count = (i128::from(end) - i128::from(first)) / i128::from(step) + 1;
        if count > i128::from(MAX_SEQ_LINES) {
            self.diags.error(
                self.sources,
                DiagnosticKind::OutOfRange,
                origin,
                format!("~SEQ would produce {count} lines; at most {MAX_SEQ_LINES} are accepted"),
            );
            return;
        }
        let body_offset = text.len() - body.len();
        let body: Cow<'s, str> = match &text {
            Cow::Borrowed(t) => Cow::Borrowed(&t[body_offset..]),
            Cow::Owned(_) => Cow::Owned(body.to_string()),
        };
        let mut value = first;
        for _ in 0..count {
            if !self.expand_one(origin) {
                return;
            }
            let text = if hex {
                format!("{value:x}")
            } else {
                value.to_string()
            };
            self.defs.insert(var.clone(), text);
            self.logical(file, start + body_offset, body.clone(), subst_depth + 1);
            value = value.saturating_add(step);
        }
    }

    /// Counts one expanded line; false (with one error) once the budget is spent.
    fn expand_one(&mut self, origin: Origin) -> bool {
        self.expanded += 1;
        if self.expanded == MAX_EXPANDED_LINES + 1 {
            self.diags.error(
                self.sources,
                DiagnosticKind::OutOfRange,
                origin,
                format!("~SEQ and ~LST would produce more than {MAX_EXPANDED_LINES} lines"),
            );
        }
        self.expanded <= MAX_EXPANDED_LINES
    }

    /// `~LST(var, v1, v2, ...)` or `~LST({a, b}, {1, 2}, {3, 4})`: the rest of the line once
    /// per value (tuple), with the variables set.
    fn lst(
        &mut self,
        file: u32,
        start: usize,
        text: Cow<'s, str>,
        origin: Origin,
        subst_depth: usize,
    ) {
        let rest = &text[4..];
        let parsed = rest.strip_prefix('(').and_then(|inner| {
            // The closing parenthesis at brace depth 0.
            let mut depth = 0i32;
            let close = inner.char_indices().find_map(|(i, c)| match c {
                '{' => {
                    depth += 1;
                    None
                }
                '}' => {
                    depth -= 1;
                    None
                }
                ')' if depth == 0 => Some(i),
                _ => None,
            })?;
            let items = split_top_level(&inner[..close]);
            Some((items, inner[close + 1..].trim_start()))
        });
        let Some((items, body)) = parsed.filter(|(items, _)| items.len() >= 2) else {
            self.diags.error(
                self.sources,
                DiagnosticKind::Syntax,
                origin,
                "expected ~LST(var, value, ...) or ~LST({var, ...}, {value, ...}, ...)",
            );
            return;
        };
        let names = braced_list(items[0]);
        if names.iter().any(|n| n.is_empty()) {
            self.diags.error(
                self.sources,
                DiagnosticKind::Syntax,
                origin,
                "~LST needs variable names",
            );
            return;
        }
        let tuples: Vec<Vec<String>> = items[1..]
            .iter()
            .map(|v| braced_list(v).into_iter().map(str::to_string).collect())
            .collect();
        if let Some(bad) = tuples.iter().find(|t| t.len() != names.len()) {
            self.diags.error(
                self.sources,
                DiagnosticKind::InvalidValue,
                origin,
                format!(
                    "~LST has {} variable(s) but a value list of {}",
                    names.len(),
                    bad.len()
                ),
            );
            return;
        }
        let names: Vec<String> = names.into_iter().map(str::to_string).collect();
        let body_offset = text.len() - body.len();
        let body: Cow<'s, str> = match &text {
            Cow::Borrowed(t) => Cow::Borrowed(&t[body_offset..]),
            Cow::Owned(_) => Cow::Owned(body.to_string()),
        };
        for tuple in tuples {
            if !self.expand_one(origin) {
                return;
            }
            for (name, value) in names.iter().zip(tuple) {
                self.defs.insert(name.clone(), value);
            }
            self.logical(file, start + body_offset, body.clone(), subst_depth + 1);
        }
    }

    /// Replaces `$NAME` (followed by whitespace or the end) and `${NAME}` once per pass, until
    /// nothing changes. Unknown names stay as they are.
    /// `None` when the text grows past [`MAX_SUBST_LINE`] or all substitutions of the
    /// configuration past [`Options::substitution_limit`] (a definition that uses itself twice doubles at
    /// every pass).
    fn substitute(&mut self, text: &str) -> Option<(String, bool)> {
        let mut current = text.to_string();
        let mut changed_any = false;
        for pass in 0..=MAX_DEPTH {
            let (next, changed) = self.substitute_once(&current);
            if !changed {
                break;
            }
            if pass == MAX_DEPTH {
                // Still changing: a definition that uses itself.
                return None;
            }
            self.substituted += next.len();
            if next.len() > MAX_SUBST_LINE || self.substituted > self.options.substitution_limit {
                return None;
            }
            changed_any = true;
            current = next;
            if current.contains('\n') {
                // A multiline definition: its lines are read one by one (definitions among
                // them take effect for the lines after), each substituted when it is read.
                break;
            }
        }
        Some((current, changed_any))
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
                let followed_ok =
                    after[len..].is_empty() || after[len..].starts_with(char::is_whitespace);
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

    /// Splits a line into words and braces. Quotes (`"` or `'`) group words and may sit inside a
    /// word; escapes inside quotes follow the shell. Plain words of a borrowed line borrow it.
    fn tokenize(&mut self, file: u32, start: usize, text: Cow<'s, str>) {
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
                self.buffer.push_back(Token {
                    tok,
                    origin: at(i, i + 1),
                });
                i += 1;
                continue;
            }
            let word_start = i;
            // Fast path: a plain word up to whitespace, a brace or a quote.
            let mut end = i;
            while end < bytes.len()
                && !bytes[end].is_ascii_whitespace()
                && !matches!(bytes[end], b'{' | b'}' | b'"' | b'\'')
            {
                end += 1;
            }
            if end == bytes.len() || !matches!(bytes[end], b'"' | b'\'') {
                let word = match &text {
                    Cow::Borrowed(t) => Cow::Borrowed(&t[word_start..end]),
                    Cow::Owned(t) => Cow::Owned(t[word_start..end].to_string()),
                };
                self.buffer.push_back(Token {
                    tok: Tok::Word(word),
                    origin: at(word_start, end),
                });
                i = end;
                continue;
            }
            let mut word = String::new();
            let mut quote: Option<u8> = None;
            let mut chars = text[i..].char_indices().peekable();
            end = text.len();
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
                        if c.is_ascii_whitespace() || c == '{' || c == '}' {
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
                    self.sources,
                    DiagnosticKind::Braces,
                    at(word_start, word_start + 1),
                    "quoted string is not closed before the end of the line",
                );
            }
            self.buffer.push_back(Token {
                tok: Tok::Word(Cow::Owned(word)),
                origin: at(word_start, end),
            });
            i = end;
        }
        self.buffer.push_back(Token {
            tok: Tok::Eol,
            origin: at(text.len(), text.len()),
        });
    }
}

fn escape(e: char, chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, word: &mut String) {
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

/// Cuts a `#` or `!` comment off a line, outside quotes, and says whether what is left has a
/// `$` (a definition or a use to expand).
fn strip_comment_scan(line: &str) -> (&str, bool) {
    let mut quote: Option<u8> = None;
    let mut dollar = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        dollar |= b == b'$';
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
                    return (&line[..i], dollar);
                }
            }
        }
        i += 1;
    }
    (line, dollar)
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

/// Splits `a, {b, c}, d` at the commas outside braces.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[from..i].trim());
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[from..].trim());
    out
}

/// `{a, b}` to `[a, b]`; a bare `a` to `[a]`.
fn braced_list(s: &str) -> Vec<&str> {
    let s = s.trim();
    match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => inner.split(',').map(str::trim).collect(),
        None => vec![s],
    }
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
