//! Import jobs through the web: their state is read from the `jobs` table, so a report outlives
//! a restart, and a restart (`xiuhua_web::serve`) fails the jobs it interrupted.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use xiuhua_app::jobs::{self, JobKind, JobState};
use xiuhua_app::{CurrentUser, Services};

use crate::support::*;
use crate::transfers::{job_id, post, valid_ledger};
use xiuhua_domain::IdNumber;

async fn user_of(app: &TestApp, c: &Client) -> CurrentUser {
    let token = c.cookie.split_once('=').unwrap().1;
    xiuhua_app::auth::session_user(&app._services, token)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_import_report_is_still_there_after_a_restart() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let ledger = valid_ledger();
    let fields = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
    ];
    let r = post(&app, &admin, &fields, Some(("a.csv", ledger.as_bytes()))).await;
    let id = job_id(&r.body).unwrap();
    let mut done = false;
    for _ in 0..400 {
        let st = app
            .get(&format!("/imports/jobs/{id}"), Some(&admin))
            .await
            .json();
        if st["done"] == true {
            assert_eq!(st["state"], "finished");
            assert_eq!(st["rows"], 1);
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(done, "import did not finish");
    // New services and router over the same database: the session and the job are both stored.
    let services = Services::new(app._services.db.clone(), app._services.clock.clone())
        .await
        .unwrap();
    let restarted = TestApp {
        router: xiuhua_web::router(services),
        ..app
    };
    for _ in 0..2 {
        // The report can be read more than once.
        let r = restarted
            .get(&format!("/imports/jobs/{id}/report"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("导入完成") && r.body.contains("a.csv"),
            "{}",
            r.body
        );
    }
    let st = restarted
        .get(&format!("/imports/jobs/{id}"), Some(&admin))
        .await
        .json();
    assert_eq!(
        (st["done"].as_bool(), st["rows"].as_u64()),
        (Some(true), Some(1))
    );
}

#[tokio::test]
async fn a_restart_fails_the_running_import_and_the_page_says_so() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let u = user_of(&app, &admin).await;
    let s = &app._services;
    let id = jobs::start(s, &u, JobKind::Import).await.unwrap();
    jobs::set_running(s, id).await.unwrap();
    jobs::progress(s, id, 5);
    let st = app
        .get(&format!("/imports/jobs/{id}"), Some(&admin))
        .await
        .json();
    assert_eq!(
        (st["rows"].as_u64(), st["done"].as_bool()),
        (Some(5), Some(false))
    );
    assert_eq!(st["state"], "running");
    let r = app
        .get(&format!("/imports/jobs/{id}/report"), Some(&admin))
        .await;
    assert!(r.body.contains("正在导入"));
    assert_eq!(job_id(&r.body), Some(id.to_string()));
    let other = app.login("gaoling").await;
    for path in [
        format!("/imports/jobs/{id}"),
        format!("/imports/jobs/{id}/report"),
    ] {
        assert_eq!(
            app.get(&path, Some(&other)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // The server starts (again): before serving it marks the job failed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = tokio::spawn(xiuhua_web::serve(
        listener,
        s.clone(),
        xiuhua_web::WebConfig::default(),
    ));
    let mut state = JobState::Running;
    for _ in 0..200 {
        state = jobs::get(s, &u, id).await.unwrap().state;
        if state != JobState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.abort();
    assert_eq!(state, JobState::Failed);
    let st = app
        .get(&format!("/imports/jobs/{id}"), Some(&admin))
        .await
        .json();
    assert_eq!(st["done"], true);
    assert_eq!(st["state"], "failed");
    let r = app
        .get(&format!("/imports/jobs/{id}/report"), Some(&admin))
        .await;
    assert!(r.body.contains("服务重启，任务中断"), "{}", r.body);
    assert!(!r.body.contains("正在导入"));
}

/// A ledger of `n` new households of two in 弄力村 (identity numbers apart from the fixtures':
/// sequence numbers 31 and 32).
fn large_ledger(n: usize) -> String {
    let mut out = String::from("户编号,乡镇,行政村,户类型,主要致贫原因,姓名,身份证号,与户主关系\n");
    let first = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    for i in 0..n {
        let birth = first + chrono::Duration::days(i as i64);
        let id = |seq| IdNumber::compose("451228", birth, seq).unwrap();
        out.push_str(&format!(
            "451228101201{:05},高岭镇,弄力村,贫困户,因病,韦{i},{},户主\n,,,,,蓝{i},{},配偶\n",
            10_000 + i,
            id(31).as_str(),
            id(32).as_str(),
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_and_household_pages_keep_answering_while_a_large_import_writes() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let ledger = large_ledger(8000);
    let fields = [
        ("csrf", admin.csrf.as_str()),
        ("county", "451228"),
        ("effective_date", "2024-03-01"),
    ];
    let r = post(
        &app,
        &admin,
        &fields,
        Some(("large.csv", ledger.as_bytes())),
    )
    .await;
    let id = job_id(&r.body).unwrap();
    let started = Instant::now();
    // Until the job ends: a login (session row, access log) and a household page with full
    // identity numbers (access log) after another, each timed; every one must answer 200.
    let (mut answered, mut slowest) = (0, Duration::ZERO);
    let state = loop {
        let st = app
            .get(&format!("/imports/jobs/{id}"), Some(&admin))
            .await
            .json();
        if st["done"] == true {
            break st;
        }
        let t = Instant::now();
        app.login("viewer").await; // asserts 200
        let page = app
            .get(&format!("/households/{}", app.household_a), Some(&admin))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        slowest = slowest.max(t.elapsed());
        answered += 1;
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "import did not finish"
        );
    };
    eprintln!(
        "import of 16000 rows: {:?}; {answered} logins + pages meanwhile, slowest {slowest:?}",
        started.elapsed()
    );
    assert_eq!(state["state"], "finished", "{state}");
    assert_eq!(state["rows"], 16000, "{state}");
    assert!(
        answered >= 5,
        "the import ended before enough requests ran: {answered} in {:?}",
        started.elapsed()
    );
    // A request waits at most for the chunk being written, never for the whole import.
    assert!(
        slowest < Duration::from_secs(3),
        "slowest login + page: {slowest:?} (import {:?})",
        started.elapsed()
    );
}
