//! The field catalogue: every household and member field defined once, in `data/fields.tsv`.
//!
//! A row gives a field's name, level, type, code list, Chinese and English label, ledger header
//! names, whether it is personal data, whether it is required and whether rules can read it.
//! Ledger columns (`xiuhua-xlsx`), import interpretation and export (`xiuhua-app`), validation
//! ([`crate::validate`]), the rules schema (`xiuhua-rules`) and page labels (`xiuhua-web`) all
//! read the catalogue, so adding a field is adding a row. A field whose Rust code has
//! behaviour also has a typed slot in [`HouseholdFields`] or [`Member`] (listed in
//! `household_slots!`/`member_slots!` below); any other field is kept in the record's `extra`
//! map, stored and read back like the typed ones.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::household::{Fen, HouseholdFields, Member, MonitoringStatus, RegistryStatus};

/// The shipped catalogue file.
pub const SHIPPED_FIELDS: &str = include_str!("../data/fields.tsv");

/// A field: its row in the catalogue. The shipped rows have constants (`Field::HOUSEHOLD_NO`,
/// generated from the file at build time); a catalogue extended with more rows keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Field(pub u16);

include!(concat!(env!("OUT_DIR"), "/field_ids.rs"));

/// Whether a field describes the household or one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldLevel {
    /// Same value on every row of a household.
    Household,
    /// One value per member.
    Member,
    /// A ledger column that is recognised and not imported (序号, 年龄, 人数 …).
    Ignored,
}

/// The type of a field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// Free text.
    Text,
    /// One code of the field's code list (a ledger may give the code or its label).
    Code,
    /// A set of codes of the field's code list (a ledger separates them with 、,;).
    Codes,
    /// 是/否.
    Bool,
    /// A year (2014 … 2100).
    Year,
    /// A whole number.
    Int,
    /// A decimal number (areas).
    Decimal,
    /// Money: 元 in ledgers and on pages, integer 分 stored.
    Money,
    /// A date.
    Date,
    /// A region code.
    Region,
    /// 公民身份号码 (or 第二代残疾人证号).
    IdNumber,
}

/// Whether and how a field is personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Personal {
    /// Not personal data.
    No,
    /// A phone number: masked as `138****5678` for roles without rights.
    Phone,
    /// A bank account: only the last four characters shown to roles without rights.
    Account,
    /// An identity number: only the first 6 and last 2 characters shown to roles without
    /// rights (`451228**********90`), and a full view is logged.
    Id,
    /// A birth date: only the year shown to roles without rights (with the masked identity
    /// number beside it, month and day would give the number back).
    Birth,
    /// Sensitive (health, income): shown in scope only, never exported without a purpose.
    Sensitive,
}

/// One row of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    /// The row.
    pub id: Field,
    /// Storage, mapping-file and rules name (`housing_safety`).
    pub name: String,
    /// Household or member.
    pub level: FieldLevel,
    /// Value type.
    pub ty: FieldType,
    /// Code list of a `code`/`codes` field (`@status`, `@monitoring`, `@sex` are enumerations).
    pub code_list: Option<String>,
    /// Whether the field is part of the record (else a ledger column derived from others,
    /// such as 户主姓名 or the region names).
    pub stored: bool,
    /// Chinese label.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Ledger header names; the first is the export header. Empty: not a ledger column.
    pub headers: Vec<String>,
    /// Personal data?
    pub personal: Personal,
    /// A record without it is refused.
    pub required: bool,
    /// Required by the national 建档立卡 form (`form` in the `required` column): a ledger row
    /// that leaves it blank is refused on import, while records kept before without it stay
    /// valid.
    pub form_required: bool,
    /// A variable of the rules schema.
    pub rules: bool,
}

impl FieldDef {
    /// Whether the field is a ledger column.
    pub fn is_column(&self) -> bool {
        !self.headers.is_empty()
    }

    /// The export header (the first header name), or the Chinese label.
    pub fn header(&self) -> &str {
        self.headers.first().unwrap_or(&self.label_zh)
    }

