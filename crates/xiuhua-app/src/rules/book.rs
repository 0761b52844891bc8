//! The rule book: every stored rule-set version (the latest of each id is in force), filled at
//! start-up from the shipped sets and the database, and grown by county admins loading newer
//! versions.

use std::collections::BTreeMap;
use std::sync::Arc;
use xiuhua_domain::message::msg;

use serde::Serialize;
use xiuhua_rules::{LoadError, RuleSet};

use super::load_error;
use crate::{CurrentUser, Error, Result, Services};

/// Every loaded rule-set version; the latest version of each id is the one in force.
#[derive(Default)]
pub struct RuleBook {
    versions: BTreeMap<(String, i64), Arc<RuleSet>>,
    origins: BTreeMap<(String, i64), VersionInfo>,
}

/// Who loaded a version, when, and from where.
#[derive(Clone, Debug, Serialize)]
pub struct VersionInfo {
    /// Version.
    pub version: i64,
    /// `shipped` or `admin`.
    pub origin: String,
    /// Who loaded it.
    pub loaded_by: String,
    /// RFC 3339 UTC.
    pub loaded_at: String,
}

impl RuleBook {
    /// The version in force of each rule set, ordered by level, purpose and id.
    pub fn current(&self) -> Vec<Arc<RuleSet>> {
        let mut latest: BTreeMap<&str, &Arc<RuleSet>> = BTreeMap::new();
        for ((id, _), set) in &self.versions {
            latest.insert(id.as_str(), set);
        }
        let mut out: Vec<Arc<RuleSet>> = latest.into_values().cloned().collect();
        out.sort_by_key(|s| {
            (
                s.def.level.as_str(),
                s.def.purpose.as_str(),
                s.def.id.clone(),
            )
        });
        out
    }

    /// A rule set: a given version, or the one in force.
    pub fn get(&self, id: &str, version: Option<i64>) -> Option<Arc<RuleSet>> {
        match version {
            Some(v) => self.versions.get(&(id.to_string(), v)).cloned(),
            None => self
                .versions
                .range((id.to_string(), i64::MIN)..=(id.to_string(), i64::MAX))
                .next_back()
                .map(|(_, s)| s.clone()),
        }
    }

    /// The history of a rule set, oldest first.
    pub fn history(&self, id: &str) -> Vec<VersionInfo> {
        self.origins
            .range((id.to_string(), i64::MIN)..=(id.to_string(), i64::MAX))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Stores the shipped rule sets (new versions only) and loads every stored version.
pub(crate) async fn init(s: &Services) -> Result<()> {
    let shipped = xiuhua_rules::shipped().map_err(|e| Error::Unexpected(anyhow::anyhow!("{e}")))?;
    let mut conn = s.db.acquire_write().await?;
    let now = xiuhua_db::events::format_ts(s.clock.now());
    for set in &shipped {
        xiuhua_db::rules::insert_rule_set(
            &mut conn,
            &xiuhua_db::rules::RuleSetRow {
                id: set.def.id.clone(),
                version: set.def.version,
                source: set.source.clone(),
                origin: "shipped".into(),
                loaded_by: "system".into(),
                loaded_at: now.clone(),
            },
        )
        .await?;
    }
    reload(s, &mut conn).await
}

/// Rebuilds the rule book from every stored version.
async fn reload(s: &Services, conn: &mut xiuhua_db::AnyConnection) -> Result<()> {
    let mut book = RuleBook::default();
    for row in xiuhua_db::rules::list_rule_sets(conn).await? {
        match RuleSet::load(&format!("{} v{}", row.id, row.version), &row.source) {
            Ok(set) => {
                book.versions
                    .insert((row.id.clone(), row.version), Arc::new(set));
                book.origins.insert(
                    (row.id, row.version),
                    VersionInfo {
                        version: row.version,
                        origin: row.origin,
                        loaded_by: row.loaded_by,
                        loaded_at: row.loaded_at,
                    },
                );
            }
            // A stored version this build cannot compile stays on record, unused.
            Err(e) => tracing::warn!(
                "stored rule set {} v{} not loaded: {e}",
                row.id,
                row.version
            ),
        }
    }
    s.set_rules(book);
    Ok(())
}

/// Checks a rule-set file without storing it.
pub fn check(file: &str, text: &str) -> std::result::Result<RuleSet, LoadError> {
    RuleSet::load(file, text)
}

/// Loads a new version of a rule set (county admin or admin): it must check completely, apply
/// inside the user's region, and carry a version above the one in force.
pub async fn load(
    s: &Services,
    user: &CurrentUser,
    file: &str,
    text: &str,
) -> Result<Arc<RuleSet>> {
    user.require_county()?;
    let set = RuleSet::load(file, text).map_err(load_error)?;
    if !user.can_see(&set.def.region) {
        return Err(Error::Forbidden(format!(
            "rule set region {:?} lies outside the user's region",
            set.def.region
        )));
    }
    if let Some(cur) = s.rules().get(&set.def.id, None)
        && cur.def.version >= set.def.version
    {
        return Err(Error::conflict(
            "stale_rule_version",
            msg("stale_rule_version")
                .arg("id", &set.def.id)
                .arg("version", cur.def.version),
        ));
    }
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::rules::insert_rule_set(
        &mut conn,
        &xiuhua_db::rules::RuleSetRow {
            id: set.def.id.clone(),
            version: set.def.version,
            source: text.to_string(),
            origin: "admin".into(),
            loaded_by: user.username.clone(),
            loaded_at: xiuhua_db::events::format_ts(s.clock.now()),
        },
    )
    .await?;
    reload(s, &mut conn).await?;
    drop(conn);
    crate::audit::record(
        s,
        &user.username,
        crate::audit::AuditAction::LoadRules,
        &set.def.id,
        &format!("version {} from {file}", set.def.version),
        "",
    )
    .await?;
    s.rules()
        .get(&set.def.id, Some(set.def.version))
        .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("rule set vanished after loading")))
}
