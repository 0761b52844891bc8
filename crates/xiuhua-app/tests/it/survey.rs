//! 入户核查: facts the rule sets read, recorded as events and read back by checklists, stored
//! runs and their explanations as of any date; unknown names, wrong types, scope and roles
//! refused; given inputs override the recorded ones.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use xiuhua_app::auth::Role;
use xiuhua_app::registry::{self, ChangeMeta};
use xiuhua_app::rules::{self, Checklist};
use xiuhua_app::{Error, survey};
use xiuhua_domain::event::{EventKind, SourceKind};
use xiuhua_rules::{Level, Outcome};

use crate::support::*;

const EXIT: &str = "national-household-exit";

fn facts(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn survey_meta(date: chrono::NaiveDate) -> ChangeMeta {
    ChangeMeta {
        source: SourceKind::Survey,
        ..ChangeMeta::manual(date, "入户核查")
    }
}

/// The outcome of one item of one set in checklists.
fn item(lists: &[Checklist], set: &str, code: &str) -> Outcome {
    let l = lists.iter().find(|l| l.set_id == set).expect(set);
    l.items.iter().find(|i| i.code == code).expect(code).outcome
}

async fn lists_on(
    c: &Ctx,
    id: i64,
    on: chrono::NaiveDate,
    given: &BTreeMap<String, Value>,
) -> Vec<Checklist> {
    rules::household_checklists(&c.s, &admin(), id, Some(on), given)
        .await
        .unwrap()
}

#[tokio::test]
async fn recorded_facts_are_events_the_checklists_read_as_of_their_date() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    let village = user(Role::Village, VILLAGE_A);
    let v = survey::record_facts(
        &c.s,
        &village,
        id,
        1,
        &facts(&[
            ("no_worry_food_clothing", json!(true)),
            ("rigid_expense", json!(1200)),
        ]),
        &survey_meta(d(2018, 6, 1)),
    )
    .await
    .unwrap();
    assert_eq!(v, 2);
    // One 入户核查 event, with who, source and date.
    let view = registry::household(&c.s, &admin(), id, None).await.unwrap();
    let e = view.events.last().unwrap();
    assert_eq!(e.kind, EventKind::Survey);
    assert_eq!(e.source, SourceKind::Survey);
    assert_eq!(e.actor, village.username);
    assert_eq!(e.effective_date, d(2018, 6, 1));
    // The current state carries the facts; an int given for a double is stored as a double.
    assert_eq!(view.state.fields.facts["rigid_expense"], json!(1200.0));
    // As of a date before the survey the fact is unknown, after it it is read.
    let none = BTreeMap::new();
    let before = lists_on(&c, id, d(2018, 5, 31), &none).await;
    assert_eq!(item(&before, EXIT, "food_clothing"), Outcome::Unknown);
    let after = lists_on(&c, id, d(2018, 12, 31), &none).await;
    assert_eq!(item(&after, EXIT, "food_clothing"), Outcome::Pass);
    // Given inputs override the recorded ones (what-if).
    let what_if = lists_on(
        &c,
        id,
        d(2018, 12, 31),
        &facts(&[("no_worry_food_clothing", json!(false))]),
    )
    .await;
    assert_eq!(item(&what_if, EXIT, "food_clothing"), Outcome::Fail);
    // A later survey changing nothing writes nothing; forgetting a fact (null) is an event.
    let same = survey::record_facts(
        &c.s,
        &village,
        id,
        2,
        &facts(&[("no_worry_food_clothing", json!(true))]),
        &survey_meta(d(2019, 1, 1)),
    )
    .await
    .unwrap();
    assert_eq!(same, 2);
    survey::record_facts(
        &c.s,
        &village,
        id,
        2,
        &facts(&[("no_worry_food_clothing", Value::Null)]),
        &survey_meta(d(2019, 1, 1)),
    )
    .await
    .unwrap();
    let later = lists_on(&c, id, d(2019, 12, 31), &none).await;
    assert_eq!(item(&later, EXIT, "food_clothing"), Outcome::Unknown);
    let back = lists_on(&c, id, d(2018, 12, 31), &none).await;
    assert_eq!(
        item(&back, EXIT, "food_clothing"),
        Outcome::Pass,
        "the past keeps the facts known then"
    );
}

