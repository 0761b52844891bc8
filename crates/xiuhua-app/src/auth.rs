//! Users, roles, region scope, passwords (argon2id) and sessions.
//!
//! A [`CurrentUser`] carries the region it may see; every registry function takes one and
//! narrows its query to that region, so no caller can read or write outside it.

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::Duration;
use rand::RngCore;
use sha2::{Digest, Sha256};
use xiuhua_db::events::format_ts;
use xiuhua_db::users::{SessionRow, UserRow};
use xiuhua_domain::message::msg;

use crate::{Error, Result, Services};

/// What a user may do. Region scope is separate (`region_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// 系统管理员: everything, including users and closing years.
    Admin,
    /// 县级 (乡村振兴局): read and write in the county, close years.
    County,
    /// 乡镇 operator: read and write in the township.
    Township,
    /// 村 operator / 驻村工作队: read and write in the village.
    Village,
    /// 帮扶干部: read in their region.
    Cadre,
    /// 领导/只读: read only.
    Viewer,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::County,
        Role::Township,
        Role::Village,
        Role::Cadre,
        Role::Viewer,
    ];

    /// Storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::County => "county",
            Role::Township => "township",
            Role::Village => "village",
            Role::Cadre => "cadre",
            Role::Viewer => "viewer",
        }
    }

    /// Parses the storage form.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::County => "县级业务人员",
            Role::Township => "乡镇业务人员",
            Role::Village => "村级业务人员",
            Role::Cadre => "帮扶干部",
            Role::Viewer => "只读用户",
        }
    }

    /// Whether the role may change registry data.
    pub fn can_write(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::County | Role::Township | Role::Village
        )
    }

    /// Whether the role may correct (更正) data of a closed year: county-level writing roles
    /// only (系统管理员, 县级业务人员). A closed year's figures were reported upwards; a
    /// township or village operator asks the county to correct them.
    pub fn may_correct_closed_year(self) -> bool {
        matches!(self, Role::Admin | Role::County)
    }

    /// Whether the role may see full identity numbers and phone numbers.
    pub fn sees_personal_data(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::County | Role::Township | Role::Village
        )
    }
}

/// The logged-in user, with the region they may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentUser {
    /// User id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Region code of the user's scope (everything inside it is visible).
    pub region_code: String,
    /// CSRF token of the session (empty outside a web session).
    pub csrf_token: String,
}

impl CurrentUser {
    /// Whether a region (or a household's village code) lies inside the user's scope.
    pub fn can_see(&self, code: &str) -> bool {
        code.starts_with(&self.region_code)
            || (self.role == Role::Admin && self.region_code.is_empty())
    }

    /// The region to query when the user asks for `requested`: the request itself if it lies
    /// inside the scope, the scope when the request is empty, otherwise `NotFound` (we do not
    /// reveal whether an outside region exists).
    pub fn narrow(&self, requested: Option<&str>) -> Result<String> {
        match requested.map(str::trim).filter(|r| !r.is_empty()) {
            None => Ok(self.region_code.clone()),
            Some(r) if self.can_see(r) => Ok(r.to_string()),
            Some(r) if r.len() < self.region_code.len() && self.region_code.starts_with(r) => {
                Ok(self.region_code.clone())
            }
            Some(r) => Err(Error::NotFound {
                what: format!("region {r}"),
            }),
        }
    }

    /// Refuses unless the role may write.
    pub fn require_write(&self) -> Result<()> {
        if self.role.can_write() {
            Ok(())
        } else {
            Err(Error::Forbidden("read-only role".into()))
        }
    }

    /// Refuses unless the role is admin or county.
    pub fn require_county(&self) -> Result<()> {
        if matches!(self.role, Role::Admin | Role::County) {
            Ok(())
        } else {
            Err(Error::Forbidden("county role required".into()))
        }
    }

    /// The built-in identity used by CLI commands run on the server itself.
    pub fn system() -> CurrentUser {
        CurrentUser {
            id: 0,
            username: "system".into(),
            display_name: "系统".into(),
            role: Role::Admin,
            region_code: String::new(),
            csrf_token: String::new(),
        }
    }

    fn from_row(u: &UserRow, csrf: String) -> Result<CurrentUser> {
        Ok(CurrentUser {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: Role::parse(&u.role).with_context(|| format!("unknown role {:?}", u.role))?,
            region_code: u.region_code.clone(),
            csrf_token: csrf,
        })
    }
}

/// Hashes a password with argon2id (random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Checks a password against a stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// The shortest password accepted (characters).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// The shipped list of common passwords (lower case, one per line, `#` comments).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Whether a password is on the shipped list of common ones (case-insensitive).
pub fn is_common_password(password: &str) -> bool {
    static LIST: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
        std::sync::LazyLock::new(|| {
            COMMON_PASSWORDS
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect()
        });
    LIST.contains(password.to_lowercase().as_str())
}

