//! The director's core without root: configurations from keepalived.conf text, a virtual clock,
//! adverts built with the codec, and the outputs a driver would carry out.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use director::codec::{self, WireOptions};
use director::setup::{self, HostInterface};
use director::{Director, DropReason, Input, Output};
use vrrp_fsm::{AdvertToSend, InterfaceId, State, Version};

const ETH0: u32 = 2;
const ETH1: u32 = 3;

fn host() -> Vec<HostInterface> {
    vec![
        HostInterface {
            index: ETH0,
            name: "eth0".into(),
            up: true,
            ipv4: Some("192.0.2.1".parse().unwrap()),
            ipv6_link_local: Some("fe80::1".parse().unwrap()),
            macvlan: None,
        },
        HostInterface {
            index: ETH1,
            name: "eth1".into(),
            up: true,
            ipv4: Some("198.51.100.1".parse().unwrap()),
            ipv6_link_local: None,
            macvlan: None,
        },
    ]
}

fn map(conf: &str) -> Result<setup::Setup, Vec<setup::Error>> {
    let parsed = keepalived_conf::parse_str("test.conf", conf, &Default::default());
    assert!(
        !parsed.has_errors(),
        "{:?}",
        parsed.errors().map(|d| d.render()).collect::<Vec<_>>()
    );
    setup::map(&parsed.config, &host())
}

/// The mapping alone, on a model the parser flagged (the mapping must not rely on the parser's
/// checks).
fn map_unchecked(conf: &str) -> Result<setup::Setup, Vec<setup::Error>> {
    let parsed = keepalived_conf::parse_str("test.conf", conf, &Default::default());
    setup::map(&parsed.config, &host())
}

/// A director on a virtual clock, with every output it produced.
struct Rig {
    d: Director,
    t0: Instant,
    now: Instant,
    out: Vec<(Duration, Output)>,
    deadline: Option<Instant>,
}

