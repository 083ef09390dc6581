//! Network-namespace test networks for lvskit's root-only tests.
