//! Exports: the registry (now or as of a date) as a ledger in `.xlsx` or CSV — the same columns
//! the importer reads, so export → import changes nothing — and standard statistics tables.

use std::collections::BTreeMap;
use std::path::Path;
use xiuhua_domain::message::msg;

use chrono::NaiveDate;
use xiuhua_db::members::MemberRow;
use xiuhua_domain::event;
use xiuhua_domain::fields::FieldGetter;
use xiuhua_domain::{
    CodeCatalog, Field, FieldCatalog, FieldDef, FieldLevel, FieldRef, FieldType, HouseholdFields,
    HouseholdState, Member, MonitoringStatus, Personal, RegistryStatus,
};
use xiuhua_xlsx::write::{Column, CsvTable, Kind, Out, XlsxTable, tables_workbook};

use xiuhua_domain::household::birth_shown;

use crate::registry::mask_id;
use crate::{CurrentUser, Error, Result, Services};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Excel workbook.
    Xlsx,
    /// CSV (UTF-8 with BOM).
    Csv,
}

/// The ledger columns of a catalogue, in export order: the household columns, then the member
/// columns (each in catalogue order).
fn ledger_fields(fields: &FieldCatalog) -> Vec<&FieldDef> {
    // 出生日期 is read by the importer (checked against the identity number) but exported last.
    let cols = || fields.columns().filter(|d| d.id != Field::BIRTH_DATE);
    cols()
        .filter(|d| d.level == FieldLevel::Household)
        .chain(cols().filter(|d| d.level == FieldLevel::Member))
        .collect()
}

fn kind(ty: FieldType) -> Kind {
    match ty {
        FieldType::Year | FieldType::Int | FieldType::Decimal | FieldType::Money => Kind::Number,
        FieldType::Date => Kind::Date,
        _ => Kind::Text,
    }
}

/// The header columns of a ledger export (出生日期 last).
pub fn ledger_columns() -> Vec<Column> {
    ledger_columns_with(FieldCatalog::shipped())
}

/// [`ledger_columns`] of another field catalogue.
pub fn ledger_columns_with(fields: &FieldCatalog) -> Vec<Column> {
    let mut cols: Vec<Column> = ledger_fields(fields)
        .into_iter()
        .map(|d| {
            let c = Column::new(d.header(), kind(d.ty));
            match d.id {
                Field::ID_NUMBER => c.width(21.0),
                Field::HOUSEHOLD_NO | Field::VILLAGE_CODE => c.width(18.0),
                Field::PHONE | Field::MEMBER_PHONE => c.width(13.0),
                Field::BANK_ACCOUNT => c.width(22.0),
                _ => c,
            }
        })
        .collect();
    cols.push(Column::new("出生日期", Kind::Date));
    cols
}

fn yes_no(b: bool) -> Out {
    Out::Text(if b { "是" } else { "否" }.into())
}

fn yuan(fen: i64) -> Out {
    if fen == 0 {
        Out::Empty
    } else {
        Out::Number(fen as f64 / 100.0)
    }
}

/// A value as a ledger cell: codes as their Chinese labels, 是/否, money in 元.
fn cell(def: &FieldDef, v: Option<FieldRef<'_>>, codes: &CodeCatalog) -> Out {
    let list = def.code_list.as_deref().unwrap_or("");
    match v {
        None => Out::Empty,
        Some(FieldRef::Text(t)) if def.ty == FieldType::Code => {
            Out::Text(codes.label_zh(list, t).to_string())
        }
        Some(FieldRef::Text(t)) => Out::from(t.to_string()),
        Some(FieldRef::Codes(c)) => Out::from(
            c.iter()
                .map(|c| codes.label_zh(list, c).to_string())
                .collect::<Vec<_>>()
                .join("、"),
        ),
        Some(FieldRef::Bool(b)) => yes_no(b),
        Some(FieldRef::Int(n)) => Out::from(Some(n)),
        Some(FieldRef::Decimal(x)) => Out::Number(x),
        Some(FieldRef::Money(m)) => yuan(m.0),
        Some(FieldRef::Date(d)) => Out::from(Some(d)),
    }
}