impl Rig {
    fn new(conf: &str) -> Self {
        let setup = map(conf).unwrap_or_else(|e| panic!("{e:?}"));
        let d = Director::new(setup).unwrap();
        let t0 = Instant::now();
        let mut rig = Self {
            d,
            t0,
            now: t0,
            out: Vec::new(),
            deadline: None,
        };
        for ifindex in [ETH0, ETH1] {
            rig.input(Input::Link {
                now: t0,
                ifindex,
                up: true,
            });
        }
        rig.input(Input::Start { now: t0 });
        rig
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn input(&mut self, input: Input<'_>) {
        self.d.handle_input(input);
        self.drain();
    }

    fn drain(&mut self) {
        for _ in 0..10_000 {
            match self.d.poll_output() {
                Output::Timeout(deadline) => {
                    self.deadline = deadline;
                    return;
                }
                Output::Stopped => {
                    self.out.push((self.now - self.t0, Output::Stopped));
                    self.deadline = None;
                    return;
                }
                other => self.out.push((self.now - self.t0, other)),
            }
        }
        panic!("no Timeout after 10,000 outputs: livelock");
    }

    /// Runs every deadline up to `ms` after start (answering scripts with `script_ok`).
    fn run_until(&mut self, ms: u64) {
        let end = self.at(ms);
        for _ in 0..100_000 {
            match self.deadline {
                Some(d) if d <= end => {
                    self.now = d;
                    self.input(Input::Timeout(d));
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
        panic!("too many deadlines before {ms} ms");
    }

    /// Builds an advert from a peer with the codec and feeds it as a raw IPv4 socket would.
    fn advert_v4(&mut self, ms: u64, src: &str, advert: AdvertToSend, wire: WireOptions) {
        self.run_until(ms);
        let mut buf = [0u8; codec::MAX_PACKET_LEN];
        let advert = AdvertToSend {
            src: src.parse().unwrap(),
            ..advert
        };
        let len = codec::emit(&advert, "224.0.0.18".parse().unwrap(), &wire, &mut buf).unwrap();
        let now = self.now;
        self.input(Input::Ipv4 {
            now,
            ifindex: ETH0,
            datagram: &buf[..len],
        });
    }

    fn take(&mut self) -> Vec<(Duration, Output)> {
        std::mem::take(&mut self.out)
    }
}

fn peer(version: Version, vrid: u8, priority: u8, interval_cs: u16, vips: &[&str]) -> AdvertToSend {
    AdvertToSend {
        version,
        vrid,
        priority,
        max_advert_interval_cs: interval_cs,
        addresses: vips
            .iter()
            .map(|a| a.parse().unwrap())
            .collect::<Vec<IpAddr>>()
            .into(),
        src: "192.0.2.2".parse().unwrap(),
        interface: InterfaceId(ETH0),
    }
}

/// A compact description of an output, for assertions a reader can follow.
fn show(o: &Output) -> String {
    match o {
        Output::Send(t) => format!(
            "send prio {} to {:?}",
            t.advert.priority,
            t.destinations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        ),
        Output::AddVips(c) => format!(
            "add {:?}",
            c.vips
                .iter()
                .map(|v| v.addr.to_string())
                .collect::<Vec<_>>()
        ),
        Output::RemoveVips(c) => format!(
            "remove {:?}",
            c.vips
                .iter()
                .map(|v| v.addr.to_string())
                .collect::<Vec<_>>()
        ),
        Output::Announce { ifindex, addr } => format!("announce {addr} on {ifindex}"),
        Output::RunScript { script, .. } => format!("run script {script}"),
        Output::Notify { argv, .. } => format!("notify {}", argv.join(" ")),
        Output::StateChange(t) => format!("{} {:?}->{:?}: {}", t.instance, t.from, t.to, t.reason),
        Output::Timeout(_) => "timeout".into(),
        Output::Stopped => "stopped".into(),
        Output::Reloaded(Ok(r)) => format!(
            "reloaded unchanged {:?} changed {:?} added {:?} removed {:?}",
            r.unchanged, r.changed, r.added, r.removed
        ),
        Output::Reloaded(Err(e)) => format!("reload refused: {e}"),
    }
}

fn shows(out: &[(Duration, Output)]) -> Vec<String> {
    out.iter().map(|(_, o)| show(o)).collect()
}

const BASIC: &str = "
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    notify_master /bin/to-master
    notify_backup \"/bin/to-backup 'two words'\"
    notify /bin/notify
    notify_stop /bin/stopped
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";

#[test]
fn startup_is_backup_with_notify_then_master_at_the_down_interval_with_every_action() {
    let mut r = Rig::new(BASIC);
    assert_eq!(
        shows(&r.take()),
        [
            "VI_1 Initialize->Backup: startup",
            "notify /bin/to-backup two words",
            "notify /bin/notify INSTANCE VI_1 BACKUP 100",
        ]
    );
    // v2, priority 100: 3 s + 156/256 s.
    let down = Duration::from_nanos(3_609_375_000);
    assert_eq!(r.deadline, Some(r.t0 + down));
    r.run_until(3_700);
    let out = r.take();
    assert!(out.iter().all(|(t, _)| *t == down), "{out:?}");
    assert_eq!(
        shows(&out),
        [
            "VI_1 Backup->Master: master down timer expired",
            "notify /bin/to-master",
            "notify /bin/notify INSTANCE VI_1 MASTER 100",
            "add [\"192.0.2.100\"]",
            "send prio 100 to [\"224.0.0.18\"]",
            "announce 192.0.2.100 on 2",
            "announce 192.0.2.100 on 2",
            "announce 192.0.2.100 on 2",
            "announce 192.0.2.100 on 2",
            "announce 192.0.2.100 on 2",
        ]
    );
    assert_eq!(r.d.state(0), State::Master);
    // Adverts every second, the second GARP set 5 s after becoming MASTER.
    r.run_until(3_610 + 5_000);
    let out = shows(&r.take());
    assert_eq!(out.iter().filter(|s| s.starts_with("send")).count(), 5);
    assert_eq!(out.iter().filter(|s| s.starts_with("announce")).count(), 5);
}

#[test]
fn the_advert_sent_is_the_wire_format_of_the_instance() {
    let mut r = Rig::new(BASIC);
    r.run_until(3_700);
    let Some(Output::Send(t)) = r
        .take()
        .into_iter()
        .map(|(_, o)| o)
        .find(|o| matches!(o, Output::Send(_)))
    else {
        panic!("no advert");
    };
    let mut buf = [0u8; codec::MAX_PACKET_LEN];
    let len = codec::emit(&t.advert, t.destinations[0], &t.wire, &mut buf).unwrap();
    let rx = vrrp_packet::recv::parse_ipv4(&buf[..len], vrrp_packet::ChecksumModes::RFC).unwrap();
    assert_eq!(rx.src, "192.0.2.1".parse::<IpAddr>().unwrap());
    assert_eq!(rx.ttl, 255);
    assert_eq!(rx.vrrp.vrid, 51);
    assert_eq!(rx.vrrp.priority, 100);
    assert_eq!(
        rx.vrrp.addresses.iter().collect::<Vec<_>>(),
        ["192.0.2.100".parse::<IpAddr>().unwrap()]
    );
}

#[test]
fn a_higher_priority_takes_mastership_with_its_reason_and_stops_the_garps() {
    let mut r = Rig::new(BASIC);
    r.run_until(3_700);
    r.take();
    r.advert_v4(
        4_000,
        "192.0.2.2",
        peer(Version::V2, 51, 150, 100, &["192.0.2.100"]),
        WireOptions::default(),
    );
    assert_eq!(
        shows(&r.take()),
        [
            "VI_1 Master->Backup: higher priority 150 from 192.0.2.2",
            "notify /bin/to-backup two words",
            "notify /bin/notify INSTANCE VI_1 BACKUP 100",
            "remove [\"192.0.2.100\"]",
        ]
    );
    // No second GARP set, no advert while the new master lives.
    for ms in (5_000..12_000).step_by(1000) {
        r.advert_v4(
            ms,
            "192.0.2.2",
            peer(Version::V2, 51, 150, 100, &["192.0.2.100"]),
            WireOptions::default(),
        );
    }
    assert_eq!(shows(&r.take()), Vec::<String>::new());
    assert_eq!(r.d.state(0), State::Backup);
    assert_eq!(r.d.counters().accepted, 8);
}

#[test]
fn a_lower_priority_gets_an_advert_and_the_lower_priority_garps() {
    let mut r = Rig::new(BASIC);
    r.run_until(9_000);
    r.take();
    r.advert_v4(
        9_100,
        "192.0.2.2",
        peer(Version::V2, 51, 50, 100, &["192.0.2.100"]),
        WireOptions::default(),
    );
    let out = shows(&r.take());
    assert_eq!(out[0], "send prio 100 to [\"224.0.0.18\"]");
    assert_eq!(out[1..].len(), 5, "{out:?}");
    assert!(out[1..].iter().all(|s| s == "announce 192.0.2.100 on 2"));
    // And again garp_lower_prio_delay (= garp_master_delay, 5 s) later.
    r.run_until(14_200);
    let out = shows(&r.take());
    assert_eq!(out.iter().filter(|s| s.starts_with("announce")).count(), 5);
    assert_eq!(r.d.state(0), State::Master);
}

#[test]
fn every_bad_advert_is_dropped_and_counted_by_reason() {
    let conf = "
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.0.2.100
    }
}
";
    let mut r = Rig::new(conf);
    r.take();
    let pass = |p: &str| WireOptions {
        auth: Some(codec::auth_data(p)),
        ..WireOptions::default()
    };
    let good = peer(Version::V2, 51, 200, 100, &["192.0.2.100"]);
    // Wrong password, no authentication, wrong interval, wrong address list, wrong version,
    // unknown VRID: each dropped, none preempts the (BACKUP) instance's timer.
    r.advert_v4(100, "192.0.2.2", good.clone(), pass("wrong"));
    r.advert_v4(200, "192.0.2.2", good.clone(), WireOptions::default());
    let slow = peer(Version::V2, 51, 200, 200, &["192.0.2.100"]);
    r.advert_v4(300, "192.0.2.2", slow, pass("secret"));
    let other_vips = peer(Version::V2, 51, 200, 100, &["192.0.2.101"]);
    r.advert_v4(400, "192.0.2.2", other_vips, pass("secret"));
    let v3 = peer(Version::V3, 51, 200, 100, &["192.0.2.100"]);
    r.advert_v4(500, "192.0.2.2", v3, WireOptions::default());
    let vrid = peer(Version::V2, 52, 200, 100, &["192.0.2.100"]);
    r.advert_v4(600, "192.0.2.2", vrid, pass("secret"));
    r.advert_v4(700, "192.0.2.1", good.clone(), pass("secret"));
    // Garbage and a bad TTL.
    r.input(Input::Ipv4 {
        now: r.at(800),
        ifindex: ETH0,
        datagram: &[0x45, 0, 0],
    });
    let mut buf = [0u8; codec::MAX_PACKET_LEN];
    let a = AdvertToSend {
        src: "192.0.2.2".parse().unwrap(),
        ..good.clone()
    };
    let len = codec::emit(&a, "224.0.0.18".parse().unwrap(), &pass("secret"), &mut buf).unwrap();
    let mut ttl64 = buf[..len].to_vec();
    let mut ip = vrrp_packet::ipv4::Packet::new_unchecked(&mut ttl64[..]);
    ip.set_ttl(64);
    ip.fill_checksum();
    r.input(Input::Ipv4 {
        now: r.at(900),
        ifindex: ETH0,
        datagram: &ttl64,
    });
    let mut bad_sum = buf[..len].to_vec();
    bad_sum[len - 1] ^= 0xff;
    r.input(Input::Ipv4 {
        now: r.at(950),
        ifindex: ETH0,
        datagram: &bad_sum,
    });
    let c = r.d.counters();
    let counts: Vec<(&str, u64)> = DropReason::ALL
        .iter()
        .map(|&reason| (reason.name(), c.dropped(reason)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(
        counts,
        [
            ("bad_ttl", 1),
            ("bad_checksum", 1),
            ("malformed", 1),
            ("unknown_vrid", 1),
            ("version_mismatch", 1),
            ("auth_mismatch", 2),
            ("interval_mismatch", 1),
            ("address_list_mismatch", 1),
            ("own_advert", 1),
        ]
    );
    assert_eq!(c.accepted, 0);
    assert_eq!(c.received, 10);
    // Not one of them held the instance back: it takes over at the usual time.
    r.run_until(3_700);
    assert_eq!(r.d.state(0), State::Master);
    // The right password is followed.
    r.advert_v4(4_000, "192.0.2.2", good, pass("secret"));
    assert_eq!(r.d.state(0), State::Backup);
}

const SCRIPTED: &str = "
vrrp_script chk_up {
    script \"/bin/check up\"
    interval 2
    weight -30
    fall 2
    rise 2
}
vrrp_script chk_fault {
    script /bin/fault-check
    interval 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 120
    track_script {
        chk_up
    }
    virtual_ipaddress {
        192.0.2.100
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    track_script {
        chk_fault
    }
    track_interface {
        eth1
    }
    notify /bin/notify
    virtual_ipaddress {
        192.0.2.101
    }
}
";

fn scripts_run(out: &[(Duration, Output)]) -> Vec<(u64, usize)> {
    out.iter()
        .filter_map(|(t, o)| match o {
            Output::RunScript { script, .. } => Some((t.as_millis() as u64, *script)),
            _ => None,
        })
        .collect()
}

#[test]
fn scripts_run_at_their_interval_and_move_priority_after_fall_and_rise() {
    let mut r = Rig::new(SCRIPTED);
    let out = r.take();
    let names: Vec<&str> =
        r.d.setup()
            .scripts
            .iter()
            .map(|s| s.name.as_str())
            .collect();
    assert_eq!(names, ["chk_up", "chk_fault"]);
    let Some(Output::RunScript {
        command, timeout, ..
    }) = out
        .iter()
        .map(|(_, o)| o)
        .find(|o| matches!(o, Output::RunScript { script: 0, .. }))
    else {
        panic!("chk_up not run at start: {out:?}");
    };
    assert_eq!(&command.argv[..], ["/bin/check", "up"]);
    assert_eq!(
        *timeout,
        Duration::from_secs(2),
        "timeout defaults to the interval"
    );
    assert_eq!(r.d.priority(0), 120);
    // A run still going when the next is due is not doubled: chk_fault answers, chk_up not.
    r.input(Input::ScriptResult {
        now: r.at(500),
        script: 1,
        ok: true,
    });
    r.run_until(2_500);
    assert_eq!(scripts_run(&r.take()), [(1000, 1)]);
    r.input(Input::ScriptResult {
        now: r.at(2_500),
        script: 0,
        ok: false,
    });
    assert_eq!(r.d.priority(0), 120, "one failure of fall 2");
    r.input(Input::ScriptResult {
        now: r.at(2_600),
        script: 0,
        ok: false,
    });
    assert_eq!(r.d.priority(0), 90, "weight -30 after fall 2");
    r.input(Input::ScriptResult {
        now: r.at(2_700),
        script: 0,
        ok: true,
    });
    assert_eq!(r.d.priority(0), 90);
    r.input(Input::ScriptResult {
        now: r.at(2_800),
        script: 0,
        ok: true,
    });
    assert_eq!(r.d.priority(0), 120, "rise 2");
}

#[test]
fn a_weight_zero_script_and_a_tracked_interface_put_the_instance_in_fault() {
    let mut r = Rig::new(SCRIPTED);
    r.run_until(3_700);
    assert_eq!(r.d.state(1), State::Master);
    r.take();
    r.input(Input::ScriptResult {
        now: r.at(3_800),
        script: 1,
        ok: false,
    });
    assert_eq!(
        shows(&r.take()),
        [
            "VI_2 Master->Fault: vrrp_script chk_fault failed",
            "notify /bin/notify INSTANCE VI_2 FAULT 100",
            "send prio 0 to [\"224.0.0.18\"]",
            "remove [\"192.0.2.101\"]",
        ]
    );
    r.input(Input::ScriptResult {
        now: r.at(3_900),
        script: 1,
        ok: true,
    });
    assert_eq!(r.d.state(1), State::Backup);
    r.take();
    r.input(Input::Link {
        now: r.at(4_000),
        ifindex: ETH1,
        up: false,
    });
    assert_eq!(
        shows(&r.take()),
        [
            "VI_2 Backup->Fault: tracked interface eth1 down",
            "notify /bin/notify INSTANCE VI_2 FAULT 100",
        ]
    );
    assert_eq!(r.d.state(0), State::Master, "VI_1 does not track eth1");
    // The instance's own interface.
    r.input(Input::Link {
        now: r.at(4_100),
        ifindex: ETH0,
        up: false,
    });
    let out = shows(&r.take());
    assert_eq!(out[0], "VI_1 Master->Fault: interface eth0 down");
}

#[test]
fn init_fail_and_reverse_start_in_the_right_state() {
    let conf = "
vrrp_script down_at_start {
    script /bin/x
    init_fail
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    track_script {
        down_at_start
    }
    virtual_ipaddress {
        192.0.2.100
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    track_interface {
        eth1 weight 0 reverse
    }
    virtual_ipaddress {
        192.0.2.101
    }
}
";
    let mut r = Rig::new(conf);
    assert_eq!(r.d.state(0), State::Fault);
    assert_eq!(
        r.d.state(1),
        State::Fault,
        "eth1 up with weight 0 reverse: FAULT"
    );
    r.input(Input::Link {
        now: r.at(10),
        ifindex: ETH1,
        up: false,
    });
    assert_eq!(r.d.state(1), State::Backup);
}

#[test]
fn a_sync_group_moves_together_and_notifies_as_a_group() {
    let conf = "
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    notify /bin/group-notify
    notify_master /bin/group-master
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        192.0.2.100
    }
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    priority 100
    advert_int 3
    virtual_ipaddress {
        198.51.100.100
    }
}
";
    let mut r = Rig::new(conf);
    let out = shows(&r.take());
    assert!(
        out.contains(&"notify /bin/group-notify GROUP G1 BACKUP 0".to_string()),
        "{out:?}"
    );
    // VI_1's down timer (3.6 s) fires long before VI_2's (9.6 s): both become MASTER.
    r.run_until(3_700);
    assert_eq!((r.d.state(0), r.d.state(1)), (State::Master, State::Master));
    let out = shows(&r.take());
    let group: Vec<&String> = out.iter().filter(|s| s.contains("group-")).collect();
    assert_eq!(
        group,
        [
            "notify /bin/group-master",
            "notify /bin/group-notify GROUP G1 MASTER 0"
        ]
    );
    assert!(out.contains(&"VI_2 Backup->Master: sync group".to_string()));
    // A higher priority for VI_1 takes both back to BACKUP.
    r.advert_v4(
        4_000,
        "192.0.2.2",
        peer(Version::V2, 51, 200, 100, &["192.0.2.100"]),
        WireOptions::default(),
    );
    assert_eq!((r.d.state(0), r.d.state(1)), (State::Backup, State::Backup));
    // A fault in one member is a fault of the group.
    r.input(Input::Link {
        now: r.at(4_100),
        ifindex: ETH1,
        up: false,
    });
    assert_eq!((r.d.state(0), r.d.state(1)), (State::Fault, State::Fault));
    let out = shows(&r.take());
    assert!(out.contains(&"notify /bin/group-notify GROUP G1 FAULT 0".to_string()));
}

#[test]
fn shutdown_sends_priority_zero_removes_the_vips_and_runs_notify_stop() {
    let mut r = Rig::new(BASIC);
    r.run_until(3_700);
    r.take();
    let now = r.at(3_800);
    r.input(Input::Shutdown { now });
    assert_eq!(
        shows(&r.take()),
        [
            "VI_1 Master->Initialize: shutdown",
            "notify /bin/stopped",
            "notify /bin/notify INSTANCE VI_1 STOP 100",
            "send prio 0 to [\"224.0.0.18\"]",
            "remove [\"192.0.2.100\"]",
            "stopped",
        ]
    );
    // Nothing more: no advert, no GARP, no script.
    r.input(Input::Timeout(r.at(20_000)));
    assert_eq!(shows(&r.take()), ["stopped"]);
}

#[test]
fn a_vip_removed_by_hand_while_master_is_put_back() {
    let mut r = Rig::new(BASIC);
    r.input(Input::AddressRemoved {
        now: r.at(100),
        ifindex: ETH0,
        addr: "192.0.2.100".parse().unwrap(),
    });
    r.take();
    r.run_until(3_700);
    r.take();
    r.input(Input::AddressRemoved {
        now: r.at(3_800),
        ifindex: ETH0,
        addr: "192.0.2.100".parse().unwrap(),
    });
    assert_eq!(shows(&r.take()), ["add [\"192.0.2.100\"]"]);
}

#[test]
fn a_track_file_value_times_its_weight_moves_priority_and_below_minus_253_is_fault() {
    let conf = "
track_file tf {
    file /run/tf
    weight 10
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    track_file {
        tf
    }
    virtual_ipaddress {
        192.0.2.100
    }
}
";
    let mut r = Rig::new(conf);
    for (value, priority, state) in [
        (3, 130, State::Backup),
        (-2, 80, State::Backup),
        (0, 100, State::Backup),
        (-30, 0, State::Fault),
        (1, 110, State::Backup),
    ] {
        r.input(Input::FileValue {
            now: r.at(10),
            file: 0,
            value,
        });
        assert_eq!(r.d.state(0), state, "value {value}");
        if state != State::Fault {
            assert_eq!(r.d.priority(0), priority, "value {value}");
        }
    }
}

#[test]
fn unicast_peers_get_one_advert_each_and_unknown_sources_are_dropped() {
    let conf = "
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 255
    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
        192.0.2.3
    }
    check_unicast_src
    virtual_ipaddress {
        192.0.2.100
    }
}
";
    let mut r = Rig::new(conf);
    let out = shows(&r.take());
    assert!(
        out.contains(&"send prio 255 to [\"192.0.2.2\", \"192.0.2.3\"]".to_string()),
        "{out:?}"
    );
    r.advert_v4(
        100,
        "192.0.2.9",
        peer(Version::V2, 51, 100, 100, &["192.0.2.100"]),
        WireOptions::default(),
    );
    assert_eq!(r.d.counters().dropped(DropReason::UnknownPeer), 1);
}

#[test]
fn ipv6_v3_uses_the_link_local_source_and_ff02_12() {
    let conf = "
vrrp_instance VI_6 {
    interface eth0
    virtual_router_id 61
    version 3
    priority 255
    advert_int 0.5
    virtual_ipaddress {
        2001:db8::100/64
    }
}
";
    let mut r = Rig::new(conf);
    let out = r.take();
    let Some(Output::Send(t)) = out
        .iter()
        .map(|(_, o)| o)
        .find(|o| matches!(o, Output::Send(_)))
    else {
        panic!("{out:?}");
    };
    assert_eq!(t.advert.src, "fe80::1".parse::<IpAddr>().unwrap());
    assert_eq!(t.advert.max_advert_interval_cs, 50);
    assert_eq!(&t.destinations[..], ["ff02::12".parse::<IpAddr>().unwrap()]);
    // A peer's IPv6 advert (priority 0: it leaves) reaches the instance through the IPv6 path.
    let mut buf = [0u8; codec::MAX_PACKET_LEN];
    let leaving = AdvertToSend {
        version: Version::V3,
        vrid: 61,
        priority: 0,
        max_advert_interval_cs: 50,
        addresses: Arc::from(["2001:db8::100".parse::<IpAddr>().unwrap()]),
        src: "fe80::2".parse().unwrap(),
        interface: InterfaceId(ETH0),
    };
    let dst = "ff02::12".parse().unwrap();
    let len = codec::emit(&leaving, dst, &WireOptions::default(), &mut buf).unwrap();
    r.input(Input::Ipv6 {
        now: r.at(10),
        ifindex: ETH0,
        meta: codec::Ipv6Meta {
            src: "fe80::2".parse().unwrap(),
            dst: "ff02::12".parse().unwrap(),
            hop_limit: 255,
        },
        payload: &buf[..len],
    });
    assert_eq!(r.d.counters().accepted, 1);
    assert_eq!(
        shows(&r.take()),
        ["send prio 255 to [\"ff02::12\"]"],
        "a master answers priority 0 at once"
    );
}

#[test]
fn nopreempt_and_preempt_delay_map_to_the_state_machine() {
    let conf = "
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    nopreempt
    virtual_ipaddress {
        192.0.2.100
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 150
    preempt_delay 10
    virtual_ipaddress {
        192.0.2.101
    }
}
";
    let setup = map(conf).unwrap();
    assert!(!setup.instances[0].fsm.preempt);
    assert!(setup.instances[1].fsm.preempt);
    assert_eq!(
        setup.instances[1].fsm.preempt_delay,
        Duration::from_secs(10)
    );
    // A lower-priority master is followed, not preempted, with nopreempt.
    let mut r = Rig::new(conf);
    for ms in (500..8_000).step_by(1000) {
        r.advert_v4(
            ms,
            "192.0.2.2",
            peer(Version::V2, 51, 100, 100, &["192.0.2.100"]),
            WireOptions::default(),
        );
    }
    assert_eq!(r.d.state(0), State::Backup);
}

#[test]
fn configurations_that_cannot_run_here_are_refused_with_every_reason() {
    let errors = map("
vrrp_instance A {
    interface eth9
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 51
    vrf red
    virtual_ipaddress {
        192.0.2.101
    }
}
vrrp_instance C {
    interface eth1
    virtual_router_id 7
    virtual_ipaddress {
        2001:db8::1
    }
    version 3
}
")
    .unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "vrrp_instance A: interface eth9 does not exist",
            "vrrp_instance B: vrf is not supported by lvskitd yet",
            "vrrp_instance C: interface eth1 has no link-local IPv6 address to send adverts from (set unicast_src_ip)",
        ]
    );
    // The same VRID twice on one interface and family.
    let errors = map_unchecked(
        "
vrrp_instance A {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.101
    }
}
",
    )
    .unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "vrrp_instance B: virtual_router_id 51 is used by vrrp_instance A on eth0 too"
    );
}

