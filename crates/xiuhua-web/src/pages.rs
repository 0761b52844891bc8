//! HTML pages: login, region pages (county → township → village) with counts that link to the
//! lists they count, household search, and the household page with its history and "as of".

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use xiuhua_app::registry::{self, Counts, HouseholdView, SearchParams, mask_id};
use xiuhua_domain::event::{Change, Event};
use xiuhua_domain::{CodeCatalog, MonitoringStatus, RegionLevel, RegistryStatus};

use crate::AppState;
use crate::auth::{Auth, CsrfForm, NoFields, clear_session_cookie, cookie, lang, session_cookie};
use crate::error::WebError;
use crate::i18n::{Lang, T, field_label, field_list};

/// What every page's layout needs.
pub struct Layout {
    /// Text lookups.
    pub t: T,
    /// Page title.
    pub title: String,
    /// Shown user name (empty when logged out).
    pub user_name: String,
    /// CSRF token for the logout form.
    pub csrf: String,
}

impl Layout {
    /// The layout of a page for a logged-in user.
    pub fn new(auth: &Auth, title: impl Into<String>) -> Layout {
        Layout {
            t: auth.t.clone(),
            title: title.into(),
            user_name: auth.user.display_name.clone(),
            csrf: auth.user.csrf_token.clone(),
        }
    }
}

pub(crate) fn render(t: &impl Template, lang: Lang) -> Result<Html<String>, WebError> {
    t.render().map(Html).map_err(|e| {
        WebError::page(
            xiuhua_app::Error::Unexpected(anyhow::anyhow!("template: {e}")),
            lang,
        )
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    message: String,
}

/// Renders the error page (used by `WebError`).
pub fn error_page(t: &T, status: u16, message: &str) -> String {
    let l = Layout {
        t: t.clone(),
        title: t.s("error").into(),
        user_name: String::new(),
        csrf: String::new(),
    };
    ErrorPage {
        l,
        status,
        message: message.into(),
    }
    .render()
    .unwrap_or_else(|_| message.to_string())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    failed: bool,
    /// Minutes an account stays locked (0: not locked).
    locked: i64,
}

/// Query of the login page.
#[derive(Deserialize)]
pub struct LoginQuery {
    failed: Option<String>,
    locked: Option<i64>,
}

/// GET /login
pub async fn login_form(
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Result<Html<String>, WebError> {
    let t = T {
        lang: lang(&headers),
    };
    let l = Layout {
        title: t.s("login").into(),
        t,
        user_name: String::new(),
        csrf: String::new(),
    };
    let lang = l.t.lang;
    render(
        &LoginPage {
            l,
            failed: q.failed.is_some(),
            locked: q.locked.unwrap_or(0).clamp(0, 1440),
        },
        lang,
    )
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// POST /login
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let client = crate::auth::client_address(&headers);
    match xiuhua_app::auth::login(&state.services, &f.username, &f.password, &client).await {
        Ok((token, _)) => Ok((
            [(
                header::SET_COOKIE,
                session_cookie(&token, state.config.secure_cookies),
            )],
            Redirect::to("/"),
        )
            .into_response()),
        Err(xiuhua_app::Error::BadCredentials) => {
            Ok(Redirect::to("/login?failed=1").into_response())
        }
        Err(xiuhua_app::Error::Locked { minutes }) => {
            Ok(Redirect::to(&format!("/login?locked={minutes}")).into_response())
        }
        Err(e) => Err(WebError::page(e, lang(&headers))),
    }
}

/// POST /logout
pub async fn logout(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, WebError> {
    if let Some(token) = cookie(&headers, crate::auth::SESSION_COOKIE) {
        xiuhua_app::auth::logout(&state.services, token)
            .await
            .map_err(|e| WebError::page(e, auth.t.lang))?;
    }
    Ok((
        [(header::SET_COOKIE, clear_session_cookie())],
        Redirect::to("/login"),
    )
        .into_response())
}

/// GET /lang/{zh|en}: sets the language cookie and goes back.
pub async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = if code == "en" { "en" } else { "zh" };
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            r.find("://")
                .and_then(|i| r[i + 3..].find('/').map(|j| r[i + 3 + j..].to_string()))
        })
        .unwrap_or_else(|| "/".into());
    (
        [(
            header::SET_COOKIE,
            format!("lang={lang}; Path=/; SameSite=Lax; Max-Age=31536000"),
        )],
        Redirect::to(&back),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "roots.html")]
struct RootsPage {
    l: Layout,
    regions: Vec<(String, String)>,
}

/// GET /: the user's own region, or the list of counties for an unscoped administrator.
pub async fn home(State(state): State<AppState>, auth: Auth) -> Result<Response, WebError> {
    let roots = xiuhua_app::regions::roots(&state.services, &auth.user)
        .await
        .map_err(|e| WebError::page(e, auth.t.lang))?;
    if roots.len() == 1 {
        return Ok(Redirect::to(&format!("/regions/{}", roots[0].code)).into_response());
    }
    let l = Layout::new(&auth, auth.t.s("home"));
    Ok(render(
        &RootsPage {
            l,
            regions: roots.into_iter().map(|r| (r.code, r.name)).collect(),
        },
        auth.t.lang,
    )?
    .into_response())
}

/// `?as_of=YYYY-MM-DD` (empty means now).
#[derive(Deserialize)]
pub struct AsOfQuery {
    as_of: Option<String>,
}

/// Parses an optional ISO date from a query.
pub fn parse_date(s: Option<&str>) -> Result<Option<NaiveDate>, WebError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|_| WebError::BadRequest(format!("invalid date {s:?}, expected YYYY-MM-DD"))),
    }
}

