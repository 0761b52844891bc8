//! Household ledgers (台账) of the shapes counties keep, written from a seed, each with the
//! exact verdict an import must reach: households and member rows, the set of problems (row,
//! column, code) and the set of notices (row, column letter, code).
//!
//! A [`Shape`] switches on the kinds of mess: header names picked among the variants of the
//! field catalogue (`xiuhua-domain/data/fields.tsv`), title rows above the header, a two-row
//! header, merged household cells, 小计/合计 rows, footers (填表人, 审核人, 联系电话, 填报日期,
//! 单位（盖章）), notes under the table, the header repeated every few households (printed
//! pages), blank formatted rows, code-list synonyms (患有大病, 缺劳动力, 户主, 残疾二级 …),
//! dates in every common form, unknown extra columns — and, with [`Shape::errors`], identity
//! numbers that Excel turned into numbers (xlsx numbers, csv `4.51228E+17`) and impossible
//! dates. [`Output`] is xlsx, csv UTF-8 with BOM or csv GBK.
//!
//! The villages are given by name ([`Config::villages`]): a test registers the same ones.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use xiuhua_domain::{FieldCatalog, IdNumber};

/// The file written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// An Excel workbook.
    Xlsx,
    /// CSV in UTF-8 with a byte-order mark (what Excel writes as "CSV UTF-8").
    CsvBom,
    /// CSV in GBK (what Chinese Excel writes as plain "CSV").
    CsvGbk,
}

/// The kinds of mess a ledger has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Header names picked at random among each field's variants (else the export header).
    pub header_variants: bool,
    /// A title and a date line above the header.
    pub title_rows: bool,
    /// A two-row header (group labels above, 序号 only in the upper row).
    pub two_row_header: bool,
    /// Household cells merged over the household's member rows (xlsx; csv leaves them blank).
    pub merged: bool,
    /// 小计 after each village's households and 合计 at the end.
    pub totals: bool,
    /// Footers (填表人, 审核人, 联系电话, 填报日期, 单位（盖章）) under the table.
    pub footers: bool,
    /// Notes (注：…) under the table.
    pub notes: bool,
    /// The header repeated before every this many households (0: never).
    pub repeat_header_every: usize,
    /// Blank (formatted, in xlsx) rows between some households.
    pub blank_rows: bool,
    /// Code-list values as people write them (synonyms, 残疾 with a grade).
    pub synonyms: bool,
    /// Dates in every common form (and Excel serials, date cells in xlsx).
    pub date_forms: bool,
    /// Columns the catalogue does not know.
    pub unknown_columns: bool,
    /// Cell errors: identity numbers stored as numbers, impossible dates.
    pub errors: bool,
}

impl Shape {
    /// A plain ledger: export headers, no mess, no errors.
    pub fn plain() -> Shape {
        Shape {
            header_variants: false,
            title_rows: false,
            two_row_header: false,
            merged: false,
            totals: false,
            footers: false,
            notes: false,
            repeat_header_every: 0,
            blank_rows: false,
            synonyms: false,
            date_forms: false,
            unknown_columns: false,
            errors: false,
        }
    }

    /// Every kind of mess, and no cell errors: it must import with zero problems.
    pub fn messy() -> Shape {
        Shape {
            header_variants: true,
            title_rows: true,
            two_row_header: true,
            merged: true,
            totals: true,
            footers: true,
            notes: true,
            repeat_header_every: 7,
            blank_rows: true,
            synonyms: true,
            date_forms: true,
            unknown_columns: true,
            errors: false,
        }
    }

    /// [`Shape::messy`] with cell errors.
    pub fn errors() -> Shape {
        Shape {
            errors: true,
            ..Shape::messy()
        }
    }

    /// A shape by name: `plain`, `messy`, `errors`.
    pub fn named(name: &str) -> Option<Shape> {
        match name {
            "plain" | "clean" => Some(Shape::plain()),
            "messy" => Some(Shape::messy()),
            "errors" => Some(Shape::errors()),
            _ => None,
        }
    }

    /// A random mix of the kinds of mess (errors as given).
    pub fn random(rng: &mut impl Rng, errors: bool) -> Shape {
        Shape {
            header_variants: rng.random_bool(0.8),
            title_rows: rng.random_bool(0.7),
            two_row_header: rng.random_bool(0.4),
            merged: rng.random_bool(0.6),
            totals: rng.random_bool(0.5),
            footers: rng.random_bool(0.6),
            notes: rng.random_bool(0.5),
            repeat_header_every: if rng.random_bool(0.4) {
                rng.random_range(2..6)
            } else {
                0
            },
            blank_rows: rng.random_bool(0.5),
            synonyms: rng.random_bool(0.7),
            date_forms: rng.random_bool(0.7),
            unknown_columns: rng.random_bool(0.6),
            errors,
        }
    }
}

