//! Temporary lockout after repeated failed logins, and the access log.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use xiuhua_app::auth::{NewUser, Role};
use xiuhua_app::{FixedClock, Services};
use xiuhua_db::audit::AccessFilter;

use crate::support::*;

const PW: &str = "Xiuhua-2026-strong";

async fn with_user(c: &Ctx) {
    xiuhua_app::auth::create_user(
        &c.s,
        &admin(),
        NewUser {
            username: "gl".into(),
            password: PW.into(),
            display_name: "高岭".into(),
            role: Role::Township,
            region_code: "451228101".into(),
        },
    )
    .await
    .unwrap();
}

/// Services over the same database, `minutes` after the test's start.
async fn at_minutes(c: &Ctx, minutes: i64) -> Services {
    let t = Utc
        .with_ymd_and_hms(TODAY.0, TODAY.1, TODAY.2, 2, 0, 0)
        .unwrap()
        + chrono::Duration::minutes(minutes);
    Services::new(c.s.db.clone(), Arc::new(FixedClock(t)))
        .await
        .unwrap()
}

#[tokio::test]
async fn five_failed_logins_lock_the_account_from_that_address_only() {
    let c = ctx().await;
    with_user(&c).await;
    for i in 0..5 {
        let s = at_minutes(&c, i).await;
        let e = xiuhua_app::auth::login(&s, "gl", "wrong", "10.0.0.9")
            .await
            .unwrap_err();
        assert!(matches!(e, xiuhua_app::Error::BadCredentials), "{e:?}");
    }
    // Even the right password is refused from that address now, with how long to wait.
    let e = xiuhua_app::auth::login(&at_minutes(&c, 5).await, "gl", PW, "10.0.0.9")
        .await
        .unwrap_err();
    match e {
        xiuhua_app::Error::Locked { minutes } => {
            assert_eq!(minutes, 14, "15 minutes after the 5th failure")
        }
        other => panic!("{other:?}"),
    }
    assert!(e.message_zh().contains("从此地址连续登录失败次数过多"));
    // The account itself is not locked: its owner logs in from another address.
    xiuhua_app::auth::login(&at_minutes(&c, 6).await, "gl", PW, "10.0.0.1")
        .await
        .unwrap();
    // After the lock it opens; each further failure doubles the wait (15, 30, 60 … 240).
    let e = xiuhua_app::auth::login(&at_minutes(&c, 20).await, "gl", "wrong", "10.0.0.9")
        .await
        .unwrap_err();
    assert!(matches!(e, xiuhua_app::Error::BadCredentials));
    match xiuhua_app::auth::login(&at_minutes(&c, 21).await, "gl", PW, "10.0.0.9")
        .await
        .unwrap_err()
    {
        xiuhua_app::Error::Locked { minutes } => assert_eq!(minutes, 29, "30 after the 6th"),
        other => panic!("{other:?}"),
    }
    assert_eq!(xiuhua_app::audit::lock_minutes(4), None);
    assert_eq!(xiuhua_app::audit::lock_minutes(5), Some(15));
    assert_eq!(xiuhua_app::audit::lock_minutes(7), Some(60));
    assert_eq!(xiuhua_app::audit::lock_minutes(9), Some(240));
    assert_eq!(xiuhua_app::audit::lock_minutes(500), Some(240));
    // Only whoever manages the account may unlock it; the log says who did.
    let gl_id = xiuhua_app::users::list(&c.s, &admin())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "gl")
        .unwrap()
        .id;
    let e = xiuhua_app::audit::unlock(&c.s, &user(Role::Township, "451228101"), gl_id, "")
        .await
        .unwrap_err();
    assert!(matches!(e, xiuhua_app::Error::Forbidden(_)), "{e:?}");
    let s = at_minutes(&c, 22).await;
    let forgotten = xiuhua_app::audit::unlock(&s, &admin(), gl_id, "10.0.0.2")
        .await
        .unwrap();
    assert_eq!(forgotten, 6);
    xiuhua_app::auth::login(&s, "gl", PW, "10.0.0.9")
        .await
        .unwrap();
    // Unknown names lock too (no telling which names exist).
    for _ in 0..5 {
        let _ = xiuhua_app::auth::login(&c.s, "nobody", "x", "").await;
    }
    assert!(matches!(
        xiuhua_app::auth::login(&c.s, "nobody", "x", "")
            .await
            .unwrap_err(),
        xiuhua_app::Error::Locked { .. }
    ));

    let log = xiuhua_app::audit::search(
        &c.s,
        &admin(),
        &AccessFilter {
            username: Some("gl".into()),
            limit: 100,
            ..AccessFilter::default()
        },
    )
    .await
    .unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "login_failed",
            "login_failed",
            "login_failed",
            "login_failed",
            "login_failed",
            "login_locked",
            "login",
            "login_failed",
            "login_locked",
            "login"
        ]
    );
    assert_eq!(log.last().unwrap().client, "10.0.0.9");
    let unlocks = xiuhua_app::audit::search(
        &c.s,
        &admin(),
        &AccessFilter {
            action: Some("login_unlock".into()),
            limit: 10,
            ..AccessFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(unlocks.len(), 1);
    assert_eq!(
        (
            unlocks[0].target.as_str(),
            unlocks[0].detail.as_str(),
            unlocks[0].client.as_str()
        ),
        ("gl", "failures=6", "10.0.0.2")
    );
}

#[tokio::test]
async fn exports_are_logged_and_only_county_staff_read_the_log() {
    let c = ctx().await;
    household(&c, "H001", VILLAGE_A, 11).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.csv");
    // Full identity numbers leave only with a stated purpose.
    let e = xiuhua_app::exports::export_registry(
        &c.s,
        &admin(),
        &xiuhua_app::exports::RegistryExport {
            region: Some("451228"),
            as_of: None,
            format: xiuhua_app::exports::ExportFormat::Csv,
            purpose: "  ",
        },
        &out,
        &|_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(e, xiuhua_app::Error::Invalid(_)), "{e:?}");
    assert!(!out.exists());
    xiuhua_app::exports::export_registry(
        &c.s,
        &admin(),
        &xiuhua_app::exports::RegistryExport {
            region: Some("451228"),
            as_of: None,
            format: xiuhua_app::exports::ExportFormat::Csv,
            purpose: "2026年动态调整核对",
        },
        &out,
        &|_| {},
    )
    .await
    .unwrap();
    let f = AccessFilter {
        action: Some("export_registry".into()),
        limit: 10,
        ..AccessFilter::default()
    };
    let rows = xiuhua_app::audit::search(&c.s, &admin(), &f).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].target, "451228");
    assert!(
        rows[0].detail.contains("purpose=2026年动态调整核对"),
        "{}",
        rows[0].detail
    );
    assert!(
        rows[0].detail.contains("csv") && rows[0].detail.contains("full_id_numbers"),
        "{:?}",
        rows[0]
    );
    let e = xiuhua_app::audit::search(&c.s, &user(Role::Village, VILLAGE_A), &f)
        .await
        .unwrap_err();
    assert!(matches!(e, xiuhua_app::Error::Forbidden(_)));
    // The log exports to a workbook.
    let bytes = xiuhua_app::audit::workbook(&c.s, &xiuhua_app::CurrentUser::system(), &rows)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"PK"));
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("访问日志").unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[0], "时间（北京时间）");
    assert_eq!(header[3], "操作");
}
