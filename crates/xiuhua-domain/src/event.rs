//! Registry events: the append-only history that is the source of truth.
//!
//! Every change to a household (creation, edits, members added, removed or moved, status
//! changes, corrections) is an [`Event`] with who, when, why and where it came from. The
//! current state and the state "as of" any date are both folds of the events in
//! (effective date, id) order, so a backdated correction changes exactly the fields it names
//! from its effective date on.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::household::{
    FieldPatch, HouseholdFields, HouseholdState, Member, MonitoringStatus, RegistryStatus,
};

/// What kind of change an event records (shown in the history timeline).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 新增户: the household was registered.
    Created,
    /// 信息变更: attributes edited.
    Edited,
    /// 户类型/监测状态变更: registry or monitoring status changed.
    StatusChanged,
    /// 新增成员 (birth, marriage, other move in).
    MemberAdded,
    /// 成员信息变更
    MemberEdited,
    /// 减少成员 (death, marriage out, other move out).
    MemberRemoved,
    /// 成员迁入: moved in from another household.
    MemberMovedIn,
    /// 成员迁出: moved out to another household.
    MemberMovedOut,
    /// 更正: an explicit correction of a closed year, with a reason.
    Correction,
    /// 入户核查 / 信息采集: facts the rule sets read recorded ([`Change::SetFacts`]).
    Survey,
}

impl EventKind {
    /// All kinds.
    pub const ALL: [EventKind; 10] = [
        EventKind::Created,
        EventKind::Edited,
        EventKind::StatusChanged,
        EventKind::MemberAdded,
        EventKind::MemberEdited,
        EventKind::MemberRemoved,
        EventKind::MemberMovedIn,
        EventKind::MemberMovedOut,
        EventKind::Correction,
        EventKind::Survey,
    ];

    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Edited => "edited",
            EventKind::StatusChanged => "status_changed",
            EventKind::MemberAdded => "member_added",
            EventKind::MemberEdited => "member_edited",
            EventKind::MemberRemoved => "member_removed",
            EventKind::MemberMovedIn => "member_moved_in",
            EventKind::MemberMovedOut => "member_moved_out",
            EventKind::Correction => "correction",
            EventKind::Survey => "survey",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            EventKind::Created => "建档",
            EventKind::Edited => "信息变更",
            EventKind::StatusChanged => "状态变更",
            EventKind::MemberAdded => "新增成员",
            EventKind::MemberEdited => "成员信息变更",
            EventKind::MemberRemoved => "减少成员",
            EventKind::MemberMovedIn => "成员迁入",
            EventKind::MemberMovedOut => "成员迁出",
            EventKind::Correction => "更正",
            EventKind::Survey => "入户核查",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            EventKind::Created => "registered",
            EventKind::Edited => "edited",
            EventKind::StatusChanged => "status changed",
            EventKind::MemberAdded => "member added",
            EventKind::MemberEdited => "member edited",
            EventKind::MemberRemoved => "member removed",
            EventKind::MemberMovedIn => "member moved in",
            EventKind::MemberMovedOut => "member moved out",
            EventKind::Correction => "correction",
            EventKind::Survey => "survey",
        }
    }
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Typed in by a person.
    Manual,
    /// Imported from a file (reference: file name, SHA-256, row).
    Import,
    /// Department data (医保, 民政 …).
    Department,
    /// A workflow step (identification, exit, monitoring).
    Workflow,
    /// The synthetic demo generator.
    Demo,
    /// 入户核查: seen at the household by a village operator or task-force member.
    Survey,
    /// 命令行: given on the command line by an operator of the server.
    Cli,
}

impl SourceKind {
    /// All kinds.
    pub const ALL: [SourceKind; 7] = [
        SourceKind::Manual,
        SourceKind::Import,
        SourceKind::Department,
        SourceKind::Workflow,
        SourceKind::Demo,
        SourceKind::Survey,
        SourceKind::Cli,
    ];

    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Manual => "manual",
            SourceKind::Import => "import",
            SourceKind::Department => "department",
            SourceKind::Workflow => "workflow",
            SourceKind::Demo => "demo",
            SourceKind::Survey => "survey",
            SourceKind::Cli => "cli",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            SourceKind::Manual => "手工录入",
            SourceKind::Import => "文件导入",
            SourceKind::Department => "部门数据",
            SourceKind::Workflow => "业务流程",
            SourceKind::Demo => "演示数据",
            SourceKind::Survey => "入户核查",
            SourceKind::Cli => "命令行",
        }
    }
}

