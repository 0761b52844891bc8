//! Importing household ledgers (台账) from Excel or CSV.
//!
//! A file goes in as it is: the reader finds the header and the columns it knows, and this
//! module turns rows into households. Rows of one household are consecutive and share a 户编号
//! (blank household cells on member rows, or merged cells, carry the household's values down).
//! Every problem is collected — sheet, row, column, value, reason — and the import is atomic:
//! one transaction, all households or none. Re-importing the same file changes nothing; a
//! changed row produces only the events for what changed, each with the file name, its SHA-256
//! and the rows as source.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};
use xiuhua_db::AnyConnection;
use xiuhua_db::events::EventRow;
use xiuhua_db::members::MemberRow;
use xiuhua_db::regions::RegionRow;
use xiuhua_domain::event::{self, Change, Event, EventKind, SourceKind};
use xiuhua_domain::household::FieldPatch;
use xiuhua_domain::validate::parse_member_id_number;
use xiuhua_domain::{
    CodeCatalog, Fen, FieldCatalog, FieldDef, FieldLevel, FieldRef, FieldType, FieldValue,
    HouseholdFields, HouseholdState, Member, MonitoringStatus, Record, RegionCode, RegionLevel,
    RegistryStatus, validate_household,
};
use xiuhua_xlsx::cell::{
    CellValue, IdCellProblem, id_number_text, number_text, parse_bool, parse_date, parse_year,
};
use xiuhua_xlsx::write::RowProblem;
use xiuhua_xlsx::{Field, LedgerRow, SheetHeader, read_ledger};

use crate::registry::{household_row, period_rows};
use crate::tx_task::{ConnFuture, Reply, TxTask};
use crate::{CurrentUser, Error, Result, Services};

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// County the ledger belongs to (village names are looked up inside it).
    pub county: String,
    /// From when the imported facts are true.
    pub effective_date: NaiveDate,
    /// Compute and report, then roll back.
    pub dry_run: bool,
    /// Extra header names → field storage names (from a mapping file).
    pub mapping: Vec<(String, String)>,
    /// The name the user gave the file (recorded as source).
    pub file_name: String,
    /// Why (recorded on every event).
    pub reason: String,
}

/// One problem in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportProblem {
    /// Sheet.
    pub sheet: String,
    /// 1-based row.
    pub row: usize,
    /// Column header (empty for whole-household problems).
    pub column: String,
    /// The cell's value.
    pub value: String,
    /// Reason in Chinese.
    pub reason_zh: String,
    /// Reason in English.
    pub reason_en: String,
}

/// What an import did (or would do, for a dry run).
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// SHA-256 of the file.
    pub sha256: String,
    /// Data rows read.
    pub rows: usize,
    /// Households in the file.
    pub households: usize,
    /// New households.
    pub created: usize,
    /// Existing households with changes.
    pub changed: usize,
    /// Existing households without changes.
    pub unchanged: usize,
    /// Events written (or that would be).
    pub events: usize,
    /// Headers not recognised: (sheet, column number, header).
    pub unknown_columns: Vec<(String, usize, String)>,
    /// Sheets without a header (skipped).
    pub skipped_sheets: Vec<String>,
    /// Every problem found; non-empty means nothing was written.
    pub problems: Vec<ImportProblem>,
    /// The error workbook (original rows + reasons), when there are problems.
    pub error_workbook: Option<Vec<u8>>,
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
}

/// At most this many problems are listed (the count of further ones is reported).
const MAX_PROBLEMS: usize = 10_000;

/// The rows of one household in the file.
struct Group {
    /// The header of the sheet the rows are in (sheet name, column names and fields).
    header: Arc<SheetHeader>,
    rows: Vec<LedgerRow>,
}

/// Region lookups for one county.
struct Regions {
    townships: HashMap<String, String>,
    villages: HashMap<(String, String), String>,
    village_by_name: HashMap<String, Vec<String>>,
    village_codes: HashSet<String>,
    groups: HashMap<(String, String), String>,
    next_group: HashMap<String, u32>,
    new_groups: Vec<RegionRow>,
}

impl Regions {
    async fn load(conn: &mut AnyConnection, county: &str) -> Result<Regions> {
        let mut r = Regions {
            townships: HashMap::new(),
            villages: HashMap::new(),
            village_by_name: HashMap::new(),
            village_codes: HashSet::new(),
            groups: HashMap::new(),
            next_group: HashMap::new(),
            new_groups: Vec::new(),
        };
        for t in
            xiuhua_db::regions::list_level(conn, RegionLevel::Township.as_i16(), county).await?
        {
            r.townships.insert(t.name, t.code);
        }
        for v in xiuhua_db::regions::list_level(conn, RegionLevel::Village.as_i16(), county).await?
        {
            r.villages
                .insert((v.code[..9].to_string(), v.name.clone()), v.code.clone());
            r.village_by_name
                .entry(v.name)
                .or_default()
                .push(v.code.clone());
            r.village_codes.insert(v.code);
        }
        for g in xiuhua_db::regions::list_level(conn, RegionLevel::Group.as_i16(), county).await? {
            let seq: u32 = g.code[12..].parse().unwrap_or(0);
            let next = r.next_group.entry(g.code[..12].to_string()).or_insert(1);
            *next = (*next).max(seq + 1);
            r.groups.insert((g.code[..12].to_string(), g.name), g.code);
        }
        Ok(r)
    }

    /// The group code of a name in a village, creating the group if it is new (groups have no
    /// national code; the system assigns village code + 3 digits).
    fn group(&mut self, village: &str, name: &str) -> Option<String> {
        if let Some(c) = self.groups.get(&(village.to_string(), name.to_string())) {
            return Some(c.clone());
        }
        let next = self.next_group.entry(village.to_string()).or_insert(1);
        if *next > 999 {
            return None;
        }
        let code = format!("{village}{:03}", *next);
        *next += 1;
        let parsed = RegionCode::parse(&code).ok()?;
        self.new_groups
            .push(crate::regions::region_row(&parsed, name));
        self.groups
            .insert((village.to_string(), name.to_string()), code.clone());
        Some(code)
    }
}

/// Problems found while interpreting one household's rows.
struct Problems<'a> {
    group: &'a Group,
    list: Vec<(usize, Option<usize>, ImportProblem)>,
}

