//! Administration pages: accounts, one's own password, department-push tokens and the pushed
//! department batches.

use askama::Template;
use xiuhua_app::Role;
use xiuhua_app::departments::Batch;
use xiuhua_app::regions::RegionRow;
use xiuhua_app::users::{self, DEPARTMENTS, TokenView, UserView};

use super::Layout;
use crate::i18n::Lang;

/// The roles as (code, label in the page language) for the role selects.
fn roles(lang: Lang) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), role_label(*r, lang)))
        .collect()
}

/// The regions an administrator may pick for an account as (code, name indented by level) for
/// the region selects, the whole system (`""`) first for an unscoped administrator.
fn region_choices(l: &Layout, regions: &[RegionRow], own_region: &str) -> Vec<(String, String)> {
    let top = regions.iter().map(|r| r.level).min().unwrap_or(0);
    let mut out: Vec<(String, String)> = Vec::new();
    if own_region.is_empty() {
        out.push((String::new(), l.t.s("no_region").to_string()));
    }
    out.extend(regions.iter().map(|r| {
        let indent = "\u{3000}".repeat(usize::try_from(r.level - top).unwrap_or(0));
        (r.code.clone(), format!("{indent}{} {}", r.name, r.code))
    }));
    out
}

/// The name of an account's region (the code when it has none in `regions`).
fn region_name(regions: &[RegionRow], code: &str, t: &crate::i18n::T) -> String {
    if code.is_empty() {
        return t.s("no_region").to_string();
    }
    regions
        .iter()
        .find(|r| r.code == code)
        .map_or_else(|| code.to_string(), |r| r.name.clone())
}

/// What the new-account form holds (refilled after a refusal).
#[derive(Clone, Debug)]
pub struct NewUserValues {
    /// User name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role code.
    pub role: String,
    /// Region code.
    pub region_code: String,
}

impl NewUserValues {
    /// An empty form: the least privilege (read-only) in the administrator's own region.
    pub fn empty(own_region: &str) -> NewUserValues {
        NewUserValues {
            username: String::new(),
            display_name: String::new(),
            role: Role::Viewer.as_str().to_string(),
            region_code: own_region.to_string(),
        }
    }
}

/// The accounts an administrator manages, and the form for a new one.
#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    l: Layout,
    /// Each account with its role label and region name.
    users: Vec<(UserView, &'static str, String)>,
    roles: Vec<(&'static str, &'static str)>,
    regions: Vec<(String, String)>,
    form: NewUserValues,
    message: String,
    error: bool,
}

impl UsersPage {
    /// The list with the new-account form holding `form` and a message next to it (`error`: it
    /// reports a refusal). `regions`: what the administrator may assign.
    pub fn new(
        l: Layout,
        users: Vec<UserView>,
        regions: &[RegionRow],
        own_region: &str,
        form: NewUserValues,
        message: String,
        error: bool,
    ) -> Self {
        let roles = roles(l.t.lang);
        let choices = region_choices(&l, regions, own_region);
        let users = users
            .into_iter()
            .map(|u| {
                let label = role_label(u.role, l.t.lang);
                let name = region_name(regions, &u.region_code, &l.t);
                (u, label, name)
            })
            .collect();
        UsersPage {
            l,
            users,
            roles,
            regions: choices,
            form,
            message,
            error,
        }
    }
}

/// A role's label in the page language.
fn role_label(r: Role, lang: Lang) -> &'static str {
    if lang == Lang::Zh {
        return r.label_zh();
    }
    match r {
        Role::Admin => "System administrator",
        Role::County => "County staff",
        Role::Township => "Township operator",
        Role::Village => "Village operator",
        Role::Cadre => "Assistance cadre",
        Role::Viewer => "Read-only",
    }
}

/// One account's edit and password-reset forms.
#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    l: Layout,
    u: UserView,
    roles: Vec<(&'static str, &'static str)>,
    regions: Vec<(String, String)>,
    /// Addresses with recent failed logins: (address, failures, minutes left if locked).
    lockouts: Vec<(String, i64, Option<i64>)>,
    message: String,
    error: bool,
}

