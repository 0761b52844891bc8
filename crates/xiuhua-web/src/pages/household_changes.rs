//! The household page's other edits, each a small form: add a member (with the 人员变更
//! reason), remove one (reason and date), move one to another household (picked by 户编号 in
//! the user's region), change the head (the clerk confirms each member's relation re-expressed
//! relative to the new head), and the status actions (纳入, 脱贫, 标注监测, 消除风险).
//! Each is one use case of `xiuhua_app::registry`, one event.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use xiuhua_app::registry::{self, ChangeMeta, HouseholdView, SearchParams};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::message::msg;
use xiuhua_domain::{FieldCatalog, FieldLevel, Member, MonitoringStatus, RegistryStatus};

use super::households::{EditSubmission, form_json};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::WebError;
use crate::i18n::field_label;
use crate::views::household_changes::{ChangeForms, ChangePage, HeadPage, Kept};
use crate::views::{Layout, render};

/// The member fields the add form asks for (the catalogue's stored member fields; sex and
/// birth date come from the identity number).
pub fn member_form_fields() -> impl Iterator<Item = &'static xiuhua_domain::FieldDef> {
    FieldCatalog::shipped()
        .stored(FieldLevel::Member)
        .filter(|d| !matches!(d.name.as_str(), "sex" | "birth_date"))
}

/// A refused input as the app's own `Invalid` error (shown beside the input `field`).
fn invalid(id: i64, field: &str, m: xiuhua_domain::message::Message) -> xiuhua_app::Error {
    xiuhua_app::Error::invalid(&format!("户 {id}"), field, "invalid", m)
}

/// Which change form a submission came from: a refusal shows that form again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    AddMember,
    EditMember(i64),
    RemoveMember(i64),
    MoveMember(i64),
    Status,
    Head,
}

impl Form {
    /// The form's name in `households/change.html` and its member, if any.
    fn parts(self) -> (&'static str, Option<i64>) {
        match self {
            Form::AddMember => ("add", None),
            Form::EditMember(m) => ("edit", Some(m)),
            Form::RemoveMember(m) => ("remove", Some(m)),
            Form::MoveMember(m) => ("move", Some(m)),
            Form::Status => ("status", None),
            Form::Head => ("head", None),
        }
    }

    /// The heading of its page (the text key of the action).
    fn heading_key(self) -> &'static str {
        match self {
            Form::AddMember => "add_member",
            Form::EditMember(_) => "edit_member",
            Form::RemoveMember(_) => "remove_member",
            Form::MoveMember(_) => "move_member",
            Form::Status => "status_changes",
            Form::Head => "change_head",
        }
    }
}

/// A submitted change form, read the same way by every handler: the user may write, the
/// household and form are named, and a refusal of the use case shows the form again
/// ([`Change::finish`]).
struct Change<'a> {
    state: &'a AppState,
    auth: &'a Auth,
    id: i64,
    form: Form,
    f: EditSubmission,
}

