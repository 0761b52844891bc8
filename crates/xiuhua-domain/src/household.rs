//! The 建档立卡 household (户) and its members (人): the state that events fold into.
//!
//! These structs are also the persisted payload of registry events (serialised as JSON in the
//! event log), so their field names are a storage format: rename only with a migration.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use std::sync::LazyLock;

use crate::fields::{FieldCatalog, FieldLevel, FieldRef, FieldValue, Personal, Record};

/// Identifier of a household (application-generated, stable across databases).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HouseholdId(pub i64);

/// Identifier of a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MemberId(pub i64);

/// Money in 分 (1/100 元). Never a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fen(pub i64);

impl Fen {
    /// Whole 元, rounded towards zero.
    pub fn yuan(self) -> i64 {
        self.0 / 100
    }
}

/// 户类型 over time: the poverty registry status of a household.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryStatus {
    /// 一般农户: an ordinary rural household, never registered as poor.
    #[default]
    General,
    /// 贫困户: registered poor (建档立卡), not yet exited.
    Poor,
    /// 已脱贫: exited poverty (脱贫户) in `exit_year`, half-year `exit_batch`.
    Lifted,
}

impl RegistryStatus {
    /// All values, in display order.
    pub const ALL: [RegistryStatus; 3] = [
        RegistryStatus::General,
        RegistryStatus::Poor,
        RegistryStatus::Lifted,
    ];

    /// Storage and URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryStatus::General => "general",
            RegistryStatus::Poor => "poor",
            RegistryStatus::Lifted => "lifted",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<RegistryStatus> {
        RegistryStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            RegistryStatus::General => "一般农户",
            RegistryStatus::Poor => "贫困户",
            RegistryStatus::Lifted => "已脱贫户",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            RegistryStatus::General => "ordinary household",
            RegistryStatus::Poor => "registered poor",
            RegistryStatus::Lifted => "lifted out of poverty",
        }
    }
}

/// 防返贫监测 status: whether the household is a 监测对象 (monitored household).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitoringStatus {
    /// Not a monitoring object.
    #[default]
    None,
    /// 监测对象, 风险未消除: monitored, risk not yet eliminated; the type is `monitor_type`.
    Monitored,
    /// 风险已消除: risk eliminated (still on record as a former monitoring object).
    Eliminated,
}

impl MonitoringStatus {
    /// All values, in display order.
    pub const ALL: [MonitoringStatus; 3] = [
        MonitoringStatus::None,
        MonitoringStatus::Monitored,
        MonitoringStatus::Eliminated,
    ];

    /// Storage and URL form.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitoringStatus::None => "none",
            MonitoringStatus::Monitored => "monitored",
            MonitoringStatus::Eliminated => "eliminated",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<MonitoringStatus> {
        MonitoringStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            MonitoringStatus::None => "非监测对象",
            MonitoringStatus::Monitored => "监测对象（风险未消除）",
            MonitoringStatus::Eliminated => "风险已消除",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            MonitoringStatus::None => "not monitored",
            MonitoringStatus::Monitored => "monitored, risk not eliminated",
            MonitoringStatus::Eliminated => "risk eliminated",
        }
    }
}

/// 收入构成: a household's yearly income by component, in 分.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Income {
    /// Year the figures refer to.
    pub year: Option<i32>,
    /// 工资性收入
    pub wage: Fen,
    /// 生产经营性收入
    pub business: Fen,
    /// 财产性收入
    pub property: Fen,
    /// 转移性收入
    pub transfer: Fen,
    /// 生产经营性支出
    pub business_cost: Fen,
}

impl Income {
    /// 家庭纯收入 = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出.
    pub fn net(&self) -> Fen {
        Fen(
            self.wage.0 + self.business.0 + self.property.0 + self.transfer.0
                - self.business_cost.0,
        )
    }

    /// 年人均纯收入: net income divided by the number of people, or `None` for an empty household.
    pub fn per_capita(&self, people: usize) -> Option<Fen> {
        (people > 0).then(|| Fen(self.net().0 / people as i64))
    }
}

