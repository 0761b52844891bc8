//! Rule sets on the web: the list, a rule set's page, a household's checklists, simulation page
//! and workbook, loading a version (CSRF, errors shown), and the JSON API — all scoped.

use axum::http::StatusCode;

use crate::support::*;

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn rule_pages_show_sets_checklists_and_simulations() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/rules", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("广西贫困户脱贫“八有一超”（2018年修订）"),
        "{}",
        r.body
    );
    assert!(r.body.contains("未经证实"));
    let r = app
        .get("/rules/national-monitoring-2026", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("income_per_capita &#60; line"),
        "{}",
        r.body
    );
    assert!(r.body.contains("防止返贫监测范围"));
    // The household page carries the checklists that apply today (2026): monitoring and quality.
    let r = app
        .get(&format!("/households/{}", app.household_a), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"checklists\""));
    assert!(r.body.contains("data-set=\"quality\""), "{}", r.body);
    // As of 2019 the Guangxi exit standard applies.
    let r = app
        .get(
            &format!("/households/{}?as_of=2019-12-31", app.household_a),
            Some(&admin),
        )
        .await;
    assert!(r.body.contains("data-set=\"gx-household-exit-2018\""));
    // Simulation page and workbook.
    let q = format!("set={}&region=451228&as_of=2024-12-31", enc("line=7000"));
    let r = app
        .get(
            &format!("/rules/national-monitoring-2021/simulate?{q}"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("line = 7000"), "{}", r.body);
    let r = app
        .get(
            &format!("/rules/national-monitoring-2021/simulate.xlsx?{q}"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    // A township user simulating another township's region: not found.
    let gaoling = app.login("gaoling").await;
    let r = app
        .get(
            "/rules/national-monitoring-2021/simulate?set=line%3D7000&region=451228102",
            Some(&gaoling),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Unknown parameter: a clear message, not a crash.
    let r = app
        .get(
            "/rules/national-monitoring-2021/simulate?set=lien%3D7000",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("lien"));
}

#[tokio::test]
async fn loading_a_rule_version_needs_csrf_and_shows_errors_with_their_position() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let bad = "id = \"t\"\nversion = 1\nname = \"测试\"\nlevel = \"household\"\npurpose = \"quality\"\nyears = [2020]\n\n[[items]]\ncode = \"x\"\nlabel = \"x\"\nkind = \"required\"\nexpr = \"people > 'a'\"\n";
    let r = app
        .post_form("/rules", &format!("text={}", enc(bad)), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    let r = app
        .post_form(
            "/rules",
            &format!("csrf={}&text={}", admin.csrf, enc(bad)),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("检查项 x，第 12 行第 16 列"), "{}", r.body);
    let good = bad.replace("people > 'a'", "people > 0");
    let r = app
        .post_form(
            "/rules",
            &format!("csrf={}&text={}", admin.csrf, enc(&good)),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/rules/t");
    // A township user may not load rule sets.
    let gaoling = app.login("gaoling").await;
    let r = app
        .post_form(
            "/rules",
            &format!(
                "csrf={}&text={}",
                gaoling.csrf,
                enc(&good.replace("version = 1", "version = 2"))
            ),
            Some(&gaoling),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rule_api_lists_sets_evaluates_households_and_simulates() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let r = app.get("/api/v1/rule-sets", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json().as_array().unwrap().len() >= 12);
    let r = app.get("/api/v1/rule-sets/quality", Some(&admin)).await;
    assert!(r.json()["item_codes"].as_array().unwrap().len() >= 30);
    let r = app
        .get(
            &format!(
                "/api/v1/households/{}/checklists?as_of=2019-12-31",
                app.household_a
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let lists = r.json();
    let exit = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["set_id"] == "gx-household-exit-2018")
        .unwrap();
    assert!(["pass", "fail", "unknown"].contains(&exit["decision"].as_str().unwrap()));
    // Another township's household is not found.
    let gaoling = app.login("gaoling").await;
    let r = app
        .get(
            &format!("/api/v1/households/{}/checklists", app.household_b),
            Some(&gaoling),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .json(
            "POST",
            "/api/v1/rule-sets/national-monitoring-2021/simulate",
            serde_json::json!({"overrides": {"line": 7000}, "as_of": "2024-12-31"}),
            Some(&admin),
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["units"], 2);
    // Loading through the API needs the CSRF header.
    let r = app
        .json(
            "POST",
            "/api/v1/rule-sets",
            serde_json::json!({"text": "id = 1"}),
            Some(&admin),
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .json(
            "POST",
            "/api/v1/rule-sets",
            serde_json::json!({"text": "id = 1"}),
            Some(&admin),
            true,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
