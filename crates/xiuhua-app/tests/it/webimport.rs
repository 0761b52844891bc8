//! Issue 14 part 3: a county's saved column names apply to every later import of the county
//! (the CLI's path, `import_ledger`, included), and a dry run lists exactly what would change.

use std::path::{Path, PathBuf};

use serde_json::json;
use xiuhua_app::Error;
use xiuhua_app::auth::Role;
use xiuhua_app::imports::diff::{FieldDiff, HouseholdDiff, MemberDiff, MemberRef};
use xiuhua_app::imports::mappings::{self, UnknownColumn};
use xiuhua_app::imports::{ImportOptions, ImportReport, import_ledger};
use xiuhua_app::registry::{self, SearchParams};
use xiuhua_domain::household::mask_id_number;

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
    let r = import_ledger(&c.s, &admin(), path, o, &|_| {})
        .await
        .unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    r
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const HEADER: &str =
    "乡镇,行政村,户编号,户类型,主要致贫原因,姓名,身份证号,与户主关系,文化程度,民族";

/// A ledger of household A (two members) and B (one), with `extra` appended to each row.
fn ledger(education_of_second: &str, extra_header: &str, extra: [&str; 3]) -> String {
    let (a1, a2, b1) = (
        idn(d(1970, 1, 2), 11),
        idn(d(1972, 3, 4), 111),
        idn(d(1965, 5, 6), 13),
    );
    format!(
        "{HEADER}{extra_header}\n\
         高岭镇,弄力村,4512281012010001,贫困户,因病,韦桂英,{a1},户主,初中,壮族{}\n\
         高岭镇,弄力村,4512281012010001,贫困户,因病,蓝秀,{a2},配偶,{education_of_second},瑶族{}\n\
         地苏镇,板升村,4512281022010001,贫困户,缺技术,黄德明,{b1},户主,小学,壮族{}\n",
        extra[0], extra[1], extra[2]
    )
}

async fn household_phone(c: &Ctx, no: &str) -> Option<String> {
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
    let v = registry::household(&c.s, &admin(), list[0].id, None)
        .await
        .unwrap();
    v.state.fields.phone.clone()
}

#[tokio::test]
async fn a_saved_column_name_applies_to_every_later_import_of_the_county() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let text = ledger(
        "初中",
        ",户主手机",
        [",13812345678", ",13812345678", ",13998765432"],
    );
    let path = write(dir.path(), "a.csv", &text);
    let mut dry = opts("a.csv");
    dry.dry_run = true;
    // Unknown at first: reported once, with its letter and values for the dialog.
    let r = import(&c, &path, &dry).await;
    assert_eq!(
        r.unknown_columns,
        vec![("CSV".to_string(), 11, "户主手机".to_string())]
    );
    let clerk = user(Role::County, "451228");
    let cols = mappings::unknown_columns(&c.s, &clerk, &path, &dry)
        .await
        .unwrap();
    assert_eq!(
        cols,
        vec![UnknownColumn {
            sheet: "CSV".into(),
            column: 11,
            letter: "K".into(),
            header: "户主手机".into(),
            samples: vec!["13812345678".into(), "13998765432".into()],
        }]
    );

    // Who may save: roles that import, for their own county only.
    let entries = vec![("户主手机".to_string(), "phone".to_string())];
    let viewer = user(Role::Viewer, "451228");
    assert!(matches!(
        mappings::save(&c.s, &viewer, "451228", &entries, "").await,
        Err(Error::Forbidden(_))
    ));
    let foreign = user(Role::County, "450332");
    assert!(matches!(
        mappings::save(&c.s, &foreign, "451228", &entries, "").await,
        Err(Error::NotFound { .. })
    ));
    let bad = vec![("户主手机".to_string(), "no_such_field".to_string())];
    assert!(matches!(
        mappings::save(&c.s, &clerk, "451228", &bad, "").await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        mappings::save(&c.s, &clerk, "451228", &entries, "10.0.0.1")
            .await
            .unwrap(),
        1
    );

    // A later import of the county — as the CLI runs it, with no mapping of its own — knows
    // the column; the header as written is matched normalised (spaces, full-width brackets).
    let again = text.replace(",户主手机", ", 户主手机 ");
    let path2 = write(dir.path(), "b.csv", &again);
    let r = import(&c, &path2, &opts("b.csv")).await;
    assert!(r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);
    assert_eq!(r.created, 2);
    assert_eq!(
        household_phone(&c, "4512281012010001").await.as_deref(),
        Some("13812345678")
    );
    assert!(
        mappings::unknown_columns(&c.s, &clerk, &path2, &dry)
            .await
            .unwrap()
            .is_empty()
    );

    // Another county's imports do not see it.
    let other = mappings::saved_for(&c.s, &admin(), "450332").await.unwrap();
    assert!(other.is_empty());

    // The list (administrators), the audit trail, and deleting.
    let list = mappings::list(&c.s, &clerk).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].county.as_str(),
            list[0].header.as_str(),
            list[0].header_written.as_str(),
            list[0].field.as_str(),
            list[0].saved_by.as_str()
        ),
        (
            "451228",
            "户主手机",
            "户主手机",
            "phone",
            clerk.username.as_str()
        )
    );
    let village = user(Role::Village, VILLAGE_A);
    assert!(matches!(
        mappings::list(&c.s, &village).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        mappings::delete(&c.s, &village, "451228", "户主手机", "").await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        mappings::delete(&c.s, &foreign, "451228", "户主手机", "").await,
        Err(Error::NotFound { .. })
    ));
    mappings::delete(&c.s, &clerk, "451228", "户主手机", "")
        .await
        .unwrap();
    assert!(mappings::list(&c.s, &clerk).await.unwrap().is_empty());
    let mut actions = Vec::new();
    for action in ["import_mapping_save", "import_mapping_delete"] {
        let f = xiuhua_db::audit::AccessFilter {
            action: Some(action.into()),
            limit: 10,
            ..Default::default()
        };
        for e in xiuhua_app::audit::search(&c.s, &clerk, &f).await.unwrap() {
            actions.push((e.action, e.target, e.detail, e.client));
        }
    }
    let s = |x: &str| x.to_string();
    assert_eq!(
        actions,
        vec![
            (
                s("import_mapping_save"),
                s("451228"),
                s("户主手机→phone"),
                s("10.0.0.1")
            ),
            (
                s("import_mapping_delete"),
                s("451228"),
                s("户主手机"),
                s("")
            ),
        ]
    );
    let path3 = write(dir.path(), "c.csv", &text);
    let r = import(&c, &path3, &dry).await;
    assert_eq!(r.unknown_columns.len(), 1, "deleted: unknown again");
}

