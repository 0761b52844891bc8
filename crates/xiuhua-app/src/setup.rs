//! Opening the database, and the few direct reads the command line needs besides the use cases
//! (a household count for a progress bar, a 户编号 lookup). The binary reaches the database only
//! through here and the other modules of this crate, so it needs no `xiuhua-db` dependency.

pub use xiuhua_db::audit::AccessFilter;
pub use xiuhua_db::backup::TableDigest;
pub use xiuhua_db::{ConnectError, Db};

use crate::{Result, Services};

/// Opens (creating a SQLite file if missing) and migrates the database at `url` with a pool of
/// at most `max_connections`.
pub async fn open_database(
    url: &str,
    max_connections: u32,
) -> std::result::Result<Db, ConnectError> {
    Db::open(url, max_connections).await
}

/// The number of households in the whole database (every county), e.g. the length of a
/// progress bar. Not scoped: callers are operators of the whole installation.
pub async fn household_total(s: &Services) -> Result<i64> {
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::households::total(&mut conn).await?)
}

/// The id of the household with 户编号 `no` in `county`, if there is one.
pub async fn household_id_by_no(s: &Services, county: &str, no: &str) -> Result<Option<i64>> {
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::households::find_by_no(&mut conn, county, no)
        .await?
        .map(|h| h.id))
}
