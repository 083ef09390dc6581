//! `lvskitd -t`: parse and check the configuration, map it onto this host as the daemon would,
//! print the diagnostics, exit 0 or not.

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
    // The daemon's own mapping: the test says yes exactly when the daemon could run the file.
    let mapped = errors == 0 && {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(map_on_host(&parsed.config)).is_ok(),
            Err(e) => {
                let _ = writeln!(stderr, "lvskitd: cannot start the runtime: {e}");
                false
            }
        }
    };
    if errors > 0 || !mapped {
        let _ = writeln!(
            stderr,
            "lvskitd: {}: configuration is NOT valid: {errors} error(s), {warnings} warning(s){}",
            path.display(),
            if errors == 0 {
                ", cannot run on this host"
            } else {
                ""
            }
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

/// Maps the configuration onto this host's interfaces (the director's [`director::setup::map`]),
/// printing every reason it cannot run; `Err` holds the exit status.
pub(crate) async fn map_on_host(
    config: &keepalived_conf::Config,
) -> Result<director::setup::Setup, ExitCode> {
    let interfaces = match vip::Client::new() {
        Ok(client) => director::driver::host_interfaces(&client).await,
        Err(e) => Err(e),
    };
    let interfaces = match interfaces {
        Ok(interfaces) => interfaces,
        Err(e) => {
            eprintln!("lvskitd: cannot read this host's interfaces: {e}");
            return Err(ExitCode::from(2));
        }
    };
    director::setup::map(config, &interfaces).map_err(|errors| {
        for e in errors {
            eprintln!("lvskitd: {e}");
        }
        ExitCode::from(1)
    })
}
