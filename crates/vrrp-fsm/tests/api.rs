//! Construction errors, reconfiguration, advert filtering, IPv6 and GARP schedules.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vrrp_fsm::{
    Config, Error, GarpReason, Input, Instance, InterfaceId, Output, Reason, ReceivedAdvert, State,
    Timer, Tracker, TrackerId, Version,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn config() -> Config {
    Config::new(
        1,
        Version::V3,
        InterfaceId(2),
        ip("192.0.2.10"),
        vec![ip("192.0.2.100")],
    )
}

fn drain(vr: &mut Instance) -> Vec<Output> {
    let mut out = Vec::new();
    loop {
        match vr.poll_output() {
            Output::Timeout(_) => return out,
            o => out.push(o),
        }
    }
}

#[test]
fn configuration_errors_are_typed_at_construction() {
    type Tweak = fn(&mut Config);
    let cases: &[(&str, Tweak, Error)] = &[
        ("VRID 0", |c| c.vrid = 0, Error::VridZero),
        ("priority 0", |c| c.priority = 0, Error::PriorityZero),
        (
            "interval 0",
            |c| c.advert_interval_cs = 0,
            Error::AdvertIntervalZero,
        ),
        (
            "v3 interval above 4095 cs",
            |c| c.advert_interval_cs = 4096,
            Error::AdvertIntervalOutOfRange {
                version: Version::V3,
                centiseconds: 4096,
                max: 4095,
            },
        ),
        (
            "v2 interval above 255 s",
            |c| {
                c.version = Version::V2;
                c.advert_interval_cs = 25600;
            },
            Error::AdvertIntervalOutOfRange {
                version: Version::V2,
                centiseconds: 25600,
                max: 25500,
            },
        ),
        (
            "v2 interval not whole seconds",
            |c| {
                c.version = Version::V2;
                c.advert_interval_cs = 150;
            },
            Error::AdvertIntervalNotWholeSeconds { centiseconds: 150 },
        ),
        (
            "no address",
            |c| c.addresses = Arc::from(vec![]),
            Error::NoAddress,
        ),
        (
            "mixed families",
            |c| c.addresses = Arc::from(vec![ip("192.0.2.100"), ip("2001:db8::1")]),
            Error::MixedFamilies {
                first: ip("192.0.2.100"),
                other: ip("2001:db8::1"),
            },
        ),
        (
            "primary of another family",
            |c| c.primary_address = ip("fe80::1"),
            Error::PrimaryFamilyMismatch {
                primary: ip("fe80::1"),
                address: ip("192.0.2.100"),
            },
        ),
        (
            "IPv6 with v2",
            |c| {
                c.version = Version::V2;
                c.primary_address = ip("fe80::1");
                c.addresses = Arc::from(vec![ip("2001:db8::1")]);
            },
            Error::Ipv6WithV2 {
                address: ip("fe80::1"),
            },
        ),
        (
            "preempt_delay above 1000 s",
            |c| c.preempt_delay = Duration::from_secs(1001),
            Error::PreemptDelayOutOfRange {
                delay: Duration::from_secs(1001),
            },
        ),
        (
            "tracker weight out of range",
            |c| {
                c.trackers = vec![Tracker {
                    id: TrackerId(3),
                    weight: 255,
                }]
            },
            Error::TrackerWeightOutOfRange {
                id: TrackerId(3),
                weight: 255,
            },
        ),
        (
            "duplicate tracker",
            |c| {
                let t = Tracker {
                    id: TrackerId(3),
                    weight: 1,
                };
                c.trackers = vec![t, t];
            },
            Error::DuplicateTracker { id: TrackerId(3) },
        ),
    ];
    for (what, tweak, want) in cases {
        let mut c = config();
        tweak(&mut c);
        assert_eq!(Instance::new(c).err().as_ref(), Some(want), "{what}");
    }
    // The bounds themselves are accepted.
    for (version, cs) in [(Version::V3, 1), (Version::V3, 4095), (Version::V2, 25500)] {
        let mut c = config();
        c.version = version;
        c.advert_interval_cs = cs;
        c.priority = 255;
        assert!(Instance::new(c).is_ok(), "{version:?} {cs}");
    }
    // Messages say what was found.
    let mut c = config();
    c.advert_interval_cs = 5000;
    let message = Instance::new(c).unwrap_err().to_string();
    assert!(
        message.contains("5000") && message.contains("4095"),
        "{message}"
    );
}

