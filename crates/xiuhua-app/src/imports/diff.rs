//! What a dry run would change, per household: a new household with its members, or the fields
//! that change (old → new), members added, removed and changed. Values are kept as the JSON
//! values of the stored records (the keys are the records' JSON keys, as in an event's patch),
//! so a page shows them the way the household page shows its history; personal data (identity
//! numbers, phones, accounts, birth dates) is masked as the household lists show it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use xiuhua_domain::household::{FieldPatch, mask_id_number, mask_patch};
use xiuhua_domain::{FieldCatalog, HouseholdFields, HouseholdState, Member};

/// At most this many household diffs are kept in a report (the count of all is kept too).
pub const MAX_DIFFS: usize = 5_000;

/// One field that changes: its JSON key, the value before and after (`null`: none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// The field's key in the record's JSON (its catalogue name, or its Rust path for a typed
    /// slot).
    pub field: String,
    /// The stored value (masked if personal).
    pub old: Value,
    /// The value from the file (masked if personal).
    pub new: Value,
}

/// A member as a diff names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRef {
    /// 姓名.
    pub name: String,
    /// 证件号码, masked as the lists show it.
    pub id_number: String,
    /// 与户主关系 (code).
    pub relation: String,
}

/// A member whose fields change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberDiff {
    /// Who.
    pub member: MemberRef,
    /// What changes.
    pub fields: Vec<FieldDiff>,
}

/// What an import would do to one household.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdDiff {
    /// 户编号.
    pub household_no: String,
    /// 户主 (from the file), empty when the household has no single head.
    pub head_name: String,
    /// Sheet of the household's rows.
    pub sheet: String,
    /// First row of the household (as Excel shows it).
    pub row: usize,
    /// A new household (its members are all in `members_added`).
    pub new: bool,
    /// Household fields that change (existing households), in catalogue order.
    pub fields: Vec<FieldDiff>,
    /// Members added (every member, for a new household).
    pub members_added: Vec<MemberRef>,
    /// Members removed.
    pub members_removed: Vec<MemberRef>,
    /// Members whose fields change.
    pub members_changed: Vec<MemberDiff>,
}

impl MemberRef {
    fn of(m: &Member) -> MemberRef {
        MemberRef {
            name: m.name.clone(),
            id_number: mask_id_number(&m.id_number),
            relation: m.relation.clone(),
        }
    }
}

impl HouseholdDiff {
    /// A new household read from `sheet` at `row`.
    pub fn created(household_no: &str, sheet: &str, row: usize, state: &HouseholdState) -> Self {
        HouseholdDiff {
            household_no: household_no.to_string(),
            head_name: head_name(state),
            sheet: sheet.to_string(),
            row,
            new: true,
            fields: Vec::new(),
            members_added: state.members.iter().map(MemberRef::of).collect(),
            members_removed: Vec::new(),
            members_changed: Vec::new(),
        }
    }

    /// The change from `base` (stored) to `new` (the file) of an existing household; members
    /// are matched by identity number, as the import matches them.
    pub fn changed(
        household_no: &str,
        sheet: &str,
        row: usize,
        base: &HouseholdState,
        new: &HouseholdState,
    ) -> Self {
        let mut d = HouseholdDiff {
            household_no: household_no.to_string(),
            head_name: head_name(new),
            sheet: sheet.to_string(),
            row,
            new: false,
            fields: record_diff::<HouseholdFields>(&base.fields, &new.fields),
            members_added: Vec::new(),
            members_removed: Vec::new(),
            members_changed: Vec::new(),
        };
        for m in &new.members {
            match base.members.iter().find(|o| o.id_number == m.id_number) {
                Some(o) => {
                    let fields = record_diff::<Member>(o, m);
                    if !fields.is_empty() {
                        d.members_changed.push(MemberDiff {
                            member: MemberRef::of(m),
                            fields,
                        });
                    }
                }
                None => d.members_added.push(MemberRef::of(m)),
            }
        }
        for o in &base.members {
            if !new.members.iter().any(|m| m.id_number == o.id_number) {
                d.members_removed.push(MemberRef::of(o));
            }
        }
        d
    }
}

fn head_name(state: &HouseholdState) -> String {
    state.head().map(|m| m.name.clone()).unwrap_or_default()
}

