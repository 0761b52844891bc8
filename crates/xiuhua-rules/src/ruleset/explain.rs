//! Explanations: the `{name}` templates of items (parsed at load time) and the values an item
//! read, shown for a reader with code labels.

use xiuhua_domain::CodeCatalog;
use xiuhua_domain::message::{Message, msg};

use super::{ParamValues, RuleSet};
use crate::expr::{Ref, Scope};
use crate::schema::Facts;
use crate::value::{Val, show};

/// One piece of an explanation template.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Piece {
    /// Text shown as written.
    Text(String),
    /// A name whose value is shown.
    Ref(Ref),
}

impl RuleSet {
    /// The value of a referenced name, shown for a reader.
    fn show_ref(
        &self,
        r: Ref,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
        codes: Option<&CodeCatalog>,
    ) -> String {
        // Years read as years: 2019, not 2,019.
        let (name, value) = match r {
            Ref::Var(slot) => (self.def.level.vars()[slot].name, &facts.slots[slot]),
            Ref::Param(i) => (self.param_types[i].0.as_str(), &params.0[i]),
            Ref::Input(i) => (
                self.input_types[i].0.as_str(),
                inputs.get(i).unwrap_or(&Val::Unknown),
            ),
        };
        if let (true, Val::Int(y)) = (name.contains("year"), value) {
            return y.to_string();
        }
        match r {
            Ref::Var(slot) => {
                let def = &self.def.level.vars()[slot];
                show(&facts.slots[slot], def.code_list, codes)
            }
            Ref::Param(i) => show(&params.0[i], None, codes),
            Ref::Input(i) => show(inputs.get(i).unwrap_or(&Val::Unknown), None, codes),
        }
    }

    /// The label of a referenced name.
    pub fn ref_label(&self, r: Ref) -> String {
        match r {
            Ref::Var(slot) => self.def.level.vars()[slot].label_zh.to_string(),
            Ref::Param(i) => self.def.params[i].label.clone(),
            Ref::Input(i) => self.def.inputs[i].label.clone(),
        }
    }

    /// The values an item used, as (label, shown value).
    pub fn values_used(
        &self,
        item: usize,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
        codes: Option<&CodeCatalog>,
    ) -> Vec<(String, String)> {
        self.items[item]
            .compiled
            .refs
            .iter()
            .map(|r| {
                (
                    self.ref_label(*r),
                    self.show_ref(*r, facts, params, inputs, codes),
                )
            })
            .collect()
    }

    /// The explanation of an item for one unit, in Chinese.
    pub fn explain(
        &self,
        item: usize,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
        codes: Option<&CodeCatalog>,
    ) -> String {
        match &self.items[item].template {
            Some(pieces) => pieces
                .iter()
                .map(|p| match p {
                    Piece::Text(t) => t.clone(),
                    Piece::Ref(r) => self.show_ref(*r, facts, params, inputs, codes),
                })
                .collect(),
            None => self
                .values_used(item, facts, params, inputs, codes)
                .into_iter()
                .map(|(l, v)| format!("{l} {v}"))
                .collect::<Vec<_>>()
                .join("，"),
        }
    }
}

/// Splits an explanation template into text and `{name}` references, each name resolved in
/// `scope`; the error is (Chinese, English).
pub(super) fn parse_template(t: &str, scope: &Scope<'_>) -> Result<Vec<Piece>, Message> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Piece::Text(rest[..open].to_string()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(msg("rule_explain_unbalanced"));
        };
        let name = after[..close].trim();
        let r = if let Some(slot) = scope.level.vars().iter().position(|v| v.name == name) {
            Ref::Var(slot)
        } else if let Some(i) = scope.params.iter().position(|(n, _)| n == name) {
            Ref::Param(i)
        } else if let Some(i) = scope.inputs.iter().position(|(n, _)| n == name) {
            Ref::Input(i)
        } else {
            return Err(msg("rule_explain_unknown_name").arg("name", name));
        };
        out.push(Piece::Ref(r));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}
