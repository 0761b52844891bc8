//! The access log (who logged in, saw full personal data, exported, loaded rules — when, from
//! where, why) and the temporary lockout after repeated failed logins. Registry *changes* are in
//! the event log; this is everything else that must be answerable later.
//!
//! **Lockout.** Failures count per account *and client address*: a stranger's wrong passwords
//! lock that account only from the stranger's address, never the account itself (an attacker
//! cannot lock the system administrator out). From [`LOCK_AFTER`] failures within
//! [`FAILURE_MEMORY_HOURS`] the address waits [`LOCK_MINUTES`] after its last failure, twice as
//! long after each further one, at most [`LOCK_MAX_MINUTES`]. A successful login forgets that
//! address's failures; an administrator can forget all of an account's ([`unlock`]).

use chrono::Duration;
use xiuhua_db::audit::{AccessFilter, AccessRow};
use xiuhua_db::events::format_ts;

use crate::{CurrentUser, Error, Result, Services};

/// Failed logins of one account from one address that lock it there.
pub const LOCK_AFTER: usize = 5;
/// How long the first lock lasts (minutes after the last failure); each further failure doubles it.
pub const LOCK_MINUTES: i64 = 15;
/// The longest lock (minutes).
pub const LOCK_MAX_MINUTES: i64 = 240;
/// How long failures are remembered (hours).
pub const FAILURE_MEMORY_HOURS: i64 = 24;

/// What an access-log entry records. Stored as its stable snake_case name ([`AuditAction::as_str`]),
/// which is what `xiuhua audit` prints and filters on: renaming a variant's string would orphan the
/// stored rows, so add variants and never change the strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A successful login.
    Login,
    /// A failed login (wrong password or unknown name).
    LoginFailed,
    /// A login refused while the account is locked.
    LoginLocked,
    /// A household shown with full identity numbers (page or API).
    ViewPersonal,
    /// A registry ledger export.
    ExportRegistry,
    /// A household-list export.
    ExportList,
    /// A rule-set version loaded.
    LoadRules,
    /// A backup written.
    Backup,
    /// A department pushed a data file.
    DepartmentPush,
    /// An account created.
    UserCreate,
    /// An account's name, role, region or active flag changed.
    UserUpdate,
    /// An administrator set an account's password.
    PasswordReset,
    /// A user changed their own password.
    PasswordChange,
    /// A department token created.
    TokenCreate,
    /// A department token revoked.
    TokenRevoke,
    /// A household search by full identity number (target: the number searched).
    SearchIdNumber,
    /// A search by identity number refused to a user who may not see full numbers.
    SearchIdNumberRefused,
    /// An administrator lifted an account's login lockout.
    LoginUnlock,
    /// The access log exported as a workbook (from its page).
    ExportAudit,
    // ---- issue 13 defects 6, 8 (rules helper) ----
    /// A page of the household list shown with full identity numbers, asked for explicitly
    /// (target: the region; detail: the households on the page).
    ViewPersonalList,
    /// A stored rule run's households exported (target: the run).
    ExportRuleResults,
    // ---- issue 14 part 3 (webimport helper) ----
    /// A county's ledger column names saved (target: the county; detail: header→field).
    ImportMappingSave,
    /// A saved ledger column name deleted (target: the county; detail: the header).
    ImportMappingDelete,
}

impl AuditAction {
    /// Every action, in the order above.
    pub const ALL: &[AuditAction] = &[
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::LoginLocked,
        AuditAction::ViewPersonal,
        AuditAction::ExportRegistry,
        AuditAction::ExportList,
        AuditAction::LoadRules,
        AuditAction::Backup,
        AuditAction::DepartmentPush,
        AuditAction::UserCreate,
        AuditAction::UserUpdate,
        AuditAction::PasswordReset,
        AuditAction::PasswordChange,
        AuditAction::TokenCreate,
        AuditAction::TokenRevoke,
        AuditAction::SearchIdNumber,
        AuditAction::SearchIdNumberRefused,
        AuditAction::LoginUnlock,
        AuditAction::ExportAudit,
        AuditAction::ViewPersonalList,
        AuditAction::ExportRuleResults,
        AuditAction::ImportMappingSave,
        AuditAction::ImportMappingDelete,
    ];