#[test]
fn vips_keep_prefix_dev_scope_and_label_and_routes_and_rules_map() {
    let setup = map("
vrrp_instance A {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        192.0.2.100/24 brd + dev eth0 scope link label eth0:vip
        198.51.100.100/32 dev eth1
    }
    virtual_ipaddress_excluded {
        203.0.113.5/24
    }
    virtual_routes {
        203.0.113.0/24 via 192.0.2.254 table 100 metric 7
        blackhole 198.51.100.128/25
    }
    virtual_rules {
        from 192.0.2.100/32 table 100 priority 1000
    }
}
")
    .unwrap();
    let i = &setup.instances[0];
    let v = &i.vips[0];
    assert_eq!((v.prefix_len, v.dev.as_str()), (24, "eth0"));
    assert_eq!(v.broadcast, Some("192.0.2.255".parse().unwrap()));
    assert_eq!(v.label.as_deref(), Some("eth0:vip"));
    assert_eq!(v.scope, vip::Scope::Link);
    assert_eq!(&i.vip_ifindex[..], [ETH0, ETH1, ETH0]);
    assert_eq!(
        &i.fsm.addresses[..],
        [
            "192.0.2.100".parse::<IpAddr>().unwrap(),
            "198.51.100.100".parse().unwrap()
        ],
        "excluded addresses are not advertised"
    );
    assert_eq!(i.routes.len(), 2);
    assert_eq!(i.routes[0].table, Some(100));
    assert_eq!(i.routes[1].kind, vip::RouteKind::Blackhole);
    assert_eq!(i.rules[0].action, vip::RuleAction::Table(100));
    assert_eq!(i.rules[0].priority, Some(1000));
}

