//! A county's own column names: headers its ledgers use that the field catalogue does not
//! know, mapped to catalogue fields in the upload page's column dialog and saved for the county
//! (`column_mappings`). Every later import of the county reads them (`with_saved`), from the
//! web and the CLI alike; a mapping given with the import itself (a mapping file, the dialog's
//! choices) comes first.
//!
//! Saving is open to every role that may import (for the county the user imports into);
//! the list and deleting are for administrators (system or county). Both are audited.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use xiuhua_db::column_mappings::MappingRow;
use xiuhua_db::events::format_ts;
use xiuhua_domain::FieldCatalog;
use xiuhua_domain::message::msg;
use xiuhua_xlsx::columns::normalise_header;
use xiuhua_xlsx::{LedgerRow, SheetHeader};

use super::ImportOptions;
use super::interpret::text;
use crate::audit::{AuditAction, record};
use crate::{CurrentUser, Error, Result, Services};

/// A saved column name of a county.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedMapping {
    /// The county.
    pub county: String,
    /// The header, normalised (the key).
    pub header: String,
    /// The header as it was written in the file.
    pub header_written: String,
    /// The catalogue field's name.
    pub field: String,
    /// Who saved it.
    pub saved_by: String,
    /// When (RFC 3339 UTC).
    pub saved_at: String,
}

impl From<MappingRow> for SavedMapping {
    fn from(r: MappingRow) -> Self {
        SavedMapping {
            county: r.county_code,
            header: r.header,
            header_written: r.header_written,
            field: r.field,
            saved_by: r.saved_by,
            saved_at: r.saved_at,
        }
    }
}

/// A column of an uploaded file the catalogue does not know, with a few of its values.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnknownColumn {
    /// Sheet.
    pub sheet: String,
    /// 1-based column.
    pub column: usize,
    /// The column's letter as Excel shows it (`A`, `AB`).
    pub letter: String,
    /// The header as written.
    pub header: String,
    /// Up to [`SAMPLES`] different values from the first rows.
    pub samples: Vec<String>,
}

/// Values shown per unknown column.
pub const SAMPLES: usize = 3;
/// Data rows read for the samples.
const SAMPLE_ROWS: usize = 500;

/// Excel's letter of a 1-based column (1 → `A`, 27 → `AA`).
pub fn column_letter(mut column: usize) -> String {
    let mut out = Vec::new();
    while column > 0 {
        let rem = (column - 1) % 26;
        out.push(char::from(b'A' + u8::try_from(rem).unwrap_or(0)));
        column = (column - 1) / 26;
    }
    out.iter().rev().collect()
}

/// The county code of the region an import names, if the user may import into it (the same
/// rule as the import's own check: inside the user's region, or containing it).
fn county_for(user: &CurrentUser, region: &str) -> Result<String> {
    let region = region.trim();
    let related = user.can_see(region) || user.region_code.starts_with(region);
    match region.get(..6).filter(|_| related && region.len() >= 6) {
        Some(c) => Ok(c.to_string()),
        None => Err(Error::NotFound {
            what: format!("region {region}"),
        }),
    }
}

/// The mapping an import uses: its own (`opts.mapping`) first, then the county's saved column
/// names. `county` is the county code (after the import's request check).
pub(super) async fn with_saved(
    s: &Services,
    county: &str,
    mapping: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let mut conn = s.db.acquire().await?;
    let saved = xiuhua_db::column_mappings::of_county(&mut conn, county).await?;
    let mut out = mapping.to_vec();
    out.extend(saved.into_iter().map(|r| (r.header_written, r.field)));
    Ok(out)
}

/// The saved column names of the county of `region` (any role that may import there).
pub async fn saved_for(
    s: &Services,
    user: &CurrentUser,
    region: &str,
) -> Result<Vec<SavedMapping>> {
    user.require_write()?;
    let county = county_for(user, region)?;
    let mut conn = s.db.acquire().await?;
    let rows = xiuhua_db::column_mappings::of_county(&mut conn, &county).await?;
    Ok(rows.into_iter().map(SavedMapping::from).collect())
}

/// Every saved column name an administrator may manage: of every county for a system-wide
/// administrator, of their own county for a county one.
pub async fn list(s: &Services, user: &CurrentUser) -> Result<Vec<SavedMapping>> {
    user.require_county()?;
    let prefix = user.region_code.get(..6).unwrap_or(&user.region_code);
    let mut conn = s.db.acquire().await?;
    let rows = xiuhua_db::column_mappings::within(&mut conn, prefix).await?;
    Ok(rows.into_iter().map(SavedMapping::from).collect())
}