    /// The stored name (`access_log.action`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::LoginLocked => "login_locked",
            AuditAction::ViewPersonal => "view_personal",
            AuditAction::ExportRegistry => "export_registry",
            AuditAction::ExportList => "export_list",
            AuditAction::LoadRules => "load_rules",
            AuditAction::Backup => "backup",
            AuditAction::DepartmentPush => "department_push",
            AuditAction::UserCreate => "user_create",
            AuditAction::UserUpdate => "user_update",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::PasswordChange => "password_change",
            AuditAction::TokenCreate => "token_create",
            AuditAction::TokenRevoke => "token_revoke",
            AuditAction::SearchIdNumber => "search_id_number",
            AuditAction::SearchIdNumberRefused => "search_id_number_refused",
            AuditAction::LoginUnlock => "login_unlock",
            AuditAction::ExportAudit => "export_audit",
            AuditAction::ViewPersonalList => "view_personal_list",
            AuditAction::ExportRuleResults => "export_rule_results",
            AuditAction::ImportMappingSave => "import_mapping_save",
            AuditAction::ImportMappingDelete => "import_mapping_delete",
        }
    }

    /// The action's name for people: (Chinese, English).
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            AuditAction::Login => ("登录", "log in"),
            AuditAction::LoginFailed => ("登录失败", "failed login"),
            AuditAction::LoginLocked => ("锁定中拒绝登录", "login refused while locked"),
            AuditAction::ViewPersonal => ("查看完整个人信息", "viewed full personal data"),
            AuditAction::ExportRegistry => ("导出台账", "registry export"),
            AuditAction::ExportList => ("导出农户列表", "household list export"),
            AuditAction::LoadRules => ("加载政策标准", "rule set loaded"),
            AuditAction::Backup => ("备份", "backup"),
            AuditAction::DepartmentPush => ("部门推送数据", "department push"),
            AuditAction::UserCreate => ("新建账号", "account created"),
            AuditAction::UserUpdate => ("修改账号", "account changed"),
            AuditAction::PasswordReset => ("重置密码", "password reset"),
            AuditAction::PasswordChange => ("修改本人密码", "own password changed"),
            AuditAction::TokenCreate => ("新建接口令牌", "token created"),
            AuditAction::TokenRevoke => ("吊销接口令牌", "token revoked"),
            AuditAction::SearchIdNumber => ("按身份证号查询", "search by ID number"),
            AuditAction::SearchIdNumberRefused => {
                ("按身份证号查询被拒绝", "search by ID number refused")
            }
            AuditAction::LoginUnlock => ("解除登录锁定", "login lock lifted"),
            AuditAction::ExportAudit => ("导出访问日志", "access log export"),
            AuditAction::ViewPersonalList => ("查看完整身份证号列表", "list with full ID numbers"),
            AuditAction::ExportRuleResults => ("导出规则运行结果", "rule results export"),
            AuditAction::ImportMappingSave => ("保存列名对照", "column names saved"),
            AuditAction::ImportMappingDelete => ("删除列名对照", "column name deleted"),
        }
    }

    /// The Chinese name of a stored action (the stored name itself if it is unknown).
    pub fn label_zh_of(stored: &str) -> String {
        AuditAction::parse(stored).map_or_else(|| stored.to_string(), |a| a.labels().0.to_string())
    }

    /// The action with this stored name.
    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Appends an access-log entry. Only use cases in this crate record entries (a tidy test in
/// `xiuhua-web` checks that no handler does).
pub(crate) async fn record(
    s: &Services,
    username: &str,
    action: AuditAction,
    target: &str,
    detail: &str,
    client: &str,
) -> Result<()> {
    // One autocommitted INSERT per entry (entries are written on every view of a household with
    // full identity numbers, so no id-sequence round trip): the id is the time in microseconds
    // with 10 random bits, retried on the rare collision.
    let now = s.clock.now();
    let mut row = AccessRow {
        id: 0,
        at: format_ts(now),
        username: username.to_string(),
        action: action.as_str().to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
        client: client.to_string(),
    };
    // Through the write gate (`xiuhua_db::Db`): an import's chunks cannot starve it.
    let mut conn = s.db.acquire_write().await?;
    let mut attempts = 0;
    loop {
        row.id = now.timestamp_micros().max(0) * 1024 + i64::from(rand::random::<u16>() % 1024);
        match xiuhua_db::audit::insert_access(&mut conn, &row).await {
            Err(xiuhua_db::Error::Conflict { .. }) if attempts < 8 => attempts += 1,
            other => return Ok(other?),
        }
    }
}

/// How many entries of `action` by `username` the log holds since `since`, counting at most
/// `cap` (enough to compare with a limit).
pub(crate) async fn count_recent(
    s: &Services,
    username: &str,
    action: AuditAction,
    since: chrono::DateTime<chrono::Utc>,
    cap: usize,
) -> Result<usize> {
    let mut conn = s.db.acquire().await?;
    let rows = xiuhua_db::audit::search_access(
        &mut conn,
        &AccessFilter {
            username: Some(username.to_string()),
            action: Some(action.as_str().to_string()),
            since: Some(format_ts(since)),
            limit: cap as i64,
            ..AccessFilter::default()
        },
    )
    .await?;
    Ok(rows.len())
}

/// How long `failures` failures lock an address (minutes after the last), if they do.
pub fn lock_minutes(failures: usize) -> Option<i64> {
    let extra = u32::try_from(failures.checked_sub(LOCK_AFTER)?).unwrap_or(u32::MAX);
    Some(
        LOCK_MINUTES
            .saturating_mul(2i64.saturating_pow(extra.min(32)))
            .min(LOCK_MAX_MINUTES),
    )
}

/// Minutes until an account opens again for logins from `client`, or `None` if it is open.
pub(crate) async fn locked_for(s: &Services, username: &str, client: &str) -> Result<Option<i64>> {
    let now = s.clock.now();
    let since = format_ts(now - Duration::hours(FAILURE_MEMORY_HOURS));
    let mut conn = s.db.acquire().await?;
    let failures =
        xiuhua_db::audit::login_failures_since(&mut conn, username, client, &since).await?;
    let Some(minutes) = lock_minutes(failures.len()) else {
        return Ok(None);
    };
    let last = failures
        .last()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or(now);
    let open = last + Duration::minutes(minutes);
    if open <= now {
        return Ok(None);
    }
    Ok(Some(
        ((open - now).num_seconds() + 59).div_euclid(60).max(1),
    ))
}

/// Records a failed login (for the lockout and the log).
pub(crate) async fn login_failed(s: &Services, username: &str, client: &str) -> Result<()> {
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::audit::insert_login_failure(&mut conn, username, &format_ts(s.clock.now()), client)
        .await?;
    drop(conn);
    record(s, username, AuditAction::LoginFailed, username, "", client).await
}

/// Forgets the failures from the address of a successful login.
pub(crate) async fn login_succeeded(s: &Services, username: &str, client: &str) -> Result<()> {
    let mut conn = s.db.acquire_write().await?;
    xiuhua_db::audit::clear_login_failures(&mut conn, username, Some(client)).await?;
    drop(conn);
    record(s, username, AuditAction::Login, username, "", client).await
}

/// Addresses that failed to log in to an account lately, with their failures and, when locked,
/// the minutes left: what the administrator's user page shows.
pub async fn lockouts(
    s: &Services,
    by: &CurrentUser,
    user_id: i64,
) -> Result<Vec<(String, i64, Option<i64>)>> {
    let u = crate::users::get(s, by, user_id).await?;
    let since = format_ts(s.clock.now() - Duration::hours(FAILURE_MEMORY_HOURS));
    let mut conn = s.db.acquire().await?;
    let sources = xiuhua_db::audit::login_failure_sources(&mut conn, &u.username, &since).await?;
    drop(conn);
    let mut out = Vec::with_capacity(sources.len());
    for (client, n) in sources {
        let left = locked_for(s, &u.username, &client).await?;
        out.push((client, n, left));
    }
    Ok(out)
}

/// Lifts every lockout of an account (an administrator, or whoever manages the account): its
/// remembered failures from all addresses are forgotten, and the access log says who did it.
/// Returns how many failures were forgotten.
pub async fn unlock(s: &Services, by: &CurrentUser, user_id: i64, client: &str) -> Result<u64> {
    let u = crate::users::get(s, by, user_id).await?;
    let mut conn = s.db.acquire_write().await?;
    let n = xiuhua_db::audit::clear_login_failures(&mut conn, &u.username, None).await?;
    drop(conn);
    record(
        s,
        &by.username,
        AuditAction::LoginUnlock,
        &u.username,
        &format!("failures={n}"),
        client,
    )
    .await?;
    Ok(n)
}

/// Searches the access log (county administrators and administrators only).
pub async fn search(s: &Services, user: &CurrentUser, f: &AccessFilter) -> Result<Vec<AccessRow>> {
    user.require_county()?;
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::audit::search_access(&mut conn, f).await?)
}

