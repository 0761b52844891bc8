//! Rule sets: the TOML file format, loading with complete checking, and evaluation of one unit
//! (household, village or county) with its explanation.
//!
//! The parts live in submodules: `format` (the file as written: [`RuleSetDef`]), `load`
//! ([`RuleSet::load`] and [`LoadError`]), `evaluate` ([`RuleSet::evaluate`] → [`SetOutcome`],
//! quotas) and `explain` (templates and the values an item used). This module holds the loaded
//! [`RuleSet`] and the parameter and input values it is evaluated with.

mod evaluate;
mod explain;
mod format;
mod groups;
mod load;

use std::collections::BTreeMap;

use crate::expr::Compiled;
use crate::schema::Ty;
use crate::value::Val;

pub use evaluate::{ItemOutcome, SetOutcome};
pub use format::{Input, ItemDef, Kind, Param, ParamValue, Purpose, RuleSetDef, Scoring};
pub use groups::{INPUT_GROUPS, OTHER_GROUP, default_group, group_rank};
pub use load::LoadError;

/// A compiled item.
#[derive(Clone, Debug)]
pub struct Item {
    /// As written.
    pub def: ItemDef,
    /// The compiled expression.
    pub compiled: Compiled,
    /// The parsed explanation template, if the item has one.
    template: Option<Vec<explain::Piece>>,
}

/// A loaded, fully checked rule set.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// As written.
    pub def: RuleSetDef,
    /// Compiled items, in file order.
    pub items: Vec<Item>,
    /// The source text (stored with every version).
    pub source: String,
    /// Parameter names and types, in file order.
    pub param_types: Vec<(String, Ty)>,
    /// Input names and types, in file order.
    pub input_types: Vec<(String, Ty)>,
}

/// Parameter values for one year, ready for evaluation.
#[derive(Clone, Debug)]
pub struct ParamValues(pub Vec<Val<'static>>);

impl RuleSet {
    /// Whether the set as a whole is 未经证实: its file says so (`unconfirmed = true` at the top).
    /// This is the one answer the CLI and the web give; a parameter or item not confirmed by a
    /// source carries its own mark ([`RuleSet::unconfirmed_parts`]) and does not make the whole
    /// set unconfirmed.
    pub fn is_unconfirmed(&self) -> bool {
        self.def.unconfirmed
    }

    /// How many parameters and items are marked as not confirmed by a source.
    pub fn unconfirmed_parts(&self) -> usize {
        self.def.params.values().filter(|p| p.unconfirmed).count()
            + self.items.iter().filter(|i| i.def.unconfirmed).count()
    }

    /// Whether the set applies to a unit in `region_code` in `year`.
    pub fn applies(&self, region_code: &str, year: i32) -> bool {
        region_code.starts_with(&self.def.region)
            && self.def.years[0] <= year
            && self.def.years.get(1).is_none_or(|last| year <= *last)
    }

    /// Parameter values for `year`, with optional overrides (what-if) by name.
    pub fn params_for(&self, year: i32, overrides: &BTreeMap<String, ParamValue>) -> ParamValues {
        ParamValues(
            self.def
                .params
                .iter()
                .zip(&self.param_types)
                .map(|((name, p), (_, ty))| {
                    let v = overrides.get(name).or_else(|| p.for_year(year));
                    match (v, ty) {
                        (Some(ParamValue::Int(i)), Ty::Double) => Val::Double(*i as f64),
                        (Some(v), _) => v.val(),
                        (None, _) => Val::Unknown,
                    }
                })
                .collect(),
        )
    }

    /// The 信息采集表 group of a declared input: its own `group`, else the shipped table's.
    pub fn input_group(&self, name: &str) -> &str {
        match self.def.inputs.get(name).and_then(|i| i.group.as_deref()) {
            Some(g) => g,
            None => default_group(name),
        }
    }

    /// Every declared input unknown (nothing given).
    pub fn unknown_inputs(&self) -> Vec<Val<'static>> {
        vec![Val::Unknown; self.input_types.len()]
    }

    /// Input values by name (missing names are unknown), in declaration order.
    pub fn inputs_from(&self, facts: &BTreeMap<String, serde_json::Value>) -> Vec<Val<'static>> {
        self.input_types
            .iter()
            .map(
                |(name, ty)| match (facts.get(name).map(Val::from_json), ty) {
                    (Some(Val::Int(i)), Ty::Double) => Val::Double(i as f64),
                    (Some(v @ Val::Bool(_)), Ty::Bool)
                    | (Some(v @ Val::Int(_)), Ty::Int)
                    | (Some(v @ Val::Double(_)), Ty::Double)
                    | (Some(v @ Val::Str(_)), Ty::Str) => v,
                    _ => Val::Unknown,
                },
            )
            .collect()
    }
}
