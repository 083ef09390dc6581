//! Criterion benchmarks for lvskit live in `benches/`; this library holds the fixtures they share.
