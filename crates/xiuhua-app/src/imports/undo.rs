//! Undoing an import run that did not finish (a chunk failed, or the process died while
//! writing): its events are deleted, the households it created are deleted with their members
//! and periods, the households it changed get their rows, members and periods re-derived from
//! the events that remain, and the village counts are recounted. One write transaction: an
//! undo interrupted in turn is simply done again at the next start.

use xiuhua_db::events::format_ts;
use xiuhua_db::import_runs;

use crate::{Result, Services};

/// Undoes run `id` if it is still `writing`; returns whether it was.
pub(super) async fn undo_run(s: &Services, id: i64) -> Result<bool> {
    let mut tx = s.db.begin().await?;
    let Some(run) = import_runs::find(&mut tx, id).await? else {
        return Ok(false);
    };
    // Marked first: on PostgreSQL the row lock orders this against a chunk still starting
    // (its `add_chunk` then finds the run undone and writes nothing).
    if !import_runs::finish(&mut tx, id, "undone", &format_ts(s.clock.now())).await? {
        return Ok(false);
    }
    let county = run.county_code;
    let households = import_runs::households_of(&mut tx, &county, id).await?;
    import_runs::delete_events(&mut tx, &county, id).await?;
    for (household, created) in &households {
        if *created {
            import_runs::delete_household(&mut tx, *household).await?;
        } else {
            crate::registry::rederive(s, &mut tx, *household).await?;
        }
    }
    xiuhua_db::households::rebuild_counts(&mut tx, &county).await?;
    xiuhua_db::commit(tx).await?;
    tracing::warn!(run = id, households = households.len(), "import run undone");
    Ok(true)
}

/// Undoes every run left `writing` (its process died mid-import). Runs when the database is
/// opened ([`Services::new`]), before anything else; returns how many were undone.
///
/// Another process's import that is still writing is undone too (and then stops at its next
/// chunk, writing nothing more): run imports and other commands on one database from one
/// server, as for jobs.
pub async fn undo_unfinished(s: &Services) -> Result<usize> {
    let mut conn = s.db.acquire().await?;
    let runs = import_runs::writing(&mut conn).await?;
    drop(conn);
    let mut n = 0;
    for r in runs {
        n += usize::from(undo_run(s, r.id).await?);
    }
    Ok(n)
}
