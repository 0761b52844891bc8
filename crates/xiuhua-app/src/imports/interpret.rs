//! Ledger interpretation: one household's rows (a [`Group`]) become `HouseholdFields` and
//! `Member`s. Regions are resolved through the county's names ([`Regions`]), codes through the
//! `CodeCatalog`, identity numbers are parsed, and every cell that cannot be read is recorded
//! with its sheet, row, column and value ([`Problems`]). Nothing here touches the database.

use std::collections::HashSet;
use std::sync::Arc;
use xiuhua_domain::message::{Message, msg};

use xiuhua_domain::synonyms::Synonyms;
use xiuhua_domain::validate::parse_member_id_number;
use xiuhua_domain::{
    CodeCatalog, Fen, FieldCatalog, FieldDef, FieldLevel, FieldRef, FieldType, FieldValue,
    HouseholdFields, Member, MonitoringStatus, Record, RegionCode, RegistryStatus,
};
use xiuhua_xlsx::cell::{
    CellValue, DateProblem, IdCellProblem, id_number_text, number_text, parse_bool,
    parse_date_checked, parse_year,
};
use xiuhua_xlsx::{Field, LedgerRow, SheetHeader};

use super::ImportProblem;
use super::regions::Regions;

/// The rows of one household in the file.
pub(super) struct Group {
    /// The header of the sheet the rows are in (sheet name, column names and fields).
    pub(super) header: Arc<SheetHeader>,
    pub(super) rows: Vec<LedgerRow>,
}

impl Group {
    /// The first non-empty value of a household column among the rows, with its row.
    fn value(&self, field: Field) -> Option<(&LedgerRow, &CellValue)> {
        self.rows.iter().find_map(|r| r.get(field).map(|v| (r, v)))
    }
}

/// Problems found while interpreting one household's rows.
pub(super) struct Problems<'a> {
    pub(super) group: &'a Group,
    /// (row, column index, problem), in the order found.
    pub(super) list: Vec<(usize, Option<usize>, ImportProblem)>,
    /// Further cells shown red in the error workbook: (row, column index) of the other cell
    /// a disagreement names.
    pub(super) marks: Vec<(usize, usize)>,
}

/// A column's letters as Excel shows them (0-based index: 0 → `A`, 27 → `AB`).
pub(super) fn column_letter(col: usize) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl<'a> Problems<'a> {
    /// No problems yet, for the rows of `group`.
    pub(super) fn new(group: &'a Group) -> Self {
        Problems {
            group,
            list: Vec::new(),
            marks: Vec::new(),
        }
    }
}

impl Problems<'_> {
    /// The column index of a field in the group's sheet.
    fn column(&self, field: Field) -> Option<usize> {
        self.group
            .header
            .fields
            .iter()
            .position(|f| *f == Some(field))
    }

    /// A cell as a person finds it: its header and Excel reference, e.g. `户主姓名（D5）`.
    fn cell_name(&self, row: usize, field: Field) -> String {
        match self.column(field) {
            Some(c) => format!(
                "{}（{}{row}）",
                self.group.header.names.get(c).map_or("", String::as_str),
                column_letter(c)
            ),
            None => format!("第{row}行"),
        }
    }

    /// A disagreement between two cells: a problem of the first that names both (its message
    /// gets `cell` and `other_cell`), with the other cell marked red too.
    fn disagree(
        &mut self,
        row: &LedgerRow,
        field: Field,
        other_row: usize,
        other: Field,
        m: Message,
    ) {
        let m = m
            .arg("cell", self.cell_name(row.row, field))
            .arg("other_cell", self.cell_name(other_row, other));
        let v = row.get(field).cloned().unwrap_or(CellValue::Empty);
        self.cell(row, field, &v, m);
        if let Some(c) = self.column(other) {
            self.marks.push((other_row, c));
        }
    }

    /// A problem of one cell (the column is the field's).
    pub(super) fn cell(&mut self, row: &LedgerRow, field: Field, value: &CellValue, m: Message) {
        let col = self.column(field);
        let column = col
            .and_then(|c| self.group.header.names.get(c).cloned())
            .unwrap_or_default();
        let problem =
            ImportProblem::new(row.sheet.to_string(), row.row, column, value.display(), m);
        self.list.push((row.row, col, problem));
    }

    pub(super) fn row(&mut self, row: usize, m: Message) {
        let sheet = self.group.header.sheet.clone();
        let problem = ImportProblem::new(sheet, row, String::new(), String::new(), m);
        self.list.push((row, None, problem));
    }
}