    /// The label in one language (`en` true for English).
    pub fn label(&self, en: bool) -> &str {
        if en { &self.label_en } else { &self.label_zh }
    }
}

/// Error reading a catalogue file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("field catalogue line {line}: {reason}")]
pub struct FieldFileError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// All fields, by row and by name.
#[derive(Clone, Debug)]
pub struct FieldCatalog {
    fields: Vec<FieldDef>,
    by_name: HashMap<String, Field>,
}

static SHIPPED: LazyLock<FieldCatalog> = LazyLock::new(|| {
    FieldCatalog::parse(SHIPPED_FIELDS).expect("data/fields.tsv is checked by a test")
});

const COLUMNS: [&str; 11] = [
    "name", "level", "type", "codes", "stored", "label_zh", "label_en", "headers", "personal",
    "required", "rules",
];

impl FieldCatalog {
    /// The catalogue shipped in `data/fields.tsv`.
    pub fn shipped() -> &'static FieldCatalog {
        &SHIPPED
    }

    /// Parses a catalogue file (tab-separated, `#` comments, a header line of column names).
    pub fn parse(text: &str) -> Result<FieldCatalog, FieldFileError> {
        let mut cat = FieldCatalog {
            fields: Vec::new(),
            by_name: HashMap::new(),
        };
        cat.add_rows(text)?;
        Ok(cat)
    }

    /// This catalogue with the rows of `text` added after its own (same format, header line
    /// optional): a province's or a test's additional fields. A new field has no typed slot and
    /// is kept in the record's `extra` map.
    pub fn extended(&self, text: &str) -> Result<FieldCatalog, FieldFileError> {
        let mut cat = self.clone();
        cat.add_rows(text)?;
        Ok(cat)
    }

    fn add_rows(&mut self, text: &str) -> Result<(), FieldFileError> {
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let parts: Vec<&str> = line.split('\t').map(str::trim).collect();
            if parts == COLUMNS {
                continue;
            }
            let err = |reason: String| FieldFileError {
                line: i + 1,
                reason,
            };
            let def = parse_row(&parts, Field(self.fields.len() as u16)).map_err(err)?;
            if self.by_name.contains_key(&def.name) {
                return Err(err(format!("field {:?} is defined twice", def.name)));
            }
            self.by_name.insert(def.name.clone(), def.id);
            self.fields.push(def);
        }
        Ok(())
    }

    /// Every field, in catalogue (ledger export) order.
    pub fn all(&self) -> &[FieldDef] {
        &self.fields
    }

    /// One field by row. Panics on a row of another catalogue (a programming error).
    pub fn get(&self, f: Field) -> &FieldDef {
        &self.fields[usize::from(f.0)]
    }

    /// One field by name.
    pub fn find(&self, name: &str) -> Option<&FieldDef> {
        self.by_name.get(name).map(|f| self.get(*f))
    }

    /// The stored fields of one level.
    pub fn stored(&self, level: FieldLevel) -> impl Iterator<Item = &FieldDef> {
        self.fields
            .iter()
            .filter(move |d| d.stored && d.level == level)
    }

    /// The ledger columns, in export order.
    pub fn columns(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|d| d.is_column())
    }
}

fn parse_row(p: &[&str], id: Field) -> Result<FieldDef, String> {
    if p.len() != COLUMNS.len() {
        return Err(format!(
            "expected {} tab-separated columns ({}), found {}",
            COLUMNS.len(),
            COLUMNS.join(", "),
            p.len()
        ));
    }
    let name = p[0];
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!("name {name:?} must be snake_case ASCII"));
    }
    let yes = |col: usize| match p[col] {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!(
            "{}: expected yes or no, found {other:?}",
            COLUMNS[col]
        )),
    };
    let level = parse_level(p[1])?;
    let ty = parse_type(p[2])?;
    let code_list = (!p[3].is_empty()).then(|| p[3].to_string());
    if matches!(ty, FieldType::Code | FieldType::Codes) != code_list.is_some() {
        return Err("a code or codes field names its code list, and only such a field".into());
    }
    let personal = parse_personal(p[8])?;
    Ok(FieldDef {
        id,
        name: name.to_string(),
        level,
        ty,
        code_list,
        stored: yes(4)?,
        label_zh: p[5].to_string(),
        label_en: p[6].to_string(),
        headers: p[7]
            .split('|')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(String::from)
            .collect(),
        personal,
        required: yes(9).or_else(|e| if p[9] == "form" { Ok(false) } else { Err(e) })?,
        form_required: p[9] == "form",
        rules: yes(10)?,
    })
}

