//! The administrator's pages of issue 13: 年度动态调整 (close a year after seeing the counts it
//! freezes), the access log with its filters and xlsx export, the API reference, and the user
//! administration fixes (defect 11).

use axum::http::StatusCode;
use xiuhua_app::CurrentUser;
use xiuhua_app::auth::{NewUser, Role};

use crate::support::*;

/// Adds an account with the test password.
async fn add_user(app: &TestApp, name: &str, role: Role, region: &str) {
    let new = NewUser {
        username: name.into(),
        password: PASSWORD.into(),
        display_name: format!("{name}名"),
        role,
        region_code: region.into(),
    };
    xiuhua_app::auth::create_user(&app._services, &CurrentUser::system(), new)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_county_administrator_closes_a_year_after_seeing_the_counts_it_freezes() {
    let app = TestApp::new().await;
    add_user(&app, "xian", Role::County, "451228").await;
    let county = app.login("xian").await;
    // The link is in the navigation of those who may close years, and only theirs.
    let home = app.get("/regions/451228", Some(&county)).await;
    assert!(home.body.contains("href=\"/admin/years\""), "{}", home.body);
    let township = app.login("gaoling").await;
    let home = app.get("/regions/451228101", Some(&township)).await;
    assert!(!home.body.contains("/admin/years"));
    for who in [&township, &app.login("viewer").await] {
        assert_eq!(
            app.get("/admin/years", Some(who)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/admin/years/2025/close", Some(who)).await.status,
            StatusCode::FORBIDDEN
        );
        let r = app
            .post_form(
                "/admin/years/2025/close",
                &format!("csrf={}&county=451228", who.csrf),
                Some(who),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }

    // Nothing closed: every past year can be closed, the current one not.
    let r = app.get("/admin/years", Some(&county)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains("href=\"/admin/years/2025/close?county=451228\"")
    );
    assert!(!r.body.contains("/admin/years/2026/close"));
    assert!(r.body.contains("年度尚未结束"));

    // The confirmation shows the year-end counts: two 贫困户 with two people each.
    let r = app.get("/admin/years/2025/close", Some(&county)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let frozen = section(&r.body, "id=\"frozen\"");
    assert!(frozen.contains("<th>合计</th><td class=\"num\">2</td><td class=\"num\">4</td>"));
    assert!(frozen.contains("<th>贫困户</th><td class=\"num\">2</td><td class=\"num\">4</td>"));
    assert!(r.body.contains("action=\"/admin/years/2025/close\""));

    // Without the CSRF token nothing is closed.
    let r = app
        .post_form(
            "/admin/years/2025/close",
            "csrf=x&county=451228",
            Some(&county),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app
        .post_form(
            "/admin/years/2025/close",
            &format!("csrf={}&county=451228", county.csrf),
            Some(&county),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/admin/years?county=451228&closed=2025");
    let r = app.get(r.location(), Some(&county)).await;
    let row = section(&r.body, "data-year=\"2025\"");
    assert!(row.contains("已关闭") && row.contains("xian"), "{row}");
    // Closed by the fixed clock's time in China: 2026-11-23 10:00.
    assert!(row.contains("2026-11-23 10:00"), "{row}");
    assert!(r.body.contains("/regions/451228?as_of=2025-12-31"));
    // Years before the last closed one are closed with it; none is offered any more.
    assert!(!r.body.contains("/close?county"), "{}", r.body);

    // The region page shows the frozen snapshot with the numbers the confirmation showed.
    let r = app
        .get("/regions/451228?as_of=2025-12-31", Some(&county))
        .await;
    assert!(r.body.contains("2025 "), "{}", r.body);
    let totals = section(&r.body, "id=\"totals\"");
    assert!(
        totals.contains("<td class=\"num\">2</td><td class=\"num\">4</td>\n      <td class=\"num\">2</td><td class=\"num\">4</td>")
            || totals.matches("<td class=\"num\">2</td><td class=\"num\">4</td>").count() >= 2,
        "{totals}"
    );

    // Closing it again, or an earlier year, says which years can be closed and why.
    let r = app.get("/admin/years/2024/close", Some(&county)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("2024年度不能关闭") && r.body.contains("2026年尚未结束"),
        "{}",
        r.body
    );
    let r = app
        .post_form(
            "/admin/years/2025/close",
            &format!("csrf={}&county=451228", county.csrf),
            Some(&county),
        )
        .await;
    assert!(r.body.contains("2025年度不能关闭"), "{}", r.body);
    let r = app.get("/admin/years/2026/close", Some(&county)).await;
    assert!(r.body.contains("2026年尚未结束"), "{}", r.body);
}

#[tokio::test]
async fn a_county_administrator_cannot_close_another_county() {
    let app = TestApp::new().await;
    add_user(&app, "xian", Role::County, "451228").await;
    let county = app.login("xian").await;
    // The county comes from the account, not the form.
    let r = app
        .post_form(
            "/admin/years/2025/close",
            &format!("csrf={}&county=450332", county.csrf),
            Some(&county),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/admin/years?county=451228&closed=2025");
    // A system administrator picks the county.
    let admin = app.login("admin").await;
    let r = app.get("/admin/years?county=450332", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app.get("/admin/years", Some(&admin)).await;
    assert!(r.body.contains("id=\"county-select\""));
    assert!(section(&r.body, "data-year=\"2025\"").contains("xian"));
}

/// The text from `marker` to the end of its table row or table.
fn section<'a>(body: &'a str, marker: &str) -> &'a str {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {body}"));
    let rest = &body[at..];
    let end = rest
        .find("</tr>")
        .filter(|_| marker.starts_with("data-"))
        .or_else(|| rest.find("</table>"))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test]
async fn user_administration_defaults_to_read_only_keeps_a_refused_form_and_names_regions() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/admin/users", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    let head = section(&r.body, "id=\"users\"");
    assert!(
        head.contains("<th>状态</th>") && !head.contains("户类型"),
        "{head}"
    );
    // Regions by name in the list and in the select.
    assert!(head.contains("<td>高岭镇</td>"), "{head}");
    assert!(r.body.contains("<option value=\"451228101201\">"));
    assert!(r.body.contains("弄力村 451228101201"));
    // The least privilege is preselected.
    assert!(
        r.body.contains("<option value=\"viewer\" selected>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<option value=\"admin\" selected>"));

    let form = format!(
        "csrf={}&username=xincun&display_name=%E6%96%B0%E6%9D%91&role=village&region_code=451228101201&password=short",
        admin.csrf
    );
    let r = app.post_form("/admin/users", &form, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("密码太短：至少需要"), "{}", r.body);
    assert!(!r.body.contains("用户：password"), "{}", r.body);
    // The form keeps what was typed (not the password).
    assert!(r.body.contains("name=\"username\" value=\"xincun\""));
    assert!(r.body.contains("name=\"display_name\" value=\"新村\""));
    assert!(r.body.contains("<option value=\"village\" selected>"));
    assert!(r.body.contains("<option value=\"451228101201\" selected>"));
    assert!(!r.body.contains("value=\"short\""));
    // A county administrator picks only inside the county.
    add_user(&app, "xianadmin", Role::Admin, "451228").await;
    let county = app.login("xianadmin").await;
    let r = app.get("/admin/users", Some(&county)).await;
    assert!(
        r.body.contains("<option value=\"451228\" selected>"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("<option value=\"\">"));
    // An account's page names its region in the select.
    let r = app.get("/admin/users", Some(&admin)).await;
    let at = r.body.find("/admin/users/").unwrap();
    let link: String = r.body[at..].chars().take_while(|c| *c != '"').collect();
    let r = app.get(&link, Some(&admin)).await;
    assert!(r.body.contains(" selected>"), "{}", r.body);
}

/// A GET answered with its raw bytes (a workbook).
async fn get_bytes(app: &TestApp, path: &str, client: &Client) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::get(path)
        .header(axum::http::header::COOKIE, &client.cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// The rows of a workbook's first sheet as text.
fn workbook_rows(bytes: Vec<u8>) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[tokio::test]
async fn the_access_log_page_filters_pages_exports_and_stays_in_the_county() {
    let app = TestApp::new().await;
    add_user(&app, "xian", Role::County, "451228").await;
    let admin = app.login("admin").await;
    let county = app.login("xian").await;
    let _foreign = app.login("gongcheng").await;
    // 55 views of household A with full identity numbers, one of household B.
    for _ in 0..55 {
        let r = app
            .get(&format!("/households/{}", app.household_a), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    app.get(&format!("/households/{}", app.household_b), Some(&admin))
        .await;

    // Who may read it; the link is shown to them only.
    for name in ["viewer", "gaoling", "nongli"] {
        let c = app.login(name).await;
        assert_eq!(
            app.get("/admin/audit", Some(&c)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            get_bytes(&app, "/admin/audit/export.xlsx", &c).await.0,
            StatusCode::FORBIDDEN
        );
        assert!(
            !app.get("/households", Some(&c))
                .await
                .body
                .contains("/admin/audit")
        );
    }
    assert!(
        app.get("/households", Some(&county))
            .await
            .body
            .contains("href=\"/admin/audit\"")
    );

    // Newest first, names and actions in Chinese, paged by 50.
    let r = app.get("/admin/audit", Some(&county)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<td>查看完整个人信息</td>"), "{}", r.body);
    assert!(r.body.contains("xian名 (xian)"));
    assert!(r.body.contains("id=\"next-page\""));
    assert_eq!(r.body.matches("<tr><td>").count(), 50);
    // A county reader sees neither the other county's account nor its logins.
    assert!(!r.body.contains("gongcheng"), "{}", r.body);
    let r = app.get("/admin/audit?page=1", Some(&admin)).await;
    assert!(r.body.contains("gongcheng"), "{}", r.body);
    assert!(r.body.contains("id=\"prev-page\""));

    // Filters: action, household by number or id, account, days (China time).
    let r = app.get("/admin/audit?action=login", Some(&county)).await;
    assert!(!r.body.contains("查看完整个人信息</td>"));
    assert!(r.body.contains("<td>登录</td>"));
    assert!(r.body.contains("<option value=\"login\" selected>"));
    let r = app
        .get("/admin/audit?household=451228102201001", Some(&county))
        .await;
    assert_eq!(r.body.matches("<tr><td>").count(), 1, "{}", r.body);
    assert!(r.body.contains(&format!("<td>{}</td>", app.household_b)));
    let r = app
        .get(
            &format!("/admin/audit?household={}&page=1", app.household_a),
            Some(&county),
        )
        .await;
    assert_eq!(r.body.matches("<tr><td>").count(), 5, "{}", r.body);
    let r = app.get("/admin/audit?user=xian", Some(&county)).await;
    assert_eq!(r.body.matches("<tr><td>").count(), 1, "{}", r.body);
    let r = app
        .get("/admin/audit?since=2026-11-24", Some(&county))
        .await;
    assert!(r.body.contains("id=\"no-entries\""));
    let r = app
        .get("/admin/audit?until=2026-11-22", Some(&county))
        .await;
    assert!(r.body.contains("id=\"no-entries\""));
    let r = app
        .get(
            "/admin/audit?since=2026-11-23&until=2026-11-23&user=xian",
            Some(&county),
        )
        .await;
    assert_eq!(r.body.matches("<tr><td>").count(), 1, "{}", r.body);
    assert_eq!(
        app.get("/admin/audit?since=yesterday", Some(&county))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // The export holds every filtered row (not only a page) and is itself in the log.
    let (status, bytes) = get_bytes(
        &app,
        "/admin/audit/export.xlsx?action=view_personal",
        &county,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows = workbook_rows(bytes);
    assert_eq!(rows[0][0], "时间（北京时间）");
    assert_eq!(rows.len(), 1 + 56);
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[3] == "查看完整个人信息" && r[1] == "admin")
    );
    assert!(rows[1][0].starts_with("2026-11-23 10:00"));
    let r = app
        .get("/admin/audit?action=export_audit", Some(&county))
        .await;
    assert!(r.body.contains("<td>导出访问日志</td>"), "{}", r.body);
    assert!(r.body.contains("action=view_personal"), "{}", r.body);
    let (_, bytes) = get_bytes(&app, "/admin/audit/export.xlsx?user=gongcheng", &county).await;
    assert_eq!(workbook_rows(bytes).len(), 1, "only the header");
}

#[tokio::test]
async fn error_pages_keep_the_navigation_and_the_favicon_is_served() {
    let app = TestApp::new().await;
    let township = app.login("gaoling").await;
    let viewer = app.login("viewer").await;
    // 404: a household outside the region, a path nothing serves; 403: a page of another role.
    for (path, client, status) in [
        (
            format!("/households/{}", app.household_b),
            &township,
            StatusCode::NOT_FOUND,
        ),
        (
            "/no/such/page".to_string(),
            &township,
            StatusCode::NOT_FOUND,
        ),
        ("/admin/users".to_string(), &viewer, StatusCode::FORBIDDEN),
        ("/admin/audit".to_string(), &viewer, StatusCode::FORBIDDEN),
    ] {
        let r = app.get(&path, Some(client)).await;
        assert_eq!(r.status, status, "{path}");
        assert!(
            r.body.contains(&format!("出错了 ({})", status.as_u16())),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("<nav>") && r.body.contains("action=\"/logout\""),
            "{path}: {}",
            r.body
        );
        assert!(r.body.contains(&client.csrf), "{path}");
    }
    // 422: a refused request (a future as-of date) shown as a page, with the navigation.
    let r = app
        .get("/regions/451228101?as_of=2030-01-01", Some(&township))
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert!(
        r.body.contains("<nav>") && r.body.contains("出错了"),
        "{}",
        r.body
    );
    // Without a session: the page without navigation; the API keeps its JSON envelope.
    let r = app.get("/no/such/page", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("出错了 (404)") && !r.body.contains("<nav>"));
    let r = app.get("/api/v1/no-such", Some(&township)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"]["code"], "not_found");

    let (status, bytes) = get_bytes(&app, "/favicon.ico", &township).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    let r = app.get("/favicon.ico", None).await;
    assert_eq!(r.headers["content-type"], "image/x-icon");
    assert!(
        app.get("/login", None)
            .await
            .body
            .contains("<link rel=\"icon\" href=\"/favicon.ico\">")
    );
}

#[tokio::test]
async fn the_api_reference_is_served_by_the_binary_with_its_own_csp() {
    let app = TestApp::new().await;
    let township = app.login("gaoling").await;
    let home = app.get("/households", Some(&township)).await;
    assert!(home.body.contains("href=\"/api/docs/\""), "{}", home.body);
    let r = app.get("/api/docs/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("swagger-ui-bundle.js"), "{}", r.body);
    assert!(
        !r.body.contains("http://") && !r.body.contains("https://"),
        "nothing from elsewhere: {}",
        r.body
    );
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, xiuhua_web::API_DOCS_CONTENT_SECURITY_POLICY);
    assert!(csp.contains("script-src 'self';"));
    let init = app.get("/api/docs/swagger-initializer.js", None).await;
    assert_eq!(init.status, StatusCode::OK);
    assert!(init.body.contains("/api/openapi.json"), "{}", init.body);
    let bundle = app.get("/api/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(bundle.status, StatusCode::OK);
    assert!(bundle.body.len() > 100_000);
    // Other answers keep the strict policy.
    let r = app.get("/households", Some(&township)).await;
    assert_eq!(
        r.headers["content-security-policy"].to_str().unwrap(),
        xiuhua_web::CONTENT_SECURITY_POLICY
    );
}

#[tokio::test]
async fn the_administrators_pages_have_no_chinese_in_english() {
    let app = TestApp::new().await;
    add_user(&app, "xian", Role::County, "451228").await;
    let county = app.login("xian").await;
    let cookie = format!("{}; lang=en", county.cookie);
    let cjk = |s: &str| s.chars().any(|c| ('\u{3400}'..='\u{9fff}').contains(&c));
    for path in [
        "/admin/years",
        "/admin/years/2025/close",
        "/admin/years/2026/close",
        "/admin/audit?action=login",
        "/no/such/page",
    ] {
        let r = app.get_with_cookie(path, &cookie).await;
        assert!(r.body.contains("<html lang=\"en\">"), "{path}");
        // The display name is data; the language switch names 中文 in Chinese.
        let ui = r.body.replace("xian名", "").replace(">中文<", "><");
        assert!(!cjk(&ui), "{path}: {ui}");
    }
}