/// The household's own attributes (everything except its members).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HouseholdFields {
    /// 户编号: the number people see and type (unique).
    pub household_no: String,
    /// 12-digit 行政村 code; the county and township codes are its prefixes.
    pub village_code: String,
    /// 村民小组/自然屯 code (village code + 3 digits), if recorded.
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub group_code: Option<String>,
    /// 联系电话
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub phone: Option<String>,
    /// 开户银行 (bank of the account that receives subsidies).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub bank_name: Option<String>,
    /// 银行账号 (the 一卡通 / subsidy account).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub bank_account: Option<String>,
    /// 识别标准 (code list `identification_standard`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub identification_standard: Option<String>,
    /// 贫困户属性 (code list `household_attribute`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub attribute: Option<String>,
    /// 主要致贫原因 (code list `poverty_cause`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub main_cause: Option<String>,
    /// 其他致贫原因, at most two (code list `poverty_cause`).
    #[serde(skip_serializing_if = "crate::compact::empty")]
    pub other_causes: Vec<String>,
    /// 致贫原因说明
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub cause_note: Option<String>,
    /// 户类型: general, poor or lifted.
    pub status: RegistryStatus,
    /// 识别年度 (first identified as poor).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub identified_year: Option<i32>,
    /// 计划脱贫年度
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub planned_exit_year: Option<i32>,
    /// 脱贫年度
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub exit_year: Option<i32>,
    /// 脱贫批次: 1 = first half-year, 2 = second half-year (code list `exit_batch`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub exit_batch: Option<String>,
    /// 监测状态
    pub monitoring: MonitoringStatus,
    /// 监测对象类型 (code list `monitor_type`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub monitor_type: Option<String>,
    /// 风险识别时间
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub risk_identified_on: Option<NaiveDate>,
    /// 风险消除时间
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub risk_eliminated_on: Option<NaiveDate>,
    /// 是否军烈属
    #[serde(skip_serializing_if = "crate::compact::no")]
    pub is_military_family: bool,
    /// 是否易地扶贫搬迁户
    #[serde(skip_serializing_if = "crate::compact::no")]
    pub is_relocated: bool,
    /// 住房面积 in ㎡.
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub housing_area_m2: Option<f64>,
    /// 住房安全等级 (code list `housing_safety`: A/B safe, C/D 危房).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub housing_safety: Option<String>,
    /// 饮水是否安全
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub water_safe: Option<bool>,
    /// 饮水是否困难
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub water_difficult: Option<bool>,
    /// 是否通生活用电
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub has_living_power: Option<bool>,
    /// 是否通生产用电
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub has_production_power: Option<bool>,
    /// 入户路类型 (code list `road_type`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub road_type: Option<String>,
    /// 主要燃料类型 (code list `fuel_type`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub fuel_type: Option<String>,
    /// 有无卫生厕所
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub has_toilet: Option<bool>,
    /// 耕地面积 (亩)
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub farmland_mu: Option<f64>,
    /// 林地面积 (亩)
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub forest_mu: Option<f64>,
    /// 收入构成 of the latest assessed year.
    pub income: Income,
    /// Catalogue fields without a typed slot, by name ([`crate::fields`]).
    #[serde(skip_serializing_if = "crate::compact::empty_map")]
    pub extra: BTreeMap<String, FieldValue>,
    /// 核查事实 (入户核查 / 信息采集): values of the inputs the rule sets declare that no registry
    /// field holds (两不愁, 刚性支出, 上年度收入 …), by input name, as recorded by survey events
    /// ([`crate::event::Change::SetFacts`]). The rules read them; the registry's own checks do not.
    #[serde(skip_serializing_if = "crate::compact::empty_map")]
    pub facts: BTreeMap<String, serde_json::Value>,
}

