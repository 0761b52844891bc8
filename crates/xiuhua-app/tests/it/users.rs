//! User management by administrators, own passwords, department tokens and pushes.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use xiuhua_app::auth::{NewUser, Role, login, session_user};
use xiuhua_app::departments::{PushError, push};
use xiuhua_app::users::{self, UserUpdate};
use xiuhua_app::{CurrentUser, Error, FixedClock, Services};

use crate::support::*;

const PW: &str = "Xiuhua-2026-strong";

async fn make(
    c: &Ctx,
    by: &CurrentUser,
    name: &str,
    role: Role,
    region: &str,
) -> Result<i64, Error> {
    xiuhua_app::auth::create_user(
        &c.s,
        by,
        NewUser {
            username: name.into(),
            password: PW.into(),
            display_name: name.into(),
            role,
            region_code: region.into(),
        },
    )
    .await
}

#[tokio::test]
async fn a_county_administrator_manages_only_the_county_and_changes_take_effect_at_once() {
    let c = ctx().await;
    let county_admin_id = make(&c, &admin(), "dazhang", Role::Admin, "451228")
        .await
        .unwrap();
    make(&c, &admin(), "other", Role::County, "451229")
        .await
        .unwrap();
    let (_, ca) = login(&c.s, "dazhang", PW, "").await.unwrap();
    assert_eq!(ca.id, county_admin_id);

    // Inside the county: yes. Outside, or a system-wide administrator: no.
    let gl = make(&c, &ca, "gl", Role::Township, "451228101")
        .await
        .unwrap();
    assert!(matches!(
        make(&c, &ca, "x1", Role::Township, "451229101").await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        make(&c, &ca, "x2", Role::Admin, "").await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        make(&c, &admin(), "x3", Role::County, "").await,
        Err(Error::Invalid(_))
    ));
    let township = user(Role::Township, "451228101");
    assert!(matches!(
        make(&c, &township, "x4", Role::Village, "451228101201").await,
        Err(Error::Forbidden(_))
    ));
    let names: Vec<String> = users::list(&c.s, &ca)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(
        names,
        vec!["dazhang", "gl"],
        "the other county's user is not listed"
    );

    // Deactivating (or narrowing) an account ends its sessions immediately.
    let (token, _) = login(&c.s, "gl", PW, "").await.unwrap();
    assert!(session_user(&c.s, &token).await.unwrap().is_some());
    let off = UserUpdate {
        display_name: "高岭".into(),
        role: Role::Township,
        region_code: "451228101".into(),
        active: false,
    };
    users::update(&c.s, &ca, gl, &off, "10.0.0.1")
        .await
        .unwrap();
    assert!(session_user(&c.s, &token).await.unwrap().is_none());
    assert!(matches!(
        login(&c.s, "gl", PW, "").await,
        Err(Error::BadCredentials)
    ));
    // Moving it out of the county is refused; so is deactivating oneself.
    let out = UserUpdate {
        region_code: "451229101".into(),
        ..off.clone()
    };
    assert!(matches!(
        users::update(&c.s, &ca, gl, &out, "").await,
        Err(Error::Forbidden(_))
    ));
    let me = UserUpdate {
        display_name: "大张".into(),
        role: Role::Admin,
        region_code: "451228".into(),
        active: false,
    };
    assert!(matches!(
        users::update(&c.s, &ca, county_admin_id, &me, "").await,
        Err(Error::Conflict { .. })
    ));

    // A reset password works and ends the old sessions; own changes need the current password.
    let on = UserUpdate {
        active: true,
        ..off
    };
    users::update(&c.s, &ca, gl, &on, "").await.unwrap();
    let (token, glu) = login(&c.s, "gl", PW, "").await.unwrap();
    users::reset_password(&c.s, &ca, gl, "Temporary-123", "")
        .await
        .unwrap();
    assert!(session_user(&c.s, &token).await.unwrap().is_none());
    let (_, glu2) = login(&c.s, "gl", "Temporary-123", "").await.unwrap();
    drop(glu);
    assert!(matches!(
        users::change_own_password(&c.s, &glu2, "wrong-1234", "Another-456", "").await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        users::change_own_password(&c.s, &glu2, "Temporary-123", "short", "").await,
        Err(Error::Invalid(_))
    ));
    users::change_own_password(&c.s, &glu2, "Temporary-123", "Another-456", "")
        .await
        .unwrap();
    login(&c.s, "gl", "Another-456", "").await.unwrap();

    let f = xiuhua_db::audit::AccessFilter {
        limit: 50,
        ..Default::default()
    };
    let actions: Vec<String> = xiuhua_app::audit::search(&c.s, &admin(), &f)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for a in ["user_update", "password_reset", "password_change"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} not logged: {actions:?}"
        );
    }
}

fn csv(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::from("医保数据\n序号,姓名,身份证号,自付费用（元）\n");
    for (i, (name, id)) in rows.iter().enumerate() {
        s.push_str(&format!("{},{name},{id},{}\n", i + 1, 1000 * (i + 1)));
    }
    s.into_bytes()
}

