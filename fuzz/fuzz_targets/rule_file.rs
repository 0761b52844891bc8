//! Arbitrary text as a rule-set file through `xiuhua_rules::RuleSet::load`; a set that loads is
//! evaluated (a loaded set must never fail at evaluation time), explained and translated to SQL.

#![no_main]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use xiuhua_domain::household::{HouseholdState, Member};
use xiuhua_rules::{AreaCounts, Facts, Level, RuleSet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set = match RuleSet::load("fuzz.toml", text) {
        Ok(set) => set,
        Err(e) => {
            let _ = e.to_string();
            let _ = e.to_zh();
            if let Some((line, col)) = e.position {
                assert!(line >= 1 && col >= 1, "positions are 1-based: {e}");
            }
            return;
        }
    };
    evaluate(&set);
});

fn evaluate(set: &RuleSet) {
    let first = set.def.years[0];
    let years = [first, set.def.years.get(1).copied().unwrap_or(first), 2020];
    let empty = HouseholdState::default();
    let family = family();
    let counts = AreaCounts {
        households: 120,
        people: 480,
        poor_households: 3,
        poor_people: 11,
        lifted_households: 40,
        lifted_people: 150,
        monitored_households: 2,
        monitored_people: 7,
    };
    for year in years {
        let _ = set.applies("450000000000", year);
        let params = set.params_for(year, &BTreeMap::new());
        let on = NaiveDate::from_ymd_opt(year.clamp(1, 9999), 12, 31).unwrap_or_default();
        let facts: Vec<Facts<'_>> = match set.def.level {
            Level::Household => vec![Facts::household(&empty, on), Facts::household(&family, on)],
            level => vec![
                Facts::area(level, "450000000000", year, &AreaCounts::default()),
                Facts::area(level, "450000000000", year, &counts),
            ],
        };
        let inputs = set.unknown_inputs();
        let mut outcomes = Vec::new();
        for f in &facts {
            let out = set.evaluate(f, &params, &inputs);
            assert_eq!(out.items.len(), set.items.len());
            for i in 0..set.items.len() {
                let _ = set.explain(i, f, &params, &inputs, None);
                let _ = set.values_used(i, f, &params, &inputs, None);
            }
            outcomes.push(out);
        }
        set.apply_quota(&mut outcomes);
        for i in 0..set.items.len() {
            let _ = xiuhua_bench::sql::item_sql(set, i, &params);
        }
    }
}

/// A small household with two members, so member comprehensions have something to walk.
fn family() -> HouseholdState {
    let mut h = HouseholdState::default();
    h.fields.household_no = "4501020010010001".into();
    h.fields.village_code = "450102001001".into();
    h.fields.other_causes = vec!["01".into(), "05".into()];
    h.fields.identified_year = Some(2014);
    h.fields.housing_area_m2 = Some(60.0);
    h.fields.water_safe = Some(true);
    h.fields.farmland_mu = Some(0.0);
    h.fields.income.year = Some(2019);
    h.fields.income.wage.0 = 1_200_000;
    h.fields.income.business_cost.0 = 50_000;
    h.members = vec![
        Member {
            id: 1,
            name: "韦桂英".into(),
            id_number: "11010519491231002X".into(),
            sex: "2".into(),
            birth_date: NaiveDate::from_ymd_opt(1949, 12, 31),
            relation: "01".into(),
            health: vec!["2".into(), "3".into()],
            work_months: Some(0),
            ..Member::default()
        },
        Member {
            id: 2,
            name: "李明".into(),
            id_number: "440524188001010014".into(),
            sex: "1".into(),
            birth_date: None,
            relation: "02".into(),
            work_months: Some(14),
            is_dibao: Some(true),
            ..Member::default()
        },
    ];
    h
}
