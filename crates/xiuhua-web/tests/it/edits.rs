//! Registry edits on the household page (issue 13): every field from the catalogue, the
//! import's messages beside the field with the typed values kept, refusals for read-only
//! roles, the closed-year refusal and the correction it offers, and old → new in the history.

use axum::http::StatusCode;
use xiuhua_app::CurrentUser;

use crate::support::{Client, TestApp};

/// An edit-form body: the CSRF token, version, effective date, reason and `fields` as
/// (name, value, orig) with every `orig_` entry a browser would send for them.
fn body(
    c: &Client,
    version: i64,
    date: &str,
    fields: &[(&str, &str, &str)],
    extra: &str,
) -> String {
    let enc = |s: &str| xiuhua_web_test_encode(s);
    let mut out = format!(
        "csrf={}&version={version}&effective_date={date}&reason={}",
        c.csrf,
        enc("入户核实")
    );
    for (k, v, orig) in fields {
        if !v.is_empty() {
            out.push_str(&format!("&{k}={}", enc(v)));
        }
        out.push_str(&format!("&orig_{k}={}", enc(orig)));
    }
    out.push_str(extra);
    out
}

/// Percent-encodes a form value.
fn xiuhua_web_test_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn a_village_operator_edits_any_field_and_the_history_shows_old_and_new() {
    let app = TestApp::new().await;
    let c = app.login("nongli").await;
    let id = app.household_a;
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    // The form is built from the catalogue: selects with code labels, sets as checkboxes,
    // numbers, dates and yes/no checkboxes, not five text inputs.
    for needle in [
        "<select name=\"main_cause\">",
        "type=\"checkbox\" name=\"other_causes\" value=\"02\"",
        "type=\"number\" inputmode=\"decimal\" step=\"0.01\" name=\"farmland_mu\"",
        "type=\"date\" name=\"risk_identified_on\"",
        "type=\"checkbox\" name=\"water_safe\" value=\"true\"",
        "type=\"number\" inputmode=\"decimal\" step=\"1\" name=\"identified_year\"",
        "name=\"income_wage\"",
    ] {
        assert!(page.contains(needle), "{needle} missing in the form");
    }
    let fields = [
        ("farmland_mu", "8.4", ""),
        ("main_cause", "02", "01"),
        ("other_causes", "03", ""),
        ("water_safe", "true", ""),
        ("income_wage", "1234.56", "0.00"),
        ("income_business", "0", "0.00"),
    ];
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &body(&c, 1, "2026-11-20", &fields, ""),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let v = app
        .get(&format!("/api/v1/households/{id}"), Some(&c))
        .await
        .json();
    assert_eq!(v["fields"]["farmland_mu"], 8.4);
    assert_eq!(v["fields"]["main_cause"], "02");
    assert_eq!(v["fields"]["other_causes"], serde_json::json!(["03"]));
    assert_eq!(v["fields"]["water_safe"], true);
    assert_eq!(v["fields"]["income"]["wage"], 123456);
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    // The attribute in its unit's precision, money in 元 with two decimals.
    assert!(page.contains("<dd>8.4</dd>"), "{page}");
    assert!(page.contains("1234.56 元"), "{page}");
    // History: old → new with code labels.
    assert!(page.contains("耕地面积（亩）：— → 8.4"), "{page}");
    assert!(page.contains("主要致贫原因：因病 → 因残"), "{page}");
    assert!(page.contains("饮水安全：— → 是"), "{page}");
    // The unticked checkbox of a field that was true sets it to false.
    let fields = [("water_safe", "", "true")];
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &body(&c, 2, "2026-11-21", &fields, ""),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    assert!(page.contains("饮水安全：是 → 否"), "{page}");
}

