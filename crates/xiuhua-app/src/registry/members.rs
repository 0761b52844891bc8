//! Member use cases: add, update, remove and move a member (each an event through
//! `write_event`), and the ids and derived fields of new members.

use xiuhua_db::{AnyConnection, ids};
use xiuhua_domain::Member;
use xiuhua_domain::event::{Change, EventKind};
use xiuhua_domain::household::FieldPatch;

use super::changes::change_one;
use super::{ChangeMeta, prepare_member, write_event};
use crate::{CurrentUser, Error, Result, Services};

/// Checks new members and fills their derived fields, then gives them ids from the county's
/// sequence.
pub(super) async fn assign_member_ids(
    conn: &mut AnyConnection,
    county: &str,
    members: &mut [Member],
) -> Result<()> {
    let mut errs = Vec::new();
    for m in members.iter_mut() {
        if let Err(e) = prepare_member(m) {
            errs.push(e);
        }
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let first = ids::reserve_county(conn, "member", county, members.len() as i64).await?;
    for (i, m) in members.iter_mut().enumerate() {
        m.id = first + i as i64;
    }
    Ok(())
}

/// Adds a member (新增成员: 新生儿, 嫁入 …).
pub async fn add_member(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    mut member: Member,
    reason_code: Option<String>,
    meta: &ChangeMeta,
) -> Result<i64> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    let county = ids::county_of(id);
    assign_member_ids(&mut tx, &county, std::slice::from_mut(&mut member)).await?;
    let mid = member.id;
    let change = Change::AddMember {
        member,
        reason_code,
    };
    write_event(
        s,
        &mut tx,
        user,
        id,
        Some(expected_version),
        EventKind::MemberAdded,
        vec![change],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(mid)
}

/// Sets a member's fields (a new identity number also sets the sex and birth date it holds).
pub async fn update_member(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    member_id: i64,
    mut patch: FieldPatch,
    meta: &ChangeMeta,
) -> Result<()> {
    // A new identity number brings its sex and birth date (as for a new member).
    if let Some(serde_json::Value::String(n)) = patch.get("id_number") {
        let mut m = Member {
            id_number: n.clone(),
            ..Member::default()
        };
        prepare_member(&mut m).map_err(|e| Error::Invalid(vec![e]))?;
        patch.insert("id_number".into(), serde_json::json!(m.id_number));
        patch.insert("sex".into(), serde_json::json!(m.sex));
        patch.insert("birth_date".into(), serde_json::json!(m.birth_date));
    }
    let change = Change::UpdateMember { member_id, patch };
    change_one(
        s,
        user,
        id,
        expected_version,
        EventKind::MemberEdited,
        change,
        meta,
    )
    .await
}

/// Removes a member (死亡, 嫁出, 其他转出 …).
pub async fn remove_member(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    member_id: i64,
    reason_code: Option<String>,
    meta: &ChangeMeta,
) -> Result<()> {
    let change = Change::RemoveMember {
        member_id,
        reason_code,
    };
    change_one(
        s,
        user,
        id,
        expected_version,
        EventKind::MemberRemoved,
        change,
        meta,
    )
    .await
}

/// Moves a member from one household to another (分户/合户, marriage within the county): an
/// out-event on the first and an in-event on the second, in one transaction.
pub async fn move_member(
    s: &Services,
    user: &CurrentUser,
    from: i64,
    to: i64,
    member_id: i64,
    new_relation: &str,
    meta: &ChangeMeta,
) -> Result<()> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    let members = xiuhua_db::members::list_for_household(&mut tx, from).await?;
    let row = members
        .iter()
        .find(|m| m.id == member_id)
        .ok_or_else(|| Error::NotFound {
            what: format!("member {member_id}"),
        })?;
    let mut member = row.decode()?;
    member.relation = new_relation.to_string();
    if ids::county_of(to) != ids::county_of(from) {
        // Ids embed the county; a member moving county gets a new id there.
        member.id = ids::reserve_county(&mut tx, "member", &ids::county_of(to), 1).await?;
    }
    let out = Change::RemoveMember {
        member_id,
        reason_code: Some("08".into()),
    };
    write_event(
        s,
        &mut tx,
        user,
        from,
        None,
        EventKind::MemberMovedOut,
        vec![out],
        meta,
    )
    .await?;
    let inn = Change::AddMember {
        member,
        reason_code: Some("07".into()),
    };
    write_event(
        s,
        &mut tx,
        user,
        to,
        None,
        EventKind::MemberMovedIn,
        vec![inn],
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(())
}

/// Changes the household head (户主变更): `relations` gives each member's new 与户主关系 (the
/// new head `01`, the others as the clerk confirmed them, e.g. from
/// `xiuhua_domain::relations::propose_head_change`). One event with a member edit for each
/// member whose relation changes; validation refuses a result without exactly one head.
pub async fn change_head(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    expected_version: i64,
    relations: &[(i64, String)],
    meta: &ChangeMeta,
) -> Result<()> {
    user.require_write()?;
    let mut tx = s.db.begin().await?;
    let current = xiuhua_db::members::list_for_household(&mut tx, id).await?;
    let changes: Vec<Change> = relations
        .iter()
        .filter(|(mid, rel)| current.iter().any(|m| m.id == *mid && m.relation != *rel))
        .map(|(mid, rel)| Change::UpdateMember {
            member_id: *mid,
            patch: FieldPatch::from([("relation".to_string(), serde_json::json!(rel))]),
        })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    write_event(
        s,
        &mut tx,
        user,
        id,
        Some(expected_version),
        EventKind::MemberEdited,
        changes,
        meta,
    )
    .await?;
    xiuhua_db::commit(tx).await?;
    Ok(())
}
