//! Conformance tests of the storage layer: the same statements on SQLite and PostgreSQL
//! (PostgreSQL when `XIUHUA_TEST_DATABASE_URL` is set), plus schema parity between the two.

mod jobs;

use xiuhua_db::households::{CountRow, HouseholdFilter, HouseholdRow, PeriodRow};
use xiuhua_db::members::MemberRow;
use xiuhua_db::testing::TestDb;
use xiuhua_db::{Backend, Db, Error, ids};
use xiuhua_domain::Member;

const COUNTY: &str = "451228";

fn id(n: i64) -> i64 {
    451228 * ids::COUNTY_FACTOR + n
}

fn household(n: i64, village: &str, status: &str, members: i32) -> HouseholdRow {
    HouseholdRow {
        county_code: COUNTY.into(),
        id: id(n),
        township_code: village[..9].into(),
        village_code: village.into(),
        group_code: None,
        household_no: format!("H{n:04}"),
        head_name: format!("韦{n}"),
        head_id_number: format!("ID{n}"),
        status: status.into(),
        monitoring: "none".into(),
        monitor_type: None,
        exit_year: None,
        member_count: members,
        version: 1,
        fields: "{}".into(),
        created_at: "2024-01-01T00:00:00.000Z".into(),
        updated_at: "2024-01-01T00:00:00.000Z".into(),
    }
}

fn member(n: i64, household: i64, id_number: &str) -> MemberRow {
    let m = Member {
        id: id(n),
        name: format!("蓝{n}"),
        id_number: id_number.into(),
        relation: "01".into(),
        ..Member::default()
    };
    MemberRow::from_member(COUNTY, id(household), &m).unwrap()
}

