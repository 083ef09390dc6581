//! Sync groups: members move together. Each failure prints the group's timeline.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use vrrp_fsm::{
    Config, Error, GroupOutput, Input, Instance, InterfaceId, Output, Reason, ReceivedAdvert,
    State, SyncGroup, Version,
};

struct Harness {
    group: SyncGroup,
    t0: Instant,
    timeline: String,
    /// Outputs of the last input.
    last: Vec<(usize, Output)>,
}

macro_rules! check {
    ($h:expr, $cond:expr, $($msg:tt)+) => {
        assert!($cond, "{}\ntimeline:\n{}", format!($($msg)+), $h.timeline)
    };
}

impl Harness {
    /// Members with these (VRID, priority), all on interface 2.
    fn new(members: &[(u8, u8)]) -> Self {
        let members = members
            .iter()
            .map(|&(vrid, priority)| {
                let mut c = Config::new(
                    vrid,
                    Version::V3,
                    InterfaceId(2),
                    "192.0.2.10".parse().unwrap(),
                    vec!["192.0.2.100".parse::<IpAddr>().unwrap()],
                );
                c.priority = priority;
                Instance::new(c).unwrap()
            })
            .collect();
        Self {
            group: SyncGroup::new(members).unwrap(),
            t0: Instant::now(),
            timeline: String::new(),
            last: Vec::new(),
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn record(&mut self, what: String) {
        self.last.clear();
        let mut line = what;
        loop {
            match self.group.poll_output() {
                GroupOutput::Timeout(_) => break,
                GroupOutput::Member { member, output } => {
                    let _ = write!(line, "\n           m{member}: {output:?}");
                    self.last.push((member, output));
                }
            }
        }
        let _ = writeln!(self.timeline, "{line}");
    }

    fn input(&mut self, member: usize, input: Input<'_>) {
        let ms = (input.now() - self.t0).as_millis();
        self.group.handle_input(member, input).unwrap();
        self.record(format!("{ms:>8} ms m{member} {input:?}"));
    }

    fn timeout(&mut self, ms: u64) {
        self.group.handle_timeout(self.at(ms));
        self.record(format!("{ms:>8} ms timeout"));
    }

    fn link(&mut self, member: usize, ms: u64, up: bool) {
        let now = self.at(ms);
        self.input(
            member,
            Input::Link {
                now,
                interface: InterfaceId(2),
                up,
            },
        );
    }

    fn states(&self) -> Vec<State> {
        self.group.members().iter().map(Instance::state).collect()
    }
}

#[test]
fn sync_group_moves_members_together() {
    assert_eq!(SyncGroup::new(vec![]).err(), Some(Error::EmptySyncGroup));
    // Member 0 has the shorter down interval (priority 200): it wins first and takes member 1.
    let mut h = Harness::new(&[(1, 200), (2, 100)]);
    h.input(0, Input::Start { now: h.at(0) });
    h.input(1, Input::Start { now: h.at(0) });
    check!(
        h,
        h.states() == [State::Backup, State::Backup],
        "both start as BACKUP"
    );
    h.timeout(3210);
    check!(
        h,
        h.states() == [State::Master, State::Master],
        "MASTER of one → all"
    );
    let joined = (
        1,
        Output::StateChange {
            from: State::Backup,
            to: State::Master,
            reason: Reason::SyncGroup,
        },
    );
    check!(
        h,
        h.last.contains(&joined),
        "member 1 joined with reason SyncGroup"
    );

    // A higher master for member 1 takes both back to BACKUP.
    let addresses = ["192.0.2.100".parse::<IpAddr>().unwrap()];
    let higher = ReceivedAdvert {
        version: Version::V3,
        vrid: 2,
        priority: 250,
        max_advert_interval_cs: 100,
        addresses: &addresses,
        src: "192.0.2.20".parse().unwrap(),
        interface: InterfaceId(2),
    };
    h.input(
        1,
        Input::Advert {
            now: h.at(4000),
            advert: higher,
        },
    );
    check!(
        h,
        h.states() == [State::Backup, State::Backup],
        "MASTER → BACKUP of one → all"
    );

    // Both time out again (nobody advertises any more) and become MASTER.
    h.timeout(8000);
    check!(
        h,
        h.states() == [State::Master, State::Master],
        "MASTER again"
    );

    // FAULT of one → the group; both masters leave with priority 0.
    h.link(1, 9000, false);
    check!(
        h,
        h.states() == [State::Fault, State::Fault],
        "FAULT of one → all"
    );
    let zeros = h
        .last
        .iter()
        .filter(|(_, o)| matches!(o, Output::SendAdvert(a) if a.priority == 0))
        .count();
    check!(h, zeros == 2, "both masters sent priority 0");
    let imposed = (
        0,
        Output::StateChange {
            from: State::Master,
            to: State::Fault,
            reason: Reason::SyncGroupFault,
        },
    );
    check!(
        h,
        h.last.contains(&imposed),
        "member 0's FAULT is the group's"
    );

    // Recovery of the only faulty member: all to BACKUP.
    h.link(1, 10_000, true);
    check!(
        h,
        h.states() == [State::Backup, State::Backup],
        "FAULT cleared → BACKUP"
    );
    let now = h.at(10_000);
    check!(
        h,
        h.group.handle_input(5, Input::Timeout(now))
            == Err(Error::NoSuchMember {
                index: 5,
                members: 2
            }),
        "unknown member is a typed error"
    );
}

#[test]
fn sync_group_fault_waits_for_every_member() {
    let mut h = Harness::new(&[(1, 100), (2, 100)]);
    h.input(0, Input::Start { now: h.at(0) });
    h.input(1, Input::Start { now: h.at(0) });
    h.link(0, 0, false);
    h.link(1, 0, false);
    h.link(0, 0, true);
    check!(
        h,
        h.states() == [State::Fault, State::Fault],
        "member 1 still has a fault"
    );
    h.link(1, 0, true);
    check!(
        h,
        h.states() == [State::Backup, State::Backup],
        "no member has a fault"
    );
}

#[test]
fn member_started_late_joins_a_master_group() {
    let mut h = Harness::new(&[(1, 255), (2, 100)]);
    h.input(0, Input::Start { now: h.at(0) });
    check!(
        h,
        h.states() == [State::Master, State::Initialize],
        "owner is MASTER"
    );
    h.input(1, Input::Start { now: h.at(500) });
    check!(
        h,
        h.states() == [State::Master, State::Master],
        "the late member joins MASTER"
    );
}