/// Resolves a ledger value to a code: the code or label itself, else a synonym of the list
/// (`data/synonyms.tsv`: 患有大病 → 大病, 户主 → 本人或户主), else the one label of the list
/// that contains it (壮 → 壮族). Ambiguous values are not guessed.
fn resolve<'a>(codes: &'a CodeCatalog, list: &str, t: &str) -> Option<&'a str> {
    if let Some(c) = codes.resolve(list, t) {
        return Some(c);
    }
    let t = t.trim();
    if t.is_empty() {
        return None;
    }
    // Brackets as typed (full-width or not) and spaces inside do not change a value.
    let compact: String = t
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect();
    if let Some(c) = Synonyms::shipped()
        .code(list, &compact)
        .and_then(|c| codes.get(list, c))
    {
        return Some(c.code.as_str());
    }
    if compact != t
        && let Some(c) = codes.resolve(list, &compact)
    {
        return Some(c);
    }
    let mut hits = codes.list(list).iter().filter(|i| i.label_zh.contains(t));
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one.code.as_str()),
        _ => None,
    }
}

/// A cell's text (numbers without a trailing `.0`).
pub(super) fn text(v: &CellValue) -> String {
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
        "贫困户"
        | "未脱贫"
        | "未脱贫户"
        | "建档立卡贫困户"
        | "一般贫困户"
        | "低保贫困户"
        | "特困供养贫困户"
        | "预脱贫"
        | "返贫"
        | "返贫户"
        | "poor" => Some(RegistryStatus::Poor),
        "脱贫户"
        | "已脱贫"
        | "已脱贫户"
        | "已脱贫(享受政策)"
        | "已脱贫(不再享受政策)"
        | "脱贫享受政策"
        | "脱贫不享受政策"
        | "已脱贫（享受政策）"
        | "已脱贫（不再享受政策）"
        | "一般脱贫户"
        | "低保脱贫户"
        | "特困供养脱贫户"
        | "稳定脱贫户"
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
    Field::ATTRIBUTE,
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
    Field::BIRTH_DATE,
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
) -> std::result::Result<FieldValue, Message> {
    let t = text(v);
    let list = def.code_list.as_deref().unwrap_or("");
    let bad = |key: &'static str| msg(key).arg("value", &t);
    let bad_code = |t: &str| msg("import_not_in_list").arg("value", t).arg("list", list);
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
            .ok_or_else(|| msg("import_not_yes_no")),
        FieldType::Year => parse_year(v)
            .map(|y| FieldValue::Int(i64::from(y)))
            .ok_or_else(|| bad("import_not_a_year")),
        FieldType::Int => t
            .trim()
            .parse()
            .map(FieldValue::Int)
            .map_err(|_| bad("import_not_a_whole_number")),
        FieldType::Decimal => match v {
            CellValue::Number(n) => Ok(FieldValue::Decimal(*n)),
            _ => t
                .trim()
                .parse()
                .map(FieldValue::Decimal)
                .map_err(|_| bad("import_not_a_number")),
        },
        FieldType::Money => yuan_to_fen(v)
            .map(FieldValue::Money)
            .ok_or_else(|| bad("import_not_an_amount")),
        FieldType::Date => match parse_date_checked(v) {
            Ok(d) => Ok(FieldValue::Date(d)),
            Err(DateProblem::Impossible) => Err(bad("import_impossible_date")),
            Err(DateProblem::NotADate) => Err(bad("import_not_a_date")),
        },
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
            .map_err(|e| msg("import_wrong_kind").arg("expected", e.expected))
    });
    if let Err(m) = result {
        p.cell(r, def.id, v, m);
    }
}

