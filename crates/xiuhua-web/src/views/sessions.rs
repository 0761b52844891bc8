//! The login page.

use askama::Template;

use super::Layout;

/// The login form, with the outcome of the last attempt.
#[derive(Template)]
#[template(path = "sessions/login.html")]
pub struct LoginPage {
    l: Layout,
    failed: bool,
    /// The last attempt came without the login form's token or from another site.
    expired: bool,
    /// Minutes an account stays locked (0: not locked).
    locked: i64,
}

impl LoginPage {
    /// The page after a failed attempt (`failed`), a refused form (`expired`) or a lockout of
    /// `locked` minutes. The form's CSRF token is `l.csrf`.
    pub fn new(l: Layout, failed: bool, expired: bool, locked: Option<i64>) -> LoginPage {
        LoginPage {
            l,
            failed,
            expired,
            locked: locked.unwrap_or(0).clamp(0, 1440),
        }
    }
}
