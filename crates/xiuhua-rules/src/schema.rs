//! What an expression can read: the variables of each level (household, village, county), the
//! fields of a member, their types, and how they are filled from the registry ([`Facts`]).
//!
//! The tables here are the contract documented in `docs/rules.md`; a test keeps the two in step.

use std::borrow::Cow;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use xiuhua_domain::{HouseholdState, IdNumber, Member};

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

const fn c(name: &'static str, list: &'static str, label_zh: &'static str) -> VarDef {
    VarDef {
        name,
        ty: Ty::Str,
        label_zh,
        code_list: Some(list),
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
            Level::Household => HOUSEHOLD_VARS,
            Level::Village | Level::County => AREA_VARS,
        }
    }
}

/// Household variables; the index is the slot in [`Facts::slots`].
pub const HOUSEHOLD_VARS: &[VarDef] = &[
    v("year", Ty::Int, "评估年度"),
    v("household_no", Ty::Str, "户编号"),
    v("county_code", Ty::Str, "县代码"),
    v("township_code", Ty::Str, "乡镇代码"),
    v("village_code", Ty::Str, "村代码"),
    VarDef {
        name: "status",
        ty: Ty::Str,
        label_zh: "户类型",
        code_list: Some("@status"),
    },
    VarDef {
        name: "monitoring",
        ty: Ty::Str,
        label_zh: "监测状态",
        code_list: Some("@monitoring"),
    },
    c("monitor_type", "monitor_type", "监测对象类型"),
    c("attribute", "household_attribute", "贫困户属性"),
    c(
        "identification_standard",
        "identification_standard",
        "识别标准",
    ),
    c("main_cause", "poverty_cause", "主要致贫原因"),
    VarDef {
        name: "other_causes",
        ty: Ty::List(Elem::Str),
        label_zh: "其他致贫原因",
        code_list: Some("poverty_cause"),
    },
    v("identified_year", Ty::Int, "识别年度"),
    v("planned_exit_year", Ty::Int, "计划脱贫年度"),
    v("exit_year", Ty::Int, "脱贫年度"),
    c("exit_batch", "exit_batch", "脱贫批次"),
    v("is_military_family", Ty::Bool, "军烈属"),
    v("is_relocated", Ty::Bool, "易地扶贫搬迁户"),
    v("housing_area_m2", Ty::Double, "住房面积（㎡）"),
    v("housing_area_per_capita", Ty::Double, "人均住房面积（㎡）"),
    c("housing_safety", "housing_safety", "住房安全等级"),
    v("water_safe", Ty::Bool, "饮水安全"),
    v("water_difficult", Ty::Bool, "饮水困难"),
    v("has_living_power", Ty::Bool, "通生活用电"),
    v("has_production_power", Ty::Bool, "通生产用电"),
    c("road_type", "road_type", "入户路类型"),
    c("fuel_type", "fuel_type", "主要燃料类型"),
    v("has_toilet", Ty::Bool, "卫生厕所"),
    v("farmland_mu", Ty::Double, "耕地面积（亩）"),
    v("forest_mu", Ty::Double, "林地面积（亩）"),
    v("farmland_per_capita", Ty::Double, "人均耕地（亩）"),
    v("forest_per_capita", Ty::Double, "人均林地（亩）"),
    v("income_year", Ty::Int, "收入年度"),
    v("income_wage", Ty::Double, "工资性收入（元）"),
    v("income_business", Ty::Double, "生产经营性收入（元）"),
    v("income_property", Ty::Double, "财产性收入（元）"),
    v("income_transfer", Ty::Double, "转移性收入（元）"),
    v("business_cost", Ty::Double, "生产经营性支出（元）"),
    v("income_net", Ty::Double, "家庭纯收入（元）"),
    v("income_per_capita", Ty::Double, "人均纯收入（元）"),
    v("people", Ty::Int, "家庭人口"),
    v("members", Ty::List(Elem::Member), "家庭成员"),
];

/// Slot of `members` in [`HOUSEHOLD_VARS`].
pub const MEMBERS_SLOT: usize = HOUSEHOLD_VARS.len() - 1;

