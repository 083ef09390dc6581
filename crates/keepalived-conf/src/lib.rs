//! A keepalived.conf parser to a typed model, with file:line:col diagnostics.
//!
//! Operators move to lvskit with the keepalived.conf they already have; this crate reads it the
//! way keepalived 2.x does (keepalived.conf(5) is the reference for names and meanings):
//!
//! - `!` and `#` comments, whole-line and trailing; double-quoted strings, and shell-like
//!   splitting (single quotes, escapes) after script keywords, as keepalived 2.2.7 reads them;
//! - blocks with `{` on the keyword's line, on the next line, or several blocks on one line;
//! - `include` (and `includer`/`includem`/...) with braces and globs relative to the including
//!   file, applied after a line's conditionals and substitution (keepalived's order), through
//!   [`Options::fs`] (regular files only, [`Options::input_limit`] bytes in all);
//! - several `global_defs` blocks, merged;
//! - `$NAME=value` definitions, `$NAME` / `${NAME}` use, multiline definitions ending in `\`
//!   (the only place keepalived continues lines), `${_PWD}`, `${_INSTANCE}`, `${_HASH}`,
//!   `${_BANG}`, `${_RANDOM}`, and `~SEQ(...)` / `~LST(...)` lines;
//! - `@id` / `@^id` conditional lines against [`Options::config_id`].
//!
//! The result is a [`Config`] plus [`Diagnostic`]s, with [`ConfigTestStatus`] saying what
//! `keepalived -t` would exit with. [`system::check_system`] adds the checks against the host
//! (interfaces, script security) that `keepalived -t` makes; the parser itself reads only files.
//! [`value`] holds keepalived's rules for checker values that the `healthcheck` crate shares.
//!
//! Unknown keywords are warnings (keepalived goes on) unless [`Options::strict`] is set; values
//! that do not parse, out-of-range numbers and the cross-checks of [`check`] are errors.
//!
//! ```
//! let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 120\n  \
//!             advert_int 1\n  virtual_ipaddress { 192.0.2.100 }\n}\n";
//! let parsed = keepalived_conf::parse_str("keepalived.conf", text, &Default::default());
//! assert!(!parsed.has_errors());
//! let vi = &parsed.config.vrrp_instances[0];
//! assert_eq!(vi.virtual_router_id.map(|v| v.value), Some(51));
//! ```

mod build;
mod check;
mod diag;
mod fs;
mod keywords;
mod lex;
pub mod model;
mod print;
mod source;
pub mod system;
mod tree;
pub mod value;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use diag::{ConfigTestStatus, Diagnostic, DiagnosticKind, Severity};
pub use fs::{FileError, FileSystem, MemoryFs, RealFs};
pub use model::Config;
pub use print::{print, quote};
pub use source::{Location, Origin, SourceFile, SourceMap, Spanned};

/// How to read a configuration.
///
/// The limits bound what a hostile or broken file can make the parser do; the defaults are far
/// above any real configuration (the 2,300 virtual server / 37,000 real server one of
/// BENCHMARKS.md is a 6.7 MB file of about a million words).
#[derive(Debug, Clone)]
pub struct Options {
    /// The config id that `@id` lines are compared with (keepalived's `-i`, by default the first
    /// part of the host name). `None` matches no `@id` line, and every `@^id` line.
    pub config_id: Option<String>,
    /// Make what keepalived would skip with a warning an error: unknown keywords and ignored
    /// extra arguments. Other warnings (deprecated names, advice) stay warnings.
    pub strict: bool,
    /// Follow `include` lines (with [`Self::fs`]).
    pub includes: bool,
    /// keepalived's `-e` (`--all-config`): every `include` makes all the checks of `includea`
    /// (a pattern or brace alternative that matches nothing, a match that cannot be read, is
    /// an error), as `include_check` with no option does from where it is written.
    pub all_config: bool,
    /// Where files are read from: the real file system by default, or a [`MemoryFs`].
    pub fs: Arc<dyn FileSystem>,
    /// Most bytes read from files for one configuration: the main file and every included
    /// file, a file included twice counted twice (default 64 MiB). Also the most one file may
    /// have, so that `include /dev/zero`-like surprises stop early.
    pub input_limit: u64,
    /// Most bytes that parameter substitution, `~SEQ` and `~LST` may produce for the whole
    /// configuration (default 256 MiB; a definition that uses itself twice doubles at every
    /// pass, and this stops it).
    pub substitution_limit: usize,
    /// Most words and braces in the whole configuration, after expansion (default 4 million; the man page's 65,024-instance `~SEQ` example has about 2.6 million).
    pub word_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            config_id: None,
            strict: false,
            includes: true,
            all_config: false,
            fs: Arc::new(RealFs),
            input_limit: 64 << 20,
            substitution_limit: 256 << 20,
            word_limit: 4_000_000,
        }
    }
}

/// The errors that stop parsing before it starts: the main file cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read: missing, not a regular file, too large...
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: FileError,
    },
}

