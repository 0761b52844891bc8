//! The write path: events, validation, conflicts, "as of".

use serde_json::json;
use xiuhua_app::Error;
use xiuhua_app::registry::{self, ChangeMeta};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::{EventKind, RegistryStatus};

use crate::support::*;

fn patch(pairs: &[(&str, serde_json::Value)]) -> FieldPatch {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn codes(e: &Error) -> Vec<&'static str> {
    match e {
        Error::Invalid(errs) => errs.iter().map(|f| f.code).collect(),
        Error::Conflict { code, .. } => vec![code],
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn register_then_edit_keeps_history_and_answers_as_of() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    let v = registry::household(&c.s, &admin(), id, None).await.unwrap();
    assert_eq!(v.version, 1);
    assert_eq!(v.state.members.len(), 2);
    assert_eq!(v.state.members[0].sex, "1");
    assert_eq!(v.state.members[0].birth_date, Some(d(1970, 1, 2)));

    let p = patch(&[
        ("status", json!("lifted")),
        ("exit_year", json!(2018)),
        ("exit_batch", json!("2")),
    ]);
    let version = registry::edit_household(&c.s, &admin(), id, 1, p, &meta(d(2018, 12, 1)))
        .await
        .unwrap();
    assert_eq!(version, 2);

    let now = registry::household(&c.s, &admin(), id, None).await.unwrap();
    assert_eq!(now.state.fields.status, RegistryStatus::Lifted);
    assert_eq!(now.events.len(), 2);
    assert_eq!(now.events[1].kind, EventKind::StatusChanged);
    let before = registry::household(&c.s, &admin(), id, Some(d(2018, 11, 30)))
        .await
        .unwrap();
    assert_eq!(before.state.fields.status, RegistryStatus::Poor);
    let not_yet = registry::household(&c.s, &admin(), id, Some(d(2015, 9, 30)))
        .await
        .unwrap();
    assert!(not_yet.state.fields.household_no.is_empty());

    // Region counts now and as of a past date.
    let county = registry::region(&c.s, &admin(), "451228", None)
        .await
        .unwrap();
    assert_eq!(county.counts.status(RegistryStatus::Lifted).households, 1);
    assert_eq!(county.counts.status(RegistryStatus::Lifted).people, 2);
    let past = registry::region(&c.s, &admin(), "451228", Some(d(2017, 1, 1)))
        .await
        .unwrap();
    assert_eq!(past.counts.status(RegistryStatus::Poor).households, 1);
    assert_eq!(past.counts.status(RegistryStatus::Lifted).households, 0);
    let township = past
        .children
        .iter()
        .find(|(r, _)| r.code == "451228101")
        .unwrap();
    assert_eq!(township.1.total.people, 2);
}

#[tokio::test]
async fn members_added_and_removed_change_counts_from_their_date() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    let baby = member("韦三", "03", d(2019, 5, 6), 21);
    let mid = registry::add_member(
        &c.s,
        &admin(),
        id,
        1,
        baby,
        Some("06".into()),
        &meta(d(2019, 5, 6)),
    )
    .await
    .unwrap();
    registry::remove_member(
        &c.s,
        &admin(),
        id,
        2,
        mid,
        Some("08".into()),
        &meta(d(2022, 1, 1)),
    )
    .await
    .unwrap();
    let people_on = |date| {
        let s = c.s.clone();
        async move {
            registry::region(&s, &admin(), "451228", Some(date))
                .await
                .unwrap()
                .counts
                .total
                .people
        }
    };
    assert_eq!(people_on(d(2019, 5, 5)).await, 2);
    assert_eq!(people_on(d(2019, 5, 6)).await, 3);
    assert_eq!(people_on(d(2022, 1, 1)).await, 2);
    // The maintained village counts agree with a recount of the households.
    household(&c, "H002", VILLAGE_B, 13).await;
    let p = [
        ("status".to_string(), serde_json::json!("lifted")),
        ("exit_year".to_string(), serde_json::json!(2020)),
    ];
    registry::edit_household(
        &c.s,
        &admin(),
        id,
        3,
        p.into_iter().collect(),
        &meta(d(2020, 12, 1)),
    )
    .await
    .unwrap();
    let county = registry::region(&c.s, &admin(), "451228", None)
        .await
        .unwrap();
    let mut conn = c.s.db.acquire().await.unwrap();
    let mut recount = std::collections::BTreeMap::new();
    for v in [VILLAGE_A, VILLAGE_B] {
        for r in xiuhua_db::households::counts(&mut conn, v).await.unwrap() {
            let e = recount
                .entry((r.status.clone(), r.monitoring.clone()))
                .or_insert((0, 0));
            e.0 += r.households;
            e.1 += r.people;
        }
    }
    let lifted = recount[&("lifted".to_string(), "none".to_string())];
    assert_eq!(
        (
            county.counts.status(RegistryStatus::Lifted).households,
            county.counts.status(RegistryStatus::Lifted).people
        ),
        lifted
    );
    assert_eq!(lifted, (1, 2));
    let poor = recount[&("poor".to_string(), "none".to_string())];
    assert_eq!(
        county.counts.status(RegistryStatus::Poor).households,
        poor.0
    );
    assert_eq!(county.counts.total.households, 2);
}