struct TotalRow {
    label: String,
    households: i64,
    people: i64,
    link: String,
}

struct ChildRow {
    code: String,
    name: String,
    poor: bool,
    cells: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "region.html")]
struct RegionPage {
    l: Layout,
    code: String,
    name: String,
    level: String,
    poor_note: String,
    crumbs: Vec<(String, String)>,
    as_of: String,
    totals: Vec<TotalRow>,
    snapshot: Vec<(usize, i64, i64)>,
    child_headers: Vec<String>,
    children: Vec<ChildRow>,
}

/// The rows of a count table: (label, tally, list filter).
fn count_rows(t: &T, c: &Counts) -> Vec<(String, registry::Tally, String)> {
    let mut rows = vec![(t.s("total").to_string(), c.total, String::new())];
    for s in RegistryStatus::ALL {
        rows.push((
            t.status(s).to_string(),
            c.status(s),
            format!("status={}", s.as_str()),
        ));
    }
    for m in [MonitoringStatus::Monitored, MonitoringStatus::Eliminated] {
        rows.push((
            t.monitoring(m).to_string(),
            c.monitoring(m),
            format!("monitoring={}", m.as_str()),
        ));
    }
    rows
}

/// GET /regions/{code}
pub async fn region(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(q.as_of.as_deref())?;
    let v = registry::region(&state.services, &auth.user, &code, as_of)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let t = &auth.t;
    let link = |region: &str, filter: &str| {
        if as_of.is_some() {
            String::new()
        } else if filter.is_empty() {
            format!("/households?region={region}")
        } else {
            format!("/households?region={region}&{filter}")
        }
    };
    let totals = count_rows(t, &v.counts)
        .into_iter()
        .map(|(label, tally, filter)| TotalRow {
            label,
            households: tally.households,
            people: tally.people,
            link: link(&code, &filter),
        })
        .collect();
    let snapshot = v
        .snapshot
        .as_ref()
        .map(|(_, c)| {
            count_rows(t, c)
                .into_iter()
                .enumerate()
                .map(|(i, (_, tally, _))| (i, tally.households, tally.people))
                .collect()
        })
        .unwrap_or_default();
    let mut child_headers = vec![
        format!("{} {}", t.s("total"), t.s("household_count")),
        format!("{} {}", t.s("total"), t.s("people_count")),
    ];
    for s in [RegistryStatus::Poor, RegistryStatus::Lifted] {
        child_headers.push(format!("{} {}", t.status(s), t.s("household_count")));
        child_headers.push(format!("{} {}", t.status(s), t.s("people_count")));
    }
    child_headers.push(format!(
        "{} {}",
        t.monitoring(MonitoringStatus::Monitored),
        t.s("household_count")
    ));
    let children = v
        .children
        .iter()
        .map(|(r, c)| {
            let poor = c.status(RegistryStatus::Poor);
            let lifted = c.status(RegistryStatus::Lifted);
            let mon = c.monitoring(MonitoringStatus::Monitored);
            ChildRow {
                code: r.code.clone(),
                name: r.name.clone(),
                poor: r.is_poor_village == 1,
                cells: vec![
                    (c.total.households, link(&r.code, "")),
                    (c.total.people, link(&r.code, "")),
                    (poor.households, link(&r.code, "status=poor")),
                    (poor.people, link(&r.code, "status=poor")),
                    (lifted.households, link(&r.code, "status=lifted")),
                    (lifted.people, link(&r.code, "status=lifted")),
                    (mon.households, link(&r.code, "monitoring=monitored")),
                ],
            }
        })
        .collect();
    let level = RegionLevel::from_i16(v.region.level)
        .map(|l| {
            if lang == Lang::Zh {
                l.label_zh()
            } else {
                l.label_en()
            }
        })
        .unwrap_or("");
    let poor_note = match (v.region.is_poor_village, v.region.poor_exit_year) {
        (1, Some(y)) => format!("{} · {y} {}", t.s("poor_village"), t.s("exit")),
        (1, None) => t.s("poor_village").to_string(),
        _ => String::new(),
    };
    let page = RegionPage {
        l: Layout::new(&auth, v.region.name.clone()),
        code: v.region.code.clone(),
        name: v.region.name.clone(),
        level: level.into(),
        poor_note,
        crumbs: v
            .ancestors
            .iter()
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect(),
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        totals,
        snapshot,
        child_headers,
        children,
    };
    render(&page, lang)
}