#[test]
fn use_vmac_puts_the_addresses_without_dev_on_the_vmac() {
    let setup = map("
vrrp_instance A {
    interface eth0
    virtual_router_id 51
    use_vmac
    virtual_ipaddress {
        192.0.2.100/24
        198.51.100.100/24 dev eth1
    }
}
vrrp_instance B {
    interface eth0
    virtual_router_id 52
    use_vmac vmac52
    vmac_xmit_base
    virtual_ipaddress {
        192.0.2.101/24
    }
}
")
    .unwrap();
    let a = &setup.instances[0];
    let vmac = a.vmac.as_ref().unwrap();
    assert_eq!(
        (vmac.name.as_str(), vmac.base.as_str(), vmac.vrid),
        ("vrrp.51", "eth0", 51)
    );
    assert_eq!(vmac.hw_addr(), [0, 0, 0x5e, 0, 1, 51]);
    assert_eq!(a.vips[0].dev, "vrrp.51");
    assert_eq!(a.vips[1].dev, "eth1");
    assert_eq!(
        &a.vip_ifindex[..],
        [0, ETH1],
        "the VMAC's index is the driver's to fill in"
    );
    assert!(!a.vmac_xmit_base);
    let b = &setup.instances[1];
    assert_eq!(b.vmac.as_ref().unwrap().name, "vmac52");
    assert!(b.vmac_xmit_base);
    let errors = map_unchecked(
        "
vrrp_instance C {
    interface eth0
    virtual_router_id 53
    version 3
    use_vmac
    virtual_ipaddress {
        2001:db8::5/64
    }
}
",
    )
    .unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        "vrrp_instance C: use_vmac with IPv6 is not supported by lvskitd yet"
    );
}

