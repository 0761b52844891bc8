//! The error type the edges (web, CLI) see: what went wrong in terms a person can act on.

use xiuhua_domain::FieldError;
use xiuhua_domain::message::{Message, msg};

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing does not exist, or lies outside the user's region (we do not say which).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// Not allowed for this user's role.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Not allowed for this user, with a message saying why (a right the user lacks).
    #[error("{}", message.en())]
    Refused {
        /// Stable code, e.g. `id_search_forbidden`.
        code: &'static str,
        /// The message.
        message: Message,
    },
    /// Too many requests of one kind in a short time (e.g. lookups by identity number).
    #[error("{}", message.en())]
    RateLimited {
        /// The message.
        message: Message,
    },
    /// Login failed (wrong name or password, or inactive account).
    #[error("invalid user name or password")]
    BadCredentials,
    /// Too many failed logins: the account is locked for a while.
    #[error("too many failed logins: try again in {minutes} minutes")]
    Locked {
        /// Minutes until it opens again.
        minutes: i64,
    },
    /// Input is invalid; every problem is listed.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The write conflicts with stored data (duplicate id number, stale version, closed year).
    #[error("{}", message.en())]
    Conflict {
        /// Stable code, e.g. `id_number_taken`, `stale_version`, `closed_year`.
        code: &'static str,
        /// The message: a key of the message catalogue and its arguments (rendered where a
        /// person reads it).
        message: Message,
        /// Machine-readable details (for `stale_version`: both versions, see
        /// `registry::write_event`).
        details: Option<serde_json::Value>,
    },
    /// Anything unexpected (database down, corrupt row); logged, shown generically.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Error {
    /// A conflict error; its texts come from the message catalogue.
    pub fn conflict(code: &'static str, message: Message) -> Error {
        Error::Conflict {
            code,
            message,
            details: None,
        }
    }

    /// A single-field validation error.
    pub fn invalid(record: &str, field: &str, code: &'static str, message: Message) -> Error {
        Error::Invalid(vec![FieldError::new(record, field, code, message)])
    }

    /// The message of an error, for rendering where a person reads it.
    pub fn message(&self) -> Message {
        match self {
            Error::NotFound { .. } => msg("not_found"),
            Error::Forbidden(_) => msg("forbidden"),
            Error::Refused { message, .. } | Error::RateLimited { message } => message.clone(),
            Error::BadCredentials => msg("bad_credentials"),
            Error::Locked { minutes } => msg("locked").arg("minutes", minutes),
            Error::Invalid(errs) => msg("invalid").arg(
                "problems",
                errs.iter()
                    .map(|e| {
                        if e.record.is_empty() {
                            // A request-level problem: the message says it all.
                            e.message_zh()
                        } else {
                            format!("{}：{}：{}", e.record, e.field, e.message_zh())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
            Error::Conflict { message, .. } => message.clone(),
            Error::Unexpected(_) => msg("internal"),
        }
    }

    /// Chinese text for people.
    pub fn message_zh(&self) -> String {
        self.message().zh()
    }
}

impl From<xiuhua_db::Error> for Error {
    fn from(e: xiuhua_db::Error) -> Error {
        match e {
            xiuhua_db::Error::NotFound => Error::NotFound {
                what: "record".into(),
            },
            xiuhua_db::Error::Conflict { detail } => {
                Error::conflict("constraint", msg("constraint").arg("detail", detail))
            }
            other => Error::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
