//! Imports that never lock the county out: the check phase (and a whole dry run) takes no write
//! lock, the write phase commits in chunks, a chunk that fails undoes the chunks before it, and
//! a run interrupted by the death of its process is undone when the database is next opened.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use xiuhua_app::demo::{self, DemoSpec};
use xiuhua_app::exports::{self, ExportFormat, RegistryExport};
use xiuhua_app::imports::{ImportOptions, import_ledger};
use xiuhua_app::registry::{self, HouseholdView};
use xiuhua_app::{Error, FixedClock, Services};
use xiuhua_domain::Member;

use crate::support::*;

fn opts(dry_run: bool) -> ImportOptions {
    ImportOptions {
        county: "451228".into(),
        effective_date: today(),
        dry_run,
        mapping: Vec::new(),
        file_name: "台账.csv".into(),
        reason: "台账导入".into(),
        default_status: None,
        valid_only: false,
    }
}

/// A demo county of `households` exported as a CSV ledger (and its data rows), and a registry
/// that knows only the demo's region tree.
async fn ledger_and_target(households: usize, dir: &Path) -> (Ctx, PathBuf, usize) {
    let spec = |households| DemoSpec {
        county: "451228".into(),
        seed: 11,
        households,
        today: today(),
        batch: 500,
    };
    let source = empty_ctx().await;
    demo::load(&source.s, &spec(households), &|_, _| {})
        .await
        .unwrap();
    let path = dir.join("台账.csv");
    let rows = exports::export_registry(
        &source.s,
        &admin(),
        &RegistryExport {
            region: Some("451228"),
            as_of: None,
            format: ExportFormat::Csv,
            purpose: "导入测试",
        },
        &path,
        &|_| {},
    )
    .await
    .unwrap();
    let target = empty_ctx().await;
    demo::load(&target.s, &spec(0), &|_, _| {}).await.unwrap();
    (target, path, rows as usize)
}

/// The ledger's data rows as maps from header to value.
fn ledger_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(|v| v.trim_start_matches('\'').to_string()))
                .collect()
        })
        .collect()
}

/// A household registered before the import with the 户编号 of the file's first household (so
/// the import updates it: other members, other fields).
async fn first_household_registered(c: &Ctx, rows: &[HashMap<String, String>]) -> HouseholdView {
    let no = &rows[0]["户编号"];
    let id = household(c, no, &no[..12], 7).await;
    registry::household(&c.s, &admin(), id, None).await.unwrap()
}

/// The identity number of the file's last member (in the last chunk).
fn last_id_number(rows: &[HashMap<String, String>]) -> String {
    rows.iter()
        .rev()
        .find_map(|r| r.get("证件号码").filter(|v| v.len() == 18).cloned())
        .unwrap()
}

