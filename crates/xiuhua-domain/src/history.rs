//! Old values for a history: what each field a change sets held just before it, found by
//! folding the events once in order (each event's old values come from the state the events
//! before it built, so a history of n events costs one fold, not n).

use serde_json::Value;

use crate::event::{self, Change, Event, FoldError};
use crate::household::{FieldPatch, HouseholdState};

/// The value of `key` in a record's JSON: its own key, else its `extra` entry; `Null` if none.
fn value_in(record: &serde_json::Map<String, Value>, key: &str) -> Value {
    record
        .get(key)
        .or_else(|| record.get("extra").and_then(|e| e.get(key)))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The old values of the keys a change patches, read from the state before it (empty for a
/// change that patches nothing, or a member the state does not hold).
fn old_values(state: Option<&HouseholdState>, change: &Change) -> FieldPatch {
    if let (Some(s), Change::SetFacts { facts }) = (state, change) {
        return facts
            .keys()
            .map(|k| {
                (
                    k.clone(),
                    s.fields.facts.get(k).cloned().unwrap_or(Value::Null),
                )
            })
            .collect();
    }
    let (record, patch) = match (state, change) {
        (Some(s), Change::SetFields { patch }) => (serde_json::to_value(&s.fields).ok(), patch),
        (Some(s), Change::UpdateMember { member_id, patch }) => (
            s.members
                .iter()
                .find(|m| m.id == *member_id)
                .and_then(|m| serde_json::to_value(m).ok()),
            patch,
        ),
        _ => return FieldPatch::new(),
    };
    let Some(Value::Object(record)) = record else {
        return FieldPatch::new();
    };
    patch
        .keys()
        .map(|k| (k.clone(), value_in(&record, k)))
        .collect()
}

/// For each event (in the order given, which must be fold order: effective date, then id),
/// for each of its changes, the old values of the fields it sets. Events that cannot be folded
/// stop the walk with the fold's error.
pub fn old_values_by_event(events: &[Event]) -> Result<Vec<Vec<FieldPatch>>, FoldError> {
    let mut state: Option<HouseholdState> = None;
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let mut per_change = Vec::with_capacity(e.changes.len());
        for c in &e.changes {
            per_change.push(old_values(state.as_ref(), c));
            state = Some(event::apply(state, c, e.id)?);
        }
        out.push(per_change);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, SourceKind};
    use crate::household::{HouseholdFields, Member};
    use chrono::NaiveDate;

    fn ev(id: i64, day: u32, changes: Vec<Change>) -> Event {
        Event {
            id,
            household_id: 1,
            kind: EventKind::Edited,
            actor: "t".into(),
            recorded_at: chrono::DateTime::UNIX_EPOCH,
            effective_date: NaiveDate::from_ymd_opt(2020, 1, day).unwrap(),
            reason: String::new(),
            source: SourceKind::Manual,
            source_ref: None,
            changes,
        }
    }

    fn patch(pairs: &[(&str, Value)]) -> FieldPatch {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn each_change_gets_the_values_the_events_before_it_left() {
        let fields = HouseholdFields {
            household_no: "1".into(),
            farmland_mu: Some(2.5),
            ..Default::default()
        };
        let member = Member {
            id: 7,
            name: "甲".into(),
            relation: "01".into(),
            ..Default::default()
        };
        let events = vec![
            ev(
                1,
                1,
                vec![Change::Create {
                    fields,
                    members: vec![member],
                }],
            ),
            ev(
                2,
                2,
                vec![Change::SetFields {
                    patch: patch(&[
                        ("farmland_mu", serde_json::json!(3.0)),
                        ("phone", serde_json::json!("1")),
                    ]),
                }],
            ),
            ev(
                3,
                3,
                vec![
                    Change::SetFields {
                        patch: patch(&[("farmland_mu", serde_json::json!(4.0))]),
                    },
                    Change::UpdateMember {
                        member_id: 7,
                        patch: patch(&[("name", serde_json::json!("乙"))]),
                    },
                ],
            ),
        ];
        let old = old_values_by_event(&events).unwrap();
        assert!(old[0][0].is_empty());
        assert_eq!(
            old[1][0],
            patch(&[
                ("farmland_mu", serde_json::json!(2.5)),
                ("phone", Value::Null)
            ])
        );
        assert_eq!(old[2][0], patch(&[("farmland_mu", serde_json::json!(3.0))]));
        assert_eq!(old[2][1], patch(&[("name", serde_json::json!("甲"))]));
    }
}
