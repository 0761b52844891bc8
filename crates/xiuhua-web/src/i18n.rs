//! UI text in Simplified Chinese (default) and English. The language comes from the `lang`
//! cookie, set by `/lang/{zh|en}`.

use xiuhua_domain::{FieldCatalog, FieldLevel};

use xiuhua_domain::{CodeCatalog, MonitoringStatus, RegistryStatus};

impl Lang {
    /// The same language for the message catalogue (`xiuhua_domain::message`).
    pub fn messages(self) -> xiuhua_domain::message::Lang {
        match self {
            Lang::Zh => xiuhua_domain::message::Lang::Zh,
            Lang::En => xiuhua_domain::message::Lang::En,
        }
    }
}

/// A UI language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文
    #[default]
    Zh,
    /// English
    En,
}

impl Lang {
    /// From a cookie value.
    pub fn parse(s: &str) -> Lang {
        if s == "en" { Lang::En } else { Lang::Zh }
    }

    /// The `lang` attribute of `<html>`.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// Text lookups for one language; templates call `t.s("key")`.
#[derive(Clone, Debug, Default)]
pub struct T {
    /// The language.
    pub lang: Lang,
}

/// (key, Chinese, English)
const TEXT: &[(&str, &str, &str)] = &[
    (
        "app",
        "绣花 · 防返贫监测与建档立卡系统",
        "xiuhua · poverty registry and relapse monitoring",
    ),
    ("login", "登录", "Log in"),
    ("logout", "退出", "Log out"),
    ("username", "用户名", "User name"),
    ("password", "密码", "Password"),
    (
        "bad_login",
        "用户名或密码错误",
        "Invalid user name or password",
    ),
    (
        "locked_login",
        "连续登录失败次数过多，账户已临时锁定，请稍后再试",
        "Too many failed logins: the account is locked for a while",
    ),
    (
        "login_expired",
        "登录页面已过期或来源不明，请重新登录",
        "The login page expired or came from elsewhere: please log in again",
    ),
    ("minutes", "分钟", "minutes"),
    ("home", "首页", "Home"),
    ("households", "农户查询", "Households"),
    ("search", "查询", "Search"),
    (
        "search_hint",
        "姓名、户编号或身份证号",
        "Name, household number or ID number",
    ),
    ("region", "区划", "Region"),
    ("as_of", "截至日期", "As of"),
    ("rules", "政策标准", "Rule sets"),
    ("checklists", "政策标准核查", "Policy checks"),
    ("decision", "结论", "Decision"),
    ("item", "检查项", "Item"),
    ("kind", "类别", "Kind"),
    ("outcome", "结果", "Result"),
    ("explanation", "依据", "Explanation"),
    ("expression", "表达式", "Expression"),
    ("parameters", "参数", "Parameters"),
    ("value", "取值", "Value"),
    ("by_year", "分年度取值", "By year"),
    ("versions", "版本记录", "Versions"),
    ("level", "层级", "Level"),
    ("purpose", "用途", "Purpose"),
    ("region", "适用地区", "Region"),
    ("years", "适用年度", "Years"),
    ("source", "依据文件", "Source"),
    ("unconfirmed", "未经证实", "unconfirmed"),
    (
        "unconfirmed_note",
        "标“未经证实”的标准值或表述没有找到权威出处，请按本地文件核对后以新版本替换。",
        "Values marked unconfirmed have no authoritative source yet: check them against local documents and load a corrected version.",
    ),
    ("simulate", "模拟调整", "What-if"),
    (
        "simulate_hint",
        "例如 line=7000，多项用逗号分隔",
        "e.g. line=7000; separate several with commas",
    ),
    ("simulation", "模拟结果", "Simulation"),
    ("entered", "新增", "Enter"),
    ("left", "退出", "Leave"),
    ("holds_before", "现行规则符合", "Holds now"),
    ("holds_after", "调整后符合", "Holds after"),
    ("rules_in_force", "现行规则", "Rules in force"),
    ("rules_modified", "调整后", "Modified"),
    ("changed_count", "结论变化", "Changed"),
    ("evaluated", "评估户数", "Evaluated"),
    ("download_xlsx", "下载 Excel", "Download Excel"),
    (
        "changed_households",
        "结论变化的农户",
        "Households whose decision changes",
    ),
    ("run_store", "评估并保存结果", "Evaluate and store"),
    ("load_rule_set", "载入新版本规则", "Load a new version"),
    (
        "load_rule_hint",
        "粘贴规则文件（TOML）；版本号须大于现行版本，载入前全部检查。",
        "Paste a rule file (TOML); its version must be higher than the one in force; it is checked completely before loading.",
    ),
    ("recent_runs", "最近的评估", "Recent runs"),
    ("stored_results", "已保存的评估结论", "Stored decisions"),
    (
        "no_rules_apply",
        "没有适用于该户的规则集。",
        "No rule set applies to this household.",
    ),
    ("holds", "符合", "Hold"),
    (
        "checks_passed",
        "项检查均通过（未列出）",
        "checks passed (not listed)",
    ),
    ("fails", "不符合", "Do not hold"),
    ("unknowns", "无法判断", "Unknown"),
    ("explain_as_decided", "按当时依据解释", "Explain as decided"),
    (
        "as_decided_ok",
        "按当时的规则版本和当时掌握的数据重新计算，结论一致。",
        "Recomputed with the rule version and the data known at the time: same decision.",
    ),
    (
        "as_decided_differs",
        "重新计算的结果与保存的结论不一致。",
        "The recomputed result differs from the stored decision.",
    ),
    ("as_of_now", "当前", "now"),
    ("show", "查看", "Show"),
    ("status", "户类型", "Type"),
    ("monitoring", "监测状态", "Monitoring"),
    ("all", "全部", "All"),
    ("household_count", "户数", "Households"),
    ("people_count", "人数", "People"),
    ("total", "合计", "Total"),
    ("household_no", "户编号", "Household no."),
    ("head_name", "户主", "Head"),
    ("id_number", "证件号码", "ID number"),
    ("village", "行政村", "Village"),
    ("members", "家庭成员", "Members"),
    ("member_count", "人口", "Size"),
    ("exit_year", "脱贫年度", "Exit year"),
    ("name", "姓名", "Name"),
    ("sex", "性别", "Sex"),
    ("birth_date", "出生日期", "Birth date"),
    ("birth_year", "出生年份", "Birth year"),
    ("relation", "与户主关系", "Relation"),
    ("ethnicity", "民族", "Ethnicity"),
    ("education", "文化程度", "Education"),
    ("schooling", "在校生状况", "Schooling"),
    ("health", "健康状况", "Health"),
    ("labour", "劳动技能", "Labour"),
    ("work_status", "务工状况", "Work"),
    ("attributes", "家庭基本情况", "Household details"),
    ("history", "变更历史", "History"),
    ("date", "日期", "Date"),
    ("event", "事项", "Change"),
    ("actor", "操作人", "By"),
    ("source", "来源", "Source"),
    ("reason", "原因", "Reason"),
    ("details", "内容", "Details"),
    ("children", "下级区划", "Sub-regions"),
    ("no_results", "没有符合条件的记录", "Nothing matches"),
    ("prev", "上一页", "Previous"),
    ("next", "下一页", "Next"),
    ("page", "页", "page"),
    (
        "per_capita_income",
        "年人均纯收入（元）",
        "Net income per person (yuan)",
    ),
    ("snapshot", "年度冻结数据", "Frozen year-end snapshot"),
    (
        "asof_note",
        "以下为历史时点数据，根据变更记录重建",
        "Historical figures, rebuilt from the change history",
    ),
    (
        "not_existing",
        "该日期时此户尚未建档",
        "The household was not registered yet on this date",
    ),
    (
        "masked_note",
        "证件号码已按权限脱敏",
        "ID numbers are masked for your role",
    ),
    ("users", "用户管理", "Users"),
    ("api_tokens", "数据推送令牌", "API tokens"),
    ("department_data", "部门推送数据", "Department data"),
    ("display_name", "姓名", "Name"),
    ("role", "角色", "Role"),
    ("active", "启用", "Active"),
    ("inactive", "已停用", "Deactivated"),
    ("edit", "编辑", "Edit"),
    ("new_user", "新建用户", "New user"),
    (
        "password_policy",
        "密码至少10位，至少包含两类字符（字母、数字、符号），不能是常见密码，也不能包含用户名",
        "At least 10 characters of two kinds or more (letters, digits, symbols); not a common password, not containing the user name",
    ),
    ("lockouts", "登录锁定", "Login lockouts"),
    (
        "lockouts_none",
        "近24小时没有登录失败。",
        "No failed logins in the last 24 hours.",
    ),
    ("client_address", "来源地址", "Address"),
    ("failures", "失败次数", "Failures"),
    (
        "locked_minutes",
        "锁定剩余（分钟）",
        "Locked (minutes left)",
    ),
    ("unlock", "解除锁定", "Unlock"),
    ("unlocked", "已解除锁定", "Unlocked"),
    ("create", "创建", "Create"),
    ("save", "保存", "Save"),
    ("saved", "已保存", "Saved"),
    ("reset_password", "重置密码", "Reset password"),
    ("new_password", "新密码", "New password"),
    ("change_password", "修改密码", "Change password"),
    ("current_password", "当前密码", "Current password"),
    (
        "password_set",
        "密码已更新，其他已登录的会话已退出",
        "Password changed; other sessions were ended",
    ),
    (
        "token_note",
        "令牌供医保、民政、教育等部门系统推送数据：每个令牌只限一个部门、一个区域，只能推送数据，不能查看建档立卡信息；到期或撤销后立即失效。",
        "Tokens let a department's system push data: one department and one region each, push only (no reading of the registry); they stop working when they expire or are revoked.",
    ),
    (
        "token_shown_once",
        "请立即复制保存此令牌，它只显示这一次：",
        "Copy this token now; it is shown only once:",
    ),
    ("department", "部门", "Department"),
    ("expires", "到期时间", "Expires"),
    ("last_used", "最近使用", "Last used"),
    ("revoked", "已撤销", "Revoked"),
    ("revoke", "撤销", "Revoke"),
    ("new_token", "新建令牌", "New token"),
    ("valid_days", "有效天数", "Valid for (days)"),
    ("file", "文件", "File"),
    ("rows", "行数", "Rows"),
    ("matched", "匹配建档立卡人员", "Matched registry members"),
    ("received", "接收时间", "Received"),
    ("edit_household", "修改户信息", "Edit household"),
    ("edit_conflict", "保存冲突", "Edit conflict"),
    ("both_versions", "两个版本对照", "Both versions"),
    ("field", "字段", "Field"),
    ("your_value", "您提交的值", "Your value"),
    ("current_value", "当前保存的值", "Saved now"),
    (
        "changes_since",
        "您打开页面之后他人所做的修改",
        "Changes made since you opened the page",
    ),
    ("resubmit", "核对后重新提交", "Check and submit again"),
    (
        "resubmit_note",
        "下表已按当前版本重新填好您的修改；确认无误后再保存，不会覆盖他人的修改。",
        "Your changes are filled in against the current version; save again after checking — nothing of the other change is overwritten.",
    ),
    ("effective_date", "生效日期", "Effective date"),
    (
        "export_purpose",
        "导出用途（必填）",
        "Purpose of the export (required)",
    ),
    (
        "export_purpose_note",
        "含完整身份证号的导出须写明用途，记入访问日志",
        "Exports with full ID numbers need a purpose; it is written to the access log",
    ),
    ("error", "出错了", "Something went wrong"),
    ("back", "返回", "Back"),
    ("poor_village", "贫困村", "poor village"),
    ("exit", "出列", "exited"),
    ("api_docs", "接口文档", "API"),
    ("import", "台账导入", "Import"),
    ("export", "导出", "Export"),
    ("ledger", "台账", "ledger"),
    ("statistics", "统计表", "statistics"),
    // --- admin pages (helper B, issue 13): accounts, years, access log, API docs ---
    ("account_status", "状态", "Status"),
    ("no_region", "（全系统）", "(whole system)"),
    ("years_admin", "年度动态调整", "Yearly update"),
    ("year", "年度", "Year"),
    ("closed_at", "关闭时间", "Closed at"),
    ("closed_by", "关闭人", "Closed by"),
    ("year_closed", "已关闭", "closed"),
    ("year_open", "未关闭", "open"),
    ("close_year", "关闭年度", "Close year"),
    ("close_year_confirm", "确认关闭", "Confirm closing"),
    (
        "close_year_note",
        "关闭后，将冻结下列年末（12月31日）数据作为该年度上报数，此后生效日期在该年度内的修改须作为“更正”并写明原因。",
        "Closing freezes the year-end (31 December) counts below as the year's reported figures; later changes effective in that year need an explicit correction with a reason.",
    ),
    (
        "close_year_rule",
        "年度须依次关闭：只能关闭最后一个已关闭年度的下一年，且该年已经结束。",
        "Years close in order: only the year after the last closed one, and only once it is over.",
    ),
    ("can_close", "可关闭", "can be closed"),
    (
        "cannot_close_order",
        "须先关闭上一年度",
        "close the year before first",
    ),
    (
        "cannot_close_current",
        "年度尚未结束",
        "the year is not over",
    ),
    ("year_closed_done", "年度已关闭", "Year closed"),
    ("view_snapshot", "查看冻结数据", "View the frozen snapshot"),
    ("frozen_counts", "将冻结的数据", "Counts to be frozen"),
    ("members_count", "人数", "People"),
    ("households_count", "户数", "Households"),
    ("cancel", "取消", "Cancel"),
    ("audit", "访问日志", "Access log"),
    ("action", "操作", "Action"),
    ("target", "对象", "Target"),
    ("detail", "详情", "Details"),
    ("client_addr", "来源地址", "Address"),
    ("time", "时间", "Time"),
    ("user", "用户", "User"),
    ("household", "农户", "Household"),
    ("household_hint", "农户ID或户编号", "Household id or number"),
    ("from_date", "起始日期", "From"),
    ("to_date", "截止日期", "To"),
    ("filter", "筛选", "Filter"),
    ("export_xlsx", "导出 (xlsx)", "Export (xlsx)"),
    ("prev_page", "上一页", "Previous"),
    ("next_page", "下一页", "Next"),
    ("page_n", "页", "page"),
    ("no_entries", "没有符合条件的记录", "No matching entries"),
    ("yes", "是", "yes"),
    ("no", "否", "no"),
    ("male", "男", "male"),
    ("female", "女", "female"),
    // The upload page (imports/upload.html), same Chinese as before.
    (
        "imp_formats",
        "Excel (.xlsx/.xls) 或 CSV（UTF-8、GBK）",
        "Excel (.xlsx/.xls) or CSV (UTF-8, GBK)",
    ),
    ("imp_file", "文件", "File"),
    ("imp_scope", "导入范围", "Import into"),
    ("imp_reason", "原因", "Reason"),
    (
        "imp_mapping",
        "列对照文件（可选，每行“表头<Tab>字段名”）",
        "Column mapping file (optional, one \"header<Tab>field\" per line)",
    ),
    (
        "imp_dry_run",
        "只检查，不写入（预览将发生的变更）",
        "Check only, write nothing (preview the changes)",
    ),
    ("imp_upload", "上传", "Upload"),
    (
        "imp_note",
        "表头可以不在第一行；列按中文名称识别（户编号/户码、姓名、证件号码/身份证号、与户主关系……）。同一户的行须连续排列。有任何错误时不写入任何数据，可下载错误行修改后重新导入。",
        "The header need not be the first row; columns are recognised by their Chinese header names, as the ledgers write them. A household's rows must be consecutive. With any error nothing is written; download the rows in error, correct them and import again.",
    ),
    ("imp_running", "正在导入… 已读取", "Importing… rows read:"),
    (
        "imp_running_rows",
        "行（可以离开此页，稍后刷新查看结果）",
        "(you may leave this page and look at the result later)",
    ),
    ("imp_see_report", "查看导入结果", "See the import's result"),
    (
        "imp_failed",
        "发现问题，未写入任何数据",
        "Problems found: nothing was written",
    ),
    (
        "imp_checked",
        "检查通过（预览，未写入）",
        "Check passed (preview, nothing written)",
    ),
    ("imp_done", "导入完成", "Import done"),
    ("imp_rows", "数据行", "Data rows"),
    ("imp_created", "新增户", "New households"),
    ("imp_changed", "有变更的户", "Changed households"),
    ("imp_unchanged", "无变化的户", "Unchanged households"),
    ("imp_events", "变更记录", "Change events"),
    (
        "imp_unknown",
        "未识别的列（未导入）：",
        "Columns not recognised (not imported): ",
    ),
    (
        "imp_skipped_rows",
        "不是户数据、已跳过的行（合计、落款、备注、重复表头）",
        "Rows that are not households, skipped (totals, signatures, notes, repeated headers)",
    ),
    (
        "imp_skipped",
        "没有表头、已跳过的工作表：",
        "Sheets without a header, skipped: ",
    ),
    (
        "imp_errors_link",
        "下载错误行（含错误原因，问题单元格标红）",
        "Download the rows in error (with reasons, problem cells in red)",
    ),
    ("imp_sheet", "工作表", "Sheet"),
    ("imp_row", "行", "Row"),
    ("imp_column", "列", "Column"),
    ("imp_more", "另有", "Another"),
    (
        "imp_more_after",
        "个问题，见错误行文件。",
        "problems: see the file of rows in error.",
    ),
    // Issue 14 part 3: the column dialog, saved column names, the dry run's changes.
    ("imp_map_title", "未识别的列", "Columns not recognised"),
    (
        "imp_map_note",
        "请为下列列选择对应的字段，然后重新检查（无需重新上传文件）。",
        "Choose the field of each column below, then check again (no need to upload the file again).",
    ),
    ("imp_map_letter", "列号", "Column"),
    ("imp_map_header", "表头", "Header"),
    ("imp_map_samples", "示例值", "Sample values"),
    ("imp_map_field", "对应字段", "Field"),
    ("imp_map_ignore", "忽略此列", "Ignore this column"),
    ("imp_map_household", "户信息", "Household"),
    ("imp_map_member", "成员信息", "Member"),
    (
        "imp_map_save",
        "保存为本县的列名对照",
        "Save as this county's column names",
    ),
    ("imp_recheck", "重新检查", "Check again"),
    ("imp_import_now", "确认导入", "Import now"),
    (
        "imp_import_now_note",
        "按以上预览导入此文件（无需重新上传）。",
        "Import this file as previewed above (no need to upload it again).",
    ),
    (
        "imp_saved_title",
        "本县保存的列名对照",
        "Saved column names",
    ),
    ("imp_saved_by", "保存人", "Saved by"),
    ("imp_saved_at", "保存时间", "Saved at"),
    ("imp_saved_delete", "删除", "Delete"),
    (
        "imp_valid_only",
        "只导入无误的户（有误的户暂不导入）",
        "Import only the households without errors (hold back the others)",
    ),
    ("imp_default_status", "默认户类型", "Default status"),
    (
        "imp_default_status_note",
        "文件中没有户类型等列时，新增户按此户类型登记",
        "New households take this status when the file has no status column",
    ),
    ("imp_default_status_none", "（请选择）", "(choose)"),
    (
        "imp_default_status_needed",
        "本文件没有说明户类型的列，请选择默认户类型",
        "This file has no status column: choose the default status",
    ),
    (
        "imp_held_back",
        "暂不导入的户（有误）",
        "Households held back (with errors)",
    ),
    (
        "imp_partial",
        "已导入无误的户，有误的户暂不导入",
        "Imported the valid households; the others were held back",
    ),
    (
        "imp_partial_checked",
        "检查完成：无误的户可以导入，有误的户将暂不导入",
        "Checked: the valid households can be imported, the others would be held back",
    ),
    (
        "imp_diff_title",
        "预览：将发生的变更",
        "Preview: what would change",
    ),
    ("imp_diff_new", "新增户", "New household"),
    ("imp_diff_changed", "变更", "Changed"),
    ("imp_diff_added", "新增成员", "Member added"),
    ("imp_diff_removed", "移除成员", "Member removed"),
    ("imp_diff_page", "第", "Page"),
    ("imp_diff_pages", "页，共", "of"),
    ("imp_diff_prev", "上一页", "Previous"),
    ("imp_diff_next", "下一页", "Next"),
    ("imp_diff_kept", "仅保留前", "Only the first"),
    (
        "imp_diff_kept_after",
        "户的变更明细",
        "households' changes are kept",
    ),
    // Household edits (issue 13: every edit in the UI).
    (
        "correction_note",
        "该生效日期所在年度的动态调整已结束。确需修改请勾选“更正”，并在原因中说明更正的理由。",
        "The year of this effective date is closed. To change it anyway, tick the correction box and give the reason in the reason field.",
    ),
    (
        "correction_confirm",
        "以“更正”方式提交（记入历史）",
        "Submit as a correction (recorded in the history)",
    ),
    (
        "edit_fields_refused",
        "有字段未通过校验，请按提示修改",
        "Some fields were refused; see the notes beside them",
    ),
    ("member_changes", "成员变更", "Member changes"),
    ("add_member", "新增成员", "Add a member"),
    ("remove_member", "减少成员", "Remove the member"),
    ("move_member", "迁入其他户", "Move to another household"),
    (
        "target_household_no",
        "迁入户的户编号",
        "Number of the household moved to",
    ),
    ("new_relation", "与新户主关系", "Relation to the new head"),
    ("old_relation", "原与户主关系", "Relation to the old head"),
    ("make_head", "设为户主", "Make head"),
    ("change_head", "户主变更", "Change of head"),
    ("new_head", "新户主", "New head"),
    (
        "head_proposed_note",
        "已按新户主重新推算每位成员的关系；无法推算的为“其他”，请逐一核对后保存。",
        "Each member's relation is re-expressed relative to the new head; where it cannot be known it is 'other'. Check each before saving.",
    ),
    ("confirm_head", "确认户主变更", "Confirm the change of head"),
    ("change_reason", "变更原因", "Reason code"),
    ("status_changes", "状态变更", "Status changes"),
    ("action_identify", "纳入贫困户", "Identify as poor"),
    ("action_exit", "脱贫", "Exit poverty"),
    ("action_monitor", "标注监测", "Mark as monitored"),
    ("action_eliminate", "消除风险", "Risk eliminated"),
    ("identified_year", "识别年度", "Year identified"),
    ("monitor_type", "监测对象类型", "Monitoring type"),
    ("exit_batch", "脱贫批次", "Exit batch"),
    ("main_cause", "主要致贫原因", "Main cause of poverty"),
    ("edit_member", "修改成员信息", "Edit the member"),
    // ---- rules helper (issue 13 defects 6, 8): stored runs, full identity numbers ----
    ("stored_run", "已保存的评估", "Stored run"),
    (
        "items_not_passed",
        "未通过或无法判断的项目",
        "Items not passed or undecided",
    ),
    ("show_full_ids", "显示完整身份证号", "Show full ID numbers"),
    (
        "full_ids_logged",
        "显示完整证件号码，已记入访问日志",
        "Full ID numbers shown; recorded in the access log",
    ),
    // survey: 入户核查 (facts the rule sets read)
    ("survey", "入户核查", "Household survey"),
    (
        "survey_registry_fields",
        "规则同时读取的登记信息",
        "Registry fields the rules also read",
    ),
    (
        "survey_edit_registry",
        "修改登记信息",
        "Edit registry fields",
    ),
    ("survey_unknown", "未知", "unknown"),
    ("survey_save", "保存核查结果", "Save the survey"),
    ("survey_history", "核查记录", "Survey records"),
    (
        "survey_read_only",
        "只读：您可以查看核查事实，不能修改。",
        "Read only: you may see the recorded facts, not change them.",
    ),
    (
        "survey_live",
        "填写时，下方的政策标准核查结论随之更新（尚未保存）。",
        "The policy checks below update as you fill in the form (not saved yet).",
    ),
    (
        "survey_refused",
        "核查结果未保存，请按字段旁的提示修改。",
        "The survey was not saved: see the reasons beside the fields.",
    ),
    (
        "survey_none",
        "本户适用的政策标准没有需要入户核查的事实。",
        "The rule sets for this household ask for no survey facts.",
    ),
    ("survey_facts_count", "项事实", "facts"),
    ("yuan", "元", "yuan"),
    (
        "medical_insured",
        "参加基本医疗保险",
        "Basic medical insurance",
    ),
];

impl T {
    /// The text of a key (the key itself if missing, which a test forbids for templates).
    pub fn s(&self, key: &str) -> &'static str {
        match TEXT.iter().find(|(k, _, _)| *k == key) {
            Some((_, zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => "??",
        }
    }

    /// Label of a registry status.
    pub fn status(&self, s: RegistryStatus) -> &'static str {
        match self.lang {
            Lang::Zh => s.label_zh(),
            Lang::En => s.label_en(),
        }
    }