/// Interprets a household's rows: the household fields (applied over `base`), its members, and
/// whether the rows say anything about its status (else a new household takes the file's
/// default).
pub(super) fn interpret(
    g: &Group,
    base: &HouseholdFields,
    regions: &mut Regions,
    codes: &CodeCatalog,
    p: &mut Problems<'_>,
) -> (HouseholdFields, Vec<(usize, Member)>, bool) {
    let mut f = base.clone();
    if let Some((_, v)) = g.value(Field::HOUSEHOLD_NO) {
        f.household_no = text(v);
    }
    set_village(g, base, regions, &mut f, p);
    set_group(g, regions, &mut f, p);
    set_bank_account(g, &mut f, p);
    set_other_causes(g, codes, &mut f, p);
    set_monitoring(g, codes, &mut f, p);
    let status_said = set_status(g, codes, &mut f, p);
    set_income_year(g, &mut f, p);
    if let Some(first) = g.rows.iter().find(|r| r.has_member()).or(g.rows.first()) {
        check_form_required_household(g, first, p);
    }
    // Every other household column: read as its catalogue type says.
    for def in generic_fields(g, FieldLevel::Household) {
        if let Some((r, v)) = g.value(def.id) {
            set_from_cell(&mut f, def, r, v, codes, p);
        }
    }
    let members = g
        .rows
        .iter()
        .filter(|r| r.has_member())
        .filter_map(|r| interpret_member(r, codes, p).map(|m| (r.row, m)))
        .collect();
    (f, members, status_said)
}

/// Village: by code, or by township + village name, or by a village name unique in the county.
fn set_village(
    g: &Group,
    base: &HouseholdFields,
    regions: &Regions,
    f: &mut HouseholdFields,
    p: &mut Problems<'_>,
) {
    if let Some((r, v)) = g.value(Field::VILLAGE_CODE) {
        let c = text(v);
        match RegionCode::parse(&c) {
            Ok(code) if regions.village_codes.contains(code.as_str()) => {
                f.village_code = code.as_str().to_string()
            }
            _ => p.cell(
                r,
                Field::VILLAGE_CODE,
                v,
                msg("import_village_code_c_not_county").arg("c", c),
            ),
        }
    } else if let Some((r, v)) = g.value(Field::VILLAGE) {
        if let Some(c) = village_by_name(g, r, v, regions, p) {
            f.village_code = c;
        }
    } else if base.village_code.is_empty() {
        p.row(g.rows[0].row, msg("import_village_village_code_missing"));
    }
}

/// The village named in cell `v` (of row `r`), inside the township column's township if there
/// is one; a name that is not found is a problem of the village cell unless the township was
/// the one not found.
fn village_by_name(
    g: &Group,
    r: &LedgerRow,
    v: &CellValue,
    regions: &Regions,
    p: &mut Problems<'_>,
) -> Option<String> {
    let name = text(v);
    let township = g.value(Field::TOWNSHIP).map(|(_, t)| text(t));
    let found = match &township {
        Some(t) => match regions.townships.get(t) {
            Some(tc) => regions.villages.get(&(tc.clone(), name.clone())).cloned(),
            None => {
                let (tr, tv) = g.value(Field::TOWNSHIP).unwrap_or((r, v));
                p.cell(
                    tr,
                    Field::TOWNSHIP,
                    tv,
                    msg("import_township_t_not_county").arg("t", t),
                );
                None
            }
        },
        None => unique_village(r, v, &name, regions, p),
    };
    if found.is_none()
        && township
            .as_ref()
            .is_none_or(|t| regions.townships.contains_key(t))
    {
        p.cell(
            r,
            Field::VILLAGE,
            v,
            msg("import_village_name_not_county").arg("name", name),
        );
    }
    found
}

/// The one village of the county with this name (a name held by several is a problem).
fn unique_village(
    r: &LedgerRow,
    v: &CellValue,
    name: &str,
    regions: &Regions,
    p: &mut Problems<'_>,
) -> Option<String> {
    match regions.village_by_name.get(name).map(Vec::as_slice) {
        Some([one]) => Some(one.clone()),
        Some(_) => {
            p.cell(
                r,
                Field::VILLAGE,
                v,
                msg("import_several_villages_are_named_name").arg("name", name),
            );
            None
        }
        None => None,
    }
}

/// The 村民小组 (created in the village when it is new).
fn set_group(g: &Group, regions: &mut Regions, f: &mut HouseholdFields, p: &mut Problems<'_>) {
    if let Some((r, v)) = g.value(Field::GROUP)
        && !f.village_code.is_empty()
    {
        let name = text(v);
        match regions.group(&f.village_code, &name) {
            Some(code) => f.group_code = Some(code),
            None => p.cell(r, Field::GROUP, v, msg("import_too_many_groups_village")),
        }
    }
}

