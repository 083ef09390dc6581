//! `cargo xtask bench check`: the health-check scheduler at scale against loopback listeners.

/// `cargo xtask bench check [ARGS]`.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("`bench check` is not built yet".into())
}
