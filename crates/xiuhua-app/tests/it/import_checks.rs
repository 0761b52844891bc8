//! Ledger checks (issue 14): every error in one pass with exact sets of problems, facts written
//! twice that must agree, status from what the ledger says, the file's default status, the
//! valid part imported and completed later, and the JSON report.

use std::path::{Path, PathBuf};

use xiuhua_app::imports::{ImportOptions, ImportReport, import_ledger};
use xiuhua_app::registry::{self, SearchParams};
use xiuhua_domain::RegistryStatus;

use crate::support::*;

fn opts(file: &str) -> ImportOptions {
    ImportOptions {
        county: "451228".into(),
        effective_date: d(2024, 3, 1),
        dry_run: false,
        mapping: Vec::new(),
        file_name: file.into(),
        reason: "台账导入".into(),
        default_status: None,
        valid_only: false,
    }
}

async fn import(c: &Ctx, path: &Path, o: &ImportOptions) -> ImportReport {
    import_ledger(&c.s, &admin(), path, o, &|_| {})
        .await
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Columns A–M of the test ledgers.
const HEADER: &str = "户编号,乡镇,行政村,户类型,主要致贫原因,户主姓名,家庭人口数,姓名,身份证号,性别,出生日期,与户主关系,民族\n";

/// (row, column letter, household, kind) of every problem, sorted.
fn problem_set(r: &ImportReport) -> Vec<(usize, String, String, &'static str)> {
    let mut v: Vec<_> = r
        .problems
        .iter()
        .map(|p| {
            (
                p.row,
                p.column_letter.clone(),
                p.household_no.clone(),
                p.kind,
            )
        })
        .collect();
    v.sort();
    v
}

fn p(row: usize, col: &str, no: &str, kind: &'static str) -> (usize, String, String, &'static str) {
    (row, col.to_string(), no.to_string(), kind)
}

async fn status_of(c: &Ctx, no: &str) -> Option<xiuhua_domain::HouseholdFields> {
    let (list, _) = registry::search(
        &c.s,
        &admin(),
        &SearchParams {
            text: Some(no.into()),
            page: 1,
            per_page: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let h = list.first()?;
    Some(
        registry::household(&c.s, &admin(), h.id, None)
            .await
            .unwrap()
            .state
            .fields,
    )
}

#[tokio::test]
async fn every_error_of_a_file_in_one_pass_with_both_rows_of_a_duplicate() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let a1 = idn(d(1970, 1, 2), 11);
    let a2 = idn(d(1972, 3, 4), 12);
    let b1 = idn(d(1965, 5, 6), 13);
    // Household A: its second member has an unknown 民族 (a cell error) — the household-level
    // checks still run. Household B repeats A's second member.
    let text = format!(
        "{HEADER}\
         4512281012010001,高岭镇,弄力村,贫困户,因病,韦桂英,2,韦桂英,{a1},男,1970-01-02,户主,壮族\n\
         ,,,,,,,蓝秀,{a2},女,1972-03-04,配偶,火星族\n\
         4512281012010002,高岭镇,弄力村,贫困户,因病,黄德明,2,黄德明,{b1},男,1965-05-06,户主,壮族\n\
         ,,,,,,,蓝秀,{a2},女,1972-03-04,配偶,瑶族\n"
    );
    let path = write(dir.path(), "dup.csv", &text);
    let r = import(&c, &path, &opts("dup.csv")).await;
    assert!(r.refused);
    assert_eq!(
        problem_set(&r),
        vec![
            p(
                3,
                "I",
                "4512281012010001",
                "import_identity_number_id_number_repeats"
            ),
            p(3, "M", "4512281012010001", "import_not_in_list"),
            p(
                5,
                "I",
                "4512281012010002",
                "import_identity_number_id_number_repeats"
            ),
        ],
        "{:#?}",
        r.problems
    );
    let first = r
        .problems
        .iter()
        .find(|p| p.row == 3 && p.column_letter == "I")
        .unwrap();
    assert!(first.reason_zh.contains("第5行") && first.reason_zh.contains("4512281012010002"));
    assert_eq!(first.value, a2);
    assert!(
        !r.problems.iter().any(|p| p.reason_zh.contains("ethnicity")),
        "no list ids"
    );
    assert_eq!(
        (
            r.households,
            r.valid_households,
            r.invalid_households,
            r.member_rows,
            r.valid_member_rows,
            r.invalid_member_rows
        ),
        (2, 0, 2, 4, 0, 4)
    );
    assert_eq!(r.created, 0);
    assert_eq!(total_households(&c).await, 0, "nothing written");
    // The error workbook holds both rows of the duplicate, with their original cells.
    let wb = dir.path().join("errors.xlsx");
    std::fs::write(&wb, r.error_workbook.as_deref().unwrap()).unwrap();
    let mut rows: Vec<(String, String, String)> = Vec::new();
    xiuhua_xlsx::read_ledger(&wb, &[], &mut |h, row| {
        let col = |name: &str| h.names.iter().position(|n| n == name).unwrap();
        let cell = |name: &str| {
            row.raw
                .get(col(name))
                .map(|v| v.display())
                .unwrap_or_default()
        };
        rows.push((cell("原行号"), cell("姓名"), cell("错误原因")));
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    rows.sort();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|(r, n, _)| (r.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("2", "韦桂英"),
            ("3", "蓝秀"),
            ("4", "黄德明"),
            ("5", "蓝秀")
        ],
        "original cells of every row, the earlier duplicate's too"
    );
    assert!(
        rows.iter()
            .all(|(.., reason)| !reason.contains("ethnicity"))
    );
}

#[tokio::test]
async fn facts_written_twice_must_agree_and_each_disagreement_names_both_cells() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let a1 = idn(d(1970, 1, 2), 11); // a man born 1970-01-02
    let a2 = idn(d(1972, 3, 4), 12);
    let text = format!(
        "{HEADER}\
         4512281012010001,高岭镇,弄力村,贫困户,因病,韦贵英,3,韦桂英,{a1},女,1970-01-03,户主,壮族\n\
         ,,,,,,,蓝秀,{a2},女,1972-03-04,配偶,\n"
    );
    let path = write(dir.path(), "agree.csv", &text);
    let r = import(&c, &path, &opts("agree.csv")).await;
    let no = "4512281012010001";
    assert_eq!(
        problem_set(&r),
        vec![
            p(2, "F", no, "import_head_name_mismatch"),
            p(2, "G", no, "import_member_count_mismatch"),
            p(2, "J", no, "import_sex_disagrees_with_id"),
            p(2, "K", no, "import_birth_disagrees_with_id"),
            p(3, "M", no, "required"),
        ],
        "{:#?}",
        r.problems
    );
    let by = |kind: &str| r.problems.iter().find(|p| p.kind == kind).unwrap();
    let head = by("import_head_name_mismatch");
    assert!(
        head.reason_zh.contains("户主姓名（F2）") && head.reason_zh.contains("姓名（H2）"),
        "{}",
        head.reason_zh
    );
    assert!(head.reason_zh.contains("韦贵英") && head.reason_zh.contains("韦桂英"));
    let sex = by("import_sex_disagrees_with_id");
    assert!(sex.reason_zh.contains("性别（J2）") && sex.reason_zh.contains("身份证号（I2）"));
    let birth = by("import_birth_disagrees_with_id");
    assert!(birth.reason_zh.contains("1970-01-03") && birth.reason_zh.contains("1970-01-02"));
    assert!(
        birth.reason_zh.contains("出生日期（K2）") && birth.reason_zh.contains("身份证号（I2）")
    );
    let count = by("import_member_count_mismatch");
    assert!(count.reason_zh.contains("家庭人口数（G2）") && count.reason_zh.contains("第2至3行"));
    assert_eq!(by("required").reason_zh, "民族不能为空");
    assert_eq!((r.invalid_households, r.invalid_member_rows), (1, 2));

    // The same facts agreeing: imported, and an export read back changes nothing.
    let text = format!(
        "{HEADER}\
         4512281012010001,高岭镇,弄力村,贫困户,因病,韦桂英,2,韦桂英,{a1},男,1970-01-02,户主,壮族\n\
         ,,,,,,,蓝秀,{a2},女,1972-03-04,配偶,瑶族\n"
    );
    let path = write(dir.path(), "agree2.csv", &text);
    let r = import(&c, &path, &opts("agree2.csv")).await;
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(
        (r.created, r.valid_households, r.valid_member_rows),
        (1, 1, 2)
    );
}

#[tokio::test]
async fn status_comes_from_the_ledger_and_a_file_without_it_needs_a_default() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "户编号,乡镇,行政村,贫困户属性,脱贫年度,监测对象类型,主要致贫原因,姓名,身份证号,与户主关系,民族\n\
         4512281012010001,高岭镇,弄力村,一般贫困户,,,因病,甲,{},户主,壮族\n\
         4512281012010002,高岭镇,弄力村,低保贫困户,2019,,因病,乙,{},户主,壮族\n\
         4512281012010003,高岭镇,弄力村,特困供养脱贫户,2020,,因残,丙,{},户主,壮族\n\
         4512281012010004,高岭镇,弄力村,,,边缘易致贫户,,丁,{},户主,壮族\n",
        idn(d(1970, 1, 1), 11),
        idn(d(1971, 1, 1), 13),
        idn(d(1972, 1, 1), 15),
        idn(d(1973, 1, 1), 17),
    );
    let path = write(dir.path(), "status.csv", &text);
    let r = import(&c, &path, &opts("status.csv")).await;
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert!(!r.no_status_column);
    let f = status_of(&c, "4512281012010001").await.unwrap();
    assert_eq!(
        (f.status, f.attribute.as_deref()),
        (RegistryStatus::Poor, Some("1"))
    );
    let f = status_of(&c, "4512281012010002").await.unwrap();
    assert_eq!(
        (f.status, f.attribute.as_deref(), f.exit_year),
        (RegistryStatus::Lifted, Some("2"), Some(2019))
    );
    let f = status_of(&c, "4512281012010003").await.unwrap();
    assert_eq!(
        (f.status, f.attribute.as_deref(), f.exit_year),
        (RegistryStatus::Lifted, Some("3"), Some(2020))
    );
    let f = status_of(&c, "4512281012010004").await.unwrap();
    assert_eq!(
        (f.status, f.monitor_type.as_deref()),
        (RegistryStatus::General, Some("2"))
    );

    // No status column and no default: refused before anything is written, saying why.
    let text = format!(
        "户编号,乡镇,行政村,姓名,身份证号,与户主关系,民族\n\
         4512281012010009,高岭镇,弄力村,戊,{},户主,壮族\n",
        idn(d(1980, 1, 1), 19)
    );
    let path = write(dir.path(), "plain.csv", &text);
    let before = total_households(&c).await;
    let r = import(&c, &path, &opts("plain.csv")).await;
    assert!(r.refused && r.no_status_column);
    assert_eq!(
        problem_set(&r),
        vec![p(1, "", "", "import_default_status_needed")]
    );
    assert_eq!(total_households(&c).await, before);
    // Valid-only cannot hold back a problem of the whole file.
    let r = import(
        &c,
        &path,
        &ImportOptions {
            valid_only: true,
            ..opts("plain.csv")
        },
    )
    .await;
    assert!(r.refused);
    assert_eq!(total_households(&c).await, before);
    // With a default: imported with it.
    let o = ImportOptions {
        default_status: Some(RegistryStatus::General),
        ..opts("plain.csv")
    };
    let r = import(&c, &path, &o).await;
    assert!(
        r.problems.is_empty() && r.no_status_column,
        "{:#?}",
        r.problems
    );
    let f = status_of(&c, "4512281012010009").await.unwrap();
    assert_eq!(f.status, RegistryStatus::General);
}

