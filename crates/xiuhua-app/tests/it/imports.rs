//! Ledger import and export: messy files in, atomic and idempotent, every problem reported,
//! round trips that change nothing.

use std::path::{Path, PathBuf};

use xiuhua_app::exports::{self, ExportFormat};
use xiuhua_app::imports::{ImportOptions, ImportReport, import_ledger};
use xiuhua_app::registry::{self, SearchParams};
use xiuhua_domain::{EventKind, SourceKind};

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

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A ledger as counties keep them: a title and a date line above the header, full-width
/// digits, household cells left blank on member rows.
fn ledger_csv(education_of_second: &str) -> String {
    let a1 = idn(d(1970, 1, 2), 11);
    let a2 = idn(d(1972, 3, 4), 111);
    let b1 = idn(d(1965, 5, 6), 13);
    let fw: String = a1
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xfee0).unwrap_or(c))
        .collect();
    format!(
        "都安瑶族自治县建档立卡户信息台账,,,,,,,,\n填报日期：2024年3月1日,,,,,,,,\n\
         序号,乡（镇）,行政村,户编号,户类型,脱贫年度,主要致贫原因,姓名,身份证号,与户主关系,文化程度,民族\n\
         1,高岭镇,弄力村,4512281012010001,贫困户,,因病,韦桂英,{fw},户主,初中,壮族\n\
         2,,,,,,,蓝秀, {a2} ,配偶,{education_of_second},瑶族\n\
         3,地苏镇,板升村,4512281022010001,脱贫户,2019年,缺技术,黄德明,{b1},本人或户主,小学,壮族\n"
    )
}

#[tokio::test]
async fn a_messy_csv_ledger_imports_and_reimporting_changes_nothing() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts("台账.csv");
    o.effective_date = d(2024, 3, 1);
    let path = write(dir.path(), "台账.csv", ledger_csv("初中").as_bytes());
    let r = import(&c, &path, &o).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.rows, r.households, r.created, r.events), (3, 2, 2, 2));
    let (list, _) = registry::search(
        &c.s,
        &admin(),
        &SearchParams {
            text: Some("4512281012010001".into()),
            page: 1,
            per_page: 5,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let v = registry::household(&c.s, &admin(), list[0].id, None)
        .await
        .unwrap();
    assert_eq!(v.state.members.len(), 2);
    assert_eq!(
        v.state.members[0].id_number,
        idn(d(1970, 1, 2), 11),
        "full-width digits cleaned"
    );
    assert_eq!(v.state.fields.main_cause.as_deref(), Some("01"));
    let ev = &v.events[0];
    assert_eq!(ev.source, SourceKind::Import);
    let src = ev.source_ref.as_deref().unwrap();
    assert!(
        src.starts_with("台账.csv sha256:") && src.contains(&r.sha256) && src.ends_with("行4-5"),
        "{src}"
    );

    // The same file again: nothing changes, no events.
    let events_before = total_events(&c).await;
    let again = import(&c, &path, &o).await;
    assert_eq!(
        (again.created, again.changed, again.unchanged, again.events),
        (0, 0, 2, 0)
    );
    assert_eq!(total_events(&c).await, events_before);

    // One changed cell: one event with just that change.
    let path2 = write(dir.path(), "台账2.csv", ledger_csv("高中").as_bytes());
    let r = import(&c, &path2, &opts("台账2.csv")).await;
    assert_eq!((r.changed, r.unchanged, r.events), (1, 1, 1));
    let v = registry::household(&c.s, &admin(), list[0].id, None)
        .await
        .unwrap();
    let last = v.events.last().unwrap();
    assert_eq!(last.kind, EventKind::Edited);
    assert_eq!(
        format!("{:?}", last.changes)
            .matches("UpdateMember")
            .count(),
        1
    );
    assert!(format!("{:?}", last.changes).contains("education"));
}

#[tokio::test]
async fn gbk_csv_with_unknown_columns_and_a_dry_run() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let text = ledger_csv("初中").replace("民族\n", "民族,宠物\n");
    let (bytes, _, bad) = encoding_rs::GB18030.encode(&text);
    assert!(!bad);
    let path = write(dir.path(), "gbk.csv", &bytes);
    let mut o = opts("gbk.csv");
    o.dry_run = true;
    let r = import(&c, &path, &o).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.created, 2);
    assert_eq!(
        r.unknown_columns,
        vec![("CSV".to_string(), 13, "宠物".to_string())]
    );
    assert_eq!(total_households(&c).await, 0, "a dry run writes nothing");
}

