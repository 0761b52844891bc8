//! Evaluation of a loaded rule set for one unit: each item's outcome, the decision (required
//! items, vetoes, triggers, score), and the quota applied over a batch.

use serde::{Deserialize, Serialize};

use super::{Item, Kind, ParamValues, RuleSet, Scoring};
use crate::expr::Cx;
use crate::schema::Facts;
use crate::value::{Outcome, Val};

/// The result of one item for one unit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemOutcome {
    /// Pass/fail/unknown (for score items: pass when the points are known).
    pub outcome: Outcome,
    /// Points of a score item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<f64>,
}

/// The result of a whole set for one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetOutcome {
    /// Whether the set holds (meets the standard / should be monitored / identified / clean).
    pub decision: Outcome,
    /// Total score, for sets with score items (unknown if any item is unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// One per item, in file order.
    pub items: Vec<ItemOutcome>,
    /// The decision without the score criterion (required items, vetoes, triggers): what a quota
    /// ranks among.
    #[serde(default = "unknown_outcome")]
    pub eligible: Outcome,
}

fn unknown_outcome() -> Outcome {
    Outcome::Unknown
}

/// The running decision while a set's items are evaluated in order.
struct Tally {
    required: Outcome,
    veto: Outcome,
    trigger: Option<Outcome>,
    score: Option<f64>,
}

impl RuleSet {
    /// Evaluates every item and the decision for one unit.
    pub fn evaluate(
        &self,
        facts: &Facts<'_>,
        params: &ParamValues,
        inputs: &[Val<'_>],
    ) -> SetOutcome {
        let mut cx = Cx {
            facts,
            params: &params.0,
            inputs,
            locals: Vec::new(),
        };
        let mut items = Vec::with_capacity(self.items.len());
        let mut tally = Tally {
            required: Outcome::Pass,
            veto: Outcome::Fail,
            trigger: None,
            score: Some(0.0),
        };
        for it in &self.items {
            items.push(tally.item(it, &mut cx));
        }
        let mut decision = tally.required.and(tally.veto.negate());
        if let Some(t) = tally.trigger {
            decision = decision.and(t);
        }
        let eligible = decision;
        let mut total = None;
        if let Some(s) = &self.def.scoring {
            total = tally.score;
            decision = decision.and(by_score(s, tally.score));
        }
        SetOutcome {
            decision,
            score: total,
            items,
            eligible,
        }
    }

    /// The quota of `[scoring]`, if the set has one.
    pub fn quota(&self) -> Option<u64> {
        self.def.scoring.as_ref().and_then(|s| s.quota)
    }

    /// Applies the quota of `[scoring]` to the outcomes of one batch (one county): among the units
    /// that are eligible, scored and (with a cut-off) past it, the `quota` best-ranked hold —
    /// lowest scores first for `below` — and the others do not; ties keep batch order. Returns
    /// false (and changes nothing) when the set has no quota.
    pub fn apply_quota(&self, outcomes: &mut [SetOutcome]) -> bool {
        let Some(s) = &self.def.scoring else {
            return false;
        };
        let Some(quota) = s.quota else {
            return false;
        };
        let mut ranked: Vec<(usize, f64)> = outcomes
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.eligible == Outcome::Pass
                    && o.score.is_some()
                    && (s.cutoff.is_none() || o.decision == Outcome::Pass)
            })
            .filter_map(|(i, o)| Some((i, o.score?)))
            .collect();
        if s.holds_when == "above" {
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        } else {
            ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        }
        for (rank, (i, _)) in ranked.into_iter().enumerate() {
            outcomes[i].decision = if (rank as u64) < quota {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
        }
        true
    }
}

impl Tally {
    /// Evaluates one item and adds its outcome to the tally.
    fn item<'a>(&mut self, it: &'a Item, cx: &mut Cx<'a>) -> ItemOutcome {
        let v = it.compiled.node.eval(cx);
        match it.def.kind {
            Kind::Score => {
                let p = v.as_f64();
                self.score = self.score.zip(p).map(|(a, b)| a + b);
                ItemOutcome {
                    outcome: if p.is_some() {
                        Outcome::Pass
                    } else {
                        Outcome::Unknown
                    },
                    points: p,
                }
            }
            kind => {
                let o = Outcome::of(&v);
                match kind {
                    Kind::Required => self.required = self.required.and(o),
                    Kind::Veto => self.veto = self.veto.or(o),
                    Kind::Trigger => {
                        self.trigger = Some(self.trigger.unwrap_or(Outcome::Fail).or(o))
                    }
                    _ => {}
                }
                ItemOutcome {
                    outcome: o,
                    points: None,
                }
            }
        }
    }
}

/// The score criterion of `[scoring]` for a total (unknown with only a quota: decided by rank
/// in a batch run).
fn by_score(s: &Scoring, score: Option<f64>) -> Outcome {
    match (score, s.cutoff) {
        // Only a quota: decided by rank in a batch run.
        (_, None) => Outcome::Unknown,
        (None, _) => Outcome::Unknown,
        (Some(x), Some(c))
            if (s.holds_when == "below" && x < c) || (s.holds_when == "above" && x > c) =>
        {
            Outcome::Pass
        }
        (Some(_), Some(_)) => Outcome::Fail,
    }
}
