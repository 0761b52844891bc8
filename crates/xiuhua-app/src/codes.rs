//! Code lists: the shipped defaults, imports of a province's additions, and the cached catalog.

use anyhow::Context;
use xiuhua_domain::CodeCatalog;
use xiuhua_domain::codes::{DEFAULT_CODES_TSV, parse_codes_tsv};
use xiuhua_domain::message::msg;

use crate::{Error, Result, Services};

/// Stores the shipped code lists (existing codes keep their labels) and loads the catalog.
pub async fn ensure_defaults(s: &Services) -> Result<()> {
    let items = parse_codes_tsv(DEFAULT_CODES_TSV).context("shipped code list")?;
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::codes::upsert_many(&mut conn, &items, false).await?;
    drop(conn);
    reload(s).await
}

/// Reloads the catalog from the database.
pub async fn reload(s: &Services) -> Result<()> {
    let mut conn = s.db.acquire().await?;
    let items = xiuhua_db::codes::list_all(&mut conn).await?;
    s.set_codes(CodeCatalog::new(items));
    Ok(())
}

/// Imports a code-list file (tab-separated: list, code, Chinese, English); new codes are added,
/// existing ones relabelled. Returns the number of items.
pub async fn import_tsv(s: &Services, text: &str) -> Result<usize> {
    let items = parse_codes_tsv(text).map_err(|e| {
        Error::invalid(
            &format!("第{}行", e.line),
            "line",
            "bad_code_line",
            msg("bad_code_line")
                .arg("line", e.line)
                .arg("reason", &e.reason),
        )
    })?;
    let mut tx = s.db.begin().await?;
    xiuhua_db::codes::upsert_many(&mut tx, &items, true).await?;
    xiuhua_db::commit(tx).await?;
    reload(s).await?;
    Ok(items.len())
}
