//! Application-generated ids. Registry ids embed their county: `county * 10^10 + n`, so a
//! household id alone says which county (and, in a distributed deployment, which node) holds
//! it, and ids from different databases never collide when data is copied or merged.

use sqlx::AnyConnection;

use crate::Result;

/// Multiplier that places the 6-digit county code in front of a per-county counter.
pub const COUNTY_FACTOR: i64 = 10_000_000_000;

/// The county code embedded in a registry id.
pub fn county_of(id: i64) -> String {
    format!("{:06}", id / COUNTY_FACTOR)
}

/// Reserves `n` consecutive values of a named sequence and returns the first.
///
/// Runs inside the caller's transaction; on PostgreSQL the `UPDATE` row lock serialises
/// concurrent writers, on SQLite the single writer does.
pub async fn reserve(conn: &mut AnyConnection, name: &str, n: i64, start: i64) -> Result<i64> {
    sqlx::query(
        "INSERT INTO id_sequences (name, next_value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(start)
    .execute(&mut *conn)
    .await?;
    let next: i64 = sqlx::query_scalar(
        "UPDATE id_sequences SET next_value = next_value + $1 WHERE name = $2 RETURNING next_value",
    )
    .bind(n)
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    Ok(next - n)
}

/// Reserves `n` ids for a registry table of a county (`kind` = `household`, `member`, `event`).
pub async fn reserve_county(
    conn: &mut AnyConnection,
    kind: &str,
    county: &str,
    n: i64,
) -> Result<i64> {
    let c: i64 = county.parse().unwrap_or(0);
    reserve(conn, &format!("{kind}:{county}"), n, c * COUNTY_FACTOR + 1).await
}

/// Gives back ids reserved with [`reserve_county`] but not used: the sequence of `kind` goes
/// back from `end` (the end of the reservation) to `next` (the first unused id), but only if
/// nobody reserved after it.
pub async fn release_county(
    conn: &mut AnyConnection,
    kind: &str,
    county: &str,
    next: i64,
    end: i64,
) -> Result<()> {
    if next >= end {
        return Ok(());
    }
    sqlx::query("UPDATE id_sequences SET next_value = $1 WHERE name = $2 AND next_value = $3")
        .bind(next)
        .bind(format!("{kind}:{county}"))
        .bind(end)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_is_recovered_from_id() {
        assert_eq!(county_of(451228 * COUNTY_FACTOR + 17), "451228");
        assert_eq!(county_of(110105 * COUNTY_FACTOR + 1), "110105");
    }
}
