//! Every error variant, produced by a real kernel refusal, inside the VM.

use std::net::SocketAddr;

use ipvs::{DaemonState, Destination, Error, Ipvs, Protocol, Service, ServiceKey};

fn fresh() -> Ipvs {
    let mut ipvs = Ipvs::new().expect("the VM kernel has IPVS loaded");
    ipvs.flush().expect("flush");
    ipvs
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn service_exists() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("192.0.2.80:80"));
    ipvs.new_service(&svc).unwrap();
    let err = ipvs.new_service(&svc).unwrap_err();
    assert!(matches!(err, Error::ServiceExists(_)), "{err:?}");
    assert_eq!(err.errno(), Some(libc::EEXIST));
}

#[test]
fn service_not_found() {
    let mut ipvs = fresh();
    let key = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: sa("192.0.2.81:53"),
    };
    for err in [
        ipvs.del_service(&key).unwrap_err(),
        ipvs.set_service(&Service::new(key)).unwrap_err(),
        ipvs.zero(Some(&key)).unwrap_err(),
        ipvs.service(&key).unwrap_err(),
        ipvs.new_destination(&key, &Destination::new(sa("198.51.100.1:53")))
            .unwrap_err(),
    ] {
        assert!(matches!(err, Error::ServiceNotFound(_)), "{err:?}");
        assert_eq!(err.errno(), Some(libc::ESRCH));
    }
}

#[test]
fn destination_exists_and_not_found() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("192.0.2.82:80"));
    let d = Destination::new(sa("198.51.100.82:80"));
    ipvs.new_service(&svc).unwrap();
    ipvs.new_destination(&svc.key, &d).unwrap();
    let err = ipvs.new_destination(&svc.key, &d).unwrap_err();
    assert!(matches!(err, Error::DestinationExists(_)), "{err:?}");
    assert_eq!(err.errno(), Some(libc::EEXIST));

    let other = Destination::new(sa("198.51.100.83:80"));
    for err in [
        ipvs.set_destination(&svc.key, &other).unwrap_err(),
        ipvs.del_destination(&svc.key, other.addr).unwrap_err(),
    ] {
        assert!(matches!(err, Error::DestinationNotFound(_)), "{err:?}");
        assert_eq!(err.errno(), Some(libc::ENOENT));
    }
}

#[test]
fn scheduler_not_found() {
    let mut ipvs = fresh();
    let err = ipvs
        .new_service(&Service::tcp(sa("192.0.2.84:80")).scheduler("nosuch"))
        .unwrap_err();
    assert!(matches!(err, Error::SchedulerNotFound(_)), "{err:?}");
    assert_eq!(err.errno(), Some(libc::ENOENT));
    // The same for a missing persistence engine.
    let err = ipvs
        .new_service(
            &Service::udp(sa("192.0.2.84:53"))
                .persistent(10)
                .pe_name("nosuch"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::SchedulerNotFound(_)), "{err:?}");
    // And when an edit names a missing scheduler.
    let svc = Service::tcp(sa("192.0.2.85:80"));
    ipvs.new_service(&svc).unwrap();
    let err = ipvs
        .set_service(&svc.clone().scheduler("nosuch"))
        .unwrap_err();
    assert!(matches!(err, Error::SchedulerNotFound(_)), "{err:?}");
}

#[test]
fn permission_denied_without_cap_net_admin() {
    // Credentials are per thread in the kernel: drop them in this thread only, with the raw
    // system call (libc's setresuid would change every thread of the process).
    let outcome = std::thread::spawn(|| {
        // SAFETY: a plain system call with integer arguments.
        let rc = unsafe { libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534) };
        assert_eq!(rc, 0, "setresuid: {}", std::io::Error::last_os_error());
        let mut ipvs = Ipvs::new().expect("resolving a family needs no privilege");
        ipvs.new_service(&Service::tcp(sa("192.0.2.86:80")))
            .unwrap_err()
    })
    .join()
    .unwrap();
    assert!(matches!(outcome, Error::PermissionDenied(_)), "{outcome:?}");
    assert_eq!(outcome.errno(), Some(libc::EPERM));
    assert!(fresh().services().unwrap().is_empty(), "nothing was added");
}

#[test]
fn module_not_loaded_when_the_family_is_missing() {
    // The kernel's nlctrl refuses a family it does not have, exactly as for IPVS without ip_vs.
    let err = Ipvs::resolve_family("IPVS_NOT_HERE").unwrap_err();
    assert!(matches!(err, Error::ModuleNotLoaded { .. }), "{err:?}");
    assert!(err.to_string().contains("IPVS_NOT_HERE"), "{err}");
    // And the real family resolves.
    assert_eq!(Ipvs::resolve_family("IPVS").unwrap(), fresh().family_id());
}

#[test]
fn other_refusals_keep_their_errno() {
    let mut ipvs = fresh();
    let svc = Service::tcp(sa("192.0.2.87:80"));
    ipvs.new_service(&svc).unwrap();
    // A lower threshold above the upper one is out of range.
    let err = ipvs
        .new_destination(
            &svc.key,
            &Destination::new(sa("198.51.100.87:80")).thresholds(10, 20),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Kernel(_)), "{err:?}");
    assert_eq!(err.errno(), Some(libc::ERANGE));
    // A negative weight is invalid.
    let err = ipvs
        .new_destination(
            &svc.key,
            &Destination::new(sa("198.51.100.88:80")).weight(-1),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Kernel(_)), "{err:?}");
    assert_eq!(err.errno(), Some(libc::ERANGE));
    // Stopping a daemon that is not running.
    let err = ipvs.stop_daemon(DaemonState::Master).unwrap_err();
    assert!(matches!(err, Error::Kernel(_)), "{err:?}");
    assert_eq!(err.errno(), Some(libc::ESRCH));
}
