//! Benchmarks that are not part of the product (not a default workspace member, so a plain
//! `cargo build` or `cargo test` at the root leaves it out; `cargo test --workspace` runs it).
//!
//! - [`sql`]: compiled rule items as DuckDB SQL, for a peer to evaluate the same predicates.
//! - [`rules`] (feature `harness`): every shipped household exit, monitoring and quality rule set
//!   over households from the demo generator, timed, with the data and the predicates written for
//!   DuckDB (`bench/rules` runs both and compares their counts predicate by predicate).

#[cfg(feature = "harness")]
pub mod rules;
pub mod sql;
