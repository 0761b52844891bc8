//! The demo county: a realistic synthetic county modelled on 都安瑶族自治县 (451228).
//!
//! Seed figures (shared/domain.md §1.2): 19 townships (real codes and names), 248 villages of
//! which 147 are 贫困村 exiting 2016:16, 2017:14, 2018:13, 2019:35, 2020:69; about 70万 rural
//! people, about 15万 registered poor exiting 2016–2020, monitoring objects after 2020. Names,
//! identity numbers and histories are synthetic, deterministic for a seed, and go through the
//! same event fold, validation and storage code as real data.

pub mod facts;
pub mod finish;
pub mod generate;
pub mod names;

use std::collections::HashSet;
use xiuhua_domain::message::msg;

use anyhow::Context;
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use xiuhua_db::regions::RegionRow;
use xiuhua_domain::{RegionCode, RegionLevel, validate_household};

use crate::regions::region_row;
use crate::{Error, Result, Services};

/// The county the demo models.
pub const COUNTY_CODE: &str = "451228";
/// Its name.
pub const COUNTY_NAME: &str = "都安瑶族自治县";

/// The 19 townships of 都安 (NBS 2022 codes, shared/domain.md §8.3).
pub const TOWNSHIPS: [(&str, &str); 19] = [
    ("100", "安阳镇"),
    ("101", "高岭镇"),
    ("102", "地苏镇"),
    ("103", "下坳镇"),
    ("104", "拉烈镇"),
    ("105", "百旺镇"),
    ("106", "澄江镇"),
    ("107", "大兴镇"),
    ("108", "拉仁镇"),
    ("109", "永安镇"),
    ("204", "东庙乡"),
    ("208", "隆福乡"),
    ("209", "保安乡"),
    ("210", "板岭乡"),
    ("212", "三只羊乡"),
    ("213", "龙湾乡"),
    ("214", "菁盛乡"),
    ("217", "加贵乡"),
    ("219", "九渡乡"),
];

/// Villages and 贫困村 exits per year (2016–2020).
pub const VILLAGES: usize = 248;
/// 贫困村 exit counts by year.
pub const POOR_VILLAGE_EXITS: [(i32, usize); 5] =
    [(2016, 16), (2017, 14), (2018, 13), (2019, 35), (2020, 69)];

/// Households in the default demo (≈70万 people at ≈4.3 per household).
pub const DEFAULT_HOUSEHOLDS: usize = 163_000;

/// What to generate.
#[derive(Clone, Debug)]
pub struct DemoSpec {
    /// County code. If its townships and villages are already stored (imported from a region
    /// file), households are generated into them; otherwise the county must be 都安 (451228),
    /// whose region tree is generated.
    pub county: String,
    /// Random seed: the same seed gives the same county.
    pub seed: u64,
    /// Number of households.
    pub households: usize,
    /// The date the history runs up to.
    pub today: NaiveDate,
    /// Households per database transaction.
    pub batch: usize,
}

/// A generated village with the facts households are drawn from.
#[derive(Clone, Debug)]
pub struct DemoVillage {
    /// 12-digit code.
    pub code: String,
    /// Whether it is a 贫困村.
    pub poor: bool,
    /// Its 村民小组 codes.
    pub groups: Vec<String>,
}

