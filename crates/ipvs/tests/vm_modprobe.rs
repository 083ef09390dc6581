//! Inside the VM: with the ip_vs modules unloaded, opening a client fails with
//! `ModuleNotLoaded` (the real missing family), and `Options::load_module` brings IPVS back with
//! `modprobe ip_vs`. Every module this test unloads is loaded again, even when it fails, so the
//! test binaries that run after it find the kernel as they expect.

use std::ffi::CString;
use std::process::Command;

use ipvs::{DaemonState, Error, Ipvs, Options, Service};

/// The IPVS modules loaded now, from `/proc/modules`.
fn ipvs_modules() -> Vec<String> {
    std::fs::read_to_string("/proc/modules")
        .expect("/proc/modules")
        .lines()
        .filter_map(|line| line.split(' ').next())
        .filter(|name| name.starts_with("ip_vs"))
        .map(str::to_owned)
        .collect()
}

fn unload(name: &str) -> std::io::Result<()> {
    let name = CString::new(name).unwrap();
    // SAFETY: a NUL-terminated module name and flags.
    let rc = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Loads the modules back when dropped, on success and on panic alike.
struct Reload(Vec<String>);

impl Drop for Reload {
    fn drop(&mut self) {
        for module in &self.0 {
            match Command::new("modprobe").arg(module).status() {
                Ok(status) if status.success() => {}
                other => eprintln!("reloading {module}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_missing_ipvs_is_reported_and_loaded_on_request() {
    let mut ipvs = Ipvs::new().expect("the VM starts with IPVS loaded");
    ipvs.flush().unwrap();
    for state in [DaemonState::Master, DaemonState::Backup] {
        let _ = ipvs.stop_daemon(state);
    }
    drop(ipvs);

    let loaded = ipvs_modules();
    assert!(loaded.iter().any(|m| m == "ip_vs"), "{loaded:?}");
    let _reload = Reload(loaded.clone());
    // Schedulers and engines first, then ip_vs itself.
    for module in loaded.iter().filter(|m| *m != "ip_vs") {
        unload(module).unwrap_or_else(|e| panic!("rmmod {module}: {e}"));
    }
    unload("ip_vs").expect("rmmod ip_vs");
    assert!(ipvs_modules().is_empty());

    let err = Ipvs::new().unwrap_err();
    assert!(matches!(err, Error::ModuleNotLoaded { .. }), "{err:?}");
    assert!(err.to_string().contains("IPVS"), "{err}");

    let mut ipvs = Ipvs::with_options(Options {
        load_module: true,
        ..Options::default()
    })
    .expect("modprobe ip_vs brings the family back");
    assert!(ipvs_modules().iter().any(|m| m == "ip_vs"));
    // The kernel loads a scheduler module on demand when a service names it.
    ipvs.new_service(&Service::tcp("192.0.2.90:80".parse().unwrap()).scheduler("rr"))
        .unwrap();
    assert_eq!(ipvs.services().unwrap().len(), 1);
    ipvs.flush().unwrap();
}
