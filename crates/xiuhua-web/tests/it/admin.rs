//! Administration over HTTP: user pages, own password, department tokens that push and do
//! nothing else, and the JSON envelope for malformed API requests.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::*;

#[tokio::test]
async fn administrators_manage_users_on_pages_and_others_cannot() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/admin/users", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("gaoling") && r.body.contains("用户管理"));
    let form = format!(
        "csrf={}&username=xincun&display_name=%E6%96%B0%E6%9D%91&role=village&region_code=451228101201&password=Strong-pass-1",
        admin.csrf
    );
    let r = app.post_form("/admin/users", &form, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        app.get("/admin/users", Some(&admin))
            .await
            .body
            .contains("xincun")
    );
    // A weak password is shown next to the form, nothing created.
    let weak = form
        .replace("xincun", "weak1")
        .replace("Strong-pass-1", "short");
    let r = app.post_form("/admin/users", &weak, Some(&admin)).await;
    assert!(r.body.contains("密码太短"), "{}", r.body);
    // Without the CSRF token: refused.
    let r = app
        .post_form(
            "/admin/users",
            &form.replace(&admin.csrf, "x"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Not an administrator: no user list.
    let township = app.login("gaoling").await;
    assert_eq!(
        app.get("/admin/users", Some(&township)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/admin/tokens", Some(&township)).await.status,
        StatusCode::FORBIDDEN
    );
    // Everyone may change their own password.
    let r = app
        .post_form(
            "/account/password",
            &format!(
                "csrf={}&current={PASSWORD}&password=Brand-new-77",
                township.csrf
            ),
            Some(&township),
        )
        .await;
    assert!(r.body.contains("密码已更新"), "{}", r.body);
}

#[tokio::test]
async fn a_department_token_can_push_and_nothing_else() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let form = format!(
        "csrf={}&name=%E5%8C%BB%E4%BF%9D&department=medical_insurance&region_code=451228&days=30",
        admin.csrf
    );
    let r = app.post_form("/admin/tokens", &form, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    let at = r.body.find("xht_").expect("secret shown once");
    let secret: String = r.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert!(
        !app.get("/admin/tokens", Some(&admin))
            .await
            .body
            .contains(&secret),
        "shown only once"
    );

    let push = |auth: String, body: &'static str| {
        Request::post("/api/v1/department-data?file_name=yb.csv")
            .header(header::AUTHORIZATION, auth)
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap()
    };
    let r = app
        .send(push(
            format!("Bearer {secret}"),
            "姓名,身份证号,金额\n韦桂英,451228197001020112,3000\n",
        ))
        .await;
    // The fixture's first member: 451228 + 19700102 + 011 + check digit.
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["accepted"], 1);
    let r = app
        .send(push(format!("Bearer {secret}"), "姓名,身份证号\n坏,123\n"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("第2行"), "{}", r.body);
    assert_eq!(
        app.send(push("Bearer xht_nope".into(), "x")).await.status,
        StatusCode::UNAUTHORIZED
    );

    // The token is not a session: it reads nothing.
    let req = Request::get(format!("/api/v1/households/{}", app.household_a))
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::UNAUTHORIZED);
    let r = app.get("/departments", Some(&admin)).await;
    assert!(
        r.body.contains("yb.csv") && r.body.contains("医保"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn malformed_api_requests_get_the_json_error_envelope() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let req = Request::patch(format!("/api/v1/households/{}", app.household_a))
        .header(header::COOKIE, &admin.cookie)
        .header("x-csrf-token", &admin.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"version": 99999999999999999999}"#))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["code"], "invalid_body");
    let r = app
        .get("/api/v1/households?page=9223372036854775807", Some(&admin))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "a page past the end is empty, not a crash"
    );
}

#[tokio::test]
async fn a_second_save_of_the_same_household_shows_both_versions_and_overwrites_nothing() {
    let app = TestApp::new().await;
    let a = app.login("admin").await;
    let b = app.login("gaoling").await;
    let id = app.household_a;
    // Both open the page: the form carries version 1.
    for c in [&a, &b] {
        let page = app.get(&format!("/households/{id}"), Some(c)).await;
        assert!(
            page.body.contains("edit-household")
                && page.body.contains("name=\"version\" value=\"1\""),
            "{}",
            page.body
        );
    }
    let form = |c: &Client, phone: &str| {
        format!(
            "csrf={}&version=1&phone={phone}&orig_phone=&cause_note=&orig_cause_note=&housing_area_m2=&orig_housing_area_m2=&farmland_mu=&orig_farmland_mu=&forest_mu=&orig_forest_mu=&effective_date=2026-11-20&reason=%E6%A0%B8%E5%AE%9E",
            c.csrf
        )
    };
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &form(&a, "13800000001"),
            Some(&a),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &form(&b, "13900000002"),
            Some(&b),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("两个版本对照"), "{}", r.body);
    assert!(
        r.body.contains("13900000002") && r.body.contains("13800000001"),
        "both values shown: {}",
        r.body
    );
    assert!(
        r.body.contains("name=\"version\" value=\"2\""),
        "the form is refilled against version 2"
    );
    // The first save stands.
    let v = app
        .get(&format!("/api/v1/households/{id}"), Some(&a))
        .await
        .json();
    assert_eq!(v["fields"]["phone"], "13800000001");
    assert_eq!(v["version"], 2);
    // A viewer gets no form, sees the phone masked (page and API), and posting is refused.
    let viewer = app.login("viewer").await;
    let page = app
        .get(&format!("/households/{id}"), Some(&viewer))
        .await
        .body;
    assert!(!page.contains("edit-household"));
    assert!(
        page.contains("138****0001") && !page.contains("13800000001"),
        "{page}"
    );
    let api = app
        .get(&format!("/api/v1/households/{id}"), Some(&viewer))
        .await
        .body;
    assert!(!api.contains("13800000001"), "{api}");
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &form(&viewer, "1").replace("version=1", "version=2"),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