impl<'a> Change<'a> {
    /// The preamble of every change handler: refuses read-only roles (the error page), keeps
    /// the submitted pairs.
    fn begin(
        state: &'a AppState,
        auth: &'a Auth,
        id: i64,
        form: Form,
        pairs: Vec<(String, String)>,
    ) -> Result<Change<'a>, WebError> {
        auth.user
            .require_write()
            .map_err(|e| WebError::page(e, auth.t.lang))?;
        Ok(Change {
            state,
            auth,
            id,
            form,
            f: EditSubmission(pairs),
        })
    }

    /// The version the form was filled at (a hidden input: a bad one is a bad request).
    fn version(&self) -> Result<i64, WebError> {
        self.f
            .get("version")
            .parse()
            .map_err(|_| WebError::BadRequest("version".into()))
    }

    /// The effective date, reason and correction flag every change form carries; a date
    /// that cannot be read is refused beside its input.
    fn meta(&self) -> Result<ChangeMeta, xiuhua_app::Error> {
        let text = self.f.get("effective_date");
        let date = text.parse().map_err(|_| {
            invalid(
                self.id,
                "effective_date",
                msg("import_not_a_date").arg("value", &text),
            )
        })?;
        Ok(ChangeMeta {
            correction: self.f.get("correction") == "1",
            ..ChangeMeta::manual(date, self.f.get("reason"))
        })
    }

    /// Whether the form had an input `name` (a checkbox left unticked still sends its
    /// `orig_` entry).
    fn has_input(&self, name: &str) -> bool {
        let orig = format!("orig_{name}");
        self.f.0.iter().any(|(k, _)| *k == name || *k == orig)
    }

    /// The answer to a change: back to the household's history when saved; a refusal shows
    /// the form again with the reasons beside the inputs, what was typed kept, and the 更正
    /// offer when the date falls in a closed year and the user may correct it (422 for
    /// refused values, 409 for a closed year or a newer version). A refusal that no form can
    /// show (not found, forbidden) is the error page.
    async fn finish(self, done: Result<(), xiuhua_app::Error>) -> Result<Response, WebError> {
        let lang = self.auth.t.lang;
        let may_correct = self.auth.user.role.may_correct_closed_year();
        let mut version = self.version()?;
        let (mut beside, mut top) = (BTreeMap::new(), Vec::new());
        let (status, offer) = match done {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/households/{}#history", self.id)).into_response()
                );
            }
            Err(xiuhua_app::Error::Invalid(errs)) => {
                for e in &errs {
                    let text = e.message.render(lang.messages());
                    if self.has_input(&e.field) {
                        beside.insert(e.field.clone(), text);
                    } else {
                        let label = field_label(lang, &e.field);
                        top.push(format!("{}：{label}：{text}", e.record));
                    }
                }
                if top.is_empty() {
                    top.push(self.auth.t.s("edit_fields_refused").to_string());
                }
                // A correction refused for its missing reason offers the correction again.
                let again = self.f.get("correction") == "1" && may_correct;
                (StatusCode::UNPROCESSABLE_ENTITY, again)
            }
            Err(xiuhua_app::Error::Conflict { code, message, .. }) => {
                top.push(message.render(lang.messages()));
                (StatusCode::CONFLICT, code == "closed_year" && may_correct)
            }
            Err(e) => return Err(WebError::page(e, lang)),
        };
        let s = &self.state.services;
        let view = registry::household(s, &self.auth.user, self.id, None)
            .await
            .map_err(|e| WebError::page(e, lang))?;
        if status == StatusCode::CONFLICT && !offer {
            // A newer version: the clerk has read why; the form is now against it.
            version = view.version;
        }
        let kept = Kept::typed(version, &self.f.0, beside, offer);
        let page = self.refused_page(&view, kept, top)?;
        let mut res = render_any(page, lang)?.into_response();
        *res.status_mut() = status;
        Ok(res)
    }

    /// The refused form's page, its inputs filled from `kept`.
    fn refused_page(
        &self,
        view: &HouseholdView,
        kept: Kept,
        messages: Vec<String>,
    ) -> Result<Refused, WebError> {
        let (auth, s) = (self.auth, &self.state.services);
        let (lang, codes) = (auth.t.lang, s.codes());
        let no = view.state.fields.household_no.clone();
        let heading = auth.t.s(self.form.heading_key()).to_string();
        let l = Layout::new(auth, format!("{no} · {heading}"));
        if self.form == Form::Head {
            let relations = head_relations(&self.f.0);
            let new_head = relations
                .iter()
                .find(|(_, r)| r == "01")
                .map(|(m, _)| *m)
                .or_else(|| view.state.head().map(|h| h.id))
                .unwrap_or_default();
            let page = HeadPage::new(
                l, &codes, self.id, view, new_head, &relations, kept, messages,
            );
            return Ok(Refused::Head(Box::new(page)));
        }
        let fl = &view.state.fields;
        let actions = status_actions(fl.status, fl.monitoring);
        let mut changes = ChangeForms::new(lang, &codes, view, &actions, |a| {
            auth.t.s(&format!("action_{a}"))
        });
        let (mut name, member) = self.form.parts();
        let typed = |f: &mut crate::views::household_edit::EditField, orig: bool| {
            if let Some(def) = FieldCatalog::shipped().find(&f.name) {
                f.value = self.f.submitted(def);
            }
            if orig {
                f.orig = self.f.get(&format!("orig_{}", f.name));
            }
            f.error = kept.err(&f.name).to_string();
        };
        for f in &mut changes.member_fields {
            typed(f, false);
        }
        let mut m = None;
        if let Some(mid) = member {
            let at = changes.members.iter().position(|x| x.0 == mid);
            m = at.map(|i| changes.members.swap_remove(i));
            match &mut m {
                Some(x) if self.form == Form::EditMember(mid) => {
                    x.4.iter_mut().for_each(|f| typed(f, true));
                }
                Some(_) => {}
                // The member is no longer in the household: the refusal alone.
                None => name = "",
            }
        }
        let action = self.f.get("action");
        let a = changes
            .status_actions
            .iter()
            .find(|x| x.0 == action)
            .copied();
        if self.form == Form::Status {
            if a.is_none() {
                name = "";
            }
            let cause = self.f.get("main_cause");
            if !cause.is_empty() {
                changes.main_cause = cause;
            }
        }
        let page = ChangePage::new(l, self.id, no, heading, messages, name, changes, kept, m, a);
        Ok(Refused::Form(Box::new(page)))
    }
}

