//! Regions: a region's counts (now, or as of a date) and its children's.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use xiuhua_app::registry::{self, Counts, Tally};
use xiuhua_domain::{MonitoringStatus, RegistryStatus};

use super::AsOfParams;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{ErrorEnvelope, WebError};
use crate::pages::parse_date;

/// Households and people.
#[derive(Serialize, ToSchema, Clone, Copy)]
pub struct TallyDto {
    /// Households.
    pub households: i64,
    /// People.
    pub people: i64,
}

impl From<Tally> for TallyDto {
    fn from(t: Tally) -> TallyDto {
        TallyDto {
            households: t.households,
            people: t.people,
        }
    }
}

/// Counts by 户类型 and 监测状态.
#[derive(Serialize, ToSchema)]
pub struct CountsDto {
    /// Everyone.
    pub total: TallyDto,
    /// 一般农户.
    pub general: TallyDto,
    /// 贫困户.
    pub poor: TallyDto,
    /// 已脱贫户.
    pub lifted: TallyDto,
    /// 监测对象 (risk not eliminated).
    pub monitored: TallyDto,
    /// 风险已消除.
    pub eliminated: TallyDto,
}

impl From<&Counts> for CountsDto {
    fn from(c: &Counts) -> CountsDto {
        CountsDto {
            total: c.total.into(),
            general: c.status(RegistryStatus::General).into(),
            poor: c.status(RegistryStatus::Poor).into(),
            lifted: c.status(RegistryStatus::Lifted).into(),
            monitored: c.monitoring(MonitoringStatus::Monitored).into(),
            eliminated: c.monitoring(MonitoringStatus::Eliminated).into(),
        }
    }
}

/// A child region with its counts.
#[derive(Serialize, ToSchema)]
pub struct ChildRegionDto {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether it is a 贫困村.
    pub is_poor_village: bool,
    /// Counts.
    pub counts: CountsDto,
}

/// A region with its counts.
#[derive(Serialize, ToSchema)]
pub struct RegionDto {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level 1 (province) … 6 (group).
    pub level: i16,
    /// Parent code.
    pub parent_code: Option<String>,
    /// The date counted, if "as of".
    pub as_of: Option<String>,
    /// Counts of the region.
    pub counts: CountsDto,
    /// Children with their counts.
    pub children: Vec<ChildRegionDto>,
}

/// A region's counts (now, or as of a date) and its children's.
#[utoipa::path(get, path = "/api/v1/regions/{code}", params(("code" = String, Path, description = "Region code"), AsOfParams),
    responses((status = 200, body = RegionDto), (status = 404, body = ErrorEnvelope)))]
pub async fn get_region(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Query(q): Query<AsOfParams>,
) -> Result<Json<RegionDto>, WebError> {
    let as_of = parse_date(q.as_of.as_deref())?;
    let v = registry::region(&state.services, &auth.user, &code, as_of)
        .await
        .map_err(WebError::api)?;
    Ok(Json(RegionDto {
        code: v.region.code.clone(),
        name: v.region.name.clone(),
        level: v.region.level,
        parent_code: v.region.parent_code.clone(),
        as_of: as_of.map(|d| d.to_string()),
        counts: (&v.counts).into(),
        children: v
            .children
            .iter()
            .map(|(r, c)| ChildRegionDto {
                code: r.code.clone(),
                name: r.name.clone(),
                is_poor_village: r.is_poor_village == 1,
                counts: c.into(),
            })
            .collect(),
    }))
}