/// Query of the household list.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    region: Option<String>,
    q: Option<String>,
    status: Option<String>,
    monitoring: Option<String>,
    page: Option<i64>,
}

struct ListRow {
    id: i64,
    household_no: String,
    head_name: String,
    id_number: String,
    village: String,
    status: String,
    monitoring: String,
    members: i32,
    exit_year: String,
}

#[derive(Template)]
#[template(path = "households.html")]
struct ListPage {
    l: Layout,
    /// The list's filters, carried by the export form.
    export_params: Vec<(&'static str, String)>,
    matched_regions: Vec<(String, String)>,
    region: String,
    region_name: String,
    q: String,
    status_options: Vec<(String, String, bool)>,
    monitoring_options: Vec<(String, String, bool)>,
    total: i64,
    masked: bool,
    rows: Vec<ListRow>,
    page: i64,
    pages: i64,
    prev_link: String,
    next_link: String,
}

const PER_PAGE: i64 = 50;

/// GET /households
pub async fn households(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let t = &auth.t;
    let status = q.status.as_deref().and_then(RegistryStatus::parse);
    let monitoring = q.monitoring.as_deref().and_then(MonitoringStatus::parse);
    let page = q.page.unwrap_or(1).max(1);
    let params = SearchParams {
        region: q.region.clone(),
        text: q.q.clone(),
        status,
        monitoring,
        page,
        per_page: PER_PAGE,
    };
    let (list, total) = registry::search(&state.services, &auth.user, &params)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let region = q.region.clone().unwrap_or_default();
    let mut wanted: Vec<String> = list.iter().map(|r| r.village_code.clone()).collect();
    wanted.push(region.clone());
    let names = xiuhua_app::regions::names(&state.services, &wanted)
        .await
        .map_err(|e| WebError::page(e, lang))?;
    let region_name = names.get(&region).cloned().unwrap_or_default();
    let matched_regions = match q.q.as_deref() {
        Some(text) => xiuhua_app::regions::search(&state.services, &auth.user, text, 20)
            .await
            .map_err(|e| WebError::page(e, lang))?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect(),
        None => Vec::new(),
    };
    let rows = list
        .into_iter()
        .map(|r| ListRow {
            id: r.id,
            household_no: r.household_no,
            head_name: r.head_name,
            id_number: r.head_id_number,
            village: names
                .get(&r.village_code)
                .cloned()
                .unwrap_or(r.village_code),
            status: t.status(r.status).into(),
            monitoring: if r.monitoring == MonitoringStatus::None {
                String::new()
            } else {
                t.monitoring(r.monitoring).into()
            },
            members: r.member_count,
            exit_year: r.exit_year.map(|y| y.to_string()).unwrap_or_default(),
        })
        .collect();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let base = {
        let mut parts = vec![];
        for (k, v) in [
            ("region", &q.region),
            ("q", &q.q),
            ("status", &q.status),
            ("monitoring", &q.monitoring),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", url_encode(v)));
            }
        }
        parts.join("&")
    };
    let link = |p: i64| {
        format!(
            "/households?{base}{}page={p}",
            if base.is_empty() { "" } else { "&" }
        )
    };
    let page_view = ListPage {
        export_params: [
            ("region", &q.region),
            ("q", &q.q),
            ("status", &q.status),
            ("monitoring", &q.monitoring),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect(),
        l: Layout::new(&auth, t.s("households")),
        matched_regions,
        region,
        region_name,
        q: q.q.clone().unwrap_or_default(),
        status_options: RegistryStatus::ALL
            .iter()
            .map(|s| (s.as_str().into(), t.status(*s).into(), Some(*s) == status))
            .collect(),
        monitoring_options: MonitoringStatus::ALL
            .iter()
            .map(|m| {
                (
                    m.as_str().into(),
                    t.monitoring(*m).into(),
                    Some(*m) == monitoring,
                )
            })
            .collect(),
        total,
        masked: !auth.user.role.sees_personal_data(),
        rows,
        page,
        pages,
        prev_link: if page > 1 {
            link(page - 1)
        } else {
            String::new()
        },
        next_link: if page < pages {
            link(page + 1)
        } else {
            String::new()
        },
    };
    render(&page_view, lang)
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct HistoryRow {
    date: String,
    kind: String,
    actor: String,
    source: String,
    recorded: String,
    reason: String,
    details: Vec<String>,
    future: bool,
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    l: Layout,
    id: i64,
    household_no: String,
    head_name: String,
    status: String,
    monitoring: String,
    crumbs: Vec<(String, String)>,
    as_of: String,
    exists: bool,
    attributes: Vec<(String, String)>,
    masked: bool,
    members: Vec<Vec<String>>,
    history: Vec<HistoryRow>,
    checklists: Vec<xiuhua_app::rules::Checklist>,
    /// Stored decisions: run id, rule-set name, version, as-of date, decision.
    stored: Vec<(i64, String, i64, String, String)>,
    /// Writing roles get the edit form (current state only, not "as of").
    can_edit: bool,
    edit: crate::edit_web::EditForm,
}

/// A JSON value shown to a person, with code labels where the field has a code list.
fn show_value(t: &T, codes: &CodeCatalog, field: &str, v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => (if *b { "是" } else { "否" }).into(),
        Value::String(s) => match field {
            "status" => RegistryStatus::parse(s)
                .map(|x| t.status(x).to_string())
                .unwrap_or_else(|| s.clone()),
            "monitoring" => MonitoringStatus::parse(s)
                .map(|x| t.monitoring(x).to_string())
                .unwrap_or_else(|| s.clone()),
            _ => field_list(field)
                .map(|l| t.code(codes, l, s))
                .unwrap_or_else(|| s.clone()),
        },
        Value::Array(a) if a.is_empty() => "—".into(),
        Value::Array(a) => a
            .iter()
            .map(|x| show_value(t, codes, field, x))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Object(o) if field == "income" => {
            let fen = |k: &str| o.get(k).and_then(Value::as_i64).unwrap_or(0);
            let net = fen("wage") + fen("business") + fen("property") + fen("transfer")
                - fen("business_cost");
            format!(
                "{} 年纯收入 {} 元",
                o.get("year").map(|y| y.to_string()).unwrap_or_default(),
                net / 100
            )
        }
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or_default();
            format!("{:.2}", x)
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        }
        other => other.to_string(),
    }
}

