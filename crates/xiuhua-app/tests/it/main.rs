//! Service tests of the registry use cases against a real database: SQLite by default,
//! PostgreSQL when `XIUHUA_TEST_DATABASE_URL` is set.

mod audit;
mod backup;
mod catalogue;
mod demo;
mod exports;
mod import_checks;
mod import_runs;
mod imports;
mod jobs;
mod ledger_shapes;
mod privacy;
mod regions;
mod registry;
mod rules;
mod scope;
mod support;
mod survey;
mod users;
mod webimport;
mod years;