/// Password policy, wherever a password is set: at least [`MIN_PASSWORD_CHARS`] characters, of
/// at least two classes (lower-case letters, upper-case letters, digits, anything else), not on
/// the list of common passwords, and neither containing the user name nor the user name
/// reversed (case-insensitive; names of three characters or more). The first rule broken is the
/// message.
pub fn check_password_policy(username: &str, password: &str) -> Result<()> {
    let weak = |code: &'static str, m: xiuhua_domain::message::Message| {
        Err(Error::invalid("用户", "password", code, m))
    };
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return weak(
            "password_too_short",
            msg("password_too_short").arg("min", MIN_PASSWORD_CHARS),
        );
    }
    let classes = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password
            .chars()
            .any(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit()),
    ];
    if classes.iter().filter(|x| **x).count() < 2 {
        return weak("password_one_class", msg("password_one_class"));
    }
    if is_common_password(password) {
        return weak("password_common", msg("password_common"));
    }
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 {
        let lower = password.to_lowercase();
        let reversed: String = name.chars().rev().collect();
        if lower.contains(&name) || lower.contains(&reversed) {
            return weak("password_like_username", msg("password_like_username"));
        }
    }
    Ok(())
}

/// A random token (32 bytes, hex) from the operating system's CSPRNG.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A readable random password for first-run accounts (letters and digits, 15 characters) that
/// satisfies [`check_password_policy`].
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    loop {
        let mut b = [0u8; 14];
        rand::rng().fill_bytes(&mut b);
        let mut s: String = b
            .iter()
            .map(|x| char::from(ALPHABET[usize::from(*x) % ALPHABET.len()]))
            .collect();
        s.push('7');
        if check_password_policy("admin", &s).is_ok() {
            return s;
        }
    }
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A new user's details.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Password (checked against the policy).
    pub password: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Region scope.
    pub region_code: String,
}

/// Creates a user.
pub async fn create_user(s: &Services, by: &CurrentUser, new: NewUser) -> Result<i64> {
    crate::users::check_grant(by, new.role, &new.region_code)?;
    if new.username.trim().is_empty() || new.username.chars().any(char::is_whitespace) {
        return Err(Error::invalid(
            "用户",
            "username",
            "bad_username",
            msg("bad_username"),
        ));
    }
    check_password_policy(&new.username, &new.password)?;
    let hash = hash_password(&new.password)?;
    let mut tx = s.db.begin().await?;
    let id = xiuhua_db::users::next_id(&mut tx).await?;
    let row = UserRow {
        id,
        username: new.username.clone(),
        password_hash: hash,
        display_name: new.display_name,
        role: new.role.as_str().into(),
        region_code: new.region_code,
        is_active: 1,
        created_at: format_ts(s.clock.now()),
    };
    xiuhua_db::users::insert(&mut tx, &row)
        .await
        .map_err(|e| match e {
            xiuhua_db::Error::Conflict { .. } => Error::conflict(
                "username_taken",
                msg("username_taken").arg("username", &new.username),
            ),
            other => other.into(),
        })?;
    xiuhua_db::commit(tx).await?;
    Ok(id)
}

/// On first run (no users yet) creates `admin` with a random password and returns it.
pub async fn ensure_admin(s: &Services) -> Result<Option<String>> {
    let mut conn = s.db.acquire().await?;
    if xiuhua_db::users::count(&mut conn).await? > 0 {
        return Ok(None);
    }
    drop(conn);
    let password = random_password();
    let new = NewUser {
        username: "admin".into(),
        password: password.clone(),
        display_name: "系统管理员".into(),
        role: Role::Admin,
        region_code: String::new(),
    };
    create_user(s, &CurrentUser::system(), new).await?;
    Ok(Some(password))
}

