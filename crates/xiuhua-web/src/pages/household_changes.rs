//! The household page's other edits, each a small form: add a member (with the 人员变更
//! reason), remove one (reason and date), move one to another household (picked by 户编号 in
//! the user's region), change the head (the clerk confirms each member's relation re-expressed
//! relative to the new head), and the status actions (纳入, 脱贫, 标注监测, 消除风险).
//! Each is one use case of `xiuhua_app::registry`, one event.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use xiuhua_app::registry::{self, ChangeMeta, SearchParams};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::{FieldCatalog, FieldLevel, Member, MonitoringStatus, RegistryStatus};

use super::households::{EditSubmission, form_json};
use super::parse_date;
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::views::household_changes::HeadPage;
use crate::views::{Layout, render};

/// The member fields the add form asks for (the catalogue's stored member fields; sex and
/// birth date come from the identity number).
pub fn member_form_fields() -> impl Iterator<Item = &'static xiuhua_domain::FieldDef> {
    FieldCatalog::shipped()
        .stored(FieldLevel::Member)
        .filter(|d| !matches!(d.name.as_str(), "sex" | "birth_date"))
}

/// A refused request as the app's own `Invalid` error (shown with the field's name).
fn invalid(id: i64, field: &str, m: xiuhua_domain::message::Message) -> xiuhua_app::Error {
    xiuhua_app::Error::invalid(&format!("户 {id}"), field, "invalid", m)
}

/// An error as the page shows it: a refused field named by its label in the page language.
fn shown(mut e: xiuhua_app::Error, lang: crate::i18n::Lang) -> WebError {
    if let xiuhua_app::Error::Invalid(errs) = &mut e {
        for f in errs {
            f.field = crate::i18n::field_label(lang, &f.field);
        }
    }
    WebError::page(e, lang)
}

/// The effective date, reason and version every change form carries.
fn meta_of(f: &EditSubmission) -> Result<(i64, ChangeMeta), WebError> {
    let bad = |m: &str| WebError::BadRequest(m.into());
    let version: i64 = f.get("version").parse().map_err(|_| bad("version"))?;
    let date = parse_date(Some(&f.get("effective_date")))?.ok_or_else(|| bad("effective_date"))?;
    let meta = ChangeMeta {
        correction: f.get("correction") == "1",
        ..ChangeMeta::manual(date, f.get("reason"))
    };
    Ok((version, meta))
}

fn back(id: i64) -> Response {
    Redirect::to(&format!("/households/{id}#history")).into_response()
}

/// POST /households/{id}/members: adds a member (新生儿, 嫁入 …).
pub async fn add_member(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let f = EditSubmission(form);
    let (version, meta) = meta_of(&f)?;
    let codes = state.services.codes();
    let mut obj = serde_json::Map::new();
    let mut extra = serde_json::Map::new();
    for def in member_form_fields() {
        let v = form_json(def, &f.submitted(def), &codes)
            .map_err(|m| shown(invalid(id, &def.name, m), lang))?;
        if v.is_null() {
            continue;
        }
        match Member::json_key(&def.name) {
            Some(k) => obj.insert(k.to_string(), v),
            None => extra.insert(def.name.clone(), v),
        };
    }
    obj.insert("extra".into(), Value::Object(extra));
    let member: Member = serde_json::from_value(Value::Object(obj)).map_err(|e| {
        shown(
            invalid(
                id,
                "member",
                xiuhua_domain::message::msg("bad_change").arg("error", e),
            ),
            lang,
        )
    })?;
    let reason_code = Some(f.get("reason_code")).filter(|r| !r.is_empty());
    registry::add_member(
        &state.services,
        &auth.user,
        id,
        version,
        member,
        reason_code,
        &meta,
    )
    .await
    .map_err(|e| shown(e, lang))?;
    Ok(back(id))
}

