//! Tests of the benchmark crate: the rules harness writes what `bench/rules` hands to DuckDB,
//! and the SQL translation covers the shipped household items.

use std::collections::BTreeMap;

/// A small run writes one row per household, xiuhua's counts per predicate (each adding up to
/// the households), and a translation for every shipped household item.
#[test]
fn the_rules_harness_writes_data_and_predicates_for_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    xiuhua_bench::rules::bench(300, 7, Some(dir.path())).unwrap();
    let households = std::fs::read_to_string(dir.path().join("households.csv")).unwrap();
    assert_eq!(
        households.lines().count(),
        301,
        "header + one row per household"
    );
    let members = std::fs::read_to_string(dir.path().join("members.csv")).unwrap();
    assert!(
        members.lines().count() > 301,
        "several members per household"
    );
    let schema = std::fs::read_to_string(dir.path().join("schema.tsv")).unwrap();
    assert!(schema.starts_with("households\thid\tBIGINT\n"), "{schema}");
    let preds = std::fs::read_to_string(dir.path().join("predicates.tsv")).unwrap();
    let mut per_set: BTreeMap<&str, usize> = BTreeMap::new();
    for line in preds.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "{line}");
        let n: u64 = f[2..5].iter().map(|x| x.parse::<u64>().unwrap()).sum();
        assert_eq!(n, 300, "pass + fail + unknown of {} {}", f[0], f[1]);
        assert!(!f[5].trim().is_empty(), "an SQL expression: {line}");
        *per_set.entry(f[0]).or_default() += 1;
    }
    let shipped: Vec<_> = xiuhua_rules::shipped()
        .unwrap()
        .into_iter()
        .filter(|s| {
            s.def.level == xiuhua_rules::Level::Household
                && matches!(
                    s.def.purpose,
                    xiuhua_rules::Purpose::Exit
                        | xiuhua_rules::Purpose::Monitoring
                        | xiuhua_rules::Purpose::Quality
                )
        })
        .collect();
    for set in &shipped {
        assert_eq!(
            per_set.get(set.def.id.as_str()).copied().unwrap_or(0),
            set.items.len(),
            "every item of {} has a translation",
            set.def.id
        );
    }
}

/// Area rule sets have no translation (the tables are households and members).
#[test]
fn only_household_items_are_translated() {
    let sets = xiuhua_rules::shipped().unwrap();
    let area = sets
        .iter()
        .find(|s| s.def.level != xiuhua_rules::Level::Household)
        .expect("a shipped county or village rule set");
    let params = area.params_for(2020, &BTreeMap::new());
    assert_eq!(xiuhua_bench::sql::item_sql(area, 0, &params), None);
}
