//! `cargo xtask vm`: the initramfs with the IPVS modules, booted under qemu (TCG), running our
//! `vm_*` test binaries as root against a real kernel.
//!
//! ```text
//! cargo xtask vm [OPTIONS] [vm_BINARY ...] [TEST-FILTER ...] [-- LIBTEST-ARGS ...]
//!   --shell            boot to an interactive shell instead (Ctrl-A X quits)
//!   --script FILE      run the shell script FILE in the VM instead of the tests
//!   --release          build the tests with the release profile
//!   --no-build         leave our binaries out (with --shell or --script: ipvsadm only)
//!   --timeout SECS     kill the VM and fail after SECS (default 600)
//!   --test-threads N   passed to each test binary (default 1: the tests share one kernel)
//!   --memory MB        the VM's memory (default 1536)
//! ```
//!
//! Arguments that name a `vm_*` test target select those binaries (default: all of them); other
//! arguments are libtest name filters, given to every selected binary.
//!
//! Inside the VM (see `vm/image.rs`): busybox, the host kernel's IPVS modules loaded at boot (all
//! schedulers, `ip_vs_pe_sip`, `dummy`, `veth`, `bridge`, `ipip`), `ipvsadm` at `/usr/sbin/ipvsadm`, iproute2's `ip`, and every binary the
//! build produced at its host path, so `env!("CARGO_BIN_EXE_ipvsctl")` names the same file inside
//! the VM; the binaries are also on `PATH` in `/usr/local/bin`. `LVSKIT_VM=1` is set. A dummy
//! interface `lvs0` (192.0.2.1/24, multicast) exists for the sync daemon. The test binaries run one
//! after the other, and `ipvsadm -C` runs after each, but tests in one binary share the kernel's
//! table: they run with `--test-threads 1` unless told otherwise.

mod build;
mod cpio;
mod image;
mod qemu;

use std::time::Duration;

use crate::test::Outcome;
use crate::util::{ensure, is_root};

/// What a VM run does.
#[derive(Debug, Clone)]
struct Options {
    shell: bool,
    /// A shell script to run instead of the tests.
    script: Option<String>,
    release: bool,
    /// Build nothing; the image holds no binaries of ours.
    no_build: bool,
    timeout: Duration,
    test_threads: u32,
    memory_mb: u32,
    /// `vm_*` test targets to run; empty means all.
    binaries: Vec<String>,
    /// Arguments for every test binary (filters, libtest flags).
    test_args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            shell: false,
            script: None,
            release: false,
            no_build: false,
            timeout: Duration::from_secs(600),
            test_threads: 1,
            memory_mb: 1536,
            binaries: Vec::new(),
            test_args: Vec::new(),
        }
    }
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    let number = |flag: &str, value: Option<&String>| -> Result<u64, String> {
        value
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shell" => options.shell = true,
            "--release" => options.release = true,
            "--no-build" => options.no_build = true,
            "--script" => {
                let file = args.next().ok_or("--script needs a file")?;
                let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
                options.script = Some(text);
            }
            "--timeout" => options.timeout = Duration::from_secs(number(arg, args.next())?),
            "--test-threads" => options.test_threads = number(arg, args.next())? as u32,
            "--memory" => options.memory_mb = number(arg, args.next())? as u32,
            "--" => options.test_args.extend(args.by_ref().cloned()),
            other if other.starts_with("vm_") && !other.contains(':') => {
                options.binaries.push(other.to_string())
            }
            other => options.test_args.push(other.to_string()),
        }
    }
    Ok(options)
}

/// `cargo xtask vm [ARGS]`.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    if !is_root() {
        return Err("the VM needs root (the Debian kernel image is readable by root only)".into());
    }
    run_vm(&options).map(|_| ())
}

/// The "vm" suite of `cargo xtask test`.
pub(crate) fn suite() -> Outcome {
    if !is_root() {
        return Outcome::Skipped(
            "not root: the VM needs the root-only kernel image and apt-get for its tools".into(),
        );
    }
    if let Err(why) = ensure_tools() {
        return Outcome::Skipped(why);
    }
    let options = Options {
        // A hung VM fails the suite. vm_traffic runs the lab's sequence for DR, NAT and TUN
        // (about 2 minutes each under TCG); the whole `cargo xtask test` must stay under 30.
        timeout: Duration::from_secs(900),
        ..Options::default()
    };
    run_vm(&options).map(|_| ()).into()
}

