//! Test databases: a fresh SQLite file per test by default, or a fresh PostgreSQL database
//! per test when `XIUHUA_TEST_DATABASE_URL` names a server (e.g. `postgres://postgres@127.0.0.1/test`).
//! SQLite files go with the [`TestDb`]; PostgreSQL databases are dropped by the next test run
//! once their process has ended (unless `XIUHUA_TEST_KEEP_DB` is set).

use crate::{Backend, Db};

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    /// The connection pool.
    pub db: Db,
    /// The URL the pool connects to.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The PostgreSQL server named by `XIUHUA_TEST_DATABASE_URL`, if any.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("XIUHUA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| Backend::of_url(u) == Some(Backend::Postgres))
}

/// Replaces the database name at the end of a PostgreSQL URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let root = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    format!("{root}/{name}{query}")
}

impl TestDb {
    /// Creates and migrates a new database.
    pub async fn new() -> TestDb {
        if let Some(admin) = postgres_admin_url() {
            let admin_db = Db::connect(&admin, 1)
                .await
                .expect("connect to XIUHUA_TEST_DATABASE_URL");
            drop_stale_databases(&admin_db).await;
            let name = format!("xiuhua_test_{}_{:x}", std::process::id(), rand_suffix());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin_db.pool())
                .await
                .expect("create test database");
            admin_db.close().await;
            let url = with_database(&admin, &name);
            let db = Db::open(&url, 4).await.expect("open test database");
            TestDb {
                db,
                url,
                _dir: None,
            }
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            let db = Db::open(&url, 4).await.expect("open test database");
            TestDb {
                db,
                url,
                _dir: Some(dir),
            }
        }
    }
}

/// Drops the test databases of test processes that are no longer running. (Dropping a
/// database from `Drop` would need the test's own runtime, which is blocked there, so each run
/// cleans up after the previous ones instead.)
async fn drop_stale_databases(admin: &Db) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        if std::env::var_os("XIUHUA_TEST_KEEP_DB").is_some() {
            return;
        }
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'xiuhua_test_%'",
        )
        .fetch_all(admin.pool())
        .await
        .unwrap_or_default();
        for name in names {
            let pid = name
                .trim_start_matches("xiuhua_test_")
                .split('_')
                .next()
                .unwrap_or("");
            let alive = pid
                .parse::<u32>()
                .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(admin.pool())
                .await;
            }
        }
    })
    .await;
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
