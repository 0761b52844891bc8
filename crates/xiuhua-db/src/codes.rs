//! The `code_items` table: data-driven code lists.

use sqlx::AnyConnection;
use xiuhua_domain::CodeItem;

use crate::Result;
use crate::sql::{Arg, insert_rows};

#[derive(sqlx::FromRow)]
struct CodeRow {
    list: String,
    code: String,
    label_zh: String,
    label_en: String,
}

/// Inserts items; with `replace`, existing codes get the new labels, otherwise they are kept.
pub async fn upsert_many(
    conn: &mut AnyConnection,
    items: &[CodeItem],
    replace: bool,
) -> Result<u64> {
    let base: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(MAX(sort), 0) AS BIGINT) FROM code_items")
            .fetch_one(&mut *conn)
            .await?;
    let rows: Vec<Vec<Arg>> = items
        .iter()
        .enumerate()
        .map(|(i, c)| {
            vec![
                c.list.clone().into(),
                c.code.clone().into(),
                c.label_zh.clone().into(),
                c.label_en.clone().into(),
                (base + i as i64 + 1).into(),
            ]
        })
        .collect();
    let tail = if replace {
        " ON CONFLICT (list, code) DO UPDATE SET label_zh = excluded.label_zh, label_en = excluded.label_en"
    } else {
        " ON CONFLICT (list, code) DO NOTHING"
    };
    insert_rows(
        conn,
        "INSERT INTO code_items (list, code, label_zh, label_en, sort)",
        tail,
        rows,
    )
    .await
}

/// All items, in list order.
pub async fn list_all(conn: &mut AnyConnection) -> Result<Vec<CodeItem>> {
    let rows: Vec<CodeRow> =
        sqlx::query_as("SELECT list, code, label_zh, label_en FROM code_items ORDER BY sort")
            .fetch_all(conn)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| CodeItem {
            list: r.list,
            code: r.code,
            label_zh: r.label_zh,
            label_en: r.label_en,
        })
        .collect())
}
