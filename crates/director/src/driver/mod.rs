//! tokio drivers (see the submodules).
