//! The reading layer of keepalived.conf: files and `include`, comments, quotes, `$NAME=value`
//! definitions and their use, `@id`/`@^id` conditional lines, multiline definitions ending in
//! `\`, `~SEQ` and `~LST`. Its output is a flat stream of words, braces and line ends.
//!
//! A line is read in keepalived's order: its conditionals first, then a definition, then
//! parameter substitution of the whole line, then `~SEQ`/`~LST`, and only then is it an
//! `include` or words. So `@node include FILE`, `include ${DIR}/x.conf` and a `~SEQ` of
//! includes all work.
//!
//! Nothing here recurses on the input: included files, the lines of a substituted multiline
//! definition, and the repetitions of `~SEQ`/`~LST` are frames on one explicit stack, read one
//! line at a time, so an include inside any of them is read at its place in the order. And
//! everything the input makes is counted against a budget as it is made: nesting depth,
//! expanded lines, substituted bytes, words, bytes and files read.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Options;
use crate::diag::{DiagnosticKind, Diagnostics};
use crate::fs::{FileError, expand_braces};
use crate::source::{Origin, SourceMap};

/// One lexical token. Words borrow the file text unless script quoting, escapes or
/// substitution made new text.
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

/// Deepest nesting of included files (keepalived itself stops only when it runs out of file
/// handles, about a thousand).
const MAX_INCLUDE_DEPTH: usize = 32;
/// Deepest nesting of `~SEQ`, `~LST` and substitution, and most substitution passes on a line.
const MAX_DEPTH: usize = 32;
/// Most lines one `~SEQ` line may produce (keeps a typo from eating the memory).
const MAX_SEQ_LINES: i64 = 100_000;
/// Longest line parameter substitution may produce.
const MAX_SUBST_LINE: usize = 1 << 20;
/// Most lines all `~SEQ` and `~LST` expansions of one configuration may produce together
/// (nested ones multiply).
const MAX_EXPANDED_LINES: usize = 250_000;
/// Most times files may be included in all (a file included twice counts twice).
const MAX_INCLUSIONS: usize = 100_000;
/// Longest include pattern (PATH_MAX).
const MAX_PATTERN: usize = 4096;
/// Files per chunk of [`TextArena`].
const CHUNK: usize = 64;
/// Most different files one configuration may read.
pub(crate) const MAX_FILES: usize = CHUNK * CHUNK;

/// The keywords whose arguments are a command line: keepalived splits them like a shell,
/// where single quotes group words too, adjacent quoted parts join, and backslash escapes
/// apply. Every other keyword's words are grouped by double quotes only.
const SCRIPT_KEYWORDS: &[&str] = &[
    "lvs_notify_fifo_script",
    "misc_path",
    "notify",
    "notify_backup",
    "notify_deleted",
    "notify_down",
    "notify_fault",
    "notify_fifo_script",
    "notify_master",
    "notify_master_rx_lower_pri",
    "notify_stop",
    "notify_up",
    "quorum_down",
    "quorum_up",
    "script",
    "shutdown_script",
    "startup_script",
    "vrrp_notify_fifo_script",
];

/// True for the keywords whose arguments keepalived splits like a command line.
pub(crate) fn is_script_keyword(word: &str) -> bool {
    SCRIPT_KEYWORDS.contains(&word)
}

/// [`CHUNK`] slots of a [`TextArena`], allocated when the first is used.
type Chunk = Box<[OnceCell<Arc<str>>]>;

/// The texts of the files read, at addresses that never move, so that words can borrow them
/// while more files are read. Append-only; at most [`MAX_FILES`] texts.
pub(crate) struct TextArena {
    chunks: Box<[OnceCell<Chunk>]>,
    len: Cell<usize>,
}

impl TextArena {
    pub(crate) fn new() -> Self {
        Self {
            chunks: (0..MAX_FILES / CHUNK).map(|_| OnceCell::new()).collect(),
            len: Cell::new(0),
        }
    }

    /// Keeps a text as long as the arena lives; `None` when it holds [`MAX_FILES`] already.
    fn keep(&self, text: Arc<str>) -> Option<&str> {
        let i = self.len.get();
        let chunk = self
            .chunks
            .get(i / CHUNK)?
            .get_or_init(|| (0..CHUNK).map(|_| OnceCell::new()).collect());
        self.len.set(i + 1);
        Some(chunk[i % CHUNK].get_or_init(|| text))
    }
}

/// Which checks an `include` makes: those of its keyword variant, and those `include_check`
/// (or `Options::all_config`, keepalived's `-e`) turned on for every include.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IncludeChecks {
    /// Every match must be a readable regular file (`readable`).
    readable: bool,
    /// A pattern without braces or wildcards must match (`match`).
    matched: bool,
    /// A pattern without braces must match, wildcards too (`wildcard_match`).
    wildcard_matched: bool,
    /// Every brace alternative without a wildcard must match (`brace_match`).
    brace_matched: bool,
}

impl IncludeChecks {
    /// Every check: `includea`, `include_check` with no option, keepalived's `-e`.
    pub(crate) const ALL: Self = Self {
        readable: true,
        matched: true,
        wildcard_matched: true,
        brace_matched: true,
    };

    /// The checks of an include keyword, `None` when `keyword` is not one.
    fn of(keyword: &str) -> Option<Self> {
        let readable = Self {
            readable: true,
            ..Self::default()
        };
        Some(match keyword {
            "include" => Self::default(),
            "includer" => readable,
            "includem" => Self {
                matched: true,
                ..readable
            },
            "includew" => Self {
                wildcard_matched: true,
                ..readable
            },
            "includeb" => Self {
                brace_matched: true,
                ..readable
            },
            "includea" => Self::ALL,
            _ => return None,
        })
    }

