//! Online backup, verification and restore: the same logical state back, across backends;
//! damaged or mismatched backups refused with nothing changed.

use std::collections::BTreeMap;
use std::path::Path;

use xiuhua_app::backup;
use xiuhua_app::demo::{self, DemoSpec};
use xiuhua_db::Db;
use xiuhua_db::backup::{TableDigest, digest};
use xiuhua_db::testing::TestDb;

use crate::support::*;

/// A demo county with a stored rule run, a login failure and an access-log entry, so that every
/// kind of table has rows.
async fn populated() -> Ctx {
    let c = empty_ctx().await;
    let spec = DemoSpec {
        county: "451228".into(),
        seed: 3,
        households: 80,
        today: today(),
        batch: 40,
    };
    demo::load(&c.s, &spec, &|_, _| {}).await.unwrap();
    xiuhua_app::auth::ensure_admin(&c.s).await.unwrap();
    let _ = xiuhua_app::auth::login(&c.s, "admin", "wrong-password1", "10.1.1.1").await;
    xiuhua_app::rules::run(
        &c.s,
        &admin(),
        "quality",
        Some("451228"),
        None,
        true,
        &BTreeMap::new(),
        &|_| {},
    )
    .await
    .unwrap();
    xiuhua_app::registry::close_year(&c.s, &admin(), "451228", 2020)
        .await
        .unwrap();
    c
}

async fn state(db: &Db) -> Vec<TableDigest> {
    digest(&mut db.acquire().await.unwrap()).await.unwrap()
}

