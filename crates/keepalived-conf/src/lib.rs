//! A keepalived.conf parser to a typed model, with file:line:col diagnostics.
//!
//! Operators move to lvskit with the keepalived.conf they already have; this crate reads it the
//! way keepalived 2.x does (keepalived.conf(5) is the reference for names and meanings):
//!
//! - `!` and `#` comments, whole-line and trailing; quoted strings with shell-like escapes;
//! - blocks with `{` on the keyword's line, on the next line, or several blocks on one line;
//! - `include` (and `includer`/`includem`/...) with globs relative to the including file;
//! - several `global_defs` blocks, merged;
//! - `$NAME=value` definitions, `$NAME` / `${NAME}` use, multiline definitions ending in `\`
//!   (the only place keepalived continues lines), `${_PWD}`, `${_INSTANCE}`, `${_HASH}`,
//!   `${_BANG}`, `${_RANDOM}`, and `~SEQ(...)` / `~LST(...)` lines;
//! - `@id` / `@^id` conditional lines against [`Options::config_id`].
//!
//! The result is a [`Config`] plus [`Diagnostic`]s. Unknown keywords are warnings (keepalived
//! goes on) unless [`Options::strict`] is set; values that do not parse, out-of-range numbers
//! and the cross-checks of [`check`] are errors.
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
mod keywords;
mod lex;
pub mod model;
mod print;
mod source;
pub mod system;
mod tree;

use std::path::{Path, PathBuf};

pub use diag::{ConfigTestStatus, Diagnostic, DiagnosticKind, Severity};
pub use model::Config;
pub use print::{print, quote};
pub use source::{Location, Origin, SourceFile, SourceMap, Spanned};

/// How to read a configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// The config id that `@id` lines are compared with (keepalived's `-i`, by default the first
    /// part of the host name). `None` matches no `@id` line, and every `@^id` line.
    pub config_id: Option<String>,
    /// Make what keepalived would skip with a warning an error: unknown keywords and ignored
    /// extra arguments. Other warnings (deprecated names, advice) stay warnings.
    pub strict: bool,
    /// Follow `include` lines. Off for the fuzz target, which must not read the file system.
    pub includes: bool,
    /// Most bytes parameter substitution may produce for the whole configuration (default
    /// 32 MiB; a definition that uses itself twice doubles at every pass, and this stops it).
    pub substitution_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            config_id: None,
            strict: false,
            includes: true,
            substitution_limit: 32 << 20,
        }
    }
}

/// The errors that stop parsing before it starts: the main file cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
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

/// Reads, parses and checks a configuration file and what it includes.
pub fn parse_file(path: impl AsRef<Path>, options: &Options) -> Result<Parsed, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(parse_str(path, &text, options))
}

/// Parses and checks configuration text; `path` names it in diagnostics and is where relative
/// includes are looked up.
pub fn parse_str(path: impl AsRef<Path>, text: &str, options: &Options) -> Parsed {
    let mut diags = diag::Diagnostics::new(options.strict);
    let (sources, includes) = lex::load(
        path.as_ref().to_path_buf(),
        text.to_string(),
        options,
        &mut diags,
    );
    let config = {
        let mut lexer = lex::Lexer::new(&sources, &includes, options, diags);
        let tree = tree::build(&mut lexer);
        diags = lexer.diags;
        let mut builder = build::Builder {
            sources: &sources,
            diags: &mut diags,
            nodes: &tree.nodes,
            words: &tree.words,
        };
        builder.config(tree.top())
    };
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

/// The fuzz entry point: parses arbitrary bytes as a configuration (includes off, so the file
/// system is never read), renders every diagnostic, prints the model back and parses that again.
/// Returns whether the input is a valid configuration (no errors).
///
/// # Panics
///
/// Panics when a configuration without errors does not survive `print` and a second parse
/// unchanged: that is a bug in the printer or the parser, which the fuzzer should report. Apart
/// from that it must never panic; the fuzz target `keepalived_conf` and the `fuzz_corpus` test
/// both call it.
pub fn fuzz_parse(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let options = Options {
        config_id: Some("main".into()),
        strict: false,
        includes: false,
        substitution_limit: 1 << 20,
    };
    let parsed = parse_str("fuzz.conf", &text, &options);
    // Rendering is the same code for every diagnostic: the first hundred are enough, and
    // inputs with thousands of them stay fast to fuzz.
    for d in parsed.diagnostics.iter().take(100) {
        let _ = d.render();
    }
    let valid = !parsed.has_errors();
    let printed = print(&parsed.config);
    let again = parse_str("printed.conf", &printed, &options);
    if valid {
        assert_eq!(
            again.config, parsed.config,
            "print then parse changed a valid configuration; printed:\n{printed}"
        );
    }
    valid
}
