//! What the demo county has besides its households, made through the product's own use cases:
//! users of every role with their regions, a department token and its pushes, the closed years
//! with their snapshots, and a stored run of each shipped rule set.

use chrono::{Datelike, NaiveDate};
use xiuhua_rules::Level;

use super::facts::{AreaBasis, DemoFacts};
use crate::auth::{NewUser, Role, check_password_policy, create_user, random_password};
use crate::rules::{Tally, UnitInputs};
use crate::{CurrentUser, Result, Services};

/// A demo account and its password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Region scope.
    pub region_code: String,
    /// Password (passes the policy, does not contain the name).
    pub password: String,
}

/// A stored run of a shipped rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoRun {
    /// Rule-set id.
    pub set_id: String,
    /// Stored run id.
    pub run_id: Option<i64>,
    /// As of.
    pub as_of: NaiveDate,
    /// Decisions.
    pub total: Tally,
}

/// What [`finish`] made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoExtras {
    /// The first-run administrator's password, when the demo created `admin` (the registry
    /// had no users): other accounts must not keep `serve` from making it.
    pub admin_password: Option<String>,
    /// Accounts of every role but the administrator (created on first serve).
    pub users: Vec<DemoUser>,
    /// The department token (医保) and its secret.
    pub token: Option<(String, String)>,
    /// Rows pushed by departments.
    pub pushed_rows: i64,
    /// Years closed (年度动态调整), each with its snapshot.
    pub closed_years: Vec<i32>,
    /// The stored rule runs.
    pub runs: Vec<DemoRun>,
}

/// A password for `username` that passes the policy.
fn password_for(username: &str) -> String {
    loop {
        let p = random_password();
        if check_password_policy(username, &p).is_ok() {
            return p;
        }
    }
}

/// Makes the users, the department data, the closed years and the stored rule runs of a
/// freshly loaded demo county. `villages` are its village codes, `id_numbers` a sample of
/// its members' identity numbers, `facts` the households' facts outside the registry.
pub async fn finish(
    s: &Services,
    county: &str,
    today: NaiveDate,
    villages: &[String],
    id_numbers: &[String],
    facts: &[(String, DemoFacts)],
) -> Result<DemoExtras> {
    let system = CurrentUser::system();
    let started = std::time::Instant::now();
    let mut out = DemoExtras {
        admin_password: crate::auth::ensure_admin(s).await?,
        ..DemoExtras::default()
    };
    let township = villages
        .first()
        .map(|v| v[..9].to_string())
        .unwrap_or_else(|| county.to_string());
    let mut accounts: Vec<(String, Role, String, &str)> = vec![
        ("xianji".into(), Role::County, county.into(), "县乡村振兴局"),
        ("xiangzhen".into(), Role::Township, township, "乡镇经办员"),
        (
            "lingdao".into(),
            Role::Viewer,
            county.into(),
            "县领导（只读）",
        ),
    ];
    for (i, v) in villages.iter().take(3).enumerate() {
        accounts.push((
            format!("cun{}", i + 1),
            Role::Village,
            v.clone(),
            "村经办员",
        ));
    }
    if let Some(v) = villages.first() {
        accounts.push(("bangfu".into(), Role::Cadre, v.clone(), "帮扶干部"));
    }
    for (username, role, region_code, display) in accounts {
        let password = password_for(&username);
        create_user(
            s,
            &system,
            NewUser {
                username: username.clone(),
                password: password.clone(),
                display_name: display.into(),
                role,
                region_code: region_code.clone(),
            },
        )
        .await?;
        out.users.push(DemoUser {
            username,
            role,
            region_code,
            password,
        });
    }

    tracing::info!(seconds = started.elapsed().as_secs_f64(), "demo: users");
    // A department account (医保) pushing its list of insured people, and 民政 its 低保 list.
    let (token, secret) = crate::users::create_token(
        s,
        &system,
        "县医保局每月推送",
        "medical_insurance",
        county,
        366,
        "demo",
    )
    .await?;
    let mut csv = String::from("身份证号,参保状态,参保年度\n");
    for id in id_numbers {
        csv.push_str(&format!("{id},已参保,{}\n", today.year()));
    }
    let report = crate::departments::push(s, &token, "医保参保名单.csv", csv.as_bytes())
        .await
        .map_err(|e| crate::Error::Unexpected(anyhow::anyhow!("{e}")))?;
    out.pushed_rows += report.accepted;
    out.token = Some((token.name.clone(), secret));

    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "demo: department push"
    );
    // Years up to the last full one, closed in order by the real use case.
    let last = today.year().min(s.clock.today().year()) - 1;
    for year in 2014..=last {
        crate::registry::close_year(s, &system, county, year).await?;
        out.closed_years.push(year);
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "demo: years closed"
    );

    // A stored run of each shipped rule set that covers the county, as of the end of its last
    // year (today for sets still in force): household sets read the recorded facts, village and
    // county sets are given the areas' survey figures.
    for set in s.rules().current() {
        let region = &set.def.region;
        if !region.is_empty() && !county.starts_with(region.as_str()) {
            continue;
        }
        let last_year = set.def.years.iter().copied().max().unwrap_or(today.year());
        let as_of = if last_year >= today.year() || set.def.years.len() < 2 {
            today
        } else {
            NaiveDate::from_ymd_opt(last_year, 12, 31).unwrap_or(today)
        };
        // Households' facts are in their histories (入户核查 events); the runs read them there.
        let mut inputs = UnitInputs::new();
        if set.def.level != Level::Household && !set.input_types.is_empty() {
            for b in area_bases(s, county, set.def.level, as_of, facts).await? {
                inputs.insert(b.code.clone(), super::facts::area_inputs(&set, &b));
            }
        }
        let r = crate::rules::run(
            s,
            &system,
            &set.def.id,
            Some(county),
            Some(as_of),
            true,
            &inputs,
            &|_| {},
        )
        .await?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            set = %set.def.id,
            "demo: stored run"
        );
        out.runs.push(DemoRun {
            set_id: set.def.id.clone(),
            run_id: r.run_id,
            as_of,
            total: r.total,
        });
    }
    Ok(out)
}

