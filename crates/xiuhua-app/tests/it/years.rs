//! Closing a year: frozen snapshot, refusal of silent changes, explicit corrections.

use serde_json::json;
use xiuhua_app::registry::{self, ChangeMeta};
use xiuhua_domain::{EventKind, RegistryStatus};

use crate::support::*;

#[tokio::test]
async fn a_closed_year_is_frozen_and_only_an_explicit_correction_changes_it() {
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    registry::close_year(&c.s, &admin(), "451228", 2019)
        .await
        .unwrap();
    let p: xiuhua_domain::household::FieldPatch = [
        ("status".to_string(), json!("lifted")),
        ("exit_year".to_string(), json!(2019)),
    ]
    .into_iter()
    .collect();
    let e = registry::edit_household(&c.s, &admin(), id, 1, p.clone(), &meta(d(2019, 12, 1)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            xiuhua_app::Error::Conflict {
                code: "closed_year",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.message_zh().contains("2019年度动态调整已结束"));
    let no_reason = ChangeMeta {
        correction: true,
        reason: " ".into(),
        ..meta(d(2019, 12, 1))
    };
    assert!(
        registry::edit_household(&c.s, &admin(), id, 1, p.clone(), &no_reason)
            .await
            .is_err()
    );
    // A change effective after the closed year is ordinary.
    let later: xiuhua_domain::household::FieldPatch = [("phone".to_string(), json!("13800000000"))]
        .into_iter()
        .collect();
    registry::edit_household(&c.s, &admin(), id, 1, later, &meta(d(2020, 2, 1)))
        .await
        .unwrap();
    let fix = ChangeMeta {
        correction: true,
        reason: "核查发现2019年已脱贫，补录".into(),
        ..meta(d(2019, 12, 1))
    };
    registry::edit_household(&c.s, &admin(), id, 2, p, &fix)
        .await
        .unwrap();
    let v = registry::household(&c.s, &admin(), id, None).await.unwrap();
    assert_eq!(
        v.events
            .iter()
            .filter(|e| e.kind == EventKind::Correction)
            .count(),
        1
    );
    // History now says lifted at the end of 2019, but the frozen snapshot keeps what was reported.
    let end = registry::region(&c.s, &admin(), "451228", Some(d(2019, 12, 31)))
        .await
        .unwrap();
    assert_eq!(end.counts.status(RegistryStatus::Lifted).households, 1);
    let (year, frozen) = end.snapshot.unwrap();
    assert_eq!(year, 2019);
    assert_eq!(frozen.status(RegistryStatus::Poor).households, 1);
    assert_eq!(frozen.status(RegistryStatus::Lifted).households, 0);
    // The current year cannot be closed, nor a year twice.
    assert!(
        registry::close_year(&c.s, &admin(), "451228", 2026)
            .await
            .is_err()
    );
    assert!(
        registry::close_year(&c.s, &admin(), "451228", 2019)
            .await
            .is_err()
    );
    // An earlier year than the last closed one: the message says which years can be closed.
    let e = registry::close_year(&c.s, &admin(), "451228", 2017)
        .await
        .unwrap_err();
    assert_eq!(
        e.message_zh(),
        "2017年度不能关闭：2019年及以前的年度已关闭（年度动态调整按年度顺序关闭，已关闭的年度不能再关闭）；现在可以关闭的是2020年至2025年"
    );
    registry::close_year(&c.s, &admin(), "451228", 2025)
        .await
        .unwrap();
    let e = registry::close_year(&c.s, &admin(), "451228", 2020)
        .await
        .unwrap_err();
    assert!(
        e.message_zh()
            .contains("2026年尚未结束，目前没有可以关闭的年度"),
        "{}",
        e.message_zh()
    );
}

#[tokio::test]
async fn only_county_level_roles_may_correct_a_closed_year() {
    use xiuhua_app::auth::Role;
    let c = ctx().await;
    let id = household(&c, "H001", VILLAGE_A, 11).await;
    registry::close_year(&c.s, &admin(), "451228", 2019)
        .await
        .unwrap();
    let p: xiuhua_domain::household::FieldPatch = [("phone".to_string(), json!("13800000000"))]
        .into_iter()
        .collect();
    let fix = ChangeMeta {
        correction: true,
        reason: "核查发现电话登记错误".into(),
        ..meta(d(2019, 12, 1))
    };
    for (role, region) in [
        (Role::Village, VILLAGE_A),
        (Role::Township, &VILLAGE_A[..9]),
    ] {
        let e = registry::edit_household(&c.s, &user(role, region), id, 1, p.clone(), &fix)
            .await
            .unwrap_err();
        assert!(
            matches!(
                &e,
                xiuhua_app::Error::Conflict {
                    code: "closed_year",
                    ..
                }
            ),
            "{role:?}: {e:?}"
        );
        assert!(
            e.message_zh()
                .contains("该年度已结转，请联系县级管理员更正"),
            "{role:?}: {}",
            e.message_zh()
        );
    }
    registry::edit_household(&c.s, &user(Role::County, "451228"), id, 1, p, &fix)
        .await
        .unwrap();
}