/// Generates the region tree: province, city, county, townships, villages, groups.
pub fn regions(seed: u64) -> (Vec<RegionRow>, Vec<DemoVillage>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f2e_6104_75aa);
    let mut rows = Vec::new();
    let mut push = |code: &str, name: &str| {
        if let Ok(c) = RegionCode::parse(code) {
            rows.push(region_row(&c, name));
        }
    };
    push("45", "广西壮族自治区");
    push("4512", "河池市");
    push(COUNTY_CODE, COUNTY_NAME);
    let mut villages = Vec::new();
    let mut used_names = HashSet::new();
    for (ti, (tcode, tname)) in TOWNSHIPS.iter().enumerate() {
        let township = format!("{COUNTY_CODE}{tcode}");
        push(&township, tname);
        // 248 villages over 19 townships: 13 each, the first one gets 14.
        let n = VILLAGES / TOWNSHIPS.len() + usize::from(ti < VILLAGES % TOWNSHIPS.len());
        for vi in 0..n {
            let code = format!("{township}{:03}", 200 + vi);
            let mut name = names::village_name(&mut rng);
            while !used_names.insert(name.clone()) {
                name = names::village_name(&mut rng);
            }
            push(&code, &name);
            let groups: Vec<String> = (1..=rng.random_range(6..=16))
                .map(|g| format!("{code}{g:03}"))
                .collect();
            for (gi, g) in groups.iter().enumerate() {
                push(g, &names::group_name(gi + 1));
            }
            villages.push(DemoVillage {
                code,
                poor: false,
                groups,
            });
        }
    }
    // Pick the 147 贫困村 and give them exit years.
    let mut order: Vec<usize> = (0..villages.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let mut k = 0;
    for (year, count) in POOR_VILLAGE_EXITS {
        for _ in 0..count {
            let v = &mut villages[order[k]];
            v.poor = true;
            if let Some(r) = rows.iter_mut().find(|r| r.code == v.code) {
                r.is_poor_village = 1;
                r.poor_exit_year = Some(year);
            }
            k += 1;
        }
    }
    (rows, villages)
}

/// Villages already stored under a county (from a user's region file), with their groups; groups
/// are invented (and returned for storing) where a village has none, and if no village is
/// marked as a 贫困村, about 59 % (都安's 147 of 248) are chosen at random.
async fn stored_villages(
    conn: &mut xiuhua_db::AnyConnection,
    county: &str,
    seed: u64,
) -> Result<Option<(Vec<DemoVillage>, Vec<RegionRow>)>> {
    let rows = xiuhua_db::regions::list_level(conn, RegionLevel::Village.as_i16(), county).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let groups = xiuhua_db::regions::list_level(conn, RegionLevel::Group.as_i16(), county).await?;
    let any_poor = rows.iter().any(|r| r.is_poor_village == 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0dd5_eed5);
    let mut new_groups = Vec::new();
    let mut villages = Vec::new();
    for v in rows {
        let mut g: Vec<String> = groups
            .iter()
            .filter(|g| g.parent_code.as_deref() == Some(&v.code))
            .map(|g| g.code.clone())
            .collect();
        if g.is_empty() {
            for i in 1..=rng.random_range(6..=16) {
                let code = format!("{}{i:03}", v.code);
                if let Ok(c) = RegionCode::parse(&code) {
                    new_groups.push(region_row(&c, &names::group_name(i)));
                }
                g.push(code);
            }
        }
        let poor = if any_poor {
            v.is_poor_village == 1
        } else {
            rng.random_bool(147.0 / 248.0)
        };
        villages.push(DemoVillage {
            code: v.code,
            poor,
            groups: g,
        });
    }
    Ok(Some((villages, new_groups)))
}

/// Figures of a finished demo load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoStats {
    /// Regions written.
    pub regions: u64,
    /// Households written.
    pub households: u64,
    /// Members written.
    pub members: u64,
    /// Events written.
    pub events: u64,
    /// Users, department data, closed years and stored rule runs.
    pub extras: finish::DemoExtras,
}

