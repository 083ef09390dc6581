//! Virtual addresses, routes, rules and VMAC interfaces through rtnetlink, and link-state watching.
