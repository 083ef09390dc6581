//! `lvskitd -t`: parse and check the configuration, print the diagnostics, exit 0 or not.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use keepalived_conf::{Options, parse_file};

/// Runs the configuration test; `dump` also prints the model as JSON on standard output.
pub(crate) fn run(path: &Path, options: &Options, dump: bool) -> ExitCode {
    let parsed = match parse_file(path, options) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("lvskitd: {e}");
            return ExitCode::from(2);
        }
    };
    let color = std::io::stderr().is_terminal();
    let mut stderr = std::io::stderr().lock();
    for d in &parsed.diagnostics {
        let text = if color { d.render_styled() } else { d.render() };
        let _ = writeln!(stderr, "{text}");
    }
    let errors = parsed.errors().count();
    let warnings = parsed.warnings().count();
    if dump {
        match serde_json::to_string_pretty(&parsed.config) {
            Ok(json) => println!("{json}"),
            Err(e) => {
                let _ = writeln!(stderr, "lvskitd: cannot serialise the configuration: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if errors > 0 {
        let _ = writeln!(
            stderr,
            "lvskitd: {}: configuration is NOT valid: {errors} error(s), {warnings} warning(s)",
            path.display()
        );
        ExitCode::from(1)
    } else {
        let _ = writeln!(
            stderr,
            "lvskitd: {}: configuration is valid ({warnings} warning(s))",
            path.display()
        );
        ExitCode::SUCCESS
    }
}