async fn sqlite_file(dir: &Path, name: &str) -> Db {
    Db::open(&format!("sqlite://{}", dir.join(name).display()), 2)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_restored_backup_has_the_same_logical_state_on_either_backend() {
    let c = populated().await;
    let before = state(&c.s.db).await;
    for t in [
        "households",
        "members",
        "events",
        "rule_results",
        "users",
        "login_failures",
        "year_snapshots",
    ] {
        let d = before.iter().find(|d| d.table == t).unwrap();
        assert!(d.rows > 0, "{t} is empty: the test would prove nothing");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("备份.db");
    let r = backup::backup(&c.s, &admin(), &file, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(r.tables, before, "the manifest is the state at backup time");
    assert!(!dir.path().join("备份.partial").exists());

    let v = backup::verify(&file).await.unwrap();
    assert!(v.ok(), "{:?}", v.problems);
    assert_eq!(v.tables, before);

    // Into the backend under test (PostgreSQL in the PostgreSQL run) and into SQLite.
    let target = TestDb::new().await;
    backup::restore(&target.db, &file, false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(state(&target.db).await, before);
    let lite = sqlite_file(dir.path(), "restored.db").await;
    backup::restore(&lite, &file, false, &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(state(&lite).await, before);

    // The restored registry answers like the original.
    let s2 = xiuhua_app::Services::new(target.db.clone(), c.s.clock.clone())
        .await
        .unwrap();
    let a = xiuhua_app::registry::region(&c.s, &admin(), "451228", Some(d(2019, 6, 30)))
        .await
        .unwrap();
    let b = xiuhua_app::registry::region(&s2, &admin(), "451228", Some(d(2019, 6, 30)))
        .await
        .unwrap();
    assert_eq!(format!("{:?}", a.counts), format!("{:?}", b.counts));

    // The backup itself is in the access log.
    let f = xiuhua_db::audit::AccessFilter {
        action: Some("backup".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        xiuhua_app::audit::search(&c.s, &admin(), &f)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_damaged_backup_is_refused_and_the_target_is_left_as_it_was() {
    let c = populated().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.db");
    backup::backup(&c.s, &admin(), &file, &mut |_, _| {})
        .await
        .unwrap();

    // A changed value (a valid SQLite file whose content no longer matches the manifest).
    let edited = dir.path().join("edited.db");
    std::fs::copy(&file, &edited).unwrap();
    {
        let db = Db::connect(&format!("sqlite://{}", edited.display()), 1)
            .await
            .unwrap();
        xiuhua_db::sql::Sql::new(
            "UPDATE members SET name = '张冒名' WHERE id = (SELECT MIN(id) FROM members)",
        )
        .execute(&mut db.acquire().await.unwrap())
        .await
        .unwrap();
        db.close().await;
    }
    let v = backup::verify(&edited).await.unwrap();
    assert!(!v.ok());
    assert!(
        v.problems.iter().any(|p| p.contains("members")),
        "{:?}",
        v.problems
    );

    // Bytes overwritten in the middle of the file.
    let torn = dir.path().join("torn.db");
    let mut bytes = std::fs::read(&file).unwrap();
    // One whole page in the middle (a partial page could fall on its unused space): the page
    // size is at offset 16 of a SQLite file's header.
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    let mid = bytes.len() / 2 / page * page;
    for b in &mut bytes[mid..mid + page] {
        *b = 0x5a;
    }
    std::fs::write(&torn, bytes).unwrap();
    assert!(!backup::verify(&torn).await.unwrap().ok());

    // Not a database at all.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "这不是数据库").unwrap();
    assert!(!backup::verify(&junk).await.unwrap().ok());

    // A target with data: refused without --force, and refused for a damaged file even with it.
    let before = state(&c.s.db).await;
    let e = backup::restore(&c.s.db, &file, false, &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            xiuhua_app::Error::Conflict {
                code: "target_not_empty",
                ..
            }
        ),
        "{e:?}"
    );
    for bad in [&edited, &torn, &junk] {
        let e = backup::restore(&c.s.db, bad, true, &mut |_, _| {})
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                xiuhua_app::Error::Conflict {
                    code: "backup_damaged",
                    ..
                }
            ),
            "{e:?}"
        );
    }
    assert_eq!(state(&c.s.db).await, before, "nothing changed");

    // With --force a good backup replaces the content: the state of the backup (without the
    // access-log entry written after it).
    backup::restore(&c.s.db, &file, true, &mut |_, _| {})
        .await
        .unwrap();
    let backed_up = backup::verify(&file).await.unwrap().tables;
    assert_ne!(backed_up, before);
    assert_eq!(state(&c.s.db).await, backed_up);
}

#[tokio::test]
async fn a_backup_never_overwrites_and_needs_the_system_administrator() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.db");
    std::fs::write(&file, "keep me").unwrap();
    let e = backup::backup(&c.s, &admin(), &file, &mut |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        xiuhua_app::Error::Conflict {
            code: "backup_exists",
            ..
        }
    ));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    let other = dir.path().join("c.db");
    for u in [
        user(xiuhua_app::auth::Role::County, "451228"),
        user(xiuhua_app::auth::Role::Admin, "451228"),
    ] {
        let e = backup::backup(&c.s, &u, &other, &mut |_, _| {})
            .await
            .unwrap_err();
        assert!(matches!(e, xiuhua_app::Error::Forbidden(_)), "{e:?}");
    }
    assert!(!other.exists());
}

#[tokio::test]
async fn the_consistency_check_passes_on_a_clean_registry_and_names_each_damage() {
    let c = populated().await;
    let r = xiuhua_app::check::check_county(&c.s, &admin(), "451228")
        .await
        .unwrap();
    assert_eq!(r.households, 80);
    assert!(r.events >= 80);
    assert!(r.problems.is_empty(), "{:?}", r.problems);

    let mut conn = c.s.db.acquire().await.unwrap();
    for damage in [
        "DELETE FROM members WHERE id = (SELECT MIN(id) FROM members)",
        "UPDATE village_counts SET people = people + 1 WHERE village_code = (SELECT MIN(village_code) FROM village_counts)",
        "UPDATE households SET version = version + 1 WHERE id = (SELECT MAX(id) FROM households)",
        "DELETE FROM rule_results WHERE unit = (SELECT MIN(unit) FROM rule_results)",
    ] {
        xiuhua_db::sql::Sql::new(damage)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let r = xiuhua_app::check::check_county(&c.s, &admin(), "451228")
        .await
        .unwrap();
    let all = r.problems.join("\n");
    assert_eq!(r.problems.len(), 4, "{all}");
    for what in [
        "members table",
        "village counts",
        "stored row differs",
        "rule run",
    ] {
        assert!(all.contains(what), "{what} not reported:\n{all}");
    }
    let e = xiuhua_app::check::check_county(
        &c.s,
        &user(xiuhua_app::auth::Role::Township, "451228101"),
        "451228",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, xiuhua_app::Error::Forbidden(_)), "{e:?}");
}
