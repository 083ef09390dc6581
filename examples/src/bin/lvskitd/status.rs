//! `lvskitd status [--json] [--socket PATH]`: the state of a running director.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Prints the state as tables, or the JSON document; exit status 1 when the director cannot be
/// reached.
pub(crate) fn run(socket: &Path, json: bool) -> ExitCode {
    match director::control::unix::fetch(socket, Duration::from_secs(10)) {
        Ok((state, text)) => {
            if json {
                print!("{text}");
            } else {
                print!("{}", director::control::table::render(&state));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lvskitd status: {e}");
            ExitCode::from(1)
        }
    }
}
