//! Errors and warnings with file:line:col, rendered with the source line and a caret.

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use serde::Serialize;

use crate::source::{Location, Origin, SourceMap, ceil_char_boundary, floor_char_boundary};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// lvskit's own advice on something keepalived reads without a message: shown, but it
    /// changes neither the verdict nor keepalived's exit status.
    Note,
    /// keepalived would go on; the configuration is still valid.
    Warning,
    /// The configuration is not valid.
    Error,
}

/// What kind of problem a diagnostic reports; tests and tools match on this, not on the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// A keyword keepalived does not know in this block.
    UnknownKeyword,
    /// A keyword keepalived knows but that lvskit only keeps verbatim.
    Syntax,
    /// A `{` without `}`, a stray `}`, an unterminated quote.
    Braces,
    /// An `include` that matched nothing or could not be read.
    Include,
    /// An `include` that an include check rejects (`includer`, ..., `include_check`, `-e`):
    /// keepalived exits 6 for it, as for script security.
    IncludeCheck,
    /// A value that does not parse (not a number, not an address, unknown enum word).
    InvalidValue,
    /// A value out of its allowed range.
    OutOfRange,
    /// A required argument or setting is missing.
    Missing,
    /// A setting given twice where only one makes sense.
    Duplicate,
    /// A reference to a script, file, group or instance that is not defined.
    UndefinedReference,
    /// An address of the wrong family for its instance or virtual server.
    AddressFamily,
    /// Settings that contradict each other.
    Conflict,
    /// An old keyword keepalived still reads but warns about (`nb_get_retry`).
    Deprecated,
    /// An interface the configuration names does not exist on this system (found by
    /// [`crate::system`], not by the parser).
    Interface,
    /// What keepalived cannot run the configuration with: an interface named in
    /// `linkbeat_interfaces` or `interface_up_down_delays` that does not exist (found by
    /// [`crate::system`]). `keepalived -t` exits 4 when these are all it found.
    Fatal,
    /// A script keepalived will not run: not found, changeable by a non-root user while it
    /// runs as root, or no user to run it as (found by [`crate::system`]).
    Script,
    /// Scripts are run without `enable_script_security`: keepalived's "security violation",
    /// the one class that makes `keepalived -t` exit 6 (found by [`crate::system`]).
    ScriptSecurity,
    /// A setting of another tool's configuration (ldirectord, heartbeat, piranha) that keepalived
    /// has no exact equivalent for: `lvskit-import` wrote the nearest working form instead.
    NoEquivalent,
}

/// One error or warning, already resolved to file:line:col so it outlives the sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The class of problem.
    pub kind: DiagnosticKind,
    /// What was expected and what was found.
    pub message: String,
    /// Where, or `None` for problems of the whole configuration.
    pub location: Option<Location>,
    /// The source line the location points into (empty without a location); for a long line,
    /// a window of it around the location, with `...` where it was cut.
    #[serde(skip)]
    pub line_text: String,
    /// Byte range of the underlined part inside `line_text`.
    #[serde(skip)]
    pub underline: std::ops::Range<usize>,
}

/// Lines longer than this are shown as a window around the location.
const WINDOW: usize = 160;
/// Bytes of context kept before the location in a window, and most bytes underlined.
const CONTEXT: usize = 60;