/// What to write.
#[derive(Clone, Debug)]
pub struct Config {
    /// Households.
    pub households: usize,
    /// Random seed: the same seed writes the same file.
    pub seed: u64,
    /// The mess.
    pub shape: Shape,
    /// The file format.
    pub output: Output,
    /// (township, village, village code) of the county: households are spread over them.
    pub villages: Vec<(String, String, String)>,
    /// The address code identity numbers start with (the county's code).
    pub id_prefix: String,
    /// Above this many households a workbook is written row by row in constant memory, without
    /// vertical merges ([`MAX_MERGED_HOUSEHOLDS`] by default).
    pub max_merged_households: usize,
}

impl Config {
    /// `households` households of shape `shape` in the two villages of 都安 (451228) that the
    /// application's tests register: 高岭镇 弄力村 (451228101201) and 地苏镇 板升村
    /// (451228102201).
    pub fn duan(households: usize, seed: u64, shape: Shape, output: Output) -> Config {
        Config {
            households,
            seed,
            shape,
            output,
            villages: vec![
                ("高岭镇".into(), "弄力村".into(), "451228101201".into()),
                ("地苏镇".into(), "板升村".into(), "451228102201".into()),
            ],
            id_prefix: "451228".into(),
            max_merged_households: MAX_MERGED_HOUSEHOLDS,
        }
    }
}

/// A problem the import must report: row as Excel shows it, column header as written, and the
/// problem's code (its message key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpectedProblem {
    /// 1-based row.
    pub row: usize,
    /// The column's header as written in the file.
    pub column: String,
    /// The message key.
    pub code: String,
}

/// A notice the import must give: row (the header row for a column), column letters (empty
/// for a row) and the notice's code (its message key).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExpectedNotice {
    /// 1-based row.
    pub row: usize,
    /// Column letters (A, B, …) or empty.
    pub column: String,
    /// The message key.
    pub code: String,
}

/// The exact verdict an import of the file must reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Households in the file.
    pub households: usize,
    /// Member rows (data rows) in the file.
    pub member_rows: usize,
    /// Every problem.
    pub problems: BTreeSet<ExpectedProblem>,
    /// Every notice.
    pub notices: BTreeSet<ExpectedNotice>,
}

/// Why a ledger could not be written.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// Writing the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The workbook could not be written.
    #[error(transparent)]
    Xlsx(#[from] XlsxError),
    /// CSV writing failed.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// The configuration cannot make a ledger (no villages, an identity number out of range).
    #[error("bad ledger configuration: {0}")]
    Config(String),
}

/// One cell of the sheet being built.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A date cell (xlsx: a date-formatted serial; csv: written `2020/12/31`).
    Date(NaiveDate),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
}

/// A column of the ledger: the field's storage name (`None`: unknown) and its header as written.
#[derive(Clone, Debug)]
struct Column {
    field: Option<&'static str>,
    header: String,
    household: bool,
}

/// The sheet being built: the rows not yet written (all of them for a workbook with merges),
/// blank formatted rows and merges, by 1-based row number.
struct Sheet {
    /// Rows pushed so far.
    count: usize,
    /// The rows from `first` on (not yet written to a streaming sink).
    rows: Vec<Vec<Cell>>,
    /// Row number of `rows[0]`.
    first: usize,
    merges: Vec<(usize, usize, usize, usize)>,
    blank: BTreeSet<usize>,
}

impl Sheet {
    fn new() -> Sheet {
        Sheet {
            count: 0,
            rows: Vec::new(),
            first: 1,
            merges: Vec::new(),
            blank: BTreeSet::new(),
        }
    }

    /// Appends a row; returns its 1-based number.
    fn push(&mut self, cells: Vec<Cell>) -> usize {
        self.rows.push(cells);
        self.count += 1;
        self.count
    }

    /// The row with this number (still held).
    fn row(&self, n: usize) -> &[Cell] {
        &self.rows[n - self.first]
    }