// ----- reload (SIGHUP) ----------------------------------------------------------------------

/// One instance per (name, VRID, priority, VIPs), on eth0, advert_int 1.
fn instances(list: &[(&str, u8, u8, &[&str])]) -> String {
    list.iter()
        .map(|(name, vrid, priority, vips)| {
            format!(
                "vrrp_instance {name} {{
    interface eth0
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
    notify_stop /bin/stopped
    virtual_ipaddress {{
        {}
    }}
}}
",
                vips.iter()
                    .map(|v| format!("{v}/24"))
                    .collect::<Vec<_>>()
                    .join("\n        ")
            )
        })
        .collect()
}

impl Rig {
    fn reload(&mut self, ms: u64, conf: &str) -> Vec<String> {
        self.run_until(ms);
        self.take();
        let setup = map(conf).unwrap_or_else(|e| panic!("{e:?}"));
        let now = self.now;
        self.input(Input::Reload { now, setup: &setup });
        shows(&self.take())
    }
}

/// What two rigs did from `from_ms` to `to_ms`, with their times, Reloaded outputs left out.
fn timeline(r: &mut Rig, from_ms: u64, to_ms: u64) -> Vec<(Duration, String)> {
    r.run_until(from_ms);
    r.take();
    r.run_until(to_ms);
    r.take()
        .iter()
        .filter(|(_, o)| !matches!(o, Output::Reloaded(_)))
        .map(|(t, o)| (*t, show(o)))
        .collect()
}

