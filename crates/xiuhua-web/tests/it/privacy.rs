//! Personal data as an attacker with a read-only role sees it: what is shown of a person across
//! the household page, the member API, the household list and the ledger export must not pin
//! down their identity number, and a search by identity number is no oracle.

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use xiuhua_app::CurrentUser;
use xiuhua_app::audit::AuditAction;
use xiuhua_db::audit::AccessFilter;
use xiuhua_domain::IdNumber;

use crate::support::TestApp;

/// The identity numbers of the fixture's household A (see `support.rs`).
fn fixture_ids() -> [(String, NaiveDate); 2] {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    [(d(1970, 1, 2), 11u16), (d(1972, 3, 4), 111)].map(|(birth, seq)| {
        (
            IdNumber::compose("451228", birth, seq)
                .unwrap()
                .as_str()
                .to_string(),
            birth,
        )
    })
}

/// Every run of 15+ characters of `[0-9Xx*]` that holds a `*`: the masked numbers shown.
fn masked_numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || c == 'X' || c == '*' {
            cur.push(c);
        } else {
            if cur.len() >= 15 && cur.contains('*') {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    out
}

/// The identity numbers that fit a masked number (known characters at their places) and a
/// birth year, with a valid check character: what an attacker who saw both must still try.
fn candidates(masked: &str, year: i32) -> usize {
    let m: Vec<char> = masked.chars().collect();
    assert_eq!(m.len(), 18, "{masked}");
    let region: String = m[..6].iter().collect();
    assert!(region.chars().all(|c| c.is_ascii_digit()));
    let mut n = 0;
    let mut day = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    while day.year() == year {
        for seq in 0..1000u16 {
            let id = IdNumber::compose(&region, day, seq).unwrap();
            if id
                .as_str()
                .chars()
                .zip(&m)
                .all(|(a, b)| *b == '*' || a == *b)
            {
                n += 1;
            }
        }
        day = day.succ_opt().unwrap();
    }
    n
}

#[tokio::test]
async fn what_a_viewer_sees_of_a_person_does_not_pin_down_the_identity_number() {
    let app = TestApp::new().await;
    let viewer = app.login("viewer").await;
    let a = app.household_a;
    let mut shown = Vec::new();
    for path in [
        format!("/households/{a}"),
        format!("/api/v1/households/{a}"),
        "/households?region=451228101".to_string(),
        "/api/v1/households?region=451228101".to_string(),
        "/exports/registry?region=451228101&format=csv".to_string(),
        format!("/api/v1/households/{a}/checklists"),
    ] {
        let r = app.get(&path, Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        shown.push((path, r.body));
    }
    let all: String = shown.iter().map(|(_, b)| b.as_str()).collect();
    for (id, birth) in fixture_ids() {
        for (path, body) in &shown {
            // Nothing of the number beyond its region and last two, nor the birth date in any
            // form (ISO, compact, Chinese, month-day), nor the number itself.
            let hidden = &id[6..16];
            for leak in [
                id.clone(),
                hidden.to_string(),
                id[..8].to_string(),
                id[10..].to_string(),
                birth.to_string(),
                birth.format("%Y%m%d").to_string(),
                birth.format("%Y年%-m月%-d日").to_string(),
                birth.format("-%m-%d").to_string(),
                birth.format("%Y/%m/%d").to_string(),
            ] {
                assert!(!body.contains(&leak), "{path} shows {leak:?}");
            }
        }
        let masked = format!("{}**********{}", &id[..6], &id[16..]);
        assert!(all.contains(&masked), "{masked} shown somewhere");
        let n = candidates(&masked, birth.year());
        assert!(n > 1000, "{masked} + {}: {n} candidates", birth.year());
    }
    // Every masked number shown anywhere has the one shape: 6 + 10 stars + 2.
    for m in masked_numbers(&all) {
        assert!(
            m.len() == 18 && m[6..16].chars().all(|c| c == '*') && !m[..6].contains('*'),
            "{m}"
        );
    }
    // The member API gives the year, and no date.
    let v: serde_json::Value =
        serde_json::from_str(&shown[1].1).expect("household API answers JSON");
    let m = &v["members"][0];
    assert_eq!(m["birth_date"], serde_json::Value::Null);
    assert_eq!(m["birth_year"], 1970);
    // Rules read the real numbers: the identity-number check passes for the viewer as for a
    // clerk.
    let clerk = app.login("gaoling").await;
    let path = format!("/api/v1/households/{a}/checklists");
    let for_viewer = app.get(&path, Some(&viewer)).await.json();
    let for_clerk = app.get(&path, Some(&clerk)).await.json();
    let decisions = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let items: Vec<_> = c["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| (i["code"].clone(), i["outcome"].clone()))
                    .collect();
                (c["set_id"].clone(), c["decision"].clone(), items)
            })
            .collect::<Vec<_>>()
    };
    assert!(!decisions(&for_clerk).is_empty());
    assert_eq!(decisions(&for_viewer), decisions(&for_clerk));
}

