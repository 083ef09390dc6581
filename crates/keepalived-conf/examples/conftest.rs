//! Parses and checks one configuration file as `lvskitd -t` does (every diagnostic rendered to
//! standard error, a summary last), with nothing else in the process: for measuring the parser
//! alone, e.g. `/usr/bin/time -v target/release/examples/conftest FILE` (BENCHMARKS.md).

use std::process::ExitCode;

use keepalived_conf::{Options, parse_file};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: conftest FILE");
        return ExitCode::from(2);
    };
    let parsed = match parse_file(&path, &Options::default()) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("conftest: {e}");
            return ExitCode::from(2);
        }
    };
    for d in &parsed.diagnostics {
        eprintln!("{}", d.render());
    }
    let errors = parsed.errors().count();
    eprintln!(
        "conftest: {errors} error(s), {} warning(s)",
        parsed.diagnostics.len() - errors
    );
    ExitCode::from(u8::from(errors > 0))
}
