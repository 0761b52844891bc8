//! Decompression bombs and oversized files: each is built here on the fly, read within the
//! limits, and must be refused with an error naming the limit and the place — in a child
//! process of this test binary whose peak resident memory (`VmHWM`, on Linux) must stay far
//! below the bomb's inflated size.

use std::io::{Cursor, Write};
use std::ops::ControlFlow;
use std::path::Path;

use xiuhua_xlsx::source::for_each_row_limited;
use xiuhua_xlsx::write::{Column, CsvTable, Kind, Out, XlsxTable};
use xiuhua_xlsx::{CellValue, Limit, LimitError, ReadError, ReadLimits};

const MIB: usize = 1 << 20;

/// Set in the child process: the file to read.
const CHILD: &str = "XIUHUA_XLSX_LIMITS_CHILD";

/// The most resident memory this process has used, if the system says (Linux).
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Makes the input with `make` (here), then runs `check` on it in a child process running only
/// the test `test` (`module::name`), and asserts that the child's peak resident memory stayed
/// under `max_rss`. Call at the start of that test with the same `check`.
fn in_child(test: &str, ext: &str, make: impl FnOnce(&Path), check: fn(&Path), max_rss: usize) {
    if let Some(path) = std::env::var_os(CHILD) {
        check(Path::new(&path));
        if let Some(rss) = peak_rss() {
            println!("peak_rss={rss}");
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("input.{ext}"));
    make(&path);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test: {stdout}"
    );
    // The harness may print the test's name on the same line.
    if let Some(rss) = stdout
        .split("peak_rss=")
        .nth(1)
        .and_then(|v| v.split_whitespace().next()?.parse::<usize>().ok())
    {
        eprintln!("{test}: peak resident memory {} MiB", rss / MIB);
        assert!(rss < max_rss, "peak resident memory {} MiB", rss / MIB);
    }
}

/// Reads `path` within `limits` and returns the limit error.
fn refuse(path: &Path, limits: &ReadLimits) -> LimitError {
    match for_each_row_limited(path, limits, &mut |_| ControlFlow::Continue(())) {
        Err(ReadError::Limit(e)) => e,
        other => panic!("not refused by a limit: {other:?}"),
    }
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;
const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

/// Writes a part, in pieces.
type Part<'a> = &'a mut dyn FnMut(&mut dyn Write);

/// A minimal workbook whose sheet (and shared strings, if given) are written by the closures,
/// in pieces, so that a bomb is never held whole while it is made.
fn workbook(sheet: Part<'_>, shared: Option<Part<'_>>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", ROOT_RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
    ] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    sheet(&mut zip);
    if let Some(shared) = shared {
        zip.start_file("xl/sharedStrings.xml", opts).unwrap();
        shared(&mut zip);
    }
    zip.finish().unwrap().into_inner()
}

const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>证件号码</t></is></c></row>"#;
const SHEET_END: &str = "</sheetData></worksheet>";

/// Writes `n` bytes of `x`, a MiB at a time.
fn repeat(w: &mut dyn Write, byte: u8, n: usize) {
    let chunk = vec![byte; MIB];
    let mut left = n;
    while left > 0 {
        let k = left.min(MIB);
        w.write_all(&chunk[..k]).unwrap();
        left -= k;
    }
}

