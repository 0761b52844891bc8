//! What an expression can read: the variables of each level (household, village, county), the
//! fields of a member, their types, and how they are filled from the registry ([`Facts`]).
//!
//! The tables here are the contract documented in `docs/rules.md`; a test keeps the two in step.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

use xiuhua_domain::fields::FieldGetter;
use xiuhua_domain::{
    FieldCatalog, FieldDef, FieldLevel, FieldRef, FieldType, HouseholdFields, HouseholdState,
    IdNumber, Member,
};

use crate::value::Val;

/// The type of an element of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Elem {
    /// bool
    Bool,
    /// int
    Int,
    /// double
    Double,
    /// string
    Str,
    /// a household member
    Member,
}

/// The static type of an expression or variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// bool
    Bool,
    /// int (64-bit)
    Int,
    /// double
    Double,
    /// string
    Str,
    /// a household member (only as a comprehension variable)
    Member,
    /// a list
    List(Elem),
}

impl Ty {
    /// The element type as a type.
    pub fn of_elem(e: Elem) -> Ty {
        match e {
            Elem::Bool => Ty::Bool,
            Elem::Int => Ty::Int,
            Elem::Double => Ty::Double,
            Elem::Str => Ty::Str,
            Elem::Member => Ty::Member,
        }
    }

    /// The list element type of a scalar type.
    pub fn as_elem(self) -> Option<Elem> {
        Some(match self {
            Ty::Bool => Elem::Bool,
            Ty::Int => Elem::Int,
            Ty::Double => Elem::Double,
            Ty::Str => Elem::Str,
            Ty::Member => Elem::Member,
            Ty::List(_) => return None,
        })
    }

    /// Whether the type is int or double.
    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Int | Ty::Double)
    }

    /// The CEL name of the type, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Double => "double",
            Ty::Str => "string",
            Ty::Member => "member",
            Ty::List(Elem::Member) => "list(member)",
            Ty::List(Elem::Str) => "list(string)",
            Ty::List(Elem::Int) => "list(int)",
            Ty::List(Elem::Double) => "list(double)",
            Ty::List(Elem::Bool) => "list(bool)",
        }
    }
}

/// A variable (or member field) an expression can read.
#[derive(Clone, Copy, Debug)]
pub struct VarDef {
    /// The name in expressions.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Chinese label, used in explanations.
    pub label_zh: &'static str,
    /// The code list its values come from, so explanations can show labels.
    pub code_list: Option<&'static str>,
}

const fn v(name: &'static str, ty: Ty, label_zh: &'static str) -> VarDef {
    VarDef {
        name,
        ty,
        label_zh,
        code_list: None,
    }
}

/// What one evaluation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One household (户) and its members.
    Household,
    /// One 行政村, from counts over its households.
    Village,
    /// One county, from counts over its households.
    County,
}

impl Level {
    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Household => "household",
            Level::Village => "village",
            Level::County => "county",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Household => "户",
            Level::Village => "村",
            Level::County => "县",
        }
    }

    /// The variables of this level, in slot order.
    pub fn vars(self) -> &'static [VarDef] {
        match self {
            Level::Household => &SHIPPED.household,
            Level::Village | Level::County => AREA_VARS,
        }
    }
}