#[tokio::test]
async fn every_problem_is_reported_with_row_and_column_and_nothing_is_written() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let good = idn(d(1970, 1, 2), 11);
    let mut bad_id = idn(d(1980, 1, 2), 21);
    bad_id.replace_range(17..18, if bad_id.ends_with('1') { "2" } else { "1" });
    let text = format!(
        "户编号,行政村,乡镇,姓名,证件号码,与户主关系,文化程度\n\
         H1,弄力村,高岭镇,韦一,{good},本人或户主,初中\n\
         H2,弄力村,高岭镇,韦二,{bad_id},本人或户主,初中\n\
         H3,不存在村,高岭镇,韦三,{},本人或户主,博士\n\
         H4,弄力村,高岭镇,韦四,{good},本人或户主,初中\n",
        idn(d(1990, 1, 2), 31)
    );
    let path = write(dir.path(), "bad.csv", text.as_bytes());
    let r = import(&c, &path, &opts("bad.csv")).await;
    let found: Vec<(usize, &str)> = r
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert!(found.contains(&(3, "证件号码")), "{found:?}");
    assert!(found.contains(&(4, "行政村")), "{found:?}");
    assert!(found.contains(&(4, "文化程度")), "{found:?}");
    assert!(
        found.iter().any(|(row, _)| *row == 5),
        "the same person twice: {found:?}"
    );
    let p = r
        .problems
        .iter()
        .find(|p| p.row == 4 && p.column == "文化程度")
        .unwrap();
    assert_eq!(p.value, "博士");
    assert!(p.reason_zh.contains("博士"));
    assert_eq!(
        total_households(&c).await,
        0,
        "atomic: the good row was not written either"
    );
    // The error workbook holds the bad rows with a reason column, readable by our own reader.
    let wb = write(
        dir.path(),
        "errors.xlsx",
        r.error_workbook.as_deref().unwrap(),
    );
    let mut reasons = Vec::new();
    xiuhua_xlsx::read_ledger(&wb, &[], &mut |h, row| {
        let col = h.names.iter().position(|n| n == "错误原因").unwrap();
        reasons.push(row.raw[col].display());
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    assert!(
        reasons.len() >= 3 && reasons.iter().any(|r| r.contains("博士")),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn files_that_are_not_ledgers_are_refused_clearly() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, expect) in [
        ("empty.csv", &b""[..], "空"),
        (
            "scan.pdf",
            &b"%PDF-1.4\n\x00\x01\x02binary"[..],
            "不是Excel",
        ),
        ("notes.csv", "会议纪要\n今天开会\n".as_bytes(), "找不到表头"),
        ("broken.xlsx", &b"PK\x03\x04garbage"[..], "损坏"),
    ] {
        let path = write(dir.path(), name, bytes);
        let e = import_ledger(&c.s, &admin(), &path, &opts(name), &|_| {})
            .await
            .unwrap_err();
        assert!(
            e.message_zh().contains(expect),
            "{name}: {}",
            e.message_zh()
        );
    }
    assert_eq!(total_households(&c).await, 0);
}

#[tokio::test]
async fn export_then_import_changes_nothing_in_xlsx_and_csv() {
    let c = empty_ctx().await;
    let spec = xiuhua_app::demo::DemoSpec {
        county: "451228".into(),
        seed: 11,
        households: 150,
        today: today(),
        batch: 50,
    };
    xiuhua_app::demo::load(&c.s, &spec, &|_, _| {})
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["out.xlsx", "out.csv"] {
        let path = dir.path().join(name);
        let format = if name.ends_with("csv") {
            ExportFormat::Csv
        } else {
            ExportFormat::Xlsx
        };
        let rows = exports::export_registry(
            &c.s,
            &admin(),
            &exports::RegistryExport {
                region: Some("451228"),
                as_of: None,
                format,
                purpose: "往返测试",
            },
            &path,
            &|_| {},
        )
        .await
        .unwrap();
        assert!(rows > 300);
        let before = total_events(&c).await;
        let r = import(&c, &path, &opts(name)).await;
        assert!(
            r.problems.is_empty(),
            "{name}: {:?}",
            &r.problems[..r.problems.len().min(3)]
        );
        assert_eq!(
            (r.households, r.unchanged, r.changed, r.created, r.events),
            (150, 150, 0, 0, 0),
            "{name}"
        );
        assert_eq!(total_events(&c).await, before);
    }
    // As of a past date, and the statistics tables.
    let past = dir.path().join("2017.xlsx");
    let rows_2017 = exports::export_registry(
        &c.s,
        &admin(),
        &exports::RegistryExport {
            region: Some("451228"),
            as_of: Some(d(2017, 6, 30)),
            format: ExportFormat::Xlsx,
            purpose: "往返测试",
        },
        &past,
        &|_| {},
    )
    .await
    .unwrap();
    assert!(rows_2017 > 0);
    let stats = exports::export_statistics(&c.s, &admin(), Some("451228"), None)
        .await
        .unwrap();
    assert!(stats.starts_with(b"PK"));
}

/// Converts a UTF-8 CSV to `.xlsx` with LibreOffice (a real spreadsheet program). `text_columns`
/// are 1-based columns LibreOffice must keep as text. `None` when LibreOffice is not installed
/// and not required (`scripts/test` installs it and sets XIUHUA_REQUIRE_LIBREOFFICE=1).
fn libreoffice_xlsx(csv: &Path, text_columns: &[usize]) -> Option<PathBuf> {
    let ok = std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("XIUHUA_REQUIRE_LIBREOFFICE").is_none(),
            "LibreOffice (soffice) is required"
        );
        eprintln!("skipped: LibreOffice not installed");
        return None;
    }
    let formats: Vec<String> = text_columns.iter().map(|c| format!("{c}/2")).collect();
    let filter = format!("CSV:44,34,76,1,{}", formats.join("/"));
    let dir = csv.parent().unwrap();
    let profile = dir.join("lo-profile");
    let out = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args([
            "--headless",
            &format!("--infilter={filter}"),
            "--convert-to",
            "xlsx",
            "--outdir",
        ])
        .arg(dir)
        .arg(csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(csv.with_extension("xlsx"))
}

