//! Small pieces shared by the command-line tools in `src/bin/`.

pub mod lvs_lab;
pub mod vrrp_lab;

/// Installs a `tracing` subscriber that writes to standard error, filtered by `RUST_LOG`
/// (default `warn`). Binaries call this once; libraries never install one.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