/// A parsed and checked configuration.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The model. It holds everything that could be read, even when there are errors.
    pub config: Config,
    /// Errors and warnings in the order they were found (parse order, then checks).
    pub diagnostics: Vec<Diagnostic>,
    /// The files that were read, for resolving [`Origin`]s in the model.
    pub sources: SourceMap,
}

impl Parsed {
    /// True when any diagnostic is an error (the configuration is not valid).
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warnings only.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    /// The notes only: lvskit's advice where keepalived says nothing.
    pub fn notes(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Note)
    }

    /// The exit status `keepalived -t` would give for this configuration's messages.
    pub fn config_test_status(&self) -> ConfigTestStatus {
        ConfigTestStatus::of(&self.diagnostics)
    }
}

/// Reads, parses and checks a configuration file and what it includes (from
/// [`Options::fs`]: regular files only, at most [`Options::input_limit`] bytes).
pub fn parse_file(path: impl AsRef<Path>, options: &Options) -> Result<Parsed, Error> {
    let path = path.as_ref();
    let bytes = options
        .fs
        .read(path, options.input_limit)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    let text: Arc<str> = match String::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into(),
    };
    Ok(parse_text(path.to_path_buf(), text, options))
}

/// Parses and checks configuration text; `path` names it in diagnostics and is where relative
/// includes are looked up.
pub fn parse_str(path: impl AsRef<Path>, text: &str, options: &Options) -> Parsed {
    parse_text(path.as_ref().to_path_buf(), text.into(), options)
}

fn parse_text(path: PathBuf, text: Arc<str>, options: &Options) -> Parsed {
    let arena = lex::TextArena::new();
    let diags = diag::Diagnostics::new(options.strict);
    let mut lexer = lex::Lexer::new(&arena, path, text, options, diags);
    // Each top-level statement goes into the model as soon as it is read (keepalived also
    // acts on each line as it reads it), so only one of them is ever held as a tree.
    let mut config = Config::default();
    let mut parser = tree::TreeParser::new(&mut lexer);
    while let Some((start, end)) = parser.next_top() {
        let mut builder = build::Builder {
            sources: &parser.lexer.sources,
            diags: &mut parser.lexer.diags,
            nodes: &parser.done,
            words: &parser.words,
        };
        builder.top_level(&parser.done[start as usize..end as usize], &mut config);
    }
    drop(parser);
    let (sources, mut diags) = lexer.finish();
    check::check(&config, &sources, &mut diags);
    tracing::debug!(
        diagnostics = diags.list.len(),
        instances = config.vrrp_instances.len(),
        virtual_servers = config.virtual_servers.len(),
        "parsed keepalived configuration"
    );
    Parsed {
        config,
        diagnostics: diags.finish(),
        sources,
    }
}

/// Runs the cross-checks of the model again (for a model built or edited in code); positions
/// are resolved against `sources`, which may be empty.
pub fn check(config: &Config, sources: &SourceMap, strict: bool) -> Vec<Diagnostic> {
    let mut diags = diag::Diagnostics::new(strict);
    check::check(config, sources, &mut diags);
    diags.finish()
}

/// The fuzz entry point: parses arbitrary bytes as a configuration with the default limits,
/// renders the diagnostics, prints the model back and parses that again. Returns whether the
/// input is a valid configuration (no errors).
///
/// The input is one or more files separated by NUL bytes: the first is `/fuzz/main.conf`, the
/// next ones `/fuzz/1.conf`, `/fuzz/2.conf`, ..., in a [`MemoryFs`], so `include` lines (globs
/// and braces too) reach them and the real file system is never read.
///
/// # Panics
///
/// Panics when a configuration without errors does not survive `print` and a second parse
/// unchanged: that is a bug in the printer or the parser, which the fuzzer should report. Apart
/// from that it must never panic; the fuzz target `keepalived_conf` and the `fuzz_corpus` test
/// both call it.
pub fn fuzz_parse(data: &[u8]) -> bool {
    let mut parts = data.split(|&b| b == 0);
    let main = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let mut fs = MemoryFs::new();
    fs.insert("/fuzz/main.conf", main.as_bytes());
    for (i, part) in parts.enumerate() {
        fs.insert(format!("/fuzz/{}.conf", i + 1), part);
    }
    let options = Options {
        config_id: Some("main".into()),
        fs: Arc::new(fs),
        ..Options::default()
    };
    let parsed = parse_str("/fuzz/main.conf", &main, &options);
    // Rendering is the same code for every diagnostic: the first hundred are enough, and
    // inputs with thousands of them stay fast to fuzz.
    for d in parsed.diagnostics.iter().take(100) {
        let _ = d.render();
    }
    let valid = !parsed.has_errors();
    let printed = print(&parsed.config);
    let again = parse_str("/fuzz/printed.conf", &printed, &options);
    if valid {
        assert_eq!(
            again.config, parsed.config,
            "print then parse changed a valid configuration; printed:\n{printed}"
        );
    }
    valid
}
