//! `lvskit-import`: an ldirectord, heartbeat or piranha configuration to keepalived.conf.
//!
//! ```text
//! lvskit-import ldirectord /etc/ha.d/ldirectord.cf > keepalived.conf
//! lvskit-import heartbeat /etc/ha.d/ha.cf /etc/ha.d/haresources /etc/ha.d/authkeys > keepalived.conf
//! lvskit-import piranha /etc/sysconfig/ha/lvs.cf > keepalived.conf
//! ```
//!
//! keepalived.conf goes to standard output; what has no exact keepalived equivalent is a warning
//! on standard error (and a comment in the output) with its source `file:line`. The ldirectord
//! configurations that `haresources` starts are read from the directory of `haresources`.
//! Exit status: 0 when imported (warnings or not), 1 when the input has errors, 2 when a file
//! cannot be read or the command line is wrong.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lvskit_import::{Diagnostic, Error, Heartbeat, Input, Options};

#[derive(Parser)]
#[command(name = "lvskit-import", version)]
/// Translate an ldirectord, heartbeat or piranha configuration to keepalived.conf.
struct Cli {
    /// The program vrrp_scripts run for heartbeat's ping nodes (lvskit's `check`).
    #[arg(long, default_value = "check", global = true)]
    check_program: String,
    #[command(subcommand)]
    format: Format,
}

#[derive(Subcommand)]
enum Format {
    /// ldirectord.cf to virtual servers.
    Ldirectord {
        /// The ldirectord configuration.
        file: PathBuf,
    },
    /// ha.cf + haresources (+ authkeys) to VRRP instances, and the ldirectord.cf they start.
    Heartbeat {
        /// ha.cf.
        ha_cf: PathBuf,
        /// haresources.
        haresources: PathBuf,
        /// authkeys.
        authkeys: Option<PathBuf>,
    },
    /// piranha's lvs.cf to a VRRP instance and virtual servers.
    Piranha {
        /// lvs.cf.
        lvs_cf: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let options = Options {
        check_program: cli.check_program,
    };
    let result = match &cli.format {
        Format::Ldirectord { file } => {
            Input::read(file).and_then(|i| lvskit_import::ldirectord(&i, &options))
        }
        Format::Heartbeat {
            ha_cf,
            haresources,
            authkeys,
        } => read_heartbeat(ha_cf, haresources, authkeys.as_deref())
            .and_then(|h| lvskit_import::heartbeat(&h, &options)),
        Format::Piranha { lvs_cf } => {
            Input::read(lvs_cf).and_then(|i| lvskit_import::piranha(&i, &options))
        }
    };
    match result {
        Ok(imported) => {
            show(&imported.warnings);
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(imported.config.as_bytes()).is_err() {
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
        Err(Error::Invalid { errors, warnings }) => {
            show(&warnings);
            show(&errors);
            eprintln!("lvskit-import: {} error(s); nothing written", errors.len());
            ExitCode::from(1)
        }
        Err(e @ Error::Read { .. }) => {
            eprintln!("lvskit-import: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("lvskit-import: {e}");
            if let Error::Generated { diagnostics, .. } = &e {
                show(diagnostics);
            }
            ExitCode::from(1)
        }
    }
}

fn read_heartbeat(
    ha_cf: &Path,
    haresources: &Path,
    authkeys: Option<&Path>,
) -> Result<Heartbeat, Error> {
    let haresources = Input::read(haresources)?;
    let dir = haresources
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut ldirectord = Vec::new();
    for name in lvskit_import::ldirectord_resources(&haresources) {
        let file = Path::new(&name).file_name().map(|f| dir.join(f));
        // A file that is not there is reported by the import, at the haresources line.
        if let Some(file) = file.filter(|f| f.exists()) {
            ldirectord.push(Input::read(file)?);
        }
    }
    Ok(Heartbeat {
        ha_cf: Input::read(ha_cf)?,
        haresources,
        authkeys: authkeys.map(Input::read).transpose()?,
        ldirectord,
    })
}

fn show(diagnostics: &[Diagnostic]) {
    let styled = std::io::stderr().is_terminal();
    for d in diagnostics {
        if styled {
            eprintln!("{}", d.render_styled());
        } else {
            eprintln!("{}", d.render());
        }
    }
}
