//! Adding a field is adding a row to the field catalogue: a test catalogue with one more row
//! sees the field in the ledger columns, validation, the ledger export and the rules schema.

use std::collections::BTreeMap;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use xiuhua_app::exports::{LedgerLayout, ledger_columns_with, ledger_rows};
use xiuhua_domain::codes::{DEFAULT_CODES_TSV, parse_codes_tsv};
use xiuhua_domain::validate::validate_household_with;
use xiuhua_domain::{
    CodeCatalog, CodeItem, FieldCatalog, FieldRef, FieldValue, HouseholdState, IdNumber, Member,
    Record,
};
use xiuhua_rules::Val;
use xiuhua_rules::schema::{Facts, Schema, Ty};
use xiuhua_xlsx::write::Out;

/// One new row: 沼气池 (a biogas digester), a coded household field with its own code list.
const NEW_ROW: &str = "biogas\thousehold\tcode\tbiogas\tyes\t沼气池\tBiogas digester\t沼气池|有无沼气池\tno\tno\tyes\n";

fn catalogue() -> &'static FieldCatalog {
    Box::leak(Box::new(FieldCatalog::shipped().extended(NEW_ROW).unwrap()))
}

fn codes() -> CodeCatalog {
    let mut items = parse_codes_tsv(DEFAULT_CODES_TSV).unwrap();
    for (code, zh) in [("1", "在用"), ("2", "已废弃"), ("3", "无")] {
        items.push(CodeItem {
            list: "biogas".into(),
            code: code.into(),
            label_zh: zh.into(),
            label_en: zh.into(),
        });
    }
    CodeCatalog::new(items)
}

fn household(biogas: &str) -> HouseholdState {
    let id = IdNumber::parse("11010519491231002X").unwrap();
    let mut s = HouseholdState::default();
    s.fields.household_no = "451228101201001".into();
    s.fields.village_code = "451228101201".into();
    s.members.push(Member {
        name: "韦桂英".into(),
        id_number: id.as_str().into(),
        sex: id.sex().code().into(),
        birth_date: id.birth_date(),
        relation: "01".into(),
        ..Member::default()
    });
    let def = catalogue().find("biogas").unwrap();
    s.fields
        .set(def, Some(FieldValue::Text(biogas.into())))
        .unwrap();
    s
}

#[test]
fn a_new_catalogue_row_is_a_ledger_column() {
    let cat = catalogue();
    let def = cat.find("biogas").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("台账.csv");
    std::fs::write(
        &path,
        "户编号,行政村代码,姓名,身份证号,与户主关系,有无沼气池\n451228101201001,451228101201,韦桂英,11010519491231002X,户主,在用\n",
    )
    .unwrap();
    let mut seen = Vec::new();
    let info = xiuhua_xlsx::ledger::read_ledger_with(cat, &path, &[], &mut |_, row| {
        seen.push(row.get(def.id).map(|v| v.display()));
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(seen, vec![Some("在用".to_string())]);
    assert!(
        info.sheets[0].unknown.is_empty(),
        "{:?}",
        info.sheets[0].unknown
    );
    // The shipped catalogue does not know the header.
    let mut shipped = Vec::new();
    let info = xiuhua_xlsx::read_ledger(&path, &[], &mut |_, row| {
        shipped.push(row.values().count());
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(info.sheets[0].unknown, vec![(6, "有无沼气池".to_string())]);
}

#[test]
fn a_new_catalogue_row_is_validated_stored_and_exported() {
    let cat = catalogue();
    let codes = codes();
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let good = household("1");
    assert!(validate_household_with(&good, cat, &codes, today).is_empty());
    let bad = household("9");
    let errs = validate_household_with(&bad, cat, &codes, today);
    assert!(
        errs.iter()
            .any(|e| e.field == "biogas" && e.code == "unknown_code"),
        "{errs:?}"
    );
    // Against the shipped catalogue the field is unknown.
    let errs = validate_household_with(&good, FieldCatalog::shipped(), &codes, today);
    assert!(errs.iter().any(|e| e.code == "unknown_field"), "{errs:?}");

    // Stored (compact JSON) and read back.
    let json = xiuhua_domain::compact::to_string(&good).unwrap();
    let back: HouseholdState = serde_json::from_str(&json).unwrap();
    let def = cat.find("biogas").unwrap();
    assert_eq!(back.fields.get(def), Some(FieldRef::Text("1")));

    // Exported as its own column, with the code's label.
    let columns = ledger_columns_with(cat);
    let at = columns.iter().position(|c| c.header == "沼气池").unwrap();
    let rows = ledger_rows(
        &LedgerLayout::new(cat),
        &back,
        &BTreeMap::new(),
        &codes,
        true,
    );
    assert_eq!(rows[0][at], Out::Text("在用".into()));
    assert_eq!(rows[0].len(), columns.len());
}

#[test]
fn a_new_catalogue_row_is_a_rules_variable() {
    let cat = catalogue();
    let schema = Schema::new(cat);
    let slot = schema
        .household()
        .iter()
        .position(|v| v.name == "biogas")
        .unwrap();
    let var = &schema.household()[slot];
    assert_eq!(var.ty, Ty::Str);
    assert_eq!(var.label_zh, "沼气池");
    assert_eq!(var.code_list, Some("biogas"));
    assert!(
        Schema::shipped()
            .household()
            .iter()
            .all(|v| v.name != "biogas")
    );
    let h = household("2");
    let on = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let facts = Facts::household_with(&schema, &h, on);
    assert_eq!(facts.slots[slot], Val::Str("2".into()));
}