/// The variables of a level: derived ones first (fixed slots), then the rules fields of the
/// field catalogue (`xiuhua_domain::fields`, `rules = yes`), in catalogue order. A constant
/// handle, so `HOUSEHOLD_VARS[slot]` and `HOUSEHOLD_VARS.iter()` read like a slice.
#[derive(Clone, Copy)]
pub struct Vars(fn() -> &'static [VarDef]);

impl std::ops::Deref for Vars {
    type Target = [VarDef];
    fn deref(&self) -> &[VarDef] {
        (self.0)()
    }
}

impl IntoIterator for Vars {
    type Item = &'static VarDef;
    type IntoIter = std::slice::Iter<'static, VarDef>;
    fn into_iter(self) -> Self::IntoIter {
        (self.0)().iter()
    }
}

impl AsRef<[VarDef]> for Vars {
    fn as_ref(&self) -> &[VarDef] {
        self
    }
}

/// Household variables; the index is the slot in [`Facts::slots`].
pub const HOUSEHOLD_VARS: Vars = Vars(|| &SHIPPED.household);

/// Member fields; the index is the slot in [`MemberFacts::slots`].
pub const MEMBER_VARS: Vars = Vars(|| &SHIPPED.member);

/// Household variables computed from several fields (slots 0 … `DERIVED_HOUSEHOLD.len()-1`).
const DERIVED_HOUSEHOLD: &[VarDef] = &[
    v("year", Ty::Int, "评估年度"),
    v("county_code", Ty::Str, "县代码"),
    v("township_code", Ty::Str, "乡镇代码"),
    v("housing_area_per_capita", Ty::Double, "人均住房面积（㎡）"),
    v("farmland_per_capita", Ty::Double, "人均耕地（亩）"),
    v("forest_per_capita", Ty::Double, "人均林地（亩）"),
    v("income_net", Ty::Double, "家庭纯收入（元）"),
    v("income_per_capita", Ty::Double, "人均纯收入（元）"),
    v("people", Ty::Int, "家庭人口"),
    v("members", Ty::List(Elem::Member), "家庭成员"),
];

/// Slot of `members` in [`HOUSEHOLD_VARS`].
pub const MEMBERS_SLOT: usize = DERIVED_HOUSEHOLD.len() - 1;

/// Member variables computed from the identity number and relation.
const DERIVED_MEMBER: &[VarDef] = &[
    v("age", Ty::Int, "年龄"),
    v("birth_year", Ty::Int, "出生年份"),
    v("is_head", Ty::Bool, "户主"),
    v("id_number_valid", Ty::Bool, "身份证号校验"),
];

/// The variables of a field catalogue, and where their values come from.
pub struct Schema {
    household: Vec<VarDef>,
    member: Vec<VarDef>,
    household_src: Vec<(FieldGetter<'static, HouseholdFields>, FieldType)>,
    member_src: Vec<(FieldGetter<'static, Member>, FieldType)>,
}

static SHIPPED: LazyLock<Schema> = LazyLock::new(|| Schema::new(FieldCatalog::shipped()));

fn ty_of(t: FieldType) -> Ty {
    match t {
        FieldType::Bool => Ty::Bool,
        FieldType::Year | FieldType::Int => Ty::Int,
        FieldType::Decimal | FieldType::Money => Ty::Double,
        FieldType::Codes => Ty::List(Elem::Str),
        _ => Ty::Str,
    }
}

fn var_of(d: &'static FieldDef) -> VarDef {
    VarDef {
        name: &d.name,
        ty: ty_of(d.ty),
        label_zh: &d.label_zh,
        code_list: d.code_list.as_deref(),
    }
}

impl Schema {
    /// The schema of a field catalogue: the derived variables, then every `rules` field.
    pub fn new(fields: &'static FieldCatalog) -> Schema {
        let rules = |level| {
            fields
                .stored(level)
                .filter(|d| d.rules)
                .collect::<Vec<&'static FieldDef>>()
        };
        let (h, m) = (rules(FieldLevel::Household), rules(FieldLevel::Member));
        Schema {
            household: DERIVED_HOUSEHOLD
                .iter()
                .copied()
                .chain(h.iter().map(|d| var_of(d)))
                .collect(),
            member: DERIVED_MEMBER
                .iter()
                .copied()
                .chain(m.iter().map(|d| var_of(d)))
                .collect(),
            household_src: h.iter().map(|d| (FieldGetter::of(d), d.ty)).collect(),
            member_src: m.iter().map(|d| (FieldGetter::of(d), d.ty)).collect(),
        }
    }

    /// The schema of the shipped catalogue.
    pub fn shipped() -> &'static Schema {
        &SHIPPED
    }

    /// Household variables, in slot order.
    pub fn household(&self) -> &[VarDef] {
        &self.household
    }

    /// Member variables, in slot order.
    pub fn member(&self) -> &[VarDef] {
        &self.member
    }
}

/// A catalogue value as an expression value. A list field without values is the empty list;
/// money of a household without income data is unknown.
fn val_of(v: Option<FieldRef<'_>>, ty: FieldType, known_money: bool) -> Val<'_> {
    match v {
        None if ty == FieldType::Codes => Val::StrSlice(&[]),
        None => Val::Unknown,
        Some(FieldRef::Text(t)) => s(t),
        Some(FieldRef::Codes(c)) => Val::StrSlice(c),
        Some(FieldRef::Bool(b)) => Val::Bool(b),
        Some(FieldRef::Int(n)) => Val::Int(n),
        Some(FieldRef::Decimal(x)) => Val::Double(x),
        Some(FieldRef::Money(m)) if known_money => Val::Double(m.0 as f64 / 100.0),
        Some(FieldRef::Money(_)) => Val::Unknown,
        Some(FieldRef::Date(d)) => Val::Str(Cow::Owned(d.to_string())),
    }
}

/// Village and county variables; the index is the slot in [`Facts::slots`].
pub const AREA_VARS: &[VarDef] = &[
    v("year", Ty::Int, "评估年度"),
    v("region_code", Ty::Str, "区划代码"),
    v("households", Ty::Int, "户数"),
    v("people", Ty::Int, "人数"),
    v("poor_households", Ty::Int, "贫困户数"),
    v("poor_people", Ty::Int, "贫困人口"),
    v("lifted_households", Ty::Int, "已脱贫户数"),
    v("lifted_people", Ty::Int, "已脱贫人口"),
    v("monitored_households", Ty::Int, "监测户数"),
    v("monitored_people", Ty::Int, "监测人口"),
];

/// Looks a variable up by name.
pub fn find_var(vars: impl AsRef<[VarDef]>, name: &str) -> Option<usize> {
    vars.as_ref().iter().position(|v| v.name == name)
}

/// The values of one member, in [`MEMBER_VARS`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberFacts<'a> {
    /// One value per member field.
    pub slots: Vec<Val<'a>>,
}

/// The values an evaluation reads: one per level variable, plus the members.
#[derive(Clone, Debug, PartialEq)]
pub struct Facts<'a> {
    /// The level.
    pub level: Level,
    /// One value per level variable (`members` is [`Val::Unknown`]; see `members`).
    pub slots: Vec<Val<'a>>,
    /// The household's members (empty for village and county).
    pub members: Vec<MemberFacts<'a>>,
}

fn s(v: &str) -> Val<'_> {
    if v.is_empty() {
        Val::Unknown
    } else {
        Val::Str(Cow::Borrowed(v))
    }
}