/// POST /households/{id}/members/{member}/edit: sets the member fields whose value differs
/// from the one the form was filled with.
pub async fn update_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let f = EditSubmission(form);
    let (version, meta) = meta_of(&f)?;
    let codes = state.services.codes();
    let mut patch = FieldPatch::new();
    for def in member_form_fields() {
        let new = f.submitted(def);
        if new == f.get(&format!("orig_{}", def.name)) {
            continue;
        }
        let v = form_json(def, &new, &codes).map_err(|m| shown(invalid(id, &def.name, m), lang))?;
        patch.insert(
            Member::json_key(&def.name).unwrap_or(&def.name).to_string(),
            v,
        );
    }
    if patch.is_empty() {
        return Ok(back(id));
    }
    registry::update_member(
        &state.services,
        &auth.user,
        id,
        version,
        member,
        patch,
        &meta,
    )
    .await
    .map_err(|e| shown(e, lang))?;
    Ok(back(id))
}

/// POST /households/{id}/members/{member}/remove: removes a member (死亡, 嫁出 …).
pub async fn remove_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let f = EditSubmission(form);
    let (version, meta) = meta_of(&f)?;
    let reason_code = Some(f.get("reason_code")).filter(|r| !r.is_empty());
    registry::remove_member(
        &state.services,
        &auth.user,
        id,
        version,
        member,
        reason_code,
        &meta,
    )
    .await
    .map_err(|e| shown(e, lang))?;
    Ok(back(id))
}

/// POST /households/{id}/members/{member}/move: moves a member to the household with the
/// given 户编号 in the user's region, with their relation to its head there.
pub async fn move_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let f = EditSubmission(form);
    let (_, meta) = meta_of(&f)?;
    let no = f.get("target_no");
    let params = SearchParams {
        text: Some(no.clone()),
        page: 1,
        per_page: 5,
        ..SearchParams::default()
    };
    let (found, _) = registry::search(&state.services, &auth.user, &params)
        .await
        .map_err(|e| shown(e, lang))?;
    let target = found
        .iter()
        .find(|h| h.household_no == no && h.id != id)
        .ok_or_else(|| {
            shown(
                invalid(
                    id,
                    "household_no",
                    xiuhua_domain::message::msg("move_target_not_found").arg("household_no", &no),
                ),
                lang,
            )
        })?;
    let relation = f.get("relation");
    let relation = if relation.is_empty() {
        "99".to_string()
    } else {
        relation
    };
    registry::move_member(
        &state.services,
        &auth.user,
        id,
        target.id,
        member,
        &relation,
        &meta,
    )
    .await
    .map_err(|e| shown(e, lang))?;
    Ok(back(id))
}

/// `?member=` of the head-change form.
#[derive(Deserialize)]
pub struct HeadQuery {
    member: i64,
}

/// GET /households/{id}/head?member=: the head-change form: each other member's relation
/// re-expressed relative to the chosen new head, for the clerk to confirm or change.
pub async fn head_form(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<HeadQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let s = &state.services;
    let view = registry::household(s, &auth.user, id, None)
        .await
        .map_err(|e| shown(e, lang))?;
    let proposed = xiuhua_domain::relations::propose_head_change(&view.state.members, q.member)
        .ok_or_else(|| {
            shown(
                xiuhua_app::Error::NotFound {
                    what: format!("member {}", q.member),
                },
                lang,
            )
        })?;
    let no = view.state.fields.household_no.clone();
    let l = Layout::new(&auth, format!("{no} · {}", auth.t.s("change_head")));
    let today = s.clock.today().to_string();
    render(
        &HeadPage::new(l, &s.codes(), id, &view, q.member, &proposed, today),
        lang,
    )
}

/// POST /households/{id}/head: saves the relations the clerk confirmed (`relation_{member}`),
/// one event.
pub async fn change_head(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let relations: Vec<(i64, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            let mid = k.strip_prefix("relation_")?.parse().ok()?;
            Some((mid, v.trim().to_string()))
        })
        .collect();
    let f = EditSubmission(form);
    let (version, meta) = meta_of(&f)?;
    registry::change_head(&state.services, &auth.user, id, version, &relations, &meta)
        .await
        .map_err(|e| shown(e, lang))?;
    Ok(back(id))
}

