//! The `members` table: current members of each household, unique by identity number.

use sqlx::AnyConnection;
use xiuhua_domain::Member;

use crate::sql::{Arg, insert_rows};
use crate::{Error, Result, ids};

/// A stored member.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    /// County code.
    pub county_code: String,
    /// Member id.
    pub id: i64,
    /// Household id.
    pub household_id: i64,
    /// Normalised identity number (unique).
    pub id_number: String,
    /// 姓名.
    pub name: String,
    /// Sex code.
    pub sex: String,
    /// ISO birth date.
    pub birth_date: Option<String>,
    /// Relation code.
    pub relation: String,
    /// JSON of [`Member`].
    pub data: String,
}

impl MemberRow {
    /// Builds the row of a domain member.
    pub fn from_member(county: &str, household_id: i64, m: &Member) -> Result<MemberRow> {
        Ok(MemberRow {
            county_code: county.to_string(),
            id: m.id,
            household_id,
            id_number: m.id_number.clone(),
            name: m.name.clone(),
            sex: m.sex.clone(),
            birth_date: m.birth_date.map(|d| d.to_string()),
            relation: m.relation.clone(),
            data: xiuhua_domain::compact::to_string(m).map_err(|e| Error::Corrupt {
                what: "members.data",
                reason: e.to_string(),
            })?,
        })
    }

    /// Decodes the stored member.
    pub fn decode(&self) -> Result<Member> {
        serde_json::from_str(&self.data).map_err(|e| Error::Corrupt {
            what: "members.data",
            reason: e.to_string(),
        })
    }
}

impl MemberRow {
    /// The bind values in the order of the insert columns.
    pub(crate) fn args(&self) -> Vec<Arg> {
        vec![
            self.county_code.clone().into(),
            self.id.into(),
            self.household_id.into(),
            self.id_number.clone().into(),
            self.name.clone().into(),
            self.sex.clone().into(),
            self.birth_date.clone().into(),
            self.relation.clone().into(),
            self.data.clone().into(),
        ]
    }
}

/// The columns of an insert, in the order of [`MemberRow::args`].
pub(crate) const COLS: &str =
    "county_code, id, household_id, id_number, name, sex, birth_date, relation, data";

/// Inserts members.
pub async fn insert_many(conn: &mut AnyConnection, rows: &[MemberRow]) -> Result<u64> {
    let args: Vec<Vec<Arg>> = rows.iter().map(MemberRow::args).collect();
    insert_rows(conn, &format!("INSERT INTO members ({COLS})"), "", args).await
}

/// Current members of a household, in id order.
pub async fn list_for_household(
    conn: &mut AnyConnection,
    household_id: i64,
) -> Result<Vec<MemberRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM members WHERE county_code = $1 AND household_id = $2 ORDER BY id"
    )))
    .bind(ids::county_of(household_id))
    .bind(household_id)
    .fetch_all(conn)
    .await?)
}

/// Deletes the current members of a household (before re-inserting its new state).
pub async fn delete_for_household(conn: &mut AnyConnection, household_id: i64) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM members WHERE county_code = $1 AND household_id = $2")
            .bind(ids::county_of(household_id))
            .bind(household_id)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Who currently holds an identity number: (member row, household 户编号).
pub async fn find_by_id_number(
    conn: &mut AnyConnection,
    id_number: &str,
) -> Result<Option<(MemberRow, String)>> {
    let Some(m): Option<MemberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM members WHERE id_number = $1"
    )))
    .bind(id_number)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let no: String = sqlx::query_scalar(
        "SELECT household_no FROM households WHERE county_code = $1 AND id = $2",
    )
    .bind(m.county_code.clone())
    .bind(m.household_id)
    .fetch_one(conn)
    .await?;
    Ok(Some((m, no)))
}

/// Number of stored members.
pub async fn total(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM members")
        .fetch_one(conn)
        .await?)
}

/// Current members of several households of one county, in (household, id) order.
pub async fn list_for_households(
    conn: &mut AnyConnection,
    county: &str,
    household_ids: &[i64],
) -> Result<Vec<MemberRow>> {
    if household_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = crate::sql::Sql::new(&format!("SELECT {COLS} FROM members WHERE county_code = "));
    sql.bind(county).push(" AND household_id IN (");
    for (i, id) in household_ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(") ORDER BY household_id, id");
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// Who holds each of these identity numbers: (member row, household 户编号), for the numbers
/// that are taken.
pub async fn find_by_id_numbers(
    conn: &mut AnyConnection,
    id_numbers: &[String],
) -> Result<Vec<(MemberRow, String, String)>> {
    let mut out = Vec::new();
    for chunk in id_numbers.chunks(900) {
        let mut sql = crate::sql::Sql::new(
            "SELECT m.county_code, m.id, m.household_id, m.id_number, m.name, m.sex, m.birth_date, m.relation, m.data, \
             h.household_no, h.village_code FROM members m JOIN households h ON h.county_code = m.county_code AND h.id = m.household_id \
             WHERE m.id_number IN (",
        );
        for (i, n) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(n.as_str());
        }
        sql.push(")");
        let rows = sql.query_for(&*conn).fetch_all(&mut *conn).await?;
        for row in rows {
            let m: MemberRow = sqlx::FromRow::from_row(&row)?;
            let no: String = sqlx::Row::try_get(&row, "household_no")?;
            let village: String = sqlx::Row::try_get(&row, "village_code")?;
            out.push((m, no, village));
        }
    }
    Ok(out)
}
