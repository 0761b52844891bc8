//! Test databases: a fresh SQLite file per test by default, or a fresh PostgreSQL database
//! per test when `XIUHUA_TEST_DATABASE_URL` names a server (e.g. `postgres://postgres@127.0.0.1/test`).
//! Dropped when the [`TestDb`] goes out of scope, unless `XIUHUA_TEST_KEEP_DB` is set.

use crate::{Backend, Db};

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    /// The connection pool.
    pub db: Db,
    /// The URL the pool connects to.
    pub url: String,
    admin_url: Option<String>,
    name: String,
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
        let suffix: u64 = rand_suffix();
        if let Some(admin) = postgres_admin_url() {
            let name = format!("xiuhua_test_{suffix:016x}");
            let admin_db = Db::connect(&admin, 1)
                .await
                .expect("connect to XIUHUA_TEST_DATABASE_URL");
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
                admin_url: Some(admin),
                name,
                _dir: None,
            }
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            let db = Db::open(&url, 4).await.expect("open test database");
            TestDb {
                db,
                url,
                admin_url: None,
                name: String::new(),
                _dir: Some(dir),
            }
        }
    }
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

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(admin) = self.admin_url.clone() else {
            return;
        };
        if std::env::var_os("XIUHUA_TEST_KEEP_DB").is_some() {
            return;
        }
        let name = self.name.clone();
        let pool = self.db.pool().clone();
        // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    pool.close().await;
                    if let Ok(a) = Db::connect(&admin, 1).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .execute(a.pool())
                        .await;
                        a.close().await;
                    }
                });
            }
        })
        .join();
    }
}
