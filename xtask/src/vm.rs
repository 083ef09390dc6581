//! `cargo xtask vm`: the initramfs with the IPVS modules, booted under qemu (TCG), running our
//! `vm_*` test binaries as root against a real kernel.

use crate::test::Outcome;

/// `cargo xtask vm [ARGS]`.
pub(crate) fn run(_args: &[String]) -> Result<(), String> {
    Err("the VM harness is not built yet".into())
}

/// The "vm" suite of `cargo xtask test`.
pub(crate) fn suite() -> Outcome {
    Outcome::Skipped("the VM harness is not built yet".into())
}

/// `cargo xtask bench ipvs`: ipvsadm and ipvsctl side by side in one VM run.
pub(crate) fn bench_ipvs(_args: &[String]) -> Result<(), String> {
    Err("`bench ipvs` is not built yet".into())
}