/// A member (家庭成员) of a household.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Member {
    /// Stable member id.
    pub id: i64,
    /// 姓名
    pub name: String,
    /// 公民身份号码 (normalised, 18 characters) or 第二代残疾人证号 (20 characters).
    pub id_number: String,
    /// 性别 code ("1" 男, "2" 女), derived from the identity number.
    pub sex: String,
    /// 出生日期, derived from the identity number.
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub birth_date: Option<NaiveDate>,
    /// 与户主关系 (code list `relation`).
    pub relation: String,
    /// 民族 (code list `ethnicity`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub ethnicity: Option<String>,
    /// 政治面貌 (code list `political`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub political: Option<String>,
    /// 婚姻状况 (code list `marital`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub marital: Option<String>,
    /// 文化程度 (code list `education`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub education: Option<String>,
    /// 在校生状况 (code list `schooling`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub schooling: Option<String>,
    /// 健康状况, a set (code list `health`): e.g. 残疾 + 长期慢性病.
    #[serde(skip_serializing_if = "crate::compact::empty")]
    pub health: Vec<String>,
    /// 残疾类别 (code list `disability_category`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub disability_category: Option<String>,
    /// 残疾等级 (code list `disability_grade`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub disability_grade: Option<String>,
    /// 劳动技能/劳动能力 (code list `labour`).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub labour: Option<String>,
    /// 务工状况 (code list `work_status`); `None` when not working away.
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub work_status: Option<String>,
    /// 务工时间 (months in the year).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub work_months: Option<i32>,
    /// 是否参加城乡居民基本医疗保险; `None`: not known (a blank ledger cell is not 否).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub has_medical_insurance: Option<bool>,
    /// 是否参加城乡居民基本养老保险; `None`: not known (a blank ledger cell is not 否).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub has_pension_insurance: Option<bool>,
    /// 是否享受低保; `None`: not known (a blank ledger cell is not 否).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub is_dibao: Option<bool>,
    /// 是否特困供养; `None`: not known (a blank ledger cell is not 否).
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub is_tekun: Option<bool>,
    /// 联系电话
    #[serde(skip_serializing_if = "crate::compact::none")]
    pub phone: Option<String>,
    /// Catalogue fields without a typed slot, by name ([`crate::fields`]).
    #[serde(skip_serializing_if = "crate::compact::empty_map")]
    pub extra: BTreeMap<String, FieldValue>,
}

impl Member {
    /// Whether this member is the 户主.
    pub fn is_head(&self) -> bool {
        self.relation == crate::codes::RELATION_HEAD
    }
}

/// A household as it stands at some date: its fields and its current members.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HouseholdState {
    /// The household's attributes.
    pub fields: HouseholdFields,
    /// Current members, in the order they were added.
    pub members: Vec<Member>,
}

impl HouseholdState {
    /// The 户主, if there is exactly one.
    pub fn head(&self) -> Option<&Member> {
        let mut heads = self.members.iter().filter(|m| m.is_head());
        match (heads.next(), heads.next()) {
            (Some(h), None) => Some(h),
            _ => None,
        }
    }

    /// 年人均纯收入 from the recorded income.
    pub fn per_capita_income(&self) -> Option<Fen> {
        self.fields.income.per_capita(self.members.len())
    }

    /// 县 code (first 6 digits of the village code).
    pub fn county_code(&self) -> &str {
        self.fields.village_code.get(..6).unwrap_or("")
    }

    /// 乡镇 code (first 9 digits of the village code).
    pub fn township_code(&self) -> &str {
        self.fields.village_code.get(..9).unwrap_or("")
    }
}

/// A phone number for people who may not see it: the first 3 and last 4 digits kept
/// (`138****5678`); short numbers keep only their last 2.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.trim().chars().collect();
    let n = chars.len();
    if n >= 8 {
        chars[..3].iter().collect::<String>()
            + &"*".repeat(n - 7)
            + &chars[n - 4..].iter().collect::<String>()
    } else {
        "*".repeat(n.saturating_sub(2)) + &chars[n.saturating_sub(2)..].iter().collect::<String>()
    }
}

