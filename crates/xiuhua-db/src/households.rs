//! The `households` table (current state), its search and counts, and `household_periods`
//! (the stretches of time used for "as of" counts).

use sqlx::AnyConnection;
use xiuhua_domain::HouseholdFields;

use crate::sql::{Arg, Sql, insert_rows};
use crate::{Error, Result, ids};

/// A stored household (current state).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct HouseholdRow {
    /// County code (distribution key).
    pub county_code: String,
    /// Id (embeds the county).
    pub id: i64,
    /// 乡镇 code.
    pub township_code: String,
    /// 行政村 code.
    pub village_code: String,
    /// 村民小组 code.
    pub group_code: Option<String>,
    /// 户编号.
    pub household_no: String,
    /// 户主姓名.
    pub head_name: String,
    /// 户主证件号码.
    pub head_id_number: String,
    /// `general` / `poor` / `lifted`.
    pub status: String,
    /// `none` / `monitored` / `eliminated`.
    pub monitoring: String,
    /// 监测对象类型 code.
    pub monitor_type: Option<String>,
    /// 脱贫年度.
    pub exit_year: Option<i32>,
    /// Number of current members.
    pub member_count: i32,
    /// Optimistic-concurrency version (number of events applied).
    pub version: i64,
    /// JSON of [`HouseholdFields`].
    pub fields: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

impl HouseholdRow {
    /// Decodes the stored attributes.
    pub fn decode_fields(&self) -> Result<HouseholdFields> {
        serde_json::from_str(&self.fields).map_err(|e| Error::Corrupt {
            what: "households.fields",
            reason: e.to_string(),
        })
    }

    /// The bind values in the order of the insert columns.
    pub(crate) fn args(&self) -> Vec<Arg> {
        vec![
            self.county_code.clone().into(),
            self.id.into(),
            self.township_code.clone().into(),
            self.village_code.clone().into(),
            self.group_code.clone().into(),
            self.household_no.clone().into(),
            self.head_name.clone().into(),
            self.head_id_number.clone().into(),
            self.status.clone().into(),
            self.monitoring.clone().into(),
            self.monitor_type.clone().into(),
            self.exit_year.into(),
            i64::from(self.member_count).into(),
            self.version.into(),
            self.fields.clone().into(),
            self.created_at.clone().into(),
            self.updated_at.clone().into(),
        ]
    }
}

/// The columns of an insert, in the order of [`HouseholdRow::args`].
pub(crate) const COLS: &str = "county_code, id, township_code, village_code, group_code, household_no, head_name, \
     head_id_number, status, monitoring, monitor_type, exit_year, member_count, version, fields, created_at, updated_at";

/// Inserts new households.
pub async fn insert_many(conn: &mut AnyConnection, rows: &[HouseholdRow]) -> Result<u64> {
    let args: Vec<Vec<Arg>> = rows.iter().map(HouseholdRow::args).collect();
    insert_rows(conn, &format!("INSERT INTO households ({COLS})"), "", args).await
}

/// Replaces a household's current row if its version is still `expected_version`.
///
/// Returns [`Error::Conflict`] when someone else saved in between (optimistic versioning).
pub async fn update(
    conn: &mut AnyConnection,
    row: &HouseholdRow,
    expected_version: i64,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE households SET township_code = $1, village_code = $2, group_code = $3, household_no = $4, \
         head_name = $5, head_id_number = $6, status = $7, monitoring = $8, monitor_type = $9, exit_year = $10, \
         member_count = $11, version = $12, fields = $13, updated_at = $14 \
         WHERE county_code = $15 AND id = $16 AND version = $17",
    )
    .bind(row.township_code.clone())
    .bind(row.village_code.clone())
    .bind(row.group_code.clone())
    .bind(row.household_no.clone())
    .bind(row.head_name.clone())
    .bind(row.head_id_number.clone())
    .bind(row.status.clone())
    .bind(row.monitoring.clone())
    .bind(row.monitor_type.clone())
    .bind(row.exit_year)
    .bind(row.member_count)
    .bind(row.version)
    .bind(row.fields.clone())
    .bind(row.updated_at.clone())
    .bind(row.county_code.clone())
    .bind(row.id)
    .bind(expected_version)
    .execute(conn)
    .await?
    .rows_affected();
    if n == 1 {
        Ok(())
    } else {
        Err(Error::Conflict {
            detail: format!("household {} was changed by someone else (version)", row.id),
        })
    }
}

