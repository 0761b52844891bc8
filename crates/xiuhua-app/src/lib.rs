//! Use cases shared by the web UI and the CLI: the registry (write path, "as of" reads,
//! region counts, closed years), regions and code lists, users and sessions, and the demo
//! county generator.
//!
//! **Invariant:** the CLI and the web call the same functions here; authorisation (role and
//! region scope) is checked here, so a handler cannot forget it.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod check;
pub mod clock;
pub mod codes;
pub mod demo;
pub mod departments;
pub mod error;
pub mod exports;
pub mod household_views;
pub mod imports;
pub mod jobs;
pub mod list_export;
pub mod regions;
pub mod registry;
pub mod rules;
pub mod setup;
pub mod survey;
pub mod tx_task;
pub mod users;

use std::sync::{Arc, RwLock};

use xiuhua_db::Db;
use xiuhua_domain::CodeCatalog;

pub use auth::{CurrentUser, Role};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, Result};

/// Everything a use case needs: the database, the clock and the loaded code lists.
#[derive(Clone)]
pub struct Services {
    /// The database.
    pub db: Db,
    /// The source of "now".
    pub clock: Arc<dyn Clock>,
    codes: Arc<RwLock<CodeCatalog>>,
    rules: Arc<RwLock<Arc<rules::RuleBook>>>,
    jobs: jobs::Live,
}

impl Services {
    /// Builds the services over an open (migrated) database: undoes imports left unfinished,
    /// makes sure the shipped code lists are stored, then loads the catalog.
    pub async fn new(db: Db, clock: Arc<dyn Clock>) -> Result<Services> {
        let s = Services {
            db,
            clock,
            codes: Arc::new(RwLock::new(CodeCatalog::default())),
            rules: Arc::default(),
            jobs: jobs::Live::default(),
        };
        // An import the last process left half-written is taken back before anything else.
        imports::undo_unfinished(&s).await?;
        codes::ensure_defaults(&s).await?;
        rules::init(&s).await?;
        Ok(s)
    }

    /// The current code catalog.
    pub fn codes(&self) -> CodeCatalog {
        self.codes.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// The rule sets loaded (every version; the latest of each is in force).
    pub fn rules(&self) -> Arc<rules::RuleBook> {
        self.rules
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_default()
    }

    /// Replaces the loaded rule sets.
    fn set_rules(&self, book: rules::RuleBook) {
        if let Ok(mut w) = self.rules.write() {
            *w = Arc::new(book);
        }
    }

    /// Replaces the cached catalog (after an import).
    fn set_codes(&self, c: CodeCatalog) {
        if let Ok(mut w) = self.codes.write() {
            *w = c;
        }
    }
}