#[tokio::test]
async fn valid_only_holds_back_the_invalid_households_and_a_corrected_file_completes_them() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = (0..4)
        .map(|i| idn(d(1970 + i, 1, 1), 11 + 2 * i as u16))
        .collect();
    let ledger = |bad_relation: &str| {
        format!(
            "户编号,乡镇,行政村,户类型,姓名,身份证号,与户主关系,民族\n\
             4512281012010001,高岭镇,弄力村,一般农户,甲,{},户主,壮族\n\
             4512281012010002,高岭镇,弄力村,一般农户,乙,{},{bad_relation},壮族\n\
             ,,,,丙,{},配偶,壮族\n\
             4512281012010003,高岭镇,弄力村,一般农户,丁,{},户主,壮族\n",
            ids[0], ids[1], ids[2], ids[3]
        )
    };
    let bad = write(dir.path(), "bad.csv", &ledger("头人"));
    // All or nothing by default.
    let r = import(&c, &bad, &opts("bad.csv")).await;
    assert!(r.refused);
    assert_eq!(total_households(&c).await, 0);
    // Valid-only: two households written, one held back with its problems and workbook.
    let o = ImportOptions {
        valid_only: true,
        ..opts("bad.csv")
    };
    let r = import(&c, &bad, &o).await;
    assert!(!r.refused);
    assert_eq!(r.held_back, vec!["4512281012010002".to_string()]);
    assert_eq!(
        problem_set(&r),
        vec![p(
            3,
            "G",
            "4512281012010002",
            "import_t_not_valid_value_code"
        )],
        "{:#?}",
        r.problems
    );
    assert!(r.error_workbook.is_some());
    assert_eq!(
        (
            r.households,
            r.valid_households,
            r.invalid_households,
            r.member_rows,
            r.valid_member_rows,
            r.invalid_member_rows,
            r.created
        ),
        (3, 2, 1, 4, 2, 2, 2)
    );
    assert_eq!(total_households(&c).await, 2);
    assert!(status_of(&c, "4512281012010002").await.is_none());
    let events = total_events(&c).await;
    // The corrected file: the held-back household is added, the others stay untouched.
    let good = write(dir.path(), "good.csv", &ledger("户主"));
    let r = import(&c, &good, &opts("good.csv")).await;
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!((r.created, r.unchanged, r.changed), (1, 2, 0));
    assert_eq!(total_households(&c).await, 3);
    assert_eq!(total_events(&c).await, events + 1);
}