/// The household with this id, if any.
pub async fn find(conn: &mut AnyConnection, id: i64) -> Result<Option<HouseholdRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM households WHERE county_code = $1 AND id = $2"
    )))
    .bind(ids::county_of(id))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The household with this id; [`Error::NotFound`] if missing.
pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<HouseholdRow> {
    find(conn, id).await?.ok_or(Error::NotFound)
}

/// The household with this 户编号 in a county.
pub async fn find_by_no(
    conn: &mut AnyConnection,
    county: &str,
    no: &str,
) -> Result<Option<HouseholdRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM households WHERE county_code = $1 AND household_no = $2"
    )))
    .bind(county)
    .bind(no)
    .fetch_optional(conn)
    .await?)
}

/// The column that holds codes of a region level's households (county/township/village/group).
fn region_column(code: &str) -> Option<&'static str> {
    match code.len() {
        6 => Some("county_code"),
        9 => Some("township_code"),
        12 => Some("village_code"),
        15 => Some("group_code"),
        _ => None,
    }
}

/// The column one level below a region's column (what its children are keyed by).
fn child_column(code: &str) -> Option<&'static str> {
    match code.len() {
        2 | 4 => Some("county_code"),
        6 => Some("township_code"),
        9 => Some("village_code"),
        12 => Some("group_code"),
        _ => None,
    }
}

/// Restricts a query to households inside `region` (any level).
fn push_region(sql: &mut Sql, region: &str) {
    match region_column(region) {
        Some(col) => {
            sql.push(col).push(" = ").bind(region);
        }
        None => {
            // Province or city: no column of their own; match the county code prefix.
            sql.push("county_code LIKE ").bind(format!("{region}%"));
        }
    }
}

/// Filters for the household list and search.
#[derive(Clone, Debug, Default)]
pub struct HouseholdFilter {
    /// Only households inside this region (the caller's scope is already applied).
    pub region: String,
    /// Free text: 户编号, 身份证号 (any member), or a name prefix (户主 or member).
    pub text: Option<String>,
    /// `general` / `poor` / `lifted`.
    pub status: Option<String>,
    /// `none` / `monitored` / `eliminated`.
    pub monitoring: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// At most this many member names are read to tell a dense name prefix (see [`push_filter`])
/// from a sparse one: an index range read of a few thousand entries, about a millisecond.
const DENSE_NAMES: i64 = 2000;

/// Whether `f` searches a name prefix that at least [`DENSE_NAMES`] member names share (a
/// bare surname usually): such a search tests each household in 户编号 order and stops after
/// the page; a sparse one collects its few matches through the name indexes.
async fn dense_name(conn: &mut AnyConnection, f: &HouseholdFilter) -> Result<bool> {
    let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(false);
    };
    if t.bytes()
        .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x')
    {
        return Ok(false);
    }
    let (low, high) = name_range(t);
    let mut sql = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM members WHERE name >= ");
    sql.bind(low).push(" AND name < ").bind(high);
    sql.push(" LIMIT ").bind(DENSE_NAMES).push(") t");
    let row = sql.query_for(conn).fetch_one(&mut *conn).await?;
    let n: i64 = sqlx::Row::try_get(&row, 0)?;
    Ok(n >= DENSE_NAMES)
}