fn describe_changes(
    t: &T,
    codes: &CodeCatalog,
    e: &Event,
    names: &std::collections::HashMap<i64, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for c in &e.changes {
        match c {
            Change::Create { members, .. } => {
                out.push(format!("{} {}", t.s("members"), members.len()))
            }
            Change::SetFields { patch } => {
                for (k, v) in patch {
                    out.push(format!(
                        "{} → {}",
                        field_label(t.lang, k),
                        show_value(t, codes, k, v)
                    ));
                }
            }
            Change::AddMember {
                member,
                reason_code,
            } => out.push(format!(
                "+ {} ({}){}",
                member.name,
                t.code(codes, "relation", &member.relation),
                reason_code
                    .as_deref()
                    .map(|r| format!(" · {}", t.code(codes, "member_change", r)))
                    .unwrap_or_default()
            )),
            Change::UpdateMember { member_id, patch } => {
                let who = names
                    .get(member_id)
                    .cloned()
                    .unwrap_or_else(|| member_id.to_string());
                for (k, v) in patch {
                    out.push(format!(
                        "{who}: {} → {}",
                        field_label(t.lang, k),
                        show_value(t, codes, k, v)
                    ));
                }
            }
            Change::RemoveMember {
                member_id,
                reason_code,
            } => out.push(format!(
                "− {}{}",
                names
                    .get(member_id)
                    .cloned()
                    .unwrap_or_else(|| member_id.to_string()),
                reason_code
                    .as_deref()
                    .map(|r| format!(" · {}", t.code(codes, "member_change", r)))
                    .unwrap_or_default()
            )),
        }
    }
    out
}