/// The page a refusal shows: a change form, or the head-change page.
enum Refused {
    Form(Box<ChangePage>),
    Head(Box<HeadPage>),
}

fn render_any(page: Refused, lang: crate::i18n::Lang) -> Result<Html<String>, WebError> {
    match page {
        Refused::Form(p) => render(p.as_ref(), lang),
        Refused::Head(p) => render(p.as_ref(), lang),
    }
}

/// The relations the head-change form confirmed: `relation_{member}` → code.
fn head_relations(pairs: &[(String, String)]) -> Vec<(i64, String)> {
    pairs
        .iter()
        .filter_map(|(k, v)| {
            let mid = k.strip_prefix("relation_")?.parse().ok()?;
            Some((mid, v.trim().to_string()))
        })
        .collect()
}

/// POST /households/{id}/members: adds a member (新生儿, 嫁入 …).
pub async fn add_member(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Change::begin(&state, &auth, id, Form::AddMember, form)?;
    let version = c.version()?;
    let done = async {
        let meta = c.meta()?;
        let codes = state.services.codes();
        let mut obj = serde_json::Map::new();
        let mut extra = serde_json::Map::new();
        let mut refused = Vec::new();
        for def in member_form_fields() {
            let v = match form_json(def, &c.f.submitted(def), &codes) {
                Ok(v) => v,
                Err(m) => {
                    refused.push(xiuhua_domain::FieldError::new(
                        format!("户 {id}"),
                        &def.name,
                        "invalid",
                        m,
                    ));
                    continue;
                }
            };
            if v.is_null() {
                continue;
            }
            match Member::json_key(&def.name) {
                Some(k) => obj.insert(k.to_string(), v),
                None => extra.insert(def.name.clone(), v),
            };
        }
        if !refused.is_empty() {
            return Err(xiuhua_app::Error::Invalid(refused));
        }
        obj.insert("extra".into(), Value::Object(extra));
        let member: Member = serde_json::from_value(Value::Object(obj))
            .map_err(|e| invalid(id, "member", msg("bad_change").arg("error", e)))?;
        let reason_code = Some(c.f.get("reason_code")).filter(|r| !r.is_empty());
        let s = &state.services;
        registry::add_member(s, &auth.user, id, version, member, reason_code, &meta).await?;
        Ok(())
    }
    .await;
    c.finish(done).await
}

/// POST /households/{id}/members/{member}/edit: sets the member fields whose value differs
/// from the one the form was filled with.
pub async fn update_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Change::begin(&state, &auth, id, Form::EditMember(member), form)?;
    let version = c.version()?;
    let done = async {
        let meta = c.meta()?;
        let codes = state.services.codes();
        let mut patch = FieldPatch::new();
        let mut refused = Vec::new();
        for def in member_form_fields() {
            let new = c.f.submitted(def);
            if new == c.f.get(&format!("orig_{}", def.name)) {
                continue;
            }
            match form_json(def, &new, &codes) {
                Ok(v) => {
                    let key = Member::json_key(&def.name).unwrap_or(&def.name);
                    patch.insert(key.to_string(), v);
                }
                Err(m) => {
                    refused.push(xiuhua_domain::FieldError::new(
                        format!("户 {id}"),
                        &def.name,
                        "invalid",
                        m,
                    ));
                }
            }
        }
        if !refused.is_empty() {
            return Err(xiuhua_app::Error::Invalid(refused));
        }
        if patch.is_empty() {
            return Ok(());
        }
        let s = &state.services;
        registry::update_member(s, &auth.user, id, version, member, patch, &meta).await?;
        Ok(())
    }
    .await;
    c.finish(done).await
}