/// A bank account for people who may not see it: only the last 4 characters kept.
pub fn mask_account(a: &str) -> String {
    let chars: Vec<char> = a.trim().chars().collect();
    let keep = chars.len().min(4);
    "*".repeat(chars.len() - keep) + &chars[chars.len() - keep..].iter().collect::<String>()
}

/// An identity number for people who may not see it: the first 6 characters (the region of
/// issue, known from the address anyway) and the last 2 kept, `451228**********90`. The birth
/// date and the first two sequence digits stay hidden: with the birth year shown beside it
/// ([`birth_shown`]), 365 × 100 numbers fit what is shown, ~3 300 of them with the right check
/// character. Shorter than 9 characters: all hidden.
///
/// This and [`mask_birth_date`] are the masking rules for identity data; every page, API answer,
/// export and history shown to a role without rights goes through them (by the catalogue's
/// [`Personal`] kinds).
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n < 9 {
        return "*".repeat(n);
    }
    chars[..6].iter().collect::<String>()
        + &"*".repeat(n - 8)
        + &chars[n - 2..].iter().collect::<String>()
}

/// A birth date for people who may not see it: its year alone. A masked record keeps a date
/// (its type), the first day of that year; show it with [`birth_shown`], never as a date.
pub fn mask_birth_date(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d)
}

/// A birth date as shown: in full (`full`), else the year alone (`1970`); empty when unknown.
pub fn birth_shown(d: Option<NaiveDate>, full: bool) -> String {
    match d {
        Some(d) if full => d.to_string(),
        Some(d) => d.year().to_string(),
        None => String::new(),
    }
}

/// A masking of text.
type Mask = fn(&str) -> String;

/// How a personal-data text field is masked, by its catalogue kind.
fn masker(kind: Personal) -> Option<Mask> {
    match kind {
        Personal::Phone => Some(mask_phone),
        Personal::Account => Some(mask_account),
        Personal::Id => Some(mask_id_number),
        Personal::Birth | Personal::No | Personal::Sensitive => None,
    }
}

/// A JSON value of a field of kind `kind` masked: text through [`masker`], a birth date (ISO
/// text) to its year alone. `None`: shown as it is.
fn mask_value(kind: Personal, v: &serde_json::Value) -> Option<serde_json::Value> {
    let s = v.as_str()?;
    match kind {
        Personal::Birth => Some(s.get(..4).unwrap_or("").into()),
        other => masker(other).map(|m| m(s).into()),
    }
}

/// The JSON keys of masked fields (catalogue names, and the Rust names of their typed slots),
/// with their kind.
fn masked_keys() -> &'static [(String, Personal)] {
    static KEYS: LazyLock<Vec<(String, Personal)>> = LazyLock::new(|| {
        let mut keys = Vec::new();
        for def in FieldCatalog::shipped().all() {
            if !matches!(
                def.personal,
                Personal::Phone | Personal::Account | Personal::Id | Personal::Birth
            ) {
                continue;
            }
            let slot = HouseholdFields::json_key(&def.name).or(Member::json_key(&def.name));
            for key in [Some(def.name.as_str()), slot].into_iter().flatten() {
                if !keys.iter().any(|(k, _)| k == key) {
                    keys.push((key.to_string(), def.personal));
                }
            }
        }
        keys
    });
    &KEYS
}

/// Personal data in a JSON patch or payload masked in place: every field the catalogue marks as
/// a phone, account, identity number or birth date, at any depth (a birth date keeps its year).
pub fn mask_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => o.iter_mut().for_each(|(k, x)| mask_entry(k, x)),
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// A patch masked in place, as [`mask_json`].
pub fn mask_patch(patch: &mut FieldPatch) {
    patch.iter_mut().for_each(|(k, x)| mask_entry(k, x));
}