#[tokio::test]
async fn undeclared_names_wrong_types_scope_and_roles_are_refused() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    let events = total_events(&c).await;
    let m = survey_meta(d(2020, 6, 1));
    let refused = |r: Result<i64, Error>, code: &str, needle: &str| match r {
        Err(Error::Invalid(errs)) => {
            assert_eq!(errs[0].code, code);
            let zh = errs[0].message.render(xiuhua_domain::message::Lang::Zh);
            assert!(zh.contains(needle), "{zh}");
        }
        other => panic!("expected {code}, got {other:?}"),
    };
    refused(
        survey::record_facts(
            &c.s,
            &admin(),
            id,
            1,
            &facts(&[("owns_rocket", json!(true))]),
            &m,
        )
        .await,
        "unknown_fact",
        "owns_rocket",
    );
    refused(
        survey::record_facts(
            &c.s,
            &admin(),
            id,
            1,
            &facts(&[("no_worry_food_clothing", json!(3))]),
            &m,
        )
        .await,
        "fact_wrong_type",
        "不愁吃、不愁穿",
    );
    refused(
        survey::record_facts(
            &c.s,
            &admin(),
            id,
            1,
            &facts(&[("rigid_expense", json!("很多"))]),
            &m,
        )
        .await,
        "fact_wrong_type",
        "刚性支出",
    );
    // Outside the user's village: not found; a read-only role in scope: forbidden.
    let other = user(Role::Village, VILLAGE_B);
    let ok = facts(&[("no_worry_food_clothing", json!(true))]);
    assert!(matches!(
        survey::record_facts(&c.s, &other, id, 1, &ok, &m).await,
        Err(Error::NotFound { .. })
    ));
    for role in [Role::Viewer, Role::Cadre] {
        let ro = user(role, VILLAGE_A);
        assert!(matches!(
            survey::record_facts(&c.s, &ro, id, 1, &ok, &m).await,
            Err(Error::Forbidden(_))
        ));
        // They see the form, read-only.
        let f = survey::survey_form(&c.s, &ro, id, None).await.unwrap();
        assert!(!f.can_write);
    }
    assert_eq!(total_events(&c).await, events, "nothing written");
    // Checklists given an undeclared input (the CLI's --facts) refuse it.
    let bad = facts(&[("no_such_input", json!(true))]);
    assert!(matches!(
        rules::household_checklists(&c.s, &admin(), id, None, &bad).await,
        Err(Error::Invalid(_))
    ));
    // So does a batch run given one.
    let mut unit = xiuhua_app::rules::UnitInputs::new();
    unit.insert("H001".into(), bad);
    assert!(
        rules::run(
            &c.s,
            &admin(),
            EXIT,
            Some("451228"),
            Some(d(2018, 12, 31)),
            false,
            &unit,
            &|_| {}
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn stored_runs_read_the_recorded_facts_and_explain_them_later() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    survey::record_facts(
        &c.s,
        &admin(),
        id,
        1,
        &facts(&[("no_worry_food_clothing", json!(true))]),
        &survey_meta(d(2018, 3, 1)),
    )
    .await
    .unwrap();
    let none = xiuhua_app::rules::UnitInputs::new();
    let r = rules::run(
        &c.s,
        &admin(),
        EXIT,
        Some("451228"),
        Some(d(2018, 12, 31)),
        true,
        &none,
        &|_| {},
    )
    .await
    .unwrap();
    let food = r.items.iter().find(|i| i.code == "food_clothing").unwrap();
    assert_eq!((food.pass, food.unknown), (1, 0));
    // A survey recorded after the run (even backdated) does not change how the stored result
    // is explained.
    let later = xiuhua_app::Services::new(
        c.s.db.clone(),
        std::sync::Arc::new(xiuhua_app::FixedClock(
            chrono::TimeZone::with_ymd_and_hms(
                &chrono::Utc,
                TODAY.0,
                TODAY.1,
                TODAY.2 + 1,
                2,
                0,
                0,
            )
            .unwrap(),
        )),
    )
    .await
    .unwrap();
    survey::record_facts(
        &later,
        &admin(),
        id,
        2,
        &facts(&[("no_worry_food_clothing", json!(false))]),
        &survey_meta(d(2018, 3, 1)),
    )
    .await
    .unwrap();
    let (_, list, same) = rules::explain_stored(&later, &admin(), r.run_id.unwrap(), id)
        .await
        .unwrap();
    assert!(same);
    assert_eq!(
        list.items
            .iter()
            .find(|i| i.code == "food_clothing")
            .unwrap()
            .outcome,
        Outcome::Pass
    );
}

#[tokio::test]
async fn the_form_groups_the_declared_inputs_and_the_preview_reads_entered_values() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    // The union of declared household inputs has types, labels and groups.
    let all = survey::declared(&c.s, Level::Household);
    let food = all
        .iter()
        .find(|d| d.name == "no_worry_food_clothing")
        .unwrap();
    assert_eq!((food.ty, food.group.as_str()), ("bool", "两不愁"));
    let rigid = all.iter().find(|d| d.name == "rigid_expense").unwrap();
    assert!(rigid.money);
    // Today (2026) the monitoring set is in force: its inputs are on the form, grouped.
    let f = survey::survey_form(&c.s, &admin(), id, None).await.unwrap();
    let names: Vec<&str> = f.groups.iter().map(|g| g.name.as_str()).collect();
    assert!(names.contains(&"收入与支出"), "{names:?}");
    assert!(f.can_write);
    // A blank yes/no is unknown, never 否; numbers with separators are read.
    let entered: BTreeMap<String, String> = [
        ("fact.sudden_hardship".to_string(), "yes".to_string()),
        ("fact.rigid_expense".to_string(), "12,000".to_string()),
        ("fact.income_last_year".to_string(), "".to_string()),
    ]
    .into_iter()
    .collect();
    let (vals, errs) = survey::parse_form(&all, &entered);
    assert!(errs.is_empty());
    assert_eq!(vals["sudden_hardship"], json!(true));
    assert_eq!(vals["rigid_expense"], json!(12000.0));
    assert_eq!(vals["income_last_year"], Value::Null);
    let lists = survey::preview(&c.s, &admin(), id, &entered).await.unwrap();
    let m = lists
        .iter()
        .find(|l| l.set_id == "national-monitoring-2026")
        .unwrap();
    let hardship = m
        .items
        .iter()
        .find(|i| i.code == "sudden_hardship")
        .unwrap();
    assert_eq!(hardship.outcome, Outcome::Pass, "突发严重困难 triggers");
    // Nothing was written by the preview.
    let v = registry::household(&c.s, &admin(), id, None).await.unwrap();
    assert!(v.state.fields.facts.is_empty());
    let bad: BTreeMap<String, String> = [("fact.rigid_expense".to_string(), "很多".to_string())]
        .into_iter()
        .collect();
    assert_eq!(survey::parse_form(&all, &bad).1.len(), 1);
}
