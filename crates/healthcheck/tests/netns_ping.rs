//! PING_CHECK as root: the echo must come back (raw ICMP when datagram ICMP is not allowed).
//! In the root suite, so it fails loudly when it cannot do its work.

use std::time::Duration;

use healthcheck::{Checker, ConnectOptions, PingCheck};

#[tokio::test]
async fn ping_loopback_as_root() {
    let options =
        ConnectOptions::new("127.0.0.1:0".parse().unwrap()).connect_timeout(Duration::from_secs(3));
    let outcome = PingCheck::new(options).check().await;
    assert!(
        outcome.healthy,
        "PING_CHECK of 127.0.0.1 failed: {}",
        outcome.reason
    );
    assert!(
        outcome.reason.contains("PING 127.0.0.1: echo reply in"),
        "{}",
        outcome.reason
    );

    let options =
        ConnectOptions::new("[::1]:0".parse().unwrap()).connect_timeout(Duration::from_secs(3));
    let outcome = PingCheck::new(options).check().await;
    assert!(
        outcome.healthy,
        "PING_CHECK of ::1 failed: {}",
        outcome.reason
    );
}