    fn union(self, other: Self) -> Self {
        Self {
            readable: self.readable || other.readable,
            matched: self.matched || other.matched,
            wildcard_matched: self.wildcard_matched || other.wildcard_matched,
            brace_matched: self.brace_matched || other.brace_matched,
        }
    }

    /// `include_check [OPTIONS]` applied to the current checks: no option is every check;
    /// `+NAME` adds, `-NAME` removes, and a list that starts without a sign sets `readable`
    /// and the checks it names.
    /// keepalived 2.2.7 knows `match`, `wildcard_match` and `brace_match` (not `readable`,
    /// which its man page names; checked with `keepalived -t`) and stops at the first word it
    /// does not know: that word is returned.
    fn apply<'a>(self, options: &[&'a str]) -> (Self, Option<&'a str>) {
        if options.is_empty() {
            return (Self::ALL, None);
        }
        // A list that starts without a sign replaces the checks (`readable` stays on), even
        // when its first word turns out unknown.
        let mut checks = if options[0].starts_with(['+', '-']) {
            self
        } else {
            Self {
                readable: true,
                ..Self::default()
            }
        };
        for &option in options {
            let (on, name) = match option.as_bytes().first() {
                Some(b'-') => (false, &option[1..]),
                Some(b'+') => (true, &option[1..]),
                _ => (true, option),
            };
            match name {
                "match" => checks.matched = on,
                "wildcard_match" => checks.wildcard_matched = on,
                "brace_match" => checks.brace_matched = on,
                _ => return (checks, Some(option)),
            }
        }
        (checks, None)
    }
}

/// A line (or what is left of one) on its way through the reading order.
struct Line<'s> {
    /// Borrowed: the file's own text at `start`; owned: made by substitution.
    text: Cow<'s, str>,
    file: u32,
    start: usize,
    /// The line's first word: where the line's diagnostics point, and where every word of an
    /// owned text points (substituted text has no place in the file).
    origin: Origin,
}

impl<'s> Line<'s> {
    fn borrowed(file: u32, start: usize, text: &'s str) -> Self {
        let first = text
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(text.len());
        Self {
            text: Cow::Borrowed(text),
            file,
            start,
            origin: Origin {
                file,
                start: start as u32,
                len: first as u32,
            },
        }
    }

    /// The line without its first `n` bytes.
    fn skip(self, n: usize) -> Self {
        match self.text {
            Cow::Borrowed(t) => Self::borrowed(self.file, self.start + n, &t[n..]),
            Cow::Owned(mut t) => {
                t.drain(..n);
                Self {
                    text: Cow::Owned(t),
                    ..self
                }
            }
        }
    }

    /// Where the bytes `s..e` of the text were written.
    fn at(&self, s: usize, e: usize) -> Origin {
        match self.text {
            Cow::Borrowed(_) => Origin {
                file: self.file,
                start: (self.start + s) as u32,
                len: (e - s) as u32,
            },
            Cow::Owned(_) => self.origin,
        }
    }

    /// The text of `s..e` as a word: borrowed from the file when the line is.
    fn word(&self, s: usize, e: usize) -> Cow<'s, str> {
        match &self.text {
            Cow::Borrowed(t) => Cow::Borrowed(&t[s..e]),
            Cow::Owned(t) => Cow::Owned(t[s..e].to_string()),
        }
    }
}

/// One thing being read, on the lexer's stack; the top one gives the next line.
enum Frame<'s> {
    /// A file, read line by line.
    File {
        file: u32,
        text: &'s str,
        pos: usize,
        /// What [`crate::FileSystem::identity`] says, to spot include loops.
        identity: PathBuf,
        /// The `include_check` setting when the file was opened, set back when it ends (a
        /// file's own `include_check` holds for the rest of it and what it includes).
        saved_checks: IncludeChecks,
    },
    /// The files an `include` matched and that are still to be read, in order.
    Include {
        paths: std::vec::IntoIter<PathBuf>,
        checks: IncludeChecks,
        origin: Origin,
    },
    /// The lines of a substituted text (a multiline definition has several).
    Lines {
        file: u32,
        origin: Origin,
        text: String,
        pos: usize,
        depth: usize,
    },
    /// `~SEQ`: the body once per value, the variable set.
    Seq {
        file: u32,
        start: usize,
        origin: Origin,
        body: Cow<'s, str>,
        var: String,
        hex: bool,
        next: i64,
        step: i64,
        left: i128,
        depth: usize,
    },
    /// `~LST`: the body once per tuple, the variables set.
    Lst {
        file: u32,
        start: usize,
        origin: Origin,
        body: Cow<'s, str>,
        names: Vec<String>,
        tuples: std::vec::IntoIter<Vec<String>>,
        depth: usize,
    },
}

/// What substitution made of a line.
enum Subst {
    Unchanged,
    Changed(String),
    /// Past [`MAX_SUBST_LINE`], or still changing after [`MAX_DEPTH`] passes (a definition
    /// that uses itself).
    TooLarge,
    /// Past [`Options::substitution_limit`] for the whole configuration.
    OverBudget,
}

/// What the input has made so far, against the limits.
#[derive(Debug, Default)]
struct Spent {
    /// Lines produced by `~SEQ` / `~LST`.
    expanded: usize,
    /// Bytes produced by substitution and by repeating `~SEQ`/`~LST` bodies.
    substituted: usize,
    /// Words and braces produced.
    words: usize,
    /// Bytes of files read (a file included twice counts twice).
    read: u64,
    /// Files included.
    inclusions: usize,
}