/// The status actions valid from a household's status and monitoring: `identify` (纳入, from
/// 一般农户), `exit` (脱贫, from 贫困户), `monitor` (标注监测, when not monitored and not poor) and
/// `eliminate` (消除风险, when monitored).
pub fn status_actions(status: RegistryStatus, monitoring: MonitoringStatus) -> Vec<&'static str> {
    let mut out = Vec::new();
    match status {
        RegistryStatus::General => out.push("identify"),
        RegistryStatus::Poor => out.push("exit"),
        RegistryStatus::Lifted => {}
    }
    if status != RegistryStatus::Poor && monitoring != MonitoringStatus::Monitored {
        out.push("monitor");
    }
    if monitoring == MonitoringStatus::Monitored {
        out.push("eliminate");
    }
    out
}

/// POST /households/{id}/status: one status action (`action`), a 状态变更 event. An action not
/// valid from the current status is refused.
pub async fn change_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let lang = auth.t.lang;
    auth.user.require_write().map_err(|e| shown(e, lang))?;
    let f = EditSubmission(form);
    let (version, meta) = meta_of(&f)?;
    let s = &state.services;
    let view = registry::household(s, &auth.user, id, None)
        .await
        .map_err(|e| shown(e, lang))?;
    let fl = &view.state.fields;
    let action = f.get("action");
    if !status_actions(fl.status, fl.monitoring).contains(&action.as_str()) {
        return Err(shown(
            invalid(
                id,
                "status",
                xiuhua_domain::message::msg("status_action_not_valid")
                    .arg("action", action_label(&auth, &action))
                    .arg("status", fl.status.label_zh()),
            ),
            lang,
        ));
    }
    let date = meta.effective_date;
    let year = |k: &str| f.get(k).parse::<i32>().ok().map(|y| serde_json::json!(y));
    let text = |k: &str| Some(f.get(k)).filter(|v| !v.is_empty()).map(Value::String);
    let mut patch = FieldPatch::new();
    let mut set = |k: &str, v: Option<Value>| {
        patch.insert(k.to_string(), v.unwrap_or(Value::Null));
    };
    match action.as_str() {
        "identify" => {
            set("status", text_of("poor"));
            set("identified_year", year("identified_year"));
            if let Some(c) = text("main_cause") {
                set("main_cause", Some(c));
            }
        }
        "exit" => {
            set("status", text_of("lifted"));
            set("exit_year", year("exit_year"));
            set("exit_batch", text("exit_batch"));
        }
        "monitor" => {
            set("monitoring", text_of("monitored"));
            set("monitor_type", text("monitor_type"));
            set("risk_identified_on", text_of(&date.to_string()));
            set("risk_eliminated_on", None);
        }
        _ => {
            set("monitoring", text_of("eliminated"));
            set("risk_eliminated_on", text_of(&date.to_string()));
        }
    }
    registry::edit_household(s, &auth.user, id, version, patch, &meta)
        .await
        .map_err(|e| shown(e, lang))?;
    Ok(back(id))
}

/// An action's name in the page language (the action itself if it is none of ours).
fn action_label(auth: &Auth, action: &str) -> String {
    if ["identify", "exit", "monitor", "eliminate"].contains(&action) {
        auth.t.s(&format!("action_{action}")).to_string()
    } else {
        action.to_string()
    }
}

fn text_of(s: &str) -> Option<Value> {
    Some(Value::String(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_actions_valid_from_the_status_are_offered() {
        use MonitoringStatus as M;
        use RegistryStatus as R;
        assert_eq!(status_actions(R::General, M::None), ["identify", "monitor"]);
        assert_eq!(status_actions(R::Poor, M::None), ["exit"]);
        assert_eq!(status_actions(R::Lifted, M::None), ["monitor"]);
        assert_eq!(status_actions(R::Lifted, M::Monitored), ["eliminate"]);
        assert_eq!(status_actions(R::Lifted, M::Eliminated), ["monitor"]);
    }
}
