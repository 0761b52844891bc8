//! Validation of a household state: shapes, code lists, the one-head rule, identity numbers.
//!
//! Every problem becomes a [`FieldError`] naming the record, the field and the reason, in
//! Chinese (for the UI and error workbooks) and English (for logs and the CLI). All problems are
//! collected, not just the first.

use chrono::NaiveDate;

use crate::codes::CodeCatalog;
use crate::fields::{FieldCatalog, FieldLevel, FieldRef, Record};
use crate::household::{HouseholdFields, HouseholdState, Member, MonitoringStatus, RegistryStatus};
use crate::id_number::IdNumber;
use crate::message::{Message, msg};

/// One validation problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The record, e.g. `户 451228101201001` or `成员 韦桂英 (451228…)`.
    pub record: String,
    /// The field name (storage name, e.g. `id_number`).
    pub field: String,
    /// Stable machine code, e.g. `invalid_id_number`.
    pub code: &'static str,
    /// The reason: a key of the message catalogue and its arguments.
    pub message: Message,
}

impl FieldError {
    /// Creates an error; its texts come from the message catalogue.
    pub fn new(
        record: impl Into<String>,
        field: &str,
        code: &'static str,
        message: Message,
    ) -> FieldError {
        FieldError {
            record: record.into(),
            field: field.to_string(),
            code,
            message,
        }
    }

    /// The reason in Chinese.
    pub fn message_zh(&self) -> String {
        self.message.zh()
    }

    /// The reason in English.
    pub fn message_en(&self) -> String {
        self.message.en()
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.record, self.field, self.message_en())
    }
}

/// Fields whose checks below say more than the catalogue's generic ones (their own messages
/// for a missing value or an unknown code).
const CHECKED_HERE: &[&str] = &[
    "village_code",
    "other_causes",
    "id_number",
    "relation",
    "health",
];

/// The checks every catalogue field gets from its row: a required field is present, a coded
/// field holds codes of its list, and `extra` holds only fields the catalogue knows.
fn catalogue_checks<R: Record>(
    r: &R,
    level: FieldLevel,
    fields: &FieldCatalog,
    codes: &CodeCatalog,
    push: &mut Push<'_>,
) {
    for def in fields.stored(level) {
        if CHECKED_HERE.contains(&def.name.as_str()) {
            continue;
        }
        let value = r.get(def);
        if def.required && value.is_none() {
            push(
                &def.name,
                "required",
                msg("required")
                    .arg("label", &def.label_zh)
                    .arg("label_en", def.label_en.to_lowercase()),
            );
        }
        let Some(list) = def.code_list.as_deref().filter(|l| !l.starts_with('@')) else {
            continue;
        };
        let values: &[String] = match value {
            Some(FieldRef::Codes(c)) => c,
            _ => &[],
        };
        let one = match value {
            Some(FieldRef::Text(t)) => Some(t),
            _ => None,
        };
        for v in one.into_iter().chain(values.iter().map(String::as_str)) {
            if !codes.contains(list, v) {
                push(
                    &def.name,
                    "unknown_code",
                    msg("unknown_code").arg("value", v).arg("list", list),
                );
            }
        }
    }
    for name in r.extra().keys() {
        if fields
            .find(name)
            .is_none_or(|d| d.level != level || !d.stored)
        {
            push(
                name,
                "unknown_field",
                msg("unknown_field").arg("name", name),
            );
        }
    }
}

/// Validates a household as it would stand after a change, against the shipped field catalogue.
///
/// `today` bounds dates (no birth dates in the future).
pub fn validate_household(
    state: &HouseholdState,
    catalog: &CodeCatalog,
    today: NaiveDate,
) -> Vec<FieldError> {
    validate_household_with(state, FieldCatalog::shipped(), catalog, today)
}

/// Validates a household against a given field catalogue.
pub fn validate_household_with(
    state: &HouseholdState,
    fields: &FieldCatalog,
    catalog: &CodeCatalog,
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let f = &state.fields;
    let rec = format!(
        "户 {}",
        if f.household_no.is_empty() {
            "(无户编号)"
        } else {
            &f.household_no
        }
    );
    let mut push = |field: &str, code: &'static str, m: Message| {
        errs.push(FieldError::new(rec.clone(), field, code, m));
    };
    catalogue_checks(f, FieldLevel::Household, fields, catalog, &mut push);
    check_regions(f, &mut push);
    check_causes(f, catalog, &mut push);
    check_status(f, &mut push);
    check_monitoring(f, &mut push);
    check_heads(&state.members, &mut push);
    check_members(&state.members, fields, catalog, today, &mut errs);
    errs
}

/// Reports one problem of the record being checked: field, code and message.
type Push<'a> = dyn FnMut(&str, &'static str, Message) + 'a;

