//! A tiny helper for SQL assembled at run time: `$n` placeholders with a counter (sqlx's
//! `QueryBuilder<Any>` writes `?`, which PostgreSQL rejects), typed bind values, and
//! multi-row inserts chunked under the parameter limit.
//!
//! On SQLite the placeholders are sent as plain `?`: SQLite treats `$n` as *named* parameters
//! and sqlx looks every name up with `sqlite3_bind_parameter_name`, a linear scan, so a statement
//! with n `$n` parameters costs O(n²) to bind (a quarter of a large import's CPU time went there).

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
    /// Nullable DOUBLE PRECISION
    OptF64(Option<f64>),
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
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Arg {
        Arg::OptF64(v)
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
    /// Byte range of each placeholder in `text`, in order.
    marks: Vec<(usize, usize)>,
}

impl Sql {
    /// Starts with a fixed fragment.
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
            marks: Vec::new(),
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
        let start = self.text.len();
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self.marks.push((start, self.text.len()));
        self
    }

    /// The SQL text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The SQL text in the placeholder style of `conn`'s backend: `$n` for PostgreSQL, `?` for
    /// SQLite (see the module documentation).
    pub fn text_for(&self, conn: &AnyConnection) -> String {
        if conn.backend_name() != "SQLite" {
            return self.text.clone();
        }
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for &(start, end) in &self.marks {
            out.push_str(&self.text[at..start]);
            out.push('?');
            at = end;
        }
        out.push_str(&self.text[at..]);
        out
    }

    /// A sqlx query for `conn`'s backend with all arguments bound.
    pub fn query_for(&self, conn: &AnyConnection) -> Query<'_, Any, AnyArguments> {
        bind_all(
            sqlx::query(sqlx::AssertSqlSafe(self.text_for(conn))),
            &self.args,
        )
    }

    /// Executes and returns the number of affected rows.
    pub async fn execute(self, conn: &mut AnyConnection) -> crate::Result<u64> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text_for(conn)));
        for a in self.args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::OptI64(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::I16(v) => q.bind(v),
                Arg::OptF64(v) => bind_opt_f64(q, v),
            };
        }
        Ok(q.execute(conn).await?.rows_affected())
    }
}

/// Binds an optional DOUBLE PRECISION value. sqlx 0.9's Any driver declares a NULL of type f64
/// as `float4` (and a NULL f32 as `float8`: the two are swapped in
/// `AnyArguments::convert_into`), so on PostgreSQL a statement first prepared with a NULL there
/// refuses a later real value ("incorrect binary data format in bind parameter"). A NULL is
/// therefore bound as f32, which that swap sends as `float8`, the column's type.
fn bind_opt_f64(q: Query<'_, Any, AnyArguments>, v: Option<f64>) -> Query<'_, Any, AnyArguments> {
    match v {
        Some(x) => q.bind(x),
        None => q.bind(None::<f32>),
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
            Arg::OptF64(v) => bind_opt_f64(q, *v),
        };
    }
    q
}

/// Bind parameters per statement. SQLite also looks up `$n` while *parsing* (linearly, so O(n²)
/// per statement); about 1,000 per statement was the measured sweet spot on both backends.
const MAX_PARAMS: usize = 1_000;

/// Inserts rows with multi-row `VALUES` statements. `head` is `INSERT INTO t (a, b, c)`; every
/// row must have as many values as columns. `tail` (e.g. an `ON CONFLICT` clause) is appended.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Arg>>,
) -> crate::Result<u64> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(0);
    };
    let per_stmt = (MAX_PARAMS / width.max(1)).max(1);
    // On SQLite a plain multi-row INSERT that fails half-way undoes only itself, which costs a
    // statement journal: a copy of every page it touches (a third of a bulk import's database
    // work). `OR ROLLBACK` undoes the whole transaction instead — what every caller does with
    // a failed insert anyway, and what PostgreSQL does to a transaction after any error. (With
    // an upsert `tail` the insert is left as it is.)
    let sqlite_plain = tail.is_empty()
        && conn.backend_name() == "SQLite"
        && sqlx::Connection::is_in_transaction(&*conn);
    let head = match head.strip_prefix("INSERT INTO ") {
        Some(rest) if sqlite_plain => format!("INSERT OR ROLLBACK INTO {rest}"),
        _ => head.to_string(),
    };
    let mut total = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::new(&head);
        sql.push(" VALUES ");
        for (i, row) in rows.by_ref().take(per_stmt).enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, a) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.bind(a);
            }
            sql.push(")");
        }
        sql.push(tail);
        match sql.execute(conn).await {
            Ok(n) => total += n,
            Err(e) if sqlite_plain => {
                // SQLite has ended the transaction; the caller's transaction object still
                // thinks it is open and will roll back. Give it an empty one to roll back
                // (when the transaction is in fact still open, this BEGIN fails harmlessly).
                let _ = sqlx::query("BEGIN").execute(&mut *conn).await;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// The escape character of every `LIKE` pattern built from user text: write
/// `LIKE $n ESCAPE '\'` and bind [`like_escape`]d text (the same on SQLite and PostgreSQL).
pub const LIKE_ESCAPE: &str = " ESCAPE '\\'";

/// User text made literal inside a `LIKE` pattern: `\`, `%` and `_` are escaped with `\`
/// (use with [`LIKE_ESCAPE`]), so that `%` searches for a percent sign, not for everything.
pub fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        let mut s = Sql::new("SELECT 1 WHERE a = ");
        s.bind(1i64).push(" AND b = ").bind("x");
        assert_eq!(s.text(), "SELECT 1 WHERE a = $1 AND b = $2");
        assert_eq!(s.marks, vec![(19, 21), (30, 32)]);
    }

    #[test]
    fn like_patterns_take_user_text_literally() {
        assert_eq!(super::like_escape(r"50%_a\b"), r"50\%\_a\\b");
        assert_eq!(super::like_escape("韦桂英"), "韦桂英");
    }
}