/// Produces tokens line by line on demand, reading included files as they come.
pub(crate) struct Lexer<'s> {
    arena: &'s TextArena,
    options: &'s Options,
    /// The files read so far: diagnostics resolve against it as they are made.
    pub(crate) sources: SourceMap,
    pub(crate) diags: Diagnostics,
    buffer: VecDeque<Token<'s>>,
    frames: Vec<Frame<'s>>,
    defs: HashMap<String, String>,
    /// A multiline definition being collected: name, value so far.
    pending_def: Option<(String, String)>,
    /// Files already read, by identity: a file included again is not read again.
    loaded: HashMap<PathBuf, (u32, &'s str)>,
    /// [`crate::FileSystem::identity`] of the paths met so far.
    identities: HashMap<PathBuf, PathBuf>,
    spent: Spent,
    /// A budget ran out: the rest of the input is not read.
    stopped: bool,
    /// What `include_check` (or `Options::all_config`) makes every include check.
    include_checks: IncludeChecks,
}

impl<'s> Lexer<'s> {
    /// A lexer that starts with the main file's `text`; `path` names it.
    pub(crate) fn new(
        arena: &'s TextArena,
        path: PathBuf,
        text: Arc<str>,
        options: &'s Options,
        diags: Diagnostics,
    ) -> Self {
        let mut lexer = Self {
            arena,
            options,
            sources: SourceMap::default(),
            diags,
            buffer: VecDeque::new(),
            frames: Vec::new(),
            defs: HashMap::new(),
            pending_def: None,
            loaded: HashMap::new(),
            identities: HashMap::new(),
            spent: Spent::default(),
            stopped: false,
            include_checks: if options.all_config {
                IncludeChecks::ALL
            } else {
                IncludeChecks::default()
            },
        };
        let identity = options.fs.identity(&path);
        lexer.spent.read = text.len() as u64;
        if let Some(kept) = arena.keep(text.clone()) {
            let file = lexer.sources.add(path, text);
            lexer.loaded.insert(identity.clone(), (file, kept));
            lexer.push_file(file, kept, identity);
        }
        lexer
    }

    /// The files read and the diagnostics, once the tokens are all taken.
    pub(crate) fn finish(self) -> (SourceMap, Diagnostics) {
        (self.sources, self.diags)
    }

    /// An error at `origin`.
    pub(crate) fn error(
        &mut self,
        kind: DiagnosticKind,
        origin: Origin,
        message: impl Into<String>,
    ) {
        self.diags.error(&self.sources, kind, origin, message);
    }

    fn warn(&mut self, kind: DiagnosticKind, origin: Origin, message: impl Into<String>) {
        self.diags.warn(&self.sources, kind, origin, message);
    }

    fn push_file(&mut self, file: u32, text: &'s str, identity: PathBuf) {
        self.frames.push(Frame::File {
            file,
            text,
            pos: 0,
            identity,
            saved_checks: self.include_checks,
        });
        self.set_pwd();
    }

    /// `${_PWD}` is the directory of the file being read.
    fn set_pwd(&mut self) {
        let top = self.frames.iter().rev().find_map(|f| match f {
            Frame::File { file, .. } => Some(*file),
            _ => None,
        });
        if let Some(file) = top {
            let dir = self.dir_of(file);
            self.defs.insert("_PWD".into(), dir.display().to_string());
        }
    }

    fn dir_of(&self, file: u32) -> PathBuf {
        let path = &self.sources.files[file as usize].path;
        path.parent().map(Path::to_path_buf).unwrap_or_default()
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
        while self.buffer.is_empty() && !self.stopped {
            let Some(frame) = self.frames.last_mut() else {
                return;
            };
            match frame {
                Frame::File {
                    file, text, pos, ..
                } => {
                    let (file, text, offset) = (*file, *text, *pos);
                    if offset >= text.len() {
                        self.end_file(file, text.len());
                        continue;
                    }
                    let raw = match text[offset..].find('\n') {
                        Some(n) => &text[offset..offset + n + 1],
                        None => &text[offset..],
                    };
                    *pos += raw.len();
                    let line = raw.strip_suffix('\n').unwrap_or(raw);
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    self.line(file, offset, line);
                }
                Frame::Include {
                    paths,
                    checks,
                    origin,
                } => {
                    let (checks, origin) = (*checks, *origin);
                    match paths.next() {
                        Some(path) => self.open(&path, checks, origin),
                        None => {
                            self.frames.pop();
                        }
                    }
                }
                Frame::Lines {
                    file,
                    origin,
                    text,
                    pos,
                    depth,
                } => {
                    if *pos >= text.len() {
                        self.frames.pop();
                        continue;
                    }
                    let rest = &text[*pos..];
                    let n = rest.find('\n').unwrap_or(rest.len());
                    let part = rest[..n].trim().to_string();
                    *pos += n + 1;
                    let (file, origin, depth) = (*file, *origin, *depth);
                    if !part.is_empty() {
                        let line = Line {
                            text: Cow::Owned(part),
                            file,
                            start: origin.start as usize,
                            origin,
                        };
                        self.logical(line, depth);
                    }
                }
                Frame::Seq {
                    file,
                    start,
                    origin,
                    body,
                    var,
                    hex,
                    next,
                    step,
                    left,
                    depth,
                } => {
                    if *left <= 0 {
                        self.frames.pop();
                        continue;
                    }
                    *left -= 1;
                    let value = if *hex {
                        format!("{:x}", *next)
                    } else {
                        next.to_string()
                    };
                    *next = next.saturating_add(*step);
                    let (var, body) = (var.clone(), body.clone());
                    let (file, start, origin, depth) = (*file, *start, *origin, *depth);
                    if !self.expand_one(origin, body.len()) {
                        self.frames.pop();
                        continue;
                    }
                    self.defs.insert(var, value);
                    self.expanded_line(file, start, origin, body, depth);
                }
                Frame::Lst {
                    file,
                    start,
                    origin,
                    body,
                    names,
                    tuples,
                    depth,
                } => {
                    let Some(tuple) = tuples.next() else {
                        self.frames.pop();
                        continue;
                    };
                    let names = names.clone();
                    let body = body.clone();
                    let (file, start, origin, depth) = (*file, *start, *origin, *depth);
                    if !self.expand_one(origin, body.len()) {
                        self.frames.pop();
                        continue;
                    }
                    for (name, value) in names.into_iter().zip(tuple) {
                        self.defs.insert(name, value);
                    }
                    self.expanded_line(file, start, origin, body, depth);
                }
            }
        }
    }

