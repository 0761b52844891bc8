//! No leak across regions: every route that takes a household or a region, called by a user of
//! each scoped role (township, village, cadre, a viewer of another county) with a household or
//! region outside their scope, is refused (404, or 403 for writes) and never shows the other
//! household. The API routes are taken from the OpenAPI document, so a
//! new API route without a case here fails the test.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::*;

/// (method, path template) of every API operation, from the served OpenAPI document.
async fn api_operations(app: &TestApp) -> Vec<(String, String)> {
    let doc = app.get("/api/openapi.json", None).await.json();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.push((method.to_uppercase(), path.clone()));
        }
    }
    ops.sort();
    ops
}

#[tokio::test]
async fn no_route_reads_or_writes_another_townships_households() {
    let app = TestApp::new().await;
    let admin = app.login("admin").await;
    // A stored run covering both households, so the explain route has something to leak.
    let r = app
        .post_form(
            "/rules/quality/runs",
            &format!("csrf={}&region=451228", admin.csrf),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The run's page is where the form leads.
    let run_id: i64 = r
        .location()
        .strip_prefix("/rules/runs/")
        .and_then(|s| s.parse().ok())
        .expect("a stored run");
    // The admin can read that stored result: the route works when in scope.
    let r = app
        .get(
            &format!("/rules/runs/{run_id}/households/{}", app.household_b),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // (user, their household, the other township's household, the other township's code)
    // Township, village and cadre users of one side against the other side's household and
    // region, and a viewer of another county (恭城) against this county.
    let (a, b) = (app.household_a, app.household_b);
    let cases = [
        ("gaoling", Some(a), b, "451228102"),
        ("disu", Some(b), a, "451228101"),
        ("nongli", Some(a), b, "451228102"),
        ("cadre_b", Some(b), a, "451228101"),
        ("gongcheng", None, a, "451228"),
        ("gongcheng", None, b, "451228"),
    ];
    let ops = api_operations(&app).await;
    let mut checked = 0;
    for (name, own, other, other_region) in cases {
        let c = app.login(name).await;
        let other_no = if other == app.household_a {
            "451228101201001"
        } else {
            "451228102201001"
        };
        // Pages and downloads (GET).
        let pages = [
            format!("/households/{other}"),
            format!("/households/{other}?as_of=2020-01-01"),
            format!("/regions/{other_region}"),
            format!("/regions/{other_region}201"),
            format!("/households?region={other_region}"),
            format!("/households/export?region={other_region}"),
            format!("/exports/registry?region={other_region}"),
            format!("/exports/statistics?region={other_region}"),
            format!("/rules/quality/simulate?set=&region={other_region}"),
            format!(
                "/rules/national-monitoring-2026/simulate.xlsx?set=line%3D9000&region={other_region}"
            ),
            format!("/rules/runs/{run_id}/households/{other}"),
        ];
        for p in &pages {
            let r = app.get(p, Some(&c)).await;
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
                "{name} GET {p}: {} {}",
                r.status,
                r.body.chars().take(300).collect::<String>()
            );
            assert!(
                !r.body.contains(other_no),
                "{name} GET {p} shows {other_no}"
            );
            checked += 1;
        }
        // Every API operation, with the other township's household or region filled in.
        for (method, template) in &ops {
            let path = template
                .replace("{id}", &other.to_string())
                .replace("{code}", other_region);
            let (path, body) = match (method.as_str(), template.as_str()) {
                ("POST", "/api/v1/session") => continue, // logging in is not scoped
                ("POST", "/api/v1/department-data") => {
                    // Department tokens only: a session is not accepted at all.
                    let r = app
                        .json(method, template, json!(null), Some(&c), true)
                        .await;
                    assert_eq!(
                        r.status,
                        StatusCode::UNAUTHORIZED,
                        "{name} pushed with a session"
                    );
                    checked += 1;
                    continue;
                }
                ("GET", "/api/v1/me") => continue, // only the caller's own account
                ("GET", "/api/v1/rule-sets") | ("GET", "/api/v1/rule-sets/{id}") => continue, // policy, not personal data
                ("POST", "/api/v1/rule-sets") => (
                    path,
                    json!({"text": "id = \"x\"\nversion = 1\nname = \"x\"\nlevel = \"household\"\npurpose = \"quality\"\nregion = \"451228\"\nyears = [2020]\n[[items]]\ncode = \"a\"\nlabel = \"a\"\nkind = \"required\"\nexpr = \"people > 0\"\n"}),
                ),
                ("GET", "/api/v1/households") => {
                    (format!("{path}?region={other_region}"), json!(null))
                }
                ("POST", "/api/v1/rule-sets/{id}/simulate") => (
                    template.replace("{id}", "national-monitoring-2026"),
                    json!({"overrides": {"line": 9000}, "region": other_region}),
                ),
                ("PATCH", "/api/v1/households/{id}") => (
                    path,
                    json!({"version": 1, "effective_date": "2020-01-01", "reason": "x", "fields": {"phone": "1"}}),
                ),
                _ => (path, json!(null)),
            };
            let r = if method == "GET" {
                app.get(&path, Some(&c)).await
            } else {
                app.json(method, &path, body, Some(&c), true).await
            };
            assert!(
                r.status == StatusCode::NOT_FOUND || r.status == StatusCode::FORBIDDEN,
                "{name} {method} {path}: {} {}",
                r.status,
                r.body.chars().take(300).collect::<String>()
            );
            assert!(
                !r.body.contains(other_no),
                "{name} {method} {path} shows {other_no}"
            );
            checked += 1;
        }
        // Their own household still works (the test would pass vacuously otherwise).
        if let Some(own) = own {
            let r = app
                .get(&format!("/api/v1/households/{own}"), Some(&c))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{name} reads its own household");
        }
    }
    // The other household was not changed by any of it.
    let v = app
        .get(
            &format!("/api/v1/households/{}", app.household_b),
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(v["version"], 1);
    assert!(checked >= 6 * (11 + 7), "{checked} route checks");
    println!("route × role × foreign-region checks: {checked}, none leaked");
}