/// Sets a user's password by login name (CLI `xiuhua reset-password`): the same use case as the
/// administrator's page ([`crate::users::reset_password`]: sessions end, the access log records
/// it), done by the system user.
pub async fn reset_password(s: &Services, username: &str, password: &str) -> Result<()> {
    check_password_policy(username, password)?;
    let mut conn = s.db.acquire().await?;
    let u = xiuhua_db::users::find_by_username(&mut conn, username)
        .await?
        .ok_or_else(|| Error::NotFound {
            what: format!("user {username}"),
        })?;
    drop(conn);
    crate::users::reset_password(s, &CurrentUser::system(), u.id, password, "cli").await
}

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// Checks credentials and opens a session. Returns the cookie token and the user.
pub async fn login(
    s: &Services,
    username: &str,
    password: &str,
    client: &str,
) -> Result<(String, CurrentUser)> {
    let username = username.trim();
    // After repeated failures from this address the account is locked here for a while, even
    // for the right password; other addresses are not affected.
    if let Some(minutes) = crate::audit::locked_for(s, username, client).await? {
        crate::audit::record(
            s,
            username,
            crate::audit::AuditAction::LoginLocked,
            username,
            "",
            client,
        )
        .await?;
        return Err(crate::audit::locked(minutes));
    }
    let mut conn = s.db.acquire().await?;
    let row = xiuhua_db::users::find_by_username(&mut conn, username).await?;
    drop(conn);
    let Some(row) = row.filter(|u| u.is_active == 1) else {
        // Hash anyway so that unknown names take as long as wrong passwords.
        let _ = verify_password(
            password,
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        );
        crate::audit::login_failed(s, username, client).await?;
        return Err(Error::BadCredentials);
    };
    if !verify_password(password, &row.password_hash) {
        crate::audit::login_failed(s, username, client).await?;
        return Err(Error::BadCredentials);
    }
    crate::audit::login_succeeded(s, username, client).await?;
    let mut conn = s.db.acquire_write().await?;
    let token = random_token();
    let csrf = random_token();
    let now = s.clock.now();
    xiuhua_db::users::purge_sessions(&mut conn, &format_ts(now)).await?;
    xiuhua_db::users::insert_session(
        &mut conn,
        &SessionRow {
            token_hash: sha256_hex(&token),
            user_id: row.id,
            csrf_token: csrf.clone(),
            created_at: format_ts(now),
            expires_at: format_ts(now + Duration::hours(SESSION_HOURS)),
        },
    )
    .await?;
    Ok((token, CurrentUser::from_row(&row, csrf)?))
}

/// The user of a live session.
pub async fn session_user(s: &Services, token: &str) -> Result<Option<CurrentUser>> {
    let mut conn = s.db.acquire().await?;
    let found =
        xiuhua_db::users::find_session(&mut conn, &sha256_hex(token), &format_ts(s.clock.now()))
            .await?;
    found
        .map(|(sess, u)| CurrentUser::from_row(&u, sess.csrf_token))
        .transpose()
}

/// Ends a session.
pub async fn logout(s: &Services, token: &str) -> Result<()> {
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::users::delete_session(&mut conn, &sha256_hex(token)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(region: &str) -> CurrentUser {
        CurrentUser {
            region_code: region.into(),
            role: Role::Township,
            ..CurrentUser::system()
        }
    }

    #[test]
    fn narrow_keeps_users_inside_their_region() {
        let u = user("451228101");
        assert_eq!(u.narrow(None).unwrap(), "451228101");
        assert_eq!(u.narrow(Some("451228101201")).unwrap(), "451228101201");
        assert_eq!(u.narrow(Some("451228")).unwrap(), "451228101");
        assert!(matches!(
            u.narrow(Some("451228102")),
            Err(Error::NotFound { .. })
        ));
        assert!(!u.can_see("451228102201"));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("abc12345").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("abc12345", &h));
        assert!(!verify_password("abc12346", &h));
        assert!(check_password_policy("admin", &random_password()).is_ok());
    }

    #[test]
    fn the_password_policy_refuses_weak_passwords() {
        let code = |user: &str, pw: &str| match check_password_policy(user, pw) {
            Ok(()) => "ok",
            Err(Error::Invalid(errs)) => errs[0].code,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(code("li", "Xk3-short"), "password_too_short");
        assert_eq!(code("li", "abcdefghijkl"), "password_one_class");
        assert_eq!(code("li", "1234567890123"), "password_one_class");
        for common in [
            "Password1",
            "password123",
            "abcd1234",
            "ABCD1234",
            "woaini1314",
            "1qaz2wsx3edc",
            "Qwerty123!",
            "zhangwei2024",
        ] {
            let want = if common.chars().count() < MIN_PASSWORD_CHARS {
                "password_too_short"
            } else {
                "password_common"
            };
            assert_eq!(code("li", common), want, "{common}");
        }
        assert!(is_common_password("Password1"));
        assert!(is_common_password("abcd1234"));
        assert_eq!(code("gaoling", "Gaoling-2026"), "password_like_username");
        assert_eq!(code("gaoling", "x-GNILOAG-2026"), "password_like_username");
        assert_eq!(code("Gaoling", "gaoling2026x"), "password_like_username");
        assert_eq!(code("gaoling", "Test-pass-2026"), "ok");
        assert_eq!(code("li", "Li-Test-2026"), "ok");
        assert_eq!(code("li", "扶贫工作认真负责2026"), "ok");
    }
}