/// The village code is 12 digits and the group code extends it by 3.
fn check_regions(f: &HouseholdFields, push: &mut Push<'_>) {
    if f.village_code.len() != 12 || !f.village_code.bytes().all(|b| b.is_ascii_digit()) {
        push(
            "village_code",
            "invalid_region_code",
            msg("village_code_digits").arg("code", &f.village_code),
        );
    }
    if let Some(g) = &f.group_code
        && (g.len() != 15 || !g.starts_with(&f.village_code))
    {
        push(
            "group_code",
            "invalid_region_code",
            msg("group_code_digits").arg("code", g),
        );
    }
}

/// Other causes of poverty: known codes, at most two, none repeating the main cause.
fn check_causes(f: &HouseholdFields, catalog: &CodeCatalog, push: &mut Push<'_>) {
    for c in &f.other_causes {
        if !catalog.contains("poverty_cause", c) {
            push(
                "other_causes",
                "unknown_code",
                msg("unknown_other_cause").arg("code", c),
            );
        }
    }
    if f.other_causes.len() > 2 {
        push("other_causes", "too_many", msg("other_causes_at_most_two"));
    }
    if f.main_cause.is_some()
        && f.other_causes
            .iter()
            .any(|c| Some(c) == f.main_cause.as_ref())
    {
        push("other_causes", "duplicate", msg("other_cause_repeats_main"));
    }
}

/// What the registry status requires: a main cause for registered households, an exit year
/// (not before identification) for lifted ones.
fn check_status(f: &HouseholdFields, push: &mut Push<'_>) {
    if f.status != RegistryStatus::General && f.main_cause.is_none() {
        push("main_cause", "required", msg("main_cause_required"));
    }
    if f.status == RegistryStatus::Lifted && f.exit_year.is_none() {
        push("exit_year", "required", msg("exit_year_required"));
    }
    if let (Some(i), Some(e)) = (f.identified_year, f.exit_year)
        && e < i
    {
        push(
            "exit_year",
            "before_identified",
            msg("exit_before_identified")
                .arg("exit", e)
                .arg("identified", i),
        );
    }
}

/// A monitored household has a monitoring type.
fn check_monitoring(f: &HouseholdFields, push: &mut Push<'_>) {
    if f.monitoring != MonitoringStatus::None && f.monitor_type.is_none() {
        push("monitor_type", "required", msg("monitor_type_required"));
    }
}

/// At least one member, and exactly one head among them.
fn check_heads(members: &[Member], push: &mut Push<'_>) {
    if members.is_empty() {
        push("members", "no_members", msg("no_members"));
        return;
    }
    let heads: Vec<&Member> = members.iter().filter(|m| m.is_head()).collect();
    match heads.len() {
        0 => push("relation", "no_head", msg("no_head")),
        1 => {}
        _ => {
            let names: Vec<&str> = heads.iter().map(|m| m.name.as_str()).collect();
            push(
                "relation",
                "two_heads",
                msg("two_heads")
                    .arg("count", heads.len())
                    .arg("names", names.join("、"))
                    .arg("names_en", names.join(", ")),
            );
        }
    }
}

/// Each member's own fields, and no identity number twice in the household.
fn check_members(
    members: &[Member],
    fields: &FieldCatalog,
    catalog: &CodeCatalog,
    today: NaiveDate,
    errs: &mut Vec<FieldError>,
) {
    for (i, m) in members.iter().enumerate() {
        errs.extend(validate_member_with(m, fields, catalog, today));
        if members[..i]
            .iter()
            .any(|o| o.id_number == m.id_number && !m.id_number.is_empty())
        {
            errs.push(FieldError::new(
                member_record(m),
                "id_number",
                "duplicate_id_number",
                msg("id_number_twice_in_household").arg("id", &m.id_number),
            ));
        }
    }
}

fn member_record(m: &Member) -> String {
    format!("成员 {} ({})", m.name, m.id_number)
}

/// Validates one member's own fields (shipped field catalogue).
pub fn validate_member(m: &Member, catalog: &CodeCatalog, today: NaiveDate) -> Vec<FieldError> {
    validate_member_with(m, FieldCatalog::shipped(), catalog, today)
}

/// Validates one member's own fields against a given field catalogue.
pub fn validate_member_with(
    m: &Member,
    fields: &FieldCatalog,
    catalog: &CodeCatalog,
    today: NaiveDate,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let rec = member_record(m);
    let mut push = |field: &str, code: &'static str, m: Message| {
        errs.push(FieldError::new(rec.clone(), field, code, m));
    };
    catalogue_checks(m, FieldLevel::Member, fields, catalog, &mut push);
    check_id_number(m, today, &mut push);
    check_member_codes(m, catalog, &mut push);
    errs
}

/// The identity number is valid and agrees with the sex and birth date (not in the future).
fn check_id_number(m: &Member, today: NaiveDate, push: &mut Push<'_>) {
    match parse_member_id_number(&m.id_number) {
        Err(m) => push("id_number", "invalid_id_number", m),
        Ok(id) => {
            if id.sex().code() != m.sex {
                push("sex", "sex_mismatch", msg("sex_mismatch"));
            }
            if id.birth_date() != m.birth_date {
                push("birth_date", "birth_mismatch", msg("birth_mismatch"));
            }
            if id.birth_date().is_some_and(|b| b > today) {
                push("birth_date", "future_date", msg("birth_in_future"));
            }
        }
    }
}

