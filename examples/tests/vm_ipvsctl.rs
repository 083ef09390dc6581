//! `ipvsctl` against `ipvsadm` in the VM (`cargo xtask vm vm_ipvsctl`): both tools drive the same
//! kernel table, so each must list what the other wrote, byte for byte.

use std::process::Command;

/// Runs `ipvsadm` with `args`, panicking with its stderr when it fails.
fn ipvsadm(args: &[&str]) -> String {
    let output = Command::new("ipvsadm")
        .args(args)
        .output()
        .expect("ipvsadm runs (this test belongs in the VM: cargo xtask vm)");
    assert!(
        output.status.success(),
        "ipvsadm {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("ipvsadm prints UTF-8")
}

#[test]
fn ipvsadm_round_trips_a_service_in_the_kernel() {
    ipvsadm(&["-C"]);
    ipvsadm(&["-A", "-t", "192.0.2.10:80", "-s", "wrr"]);
    ipvsadm(&[
        "-a",
        "-t",
        "192.0.2.10:80",
        "-r",
        "198.51.100.1:8080",
        "-m",
        "-w",
        "3",
    ]);
    assert_eq!(
        ipvsadm(&["-Sn"]),
        "-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3\n"
    );
    ipvsadm(&["-C"]);
    assert_eq!(ipvsadm(&["-Sn"]), "");
}