/// The `level` column.
fn parse_level(t: &str) -> Result<FieldLevel, String> {
    match t {
        "household" => Ok(FieldLevel::Household),
        "member" => Ok(FieldLevel::Member),
        "ignored" => Ok(FieldLevel::Ignored),
        other => Err(format!("unknown level {other:?}")),
    }
}

/// The `type` column.
fn parse_type(t: &str) -> Result<FieldType, String> {
    match t {
        "text" => Ok(FieldType::Text),
        "code" => Ok(FieldType::Code),
        "codes" => Ok(FieldType::Codes),
        "bool" => Ok(FieldType::Bool),
        "year" => Ok(FieldType::Year),
        "int" => Ok(FieldType::Int),
        "decimal" => Ok(FieldType::Decimal),
        "money" => Ok(FieldType::Money),
        "date" => Ok(FieldType::Date),
        "region" => Ok(FieldType::Region),
        "id_number" => Ok(FieldType::IdNumber),
        other => Err(format!("unknown type {other:?}")),
    }
}

/// The `personal` column.
fn parse_personal(t: &str) -> Result<Personal, String> {
    match t {
        "no" => Ok(Personal::No),
        "phone" => Ok(Personal::Phone),
        "account" => Ok(Personal::Account),
        "id" => Ok(Personal::Id),
        "birth" => Ok(Personal::Birth),
        "sensitive" => Ok(Personal::Sensitive),
        other => Err(format!("unknown personal-data kind {other:?}")),
    }
}

/// A value of a field, owned: what an import or a form sets.
///
/// Stored in a record's `extra` map as plain JSON (text, number, boolean, list of codes); the
/// catalogue's type says how to read it back ([`FieldValue::typed`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Text, a code, a region code, an identity number; dates are stored this way as ISO text.
    Text(String),
    /// 是/否.
    Bool(bool),
    /// A whole number, a year; money in 分 is stored this way.
    Int(i64),
    /// A decimal number.
    Decimal(f64),
    /// A set of codes.
    Codes(Vec<String>),
    /// A date (stored as ISO text).
    #[serde(skip_deserializing)]
    Date(NaiveDate),
    /// Money (stored as 分).
    #[serde(skip_deserializing)]
    Money(Fen),
}

impl FieldValue {
    /// The value as the catalogue type reads it (stored dates are text, money an integer).
    pub fn typed(&self, ty: FieldType) -> Option<FieldRef<'_>> {
        Some(match (self, ty) {
            (FieldValue::Text(s), FieldType::Date) => {
                FieldRef::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?)
            }
            (FieldValue::Int(n), FieldType::Money) => FieldRef::Money(Fen(*n)),
            (FieldValue::Int(n), FieldType::Decimal) => FieldRef::Decimal(*n as f64),
            (v, _) => v.as_ref(),
        })
    }

    /// Borrowed form.
    pub fn as_ref(&self) -> FieldRef<'_> {
        match self {
            FieldValue::Text(s) => FieldRef::Text(s),
            FieldValue::Bool(b) => FieldRef::Bool(*b),
            FieldValue::Int(n) => FieldRef::Int(*n),
            FieldValue::Decimal(x) => FieldRef::Decimal(*x),
            FieldValue::Codes(c) => FieldRef::Codes(c),
            FieldValue::Date(d) => FieldRef::Date(*d),
            FieldValue::Money(m) => FieldRef::Money(*m),
        }
    }
}