/// What the village (or county, by `level`) exit sets know of each area of `county` as of
/// `as_of`: its registered people and poor people then, the TV coverage of its households'
/// facts, and whether it had met the exit standards (a village never poor or past its exit
/// year; the county once every 贫困村 had exited).
async fn area_bases(
    s: &Services,
    county: &str,
    level: Level,
    as_of: NaiveDate,
    facts: &[(String, DemoFacts)],
) -> Result<Vec<AreaBasis>> {
    use std::collections::BTreeMap;
    let mut conn = s.db.acquire().await?;
    let villages = xiuhua_db::regions::list_level(
        &mut conn,
        xiuhua_domain::RegionLevel::Village.as_i16(),
        county,
    )
    .await?;
    let met_by = |v: &xiuhua_db::regions::RegionRow| {
        v.is_poor_village == 0 || v.poor_exit_year.is_some_and(|y| y <= as_of.year())
    };
    let mut people: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for t in xiuhua_db::regions::children(&mut conn, county).await? {
        let rows =
            xiuhua_db::households::counts_as_of(&mut conn, &t.code, &as_of.to_string()).await?;
        for r in rows {
            let e = people.entry(r.child_code.clone()).or_default();
            e.0 += r.people;
            if r.status == "poor" {
                e.1 += r.people;
            }
        }
    }
    // TV signal by village: households' facts keyed by 户编号, which begins with the village.
    let mut tv: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for (no, f) in facts {
        if let Some(v) = no.get(..12) {
            let e = tv.entry(v).or_default();
            e.0 += u32::from(f.has_tv_signal);
            e.1 += 1;
        }
    }
    let tv_rate = |(with, all): (u32, u32)| {
        if all == 0 {
            100.0
        } else {
            f64::from(with) / f64::from(all) * 100.0
        }
    };
    let basis = |code: &str, (p, poor): (i64, i64), tv: (u32, u32), met: bool| AreaBasis {
        code: code.to_string(),
        people: p,
        poor_people: poor,
        tv_rate: tv_rate(tv),
        met,
    };
    Ok(match level {
        Level::Village => villages
            .iter()
            .map(|v| {
                let p = people.get(&v.code).copied().unwrap_or_default();
                let t = tv.get(v.code.as_str()).copied().unwrap_or_default();
                basis(&v.code, p, t, met_by(v))
            })
            .collect(),
        _ => {
            let p = people.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let t = tv.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            vec![basis(county, p, t, villages.iter().all(met_by))]
        }
    })
}