#[tokio::test]
async fn the_same_person_in_two_households_is_refused_naming_both() {
    let c = ctx().await;
    household(&c, "H001", VILLAGE_A, 11).await;
    let taken = member("韦一", "01", d(1970, 1, 2), 11);
    let err = registry::register_household(
        &c.s,
        &admin(),
        fields("H002", VILLAGE_A),
        vec![taken],
        &meta(d(2016, 1, 1)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&err), vec!["id_number_taken"]);
    let msg = err.message_zh();
    assert!(msg.contains("H001") && msg.contains("H002"), "{msg}");
    assert_eq!(total_households(&c).await, 1, "nothing half-written");
}

#[tokio::test]
async fn bad_input_is_refused_with_record_field_and_reason_and_writes_nothing() {
    let c = ctx().await;
    let events = total_events(&c).await;
    // No head.
    let m = vec![member("韦一", "02", d(1970, 1, 2), 11)];
    let e = registry::register_household(
        &c.s,
        &admin(),
        fields("H1", VILLAGE_A),
        m,
        &meta(d(2016, 1, 1)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&e), vec!["no_head"]);
    // Two heads.
    let m = vec![
        member("韦一", "01", d(1970, 1, 2), 11),
        member("韦二", "01", d(1971, 1, 2), 13),
    ];
    let e = registry::register_household(
        &c.s,
        &admin(),
        fields("H1", VILLAGE_A),
        m,
        &meta(d(2016, 1, 1)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&e), vec!["two_heads"]);
    assert!(e.message_zh().contains("韦一、韦二"));
    // Invalid identity number, named by member and field.
    let mut bad = member("韦一", "01", d(1970, 1, 2), 11);
    bad.id_number.replace_range(
        17..18,
        if bad.id_number.ends_with('0') {
            "1"
        } else {
            "0"
        },
    );
    let e = registry::register_household(
        &c.s,
        &admin(),
        fields("H1", VILLAGE_A),
        vec![bad],
        &meta(d(2016, 1, 1)),
    )
    .await
    .unwrap_err();
    let Error::Invalid(errs) = &e else { panic!() };
    assert_eq!(
        (errs[0].field.as_str(), errs[0].code),
        ("id_number", "invalid_id_number")
    );
    assert!(errs[0].record.contains("韦一"));
    // Unknown code and unknown village.
    let mut f = fields("H1", VILLAGE_A);
    f.main_cause = Some("77".into());
    let e = registry::register_household(
        &c.s,
        &admin(),
        f,
        vec![member("韦一", "01", d(1970, 1, 2), 11)],
        &meta(d(2016, 1, 1)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&e), vec!["unknown_code"]);
    let e = registry::register_household(
        &c.s,
        &admin(),
        fields("H1", "451228101299"),
        vec![member("韦一", "01", d(1970, 1, 2), 11)],
        &meta(d(2016, 1, 1)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&e), vec!["unknown_region"]);
    // A date in the future.
    let e = registry::register_household(
        &c.s,
        &admin(),
        fields("H1", VILLAGE_A),
        vec![member("韦一", "01", d(1970, 1, 2), 11)],
        &meta(d(2030, 1, 1)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&e), vec!["future_date"]);
    assert_eq!(total_households(&c).await, 0);
    assert_eq!(total_events(&c).await, events);
}