/// Member fields; the index is the slot in [`MemberFacts::slots`].
pub const MEMBER_VARS: &[VarDef] = &[
    v("age", Ty::Int, "年龄"),
    v("birth_year", Ty::Int, "出生年份"),
    VarDef {
        name: "sex",
        ty: Ty::Str,
        label_zh: "性别",
        code_list: Some("@sex"),
    },
    c("relation", "relation", "与户主关系"),
    v("is_head", Ty::Bool, "户主"),
    v("id_number", Ty::Str, "身份证号"),
    v("id_number_valid", Ty::Bool, "身份证号校验"),
    c("ethnicity", "ethnicity", "民族"),
    c("political", "political", "政治面貌"),
    c("marital", "marital", "婚姻状况"),
    c("education", "education", "文化程度"),
    c("schooling", "schooling", "在校生状况"),
    VarDef {
        name: "health",
        ty: Ty::List(Elem::Str),
        label_zh: "健康状况",
        code_list: Some("health"),
    },
    c("disability_category", "disability_category", "残疾类别"),
    c("disability_grade", "disability_grade", "残疾等级"),
    c("labour", "labour", "劳动技能"),
    c("work_status", "work_status", "务工状况"),
    v("work_months", Ty::Int, "务工时间（月）"),
    v("has_medical_insurance", Ty::Bool, "参加基本医疗保险"),
    v("has_pension_insurance", Ty::Bool, "参加基本养老保险"),
    v("is_dibao", Ty::Bool, "享受低保"),
    v("is_tekun", Ty::Bool, "特困供养"),
];

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
pub fn find_var(vars: &[VarDef], name: &str) -> Option<usize> {
    vars.iter().position(|v| v.name == name)
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

fn os(v: &Option<String>) -> Val<'_> {
    v.as_deref().map(s).unwrap_or(Val::Unknown)
}

fn oi(v: Option<i32>) -> Val<'static> {
    v.map(|x| Val::Int(i64::from(x))).unwrap_or(Val::Unknown)
}

fn od(v: Option<f64>) -> Val<'static> {
    v.map(Val::Double).unwrap_or(Val::Unknown)
}

fn ob(v: Option<bool>) -> Val<'static> {
    v.map(Val::Bool).unwrap_or(Val::Unknown)
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
        let slots = vec![
            Val::Int(i64::from(on.year())),
            s(&f.household_no),
            s(f.village_code.get(..6).unwrap_or("")),
            s(f.village_code.get(..9).unwrap_or("")),
            s(&f.village_code),
            Val::Str(Cow::Borrowed(f.status.as_str())),
            Val::Str(Cow::Borrowed(f.monitoring.as_str())),
            os(&f.monitor_type),
            os(&f.attribute),
            os(&f.identification_standard),
            os(&f.main_cause),
            Val::StrSlice(&f.other_causes),
            oi(f.identified_year),
            oi(f.planned_exit_year),
            oi(f.exit_year),
            os(&f.exit_batch),
            Val::Bool(f.is_military_family),
            Val::Bool(f.is_relocated),
            od(f.housing_area_m2),
            per(f.housing_area_m2, people),
            os(&f.housing_safety),
            ob(f.water_safe),
            ob(f.water_difficult),
            ob(f.has_living_power),
            ob(f.has_production_power),
            os(&f.road_type),
            os(&f.fuel_type),
            ob(f.has_toilet),
            od(f.farmland_mu),
            od(f.forest_mu),
            per(f.farmland_mu, people),
            per(f.forest_mu, people),
            oi(inc.year),
            yuan(inc.wage.0),
            yuan(inc.business.0),
            yuan(inc.property.0),
            yuan(inc.transfer.0),
            yuan(inc.business_cost.0),
            yuan(net),
            if has_income && people > 0 {
                Val::Double(net as f64 / 100.0 / people as f64)
            } else {
                Val::Unknown
            },
            Val::Int(people as i64),
            Val::Unknown,
        ];
        debug_assert_eq!(slots.len(), HOUSEHOLD_VARS.len());
        Facts {
            level: Level::Household,
            slots,
            members: state.members.iter().map(|m| member(m, on)).collect(),
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

fn member(m: &Member, on: NaiveDate) -> MemberFacts<'_> {
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
    let slots = vec![
        age.unwrap_or(Val::Unknown),
        m.birth_date
            .map(|b| Val::Int(i64::from(b.year())))
            .unwrap_or(Val::Unknown),
        s(&m.sex),
        s(&m.relation),
        Val::Bool(m.is_head()),
        s(&m.id_number),
        Val::Bool(valid),
        os(&m.ethnicity),
        os(&m.political),
        os(&m.marital),
        os(&m.education),
        os(&m.schooling),
        Val::StrSlice(&m.health),
        os(&m.disability_category),
        os(&m.disability_grade),
        os(&m.labour),
        os(&m.work_status),
        oi(m.work_months),
        Val::Bool(m.has_medical_insurance),
        Val::Bool(m.has_pension_insurance),
        Val::Bool(m.is_dibao),
        Val::Bool(m.is_tekun),
    ];
    debug_assert_eq!(slots.len(), MEMBER_VARS.len());
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