impl Diagnostic {
    pub(crate) fn new(
        sources: &SourceMap,
        severity: Severity,
        kind: DiagnosticKind,
        origin: Origin,
        message: String,
    ) -> Self {
        let mut diag = Self {
            severity,
            kind,
            message,
            location: None,
            line_text: String::new(),
            underline: 0..0,
        };
        if let (Some(file), Some(location)) = (sources.file(origin), sources.location(origin)) {
            let line_start = file.line_start(location.line);
            let text = file.line_text(location.line);
            let start =
                floor_char_boundary(text, (origin.start as usize).saturating_sub(line_start));
            let end = ceil_char_boundary(text, start + origin.len.max(1) as usize);
            if text.len() <= WINDOW {
                diag.line_text = text.to_string();
                diag.underline = start..end;
            } else {
                // A copy of a window, never of the whole line: a long line with thousands of
                // diagnostics must not be copied thousands of times.
                let from = floor_char_boundary(text, start.saturating_sub(CONTEXT));
                let end = ceil_char_boundary(text, end.min(start + CONTEXT));
                let to = ceil_char_boundary(text, end + CONTEXT);
                let prefix = if from > 0 { "..." } else { "" };
                let suffix = if to < text.len() { "..." } else { "" };
                diag.line_text = format!("{prefix}{}{suffix}", &text[from..to]);
                diag.underline = prefix.len() + start - from..prefix.len() + end - from;
            }
            diag.location = Some(location);
        }
        diag
    }

    /// A diagnostic about another tool's input (an importer's source file, say): `line_text` is
    /// the source line `location` points into and `underline` the byte range to mark in it.
    /// Long lines are shown whole.
    pub fn from_parts(
        severity: Severity,
        kind: DiagnosticKind,
        message: String,
        location: Option<Location>,
        line_text: String,
        underline: std::ops::Range<usize>,
    ) -> Self {
        Self {
            severity,
            kind,
            message,
            location,
            line_text,
            underline,
        }
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The diagnostic as text: a title, `--> file:line:col`, the line and a caret under the spot.
    pub fn render(&self) -> String {
        self.render_with(&Renderer::plain())
    }

    /// Like [`Self::render`], with ANSI colours for a terminal.
    pub fn render_styled(&self) -> String {
        self.render_with(&Renderer::styled())
    }

    /// Like [`Self::render`] with a caller's renderer (for colours on a terminal).
    pub fn render_with(&self, renderer: &Renderer) -> String {
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        let title = level.primary_title(self.message.as_str());
        let group = match &self.location {
            Some(location) => {
                let path = location.path.display().to_string();
                let snippet = Snippet::source(self.line_text.as_str())
                    .line_start(location.line)
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(self.underline.clone()));
                title.element(snippet)
            }
            None => title.elements(std::iter::empty::<
                Snippet<'_, annotate_snippets::Annotation<'_>>,
            >()),
        };
        let out = renderer.render(&[group]);
        let shown = self
            .line_text
            .get(..self.underline.start)
            .map_or(0, |s| s.chars().count())
            + 1;
        match &self.location {
            Some(location) if shown != location.column => {
                // A window of a long line: the renderer counts columns in the window; say the
                // real one.
                let path = location.path.display();
                out.replacen(
                    &format!("{path}:{}:{shown}", location.line),
                    &format!("{path}:{}:{}", location.line, location.column),
                    1,
                )
            }
            _ => out,
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        match &self.location {
            Some(location) => write!(f, "{location}: {severity}: {}", self.message),
            None => write!(f, "{severity}: {}", self.message),
        }
    }
}

/// The exit status of `keepalived -t`, for tools that test it: keepalived keeps the class of
/// every configuration message it prints and exits with the most telling one.
///
/// keepalived 2.2.7 orders its message classes from "cannot run this" to "script security", and
/// its exit status follows the class it printed last among the highest: so one warning turns a
/// fatal-only run into 5, and a script-security message beats everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigTestStatus {
    /// No message: exit 0.
    Clean,
    /// Only messages that keepalived cannot run the configuration (an unreadable file, an
    /// interface of `linkbeat_interfaces` that does not exist): exit 4.
    Fatal,
    /// Any configuration message, warnings included: exit 5.
    Messages,
    /// A script-security message (scripts without `enable_script_security`), or an include
    /// that an include check rejects: exit 6.
    Security,
}

