//! Policy as data: rule sets for exit standards, identification scorecards, monitoring lines and
//! data-quality checks (see `docs/rules.md` for the file format and the variables).
//!
//! A rule set is a TOML file whose items are CEL expressions. [`RuleSet::load`] checks a file
//! completely (syntax, names, types, explanation placeholders) and refuses it with the file, item
//! and position of the first problem; a loaded set never fails at evaluation time: missing data,
//! division by zero and the like give [`Outcome::Unknown`].
//!
//! **Invariant:** no IO, no clock: the as-of date and the data are parameters.

pub mod expr;
pub mod ruleset;
pub mod schema;
pub mod value;

pub use expr::{ExprError, Ref};
pub use ruleset::{
    ItemOutcome, Kind, LoadError, ParamValue, ParamValues, Purpose, RuleSet, RuleSetDef, SetOutcome,
};
pub use schema::{AreaCounts, Facts, Level, MemberFacts, Ty};
pub use value::{Outcome, Val};

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// Loads every shipped rule set. They are checked by the test suite, so an error here is a bug.
pub fn shipped() -> Result<Vec<RuleSet>, LoadError> {
    SHIPPED
        .iter()
        .map(|(name, text)| RuleSet::load(&format!("rules/{name}"), text))
        .collect()
}