#[tokio::test]
async fn the_json_report_names_code_sheet_row_column_household_value_and_both_languages() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "户编号,乡镇,行政村,户类型,姓名,身份证号,与户主关系,民族\n\
         4512281012010001,高岭镇,弄力村,一般农户,甲,{},户主,壮族\n\
         4512281012010002,高岭镇,弄力村,一般农户,乙,{},户主,外星族\n",
        idn(d(1970, 1, 1), 11),
        idn(d(1971, 1, 1), 13),
    );
    let path = write(dir.path(), "json.csv", &text);
    let r = import(&c, &path, &opts("json.csv")).await;
    let j = r.to_json();
    assert_eq!(j["refused"], true);
    assert_eq!(j["counts"]["households"], 2);
    assert_eq!(j["counts"]["valid_households"], 1);
    assert_eq!(j["counts"]["invalid_households"], 1);
    assert_eq!(j["counts"]["member_rows"], 2);
    let probs = j["problems"].as_array().unwrap();
    assert_eq!(probs.len(), 1, "{j:#}");
    let p = &probs[0];
    assert_eq!(p["code"], "import_not_in_list");
    assert_eq!(p["sheet"], "CSV");
    assert_eq!(p["row"], 3);
    assert_eq!(p["column"], "民族");
    assert_eq!(p["column_letter"], "H");
    assert_eq!(p["household_no"], "4512281012010002");
    assert_eq!(p["value"], "外星族");
    assert_eq!(p["message_zh"], "“外星族”不是有效的取值");
    assert_eq!(p["message_en"], "\"外星族\" is not a valid value");
}