/// The value `x` of key `k`, masked in place.
fn mask_entry(k: &str, x: &mut serde_json::Value) {
    let kind = masked_keys()
        .iter()
        .find(|(key, _)| key == k)
        .map(|(_, kind)| *kind);
    match kind.and_then(|kind| mask_value(kind, x)) {
        Some(masked) => *x = masked,
        None => mask_json(x),
    }
}

fn mask_record<R: Record>(r: &mut R, level: FieldLevel) {
    for def in FieldCatalog::shipped().stored(level) {
        let masked = match (def.personal, r.get(def)) {
            (Personal::Birth, Some(FieldRef::Date(d))) => FieldValue::Date(mask_birth_date(d)),
            (Personal::Birth, Some(FieldRef::Text(t))) => FieldValue::Text(
                mask_value(Personal::Birth, &t.into())
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            ),
            (kind, Some(FieldRef::Text(t))) => match masker(kind) {
                Some(mask) => FieldValue::Text(mask(t)),
                None => continue,
            },
            _ => continue,
        };
        // The masked value has the field's own type.
        let _ = r.set(def, Some(masked));
    }
}

impl HouseholdFields {
    /// Masks the fields the catalogue marks as personal (phones, bank accounts) in place.
    pub fn mask_personal_data(&mut self) {
        mask_record(self, FieldLevel::Household);
    }
}

impl Member {
    /// Masks the fields the catalogue marks as personal (identity number, phone, birth date:
    /// the year kept) in place.
    pub fn mask_personal_data(&mut self) {
        mask_record(self, FieldLevel::Member);
    }
}

impl HouseholdState {
    /// Masks the fields the catalogue marks as phones, bank accounts, identity numbers and birth
    /// dates in place (for roles without personal-data rights).
    pub fn mask_personal_data(&mut self) {
        self.fields.mask_personal_data();
        for m in &mut self.members {
            m.mask_personal_data();
        }
    }
}

/// A JSON object of changed fields, keyed by field name (the event-log patch format).
pub type FieldPatch = BTreeMap<String, serde_json::Value>;

#[cfg(test)]
mod mask_tests {
    use super::*;

    #[test]
    fn personal_data_is_masked_keeping_only_what_identifies_nothing() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0778-5212345"), "077*****2345");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_account("6217002870012345678"), "***************5678");
        assert_eq!(mask_account("12"), "12");
        assert_eq!(mask_id_number("45122819700102011X"), "451228**********1X");
        assert_eq!(mask_id_number("451228700102011"), "451228*******11");
        assert_eq!(mask_id_number("12345678"), "********");
        let b = NaiveDate::from_ymd_opt(1970, 5, 6);
        assert_eq!(birth_shown(b, true), "1970-05-06");
        assert_eq!(birth_shown(b, false), "1970");
        let mut v = serde_json::json!({"op": "set_fields", "patch": {"phone": "13812345678", "bank_account": "6217002870012345678", "note": "x"},
            "members": [{"id_number": "45122819700102011X", "name": "韦"}]});
        mask_json(&mut v);
        assert_eq!(v["patch"]["phone"], "138****5678");
        assert_eq!(v["patch"]["bank_account"], "***************5678");
        assert_eq!(v["patch"]["note"], "x");
        assert_eq!(v["members"][0]["id_number"], "451228**********1X");
        let mut p = FieldPatch::new();
        p.insert("birth_date".into(), "1970-05-06".into());
        p.insert("id_number".into(), "45122819700506011X".into());
        p.insert("sex".into(), "1".into());
        mask_patch(&mut p);
        assert_eq!(p["birth_date"], "1970");
        assert_eq!(p["id_number"], "451228**********1X");
        let mut m = Member {
            id_number: "45122819700506011X".into(),
            birth_date: b,
            phone: Some("13812345678".into()),
            ..Member::default()
        };
        m.mask_personal_data();
        assert_eq!(m.id_number, "451228**********1X");
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1970, 1, 1));
        assert_eq!(m.phone.as_deref(), Some("138****5678"));
    }
}