#[tokio::test]
async fn workbooks_written_by_libreoffice_import_and_numeric_ids_are_flagged() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "lo.csv", ledger_csv("初中").as_bytes());
    // Column 9 (身份证号) kept as text: imports cleanly.
    let Some(xlsx) = libreoffice_xlsx(&csv, &[4, 9]) else {
        return;
    };
    let r = import(&c, &xlsx, &opts("lo.xlsx")).await;
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.created, r.rows), (2, 3));
    // The same sheet with the ID column left to LibreOffice's number detection.
    let csv2 = write(dir.path(), "lo2.csv", ledger_csv("初中").as_bytes());
    let xlsx2 = libreoffice_xlsx(&csv2, &[4]).unwrap();
    let c2 = ctx().await;
    let r = import(&c2, &xlsx2, &opts("lo2.xlsx")).await;
    assert!(
        r.problems
            .iter()
            .any(|p| p.column == "身份证号" && p.reason_zh.contains("存成了数字")),
        "{:?}",
        r.problems
    );
    assert_eq!(total_households(&c2).await, 0);
}

#[tokio::test]
async fn a_person_already_in_another_household_is_refused_naming_it() {
    let c = ctx().await;
    household(&c, "H001", VILLAGE_A, 11).await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "户编号,乡镇,行政村,姓名,证件号码,与户主关系\nH900,高岭镇,弄力村,韦一,{},户主\n",
        idn(d(1970, 1, 2), 11)
    );
    let path = write(dir.path(), "dup.csv", text.as_bytes());
    // The file says nothing about status: its default is given.
    let o = ImportOptions {
        default_status: Some(xiuhua_domain::RegistryStatus::General),
        ..opts("dup.csv")
    };
    let r = import(&c, &path, &o).await;
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0].reason_zh.contains("已登记在户H001")
            && r.problems[0].reason_zh.contains("H900"),
        "{:?}",
        r.problems
    );
    assert_eq!(total_households(&c).await, 1);
}
