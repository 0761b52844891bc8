//! Household use cases: register a household (建档) and edit its fields, each one event through
//! `write_event` in its own transaction.

use xiuhua_db::ids;
use xiuhua_domain::HouseholdFields;
use xiuhua_domain::Member;
use xiuhua_domain::event::{Change, EventKind};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::message::msg;

use super::members::assign_member_ids;
use super::{ChangeMeta, write_event};
use crate::{CurrentUser, Error, Result, Services};

/// Registers a new household (建档). Returns its id.
pub async fn register_household(
    s: &Services,
    user: &CurrentUser,
    fields: HouseholdFields,
    mut members: Vec<Member>,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    if !user.can_see(&fields.village_code) {
        return Err(Error::Forbidden(format!(
            "village {} is outside your region",
            fields.village_code
        )));
    }
    let county = fields.village_code.get(..6).unwrap_or("").to_string();
    if county.len() != 6
        || xiuhua_db::regions::find(&mut *s.db.acquire().await?, &fields.village_code)
            .await?
            .is_none()
    {
        return Err(Error::invalid(
            &format!("户 {}", fields.household_no),
            "village_code",
            "unknown_region",
            msg("unknown_region").arg("village_code", &fields.village_code),
        ));
    }
    let mut tx = s.db.begin().await?;
    let id = ids::reserve_county(&mut tx, "household", &county, 1).await?;
    assign_member_ids(&mut tx, &county, &mut members).await?;
    write_event(
        s,
        &mut tx,
        user,
        id,
        None,
        EventKind::Created,
        vec![Change::Create { fields, members }],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(id)
}

/// Writes one change to an existing household in its own transaction.
pub(super) async fn change_one(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    kind: EventKind,
    change: Change,
    meta: &ChangeMeta,
) -> Result<()> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    write_event(
        s,
        &mut tx,
        user,
        id,
        Some(expected_version),
        kind,
        vec![change],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(())
}

/// Sets household fields (信息变更 or 状态变更). Returns the new version.
pub async fn edit_household(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    patch: FieldPatch,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    let status_keys = [
        "status",
        "exit_year",
        "exit_batch",
        "monitoring",
        "monitor_type",
    ];
    let kind = if patch.keys().any(|k| status_keys.contains(&k.as_str())) {
        EventKind::StatusChanged
    } else {
        EventKind::Edited
    };
    change_one(
        s,
        user,
        id,
        expected_version,
        kind,
        Change::SetFields { patch },
        meta,
    )
    .await?;
    Ok(expected_version + 1)
}
