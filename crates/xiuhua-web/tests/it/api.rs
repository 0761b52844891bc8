//! The JSON API: envelope errors, CSRF on writes, optimistic versions, scope.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn unauthenticated_api_calls_get_the_error_envelope() {
    let app = TestApp::new().await;
    let r = app.get("/api/v1/households", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "unauthenticated");
    let r = app
        .json(
            "POST",
            "/api/v1/session",
            json!({"username": "admin", "password": "nope"}),
            None,
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["message_zh"], "用户名或密码错误");
}

#[tokio::test]
async fn households_regions_and_as_of_through_the_api() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app
        .get("/api/v1/households?region=451228&status=poor", Some(&admin))
        .await;
    assert_eq!(r.json()["total"], 2);
    let r = app
        .get(
            &format!("/api/v1/households/{}", app.household_a),
            Some(&admin),
        )
        .await;
    let h = r.json();
    assert_eq!(h["version"], 1);
    assert_eq!(h["members"].as_array().unwrap().len(), 2);
    assert_eq!(h["events"][0]["kind"], "created");
    let r = app.get("/api/v1/regions/451228", Some(&admin)).await;
    let reg = r.json();
    assert_eq!(reg["counts"]["poor"]["households"], 2);
    assert_eq!(reg["counts"]["poor"]["people"], 4);
    assert_eq!(reg["children"].as_array().unwrap().len(), 2);
    let r = app
        .get("/api/v1/regions/451228?as_of=2015-09-30", Some(&admin))
        .await;
    assert_eq!(r.json()["counts"]["total"]["households"], 0);
}

#[tokio::test]
async fn edits_need_csrf_and_the_current_version() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let path = format!("/api/v1/households/{}", app.household_a);
    let body = json!({"version": 1, "effective_date": "2018-12-01", "reason": "达到脱贫标准", "fields": {"status": "lifted", "exit_year": 2018}});
    let r = app
        .json("PATCH", &path, body.clone(), Some(&admin), false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "csrf");
    let r = app
        .json("PATCH", &path, body.clone(), Some(&admin), true)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], 2);
    // A second editor who started from version 1 is refused, and shown both versions: the
    // household as stored now, what changed since version 1 (who, when, what), and theirs.
    let second = json!({"version": 1, "effective_date": "2018-12-01", "reason": "另一人的修改", "fields": {"phone": "13900000000"}});
    let r = app.json("PATCH", &path, second, Some(&admin), true).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let e = r.json();
    assert_eq!(e["error"]["code"], "stale_version");
    let d = &e["error"]["details"];
    assert_eq!(d["current_version"], 2);
    assert_eq!(d["your_version"], 1);
    assert_eq!(d["current"]["fields"]["status"], "lifted");
    let since = d["changes_since_your_version"].as_array().unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0]["actor"], "admin");
    assert_eq!(since[0]["reason"], "达到脱贫标准");
    assert!(d["yours"].to_string().contains("13900000000"), "{d}");
    // Nothing was overwritten.
    let now = app.get(&path, Some(&admin)).await.json();
    assert_eq!(now["version"], 2);
    // Invalid input names field and reason in both languages.
    let bad = json!({"version": 2, "effective_date": "2019-01-01", "reason": "x", "fields": {"main_cause": "77"}});
    let r = app.json("PATCH", &path, bad, Some(&admin), true).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let f = &r.json()["error"]["fields"][0];
    assert_eq!(f["field"], "main_cause");
    assert!(f["message_zh"].as_str().unwrap().contains("77"));
    // History now answers both dates.
    let r = app
        .get(&format!("{path}?as_of=2018-11-30"), Some(&admin))
        .await;
    assert_eq!(r.json()["fields"]["status"], "poor");
    let r = app.get(&path, Some(&admin)).await;
    assert_eq!(r.json()["fields"]["status"], "lifted");
}

#[tokio::test]
async fn roles_and_regions_are_enforced_on_every_api_route() {
    let app = TestApp::new().await;
    let disu = app.login("disu").await;
    let viewer = app.login("viewer").await;
    let a = format!("/api/v1/households/{}", app.household_a);
    assert_eq!(app.get(&a, Some(&disu)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/regions/451228101", Some(&disu))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .get("/api/v1/households?region=451228", Some(&disu))
        .await;
    assert_eq!(r.json()["total"], 1);
    let edit = json!({"version": 1, "effective_date": "2020-01-01", "reason": "r", "fields": {"phone": "13800000000"}});
    assert_eq!(
        app.json("PATCH", &a, edit.clone(), Some(&disu), true)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app.json("PATCH", &a, edit, Some(&viewer), true).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get(&a, Some(&viewer)).await;
    let h = r.json();
    assert!(
        h["members"][0]["id_number"]
            .as_str()
            .unwrap()
            .contains("**********")
    );
    assert_eq!(
        h["events"][0]["changes"],
        json!([]),
        "raw change payloads carry ID numbers"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_and_views_of_personal_data_are_logged() {
    let app = TestApp::new().await;
    for _ in 0..5 {
        let r = app
            .json(
                "POST",
                "/api/v1/session",
                serde_json::json!({"username": "gaoling", "password": "wrong"}),
                None,
                false,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .json(
            "POST",
            "/api/v1/session",
            serde_json::json!({"username": "gaoling", "password": PASSWORD}),
            None,
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "locked");
    assert!(
        r.json()["error"]["message_zh"]
            .as_str()
            .unwrap()
            .contains("连续登录失败次数过多")
    );
    // The login form says so too.
    let r = app
        .post_login(&format!("username=gaoling&password={PASSWORD}"))
        .await;
    assert!(
        r.location().starts_with("/login?locked="),
        "{}",
        r.location()
    );
    let r = app.get(r.location(), None).await;
    assert!(r.body.contains("id=\"locked\""));
    // An admin viewing a household with full identity numbers leaves an entry.
    let admin = app.login("admin").await;
    let r = app
        .get(&format!("/households/{}", app.household_a), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let log = xiuhua_app::audit::search(
        &app._services,
        &xiuhua_app::CurrentUser::system(),
        &xiuhua_db::audit::AccessFilter {
            action: Some("view_personal".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].username, "admin");
    assert_eq!(log[0].target, app.household_a.to_string());
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_served_over_https() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let login = || {
        Request::post("/api/v1/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "admin", "password": PASSWORD}).to_string(),
            ))
            .unwrap()
    };
    let plain = xiuhua_web::router(app._services.clone())
        .oneshot(login())
        .await
        .unwrap();
    let cookie = plain.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && !cookie.contains("Secure"),
        "{cookie}"
    );
    let config = xiuhua_web::WebConfig {
        secure_cookies: true,
        ..xiuhua_web::WebConfig::default()
    };
    let https = xiuhua_web::router_with(app._services.clone(), config)
        .oneshot(login())
        .await
        .unwrap();
    let cookie = https.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}