/// The fields of a record that differ, old → new, masked, in catalogue order; the `extra` map
/// of untyped catalogue fields is compared key by key.
fn record_diff<T: Serialize>(old: &T, new: &T) -> Vec<FieldDiff> {
    let as_map = |v: &T| match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let (mut a, mut b) = (as_map(old), as_map(new));
    let mut old_patch = FieldPatch::new();
    let mut new_patch = FieldPatch::new();
    let mut add = |k: String, o: Option<Value>, n: Option<Value>| {
        let (o, n) = (o.unwrap_or(Value::Null), n.unwrap_or(Value::Null));
        if o != n && !(is_nothing(&o) && is_nothing(&n)) {
            old_patch.insert(k.clone(), o);
            new_patch.insert(k, n);
        }
    };
    let extra_of = |m: &mut serde_json::Map<String, Value>| match m.remove("extra") {
        Some(Value::Object(x)) => x,
        _ => serde_json::Map::new(),
    };
    let (mut xa, xb) = (extra_of(&mut a), extra_of(&mut b));
    for (k, n) in xb {
        let o = xa.remove(&k);
        add(k, o, Some(n));
    }
    for (k, o) in xa {
        add(k, Some(o), None);
    }
    a.remove("id");
    b.remove("id");
    for (k, n) in b {
        let o = a.remove(&k);
        add(k, o, Some(n));
    }
    for (k, o) in a {
        add(k, Some(o), None);
    }
    mask_patch(&mut old_patch);
    mask_patch(&mut new_patch);
    let mut out: Vec<FieldDiff> = new_patch
        .into_iter()
        .map(|(field, new)| FieldDiff {
            old: old_patch.remove(&field).unwrap_or(Value::Null),
            field,
            new,
        })
        .collect();
    out.sort_by_key(|d| catalogue_position(&d.field));
    out
}

/// `null`, `false` the compact storage leaves out, an empty text or list: no value.
fn is_nothing(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Where a JSON key's field stands in the catalogue (unknown keys last).
fn catalogue_position(key: &str) -> usize {
    let cat = FieldCatalog::shipped();
    cat.all()
        .iter()
        .position(|d| {
            d.name == key
                || HouseholdFields::json_key(&d.name)
                    .or(Member::json_key(&d.name))
                    .is_some_and(|k| k == key || k.split('.').next() == Some(key))
        })
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, id: &str, relation: &str) -> Member {
        Member {
            name: name.into(),
            id_number: id.into(),
            relation: relation.into(),
            ..Member::default()
        }
    }

    #[test]
    fn changed_fields_members_added_removed_and_changed() {
        let mut base = HouseholdState::default();
        base.fields.household_no = "451228100001001".into();
        base.fields.farmland_mu = Some(2.0);
        base.members = vec![
            member("张三", "451228197001011234", "01"),
            member("李四", "451228197201011246", "10"),
        ];
        let mut new = base.clone();
        new.fields.farmland_mu = Some(3.5);
        new.members.retain(|m| m.name != "李四");
        new.members.push(member("张小", "451228200001011238", "20"));
        new.members[0].phone = Some("13812345678".into());
        let d = HouseholdDiff::changed("451228100001001", "Sheet1", 3, &base, &new);
        assert!(!d.new);
        assert_eq!(d.head_name, "张三");
        assert_eq!(
            d.fields,
            vec![FieldDiff {
                field: "farmland_mu".into(),
                old: serde_json::json!(2.0),
                new: serde_json::json!(3.5),
            }]
        );
        assert_eq!(d.members_added.len(), 1);
        assert_eq!(d.members_added[0].name, "张小");
        assert_eq!(d.members_added[0].id_number, "451228**********38");
        assert_eq!(d.members_removed[0].name, "李四");
        assert_eq!(d.members_changed.len(), 1);
        let phone = &d.members_changed[0].fields[0];
        assert_eq!(phone.field, "phone");
        assert_eq!(phone.old, Value::Null);
        assert_eq!(phone.new, serde_json::json!("138****5678"));
    }

    #[test]
    fn an_unchanged_household_has_an_empty_diff() {
        let s = HouseholdState {
            members: vec![member("张三", "451228197001011234", "01")],
            ..HouseholdState::default()
        };
        let d = HouseholdDiff::changed("1", "S", 2, &s, &s.clone());
        assert!(d.fields.is_empty() && d.members_changed.is_empty());
        assert!(d.members_added.is_empty() && d.members_removed.is_empty());
    }
}