    /// Writes the rows held to a streaming sink and lets them go.
    fn flush(&mut self, sink: &mut Sink<'_>) -> Result<(), GenError> {
        match sink {
            Sink::Memory => return Ok(()),
            Sink::Csv { out, gbk } => {
                let mut w = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(Vec::new());
                for cells in &self.rows {
                    w.write_record(cells.iter().map(csv_text))?;
                }
                let bytes = w.into_inner().map_err(|e| GenError::Io(e.into_error()))?;
                if *gbk {
                    let text =
                        String::from_utf8(bytes).map_err(|e| GenError::Config(e.to_string()))?;
                    let (b, _, bad) = encoding_rs::GBK.encode(&text);
                    if bad {
                        return Err(GenError::Config("text not representable in GBK".into()));
                    }
                    out.write_all(&b)?;
                } else {
                    out.write_all(&bytes)?;
                }
            }
            Sink::Xlsx { ws, formats } => {
                let (date, blank) = (&formats.0, &formats.1);
                for (i, cells) in self.rows.iter().enumerate() {
                    let n = self.first + i;
                    let r = (n - 1) as u32;
                    for (c, cell) in cells.iter().enumerate() {
                        if self.blank.contains(&n) {
                            ws.write_blank(r, c as u16, blank)?;
                        } else {
                            write_cell(ws, r, c as u16, cell, date)?;
                        }
                    }
                }
            }
        }
        self.first = self.count + 1;
        self.rows.clear();
        Ok(())
    }
}

/// Where rows go: held for a workbook with merges, or streamed (CSV; a large workbook written
/// in constant memory).
enum Sink<'a> {
    Memory,
    Csv {
        out: std::io::BufWriter<std::fs::File>,
        gbk: bool,
    },
    Xlsx {
        ws: &'a mut Worksheet,
        /// The date and blank-row formats.
        formats: Box<(Format, Format)>,
    },
}

/// A cell as CSV text.
fn csv_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.clone(),
        Cell::Number(n) if n.fract() == 0.0 => format!("{}", *n as i64),
        Cell::Number(n) => n.to_string(),
        Cell::Date(d) => format!("{}/{}/{}", d.year(), d.month(), d.day()),
    }
}

const SURNAMES: &[&str] = &["韦", "蓝", "黄", "覃", "罗", "潘", "莫", "陆", "蒙", "梁"];
const GIVEN: &[&str] = &[
    "桂英", "秀兰", "德明", "志强", "海燕", "建华", "丽娟", "文军", "金凤", "永福", "春梅", "国庆",
];
const GROUPS: &[&str] = &["第一组", "第二组", "第三组", "弄干屯", "那坡屯"];
const UNKNOWN_HEADERS: &[&str] = &["帮扶责任人", "帮扶单位", "微信号", "走访记录", "备用列"];
const ETHNICITIES: &[(&str, &str)] = &[("壮族", "壮"), ("瑶族", "瑶"), ("汉族", "汉族")];

/// A member: name, relation (label, written form), identity number.
struct Person {
    name: String,
    relation: (&'static str, &'static str),
    id: String,
}