#[tokio::test]
async fn a_change_dated_before_the_registration_is_refused_with_both_dates() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    let created = registry::household(&c.s, &admin(), id, None)
        .await
        .unwrap()
        .events[0]
        .effective_date;
    let events = total_events(&c).await;
    let e = registry::edit_household(
        &c.s,
        &admin(),
        id,
        1,
        patch(&[("phone", json!("13812345678"))]),
        &meta(d(2014, 1, 1)),
    )
    .await
    .unwrap_err();
    let Error::Invalid(errs) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (errs[0].field.as_str(), errs[0].code),
        ("effective_date", "change_before_created")
    );
    let zh = errs[0].message.zh();
    assert!(
        zh.contains("2014-01-01") && zh.contains(&created.to_string()),
        "{zh}"
    );
    assert_eq!(total_events(&c).await, events);
}

#[tokio::test]
async fn a_second_save_of_the_same_version_is_a_conflict() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    registry::edit_household(
        &c.s,
        &admin(),
        id,
        1,
        patch(&[("phone", json!("13800000001"))]),
        &meta(d(2020, 1, 1)),
    )
    .await
    .unwrap();
    let e = registry::edit_household(
        &c.s,
        &admin(),
        id,
        1,
        patch(&[("phone", json!("13900000002"))]),
        &meta(d(2020, 1, 2)),
    )
    .await
    .unwrap_err();
    assert_eq!(codes(&e), vec!["stale_version"]);
    let v = registry::household(&c.s, &admin(), id, None).await.unwrap();
    assert_eq!(v.state.fields.phone.as_deref(), Some("13800000001"));
}

#[tokio::test]
async fn a_member_moves_between_households_in_one_transaction() {
    let c = ctx().await;
    let a = household(&c, "H001", VILLAGE_A, 11).await;
    let b = household(&c, "H002", VILLAGE_A, 13).await;
    let va = registry::household(&c.s, &admin(), a, None).await.unwrap();
    let spouse = va
        .state
        .members
        .iter()
        .find(|m| m.relation == "02")
        .unwrap()
        .id;
    // The spouse of A becomes the spouse of B — but B already has one, so the move must fail…
    let e = registry::move_member(&c.s, &admin(), a, b, spouse, "01", &meta(d(2021, 3, 1)))
        .await
        .unwrap_err();
    assert_eq!(codes(&e), vec!["two_heads"]);
    assert_eq!(
        registry::household(&c.s, &admin(), a, None)
            .await
            .unwrap()
            .state
            .members
            .len(),
        2,
        "rolled back"
    );
    // …while moving in as another relation works, and both histories record it.
    registry::move_member(&c.s, &admin(), a, b, spouse, "12", &meta(d(2021, 3, 1)))
        .await
        .unwrap();
    let va = registry::household(&c.s, &admin(), a, None).await.unwrap();
    let vb = registry::household(&c.s, &admin(), b, None).await.unwrap();
    assert_eq!((va.state.members.len(), vb.state.members.len()), (1, 3));
    assert_eq!(va.events.last().unwrap().kind, EventKind::MemberMovedOut);
    assert_eq!(vb.events.last().unwrap().kind, EventKind::MemberMovedIn);
}

#[tokio::test]
async fn search_finds_by_name_number_and_id_and_masks_for_read_only_roles() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    household(&c, "H002", VILLAGE_B, 13).await;
    let p = |text: &str| registry::SearchParams {
        text: Some(text.into()),
        page: 1,
        per_page: 10,
        ..Default::default()
    };
    let (by_name, n) = registry::search(&c.s, &admin(), &p("韦")).await.unwrap();
    assert_eq!(n, 2);
    assert_eq!(by_name.len(), 2);
    let (by_member, _) = registry::search(&c.s, &admin(), &p("蓝二")).await.unwrap();
    assert_eq!(by_member.len(), 2);
    let (by_no, _) = registry::search(&c.s, &admin(), &p("H001")).await.unwrap();
    assert_eq!(by_no.iter().map(|h| h.id).collect::<Vec<_>>(), vec![id]);
    let head_id = idn(d(1970, 1, 2), 11);
    let (by_id, _) = registry::search(&c.s, &admin(), &p(&head_id.to_lowercase()))
        .await
        .unwrap();
    assert_eq!(by_id.iter().map(|h| h.id).collect::<Vec<_>>(), vec![id]);
    let viewer = user(xiuhua_app::Role::Viewer, "451228");
    let (masked, _) = registry::search(&c.s, &viewer, &p("H001")).await.unwrap();
    assert_eq!(
        masked[0].head_id_number,
        format!("{}**********{}", &head_id[..6], &head_id[16..])
    );
    let _ = ChangeMeta::manual(today(), "");
}