/// Entries per page of the access-log page.
pub const PAGE_SIZE: i64 = 50;
/// The most entries one export of the access log holds.
pub const EXPORT_MAX: i64 = 100_000;

/// What the access-log page asks for (all filters optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The account (user name).
    pub username: Option<String>,
    /// A household: its id or its 户编号.
    pub household: Option<String>,
    /// The stored action name (`login`, `view_personal` …).
    pub action: Option<String>,
    /// From this day (China time, inclusive).
    pub since: Option<chrono::NaiveDate>,
    /// To this day (China time, inclusive).
    pub until: Option<chrono::NaiveDate>,
    /// Page number from 0.
    pub page: i64,
}

/// One page of the access log with what the page shows beside it.
#[derive(Clone, Debug)]
pub struct AuditPage {
    /// The entries, newest first.
    pub rows: Vec<AccessRow>,
    /// Whether more entries follow.
    pub has_more: bool,
    /// The accounts the reader may filter by, (user name, shown name), by user name; also the
    /// names shown for the entries.
    pub users: Vec<(String, String)>,
}

/// Start of a China-time day, as a stored (UTC) time.
fn china_day_start(d: chrono::NaiveDate) -> String {
    let start = d.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8);
    format_ts(start.and_utc())
}

/// The stored filter and scope of a query: the household's id when it was given by number;
/// for readers with a region, only entries of their region's accounts and targets.
async fn filter_of(
    s: &Services,
    user: &CurrentUser,
    q: &AuditQuery,
    limit: i64,
) -> Result<(AccessFilter, Option<String>)> {
    let target = match q
        .household
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        None => None,
        Some(h) => {
            let county = h.get(..6).unwrap_or(h);
            let mut conn = s.db.acquire().await?;
            Some(
                match xiuhua_db::households::find_by_no(&mut conn, county, h).await? {
                    Some(found) if user.can_see(&found.village_code) => found.id.to_string(),
                    _ => h.to_string(),
                },
            )
        }
    };
    let f = AccessFilter {
        username: q.username.clone().filter(|u| !u.trim().is_empty()),
        target,
        action: q.action.clone().filter(|a| !a.trim().is_empty()),
        since: q.since.map(china_day_start),
        until: q.until.and_then(|d| d.succ_opt()).map(china_day_start),
        limit,
    };
    let within = (!user.region_code.is_empty()).then(|| user.region_code.clone());
    Ok((f, within))
}

