//! Fixtures: a migrated test database with a small region tree, services at a fixed date, and
//! builders for households and members with valid identity numbers.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use xiuhua_app::auth::Role;
use xiuhua_app::registry::ChangeMeta;
use xiuhua_app::{CurrentUser, FixedClock, Services};
use xiuhua_db::testing::TestDb;
use xiuhua_domain::{HouseholdFields, IdNumber, Member, RegistryStatus};

/// A test database plus services over it.
pub struct Ctx {
    pub _db: TestDb,
    pub s: Services,
}

pub const TODAY: (i32, u32, u32) = (2026, 11, 23);

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

pub fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Village A (高岭镇) and village B (地苏镇) of county 451228.
pub const VILLAGE_A: &str = "451228101201";
pub const VILLAGE_B: &str = "451228102201";

/// Services over an empty database.
pub async fn empty_ctx() -> Ctx {
    let db = TestDb::new().await;
    let clock = FixedClock(
        Utc.with_ymd_and_hms(TODAY.0, TODAY.1, TODAY.2, 2, 0, 0)
            .unwrap(),
    );
    let s = Services::new(db.db.clone(), Arc::new(clock)).await.unwrap();
    Ctx { _db: db, s }
}

/// Services over a database with two townships and villages of 都安.
pub async fn ctx() -> Ctx {
    let Ctx { _db: db, s } = empty_ctx().await;
    let csv = "code,name\n45,广西壮族自治区\n4512,河池市\n451228,都安瑶族自治县\n451228101,高岭镇\n451228102,地苏镇\n\
               451228101201,弄力村\n451228102201,板升村\n451228101201001,第一组\n";
    let rows = xiuhua_app::regions::parse_region_csv(csv).unwrap();
    xiuhua_app::regions::import_regions(&s, &CurrentUser::system(), &rows)
        .await
        .unwrap();
    Ctx { _db: db, s }
}

pub fn admin() -> CurrentUser {
    CurrentUser::system()
}

pub fn user(role: Role, region: &str) -> CurrentUser {
    CurrentUser {
        username: format!("{}-{region}", role.as_str()),
        role,
        region_code: region.into(),
        ..CurrentUser::system()
    }
}

/// A valid identity number for a birth date and a sequence (odd = male).
pub fn idn(birth: NaiveDate, seq: u16) -> String {
    IdNumber::compose("451228", birth, seq)
        .unwrap()
        .as_str()
        .to_string()
}

pub fn member(name: &str, relation: &str, birth: NaiveDate, seq: u16) -> Member {
    Member {
        name: name.into(),
        id_number: idn(birth, seq),
        relation: relation.into(),
        ..Member::default()
    }
}

pub fn fields(no: &str, village: &str) -> HouseholdFields {
    HouseholdFields {
        household_no: no.into(),
        village_code: village.into(),
        status: RegistryStatus::Poor,
        main_cause: Some("01".into()),
        identified_year: Some(2015),
        ..HouseholdFields::default()
    }
}

pub fn meta(date: NaiveDate) -> ChangeMeta {
    ChangeMeta::manual(date, "测试")
}

/// Registers a poor household of two in a village on 2015-10-01; returns its id.
pub async fn household(c: &Ctx, no: &str, village: &str, seq: u16) -> i64 {
    let members = vec![
        member("韦一", "01", d(1970, 1, 2), seq),
        member("蓝二", "02", d(1972, 3, 4), seq + 100),
    ];
    xiuhua_app::registry::register_household(
        &c.s,
        &admin(),
        fields(no, village),
        members,
        &meta(d(2015, 10, 1)),
    )
    .await
    .unwrap()
}

pub async fn total_households(c: &Ctx) -> i64 {
    xiuhua_db::households::total(&mut c.s.db.acquire().await.unwrap())
        .await
        .unwrap()
}

pub async fn total_events(c: &Ctx) -> i64 {
    xiuhua_db::events::total(&mut c.s.db.acquire().await.unwrap())
        .await
        .unwrap()
}