    /// One repetition of a `~SEQ` / `~LST` body.
    fn expanded_line(
        &mut self,
        file: u32,
        start: usize,
        origin: Origin,
        body: Cow<'s, str>,
        depth: usize,
    ) {
        let line = match body {
            Cow::Borrowed(t) => Line::borrowed(file, start, t),
            Cow::Owned(t) => Line {
                text: Cow::Owned(t),
                file,
                start,
                origin,
            },
        };
        self.logical(line, depth);
    }

    fn end_file(&mut self, file: u32, len: usize) {
        if let Some(Frame::File { saved_checks, .. }) = self.frames.pop() {
            self.include_checks = saved_checks;
        }
        if let Some((name, _)) = self.pending_def.take() {
            let origin = Origin {
                file,
                start: len as u32,
                len: 0,
            };
            self.error(
                DiagnosticKind::Syntax,
                origin,
                format!("multiline definition `${name}` runs to the end of the file"),
            );
        }
        self.set_pwd();
    }

    fn line(&mut self, file: u32, offset: usize, line: &'s str) {
        if let Some((name, mut value)) = self.pending_def.take() {
            let body = strip_comment(line).0;
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
        let (content, has_dollar) = strip_comment(line);
        let trimmed = content.trim_ascii();
        if trimmed.is_empty() {
            return;
        }
        let lead = content.len() - content.trim_ascii_start().len();
        let line = Line::borrowed(file, offset + lead, trimmed);
        if !has_dollar && !trimmed.starts_with(['@', '~']) && !trimmed.starts_with("include") {
            // The common line: nothing to expand, straight to words.
            self.tokenize(line);
            return;
        }
        self.logical(line, 0);
    }

    /// A line after comments are gone, in keepalived's order: conditionals, a definition,
    /// substitution, `~SEQ`/`~LST`, `include`, words. `depth` is how deep in expansions it is.
    fn logical(&mut self, line: Line<'s>, depth: usize) {
        // Conditional lines: @id / @^id, possibly several.
        let mut skip = 0;
        while line.text[skip..].starts_with('@') {
            let rest = &line.text[skip + 1..];
            let (negate, rest) = match rest.strip_prefix('^') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let id_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let matches = self.options.config_id.as_deref() == Some(&rest[..id_len]);
            if matches == negate {
                return;
            }
            skip = line.text.len() - rest[id_len..].trim_start().len();
            if skip == line.text.len() {
                return;
            }
        }
        let line = if skip > 0 { line.skip(skip) } else { line };
        // Definitions: $NAME=value (no space before '=').
        if let Some(rest) = line.text.strip_prefix('$') {
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
        // ~SEQ / ~LST: their arguments are substituted now, their body at every repetition.
        if line.text.starts_with("~SEQ") {
            self.seq(line, depth);
            return;
        }
        if line.text.starts_with("~LST") {
            self.lst(line, depth);
            return;
        }
        // Substitution of the whole line; what it makes is read as new lines (one per line of
        // a multiline definition), each going through this order again.
        if line.text.contains('$') {
            match self.substitute(&line.text) {
                Subst::Unchanged => {}
                Subst::Changed(text) => {
                    if self.deeper(depth, line.origin) {
                        self.frames.push(Frame::Lines {
                            file: line.file,
                            origin: line.origin,
                            text,
                            pos: 0,
                            depth: depth + 1,
                        });
                    }
                    return;
                }
                Subst::TooLarge => {
                    self.error(
                        DiagnosticKind::OutOfRange,
                        line.origin,
                        "parameter substitution grows too large (a definition that uses itself?)",
                    );
                    return;
                }
                Subst::OverBudget => {
                    self.over_substitution_limit(line.origin);
                    return;
                }
            }
        }
        let first = line
            .text
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(line.text.len());
        if let Some(checks) = IncludeChecks::of(&line.text[..first]) {
            let pattern = line.text[first..].trim();
            self.include(checks.union(self.include_checks), pattern, line.origin);
            return;
        }
        if &line.text[..first] == "include_check" {
            // keepalived applies it as it reads the line, to the includes that follow; the
            // statement is also read as a `global_defs` keyword, which says where it belongs.
            let options: Vec<&str> = strip_comment(&line.text[first..])
                .0
                .split_ascii_whitespace()
                .collect();
            let (checks, unknown) = self.include_checks.apply(&options);
            self.include_checks = checks;
            if let Some(unknown) = unknown {
                self.warn(
                    DiagnosticKind::InvalidValue,
                    line.origin,
                    format!(
                        "include_check: unknown check `{unknown}` (keepalived 2.2.7 knows match, wildcard_match and brace_match); it and what follows are ignored"
                    ),
                );
            }
        }
        self.tokenize(line);
    }

    /// True when one more level of expansion is allowed; an error otherwise.
    fn deeper(&mut self, depth: usize, origin: Origin) -> bool {
        if depth < MAX_DEPTH {
            return true;
        }
        self.error(
            DiagnosticKind::OutOfRange,
            origin,
            format!(
                "~SEQ, ~LST and parameter substitution nest deeper than {MAX_DEPTH} (a definition that uses itself?)"
            ),
        );
        false
    }

    fn seq(&mut self, line: Line<'s>, depth: usize) {
        let origin = line.origin;
        let text: &str = &line.text;
        let rest = &text[4..];
        let (hex, rest) = match rest.strip_prefix('x') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let parsed = rest.strip_prefix('(').and_then(|r| {
            let close = r.find(')')?;
            Some((&r[..close], r[close + 1..].trim_start()))
        });
        let Some((args, body)) = parsed else {
            self.error(
                DiagnosticKind::Syntax,
                origin,
                "expected ~SEQ(var, start, step, end)",
            );
            return;
        };
        let Some(args) = self.substitute_args(args, origin) else {
            return;
        };
        let args: Vec<&str> = args.split(',').map(str::trim).collect();
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
            self.error(
                DiagnosticKind::InvalidValue,
                origin,
                "~SEQ needs a variable and one to three numbers",
            );
            return;
        };
        let step = step.unwrap_or(if end >= first { 1 } else { -1 });
        if step == 0 || (step > 0) != (end >= first) && first != end {
            self.error(
                DiagnosticKind::InvalidValue,
                origin,
                "~SEQ step goes away from the end",
            );
            return;
        }
        let count = (i128::from(end) - i128::from(first)) / i128::from(step) + 1;
        if count > i128::from(MAX_SEQ_LINES) {
            self.error(
                DiagnosticKind::OutOfRange,
                origin,
                format!("~SEQ would produce {count} lines; at most {MAX_SEQ_LINES} are accepted"),
            );
            return;
        }
        let body_offset = text.len() - body.len();
        if body.is_empty() || !self.deeper(depth, origin) {
            return;
        }
        let body = body_of(&line, body_offset);
        self.frames.push(Frame::Seq {
            file: line.file,
            start: line.start + body_offset,
            origin,
            body,
            var,
            hex,
            next: first,
            step,
            left: count,
            depth: depth + 1,
        });
    }

    /// `~LST(var, v1, v2, ...)` or `~LST({a, b}, {1, 2}, {3, 4})`: the rest of the line once
    /// per value (tuple), with the variables set.
    fn lst(&mut self, line: Line<'s>, depth: usize) {
        let origin = line.origin;
        let text: &str = &line.text;
        let rest = &text[4..];
        let parsed = rest.strip_prefix('(').and_then(|inner| {
            // The closing parenthesis at brace depth 0.
            let mut level = 0i32;
            let close = inner.char_indices().find_map(|(i, c)| match c {
                '{' => {
                    level += 1;
                    None
                }
                '}' => {
                    level -= 1;
                    None
                }
                ')' if level == 0 => Some(i),
                _ => None,
            })?;
            Some((&inner[..close], inner[close + 1..].trim_start()))
        });
        let Some((list, body)) = parsed else {
            self.error(
                DiagnosticKind::Syntax,
                origin,
                "expected ~LST(var, value, ...) or ~LST({var, ...}, {value, ...}, ...)",
            );
            return;
        };
        let Some(list) = self.substitute_args(list, origin) else {
            return;
        };
        let items = split_top_level(&list);
        if items.len() < 2 {
            self.error(
                DiagnosticKind::Syntax,
                origin,
                "expected ~LST(var, value, ...) or ~LST({var, ...}, {value, ...}, ...)",
            );
            return;
        }
        let names = braced_list(items[0]);
        if names.iter().any(|n| n.is_empty()) {
            self.error(DiagnosticKind::Syntax, origin, "~LST needs variable names");
            return;
        }
        let tuples: Vec<Vec<String>> = items[1..]
            .iter()
            .map(|v| braced_list(v).into_iter().map(str::to_string).collect())
            .collect();
        if let Some(bad) = tuples.iter().find(|t| t.len() != names.len()) {
            let message = format!(
                "~LST has {} variable(s) but a value list of {}",
                names.len(),
                bad.len()
            );
            self.error(DiagnosticKind::InvalidValue, origin, message);
            return;
        }
        let names: Vec<String> = names.into_iter().map(str::to_string).collect();
        let body_offset = text.len() - body.len();
        if body.is_empty() || !self.deeper(depth, origin) {
            return;
        }
        let body = body_of(&line, body_offset);
        self.frames.push(Frame::Lst {
            file: line.file,
            start: line.start + body_offset,
            origin,
            body,
            names,
            tuples: tuples.into_iter(),
            depth: depth + 1,
        });
    }

    /// The arguments of `~SEQ(...)` / `~LST(...)` with parameters substituted (keepalived
    /// substitutes them before the repetition starts); `None` after an error.
    fn substitute_args<'a>(&mut self, args: &'a str, origin: Origin) -> Option<Cow<'a, str>> {
        if !args.contains('$') {
            return Some(Cow::Borrowed(args));
        }
        match self.substitute(args) {
            Subst::Unchanged => Some(Cow::Borrowed(args)),
            Subst::Changed(text) => Some(Cow::Owned(text)),
            Subst::TooLarge => {
                self.error(
                    DiagnosticKind::OutOfRange,
                    origin,
                    "parameter substitution grows too large (a definition that uses itself?)",
                );
                None
            }
            Subst::OverBudget => {
                self.over_substitution_limit(origin);
                None
            }
        }
    }

    /// Counts one expanded line of `len` bytes; false (with one error) once the budget is
    /// spent.
    fn expand_one(&mut self, origin: Origin, len: usize) -> bool {
        self.spent.expanded += 1;
        self.spent.substituted += len;
        if self.spent.expanded == MAX_EXPANDED_LINES + 1 {
            self.error(
                DiagnosticKind::OutOfRange,
                origin,
                format!("~SEQ and ~LST would produce more than {MAX_EXPANDED_LINES} lines"),
            );
        }
        if self.spent.substituted > self.options.substitution_limit {
            self.over_substitution_limit(origin);
            return false;
        }
        self.spent.expanded <= MAX_EXPANDED_LINES
    }

    fn over_substitution_limit(&mut self, origin: Origin) {
        let limit = self.options.substitution_limit;
        self.error(
            DiagnosticKind::OutOfRange,
            origin,
            format!(
                "parameter substitution, ~SEQ and ~LST produce more than {limit} bytes (Options::substitution_limit)"
            ),
        );
        self.stop();
    }

    /// Reads no more input (a budget for the whole configuration ran out).
    fn stop(&mut self) {
        self.stopped = true;
        self.frames.clear();
    }

    /// Replaces `$NAME` (followed by whitespace or the end) and `${NAME}` once per pass, until
    /// nothing changes. Unknown names stay as they are. All substitutions of the configuration
    /// together stop at [`Options::substitution_limit`], counted as they are made.
    fn substitute(&mut self, text: &str) -> Subst {
        let mut current: Option<String> = None;
        for pass in 0..=MAX_DEPTH {
            let input = current.as_deref().unwrap_or(text);
            let left = self
                .options
                .substitution_limit
                .saturating_sub(self.spent.substituted);
            let cap = left.min(MAX_SUBST_LINE);
            let next = match self.substitute_once(input, cap) {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(()) if cap == left => return Subst::OverBudget,
                Err(()) => return Subst::TooLarge,
            };
            if pass == MAX_DEPTH {
                // Still changing: a definition that uses itself.
                return Subst::TooLarge;
            }
            self.spent.substituted += next.len();
            let multiline = next.contains('\n');
            current = Some(next);
            if multiline {
                // A multiline definition: its lines are read one by one (definitions among
                // them take effect for the lines after), each substituted when it is read.
                break;
            }
        }
        match current {
            Some(text) => Subst::Changed(text),
            None => Subst::Unchanged,
        }
    }

    /// One pass; `Ok(None)` when nothing changed, `Err` as soon as the output passes `cap`.
    fn substitute_once(&self, text: &str, cap: usize) -> Result<Option<String>, ()> {
        let mut out = String::new();
        let mut changed = false;
        let mut rest = text;
        let push = |out: &mut String, s: &str| {
            if out.len() + s.len() > cap {
                return Err(());
            }
            out.push_str(s);
            Ok(())
        };
        while let Some(pos) = rest.find('$') {
            push(&mut out, &rest[..pos])?;
            let after = &rest[pos + 1..];
            if let Some(inner) = after.strip_prefix('{')
                && let Some(close) = inner.find('}')
            {
                let name = &inner[..close];
                let made;
                let value = if let Some(range) = name.strip_prefix("_RANDOM") {
                    made = random_in(range);
                    Some(made.as_str())
                } else {
                    match name {
                        "_HASH" => Some("#"),
                        "_BANG" => Some("!"),
                        "_INSTANCE" => Some(self.options.config_id.as_deref().unwrap_or("")),
                        _ => self.defs.get(name).map(String::as_str),
                    }
                };
                if let Some(value) = value {
                    push(&mut out, value)?;
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
                    push(&mut out, value)?;
                    changed = true;
                    rest = &after[len..];
                    continue;
                }
            }
            push(&mut out, "$")?;
            rest = after;
        }
        if !changed {
            return Ok(None);
        }
        push(&mut out, rest)?;
        Ok(Some(out))
    }

    /// Reads what an `include` line names: braces expanded in order, each alternative globbed
    /// relative to the including file, every match read in order at this point of the input.
    fn include(&mut self, checks: IncludeChecks, pattern: &str, origin: Origin) {
        if !self.options.includes {
            self.warn(
                DiagnosticKind::Include,
                origin,
                "include ignored: includes are switched off for this parse",
            );
            return;
        }
        if pattern.is_empty() {
            self.error(
                DiagnosticKind::Missing,
                origin,
                "include needs a file name or pattern",
            );
            return;
        }
        if pattern.len() > MAX_PATTERN {
            self.error(
                DiagnosticKind::Include,
                origin,
                format!("include pattern longer than {MAX_PATTERN} bytes"),
            );
            return;
        }
        let depth = self
            .frames
            .iter()
            .filter(|f| matches!(f, Frame::File { .. }))
            .count();
        if depth > MAX_INCLUDE_DEPTH {
            self.error(
                DiagnosticKind::Include,
                origin,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
            );
            return;
        }
        let Some(alternatives) = expand_braces(pattern) else {
            self.error(
                DiagnosticKind::Include,
                origin,
                format!(
                    "include `{pattern}` expands to more than {} patterns",
                    crate::fs::MAX_BRACE_PATTERNS
                ),
            );
            return;
        };
        let dir = self
            .frames
            .iter()
            .rev()
            .find_map(|f| match f {
                Frame::File { file, .. } => Some(*file),
                _ => None,
            })
            .map(|file| self.dir_of(file))
            .unwrap_or_default();
        let braces = alternatives.len() > 1;
        let mut paths = Vec::new();
        let mut missing = Vec::new();
        for alternative in &alternatives {
            let full = if Path::new(alternative).is_absolute() || dir.as_os_str().is_empty() {
                alternative.clone()
            } else {
                // The directory is literal text, not a pattern.
                let dir = glob::Pattern::escape(&dir.to_string_lossy());
                format!("{}/{alternative}", dir.trim_end_matches('/'))
            };
            match self.options.fs.glob(&full) {
                Ok(found) if found.is_empty() => missing.push(alternative.as_str()),
                Ok(found) => paths.extend(found),
                Err(e) => {
                    self.error(
                        DiagnosticKind::Include,
                        origin,
                        format!("include pattern `{alternative}` is not valid: {e}"),
                    );
                    return;
                }
            }
        }
        let wildcard = pattern.contains(['*', '?', '[']);
        // A brace alternative without a wildcard that matched nothing.
        let literal_missing: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|a| !a.contains(['*', '?', '[']))
            .collect();
        if paths.is_empty() {
            let message = format!("include `{pattern}` matched no file");
            let required = if wildcard {
                checks.wildcard_matched
            } else {
                checks.matched || checks.wildcard_matched
            };
            if required && !braces || braces && checks.brace_matched && !literal_missing.is_empty()
            {
                self.error(DiagnosticKind::IncludeCheck, origin, message);
            } else if !wildcard {
                // keepalived says so too ("Config files missing"); a wildcard that matches
                // nothing (an empty conf.d) is normal.
                self.warn(DiagnosticKind::Include, origin, message);
            }
            return;
        }
        if braces && !literal_missing.is_empty() {
            let list = literal_missing.join("`, `");
            let message = format!("include `{pattern}`: `{list}` matched no file");
            if checks.brace_matched {
                self.error(DiagnosticKind::IncludeCheck, origin, message);
            } else {
                self.warn(DiagnosticKind::Include, origin, message);
            }
        }
        self.frames.push(Frame::Include {
            paths: paths.into_iter(),
            checks,
            origin,
        });
    }

    /// Starts reading one included file (on top of the stack), unless it is an include loop or
    /// cannot be read.
    fn open(&mut self, path: &Path, checks: IncludeChecks, origin: Origin) {
        let shown = path.display().to_string();
        let identity = match self.identities.get(path) {
            Some(identity) => identity.clone(),
            None => {
                let identity = self.options.fs.identity(path);
                self.identities.insert(path.to_path_buf(), identity.clone());
                identity
            }
        };
        let open = self.frames.iter().any(|f| match f {
            Frame::File { identity: i, .. } => *i == identity,
            _ => false,
        });
        if open {
            self.error(
                DiagnosticKind::Include,
                origin,
                format!(
                    "include loop: `{shown}` includes itself (directly or through other files)"
                ),
            );
            return;
        }
        self.spent.inclusions += 1;
        if self.spent.inclusions > MAX_INCLUSIONS {
            self.error(
                DiagnosticKind::Include,
                origin,
                format!("more than {MAX_INCLUSIONS} files included in all"),
            );
            self.stop();
            return;
        }
        let limit = self.options.input_limit;
        let left = limit.saturating_sub(self.spent.read);
        let (file, text) = match self.loaded.get(&identity) {
            Some(&(file, text)) if text.len() as u64 <= left => (file, text),
            Some(_) => {
                self.over_input_limit(&shown, origin);
                return;
            }
            None => {
                let bytes = match self.options.fs.read(path, left) {
                    Ok(bytes) => bytes,
                    Err(FileError::TooLarge { size, .. }) if size > limit => {
                        let e = FileError::TooLarge { size, limit };
                        self.error(
                            DiagnosticKind::Include,
                            origin,
                            format!(
                                "cannot read included file `{shown}`: {e} (Options::input_limit)"
                            ),
                        );
                        self.stop();
                        return;
                    }
                    Err(FileError::TooLarge { .. }) => {
                        self.over_input_limit(&shown, origin);
                        return;
                    }
                    Err(e) => {
                        // keepalived skips such a file with a message; the `includer` family
                        // makes it an error.
                        let message = format!("cannot read included file `{shown}`: {e}");
                        if checks.readable {
                            self.error(DiagnosticKind::IncludeCheck, origin, message);
                        } else {
                            self.warn(DiagnosticKind::Include, origin, message);
                        }
                        return;
                    }
                };
                let text: Arc<str> = match String::from_utf8(bytes) {
                    Ok(s) => s.into(),
                    Err(e) => String::from_utf8_lossy(e.as_bytes()).into(),
                };
                let Some(kept) = self.arena.keep(text.clone()) else {
                    self.error(
                        DiagnosticKind::Include,
                        origin,
                        format!("more than {MAX_FILES} different files included"),
                    );
                    self.stop();
                    return;
                };
                let file = self.sources.add(path.to_path_buf(), text);
                self.loaded.insert(identity.clone(), (file, kept));
                (file, kept)
            }
        };
        self.spent.read += text.len() as u64;
        self.push_file(file, text, identity);
    }

    fn over_input_limit(&mut self, shown: &str, origin: Origin) {
        let limit = self.options.input_limit;
        self.error(
            DiagnosticKind::Include,
            origin,
            format!(
                "cannot read included file `{shown}`: the files of this configuration together are more than {limit} bytes (Options::input_limit)"
            ),
        );
        self.stop();
    }

    /// Counts one word or brace; false (with one error, and no more input) past
    /// [`Options::word_limit`].
    fn count_word(&mut self, origin: Origin) -> bool {
        self.spent.words += 1;
        if self.spent.words <= self.options.word_limit {
            return true;
        }
        let limit = self.options.word_limit;
        self.error(
            DiagnosticKind::OutOfRange,
            origin,
            format!(
                "the configuration has more than {limit} words and braces (Options::word_limit); the rest is not read"
            ),
        );
        self.stop();
        false
    }

    fn push(&mut self, tok: Tok<'s>, origin: Origin) -> bool {
        if !self.count_word(origin) {
            return false;
        }
        self.buffer.push_back(Token { tok, origin });
        true
    }

    /// Splits a line into words and braces. Double quotes group words (a quote starts and
    /// ends a word; inside, everything is kept as written, `#`, `!`, `'` and `\` included);
    /// after a script keyword, the rest of the statement is split as keepalived splits a
    /// command line (see [`SCRIPT_KEYWORDS`]).
    fn tokenize(&mut self, line: Line<'s>) {
        let text: &str = &line.text;
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut statement_start = true;
        while i < bytes.len() {
            let b = bytes[i];
            if b.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if b == b'{' || b == b'}' {
                let tok = if b == b'{' { Tok::Open } else { Tok::Close };
                if !self.push(tok, line.at(i, i + 1)) {
                    return;
                }
                statement_start = true;
                i += 1;
                continue;
            }
            if b == b'"' {
                let (end, next) = match text[i + 1..].find('"') {
                    Some(n) => (i + 1 + n, i + 2 + n),
                    None => {
                        self.error(
                            DiagnosticKind::Braces,
                            line.at(i, i + 1),
                            "quoted string is not closed before the end of the line",
                        );
                        (text.len(), text.len())
                    }
                };
                if !self.push(Tok::Word(line.word(i + 1, end)), line.at(i, next)) {
                    return;
                }
                statement_start = false;
                i = next;
                continue;
            }
            let end = text[i..]
                .find(|c: char| c.is_ascii_whitespace() || matches!(c, '{' | '}' | '"'))
                .map_or(text.len(), |n| i + n);
            let script = statement_start && is_script_keyword(&text[i..end]);
            if !self.push(Tok::Word(line.word(i, end)), line.at(i, end)) {
                return;
            }
            statement_start = false;
            i = end;
            if script {
                match self.script_words(&line, i) {
                    Some(next) => i = next,
                    None => return,
                }
            }
        }
        self.push(Tok::Eol, line.at(text.len(), text.len()));
    }

    /// The words after a script keyword, split like a shell: whitespace separates, `'` and
    /// `"` group and join with what touches them, `\` escapes (`\t`, `\x41`, `\101`, `\ `,
    /// ...). Ends at an unquoted brace or the end of the line; returns where, or `None` when
    /// the word budget ran out.
    fn script_words(&mut self, line: &Line<'s>, from: usize) -> Option<usize> {
        let text: &str = &line.text;
        // keepalived reads every line with double quotes first: an odd number of them is an
        // error even where the shell-like split would accept it.
        let mut reported = false;
        if text[from..].matches('"').count() % 2 == 1 {
            let at = from + text[from..].rfind('"').unwrap_or(0);
            self.error(
                DiagnosticKind::Braces,
                line.at(at, at + 1),
                "quoted string is not closed before the end of the line",
            );
            reported = true;
        }
        let mut chars = text[from..].char_indices().peekable();
        loop {
            // Skip whitespace; stop at a brace or the end.
            let start = loop {
                match chars.peek() {
                    Some(&(_, c)) if c.is_ascii_whitespace() => {
                        chars.next();
                    }
                    Some(&(off, c)) if c == '{' || c == '}' => return Some(from + off),
                    Some(&(off, _)) => break from + off,
                    None => return Some(text.len()),
                }
            };
            let mut word = String::new();
            let mut quote: Option<char> = None;
            let mut plain = true;
            let mut end = text.len();
            while let Some(&(off, c)) = chars.peek() {
                match quote {
                    Some(q) if c == q => quote = None,
                    None if c.is_ascii_whitespace() || c == '{' || c == '}' => {
                        end = from + off;
                        break;
                    }
                    None if c == '"' || c == '\'' => {
                        quote = Some(c);
                        plain = false;
                    }
                    _ if c == '\\' => {
                        plain = false;
                        chars.next();
                        match chars.next() {
                            Some((_, e)) => escape(e, &mut chars, &mut word),
                            None => word.push('\\'),
                        }
                        continue;
                    }
                    _ => word.push(c),
                }
                chars.next();
            }
            if quote.is_some() && !reported {
                self.error(
                    DiagnosticKind::Braces,
                    line.at(start, start + 1),
                    "quoted string is not closed before the end of the line",
                );
                reported = true;
            }
            let word = if plain {
                line.word(start, end)
            } else {
                Cow::Owned(word)
            };
            if !self.push(Tok::Word(word), line.at(start, end)) {
                return None;
            }
        }
    }
}

/// The body of a `~SEQ`/`~LST` line from `offset`: borrowed when the line is.
fn body_of<'s>(line: &Line<'s>, offset: usize) -> Cow<'s, str> {
    match &line.text {
        Cow::Borrowed(t) => Cow::Borrowed(&t[offset..]),
        Cow::Owned(t) => Cow::Owned(t[offset..].to_string()),
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

/// Cuts a `#` or `!` comment off a line, outside double quotes (single quotes do not hide a
/// comment in keepalived), and says whether what is left has a `$` (a definition or a use to
/// expand).
fn strip_comment(line: &str) -> (&str, bool) {
    let mut quoted = false;
    let mut dollar = false;
    for (i, b) in line.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'$' => dollar = true,
            b'#' | b'!' if !quoted => return (&line[..i], dollar),
            _ => {}
        }
    }
    (line, dollar)
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