#[test]
fn reconfigure_keeps_identity_and_applies_the_rest() {
    let t0 = Instant::now();
    let mut vr = Instance::new(config()).unwrap();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    vr.handle_input(Input::Timeout(t0 + Duration::from_millis(3600)))
        .unwrap();
    assert_eq!(vr.state(), State::Master);
    drain(&mut vr);

    let mut other_vrid = config();
    other_vrid.vrid = 9;
    let now = t0 + Duration::from_secs(4);
    let err = vr
        .handle_input(Input::Reconfigure {
            now,
            config: &other_vrid,
        })
        .unwrap_err();
    assert!(
        matches!(err, Error::ImmutableChange { field: "vrid", .. }),
        "{err}"
    );
    let mut bad = config();
    bad.priority = 0;
    assert_eq!(
        vr.handle_input(Input::Reconfigure { now, config: &bad }),
        Err(Error::PriorityZero)
    );
    assert_eq!(
        vr.config(),
        &config(),
        "a refused change leaves the instance as it was"
    );
    assert!(drain(&mut vr).is_empty());

    let mut new = config();
    new.addresses = Arc::from(vec![ip("192.0.2.101")]);
    new.advert_interval_cs = 50;
    new.priority = 120;
    vr.handle_input(Input::Reconfigure { now, config: &new })
        .unwrap();
    assert_eq!(vr.effective_priority(), 120);
    let out = drain(&mut vr);
    assert!(
        matches!(&out[..], [
            Output::RemoveVips { addresses: old, .. },
            Output::AddVips { addresses: added, .. },
            Output::Garp(_),
        ] if old[..] == [ip("192.0.2.100")] && added[..] == [ip("192.0.2.101")]),
        "{out:?}"
    );
    assert_eq!(
        vr.timer(Timer::Advert),
        Some(now + Duration::from_millis(500))
    );

    // A weight-0 tracker added while failing cannot fail before its first result: trackers start OK.
    let mut tracked = new.clone();
    tracked.trackers = vec![Tracker {
        id: TrackerId(1),
        weight: 0,
    }];
    vr.handle_input(Input::Reconfigure {
        now,
        config: &tracked,
    })
    .unwrap();
    vr.handle_input(Input::Tracker {
        now,
        id: TrackerId(1),
        ok: false,
    })
    .unwrap();
    assert_eq!(vr.state(), State::Fault);
    // Removing the failing tracker by reconfiguration clears the fault.
    vr.handle_input(Input::Reconfigure { now, config: &new })
        .unwrap();
    assert_eq!(vr.state(), State::Backup);
}

fn advert<'a>(priority: u8, src: &str, addresses: &'a [IpAddr]) -> ReceivedAdvert<'a> {
    ReceivedAdvert {
        version: Version::V3,
        vrid: 1,
        priority,
        max_advert_interval_cs: 100,
        addresses,
        src: ip(src),
        interface: InterfaceId(2),
    }
}

