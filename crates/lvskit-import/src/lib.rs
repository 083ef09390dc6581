//! ldirectord, heartbeat and piranha configurations to keepalived.conf.
//!
//! Many LVS clusters still run heartbeat + ldirectord (`ha.cf`, `haresources`, `authkeys`,
//! `ldirectord.cf`) or Red Hat's piranha/pulse (`lvs.cf`). This crate reads those files and writes
//! the keepalived.conf that `lvskitd` (and keepalived 2.x) runs the same cluster from:
//!
//! - [`ldirectord`]: `ldirectord.cf` to `virtual_server` blocks with their checkers;
//! - [`heartbeat`]: `ha.cf` + `haresources` (+ `authkeys`, + the `ldirectord.cf` that
//!   `haresources` starts) to a `vrrp_instance` holding the same VIPs on the same node;
//! - [`piranha`]: `lvs.cf` to both halves, the `vrrp_instance` and the virtual servers.
//!
//! The result is built through [`keepalived_conf::model`] and printed with
//! [`keepalived_conf::print`], then parsed back with `strict` on before it is returned: an
//! import that would not pass `lvskitd -t --strict` is an [`Error::Generated`], never output.
//! The same input always gives the same bytes.
//!
//! Every directive is either mapped or flagged: a setting with no keepalived equivalent is
//! translated to the nearest working form (or left out when there is none, as for a log file
//! name) and reported twice, as a [`Diagnostic`] of kind [`DiagnosticKind::NoEquivalent`] with
//! the source `file:line`, and as a `#` comment above the block it concerns in the output.
//! Errors in the input (unknown directives, bad addresses, a `real=` before any `virtual=`) are
//! `file:line:col` diagnostics like keepalived-conf's own, rendered with the line and a caret.
//!
//! Clusters of several directors (heartbeat, piranha) become one file for all of them: the lines
//! that differ between nodes (`state`, `priority`, `unicast_src_ip`, ...) carry keepalived's
//! `@ID` prefix, and each director reads its own with its config id (keepalived's and lvskitd's
//! `-i ID`, by default the host name up to the first dot). [`Imported::config_ids`] lists them.
//!
//! ```
//! use lvskit_import::{Input, Options};
//!
//! let text = "checkinterval=5\nvirtual=192.0.2.10:80\n\treal=198.51.100.1:80 gate\n\
//!             \treal=198.51.100.2:80 gate\n\tchecktype=connect\n\tscheduler=wlc\n";
//! let imported = lvskit_import::ldirectord(&Input::new("ldirectord.cf", text), &Options::default())?;
//! assert!(imported.config.contains("virtual_server 192.0.2.10 80 {"));
//! assert!(imported.config.contains("TCP_CHECK {"));
//! for warning in &imported.warnings {
//!     eprintln!("{}", warning.render());
//! }
//! # Ok::<(), lvskit_import::Error>(())
//! ```

mod heartbeat;
mod ldirectord;
mod output;
mod piranha;
mod source;
mod vrrp;

use std::path::{Path, PathBuf};

pub use keepalived_conf::{Diagnostic, DiagnosticKind, Location, Severity};

pub use heartbeat::{Heartbeat, ldirectord_resources};

/// One input file: where it came from (for diagnostics and comments) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The path as the user named it; diagnostics and output comments show it as it is.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
}

impl Input {
    /// An input from text already in memory.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// Reads a file (invalid UTF-8 is replaced, as keepalived-conf does).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::new(
            path,
            String::from_utf8_lossy(&bytes).into_owned(),
        ))
    }
}

/// How to write the output.
#[derive(Debug, Clone)]
pub struct Options {
    /// The program `vrrp_script`s and `MISC_CHECK`s run for checks keepalived has no checker for
    /// (heartbeat's `ping` nodes, ldirectord's `checktype=ping` stays a `PING_CHECK`): lvskit's
    /// `check` tool. Default `check`, found through `PATH`.
    pub check_program: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            check_program: "check".into(),
        }
    }
}

/// What an import produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The keepalived.conf text.
    pub config: String,
    /// What was translated approximately or left out, each with the source `file:line`.
    pub warnings: Vec<Diagnostic>,
    /// The config ids the output's `@ID` lines use (empty when there are none): each director
    /// runs `lvskitd -i ID` unless its short host name is already the id.
    pub config_ids: Vec<String>,
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The input has errors; nothing was written.
    #[error("{} error(s) in the input", .errors.len())]
    Invalid {
        /// The errors, each with its `file:line:col`.
        errors: Vec<Diagnostic>,
        /// The warnings found before the import stopped.
        warnings: Vec<Diagnostic>,
    },
    /// The keepalived.conf written does not pass keepalived-conf's strict check: a bug in this
    /// crate, reported rather than handed to a director.
    #[error("the generated keepalived.conf does not pass the strict check (a bug in lvskit-import): {}",
        .diagnostics.first().map(ToString::to_string).unwrap_or_default())]
    Generated {
        /// What keepalived-conf said.
        diagnostics: Vec<Diagnostic>,
        /// The text that failed.
        config: String,
    },
}

/// Translates an `ldirectord.cf` to keepalived.conf `virtual_server` blocks (and the
/// `global_defs` its `emailalert` settings need).
pub fn ldirectord(input: &Input, options: &Options) -> Result<Imported, Error> {
    let mut report = source::Report::default();
    let mut out = output::Output::new(&[input]);
    // The options concern heartbeat's and piranha's trackers; ldirectord has none.
    let _ = options;
    let parsed = ldirectord::import(input, &mut report, &mut out);
    out.finish(report, parsed.map(|()| Vec::new()))
}

/// Translates a heartbeat cluster (`ha.cf`, `haresources`, optional `authkeys`, and the
/// `ldirectord.cf` files `haresources` starts) to a `vrrp_instance` for every node, plus the
/// virtual servers of the ldirectord configurations.
pub fn heartbeat(inputs: &Heartbeat, options: &Options) -> Result<Imported, Error> {
    let mut report = source::Report::default();
    let mut files: Vec<&Input> = vec![&inputs.ha_cf, &inputs.haresources];
    files.extend(inputs.authkeys.iter());
    files.extend(inputs.ldirectord.iter());
    let mut out = output::Output::new(&files);
    let ids = heartbeat::import(inputs, options, &mut report, &mut out);
    out.finish(report, ids)
}

/// Translates a piranha `lvs.cf` to the `vrrp_instance` of its two routers (config ids
/// `primary` and `backup`) and its virtual servers.
pub fn piranha(input: &Input, options: &Options) -> Result<Imported, Error> {
    let mut report = source::Report::default();
    let mut out = output::Output::new(&[input]);
    let ids = piranha::import(input, options, &mut report, &mut out);
    out.finish(report, ids)
}