#[tokio::test]
async fn refused_values_are_named_beside_their_field_and_what_was_typed_stays() {
    let app = TestApp::new().await;
    let c = app.login("nongli").await;
    let id = app.household_a;
    // A value that is not a number: the import's message, beside the field, 8.4x kept.
    let fields = [("farmland_mu", "8.4x", ""), ("phone", "13800000009", "")];
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &body(&c, 1, "2026-11-20", &fields, ""),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("“8.4x”不是数字"), "{}", r.body);
    assert!(r.body.contains("value=\"8.4x\""), "typed value kept");
    assert!(
        r.body.contains("value=\"13800000009\""),
        "other typed value kept"
    );
    assert!(r.body.contains("data-field=\"farmland_mu\"") && r.body.contains("field invalid"));
    // Validation after the fold: three other causes, the same message as the import's.
    let fields = [("other_causes", "03", "")];
    let mut b = body(&c, 1, "2026-11-20", &fields, "");
    b.push_str("&other_causes=04&other_causes=05");
    let r = app
        .post_form(&format!("/households/{id}/edit"), &b, Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("其他致贫原因最多2项"), "{}", r.body);
    assert!(
        r.body.contains("value=\"05\" checked"),
        "ticked choices kept"
    );
    // Nothing was written.
    let v = app
        .get(&format!("/api/v1/households/{id}"), Some(&c))
        .await
        .json();
    assert_eq!(v["version"], 1);
    // An unknown code is refused with the code list's message.
    let fields = [("main_cause", "77", "01")];
    let r = app
        .post_form(
            &format!("/households/{id}/edit"),
            &body(&c, 1, "2026-11-20", &fields, ""),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("“77”不是有效的取值"), "{}", r.body);
}

