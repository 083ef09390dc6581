//! Scheduler flags by name. ipvsadm's `-b` and keepalived.conf's keywords use the same names,
//! and which names a listing shows depends on the scheduler (`sh-port` for sh, `flag-2`
//! otherwise), so the names live here once, beside the bits.

use crate::{IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2, IP_VS_SVC_F_SCHED3};

/// A scheduler flag's name, its bit in the service flags, and the scheduler the name is for
/// (`None`: the generic `flag-N` names, for any scheduler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedFlagName {
    /// The name, as ipvsadm and keepalived.conf write it.
    pub name: &'static str,
    /// The `IP_VS_SVC_F_SCHED*` bit.
    pub bit: u32,
    /// The scheduler this name belongs to.
    pub scheduler: Option<&'static str>,
}

const fn flag(name: &'static str, bit: u32, scheduler: Option<&'static str>) -> SchedFlagName {
    SchedFlagName {
        name,
        bit,
        scheduler,
    }
}

/// Every scheduler-flag name, in the order listings show them.
pub const SCHED_FLAG_NAMES: [SchedFlagName; 7] = [
    flag("flag-1", IP_VS_SVC_F_SCHED1, None),
    flag("flag-2", IP_VS_SVC_F_SCHED2, None),
    flag("flag-3", IP_VS_SVC_F_SCHED3, None),
    flag("sh-fallback", IP_VS_SVC_F_SCHED1, Some("sh")),
    flag("sh-port", IP_VS_SVC_F_SCHED2, Some("sh")),
    flag("mh-fallback", IP_VS_SVC_F_SCHED1, Some("mh")),
    flag("mh-port", IP_VS_SVC_F_SCHED2, Some("mh")),
];

impl SchedFlagName {
    /// The flag of that name, if there is one.
    pub fn find(name: &str) -> Option<Self> {
        SCHED_FLAG_NAMES.iter().copied().find(|f| f.name == name)
    }

    /// The names a listing shows for `flags` on a service with `scheduler`: `sh-*` for sh,
    /// `mh-*` for mh, `flag-N` for any other (as ipvsadm, which shows no `flag-3` on sh or mh).
    pub fn names_for(scheduler: &str, flags: u32) -> impl Iterator<Item = &'static str> {
        let own = matches!(scheduler, "sh" | "mh").then_some(scheduler);
        SCHED_FLAG_NAMES
            .iter()
            .filter(move |f| f.scheduler == own && flags & f.bit != 0)
            .map(|f| f.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_found_with_its_bit_and_scheduler() {
        for f in SCHED_FLAG_NAMES {
            assert_eq!(SchedFlagName::find(f.name), Some(f));
        }
        assert_eq!(
            SchedFlagName::find("sh-port").unwrap().bit,
            IP_VS_SVC_F_SCHED2
        );
        assert_eq!(
            SchedFlagName::find("mh-fallback").unwrap().scheduler,
            Some("mh")
        );
        assert_eq!(SchedFlagName::find("flag-4"), None);
        assert_eq!(SchedFlagName::find(""), None);
    }

    #[test]
    fn a_listing_names_flags_after_the_scheduler() {
        let all = IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2 | IP_VS_SVC_F_SCHED3;
        let names = |s| SchedFlagName::names_for(s, all).collect::<Vec<_>>();
        assert_eq!(names("sh"), ["sh-fallback", "sh-port"]);
        assert_eq!(names("mh"), ["mh-fallback", "mh-port"]);
        assert_eq!(names("wlc"), ["flag-1", "flag-2", "flag-3"]);
        let some: Vec<_> = SchedFlagName::names_for("rr", IP_VS_SVC_F_SCHED2).collect();
        assert_eq!(some, ["flag-2"]);
    }
}