fn set_bank_account(g: &Group, f: &mut HouseholdFields, p: &mut Problems<'_>) {
    if let Some((r, v)) = g.value(Field::BANK_ACCOUNT) {
        // Account numbers are longer than the 15 digits a spreadsheet number keeps.
        match xiuhua_xlsx::cell::id_number_text(v) {
            Ok(t) => f.bank_account = Some(t),
            Err(_) => p.cell(
                r,
                Field::BANK_ACCOUNT,
                v,
                msg("import_bank_account_was_stored_as"),
            ),
        }
    }
}

fn set_other_causes(g: &Group, codes: &CodeCatalog, f: &mut HouseholdFields, p: &mut Problems<'_>) {
    if let Some((r, v)) = g.value(Field::OTHER_CAUSES) {
        let mut out = Vec::new();
        for part in split_multi(&text(v)) {
            match resolve(codes, "poverty_cause", &part) {
                Some(c) => out.push(c.to_string()),
                None => p.cell(
                    r,
                    Field::OTHER_CAUSES,
                    v,
                    msg("import_part_not_cause_poverty").arg("part", part),
                ),
            }
        }
        f.other_causes = out;
    }
}

/// The status as the ledger says it: 户类型 / 脱贫标志 (一般农户, 贫困户, 脱贫户 and the usual
/// variants) where there is one; else 户属性 (一般贫困户 / 低保贫困户 / 特困供养贫困户: registered
/// poor; 一般脱贫户 … : lifted), 脱贫年度 (lifted) and 监测对象类型 (脱贫不稳定户: lifted; the
/// others: 一般农户) in that order. Returns whether any of these cells says something.
fn set_status(
    g: &Group,
    codes: &CodeCatalog,
    f: &mut HouseholdFields,
    p: &mut Problems<'_>,
) -> bool {
    let mut said = false;
    let mut explicit = None;
    if let Some((r, v)) = g.value(Field::STATUS) {
        said = true;
        match parse_status(&text(v)) {
            Some(s) => explicit = Some(s),
            None => p.cell(
                r,
                Field::STATUS,
                v,
                msg("import_unknown_household_type_v").arg("v", text(v)),
            ),
        }
    }
    let mut implied = None;
    if let Some((r, v)) = g.value(Field::ATTRIBUTE) {
        said = true;
        let t = text(v);
        let t = t.trim();
        // 一般脱贫户 is the attribute 一般贫困户 of a household that has exited.
        let (name, lifted) = match t.strip_suffix("脱贫户") {
            Some(kind) => (format!("{kind}贫困户"), true),
            None => (t.to_string(), false),
        };
        match resolve(codes, "household_attribute", &name)
            .or_else(|| resolve(codes, "household_attribute", t))
        {
            Some(c) => {
                f.attribute = Some(c.to_string());
                implied = Some(if lifted {
                    RegistryStatus::Lifted
                } else {
                    RegistryStatus::Poor
                });
            }
            None => p.cell(
                r,
                Field::ATTRIBUTE,
                v,
                msg("import_not_household_attribute").arg("value", t),
            ),
        }
    }
    if g.value(Field::EXIT_YEAR).is_some() {
        said = true;
        implied = Some(RegistryStatus::Lifted);
    }
    if g.value(Field::MONITOR_TYPE).is_some() {
        said = true;
        if implied.is_none() {
            implied = match f.monitor_type.as_deref() {
                Some("1") => Some(RegistryStatus::Lifted),
                Some(_) => Some(RegistryStatus::General),
                None => None,
            };
        }
    }
    if let Some(s) = explicit.or(implied) {
        f.status = s;
    }
    said
}

/// The monitoring type; with one, the household is monitored, or eliminated if the
/// risk-eliminated column says so.
fn set_monitoring(g: &Group, codes: &CodeCatalog, f: &mut HouseholdFields, p: &mut Problems<'_>) {
    if let Some((r, v)) = g.value(Field::MONITOR_TYPE) {
        let t = text(v);
        match codes.resolve("monitor_type", &t) {
            Some(c) => {
                f.monitor_type = Some(c.to_string());
                let eliminated = g
                    .value(Field::RISK_ELIMINATED)
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
                msg("import_t_not_monitoring_type").arg("t", t),
            ),
        }
    }
}

fn set_income_year(g: &Group, f: &mut HouseholdFields, p: &mut Problems<'_>) {
    if let Some((r, v)) = g.value(Field::INCOME_YEAR) {
        match parse_year(v) {
            Some(y) => f.income.year = Some(y),
            None => p.cell(r, Field::INCOME_YEAR, v, msg("import_not_year")),
        }
    }
}

