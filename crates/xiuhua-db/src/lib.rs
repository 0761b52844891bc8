//! Storage for SQLite and PostgreSQL through one code path (sqlx's `Any` driver).
//!
//! **Invariant:** SQL exists only in this crate, and every query runs unchanged on both
//! backends: `$n` placeholders, portable column types (BIGINT ids, TEXT dates, SMALLINT flags),
//! explicit casts on aggregates. Repository functions take `&mut AnyConnection`, so they work
//! on a pooled connection and inside a transaction alike.

pub mod audit;
pub mod backup;
pub mod bulk;
pub mod codes;
pub mod column_mappings;
pub mod departments;
pub mod events;
pub mod households;
pub mod ids;
pub mod import_runs;
pub mod jobs;
pub mod members;
pub mod regions;
pub mod rules;
pub mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod years;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

pub use sqlx::AnyConnection;

/// A transaction on either backend. A write transaction on SQLite ([`Db::begin`]) holds the
/// write gate (see [`Db`]) until it is committed, rolled back or dropped.
pub struct Tx {
    // Declared first so that it is dropped (its rollback queued) before the gate opens.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A pooled connection for autocommitted writes (the access log, sessions, login failures,
/// job states): on SQLite it holds the write gate while it lives, so keep it for the writes only.
pub struct WriteConn {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Deref for WriteConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Storage errors that callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row that must exist does not.
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write; `detail` is the database's text.
    #[error("constraint violated: {detail}")]
    Conflict {
        /// The database's message (names the constraint or column).
        detail: String,
    },
    /// A stored value could not be turned back into a domain value.
    #[error("corrupt stored value in {what}: {reason}")]
    Corrupt {
        /// Which table/column.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// Anything else from the driver (IO, protocol, syntax).
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match e {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::Database(ref d)
                if matches!(
                    d.kind(),
                    sqlx::error::ErrorKind::UniqueViolation
                        | sqlx::error::ErrorKind::ForeignKeyViolation
                ) =>
            {
                Error::Conflict {
                    detail: d.message().to_string(),
                }
            }
            other => Error::Other(other),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which database a URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Backend of a connection URL.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The connection pool and the backend it talks to.
///
/// **The write gate (SQLite).** SQLite has one write lock, and a writer that finds it taken
/// waits in the busy handler, which polls with growing sleeps: a bulk writer that takes the
/// lock again right after each commit (an import's chunks) would win every time and starve a
/// login. So every writer of this process first queues on a fair (FIFO) `tokio` mutex:
/// [`Db::begin`] holds it for the whole transaction, [`Db::acquire_write`] for autocommitted
/// writes. A login waiting behind an import gets the lock at the next chunk boundary.
/// PostgreSQL needs no gate (row locks, MVCC): there it is never taken. Never take the gate
/// twice in one task (a write transaction that calls `acquire_write` would wait for itself).
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// PostgreSQL only: native connections for `COPY` ([`bulk`]), which `Any` cannot issue.
    pg: Option<sqlx::PgPool>,
    /// The URL it was opened with (for [`Db::dedicated`]).
    url: Arc<str>,
    backend: Backend,
    gate: Arc<tokio::sync::Mutex<()>>,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL is neither `sqlite:` nor `postgres://`.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// The server or file could not be reached or opened.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// The file or schema is damaged, or belongs to a newer version of xiuhua.
    #[error("cannot migrate the database (damaged file or newer schema?): {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects (creating a SQLite file if missing) without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, ConnectError> {
        sqlx::any::install_default_drivers();
        let backend =
            Backend::of_url(url).ok_or_else(|| ConnectError::UnsupportedUrl(url.to_string()))?;
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { "&" } else { "?" })
            }
            _ => url.to_string(),
        };
        let read_only = backend == Backend::Sqlite && url.contains("mode=ro");
        let opts = AnyConnectOptions::from_str(&url).map_err(ConnectError::Connect)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        // sqlx prepares every statement; after a few runs PostgreSQL may switch to a
                        // generic plan chosen while a table was small (e.g. at the start of an
                        // import) and keep scanning it sequentially as it grows. Plan each
                        // execution with its real parameters instead.
                        conn.execute("SET plan_cache_mode = force_custom_plan")
                            .await?;
                    }
                    if read_only {
                        // A file opened read-only (a backup being checked): no WAL switch.
                        conn.execute("PRAGMA busy_timeout = 10000; PRAGMA query_only = 1;")
                            .await?;
                    } else if backend == Backend::Sqlite {
                        conn.execute(
                            // page_size only takes effect on a new, empty file (it comes
                            // before the WAL switch, which writes the header): 16 KiB pages
                            // hold several event records each where 4 KiB pages held one, a
                            // smaller file and fewer pages to write on bulk loads.
                            "PRAGMA page_size = 16384; \
                             PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
                             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(ConnectError::Connect)?;
        let pg = match backend {
            // Connected when first used (the first bulk write).
            Backend::Postgres => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(max_connections.clamp(1, 4))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_lazy(&url)
                    .map_err(ConnectError::Connect)?,
            ),
            Backend::Sqlite => None,
        };
        Ok(Db {
            pool,
            pg,
            url: url.into(),
            backend,
            gate: Arc::default(),
        })
    }

    /// Connects and brings the schema up to date.
    pub async fn open(url: &str, max_connections: u32) -> Result<Db, ConnectError> {
        let db = Db::connect(url, max_connections).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Runs pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        let m = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        m.run(&self.pool).await.map_err(ConnectError::Migrate)
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A handle on the same database whose pool has one connection of its own, sharing this
    /// handle's write gate: a long series of write transactions (an import's chunks) then
    /// always runs on the same connection. On SQLite that keeps its page cache warm between
    /// chunks (a connection drops its whole cache when another connection wrote since its last
    /// transaction, and the shared pool hands out its idle connections in turn). Close it
    /// ([`Db::close`]) when done.
    pub async fn dedicated(&self) -> Result<Db, ConnectError> {
        let mut db = Db::connect(&self.url, 1).await?;
        db.gate = Arc::clone(&self.gate);
        Ok(db)
    }

    /// The native PostgreSQL pool (for `COPY`), `None` on SQLite.
    pub(crate) fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        self.pg.as_ref()
    }

    /// Which backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that may write. On SQLite it is `BEGIN IMMEDIATE`: it takes the
    /// write lock at the start (waiting up to the busy timeout for another writer), so a
    /// transaction that reads and then writes is never refused with "database is locked" when
    /// a concurrent writer committed in between (a deferred transaction cannot upgrade then).
    ///
    /// On SQLite it first waits for the write gate (in arrival order) and holds it until the
    /// transaction ends.
    pub async fn begin(&self) -> Result<Tx> {
        let gate = self.gate().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { tx, _gate: gate })
    }

    /// Starts a transaction that only reads (it does not block writers on SQLite, and takes no
    /// gate).
    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(Tx {
            tx: self.pool.begin().await?,
            _gate: None,
        })
    }

    /// A pooled connection for autocommitted writes, after the write gate on SQLite (see
    /// [`Db`]).
    pub async fn acquire_write(&self) -> Result<WriteConn> {
        let gate = self.gate().await;
        Ok(WriteConn {
            conn: self.pool.acquire().await?,
            _gate: gate,
        })
    }

    /// Waits for the write gate (SQLite only).
    async fn gate(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(Arc::clone(&self.gate).lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Acquires a pooled connection.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
        self.pool.close().await;
    }

    /// Refreshes the query planner's statistics (`ANALYZE`, the same statement on both
    /// backends). Run after bulk loads.
    pub async fn analyze(&self) -> Result<()> {
        let mut conn = self.acquire_write().await?;
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
        Ok(())
    }

    /// After a bulk write on SQLite, copies the write-ahead log into the database file and
    /// truncates it (a million-row import otherwise leaves a WAL as large as the database until
    /// the next checkpoint). No-op on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            // TRUNCATE takes the write lock: through the gate like every writer.
            let mut conn = self.acquire_write().await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// A quick liveness check (`SELECT 1`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Commits a transaction.
pub async fn commit(tx: Tx) -> Result<()> {
    tx.commit().await
}

/// Commits a transaction that inserted many member rows (an import). On PostgreSQL the
/// members → households key is checked at commit, one query per row through a cached plan
/// that the connections' `force_custom_plan` mode plans anew for every row: a third of the
/// server's time in a large import. Set just before the commit, the generic plan (the primary
/// key's index) is planned once; the transaction's own queries ran before and are not affected.
pub async fn commit_bulk(mut tx: Tx) -> Result<()> {
    if tx.tx.backend_name() == "PostgreSQL" {
        sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan")
            .execute(&mut *tx)
            .await?;
    }
    commit(tx).await
}

/// Lists the migration versions and names of a folder (for the parity test).
pub fn migration_names(backend: Backend) -> Vec<(i64, String)> {
    let m = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    m.iter()
        .map(|m| (m.version, m.description.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_folders_have_the_same_files_and_identical_sql_unless_declared() {
        assert_eq!(
            migration_names(Backend::Sqlite),
            migration_names(Backend::Postgres)
        );
        for (a, b) in SQLITE_MIGRATIONS.iter().zip(POSTGRES_MIGRATIONS.iter()) {
            if !a.sql.as_str().starts_with("-- dialect:") {
                assert_eq!(
                    a.sql.as_str(),
                    b.sql.as_str(),
                    "migration {} differs without a `-- dialect:` note",
                    a.version
                );
            }
        }
    }

    #[test]
    fn backend_of_url() {
        assert_eq!(Backend::of_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgres://u@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::of_url("mysql://x"), None);
    }
}