/// A header as the reader keeps it: full-width ASCII (brackets typed in Chinese input) as
/// half-width.
fn as_read(h: &str) -> String {
    h.chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// Writes the ledger to `path` and returns the verdict an import must reach.
pub fn generate(cfg: &Config, path: &Path) -> Result<Verdict, GenError> {
    if cfg.villages.is_empty() {
        return Err(GenError::Config("no villages".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let shape = &cfg.shape;
    let columns = columns(&mut rng, shape);
    let col = |name: &str| columns.iter().position(|c| c.field == Some(name));
    let width = columns.len();
    let mut sheet = Sheet::new();
    let mut wb = Workbook::new();
    let streaming_xlsx = is_xlsx_output(cfg) && cfg.households > cfg.max_merged_households;
    let mut sink = match cfg.output {
        Output::Xlsx if streaming_xlsx => {
            let ws = wb.add_worksheet_with_constant_memory()?;
            ws.set_name("台账")?;
            Sink::Xlsx {
                ws,
                formats: Box::new((
                    Format::new().set_num_format("yyyy-mm-dd"),
                    Format::new().set_background_color(rust_xlsxwriter::Color::RGB(0xFFF2CC)),
                )),
            }
        }
        Output::Xlsx => Sink::Memory,
        Output::CsvBom | Output::CsvGbk => {
            let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
            if cfg.output == Output::CsvBom {
                out.write_all(&[0xEF, 0xBB, 0xBF])?;
            }
            Sink::Csv {
                out,
                gbk: cfg.output == Output::CsvGbk,
            }
        }
    };
    let mut verdict = Verdict::default();
    let is_xlsx = cfg.output == Output::Xlsx;
    // Vertical merges of household cells cannot be written row by row (constant memory).
    let merged = shape.merged && is_xlsx && cfg.households <= cfg.max_merged_households;

    if shape.title_rows {
        let r = sheet.push(vec![Cell::text("都安瑶族自治县建档立卡户基础信息台账")]);
        if is_xlsx {
            sheet.merges.push((r, 0, r, width - 1));
        }
        sheet.push(vec![Cell::text(
            "填报单位：都安瑶族自治县乡村振兴局    填报日期：2024年3月1日",
        )]);
    }
    let header_cells: Vec<Cell> = columns.iter().map(|c| Cell::text(&c.header)).collect();
    let header_row;
    if shape.two_row_header {
        let split = columns.iter().take_while(|c| c.household).count();
        let mut upper = vec![Cell::Empty; width];
        upper[0] = Cell::text("序号");
        upper[1] = Cell::text("户基本信息");
        upper[split] = Cell::text("家庭成员信息");
        if is_xlsx {
            for c in upper.iter_mut().take(split).skip(2) {
                *c = Cell::text("户基本信息");
            }
            for c in upper.iter_mut().skip(split + 1) {
                *c = Cell::text("家庭成员信息");
            }
        }
        let u = sheet.push(upper);
        let mut lower = header_cells.clone();
        lower[0] = Cell::Empty;
        header_row = sheet.push(lower);
        if is_xlsx {
            sheet.merges.push((u, 0, header_row, 0));
            sheet.merges.push((u, 1, u, split - 1));
            sheet.merges.push((u, split, u, width - 1));
        }
    } else {
        header_row = sheet.push(header_cells.clone());
    }
    for (i, c) in columns.iter().enumerate() {
        if c.field.is_none() {
            verdict.notices.insert(ExpectedNotice {
                row: header_row,
                column: letter(i + 1),
                code: "ledger_unknown_column".into(),
            });
        }
    }

    let mut serial = 0usize;
    let mut last_village = None;
    let mut village_households = 0usize;
    for h in 0..cfg.households {
        let v = h * cfg.villages.len() / cfg.households.max(1);
        if shape.totals
            && let Some(prev) = last_village
            && prev != v
        {
            total_row(
                &mut sheet,
                &mut verdict,
                width,
                "小计",
                village_households,
                is_xlsx,
            );
            village_households = 0;
        }
        last_village = Some(v);
        if shape.repeat_header_every > 0 && h > 0 && h % shape.repeat_header_every == 0 {
            let r = sheet.push(header_cells.clone());
            verdict.notices.insert(notice(r, "ledger_skipped_header"));
        }
        if shape.blank_rows && rng.random_bool(0.1) {
            let r = sheet.push(vec![Cell::Empty; width]);
            sheet.blank.insert(r);
        }
        let (township, village, code) = &cfg.villages[v];
        let people = household_people(&mut rng, cfg, h)?;
        let household_no = format!("{code}{:05}", h + 1);
        let poor = rng.random_bool(0.5);
        let first_row = sheet.count + 1;
        for (k, p) in people.iter().enumerate() {
            serial += 1;
            let mut cells = vec![Cell::Empty; width];
            let mut set = |name: &str, value: Cell| {
                if let Some(i) = col(name) {
                    cells[i] = value;
                }
            };
            set("ignored", Cell::Number(serial as f64));
            let first = k == 0;
            if first || !shape.merged || merged {
                set("township", Cell::text(township));
                set("village", Cell::text(village));
                set("group", Cell::text(GROUPS[h % GROUPS.len()]));
                set("household_no", Cell::text(&household_no));
                set("head_name", Cell::text(&people[0].name));
                set("status", Cell::text(if poor { "贫困户" } else { "脱贫户" }));
                if !poor {
                    set(
                        "exit_year",
                        year_cell(&mut rng, shape, 2016 + (h % 4) as i32),
                    );
                }
                set(
                    "main_cause",
                    Cell::text(pick_value(
                        &mut rng,
                        shape,
                        &[
                            ("因病", "因病致贫"),
                            ("缺劳力", "缺劳动力"),
                            ("缺技术", "缺乏技术"),
                        ],
                    )),
                );
            }
            // Only the first row carries the household's own values in an unmerged ledger.
            if first && col("risk_identified_on").is_some() && h % 3 == 0 {
                let day = NaiveDate::from_ymd_opt(
                    2021 + (h % 3) as i32,
                    1 + (h % 12) as u32,
                    1 + (h % 28) as u32,
                )
                .unwrap_or_default();
                let impossible = shape.errors && h % 9 == 3;
                let value = if impossible {
                    verdict.problems.insert(ExpectedProblem {
                        row: first_row,
                        column: as_read(&columns[col("risk_identified_on").unwrap_or(0)].header),
                        code: "import_impossible_date".into(),
                    });
                    Cell::text(["2020-02-30", "20201341", "2021年4月31日"][h % 3])
                } else {
                    date_cell(&mut rng, shape, day, is_xlsx)
                };
                set("risk_identified_on", value);
            }
            set("name", Cell::text(&p.name));
            let sex = if p.id.as_bytes()[16] % 2 == 1 {
                "男"
            } else {
                "女"
            };
            set("sex", Cell::text(sex));
            // An identity number Excel turned into a number: never the head's (the household
            // keeps its head, so only that cell is wrong).
            let mangled = shape.errors
                && k > 0
                && (h + k) % 5 == 0
                && !p.id.ends_with('X')
                && !p.id.ends_with("000");
            let id_cell = if mangled {
                verdict.problems.insert(ExpectedProblem {
                    row: sheet.count + 1,
                    column: as_read(&columns[col("id_number").unwrap_or(0)].header),
                    code: "import_identity_number_was_stored_as".into(),
                });
                if is_xlsx {
                    Cell::Number(p.id.parse::<f64>().unwrap_or(0.0))
                } else {
                    // Saved from a number-formatted column: 15 digits kept, then zeros (unless
                    // that happens to be a valid number); else as Excel shows a long number.
                    let zeros = format!("{}000", &p.id[..15]);
                    if h % 2 == 1 && IdNumber::parse(&zeros).is_err() {
                        Cell::text(zeros)
                    } else {
                        Cell::text(format!("{}.{}E+17", &p.id[..1], &p.id[1..6]))
                    }
                }
            } else {
                Cell::text(&p.id)
            };
            set("id_number", id_cell);
            set(
                "relation",
                Cell::text(if shape.synonyms {
                    p.relation.1
                } else {
                    p.relation.0
                }),
            );
            let eth = ETHNICITIES[(h + k) % ETHNICITIES.len()];
            set(
                "ethnicity",
                Cell::text(if shape.synonyms { eth.1 } else { eth.0 }),
            );
            set(
                "education",
                Cell::text(pick_value(
                    &mut rng,
                    shape,
                    &[
                        ("小学", "小学文化"),
                        ("初中", "初中文化"),
                        ("文盲或半文盲", "文盲"),
                    ],
                )),
            );
            set(
                "health",
                Cell::text(pick_value(
                    &mut rng,
                    shape,
                    &[
                        ("健康", "健康"),
                        ("大病", "患有大病"),
                        ("长期慢性病", "慢性病"),
                        ("残疾", "残疾二级"),
                        ("残疾", "肢体残疾三级"),
                        ("残疾", "二级残疾"),
                    ],
                )),
            );
            set(
                "labour",
                Cell::text(pick_value(
                    &mut rng,
                    shape,
                    &[
                        ("普通劳动力", "有劳动力"),
                        ("无劳动力", "无劳动能力"),
                        ("弱劳动力或半劳动力", "半劳动力"),
                    ],
                )),
            );
            for (i, c) in columns.iter().enumerate() {
                if c.field.is_none() && rng.random_bool(0.5) {
                    cells[i] = Cell::text(["张干部", "县扶贫办", "wx123", "已走访"][(h + i) % 4]);
                }
            }
            sheet.push(cells);
            verdict.member_rows += 1;
        }
        let last_row = sheet.count;
        if merged && last_row > first_row {
            for (i, c) in columns.iter().enumerate() {
                if c.household && c.field != Some("ignored") && c.field.is_some() {
                    let value = &sheet.row(first_row)[i];
                    if *value != Cell::Empty {
                        sheet.merges.push((first_row, i, last_row, i));
                    }
                }
            }
        }
        verdict.households += 1;
        village_households += 1;
        if sheet.rows.len() >= FLUSH_ROWS {
            sheet.flush(&mut sink)?;
        }
    }
    if shape.totals {
        total_row(
            &mut sheet,
            &mut verdict,
            width,
            "小计",
            village_households,
            is_xlsx,
        );
        total_row(
            &mut sheet,
            &mut verdict,
            width,
            "合计",
            cfg.households,
            is_xlsx,
        );
    }
    if shape.notes {
        let r = sheet.push(vec![Cell::text(
            "注：1.本表由村委会填写，乡镇审核；2.证件号码须填写18位身份证号码。",
        )]);
        if is_xlsx {
            sheet.merges.push((r, 0, r, width - 1));
        }
        verdict.notices.insert(notice(r, "ledger_skipped_note"));
        let r = sheet.push(vec![Cell::text("备注：脱贫户按脱贫年度填写。")]);
        verdict.notices.insert(notice(r, "ledger_skipped_note"));
    }
    if shape.footers {
        if rng.random_bool(0.5) {
            for t in [
                "填表人：黄文军",
                "审核人：蓝海燕",
                "联系电话：0778-5212345",
                "填报日期：2024年3月1日",
                "单位（盖章）：",
            ] {
                let r = sheet.push(vec![Cell::text(t)]);
                verdict.notices.insert(notice(r, "ledger_skipped_footer"));
            }
        } else {
            let mut cells = vec![Cell::Empty; width];
            cells[0] = Cell::text("填表人：黄文军");
            cells[width / 3] = Cell::text("审核人：蓝海燕");
            cells[2 * width / 3] = Cell::text("联系电话：0778-5212345");
            let r = sheet.push(cells);
            verdict.notices.insert(notice(r, "ledger_skipped_footer"));
            let r = sheet.push(vec![Cell::text("单位（盖章）：都安瑶族自治县乡村振兴局")]);
            verdict.notices.insert(notice(r, "ledger_skipped_footer"));
        }
    }
    sheet.flush(&mut sink)?;
    match sink {
        Sink::Memory => write_xlsx(&sheet, path)?,
        Sink::Csv { mut out, .. } => out.flush()?,
        Sink::Xlsx { .. } => {
            drop(sink);
            wb.save(path)?;
        }
    }
    Ok(verdict)
}

/// Rows held before they are written to a streaming sink.
const FLUSH_ROWS: usize = 4096;

fn is_xlsx_output(cfg: &Config) -> bool {
    cfg.output == Output::Xlsx
}

/// Above this many households an xlsx is written row by row (constant memory), without
/// vertical merges.
pub const MAX_MERGED_HOUSEHOLDS: usize = 20_000;

fn notice(row: usize, code: &str) -> ExpectedNotice {
    ExpectedNotice {
        row,
        column: String::new(),
        code: code.into(),
    }
}

fn total_row(
    sheet: &mut Sheet,
    verdict: &mut Verdict,
    width: usize,
    label: &str,
    households: usize,
    is_xlsx: bool,
) {
    let mut cells = vec![Cell::Empty; width];
    cells[0] = Cell::text(label);
    if is_xlsx {
        for c in cells.iter_mut().take(3).skip(1) {
            *c = Cell::text(label);
        }
    }
    cells[width - 1] = Cell::text(format!("{households}户"));
    let r = sheet.push(cells);
    if is_xlsx {
        sheet.merges.push((r, 0, r, 2));
    }
    verdict.notices.insert(notice(r, "ledger_skipped_total"));
}

/// A value written as its label, or (with synonyms) as people write it.
fn pick_value(rng: &mut impl Rng, shape: &Shape, options: &[(&str, &str)]) -> String {
    let (label, written) = options[rng.random_range(0..options.len())];
    if shape.synonyms && rng.random_bool(0.6) {
        written.to_string()
    } else {
        label.to_string()
    }
}

fn year_cell(rng: &mut impl Rng, shape: &Shape, year: i32) -> Cell {
    if shape.date_forms && rng.random_bool(0.5) {
        Cell::text(format!("{year}年"))
    } else {
        Cell::Number(f64::from(year))
    }
}

/// A date in one of the forms ledgers use.
fn date_cell(rng: &mut impl Rng, shape: &Shape, d: NaiveDate, xlsx: bool) -> Cell {
    if !shape.date_forms {
        return Cell::text(d.format("%Y-%m-%d").to_string());
    }
    let forms = if xlsx { 8 } else { 6 };
    match rng.random_range(0..forms) {
        0 => Cell::text(d.format("%Y-%m-%d").to_string()),
        1 => Cell::text(format!("{}/{}/{}", d.year(), d.month(), d.day())),
        2 => Cell::text(d.format("%Y.%m.%d").to_string()),
        3 => Cell::text(d.format("%Y%m%d").to_string()),
        4 => Cell::text(format!("{}年{}月{}日", d.year(), d.month(), d.day())),
        5 => Cell::Date(d),
        6 => Cell::Number(excel_serial(d)),
        _ => Cell::Number(f64::from(
            u32::try_from(d.year()).unwrap_or(0) * 10_000 + d.month() * 100 + d.day(),
        )),
    }
}

fn excel_serial(d: NaiveDate) -> f64 {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    (d - base).num_days() as f64
}

/// The people of household `h`: a head, often a spouse, children; valid identity numbers,
/// unique in the file.
fn household_people(rng: &mut impl Rng, cfg: &Config, h: usize) -> Result<Vec<Person>, GenError> {
    let size = rng.random_range(1..=4);
    let mut out = Vec::with_capacity(size);
    let head_year = 1950 + (h % 40) as i32;
    // Sequences 0..999 per birth date: household h uses a block of its own.
    let day0 = NaiveDate::from_ymd_opt(head_year, 1, 1).unwrap_or_default()
        + chrono::Duration::days(((h / 40) % 360) as i64);
    let seq_base = ((h / (40 * 360)) * 4) as u16;
    let mut push = |rel: (&'static str, &'static str),
                    birth: NaiveDate,
                    seq: u16,
                    rng: &mut dyn rand::RngCore|
     -> Result<(), GenError> {
        let id = IdNumber::compose(&cfg.id_prefix, birth, seq)
            .map_err(|e| GenError::Config(format!("identity number: {e}")))?;
        let name = format!(
            "{}{}",
            SURNAMES[rng.next_u32() as usize % SURNAMES.len()],
            GIVEN[rng.next_u32() as usize % GIVEN.len()]
        );
        out.push(Person {
            name,
            relation: rel,
            id: id.as_str().to_string(),
        });
        Ok(())
    };
    let head_male = rng.random_bool(0.7);
    let male_seq = |base: u16, male: bool| if male { base * 2 + 1 } else { base * 2 + 2 };
    push(
        ("本人或户主", ["户主", "本人", "本人或户主"][h % 3]),
        day0,
        male_seq(seq_base, head_male),
        rng,
    )?;
    if size >= 2 {
        push(
            ("配偶", if head_male { "妻子" } else { "丈夫" }),
            day0 + chrono::Duration::days(400),
            male_seq(seq_base + 1, !head_male),
            rng,
        )?;
    }
    for k in 2..size {
        let son = rng.random_bool(0.5);
        push(
            if son {
                ("之子", "儿子")
            } else {
                ("之女", "女儿")
            },
            day0 + chrono::Duration::days(365 * 25 + 400 * k as i64),
            male_seq(seq_base + k as u16, son),
            rng,
        )?;
    }
    Ok(out)
}

/// The ledger's columns, in order, with headers as written.
fn columns(rng: &mut impl Rng, shape: &Shape) -> Vec<Column> {
    let cat = FieldCatalog::shipped();
    let household = [
        "ignored",
        "township",
        "village",
        "group",
        "household_no",
        "head_name",
        "status",
        "exit_year",
        "main_cause",
        "risk_identified_on",
    ];
    let member = [
        "name",
        "sex",
        "id_number",
        "relation",
        "ethnicity",
        "education",
        "health",
        "labour",
    ];
    let header = |rng: &mut dyn rand::RngCore, name: &str| -> String {
        if name == "ignored" {
            return "序号".into();
        }
        let Some(def) = cat.find(name) else {
            return name.into();
        };
        if shape.header_variants && !def.headers.is_empty() {
            let i = rng.next_u32() as usize % def.headers.len();
            let h = def.headers[i].clone();
            // Full-width brackets, as typed in Chinese input, half of the time.
            if rng.next_u32().is_multiple_of(2) {
                h.replace('(', "（").replace(')', "）")
            } else {
                h
            }
        } else {
            def.header().to_string()
        }
    };
    let mut out: Vec<Column> = household
        .iter()
        .map(|n| Column {
            field: Some(n),
            header: header(rng, n),
            household: true,
        })
        .collect();
    out.extend(member.iter().map(|n| Column {
        field: Some(n),
        header: header(rng, n),
        household: false,
    }));
    // Counties order columns their own way (序号 stays first, household columns before the
    // members').
    if shape.header_variants && rng.random_bool(0.5) {
        use rand::seq::SliceRandom;
        let split = household.len();
        out[1..split].shuffle(rng);
        out[split..].shuffle(rng);
    }
    if shape.unknown_columns {
        let n = rng.random_range(1..=2);
        for k in 0..n {
            let at = out.len() - k;
            out.insert(
                at,
                Column {
                    field: None,
                    header: UNKNOWN_HEADERS[(rng.next_u32() as usize + k) % UNKNOWN_HEADERS.len()]
                        .into(),
                    household: false,
                },
            );
        }
        // Two unknown columns never share a header.
        let mut seen = BTreeSet::new();
        out.retain(|c| c.field.is_some() || seen.insert(c.header.clone()));
    }
    out
}

/// Column letters of a 1-based column.
pub fn letter(mut column: usize) -> String {
    let mut out = Vec::new();
    while column > 0 {
        out.push(b'A' + ((column - 1) % 26) as u8);
        column = (column - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Writes a workbook held in memory (with its merges).
fn write_xlsx(sheet: &Sheet, path: &Path) -> Result<(), GenError> {
    let mut wb = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let blank = Format::new().set_background_color(rust_xlsxwriter::Color::RGB(0xFFF2CC));
    let ws: &mut Worksheet = wb.add_worksheet();
    ws.set_name("台账")?;
    let merged_cells: BTreeSet<(usize, usize)> = sheet
        .merges
        .iter()
        .flat_map(|&(r1, c1, r2, c2)| (r1..=r2).flat_map(move |r| (c1..=c2).map(move |c| (r, c))))
        .collect();
    for (i, cells) in sheet.rows.iter().enumerate() {
        let r = (i + 1) as u32 - 1;
        if sheet.blank.contains(&(i + 1)) {
            for c in 0..cells.len() {
                ws.write_blank(r, c as u16, &blank)?;
            }
            continue;
        }
        for (c, cell) in cells.iter().enumerate() {
            if merged_cells.contains(&(i + 1, c)) {
                continue;
            }
            write_cell(ws, r, c as u16, cell, &date)?;
        }
    }
    {
        for &(r1, c1, r2, c2) in &sheet.merges {
            let value = &sheet.row(r1).get(c1).cloned().unwrap_or(Cell::Empty);
            let text = match value {
                Cell::Text(t) => t.clone(),
                Cell::Number(n) => n.to_string(),
                Cell::Date(d) => d.to_string(),
                Cell::Empty => String::new(),
            };
            let fmt = Format::new();
            ws.merge_range(
                (r1 - 1) as u32,
                c1 as u16,
                (r2 - 1) as u32,
                c2 as u16,
                &text,
                &fmt,
            )?;
            // merge_range writes text: numbers and dates keep their type.
            if !matches!(value, Cell::Text(_) | Cell::Empty) {
                write_cell(ws, (r1 - 1) as u32, c1 as u16, value, &date)?;
            }
        }
    }
    wb.save(path)?;
    Ok(())
}

fn write_cell(
    ws: &mut Worksheet,
    r: u32,
    c: u16,
    cell: &Cell,
    date: &Format,
) -> Result<(), GenError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) => {
            ws.write_string(r, c, t)?;
        }
        Cell::Number(n) => {
            ws.write_number(r, c, *n)?;
        }
        Cell::Date(d) => {
            let dt = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
            ws.write_datetime_with_format(r, c, &dt, date)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_file_and_verdict() {
        let dir = std::env::temp_dir().join(format!("ledgergen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.csv");
        let b = dir.join("b.csv");
        let cfg = Config::duan(30, 5, Shape::errors(), Output::CsvGbk);
        let va = generate(&cfg, &a).unwrap();
        let vb = generate(&cfg, &b).unwrap();
        assert_eq!(va, vb);
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(va.households, 30);
        assert!(va.member_rows >= 30);
        assert!(!va.problems.is_empty());
        assert!(va.notices.iter().any(|n| n.code == "ledger_skipped_total"));
        let x = dir.join("c.xlsx");
        let vx = generate(&Config::duan(30, 5, Shape::messy(), Output::Xlsx), &x).unwrap();
        assert!(vx.problems.is_empty());
        assert!(std::fs::read(&x).unwrap().starts_with(b"PK"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_large_csv_is_streamed_whole() {
        let dir = std::env::temp_dir().join(format!("ledgergen-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.csv");
        let v = generate(
            &Config::duan(3000, 9, Shape::messy(), Output::CsvGbk),
            &path,
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
        assert!(!bad);
        let lines: Vec<&str> = text.lines().collect();
        // Member rows, the notices' rows and the title, date and two header rows, blank rows.
        assert!(lines.len() >= v.member_rows + v.notices.len() + 3);
        assert!(v.member_rows > FLUSH_ROWS);
        let last = v.notices.iter().map(|n| n.row).max().unwrap();
        assert_eq!(lines.len(), last, "the last row is the last footer");
        assert!(
            lines[last - 1].starts_with("单位（盖章）"),
            "{}",
            lines[last - 1]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn letters() {
        assert_eq!(letter(1), "A");
        assert_eq!(letter(26), "Z");
        assert_eq!(letter(27), "AA");
    }
}
