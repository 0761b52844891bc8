//! The stored rows of a household: its `households` row, its members' derived fields and its
//! `household_periods` rows — what `write_event`, imports, the demo and `check` all write.

use anyhow::Context;
use xiuhua_db::households::{HouseholdRow, PeriodRow};
use xiuhua_domain::event::Period;
use xiuhua_domain::validate::parse_member_id_number;
use xiuhua_domain::{FieldError, HouseholdState, Member};

use crate::Result;

/// Fills the fields derived from a member's identity number (normalised number, sex, birth
/// date) and checks it.
pub fn prepare_member(m: &mut Member) -> Result<(), FieldError> {
    let id = parse_member_id_number(&m.id_number).map_err(|e| {
        FieldError::new(
            format!("成员 {} ({})", m.name, m.id_number),
            "id_number",
            "invalid_id_number",
            e,
        )
    })?;
    let tail = if m.id_number.trim().len() == 20 {
        &m.id_number.trim()[18..]
    } else {
        ""
    };
    m.id_number = format!("{}{}", id.as_str(), tail);
    m.sex = id.sex().code().to_string();
    m.birth_date = id.birth_date();
    Ok(())
}

/// Builds the stored rows of a household state.
pub fn household_row(
    id: i64,
    version: i64,
    s: &HouseholdState,
    created_at: &str,
    updated_at: &str,
) -> Result<HouseholdRow> {
    let head = s.head();
    let f = &s.fields;
    Ok(HouseholdRow {
        county_code: s.county_code().to_string(),
        id,
        township_code: s.township_code().to_string(),
        village_code: f.village_code.clone(),
        group_code: f.group_code.clone(),
        household_no: f.household_no.clone(),
        head_name: head.map(|h| h.name.clone()).unwrap_or_default(),
        head_id_number: head.map(|h| h.id_number.clone()).unwrap_or_default(),
        status: f.status.as_str().into(),
        monitoring: f.monitoring.as_str().into(),
        monitor_type: f.monitor_type.clone(),
        exit_year: f.exit_year,
        member_count: s.members.len() as i32,
        version,
        fields: xiuhua_domain::compact::to_string(f).context("encode household fields")?,
        created_at: created_at.into(),
        updated_at: updated_at.into(),
    })
}

/// Builds the stored period rows of a household.
pub fn period_rows(county: &str, household_id: i64, periods: &[Period]) -> Vec<PeriodRow> {
    periods
        .iter()
        .map(|p| PeriodRow {
            county_code: county.to_string(),
            household_id,
            valid_from: p.valid_from.to_string(),
            valid_to: p.valid_to.map(|d| d.to_string()),
            township_code: p.village_code.get(..9).unwrap_or("").to_string(),
            village_code: p.village_code.clone(),
            group_code: p.group_code.clone(),
            status: p.status.as_str().into(),
            monitoring: p.monitoring.as_str().into(),
            members: p.members as i32,
        })
        .collect()
}
