//! Ledgers of every shape counties keep (`xiuhua-ledgergen`), imported and judged against the
//! generator's exact verdict: households and member rows, the exact set of problems (row,
//! column, code) and of notices (row, column letter, code) — in xlsx, xlsx round-tripped
//! through LibreOffice, GBK csv and UTF-8-with-BOM csv, dry run and real.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use xiuhua_app::imports::{ImportOptions, ImportReport, import_ledger};
use xiuhua_ledgergen::{Config, ExpectedNotice, ExpectedProblem, Output, Shape, Verdict, generate};

use crate::support::*;

fn opts(file: &str, dry_run: bool) -> ImportOptions {
    ImportOptions {
        county: "451228".into(),
        effective_date: d(2024, 3, 1),
        dry_run,
        mapping: Vec::new(),
        file_name: file.into(),
        reason: "台账导入".into(),
        default_status: None,
        valid_only: false,
    }
}

async fn import(c: &Ctx, path: &Path, dry_run: bool) -> ImportReport {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    import_ledger(&c.s, &admin(), path, &opts(&name, dry_run), &|_| {})
        .await
        .unwrap()
}

fn problems(r: &ImportReport) -> BTreeSet<ExpectedProblem> {
    r.problems
        .iter()
        .map(|p| ExpectedProblem {
            row: p.row,
            column: p.column.clone(),
            code: p.kind.to_string(),
        })
        .collect()
}

fn notices(r: &ImportReport) -> BTreeSet<ExpectedNotice> {
    r.notices
        .iter()
        .map(|n| ExpectedNotice {
            row: n.row,
            column: n.column.clone(),
            code: n.kind.clone(),
        })
        .collect()
}

/// Asserts a report is the verdict, exactly.
fn assert_verdict(r: &ImportReport, v: &Verdict, what: &str) {
    assert_eq!(
        problems(r),
        v.problems,
        "{what}: problems {:#?}",
        r.problems
    );
    assert_eq!(notices(r), v.notices, "{what}: notices");
    assert_eq!(r.notices.len(), v.notices.len(), "{what}: each notice once");
    assert_eq!(r.rows, v.member_rows, "{what}: member rows");
    assert_eq!(r.households, v.households, "{what}: households");
}

/// Imports a generated file as a dry run, then for real, and checks both against the verdict;
/// a file without problems is stored whole (and a second import changes nothing).
async fn check(path: &Path, v: &Verdict, what: &str) {
    let c = ctx().await;
    let dry = import(&c, path, true).await;
    assert_verdict(&dry, v, &format!("{what} (dry run)"));
    assert_eq!(
        total_households(&c).await,
        0,
        "{what}: a dry run writes nothing"
    );
    let real = import(&c, path, false).await;
    assert_verdict(&real, v, what);
    if v.problems.is_empty() {
        assert_eq!(real.created, v.households, "{what}: created");
        assert_eq!(total_households(&c).await, v.households as i64, "{what}");
        let again = import(&c, path, false).await;
        assert_eq!(
            (again.created, again.changed, again.events),
            (0, 0, 0),
            "{what}: again"
        );
    } else {
        assert_eq!(total_households(&c).await, 0, "{what}: nothing written");
    }
}

fn ext(o: Output) -> &'static str {
    match o {
        Output::Xlsx => "xlsx",
        Output::CsvBom | Output::CsvGbk => "csv",
    }
}

fn gen_file(dir: &Path, name: &str, cfg: &Config) -> (PathBuf, Verdict) {
    let path = dir.join(format!("{name}.{}", ext(cfg.output)));
    let v = generate(cfg, &path).unwrap();
    (path, v)
}

const OUTPUTS: [Output; 3] = [Output::Xlsx, Output::CsvGbk, Output::CsvBom];

#[tokio::test]
async fn a_clean_ledger_with_varied_headers_imports_with_zero_problems() {
    let dir = tempfile::tempdir().unwrap();
    for (i, output) in OUTPUTS.into_iter().enumerate() {
        for seed in [1, 2] {
            let shape = Shape {
                header_variants: true,
                ..Shape::plain()
            };
            let cfg = Config::duan(12, seed, shape, output);
            let (path, v) = gen_file(dir.path(), &format!("clean{i}-{seed}"), &cfg);
            assert!(v.problems.is_empty() && v.notices.is_empty());
            check(&path, &v, &format!("clean {output:?} seed {seed}")).await;
        }
    }
}