#[tokio::test]
async fn bulk_insert_search_and_counts() {
    let t = TestDb::new().await;
    let mut tx = t.db.begin().await.unwrap();
    // 2,500 rows: several chunked statements.
    let rows: Vec<HouseholdRow> = (1..=2500)
        .map(|n| {
            household(
                n,
                if n % 2 == 0 {
                    "451228101201"
                } else {
                    "451228102201"
                },
                if n % 5 == 0 { "poor" } else { "general" },
                3,
            )
        })
        .collect();
    xiuhua_db::households::insert_many(&mut tx, &rows)
        .await
        .unwrap();
    xiuhua_db::commit(tx).await.unwrap();
    let mut c = t.db.acquire().await.unwrap();
    assert_eq!(xiuhua_db::households::total(&mut c).await.unwrap(), 2500);
    let f = HouseholdFilter {
        region: "451228101".into(),
        status: Some("poor".into()),
        limit: 10,
        offset: 0,
        ..Default::default()
    };
    assert_eq!(xiuhua_db::households::count(&mut c, &f).await.unwrap(), 250);
    assert_eq!(
        xiuhua_db::households::search(&mut c, &f)
            .await
            .unwrap()
            .len(),
        10
    );
    let by_name = HouseholdFilter {
        region: COUNTY.into(),
        text: Some("韦123".into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(
        xiuhua_db::households::count(&mut c, &by_name)
            .await
            .unwrap(),
        11,
        "韦123 and 韦1230…韦1239"
    );
    assert!(
        xiuhua_db::households::counts(&mut c, COUNTY)
            .await
            .unwrap()
            .is_empty(),
        "bulk inserts do not touch the counts"
    );
    xiuhua_db::households::rebuild_counts(&mut c, COUNTY)
        .await
        .unwrap();
    let counts = xiuhua_db::households::counts(&mut c, COUNTY).await.unwrap();
    let poor_101: Vec<&CountRow> = counts
        .iter()
        .filter(|r| r.child_code == "451228101" && r.status == "poor")
        .collect();
    assert_eq!((poor_101[0].households, poor_101[0].people), (250, 750));
    // Inside a village the children are groups, counted from the households themselves.
    let village = xiuhua_db::households::counts(&mut c, "451228101201")
        .await
        .unwrap();
    assert_eq!(village.iter().map(|r| r.households).sum::<i64>(), 1250);
    xiuhua_db::households::adjust_counts(&mut c, "451228101201", "poor", "none", -1, -3)
        .await
        .unwrap();
    let after = xiuhua_db::households::counts(&mut c, "451228101")
        .await
        .unwrap();
    let poor = after.iter().find(|r| r.status == "poor").unwrap();
    assert_eq!((poor.households, poor.people), (249, 747));
    let row = xiuhua_db::households::get(&mut c, id(7)).await.unwrap();
    assert_eq!(row, rows[6]);
    assert!(matches!(
        xiuhua_db::households::get(&mut c, id(9999)).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn constraints_and_optimistic_versions() {
    let t = TestDb::new().await;
    let mut c = t.db.acquire().await.unwrap();
    xiuhua_db::households::insert_many(
        &mut c,
        &[
            household(1, "451228101201", "poor", 1),
            household(2, "451228101201", "poor", 1),
        ],
    )
    .await
    .unwrap();
    xiuhua_db::members::insert_many(&mut c, &[member(1, 1, "11010519491231002X")])
        .await
        .unwrap();
    // The same identity number in a second household is refused by the database too.
    let e = xiuhua_db::members::insert_many(&mut c, &[member(2, 2, "11010519491231002X")])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    let (m, no) = xiuhua_db::members::find_by_id_number(&mut c, "11010519491231002X")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((m.household_id, no.as_str()), (id(1), "H0001"));
    // A member of a household that does not exist violates the foreign key.
    assert!(matches!(
        xiuhua_db::members::insert_many(&mut c, &[member(3, 99, "440524188001010014")]).await,
        Err(Error::Conflict { .. })
    ));
    let mut row = household(1, "451228101201", "lifted", 1);
    row.version = 2;
    xiuhua_db::households::update(&mut c, &row, 1)
        .await
        .unwrap();
    assert!(matches!(
        xiuhua_db::households::update(&mut c, &row, 1).await,
        Err(Error::Conflict { .. })
    ));
}

#[tokio::test]
async fn in_a_transaction_a_failed_insert_leaves_nothing_and_orphans_are_refused_at_commit() {
    let t = TestDb::new().await;
    let count = |table: &'static str| {
        let db = t.db.clone();
        async move {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            n
        }
    };
    // A repeated identity number half-way through: the whole transaction is undone (on SQLite
    // `INSERT OR ROLLBACK`; PostgreSQL aborts the transaction), the error is a conflict.
    let mut tx = t.db.begin().await.unwrap();
    xiuhua_db::households::insert_many(
        &mut tx,
        &[
            household(1, "451228101201", "poor", 1),
            household(2, "451228101201", "poor", 1),
        ],
    )
    .await
    .unwrap();
    let e = xiuhua_db::members::insert_many(
        &mut tx,
        &[
            member(1, 1, "11010519491231002X"),
            member(2, 2, "11010519491231002X"),
        ],
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e:?}");
    drop(tx);
    assert_eq!((count("households").await, count("members").await), (0, 0));

    // A member whose household is missing: the key is checked at commit (deferred), which
    // then fails and stores nothing.
    let mut tx = t.db.begin().await.unwrap();
    xiuhua_db::households::insert_many(&mut tx, &[household(3, "451228101201", "poor", 1)])
        .await
        .unwrap();
    xiuhua_db::members::insert_many(&mut tx, &[member(3, 99, "440524188001010014")])
        .await
        .unwrap();
    assert!(xiuhua_db::commit(tx).await.is_err());
    assert_eq!((count("households").await, count("members").await), (0, 0));

    // The same through the bulk commit (generic plans for the checks on PostgreSQL), then a
    // good member with its household: refused, then stored.
    for (household_of_member, stored) in [(99, (0, 0)), (4, (1, 1))] {
        let mut tx = t.db.begin().await.unwrap();
        xiuhua_db::households::insert_many(&mut tx, &[household(4, "451228101201", "poor", 1)])
            .await
            .unwrap();
        xiuhua_db::members::insert_many(
            &mut tx,
            &[member(5, household_of_member, "440524188001010022")],
        )
        .await
        .unwrap();
        assert_eq!(xiuhua_db::commit_bulk(tx).await.is_ok(), stored.0 == 1);
        assert_eq!((count("households").await, count("members").await), stored);
    }
}

#[tokio::test]
async fn periods_answer_counts_as_of_a_date() {
    let t = TestDb::new().await;
    let mut c = t.db.acquire().await.unwrap();
    let p = |h: i64, from: &str, to: Option<&str>, status: &str, members: i32| PeriodRow {
        county_code: COUNTY.into(),
        household_id: id(h),
        valid_from: from.into(),
        valid_to: to.map(Into::into),
        township_code: "451228101".into(),
        village_code: "451228101201".into(),
        group_code: None,
        status: status.into(),
        monitoring: "none".into(),
        members,
    };
    let rows = vec![
        p(1, "2015-03-01", Some("2018-12-01"), "poor", 4),
        p(1, "2018-12-01", None, "lifted", 5),
        p(2, "2016-01-01", None, "general", 2),
    ];
    xiuhua_db::households::insert_periods(&mut c, &rows)
        .await
        .unwrap();
    let at = |d: &'static str| {
        let db = t.db.clone();
        async move {
            let mut c = db.acquire().await.unwrap();
            let rows = xiuhua_db::households::counts_as_of(&mut c, COUNTY, d)
                .await
                .unwrap();
            rows.iter()
                .map(|r| (r.status.clone(), r.households, r.people))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(at("2015-01-01").await, vec![]);
    assert_eq!(
        at("2016-06-30").await,
        vec![("general".into(), 1, 2), ("poor".into(), 1, 4)]
    );
    assert_eq!(
        at("2018-11-30").await,
        vec![("general".into(), 1, 2), ("poor".into(), 1, 4)]
    );
    assert_eq!(
        at("2018-12-01").await,
        vec![("general".into(), 1, 2), ("lifted".into(), 1, 5)]
    );
    xiuhua_db::households::replace_periods(&mut c, id(1), &[p(1, "2015-03-01", None, "poor", 4)])
        .await
        .unwrap();
    assert_eq!(
        at("2020-01-01").await,
        vec![("general".into(), 1, 2), ("poor".into(), 1, 4)]
    );
}

#[tokio::test]
async fn ids_are_reserved_per_county_without_gaps() {
    let t = TestDb::new().await;
    let mut tx = t.db.begin().await.unwrap();
    let a = ids::reserve_county(&mut tx, "household", COUNTY, 10)
        .await
        .unwrap();
    let b = ids::reserve_county(&mut tx, "household", COUNTY, 1)
        .await
        .unwrap();
    let other = ids::reserve_county(&mut tx, "household", "450332", 1)
        .await
        .unwrap();
    xiuhua_db::commit(tx).await.unwrap();
    assert_eq!((a, b), (id(1), id(11)));
    assert_eq!(ids::county_of(b), COUNTY);
    assert_eq!(ids::county_of(other), "450332");
}

/// Column names, nullability and type families are the same on both backends.
#[tokio::test]
async fn schema_is_the_same_on_both_backends() {
    if xiuhua_db::testing::postgres_admin_url().is_none() {
        eprintln!(
            "schema parity needs PostgreSQL (XIUHUA_TEST_DATABASE_URL); covered in the PostgreSQL run"
        );
        return;
    }
    let pg = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let lite = Db::open(
        &format!("sqlite://{}", dir.path().join("p.db").display()),
        1,
    )
    .await
    .unwrap();
    assert_eq!(pg.db.backend(), Backend::Postgres);
    let family = |t: &str| {
        let t = t.to_lowercase();
        if t.contains("int") {
            "int"
        } else if t.contains("double") || t.contains("real") {
            "float"
        } else {
            "text"
        }
    };
    let pg_cols: Vec<(String, String, String, bool)> = sqlx::query_as::<_, (String, String, String, String)>(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pg.db.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(t, c, ty, n)| (t, c, family(&ty).to_string(), n == "YES"))
    .collect();
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' ORDER BY name")
        .fetch_all(lite.pool())
        .await
        .unwrap();
    let mut lite_cols = Vec::new();
    for t in tables {
        let cols: Vec<(String, String, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{t}') ORDER BY cid"
        )))
        .fetch_all(lite.pool())
        .await
        .unwrap();
        for (c, ty, notnull, pk) in cols {
            lite_cols.push((
                t.clone(),
                c,
                family(&ty).to_string(),
                notnull == 0 && pk == 0,
            ));
        }
    }
    assert_eq!(pg_cols, lite_cols);
}

#[tokio::test]
async fn the_backup_covers_every_table() {
    let t = TestDb::new().await;
    let mut conn = t.db.acquire().await.unwrap();
    let mut have = xiuhua_db::backup::table_names(&mut conn).await.unwrap();
    have.retain(|n| !xiuhua_db::backup::NOT_BACKED_UP.contains(&n.as_str()));
    let mut listed: Vec<String> = xiuhua_db::backup::TABLES
        .iter()
        .map(|s| s.to_string())
        .collect();
    have.sort();
    listed.sort();
    assert_eq!(
        have, listed,
        "a new table must be added to backup::TABLES (or NOT_BACKED_UP)"
    );
}

fn by_name(text: &str) -> HouseholdFilter {
    HouseholdFilter {
        region: "451228101".into(),
        text: Some(text.into()),
        limit: 500,
        ..Default::default()
    }
}

/// The heads' names of the households a search by `text` finds, sorted.
async fn heads(c: &mut sqlx::AnyConnection, text: &str) -> Vec<String> {
    let mut v: Vec<String> = xiuhua_db::households::search(c, &by_name(text))
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.head_name)
        .collect();
    v.sort();
    v
}

/// Issue 13 defect 16: a search by name (户主 or member, a surname or a whole name) finds the
/// same households as the old `LIKE 'x%'` scan did, from the name indexes on both backends.
#[tokio::test]
async fn name_search_finds_prefixes_and_full_names_from_the_indexes() {
    let t = TestDb::new().await;
    let mut tx = t.db.begin().await.unwrap();
    let mut rows: Vec<HouseholdRow> = (1..=400)
        .map(|n| household(n, "451228101201", "general", 1))
        .collect();
    rows[0].head_name = "韦桂英".into();
    rows[1].head_name = "韦桂".into();
    rows[2].head_name = "蓝秀".into();
    rows[3].head_name = "100%张".into();
    xiuhua_db::households::insert_many(&mut tx, &rows)
        .await
        .unwrap();
    let mut m = member(1001, 3, "450000000000000001");
    m.name = "韦小宝".into();
    xiuhua_db::members::insert_many(&mut tx, &[m])
        .await
        .unwrap();
    xiuhua_db::commit(tx).await.unwrap();
    let mut c = t.db.acquire().await.unwrap();
    // A surname: 户主 韦桂英, 韦桂, and 韦1…韦400 (household(n) heads are 韦n) except the four
    // renamed, plus household 3 (蓝秀) through its member 韦小宝.
    let wei = heads(&mut c, "韦").await;
    assert_eq!(wei.len(), 396 + 2 + 1, "{wei:?}");
    assert!(wei.contains(&"蓝秀".to_string()));
    assert_eq!(heads(&mut c, "韦桂").await, vec!["韦桂", "韦桂英"]);
    assert_eq!(heads(&mut c, "韦桂英").await, vec!["韦桂英"]);
    assert_eq!(heads(&mut c, "韦小宝").await, vec!["蓝秀"]);
    assert_eq!(
        heads(&mut c, "韦39").await.len(),
        1 + 10,
        "韦39, 韦390…韦399"
    );
    // `%` is a character of the name, not a wildcard.
    assert_eq!(heads(&mut c, "100%").await, vec!["100%张"]);
    assert!(
        heads(&mut c, "秀").await.is_empty(),
        "a prefix, not a substring"
    );
    assert_eq!(
        xiuhua_db::households::count(&mut c, &by_name("韦桂"))
            .await
            .unwrap(),
        2
    );
    // The plan reads both name indexes (no scan of every name).
    let plan = xiuhua_db::households::search_plan(&mut c, &by_name("韦桂"))
        .await
        .unwrap();
    assert!(
        plan.contains("households_head_name")
            && plan.contains("members_name")
            && plan.contains("households_no"),
        "{plan}"
    );
    assert_eq!(heads(&mut c, "H000").await.len(), 9, "户编号 H0001…H0009");
}

/// Issue 13 defect 16, a bare surname: a prefix thousands of names share is tested household
/// by household in 户编号 order (the page stops after its rows, the capped count after its
/// cap); a rare one-character prefix goes through the name indexes like a longer one.
#[tokio::test]
async fn a_bare_surname_pages_in_number_order_and_counts_up_to_a_cap() {
    let t = TestDb::new().await;
    let mut tx = t.db.begin().await.unwrap();
    // 2,600 households headed by 韦n, each with that member (the head) and one 蓝 member;
    // household 7's head is 黄七 with a member 韦七妹, found through the member.
    let mut rows: Vec<HouseholdRow> = (1..=2600)
        .map(|n| household(n, "451228101201", "general", 2))
        .collect();
    rows[6].head_name = "黄七".into();
    let mut members = Vec::new();
    for n in 1..=2600 {
        let mut head = member(n, n, &format!("4500000000{n:08}"));
        head.name = rows[(n - 1) as usize].head_name.clone();
        let mut other = member(10_000 + n, n, &format!("4510000000{n:08}"));
        other.name = if n == 7 {
            "韦七妹".into()
        } else {
            format!("蓝{n}")
        };
        members.push(head);
        members.push(other);
    }
    xiuhua_db::households::insert_many(&mut tx, &rows)
        .await
        .unwrap();
    xiuhua_db::members::insert_many(&mut tx, &members)
        .await
        .unwrap();
    xiuhua_db::commit(tx).await.unwrap();
    let mut c = t.db.acquire().await.unwrap();
    let f = |text: &str, offset: i64| HouseholdFilter {
        region: "451228".into(),
        limit: 50,
        offset,
        ..by_name(text)
    };
    // The first page and a later one, in 户编号 order, the member-found household among them.
    let page = xiuhua_db::households::search(&mut c, &f("韦", 0))
        .await
        .unwrap();
    let nos: Vec<String> = page.iter().map(|h| h.household_no.clone()).collect();
    let want: Vec<String> = (1..=50).map(|n| format!("H{n:04}")).collect();
    assert_eq!(nos, want);
    assert_eq!(page[6].head_name, "黄七");
    let later = xiuhua_db::households::search(&mut c, &f("韦", 2580))
        .await
        .unwrap();
    assert_eq!(later.len(), 20);
    assert_eq!(later[19].household_no, "H2600");
    // Counted exactly, or up to the cap.
    let n = xiuhua_db::households::count(&mut c, &f("韦", 0))
        .await
        .unwrap();
    assert_eq!(n, 2600);
    let capped = xiuhua_db::households::count_capped(&mut c, &f("韦", 0), 1000)
        .await
        .unwrap();
    assert_eq!(capped, 1001, "more than the cap");
    let under = xiuhua_db::households::count_capped(&mut c, &f("黄", 0), 1000)
        .await
        .unwrap();
    assert_eq!(under, 1, "under the cap: exact");
    // The dense prefix tests each household's members where it stands (SQLite walks the
    // 户编号 index; PostgreSQL's plan depends on its statistics) and reads no name index; the
    // rare one reads the name indexes.
    let plan = xiuhua_db::households::search_plan(&mut c, &f("韦", 0))
        .await
        .unwrap();
    let sqlite = plan.contains("SEARCH");
    assert!(
        !plan.contains("members_name")
            && (plan.contains("SubPlan")
                || plan.contains("households_no") && plan.contains("members_household")),
        "{plan}"
    );
    assert!(!sqlite || !plan.contains("TEMP B-TREE"), "no sort: {plan}");
    let plan = xiuhua_db::households::search_plan(&mut c, &f("黄", 0))
        .await
        .unwrap();
    assert!(
        plan.contains("households_head_name") && plan.contains("members_name"),
        "{plan}"
    );
    assert_eq!(heads(&mut c, "黄").await, vec!["黄七"]);
}

/// A scorecard's results: a statement first run with no score (NULL) runs again with one. On
/// PostgreSQL sqlx declared the NULL as `float4` and the cached statement then refused the
/// real value (the demo's stored runs failed on it).
#[tokio::test]
async fn a_null_score_then_a_real_one_in_the_same_statement() {
    use xiuhua_db::rules::{self, ResultRow, RunRow};
    let t = TestDb::new().await;
    let mut c = t.db.acquire().await.unwrap();
    rules::insert_run(
        &mut c,
        &RunRow {
            id: 1,
            rule_set: "scorecard".into(),
            version: 1,
            region_code: COUNTY.into(),
            as_of: "2026-01-01".into(),
            actor: "test".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            units: 2,
            holds: 1,
            fails: 1,
            unknowns: 0,
        },
    )
    .await
    .unwrap();
    let row = |unit: &str, score: Option<f64>| ResultRow {
        run_id: 1,
        unit: unit.into(),
        village_code: "451228100200".into(),
        decision: "pass".into(),
        score,
        items: "P".into(),
        inputs: None,
    };
    rules::insert_results(&mut c, vec![row("1", None)])
        .await
        .unwrap();
    rules::insert_results(&mut c, vec![row("2", Some(87.5))])
        .await
        .unwrap();
    let got = rules::find_result(&mut c, 1, "2").await.unwrap().unwrap();
    assert_eq!(got.score, Some(87.5));
    let got = rules::find_result(&mut c, 1, "1").await.unwrap().unwrap();
    assert_eq!(got.score, None);
}

/// The bulk path (`bulk::insert_bulk`: multi-row INSERTs on SQLite, COPY through the staging
/// tables on PostgreSQL) stores every row exactly, text that COPY's format reserves and NULLs
/// included, commits or rolls back with the caller's transaction, and leaves nothing staged.
#[tokio::test]
async fn bulk_rows_are_stored_exactly_and_roll_back_with_the_transaction() {
    use xiuhua_db::bulk::{BulkRows, discard_staged, insert_bulk};
    use xiuhua_db::events::EventRow;
    let t = TestDb::new().await;
    let event = |n: i64| EventRow {
        county_code: COUNTY.into(),
        id: id(n),
        household_id: id(n),
        kind: "created".into(),
        actor: "导入\\用户".into(),
        recorded_at: "2026-11-23T02:00:00.000Z".into(),
        effective_date: "2026-11-01".into(),
        reason: "第一行\n第二行\t制表\r回车 \\N 不是空".into(),
        source: "import".into(),
        source_ref: if n % 2 == 0 {
            None
        } else {
            Some(format!("f.csv 行{n}"))
        },
        changes: "[]".into(),
    };
    let rows = |from: i64, to: i64| {
        let mut b = BulkRows::default();
        for n in from..=to {
            let mut h = household(n, "451228101201", "poor", 1);
            h.group_code = (n % 3 == 0).then(|| "451228101201001".to_string());
            h.exit_year = (n % 2 == 0).then_some(2020);
            b.households.push(h);
            b.members.push(member(n, n, &format!("4512281990{n:08}")));
            b.events.push(event(n));
            b.periods.push(PeriodRow {
                county_code: COUNTY.into(),
                household_id: id(n),
                valid_from: "2026-11-01".into(),
                valid_to: None,
                township_code: "451228101".into(),
                village_code: "451228101201".into(),
                group_code: None,
                status: "poor".into(),
                monitoring: "none".into(),
                members: 1,
            });
        }
        b
    };
    // 1,500 households: several statements on SQLite, several COPY buffers' worth of text.
    let good = rows(1, 1500);
    let mut tx = t.db.begin().await.unwrap();
    let n = insert_bulk(&t.db, &mut tx, 42, &good).await.unwrap();
    assert_eq!(
        (n.households, n.members, n.events, n.periods),
        (1500, 1500, 1500, 1500)
    );
    xiuhua_db::commit(tx).await.unwrap();
    let mut c = t.db.acquire().await.unwrap();
    for i in [0usize, 2, 1499] {
        let h = &good.households[i];
        assert_eq!(&xiuhua_db::households::get(&mut c, h.id).await.unwrap(), h);
        let m = xiuhua_db::members::list_for_household(&mut c, h.id)
            .await
            .unwrap();
        assert_eq!(m, vec![good.members[i].clone()]);
    }
    let stored: Vec<EventRow> = sqlx::query_as(
        "SELECT county_code, id, household_id, kind, actor, recorded_at, effective_date, reason, source, source_ref, changes \
         FROM events ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert_eq!(stored, good.events);
    let periods = xiuhua_db::households::counts_as_of(&mut c, COUNTY, "2026-11-30")
        .await
        .unwrap();
    assert_eq!(periods.iter().map(|r| r.households).sum::<i64>(), 1500);

    // A repeated identity number: the insert or the commit fails, nothing of the batch stays.
    let mut bad = rows(2001, 2010);
    bad.members[9].id_number = good.members[0].id_number.clone();
    let mut tx = t.db.begin().await.unwrap();
    let failed = match insert_bulk(&t.db, &mut tx, 43, &bad).await {
        Err(_) => {
            drop(tx); // rolled back; frees the write gate
            true
        }
        Ok(_) => xiuhua_db::commit(tx).await.is_err(),
    };
    assert!(failed, "a duplicate identity number must be refused");
    discard_staged(&t.db, 43).await.unwrap();
    // A batch rolled back by its writer.
    let mut tx = t.db.begin().await.unwrap();
    insert_bulk(&t.db, &mut tx, 44, &rows(3001, 3010))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    discard_staged(&t.db, 44).await.unwrap();
    assert_eq!(xiuhua_db::households::total(&mut c).await.unwrap(), 1500);
    for table in [
        "staged_households",
        "staged_members",
        "staged_events",
        "staged_household_periods",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut *c)
                .await
                .unwrap();
        assert_eq!(n, 0, "{table} keeps rows");
    }
}