fn push_filter(sql: &mut Sql, f: &HouseholdFilter, dense: bool) {
    sql.push(" WHERE ");
    push_region(sql, &f.region);
    if let Some(s) = &f.status {
        sql.push(" AND status = ").bind(s.clone());
    }
    if let Some(m) = &f.monitoring {
        sql.push(" AND monitoring = ").bind(m.clone());
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let digits = t
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'X' || b == b'x');
        if digits && t.len() >= 15 {
            sql.push(" AND (household_no = ").bind(t);
            sql.push(" OR id IN (SELECT household_id FROM members WHERE id_number = ")
                .bind(t.to_uppercase());
            sql.push("))");
        } else if digits {
            // User text is literal inside the pattern: `%` and `_` match themselves.
            let prefix = format!("{}%", crate::sql::like_escape(t));
            sql.push(" AND household_no LIKE ").bind(prefix);
            sql.push(crate::sql::LIKE_ESCAPE);
        } else if dense {
            // A prefix many names share (a bare surname: in 都安 韦 is 40 % of the county):
            // each household is tested where it stands (its members through the
            // `members_household` index), so the page ordered by 户编号 walks `households_no`
            // and stops after a page of hits, and a capped count after the cap. Collecting
            // every match first (the range below) reads 40 % of the county for any page.
            let (low, high) = name_range(t);
            let range = |sql: &mut Sql, before: &str, column: &str| {
                sql.push(before)
                    .push(column)
                    .push(" >= ")
                    .bind(low.clone())
                    .push(" AND ")
                    .push(column)
                    .push(" < ")
                    .bind(high.clone());
            };
            range(sql, " AND (", "head_name");
            range(sql, " OR ", "household_no");
            sql.push(
                " OR EXISTS (SELECT 1 FROM members m WHERE m.county_code = households.county_code \
                 AND m.household_id = households.id",
            );
            range(sql, " AND ", "m.name");
            sql.push("))");
        } else {
            // A name or its beginning (户主 or any member): a range over the name indexes, in
            // code-point order on both backends (migration 0014), so it reads only the names
            // that begin with the text. `LIKE 'x%'` read every row: SQLite's LIKE ignores case
            // and PostgreSQL's needs a "C" pattern index, so neither used the index.
            // The county (the first six digits of any region at or below it) lets the
            // household ids found be looked up by primary key.
            // A 户编号 with letters (numbers from other systems) is found the same way.
            let (low, high) = name_range(t);
            if let Some(county) = f.region.get(..6) {
                sql.push(" AND county_code = ").bind(county);
            }
            sql.push(" AND id IN (SELECT id FROM households WHERE head_name >= ")
                .bind(low.clone())
                .push(" AND head_name < ")
                .bind(high.clone());
            sql.push(" UNION SELECT id FROM households WHERE household_no >= ")
                .bind(low.clone())
                .push(" AND household_no < ")
                .bind(high.clone());
            if let Some(county) = f.region.get(..6) {
                // `households_no` is (county_code, household_no).
                sql.push(" AND county_code = ").bind(county);
            }
            sql.push(" UNION SELECT household_id FROM members WHERE name >= ")
                .bind(low)
                .push(" AND name < ")
                .bind(high)
                .push(")");
        }
    }
}

/// The names beginning with `prefix` are those in `[low, high)` in code-point order: `high` is
/// the prefix followed by the last code point (U+10FFFF), after every character a name holds.
pub fn name_range(prefix: &str) -> (String, String) {
    (prefix.to_string(), format!("{prefix}\u{10FFFF}"))
}

/// One page of households matching a filter, ordered by 户编号.
pub async fn search(conn: &mut AnyConnection, f: &HouseholdFilter) -> Result<Vec<HouseholdRow>> {
    let dense = dense_name(conn, f).await?;
    let mut sql = Sql::new(&format!("SELECT {COLS} FROM households"));
    push_filter(&mut sql, f, dense);
    sql.push(" ORDER BY household_no LIMIT ")
        .bind(f.limit)
        .push(" OFFSET ")
        .bind(f.offset);
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// The database's plan for [`search`] with `f` (SQLite's `EXPLAIN QUERY PLAN` details, or
/// PostgreSQL's `EXPLAIN` lines), one step a line: for tests and benchmarks that check which
/// indexes a search uses.
pub async fn search_plan(conn: &mut AnyConnection, f: &HouseholdFilter) -> Result<String> {
    let sqlite = conn.backend_name() == "SQLite";
    let dense = dense_name(conn, f).await?;
    let mut sql = Sql::new(&format!(
        "{} SELECT {COLS} FROM households",
        if sqlite {
            "EXPLAIN QUERY PLAN"
        } else {
            "EXPLAIN"
        }
    ));
    push_filter(&mut sql, f, dense);
    sql.push(" ORDER BY household_no LIMIT ")
        .bind(f.limit)
        .push(" OFFSET ")
        .bind(f.offset);
    let rows = sql.query_for(conn).fetch_all(conn).await?;
    let column = if sqlite { 3 } else { 0 };
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        lines.push(sqlx::Row::try_get::<String, _>(row, column)?);
    }
    Ok(lines.join("\n"))
}

