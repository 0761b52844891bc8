//! Issue 13 defects 6, 8, 9, 12 on the web: a stored run's households (filters, scope, audited
//! export), outcome colours by class name, rule pages without developer references and with
//! local time, one 未经证实 answer, and the household list's masked identity numbers.

use axum::http::StatusCode;
use xiuhua_app::CurrentUser;
use xiuhua_app::audit::AuditAction;
use xiuhua_db::audit::AccessFilter;
use xiuhua_domain::IdNumber;

use crate::support::*;

async fn access_log(app: &TestApp, action: AuditAction) -> Vec<xiuhua_db::audit::AccessRow> {
    xiuhua_app::audit::search(
        &app._services,
        &CurrentUser::system(),
        &AccessFilter {
            action: Some(action.as_str().into()),
            limit: 1000,
            ..AccessFilter::default()
        },
    )
    .await
    .unwrap()
}

/// The full identity number of household A's head (see `support.rs`).
fn head_a() -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
    IdNumber::compose("451228", birth, 11)
        .unwrap()
        .as_str()
        .to_string()
}

/// Stores a run of `set` over `region` as the admin; returns the run page's path.
async fn store_run(app: &TestApp, admin: &Client, set: &str, region: &str) -> String {
    let r = app
        .post_form(
            &format!("/rules/{set}/runs"),
            &format!("csrf={}&region={region}&as_of=", admin.csrf),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let at = r.location().to_string();
    assert!(at.starts_with("/rules/runs/"), "{at}");
    at
}

#[tokio::test]
async fn a_stored_run_lists_its_households_with_filters_scope_and_an_audited_export() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let run = store_run(&app, &admin, "quality", "451228").await;
    let r = app.get(&run, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("451228101201001") && r.body.contains("451228102201001"));
    assert!(r.body.contains(&format!("/households/{}", app.household_a)));
    // Identity numbers are masked on the page, even for the admin.
    assert!(!r.body.contains(&head_a()), "{}", r.body);
    // Filters: by decision, by item outcome, by region.
    let pass = app.get(&format!("{run}?outcome=pass"), Some(&admin)).await;
    let fail = app.get(&format!("{run}?outcome=fail"), Some(&admin)).await;
    let unknown = app
        .get(&format!("{run}?outcome=unknown"), Some(&admin))
        .await;
    let count = |b: &str| b.matches("<tr class=\"t-").count();
    assert_eq!(count(&r.body), 2);
    assert_eq!(
        count(&pass.body) + count(&fail.body) + count(&unknown.body),
        count(&r.body),
        "every household has one decision"
    );
    let one_head_fails = app
        .get(&format!("{run}?item=one_head&outcome=fail"), Some(&admin))
        .await;
    assert_eq!(one_head_fails.status, StatusCode::OK);
    assert!(one_head_fails.body.contains("没有符合条件的记录"));
    let one_head_passes = app
        .get(&format!("{run}?item=one_head&outcome=pass"), Some(&admin))
        .await;
    assert!(one_head_passes.body.contains("451228101201001"));
    let r = app
        .get(&format!("{run}?item=no_such_item"), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .get(&format!("{run}?region=451228101"), Some(&admin))
        .await;
    assert!(r.body.contains("451228101201001") && !r.body.contains("451228102201001"));
    // A township user sees its own part of a county run, and nothing of another township.
    let gaoling = app.login("gaoling").await;
    let r = app.get(&run, Some(&gaoling)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("451228101201001") && !r.body.contains("451228102201001"));
    let r = app
        .get(&format!("{run}?region=451228102"), Some(&gaoling))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let other = app.login("gongcheng").await;
    assert_eq!(
        app.get(&run, Some(&other)).await.status,
        StatusCode::NOT_FOUND
    );
    // The export: full numbers need a purpose; every export is in the access log.
    let r = app
        .get(&format!("{run}/export.xlsx?outcome=pass"), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .get(
            &format!("{run}/export.xlsx?outcome=pass&purpose=%E6%A0%B8%E6%9F%A5"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let viewer = app.login("viewer").await;
    let r = app.get(&format!("{run}/export.xlsx"), Some(&viewer)).await;
    assert_eq!(r.status, StatusCode::OK, "masked: no purpose needed");
    let logged = access_log(&app, AuditAction::ExportRuleResults).await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    let run_id = run.trim_start_matches("/rules/runs/");
    assert!(logged.iter().all(|e| e.target == run_id));
    assert!(
        logged
            .iter()
            .any(|e| e.username == "admin" && e.detail.contains("full_id_numbers"))
    );
    assert!(
        logged
            .iter()
            .any(|e| e.username == "viewer" && e.detail.contains("masked"))
    );
    // The rules page links to the run.
    let r = app.get("/rules", Some(&admin)).await;
    assert!(r.body.contains(&format!("href=\"{run}\"")));
}

/// (tone class, kind, outcome words) of every checklist row of a page.
fn checklist_rows(body: &str) -> Vec<(String, String, String)> {
    body.split("<tr class=\"o-")
        .skip(1)
        .filter_map(|row| {
            let tone = row.split(" t-").nth(1)?.split('"').next()?.to_string();
            let cells: Vec<&str> = row.split("<td>").skip(1).collect();
            let cell = |i: usize| {
                cells
                    .get(i)
                    .map(|c| c.split('<').next().unwrap_or("").trim().to_string())
            };
            Some((tone, cell(1)?, cell(2)?))
        })
        .collect()
}

#[tokio::test]
async fn outcome_colours_never_say_the_opposite() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let mut seen = 0;
    for as_of in ["", "?as_of=2019-12-31", "?as_of=2022-12-31"] {
        let r = app
            .get(
                &format!("/households/{}{as_of}", app.household_a),
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
        for (tone, kind, outcome) in checklist_rows(&r.body) {
            seen += 1;
            if outcome == "未触发" {
                assert_eq!(tone, "good", "{kind} {outcome}");
            }
            if kind == "参考" {
                assert!(
                    tone == "neutral" || tone == "unknown",
                    "{kind} {outcome} {tone}"
                );
            }
            if outcome == "达标" || outcome == "未触发" {
                assert_ne!(tone, "bad", "a good result is red: {kind} {outcome}");
            }
            if outcome == "无法判断" {
                assert_eq!(tone, "unknown");
            }
        }
    }
    assert!(seen > 10, "checklist rows found: {seen}");
}

/// Whether `body` holds an RFC 3339 UTC timestamp (`2026-11-23T02:00:00…Z`).
fn has_utc_timestamp(body: &str) -> bool {
    let b = body.as_bytes();
    b.windows(11).any(|w| {
        w[..4].iter().all(u8::is_ascii_digit) && w[4] == b'-' && w[7] == b'-' && w[10] == b'T'
    })
}

/// Numbers with more than four decimals (`8.399999999999999`).
fn has_raw_float(body: &str) -> bool {
    let b = body.as_bytes();
    b.windows(6).enumerate().any(|(i, w)| {
        w[0] == b'.' && i > 0 && b[i - 1].is_ascii_digit() && w[1..].iter().all(u8::is_ascii_digit)
    })
}

#[tokio::test]
async fn rule_pages_speak_to_clerks_in_local_time() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    let run = store_run(&app, &admin, "national-monitoring-2026", "451228").await;
    let mut pages = vec!["/rules".to_string(), run];
    for set in app._services.rules().current() {
        pages.push(format!("/rules/{}", set.def.id));
    }
    for p in &pages {
        let r = app.get(p, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        // The page text, without the script and style references of the layout.
        let body = r.body.split("<main").nth(1).unwrap_or(&r.body);
        for bad in ["shipped", "domain.md", "shared/", ".md ", ".md§", "docs/"] {
            assert!(!body.contains(bad), "{p} shows {bad:?}");
        }
        assert!(!has_utc_timestamp(body), "{p} shows a raw UTC timestamp");
        assert!(
            !has_raw_float(body),
            "{p} shows a number with its float noise"
        );
        for doubled in [
            "（元）（元）",
            "（周岁）（岁）",
            "（%）（%）",
            "（亩）（亩）",
            "（㎡）（㎡）",
        ] {
            assert!(!body.contains(doubled), "{p}: {doubled}");
        }
    }
    // Loaded at start-up (the test clock: 2026-11-23 02:00 UTC) shows as China time.
    let r = app.get("/rules/quality", Some(&admin)).await;
    assert!(r.body.contains("2026-11-23 10:00"), "{}", r.body);
    assert!(r.body.contains("随系统提供"));
    let r = app.get("/rules", Some(&admin)).await;
    assert!(r.body.contains("2026-11-23 10:00"));
}

#[tokio::test]
async fn the_web_and_the_cli_mark_the_same_sets_unconfirmed() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    // The truth is in the files: `unconfirmed = true` among a set's top-level keys.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut expected = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let top = text.split("\n[").next().unwrap();
        let id = top
            .lines()
            .find_map(|l| l.strip_prefix("id = \""))
            .unwrap()
            .trim_end_matches('"')
            .to_string();
        if top.lines().any(|l| l.trim() == "unconfirmed = true") {
            expected.push(id);
        }
    }
    expected.sort();
    assert!(!expected.is_empty() && expected.len() < 13, "{expected:?}");
    // What the CLI prints (`RuleSet::is_unconfirmed`).
    let mut cli: Vec<String> = app
        ._services
        .rules()
        .current()
        .iter()
        .filter(|s| s.is_unconfirmed())
        .map(|s| s.def.id.clone())
        .collect();
    cli.sort();
    assert_eq!(cli, expected);
    // What the web shows in the list.
    let r = app.get("/rules", Some(&admin)).await;
    let table = r.body.split("id=\"rule-sets\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    let mut web: Vec<String> = table
        .split("<tr><td><a href=\"/rules/")
        .skip(1)
        .filter(|row| row.split("</td>").next().unwrap().contains("未经证实"))
        .map(|row| row.split('"').next().unwrap().to_string())
        .collect();
    web.sort();
    assert_eq!(web, expected);
}

#[tokio::test]
async fn the_household_list_masks_numbers_unless_asked_and_logs_a_full_page() {
    let app = TestApp::new().await;
    let full = head_a();
    let admin = app.login("admin").await;
    let r = app.get("/households", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(&full), "full number shown by default");
    assert!(
        r.body
            .contains(&xiuhua_domain::household::mask_id_number(&full))
    );
    assert!(r.body.contains("显示完整身份证号"));
    assert!(
        access_log(&app, AuditAction::ViewPersonalList)
            .await
            .is_empty()
    );
    // Asked for: shown in full, and the page is logged with its households.
    let r = app.get("/households?full_ids=1", Some(&admin)).await;
    assert!(r.body.contains(&full));
    let logged = access_log(&app, AuditAction::ViewPersonalList).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].username, "admin");
    assert!(logged[0].detail.contains(&app.household_a.to_string()));
    assert!(logged[0].detail.contains(&app.household_b.to_string()));
    // A role without the right gets neither the toggle nor the numbers.
    let viewer = app.login("viewer").await;
    let r = app.get("/households?full_ids=1", Some(&viewer)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(&full));
    assert!(!r.body.contains("显示完整身份证号"));
    assert_eq!(
        access_log(&app, AuditAction::ViewPersonalList).await.len(),
        1
    );
    // The export follows the list: masked unless asked (no purpose needed), full with one.
    let r = app.get("/households/export", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.get("/households/export?full_ids=1", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .get("/households/export?full_ids=1&purpose=x", Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let exports = access_log(&app, AuditAction::ExportList).await;
    assert_eq!(exports.len(), 2);
    assert!(exports.iter().any(|e| e.detail.contains("masked")));
    assert!(exports.iter().any(|e| e.detail.contains("full_id_numbers")));
    // The API's list masks too.
    let r = app.get("/api/v1/households", Some(&admin)).await;
    assert!(!r.body.contains(&full));
}