/// Relation and health codes, and work months within a year.
fn check_member_codes(m: &Member, catalog: &CodeCatalog, push: &mut Push<'_>) {
    if !catalog.contains("relation", &m.relation) {
        push(
            "relation",
            "unknown_code",
            msg("unknown_relation").arg("code", &m.relation),
        );
    }
    for h in &m.health {
        if !catalog.contains("health", h) {
            push(
                "health",
                "unknown_code",
                msg("unknown_health").arg("code", h),
            );
        }
    }
    if let Some(w) = m.work_months
        && !(0..=12).contains(&w)
    {
        push(
            "work_months",
            "out_of_range",
            msg("work_months_range").arg("months", w),
        );
    }
}

/// Parses a member's identity number: an 18-digit 公民身份号码, or a 20-digit 第二代残疾人证号
/// (the identity number + 残疾类别 1–7 + 残疾等级 1–4). Returns the identity number part.
pub fn parse_member_id_number(s: &str) -> Result<IdNumber, Message> {
    let t = s.trim();
    if t.chars().count() == 20 && t.is_ascii() {
        let (id, tail) = t.split_at(18);
        let b = tail.as_bytes();
        if !(b'1'..=b'7').contains(&b[0]) || !(b'1'..=b'4').contains(&b[1]) {
            return Err(msg("disability_card_suffix").arg("suffix", tail));
        }
        return IdNumber::parse(id).map_err(|e| e.message());
    }
    IdNumber::parse(t).map_err(|e| e.message())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::household::HouseholdFields;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()
    }

    fn member(id: i64, name: &str, idn: &str, relation: &str) -> Member {
        let p = IdNumber::parse(idn).unwrap();
        Member {
            id,
            name: name.into(),
            id_number: p.as_str().into(),
            sex: p.sex().code().into(),
            birth_date: p.birth_date(),
            relation: relation.into(),
            ..Member::default()
        }
    }

    fn good() -> HouseholdState {
        HouseholdState {
            fields: HouseholdFields {
                household_no: "451228101201001".into(),
                village_code: "451228101201".into(),
                status: RegistryStatus::Poor,
                main_cause: Some("01".into()),
                ..HouseholdFields::default()
            },
            members: vec![
                member(1, "韦一", "11010519491231002X", "01"),
                member(2, "韦二", "440524188001010014", "02"),
            ],
        }
    }

    fn codes(errs: &[FieldError]) -> Vec<&'static str> {
        errs.iter().map(|e| e.code).collect()
    }

    #[test]
    fn a_good_household_passes() {
        assert!(validate_household(&good(), &CodeCatalog::defaults(), today()).is_empty());
    }

    #[test]
    fn no_head_and_two_heads_are_named() {
        let cat = CodeCatalog::defaults();
        let mut s = good();
        s.members[0].relation = "03".into();
        assert_eq!(
            codes(&validate_household(&s, &cat, today())),
            vec!["no_head"]
        );
        s.members[0].relation = "01".into();
        s.members[1].relation = "01".into();
        let e = validate_household(&s, &cat, today());
        assert_eq!(codes(&e), vec!["two_heads"]);
        assert!(e[0].message_zh().contains("韦一、韦二"));
    }

    #[test]
    fn unknown_codes_bad_ids_and_cause_limits_are_all_collected() {
        let cat = CodeCatalog::defaults();
        let mut s = good();
        s.fields.main_cause = Some("77".into());
        s.fields.other_causes = vec!["02".into(), "03".into(), "04".into()];
        s.members[1].id_number = "440524188001010015".into();
        let e = validate_household(&s, &cat, today());
        assert_eq!(
            codes(&e),
            vec!["unknown_code", "too_many", "invalid_id_number"]
        );
        assert_eq!(e[2].field, "id_number");
        assert!(e[2].record.contains("韦二"));
    }

    #[test]
    fn lifted_needs_exit_year_not_before_identification() {
        let cat = CodeCatalog::defaults();
        let mut s = good();
        s.fields.status = RegistryStatus::Lifted;
        assert_eq!(
            codes(&validate_household(&s, &cat, today())),
            vec!["required"]
        );
        s.fields.exit_year = Some(2015);
        s.fields.identified_year = Some(2016);
        assert_eq!(
            codes(&validate_household(&s, &cat, today())),
            vec!["before_identified"]
        );
    }

    #[test]
    fn disability_card_numbers_are_accepted() {
        assert!(parse_member_id_number("11010519491231002X43").is_ok());
        assert!(parse_member_id_number("11010519491231002X93").is_err());
    }

    #[test]
    fn duplicate_ids_within_a_household_are_refused() {
        let mut s = good();
        s.members[1] = member(2, "韦三", "11010519491231002X", "02");
        assert!(
            codes(&validate_household(&s, &CodeCatalog::defaults(), today()))
                .contains(&"duplicate_id_number")
        );
    }
}
