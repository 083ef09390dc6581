#![no_std]
//! VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568) advertisement codecs: zero-copy views and owned reprs, no_std.
