//! Data-driven code lists (代码表): 户属性, 致贫原因, 健康状况, 劳动技能, 在校生状况 and the rest.
//!
//! The lists ship as `data/codes.tsv` and are stored in the database, where a province can add
//! or relabel codes without a new release. Validation asks a [`CodeCatalog`]; no code value is
//! matched in Rust code except the few that carry behaviour (the 户主 relation `01`).

use std::collections::HashMap;

/// The default code lists shipped with xiuhua (tab-separated: list, code, zh, en).
pub const DEFAULT_CODES_TSV: &str = include_str!("../data/codes.tsv");

/// Relation code of the head of household (本人或户主).
pub const RELATION_HEAD: &str = "01";

/// One entry of a code list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeItem {
    /// Name of the list, e.g. `poverty_cause`.
    pub list: String,
    /// The stored code, e.g. `01`.
    pub code: String,
    /// Chinese label, e.g. `因病`.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
}

/// Error reading a code-list file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("code list line {line}: {reason}")]
pub struct CodeFileError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Parses the tab-separated code-list format (`#` starts a comment line).
pub fn parse_codes_tsv(text: &str) -> Result<Vec<CodeItem>, CodeFileError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split('\t').map(str::trim).collect();
        if parts.len() < 3 || parts[..3].iter().any(|p| p.is_empty()) {
            return Err(CodeFileError {
                line: i + 1,
                reason: "expected list<TAB>code<TAB>Chinese label[<TAB>English label]".into(),
            });
        }
        out.push(CodeItem {
            list: parts[0].to_string(),
            code: parts[1].to_string(),
            label_zh: parts[2].to_string(),
            label_en: parts.get(3).copied().unwrap_or(parts[2]).to_string(),
        });
    }
    Ok(out)
}

/// All code lists, looked up by list name and by code or Chinese label.
#[derive(Clone, Debug, Default)]
pub struct CodeCatalog {
    lists: HashMap<String, CodeList>,
}

/// One list with its lookups (validation asks for every coded cell of a ledger, so lookups
/// are hashed rather than scanned).
#[derive(Clone, Debug, Default)]
struct CodeList {
    items: Vec<CodeItem>,
    /// Position of each code.
    by_code: HashMap<String, usize>,
    /// First item whose code or Chinese label is the key.
    exact: HashMap<String, usize>,
    /// First item whose English label, in ASCII lower case, is the key.
    folded: HashMap<String, usize>,
}

impl CodeList {
    fn new(items: Vec<CodeItem>) -> CodeList {
        let mut list = CodeList {
            items,
            ..CodeList::default()
        };
        for (i, item) in list.items.iter().enumerate() {
            list.by_code.insert(item.code.clone(), i);
            // The first matching item wins, as a scan in file order would find it.
            list.exact.entry(item.code.clone()).or_insert(i);
            list.exact.entry(item.label_zh.clone()).or_insert(i);
            list.folded
                .entry(item.label_en.to_ascii_lowercase())
                .or_insert(i);
        }
        list
    }
}

impl CodeCatalog {
    /// Builds a catalog; a later item with the same list and code replaces an earlier one.
    pub fn new(items: impl IntoIterator<Item = CodeItem>) -> CodeCatalog {
        let mut lists: HashMap<String, Vec<CodeItem>> = HashMap::new();
        for item in items {
            let list = lists.entry(item.list.clone()).or_default();
            match list.iter_mut().find(|i| i.code == item.code) {
                Some(existing) => *existing = item,
                None => list.push(item),
            }
        }
        CodeCatalog {
            lists: lists
                .into_iter()
                .map(|(name, items)| (name, CodeList::new(items)))
                .collect(),
        }
    }

    /// The catalog of the shipped defaults.
    pub fn defaults() -> CodeCatalog {
        // The shipped file is checked by a test, so it always parses.
        CodeCatalog::new(parse_codes_tsv(DEFAULT_CODES_TSV).unwrap_or_default())
    }

    /// The items of one list, in file order.
    pub fn list(&self, list: &str) -> &[CodeItem] {
        self.lists
            .get(list)
            .map(|l| l.items.as_slice())
            .unwrap_or(&[])
    }

    /// Looks up a code.
    pub fn get(&self, list: &str, code: &str) -> Option<&CodeItem> {
        let l = self.lists.get(list)?;
        l.by_code.get(code).map(|&i| &l.items[i])
    }