/// A value of a field as a record holds it (borrowed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldRef<'a> {
    /// Text, a code, a region code, an identity number.
    Text(&'a str),
    /// 是/否.
    Bool(bool),
    /// A whole number or a year.
    Int(i64),
    /// A decimal number.
    Decimal(f64),
    /// A set of codes.
    Codes(&'a [String]),
    /// A date.
    Date(NaiveDate),
    /// Money.
    Money(Fen),
}

impl FieldRef<'_> {
    /// Owned form.
    pub fn to_owned(self) -> FieldValue {
        match self {
            FieldRef::Text(s) => FieldValue::Text(s.to_string()),
            FieldRef::Bool(b) => FieldValue::Bool(b),
            FieldRef::Int(n) => FieldValue::Int(n),
            FieldRef::Decimal(x) => FieldValue::Decimal(x),
            FieldRef::Codes(c) => FieldValue::Codes(c.to_vec()),
            FieldRef::Date(d) => FieldValue::Date(d),
            FieldRef::Money(m) => FieldValue::Money(m),
        }
    }
}

/// A value of the wrong type for a field's slot.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("field {field}: a {expected} value is needed")]
pub struct SlotTypeError {
    /// The field.
    pub field: String,
    /// What its slot holds.
    pub expected: &'static str,
}

/// A typed slot of a record: a Rust field that holds a catalogue field's value.
pub trait Slot {
    /// The value held, if any.
    fn read(&self) -> Option<FieldRef<'_>>;
    /// Sets or clears the value, or names the kind of value the slot needs.
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str>;
}

impl Slot for String {
    fn read(&self) -> Option<FieldRef<'_>> {
        (!self.trim().is_empty()).then_some(FieldRef::Text(self))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        match v {
            None => self.clear(),
            Some(FieldValue::Text(s)) => *self = s,
            Some(_) => return Err("text"),
        }
        Ok(())
    }
}

/// `Slot` for an optional value held as one [`FieldValue`] variant.
macro_rules! optional_slot {
    ($($ty:ty => $variant:ident, $expected:literal;)*) => {$(
        impl Slot for Option<$ty> {
            fn read(&self) -> Option<FieldRef<'_>> {
                self.as_ref().map(|v| FieldRef::$variant(v.clone().into()))
            }
            fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
                *self = match v {
                    None => None,
                    Some(FieldValue::$variant(x)) => Some(x),
                    Some(_) => return Err($expected),
                };
                Ok(())
            }
        }
    )*};
}

optional_slot! {
    bool => Bool, "yes/no";
    NaiveDate => Date, "date";
}

impl Slot for Option<String> {
    fn read(&self) -> Option<FieldRef<'_>> {
        self.as_deref().map(FieldRef::Text)
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => None,
            Some(FieldValue::Text(s)) => Some(s),
            Some(_) => return Err("text"),
        };
        Ok(())
    }
}

impl Slot for Vec<String> {
    fn read(&self) -> Option<FieldRef<'_>> {
        (!self.is_empty()).then_some(FieldRef::Codes(self))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => Vec::new(),
            Some(FieldValue::Codes(c)) => c,
            Some(_) => return Err("list"),
        };
        Ok(())
    }
}

impl Slot for bool {
    fn read(&self) -> Option<FieldRef<'_>> {
        Some(FieldRef::Bool(*self))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => false,
            Some(FieldValue::Bool(b)) => b,
            Some(_) => return Err("yes/no"),
        };
        Ok(())
    }
}

impl Slot for Option<i32> {
    fn read(&self) -> Option<FieldRef<'_>> {
        self.map(|n| FieldRef::Int(i64::from(n)))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => None,
            Some(FieldValue::Int(n)) => Some(i32::try_from(n).map_err(|_| "whole number")?),
            Some(_) => return Err("whole number"),
        };
        Ok(())
    }
}