/// One change inside an event. An event carries one or more of these.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// The household is registered with these fields and members.
    Create {
        /// Initial attributes.
        fields: HouseholdFields,
        /// Initial members.
        members: Vec<Member>,
    },
    /// Household fields are set to new values (only the named fields).
    SetFields {
        /// Field name → new value.
        patch: FieldPatch,
    },
    /// A member joins the household.
    AddMember {
        /// The member as they join.
        member: Member,
        /// 人员变更 reason code (新生儿, 嫁入, 其他转入 …).
        reason_code: Option<String>,
    },
    /// A member's fields are set to new values.
    UpdateMember {
        /// Which member.
        member_id: i64,
        /// Field name → new value.
        patch: FieldPatch,
    },
    /// A member leaves the household.
    RemoveMember {
        /// Which member.
        member_id: i64,
        /// 人员变更 reason code (死亡, 嫁出, 其他转出 …).
        reason_code: Option<String>,
    },
    /// 入户核查: facts the rule sets read are set (input name → value; `null` forgets one).
    SetFacts {
        /// Input name → new value.
        facts: BTreeMap<String, serde_json::Value>,
    },
}

impl Change {
    /// The personal data the change carries masked in place, by the same rules as
    /// [`HouseholdState::mask_personal_data`] (members as they join, patches by field name).
    pub fn mask_personal_data(&mut self) {
        match self {
            Change::Create { fields, members } => {
                fields.mask_personal_data();
                members.iter_mut().for_each(Member::mask_personal_data);
            }
            Change::SetFields { patch } | Change::UpdateMember { patch, .. } => {
                crate::household::mask_patch(patch)
            }
            Change::AddMember { member, .. } => member.mask_personal_data(),
            Change::RemoveMember { .. } | Change::SetFacts { .. } => {}
        }
    }
}

/// An event of the household history.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Event id; also the tie-breaker between events of the same effective date.
    pub id: i64,
    /// The household it belongs to.
    pub household_id: i64,
    /// What kind of change.
    pub kind: EventKind,
    /// Who made it (user name, or `system`/`demo`).
    pub actor: String,
    /// When it was written.
    pub recorded_at: DateTime<Utc>,
    /// From which date it is true (业务发生日期).
    pub effective_date: NaiveDate,
    /// Why (free text; required for corrections).
    pub reason: String,
    /// Where it came from.
    pub source: SourceKind,
    /// Source reference: file name + hash + row, department batch, workflow step.
    pub source_ref: Option<String>,
    /// The changes.
    pub changes: Vec<Change>,
}

/// Why a list of events cannot be folded into a household state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// A change other than `Create` came before the household existed.
    #[error("event {0} changes a household that does not exist yet")]
    NotCreated(i64),
    /// A second `Create`.
    #[error("event {0} creates a household that already exists")]
    AlreadyCreated(i64),
    /// A patch names a field that does not exist or has the wrong type.
    #[error("event {event}: field {field}: {reason}")]
    BadPatch {
        /// Event id.
        event: i64,
        /// Field name.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A change names a member that is not in the household.
    #[error("event {event}: member {member} is not in the household")]
    NoSuchMember {
        /// Event id.
        event: i64,
        /// Member id.
        member: i64,
    },
}

/// Applies one change to a state (or to nothing, for `Create`).
pub fn apply(
    state: Option<HouseholdState>,
    change: &Change,
    event_id: i64,
) -> Result<HouseholdState, FoldError> {
    match (state, change) {
        (None, Change::Create { fields, members }) => Ok(HouseholdState {
            fields: fields.clone(),
            members: members.clone(),
        }),
        (Some(_), Change::Create { .. }) => Err(FoldError::AlreadyCreated(event_id)),
        (None, _) => Err(FoldError::NotCreated(event_id)),
        (Some(mut s), Change::SetFields { patch }) => {
            s.fields = patch_struct(&s.fields, patch, event_id)?;
            Ok(s)
        }
        (Some(mut s), Change::AddMember { member, .. }) => {
            s.members.retain(|m| m.id != member.id);
            s.members.push(member.clone());
            Ok(s)
        }
        (Some(mut s), Change::UpdateMember { member_id, patch }) => {
            let m = s.members.iter_mut().find(|m| m.id == *member_id).ok_or(
                FoldError::NoSuchMember {
                    event: event_id,
                    member: *member_id,
                },
            )?;
            *m = patch_struct(m, patch, event_id)?;
            Ok(s)
        }
        (Some(mut s), Change::SetFacts { facts }) => {
            for (k, v) in facts {
                if v.is_null() {
                    s.fields.facts.remove(k);
                } else {
                    s.fields.facts.insert(k.clone(), v.clone());
                }
            }
            Ok(s)
        }
        (Some(mut s), Change::RemoveMember { member_id, .. }) => {
            let before = s.members.len();
            s.members.retain(|m| m.id != *member_id);
            if s.members.len() == before {
                return Err(FoldError::NoSuchMember {
                    event: event_id,
                    member: *member_id,
                });
            }
            Ok(s)
        }
    }
}