#[tokio::test]
async fn read_only_roles_get_no_form_and_are_refused() {
    let app = TestApp::new().await;
    let id = app.household_a;
    for name in ["viewer", "cadre_b"] {
        let c = app.login(name).await;
        let hh = if name == "viewer" {
            id
        } else {
            app.household_b
        };
        let page = app.get(&format!("/households/{hh}"), Some(&c)).await.body;
        assert!(!page.contains("edit-household"), "{name} sees no form");
        let fields = [("farmland_mu", "3", "")];
        let r = app
            .post_form(
                &format!("/households/{hh}/edit"),
                &body(&c, 1, "2026-11-20", &fields, ""),
                Some(&c),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn a_change_in_a_closed_year_is_refused_and_offers_the_correction() {
    let app = TestApp::new().await;
    xiuhua_app::registry::close_year(&app._services, &CurrentUser::system(), "451228", 2025)
        .await
        .unwrap();
    let admin = app.login("admin").await;
    let id = app.household_a;
    let fields = [("farmland_mu", "5.5", "")];
    let path = format!("/households/{id}/edit");
    let r = app
        .post_form(
            &path,
            &body(&admin, 1, "2025-06-01", &fields, ""),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("2025年度动态调整已结束"), "{}", r.body);
    assert!(r.body.contains("id=\"correction\""), "correction offered");
    assert!(r.body.contains("value=\"5.5\""), "typed value kept");
    assert!(
        r.body.contains("value=\"2025-06-01\""),
        "effective date kept"
    );
    // The correction goes through and the history says so.
    let r = app
        .post_form(
            &path,
            &body(&admin, 1, "2025-06-01", &fields, "&correction=1"),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app
        .get(&format!("/households/{id}"), Some(&admin))
        .await
        .body;
    assert!(page.contains("<strong>更正</strong>"), "{page}");
    assert!(page.contains("耕地面积（亩）：— → 5.5"), "{page}");
    // A read-only user is refused before anything else.
    let viewer = app.login("viewer").await;
    let r = app
        .post_form(
            &path,
            &body(&viewer, 2, "2025-06-01", &fields, "&correction=1"),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_county_level_roles_are_offered_the_correction_of_a_closed_year() {
    let app = TestApp::new().await;
    xiuhua_app::registry::close_year(&app._services, &CurrentUser::system(), "451228", 2025)
        .await
        .unwrap();
    let id = app.household_a;
    let fields = [("farmland_mu", "5.5", "")];
    let path = format!("/households/{id}/edit");
    for name in ["nongli", "gaoling"] {
        let c = app.login(name).await;
        // Neither the form nor a hand-made correction gets through.
        for extra in ["", "&correction=1"] {
            let r = app
                .post_form(&path, &body(&c, 1, "2025-06-01", &fields, extra), Some(&c))
                .await;
            assert_eq!(r.status, StatusCode::CONFLICT, "{name}{extra}: {}", r.body);
            assert!(
                r.body.contains("该年度已结转，请联系县级管理员更正"),
                "{name}: {}",
                r.body
            );
            assert!(!r.body.contains("id=\"correction\""), "{name}: no offer");
            assert!(r.body.contains("value=\"5.5\""), "{name}: typed value kept");
        }
        // The API refuses too.
        let edit = serde_json::json!({
            "version": 1, "effective_date": "2025-06-01", "reason": "更正耕地面积",
            "correction": true, "fields": {"farmland_mu": 5.5}
        });
        let api = format!("/api/v1/households/{id}");
        let r = app.json("PATCH", &api, edit, Some(&c), true).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);
        assert!(r.body.contains("请联系县级管理员更正"), "{}", r.body);
        // A member change in the closed year: the member form again, no offer.
        let (version, ms) = members(&app, &c, id).await;
        let spouse = member_id(&ms, "蓝秀");
        let r = app
            .post_form(
                &format!("/households/{id}/members/{spouse}/remove"),
                &dated(&c, version, "2025-06-01", &[("reason_code", "02")]),
                Some(&c),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(r.body.contains("请联系县级管理员更正"), "{}", r.body);
        assert!(
            r.body.contains("class=\"stack remove-member\""),
            "{}",
            r.body
        );
        assert!(!r.body.contains("id=\"correction\""), "{name}: no offer");
    }
}

/// A form body of the change forms: CSRF token, version, date, reason and `pairs`.
fn change(c: &Client, version: i64, pairs: &[(&str, &str)]) -> String {
    dated(c, version, "2026-11-20", pairs)
}

/// [`change`] effective `date`.
fn dated(c: &Client, version: i64, date: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = format!(
        "csrf={}&version={version}&effective_date={date}&reason={}",
        c.csrf,
        xiuhua_web_test_encode("入户核实")
    );
    for (k, v) in pairs {
        out.push_str(&format!("&{k}={}", xiuhua_web_test_encode(v)));
    }
    out
}

async fn members(app: &TestApp, c: &Client, id: i64) -> (i64, Vec<serde_json::Value>) {
    let v = app
        .get(&format!("/api/v1/households/{id}"), Some(c))
        .await
        .json();
    let m = v["members"].as_array().cloned().unwrap_or_default();
    (v["version"].as_i64().unwrap(), m)
}

fn member_id(members: &[serde_json::Value], name: &str) -> i64 {
    members
        .iter()
        .find(|m| m["name"] == name)
        .and_then(|m| m["id"].as_i64())
        .unwrap_or_else(|| panic!("{name} in {members:?}"))
}

#[tokio::test]
async fn members_are_added_removed_moved_and_the_head_changes_in_one_event() {
    let app = TestApp::new().await;
    let c = app.login("nongli").await;
    let id = app.household_a;
    let path = |p: &str| format!("/households/{id}{p}");
    let page = app.get(&path(""), Some(&c)).await.body;
    assert!(page.contains("id=\"add-member\"") && page.contains("name=\"reason_code\""));
    // Add a newborn son.
    let born = chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let son_id = xiuhua_domain::IdNumber::compose("451228", born, 31).unwrap();
    let pairs = [
        ("name", "韦小宝"),
        ("id_number", son_id.as_str()),
        ("relation", "03"),
        ("reason_code", "06"),
    ];
    let r = app
        .post_form(&path("/members"), &change(&c, 1, &pairs), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A wrong identity number is refused naming the field in Chinese; nothing written.
    let bad = [
        ("name", "韦二"),
        ("id_number", "451228202610010000"),
        ("relation", "03"),
    ];
    let r = app
        .post_form(&path("/members"), &change(&c, 2, &bad), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("身份证号"), "{}", r.body);
    // The spouse marries out.
    let (version, ms) = members(&app, &c, id).await;
    assert_eq!((version, ms.len()), (2, 3));
    let spouse = member_id(&ms, "蓝秀");
    let r = app
        .post_form(
            &path(&format!("/members/{spouse}/remove")),
            &change(&c, version, &[("reason_code", "02")]),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The son becomes head: the form proposes 之父 for the old head (a man, by his number).
    let son = member_id(&members(&app, &c, id).await.1, "韦小宝");
    let head = member_id(&members(&app, &c, id).await.1, "韦桂英");
    let form = app
        .get(&path(&format!("/head?member={son}")), Some(&c))
        .await
        .body;
    assert!(
        form.contains(&format!("name=\"relation_{head}\""))
            && form.contains("value=\"11\" selected"),
        "{form}"
    );
    let r = app
        .post_form(
            &path("/head"),
            &change(
                &c,
                3,
                &[
                    (&format!("relation_{son}"), "01"),
                    (&format!("relation_{head}"), "11"),
                ],
            ),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&path(""), Some(&c)).await.body;
    assert!(page.contains("+ 韦小宝 (之子) · 新生儿"), "{page}");
    assert!(page.contains("− 蓝秀 · 嫁出"), "{page}");
    assert!(
        page.contains("韦桂英: 与户主关系：本人或户主 → 之父"),
        "{page}"
    );
    assert!(
        page.contains("韦小宝: 与户主关系：之子 → 本人或户主"),
        "{page}"
    );
    // Moving a member to a household outside the operator's village: not found in scope.
    let r = app
        .post_form(
            &path(&format!("/members/{head}/move")),
            &change(
                &c,
                4,
                &[("target_no", "451228102201001"), ("relation", "99")],
            ),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("找不到户编号为451228102201001"),
        "{}",
        r.body
    );
    // The county administrator moves him there.
    let admin = app.login("admin").await;
    let r = app
        .post_form(
            &path(&format!("/members/{head}/move")),
            &change(
                &admin,
                4,
                &[("target_no", "451228102201001"), ("relation", "11")],
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, there) = members(&app, &admin, app.household_b).await;
    assert!(
        there
            .iter()
            .any(|m| m["name"] == "韦桂英" && m["relation"] == "11")
    );
    // Read-only users are refused every change.
    let viewer = app.login("viewer").await;
    for p in [
        "/members",
        "/head",
        "/status",
        &format!("/members/{son}/remove"),
    ] {
        let r = app
            .post_form(&path(p), &change(&viewer, 5, &[]), Some(&viewer))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{p}");
    }
}

#[tokio::test]
async fn status_actions_are_those_valid_from_the_status_and_each_is_a_status_change() {
    let app = TestApp::new().await;
    let c = app.login("nongli").await;
    let id = app.household_a;
    let path = format!("/households/{id}/status");
    // 贫困户: only 脱贫 is offered.
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    assert!(page.contains("id=\"status-exit\"") && !page.contains("id=\"status-identify\""));
    assert!(!page.contains("id=\"status-monitor\""));
    let pairs = [
        ("action", "exit"),
        ("exit_year", "2026"),
        ("exit_batch", "2"),
    ];
    let r = app.post_form(&path, &change(&c, 1, &pairs), Some(&c)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // 已脱贫: 纳入 again is refused; 标注监测 goes through.
    let r = app
        .post_form(&path, &change(&c, 2, &[("action", "identify")]), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("：户类型：当前户类型（已脱贫户）不能进行此状态变更（纳入贫困户）"),
        "{}",
        r.body
    );
    let pairs = [("action", "monitor"), ("monitor_type", "1")];
    let r = app.post_form(&path, &change(&c, 2, &pairs), Some(&c)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    assert!(page.contains("id=\"status-eliminate\""), "{page}");
    let r = app
        .post_form(&path, &change(&c, 3, &[("action", "eliminate")]), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    assert!(page.contains("户类型：贫困户 → 已脱贫"), "{page}");
    assert!(page.contains("监测对象类型：— → 脱贫不稳定户"), "{page}");
    assert!(page.contains("风险消除时间：— → 2026-11-20"), "{page}");
    assert_eq!(
        page.matches("<strong>状态变更</strong>").count(),
        3,
        "{page}"
    );
}

#[tokio::test]
async fn a_member_field_and_identity_number_are_edited_from_the_page() {
    let app = TestApp::new().await;
    let c = app.login("nongli").await;
    let id = app.household_a;
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    assert!(
        page.contains("class=\"stack edit-member\""),
        "member edit forms"
    );
    let (version, ms) = members(&app, &c, id).await;
    let spouse = member_id(&ms, "蓝秀");
    let born = chrono::NaiveDate::from_ymd_opt(1973, 5, 6).unwrap();
    let new_id = xiuhua_domain::IdNumber::compose("451228", born, 222).unwrap();
    let old_id = ms.iter().find(|m| m["name"] == "蓝秀").unwrap()["id_number"]
        .as_str()
        .unwrap()
        .to_string();
    let pairs = [
        ("education", "02"),
        ("orig_education", ""),
        ("id_number", new_id.as_str()),
        ("orig_id_number", old_id.as_str()),
    ];
    let r = app
        .post_form(
            &format!("/households/{id}/members/{spouse}/edit"),
            &change(&c, version, &pairs),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (_, ms) = members(&app, &c, id).await;
    let m = ms.iter().find(|m| m["name"] == "蓝秀").unwrap();
    assert_eq!(m["id_number"], new_id.as_str());
    assert_eq!(
        m["birth_date"], "1973-05-06",
        "the birth date follows the number"
    );
    let page = app.get(&format!("/households/{id}"), Some(&c)).await.body;
    assert!(page.contains("蓝秀: 文化程度：— → "), "{page}");
}

#[tokio::test]
async fn refused_member_forms_come_back_with_the_reason_beside_the_input_and_what_was_typed() {
    let app = TestApp::new().await;
    let c = app.login("nongli").await;
    let id = app.household_a;
    let path = |p: &str| format!("/households/{id}{p}");
    // Add: a wrong identity number, beside its input; the name typed stays.
    let bad = [
        ("name", "韦二"),
        ("orig_name", ""),
        ("id_number", "451228202610010000"),
        ("orig_id_number", ""),
        ("relation", "03"),
        ("orig_relation", ""),
        ("reason_code", "06"),
    ];
    let r = app
        .post_form(&path("/members"), &change(&c, 1, &bad), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("class=\"stack add-member\""), "{}", r.body);
    assert!(
        r.body
            .contains("class=\"field invalid\" data-field=\"id_number\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"韦二\""), "name kept");
    assert!(
        r.body.contains("value=\"451228202610010000\""),
        "number kept"
    );
    assert!(r.body.contains("value=\"06\" selected"), "reason code kept");
    assert!(r.body.contains("value=\"入户核实\""), "reason kept");
    // Edit: a value not in the code list, beside the field.
    let (version, ms) = members(&app, &c, id).await;
    let spouse = member_id(&ms, "蓝秀");
    let pairs = [("education", "zz"), ("orig_education", "")];
    let r = app
        .post_form(
            &path(&format!("/members/{spouse}/edit")),
            &change(&c, version, &pairs),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("class=\"stack edit-member\""), "{}", r.body);
    assert!(
        r.body
            .contains("class=\"field invalid\" data-field=\"education\""),
        "{}",
        r.body
    );
    // Move: a 户编号 outside the operator's village, beside its input, kept.
    let pairs = [("target_no", "451228102201001"), ("relation", "11")];
    let r = app
        .post_form(
            &path(&format!("/members/{spouse}/move")),
            &change(&c, version, &pairs),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("class=\"field invalid\" data-field=\"target_no\""),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("找不到户编号为451228102201001"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"451228102201001\""), "number kept");
    assert!(r.body.contains("value=\"11\" selected"), "relation kept");
    // Remove: an effective date that is not a date, beside its input.
    let r = app
        .post_form(
            &path(&format!("/members/{spouse}/remove")),
            &dated(&c, version, "2026-13-01", &[("reason_code", "02")]),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("class=\"stack remove-member\""),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("class=\"field invalid\" data-field=\"effective_date\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"02\" selected"), "reason code kept");
    // Nothing was written.
    assert_eq!(members(&app, &c, id).await, (version, ms));
}

#[tokio::test]
async fn member_status_and_head_changes_in_a_closed_year_offer_the_correction_and_make_it() {
    let app = TestApp::new().await;
    xiuhua_app::registry::close_year(&app._services, &CurrentUser::system(), "451228", 2025)
        .await
        .unwrap();
    let c = app.login("admin").await;
    let id = app.household_a;
    let path = |p: &str| format!("/households/{id}{p}");
    let (version, ms) = members(&app, &c, id).await;
    let spouse = member_id(&ms, "蓝秀");
    let head = member_id(&ms, "韦桂英");
    // Head, in 2025: the head page again with the relations confirmed kept.
    let rel = [
        (format!("relation_{spouse}"), "01"),
        (format!("relation_{head}"), "02"),
    ];
    let rel: Vec<(&str, &str)> = rel.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let r = app
        .post_form(
            &path("/head"),
            &dated(&c, version, "2025-08-01", &rel),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("id=\"change-head\""), "{}", r.body);
    assert!(r.body.contains("id=\"correction\""), "correction offered");
    assert!(r.body.contains("value=\"2025-08-01\""), "date kept");
    assert!(
        r.body.contains(&format!("name=\"relation_{head}\""))
            && r.body.contains("value=\"02\" selected"),
        "{}",
        r.body
    );
    let mut with = rel.clone();
    with.push(("correction", "1"));
    let r = app
        .post_form(
            &path("/head"),
            &dated(&c, version, "2025-08-01", &with),
            Some(&c),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Status, in 2025: the same offer with the exit year kept.
    let (version, _) = members(&app, &c, id).await;
    let status = path("/status");
    let pairs = [
        ("action", "exit"),
        ("exit_year", "2025"),
        ("exit_batch", "2"),
    ];
    let r = app
        .post_form(&status, &dated(&c, version, "2025-07-01", &pairs), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("class=\"stack status-change\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"correction\""), "correction offered");
    assert!(
        r.body.contains("name=\"exit_year\" value=\"2025\""),
        "{}",
        r.body
    );
    let pairs = [
        ("action", "exit"),
        ("exit_year", "2025"),
        ("exit_batch", "2"),
        ("correction", "1"),
    ];
    let r = app
        .post_form(&status, &dated(&c, version, "2025-07-01", &pairs), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Remove, in 2025: refused, the correction offered, the reason code and date kept.
    let (version, _) = members(&app, &c, id).await;
    let remove = path(&format!("/members/{head}/remove"));
    let pairs = [("reason_code", "02")];
    let r = app
        .post_form(&remove, &dated(&c, version, "2025-09-01", &pairs), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("2025年度动态调整已结束"), "{}", r.body);
    assert!(r.body.contains("id=\"correction\""), "correction offered");
    assert!(r.body.contains("value=\"2025-09-01\""), "date kept");
    assert!(r.body.contains("value=\"02\" selected"), "reason code kept");
    // A correction without a reason is refused beside the reason, offered again.
    let no_reason = format!(
        "csrf={}&version={version}&effective_date=2025-09-01&reason=&reason_code=02&correction=1",
        c.csrf
    );
    let r = app.post_form(&remove, &no_reason, Some(&c)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("class=\"field invalid\" data-field=\"reason\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("id=\"correction\""), "offered again");
    let pairs = [("reason_code", "02"), ("correction", "1")];
    let r = app
        .post_form(&remove, &dated(&c, version, "2025-09-01", &pairs), Some(&c))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&path(""), Some(&c)).await.body;
    assert_eq!(page.matches("<strong>更正</strong>").count(), 3, "{page}");
}
