//! HTML pages: login, region pages with linked counts, search, household page, language.

use axum::http::StatusCode;

use crate::support::*;

#[tokio::test]
async fn pages_need_a_session_and_the_login_form_opens_one() {
    let app = TestApp::new().await;
    let r = app.get("/regions/451228", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/login");
    let r = app.post_login("username=admin&password=wrong").await;
    assert_eq!(r.location(), "/login?failed=1");
    let r = app.get("/login?failed=1", None).await;
    assert!(r.body.contains("用户名或密码错误"));
    let r = app
        .post_login(&format!("username=admin&password={PASSWORD}"))
        .await;
    assert_eq!(r.location(), "/");
    let cookie = r.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let cookie = cookie.split(';').next().unwrap();
    let r = app.get_with_cookie("/", cookie).await;
    assert_eq!(
        r.location(),
        "/regions/451228",
        "the only county opens directly"
    );
    let r = app.get_with_cookie("/regions/451228", cookie).await;
    assert!(r.body.contains("都安瑶族自治县"));
}

#[tokio::test]
async fn region_page_counts_link_to_the_lists_they_count() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/regions/451228", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<html lang=\"zh-CN\">"));
    assert!(
        r.body.contains("都安瑶族自治县") && r.body.contains("高岭镇") && r.body.contains("地苏镇")
    );
    assert!(
        r.body
            .contains("href=\"/households?region=451228&#38;status=poor\">2</a>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("href=\"/households?region=451228101&#38;status=poor\">1</a>")
    );
    // The linked list shows exactly the counted households.
    let list = app
        .get("/households?region=451228101&status=poor", Some(&admin))
        .await;
    assert!(list.body.contains("451228101201001") && !list.body.contains("451228102201001"));
    // As of a date before registration, the county is empty.
    let r = app
        .get("/regions/451228?as_of=2015-01-01", Some(&admin))
        .await;
    assert!(r.body.contains("以下为历史时点数据"));
    assert!(r.body.contains("<td class=\"num\">0</td>"));
    // A malformed date is a clear 400, not a crash.
    let r = app
        .get("/regions/451228?as_of=2015-13-01", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn household_page_shows_members_history_and_as_of() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app
        .get(&format!("/households/{}", app.household_a), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("韦桂英") && r.body.contains("本人或户主") && r.body.contains("蓝秀"));
    assert!(r.body.contains("建档") && r.body.contains("精准识别"));
    let r = app
        .get(
            &format!("/households/{}?as_of=2015-09-30", app.household_a),
            Some(&admin),
        )
        .await;
    assert!(r.body.contains("该日期时此户尚未建档"));
    let r = app.get("/households?q=韦桂英", Some(&admin)).await;
    assert!(r.body.contains("451228101201001") && r.body.contains("451228102201001"));
    // A village name finds the village, whose link lists its households.
    let r = app.get("/households?q=弄力", Some(&admin)).await;
    assert!(
        r.body
            .contains("href=\"/households?region=451228101201\">弄力村</a>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn english_is_one_click_away() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/lang/en", Some(&admin)).await;
    assert!(
        r.headers
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("lang=en")
    );
    let en = Client {
        cookie: format!("{}; lang=en", admin.cookie),
        csrf: admin.csrf.clone(),
    };
    let r = app.get("/regions/451228", Some(&en)).await;
    assert!(
        r.body.contains("<html lang=\"en\">")
            && r.body.contains("Households")
            && r.body.contains("registered poor")
    );
}

#[tokio::test]
async fn other_townships_are_invisible_and_masked_roles_see_masked_ids() {
    let app = TestApp::new().await;
    let gaoling = app.login("gaoling").await;
    assert_eq!(
        app.get(&format!("/households/{}", app.household_b), Some(&gaoling))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/regions/451228102", Some(&gaoling)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get("/households", Some(&gaoling)).await;
    assert!(r.body.contains("451228101201001") && !r.body.contains("451228102201001"));
    let r = app.get("/", Some(&gaoling)).await;
    assert_eq!(r.location(), "/regions/451228101");
    let viewer = app.login("viewer").await;
    let r = app
        .get(&format!("/households/{}", app.household_a), Some(&viewer))
        .await;
    assert!(r.body.contains("451228**********"), "masked ID");
    assert!(r.body.contains("证件号码已按权限脱敏"));
}

#[tokio::test]
async fn logout_needs_the_csrf_token_and_ends_the_session() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.post_form("/logout", "csrf=wrong", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_form("/logout", &format!("csrf={}", admin.csrf), Some(&admin))
        .await;
    assert_eq!(r.location(), "/login");
    assert_eq!(
        app.get("/regions/451228", Some(&admin)).await.location(),
        "/login"
    );
}

/// As of the end of a closed year, each count row shows its own frozen figures beside it (not every
/// frozen figure in every row).
#[tokio::test]
async fn region_page_shows_each_rows_frozen_snapshot_once() {
    let app = TestApp::new().await;
    let sys = xiuhua_app::CurrentUser::system();
    xiuhua_app::registry::close_year(&app._services, &sys, "451228", 2025)
        .await
        .unwrap();
    let admin = app.login("admin").await;
    let r = app
        .get("/regions/451228?as_of=2025-12-31", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let totals = r
        .body
        .split("id=\"totals\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap();
    assert!(totals.contains("2025"), "{totals}");
    let rows: Vec<&str> = totals.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 6, "{totals}");
    for row in &rows {
        assert_eq!(row.matches("<td").count(), 4, "{row}");
    }
    // The total row: two households of two people, now and frozen at the end of 2025.
    assert_eq!(rows[0].matches(">4<").count(), 2, "{}", rows[0]);
}

/// A date after today is not a 历史时点: the page says so instead of showing today's counts.
#[tokio::test]
async fn a_future_as_of_date_is_refused_with_a_message() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app
        .get("/regions/451228?as_of=2030-01-01", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("时点日期2030-01-01晚于今天"), "{}", r.body);
    assert!(!r.body.contains("as_of："), "{}", r.body);
    assert!(!r.body.contains("以下为历史时点数据"));
    let r = app
        .get(
            "/exports/statistics?region=451228&as_of=2030-01-01",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .get("/api/v1/regions/451228?as_of=2030-01-01", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(
        r.json()["error"]["fields"][0]["field"],
        "as_of",
        "{}",
        r.body
    );
    let r = app
        .get(
            &format!("/households/{}?as_of=2030-01-01", app.household_a),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("晚于今天"), "{}", r.body);
    // Today is fine.
    let r = app
        .get("/regions/451228?as_of=2026-11-23", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// What a role cannot do is not offered: a viewer sees no import or user-administration link,
/// and the import page tells them before they pick a file.
#[tokio::test]
async fn read_only_users_are_not_offered_imports() {
    let app = TestApp::new().await;
    let viewer = app.login("viewer").await;
    let r = app.get("/regions/451228", Some(&viewer)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("href=\"/imports\""), "{}", r.body);
    assert!(!r.body.contains("href=\"/admin/users\""));
    let r = app.get("/imports", Some(&viewer)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let clerk = app.login("gaoling").await;
    let r = app.get("/regions/451228101", Some(&clerk)).await;
    assert!(r.body.contains("href=\"/imports\"") && !r.body.contains("href=\"/admin/users\""));
    let admin = app.login("admin").await;
    let r = app.get("/regions/451228", Some(&admin)).await;
    assert!(r.body.contains("href=\"/imports\"") && r.body.contains("href=\"/admin/users\""));
}
