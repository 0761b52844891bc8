//! The error type the edges (web, CLI) see: what went wrong in terms a person can act on.

use xiuhua_domain::FieldError;

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
    #[error("{message_en}")]
    Conflict {
        /// Stable code, e.g. `id_number_taken`, `stale_version`, `closed_year`.
        code: &'static str,
        /// Chinese message for the UI.
        message_zh: String,
        /// English message for logs and the CLI.
        message_en: String,
        /// Machine-readable details (for `stale_version`: both versions, see
        /// `registry::write_event`).
        details: Option<serde_json::Value>,
    },
    /// Anything unexpected (database down, corrupt row); logged, shown generically.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Error {
    /// A conflict error.
    pub fn conflict(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Conflict {
            code,
            message_zh: zh.into(),
            message_en: en.into(),
            details: None,
        }
    }

    /// A single-field validation error.
    pub fn invalid(
        record: &str,
        field: &str,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Error {
        Error::Invalid(vec![FieldError::new(
            record,
            field,
            code,
            zh.into(),
            en.into(),
        )])
    }

    /// Chinese text for people.
    pub fn message_zh(&self) -> String {
        match self {
            Error::NotFound { .. } => "未找到，或不在您的管辖范围内".into(),
            Error::Forbidden(_) => "您没有执行此操作的权限".into(),
            Error::BadCredentials => "用户名或密码错误".into(),
            Error::Locked { minutes } => {
                format!("连续登录失败次数过多，账户已临时锁定，请 {minutes} 分钟后再试")
            }
            Error::Invalid(errs) => errs
                .iter()
                .map(|e| format!("{}：{}：{}", e.record, e.field, e.message_zh))
                .collect::<Vec<_>>()
                .join("；"),
            Error::Conflict { message_zh, .. } => message_zh.clone(),
            Error::Unexpected(_) => "系统内部错误，请联系管理员".into(),
        }
    }
}

impl From<xiuhua_db::Error> for Error {
    fn from(e: xiuhua_db::Error) -> Error {
        match e {
            xiuhua_db::Error::NotFound => Error::NotFound {
                what: "record".into(),
            },
            xiuhua_db::Error::Conflict { detail } => Error::conflict(
                "constraint",
                format!("数据冲突：{detail}"),
                format!("conflict: {detail}"),
            ),
            other => Error::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