/// `cargo xtask bench ipvs`: ipvsadm and ipvsctl side by side in one VM run (the ignored test
/// `vm_ipvsctl_bench`), then the kernel's floor under a full dump (`vm_dump_probe`); release
/// build. Extra arguments are passed to the VM run (`--timeout`).
pub(crate) fn bench_ipvs(args: &[String]) -> Result<(), String> {
    if !is_root() {
        return Err("the VM needs root (the Debian kernel image is readable by root only)".into());
    }
    ensure_tools()?;
    let mut options = parse(args)?;
    options.release = true;
    options.memory_mb = options.memory_mb.max(2048);
    if options.timeout == Options::default().timeout {
        options.timeout = Duration::from_secs(1200);
    }
    options.binaries = vec!["vm_ipvsctl_bench".into(), "vm_dump_probe".into()];
    options
        .test_args
        .extend(["--ignored", "--nocapture"].map(String::from));
    let report = run_vm(&options)?;
    println!("\n==> bench ipvs");
    for line in report.lines.iter().filter(|l| l.starts_with("bench:")) {
        println!("{line}");
    }
    Ok(())
}

/// `cargo xtask bench lb`: the load-balancer figures (the ignored test `vm_lvskitd_bench`):
/// start-up, adoption, reload and memory of `lvskitd -C` with 2,300 virtual servers / 37,000
/// real servers, and keepalived with the same file in the same VM run; release build, 3 GiB.
/// Extra arguments are passed to the VM run (`--timeout`); `LVSKIT_BENCH_RELOADS` (200),
/// `LVSKIT_BENCH_RELOAD_ROUNDS` (7) and `LVSKIT_BENCH_CHECK_SECONDS` (30) reach the bench
/// through the VM's run script.
pub(crate) fn bench_lb(args: &[String]) -> Result<(), String> {
    if !is_root() {
        return Err("the VM needs root (the Debian kernel image is readable by root only)".into());
    }
    ensure_tools()?;
    ensure(&[("keepalived", "keepalived")])?;
    let mut options = parse(args)?;
    options.release = true;
    options.memory_mb = options.memory_mb.max(3072);
    if options.timeout == Options::default().timeout {
        options.timeout = Duration::from_secs(3600);
    }
    options.binaries = vec!["vm_lvskitd_bench".into()];
    options
        .test_args
        .extend(["--ignored", "--nocapture"].map(String::from));
    let report = run_vm(&options)?;
    println!("\n==> bench lb");
    for line in report.lines.iter().filter(|l| l.starts_with("bench:")) {
        println!("{line}");
    }
    Ok(())
}

/// Installs what the VM needs (as root, with apt-get) or says what is missing.
fn ensure_tools() -> Result<(), String> {
    ensure(&[
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("/boot/vmlinuz-*", "linux-image-amd64"),
        ("busybox", "busybox-static"),
        ("ipvsadm", "ipvsadm"),
        ("modprobe", "kmod"),
        ("ldd", "libc-bin"),
    ])
}

/// Builds, boots, and turns the VM's report into a result.
fn run_vm(options: &Options) -> Result<qemu::Report, String> {
    let kernel = image::find_kernel()?;
    let built = if options.no_build {
        build::Built::default()
    } else {
        build::build(options.release)?
    };
    if built.tests.is_empty() && !options.shell && options.script.is_none() {
        return Err("the workspace has no `tests/vm_*.rs` test".into());
    }
    for wanted in &options.binaries {
        if !built.tests.iter().any(|t| &t.name == wanted) {
            let names: Vec<&str> = built.tests.iter().map(|t| t.name.as_str()).collect();
            return Err(format!(
                "no test target `{wanted}` (there are: {})",
                names.join(", ")
            ));
        }
    }
    let base = image::base_image(&kernel, &built, options.release)?;
    let script = run_script(&built, options);
    let initrd = image::with_run_script(&base, &script, options.release)?;
    if options.shell {
        qemu::shell(&kernel.image, &initrd, options.memory_mb)?;
        return Ok(qemu::Report {
            status: Some(0),
            lines: Vec::new(),
            timed_out: false,
        });
    }
    let report = qemu::boot(&kernel.image, &initrd, options.memory_mb, options.timeout)?;
    let failed: Vec<&str> = report
        .lines
        .iter()
        .filter_map(|l| l.strip_prefix(qemu::FAILED_MARK))
        .collect();
    match report.status {
        Some(0) if failed.is_empty() => Ok(report),
        Some(_) if !failed.is_empty() => Err(format!("in the VM: {}", failed.join("; "))),
        Some(status) => Err(format!("the VM reported status {status}")),
        None if report.timed_out => Err(format!(
            "the VM did not finish within {} s",
            options.timeout.as_secs()
        )),
        None => Err("the VM stopped without reporting a status (see the console above)".into()),
    }
}

