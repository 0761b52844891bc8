//! The household-list export (农户名单): the list page's filters as one `.xlsx`, with the
//! purpose check and access-log entry that every export with personal data needs.

use xiuhua_domain::{MonitoringStatus, RegistryStatus};
use xiuhua_xlsx::write::{Column, Kind, Out, WriteError, XlsxTable};

use crate::audit::{self, AuditAction};
use crate::registry::{self, HouseholdSummary, SearchParams};
use crate::{CurrentUser, Error, Result, Services};

/// Rows fetched per page while writing the list.
const PAGE: i64 = 500;

/// The filters of a list export, as the list page sends them (unparsed, so that the access log
/// shows what was asked for).
#[derive(Clone, Debug, Default)]
pub struct ListExport {
    /// Region (narrowed to the user's scope; outside it is `NotFound`).
    pub region: Option<String>,
    /// Name, 户编号 or 身份证号.
    pub text: Option<String>,
    /// Registry status (`RegistryStatus` name; unknown names do not filter).
    pub status: Option<String>,
    /// Monitoring status (`MonitoringStatus` name; unknown names do not filter).
    pub monitoring: Option<String>,
    /// 用途: required when the export carries full identity numbers.
    pub purpose: String,
    /// Full identity numbers asked for (the list's "显示完整身份证号"); given only to users who
    /// may see them, masked otherwise.
    pub full_ids: bool,
}

fn unexpected(e: WriteError) -> Error {
    Error::Unexpected(anyhow::anyhow!("{e}"))
}

/// Exports the household list matching `what` as an `.xlsx` workbook (one sheet 农户名单).
/// Checks the region and the purpose first, then records the export in the access log.
pub async fn export_list(s: &Services, user: &CurrentUser, what: &ListExport) -> Result<Vec<u8>> {
    // Outside the region: not found, before anything else is said.
    user.narrow(what.region.as_deref())?;
    crate::registry::check_search_text(what.text.as_deref())?;
    let full = what.full_ids && user.role.sees_personal_data();
    let purpose = crate::exports::require_purpose(full, &what.purpose)?;
    audit::record(
        s,
        &user.username,
        AuditAction::ExportList,
        what.region.as_deref().unwrap_or(&user.region_code),
        &format!(
            "q={} status={} monitoring={}{}{purpose}",
            what.text.as_deref().unwrap_or(""),
            what.status.as_deref().unwrap_or(""),
            what.monitoring.as_deref().unwrap_or(""),
            if full { " full_id_numbers" } else { " masked" }
        ),
        "",
    )
    .await?;
    let mut t = XlsxTable::new("农户名单", list_columns()).map_err(unexpected)?;
    let mut page = 1;
    loop {
        let params = SearchParams {
            region: what.region.clone(),
            text: what.text.clone(),
            status: what.status.as_deref().and_then(RegistryStatus::parse),
            monitoring: what.monitoring.as_deref().and_then(MonitoringStatus::parse),
            page,
            per_page: PAGE,
        };
        // The export is the one access-log entry above; its pages are not logged again.
        let (list, total) =
            registry::households::search_inner(s, user, &params, "", full, false, None).await?;
        for h in &list {
            t.push(&list_row(h), &[]).map_err(unexpected)?;
        }
        if list.is_empty() || page * PAGE >= total {
            break;
        }
        page += 1;
    }
    t.into_bytes().map_err(unexpected)
}

/// The columns of the 农户名单 sheet.
fn list_columns() -> Vec<Column> {
    vec![
        Column::new("户编号", Kind::Text).width(18.0),
        Column::new("户主姓名", Kind::Text),
        Column::new("户主证件号码", Kind::Text).width(21.0),
        Column::new("行政村代码", Kind::Text).width(15.0),
        Column::new("户类型", Kind::Text),
        Column::new("监测状态", Kind::Text).width(22.0),
        Column::new("人口", Kind::Number),
        Column::new("脱贫年度", Kind::Number),
    ]
}

/// One household's row of the 农户名单 sheet.
fn list_row(h: &HouseholdSummary) -> [Out; 8] {
    [
        Out::from(h.household_no.clone()),
        Out::from(h.head_name.clone()),
        Out::from(h.head_id_number.clone()),
        Out::from(h.village_code.clone()),
        Out::from(h.status.label_zh()),
        Out::from(if h.monitoring == MonitoringStatus::None {
            ""
        } else {
            h.monitoring.label_zh()
        }),
        Out::Number(f64::from(h.member_count)),
        Out::from(h.exit_year.map(i64::from)),
    ]
}