async fn check_is_clean(c: &Ctx) {
    let report = xiuhua_app::check::check_county(&c.s, &admin(), "451228")
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

async fn unchanged(c: &Ctx, before: &HouseholdView) {
    let after = registry::household(&c.s, &admin(), before.id, None)
        .await
        .unwrap();
    assert_eq!(after.version, before.version);
    assert_eq!(after.state, before.state);
    assert_eq!(after.events.len(), before.events.len());
}

async fn runs_writing(c: &Ctx) -> usize {
    let mut conn = c.s.db.acquire().await.unwrap();
    xiuhua_db::import_runs::writing(&mut conn)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_dry_run_holds_no_write_lock_an_edit_completes_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (c, path, _) = ledger_and_target(2500, dir.path()).await;
    let id = household(&c, "4512281012019999", "451228101201", 7).await;
    let progressed = Arc::new(AtomicUsize::new(0));
    let (s, p) = (c.s.clone(), progressed.clone());
    let dry = tokio::spawn(async move {
        import_ledger(&s, &admin(), &path, &opts(true), &|n| {
            p.store(n, Ordering::SeqCst)
        })
        .await
    });
    while progressed.load(Ordering::SeqCst) == 0 {
        assert!(
            !dry.is_finished(),
            "the dry run ended before it reported progress"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // An edit and a login-like autocommitted write while the dry run is checking.
    let v = registry::household(&c.s, &admin(), id, None).await.unwrap();
    let patch = [("phone".to_string(), serde_json::json!("13800000001"))].into();
    tokio::time::timeout(
        Duration::from_secs(5),
        registry::edit_household(&c.s, &admin(), id, v.version, patch, &meta(today())),
    )
    .await
    .expect("the edit waited for the dry run")
    .unwrap();
    assert!(
        !dry.is_finished(),
        "the dry run ended before the edit: the test needs a larger ledger"
    );
    let r = dry.await.unwrap().unwrap();
    assert!(r.problems.is_empty(), "{:?}", &r.problems[..1]);
    assert!(r.dry_run);
    assert_eq!((r.created, r.events), (2500, 2500));
    // Nothing written, no run recorded.
    assert_eq!(total_households(&c).await, 1);
    assert_eq!(runs_writing(&c).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_a_chunk_refused_after_a_concurrent_edit_undoes_the_chunks_before_it() {
    let dir = tempfile::tempdir().unwrap();
    // Three chunks; the first updates a registered household, the others create households.
    let (c, path, rows) = ledger_and_target(700, dir.path()).await;
    let ledger = ledger_rows(&path);
    let before = first_household_registered(&c, &ledger).await;
    let taken = last_id_number(&ledger);
    let events_before = total_events(&c).await;
    let injected = AtomicBool::new(false);
    let written = AtomicUsize::new(0);
    let handle = tokio::runtime::Handle::current();
    let s = c.s.clone();
    // After the first chunk has committed (progress past the check phase's half), someone
    // registers a household holding the identity number of the file's last member.
    let r = import_ledger(&c.s, &admin(), &path, &opts(false), &|n| {
        if n > rows / 2 && !injected.swap(true, Ordering::SeqCst) {
            let members = vec![Member {
                name: "韦抢先".into(),
                id_number: taken.clone(),
                relation: "01".into(),
                ..Member::default()
            }];
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let mut conn = s.db.acquire().await.unwrap();
                    let n = xiuhua_db::households::total(&mut conn).await.unwrap();
                    written.store(usize::try_from(n).unwrap(), Ordering::SeqCst);
                    drop(conn);
                    registry::register_household(
                        &s,
                        &admin(),
                        fields("4512281012019998", "451228101201"),
                        members,
                        &meta(today()),
                    )
                    .await
                    .unwrap()
                })
            });
        }
    })
    .await;
    assert!(injected.load(Ordering::SeqCst));
    // The first chunk was committed before the edit (its households were visible) ...
    assert!(written.load(Ordering::SeqCst) > 200, "{written:?}");
    let e = r.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Conflict {
                code: "import_undone",
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.message_zh();
    assert!(
        text.contains("导入已撤销，未写入任何数据") && text.contains(&taken),
        "{text}"
    );
    // ... and is gone again: only the two registered households, the first as it was.
    assert_eq!(total_households(&c).await, 2);
    assert_eq!(total_events(&c).await, events_before + 1);
    unchanged(&c, &before).await;
    assert_eq!(runs_writing(&c).await, 0);
    check_is_clean(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_run_interrupted_by_a_crash_is_undone_when_the_database_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let (c, path, rows) = ledger_and_target(700, dir.path()).await;
    let ledger = ledger_rows(&path);
    let before = first_household_registered(&c, &ledger).await;
    let s = c.s.clone();
    // The process "dies" after the first chunk: the import's task panics and is dropped
    // without running any of its own clean-up.
    let crashed = tokio::spawn(async move {
        import_ledger(&s, &admin(), &path, &opts(false), &|n| {
            assert!(n <= rows / 2, "simulated crash");
        })
        .await
    })
    .await;
    assert!(crashed.is_err_and(|e| e.is_panic()));
    assert!(
        total_households(&c).await > 200,
        "the first chunk was committed"
    );
    assert_eq!(runs_writing(&c).await, 1);
    // Opening the database again (the server or any command builds `Services`) undoes it.
    let clock = FixedClock(
        Utc.with_ymd_and_hms(TODAY.0, TODAY.1, TODAY.2, 2, 0, 0)
            .unwrap(),
    );
    let reopened = Ctx {
        _db: c._db,
        s: Services::new(c.s.db.clone(), Arc::new(clock))
            .await
            .unwrap(),
    };
    assert_eq!(runs_writing(&reopened).await, 0);
    assert_eq!(total_households(&reopened).await, 1);
    unchanged(&reopened, &before).await;
    check_is_clean(&reopened).await;
    // The same file imports whole afterwards.
    let r = import_ledger(
        &reopened.s,
        &admin(),
        &dir.path().join("台账.csv"),
        &opts(false),
        &|_| {},
    )
    .await
    .unwrap();
    assert!(r.problems.is_empty());
    assert_eq!((r.created, r.changed), (699, 1));
    assert_eq!(total_households(&reopened).await, 700);
    check_is_clean(&reopened).await;
}

/// Runs an import of `path` that calls `between` once, after the check phase and before the
/// first chunk is written (the check's last progress report is half the file's rows).
async fn import_with_a_write_between<F>(
    c: &Ctx,
    path: &Path,
    rows: usize,
    registered: i64,
    between: F,
) -> Result<xiuhua_app::imports::ImportReport, Error>
where
    F: Fn(Services) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Sync,
{
    let injected = AtomicBool::new(false);
    let handle = tokio::runtime::Handle::current();
    let s = c.s.clone();
    let r = import_ledger(&c.s, &admin(), path, &opts(false), &|n| {
        if n >= rows / 2 && !injected.swap(true, Ordering::SeqCst) {
            // Nothing written yet: the check phase has just ended.
            let written = tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let mut conn = s.db.acquire().await.unwrap();
                    let n = xiuhua_db::households::total(&mut conn).await.unwrap();
                    drop(conn);
                    between(s.clone()).await;
                    n
                })
            });
            assert_eq!(written, registered, "the write phase had begun");
        }
    })
    .await;
    assert!(injected.load(Ordering::SeqCst));
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_an_edit_made_between_the_check_and_the_write_refuses_the_change_it_conflicts_with()
{
    let dir = tempfile::tempdir().unwrap();
    let (c, path, rows) = ledger_and_target(700, dir.path()).await;
    let ledger = ledger_rows(&path);
    let before = first_household_registered(&c, &ledger).await;
    let id = before.id;
    // The import changes the registered household; someone edits it after the check.
    let r = import_with_a_write_between(&c, &path, rows, 1, move |s| {
        Box::pin(async move {
            let v = registry::household(&s, &admin(), id, None).await.unwrap();
            let patch = [("phone".to_string(), serde_json::json!("13800000002"))].into();
            registry::edit_household(&s, &admin(), id, v.version, patch, &meta(today()))
                .await
                .unwrap();
        })
    })
    .await;
    let e = r.unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Conflict {
                code: "import_undone",
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.message_zh();
    assert!(
        text.contains("导入已撤销，未写入任何数据") && text.contains("已被他人修改"),
        "{text}"
    );
    // Nothing of the import stays; the edit does.
    assert_eq!(total_households(&c).await, 1);
    let after = registry::household(&c.s, &admin(), id, None).await.unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.state.fields.phone.as_deref(), Some("13800000002"));
    assert_eq!(runs_writing(&c).await, 0);
    check_is_clean(&c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_a_household_number_registered_between_the_check_and_the_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (c, path, rows) = ledger_and_target(300, dir.path()).await;
    let ledger = ledger_rows(&path);
    // The file's last household is new at the check; someone registers its 户编号 meanwhile.
    let no = ledger.last().unwrap()["户编号"].clone();
    let taken = no.clone();
    let r = import_with_a_write_between(&c, &path, rows, 0, move |s| {
        let no = taken.clone();
        Box::pin(async move {
            let members = vec![Member {
                name: "韦抢先".into(),
                id_number: "451228199001011231".into(),
                relation: "01".into(),
                ..Member::default()
            }];
            registry::register_household(
                &s,
                &admin(),
                fields(&no, &no[..12]),
                members,
                &meta(today()),
            )
            .await
            .unwrap();
        })
    })
    .await;
    let e = r.unwrap_err();
    let text = e.message_zh();
    assert!(
        matches!(
            &e,
            Error::Conflict {
                code: "import_undone",
                ..
            }
        ) && text.contains("导入已撤销，未写入任何数据")
            && text.contains(&no),
        "{e:?}"
    );
    // Only the household registered meanwhile.
    assert_eq!(total_households(&c).await, 1);
    assert_eq!(runs_writing(&c).await, 0);
    check_is_clean(&c).await;
}
