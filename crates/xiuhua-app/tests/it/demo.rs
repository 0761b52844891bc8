//! The demo county: realistic shape, deterministic for a seed.

use xiuhua_app::demo::{self, DemoSpec};
use xiuhua_app::registry::{self, SearchParams};
use xiuhua_domain::RegistryStatus;

use crate::support::*;

async fn load(seed: u64) -> (Ctx, Vec<(String, String, String)>) {
    let c = empty_ctx().await;
    let spec = DemoSpec {
        county: "451228".into(),
        seed,
        households: 300,
        today: today(),
        batch: 120,
    };
    let stats = demo::load(&c.s, &spec, &|_, _| {}).await.unwrap();
    assert_eq!(stats.households, 300);
    let (list, total) = registry::search(
        &c.s,
        &admin(),
        &SearchParams {
            region: Some("451228".into()),
            page: 1,
            per_page: 500,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(total, 300);
    (
        c,
        list.into_iter()
            .map(|h| (h.household_no, h.head_name, h.head_id_number))
            .collect(),
    )
}

#[tokio::test]
async fn the_same_seed_gives_the_same_county_and_another_seed_does_not() {
    let (c, a) = load(7).await;
    let (_, b) = load(7).await;
    assert_eq!(a, b);
    let (_, other) = load(8).await;
    assert_ne!(a, other);

    let county = registry::region(&c.s, &admin(), "451228", None)
        .await
        .unwrap();
    assert_eq!(county.children.len(), 19, "19 townships");
    let villages: usize = {
        let mut n = 0;
        for (t, _) in &county.children {
            n += registry::region(&c.s, &admin(), &t.code, None)
                .await
                .unwrap()
                .children
                .len();
        }
        n
    };
    assert_eq!(villages, 248);
    // Every poor household has exited by now; in 2017 many were still poor.
    assert_eq!(county.counts.status(RegistryStatus::Poor).households, 0);
    let past = registry::region(&c.s, &admin(), "451228", Some(d(2017, 6, 30)))
        .await
        .unwrap();
    assert!(past.counts.status(RegistryStatus::Poor).households > 10);
    // A demo cannot be loaded twice into the same registry.
    let spec = DemoSpec {
        county: "451228".into(),
        seed: 7,
        households: 10,
        today: today(),
        batch: 10,
    };
    assert!(demo::load(&c.s, &spec, &|_, _| {}).await.is_err());
    // Demo households can be edited through the ordinary write path (ids were reserved).
    let h = registry::search(
        &c.s,
        &admin(),
        &SearchParams {
            page: 1,
            per_page: 1,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .0[0]
        .id;
    let v = registry::household(&c.s, &admin(), h, None).await.unwrap();
    let baby = member("新生", "07", d(2026, 1, 5), 3);
    registry::add_member(
        &c.s,
        &admin(),
        h,
        v.version,
        baby,
        Some("06".into()),
        &meta(d(2026, 1, 5)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_demo_fills_a_county_from_a_supplied_region_file() {
    let c = ctx().await;
    let csv = "code,name\n450332,恭城瑶族自治县\n450332100,恭城镇\n450332100201,黄岭村\n450332100202,大合村\n450332101,栗木镇\n450332101201,栗田村\n";
    let rows = xiuhua_app::regions::parse_region_csv(csv).unwrap();
    xiuhua_app::regions::import_regions(&c.s, &admin(), &rows)
        .await
        .unwrap();
    let spec = DemoSpec {
        county: "450332".into(),
        seed: 1,
        households: 60,
        today: today(),
        batch: 25,
    };
    demo::load(&c.s, &spec, &|_, _| {}).await.unwrap();
    let county = registry::region(&c.s, &admin(), "450332", None)
        .await
        .unwrap();
    assert_eq!(county.counts.total.households, 60);
    let names: Vec<&str> = county
        .children
        .iter()
        .map(|(r, _)| r.name.as_str())
        .collect();
    assert_eq!(names, vec!["恭城镇", "栗木镇"]);
    let (list, _) = registry::search(
        &c.s,
        &admin(),
        &SearchParams {
            region: Some("450332".into()),
            page: 1,
            per_page: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        list.iter().all(|h| h.id / 10_000_000_000 == 450332),
        "ids embed the county"
    );
    // A county without villages is refused with a clear message.
    let spec = DemoSpec {
        county: "450329".into(),
        seed: 1,
        households: 5,
        today: today(),
        batch: 5,
    };
    let e = demo::load(&c.s, &spec, &|_, _| {}).await.unwrap_err();
    assert!(
        e.message_zh().contains("import-regions"),
        "{}",
        e.message_zh()
    );
}

/// SHA-256 over everything the generator produces for a small county (regions, then every
/// batch's households, members, events, periods and final states, in order).
fn generated_digest(seed: u64, households: usize, batch: usize) -> String {
    use sha2::{Digest, Sha256};
    let spec = DemoSpec {
        county: "451228".into(),
        seed,
        households,
        today: d(2025, 6, 30),
        batch,
    };
    let (regions, villages) = demo::regions(seed);
    let mut h = Sha256::new();
    h.update(format!("{regions:?}{villages:?}"));
    let mut generator = demo::generate::Generator::new(&spec, villages);
    let mut left = households;
    while left > 0 {
        let n = left.min(batch);
        let b = generator.batch(n).unwrap();
        h.update(format!(
            "{:?}{:?}{:?}{:?}{:?}",
            b.households, b.members, b.events, b.periods, b.states
        ));
        left -= n;
    }
    h.update(format!("{:?}", generator.next_ids()));
    hex::encode(h.finalize())
}

/// The generated data is fixed by the seed: a refactoring of the generator that calls the RNG
/// in another order (or changes any value) changes this digest. (Changed when periods gained
/// their 村民小组, and when issue 13 gave households one income model, 分户 and the facts
/// of the rule inputs, and when those facts became each household's 入户核查 event.)
#[test]
fn the_generator_output_for_a_seed_does_not_change() {
    assert_eq!(
        generated_digest(7, 400, 150),
        "698630bc6926768b8aeedc4241d78ba74067c6bce0cb6c48e41630aed5fb03e6"
    );
}

#[tokio::test]
async fn the_complete_demo_has_users_of_every_role_closed_years_department_data_and_stored_runs() {
    use chrono::Datelike;
    use xiuhua_app::auth::{self, Role};

    let c = empty_ctx().await;
    let spec = DemoSpec {
        county: "451228".into(),
        seed: 5,
        households: 300,
        today: today(),
        batch: 300,
    };
    let stats = demo::load_complete(&c.s, &spec, &|_, _| {}).await.unwrap();
    assert_eq!(stats.households, 300);
    let x = &stats.extras;
    // Every role but the administrator (made on first serve) has an account that logs in,
    // with a region of its level.
    for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
        let u = x
            .users
            .iter()
            .find(|u| u.role == role)
            .unwrap_or_else(|| panic!("no {role:?} user"));
        assert!(!u.password.contains(&u.username));
        let (_, me) = auth::login(&c.s, &u.username, &u.password, "127.0.0.1")
            .await
            .unwrap();
        assert_eq!(me.role, role);
        let level = match role {
            Role::County | Role::Viewer => 6,
            Role::Township => 9,
            _ => 12,
        };
        assert_eq!(me.region_code.len(), level, "{role:?}");
    }
    // Years up to the last full one are closed, each with its frozen snapshot.
    let last = today().year() - 1;
    assert_eq!(x.closed_years, (2014..=last).collect::<Vec<_>>());
    for year in [2014, 2018, last] {
        let r = registry::region(&c.s, &admin(), "451228", Some(d(year, 12, 31)))
            .await
            .unwrap();
        let (y, counts) = r
            .snapshot
            .unwrap_or_else(|| panic!("no snapshot of {year}"));
        assert_eq!(y, year);
        assert_eq!(counts.total.households, r.counts.total.households);
    }
    // A department pushed data.
    assert!(x.pushed_rows > 0);
    let batches = xiuhua_app::departments::batches(&c.s, &admin(), 10)
        .await
        .unwrap();
    assert_eq!(batches.len(), 1);
    // A stored run of each shipped rule set that covers the county, and the exit standards
    // judge households (no 无法判断 for lack of facts).
    let runs = xiuhua_app::rules::recent_runs(&c.s, &admin(), 50)
        .await
        .unwrap();
    let covering =
        c.s.rules()
            .current()
            .iter()
            .filter(|s| s.def.region.is_empty() || "451228".starts_with(s.def.region.as_str()))
            .count();
    assert_eq!(runs.len(), covering);
    assert_eq!(x.runs.len(), covering);
    for id in ["national-household-exit", "gx-household-exit-2018"] {
        let r = x.runs.iter().find(|r| r.set_id == id).unwrap();
        assert!(r.total.units > 250, "{id}: {:?}", r.total);
        assert_eq!(r.total.unknowns, 0, "{id}: {:?}", r.total);
    }
    // The village and county exit sets get the survey figures the registry does not hold
    // (rates, roads, services): a verdict for every village and the county; as of 2020 most
    // are 达标, as of 2016 the poor villages that had not exited yet fall short.
    for id in [
        "gx-village-exit-2016",
        "gx-village-exit-2018",
        "gx-county-exit",
        "national-county-exit",
    ] {
        let r = x.runs.iter().find(|r| r.set_id == id).unwrap();
        eprintln!("{id}: {:?}", r.total);
        assert!(r.total.units >= 1, "{id}: {:?}", r.total);
        assert_eq!(r.total.unknowns, 0, "{id}: {:?}", r.total);
        if id != "gx-village-exit-2016" {
            // As of 2020 every 贫困村 had exited.
            assert!(
                r.total.holds * 2 > r.total.units,
                "{id}: mostly 达标: {:?}",
                r.total
            );
        }
    }
    // Household pages: the facts are recorded (入户核查 events), so every exit, identification
    // and monitoring checklist gives a verdict, now and as of past years.
    let sample = registry::search(
        &c.s,
        &admin(),
        &registry::SearchParams {
            region: Some("451228".into()),
            page: 1,
            per_page: 40,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .0;
    let mut judged = 0;
    for h in &sample {
        for on in [
            None,
            Some(d(2015, 12, 31)),
            Some(d(2018, 12, 31)),
            Some(d(2020, 12, 31)),
        ] {
            let v = registry::household(&c.s, &admin(), h.id, on).await.unwrap();
            if v.state.fields.household_no.is_empty() {
                continue;
            }
            for l in xiuhua_app::rules::checklists_of(&c.s, &v, &Default::default()) {
                if l.purpose == "quality" {
                    continue;
                }
                judged += 1;
                assert_ne!(
                    l.decision,
                    xiuhua_rules::Outcome::Unknown,
                    "{} as of {on:?}: {} {:?}",
                    h.household_no,
                    l.set_id,
                    l.items
                        .iter()
                        .filter(|i| i.outcome == xiuhua_rules::Outcome::Unknown)
                        .map(|i| (&i.code, &i.explain))
                        .collect::<Vec<_>>()
                );
            }
        }
    }
    assert!(judged > 60, "{judged}");
    let villages = x
        .runs
        .iter()
        .find(|r| r.set_id == "gx-village-exit-2016")
        .unwrap();
    assert!(
        villages.total.units > 150,
        "the villages with households: {:?}",
        villages.total
    );
    assert!(
        villages.total.fails > 0 && villages.total.holds > 0,
        "both verdicts in 2016: {:?}",
        villages.total
    );
}
