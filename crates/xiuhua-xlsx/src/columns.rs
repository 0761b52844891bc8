//! The ledger columns xiuhua understands: the header names (and common variants found in county
//! ledgers and national-system exports) of the field catalogue's fields
//! (`xiuhua_domain::fields`, `data/fields.tsv`). A mapping file can add more.

use std::collections::HashMap;
use std::sync::LazyLock;

use xiuhua_domain::FieldCatalog;
pub use xiuhua_domain::fields::{Field, FieldLevel as Level};

/// Names that mapping files written for earlier versions use for a field, and the field's
/// catalogue name now.
const ALIASES: &[(&str, &str)] = &[("income_cost", "business_cost")];

/// The ledger columns of a field catalogue: normalised header name → field.
#[derive(Clone, Debug)]
pub struct Columns {
    by_header: HashMap<String, Field>,
}

impl Columns {
    /// The columns of a catalogue (every header name of every field).
    pub fn new(fields: &FieldCatalog) -> Columns {
        let mut by_header = HashMap::new();
        for def in fields.columns() {
            for h in &def.headers {
                by_header.entry(normalise_header(h)).or_insert(def.id);
            }
        }
        Columns { by_header }
    }

    /// The columns of the shipped catalogue.
    pub fn shipped() -> &'static Columns {
        static SHIPPED: LazyLock<Columns> = LazyLock::new(|| Columns::new(FieldCatalog::shipped()));
        &SHIPPED
    }

    /// The field a header names, if known (`extra` maps further header names to field names
    /// of `fields`).
    pub fn field_of(
        &self,
        fields: &FieldCatalog,
        header: &str,
        extra: &[(String, String)],
    ) -> Option<Field> {
        let h = normalise_header(header);
        if h.is_empty() {
            return None;
        }
        if let Some((_, name)) = extra.iter().find(|(n, _)| normalise_header(n) == h) {
            return fields.find(canonical_name(name)).map(|d| d.id);
        }
        self.by_header.get(&h).copied()
    }
}

fn canonical_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| new)
}

/// Normalises a header for matching: cleaned, full-width brackets mapped, spaces and line
/// breaks removed.
pub fn normalise_header(h: &str) -> String {
    crate::cell::clean_text(h)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

/// The field a header names in the shipped catalogue, if known (`extra` maps further header
/// names to field names).
pub fn field_of(header: &str, extra: &[(String, String)]) -> Option<Field> {
    Columns::shipped().field_of(FieldCatalog::shipped(), header, extra)
}

/// The level of a field.
pub fn level(f: Field) -> Level {
    FieldCatalog::shipped().get(f).level
}

/// The canonical (export) header of a field.
pub fn header(f: Field) -> &'static str {
    FieldCatalog::shipped().get(f).header()
}

/// The catalogue name of a field (used in mapping files).
pub fn storage_name(f: Field) -> &'static str {
    &FieldCatalog::shipped().get(f).name
}

/// Parses a mapping file: one `表头<TAB or comma>field_name` per line, `#` comments; the field
/// names are those of the shipped catalogue.
pub fn parse_mapping(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((h, s)) = line.split_once(['\t', ',', '=']) else {
            return Err(format!("line {}: expected `header<TAB>field`", i + 1));
        };
        let s = canonical_name(s.trim());
        if FieldCatalog::shipped()
            .find(s)
            .is_none_or(|d| !d.is_column())
        {
            return Err(format!("line {}: unknown field {s:?}", i + 1));
        }
        out.push((h.trim().to_string(), s.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_and_full_width_headers_match() {
        assert_eq!(field_of("身份证号", &[]), Some(Field::ID_NUMBER));
        assert_eq!(field_of(" 证件号码 ", &[]), Some(Field::ID_NUMBER));
        assert_eq!(field_of("务工时间（月）", &[]), Some(Field::WORK_MONTHS));
        assert_eq!(field_of("*户编号", &[]), Some(Field::HOUSEHOLD_NO));
        assert_eq!(field_of("户码", &[]), Some(Field::HOUSEHOLD_NO));
        assert_eq!(field_of("年龄", &[]), Some(Field::IGNORED));
        assert_eq!(field_of("宠物", &[]), None);
        let extra = vec![("家庭编号".to_string(), "household_no".to_string())];
        assert_eq!(field_of("家庭编号", &extra), Some(Field::HOUSEHOLD_NO));
    }

    #[test]
    fn the_header_variants_counties_use_name_their_fields() {
        let cases: &[(&[&str], Field)] = &[
            (
                &["所属乡镇", "乡镇", "乡（镇）", "镇", "乡镇名称"],
                Field::TOWNSHIP,
            ),
            (
                &["所属行政村", "行政村", "村", "村委会", "村名"],
                Field::VILLAGE,
            ),
            (&["村民小组", "组", "屯", "自然村"], Field::GROUP),
            (&["户编号", "户码", "户号"], Field::HOUSEHOLD_NO),
            (
                &["证件号码", "身份证号", "身份证号码", "公民身份号码"],
                Field::ID_NUMBER,
            ),
            (&["与户主关系", "关系"], Field::RELATION),
            (&["健康状况", "身体状况"], Field::HEALTH),
            (&["劳动技能", "劳动能力"], Field::LABOUR),
            (&["主要致贫原因", "致贫原因"], Field::MAIN_CAUSE),
        ];
        for (headers, field) in cases {
            for h in *headers {
                assert_eq!(field_of(h, &[]), Some(*field), "{h}");
            }
        }
    }

    #[test]
    fn old_field_names_in_mapping_files_still_work() {
        let m = parse_mapping("经营支出\tincome_cost\n").unwrap();
        assert_eq!(field_of("经营支出", &m), Some(Field::BUSINESS_COST));
    }

    #[test]
    fn mapping_files_are_checked() {
        assert_eq!(
            parse_mapping("# x\n家庭编号\thousehold_no\n")
                .unwrap()
                .len(),
            1
        );
        assert!(parse_mapping("家庭编号\tno_such_field\n").is_err());
    }

    #[test]
    fn every_header_name_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for def in FieldCatalog::shipped().columns() {
            for n in &def.headers {
                assert!(seen.insert(normalise_header(n)), "duplicate header {n}");
            }
        }
    }
}
