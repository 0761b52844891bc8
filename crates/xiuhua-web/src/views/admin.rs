//! Administration pages: accounts, one's own password, department-push tokens and the pushed
//! department batches.

use askama::Template;
use xiuhua_app::Role;
use xiuhua_app::departments::Batch;
use xiuhua_app::users::{self, DEPARTMENTS, TokenView, UserView};

use super::Layout;
use crate::i18n::Lang;

/// The roles as (code, label in the page language) for the role selects.
fn roles(lang: Lang) -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.as_str(),
                if lang == Lang::Zh {
                    r.label_zh()
                } else {
                    r.as_str()
                },
            )
        })
        .collect()
}

/// The accounts an administrator manages, and the form for a new one.
#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    l: Layout,
    users: Vec<UserView>,
    roles: Vec<(&'static str, &'static str)>,
    own_region: String,
    message: String,
    error: bool,
}

impl UsersPage {
    /// The list with a message next to the form (`error`: it reports a refusal).
    pub fn new(
        l: Layout,
        users: Vec<UserView>,
        own_region: String,
        message: String,
        error: bool,
    ) -> Self {
        let roles = roles(l.t.lang);
        UsersPage {
            l,
            users,
            roles,
            own_region,
            message,
            error,
        }
    }
}

/// One account's edit and password-reset forms.
#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    l: Layout,
    u: UserView,
    roles: Vec<(&'static str, &'static str)>,
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
        lockouts: Vec<(String, i64, Option<i64>)>,
        message: String,
        error: bool,
    ) -> UserPage {
        let roles = roles(l.t.lang);
        UserPage {
            l,
            u,
            roles,
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
    departments: &'static [(&'static str, &'static str)],
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
        TokensPage {
            l,
            tokens: tokens
                .into_iter()
                .map(|t| {
                    let d = users::department_name(&t.department).unwrap_or("");
                    (t, d)
                })
                .collect(),
            departments: DEPARTMENTS,
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
        DepartmentsPage {
            l,
            batches: batches
                .into_iter()
                .map(|b| {
                    let d = users::department_name(&b.department).unwrap_or("");
                    (b, d)
                })
                .collect(),
        }
    }
}