#[test]
fn a_reload_that_changes_nothing_keeps_every_state_and_timer() {
    let conf = instances(&[
        ("VI_1", 51, 150, &["192.0.2.100"]),
        ("VI_2", 52, 100, &["192.0.2.101"]),
    ]);
    let mut control = Rig::new(&conf);
    let mut r = Rig::new(&conf);
    // A peer masters VI_2 at 200: VI_2 is a BACKUP with a running Master_Down_Timer.
    for rig in [&mut control, &mut r] {
        for ms in (0..12_000).step_by(1000) {
            rig.advert_v4(
                ms + 300,
                "192.0.2.2",
                peer(Version::V2, 52, 200, 100, &["192.0.2.101"]),
                WireOptions::default(),
            );
        }
    }
    assert_eq!(
        r.reload(12_450, &conf),
        ["reloaded unchanged [\"VI_1\", \"VI_2\"] changed [] added [] removed []"]
    );
    assert_eq!((r.d.state(0), r.d.state(1)), (State::Master, State::Backup));
    // From then on the same adverts at the same times, and VI_2 takes over at the same time
    // when the peer goes silent.
    let ours = timeline(&mut r, 12_450, 20_000);
    assert_eq!(ours, timeline(&mut control, 12_450, 20_000));
    assert!(
        ours.iter()
            .any(|(_, o)| o == "VI_2 Backup->Master: master down timer expired"),
        "{ours:?}"
    );
}