/// Number of households matching a filter (ignores limit/offset).
pub async fn count(conn: &mut AnyConnection, f: &HouseholdFilter) -> Result<i64> {
    let dense = dense_name(conn, f).await?;
    let mut sql = Sql::new("SELECT COUNT(*) FROM households");
    push_filter(&mut sql, f, dense);
    let row = sql.query_for(conn).fetch_one(conn).await?;
    Ok(sqlx::Row::try_get(&row, 0)?)
}

/// [`count`] up to `cap`: the exact number when it is at most `cap`, else `cap + 1` ("more
/// than `cap`"). It reads at most `cap + 1` matches, so a bare surname borne by a third of
/// the county costs what `cap` rows cost, not the county.
pub async fn count_capped(conn: &mut AnyConnection, f: &HouseholdFilter, cap: i64) -> Result<i64> {
    let dense = dense_name(conn, f).await?;
    let mut sql = Sql::new("SELECT COUNT(*) FROM (SELECT 1 FROM households");
    push_filter(&mut sql, f, dense);
    sql.push(" LIMIT ").bind(cap.max(0) + 1).push(") t");
    let row = sql.query_for(conn).fetch_one(conn).await?;
    Ok(sqlx::Row::try_get(&row, 0)?)
}

/// Households and people of one child region in one status combination.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CountRow {
    /// Code of the child region (empty when the household has none, e.g. no 村民小组).
    pub child_code: String,
    /// `general` / `poor` / `lifted`.
    pub status: String,
    /// `none` / `monitored` / `eliminated`.
    pub monitoring: String,
    /// Number of households.
    pub households: i64,
    /// Number of people.
    pub people: i64,
}

/// Current counts inside `region`, broken down by child region and status.
///
/// Down to township level this sums `village_counts`; inside a village (children are groups)
/// it groups the village's households.
pub async fn counts(conn: &mut AnyConnection, region: &str) -> Result<Vec<CountRow>> {
    let child = child_column(region).unwrap_or("group_code");
    let table = if region.len() < 12 {
        "village_counts"
    } else {
        "households"
    };
    let (h, p) = if region.len() < 12 {
        ("SUM(households)", "SUM(people)")
    } else {
        ("COUNT(*)", "SUM(member_count)")
    };
    let mut sql = Sql::new(&format!(
        "SELECT COALESCE({child}, '') AS child_code, status, monitoring, CAST({h} AS BIGINT) AS households, \
         CAST(COALESCE({p}, 0) AS BIGINT) AS people FROM {table} WHERE "
    ));
    push_region(&mut sql, region);
    sql.push(&format!(
        " GROUP BY {child}, status, monitoring HAVING {h} > 0 ORDER BY 1, 2, 3"
    ));
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// Adds `households` and `people` (negative to subtract) to a village's count cell.
pub async fn adjust_counts(
    conn: &mut AnyConnection,
    village_code: &str,
    status: &str,
    monitoring: &str,
    households: i64,
    people: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO village_counts (county_code, township_code, village_code, status, monitoring, households, people) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (county_code, village_code, status, monitoring) \
         DO UPDATE SET households = village_counts.households + excluded.households, people = village_counts.people + excluded.people",
    )
    .bind(village_code.get(..6).unwrap_or("").to_string())
    .bind(village_code.get(..9).unwrap_or("").to_string())
    .bind(village_code.to_string())
    .bind(status.to_string())
    .bind(monitoring.to_string())
    .bind(households)
    .bind(people)
    .execute(conn)
    .await?;
    Ok(())
}

