//! Parses the files given on the command line and prints the diagnostics.
fn main() {
    for path in std::env::args().skip(1) {
        match keepalived_conf::parse_file(&path, &keepalived_conf::Options::default()) {
            Ok(parsed) => {
                for d in &parsed.diagnostics {
                    eprintln!("{}", d.render());
                }
                println!("{path}: {} diagnostics, errors={}", parsed.diagnostics.len(), parsed.has_errors());
            }
            Err(e) => println!("{e}"),
        }
    }
}
