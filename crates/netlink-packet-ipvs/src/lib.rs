//! Messages of the IPVS generic-netlink family, without I/O.
