//! In-process HTTP tests: the real router over a real database (SQLite, or PostgreSQL when
//! `XIUHUA_TEST_DATABASE_URL` is set), requests sent with `tower::ServiceExt::oneshot`.

mod admin;
mod api;
mod csrf;
mod hardening;
mod jobs;
mod openapi;
mod pages;
mod privacy;
mod request_log;
mod rules;
mod scope;
mod support;
mod tidy;
mod transfers;
mod webimport;
// Helper B (issue 13): administrator pages.
mod admin_pages;
// Household edits (issue 13).
mod edits;

// issue 13 defects 6, 8, 9, 12 (rules helper)
mod rules_pages;
