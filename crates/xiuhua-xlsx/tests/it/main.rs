//! Reading real workbooks: a title above the header, merged household cells, identity numbers
//! stored as numbers and as text, date cells and date serials, several sheets, GBK CSV.

use std::ops::ControlFlow;
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

mod limits;
use xiuhua_xlsx::{CellValue, Field, LedgerError, ReadError, read_ledger};

fn rows(path: &Path) -> (xiuhua_xlsx::LedgerInfo, Vec<xiuhua_xlsx::LedgerRow>) {
    let mut out = Vec::new();
    let info = read_ledger(path, &[], &mut |_, r| {
        out.push(r);
        ControlFlow::Continue(())
    })
    .unwrap();
    (info, out)
}

#[test]
fn xlsx_with_title_merged_cells_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("台账").unwrap();
    let merged = Format::new();
    ws.merge_range(0, 0, 0, 5, "都安县建档立卡户台账", &merged)
        .unwrap();
    for (c, h) in [
        "户编号",
        "户主姓名",
        "姓名",
        "证件号码",
        "与户主关系",
        "风险识别时间",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    // One household of two members: the household cells are merged over both rows.
    ws.merge_range(3, 0, 4, 0, "4512281012010001", &merged)
        .unwrap();
    ws.merge_range(3, 1, 4, 1, "韦桂英", &merged).unwrap();
    ws.write_string(3, 2, "韦桂英").unwrap();
    ws.write_string(3, 3, "11010519491231002X").unwrap();
    ws.write_string(3, 4, "户主").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_datetime_with_format(
        3,
        5,
        chrono::NaiveDate::from_ymd_opt(2021, 4, 1).unwrap(),
        &date,
    )
    .unwrap();
    ws.write_string(4, 2, "蓝秀").unwrap();
    ws.write_number(4, 3, 440524188001010014.0).unwrap();
    ws.write_string(4, 4, "配偶").unwrap();
    ws.write_number(4, 5, 44287.0).unwrap();
    // Empty trailing rows and a footer.
    ws.write_string(8, 0, "").unwrap();
    ws.write_string(9, 1, "填表人：张三").unwrap();
    let other = wb.add_worksheet();
    other.set_name("说明").unwrap();
    other.write_string(0, 0, "本表说明").unwrap();
    wb.save(&path).unwrap();

    let (info, rows) = rows(&path);
    assert_eq!(info.sheets.len(), 1);
    assert_eq!(info.sheets[0].row, 3, "header found under the title");
    assert_eq!(info.skipped_sheets, vec!["说明".to_string()]);
    assert_eq!(rows.len(), 2, "footer and empty rows are not data");
    assert_eq!(rows[1].row, 5);
    assert_eq!(
        rows[1].get(Field::HOUSEHOLD_NO).unwrap().display(),
        "4512281012010001",
        "merged cell filled down"
    );
    assert_eq!(
        rows[0].get(Field::RISK_IDENTIFIED_ON),
        Some(&CellValue::Date(
            chrono::NaiveDate::from_ymd_opt(2021, 4, 1).unwrap()
        ))
    );
    assert!(
        matches!(rows[1].get(Field::ID_NUMBER), Some(CellValue::Number(_))),
        "numbers stay numbers, to be flagged"
    );
}

#[test]
fn gbk_and_utf8_bom_csv_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let text = "标题行\n户编号,姓名,身份证号,与户主关系\nH1,韦桂英,11010519491231002X,户主\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(text);
    let p1 = dir.path().join("gbk.csv");
    std::fs::write(&p1, &gbk).unwrap();
    let p2 = dir.path().join("bom.csv");
    std::fs::write(&p2, [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat()).unwrap();
    for p in [p1, p2] {
        let (info, rows) = rows(&p);
        assert_eq!(info.sheets[0].row, 2);
        assert_eq!(rows[0].get(Field::NAME).unwrap().display(), "韦桂英");
    }
}

#[test]
fn unreadable_files_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("e.csv");
    std::fs::write(&empty, b"").unwrap();
    let err = read_ledger(&empty, &[], &mut |_, _| ControlFlow::Continue(())).unwrap_err();
    assert!(matches!(err, LedgerError::Read(ReadError::Empty)));
    let bin = dir.path().join("x.bin");
    std::fs::write(&bin, [0u8, 1, 2, 3, 255, 0]).unwrap();
    let err = read_ledger(&bin, &[], &mut |_, _| ControlFlow::Continue(())).unwrap_err();
    assert!(matches!(err, LedgerError::Read(ReadError::NotSpreadsheet)));
    let no_header = dir.path().join("n.csv");
    std::fs::write(&no_header, "a,b\n1,2\n").unwrap();
    let err = read_ledger(&no_header, &[], &mut |_, _| ControlFlow::Continue(())).unwrap_err();
    assert!(err.message_zh().contains("找不到表头"));
}

#[test]
fn a_password_protected_workbook_is_refused_clearly() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/password.xlsx");
    let err = read_ledger(&path, &[], &mut |_, _| ControlFlow::Continue(())).unwrap_err();
    assert!(
        matches!(err, LedgerError::Read(ReadError::Password)),
        "{err:?}"
    );
    assert!(err.message_zh().contains("密码"));
}