fn save(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn an_inline_string_bomb_is_refused_without_reading_the_cell() {
    // 64 MiB of text in one inline-string cell (B3), under 1 MB on disk.
    fn check(path: &Path) {
        let e = refuse(path, &ReadLimits::default());
        assert_eq!(e.limit, Limit::CellBytes(128 << 10));
        assert_eq!(e.place.sheet.as_deref(), Some("台账"));
        assert_eq!((e.place.row, e.place.column), (Some(3), Some(2)));
        assert_eq!(e.place.entry.as_deref(), Some("xl/worksheets/sheet1.xml"));
        assert!(
            e.message_zh().contains("单元格内容过长"),
            "{}",
            e.message_zh()
        );
        assert!(e.message_zh().contains("第3行第B列"), "{}", e.message_zh());
        assert!(e.to_string().contains("row 3, column B"), "{e}");
        // The same through `read_ledger`, with the Chinese message.
        let err =
            xiuhua_xlsx::read_ledger(path, &[], &mut |_, _| ControlFlow::Continue(())).unwrap_err();
        assert!(
            err.message_zh().contains("超过128 KiB的上限"),
            "{}",
            err.message_zh()
        );
    }
    let make = |path: &Path| {
        let bytes = workbook(
            &mut |w| {
                w.write_all(SHEET_START.as_bytes()).unwrap();
                w.write_all(
                    r#"<row r="3"><c r="A3" t="inlineStr"><is><t>韦</t></is></c><c r="B3" t="inlineStr"><is><t>"#
                        .as_bytes(),
                )
                .unwrap();
                repeat(w, b'9', 64 * MIB);
                w.write_all(b"</t></is></c></row>").unwrap();
                w.write_all(SHEET_END.as_bytes()).unwrap();
            },
            None,
        );
        assert!(bytes.len() < 1_000_000, "{}", bytes.len());
        std::fs::write(path, bytes).unwrap();
    };
    in_child(
        "limits::an_inline_string_bomb_is_refused_without_reading_the_cell",
        "xlsx",
        make,
        check,
        48 * MIB,
    );
}

#[test]
fn a_shared_string_bomb_is_refused_before_calamine_opens_the_workbook() {
    fn check(path: &Path) {
        let limits = ReadLimits {
            max_cell_bytes: 1 << 16,
            ..ReadLimits::default()
        };
        let e = refuse(path, &limits);
        assert_eq!(e.limit, Limit::CellBytes(1 << 16));
        assert_eq!(e.place.shared_string, Some(2));
        assert_eq!(e.place.entry.as_deref(), Some("xl/sharedStrings.xml"));
        assert!(
            e.message_zh().contains("共享字符串表第2项"),
            "{}",
            e.message_zh()
        );
    }
    let make = |path: &Path| {
        let bytes = workbook(
            &mut |w| {
                w.write_all(SHEET_START.as_bytes()).unwrap();
                w.write_all(br#"<row r="2"><c r="A2" t="s"><v>1</v></c></row>"#)
                    .unwrap();
                w.write_all(SHEET_END.as_bytes()).unwrap();
            },
            Some(&mut |w| {
                w.write_all(br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>a</t></si><si><r><t>"#).unwrap();
                repeat(w, b'x', 64 * MIB);
                w.write_all(b"</t></r></si></sst>").unwrap();
            }),
        );
        std::fs::write(path, bytes).unwrap();
    };
    in_child(
        "limits::a_shared_string_bomb_is_refused_before_calamine_opens_the_workbook",
        "xlsx",
        make,
        check,
        48 * MIB,
    );
}

/// 8 MiB of small, valid cells: no cell is too long, the sheet is.
fn big_sheet() -> Vec<u8> {
    workbook(
        &mut |w| {
            w.write_all(SHEET_START.as_bytes()).unwrap();
            for r in 2..200_000 {
                write!(w, r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#).unwrap();
            }
            w.write_all(SHEET_END.as_bytes()).unwrap();
        },
        None,
    )
}

#[test]
fn a_sheet_larger_than_its_limit_is_refused_by_the_zip_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "big.xlsx", &big_sheet());
    let limits = ReadLimits {
        max_sheet_bytes: MIB as u64,
        ..ReadLimits::default()
    };
    let e = refuse(&path, &limits);
    assert_eq!(e.limit, Limit::EntryBytes(MIB as u64));
    assert_eq!(e.place.entry.as_deref(), Some("xl/worksheets/sheet1.xml"));
    assert!(
        e.message_zh().contains("文件解压后过大"),
        "{}",
        e.message_zh()
    );
    assert!(e.message_zh().contains("1 MiB"), "{}", e.message_zh());
    // Within the default limits it reads.
    for_each_row_limited(&path, &ReadLimits::default(), &mut |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
}

#[test]
fn a_lying_zip_directory_is_caught_while_inflating() {
    // The directory (and the local header) declare 1,000 bytes for a 64 MiB shared string
    // table: inflating stops at the declared size, well before the cell limit would.
    fn check(path: &Path) {
        let err = for_each_row_limited(path, &ReadLimits::default(), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(
            matches!(&err, ReadError::Corrupt(m) if m.contains("xl/sharedStrings.xml") && m.contains("declared")),
            "{err:?}"
        );
        assert!(
            err.message_zh().contains("工作簿已损坏"),
            "{}",
            err.message_zh()
        );
    }
    let make = |path: &Path| {
        let bytes = workbook(
            &mut |w| {
                w.write_all(SHEET_START.as_bytes()).unwrap();
                w.write_all(SHEET_END.as_bytes()).unwrap();
            },
            Some(&mut |w| {
                w.write_all(b"<sst><si><t>").unwrap();
                for _ in 0..MIB {
                    w.write_all(
                        b"ab</t></si><si><t>cdefghijklmnopqrstuvwxyz0123456789=ABCDEFGHIJK",
                    )
                    .unwrap();
                }
                w.write_all(b"</t></si></sst>").unwrap();
            }),
        );
        std::fs::write(path, declare_size(&bytes, "xl/sharedStrings.xml", 1_000)).unwrap();
    };
    in_child(
        "limits::a_lying_zip_directory_is_caught_while_inflating",
        "xlsx",
        make,
        check,
        48 * MIB,
    );
}

/// `bytes` with entry `name`'s uncompressed size set to `size` in the central directory and in
/// its local header.
fn declare_size(bytes: &[u8], name: &str, size: u32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let le16 = |b: &[u8], at: usize| usize::from(u16::from_le_bytes([b[at], b[at + 1]]));
    let mut patched = 0;
    let mut i = 0;
    while i + 46 < out.len() {
        if out[i..].starts_with(b"PK\x01\x02") {
            let n = le16(&out, i + 28);
            if &out[i + 46..i + 46 + n] == name.as_bytes() {
                out[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        } else if out[i..].starts_with(b"PK\x03\x04") {
            let n = le16(&out, i + 26);
            if &out[i + 30..i + 30 + n] == name.as_bytes() {
                out[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        }
        i += 1;
    }
    assert_eq!(patched, 2, "local header and directory entry");
    out
}

#[test]
fn a_csv_field_of_100_mb_is_refused_as_it_streams() {
    fn check(path: &Path) {
        let e = refuse(path, &ReadLimits::default());
        assert_eq!(e.limit, Limit::CellBytes(128 << 10));
        assert_eq!(e.place.sheet.as_deref(), Some("CSV"));
        assert_eq!((e.place.row, e.place.column), (Some(2), Some(3)));
        assert!(
            e.message_zh().contains("工作表“CSV”第2行第C列"),
            "{}",
            e.message_zh()
        );
    }
    let make = |path: &Path| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        f.write_all("姓名,证件号码,备注\n韦桂英,11010519491231002X,\"".as_bytes())
            .unwrap();
        // A quoted field with line breaks: no line is long, the field is.
        let line = [b'x'; 99];
        for _ in 0..1_000_000 {
            f.write_all(&line).unwrap();
            f.write_all(b"\n").unwrap();
        }
        f.write_all(b"\"\n").unwrap();
    };
    in_child(
        "limits::a_csv_field_of_100_mb_is_refused_as_it_streams",
        "csv",
        make,
        check,
        48 * MIB,
    );
}

#[test]
fn too_many_rows_or_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let small = ReadLimits {
        max_rows: 10,
        max_columns: 5,
        ..ReadLimits::default()
    };
    // CSV: eleven rows; then a row of six non-empty fields.
    let rows = dir.path().join("rows.csv");
    std::fs::write(&rows, "a,b\n".repeat(11)).unwrap();
    let e = refuse(&rows, &small);
    assert_eq!((e.limit, e.place.row), (Limit::Rows(10), Some(11)));
    assert!(
        e.message_zh().contains("一张表最多10行"),
        "{}",
        e.message_zh()
    );
    let cols = dir.path().join("cols.csv");
    std::fs::write(&cols, "a,b\n1,2,3,4,5,6\n").unwrap();
    let e = refuse(&cols, &small);
    assert_eq!(e.limit, Limit::Columns(5));
    assert_eq!((e.place.row, e.place.column), (Some(2), Some(6)));
    // Empty fields past the last column are not cells.
    std::fs::write(&cols, "a,b\n1,2,3,4,5,,,,,\n").unwrap();
    for_each_row_limited(&cols, &small, &mut |_| ControlFlow::Continue(())).unwrap();

    // xlsx: a cell in column G, then one in row 11.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    ws.write_string(1, 6, "x").unwrap();
    let path = dir.path().join("wide.xlsx");
    wb.save(&path).unwrap();
    let e = refuse(&path, &small);
    assert_eq!(e.limit, Limit::Columns(5));
    assert_eq!((e.place.row, e.place.column), (Some(2), Some(7)));
    assert!(e.message_zh().contains("列数过多"), "{}", e.message_zh());
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    ws.write_string(10, 0, "x").unwrap();
    let path = dir.path().join("long.xlsx");
    wb.save(&path).unwrap();
    let e = refuse(&path, &small);
    assert_eq!((e.limit, e.place.row), (Limit::Rows(10), Some(11)));
}

/// A realistic ledger row of `n` columns: names, identity numbers, codes, numbers, dates.
fn ledger_row(i: u32, n: usize) -> Vec<Out> {
    (0..n)
        .map(|c| match c % 5 {
            0 => Out::Text(format!("韦{}", i % 9_973)),
            1 => Out::Text(format!("4512281949{:08}", i)),
            2 => Out::Text(["汉族", "瑶族", "壮族"][c % 3].into()),
            3 => Out::Number(f64::from(i % 100_000) * 1.5),
            _ => Out::Date(chrono::NaiveDate::from_ymd_opt(2020, 1, 1 + (i % 28)).unwrap()),
        })
        .collect()
}

#[test]
fn a_million_rows_of_fifty_columns_fit_the_defaults() {
    // 10,000 rows as the export writes them; their sheet and shared strings, scaled to a
    // million rows (longer row numbers included), must stay well inside the default limits.
    const ROWS: u32 = 10_000;
    let columns: Vec<Column> = (0..50)
        .map(|c| Column::new(&format!("列{c}"), Kind::Text))
        .collect();
    let mut t = XlsxTable::new("台账", columns).unwrap();
    for i in 0..ROWS {
        t.push(&ledger_row(i, 50), &[]).unwrap();
    }
    let bytes = t.into_bytes().unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let sheet = zip.by_name("xl/worksheets/sheet1.xml").unwrap().size();
    let shared = zip.by_name("xl/sharedStrings.xml").unwrap().size();
    let limits = ReadLimits::default();
    let scale = 100 * 12 / 10;
    assert!(sheet * scale < limits.max_sheet_bytes, "sheet {sheet}");
    assert!(shared * scale < limits.max_entry_bytes, "shared {shared}");
    assert!(50 < limits.max_columns && 1_048_576 < limits.max_rows);
    // And it reads within them.
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "ledger.xlsx", &bytes);
    let mut rows = 0;
    for_each_row_limited(&path, &limits, &mut |_| {
        rows += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(rows, ROWS as usize + 1);
}

#[test]
fn csv_export_neutralises_formulas_and_reads_back_what_was_written() {
    let columns = [
        Column::new("姓名", Kind::Text),
        Column::new("备注", Kind::Text),
        Column::new("收入", Kind::Number),
    ];
    let texts = [
        "-韦",
        "=HYPERLINK(\"http://evil.example/\",\"点击\")",
        "+1",
        "@SUM(A1)",
        "\t=1+2",
        "\r=1",
        "'已有引号",
        "韦-桂英",
    ];
    let mut t = CsvTable::new(Vec::new(), &columns).unwrap();
    for (i, text) in texts.iter().enumerate() {
        t.push(&[
            Out::Text((*text).into()),
            Out::Text(format!("备注{i}")),
            Out::Number(-5.5),
        ])
        .unwrap();
    }
    let bytes = t.finish().unwrap();
    let written = String::from_utf8(bytes.clone()).unwrap();
    assert!(written.contains("\n'-韦,备注0,-5.5\n"), "{written}");
    assert!(written.contains("\"'=HYPERLINK("), "{written}");
    assert!(written.contains("\n'+1,"), "{written}");
    assert!(written.contains("\n'@SUM(A1),"), "{written}");
    assert!(written.contains("'\t=1+2"), "{written}");
    // Numbers are not text: a negative number stays a number.
    assert!(!written.contains("'-5.5"), "{written}");
    assert!(written.contains("\n韦-桂英,"), "{written}");
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "export.csv", &bytes);
    let mut read = Vec::new();
    xiuhua_xlsx::source::for_each_row(&path, &mut |r| {
        if r.row > 1 {
            read.push((r.cells[0].clone(), r.cells[2].clone()));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    let names: Vec<String> = read.iter().map(|(n, _)| n.display()).collect();
    // Read back as written (the reader trims surrounding spaces, tabs and line breaks as it
    // does for every cell).
    assert_eq!(
        names,
        [
            "-韦",
            "=HYPERLINK(\"http://evil.example/\",\"点击\")",
            "+1",
            "@SUM(A1)",
            "=1+2",
            "=1",
            "'已有引号",
            "韦-桂英"
        ]
    );
    assert!(
        read.iter()
            .all(|(_, n)| *n == CellValue::Text("-5.5".into()))
    );
}

#[test]
fn xlsx_export_stores_formula_like_text_as_text() {
    let link = "=HYPERLINK(\"http://evil.example/\",\"点击\")";
    let mut t = XlsxTable::new("台账", vec![Column::new("姓名", Kind::Text)]).unwrap();
    t.push(&[Out::Text(link.into())], &[]).unwrap();
    t.push(&[Out::Text("-韦".into())], &[]).unwrap();
    let bytes = t.into_bytes().unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert!(!sheet.contains("<f>"), "a formula was written: {sheet}");
    assert!(
        sheet.contains(r#"<c r="A2" s="1" t="s">"#)
            || sheet.contains(r#"r="A2""#) && sheet.contains(r#"t="s""#),
        "{sheet}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "export.xlsx", &bytes);
    let mut read = Vec::new();
    xiuhua_xlsx::source::for_each_row(&path, &mut |r| {
        read.push(r.cells[0].clone());
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(read[1], CellValue::Text(link.into()));
    assert_eq!(read[2], CellValue::Text("-韦".into()));
}