impl ConfigTestStatus {
    /// The status keepalived would give for these diagnostics. Notes do not count, nor do
    /// warnings about included files that are missing (keepalived prints "Config files missing"
    /// and still exits 0 unless run with `-e`).
    pub fn of(diagnostics: &[Diagnostic]) -> Self {
        diagnostics
            .iter()
            .map(|d| match (d.severity, d.kind) {
                (Severity::Note, _) | (Severity::Warning, DiagnosticKind::Include) => Self::Clean,
                (_, DiagnosticKind::Fatal) => Self::Fatal,
                (_, DiagnosticKind::ScriptSecurity | DiagnosticKind::IncludeCheck) => {
                    Self::Security
                }
                _ => Self::Messages,
            })
            .max()
            .unwrap_or(Self::Clean)
    }

    /// The process exit code keepalived uses for this status.
    pub fn code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Fatal => 4,
            Self::Messages => 5,
            Self::Security => 6,
        }
    }
}

/// Most warnings and notes kept for one configuration (errors: twice as many diagnostics in
/// all); the rest are counted in a last one.
const MAX_DIAGNOSTICS: usize = 10_000;

/// Collects diagnostics while parsing and checking.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    pub(crate) list: Vec<Diagnostic>,
    pub(crate) strict: bool,
    dropped: usize,
    dropped_error: bool,
}

impl Diagnostics {
    pub(crate) fn new(strict: bool) -> Self {
        Self {
            strict,
            ..Self::default()
        }
    }

    fn push(&mut self, diag: Diagnostic) {
        if self.list.len() < MAX_DIAGNOSTICS {
            self.list.push(diag);
        } else {
            self.dropped += 1;
            self.dropped_error |= diag.is_error();
        }
    }

    /// The diagnostics, with a last one saying how many were left out.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        if self.dropped > 0 {
            self.list.push(Diagnostic {
                severity: if self.dropped_error {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                kind: DiagnosticKind::Syntax,
                message: format!("{} more diagnostics not shown", self.dropped),
                location: None,
                line_text: String::new(),
                underline: 0..0,
            });
        }
        self.list
    }

    pub(crate) fn error(
        &mut self,
        sources: &SourceMap,
        kind: DiagnosticKind,
        origin: Origin,
        message: impl Into<String>,
    ) {
        // Errors have room past the cap of the others: a file read in order can say 10,000
        // warnings before the error that matters (a budget that ran out).
        if self.list.len() >= 2 * MAX_DIAGNOSTICS {
            self.dropped += 1;
            self.dropped_error = true;
            return;
        }
        self.list.push(Diagnostic::new(
            sources,
            Severity::Error,
            kind,
            origin,
            message.into(),
        ));
    }

    /// lvskit's advice on something keepalived reads silently: never an error, even `strict`.
    pub(crate) fn note(
        &mut self,
        sources: &SourceMap,
        kind: DiagnosticKind,
        origin: Origin,
        message: impl Into<String>,
    ) {
        if self.list.len() >= MAX_DIAGNOSTICS {
            self.dropped += 1;
            return;
        }
        self.push(Diagnostic::new(
            sources,
            Severity::Note,
            kind,
            origin,
            message.into(),
        ));
    }

    /// A warning; under `strict`, what keepalived would skip (unknown keywords, ignored
    /// arguments) is an error instead.
    pub(crate) fn warn(
        &mut self,
        sources: &SourceMap,
        kind: DiagnosticKind,
        origin: Origin,
        message: impl Into<String>,
    ) {
        let skipped = matches!(
            kind,
            DiagnosticKind::UnknownKeyword | DiagnosticKind::Syntax
        );
        let severity = if self.strict && skipped {
            Severity::Error
        } else {
            Severity::Warning
        };
        if self.list.len() >= MAX_DIAGNOSTICS {
            self.dropped += 1;
            self.dropped_error |= severity == Severity::Error;
            return;
        }
        self.push(Diagnostic::new(
            sources,
            severity,
            kind,
            origin,
            message.into(),
        ));
    }
}