/// Folds events (already sorted by effective date, then id) into the resulting state.
pub fn fold<'a>(
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Option<HouseholdState>, FoldError> {
    let mut state = None;
    for e in events {
        for c in &e.changes {
            state = Some(apply(state, c, e.id)?);
        }
    }
    Ok(state)
}

/// The state as of the end of `date`: the fold of all events effective on or before it.
pub fn state_as_of(events: &[Event], date: NaiveDate) -> Result<Option<HouseholdState>, FoldError> {
    fold(events.iter().filter(|e| e.effective_date <= date))
}

/// Sorts events into fold order: effective date, then id.
pub fn sort_for_fold(events: &mut [Event]) {
    events.sort_by_key(|e| (e.effective_date, e.id));
}

/// Sets the named fields of a serialisable struct from a JSON patch.
fn patch_struct<T>(value: &T, patch: &FieldPatch, event: i64) -> Result<T, FoldError>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    let bad = |field: &str, reason: String| FoldError::BadPatch {
        event,
        field: field.to_string(),
        reason,
    };
    let mut json = serde_json::to_value(value).map_err(|e| bad("*", e.to_string()))?;
    let obj = json
        .as_object_mut()
        .ok_or_else(|| bad("*", "not an object".into()))?;
    for (k, v) in patch {
        match obj.get_mut(k).map(|slot| *slot = v.clone()) {
            Some(()) => {}
            // A catalogue field without a typed slot lives in the record's `extra` map.
            None if crate::fields::FieldCatalog::shipped()
                .find(k)
                .is_some_and(|d| d.stored)
                && obj.contains_key("extra") =>
            {
                let extra = obj
                    .entry("extra")
                    .or_insert_with(|| serde_json::Value::Object(Default::default()));
                if let Some(extra) = extra.as_object_mut() {
                    if v.is_null() {
                        extra.remove(k);
                    } else {
                        extra.insert(k.clone(), v.clone());
                    }
                }
            }
            None => return Err(bad(k, "unknown field".into())),
        }
    }
    serde_json::from_value(json).map_err(|e| bad(&first_key(patch), e.to_string()))
}

fn first_key(patch: &FieldPatch) -> String {
    patch.keys().next().cloned().unwrap_or_default()
}

/// The fields that differ between two values of a struct, as a patch from `old` to `new`.
pub fn diff<T: Serialize>(old: &T, new: &T) -> FieldPatch {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return FieldPatch::new();
    };
    b.into_iter().filter(|(k, v)| a.get(k) != Some(v)).collect()
}

/// A stretch of time over which the countable facts of a household did not change; used for
/// fast "as of" counts by region and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    /// First day of the period.
    pub valid_from: NaiveDate,
    /// First day after the period; `None` while it is current.
    pub valid_to: Option<NaiveDate>,
    /// 12-digit village code.
    pub village_code: String,
    /// 15-digit 村民小组 code, if the household is in one.
    pub group_code: Option<String>,
    /// 户类型 during the period.
    pub status: RegistryStatus,
    /// 监测状态 during the period.
    pub monitoring: MonitoringStatus,
    /// Number of members during the period.
    pub members: i64,
}