/// Names of every member that ever appeared in a history (to describe removals).
pub fn member_names(events: &[Event]) -> std::collections::HashMap<i64, String> {
    let mut names = std::collections::HashMap::new();
    for e in events {
        for c in &e.changes {
            match c {
                Change::Create { members, .. } => {
                    names.extend(members.iter().map(|m| (m.id, m.name.clone())))
                }
                Change::AddMember { member, .. } => {
                    names.insert(member.id, member.name.clone());
                }
                _ => {}
            }
        }
    }
    names
}

/// GET /households/{id}
pub async fn household(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<AsOfQuery>,
) -> Result<Html<String>, WebError> {
    let lang = auth.t.lang;
    let as_of = parse_date(q.as_of.as_deref())?;
    let v: HouseholdView = xiuhua_app::household_views::view_household(
        &state.services,
        &auth.user,
        id,
        as_of,
        xiuhua_app::household_views::Channel::Page,
        &crate::auth::client_address(&headers),
    )
    .await
    .map_err(|e| WebError::page(e, lang))?;
    let t = &auth.t;
    let codes = state.services.codes();
    let f = &v.state.fields;
    let exists = !f.household_no.is_empty();
    let fields_json = serde_json::to_value(f).unwrap_or_default();
    let mut attributes = Vec::new();
    if let serde_json::Value::Object(map) = &fields_json {
        let extra = map.get("extra");
        for field in &crate::i18n::page_fields().collect::<Vec<_>>() {
            if matches!(*field, "household_no" | "village_code") {
                continue;
            }
            if let Some(val) = map
                .get(*field)
                .or_else(|| extra.and_then(|e| e.get(*field)))
            {
                let shown = if *field == "group_code" {
                    v.region_names
                        .iter()
                        .find(|(c, _)| Some(c) == f.group_code.as_ref())
                        .map(|(_, n)| n.clone())
                        .unwrap_or_else(|| show_value(t, &codes, field, val))
                } else {
                    show_value(t, &codes, field, val)
                };
                attributes.push((field_label(lang, field), shown));
            }
        }
    }
    if let Some(pc) = v.state.per_capita_income() {
        attributes.push((t.s("per_capita_income").into(), format!("{}", pc.yuan())));
    }
    let full = v.full_personal_data;
    let members = v
        .state
        .members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                t.code(&codes, "relation", &m.relation),
                mask_id(&m.id_number, full),
                if m.sex == "1" {
                    "男".into()
                } else {
                    "女".into()
                },
                m.birth_date.map(|d| d.to_string()).unwrap_or_default(),
                m.ethnicity
                    .as_deref()
                    .map(|c| t.code(&codes, "ethnicity", c))
                    .unwrap_or_default(),
                m.education
                    .as_deref()
                    .map(|c| t.code(&codes, "education", c))
                    .unwrap_or_default(),
                m.schooling
                    .as_deref()
                    .map(|c| t.code(&codes, "schooling", c))
                    .unwrap_or_default(),
                m.health
                    .iter()
                    .map(|c| t.code(&codes, "health", c))
                    .collect::<Vec<_>>()
                    .join("、"),
                m.labour
                    .as_deref()
                    .map(|c| t.code(&codes, "labour", c))
                    .unwrap_or_default(),
                m.work_status
                    .as_deref()
                    .map(|c| t.code(&codes, "work_status", c))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let names = member_names(&v.events);
    let history = v
        .events
        .iter()
        .rev()
        .map(|e| HistoryRow {
            date: e.effective_date.to_string(),
            kind: if lang == Lang::Zh {
                e.kind.label_zh()
            } else {
                e.kind.label_en()
            }
            .into(),
            actor: e.actor.clone(),
            source: format!(
                "{}{}",
                e.source.label_zh(),
                e.source_ref
                    .as_deref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            ),
            recorded: (e.recorded_at + chrono::Duration::hours(8))
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            reason: e.reason.clone(),
            details: describe_changes(t, &codes, e, &names),
            future: as_of.is_some_and(|d| e.effective_date > d),
        })
        .collect();
    let (checklists, stored) = if exists {
        let lists = xiuhua_app::rules::checklists_of(&state.services, &v, &Default::default());
        let stored = xiuhua_app::rules::results_of(&state.services, &v)
            .await
            .map_err(|e| WebError::page(e, lang))?
            .into_iter()
            .map(|(run, decision, name)| {
                let purpose = state
                    .services
                    .rules()
                    .get(&run.rule_set, Some(run.version))
                    .map(|s| s.def.purpose.holds_zh());
                let shown = match (decision, purpose) {
                    (xiuhua_rules::Outcome::Pass, Some((yes, _))) => yes.to_string(),
                    (xiuhua_rules::Outcome::Fail, Some((_, no))) => no.to_string(),
                    _ => t.s("unknowns").to_string(),
                };
                (
                    run.id,
                    name.unwrap_or(run.rule_set),
                    run.version,
                    run.as_of,
                    shown,
                )
            })
            .collect();
        (lists, stored)
    } else {
        (Vec::new(), Vec::new())
    };
    let page = HouseholdPage {
        l: Layout::new(&auth, f.household_no.clone()),
        id,
        household_no: if exists {
            f.household_no.clone()
        } else {
            id.to_string()
        },
        head_name: v.state.head().map(|h| h.name.clone()).unwrap_or_default(),
        status: if exists {
            t.status(f.status).into()
        } else {
            String::new()
        },
        monitoring: if f.monitoring == MonitoringStatus::None {
            String::new()
        } else {
            t.monitoring(f.monitoring).into()
        },
        crumbs: v
            .region_names
            .iter()
            .filter(|(c, _)| c.len() <= 12)
            .cloned()
            .collect(),
        as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
        exists,
        attributes,
        masked: !full,
        members,
        history,
        checklists,
        stored,
        can_edit: exists && as_of.is_none() && auth.user.role.can_write(),
        edit: crate::edit_web::edit_form(
            lang,
            v.version,
            serde_json::to_value(&v.state.fields)
                .ok()
                .and_then(|x| x.as_object().cloned())
                .as_ref()
                .unwrap_or(&serde_json::Map::new()),
            &state.services.clock.today().to_string(),
        ),
    };
    render(&page, lang)
}
