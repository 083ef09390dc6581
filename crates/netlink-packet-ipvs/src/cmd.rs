//! The commands of the IPVS family.

/// A generic-netlink command of the IPVS family (`IPVS_CMD_*`).
///
/// Replies carry a command too: a dump of services comes back as `NewService`, of destinations as
/// `NewDest`, of daemons as `NewDaemon`, `GetConfig` as `SetConfig` and `GetInfo` as `SetInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpvsCmd {
    /// Add a virtual service.
    NewService,
    /// Edit a virtual service (scheduler, flags, timeout, netmask, persistence engine).
    SetService,
    /// Delete a virtual service and its destinations.
    DelService,
    /// Get one service, or dump them all.
    GetService,
    /// Add a destination (real server) to a service.
    NewDest,
    /// Edit a destination (forwarding method, weight, thresholds, tunnel).
    SetDest,
    /// Delete a destination.
    DelDest,
    /// Dump the destinations of a service.
    GetDest,
    /// Start a connection-sync daemon.
    NewDaemon,
    /// Stop a connection-sync daemon.
    DelDaemon,
    /// Dump the running sync daemons.
    GetDaemon,
    /// Set the TCP / TCP FIN / UDP timeouts.
    SetConfig,
    /// Get the timeouts.
    GetConfig,
    /// Only in the reply to `GetInfo`.
    SetInfo,
    /// Get the IPVS version and connection-table size.
    GetInfo,
    /// Zero the counters of one service (with a service nest) or of all.
    Zero,
    /// Delete every service.
    Flush,
    /// A command this crate does not know.
    Other(u8),
}

impl From<IpvsCmd> for u8 {
    fn from(cmd: IpvsCmd) -> Self {
        match cmd {
            IpvsCmd::NewService => 1,
            IpvsCmd::SetService => 2,
            IpvsCmd::DelService => 3,
            IpvsCmd::GetService => 4,
            IpvsCmd::NewDest => 5,
            IpvsCmd::SetDest => 6,
            IpvsCmd::DelDest => 7,
            IpvsCmd::GetDest => 8,
            IpvsCmd::NewDaemon => 9,
            IpvsCmd::DelDaemon => 10,
            IpvsCmd::GetDaemon => 11,
            IpvsCmd::SetConfig => 12,
            IpvsCmd::GetConfig => 13,
            IpvsCmd::SetInfo => 14,
            IpvsCmd::GetInfo => 15,
            IpvsCmd::Zero => 16,
            IpvsCmd::Flush => 17,
            IpvsCmd::Other(raw) => raw,
        }
    }
}

impl From<u8> for IpvsCmd {
    fn from(raw: u8) -> Self {
        match raw {
            1 => Self::NewService,
            2 => Self::SetService,
            3 => Self::DelService,
            4 => Self::GetService,
            5 => Self::NewDest,
            6 => Self::SetDest,
            7 => Self::DelDest,
            8 => Self::GetDest,
            9 => Self::NewDaemon,
            10 => Self::DelDaemon,
            11 => Self::GetDaemon,
            12 => Self::SetConfig,
            13 => Self::GetConfig,
            14 => Self::SetInfo,
            15 => Self::GetInfo,
            16 => Self::Zero,
            17 => Self::Flush,
            other => Self::Other(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_round_trips_through_its_number() {
        for raw in 0..=u8::MAX {
            assert_eq!(u8::from(IpvsCmd::from(raw)), raw);
        }
        assert_eq!(u8::from(IpvsCmd::Flush), 17);
        assert_eq!(IpvsCmd::from(14), IpvsCmd::SetInfo);
    }
}