/// Recomputes the count cells of a county from its households (after a bulk load).
pub async fn rebuild_counts(conn: &mut AnyConnection, county: &str) -> Result<()> {
    sqlx::query("DELETE FROM village_counts WHERE county_code = $1")
        .bind(county)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO village_counts (county_code, township_code, village_code, status, monitoring, households, people) \
         SELECT county_code, township_code, village_code, status, monitoring, COUNT(*), CAST(COALESCE(SUM(member_count), 0) AS BIGINT) \
         FROM households WHERE county_code = $1 GROUP BY county_code, township_code, village_code, status, monitoring",
    )
    .bind(county)
    .execute(conn)
    .await?;
    Ok(())
}

/// A stored period (see `xiuhua_domain::event::Period`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PeriodRow {
    /// County code.
    pub county_code: String,
    /// Household id.
    pub household_id: i64,
    /// First day, ISO.
    pub valid_from: String,
    /// First day after, ISO; `None` while current.
    pub valid_to: Option<String>,
    /// 乡镇 code.
    pub township_code: String,
    /// 行政村 code.
    pub village_code: String,
    /// 村民小组 code.
    pub group_code: Option<String>,
    /// Registry status.
    pub status: String,
    /// Monitoring status.
    pub monitoring: String,
    /// Member count.
    pub members: i32,
}

impl PeriodRow {
    /// The bind values in the order of the insert columns.
    pub(crate) fn args(&self) -> Vec<Arg> {
        vec![
            self.county_code.clone().into(),
            self.household_id.into(),
            self.valid_from.clone().into(),
            self.valid_to.clone().into(),
            self.township_code.clone().into(),
            self.village_code.clone().into(),
            self.group_code.clone().into(),
            self.status.clone().into(),
            self.monitoring.clone().into(),
            i64::from(self.members).into(),
        ]
    }
}

/// The columns of a period insert, in the order of [`PeriodRow::args`].
pub(crate) const PERIOD_COLS: &str = "county_code, household_id, valid_from, valid_to, township_code, village_code, group_code, status, monitoring, members";

/// Inserts periods.
pub async fn insert_periods(conn: &mut AnyConnection, rows: &[PeriodRow]) -> Result<u64> {
    let args: Vec<Vec<Arg>> = rows.iter().map(PeriodRow::args).collect();
    insert_rows(
        conn,
        &format!("INSERT INTO household_periods ({PERIOD_COLS})"),
        "",
        args,
    )
    .await
}

/// Replaces all periods of one household.
pub async fn replace_periods(
    conn: &mut AnyConnection,
    household_id: i64,
    rows: &[PeriodRow],
) -> Result<()> {
    sqlx::query("DELETE FROM household_periods WHERE county_code = $1 AND household_id = $2")
        .bind(ids::county_of(household_id))
        .bind(household_id)
        .execute(&mut *conn)
        .await?;
    insert_periods(conn, rows).await?;
    Ok(())
}

/// Counts inside `region` as they stood at the end of `date` (ISO), by child region and status.
pub async fn counts_as_of(
    conn: &mut AnyConnection,
    region: &str,
    date: &str,
) -> Result<Vec<CountRow>> {
    let child = child_column(region).unwrap_or("group_code");
    let mut sql = Sql::new(&format!(
        "SELECT COALESCE({child}, '') AS child_code, status, monitoring, COUNT(*) AS households, \
         CAST(COALESCE(SUM(members), 0) AS BIGINT) AS people FROM household_periods WHERE "
    ));
    match region.len() {
        6 | 9 | 12 | 15 => {
            sql.push("county_code = ").bind(&region[..6]);
            match region.len() {
                9 => {
                    sql.push(" AND township_code = ").bind(region);
                }
                12 => {
                    sql.push(" AND village_code = ").bind(region);
                }
                15 => {
                    sql.push(" AND group_code = ").bind(region);
                }
                _ => {}
            }
        }
        _ => {
            sql.push("county_code LIKE ").bind(format!("{region}%"));
        }
    }
    sql.push(" AND valid_from <= ").bind(date);
    sql.push(" AND (valid_to IS NULL OR valid_to > ").bind(date);
    sql.push(&format!(
        ") GROUP BY {child}, status, monitoring ORDER BY 1, 2, 3"
    ));
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// Number of stored households in total.
pub async fn total(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM households")
        .fetch_one(conn)
        .await?)
}

