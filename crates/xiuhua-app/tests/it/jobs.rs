//! Background jobs: an import job's outcome is stored (and read again by new services over the
//! same database, as after a restart), unfinished jobs are failed at start-up, and a job is its
//! owner's only.

use std::sync::Arc;
use std::time::Duration;

use xiuhua_app::imports::ImportOptions;
use xiuhua_app::jobs::{self, ImportOutcome, JobKind, JobState};
use xiuhua_app::{CurrentUser, Role, Services};

use crate::support::*;

fn opts(file: &str) -> ImportOptions {
    ImportOptions {
        county: "451228".into(),
        effective_date: d(2024, 3, 1),
        dry_run: false,
        mapping: Vec::new(),
        file_name: file.into(),
        reason: "台账导入".into(),
        default_status: None,
        valid_only: false,
    }
}

fn owner() -> CurrentUser {
    CurrentUser {
        id: 42,
        ..user(Role::County, "451228")
    }
}

async fn wait_done(s: &Services, u: &CurrentUser, id: i64) -> jobs::Job {
    for _ in 0..400 {
        let j = jobs::get(s, u, id).await.unwrap();
        if j.state.is_done() {
            return j;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} did not end");
}

fn upload(name: &str, text: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("{name}-{}", xiuhua_app::auth::random_token()));
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test]
async fn an_import_job_ends_with_its_report_stored_in_the_table() {
    let c = ctx().await;
    let u = owner();
    let text = format!(
        "户编号,乡镇,行政村,户类型,主要致贫原因,姓名,身份证号,与户主关系\n\
         451228101201002,高岭镇,弄力村,贫困户,因病,潘大,{},户主\n",
        idn(d(1949, 12, 31), 2)
    );
    let path = upload("job", &text);
    let id = jobs::start_import(&c.s, &u, path.clone(), opts("a.csv"))
        .await
        .unwrap();
    let j = wait_done(&c.s, &u, id).await;
    assert_eq!(j.state, JobState::Finished, "{:?}", j.failure);
    assert_eq!(j.kind, JobKind::Import);
    assert_eq!(j.done, 1, "rows read");
    assert!(!path.exists(), "the upload is deleted");
    // Services built anew over the same database (a restart) read the same job.
    let again = Services::new(c.s.db.clone(), Arc::clone(&c.s.clock))
        .await
        .unwrap();
    let j = jobs::get(&again, &u, id).await.unwrap();
    let outcome: ImportOutcome = serde_json::from_value(j.result.unwrap()).unwrap();
    assert_eq!(
        (outcome.file_name.as_str(), outcome.rows, outcome.created),
        ("a.csv", 1, 1)
    );
    assert_eq!(outcome.problem_count, 0);
    assert_eq!(total_households(&c).await, 1);
    // Nobody else sees it: another user, or the owner after a narrowing of their region.
    for other in [
        CurrentUser { id: 43, ..owner() },
        CurrentUser {
            id: 42,
            ..user(Role::County, "451227")
        },
    ] {
        assert!(matches!(
            jobs::get(&c.s, &other, id).await,
            Err(xiuhua_app::Error::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn a_failed_import_job_keeps_its_problems_and_error_workbook() {
    let c = ctx().await;
    let u = owner();
    let text = "户编号,乡镇,行政村,户类型,主要致贫原因,姓名,身份证号,与户主关系\n\
                451228101201002,高岭镇,弄力村,贫困户,因病,潘大,110105194912310021,户主\n";
    let id = jobs::start_import(&c.s, &u, upload("bad", text), opts("bad.csv"))
        .await
        .unwrap();
    let j = wait_done(&c.s, &u, id).await;
    // Problems in the file are a finished check, not a failed job.
    assert_eq!(j.state, JobState::Finished);
    let outcome: ImportOutcome = serde_json::from_value(j.result.unwrap()).unwrap();
    assert!(outcome.problem_count > 0);
    assert_eq!(outcome.problems.len(), outcome.problem_count);
    let wb = jobs::import_error_workbook(&c.s, &u, id).await.unwrap();
    assert!(wb.starts_with(b"PK"), "an xlsx file");
    assert!(
        jobs::import_error_workbook(&c.s, &CurrentUser { id: 43, ..owner() }, id)
            .await
            .is_err()
    );
    // A county outside the user's region: the job fails with the import's error.
    let id = jobs::start_import(
        &c.s,
        &u,
        upload("far", text),
        ImportOptions {
            county: "450332".into(),
            ..opts("far.csv")
        },
    )
    .await
    .unwrap();
    let j = wait_done(&c.s, &u, id).await;
    assert_eq!(j.state, JobState::Failed);
    assert!(j.failure_code.is_some() && j.failure.is_some(), "{j:?}");
}

#[tokio::test]
async fn jobs_left_unfinished_are_failed_as_interrupted_at_start_up() {
    let c = ctx().await;
    let u = owner();
    let queued = jobs::start(&c.s, &u, JobKind::Import).await.unwrap();
    let running = jobs::start(&c.s, &u, JobKind::Import).await.unwrap();
    jobs::set_running(&c.s, running).await.unwrap();
    jobs::progress(&c.s, running, 17);
    assert_eq!(jobs::get(&c.s, &u, running).await.unwrap().done, 17);
    let ended = jobs::start(&c.s, &u, JobKind::Import).await.unwrap();
    jobs::finish(&c.s, ended, &serde_json::json!({"rows": 3}))
        .await
        .unwrap();
    assert_eq!(jobs::interrupt_unfinished(&c.s).await.unwrap(), 2);
    for id in [queued, running] {
        let j = jobs::get(&c.s, &u, id).await.unwrap();
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.failure_code.as_deref(), Some(jobs::INTERRUPTED));
        assert_eq!(j.failure.as_deref(), Some("服务重启，任务中断"));
    }
    let j = jobs::get(&c.s, &u, ended).await.unwrap();
    assert_eq!(j.state, JobState::Finished);
    assert_eq!(j.result, Some(serde_json::json!({"rows": 3})));
}