/// Saves column names (header as written → catalogue field name) for the county of `region`,
/// replacing what was saved for the same headers; logged as `import_mapping_save`. Returns how
/// many were saved. A field name the catalogue has no column for, or an empty header, is
/// refused with nothing saved.
pub async fn save(
    s: &Services,
    user: &CurrentUser,
    region: &str,
    entries: &[(String, String)],
    client: &str,
) -> Result<usize> {
    user.require_write()?;
    let county = county_for(user, region)?;
    let cat = FieldCatalog::shipped();
    let now = format_ts(s.clock.now());
    let mut rows = Vec::new();
    for (written, field) in entries {
        let header = normalise_header(written);
        if header.is_empty() {
            return Err(Error::invalid(
                "列名对照",
                "header",
                "mapping_empty_header",
                msg("mapping_empty_header"),
            ));
        }
        if cat.find(field).is_none_or(|d| !d.is_column()) {
            return Err(Error::invalid(
                "列名对照",
                "field",
                "mapping_unknown_field",
                msg("mapping_unknown_field")
                    .arg("header", written)
                    .arg("field", field),
            ));
        }
        rows.push(MappingRow {
            county_code: county.clone(),
            header,
            header_written: written.trim().to_string(),
            field: field.clone(),
            saved_by: user.username.clone(),
            saved_at: now.clone(),
        });
    }
    if rows.is_empty() {
        return Ok(0);
    }
    {
        let mut tx = s.db.begin().await?;
        for r in &rows {
            xiuhua_db::column_mappings::upsert(&mut tx, r).await?;
        }
        tx.commit().await?;
    }
    let detail = rows
        .iter()
        .map(|r| format!("{}→{}", r.header_written, r.field))
        .collect::<Vec<_>>()
        .join("; ");
    record(
        s,
        &user.username,
        AuditAction::ImportMappingSave,
        &county,
        &detail,
        client,
    )
    .await?;
    Ok(rows.len())
}

/// Deletes a saved column name (administrators of the county); logged as
/// `import_mapping_delete`. Another county's, or one that does not exist, is `NotFound`.
pub async fn delete(
    s: &Services,
    user: &CurrentUser,
    county: &str,
    header: &str,
    client: &str,
) -> Result<()> {
    user.require_county()?;
    let not_found = || Error::NotFound {
        what: format!("column mapping {county} {header}"),
    };
    if county.len() != 6 || !(user.can_see(county) || user.region_code.starts_with(county)) {
        return Err(not_found());
    }
    let deleted = {
        let mut conn = s.db.acquire_write().await?;
        xiuhua_db::column_mappings::delete(&mut conn, county, header).await?
    };
    if !deleted {
        return Err(not_found());
    }
    record(
        s,
        &user.username,
        AuditAction::ImportMappingDelete,
        county,
        header,
        client,
    )
    .await
}

/// The columns of the file at `path` that neither the catalogue nor the mapping the import
/// would use (`opts.mapping` and the county's saved names) knows, each with its letter and a
/// few values from the first rows, for the column dialog.
pub async fn unknown_columns(
    s: &Services,
    user: &CurrentUser,
    path: &Path,
    opts: &ImportOptions,
) -> Result<Vec<UnknownColumn>> {
    user.require_write()?;
    let county = county_for(user, &opts.county)?;
    let mapping = with_saved(s, &county, &opts.mapping).await?;
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || samples(&path, &mapping))
        .await
        .map_err(|e| Error::Unexpected(e.into()))?
}

/// Reads the first rows of a file for the unknown columns' values.
fn samples(path: &Path, mapping: &[(String, String)]) -> Result<Vec<UnknownColumn>> {
    let mut order: Vec<(String, usize, String)> = Vec::new();
    let mut values: HashMap<(String, usize), Vec<String>> = HashMap::new();
    let mut rows = 0usize;
    let mut seen_sheets: Vec<String> = Vec::new();
    let outcome = xiuhua_xlsx::read_ledger(
        path,
        mapping,
        &mut |h: &Arc<SheetHeader>, row: LedgerRow| {
            if !seen_sheets.contains(&h.sheet) {
                seen_sheets.push(h.sheet.clone());
                order.extend(
                    h.unknown
                        .iter()
                        .map(|(c, n)| (h.sheet.clone(), *c, n.clone())),
                );
            }
            for (c, _) in &h.unknown {
                let Some(v) = row.raw.get(c - 1).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let list = values.entry((h.sheet.clone(), *c)).or_default();
                let v = text(v);
                if list.len() < SAMPLES && !list.contains(&v) {
                    list.push(v);
                }
            }
            rows += 1;
            if rows >= SAMPLE_ROWS {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    );
    // Sheets the sample rows did not reach (or without data rows) still list their columns.
    if let Ok(info) = &outcome {
        for h in &info.sheets {
            if !seen_sheets.contains(&h.sheet) {
                order.extend(
                    h.unknown
                        .iter()
                        .map(|(c, n)| (h.sheet.clone(), *c, n.clone())),
                );
            }
        }
    }
    if let Err(e) = outcome {
        return Err(Error::invalid(
            "文件",
            "file",
            "unreadable_file",
            e.message(),
        ));
    }
    Ok(order
        .into_iter()
        .map(|(sheet, column, header)| UnknownColumn {
            samples: values.remove(&(sheet.clone(), column)).unwrap_or_default(),
            letter: column_letter(column),
            sheet,
            column,
            header,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::column_letter;

    #[test]
    fn column_letters_as_excel_shows_them() {
        assert_eq!(column_letter(1), "A");
        assert_eq!(column_letter(26), "Z");
        assert_eq!(column_letter(27), "AA");
        assert_eq!(column_letter(52), "AZ");
        assert_eq!(column_letter(703), "AAA");
    }
}