#[test]
fn adverts_for_someone_else_are_dropped_and_counted() {
    let t0 = Instant::now();
    let mut vr = Instance::new(config()).unwrap();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    let addresses = [ip("192.0.2.100")];
    let base = advert(200, "192.0.2.20", &addresses);
    let now = t0 + Duration::from_secs(1);
    let wrong = [
        ReceivedAdvert { vrid: 2, ..base },
        ReceivedAdvert {
            version: Version::V2,
            ..base
        },
        ReceivedAdvert {
            interface: InterfaceId(3),
            ..base
        },
        ReceivedAdvert {
            src: ip("fe80::20"),
            ..base
        },
        ReceivedAdvert {
            src: ip("192.0.2.10"), // our own, looped back
            ..base
        },
    ];
    for advert in wrong {
        vr.handle_input(Input::Advert { now, advert }).unwrap();
    }
    assert_eq!(vr.stats().adverts_received, 5);
    assert_eq!(vr.stats().adverts_dropped, 5);
    assert_eq!(
        vr.timer(Timer::MasterDown),
        Some(t0 + Duration::from_millis(3600)),
        "no dropped advert reset the timer"
    );
    let other = [ip("192.0.2.100"), ip("192.0.2.101")];
    vr.handle_input(Input::Advert {
        now,
        advert: ReceivedAdvert {
            addresses: &other,
            ..base
        },
    })
    .unwrap();
    assert_eq!(vr.stats().address_list_mismatches, 1);
    assert_eq!(
        vr.timer(Timer::MasterDown),
        Some(now + Duration::from_millis(3600)),
        "a mismatched address list is still processed (RFC 9568: MAY log)"
    );
}

#[test]
fn ipv6_equal_priority_higher_address_wins() {
    let t0 = Instant::now();
    let mut c = Config::new(
        1,
        Version::V3,
        InterfaceId(2),
        ip("fe80::10"),
        vec![ip("2001:db8::100")],
    );
    c.priority = 255;
    let mut vr = Instance::new(c).unwrap();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    let addresses = [ip("2001:db8::100")];
    let lower = ReceivedAdvert {
        src: ip("fe80::9"),
        ..advert(255, "fe80::9", &addresses)
    };
    drain(&mut vr);
    vr.handle_input(Input::Advert {
        now: t0,
        advert: lower,
    })
    .unwrap();
    assert_eq!(vr.state(), State::Master);
    let higher = ReceivedAdvert {
        src: ip("fe80::1:0"),
        ..lower
    };
    vr.handle_input(Input::Advert {
        now: t0,
        advert: higher,
    })
    .unwrap();
    assert_eq!(vr.state(), State::Backup, "fe80::1:0 > fe80::10 as u128");
}

#[test]
fn garp_schedule_carries_the_configured_values() {
    let t0 = Instant::now();
    let mut c = config();
    c.priority = 255;
    c.garp.master_repeat = 3;
    c.garp.master_delay = Some(Duration::from_secs(10));
    c.garp.master_refresh = Some(Duration::from_secs(60));
    c.garp.master_refresh_repeat = 2;
    let mut vr = Instance::new(c).unwrap();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    let garp = drain(&mut vr)
        .into_iter()
        .find_map(|o| match o {
            Output::Garp(g) => Some(g),
            _ => None,
        })
        .expect("a GARP schedule on becoming MASTER");
    assert_eq!(garp.reason, GarpReason::BecameMaster);
    assert_eq!(garp.repeat, 3);
    assert_eq!(garp.delay, Some(Duration::from_secs(10)));
    assert_eq!(garp.refresh, Some(Duration::from_secs(60)));
    assert_eq!(garp.refresh_repeat, 2);
    assert_eq!(garp.interface, InterfaceId(2));
    assert_eq!(garp.addresses[..], [ip("192.0.2.100")]);
}

#[test]
fn turning_preemption_off_during_a_hold_off_does_not_strand_the_backup() {
    // Found by tests/invariants.rs: a hold-off cancelled with nothing left armed.
    let t0 = Instant::now();
    let ms = |n| t0 + Duration::from_millis(n);
    let addresses = [ip("192.0.2.100")];
    let mut c = config();
    c.preempt_delay = Duration::from_secs(2);
    let mut vr = Instance::new(c.clone()).unwrap();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    vr.handle_input(Input::Advert {
        now: ms(1000),
        advert: advert(50, "192.0.2.20", &addresses),
    })
    .unwrap();
    drain(&mut vr);
    assert_eq!(vr.timer(Timer::PreemptDelay), Some(ms(3000)), "holding off");
    c.preempt = false;
    vr.handle_input(Input::Reconfigure {
        now: ms(1500),
        config: &c,
    })
    .unwrap();
    drain(&mut vr);
    assert_eq!(vr.timer(Timer::PreemptDelay), None);
    // Without preemption the lower master is kept ...
    vr.handle_input(Input::Timeout(ms(3000))).unwrap();
    assert_eq!(vr.state(), State::Backup);
    // ... until it goes silent: Master_Down_Timer is still armed.
    vr.handle_input(Input::Timeout(ms(4600))).unwrap();
    let out = drain(&mut vr);
    assert_eq!(vr.state(), State::Master, "{out:?}");
}