impl Problems<'_> {
    fn cell(&mut self, row: &LedgerRow, field: Field, value: &CellValue, zh: String, en: String) {
        let col = self
            .group
            .header
            .fields
            .iter()
            .position(|f| *f == Some(field));
        let column = col
            .and_then(|c| self.group.header.names.get(c).cloned())
            .unwrap_or_default();
        self.list.push((
            row.row,
            col,
            ImportProblem {
                sheet: row.sheet.to_string(),
                row: row.row,
                column,
                value: value.display(),
                reason_zh: zh,
                reason_en: en,
            },
        ));
    }

    fn row(&mut self, row: usize, zh: String, en: String) {
        let sheet = self.group.header.sheet.clone();
        self.list.push((
            row,
            None,
            ImportProblem {
                sheet,
                row,
                column: String::new(),
                value: String::new(),
                reason_zh: zh,
                reason_en: en,
            },
        ));
    }
}

/// Resolves a ledger value to a code: the code or label itself, or else the one label of the
/// list that contains it (户主 → 本人或户主, 子 → 之子). Ambiguous values are not guessed.
fn resolve<'a>(codes: &'a CodeCatalog, list: &str, t: &str) -> Option<&'a str> {
    if let Some(c) = codes.resolve(list, t) {
        return Some(c);
    }
    let t = t.trim();
    if t.is_empty() {
        return None;
    }
    let mut hits = codes.list(list).iter().filter(|i| i.label_zh.contains(t));
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one.code.as_str()),
        _ => None,
    }
}

fn text(v: &CellValue) -> String {
    match v {
        CellValue::Number(n) => number_text(*n),
        other => other.display(),
    }
}

