//! Table tests: one row per transition of RFC 9568 §6.4 and per keepalived rule the crate
//! follows. Each row names its rule; a failing row prints the timeline it ran.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_fsm::{
    Config, InitialState, Input, Instance, InterfaceId, Output, ReceivedAdvert, State, Timer,
    Tracker, TrackerId, Version,
};

#[derive(Debug, Clone, Copy)]
enum Step {
    Start,
    /// An advert: priority, source, interval in centiseconds.
    Advert(u8, &'static str, u16),
    Timeout,
    /// Link state of the instance's interface (2) or another.
    Link(u32, bool),
    Tracker(u32, bool),
    Shutdown,
}
use Step::*;

struct Case {
    rule: &'static str,
    config: fn(&mut Config),
    /// (milliseconds after t0, step)
    steps: &'static [(u64, Step)],
    state: State,
    /// Outputs of the last step, in order (Timeout excluded); `ANY` skips the check.
    last: &'static [&'static str],
    /// Timer deadlines after the last step, in microseconds after t0.
    timers: &'static [(Timer, Option<u64>)],
    priority: Option<u8>,
}

const BASE: Case = Case {
    rule: "",
    config: |_| {},
    steps: &[],
    state: State::Initialize,
    last: ANY,
    timers: &[],
    priority: None,
};

/// `last` not checked.
const ANY: &[&str] = &["<any>"];

const IFACE: InterfaceId = InterfaceId(2);

fn vip() -> IpAddr {
    "192.0.2.100".parse().unwrap()
}

fn base_config() -> Config {
    Config::new(
        1,
        Version::V3,
        IFACE,
        "192.0.2.10".parse().unwrap(),
        vec![vip()],
    )
}

fn describe(output: &Output) -> String {
    match output {
        Output::StateChange { from, to, reason } => format!("{from:?}->{to:?} {reason:?}"),
        Output::SendAdvert(a) => format!("advert {}", a.priority),
        Output::AddVips { .. } => "add".into(),
        Output::RemoveVips { .. } => "remove".into(),
        Output::Garp(g) => format!("garp {:?}", g.reason),
        Output::Timeout(d) => format!("timeout {d:?}"),
    }
}

fn run(case: &Case) {
    let mut config = base_config();
    (case.config)(&mut config);
    let version = config.version;
    let mut vr = Instance::new(config).unwrap_or_else(|e| panic!("{}: {e}", case.rule));
    let t0 = Instant::now();
    let mut timeline = String::new();
    let mut last = Vec::new();
    let addresses = [vip()];
    for &(ms, step) in case.steps {
        let now = t0 + Duration::from_millis(ms);
        let input = match step {
            Start => Input::Start { now },
            Advert(priority, src, interval) => Input::Advert {
                now,
                advert: ReceivedAdvert {
                    version,
                    vrid: 1,
                    priority,
                    max_advert_interval_cs: interval,
                    addresses: &addresses,
                    src: src.parse().unwrap(),
                    interface: IFACE,
                },
            },
            Timeout => Input::Timeout(now),
            Link(i, up) => Input::Link {
                now,
                interface: InterfaceId(i),
                up,
            },
            Tracker(id, ok) => Input::Tracker {
                now,
                id: TrackerId(id),
                ok,
            },
            Shutdown => Input::Shutdown { now },
        };
        vr.handle_input(input).unwrap();
        last.clear();
        loop {
            let output = vr.poll_output();
            if let Output::Timeout(d) = output {
                let _ = writeln!(
                    timeline,
                    "  {ms:>6} ms {step:?} -> {last:?}; next deadline {:?}",
                    d.map(|d| d - t0)
                );
                break;
            }
            last.push(describe(&output));
        }
    }
    let fail =
        |what: String| -> ! { panic!("rule failed: {}\n{what}\ntimeline:\n{timeline}", case.rule) };
    if vr.state() != case.state {
        fail(format!("state {:?}, expected {:?}", vr.state(), case.state));
    }
    if case.last != ANY && last != case.last {
        fail(format!("last outputs {last:?}, expected {:?}", case.last));
    }
    for &(timer, want) in case.timers {
        let got = vr.timer(timer).map(|d| (d - t0).as_micros() as u64);
        if got != want {
            fail(format!("timer {timer:?} at {got:?} µs, expected {want:?}"));
        }
    }
    if let Some(p) = case.priority
        && vr.effective_priority() != p
    {
        fail(format!(
            "effective priority {}, expected {p}",
            vr.effective_priority()
        ));
    }
}