/// Interprets a member row; `None` when the row has no usable name or identity number (the
/// problems say why).
fn interpret_member(r: &LedgerRow, codes: &CodeCatalog, p: &mut Problems<'_>) -> Option<Member> {
    let mut m = Member::default();
    let name_ok = member_name(r, &mut m, p);
    let id_ok = member_id_number(r, &mut m, p);
    let ok = name_ok && id_ok;
    check_against_id(r, &m, id_ok, p);
    check_form_required(r, FieldLevel::Member, p);
    m.relation = member_relation(r, codes, p).unwrap_or_default();
    set_health(r, codes, &mut m, p);
    set_work_months(r, &mut m, p);
    for def in FieldCatalog::shipped().stored(FieldLevel::Member) {
        if !MEMBER_SPECIAL.contains(&def.id)
            && let Some(v) = r.get(def.id)
        {
            set_from_cell(&mut m, def, r, v, codes, p);
        }
    }
    ok.then_some(m)
}

/// 性别 and 出生日期, where the ledger has them, agree with the identity number (which holds
/// both): a disagreement names both cells. The stored values are the number's.
fn check_against_id(r: &LedgerRow, m: &Member, id_ok: bool, p: &mut Problems<'_>) {
    if let Some(v) = r.get(Field::SEX)
        && id_ok
    {
        let t = text(v);
        let id_sex = if m.sex == "1" { "男" } else { "女" };
        if xiuhua_domain::Sex::parse(&t).map(|s| s.code()) != Some(m.sex.as_str()) {
            let m = msg("import_sex_disagrees_with_id")
                .arg("sex", t.trim())
                .arg("id_sex", id_sex)
                .arg("id_sex_en", if m.sex == "1" { "male" } else { "female" });
            p.disagree(r, Field::SEX, r.row, Field::ID_NUMBER, m);
        }
    }
    if let Some(v) = r.get(Field::BIRTH_DATE) {
        match parse_date_checked(v) {
            Err(problem) => {
                let key = match problem {
                    DateProblem::Impossible => "import_impossible_date",
                    DateProblem::NotADate => "import_not_a_date",
                };
                p.cell(r, Field::BIRTH_DATE, v, msg(key).arg("value", text(v)))
            }
            Ok(d) if id_ok && m.birth_date != Some(d) => {
                let m = msg("import_birth_disagrees_with_id").arg("birth", d).arg(
                    "id_birth",
                    m.birth_date.map(|b| b.to_string()).unwrap_or_default(),
                );
                p.disagree(r, Field::BIRTH_DATE, r.row, Field::ID_NUMBER, m);
            }
            Ok(_) => {}
        }
    }
}

/// Fields the national 建档立卡 form requires (`form` in the catalogue's `required` column):
/// where the sheet has the column, a member row may not leave it blank.
fn check_form_required(r: &LedgerRow, level: FieldLevel, p: &mut Problems<'_>) {
    for def in FieldCatalog::shipped().stored(level) {
        if def.form_required && p.column(def.id).is_some() && r.get(def.id).is_none() {
            p.cell(
                r,
                def.id,
                &CellValue::Empty,
                msg("required")
                    .arg("label", &def.label_zh)
                    .arg("label_en", def.label_en.to_lowercase()),
            );
        }
    }
}

/// The household fields the form requires, blank in every row of a household (reported on
/// its first member row).
fn check_form_required_household(g: &Group, first: &LedgerRow, p: &mut Problems<'_>) {
    for def in FieldCatalog::shipped().stored(FieldLevel::Household) {
        if def.form_required && p.column(def.id).is_some() && g.value(def.id).is_none() {
            p.cell(
                first,
                def.id,
                &CellValue::Empty,
                msg("required")
                    .arg("label", &def.label_zh)
                    .arg("label_en", def.label_en.to_lowercase()),
            );
        }
    }
}

