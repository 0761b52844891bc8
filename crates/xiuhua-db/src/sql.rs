//! A tiny helper for SQL assembled at run time: `$n` placeholders with a counter (sqlx's
//! `QueryBuilder<Any>` writes `?`, which PostgreSQL rejects), typed bind values, and
//! multi-row inserts chunked under the parameter limit.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection};

/// A bind value in the portable type subset.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// BIGINT / INTEGER
    I64(i64),
    /// Nullable BIGINT / INTEGER
    OptI64(Option<i64>),
    /// TEXT
    Text(String),
    /// Nullable TEXT
    OptText(Option<String>),
    /// SMALLINT flag or level
    I16(i16),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::I64(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::OptI64(v)
    }
}
impl From<Option<i32>> for Arg {
    fn from(v: Option<i32>) -> Arg {
        Arg::OptI64(v.map(i64::from))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::OptText(v)
    }
}
impl From<i16> for Arg {
    fn from(v: i16) -> Arg {
        Arg::I16(v)
    }
}

/// SQL text plus its arguments, with `$n` numbering.
#[derive(Debug, Default)]
pub struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Starts with a fixed fragment.
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// Appends literal SQL (never user input).
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub fn bind(&mut self, arg: impl Into<Arg>) -> &mut Sql {
        self.args.push(arg.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// The SQL text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// A sqlx query with all arguments bound.
    pub fn query(&self) -> Query<'_, Any, AnyArguments> {
        bind_all(
            sqlx::query(sqlx::AssertSqlSafe(self.text.clone())),
            &self.args,
        )
    }

    /// Executes and returns the number of affected rows.
    pub async fn execute(&self, conn: &mut AnyConnection) -> crate::Result<u64> {
        Ok(self.query().execute(conn).await?.rows_affected())
    }
}

/// Binds arguments in order.
pub fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    args: &[Arg],
) -> Query<'q, Any, AnyArguments> {
    for a in args {
        q = match a {
            Arg::I64(v) => q.bind(*v),
            Arg::OptI64(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.clone()),
            Arg::OptText(v) => q.bind(v.clone()),
            Arg::I16(v) => q.bind(*v),
        };
    }
    q
}

/// Bind parameters per statement. SQLite treats `$n` as named parameters and looks each one up
/// linearly while parsing, so very wide statements cost O(n²); about 1,000 per statement is the
/// measured sweet spot on both backends.
const MAX_PARAMS: usize = 1_000;

/// Inserts rows with multi-row `VALUES` statements. `head` is `INSERT INTO t (a, b, c)`; every
/// row must have as many values as columns. `tail` (e.g. an `ON CONFLICT` clause) is appended.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    head: &str,
    tail: &str,
    rows: &[Vec<Arg>],
) -> crate::Result<u64> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(0);
    };
    let per_stmt = (MAX_PARAMS / width.max(1)).max(1);
    let mut total = 0;
    for chunk in rows.chunks(per_stmt) {
        let mut sql = Sql::new(head);
        sql.push(" VALUES ");
        for (i, row) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, a) in row.iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.bind(a.clone());
            }
            sql.push(")");
        }
        sql.push(tail);
        total += sql.execute(conn).await?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        let mut s = Sql::new("SELECT 1 WHERE a = ");
        s.bind(1i64).push(" AND b = ").bind("x");
        assert_eq!(s.text(), "SELECT 1 WHERE a = $1 AND b = $2");
    }
}