impl Slot for Option<f64> {
    fn read(&self) -> Option<FieldRef<'_>> {
        self.map(FieldRef::Decimal)
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => None,
            Some(FieldValue::Decimal(x)) => Some(x),
            Some(FieldValue::Int(n)) => Some(n as f64),
            Some(_) => return Err("number"),
        };
        Ok(())
    }
}

impl Slot for Fen {
    fn read(&self) -> Option<FieldRef<'_>> {
        Some(FieldRef::Money(*self))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => Fen(0),
            Some(FieldValue::Money(m)) => m,
            Some(_) => return Err("amount"),
        };
        Ok(())
    }
}

impl Slot for RegistryStatus {
    fn read(&self) -> Option<FieldRef<'_>> {
        Some(FieldRef::Text(self.as_str()))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => RegistryStatus::default(),
            Some(FieldValue::Text(s)) => RegistryStatus::parse(&s).ok_or("household type")?,
            Some(_) => return Err("household type"),
        };
        Ok(())
    }
}

impl Slot for MonitoringStatus {
    fn read(&self) -> Option<FieldRef<'_>> {
        Some(FieldRef::Text(self.as_str()))
    }
    fn write(&mut self, v: Option<FieldValue>) -> Result<(), &'static str> {
        *self = match v {
            None => MonitoringStatus::default(),
            Some(FieldValue::Text(s)) => MonitoringStatus::parse(&s).ok_or("monitoring status")?,
            Some(_) => return Err("monitoring status"),
        };
        Ok(())
    }
}

/// Reads a field of a record: its typed slot, or else its `extra` entry.
pub type Reader<T> = for<'a> fn(&'a T) -> Option<FieldRef<'a>>;

/// Generates, from one list of (catalogue name → Rust path), the typed access of a record:
/// `reader(name)` (a function pointer, resolved once by callers that read many records) and
/// `slot_mut(name)`.
macro_rules! slots {
    ($ty:ty { $($name:literal => $($path:ident).+),* $(,)? }) => {
        impl $ty {
            /// The names of the catalogue fields that have a typed slot here.
            pub const TYPED: &'static [&'static str] = &[$($name),*];

            fn typed_reader(name: &str) -> Option<Reader<$ty>> {
                Some(match name {
                    $($name => |r: &$ty| Slot::read(&r.$($path).+),)*
                    _ => return None,
                })
            }

            /// The key of a typed field in the record's JSON (its Rust path).
            pub fn json_key(name: &str) -> Option<&'static str> {
                Some(match name {
                    $($name => stringify!($($path).+),)*
                    _ => return None,
                })
            }

            fn slot_mut(&mut self, name: &str) -> Option<&mut dyn Slot> {
                Some(match name {
                    $($name => &mut self.$($path).+,)*
                    _ => return None,
                })
            }
        }
    };
}

slots!(HouseholdFields {
    "household_no" => household_no,
    "village_code" => village_code,
    "group_code" => group_code,
    "phone" => phone,
    "bank_name" => bank_name,
    "bank_account" => bank_account,
    "identification_standard" => identification_standard,
    "attribute" => attribute,
    "main_cause" => main_cause,
    "other_causes" => other_causes,
    "cause_note" => cause_note,
    "status" => status,
    "identified_year" => identified_year,
    "planned_exit_year" => planned_exit_year,
    "exit_year" => exit_year,
    "exit_batch" => exit_batch,
    "monitoring" => monitoring,
    "monitor_type" => monitor_type,
    "risk_identified_on" => risk_identified_on,
    "risk_eliminated_on" => risk_eliminated_on,
    "is_military_family" => is_military_family,
    "is_relocated" => is_relocated,
    "housing_area_m2" => housing_area_m2,
    "housing_safety" => housing_safety,
    "water_safe" => water_safe,
    "water_difficult" => water_difficult,
    "has_living_power" => has_living_power,
    "has_production_power" => has_production_power,
    "road_type" => road_type,
    "fuel_type" => fuel_type,
    "has_toilet" => has_toilet,
    "farmland_mu" => farmland_mu,
    "forest_mu" => forest_mu,
    "income_year" => income.year,
    "income_wage" => income.wage,
    "income_business" => income.business,
    "income_property" => income.property,
    "income_transfer" => income.transfer,
    "business_cost" => income.business_cost,
});