#[test]
fn a_reload_adding_a_vip_to_a_master_adds_and_announces_only_that_one() {
    let before = instances(&[("VI_1", 51, 150, &["192.0.2.100"])]);
    let after = instances(&[("VI_1", 51, 150, &["192.0.2.100", "192.0.2.101"])]);
    let mut r = Rig::new(&before);
    r.run_until(20_000); // the GARPs of taking over are done
    let out = r.reload(20_500, &after);
    // One set of garp_master_repeat (5) announcements, for the new address only.
    let mut expected = vec!["add [\"192.0.2.101\"]"];
    expected.extend(["announce 192.0.2.101 on 2"; 5]);
    expected.push("reloaded unchanged [] changed [\"VI_1\"] added [] removed []");
    assert_eq!(out, expected);
    assert_eq!(r.d.state(0), State::Master);
    // The advert timer was not restarted: the next advert is the one due at 21 s (the take-over
    // was at 3.4 s: adverts at x.4 s), and it lists both addresses.
    r.run_until(21_500);
    let sends: Vec<(Duration, Output)> = r
        .take()
        .into_iter()
        .filter(|(_, o)| matches!(o, Output::Send(_)))
        .collect();
    assert_eq!(sends.len(), 1, "{:?}", sends);
    let Output::Send(t) = &sends[0].1 else {
        unreachable!()
    };
    assert_eq!(t.advert.addresses.len(), 2);
    assert_eq!(t.advert.priority, 150);
}

#[test]
fn a_reload_removing_a_vip_from_a_master_removes_only_that_one() {
    let before = instances(&[("VI_1", 51, 150, &["192.0.2.100", "192.0.2.101"])]);
    let after = instances(&[("VI_1", 51, 150, &["192.0.2.100"])]);
    let mut r = Rig::new(&before);
    let out = r.reload(20_000, &after);
    assert_eq!(
        out,
        [
            "remove [\"192.0.2.101\"]",
            "reloaded unchanged [] changed [\"VI_1\"] added [] removed []",
        ]
    );
    assert_eq!(r.d.state(0), State::Master);
}

