//! Code-list values as ledgers write them (`data/synonyms.tsv`): a written form of a list and
//! the code it means. The import consults this after a list's own codes and labels
//! (`CodeCatalog::resolve`); adding a line adds a synonym everywhere.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The shipped synonym list (`data/synonyms.tsv`).
pub const SHIPPED_SYNONYMS: &str = include_str!("../data/synonyms.tsv");

/// Written forms of code-list values: (list, written form) → code.
#[derive(Clone, Debug, Default)]
pub struct Synonyms {
    by_form: HashMap<(String, String), String>,
}

/// Why a synonym list cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SynonymError {
    /// A line does not have three tab-separated columns.
    #[error("synonyms line {line}: expected list<TAB>written form<TAB>code")]
    Columns {
        /// 1-based line.
        line: usize,
    },
    /// A written form is given twice in one list (with different codes or not).
    #[error("synonyms line {line}: {form:?} is already a synonym in list {list}")]
    Duplicate {
        /// 1-based line.
        line: usize,
        /// The list.
        list: String,
        /// The written form.
        form: String,
    },
}

impl Synonyms {
    /// Parses a synonym list (`#` comments, blank lines ignored).
    pub fn parse(text: &str) -> Result<Synonyms, SynonymError> {
        let mut by_form = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let p: Vec<&str> = line.split('\t').collect();
            let [list, form, code] = p[..] else {
                return Err(SynonymError::Columns { line: i + 1 });
            };
            let key = (list.trim().to_string(), form.trim().to_string());
            if by_form.contains_key(&key) {
                return Err(SynonymError::Duplicate {
                    line: i + 1,
                    list: key.0,
                    form: key.1,
                });
            }
            by_form.insert(key, code.trim().to_string());
        }
        Ok(Synonyms { by_form })
    }

    /// The shipped list.
    pub fn shipped() -> &'static Synonyms {
        static SHIPPED: LazyLock<Synonyms> = LazyLock::new(|| {
            Synonyms::parse(SHIPPED_SYNONYMS).expect("data/synonyms.tsv is valid (tested)")
        });
        &SHIPPED
    }

    /// The code a written form means in a list, if it is a known synonym.
    pub fn code(&self, list: &str, written: &str) -> Option<&str> {
        self.by_form
            .get(&(list.to_string(), written.trim().to_string()))
            .map(String::as_str)
    }

    /// Every (list, written form, code).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.by_form
            .iter()
            .map(|((l, f), c)| (l.as_str(), f.as_str(), c.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodeCatalog;

    #[test]
    fn every_shipped_synonym_names_a_shipped_code_and_is_not_a_label_of_another() {
        let codes = CodeCatalog::defaults();
        let s = Synonyms::shipped();
        assert!(s.iter().count() > 50);
        for (list, form, code) in s.iter() {
            assert!(codes.get(list, code).is_some(), "{list} {form} → {code}");
            // A synonym never overrides what the list itself says a written form means.
            if let Some(own) = codes.resolve(list, form) {
                assert_eq!(own, code, "{list} {form}");
            }
        }
        assert_eq!(s.code("health", "患有大病"), Some("03"));
        assert_eq!(s.code("relation", " 户主 "), Some("01"));
    }

    #[test]
    fn bad_lines_are_refused() {
        assert!(matches!(
            Synonyms::parse("health\t大病"),
            Err(SynonymError::Columns { line: 1 })
        ));
        assert!(matches!(
            Synonyms::parse("health\t重病\t03\nhealth\t重病\t02"),
            Err(SynonymError::Duplicate { line: 2, .. })
        ));
    }
}
