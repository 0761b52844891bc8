//! The CSRF-checked extractors (`CsrfForm`, `CsrfJson`): what they reject, and in which order.

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test]
async fn every_form_needs_a_session_then_the_right_token() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    for (path, fields) in [
        ("/admin/tokens/1/revoke", ""),
        (
            "/admin/users",
            "username=a&display_name=a&role=viewer&region_code=451228&password=Strong-pass-1",
        ),
        ("/account/password", "password=Strong-pass-1"),
        ("/rules", "text=x"),
    ] {
        // No session: the page asks for a login, as for any page.
        let r = app.post_form(path, "csrf=x", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}: {}", r.body);
        assert!(r.location().starts_with("/login"), "{path}");
        // A session without the token, or with someone else's, is refused.
        let r = app.post_form(path, fields, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} without csrf");
        let other = app.login("gaoling").await;
        let r = app
            .post_form(path, &format!("{fields}&csrf={}", other.csrf), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with another token");
    }
    // A body that does not fit the form is axum's rejection, before the token is looked at.
    let r = app.post_form("/admin/users", "csrf=x", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_json_write_checks_the_body_before_the_token() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let path = format!("/api/v1/households/{}", app.household_a);
    // Not the expected body: the envelope's bad-request answer, token or not.
    let r = app
        .json(
            "PATCH",
            &path,
            serde_json::json!({"x": 1}),
            Some(&admin),
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_ne!(r.json()["error"]["code"], "csrf");
    let body = serde_json::json!({"version": 1, "effective_date": "2026-11-01", "reason": "核实", "fields": {}});
    let r = app
        .json("PATCH", &path, body.clone(), Some(&admin), false)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "csrf");
    let r = app.json("PATCH", &path, body, None, false).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