#[test]
fn a_reloaded_priority_is_advertised_and_re_evaluated() {
    // A MASTER at 150 lowered to 50 keeps mastership until a better router speaks, and says 50.
    let mut r = Rig::new(&instances(&[("VI_1", 51, 150, &["192.0.2.100"])]));
    let out = r.reload(20_000, &instances(&[("VI_1", 51, 50, &["192.0.2.100"])]));
    assert_eq!(
        out,
        ["reloaded unchanged [] changed [\"VI_1\"] added [] removed []"]
    );
    r.run_until(21_000);
    let out = shows(&r.take());
    assert!(
        out.contains(&"send prio 50 to [\"224.0.0.18\"]".to_string()),
        "{out:?}"
    );
    // A peer at 100 now outranks it.
    r.advert_v4(
        21_100,
        "192.0.2.2",
        peer(Version::V2, 51, 100, 100, &["192.0.2.100"]),
        WireOptions::default(),
    );
    assert_eq!(r.d.state(0), State::Backup);

    // A BACKUP at 100 under a peer at 150, raised to 200: it preempts (the peer's adverts are
    // now discarded and its Master_Down_Timer runs out).
    let mut r = Rig::new(&instances(&[("VI_1", 51, 100, &["192.0.2.100"])]));
    for ms in (0..5_000).step_by(1000) {
        r.advert_v4(
            ms + 300,
            "192.0.2.2",
            peer(Version::V2, 51, 150, 100, &["192.0.2.100"]),
            WireOptions::default(),
        );
    }
    assert_eq!(r.d.state(0), State::Backup);
    r.reload(4_500, &instances(&[("VI_1", 51, 200, &["192.0.2.100"])]));
    for ms in (5_000..9_000).step_by(1000) {
        r.advert_v4(
            ms + 300,
            "192.0.2.2",
            peer(Version::V2, 51, 150, 100, &["192.0.2.100"]),
            WireOptions::default(),
        );
    }
    assert_eq!(r.d.state(0), State::Master);
}

#[test]
fn a_reload_stops_removed_instances_as_on_sigterm_and_starts_new_ones() {
    let mut r = Rig::new(&instances(&[
        ("VI_1", 51, 150, &["192.0.2.100"]),
        ("VI_2", 52, 150, &["192.0.2.101"]),
    ]));
    let out = r.reload(
        20_000,
        &instances(&[
            ("VI_1", 51, 150, &["192.0.2.100"]),
            ("VI_3", 53, 150, &["192.0.2.103"]),
        ]),
    );
    assert_eq!(
        out,
        [
            "VI_2 Master->Initialize: shutdown",
            "notify /bin/stopped",
            "send prio 0 to [\"224.0.0.18\"]",
            "remove [\"192.0.2.101\"]",
            "VI_3 Initialize->Backup: startup",
            "reloaded unchanged [\"VI_1\"] changed [] added [\"VI_3\"] removed [\"VI_2\"]",
        ]
    );
    assert_eq!(r.d.instance_index("VI_3"), Some(1));
    assert_eq!((r.d.state(0), r.d.state(1)), (State::Master, State::Backup));
    // The new one takes over after its Master_Down_Interval; its GARPs are its own.
    r.run_until(23_500);
    let out = shows(&r.take());
    assert!(
        out.contains(&"VI_3 Backup->Master: master down timer expired".to_string()),
        "{out:?}"
    );
    assert!(
        out.contains(&"add [\"192.0.2.103\"]".to_string()),
        "{out:?}"
    );
    assert!(
        out.contains(&"announce 192.0.2.103 on 2".to_string()),
        "{out:?}"
    );
    assert!(!out.iter().any(|o| o.contains("192.0.2.101")), "{out:?}");
}

#[test]
fn a_reload_changing_the_vrid_replaces_the_instance() {
    let mut r = Rig::new(&instances(&[("VI_1", 51, 150, &["192.0.2.100"])]));
    let out = r.reload(20_000, &instances(&[("VI_1", 61, 150, &["192.0.2.100"])]));
    assert_eq!(out[0], "VI_1 Master->Initialize: shutdown");
    assert!(
        out.contains(&"VI_1 Initialize->Backup: startup".to_string()),
        "{out:?}"
    );
    assert_eq!(
        out.last().unwrap(),
        "reloaded unchanged [] changed [] added [\"VI_1\"] removed [\"VI_1\"]"
    );
}

#[test]
fn use_vmac_refuses_an_interface_of_that_name_that_is_not_this_vmac() {
    let conf = "
vrrp_instance A {
    interface eth0
    virtual_router_id 51
    use_vmac
    virtual_ipaddress {
        192.0.2.100/24
    }
}
";
    let parsed = keepalived_conf::parse_str("test.conf", conf, &Default::default());
    let with = |macvlan: Option<(u32, [u8; 6])>| {
        let mut interfaces = host();
        interfaces.push(HostInterface {
            index: 9,
            name: "vrrp.51".into(),
            up: true,
            ipv4: None,
            ipv6_link_local: None,
            macvlan,
        });
        setup::map(&parsed.config, &interfaces)
    };
    let refused = |macvlan, why: &str| {
        let errors = with(macvlan).expect_err(why);
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(text.iter().any(|e| e.contains(why)), "{text:?}");
    };
    // A veth, a bridge, anything but a macvlan.
    refused(None, "vrrp.51 exists and is not a macvlan");
    refused(
        Some((ETH1, [0, 0, 0x5e, 0, 1, 51])),
        "is a macvlan on another interface than eth0",
    );
    refused(
        Some((ETH0, [0, 0, 0x5e, 0, 1, 52])),
        "with another MAC than this instance's virtual MAC",
    );
    // This very VMAC, left by an earlier run: the driver takes it over.
    assert!(with(Some((ETH0, [0, 0, 0x5e, 0, 1, 51]))).is_ok());
}
