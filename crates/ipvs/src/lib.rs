//! A client for the kernel's IPVS table over generic netlink, with batches and a reconciler.