/// A page of the households inside `region` with ids greater than `after`, in id order
/// (keyset pagination for exports).
pub async fn page(
    conn: &mut AnyConnection,
    region: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<HouseholdRow>> {
    let mut sql = Sql::new(&format!("SELECT {COLS} FROM households WHERE "));
    push_region(&mut sql, region);
    sql.push(" AND id > ")
        .bind(after)
        .push(" ORDER BY id LIMIT ")
        .bind(limit);
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// The households of a county with these 户编号 (any order).
pub async fn find_by_nos(
    conn: &mut AnyConnection,
    county: &str,
    nos: &[String],
) -> Result<Vec<HouseholdRow>> {
    let mut out = Vec::new();
    for chunk in nos.chunks(900) {
        let mut sql = Sql::new(&format!(
            "SELECT {COLS} FROM households WHERE county_code = "
        ));
        sql.bind(county).push(" AND household_no IN (");
        for (i, no) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(no.as_str());
        }
        sql.push(")");
        let rows: Vec<HouseholdRow> = sql
            .query_for(conn)
            .try_map(|row| sqlx::FromRow::from_row(&row))
            .fetch_all(&mut *conn)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// Stored periods of several households of one county, in (household, valid_from) order.
pub async fn periods_for_households(
    conn: &mut AnyConnection,
    county: &str,
    household_ids: &[i64],
) -> Result<Vec<PeriodRow>> {
    if household_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(&format!(
        "SELECT {PERIOD_COLS} FROM household_periods WHERE county_code = "
    ));
    sql.bind(county).push(" AND household_id IN (");
    for (i, id) in household_ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(") ORDER BY household_id, valid_from");
    Ok(sql
        .query_for(conn)
        .try_map(|row| sqlx::FromRow::from_row(&row))
        .fetch_all(conn)
        .await?)
}

/// One cell of the village counts: (village, status, monitoring, households, people).
pub type CountCell = (String, String, String, i64, i64);

/// The maintained `village_counts` cells of a county that are not zero, in key order.
pub async fn stored_counts(conn: &mut AnyConnection, county: &str) -> Result<Vec<CountCell>> {
    Ok(sqlx::query_as(
        "SELECT village_code, status, monitoring, households, people FROM village_counts \
         WHERE county_code = $1 AND (households <> 0 OR people <> 0) ORDER BY village_code, status, monitoring",
    )
    .bind(county)
    .fetch_all(conn)
    .await?)
}

/// The same cells recounted from the county's households.
pub async fn recount(conn: &mut AnyConnection, county: &str) -> Result<Vec<CountCell>> {
    Ok(sqlx::query_as(
        "SELECT village_code, status, monitoring, CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(member_count), 0) AS BIGINT) FROM households WHERE county_code = $1 \
         GROUP BY village_code, status, monitoring ORDER BY village_code, status, monitoring",
    )
    .bind(county)
    .fetch_all(conn)
    .await?)
}

/// Events, members and periods of the county whose household does not exist: (table, rows).
pub async fn orphans(conn: &mut AnyConnection, county: &str) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for (table, key) in [
        ("events", "household_id"),
        ("members", "household_id"),
        ("household_periods", "household_id"),
    ] {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} t WHERE t.county_code = $1 AND NOT EXISTS \
             (SELECT 1 FROM households h WHERE h.county_code = t.county_code AND h.id = t.{key})"
        )))
        .bind(county)
        .fetch_one(&mut *conn)
        .await?;
        if n > 0 {
            out.push((table.to_string(), n));
        }
    }
    Ok(out)
}