/// Computes the periods of a household from its events (sorted for fold).
pub fn periods(events: &[Event]) -> Result<Vec<Period>, FoldError> {
    let mut out: Vec<Period> = Vec::new();
    let mut state: Option<HouseholdState> = None;
    let mut i = 0;
    while i < events.len() {
        let date = events[i].effective_date;
        while i < events.len() && events[i].effective_date == date {
            for c in &events[i].changes {
                state = Some(apply(state, c, events[i].id)?);
            }
            i += 1;
        }
        let Some(s) = &state else { continue };
        let key = (
            s.fields.village_code.clone(),
            s.fields.group_code.clone(),
            s.fields.status,
            s.fields.monitoring,
            s.members.len() as i64,
        );
        if let Some(last) = out.last()
            && (
                last.village_code.clone(),
                last.group_code.clone(),
                last.status,
                last.monitoring,
                last.members,
            ) == key
        {
            continue;
        }
        if let Some(last) = out.last_mut() {
            last.valid_to = Some(date);
        }
        out.push(Period {
            valid_from: date,
            valid_to: None,
            village_code: key.0,
            group_code: key.1,
            status: key.2,
            monitoring: key.3,
            members: key.4,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ev(id: i64, date: NaiveDate, changes: Vec<Change>) -> Event {
        Event {
            id,
            household_id: 1,
            kind: EventKind::Edited,
            actor: "t".into(),
            recorded_at: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            effective_date: date,
            reason: String::new(),
            source: SourceKind::Manual,
            source_ref: None,
            changes,
        }
    }

    fn member(id: i64, relation: &str) -> Member {
        Member {
            id,
            name: format!("m{id}"),
            relation: relation.into(),
            ..Member::default()
        }
    }

    fn set(field: &str, v: serde_json::Value) -> Change {
        Change::SetFields {
            patch: [(field.to_string(), v)].into_iter().collect(),
        }
    }

    fn history() -> Vec<Event> {
        let fields = HouseholdFields {
            household_no: "H1".into(),
            village_code: "451228101201".into(),
            status: RegistryStatus::Poor,
            ..HouseholdFields::default()
        };
        let mut events = vec![
            ev(
                1,
                d(2015, 3, 1),
                vec![Change::Create {
                    fields,
                    members: vec![member(10, "01"), member(11, "02")],
                }],
            ),
            ev(
                2,
                d(2017, 11, 30),
                vec![
                    set("status", "lifted".into()),
                    set("exit_year", 2017.into()),
                ],
            ),
            ev(
                3,
                d(2018, 5, 1),
                vec![Change::AddMember {
                    member: member(12, "03"),
                    reason_code: Some("06".into()),
                }],
            ),
            // A backdated correction recorded later: the phone was known from 2016 on.
            ev(4, d(2016, 1, 1), vec![set("phone", "13800000000".into())]),
        ];
        sort_for_fold(&mut events);
        events
    }

    #[test]
    fn as_of_folds_only_effective_events() {
        let events = history();
        assert!(state_as_of(&events, d(2015, 2, 28)).unwrap().is_none());
        let s = state_as_of(&events, d(2016, 6, 1)).unwrap().unwrap();
        assert_eq!(s.fields.status, RegistryStatus::Poor);
        assert_eq!(s.fields.phone.as_deref(), Some("13800000000"));
        let s = state_as_of(&events, d(2017, 11, 30)).unwrap().unwrap();
        assert_eq!(s.fields.status, RegistryStatus::Lifted);
        assert_eq!(s.members.len(), 2);
        let s = fold(&events).unwrap().unwrap();
        assert_eq!(s.members.len(), 3);
        assert_eq!(s.fields.exit_year, Some(2017));
    }

    #[test]
    fn periods_split_on_status_and_member_count_only() {
        let p = periods(&history()).unwrap();
        let summary: Vec<_> = p
            .iter()
            .map(|p| (p.valid_from, p.valid_to, p.status, p.members))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    d(2015, 3, 1),
                    Some(d(2017, 11, 30)),
                    RegistryStatus::Poor,
                    2
                ),
                (
                    d(2017, 11, 30),
                    Some(d(2018, 5, 1)),
                    RegistryStatus::Lifted,
                    2
                ),
                (d(2018, 5, 1), None, RegistryStatus::Lifted, 3),
            ]
        );
    }

    #[test]
    fn bad_patches_and_missing_members_are_errors() {
        let mut events = history();
        events.push(ev(9, d(2020, 1, 1), vec![set("no_such_field", 1.into())]));
        assert!(matches!(fold(&events), Err(FoldError::BadPatch { .. })));
        events.pop();
        events.push(ev(
            9,
            d(2020, 1, 1),
            vec![set("exit_year", "not a year".into())],
        ));
        assert!(matches!(fold(&events), Err(FoldError::BadPatch { .. })));
        events.pop();
        events.push(ev(
            9,
            d(2020, 1, 1),
            vec![Change::RemoveMember {
                member_id: 99,
                reason_code: None,
            }],
        ));
        assert_eq!(
            fold(&events),
            Err(FoldError::NoSuchMember {
                event: 9,
                member: 99
            })
        );
    }

    #[test]
    fn diff_names_only_changed_fields_and_round_trips() {
        let a = HouseholdFields {
            household_no: "H".into(),
            ..HouseholdFields::default()
        };
        let mut b = a.clone();
        b.phone = Some("1".into());
        b.status = RegistryStatus::Lifted;
        let p = diff(&a, &b);
        assert_eq!(
            p.keys().cloned().collect::<Vec<_>>(),
            vec!["phone".to_string(), "status".to_string()]
        );
        assert_eq!(patch_struct(&a, &p, 0).unwrap(), b);
    }
}
