//! The views of the HTML pages: one askama template struct per page (its template under
//! `templates/<resource>/`), and the functions that build it from a use case's answer. A view
//! builder only shapes data it is given — labels, links, formatting — and never fetches any:
//! the handler in [`crate::pages`] has fetched everything before it calls one.

pub mod admin;
pub mod household;
pub mod household_changes;
pub mod household_edit;
pub mod households;
pub mod imports;
pub mod regions;
pub mod rules;
pub mod sessions;
pub mod survey;

use askama::Template;
use axum::response::Html;

use crate::auth::Auth;
use crate::error::WebError;
use crate::i18n::{Lang, T};

/// What every page's layout (`templates/layouts/base.html`) needs.
pub struct Layout {
    /// Text lookups.
    pub t: T,
    /// Page title.
    pub title: String,
    /// Shown user name (empty when logged out).
    pub user_name: String,
    /// CSRF token for the logout form.
    pub csrf: String,
    /// The user may change the registry (the import link is shown).
    pub can_write: bool,
    /// The user administers accounts (the users link is shown).
    pub is_admin: bool,
    /// The user closes years and reads the access log (system or county administrator, county
    /// role): the 年度动态调整 and 访问日志 links are shown.
    pub is_county_admin: bool,
}

impl Layout {
    /// The layout of a page for a logged-in user.
    pub fn new(auth: &Auth, title: impl Into<String>) -> Layout {
        Layout {
            t: auth.t.clone(),
            title: title.into(),
            user_name: auth.user.display_name.clone(),
            csrf: auth.user.csrf_token.clone(),
            can_write: auth.user.role.can_write(),
            is_admin: auth.user.role == xiuhua_app::auth::Role::Admin,
            is_county_admin: auth.user.require_county().is_ok(),
        }
    }

    /// The layout of a page shown without a session (login, errors).
    pub fn anonymous(t: T, title: impl Into<String>) -> Layout {
        Layout {
            t,
            title: title.into(),
            user_name: String::new(),
            csrf: String::new(),
            can_write: false,
            is_admin: false,
            is_county_admin: false,
        }
    }
}

/// Renders a page; a template failure becomes the internal-error page.
pub(crate) fn render(t: &impl Template, lang: Lang) -> Result<Html<String>, WebError> {
    t.render().map(Html).map_err(|e| {
        WebError::page(
            xiuhua_app::Error::Unexpected(anyhow::anyhow!("template: {e}")),
            lang,
        )
    })
}

#[derive(Template)]
#[template(path = "errors/page.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    message: String,
}

/// Renders the error page without a session's navigation (used by `WebError`).
pub fn error_page(t: &T, status: u16, message: &str) -> String {
    error_page_in(Layout::anonymous(t.clone(), t.s("error")), status, message)
}

/// Renders the error page in a layout (a logged-in user's, with their navigation).
pub fn error_page_in(l: Layout, status: u16, message: &str) -> String {
    ErrorPage {
        l,
        status,
        message: message.into(),
    }
    .render()
    .unwrap_or_else(|_| message.to_string())
}

// ---- Local time (issue 13 defect 12): one helper for every page ----

/// A stored timestamp as China's local time, to the minute (`xiuhua_domain::display`).
pub use xiuhua_domain::display::china_minute as local_time;