#[tokio::test]
async fn messy_ledgers_of_every_shape_import_with_only_notices() {
    let dir = tempfile::tempdir().unwrap();
    for (i, output) in OUTPUTS.into_iter().enumerate() {
        for seed in 10..13 {
            let cfg = Config::duan(15, seed, Shape::messy(), output);
            let (path, v) = gen_file(dir.path(), &format!("messy{i}-{seed}"), &cfg);
            assert!(v.problems.is_empty());
            check(&path, &v, &format!("messy {output:?} seed {seed}")).await;
        }
    }
}

#[tokio::test]
async fn random_shapes_for_many_seeds_reach_the_exact_verdict() {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    for seed in 0..12u64 {
        let output = OUTPUTS[seed as usize % 3];
        let shape = Shape::random(&mut rng, seed % 2 == 1);
        let cfg = Config::duan(6 + seed as usize, seed, shape.clone(), output);
        let (path, v) = gen_file(dir.path(), &format!("random{seed}"), &cfg);
        check(
            &path,
            &v,
            &format!("random seed {seed} {output:?} {shape:?}"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_workbook_written_row_by_row_reaches_the_same_verdict() {
    // What `xiuhua-bench ledger` writes for a large ledger: constant memory, no vertical merges.
    let dir = tempfile::tempdir().unwrap();
    for (name, shape) in [
        ("stream-messy", Shape::messy()),
        ("stream-errors", Shape::errors()),
    ] {
        let mut cfg = Config::duan(25, 31, shape, Output::Xlsx);
        cfg.max_merged_households = 0;
        let (path, v) = gen_file(dir.path(), name, &cfg);
        check(&path, &v, name).await;
    }
}

#[tokio::test]
async fn excel_mangled_ids_and_impossible_dates_are_reported_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (i, output) in OUTPUTS.into_iter().enumerate() {
        let cfg = Config::duan(20, 40 + i as u64, Shape::errors(), output);
        let (path, v) = gen_file(dir.path(), &format!("errors{i}"), &cfg);
        let codes: BTreeSet<&str> = v.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(
            codes,
            BTreeSet::from([
                "import_identity_number_was_stored_as",
                "import_impossible_date"
            ]),
            "the generator makes both kinds"
        );
        check(&path, &v, &format!("errors {output:?}")).await;
    }
}

/// Converts a workbook with LibreOffice (`soffice --headless --convert-to xlsx`). LibreOffice
/// is required (scripts/test installs libreoffice-calc-nogui) unless
/// XIUHUA_SKIP_LIBREOFFICE=1.
fn libreoffice_round_trip(xlsx: &Path) -> Option<PathBuf> {
    let present = std::process::Command::new("soffice")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        assert_eq!(
            std::env::var("XIUHUA_SKIP_LIBREOFFICE").as_deref(),
            Ok("1"),
            "LibreOffice (soffice) is required; set XIUHUA_SKIP_LIBREOFFICE=1 to skip"
        );
        eprintln!("skipped: LibreOffice not installed (XIUHUA_SKIP_LIBREOFFICE=1)");
        return None;
    }
    let dir = xlsx.parent().unwrap();
    let out_dir = dir.join("lo-out");
    let profile = dir.join("lo-profile");
    let out = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(&out_dir)
        .arg(xlsx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let converted = out_dir.join(xlsx.file_name().unwrap());
    assert!(
        converted.exists(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Some(converted)
}

#[tokio::test]
async fn ledgers_round_tripped_through_libreoffice_reach_the_same_verdict() {
    let dir = tempfile::tempdir().unwrap();
    for (name, shape, seed) in [
        ("lo-messy", Shape::messy(), 21),
        ("lo-errors", Shape::errors(), 22),
    ] {
        let cfg = Config::duan(14, seed, shape, Output::Xlsx);
        let (path, v) = gen_file(dir.path(), name, &cfg);
        let Some(converted) = libreoffice_round_trip(&path) else {
            return;
        };
        check(&converted, &v, &format!("{name} via LibreOffice")).await;
    }
}