/// The accounts a reader of the access log sees: inside their region (all for an unscoped
/// administrator), as (user name, shown name).
async fn readable_users(s: &Services, user: &CurrentUser) -> Result<Vec<(String, String)>> {
    let mut conn = s.db.acquire().await?;
    Ok(xiuhua_db::users::list(&mut conn)
        .await?
        .into_iter()
        .filter(|u| user.region_code.is_empty() || u.region_code.starts_with(&user.region_code))
        .map(|u| (u.username, u.display_name))
        .collect())
}

/// One page of the access log for the page (system and county administrators, county staff:
/// those with a region see only their region's accounts and targets), newest first.
pub async fn page(s: &Services, user: &CurrentUser, q: &AuditQuery) -> Result<AuditPage> {
    user.require_county()?;
    let (f, within) = filter_of(s, user, q, PAGE_SIZE + 1).await?;
    let mut conn = s.db.acquire().await?;
    let mut rows = xiuhua_db::audit::search_access_within(
        &mut conn,
        &f,
        within.as_deref(),
        q.page.max(0) * PAGE_SIZE,
    )
    .await?;
    drop(conn);
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok(AuditPage {
        rows,
        has_more,
        users: readable_users(s, user).await?,
    })
}

/// Every entry the query matches (at most [`EXPORT_MAX`]) as a workbook with actions and
/// accounts named in Chinese and times in China time; the export itself is recorded
/// (`export_audit`, with the filters) before the rows are read, so an export the filters match
/// lists itself.
pub async fn export(
    s: &Services,
    user: &CurrentUser,
    q: &AuditQuery,
    client: &str,
) -> Result<Vec<u8>> {
    user.require_county()?;
    let (f, within) = filter_of(s, user, q, EXPORT_MAX).await?;
    record(
        s,
        &user.username,
        AuditAction::ExportAudit,
        within.as_deref().unwrap_or(""),
        &format!(
            "user={} household={} action={} since={} until={}",
            f.username.as_deref().unwrap_or(""),
            f.target.as_deref().unwrap_or(""),
            f.action.as_deref().unwrap_or(""),
            q.since.map(|d| d.to_string()).unwrap_or_default(),
            q.until.map(|d| d.to_string()).unwrap_or_default(),
        ),
        client,
    )
    .await?;
    let mut conn = s.db.acquire().await?;
    let rows = xiuhua_db::audit::search_access_within(&mut conn, &f, within.as_deref(), 0).await?;
    drop(conn);
    workbook(s, user, &rows).await
}