fn split_multi(t: &str) -> Vec<String> {
    t.split(['、', ',', '，', ';', '；', '/', '|', '+'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn parse_status(t: &str) -> Option<RegistryStatus> {
    match t {
        "一般农户" | "普通农户" | "非贫困户" | "general" => {
            Some(RegistryStatus::General)
        }
        "贫困户" | "未脱贫" | "未脱贫户" | "建档立卡贫困户" | "poor" => {
            Some(RegistryStatus::Poor)
        }
        "脱贫户"
        | "已脱贫"
        | "已脱贫户"
        | "已脱贫(享受政策)"
        | "已脱贫(不再享受政策)"
        | "脱贫享受政策"
        | "脱贫不享受政策"
        | "lifted" => Some(RegistryStatus::Lifted),
        _ => None,
    }
}

fn yuan_to_fen(v: &CellValue) -> Option<Fen> {
    let n = match v {
        CellValue::Number(n) => *n,
        CellValue::Text(t) => t.replace(',', "").trim_end_matches('元').parse().ok()?,
        _ => return None,
    };
    Some(Fen((n * 100.0).round() as i64))
}

/// Household columns with their own interpretation in [`interpret`] (regions, the household type
/// and monitoring, account numbers …); every other column is read by [`set_from_cell`].
const HOUSEHOLD_SPECIAL: &[Field] = &[
    Field::HOUSEHOLD_NO,
    Field::VILLAGE_CODE,
    Field::GROUP,
    Field::BANK_ACCOUNT,
    Field::OTHER_CAUSES,
    Field::STATUS,
    Field::MONITOR_TYPE,
    Field::INCOME_YEAR,
];

/// Member columns with their own interpretation in [`interpret_member`].
const MEMBER_SPECIAL: &[Field] = &[
    Field::NAME,
    Field::ID_NUMBER,
    Field::SEX,
    Field::RELATION,
    Field::HEALTH,
    Field::WORK_MONTHS,
];

/// The stored fields of one level among a group's columns that [`set_from_cell`] reads.
fn generic_fields(g: &Group, level: FieldLevel) -> impl Iterator<Item = &'static FieldDef> {
    let cat = FieldCatalog::shipped();
    let mut seen = HashSet::new();
    g.header
        .fields
        .iter()
        .flatten()
        .filter(move |f| seen.insert(**f))
        .map(|f| cat.get(*f))
        .filter(move |d| d.level == level && d.stored && !HOUSEHOLD_SPECIAL.contains(&d.id))
}

/// A cell read as a value of a catalogue field's type, or the reason it is not one.
fn cell_value(
    def: &FieldDef,
    v: &CellValue,
    codes: &CodeCatalog,
) -> std::result::Result<FieldValue, (String, String)> {
    let t = text(v);
    let list = def.code_list.as_deref().unwrap_or("");
    let bad_code = |t: &str| {
        (
            format!("“{t}”不是有效的取值（代码表 {list}）"),
            format!("{t:?} is not a valid value (code list {list})"),
        )
    };
    match def.ty {
        FieldType::Text | FieldType::Region | FieldType::IdNumber => Ok(FieldValue::Text(t)),
        FieldType::Code => resolve(codes, list, &t)
            .map(|c| FieldValue::Text(c.to_string()))
            .ok_or_else(|| bad_code(&t)),
        FieldType::Codes => split_multi(&t)
            .iter()
            .map(|part| {
                resolve(codes, list, part)
                    .map(String::from)
                    .ok_or_else(|| bad_code(part))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(FieldValue::Codes),
        FieldType::Bool => parse_bool(v)
            .map(FieldValue::Bool)
            .ok_or_else(|| ("应填“是”或“否”".into(), "expected 是 or 否".into())),
        FieldType::Year => parse_year(v)
            .map(|y| FieldValue::Int(i64::from(y)))
            .ok_or_else(|| (format!("“{t}”不是年份"), format!("{t:?} is not a year"))),
        FieldType::Int => t.trim().parse().map(FieldValue::Int).map_err(|_| {
            (
                format!("“{t}”不是整数"),
                format!("{t:?} is not a whole number"),
            )
        }),
        FieldType::Decimal => match v {
            CellValue::Number(n) => Ok(FieldValue::Decimal(*n)),
            _ => t
                .trim()
                .parse()
                .map(FieldValue::Decimal)
                .map_err(|_| (format!("“{t}”不是数字"), format!("{t:?} is not a number"))),
        },
        FieldType::Money => yuan_to_fen(v)
            .map(FieldValue::Money)
            .ok_or_else(|| (format!("“{t}”不是金额"), format!("{t:?} is not an amount"))),
        FieldType::Date => parse_date(v)
            .map(FieldValue::Date)
            .ok_or_else(|| (format!("“{t}”不是日期"), format!("{t:?} is not a date"))),
    }
}

/// Sets a field of a record from a cell, or records why the cell cannot be read.
fn set_from_cell<R: Record>(
    record: &mut R,
    def: &FieldDef,
    r: &LedgerRow,
    v: &CellValue,
    codes: &CodeCatalog,
    p: &mut Problems<'_>,
) {
    let result = cell_value(def, v, codes).and_then(|x| {
        record
            .set(def, Some(x))
            .map_err(|e| (format!("应为{}", e.expected), e.to_string()))
    });
    if let Err((zh, en)) = result {
        p.cell(r, def.id, v, zh, en);
    }
}

/// Interprets a household's rows: the household fields (applied over `base`) and its members.
fn interpret(
    g: &Group,
    base: &HouseholdFields,
    regions: &mut Regions,
    codes: &CodeCatalog,
    p: &mut Problems<'_>,
) -> (HouseholdFields, Vec<(usize, Member)>) {
    let mut f = base.clone();
    let first = &g.rows[0];
    // The first non-empty value of each household column among the rows.
    let hv = |field: Field| g.rows.iter().find_map(|r| r.get(field).map(|v| (r, v)));
    if let Some((_, v)) = hv(Field::HOUSEHOLD_NO) {
        f.household_no = text(v);
    }
    // Village: by code, or by township + village name, or by a village name unique in the county.
    if let Some((r, v)) = hv(Field::VILLAGE_CODE) {
        let c = text(v);
        match RegionCode::parse(&c) {
            Ok(code) if regions.village_codes.contains(code.as_str()) => {
                f.village_code = code.as_str().to_string()
            }
            _ => p.cell(
                r,
                Field::VILLAGE_CODE,
                v,
                format!("行政村代码“{c}”不在本县区划中"),
                format!("village code {c:?} is not in the county"),
            ),
        }
    } else if let Some((r, v)) = hv(Field::VILLAGE) {
        let name = text(v);
        let township = hv(Field::TOWNSHIP).map(|(_, t)| text(t));
        let found = match &township {
            Some(t) => match regions.townships.get(t) {
                Some(tc) => regions.villages.get(&(tc.clone(), name.clone())).cloned(),
                None => {
                    let (tr, tv) = hv(Field::TOWNSHIP).unwrap_or((r, v));
                    p.cell(
                        tr,
                        Field::TOWNSHIP,
                        tv,
                        format!("乡镇“{t}”不在本县区划中"),
                        format!("township {t:?} is not in the county"),
                    );
                    None
                }
            },
            None => match regions.village_by_name.get(&name).map(Vec::as_slice) {
                Some([one]) => Some(one.clone()),
                Some(_) => {
                    p.cell(
                        r,
                        Field::VILLAGE,
                        v,
                        format!("本县有多个“{name}”，请增加乡镇列"),
                        format!("several villages are named {name:?}; add a township column"),
                    );
                    None
                }
                None => None,
            },
        };
        match found {
            Some(c) => f.village_code = c,
            None if township
                .as_ref()
                .is_none_or(|t| regions.townships.contains_key(t)) =>
            {
                p.cell(
                    r,
                    Field::VILLAGE,
                    v,
                    format!("行政村“{name}”不在本县区划中"),
                    format!("village {name:?} is not in the county"),
                );
            }
            None => {}
        }
    } else if base.village_code.is_empty() {
        p.row(
            first.row,
            "缺少行政村（或行政村代码）".into(),
            "the village (or village code) is missing".into(),
        );
    }
    if let Some((r, v)) = hv(Field::GROUP)
        && !f.village_code.is_empty()
    {
        let name = text(v);
        match regions.group(&f.village_code, &name) {
            Some(code) => f.group_code = Some(code),
            None => p.cell(
                r,
                Field::GROUP,
                v,
                "村民小组过多（超过999个）".into(),
                "too many groups in the village".into(),
            ),
        }
    }
    if let Some((r, v)) = hv(Field::BANK_ACCOUNT) {
        // Account numbers are longer than the 15 digits a spreadsheet number keeps.
        match xiuhua_xlsx::cell::id_number_text(v) {
            Ok(t) => f.bank_account = Some(t),
            Err(_) => p.cell(
                r,
                Field::BANK_ACCOUNT,
                v,
                "银行账号被Excel存成了数字，后几位已丢失；请把该列设为文本后重新填写".into(),
                "the bank account was stored as a number and lost its last digits".into(),
            ),
        }
    }
    if let Some((r, v)) = hv(Field::OTHER_CAUSES) {
        let mut out = Vec::new();
        for part in split_multi(&text(v)) {
            match codes.resolve("poverty_cause", &part) {
                Some(c) => out.push(c.to_string()),
                None => p.cell(
                    r,
                    Field::OTHER_CAUSES,
                    v,
                    format!("“{part}”不是有效的致贫原因"),
                    format!("{part:?} is not a cause of poverty"),
                ),
            }
        }
        f.other_causes = out;
    }
    if let Some((r, v)) = hv(Field::STATUS) {
        match parse_status(&text(v)) {
            Some(s) => f.status = s,
            None => p.cell(
                r,
                Field::STATUS,
                v,
                format!("户类型“{}”应为一般农户、贫困户或脱贫户", text(v)),
                format!("unknown household type {:?}", text(v)),
            ),
        }
    }
    if let Some((r, v)) = hv(Field::MONITOR_TYPE) {
        let t = text(v);
        match codes.resolve("monitor_type", &t) {
            Some(c) => {
                f.monitor_type = Some(c.to_string());
                let eliminated = hv(Field::RISK_ELIMINATED)
                    .and_then(|(_, v)| parse_bool(v))
                    .unwrap_or(false);
                f.monitoring = if eliminated {
                    MonitoringStatus::Eliminated
                } else {
                    MonitoringStatus::Monitored
                };
            }
            None => p.cell(
                r,
                Field::MONITOR_TYPE,
                v,
                format!("“{t}”不是有效的监测对象类型"),
                format!("{t:?} is not a monitoring type"),
            ),
        }
    }
    if let Some((r, v)) = hv(Field::INCOME_YEAR) {
        match parse_year(v) {
            Some(y) => f.income.year = Some(y),
            None => p.cell(
                r,
                Field::INCOME_YEAR,
                v,
                "不是年份".into(),
                "not a year".into(),
            ),
        }
    }
    // Every other household column: read as its catalogue type says.
    for def in generic_fields(g, FieldLevel::Household) {
        if let Some((r, v)) = hv(def.id) {
            set_from_cell(&mut f, def, r, v, codes, p);
        }
    }
    let members = g
        .rows
        .iter()
        .filter(|r| r.has_member())
        .filter_map(|r| interpret_member(r, codes, p).map(|m| (r.row, m)))
        .collect();
    (f, members)
}

fn interpret_member(r: &LedgerRow, codes: &CodeCatalog, p: &mut Problems<'_>) -> Option<Member> {
    let mut m = Member::default();
    let mut ok = true;
    match r.get(Field::NAME) {
        Some(v) => m.name = text(v),
        None => {
            p.cell(
                r,
                Field::NAME,
                &CellValue::Empty,
                "姓名不能为空".into(),
                "name is empty".into(),
            );
            ok = false;
        }
    }
    match r.get(Field::ID_NUMBER) {
        None => {
            p.cell(
                r,
                Field::ID_NUMBER,
                &CellValue::Empty,
                "证件号码不能为空".into(),
                "identity number is empty".into(),
            );
            ok = false;
        }
        Some(v) => match id_number_text(v) {
            Err(IdCellProblem::PrecisionLost(shown)) => {
                p.cell(
                    r,
                    Field::ID_NUMBER,
                    v,
                    format!("证件号码被Excel存成了数字（{shown}），后几位已丢失，请把该列设为文本后重新填写"),
                    format!("the identity number was stored as a number ({shown}); its last digits are lost"),
                );
                ok = false;
            }
            Ok(t) => match parse_member_id_number(&t) {
                Ok(id) => {
                    let tail = if t.trim().len() == 20 {
                        &t.trim()[18..]
                    } else {
                        ""
                    };
                    m.id_number = format!("{}{tail}", id.as_str());
                    m.sex = id.sex().code().into();
                    m.birth_date = id.birth_date();
                }
                Err((zh, en)) => {
                    p.cell(r, Field::ID_NUMBER, v, zh, en);
                    ok = false;
                }
            },
        },
    }
    if let Some(v) = r.get(Field::SEX)
        && ok
        && xiuhua_domain::Sex::parse(&text(v)).map(|s| s.code()) != Some(m.sex.as_str())
    {
        p.cell(
            r,
            Field::SEX,
            v,
            "性别与身份证号不符".into(),
            "sex does not match the identity number".into(),
        );
    }
    let mut coded = |field: Field, list: &str, required: bool| -> Option<String> {
        match r.get(field) {
            Some(v) => {
                let t = text(v);
                let c = resolve(codes, list, &t);
                if c.is_none() {
                    p.cell(
                        r,
                        field,
                        v,
                        format!("“{t}”不是有效的取值（代码表 {list}）"),
                        format!("{t:?} is not a valid value (code list {list})"),
                    );
                }
                c.map(String::from)
            }
            None if required => {
                p.cell(
                    r,
                    field,
                    &CellValue::Empty,
                    "不能为空".into(),
                    "required".into(),
                );
                None
            }
            None => None,
        }
    };
    m.relation = coded(Field::RELATION, "relation", true).unwrap_or_default();
    if let Some(v) = r.get(Field::HEALTH) {
        for part in split_multi(&text(v)) {
            match codes.resolve("health", &part) {
                Some(c) => m.health.push(c.to_string()),
                None => p.cell(
                    r,
                    Field::HEALTH,
                    v,
                    format!("“{part}”不是有效的健康状况"),
                    format!("{part:?} is not a health status"),
                ),
            }
        }
    }
    if let Some(v) = r.get(Field::WORK_MONTHS) {
        match text(v)
            .trim_end_matches('月')
            .trim_end_matches('个')
            .parse::<i32>()
        {
            Ok(n) if (0..=12).contains(&n) => m.work_months = Some(n),
            _ => p.cell(
                r,
                Field::WORK_MONTHS,
                v,
                "务工时间应为0到12之间的整数（月）".into(),
                "work months must be 0-12".into(),
            ),
        }
    }
    for def in FieldCatalog::shipped().stored(FieldLevel::Member) {
        if !MEMBER_SPECIAL.contains(&def.id)
            && let Some(v) = r.get(def.id)
        {
            set_from_cell(&mut m, def, r, v, codes, p);
        }
    }
    ok.then_some(m)
}

/// Fields of a member that a ledger column can set, by column.
fn merge_member(existing: &Member, imported: &Member, present: &HashSet<Field>) -> Member {
    let mut m = existing.clone();
    let cat = FieldCatalog::shipped();
    for f in present {
        let def = cat.get(*f);
        if def.level == FieldLevel::Member && def.stored {
            // The same catalogue's field on the same record type: the value always fits.
            let _ = m.set(def, imported.get(def).map(FieldRef::to_owned));
        }
    }
    m
}

/// The column a validation problem points at.
fn field_for(storage: &str) -> Option<Field> {
    FieldCatalog::shipped().find(storage).map(|d| d.id)
}

/// A compact key for a (valid, normalised) identity number: the 17 digits and the check
/// character in one integer, so a million numbers take a few tens of megabytes.
fn id_key(id: &str) -> u64 {
    let body: u64 = id.get(..17).and_then(|b| b.parse().ok()).unwrap_or(0);
    let check = match id.as_bytes().get(17) {
        Some(b'X') => 10,
        Some(b) if b.is_ascii_digit() => u64::from(b - b'0'),
        _ => 11,
    };
    body * 12 + check
}

/// Hashes a file with SHA-256.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// What the reader thread sends: groups of rows, then the end (with the file's outline).
enum Msg {
    Groups(Vec<Group>),
    Done(std::result::Result<xiuhua_xlsx::LedgerInfo, xiuhua_xlsx::LedgerError>),
}

/// Splits the stream of rows into households (consecutive rows with the same 户编号; a row
/// without one continues the current household).
fn read_groups(path: &Path, mapping: &[(String, String)], tx: &tokio::sync::mpsc::Sender<Msg>) {
    let mut current: Option<(String, Group)> = None;
    let mut batch: Vec<Group> = Vec::new();
    let mut closed = false;
    let send = |g: Group, batch: &mut Vec<Group>| -> ControlFlow<()> {
        batch.push(g);
        if batch.len() >= 200
            && tx
                .blocking_send(Msg::Groups(std::mem::take(batch)))
                .is_err()
        {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    let result = read_ledger(
        path,
        mapping,
        &mut |h: &Arc<SheetHeader>, row: LedgerRow| {
            let key = row.get(Field::HOUSEHOLD_NO).map(text);
            let continues = match (&current, &key) {
                (Some((k, g)), Some(new)) => k == new && Arc::ptr_eq(&g.header, h),
                (Some((_, g)), None) => Arc::ptr_eq(&g.header, h),
                (None, _) => false,
            };
            if continues {
                if let Some((_, g)) = current.as_mut() {
                    g.rows.push(row);
                }
                return ControlFlow::Continue(());
            }
            let group = Group {
                header: h.clone(),
                rows: vec![row],
            };
            if let Some((_, g)) = current.replace((key.unwrap_or_default(), group))
                && send(g, &mut batch).is_break()
            {
                closed = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    );
    if closed {
        return;
    }
    if let Some((_, g)) = current.take() {
        batch.push(g);
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Msg::Groups(batch));
    }
    let _ = tx.blocking_send(Msg::Done(result));
}

/// A household that is new to the registry, with the rows it came from.
struct NewHousehold {
    state: HouseholdState,
    first_row: usize,
    last_row: usize,
}

/// What the database holds about the households and people of one batch, looked up before the
/// batch is interpreted (queued ahead of the previous batch's writes, see [`import_ledger`]).
#[derive(Default)]
struct Lookups {
    /// Stored households by 户编号.
    existing_by_no: HashMap<String, xiuhua_db::households::HouseholdRow>,
    /// Their current members.
    members_of: HashMap<i64, Vec<MemberRow>>,
    /// Stored members by identity number (first 18 characters), with their 户编号.
    holders: HashMap<String, (MemberRow, String)>,
}

impl Lookups {
    /// Queues the lookups for `groups`.
    async fn ask(db: &TxTask, county: &str, groups: &[Group]) -> Result<Reply<Lookups>> {
        let county = county.to_string();
        let nos: Vec<String> = groups
            .iter()
            .filter_map(|g| g.rows[0].get(Field::HOUSEHOLD_NO).map(text))
            .collect();
        let id_numbers: Vec<String> = groups
            .iter()
            .flat_map(|g| g.rows.iter())
            .filter_map(|r| r.get(Field::ID_NUMBER))
            .filter_map(|v| id_number_text(v).ok())
            .filter_map(|t| {
                parse_member_id_number(&t)
                    .ok()
                    .map(|id| id.as_str().to_string())
            })
            .collect();
        db.ask(move |conn: &mut AnyConnection| -> ConnFuture<'_, Lookups> {
            Box::pin(async move {
                let mut out = Lookups::default();
                for h in xiuhua_db::households::find_by_nos(conn, &county, &nos).await? {
                    out.existing_by_no.insert(h.household_no.clone(), h);
                }
                let ids: Vec<i64> = out.existing_by_no.values().map(|h| h.id).collect();
                for m in xiuhua_db::members::list_for_households(conn, &county, &ids).await? {
                    out.members_of.entry(m.household_id).or_default().push(m);
                }
                for (m, no) in xiuhua_db::members::find_by_id_numbers(conn, &id_numbers).await? {
                    out.holders.insert(
                        m.id_number.get(..18).unwrap_or(&m.id_number).to_string(),
                        (m, no),
                    );
                }
                Ok(out)
            })
        })
        .await
    }
}

/// Ids taken from the county's sequences in blocks (one round trip per block rather than per
/// batch, so batches need not wait for the database); what is left of a block goes back at the
/// end ([`IdBlocks::release`]).
struct IdBlocks {
    county: String,
    /// kind → (next free id, end of the block).
    blocks: HashMap<&'static str, (i64, i64)>,
}

/// Ids reserved at a time.
const ID_BLOCK: i64 = 100_000;

impl IdBlocks {
    /// `n` consecutive ids of `kind` (`household`, `member`, `event`); the first is returned.
    async fn take(&mut self, db: &TxTask, kind: &'static str, n: i64) -> Result<i64> {
        let (next, end) = self.blocks.get(kind).copied().unwrap_or((0, 0));
        if next + n <= end {
            self.blocks.insert(kind, (next + n, end));
            return Ok(next);
        }
        let size = n.max(ID_BLOCK);
        let county = self.county.clone();
        let first = db
            .run(move |conn: &mut AnyConnection| -> ConnFuture<'_, i64> {
                Box::pin(async move {
                    Ok(xiuhua_db::ids::reserve_county(conn, kind, &county, size).await?)
                })
            })
            .await?;
        if first == end {
            // Nobody reserved in between: the new block continues the old one.
            self.blocks.insert(kind, (next + n, end + size));
            return Ok(next);
        }
        // Otherwise the unused rest of the previous block is skipped.
        self.blocks.insert(kind, (first + n, first + size));
        Ok(first)
    }

    /// Gives back the unused ids of the last blocks (when nobody took ids after them).
    async fn release(&self, conn: &mut AnyConnection) -> Result<()> {
        for (kind, (next, end)) in &self.blocks {
            xiuhua_db::ids::release_county(conn, kind, &self.county, *next, *end).await?;
        }
        Ok(())
    }
}

/// Accumulated state of one import run.
struct Run<'a> {
    s: &'a Services,
    user: &'a CurrentUser,
    opts: &'a ImportOptions,
    codes: CodeCatalog,
    regions: Regions,
    source_ref: String,
    report: ImportReport,
    seen_households: HashSet<String>,
    /// Identity numbers seen so far (compact key) → (index into `household_nos`, row).
    seen_ids: HashMap<u64, (u32, u32)>,
    /// 户编号 of the households read so far, by order of appearance.
    household_nos: Vec<String>,
    bad_rows: Vec<(usize, Vec<CellValue>, Vec<RowProblem>)>,
    header: Vec<String>,
    more_problems: usize,
    /// Households and people added per (village, 户类型, 监测状态), applied to `village_counts`
    /// once at the end rather than per chunk (a chunk touches many villages).
    counts: HashMap<(String, &'static str, &'static str), (i64, i64)>,
    ids: IdBlocks,
    /// The county's latest closed year (年度动态调整), read once at the start.
    closed_year: Option<i32>,
}

impl Run<'_> {
    fn problems(&mut self, group: &Group, list: Vec<(usize, Option<usize>, ImportProblem)>) {
        if list.is_empty() {
            return;
        }
        if self.header.is_empty() {
            self.header = group.header.names.clone();
        }
        for r in &group.rows {
            let mine: Vec<&(usize, Option<usize>, ImportProblem)> =
                list.iter().filter(|(row, ..)| *row == r.row).collect();
            let rp: Vec<RowProblem> = mine
                .iter()
                .map(|(_, col, p)| RowProblem {
                    column: *col,
                    reason: if p.column.is_empty() {
                        p.reason_zh.clone()
                    } else {
                        format!("{}：{}", p.column, p.reason_zh)
                    },
                })
                .collect();
            if self.bad_rows.len() < MAX_PROBLEMS {
                self.bad_rows.push((r.row, r.raw.clone(), rp));
            }
        }
        for (_, _, p) in list {
            if self.report.problems.len() < MAX_PROBLEMS {
                self.report.problems.push(p);
            } else {
                self.more_problems += 1;
            }
        }
    }

    /// Interprets one batch once its lookups are in, and reports progress.
    async fn batch(
        &mut self,
        db: &TxTask,
        groups: Vec<Group>,
        found: Reply<Lookups>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<()> {
        let found = found.get().await?;
        self.chunk(db, groups, found).await?;
        progress(self.report.rows);
        Ok(())
    }

    async fn chunk(&mut self, db: &TxTask, groups: Vec<Group>, found: Lookups) -> Result<()> {
        let mut new_households: Vec<NewHousehold> = Vec::new();
        let Lookups {
            mut existing_by_no,
            members_of: member_rows,
            holders,
        } = found;
        let mut members_of: HashMap<i64, Vec<Member>> = HashMap::new();
        for (h, rows) in member_rows {
            members_of.insert(
                h,
                rows.iter()
                    .map(MemberRow::decode)
                    .collect::<Result<_, _>>()?,
            );
        }
        for g in groups {
            self.report.households += 1;
            self.report.rows += g.rows.len();
            let first_row = g.rows[0].row;
            let last_row = g.rows.last().map(|r| r.row).unwrap_or(first_row);
            let mut p = Problems {
                group: &g,
                list: Vec::new(),
            };
            let Some(no) = g.rows[0].get(Field::HOUSEHOLD_NO).map(text) else {
                p.row(
                    first_row,
                    "缺少户编号".into(),
                    "the household number is missing".into(),
                );
                let list = p.list;
                self.problems(&g, list);
                continue;
            };
            if !self.seen_households.insert(no.clone()) {
                p.row(
                    first_row,
                    format!("户编号{no}在文件中出现在不相邻的两处，同一户的行应连续排列"),
                    format!("household {no} appears twice, not in consecutive rows"),
                );
                let list = p.list;
                self.problems(&g, list);
                continue;
            }
            let existing = existing_by_no.remove(&no);
            let base_state = match &existing {
                Some(h) => Some(HouseholdState {
                    fields: h.decode_fields()?,
                    members: members_of.remove(&h.id).unwrap_or_default(),
                }),
                None => None,
            };
            let base_fields = base_state
                .as_ref()
                .map(|b| b.fields.clone())
                .unwrap_or_default();
            let (fields, members) =
                interpret(&g, &base_fields, &mut self.regions, &self.codes, &mut p);
            if !fields.village_code.is_empty() && !self.user.can_see(&fields.village_code) {
                p.row(
                    first_row,
                    "该户所在行政村不在您的管辖范围内".into(),
                    "the household's village is outside your region".into(),
                );
            }
            // The same person twice in the file.
            let this = self.household_nos.len() as u32;
            self.household_nos.push(no.clone());
            for (row, m) in &members {
                let key = id_key(&m.id_number);
                if let Some((other, other_row)) = self.seen_ids.get(&key) {
                    let other = self
                        .household_nos
                        .get(*other as usize)
                        .cloned()
                        .unwrap_or_default();
                    p.row(
                        *row,
                        format!(
                            "身份证号{}在文件中重复：第{other_row}行（户{other}）",
                            m.id_number
                        ),
                        format!(
                            "identity number {} repeats row {other_row} (household {other})",
                            m.id_number
                        ),
                    );
                } else {
                    self.seen_ids.insert(key, (this, *row as u32));
                }
            }
            let present: HashSet<Field> = g.header.fields.iter().flatten().copied().collect();
            let merged: Vec<(usize, Member)> = members
                .into_iter()
                .map(|(row, m)| {
                    let old = base_state
                        .as_ref()
                        .and_then(|b| b.members.iter().find(|x| x.id_number == m.id_number));
                    (row, old.map(|o| merge_member(o, &m, &present)).unwrap_or(m))
                })
                .collect();
            let state = HouseholdState {
                fields,
                members: merged.iter().map(|(_, m)| m.clone()).collect(),
            };
            if p.list.is_empty() {
                for e in validate_household(&state, &self.codes, self.s.clock.today()) {
                    let row = merged
                        .iter()
                        .find(|(_, m)| !m.id_number.is_empty() && e.record.contains(&m.id_number))
                        .map(|(r, _)| *r)
                        .unwrap_or(first_row);
                    let field = field_for(&e.field);
                    match (field, g.rows.iter().find(|r| r.row == row)) {
                        (Some(f), Some(r)) => {
                            let v = r.get(f).cloned().unwrap_or(CellValue::Empty);
                            p.cell(r, f, &v, e.message_zh.clone(), e.message_en.clone());
                        }
                        _ => p.row(
                            row,
                            format!("{}：{}", e.record, e.message_zh),
                            e.to_string(),
                        ),
                    }
                }
            }
            if p.list.is_empty() {
                // Identity numbers new to this household must not belong to anyone else.
                for (row, m) in &merged {
                    if base_state
                        .as_ref()
                        .is_some_and(|b| b.members.iter().any(|x| x.id_number == m.id_number))
                    {
                        continue;
                    }
                    if let Some((other, other_no)) =
                        holders.get(m.id_number.get(..18).unwrap_or(&m.id_number))
                        && Some(other.household_id) != existing.as_ref().map(|h| h.id)
                    {
                        // A person moving between two households of the same file is refused
                        // too: moves go through `registry::move_member`, which records both sides.
                        p.row(*row, format!("身份证号{}已登记在户{other_no}（成员{}），同一人不能同时属于户{no}", m.id_number, other.name), format!("identity number {} already belongs to household {other_no}", m.id_number));
                    }
                }
            }
            let list = std::mem::take(&mut p.list);
            if !list.is_empty() {
                self.problems(&g, list);
                continue;
            }
            match (&existing, base_state) {
                (None, _) => new_households.push(NewHousehold {
                    state,
                    first_row,
                    last_row,
                }),
                (Some(h), Some(base)) => {
                    self.update(db, &g, h.id, h.version, &base, state, first_row, last_row)
                        .await?
                }
                (Some(_), None) => {}
            }
        }
        self.insert_new(db, new_households).await
    }

    fn event(
        &self,
        household_id: i64,
        id: i64,
        kind: EventKind,
        changes: Vec<Change>,
        rows: (usize, usize),
    ) -> Event {
        Event {
            id,
            household_id,
            kind,
            actor: self.user.username.clone(),
            recorded_at: self.s.clock.now(),
            effective_date: self.opts.effective_date,
            reason: self.opts.reason.clone(),
            source: SourceKind::Import,
            source_ref: Some(format!("{} 行{}-{}", self.source_ref, rows.0, rows.1)),
            changes,
        }
    }

    #[expect(clippy::too_many_arguments, reason = "one household's import context")]
    async fn update(
        &mut self,
        db: &TxTask,
        g: &Group,
        id: i64,
        version: i64,
        base: &HouseholdState,
        new: HouseholdState,
        first_row: usize,
        last_row: usize,
    ) -> Result<()> {
        let mut changes = Vec::new();
        let patch: FieldPatch = event::diff(&base.fields, &new.fields);
        let status_change = patch.keys().any(|k| {
            matches!(
                k.as_str(),
                "status" | "exit_year" | "exit_batch" | "monitoring" | "monitor_type"
            )
        });
        if !patch.is_empty() {
            changes.push(Change::SetFields { patch });
        }
        for m in &new.members {
            match base.members.iter().find(|o| o.id_number == m.id_number) {
                Some(o) => {
                    let patch = event::diff(o, m);
                    if !patch.is_empty() {
                        changes.push(Change::UpdateMember {
                            member_id: o.id,
                            patch,
                        });
                    }
                }
                None => changes.push(Change::AddMember {
                    member: m.clone(),
                    reason_code: None,
                }),
            }
        }
        for o in &base.members {
            if !new.members.iter().any(|m| m.id_number == o.id_number) {
                changes.push(Change::RemoveMember {
                    member_id: o.id,
                    reason_code: None,
                });
            }
        }
        if changes.is_empty() {
            self.report.unchanged += 1;
            return Ok(());
        }
        // New members need ids in this county.
        for c in changes.iter_mut() {
            if let Change::AddMember { member, .. } = c {
                member.id = self.ids.take(db, "member", 1).await?;
            }
        }
        let kind = if status_change {
            EventKind::StatusChanged
        } else {
            EventKind::Edited
        };
        let meta = crate::registry::ChangeMeta {
            effective_date: self.opts.effective_date,
            reason: self.opts.reason.clone(),
            source: SourceKind::Import,
            source_ref: Some(format!("{} 行{first_row}-{last_row}", self.source_ref)),
            correction: false,
        };
        let (s, user) = (self.s.clone(), self.user.clone());
        // The outcome is wanted here (a refused change becomes a problem of its rows), so the
        // write runs inside the job and its result comes back as a value.
        let outcome = db
            .run(
                move |conn: &mut AnyConnection| -> ConnFuture<'_, Result<()>> {
                    Box::pin(async move {
                        Ok(crate::registry::write_event(
                            &s,
                            conn,
                            &user,
                            id,
                            Some(version),
                            kind,
                            changes,
                            &meta,
                        )
                        .await
                        .map(|_| ()))
                    })
                },
            )
            .await?;
        match outcome {
            Ok(_) => {
                self.report.changed += 1;
                self.report.events += 1;
            }
            Err(Error::Invalid(errs)) => {
                let list = errs
                    .iter()
                    .map(|e| {
                        (
                            first_row,
                            None,
                            ImportProblem {
                                sheet: g.header.sheet.clone(),
                                row: first_row,
                                column: e.field.clone(),
                                value: String::new(),
                                reason_zh: format!("{}：{}", e.record, e.message_zh),
                                reason_en: e.to_string(),
                            },
                        )
                    })
                    .collect();
                self.problems(g, list);
            }
            Err(Error::Conflict {
                message_zh,
                message_en,
                ..
            }) => {
                let list = vec![(
                    first_row,
                    None,
                    ImportProblem {
                        sheet: g.header.sheet.clone(),
                        row: first_row,
                        column: String::new(),
                        value: String::new(),
                        reason_zh: message_zh,
                        reason_en: message_en,
                    },
                )];
                self.problems(g, list);
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    async fn insert_new(&mut self, db: &TxTask, new: Vec<NewHousehold>) -> Result<()> {
        if new.is_empty() {
            return Ok(());
        }
        let county = self.opts.county.clone();
        if let Some(closed) = self.closed_year
            && chrono::Datelike::year(&self.opts.effective_date) <= closed
        {
            return Err(Error::conflict(
                "closed_year",
                format!(
                    "{closed}年度动态调整已结束，不能导入生效日期为{}的数据",
                    self.opts.effective_date
                ),
                format!(
                    "year {closed} is closed; cannot import data effective {}",
                    self.opts.effective_date
                ),
            ));
        }
        let n = new.len() as i64;
        let member_count: i64 = new.iter().map(|h| h.state.members.len() as i64).sum();
        let mut hid = self.ids.take(db, "household", n).await?;
        let mut mid = self.ids.take(db, "member", member_count).await?;
        let mut eid = self.ids.take(db, "event", n).await?;
        let mut rows = Vec::new();
        let mut members = Vec::new();
        let mut events = Vec::new();
        let mut periods = Vec::new();
        let now = xiuhua_db::events::format_ts(self.s.clock.now());
        for NewHousehold {
            mut state,
            first_row: first,
            last_row: last,
        } in new
        {
            for m in state.members.iter_mut() {
                m.id = mid;
                mid += 1;
            }
            let create = Change::Create {
                fields: state.fields.clone(),
                members: state.members.clone(),
            };
            let ev = self.event(hid, eid, EventKind::Created, vec![create], (first, last));
            let evs = [ev];
            rows.push(household_row(hid, 1, &state, &now, &now)?);
            for m in &state.members {
                members.push(MemberRow::from_member(&county, hid, m)?);
            }
            events.push(EventRow::from_event(&county, &evs[0])?);
            periods.extend(period_rows(
                &county,
                hid,
                &event::periods(&evs).map_err(|e| Error::Unexpected(e.into()))?,
            ));
            let c = self
                .counts
                .entry((
                    state.fields.village_code.clone(),
                    state.fields.status.as_str(),
                    state.fields.monitoring.as_str(),
                ))
                .or_default();
            c.0 += 1;
            c.1 += state.members.len() as i64;
            hid += 1;
            eid += 1;
            self.report.created += 1;
            self.report.events += 1;
        }
        // Queued: the next batch is interpreted while these are stored.
        db.send(move |conn: &mut AnyConnection| -> ConnFuture<'_, ()> {
            Box::pin(async move {
                xiuhua_db::households::insert_many(conn, &rows).await?;
                xiuhua_db::members::insert_many(conn, &members).await?;
                xiuhua_db::events::insert_many(conn, &events).await?;
                xiuhua_db::households::insert_periods(conn, &periods).await?;
                Ok(())
            })
        })
        .await
    }

    /// Adds the new households to the village count cells (in a fixed order).
    async fn apply_counts(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let mut counts: Vec<_> = std::mem::take(&mut self.counts).into_iter().collect();
        counts.sort_unstable();
        for ((village, status, monitoring), (h, p)) in counts {
            xiuhua_db::households::adjust_counts(conn, &village, status, monitoring, h, p).await?;
        }
        Ok(())
    }
}

/// Imports a ledger file. With problems, nothing is written and the report lists them all
/// (with an error workbook); a dry run reports what would change and writes nothing.
pub async fn import_ledger(
    s: &Services,
    user: &CurrentUser,
    path: &Path,
    opts: &ImportOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ImportReport> {
    user.require_write()?;
    if !user.can_see(&opts.county) {
        return Err(Error::NotFound {
            what: format!("county {}", opts.county),
        });
    }
    if opts.effective_date > s.clock.today() {
        return Err(Error::invalid(
            "导入",
            "effective_date",
            "future_date",
            format!("生效日期{}晚于今天", opts.effective_date),
            "effective date is in the future",
        ));
    }
    let sha = sha256_file(path).map_err(|e| {
        Error::invalid(
            &opts.file_name,
            "file",
            "unreadable",
            format!("无法读取文件：{e}"),
            e.to_string(),
        )
    })?;
    let mut tx = s.db.begin().await?;
    let regions = Regions::load(&mut tx, &opts.county).await?;
    let closed_year = xiuhua_db::years::latest_closed(&mut tx, &opts.county).await?;
    let mut run = Run {
        s,
        user,
        opts,
        codes: s.codes(),
        regions,
        source_ref: format!("{} sha256:{sha}", opts.file_name),
        report: ImportReport {
            sha256: sha,
            dry_run: opts.dry_run,
            ..ImportReport::default()
        },
        seen_households: HashSet::new(),
        seen_ids: HashMap::new(),
        household_nos: Vec::new(),
        bad_rows: Vec::new(),
        header: Vec::new(),
        more_problems: 0,
        counts: HashMap::new(),
        ids: IdBlocks {
            county: opts.county.clone(),
            blocks: HashMap::new(),
        },
        closed_year,
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Msg>(4);
    let path_buf = path.to_path_buf();
    let mapping = opts.mapping.clone();
    let reader = tokio::task::spawn_blocking(move || read_groups(&path_buf, &mapping, &sender));
    // Three things run at once: the reader thread parses the file, this task interprets batch
    // k, and the database task stores batch k-1. The lookups for batch k+1 are queued before
    // batch k's writes, so they wait only for batch k-1: rows of one file never look each
    // other up in the database (repeats within the file are caught in memory), so what they
    // find is what was stored before the import.
    let db = TxTask::spawn(tx);
    let mut outline = None;
    let mut pending: Option<(Vec<Group>, Reply<Lookups>)> = None;
    let mut failed = None;
    while let Some(msg) = receiver.recv().await {
        match msg {
            Msg::Groups(groups) => {
                let next = match Lookups::ask(&db, &opts.county, &groups).await {
                    Ok(r) => r,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                };
                if let Some((groups, found)) = pending.replace((groups, next))
                    && let Err(e) = run.batch(&db, groups, found, progress).await
                {
                    failed = Some(e);
                    break;
                }
            }
            Msg::Done(r) => outline = Some(r),
        }
    }
    if failed.is_none()
        && let Some((groups, found)) = pending.take()
        && let Err(e) = run.batch(&db, groups, found, progress).await
    {
        failed = Some(e);
    }
    drop(receiver); // a reader still running stops at its next send
    reader.await.context("ledger reader thread")?;
    // A job's own error is the one worth reporting; the error seen here may only say that the
    // database task had stopped.
    let mut tx = match (db.finish().await, failed) {
        (Err(e), _) | (Ok(_), Some(e)) => return Err(e),
        (Ok(tx), None) => tx,
    };
    let info = match outline {
        Some(Ok(info)) => info,
        Some(Err(e)) => {
            return Err(Error::invalid(
                &opts.file_name,
                "file",
                "unreadable_file",
                e.message_zh(),
                e.to_string(),
            ));
        }
        None => {
            return Err(Error::Unexpected(anyhow::anyhow!(
                "ledger reader stopped early"
            )));
        }
    };
    for h in &info.sheets {
        run.report.unknown_columns.extend(
            h.unknown
                .iter()
                .map(|(c, n)| (h.sheet.clone(), *c, n.clone())),
        );
    }
    run.report.skipped_sheets = info.skipped_sheets.clone();
    if run.more_problems > 0 {
        run.report.problems.push(ImportProblem {
            sheet: String::new(),
            row: 0,
            column: String::new(),
            value: String::new(),
            reason_zh: format!("另有{}个问题未列出", run.more_problems),
            reason_en: format!("{} more problems not listed", run.more_problems),
        });
    }
    if !run.report.problems.is_empty() {
        run.report.error_workbook = Some(
            xiuhua_xlsx::write::error_workbook(&run.header, &run.bad_rows)
                .map_err(|e| Error::Unexpected(anyhow::anyhow!("error workbook: {e}")))?,
        );
        // Nothing is written: the transaction rolls back when dropped.
        drop(tx);
        return Ok(run.report);
    }
    run.apply_counts(&mut tx).await?;
    run.ids.release(&mut tx).await?;
    let new_groups = std::mem::take(&mut run.regions.new_groups);
    if !new_groups.is_empty() {
        xiuhua_db::regions::upsert_many(&mut tx, &new_groups).await?;
    }
    if opts.dry_run {
        drop(tx);
    } else {
        xiuhua_db::commit_bulk(tx).await?;
        // Best effort: a checkpoint that cannot run now (readers) runs later by itself.
        if let Err(e) = s.db.checkpoint().await {
            tracing::warn!("checkpoint after import: {e}");
        }
    }
    Ok(run.report)
}