#[tokio::test]
async fn a_clerk_sees_full_numbers_and_birth_dates() {
    let app = TestApp::new().await;
    let clerk = app.login("gaoling").await;
    let [(id, birth), _] = fixture_ids();
    let r = app
        .get(
            &format!("/api/v1/households/{}", app.household_a),
            Some(&clerk),
        )
        .await;
    let v = r.json();
    assert_eq!(v["members"][0]["id_number"], id.as_str());
    assert_eq!(v["members"][0]["birth_date"], birth.to_string());
    let r = app
        .get(&format!("/households/{}", app.household_a), Some(&clerk))
        .await;
    assert!(r.body.contains(&id) && r.body.contains(&birth.to_string()));
}

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

#[tokio::test]
async fn a_search_by_identity_number_needs_the_right_to_see_full_numbers() {
    let app = TestApp::new().await;
    let [(id, _), _] = fixture_ids();
    let viewer = app.login("viewer").await;
    for q in [
        id.clone(),
        id.to_lowercase(),
        format!("{}X", &id[..17]),
        // Fragments: a birth date and sequence, the number without its region.
        id[6..14].to_string(),
        id[6..].to_string(),
    ] {
        let r = app
            .get(&format!("/api/v1/households?q={q}"), Some(&viewer))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{q}: {}", r.body);
        assert_eq!(
            r.json()["error"]["message_zh"],
            "按身份证号查询需要查看完整身份证号的权限"
        );
        let r = app.get(&format!("/households?q={q}"), Some(&viewer)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "page {q}");
        assert!(r.body.contains("按身份证号查询需要查看完整身份证号的权限"));
    }
    let refused = access_log(&app, AuditAction::SearchIdNumberRefused).await;
    assert_eq!(refused.len(), 10);
    assert!(refused.iter().all(|r| r.username == "viewer"));
    assert!(refused.iter().any(|r| r.target == id));
    // A viewer still searches by household number and name.
    for (q, n) in [("451228101201001", 1), ("4512281012", 1), ("韦", 2)] {
        let r = app
            .get(&format!("/api/v1/households?q={q}"), Some(&viewer))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
        assert_eq!(r.json()["total"], n, "{q}");
    }
    assert!(
        access_log(&app, AuditAction::SearchIdNumber)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn lookups_by_identity_number_are_logged_and_rate_limited() {
    let app = TestApp::new().await;
    let [(id, _), _] = fixture_ids();
    let clerk = app.login("gaoling").await;
    let r = app
        .get(&format!("/api/v1/households?q={id}"), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 1);
    let logged = access_log(&app, AuditAction::SearchIdNumber).await;
    assert_eq!(logged.len(), 1);
    assert_eq!(
        (logged[0].username.as_str(), logged[0].target.as_str()),
        ("gaoling", id.as_str())
    );
    // The clock of the test app stands still: every lookup falls in the same minute.
    for _ in 1..xiuhua_app::registry::ID_SEARCHES_PER_MINUTE {
        let r = app.get(&format!("/households?q={id}"), Some(&clerk)).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = app
        .get(&format!("/api/v1/households?q={id}"), Some(&clerk))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "rate_limited");
    // Others are not slowed down by one user's lookups.
    let other = app.login("disu").await;
    let r = app
        .get(&format!("/api/v1/households?q={id}"), Some(&other))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 0, "outside disu's township");
}

/// Makes a department token on the admin page; returns its secret.
async fn department_token(app: &TestApp) -> String {
    let admin = app.login("admin").await;
    let form = format!(
        "csrf={}&name=%E5%8C%BB%E4%BF%9D&department=medical_insurance&region_code=451228&days=30",
        admin.csrf
    );
    let r = app.post_form("/admin/tokens", &form, Some(&admin)).await;
    let at = r.body.find("xht_").expect("secret shown once");
    r.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[tokio::test]
async fn a_department_push_does_not_tell_whether_people_are_registered() {
    let app = TestApp::new().await;
    let secret = department_token(&app).await;
    let [(registered, _), _] = fixture_ids();
    let unknown = IdNumber::compose("451228", NaiveDate::from_ymd_opt(1980, 5, 5).unwrap(), 2)
        .unwrap()
        .as_str()
        .to_string();
    let push = |id: &str| {
        axum::http::Request::post("/api/v1/department-data?file_name=yb.csv")
            .header(
                axum::http::header::AUTHORIZATION,
                format!("Bearer {secret}"),
            )
            .body(axum::body::Body::from(format!("姓名,身份证号\n某,{id}\n")))
            .unwrap()
    };
    let mut answers = Vec::new();
    for id in [&registered, &unknown] {
        let r = app.send(push(id)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let mut v = r.json();
        assert!(v["batch_id"].is_i64());
        v.as_object_mut().unwrap().remove("batch_id");
        answers.push(v);
    }
    assert_eq!(answers[0], answers[1], "the same answer, registered or not");
    assert_eq!(
        answers[0],
        serde_json::json!({"accepted": 1, "rejected": 0, "duplicate": false})
    );
    // County staff see the match.
    let admin = app.login("admin").await;
    let batches = xiuhua_app::departments::batches(&app._services, &CurrentUser::system(), 10)
        .await
        .unwrap();
    let matched: Vec<i64> = batches.iter().map(|b| b.matched).collect();
    assert_eq!(matched, vec![0, 1], "newest first");
    assert_eq!(
        app.get("/departments", Some(&admin)).await.status,
        StatusCode::OK
    );
}