/// Generates the demo county's households and loads them, reporting progress as (households
/// done, total): the registry alone, without users, closed years or rule runs (tests and
/// benchmarks that make their own). [`load_complete`] is the whole demo.
///
/// Refuses if the county already has households. Generation runs on a blocking thread while
/// the previous batch is being written, so both cores are busy.
pub async fn load(
    s: &Services,
    spec: &DemoSpec,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<DemoStats> {
    load_with(s, spec, progress, false).await
}

/// The whole demo county (`xiuhua demo`, `serve --demo`): the households of [`load`], then
/// users of every role, department data, the years up to the last full one closed, and a
/// stored run of each shipped rule set ([`finish::finish`]).
pub async fn load_complete(
    s: &Services,
    spec: &DemoSpec,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<DemoStats> {
    load_with(s, spec, progress, true).await
}

async fn load_with(
    s: &Services,
    spec: &DemoSpec,
    progress: &(dyn Fn(u64, u64) + Sync),
    complete: bool,
) -> Result<DemoStats> {
    let county = spec.county.as_str();
    let mut conn = s.db.acquire().await?;
    let filter = xiuhua_db::households::HouseholdFilter {
        region: county.into(),
        limit: 1,
        ..Default::default()
    };
    let existing = xiuhua_db::households::count(&mut conn, &filter).await?;
    if existing > 0 {
        return Err(Error::conflict(
            "demo_exists",
            msg("demo_exists")
                .arg("county", county)
                .arg("existing", existing),
        ));
    }
    let stored = stored_villages(&mut conn, county, spec.seed).await?;
    drop(conn);
    let mut stats = DemoStats::default();
    let villages = match stored {
        Some((villages, new_groups)) => {
            let mut tx = s.db.begin().await?;
            stats.regions = xiuhua_db::regions::upsert_many(&mut tx, &new_groups).await?;
            xiuhua_db::commit(tx).await?;
            villages
        }
        None if county == COUNTY_CODE => {
            let (region_rows, villages) = regions(spec.seed);
            let mut tx = s.db.begin().await?;
            stats.regions = xiuhua_db::regions::upsert_many(&mut tx, &region_rows).await?;
            xiuhua_db::commit(tx).await?;
            villages
        }
        None => {
            return Err(Error::invalid(
                county,
                "county",
                "no_villages",
                msg("no_villages").arg("county", county),
            ));
        }
    };

    let village_codes: Vec<String> = villages.iter().map(|v| v.code.clone()).collect();
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<anyhow::Result<generate::Batch>>(2);
    let gen_spec = spec.clone();
    let codes = s.codes();
    let producer = tokio::task::spawn_blocking(move || {
        let mut g = generate::Generator::new(&gen_spec, villages);
        let mut done = 0;
        while done < gen_spec.households {
            let n = gen_spec.batch.min(gen_spec.households - done);
            let batch = g.batch(n).and_then(|b| {
                for h in &b.states {
                    let errs = validate_household(h, &codes, gen_spec.today);
                    if let Some(e) = errs.first() {
                        anyhow::bail!("generated household fails validation: {e}");
                    }
                }
                Ok(b)
            });
            let failed = batch.is_err();
            let made = batch.as_ref().map_or(0, |b| b.households.len());
            if sender.blocking_send(batch).is_err() || failed {
                break;
            }
            done += made;
        }
        g.next_ids()
    });
    let total = spec.households as u64;
    let mut facts: Vec<(String, facts::DemoFacts)> = Vec::new();
    let mut id_numbers: Vec<String> = Vec::new();
    // Keys the rows PostgreSQL stages for COPY (`xiuhua_db::bulk`); one load at a time.
    let batch_key: i64 = rand::random();
    while let Some(batch) = receiver.recv().await {
        let b = batch.map_err(Error::Unexpected)?;
        let mut tx = s.db.begin().await?;
        let rows = xiuhua_db::bulk::BulkRows {
            households: b.households,
            members: b.members,
            events: b.events,
            periods: b.periods,
        };
        let written = match xiuhua_db::bulk::insert_bulk(&s.db, &mut tx, batch_key, &rows).await {
            Ok(w) => w,
            Err(e) => {
                drop(tx);
                // Rows PostgreSQL staged for COPY before the failure.
                let _ = xiuhua_db::bulk::discard_staged(&s.db, batch_key).await;
                return Err(e.into());
            }
        };
        xiuhua_db::commit(tx).await?;
        stats.members += written.members;
        stats.events += written.events;
        stats.households += written.households;
        facts.extend(b.facts);
        id_numbers.extend(rows.members.iter().step_by(40).map(|m| m.id_number.clone()));
        progress(stats.households, total);
    }
    let next = producer.await.context("demo generator thread")?;
    let mut tx = s.db.begin().await?;
    xiuhua_db::households::rebuild_counts(&mut tx, county).await?;
    for (kind, value) in next {
        let name = format!("{kind}:{county}");
        let cur = xiuhua_db::ids::reserve(&mut tx, &name, 0, value).await?;
        if cur < value {
            xiuhua_db::ids::reserve(&mut tx, &name, value - cur, value).await?;
        }
    }
    xiuhua_db::commit(tx).await?;
    // Fresh statistics let both query planners pick the right indexes on the new data.
    s.db.analyze().await?;
    tracing::debug!(households = stats.households, "demo: households loaded");
    if complete {
        stats.extras =
            finish::finish(s, county, spec.today, &village_codes, &id_numbers, &facts).await?;
    }
    s.db.checkpoint().await?;
    Ok(stats)
}