fn per(total: Option<f64>, people: usize) -> Val<'static> {
    match total {
        Some(t) if people > 0 => Val::Double(t / people as f64),
        _ => Val::Unknown,
    }
}

impl<'a> Facts<'a> {
    /// A household as of `on` (its state must already be the state as of that date).
    pub fn household(state: &'a HouseholdState, on: NaiveDate) -> Facts<'a> {
        Facts::household_with(Schema::shipped(), state, on)
    }

    /// [`Facts::household`] with the variables of another catalogue's schema.
    pub fn household_with(schema: &Schema, state: &'a HouseholdState, on: NaiveDate) -> Facts<'a> {
        let f = &state.fields;
        let people = state.members.len();
        let inc = &f.income;
        // A household without any recorded income year and all-zero components has no income
        // data: unknown, not zero.
        let has_income = inc.year.is_some()
            || inc.wage.0 != 0
            || inc.business.0 != 0
            || inc.property.0 != 0
            || inc.transfer.0 != 0
            || inc.business_cost.0 != 0;
        let yuan = |fen: i64| {
            if has_income {
                Val::Double(fen as f64 / 100.0)
            } else {
                Val::Unknown
            }
        };
        let net = inc.net().0;
        let mut slots = vec![
            Val::Int(i64::from(on.year())),
            s(f.village_code.get(..6).unwrap_or("")),
            s(f.village_code.get(..9).unwrap_or("")),
            per(f.housing_area_m2, people),
            per(f.farmland_mu, people),
            per(f.forest_mu, people),
            yuan(net),
            if has_income && people > 0 {
                Val::Double(net as f64 / 100.0 / people as f64)
            } else {
                Val::Unknown
            },
            Val::Int(people as i64),
            Val::Unknown,
        ];
        slots.extend(schema.household_src.iter().map(|(src, ty)| {
            let typed = src.is_typed();
            val_of(src.read(f), *ty, has_income || !typed)
        }));
        debug_assert_eq!(slots.len(), schema.household.len());
        Facts {
            level: Level::Household,
            slots,
            members: state
                .members
                .iter()
                .map(|m| member(schema, m, on))
                .collect(),
        }
    }

    /// A village or county from its counts.
    pub fn area(level: Level, region_code: &'a str, year: i32, counts: &AreaCounts) -> Facts<'a> {
        let slots = vec![
            Val::Int(i64::from(year)),
            Val::Str(Cow::Borrowed(region_code)),
            Val::Int(counts.households),
            Val::Int(counts.people),
            Val::Int(counts.poor_households),
            Val::Int(counts.poor_people),
            Val::Int(counts.lifted_households),
            Val::Int(counts.lifted_people),
            Val::Int(counts.monitored_households),
            Val::Int(counts.monitored_people),
        ];
        debug_assert_eq!(slots.len(), AREA_VARS.len());
        Facts {
            level,
            slots,
            members: Vec::new(),
        }
    }
}

/// Registry counts of a village or county, as of a date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AreaCounts {
    /// All registered households.
    pub households: i64,
    /// Their members.
    pub people: i64,
    /// 贫困户 not yet exited.
    pub poor_households: i64,
    /// Their members.
    pub poor_people: i64,
    /// 已脱贫户.
    pub lifted_households: i64,
    /// Their members.
    pub lifted_people: i64,
    /// 监测对象, risk not eliminated.
    pub monitored_households: i64,
    /// Their members.
    pub monitored_people: i64,
}

fn member<'a>(schema: &Schema, m: &'a Member, on: NaiveDate) -> MemberFacts<'a> {
    let age = m.birth_date.map(|b| {
        let mut a = on.year() - b.year();
        if (on.month(), on.day()) < (b.month(), b.day()) {
            a -= 1;
        }
        Val::Int(i64::from(a))
    });
    let valid = if m.id_number.chars().count() == 20 {
        // 第二代残疾人证号: the 18-character identity number plus two digits.
        IdNumber::parse(m.id_number.get(..18).unwrap_or("")).is_ok()
    } else {
        IdNumber::parse(&m.id_number).is_ok()
    };
    let mut slots = vec![
        age.unwrap_or(Val::Unknown),
        m.birth_date
            .map(|b| Val::Int(i64::from(b.year())))
            .unwrap_or(Val::Unknown),
        Val::Bool(m.is_head()),
        Val::Bool(valid),
    ];
    slots.extend(
        schema
            .member_src
            .iter()
            .map(|(src, ty)| val_of(src.read(m), *ty, true)),
    );
    debug_assert_eq!(slots.len(), schema.member.len());
    MemberFacts { slots }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_documented() {
        let doc = include_str!("../../../docs/rules.md");
        for v in HOUSEHOLD_VARS.iter().chain(MEMBER_VARS).chain(AREA_VARS) {
            assert!(
                doc.contains(&format!("`{}`", v.name)),
                "docs/rules.md does not describe `{}`",
                v.name
            );
        }
        assert_eq!(HOUSEHOLD_VARS[MEMBERS_SLOT].name, "members");
    }

    #[test]
    fn household_facts_fill_every_slot() {
        let mut st = HouseholdState::default();
        st.fields.village_code = "451228101001".into();
        st.fields.housing_area_m2 = Some(80.0);
        st.members.push(Member {
            id_number: "450000198001010011".into(),
            relation: "01".into(),
            birth_date: NaiveDate::from_ymd_opt(1980, 6, 1),
            ..Member::default()
        });
        st.members.push(Member::default());
        let on = NaiveDate::from_ymd_opt(2020, 5, 31).unwrap();
        let f = Facts::household(&st, on);
        assert_eq!(f.slots.len(), HOUSEHOLD_VARS.len());
        let get = |n: &str| f.slots[find_var(HOUSEHOLD_VARS, n).unwrap()].clone();
        assert_eq!(get("township_code"), Val::Str("451228101".into()));
        assert_eq!(get("housing_area_per_capita"), Val::Double(40.0));
        assert_eq!(get("income_per_capita"), Val::Unknown);
        assert_eq!(get("people"), Val::Int(2));
        assert_eq!(
            f.members[0].slots[0],
            Val::Int(39),
            "a day before the birthday"
        );
        assert_eq!(f.members[1].slots[0], Val::Unknown);
    }
}