    /// Whether `code` is in `list`.
    pub fn contains(&self, list: &str, code: &str) -> bool {
        self.get(list, code).is_some()
    }

    /// Resolves user input (a code or a Chinese/English label) to the stored code: the first
    /// item in file order whose code or Chinese label is the input, or whose English label is
    /// (ignoring ASCII case).
    pub fn resolve(&self, list: &str, input: &str) -> Option<&str> {
        let input = input.trim();
        let l = self.lists.get(list)?;
        let exact = l.exact.get(input).copied();
        let folded = if input.bytes().any(|b| b.is_ascii_uppercase()) {
            l.folded.get(&input.to_ascii_lowercase()).copied()
        } else {
            l.folded.get(input).copied()
        };
        let i = match (exact, folded) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        Some(l.items[i].code.as_str())
    }

    /// Chinese label of a code, or the code itself if unknown.
    pub fn label_zh<'a>(&'a self, list: &str, code: &'a str) -> &'a str {
        self.get(list, code)
            .map(|i| i.label_zh.as_str())
            .unwrap_or(code)
    }

    /// English label of a code, or the code itself if unknown.
    pub fn label_en<'a>(&'a self, list: &str, code: &'a str) -> &'a str {
        self.get(list, code)
            .map(|i| i.label_en.as_str())
            .unwrap_or(code)
    }

    /// Names of all lists.
    pub fn list_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.lists.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_codes_parse_and_cover_the_registry_lists() {
        let items = parse_codes_tsv(DEFAULT_CODES_TSV).unwrap();
        let cat = CodeCatalog::new(items);
        for list in [
            "household_attribute",
            "poverty_cause",
            "health",
            "labour",
            "education",
            "schooling",
            "work_status",
            "relation",
            "ethnicity",
            "housing_safety",
            "road_type",
            "monitor_type",
            "member_change",
            "disability_category",
            "political",
        ] {
            assert!(!cat.list(list).is_empty(), "list {list} missing");
        }
        assert_eq!(cat.list("ethnicity").len(), 56);
        assert_eq!(cat.label_zh("relation", RELATION_HEAD), "本人或户主");
    }

    #[test]
    fn resolve_accepts_code_or_label_and_later_items_override() {
        let mut items = parse_codes_tsv(DEFAULT_CODES_TSV).unwrap();
        assert_eq!(
            CodeCatalog::new(items.clone()).resolve("poverty_cause", "因病"),
            Some("01")
        );
        items.push(CodeItem {
            list: "poverty_cause".into(),
            code: "01".into(),
            label_zh: "因病致贫".into(),
            label_en: "illness".into(),
        });
        let cat = CodeCatalog::new(items);
        assert_eq!(cat.resolve("poverty_cause", "因病致贫"), Some("01"));
        assert_eq!(cat.resolve("poverty_cause", "因病"), None);
        assert_eq!(cat.resolve("poverty_cause", " 01 "), Some("01"));
    }

    #[test]
    fn resolve_finds_the_first_item_in_file_order_whatever_matched() {
        let item = |code: &str, zh: &str, en: &str| CodeItem {
            list: "l".into(),
            code: code.into(),
            label_zh: zh.into(),
            label_en: en.into(),
        };
        let cat = CodeCatalog::new([
            item("1", "甲", "Alpha"),
            item("2", "1", "Beta"),
            item("3", "丙", "alpha"),
            item("B", "丁", "Gamma"),
        ]);
        assert_eq!(
            cat.resolve("l", "1"),
            Some("1"),
            "code of item 1 before label of 2"
        );
        assert_eq!(
            cat.resolve("l", "ALPHA"),
            Some("1"),
            "English label, any case"
        );
        assert_eq!(cat.resolve("l", "beta"), Some("2"));
        assert_eq!(cat.resolve("l", "b"), None, "codes match exactly");
        assert_eq!(cat.resolve("l", "B"), Some("B"));
        assert_eq!(cat.resolve("l", "丁"), Some("B"));
        assert_eq!(cat.resolve("l", "戊"), None);
        assert_eq!(cat.resolve("other", "1"), None);
        assert_eq!(cat.get("l", "3").map(|i| i.label_zh.as_str()), Some("丙"));
        assert!(!cat.contains("l", "丙"), "get looks up codes only");
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let e = parse_codes_tsv("# c\nlist\tcode\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
