//! Loading: a rule-set file parsed and checked completely (header, parameters, inputs, every
//! item's expression and explanation, scoring), or refused with a [`LoadError`] naming the
//! file, item and position.

use std::collections::BTreeMap;
use xiuhua_domain::message::{Message, msg};

use super::explain::parse_template;
use super::{Item, ItemDef, Kind, ParamValue, RuleSet, RuleSetDef};
use crate::expr::{ExprError, Scope, compile};
use crate::schema::Ty;

/// A rule set refused at load time: file, item and position.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}{}{}", item.as_ref().map(|i| format!("item {i}: ")).unwrap_or_default(), position.map(|(l, c)| format!("line {l}, column {c}: ")).unwrap_or_default(), message.en())]
pub struct LoadError {
    /// The file (or name) the text came from.
    pub file: String,
    /// The item code, if the problem is in an item.
    pub item: Option<String>,
    /// Line and column in the file (1-based), where known.
    pub position: Option<(usize, usize)>,
    /// The reason: a key of the message catalogue and its arguments.
    pub message: Message,
}

impl LoadError {
    /// The message a Chinese reader sees: 文件 x，检查项 y，第 l 行第 c 列：…
    pub fn to_zh(&self) -> String {
        let mut s = format!("规则文件 {}", self.file);
        if let Some(i) = &self.item {
            s.push_str(&format!("，检查项 {i}"));
        }
        if let Some((l, c)) = self.position {
            s.push_str(&format!("，第 {l} 行第 {c} 列"));
        }
        s.push('：');
        s.push_str(&self.message.zh());
        s
    }

    /// The reason in Chinese (without the place).
    pub fn message_zh(&self) -> String {
        self.message.zh()
    }

    /// The reason in English (without the place).
    pub fn message_en(&self) -> String {
        self.message.en()
    }
}

fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let before = &text[..byte.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A [`LoadError`] for `file`.
fn fail(
    file: &str,
    item: Option<&str>,
    pos: Option<(usize, usize)>,
    message: Message,
) -> LoadError {
    LoadError {
        file: file.to_string(),
        item: item.map(str::to_string),
        position: pos,
        message,
    }
}

/// Where an item's expression starts in the file, for positions.
fn expr_at(text: &str, code: &str, expr: &str) -> Option<usize> {
    let code_at = text
        .find(&format!("code = \"{code}\""))
        .or_else(|| text.find(&format!("code = '{code}'")))?;
    let rest = &text[code_at..];
    let expr_key = rest.find("expr")?;
    let after = &rest[expr_key..];
    let inner = after.find(expr.lines().next().unwrap_or(expr))?;
    Some(code_at + expr_key + inner)
}

impl RuleSet {
    /// Parses and checks a rule-set file completely. `file` names it in errors.
    pub fn load(file: &str, text: &str) -> Result<RuleSet, LoadError> {
        let def: RuleSetDef = toml::from_str(text).map_err(|e| {
            let pos = e.span().map(|s| line_col(text, s.start));
            let detail = e.message().to_string();
            fail(
                file,
                None,
                pos,
                msg("rule_invalid_rule_file_msg").arg("msg", detail),
            )
        })?;
        check_header(file, &def)?;
        let param_types = param_types(file, &def)?;
        let input_types = input_types(file, &def)?;
        check_param_names(file, &def, &param_types)?;
        let scope = Scope {
            level: def.level,
            params: &param_types,
            inputs: &input_types,
        };
        let items = compile_items(file, text, &def, &scope)?;
        check_scoring(file, &def, &items)?;
        Ok(RuleSet {
            def,
            items,
            source: text.to_string(),
            param_types,
            input_types,
        })
    }

    /// Checks what-if overrides: known names, matching types.
    pub fn check_overrides(
        &self,
        overrides: &BTreeMap<String, ParamValue>,
    ) -> Result<(), LoadError> {
        for (name, v) in overrides {
            let Some((_, ty)) = self.param_types.iter().find(|(n, _)| n == name) else {
                return Err(LoadError {
                    file: self.def.id.clone(),
                    item: None,
                    position: None,
                    message: msg("rule_no_such_parameter").arg("name", name),
                });
            };
            let ok = v.ty() == *ty || (ty.is_numeric() && v.ty().is_numeric() && *ty == Ty::Double);
            if !ok {
                return Err(LoadError {
                    file: self.def.id.clone(),
                    item: None,
                    position: None,
                    message: msg("rule_parameter_type")
                        .arg("name", name)
                        .arg("type", ty.name()),
                });
            }
        }
        Ok(())
    }
}

/// The set's header: id, version, years, region, at least one item.
fn check_header(file: &str, def: &RuleSetDef) -> Result<(), LoadError> {
    if !valid_id(&def.id) {
        return Err(fail(
            file,
            None,
            None,
            msg("rule_rule_set_id_id_may").arg("id", &def.id),
        ));
    }
    if def.version < 1 {
        return Err(fail(
            file,
            None,
            None,
            msg("rule_version_must_positive_integer"),
        ));
    }
    if def.years.is_empty()
        || def.years.len() > 2
        || (def.years.len() == 2 && def.years[0] > def.years[1])
    {
        return Err(fail(
            file,
            None,
            None,
            msg("rule_years_must_first_first_last"),
        ));
    }
    if !def.region.chars().all(|c| c.is_ascii_digit()) || def.region.len() > 12 {
        return Err(fail(
            file,
            None,
            None,
            msg("rule_region_region_not_region_code").arg("region", &def.region),
        ));
    }
    if def.items.is_empty() {
        return Err(fail(file, None, None, msg("rule_rule_set_has_no_items")));
    }
    Ok(())
}

/// Each parameter's type, in file order: every value (and every year of `by_year`) valid, and
/// of one type (int and double mix as double).
fn param_types(file: &str, def: &RuleSetDef) -> Result<Vec<(String, Ty)>, LoadError> {
    let mut param_types = Vec::new();
    for (name, p) in &def.params {
        let mut tys: Vec<Ty> = p
            .value
            .iter()
            .chain(p.by_year.values())
            .map(ParamValue::ty)
            .collect();
        if tys.is_empty() {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_parameter_name_has_no_value").arg("name", name),
            ));
        }
        for y in p.by_year.keys() {
            if y.parse::<i32>()
                .map(|y| !(1949..=2200).contains(&y))
                .unwrap_or(true)
            {
                return Err(fail(
                    file,
                    None,
                    None,
                    msg("rule_parameter_name_invalid_year_y")
                        .arg("name", name)
                        .arg("y", y),
                ));
            }
        }
        // int and double values may mix in a table: the parameter is then double.
        if tys.iter().all(|t| t.is_numeric()) && tys.contains(&Ty::Double) {
            tys = vec![Ty::Double];
        }
        let ty = tys[0];
        if tys.iter().any(|t| *t != ty) {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_parameter_name_mixes_value_types").arg("name", name),
            ));
        }
        param_types.push((name.clone(), ty));
    }
    Ok(param_types)
}

/// Each input's declared type, in file order; an input may not shadow a variable or parameter.
fn input_types(file: &str, def: &RuleSetDef) -> Result<Vec<(String, Ty)>, LoadError> {
    let mut input_types = Vec::new();
    for (name, i) in &def.inputs {
        let ty = match i.ty.as_str() {
            "bool" => Ty::Bool,
            "int" => Ty::Int,
            "double" => Ty::Double,
            "string" => Ty::Str,
            other => {
                return Err(fail(
                    file,
                    None,
                    None,
                    msg("rule_input_name_invalid_type_other")
                        .arg("name", name)
                        .arg("other", other),
                ));
            }
        };
        if let Some(g) = &i.group
            && !super::INPUT_GROUPS.contains(&g.as_str())
        {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_input_group_unknown")
                    .arg("name", name)
                    .arg("group", g)
                    .arg("groups", super::INPUT_GROUPS.join("、")),
            ));
        }
        if def.level.vars().iter().any(|v| v.name == name) || def.params.contains_key(name) {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_input_name_has_name_variable").arg("name", name),
            ));
        }
        input_types.push((name.clone(), ty));
    }
    Ok(input_types)
}