slots!(Member {
    "name" => name,
    "id_number" => id_number,
    "sex" => sex,
    "birth_date" => birth_date,
    "relation" => relation,
    "ethnicity" => ethnicity,
    "political" => political,
    "marital" => marital,
    "education" => education,
    "schooling" => schooling,
    "health" => health,
    "disability_category" => disability_category,
    "disability_grade" => disability_grade,
    "labour" => labour,
    "work_status" => work_status,
    "work_months" => work_months,
    "has_medical_insurance" => has_medical_insurance,
    "has_pension_insurance" => has_pension_insurance,
    "is_dibao" => is_dibao,
    "is_tekun" => is_tekun,
    "member_phone" => phone,
});

/// Generic access to a record's catalogue fields.
pub trait Record: Sized + 'static {
    /// The record's `extra` map (catalogue fields without a typed slot).
    fn extra(&self) -> &std::collections::BTreeMap<String, FieldValue>;
    /// The same, to change.
    fn extra_mut(&mut self) -> &mut std::collections::BTreeMap<String, FieldValue>;
    /// The typed reader of a field name, if it has a slot.
    fn typed(name: &str) -> Option<Reader<Self>>;
    /// The typed slot of a field, to write.
    fn slot(&mut self, name: &str) -> Option<&mut dyn Slot>;

    /// A field's value (`None` when the record holds none).
    fn get(&self, def: &FieldDef) -> Option<FieldRef<'_>> {
        match Self::typed(&def.name) {
            Some(read) => read(self),
            None => self.extra().get(&def.name).and_then(|v| v.typed(def.ty)),
        }
    }

    /// Sets (or with `None` clears) a field's value.
    fn set(&mut self, def: &FieldDef, v: Option<FieldValue>) -> Result<(), SlotTypeError> {
        match self.slot(&def.name) {
            Some(slot) => slot.write(v).map_err(|expected| SlotTypeError {
                field: def.name.clone(),
                expected,
            }),
            None => {
                let v = v.map(|v| match v {
                    FieldValue::Date(d) => FieldValue::Text(d.to_string()),
                    FieldValue::Money(m) => FieldValue::Int(m.0),
                    other => other,
                });
                match v {
                    Some(v) => self.extra_mut().insert(def.name.clone(), v),
                    None => self.extra_mut().remove(&def.name),
                };
                Ok(())
            }
        }
    }
}

/// Where one field's value is read from in records of type `T`, resolved once: a typed slot's
/// reader, or the record's `extra` map. Code that reads the same fields of many records (an
/// export, the rules) resolves each field once instead of matching its name per record.
pub enum FieldGetter<'d, T: 'static> {
    /// The field has a typed slot.
    Typed(Reader<T>),
    /// The field lives in the record's `extra` map.
    Extra(&'d FieldDef),
}

impl<'d, T: Record> FieldGetter<'d, T> {
    /// Resolves where `def` is read from.
    pub fn of(def: &'d FieldDef) -> FieldGetter<'d, T> {
        match T::typed(&def.name) {
            Some(read) => FieldGetter::Typed(read),
            None => FieldGetter::Extra(def),
        }
    }

    /// Whether the field has a typed slot.
    pub fn is_typed(&self) -> bool {
        matches!(self, FieldGetter::Typed(_))
    }

    /// The field's value in `r` (what [`Record::get`] answers).
    pub fn read<'a>(&self, r: &'a T) -> Option<FieldRef<'a>> {
        match self {
            FieldGetter::Typed(read) => read(r),
            FieldGetter::Extra(def) => r.extra().get(&def.name).and_then(|v| v.typed(def.ty)),
        }
    }
}