/// The household-level facts of a household's rows, checked on the rows themselves so that
/// they run whatever problems single cells have: at least one member, exactly one head, the
/// 户主姓名 column against the head's name, and a 家庭人口数 column against the member rows.
pub(super) fn check_rows(g: &Group, codes: &CodeCatalog, p: &mut Problems<'_>) {
    let members: Vec<&LedgerRow> = g.rows.iter().filter(|r| r.has_member()).collect();
    let Some(first) = members.first() else {
        p.row(g.rows[0].row, msg("no_members"));
        return;
    };
    let is_head = |r: &LedgerRow| {
        r.get(Field::RELATION)
            .and_then(|v| resolve(codes, "relation", &text(v)))
            == Some(xiuhua_domain::codes::RELATION_HEAD)
    };
    let heads: Vec<&LedgerRow> = members.iter().copied().filter(|r| is_head(r)).collect();
    let relation_col = p.column(Field::RELATION);
    let unreadable_relation = p
        .list
        .iter()
        .any(|(_, c, _)| c.is_some() && *c == relation_col);
    match heads.as_slice() {
        [] if !unreadable_relation => p.row(first.row, msg("no_head")),
        [] => {}
        [head] => check_head_name(g, head, p),
        [_, second, ..] => {
            let names: Vec<String> = heads
                .iter()
                .map(|r| r.get(Field::NAME).map(text).unwrap_or_default())
                .collect();
            let v = second
                .get(Field::RELATION)
                .cloned()
                .unwrap_or(CellValue::Empty);
            p.cell(
                second,
                Field::RELATION,
                &v,
                msg("two_heads")
                    .arg("count", heads.len())
                    .arg("names", names.join("、"))
                    .arg("names_en", names.join(", ")),
            );
        }
    }
    if let Some((r, v)) = g.value(Field::MEMBER_COUNT) {
        let t = text(v);
        match t.trim().trim_end_matches('人').parse::<usize>() {
            Ok(n) if n == members.len() => {}
            Ok(n) => {
                let last = members.last().map_or(first.row, |r| r.row);
                let m = msg("import_member_count_mismatch")
                    .arg("count", n)
                    .arg("rows", members.len())
                    .arg("cell", p.cell_name(r.row, Field::MEMBER_COUNT))
                    .arg("first", first.row)
                    .arg("last", last);
                p.cell(r, Field::MEMBER_COUNT, v, m);
            }
            Err(_) => p.cell(
                r,
                Field::MEMBER_COUNT,
                v,
                msg("import_not_a_whole_number").arg("value", t),
            ),
        }
    }
}

/// The 户主姓名 cell (if the ledger has one) names the member whose relation is 户主.
fn check_head_name(g: &Group, head: &LedgerRow, p: &mut Problems<'_>) {
    let (Some((r, v)), Some(name)) = (g.value(Field::HEAD_NAME), head.get(Field::NAME)) else {
        return;
    };
    let (written, name) = (text(v), text(name));
    if written.trim() != name.trim() {
        let m = msg("import_head_name_mismatch")
            .arg("head_name", written.trim())
            .arg("name", name.trim());
        p.disagree(r, Field::HEAD_NAME, head.row, Field::NAME, m);
    }
}

/// The member's name; false when it is missing.
fn member_name(r: &LedgerRow, m: &mut Member, p: &mut Problems<'_>) -> bool {
    match r.get(Field::NAME) {
        Some(v) => {
            m.name = text(v);
            true
        }
        None => {
            p.cell(r, Field::NAME, &CellValue::Empty, msg("import_name_empty"));
            false
        }
    }
}

/// The identity number, and the sex and birth date it holds; false when it is missing or
/// not valid.
fn member_id_number(r: &LedgerRow, m: &mut Member, p: &mut Problems<'_>) -> bool {
    let Some(v) = r.get(Field::ID_NUMBER) else {
        p.cell(
            r,
            Field::ID_NUMBER,
            &CellValue::Empty,
            msg("import_identity_number_empty"),
        );
        return false;
    };
    match id_number_text(v) {
        Err(IdCellProblem::PrecisionLost(shown)) => {
            p.cell(
                r,
                Field::ID_NUMBER,
                v,
                msg("import_identity_number_was_stored_as").arg("shown", shown),
            );
            false
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
                true
            }
            // 18 digits ending in 000 that do not check: a number Excel kept to 15 significant
            // digits and wrote back in full (a CSV saved from a number-formatted column).
            Err(_) if lost_digits(&t) => {
                p.cell(
                    r,
                    Field::ID_NUMBER,
                    v,
                    msg("import_identity_number_was_stored_as").arg("shown", t.trim()),
                );
                false
            }
            Err(m) => {
                p.cell(r, Field::ID_NUMBER, v, m);
                false
            }
        },
    }
}

/// Whether an identity number that does not check is 18 digits ending in `000`: the last
/// three digits replaced by zeros, as a spreadsheet's 15-digit numbers do.
fn lost_digits(t: &str) -> bool {
    let t = t.trim();
    t.len() == 18 && t.bytes().all(|b| b.is_ascii_digit()) && t.ends_with("000")
}

