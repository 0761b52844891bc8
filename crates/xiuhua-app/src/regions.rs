//! Regions: import of region-code files (CSV `code,name[,parent]`) and lookups.

use std::collections::HashSet;
use xiuhua_domain::message::{Message, msg};

pub use xiuhua_db::regions::RegionRow;
use xiuhua_domain::{FieldError, RegionCode, RegionLevel};

use crate::{CurrentUser, Error, Result, Services};

/// Turns a validated code and name into a stored row.
pub fn region_row(code: &RegionCode, name: &str) -> RegionRow {
    let level = code.level();
    RegionRow {
        code: code.as_str().to_string(),
        name: name.to_string(),
        level: level.as_i16(),
        parent_code: code.parent().map(|p| p.as_str().to_string()),
        county_code: code
            .ancestor(RegionLevel::County)
            .map(|c| c.as_str().to_string()),
        is_poor_village: 0,
        poor_exit_year: None,
    }
}

/// Parses a region file in any format the ledger reader knows (`.xlsx`, `.xls`, CSV in
/// UTF-8/BOM/GBK): the same reader as ledger imports, then [`parse_region_rows`]. Row numbers
/// in errors are the file's own.
pub fn parse_region_file(path: &std::path::Path) -> Result<Vec<RegionRow>> {
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    let mut first_sheet: Option<String> = None;
    xiuhua_xlsx::source::for_each_row(path, &mut |r| {
        // The first sheet holds the table; later sheets (notes) are not read.
        let first = first_sheet.get_or_insert_with(|| r.sheet.to_string());
        if first != r.sheet {
            return std::ops::ControlFlow::Break(());
        }
        rows.push((r.row, r.cells.iter().map(|c| c.display()).collect()));
        std::ops::ControlFlow::Continue(())
    })
    .map_err(|e| Error::invalid("文件", "file", "unreadable_file", e.message()))?;
    parse_region_rows(rows)
}

/// Parses a region CSV text (see [`parse_region_rows`]).
pub fn parse_region_csv(text: &str) -> Result<Vec<RegionRow>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            Error::invalid(
                &format!("第{}行", i + 1),
                "*",
                "bad_csv",
                msg("bad_csv").arg("error", &e),
            )
        })?;
        rows.push((i + 1, rec.iter().map(String::from).collect()));
    }
    parse_region_rows(rows)
}

/// Parses region rows: a header naming `code` and `name` columns (代码/区划代码, 名称; and
/// optionally `parent`/上级代码) followed by data rows; every row is checked and every problem
/// reported with its row number.
pub fn parse_region_rows(rows: Vec<(usize, Vec<String>)>) -> Result<Vec<RegionRow>> {
    let mut iter = rows.into_iter();
    let Some((_, headers)) = iter.next() else {
        return Err(Error::invalid("文件", "file", "empty", msg("empty")));
    };
    let columns = region_columns(&headers)?;
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (line, rec) in iter {
        match parse_region_line(line, &rec, columns) {
            Ok(Some(row)) => out.push(row),
            Ok(None) => {}
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(errs))
    }
}

/// Where a region file's columns are: code, name and (optionally) parent.
#[derive(Clone, Copy)]
struct RegionColumns {
    code: usize,
    name: usize,
    parent: Option<usize>,
}

/// Finds the columns in the header row.
fn region_columns(headers: &[String]) -> Result<RegionColumns> {
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(code), Some(name)) = (find(&["code", "代码", "区划代码"]), find(&["name", "名称"]))
    else {
        return Err(Error::invalid(
            "表头",
            "header",
            "missing_columns",
            msg("missing_columns"),
        ));
    };
    let parent = find(&["parent", "parent_code", "上级代码"]);
    Ok(RegionColumns { code, name, parent })
}

/// One data row: its region, nothing for an empty row, or its (first) problem.
fn parse_region_line(
    line: usize,
    rec: &[String],
    columns: RegionColumns,
) -> Result<Option<RegionRow>, FieldError> {
    let err = |row: usize, field: &str, m: Message| {
        FieldError::new(format!("第{row}行"), field, "bad_region", m)
    };
    let get = |i: usize| rec.get(i).map(|s| s.trim()).unwrap_or("");
    let code = get(columns.code);
    let name = get(columns.name);
    if code.is_empty() && name.is_empty() {
        return Ok(None);
    }
    let parsed = match RegionCode::parse(code) {
        Ok(c) => c,
        Err(e) => {
            return Err(err(
                line,
                "code",
                msg("bad_region_code").arg("code", code).arg("error", &e),
            ));
        }
    };
    if name.is_empty() {
        return Err(err(line, "name", msg("region_name_empty")));
    }
    if let Some(p) = columns.parent.map(get).filter(|p| !p.is_empty()) {
        let expected = parsed
            .parent()
            .map(|x| x.as_str().to_string())
            .unwrap_or_default();
        let given = RegionCode::parse(p)
            .map(|x| x.as_str().to_string())
            .unwrap_or_else(|_| p.to_string());
        if given != expected {
            return Err(err(
                line,
                "parent",
                msg("region_parent_mismatch")
                    .arg("parent", p)
                    .arg("code", code)
                    .arg("expected", &expected),
            ));
        }
    }
    Ok(Some(region_row(&parsed, name)))
}