/// A parameter may not shadow a variable of the set's level.
fn check_param_names(
    file: &str,
    def: &RuleSetDef,
    param_types: &[(String, Ty)],
) -> Result<(), LoadError> {
    for (name, _) in param_types {
        if def.level.vars().iter().any(|v| v.name == name) {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_parameter_name_has_name_level")
                    .arg("name", name)
                    .arg("label_zh", def.level.label_zh())
                    .arg("level", def.level.as_str()),
            ));
        }
    }
    Ok(())
}

/// Compiles every item, in file order; item codes are unique.
fn compile_items(
    file: &str,
    text: &str,
    def: &RuleSetDef,
    scope: &Scope<'_>,
) -> Result<Vec<Item>, LoadError> {
    let mut items = Vec::with_capacity(def.items.len());
    let mut codes = std::collections::HashSet::new();
    for it in &def.items {
        if !codes.insert(it.code.as_str()) {
            return Err(fail(
                file,
                Some(&it.code),
                None,
                msg("rule_duplicate_item_code"),
            ));
        }
        items.push(compile_item(file, text, it, scope)?);
    }
    Ok(items)
}

/// Compiles one item: its expression (a bool, or a number for score items) and its
/// explanation template; errors point into the file.
fn compile_item(
    file: &str,
    text: &str,
    it: &ItemDef,
    scope: &Scope<'_>,
) -> Result<Item, LoadError> {
    let compiled = compile(&it.expr, scope).map_err(|e: ExprError| {
        let pos = expr_at(text, &it.code, &it.expr).map(|at| {
            let (l, c) = line_col(text, at);
            if e.line == 1 {
                (l, c + e.column - 1)
            } else {
                (l + e.line - 1, e.column)
            }
        });
        fail(file, Some(&it.code), pos, e.message)
    })?;
    let want_bool = it.kind != Kind::Score;
    if want_bool && compiled.ty != Ty::Bool {
        return Err(fail(
            file,
            Some(&it.code),
            None,
            msg("rule_kind_item_needs_bool_expression")
                .arg("label_zh", it.kind.label_zh())
                .arg("name", compiled.ty.name())
                .arg("kind", it.kind.as_str()),
        ));
    }
    if !want_bool && !compiled.ty.is_numeric() {
        return Err(fail(
            file,
            Some(&it.code),
            None,
            msg("rule_score_item_needs_number_got").arg("name", compiled.ty.name()),
        ));
    }
    let template = match &it.explain {
        Some(t) => Some(parse_template(t, scope).map_err(|m| fail(file, Some(&it.code), None, m))?),
        None => None,
    };
    Ok(Item {
        def: it.clone(),
        compiled,
        template,
    })
}

/// `[scoring]` is there exactly when score items are, and complete.
fn check_scoring(file: &str, def: &RuleSetDef, items: &[Item]) -> Result<(), LoadError> {
    let has_score = items.iter().any(|i| i.def.kind == Kind::Score);
    match (&def.scoring, has_score) {
        (None, true) => {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_score_items_need_scoring_cut"),
            ));
        }
        (Some(_), false) => {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_scoring_without_score_items"),
            ));
        }
        (Some(s), true) if s.cutoff.is_none() && s.quota.is_none() => {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_scoring_needs_cutoff_quota"),
            ));
        }
        (Some(s), true) if s.holds_when != "below" && s.holds_when != "above" => {
            return Err(fail(
                file,
                None,
                None,
                msg("rule_scoring_holds_when_must_below"),
            ));
        }
        _ => {}
    }
    Ok(())
}