impl UserPage {
    /// The account's page with its recent login failures and a message (`error`: it reports a
    /// refusal).
    pub fn new(
        l: Layout,
        u: UserView,
        regions: &[RegionRow],
        own_region: &str,
        lockouts: Vec<(String, i64, Option<i64>)>,
        message: String,
        error: bool,
    ) -> UserPage {
        let roles = roles(l.t.lang);
        let mut choices = region_choices(&l, regions, own_region);
        if !choices.iter().any(|(c, _)| *c == u.region_code) {
            choices.insert(0, (u.region_code.clone(), u.region_code.clone()));
        }
        UserPage {
            l,
            u,
            roles,
            regions: choices,
            lockouts,
            message,
            error,
        }
    }
}

/// The own-password form.
#[derive(Template)]
#[template(path = "admin/password.html")]
pub struct PasswordPage {
    l: Layout,
    message: String,
    error: bool,
}

impl PasswordPage {
    /// The form with a message (`error`: it reports a refusal).
    pub fn new(l: Layout, message: String, error: bool) -> PasswordPage {
        PasswordPage { l, message, error }
    }
}

/// Department-push tokens and the form for a new one.
#[derive(Template)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    l: Layout,
    tokens: Vec<(TokenView, &'static str)>,
    departments: Vec<(&'static str, &'static str)>,
    own_region: String,
    secret: String,
    message: String,
}

impl TokensPage {
    /// The list; `secret` is a new token's secret (shown once), `message` a refusal.
    pub fn new(
        l: Layout,
        tokens: Vec<TokenView>,
        own_region: String,
        secret: String,
        message: String,
    ) -> TokensPage {
        let lang = l.t.lang;
        TokensPage {
            l,
            tokens: tokens
                .into_iter()
                .map(|t| {
                    let d = department_label(lang, &t.department);
                    (t, d)
                })
                .collect(),
            departments: DEPARTMENTS
                .iter()
                .map(|(code, zh, en)| (*code, if lang == Lang::En { *en } else { *zh }))
                .collect(),
            own_region,
            secret,
            message,
        }
    }
}

