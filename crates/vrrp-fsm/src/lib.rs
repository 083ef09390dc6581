//! The VRRP election state machine, sans-IO: time is an input, actions are outputs.