    /// Label of a monitoring status.
    pub fn monitoring(&self, m: MonitoringStatus) -> &'static str {
        match self.lang {
            Lang::Zh => m.label_zh(),
            Lang::En => m.label_en(),
        }
    }

    /// Label of a code.
    pub fn code(&self, catalog: &CodeCatalog, list: &str, code: &str) -> String {
        match self.lang {
            Lang::Zh => catalog.label_zh(list, code).to_string(),
            Lang::En => catalog.label_en(list, code).to_string(),
        }
    }

    /// Whether a key exists.
    pub fn has(key: &str) -> bool {
        TEXT.iter().any(|(k, _, _)| *k == key)
    }
}

/// The household fields shown on the household page, in catalogue order (`income`: the
/// income components, shown together).
pub fn page_fields() -> impl Iterator<Item = &'static str> {
    FieldCatalog::shipped()
        .stored(FieldLevel::Household)
        .map(|d| d.name.as_str())
        .filter(|n| !n.starts_with("income_") && *n != "business_cost")
        .chain(["income"])
}

/// The label of a field name (from the field catalogue).
pub fn field_label(lang: Lang, field: &str) -> String {
    if field == "income" {
        return (if lang == Lang::Zh { "收入" } else { "Income" }).to_string();
    }
    match FieldCatalog::shipped().find(field) {
        Some(d) => d.label(lang == Lang::En).to_string(),
        None => field.to_string(),
    }
}

/// The code list of a field, if it has one (not the built-in enumerations, which pages show
/// with their own labels).
pub fn field_list(field: &str) -> Option<&'static str> {
    FieldCatalog::shipped()
        .find(field)
        .and_then(|d| d.code_list.as_deref())
        .filter(|l| !l.starts_with('@'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template files under `dir`, in its subfolders too.
    fn template_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                template_files(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    /// Every `t.s("key")` used by a template has a text.
    #[test]
    fn every_template_key_has_a_text() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files = Vec::new();
        template_files(&dir, &mut files);
        assert!(
            files.len() > 15,
            "templates not found under {}",
            dir.display()
        );
        let mut checked = 0;
        for path in files {
            let text = std::fs::read_to_string(path).unwrap();
            for part in text.split("t.s(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(T::has(key), "missing UI text {key:?}");
                checked += 1;
            }
        }
        assert!(checked > 50);
    }

    #[test]
    fn both_languages_differ_and_fall_back_visibly() {
        let zh = T { lang: Lang::Zh };
        let en = T { lang: Lang::En };
        assert_eq!(zh.s("households"), "农户查询");
        assert_eq!(en.s("households"), "Households");
        assert_eq!(zh.s("no_such_key"), "??");
    }
}