/// Builds (debug or `release`), boots the image with `script` as `/lvskit/run.sh` and `extra`
/// qemu arguments, and returns the console; for `cargo xtask lab`.
pub(crate) fn boot_script(
    script: &str,
    release: bool,
    timeout: Duration,
    extra: &[String],
) -> Result<(qemu::Report, build::Built), String> {
    if !is_root() {
        return Err("the VM needs root (the Debian kernel image is readable by root only)".into());
    }
    ensure_tools()?;
    let kernel = image::find_kernel()?;
    let built = build::build(release)?;
    let script = script_with_binaries(script, &built);
    let base = image::base_image(&kernel, &built, release)?;
    let initrd = image::with_run_script(&base, &script, release)?;
    let report = qemu::boot_with(
        &kernel.image,
        &initrd,
        Options::default().memory_mb,
        timeout,
        extra,
    )?;
    Ok((report, built))
}

/// Replaces `@BIN:name@` in `script` with the path of our binary `name` in the image.
fn script_with_binaries(script: &str, built: &build::Built) -> String {
    let mut script = script.to_string();
    for bin in &built.bins {
        script = script.replace(
            &format!("@BIN:{}@", bin.name),
            &quote(&bin.path.to_string_lossy()),
        );
    }
    script
}

/// `/lvskit/run.sh`: one `lvskit_run` line per selected test binary (the function is in `/init`).
fn run_script(built: &build::Built, options: &Options) -> String {
    if options.shell {
        return "echo 'lvskit-vm: shell (exit powers off; the binaries are on PATH)'\n\
                setsid cttyhack sh\n"
            .to_string();
    }
    if let Some(text) = &options.script {
        return format!(
            "cat > /tmp/script.sh <<'LVSKIT_EOF'\n{text}\nLVSKIT_EOF\nlvskit_run script sh /tmp/script.sh\n"
        );
    }
    let mut script = String::new();
    // Bench knobs (`LVSKIT_BENCH_*`) of the host's environment reach the tests in the VM.
    let mut knobs: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("LVSKIT_BENCH_"))
        .collect();
    knobs.sort();
    for (k, v) in knobs {
        script.push_str(&format!("export {k}={}\n", quote(&v)));
    }
    for test in &built.tests {
        if !options.binaries.is_empty() && !options.binaries.contains(&test.name) {
            continue;
        }
        script.push_str("lvskit_run ");
        script.push_str(&quote(&test.name));
        script.push(' ');
        script.push_str(&quote(&test.path.to_string_lossy()));
        script.push_str(&format!(" --test-threads={}", options.test_threads));
        for arg in &options.test_args {
            script.push(' ');
            script.push_str(&quote(arg));
        }
        script.push('\n');
    }
    script
}

/// Single-quotes a word for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn arguments_split_into_binaries_filters_and_options() {
        let options = parse(&args(&[
            "--timeout",
            "30",
            "vm_ipvsctl",
            "restore",
            "--",
            "--exact",
            "vm_x",
        ]))
        .unwrap();
        assert_eq!(options.timeout, Duration::from_secs(30));
        assert_eq!(options.binaries, ["vm_ipvsctl"]);
        assert_eq!(options.test_args, ["restore", "--exact", "vm_x"]);
        assert!(parse(&args(&["--timeout"])).is_err());
    }

    #[test]
    fn run_script_quotes_and_selects() {
        let built = build::Built {
            tests: vec![
                build::Executable {
                    name: "vm_a".into(),
                    path: "/t/vm_a-1".into(),
                },
                build::Executable {
                    name: "vm_b".into(),
                    path: "/t/vm_b-1".into(),
                },
            ],
            bins: Vec::new(),
        };
        let options = Options {
            binaries: vec!["vm_b".into()],
            test_args: vec!["it's".into()],
            ..Options::default()
        };
        assert_eq!(
            run_script(&built, &options),
            "lvskit_run 'vm_b' '/t/vm_b-1' --test-threads=1 'it'\\''s'\n"
        );
    }
}