/// Access-log entries as a workbook for people: 时间（北京时间）, 用户, 姓名, 操作 (its Chinese
/// name), 对象, 详情, 来源地址.
fn named_workbook(
    rows: &[AccessRow],
    names: &std::collections::HashMap<String, String>,
) -> Result<Vec<u8>> {
    use xiuhua_xlsx::write::{Column, Kind, Out, tables_workbook};
    let columns = vec![
        Column::new("时间（北京时间）", Kind::Text).width(20.0),
        Column::new("用户", Kind::Text).width(14.0),
        Column::new("姓名", Kind::Text).width(14.0),
        Column::new("操作", Kind::Text).width(20.0),
        Column::new("对象", Kind::Text).width(18.0),
        Column::new("详情", Kind::Text).width(40.0),
        Column::new("来源地址", Kind::Text).width(16.0),
    ];
    let data: Vec<Vec<Out>> = rows
        .iter()
        .map(|r| {
            vec![
                Out::Text(xiuhua_domain::display::china_time(&r.at)),
                Out::Text(r.username.clone()),
                Out::Text(names.get(&r.username).cloned().unwrap_or_default()),
                Out::Text(AuditAction::label_zh_of(&r.action)),
                Out::Text(r.target.clone()),
                Out::Text(r.detail.clone()),
                Out::Text(r.client.clone()),
            ]
        })
        .collect();
    tables_workbook(&[("访问日志".to_string(), columns, data)])
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("audit workbook: {e}")))
}

/// A lockout as an error.
pub(crate) fn locked(minutes: i64) -> Error {
    Error::Locked { minutes }
}

/// Access-log entries as the workbook people read (the one the audit page exports): China
/// time, the user's name beside the login name where `user` may read it, Chinese action names.
pub async fn workbook(s: &Services, user: &CurrentUser, rows: &[AccessRow]) -> Result<Vec<u8>> {
    let names: std::collections::HashMap<String, String> =
        readable_users(s, user).await?.into_iter().collect();
    named_workbook(rows, &names)
}