/// Imports regions atomically: all rows or none. Townships, villages and groups need their
/// parent either in the file or already stored. Returns the number of rows written.
pub async fn import_regions(s: &Services, user: &CurrentUser, rows: &[RegionRow]) -> Result<u64> {
    user.require_county()?;
    let mut tx = s.db.begin().await?;
    let in_file: HashSet<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let mut errs = Vec::new();
    let mut checked: HashSet<String> = HashSet::new();
    for r in rows {
        if !user.can_see(&r.code) {
            errs.push(FieldError::new(
                r.code.clone(),
                "code",
                "outside_scope",
                msg("outside_scope").arg("code", &r.code),
            ));
            continue;
        }
        let Some(p) = &r.parent_code else { continue };
        if r.level < RegionLevel::Township.as_i16()
            || in_file.contains(p.as_str())
            || checked.contains(p)
        {
            continue;
        }
        if xiuhua_db::regions::find(&mut tx, p).await?.is_some() {
            checked.insert(p.clone());
        } else {
            errs.push(FieldError::new(
                r.code.clone(),
                "parent",
                "missing_parent",
                msg("missing_parent")
                    .arg("name", &r.name)
                    .arg("code", &r.code)
                    .arg("p", p),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let n = xiuhua_db::regions::upsert_many(&mut tx, rows).await?;
    xiuhua_db::commit(tx).await?;
    Ok(n)
}

/// Top-level regions the user may start from: their own region, or for an unscoped admin every
/// stored county.
pub async fn roots(s: &Services, user: &CurrentUser) -> Result<Vec<RegionRow>> {
    let mut conn = s.db.acquire().await?;
    if user.region_code.is_empty() {
        Ok(xiuhua_db::regions::list_level(&mut conn, RegionLevel::County.as_i16(), "").await?)
    } else {
        Ok(xiuhua_db::regions::find(&mut conn, &user.region_code)
            .await?
            .into_iter()
            .collect())
    }
}

/// The regions `user` may assign to an account, in code order (a region before the ones
/// inside it): their own region and every county, township and village inside it (groups are
/// left out: accounts are not scoped to a 村民小组).
pub async fn assignable(s: &Services, user: &CurrentUser) -> Result<Vec<RegionRow>> {
    let mut conn = s.db.acquire().await?;
    let mut out = Vec::new();
    if let Some(own) = xiuhua_db::regions::find(&mut conn, &user.region_code).await? {
        out.push(own);
    }
    for level in [
        RegionLevel::County,
        RegionLevel::Township,
        RegionLevel::Village,
    ] {
        if level.code_len() <= user.region_code.len() {
            continue;
        }
        out.extend(
            xiuhua_db::regions::list_level(&mut conn, level.as_i16(), &user.region_code).await?,
        );
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// Regions inside the user's scope whose name contains `text` (for "search by village").
pub async fn search(
    s: &Services,
    user: &CurrentUser,
    text: &str,
    limit: i64,
) -> Result<Vec<RegionRow>> {
    let text = text.trim();
    if text.is_empty() || text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Vec::new());
    }
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::regions::search(&mut conn, text, &user.region_code, limit).await?)
}

/// Names of the given region codes (unknown codes are left out).
pub async fn names(
    s: &Services,
    codes: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let mut conn = s.db.acquire().await?;
    let mut out = std::collections::HashMap::new();
    for c in codes {
        if c.is_empty() || out.contains_key(c) {
            continue;
        }
        if let Some(r) = xiuhua_db::regions::find(&mut conn, c).await? {
            out.insert(r.code, r.name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_nbs_codes_parses() {
        let rows = parse_region_csv(
            "\u{feff}code,name,parent\n451228,都安瑶族自治县,4512\n451228101000,高岭镇,451228\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].code, "451228101");
        assert_eq!(rows[1].parent_code.as_deref(), Some("451228"));
        assert_eq!(rows[1].county_code.as_deref(), Some("451228"));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let Err(Error::Invalid(errs)) = parse_region_csv(
            "code,name,parent\n45122x,坏,45\n451228101,,451228\n451228101,高岭镇,451229\n",
        ) else {
            panic!("expected errors");
        };
        let lines: Vec<_> = errs
            .iter()
            .map(|e| (e.record.as_str(), e.field.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![("第2行", "code"), ("第3行", "name"), ("第4行", "parent")]
        );
    }

    #[test]
    fn missing_columns_are_named() {
        assert!(matches!(
            parse_region_csv("a,b\n1,2\n"),
            Err(Error::Invalid(_))
        ));
    }
}