/// Department batches received for the user's region.
#[derive(Template)]
#[template(path = "admin/departments.html")]
pub struct DepartmentsPage {
    l: Layout,
    batches: Vec<(Batch, &'static str)>,
}

impl DepartmentsPage {
    /// The batches with their department names.
    pub fn new(l: Layout, batches: Vec<Batch>) -> DepartmentsPage {
        let lang = l.t.lang;
        DepartmentsPage {
            l,
            batches: batches
                .into_iter()
                .map(|b| {
                    let d = department_label(lang, &b.department);
                    (b, d)
                })
                .collect(),
        }
    }
}

/// One year on the years page.
pub struct YearRow {
    year: i32,
    closed_at: String,
    closed_by: String,
    closed: bool,
    can_close: bool,
    /// Why it cannot be closed (empty when it can or is closed).
    why_not: &'static str,
}

/// The county's years of 年度动态调整.
#[derive(Template)]
#[template(path = "admin/years.html")]
pub struct YearsPage {
    l: Layout,
    county: String,
    /// Counties to choose from (an unscoped administrator): (code, name).
    counties: Vec<(String, String)>,
    years: Vec<YearRow>,
    /// The year just closed (its snapshot is linked).
    closed: Option<i32>,
    message: String,
    error: bool,
}

impl YearsPage {
    /// The page for `county` with a message (`error`: it reports a refusal).
    pub fn new(
        l: Layout,
        county: &str,
        counties: Vec<(String, String)>,
        years: Vec<xiuhua_app::registry::YearStatus>,
        message: String,
        error: bool,
        closed: Option<i32>,
    ) -> YearsPage {
        use xiuhua_app::registry::Closable;
        let years = years
            .into_iter()
            .map(|y| {
                let (closed_at, closed_by) = y
                    .closed
                    .as_ref()
                    .map(|(at, by)| (xiuhua_domain::display::china_time(at), by.clone()))
                    .unwrap_or_default();
                YearRow {
                    year: y.year,
                    closed_at,
                    closed_by,
                    closed: y.closed.is_some(),
                    can_close: y.closable == Closable::Yes,
                    why_not: match y.closable {
                        Closable::NotOver => l.t.s("cannot_close_current"),
                        Closable::EarlierFirst => l.t.s("cannot_close_order"),
                        Closable::Yes | Closable::Closed => "",
                    },
                }
            })
            .collect();
        YearsPage {
            l,
            county: county.to_string(),
            counties,
            years,
            closed,
            message,
            error,
        }
    }
}

/// The confirmation before a year is closed: the counts it freezes.
#[derive(Template)]
#[template(path = "admin/close_year.html")]
pub struct CloseYearPage {
    l: Layout,
    county: String,
    year: i32,
    /// (label, households, people), as the region page's frozen snapshot lists them.
    rows: Vec<(String, i64, i64)>,
}

impl CloseYearPage {
    /// The confirmation for closing `year` of `county` with its year-end counts.
    pub fn new(
        l: Layout,
        county: &str,
        year: i32,
        counts: &xiuhua_app::registry::Counts,
    ) -> CloseYearPage {
        let rows = super::regions::count_rows(&l.t, counts)
            .into_iter()
            .map(|(label, t, _)| (label, t.households, t.people))
            .collect();
        CloseYearPage {
            l,
            county: county.to_string(),
            year,
            rows,
        }
    }
}

/// One access-log entry as the page shows it.
pub struct AuditRow {
    at: String,
    username: String,
    display_name: String,
    action: String,
    target: String,
    detail: String,
    client: String,
}

/// The access log with its filters.
#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditLogPage {
    l: Layout,
    rows: Vec<AuditRow>,
    /// Accounts to filter by: (user name, shown name).
    users: Vec<(String, String)>,
    /// Actions to filter by: (stored name, label).
    actions: Vec<(&'static str, &'static str)>,
    user: String,
    household: String,
    action: String,
    since: String,
    until: String,
    /// The filters as a query string (for the page links and the export).
    filters: String,
    page: i64,
    has_more: bool,
}

impl AuditLogPage {
    /// The page of `answer` for the query `q` (`filters`: the same as a query string).
    pub fn new(
        l: Layout,
        q: &xiuhua_app::audit::AuditQuery,
        filters: String,
        answer: xiuhua_app::audit::AuditPage,
    ) -> AuditLogPage {
        use xiuhua_app::audit::AuditAction;
        let zh = l.t.lang == Lang::Zh;
        let names: std::collections::HashMap<&str, &str> = answer
            .users
            .iter()
            .map(|(u, n)| (u.as_str(), n.as_str()))
            .collect();
        let rows = answer
            .rows
            .iter()
            .map(|r| AuditRow {
                at: xiuhua_domain::display::china_time(&r.at),
                username: r.username.clone(),
                display_name: names.get(r.username.as_str()).copied().unwrap_or("").into(),
                action: AuditAction::parse(&r.action).map_or_else(
                    || r.action.clone(),
                    |a| (if zh { a.labels().0 } else { a.labels().1 }).to_string(),
                ),
                target: r.target.clone(),
                detail: r.detail.clone(),
                client: r.client.clone(),
            })
            .collect();
        let actions = AuditAction::ALL
            .iter()
            .map(|a| (a.as_str(), if zh { a.labels().0 } else { a.labels().1 }))
            .collect();
        AuditLogPage {
            l,
            rows,
            users: answer.users,
            actions,
            user: q.username.clone().unwrap_or_default(),
            household: q.household.clone().unwrap_or_default(),
            action: q.action.clone().unwrap_or_default(),
            since: q.since.map(|d| d.to_string()).unwrap_or_default(),
            until: q.until.map(|d| d.to_string()).unwrap_or_default(),
            filters,
            page: q.page,
            has_more: answer.has_more,
        }
    }
}

/// A department's name in the page's language.
fn department_label(lang: Lang, code: &str) -> &'static str {
    let name = if lang == Lang::En {
        users::department_name_en(code)
    } else {
        users::department_name(code)
    };
    name.unwrap_or("")
}
