//! No answers across scope: imports and edits by township and village users say nothing about
//! households outside their region, household numbers follow their village, and imports work
//! below county level.

use std::path::{Path, PathBuf};

use serde_json::json;
use xiuhua_app::imports::{ImportOptions, ImportReport, import_ledger};
use xiuhua_app::registry::{self, SearchParams};
use xiuhua_app::{CurrentUser, Error, Role};

use crate::support::*;

fn opts(region: &str, dry_run: bool) -> ImportOptions {
    ImportOptions {
        county: region.into(),
        effective_date: d(2024, 3, 1),
        dry_run,
        mapping: Vec::new(),
        file_name: "台账.csv".into(),
        reason: "台账导入".into(),
        default_status: None,
        valid_only: false,
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn import(c: &Ctx, user: &CurrentUser, text: &str, o: &ImportOptions) -> ImportReport {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "台账.csv", text);
    import_ledger(&c.s, user, &path, o, &|_| {}).await.unwrap()
}

async fn count_in(c: &Ctx, region: &str) -> i64 {
    registry::search(
        &c.s,
        &admin(),
        &SearchParams {
            region: Some(region.into()),
            page: 1,
            per_page: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .1
}

const HEADER: &str = "户编号,乡镇,行政村,户类型,主要致贫原因,姓名,证件号码,与户主关系\n";

#[tokio::test]
async fn a_dry_run_does_not_name_a_household_outside_the_users_region() {
    let c = ctx().await;
    // 地苏镇's household; its head 韦一 holds this number.
    household(&c, "451228102201001", VILLAGE_B, 13).await;
    let taken = idn(d(1970, 1, 2), 13);
    let text = format!("{HEADER}451228101201900,高岭镇,弄力村,贫困户,因病,王五,{taken},户主\n");
    let village = user(Role::Village, VILLAGE_A);
    let r = import(&c, &village, &text, &opts(VILLAGE_A, true)).await;
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    let p = &r.problems[0];
    assert!(
        p.reason_zh.contains("已在本县其他地区登记"),
        "{}",
        p.reason_zh
    );
    for leak in ["451228102201001", "韦一", "板升村"] {
        assert!(
            !p.reason_zh.contains(leak) && !p.reason_en.contains(leak),
            "{p:?}"
        );
    }
    assert!(r.error_workbook.is_some());
    // County staff are told which household holds it.
    let county = user(Role::County, "451228");
    let r = import(&c, &county, &text, &opts("451228", true)).await;
    assert!(
        r.problems[0].reason_zh.contains("451228102201001")
            && r.problems[0].reason_zh.contains("韦一"),
        "{:?}",
        r.problems
    );
}

#[tokio::test]
async fn a_member_taken_elsewhere_is_refused_without_naming_the_other_household() {
    let c = ctx().await;
    household(&c, "451228102201001", VILLAGE_B, 13).await;
    let village = user(Role::Village, VILLAGE_A);
    let e = registry::register_household(
        &c.s,
        &village,
        fields("451228101201002", VILLAGE_A),
        vec![member("王五", "01", d(1970, 1, 2), 13)],
        &meta(d(2020, 1, 1)),
    )
    .await
    .unwrap_err();
    let text = e.message_zh();
    assert!(text.contains("已在本县其他地区登记"), "{text}");
    assert!(
        !text.contains("451228102201001") && !text.contains("韦一"),
        "{text}"
    );
}

#[tokio::test]
async fn household_numbers_follow_the_village_and_conflicts_confirm_nothing() {
    let c = ctx().await;
    let village = user(Role::Village, VILLAGE_A);
    let other = household(&c, "451228102201001", VILLAGE_B, 13).await;
    // A legacy number with 弄力村's prefix, held by a household of 板升村 (an administrator
    // loaded it): outside the village operator's region.
    let legacy = registry::register_household(
        &c.s,
        &admin(),
        fields("451228101201050", VILLAGE_B),
        vec![member("黄六", "01", d(1960, 6, 6), 21)],
        &meta(d(2015, 10, 1)),
    )
    .await
    .unwrap();
    let own = registry::register_household(
        &c.s,
        &village,
        fields("451228101201001", VILLAGE_A),
        vec![member("王五", "01", d(1980, 1, 2), 31)],
        &meta(d(2020, 1, 1)),
    )
    .await
    .unwrap();
    registry::register_household(
        &c.s,
        &village,
        fields("451228101201002", VILLAGE_A),
        vec![member("王七", "01", d(1981, 1, 2), 33)],
        &meta(d(2020, 1, 1)),
    )
    .await
    .unwrap();

    // Another village's prefix: refused as a field error, before any lookup of the number.
    let e = registry::register_household(
        &c.s,
        &village,
        fields("451228102201777", VILLAGE_A),
        vec![member("李八", "01", d(1982, 1, 2), 35)],
        &meta(d(2020, 1, 1)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(errs) if errs[0].field == "household_no" && errs[0].code == "household_no_village"),
        "{e:?}"
    );
    let edit = |no: &str| {
        let mut p = xiuhua_domain::household::FieldPatch::new();
        p.insert("household_no".into(), json!(no));
        p
    };
    for taken_elsewhere in ["451228102201001", "451228102201999"] {
        let e = registry::edit_household(
            &c.s,
            &village,
            own,
            1,
            edit(taken_elsewhere),
            &meta(d(2021, 1, 1)),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, Error::Invalid(errs) if errs[0].code == "household_no_village"),
            "{taken_elsewhere}: {e:?}"
        );
    }
    // Taken in the user's village and taken by a household outside it: the same answer, which
    // names no household.
    let answer = |e: Error| match e {
        Error::Conflict {
            code,
            message,
            details,
        } => {
            assert!(details.is_none());
            (code, message.zh())
        }
        other => panic!("{other:?}"),
    };
    let inside = answer(
        registry::edit_household(
            &c.s,
            &village,
            own,
            1,
            edit("451228101201002"),
            &meta(d(2021, 1, 1)),
        )
        .await
        .unwrap_err(),
    );
    let outside = answer(
        registry::edit_household(
            &c.s,
            &village,
            own,
            1,
            edit("451228101201050"),
            &meta(d(2021, 1, 1)),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(inside.0, "household_no_taken");
    assert_eq!(outside.0, inside.0);
    assert_eq!(
        outside.1.replace("451228101201050", "N"),
        inside.1.replace("451228101201002", "N")
    );
    for leak in [
        legacy.to_string(),
        other.to_string(),
        "黄六".into(),
        "板升村".into(),
    ] {
        assert!(!outside.1.contains(&leak), "{}", outside.1);
    }
    // A free number of the village is fine.
    registry::edit_household(
        &c.s,
        &village,
        own,
        1,
        edit("451228101201003"),
        &meta(d(2021, 1, 1)),
    )
    .await
    .unwrap();
    // An import by the village operator: the same rule per row.
    let text = format!(
        "{HEADER}451228102201444,高岭镇,弄力村,贫困户,因病,赵九,{},户主\n",
        idn(d(1990, 2, 3), 41)
    );
    let r = import(&c, &village, &text, &opts(VILLAGE_A, true)).await;
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0]
            .reason_zh
            .contains("应以所在行政村代码451228101201开头"),
        "{:?}",
        r.problems
    );
    // A number of the village held by a household outside it: the same answer as any taken
    // number, and the row is not taken for an update of that household.
    let text = format!(
        "{HEADER}451228101201050,高岭镇,弄力村,贫困户,因病,赵九,{},户主\n",
        idn(d(1990, 2, 3), 41)
    );
    let r = import(&c, &village, &text, &opts(VILLAGE_A, true)).await;
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(
        r.problems[0].reason_zh,
        "户编号451228101201050不可用，请换一个编号"
    );
    assert_eq!((r.counts.changed, r.counts.created), (0, 0));
}

#[tokio::test]
async fn village_and_township_users_import_ledgers_of_their_own_region() {
    let c = ctx().await;
    let ledger = |no_a: &str, no_b: &str, seq: u16| {
        format!(
            "{HEADER}{no_a},高岭镇,弄力村,贫困户,因病,王五,{},户主\n\
             {no_b},地苏镇,板升村,贫困户,因病,李四,{},户主\n",
            idn(d(1980, 1, 2), seq),
            idn(d(1981, 2, 3), seq + 2),
        )
    };
    let village = user(Role::Village, VILLAGE_A);
    // The other village's row is refused on its own, with a clear message; nothing is stored.
    for region in [VILLAGE_A, "451228"] {
        let r = import(
            &c,
            &village,
            &ledger("451228101201001", "451228102201001", 31),
            &opts(region, false),
        )
        .await;
        assert_eq!(r.problems.len(), 1, "{region}: {:?}", r.problems);
        assert_eq!(r.problems[0].row, 3);
        assert!(r.problems[0].reason_zh.contains("不在您的管辖范围内"));
    }
    assert_eq!(count_in(&c, "451228").await, 0);
    // Their own village's ledger: a dry run, then the import, with the region the form offers
    // (their own) and with the county code.
    let own = format!(
        "{HEADER}451228101201001,高岭镇,弄力村,贫困户,因病,王五,{},户主\n",
        idn(d(1980, 1, 2), 31)
    );
    let r = import(&c, &village, &own, &opts(VILLAGE_A, true)).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.counts.created, 1);
    let r = import(&c, &village, &own, &opts(VILLAGE_A, false)).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.counts.created, 1);
    assert_eq!(count_in(&c, VILLAGE_A).await, 1);
    let more = format!(
        "{HEADER}451228101201002,高岭镇,弄力村,贫困户,因病,王七,{},户主\n",
        idn(d(1982, 1, 2), 35)
    );
    let r = import(&c, &village, &more, &opts("451228", false)).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(count_in(&c, VILLAGE_A).await, 2);
    // A township user imports for the township, under its own code.
    let township = user(Role::Township, "451228102");
    let theirs = format!(
        "{HEADER}451228102201001,地苏镇,板升村,贫困户,因病,李四,{},户主\n",
        idn(d(1981, 2, 3), 33)
    );
    let r = import(&c, &township, &theirs, &opts("451228102", false)).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(count_in(&c, VILLAGE_B).await, 1);
    // Another township's code, or another county: not found, as for reads.
    for region in ["451228101", "450332"] {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.csv", &theirs);
        let e = import_ledger(&c.s, &township, &path, &opts(region, true), &|_| {})
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound { .. }), "{region}: {e:?}");
    }
}