const MASTER_ENTRY: &[&str] = &[
    "Backup->Master MasterDown",
    "add",
    "advert 100",
    "garp BecameMaster",
];

/// Start as a priority-100 backup and win at 3600 ms (3 × 100 cs + 156 × 100 / 256 = 360 cs).
const WIN: [(u64, Step); 2] = [(0, Start), (3600, Timeout)];

const CASES: &[Case] = &[
    Case {
        rule: "RFC 9568 §6.4.1: priority 255 (address owner) starts as MASTER at once, advertises, GARPs",
        config: |c| c.priority = 255,
        steps: &[(0, Start)],
        state: State::Master,
        last: &[
            "Initialize->Master AddressOwner",
            "add",
            "advert 255",
            "garp BecameMaster",
        ],
        timers: &[(Timer::Advert, Some(1_000_000)), (Timer::MasterDown, None)],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.1: below 255 starts as BACKUP with Master_Down_Timer = Master_Down_Interval",
        steps: &[(0, Start)],
        state: State::Backup,
        last: &["Initialize->Backup Startup"],
        timers: &[(Timer::MasterDown, Some(3_600_000)), (Timer::Advert, None)],
        ..BASE
    },
    Case {
        rule: "keepalived: `state MASTER` below priority 255 starts as BACKUP",
        config: |c| {
            c.initial_state = InitialState::Master;
            c.priority = 200;
        },
        steps: &[(0, Start)],
        state: State::Backup,
        last: &["Initialize->Backup Startup"],
        // 300 cs + (56 × 100) / 256 = 321 cs
        timers: &[(Timer::MasterDown, Some(3_210_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: Master_Down_Timer fires: BACKUP → MASTER, advert, GARP, Adver_Timer",
        steps: &WIN,
        state: State::Master,
        last: MASTER_ENTRY,
        timers: &[(Timer::Advert, Some(4_600_000)), (Timer::MasterDown, None)],
        ..BASE
    },
    Case {
        rule: "timer table: handling the same expired timer twice does nothing",
        steps: &[(0, Start), (3600, Timeout), (3600, Timeout)],
        state: State::Master,
        last: &[],
        timers: &[(Timer::Advert, Some(4_600_000))],
        ..BASE
    },
    Case {
        rule: "timer table: an early timeout does nothing",
        steps: &[(0, Start), (3599, Timeout)],
        state: State::Backup,
        last: &[],
        timers: &[(Timer::MasterDown, Some(3_600_000))],
        ..BASE
    },
    Case {
        rule: "sans-IO: a timer due before another input is handled first",
        steps: &[(0, Start), (3700, Advert(50, "192.0.2.20", 100))],
        state: State::Master,
        // The machine became MASTER at 3600 (late) and then answered the lower advert.
        last: &[
            "Backup->Master MasterDown",
            "add",
            "advert 100",
            "garp BecameMaster",
            "advert 100",
            "garp LowerPriorityAdvert",
        ],
        timers: &[(Timer::Advert, Some(4_700_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: a higher-priority advert resets Master_Down_Timer",
        steps: &[(0, Start), (1000, Advert(150, "192.0.2.20", 100))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(4_600_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: an equal-priority advert resets Master_Down_Timer (a backup never preempts an equal)",
        steps: &[(0, Start), (1000, Advert(100, "192.0.2.5", 100))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(4_600_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: preemption on: a lower-priority advert is discarded",
        steps: &[(0, Start), (1000, Advert(50, "192.0.2.20", 100))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(3_600_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: nopreempt: a lower-priority advert resets Master_Down_Timer",
        config: |c| c.preempt = false,
        steps: &[(0, Start), (1000, Advert(50, "192.0.2.20", 100))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(4_600_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: a v3 backup learns Master_Adver_Interval (200 cs → 3 × 200 + 156 × 200 / 256 = 721 cs)",
        steps: &[(0, Start), (1000, Advert(150, "192.0.2.20", 200))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(8_210_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: priority 0 sets Master_Down_Timer to Skew_Time (156 × 100 / 256 = 60 cs)",
        steps: &[(0, Start), (1000, Advert(0, "192.0.2.20", 100))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(1_600_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: priority 0 then Skew_Time: BACKUP → MASTER",
        steps: &[
            (0, Start),
            (1000, Advert(0, "192.0.2.20", 100)),
            (1600, Timeout),
        ],
        state: State::Master,
        last: MASTER_ENTRY,
        ..BASE
    },
    Case {
        rule: "RFC 3768: v2 Master_Down_Interval = 3 × 2 s + (256 − 100) / 256 s, skew not scaled by the interval",
        config: |c| {
            c.version = Version::V2;
            c.advert_interval_cs = 200;
        },
        steps: &[(0, Start)],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(6_609_375))],
        last: &["Initialize->Backup Startup"],
        ..BASE
    },
    Case {
        rule: "RFC 3768: v2 priority 0 sets the timer to (256 − 100) / 256 s",
        config: |c| {
            c.version = Version::V2;
            c.advert_interval_cs = 200;
        },
        steps: &[(0, Start), (1000, Advert(0, "192.0.2.20", 200))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(1_609_375))],
        ..BASE
    },
    Case {
        rule: "RFC 3768 §7.1: v2 advert with another interval is discarded (no learning)",
        config: |c| c.version = Version::V2,
        steps: &[(0, Start), (1000, Advert(150, "192.0.2.20", 300))],
        state: State::Backup,
        timers: &[(Timer::MasterDown, Some(3_609_375))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3: Adver_Timer fires: MASTER sends an advert and rearms",
        config: |c| c.priority = 255,
        steps: &[(0, Start), (1000, Timeout)],
        state: State::Master,
        last: &["advert 255"],
        timers: &[(Timer::Advert, Some(2_000_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3: MASTER hears a higher priority: BACKUP, remove VIPs, Master_Down_Timer",
        steps: &[WIN[0], WIN[1], (4000, Advert(150, "192.0.2.20", 100))],
        state: State::Backup,
        last: &["Master->Backup HigherPriorityAdvert", "remove"],
        timers: &[(Timer::MasterDown, Some(7_600_000)), (Timer::Advert, None)],
        ..BASE
    },
    Case {
        rule: "keepalived vrrp_higher_prio_send_advert: MASTER sends its own advert, then yields",
        config: |c| c.higher_prio_send_advert = true,
        steps: &[WIN[0], WIN[1], (4000, Advert(150, "192.0.2.20", 100))],
        state: State::Backup,
        last: &[
            "advert 100",
            "Master->Backup HigherPriorityAdvert",
            "remove",
        ],
        timers: &[(Timer::MasterDown, Some(7_600_000)), (Timer::Advert, None)],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3: equal priority from a higher primary address: MASTER yields",
        steps: &[WIN[0], WIN[1], (4000, Advert(100, "192.0.2.20", 100))],
        state: State::Backup,
        last: &["Master->Backup HigherPriorityAdvert", "remove"],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3: equal priority from a lower primary address: MASTER stays (and answers)",
        steps: &[WIN[0], WIN[1], (4000, Advert(100, "192.0.2.5", 100))],
        state: State::Master,
        last: &["advert 100", "garp LowerPriorityAdvert"],
        ..BASE
    },
    Case {
        rule: "keepalived: MASTER answers a lower-priority advert at once (Adver_Timer unchanged)",
        steps: &[WIN[0], WIN[1], (4000, Advert(50, "192.0.2.20", 100))],
        state: State::Master,
        last: &["advert 100", "garp LowerPriorityAdvert"],
        timers: &[(Timer::Advert, Some(4_600_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3 (vrrp_lower_prio_no_advert): MASTER sends no advert for a lower priority, but its GARPs (keepalived)",
        config: |c| c.lower_prio_send_advert = false,
        steps: &[WIN[0], WIN[1], (4000, Advert(50, "192.0.2.20", 100))],
        state: State::Master,
        last: &["garp LowerPriorityAdvert"],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3: MASTER hears priority 0: advertises at once and resets Adver_Timer",
        steps: &[WIN[0], WIN[1], (4000, Advert(0, "192.0.2.20", 100))],
        state: State::Master,
        last: &["advert 100"],
        timers: &[(Timer::Advert, Some(5_000_000))],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.3: Shutdown from MASTER: priority 0, remove VIPs, INITIALIZE",
        steps: &[WIN[0], WIN[1], (4000, Shutdown)],
        state: State::Initialize,
        last: &["Master->Initialize Shutdown", "advert 0", "remove"],
        timers: &[(Timer::Advert, None), (Timer::MasterDown, None)],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.2: Shutdown from BACKUP: cancel Master_Down_Timer, INITIALIZE",
        steps: &[(0, Start), (100, Shutdown)],
        state: State::Initialize,
        last: &["Backup->Initialize Shutdown"],
        timers: &[(Timer::MasterDown, None)],
        ..BASE
    },
    Case {
        rule: "RFC 9568 §6.4.1: Startup after Shutdown runs again",
        steps: &[(0, Start), (100, Shutdown), (200, Start)],
        state: State::Backup,
        last: &["Initialize->Backup Startup"],
        timers: &[(Timer::MasterDown, Some(3_800_000))],
        ..BASE
    },
    Case {
        rule: "keepalived: interface down leaves MASTER through FAULT with priority 0",
        steps: &[WIN[0], WIN[1], (4000, Link(2, false))],
        state: State::Fault,
        last: &["Master->Fault InterfaceDown", "advert 0", "remove"],
        timers: &[(Timer::Advert, None)],
        ..BASE
    },
    Case {
        rule: "keepalived: interface down in BACKUP: FAULT",
        steps: &[(0, Start), (1000, Link(2, false))],
        state: State::Fault,
        last: &["Backup->Fault InterfaceDown"],
        timers: &[(Timer::MasterDown, None)],
        ..BASE
    },
    Case {
        rule: "keepalived: leaving FAULT goes to BACKUP with a fresh Master_Down_Timer",
        steps: &[(0, Start), (1000, Link(2, false)), (5000, Link(2, true))],
        state: State::Backup,
        last: &["Fault->Backup FaultCleared"],
        timers: &[(Timer::MasterDown, Some(8_600_000))],
        ..BASE
    },
    Case {
        rule: "keepalived: an address owner leaving FAULT goes to BACKUP too (3 × 100 + 1 × 100 / 256 = 300 cs)",
        config: |c| c.priority = 255,
        steps: &[(0, Start), (500, Link(2, false)), (1000, Link(2, true))],
        state: State::Backup,
        last: &["Fault->Backup FaultCleared"],
        timers: &[(Timer::MasterDown, Some(4_000_000))],
        ..BASE
    },
    Case {
        rule: "only the instance's own interface matters",
        steps: &[(0, Start), (1000, Link(9, false))],
        state: State::Backup,
        last: &[],
        ..BASE
    },
    Case {
        rule: "keepalived: starting with the interface down goes to FAULT",
        steps: &[(0, Link(2, false)), (0, Start)],
        state: State::Fault,
        last: &["Initialize->Fault InterfaceDown"],
        ..BASE
    },
    Case {
        rule: "keepalived: a weight-0 tracker failing takes BACKUP to FAULT",
        config: |c| {
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: 0,
            }]
        },
        steps: &[(0, Start), (1000, Tracker(1, false))],
        state: State::Fault,
        last: &["Backup->Fault TrackerFailed(TrackerId(1))"],
        ..BASE
    },
    Case {
        rule: "keepalived: a weight-0 tracker failing takes MASTER to FAULT with priority 0; recovery → BACKUP",
        config: |c| {
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: 0,
            }]
        },
        steps: &[
            WIN[0],
            WIN[1],
            (4000, Tracker(1, false)),
            (5000, Tracker(1, true)),
        ],
        state: State::Backup,
        last: &["Fault->Backup FaultCleared"],
        ..BASE
    },
    Case {
        rule: "keepalived: a positive weight is added while the tracker is OK",
        config: |c| {
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: 20,
            }]
        },
        steps: &[(0, Start)],
        state: State::Backup,
        priority: Some(120),
        ..BASE
    },
    Case {
        rule: "keepalived: a positive weight is not added while the tracker fails",
        config: |c| {
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: 20,
            }]
        },
        steps: &[(0, Start), (10, Tracker(1, false))],
        state: State::Backup,
        priority: Some(100),
        ..BASE
    },
    Case {
        rule: "keepalived: a negative weight is subtracted while the tracker fails",
        config: |c| {
            c.trackers = vec![
                Tracker {
                    id: TrackerId(1),
                    weight: -30,
                },
                Tracker {
                    id: TrackerId(2),
                    weight: -5,
                },
            ]
        },
        steps: &[(0, Start), (10, Tracker(1, false))],
        state: State::Backup,
        priority: Some(70),
        ..BASE
    },
    Case {
        rule: "keepalived: the effective priority clamps to 254",
        config: |c| {
            c.priority = 250;
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: 20,
            }]
        },
        steps: &[(0, Start)],
        state: State::Backup,
        priority: Some(254),
        ..BASE
    },
    Case {
        rule: "keepalived: the effective priority clamps to 1",
        config: |c| {
            c.priority = 10;
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: -50,
            }]
        },
        steps: &[(0, Start), (10, Tracker(1, false))],
        state: State::Backup,
        priority: Some(1),
        ..BASE
    },
    Case {
        rule: "keepalived: an address owner's priority never changes",
        config: |c| {
            c.priority = 255;
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: -50,
            }]
        },
        steps: &[(0, Start), (10, Tracker(1, false)), (1000, Timeout)],
        state: State::Master,
        last: &["advert 255"],
        priority: Some(255),
        ..BASE
    },
    Case {
        rule: "effective priority drives the skew (100 − 50: 300 + 206 × 100 / 256 = 380 cs)",
        config: |c| {
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: -50,
            }]
        },
        steps: &[(0, Tracker(1, false)), (0, Start)],
        state: State::Backup,
        priority: Some(50),
        timers: &[(Timer::MasterDown, Some(3_800_000))],
        ..BASE
    },
    Case {
        rule: "effective priority is advertised",
        config: |c| {
            c.trackers = vec![Tracker {
                id: TrackerId(1),
                weight: -30,
            }]
        },
        steps: &[
            (0, Tracker(1, false)),
            (0, Start),
            (4000, Timeout),
            (5000, Timeout),
        ],
        state: State::Master,
        last: &["advert 70"],
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: with no master at all, MASTER after Master_Down_Interval (the delay holds off preemption only)",
        config: |c| c.preempt_delay = Duration::from_secs(2),
        steps: &[(0, Start), (3600, Timeout)],
        state: State::Master,
        last: MASTER_ENTRY,
        timers: &[(Timer::PreemptDelay, None)],
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: nothing is held at start-up",
        config: |c| c.preempt_delay = Duration::from_secs(2),
        steps: &[(0, Start)],
        state: State::Backup,
        timers: &[
            (Timer::PreemptDelay, None),
            (Timer::MasterDown, Some(3_600_000)),
        ],
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: a lower-priority master is followed from its first advert until the delay ends",
        config: |c| c.preempt_delay = Duration::from_secs(2),
        steps: &[
            (0, Start),
            (1000, Advert(50, "192.0.2.20", 100)),
            (2000, Advert(50, "192.0.2.20", 100)),
        ],
        state: State::Backup,
        timers: &[
            (Timer::PreemptDelay, Some(3_000_000)),
            (Timer::MasterDown, Some(5_600_000)),
        ],
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: after the delay, lower adverts are discarded and Master_Down runs out",
        config: |c| c.preempt_delay = Duration::from_secs(2),
        steps: &[
            (0, Start),
            (1000, Advert(50, "192.0.2.20", 100)),
            (2000, Advert(50, "192.0.2.20", 100)),
            (3000, Timeout),
            (4000, Advert(50, "192.0.2.20", 100)),
            (5600, Timeout),
        ],
        state: State::Master,
        last: MASTER_ENTRY,
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: a lower-priority master first heard after following a better one: the delay starts at that advert",
        config: |c| c.preempt_delay = Duration::from_secs(2),
        steps: &[
            (0, Start),
            (500, Advert(150, "192.0.2.30", 100)),
            (1000, Advert(50, "192.0.2.20", 100)),
        ],
        state: State::Backup,
        timers: &[
            (Timer::PreemptDelay, Some(3_000_000)),
            (Timer::MasterDown, Some(4_600_000)),
        ],
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: the lower master it holds off for goes silent: MASTER at Master_Down_Interval, not at the delay's end",
        config: |c| c.preempt_delay = Duration::from_secs(300),
        steps: &[
            (0, Start),
            (1000, Advert(50, "192.0.2.20", 100)),
            (4600, Timeout),
        ],
        state: State::Master,
        last: MASTER_ENTRY,
        timers: &[
            (Timer::PreemptDelay, None),
            (Timer::Advert, Some(5_600_000)),
        ],
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: the lower master it holds off for leaves with priority 0: MASTER after Skew_Time",
        config: |c| c.preempt_delay = Duration::from_secs(300),
        steps: &[
            (0, Start),
            (1000, Advert(50, "192.0.2.20", 100)),
            (2000, Advert(0, "192.0.2.20", 100)),
            (2600, Timeout),
        ],
        state: State::Master,
        last: MASTER_ENTRY,
        ..BASE
    },
    Case {
        rule: "keepalived preempt_delay: a better master during the hold-off cancels it",
        config: |c| c.preempt_delay = Duration::from_secs(2),
        steps: &[
            (0, Start),
            (1000, Advert(50, "192.0.2.20", 100)),
            (1500, Advert(150, "192.0.2.30", 100)),
            (2500, Timeout),
        ],
        state: State::Backup,
        timers: &[
            (Timer::PreemptDelay, None),
            (Timer::MasterDown, Some(5_100_000)),
        ],
        ..BASE
    },
    Case {
        rule: "keepalived: nopreempt disables preempt_delay",
        config: |c| {
            c.preempt = false;
            c.preempt_delay = Duration::from_secs(2);
        },
        steps: &[(0, Start), (3600, Timeout)],
        state: State::Master,
        last: MASTER_ENTRY,
        ..BASE
    },
];

#[test]
fn every_transition_rule() {
    for case in CASES {
        run(case);
    }
}

#[test]
fn rules_are_named_and_distinct() {
    let mut rules: Vec<&str> = CASES.iter().map(|c| c.rule).collect();
    assert!(rules.iter().all(|r| !r.is_empty()));
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(rules.len(), CASES.len());
}
