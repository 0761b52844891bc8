//! Showing a household to a person: the registry read plus the access-log entry that every view
//! with full identity numbers leaves (who, which household, page or API, from where).

use chrono::NaiveDate;

use crate::audit::{self, AuditAction};
use crate::registry::{self, HouseholdView};
use crate::{CurrentUser, Result, Services};

/// Where a household is shown (goes into the access log's detail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The household page.
    Page,
    /// `GET /api/v1/households/{id}`.
    Api,
}

/// Reads a household (as of a date, or now) for showing it, and records the view in the access
/// log when it carries full identity numbers. `client` is the client's address, when known.
pub async fn view_household(
    s: &Services,
    user: &CurrentUser,
    id: i64,
    as_of: Option<NaiveDate>,
    channel: Channel,
    client: &str,
) -> Result<HouseholdView> {
    let v = registry::household(s, user, id, as_of).await?;
    if v.full_personal_data {
        let detail = match channel {
            Channel::Page => format!(
                "page{}",
                as_of.map(|d| format!(" as_of={d}")).unwrap_or_default()
            ),
            Channel::Api => "api".to_string(),
        };
        audit::record(
            s,
            &user.username,
            AuditAction::ViewPersonal,
            &id.to_string(),
            &detail,
            client,
        )
        .await?;
    }
    Ok(v)
}