/// The relation to the head (required).
fn member_relation(r: &LedgerRow, codes: &CodeCatalog, p: &mut Problems<'_>) -> Option<String> {
    let field = Field::RELATION;
    let list = "relation";
    match r.get(field) {
        Some(v) => {
            let t = text(v);
            let c = resolve(codes, list, &t);
            if c.is_none() {
                p.cell(
                    r,
                    field,
                    v,
                    msg("import_t_not_valid_value_code")
                        .arg("t", t)
                        .arg("list", list),
                );
            }
            c.map(String::from)
        }
        // A sheet without the column is reported once (`SheetHeader::missing`), not per row.
        None if !r.has_column(field) => None,
        None => {
            p.cell(r, field, &CellValue::Empty, msg("import_required"));
            None
        }
    }
}

/// 健康状况, a set: each part a code, label or synonym; 残疾 with its grade or category written
/// after or before it (残疾二级, 二级残疾, 肢体残疾三级) is 残疾 and, unless the ledger has
/// columns of their own, sets the member's 残疾等级 and 残疾类别.
fn set_health(r: &LedgerRow, codes: &CodeCatalog, m: &mut Member, p: &mut Problems<'_>) {
    if let Some(v) = r.get(Field::HEALTH) {
        for part in split_multi(&text(v)) {
            if let Some(c) = resolve(codes, "health", &part) {
                if !m.health.iter().any(|h| h == c) {
                    m.health.push(c.to_string());
                }
                continue;
            }
            let disabled = disability(codes, &part);
            match disabled
                .as_ref()
                .and_then(|_| resolve(codes, "health", "残疾"))
            {
                Some(c) => {
                    if !m.health.iter().any(|h| h == c) {
                        m.health.push(c.to_string());
                    }
                    let (grade, category) = disabled.unwrap_or_default();
                    m.disability_grade = m.disability_grade.take().or(grade);
                    m.disability_category = m.disability_category.take().or(category);
                }
                None => p.cell(
                    r,
                    Field::HEALTH,
                    v,
                    msg("import_part_not_health_status").arg("part", part),
                ),
            }
        }
    }
}

/// 残疾 written with a grade (一级 … 四级, 1级 … 4级) and/or a category (肢体, 视力 …) around
/// it: the grade and category codes found, or `None` when the text is not such a form.
fn disability(codes: &CodeCatalog, part: &str) -> Option<(Option<String>, Option<String>)> {
    let t: String = part
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）'))
        .collect();
    let mut rest = t.clone();
    let mut grade = None;
    if let Some(i) = t.find('级') {
        let before = t[..i].chars().next_back()?;
        let n = match before {
            '一' | '1' => "一级",
            '二' | '2' => "二级",
            '三' | '3' => "三级",
            '四' | '4' => "四级",
            _ => return None,
        };
        grade = Some(resolve(codes, "disability_grade", n)?.to_string());
        let start = i - before.len_utf8();
        rest = format!("{}{}", &t[..start], &t[i + '级'.len_utf8()..]);
    }
    let core = rest
        .strip_suffix("残疾人")
        .or_else(|| rest.strip_suffix("残疾"))
        .or_else(|| rest.strip_suffix('残'))
        .map(str::to_string)
        .or_else(|| rest.strip_prefix("残疾").map(str::to_string))?;
    let category = match core.as_str() {
        "" => None,
        c => Some(resolve(codes, "disability_category", &format!("{c}残疾"))?.to_string()),
    };
    Some((grade, category))
}

fn set_work_months(r: &LedgerRow, m: &mut Member, p: &mut Problems<'_>) {
    if let Some(v) = r.get(Field::WORK_MONTHS) {
        match text(v)
            .trim_end_matches('月')
            .trim_end_matches('个')
            .parse::<i32>()
        {
            Ok(n) if (0..=12).contains(&n) => m.work_months = Some(n),
            _ => p.cell(r, Field::WORK_MONTHS, v, msg("import_work_months_must")),
        }
    }
}

/// Fields of a member that a ledger column can set, by column.
pub(super) fn merge_member(
    existing: &Member,
    imported: &Member,
    present: &HashSet<Field>,
) -> Member {
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
pub(super) fn field_for(storage: &str) -> Option<Field> {
    FieldCatalog::shipped().find(storage).map(|d| d.id)
}