#[tokio::test]
async fn a_department_token_pushes_all_rows_or_none_and_stops_working_when_revoked_or_expired() {
    let c = ctx().await;
    let h = household(&c, "H001", VILLAGE_A, 11).await;
    let v = xiuhua_app::registry::household(&c.s, &admin(), h, None)
        .await
        .unwrap();
    let member_id = v.state.members[0].id_number.clone();

    assert!(matches!(
        users::create_token(
            &c.s,
            &user(Role::Admin, "451228"),
            "x",
            "medical_insurance",
            "451229",
            30,
            ""
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        users::create_token(&c.s, &admin(), "x", "astrology", "451228", 30, "").await,
        Err(Error::Invalid(_))
    ));
    let (view, secret) = users::create_token(
        &c.s,
        &admin(),
        "县医保局",
        "medical_insurance",
        "451228",
        30,
        "",
    )
    .await
    .unwrap();
    assert!(secret.starts_with("xht_"));
    let t = users::token_identity(&c.s, &secret)
        .await
        .unwrap()
        .expect("token works");
    assert_eq!(
        (t.department.as_str(), t.region_code.as_str()),
        ("medical_insurance", "451228")
    );
    assert!(
        users::token_identity(&c.s, "xht_0000")
            .await
            .unwrap()
            .is_none()
    );

    // A bad identity number anywhere refuses the whole file, naming the row.
    let other = idn(d(1980, 5, 5), 21);
    let bad = csv(&[
        ("韦桂英", &member_id),
        ("黄某", "45122819800505002"),
        ("蓝某", &other),
    ]);
    match push(&c.s, &t, "医保.csv", &bad).await {
        Err(PushError::Rows(p)) => {
            assert_eq!(p.len(), 1);
            assert_eq!((p[0].row, p[0].column.as_str()), (4, "身份证号"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        xiuhua_app::departments::batches(&c.s, &admin(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        push(&c.s, &t, "x.csv", b"no id column\n1,2\n").await,
        Err(PushError::NoIdColumn)
    ));

    let good = csv(&[("韦桂英", &member_id), ("蓝某", &other)]);
    let r = push(&c.s, &t, "医保.csv", &good).await.unwrap();
    assert_eq!((r.accepted, r.rejected, r.duplicate), (2, 0, false));
    // The match is for county staff only: the batch list has it.
    let listed = xiuhua_app::departments::batches(&c.s, &admin(), 10)
        .await
        .unwrap();
    assert_eq!(listed[0].matched, 1);
    let again = push(&c.s, &t, "医保.csv", &good).await.unwrap();
    assert_eq!((again.batch_id, again.duplicate), (r.batch_id, true));
    let batches = xiuhua_app::departments::batches(&c.s, &admin(), 10)
        .await
        .unwrap();
    assert_eq!(batches.len(), 1);
    let mut conn = c.s.db.acquire().await.unwrap();
    let recs = xiuhua_db::departments::records(&mut conn, r.batch_id)
        .await
        .unwrap();
    assert_eq!(recs[0].id_number, member_id);
    assert!(recs[0].data.contains("自付费用"), "{}", recs[0].data);
    drop(conn);

    // Expired: 31 days later. Revoked: at once.
    let later = Services::new(
        c.s.db.clone(),
        Arc::new(FixedClock(
            Utc.with_ymd_and_hms(2026, 12, 25, 0, 0, 0).unwrap(),
        )),
    )
    .await
    .unwrap();
    assert!(
        users::token_identity(&later, &secret)
            .await
            .unwrap()
            .is_none()
    );
    users::revoke_token(&c.s, &admin(), view.id, "")
        .await
        .unwrap();
    assert!(
        users::token_identity(&c.s, &secret)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::list_tokens(&c.s, &admin()).await.unwrap()[0]
            .revoked_at
            .is_some()
    );
}

#[tokio::test]
async fn bank_accounts_import_as_text_and_are_masked_for_roles_without_rights() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let head = idn(d(1970, 1, 2), 11);
    let csv = format!(
        "行政村代码,户编号,户类型,联系电话,开户银行,银行账号,姓名,身份证号,与户主关系\n\
         451228101201,H9001,一般农户,13812345678,农村信用社,6217002870012345678,韦桂英,{head},户主\n"
    );
    let file = dir.path().join("台账.csv");
    std::fs::write(&file, csv).unwrap();
    let o = xiuhua_app::imports::ImportOptions {
        county: "451228".into(),
        effective_date: d(2024, 3, 1),
        dry_run: false,
        mapping: Vec::new(),
        file_name: "台账.csv".into(),
        reason: "台账导入".into(),
        default_status: None,
        valid_only: false,
    };
    let r = xiuhua_app::imports::import_ledger(&c.s, &admin(), &file, &o, &|_| {})
        .await
        .unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let (list, _) = xiuhua_app::registry::search(
        &c.s,
        &admin(),
        &xiuhua_app::registry::SearchParams {
            region: Some("451228".into()),
            page: 1,
            per_page: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let id = list[0].id;
    let full = xiuhua_app::registry::household(&c.s, &admin(), id, None)
        .await
        .unwrap();
    assert_eq!(
        full.state.fields.bank_account.as_deref(),
        Some("6217002870012345678")
    );
    let viewer = user(Role::Viewer, "451228");
    let masked = xiuhua_app::registry::household(&c.s, &viewer, id, None)
        .await
        .unwrap();
    let f = &masked.state.fields;
    assert_eq!(f.bank_account.as_deref(), Some("***************5678"));
    assert_eq!(f.phone.as_deref(), Some("138****5678"));
    assert_eq!(
        masked.state.members[0].id_number,
        format!("{}**********{}", &head[..6], &head[16..])
    );
    assert_eq!(f.bank_name.as_deref(), Some("农村信用社"));
}
