//! Messages as codes: an error or notice is a stable key plus named arguments
//! ([`Message`]); its Chinese and English text comes from one catalogue, `data/messages.tsv`,
//! and is rendered where a person reads it (the web for pages, the binary for the CLI, the error
//! workbook). Machines read the key and the arguments (the API's error envelope, the import
//! report's error kind per problem).
//!
//! A template names its arguments in braces: `代码“{value}”不在代码表 {list} 中`. An argument
//! the message does not carry is shown as `{name}`, visibly, never silently dropped. The two
//! languages may use different arguments (`names` joined with 、, `names_en` with commas).

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

/// The shipped message catalogue (tab-separated: key, Chinese, English).
pub const SHIPPED_MESSAGES: &str = include_str!("../data/messages.tsv");

/// The language a message is rendered in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// 简体中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

/// A message: its catalogue key and its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Catalogue key, e.g. `unknown_code`.
    pub key: &'static str,
    /// Named arguments, in the order given.
    pub args: Vec<(&'static str, String)>,
}

/// Starts a message with the catalogue key `key`.
pub fn msg(key: &'static str) -> Message {
    Message {
        key,
        args: Vec::new(),
    }
}

impl Message {
    /// Adds an argument.
    pub fn arg(mut self, name: &'static str, value: impl Display) -> Message {
        self.args.push((name, value.to_string()));
        self
    }

    /// The value of an argument.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text in one language, from the shipped catalogue.
    pub fn render(&self, lang: Lang) -> String {
        MessageCatalog::shipped().render(self, lang)
    }

    /// Chinese text.
    pub fn zh(&self) -> String {
        self.render(Lang::Zh)
    }

    /// English text.
    pub fn en(&self) -> String {
        self.render(Lang::En)
    }
}

/// Error reading a message catalogue.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("message catalogue line {line}: {reason}")]
pub struct MessageFileError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Message templates by key.
#[derive(Clone, Debug, Default)]
pub struct MessageCatalog {
    templates: HashMap<String, (String, String)>,
}

static SHIPPED: LazyLock<MessageCatalog> = LazyLock::new(|| {
    MessageCatalog::parse(SHIPPED_MESSAGES).expect("data/messages.tsv is checked by a test")
});

impl MessageCatalog {
    /// The shipped catalogue.
    pub fn shipped() -> &'static MessageCatalog {
        &SHIPPED
    }

    /// Parses a catalogue (`key<TAB>Chinese<TAB>English`, `#` comments).
    pub fn parse(text: &str) -> Result<MessageCatalog, MessageFileError> {
        let mut templates = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let err = |reason: String| MessageFileError {
                line: i + 1,
                reason,
            };
            let parts: Vec<&str> = line.split('\t').collect();
            let [key, zh, en] = parts[..] else {
                return Err(err("expected key<TAB>Chinese<TAB>English".into()));
            };
            if zh.trim().is_empty() || en.trim().is_empty() {
                return Err(err(format!("{key}: a text is empty")));
            }
            if templates
                .insert(key.to_string(), (zh.to_string(), en.to_string()))
                .is_some()
            {
                return Err(err(format!("{key} is defined twice")));
            }
        }
        Ok(MessageCatalog { templates })
    }

    /// Whether the catalogue has a key.
    pub fn contains(&self, key: &str) -> bool {
        self.templates.contains_key(key)
    }

    /// Every key.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.templates.keys().map(String::as_str)
    }

    /// A message's text in one language; an unknown key shows the key and its arguments.
    pub fn render(&self, m: &Message, lang: Lang) -> String {
        let Some((zh, en)) = self.templates.get(m.key) else {
            let args: Vec<String> = m.args.iter().map(|(n, v)| format!("{n}={v}")).collect();
            return format!("{}({})", m.key, args.join(", "));
        };
        fill(if lang == Lang::Zh { zh } else { en }, m)
    }
}

fn fill(template: &str, m: &Message) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            out.push_str(&rest[open..open + 1]);
            rest = &rest[open + 2..];
            continue;
        }
        if rest[open..].starts_with('}') {
            out.push('}');
            rest = after;
            continue;
        }
        match after.split_once('}') {
            Some((name, tail)) => {
                match m.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = tail;
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_parses() {
        assert!(MessageCatalog::shipped().keys().count() > 0);
    }

    #[test]
    fn arguments_fill_both_languages_and_missing_ones_stay_visible() {
        let cat = MessageCatalog::parse(
            "k\t代码“{value}”不在代码表 {list} 中\tcode \"{value}\" is not in list {list}\n",
        )
        .unwrap();
        let m = msg("k").arg("value", "9").arg("list", "biogas");
        assert_eq!(cat.render(&m, Lang::Zh), "代码“9”不在代码表 biogas 中");
        assert_eq!(cat.render(&m, Lang::En), "code \"9\" is not in list biogas");
        assert_eq!(
            cat.render(&msg("k"), Lang::Zh),
            "代码“{value}”不在代码表 {list} 中"
        );
        assert_eq!(cat.render(&msg("nope").arg("a", 1), Lang::Zh), "nope(a=1)");
        let braces = MessageCatalog::parse("b\t名称 {{{name}}}\tname {{{name}}}\n").unwrap();
        assert_eq!(
            braces.render(&msg("b").arg("name", "x"), Lang::En),
            "name {x}"
        );
        assert!(MessageCatalog::parse("k\t甲\t\n").is_err());
        assert!(MessageCatalog::parse("k\t甲\n").is_err());
    }

    /// Every key used in the workspace's sources (`msg("…")`) is in the catalogue.
    #[test]
    fn every_message_used_has_a_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut missing = Vec::new();
        let mut used = 0;
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("xiuhua-domain/src/message.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for part in text.split("msg(\"").skip(1) {
                        let key = part.split('"').next().unwrap_or("");
                        used += 1;
                        if !MessageCatalog::shipped().contains(key) {
                            missing.push(format!("{}: {key}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(missing.is_empty(), "messages without a text: {missing:?}");
        assert!(used > 0);
    }
}