/// `Record` for a struct with an `extra` map and a `slots!` list.
macro_rules! record {
    ($($ty:ty),*) => {$(
        impl Record for $ty {
            fn extra(&self) -> &std::collections::BTreeMap<String, FieldValue> {
                &self.extra
            }
            fn extra_mut(&mut self) -> &mut std::collections::BTreeMap<String, FieldValue> {
                &mut self.extra
            }
            fn typed(name: &str) -> Option<Reader<Self>> {
                Self::typed_reader(name)
            }
            fn slot(&mut self, name: &str) -> Option<&mut dyn Slot> {
                self.slot_mut(name)
            }
        }
    )*};
}

record!(HouseholdFields, Member);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_parses_and_its_constants_name_its_rows() {
        let cat = FieldCatalog::shipped();
        assert_eq!(cat.all().len(), usize::from(Field::SHIPPED_COUNT));
        assert_eq!(cat.get(Field::HOUSING_SAFETY).name, "housing_safety");
        assert_eq!(cat.get(Field::MEMBER_PHONE).name, "member_phone");
        assert_eq!(cat.get(Field::IGNORED).level, FieldLevel::Ignored);
        assert_eq!(
            cat.find("main_cause").unwrap().code_list.as_deref(),
            Some("poverty_cause")
        );
    }

    #[test]
    fn every_stored_field_has_a_typed_slot_and_every_slot_a_row() {
        let cat = FieldCatalog::shipped();
        for (level, typed) in [
            (FieldLevel::Household, HouseholdFields::TYPED),
            (FieldLevel::Member, Member::TYPED),
        ] {
            let stored: Vec<&str> = cat.stored(level).map(|d| d.name.as_str()).collect();
            for name in typed {
                assert!(stored.contains(name), "slot {name} has no catalogue row");
            }
            for name in &stored {
                assert!(
                    typed.contains(name),
                    "shipped field {name} has no typed slot"
                );
            }
        }
    }

    #[test]
    fn typed_and_extra_fields_read_back_what_was_set() {
        let cat = FieldCatalog::shipped()
            .extended("has_biogas\thousehold\tbool\t\tyes\t沼气池\tBiogas\t有无沼气池\tno\tno\tyes\nvisit_on\thousehold\tdate\t\tyes\t走访日期\tVisit\t\tno\tno\tno\n")
            .unwrap();
        let mut h = HouseholdFields::default();
        let safety = cat.get(Field::HOUSING_SAFETY);
        h.set(safety, Some(FieldValue::Text("C".into()))).unwrap();
        assert_eq!(h.housing_safety.as_deref(), Some("C"));
        assert_eq!(h.get(safety), Some(FieldRef::Text("C")));
        let biogas = cat.find("has_biogas").unwrap();
        h.set(biogas, Some(FieldValue::Bool(true))).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let visit = cat.find("visit_on").unwrap();
        h.set(visit, Some(FieldValue::Date(d))).unwrap();
        let json = crate::compact::to_string(&h).unwrap();
        let back: HouseholdFields = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get(biogas), Some(FieldRef::Bool(true)));
        assert_eq!(back.get(visit), Some(FieldRef::Date(d)));
        assert!(h.set(safety, Some(FieldValue::Bool(true))).is_err());
        let wage = cat.find("income_wage").unwrap();
        h.set(wage, Some(FieldValue::Money(Fen(1234)))).unwrap();
        assert_eq!(h.income.wage, Fen(1234));
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        let e = FieldCatalog::shipped()
            .extended("x\thousehold\tcode\t\tyes\tX\tX\t\tno\tno\tno")
            .unwrap_err();
        assert_eq!(e.line, 1);
        assert!(
            FieldCatalog::shipped()
                .extended("phone\thousehold\ttext\t\tyes\t电话\tPhone\t\tno\tno\tno")
                .is_err()
        );
        assert!(FieldCatalog::parse("a\tb").is_err());
    }
}