#[tokio::test]
async fn a_dry_run_lists_each_household_s_changes_exactly() {
    let c = ctx().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "a.csv",
        &ledger("初中", ",联系电话", [",13812345678", ",", ","]),
    );
    import(&c, &path, &opts("a.csv")).await;
    // The file again with: 蓝秀's education changed, A's phone changed, 黄德明's household
    // gaining a member, and a new household C.
    let (b2, c1) = (idn(d(1990, 7, 8), 15), idn(d(1980, 9, 10), 17));
    let mut text = ledger("高中", ",联系电话", [",13900001111", ",", ","]);
    text.push_str(&format!(
        "地苏镇,板升村,4512281022010001,贫困户,缺技术,黄小明,{b2},之子,高中,壮族,\n\
         地苏镇,板升村,4512281022010002,贫困户,因病,覃福,{c1},户主,小学,壮族,\n"
    ));
    let path = write(dir.path(), "b.csv", &text);
    let mut dry = opts("b.csv");
    dry.dry_run = true;
    let r = import(&c, &path, &dry).await;
    assert_eq!((r.created, r.changed, r.unchanged), (1, 2, 0));
    assert_eq!(r.diffs_total, 3);
    let m = |name: &str, id: &str, relation: &str| MemberRef {
        name: name.into(),
        id_number: mask_id_number(id),
        relation: relation.into(),
    };
    let expected = vec![
        HouseholdDiff {
            household_no: "4512281012010001".into(),
            head_name: "韦桂英".into(),
            sheet: "CSV".into(),
            row: 2,
            new: false,
            fields: vec![FieldDiff {
                field: "phone".into(),
                old: json!("138****5678"),
                new: json!("139****1111"),
            }],
            members_added: vec![],
            members_removed: vec![],
            members_changed: vec![MemberDiff {
                member: m("蓝秀", &idn(d(1972, 3, 4), 111), "02"),
                fields: vec![FieldDiff {
                    field: "education".into(),
                    old: json!("03"),
                    new: json!("04"),
                }],
            }],
        },
        HouseholdDiff {
            household_no: "4512281022010001".into(),
            head_name: "黄德明".into(),
            sheet: "CSV".into(),
            row: 4,
            new: false,
            fields: vec![],
            members_added: vec![m("黄小明", &b2, "03")],
            members_removed: vec![],
            members_changed: vec![],
        },
        HouseholdDiff {
            household_no: "4512281022010002".into(),
            head_name: "覃福".into(),
            sheet: "CSV".into(),
            row: 6,
            new: true,
            fields: vec![],
            members_added: vec![m("覃福", &c1, "01")],
            members_removed: vec![],
            members_changed: vec![],
        },
    ];
    assert_eq!(r.diffs, expected);
    // A real import keeps no diffs; a member left out of the file is listed as removed.
    let r = import(&c, &path, &opts("b.csv")).await;
    assert!(r.diffs.is_empty() && r.diffs_total == 0);
    let fewer = text.replace(
        &format!("地苏镇,板升村,4512281022010001,贫困户,缺技术,黄小明,{b2},之子,高中,壮族,\n"),
        "",
    );
    let path = write(dir.path(), "c.csv", &fewer);
    let mut dry = opts("c.csv");
    dry.dry_run = true;
    let r = import(&c, &path, &dry).await;
    assert_eq!(r.diffs.len(), 1);
    assert_eq!(r.diffs[0].members_removed, vec![m("黄小明", &b2, "03")]);
}