/// Personal data for an export without full rights: phones and accounts left out, identity
/// numbers masked, birth dates as the year alone (the domain's masking rules).
fn personal(def: &FieldDef, out: Out, full: bool) -> Out {
    match (def.personal, full) {
        (Personal::Phone | Personal::Account, false) => Out::Empty,
        (Personal::Id, _) => match out {
            Out::Text(t) => Out::from(mask_id(&t, full)),
            other => other,
        },
        (Personal::Birth, false) => match out {
            Out::Date(d) => Out::from(birth_shown(Some(d), false)),
            // Any other shape: nothing rather than a date.
            _ => Out::Empty,
        },
        _ => out,
    }
}

/// The ledger columns of a catalogue with where each value is read from, resolved once per
/// export (not per household): the household columns, then the member columns.
pub struct LedgerLayout<'c> {
    household: Vec<(&'c FieldDef, FieldGetter<'c, HouseholdFields>)>,
    member: Vec<(&'c FieldDef, FieldGetter<'c, Member>)>,
}

impl<'c> LedgerLayout<'c> {
    /// The layout of [`ledger_columns_with`] for the same catalogue.
    pub fn new(fields: &'c FieldCatalog) -> LedgerLayout<'c> {
        let mut layout = LedgerLayout {
            household: Vec::new(),
            member: Vec::new(),
        };
        for d in ledger_fields(fields) {
            match d.level {
                FieldLevel::Household => layout.household.push((d, FieldGetter::of(d))),
                FieldLevel::Member => layout.member.push((d, FieldGetter::of(d))),
                FieldLevel::Ignored => {}
            }
        }
        layout
    }
}

/// The ledger rows (one per member) of a household, in the columns of [`ledger_columns_with`]
/// for the layout's catalogue; without `full`, phones and accounts are left out and identity
/// numbers masked.
pub fn ledger_rows(
    layout: &LedgerLayout<'_>,
    s: &HouseholdState,
    names: &BTreeMap<String, String>,
    codes: &CodeCatalog,
    full: bool,
) -> Vec<Vec<Out>> {
    let f = &s.fields;
    let name = |code: &str| Out::from(names.get(code).cloned().unwrap_or_default());
    let household: Vec<Out> = layout
        .household
        .iter()
        .map(|(d, get)| match d.id {
            Field::COUNTY => name(s.county_code()),
            Field::TOWNSHIP => name(s.township_code()),
            Field::VILLAGE => name(&f.village_code),
            Field::GROUP => f.group_code.as_deref().map(name).unwrap_or(Out::Empty),
            Field::HEAD_NAME => Out::from(s.head().map(|h| h.name.clone()).unwrap_or_default()),
            Field::STATUS => Out::Text(f.status.label_zh().into()),
            Field::MEMBER_COUNT => Out::Number(s.members.len() as f64),
            Field::RISK_ELIMINATED if f.monitor_type.is_some() => {
                yes_no(f.monitoring == MonitoringStatus::Eliminated)
            }
            _ => personal(d, cell(d, get.read(f), codes), full),
        })
        .collect();
    s.members
        .iter()
        .map(|m| {
            let mut row = Vec::with_capacity(household.len() + layout.member.len() + 1);
            row.extend_from_slice(&household);
            row.extend(layout.member.iter().map(|(d, get)| match d.id {
                Field::SEX => Out::Text(if m.sex == "1" { "男" } else { "女" }.into()),
                _ => personal(d, cell(d, get.read(m), codes), full),
            }));
            row.push(personal(
                FieldCatalog::shipped().get(Field::BIRTH_DATE),
                Out::from(m.birth_date),
                full,
            ));
            row
        })
        .collect()
}

/// Calls `f` with every household inside `region` (as of a date, or now), in id order, in pages.
async fn each_household(
    s: &Services,
    region: &str,
    as_of: Option<NaiveDate>,
    f: &mut (dyn FnMut(HouseholdState) -> Result<()> + Send),
) -> Result<usize> {
    each_page(s, region, as_of, None, &mut |page| {
        for (_, state) in page {
            f(state)?;
        }
        Ok(())
    })
    .await
}

/// Streams the households of `region` (now, or as of a date) in pages of up to 1,000, as
/// (household id, state). With `known_at`, only events recorded up to that time count (the
/// registry as it was known then), which is how a stored rule result is re-explained.
pub(crate) async fn each_page(
    s: &Services,
    region: &str,
    as_of: Option<NaiveDate>,
    known_at: Option<&str>,
    f: &mut (dyn FnMut(Vec<(i64, HouseholdState)>) -> Result<()> + Send),
) -> Result<usize> {
    let mut conn = s.db.acquire().await?;
    let mut after = 0i64;
    let mut n = 0;
    loop {
        let page = xiuhua_db::households::page(&mut conn, region, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let ids: Vec<i64> = page.iter().map(|h| h.id).collect();
        let county = &page[0].county_code;
        let mut out = Vec::with_capacity(page.len());
        match (as_of, known_at) {
            (None, None) => {
                let members =
                    xiuhua_db::members::list_for_households(&mut conn, county, &ids).await?;
                let mut by_household: BTreeMap<i64, Vec<&MemberRow>> = BTreeMap::new();
                for m in &members {
                    by_household.entry(m.household_id).or_default().push(m);
                }
                for h in &page {
                    let ms = by_household.remove(&h.id).unwrap_or_default();
                    let state = HouseholdState {
                        fields: h.decode_fields()?,
                        members: ms
                            .into_iter()
                            .map(MemberRow::decode)
                            .collect::<std::result::Result<_, _>>()?,
                    };
                    out.push((h.id, state));
                }
            }
            (d, known_at) => {
                let d = d.unwrap_or_else(|| s.clock.today());
                let mut events =
                    xiuhua_db::events::list_for_households(&mut conn, county, &ids).await?;
                for h in &ids {
                    let mut mine = events.remove(h).unwrap_or_default();
                    if let Some(cut) = known_at {
                        mine.retain(|e| {
                            xiuhua_db::events::format_ts(e.recorded_at).as_str() <= cut
                        });
                    }
                    if let Some(state) =
                        event::state_as_of(&mine, d).map_err(|e| Error::Unexpected(e.into()))?
                    {
                        // Keep only households that lay inside the region on that date.
                        if state.fields.village_code.starts_with(region) || region.len() < 6 {
                            out.push((*h, state));
                        }
                    }
                }
            }
        }
        n += out.len();
        f(out)?;
    }
    Ok(n)
}

async fn region_names(s: &Services, region: &str) -> Result<BTreeMap<String, String>> {
    let mut conn = s.db.acquire().await?;
    let county = region.get(..6).unwrap_or(region);
    let mut names = BTreeMap::new();
    for level in 3..=6 {
        for r in xiuhua_db::regions::list_level(&mut conn, level, county).await? {
            names.insert(r.code, r.name);
        }
    }
    Ok(names)
}

/// What a registry export covers.
#[derive(Clone, Copy, Debug)]
pub struct RegistryExport<'a> {
    /// Region (default: the user's scope).
    pub region: Option<&'a str>,
    /// The registry as it stood at the end of this date (default: now).
    pub as_of: Option<NaiveDate>,
    /// xlsx or csv.
    pub format: ExportFormat,
    /// 用途, required when the user sees full personal data (see [`require_purpose`]).
    pub purpose: &'a str,
}

/// An export that carries full identity numbers, phones or bank accounts needs its purpose
/// (用途), which goes into the access log with the export; a masked export may omit it.
/// Returns the log suffix (` purpose=…`).
pub fn require_purpose(full: bool, purpose: &str) -> Result<String> {
    let p = purpose.trim();
    if full && p.is_empty() {
        return Err(Error::invalid(
            "导出",
            "purpose",
            "purpose_required",
            msg("purpose_required"),
        ));
    }
    Ok(if p.is_empty() {
        String::new()
    } else {
        format!(" purpose={}", p.chars().take(200).collect::<String>())
    })
}

/// Exports the registry of a region (now, or as of a date) as a ledger file. Returns the
/// number of member rows written. `purpose` is required when the user sees full personal data.
pub async fn export_registry(
    s: &Services,
    user: &CurrentUser,
    what: &RegistryExport<'_>,
    out: &Path,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<usize> {
    let RegistryExport {
        region,
        as_of,
        format,
        purpose,
    } = *what;
    crate::clock::check_as_of(s.clock.as_ref(), as_of)?;
    let region = user.narrow(region)?;
    let names = region_names(s, &region).await?;
    let codes = s.codes();
    let full = user.role.sees_personal_data();
    let purpose = require_purpose(full, purpose)?;
    crate::audit::record(
        s,
        &user.username,
        crate::audit::AuditAction::ExportRegistry,
        &region,
        &format!(
            "{}{}{}{purpose}",
            match format {
                ExportFormat::Xlsx => "xlsx",
                ExportFormat::Csv => "csv",
            },
            as_of.map(|d| format!(" as_of={d}")).unwrap_or_default(),
            if full { " full_id_numbers" } else { " masked" }
        ),
        "",
    )
    .await?;
    let columns = ledger_columns();
    let layout = LedgerLayout::new(FieldCatalog::shipped());
    let err = |e: xiuhua_xlsx::write::WriteError| Error::Unexpected(anyhow::anyhow!("export: {e}"));
    let mut rows = 0usize;
    match format {
        ExportFormat::Xlsx => {
            let mut t = XlsxTable::new("农户台账", columns).map_err(err)?;
            each_household(s, &region, as_of, &mut |h| {
                for r in ledger_rows(&layout, &h, &names, &codes, full) {
                    t.push(&r, &[]).map_err(err)?;
                    rows += 1;
                }
                if rows % 10_000 < 8 {
                    progress(rows);
                }
                Ok(())
            })
            .await?;
            t.save(out).map_err(err)?;
        }
        ExportFormat::Csv => {
            let file = std::io::BufWriter::new(
                std::fs::File::create(out).map_err(|e| Error::Unexpected(e.into()))?,
            );
            let mut t = CsvTable::new(file, &columns).map_err(err)?;
            each_household(s, &region, as_of, &mut |h| {
                for r in ledger_rows(&layout, &h, &names, &codes, full) {
                    t.push(&r).map_err(err)?;
                    rows += 1;
                }
                Ok(())
            })
            .await?;
            t.finish().map_err(err)?;
        }
    }
    progress(rows);
    Ok(rows)
}

#[derive(Default, Clone, Copy)]
struct Cell {
    households: i64,
    people: i64,
}

/// Standard statistics tables of a region as `.xlsx`: households and people by 户类型 and 监测状态
/// for each sub-region, by main cause of poverty, and by household attribute.
pub async fn export_statistics(
    s: &Services,
    user: &CurrentUser,
    region: Option<&str>,
    as_of: Option<NaiveDate>,
) -> Result<Vec<u8>> {
    crate::clock::check_as_of(s.clock.as_ref(), as_of)?;
    let region = user.narrow(region)?;
    let names = region_names(s, &region).await?;
    let t = tally_statistics(s, &region, as_of).await?;
    statistics_workbook(&names, &t)
}

/// The cells of the statistics tables: per child region (by registry status, monitored,
/// eliminated, all), and per main cause and per household attribute (by registry status, for
/// households that are or were poor).
#[derive(Default)]
struct Statistics {
    by_child: BTreeMap<String, [Cell; 6]>,
    by_cause: BTreeMap<String, [Cell; 3]>,
    by_attribute: BTreeMap<String, [Cell; 3]>,
}

/// One household as the statistics count it.
struct Tallied<'a> {
    village_code: &'a str,
    group_code: Option<&'a str>,
    status: RegistryStatus,
    monitoring: MonitoringStatus,
    people: i64,
    /// The stored attributes; read only for households that are or were poor.
    fields: &'a dyn Fn() -> Result<(Option<String>, Option<String>)>,
}

impl Statistics {
    /// Adds one household: to its child region's cells, and (if it is or was poor) to its main
    /// cause's and attribute's.
    fn add(&mut self, h: Tallied<'_>, child_len: usize, codes: &CodeCatalog) -> Result<()> {
        let child = match child_len {
            15 => h.group_code.unwrap_or_default().to_string(),
            n => h.village_code.get(..n).unwrap_or("").to_string(),
        };
        let si = RegistryStatus::ALL
            .iter()
            .position(|x| *x == h.status)
            .unwrap_or(0);
        let people = h.people;
        let add = |cells: &mut [Cell], i: usize| {
            cells[i].households += 1;
            cells[i].people += people;
        };
        let c = self.by_child.entry(child).or_default();
        add(c, si);
        match h.monitoring {
            MonitoringStatus::Monitored => add(c, 3),
            MonitoringStatus::Eliminated => add(c, 4),
            MonitoringStatus::None => {}
        }
        add(c, 5);
        if h.status != RegistryStatus::General {
            let (cause, attribute) = (h.fields)()?;
            let label = |list: &str, v: Option<String>| {
                v.map(|x| codes.label_zh(list, &x).to_string())
                    .unwrap_or_else(|| "未填".into())
            };
            add(
                self.by_cause
                    .entry(label("poverty_cause", cause))
                    .or_default(),
                si,
            );
            add(
                self.by_attribute
                    .entry(label("household_attribute", attribute))
                    .or_default(),
                si,
            );
        }
        Ok(())
    }
}

/// Counts the households of `region` (now, or as of a date) into the statistics cells. Now,
/// the household rows alone answer (no members, attributes decoded only for households that
/// are or were poor); as of a date, each household is re-derived from its events.
async fn tally_statistics(
    s: &Services,
    region: &str,
    as_of: Option<NaiveDate>,
) -> Result<Statistics> {
    let codes = s.codes();
    let child_len = match region.len() {
        6 => 9,
        9 => 12,
        _ => 15,
    };
    let mut t = Statistics::default();
    if as_of.is_some() {
        each_household(s, region, as_of, &mut |h| {
            let f = &h.fields;
            let fields = || Ok((f.main_cause.clone(), f.attribute.clone()));
            t.add(
                Tallied {
                    village_code: &f.village_code,
                    group_code: f.group_code.as_deref(),
                    status: f.status,
                    monitoring: f.monitoring,
                    people: h.members.len() as i64,
                    fields: &fields,
                },
                child_len,
                &codes,
            )
        })
        .await?;
        return Ok(t);
    }
    let mut conn = s.db.acquire().await?;
    let mut after = 0i64;
    loop {
        let page = xiuhua_db::households::page(&mut conn, region, after, 2000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for h in &page {
            let fields = || {
                let f = h.decode_fields()?;
                Ok((f.main_cause, f.attribute))
            };
            t.add(
                Tallied {
                    village_code: &h.village_code,
                    group_code: h.group_code.as_deref(),
                    status: RegistryStatus::parse(&h.status).unwrap_or_default(),
                    monitoring: MonitoringStatus::parse(&h.monitoring).unwrap_or_default(),
                    people: i64::from(h.member_count),
                    fields: &fields,
                },
                child_len,
                &codes,
            )?;
        }
    }
    Ok(t)
}

/// The statistics workbook: one sheet by 户类型 per child region (with its name), one by
/// 主要致贫原因, one by 贫困户属性.
fn statistics_workbook(names: &BTreeMap<String, String>, t: &Statistics) -> Result<Vec<u8>> {
    let mut status_cols = vec![
        Column::new("区划", Kind::Text).width(16.0),
        Column::new("区划代码", Kind::Text).width(16.0),
    ];
    for h in [
        "一般农户",
        "贫困户",
        "已脱贫户",
        "监测对象",
        "风险已消除",
        "合计",
    ] {
        status_cols.extend(count_columns(h));
    }
    let status_rows: Vec<Vec<Out>> = t
        .by_child
        .iter()
        .map(|(code, c)| {
            let mut r = vec![
                Out::from(names.get(code).cloned().unwrap_or_default()),
                Out::from(code.clone()),
            ];
            r.extend(count_cells(c));
            r
        })
        .collect();
    tables_workbook(&[
        ("按户类型".into(), status_cols, status_rows),
        (
            "按致贫原因".into(),
            by_status_columns("主要致贫原因"),
            by_status_rows(&t.by_cause),
        ),
        (
            "按贫困户属性".into(),
            by_status_columns("贫困户属性"),
            by_status_rows(&t.by_attribute),
        ),
    ])
    .map_err(|e| Error::Unexpected(anyhow::anyhow!("statistics: {e}")))
}

/// The 户数 and 人数 columns of one heading.
fn count_columns(h: &str) -> Vec<Column> {
    vec![
        Column::new(&format!("{h}户数"), Kind::Number),
        Column::new(&format!("{h}人数"), Kind::Number),
    ]
}

/// Households and people of each cell, side by side.
fn count_cells(c: &[Cell]) -> Vec<Out> {
    c.iter()
        .flat_map(|x| {
            [
                Out::Number(x.households as f64),
                Out::Number(x.people as f64),
            ]
        })
        .collect()
}

/// The columns of a table by registry status: its title, then 一般农户, 贫困户, 已脱贫户.
fn by_status_columns(title: &str) -> Vec<Column> {
    let mut cols = vec![Column::new(title, Kind::Text).width(18.0)];
    for h in ["一般农户", "贫困户", "已脱贫户"] {
        cols.extend(count_columns(h));
    }
    cols
}

/// The rows of a table by registry status, one per key.
fn by_status_rows(m: &BTreeMap<String, [Cell; 3]>) -> Vec<Vec<Out>> {
    m.iter()
        .map(|(k, c)| {
            let mut r = vec![Out::from(k.clone())];
            r.extend(count_cells(c));
            r
        })
        .collect()
}
