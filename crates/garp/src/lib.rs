//! Gratuitous ARP and unsolicited IPv6 neighbour advertisements on raw packet sockets.