/// Feeds a lower-priority master's adverts (priority 100, one a second from `first_advert`, none
/// when `None`) to a priority-150 instance with `preempt_delay 4` started at `t0`; returns when
/// and why it became MASTER.
fn preempt_delay_timeline(t0: Instant, first_advert: Option<Duration>) -> (Instant, Reason) {
    let addresses = [ip("192.0.2.100")];
    let mut c = config();
    c.priority = 150;
    c.preempt_delay = Duration::from_secs(4);
    let mut vr = Instance::new(c).unwrap();
    vr.handle_input(Input::Start { now: t0 }).unwrap();
    let mut next_advert = first_advert.map(|d| t0 + d);
    for _ in 0..100 {
        let deadline = loop {
            match vr.poll_output() {
                Output::Timeout(deadline) => break deadline.unwrap(),
                Output::StateChange {
                    to: State::Master,
                    reason,
                    ..
                } => {
                    return (
                        vr.timer(Timer::Advert).unwrap() - Duration::from_secs(1),
                        reason,
                    );
                }
                _ => {}
            }
        };
        match next_advert {
            Some(at) if at <= deadline => {
                vr.handle_input(Input::Advert {
                    now: at,
                    advert: advert(100, "192.0.2.20", &addresses),
                })
                .unwrap();
                next_advert = Some(at + Duration::from_secs(1));
            }
            _ => vr.handle_input(Input::Timeout(deadline)).unwrap(),
        }
    }
    panic!("never became MASTER");
}

/// keepalived 2.2.7 on the wire (measured in netns against keepalived itself): alone, an
/// instance with `preempt_delay` takes over after Master_Down_Interval, the delay adds nothing;
/// before the fix it waited Master_Down_Interval and then the whole delay more.
#[test]
fn preempt_delay_adds_nothing_when_there_is_no_master() {
    let t0 = Instant::now();
    // 3 x 100 cs + (106 x 100 / 256) cs = 341 cs.
    assert_eq!(
        preempt_delay_timeline(t0, None),
        (t0 + Duration::from_millis(3410), Reason::MasterDown)
    );
}

/// keepalived 2.2.7 on the wire: the delay starts at the lower master's first advert (0.3 s),
/// adverts are followed until it ends (4.3 s; the one due then is already discarded), and the
/// Master_Down_Timer of the last followed one (3.3 s) runs out.
#[test]
fn preempt_delay_follows_a_live_lower_master_for_the_delay_then_lets_it_time_out() {
    let t0 = Instant::now();
    assert_eq!(
        preempt_delay_timeline(t0, Some(Duration::from_millis(300))),
        (t0 + Duration::from_millis(3300 + 3410), Reason::MasterDown)
    );
}

#[test]
fn family_and_version_meet_the_codec_at_one_seam_both_ways() {
    use vrrp_fsm::{Family, Version};
    // One family type: the machine's is the codec's.
    let codec: vrrp_packet::AddressFamily = Family::of(&ip("192.0.2.1"));
    assert_eq!(codec, vrrp_packet::AddressFamily::Ipv4);
    assert_eq!(Family::of(&ip("2001:db8::1")), Family::Ipv6);
    for version in [Version::V2, Version::V3] {
        let wire = vrrp_packet::Version::from(version);
        assert_eq!(Version::try_from(wire), Ok(version));
    }
    assert_eq!(Version::try_from(vrrp_packet::Version::Unknown(9)), Err(9));
}