/// POST /households/{id}/members/{member}/remove: removes a member (死亡, 嫁出 …).
pub async fn remove_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Change::begin(&state, &auth, id, Form::RemoveMember(member), form)?;
    let version = c.version()?;
    let done = async {
        let meta = c.meta()?;
        let reason_code = Some(c.f.get("reason_code")).filter(|r| !r.is_empty());
        let s = &state.services;
        registry::remove_member(s, &auth.user, id, version, member, reason_code, &meta).await?;
        Ok(())
    }
    .await;
    c.finish(done).await
}

/// POST /households/{id}/members/{member}/move: moves a member to the household with the
/// given 户编号 in the user's region, with their relation to its head there.
pub async fn move_member(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, member)): Path<(i64, i64)>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Change::begin(&state, &auth, id, Form::MoveMember(member), form)?;
    c.version()?;
    let done = async {
        let meta = c.meta()?;
        let s = &state.services;
        let no = c.f.get("target_no");
        let params = SearchParams {
            text: Some(no.clone()),
            page: 1,
            per_page: 5,
            ..SearchParams::default()
        };
        let (found, _) = registry::search(s, &auth.user, &params).await?;
        let target = found
            .iter()
            .find(|h| h.household_no == no && h.id != id)
            .ok_or_else(|| {
                let m = msg("move_target_not_found").arg("household_no", &no);
                invalid(id, "target_no", m)
            })?;
        let relation = Some(c.f.get("relation")).filter(|r| !r.is_empty());
        let relation = relation.unwrap_or_else(|| "99".to_string());
        registry::move_member(s, &auth.user, id, target.id, member, &relation, &meta).await?;
        Ok(())
    }
    .await;
    c.finish(done).await
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
    let page = |e| WebError::page(e, lang);
    auth.user.require_write().map_err(page)?;
    let s = &state.services;
    let view = registry::household(s, &auth.user, id, None)
        .await
        .map_err(page)?;
    let proposed = xiuhua_domain::relations::propose_head_change(&view.state.members, q.member)
        .ok_or_else(|| {
            page(xiuhua_app::Error::NotFound {
                what: format!("member {}", q.member),
            })
        })?;
    let no = view.state.fields.household_no.clone();
    let l = Layout::new(&auth, format!("{no} · {}", auth.t.s("change_head")));
    let kept = Kept::fresh(view.version, &s.clock.today().to_string());
    let head = HeadPage::new(
        l,
        &s.codes(),
        id,
        &view,
        q.member,
        &proposed,
        kept,
        Vec::new(),
    );
    render(&head, lang)
}

/// POST /households/{id}/head: saves the relations the clerk confirmed (`relation_{member}`),
/// one event.
pub async fn change_head(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Change::begin(&state, &auth, id, Form::Head, form)?;
    let version = c.version()?;
    let done = async {
        let meta = c.meta()?;
        let relations = head_relations(&c.f.0);
        let s = &state.services;
        registry::change_head(s, &auth.user, id, version, &relations, &meta).await?;
        Ok(())
    }
    .await;
    c.finish(done).await
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
    let c = Change::begin(&state, &auth, id, Form::Status, form)?;
    let version = c.version()?;
    let done = async {
        let meta = c.meta()?;
        let s = &state.services;
        let view = registry::household(s, &auth.user, id, None).await?;
        let patch = status_patch(&auth, &c.f, &view, &meta)?;
        registry::edit_household(s, &auth.user, id, version, patch, &meta).await?;
        Ok(())
    }
    .await;
    c.finish(done).await
}

/// The fields a status action sets, or its refusal when it is not valid from the status.
fn status_patch(
    auth: &Auth,
    f: &EditSubmission,
    view: &HouseholdView,
    meta: &ChangeMeta,
) -> Result<FieldPatch, xiuhua_app::Error> {
    let fl = &view.state.fields;
    let action = f.get("action");
    if !status_actions(fl.status, fl.monitoring).contains(&action.as_str()) {
        let m = msg("status_action_not_valid")
            .arg("action", action_label(auth, &action))
            .arg("status", fl.status.label_zh());
        return Err(xiuhua_app::Error::invalid(
            &format!("户 {}", fl.household_no),
            "status",
            "invalid",
            m,
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
    Ok(patch)
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
