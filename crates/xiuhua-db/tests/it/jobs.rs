//! The `jobs` table: a job's life (queued → running → finished/failed), and the start-up sweep
//! that fails jobs nothing runs any more.

use xiuhua_db::jobs::{self, JobRow};
use xiuhua_db::testing::TestDb;

fn job(id: i64) -> JobRow {
    JobRow {
        id,
        kind: "import".into(),
        owner_id: 7,
        region_code: "451228".into(),
        state: "queued".into(),
        done: 0,
        total: None,
        result: None,
        failure_code: None,
        failure: None,
        created_at: "2026-11-23T02:00:00.000Z".into(),
        updated_at: "2026-11-23T02:00:00.000Z".into(),
    }
}

#[tokio::test]
async fn a_job_is_stored_runs_and_ends_once() {
    let t = TestDb::new().await;
    let mut conn = t.db.acquire().await.unwrap();
    jobs::insert(&mut conn, &job(1)).await.unwrap();
    assert_eq!(jobs::find(&mut conn, 1).await.unwrap(), Some(job(1)));
    assert_eq!(jobs::find(&mut conn, 2).await.unwrap(), None);
    let at = "2026-11-23T02:00:01.000Z";
    assert!(jobs::set_running(&mut conn, 1, at).await.unwrap());
    assert!(
        !jobs::set_running(&mut conn, 1, at).await.unwrap(),
        "already running"
    );
    jobs::set_progress(&mut conn, 1, 40, Some(100), at)
        .await
        .unwrap();
    let r = jobs::find(&mut conn, 1).await.unwrap().unwrap();
    assert_eq!(
        (r.state.as_str(), r.done, r.total),
        ("running", 40, Some(100))
    );
    assert!(
        jobs::set_finished(&mut conn, 1, 100, r#"{"rows":100}"#, at)
            .await
            .unwrap()
    );
    // An ended job stays as it ended.
    assert!(
        !jobs::set_failed(&mut conn, 1, 0, "x", "x", at)
            .await
            .unwrap()
    );
    jobs::set_progress(&mut conn, 1, 1, None, at).await.unwrap();
    let r = jobs::find(&mut conn, 1).await.unwrap().unwrap();
    assert_eq!(r.state, "finished");
    assert_eq!(r.done, 100);
    assert_eq!(r.result.as_deref(), Some(r#"{"rows":100}"#));
    assert_eq!(r.failure_code, None);
}

#[tokio::test]
async fn the_start_up_sweep_fails_only_unfinished_jobs() {
    let t = TestDb::new().await;
    let mut conn = t.db.acquire().await.unwrap();
    for id in 1..=3 {
        jobs::insert(&mut conn, &job(id)).await.unwrap();
    }
    let at = "2026-11-23T03:00:00.000Z";
    jobs::set_running(&mut conn, 2, at).await.unwrap();
    jobs::set_finished(&mut conn, 3, 5, "{}", at).await.unwrap();
    let n = jobs::fail_unfinished(&mut conn, "interrupted", "服务重启，任务中断", at)
        .await
        .unwrap();
    assert_eq!(n, 2);
    for id in 1..=2 {
        let r = jobs::find(&mut conn, id).await.unwrap().unwrap();
        assert_eq!(r.state, "failed");
        assert_eq!(r.failure_code.as_deref(), Some("interrupted"));
        assert_eq!(r.failure.as_deref(), Some("服务重启，任务中断"));
        assert_eq!(r.updated_at, at);
    }
    assert_eq!(
        jobs::find(&mut conn, 3).await.unwrap().unwrap().state,
        "finished"
    );
}
