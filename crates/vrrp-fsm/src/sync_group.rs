//! Sync groups: instances that move together (keepalived's `vrrp_sync_group`).

use std::time::Instant;

use crate::{Error, Input, Instance, Output, State};

/// An output of one member of a [`SyncGroup`], or the group's next deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupOutput {
    /// Member `member` asks for `output` (never [`Output::Timeout`]).
    Member {
        /// Index of the member, in the order given to [`SyncGroup::new`].
        member: usize,
        /// What it asks for.
        output: Output,
    },
    /// Nothing more to do until this deadline (the earliest of the members'); `None`: no timer.
    Timeout(Option<Instant>),
}

/// Instances that move together, with keepalived's rules:
///
/// - a member with a fault of its own (interface down, weight-0 tracker failing) takes every
///   member to FAULT (a MASTER among them sends priority 0 and removes its addresses); when no
///   member has a fault of its own, all leave FAULT for BACKUP together;
/// - a member that becomes MASTER takes every BACKUP member to MASTER;
/// - a member that falls from MASTER to BACKUP takes every MASTER member to BACKUP.
///
/// keepalived zeroes tracker weights of grouped instances so that priorities stay consistent;
/// this type does not rewrite configurations, so give members consistent priorities.
///
/// Same driving rule as [`Instance`]: [`handle_input`](Self::handle_input) for one member (or
/// [`handle_timeout`](Self::handle_timeout) for all), then [`poll_output`](Self::poll_output)
/// until [`GroupOutput::Timeout`].
#[derive(Debug, Clone)]
pub struct SyncGroup {
    members: Vec<Instance>,
}

impl SyncGroup {
    /// Composes `members` (all in INITIALIZE or all running; usually fresh from
    /// [`Instance::new`]).
    pub fn new(members: Vec<Instance>) -> Result<Self, Error> {
        if members.is_empty() {
            return Err(Error::EmptySyncGroup);
        }
        Ok(Self { members })
    }

    /// The members, in order.
    pub fn members(&self) -> &[Instance] {
        &self.members
    }

    /// Feeds `input` to member `member`, then applies the group rules.
    pub fn handle_input(&mut self, member: usize, input: Input<'_>) -> Result<(), Error> {
        let count = self.members.len();
        let instance = self.members.get_mut(member).ok_or(Error::NoSuchMember {
            index: member,
            members: count,
        })?;
        let before = instance.state();
        instance.handle_input(input)?;
        self.propagate(member, before, input.now());
        Ok(())
    }

    /// Feeds [`Input::Timeout`] to every member, applying the group rules after each.
    pub fn handle_timeout(&mut self, now: Instant) {
        for member in 0..self.members.len() {
            let before = self.members[member].state();
            // A timeout cannot fail.
            let _ = self.members[member].handle_input(Input::Timeout(now));
            self.propagate(member, before, now);
        }
    }

    /// The next output of any member, or the group's deadline.
    pub fn poll_output(&mut self) -> GroupOutput {
        let mut deadline: Option<Instant> = None;
        for (member, instance) in self.members.iter_mut().enumerate() {
            match instance.poll_output() {
                Output::Timeout(d) => {
                    deadline = match (deadline, d) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                output => return GroupOutput::Member { member, output },
            }
        }
        GroupOutput::Timeout(deadline)
    }

    fn propagate(&mut self, member: usize, before: State, now: Instant) {
        let group_fault = self.members.iter().any(Instance::has_own_fault);
        for instance in &mut self.members {
            instance.set_sync_fault(now, group_fault);
        }
        if group_fault {
            return;
        }
        let after = self.members[member].state();
        let other_master = self
            .members
            .iter()
            .enumerate()
            .any(|(i, m)| i != member && m.state() == State::Master);
        if after == State::Backup && before != State::Master && other_master {
            // Started (or recovered) while the group is MASTER: join it.
            self.members[member].sync_to_master(now);
        } else if after == State::Master && before != State::Master {
            for (i, instance) in self.members.iter_mut().enumerate() {
                if i != member {
                    instance.sync_to_master(now);
                }
            }
        } else if before == State::Master && after == State::Backup {
            for (i, instance) in self.members.iter_mut().enumerate() {
                if i != member {
                    instance.sync_to_backup(now);
                }
            }
        }
    }
}
