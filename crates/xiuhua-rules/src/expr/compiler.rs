//! The compiler: walks the `cel` syntax tree, resolves names (locals, level variables,
//! parameters, inputs, member fields), checks types and builds `Node`s. Calls, operators and
//! macros are in `calls`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use xiuhua_domain::message::{Message, msg};

use cel::IdedExpr;
use cel::common::ast::{Expr, ListExpr, LiteralValue, SelectExpr, SourceInfo};

use super::node::Node;
use super::{ExprError, MAX_DEPTH, Ref, Scope};
use crate::schema::{Elem, Level, MEMBER_VARS, MEMBERS_SLOT, Ty, find_var};
use crate::value::Val;

/// The state of one compilation.
pub(super) struct Compiler<'s> {
    /// The names the expression may use.
    pub(super) scope: &'s Scope<'s>,
    /// Where each syntax node starts in the source, for errors.
    pub(super) info: &'s SourceInfo,
    /// The expression text.
    pub(super) source: &'s str,
    /// Comprehension variables in scope, innermost last.
    pub(super) locals: Vec<(String, Ty)>,
    /// Names read at the unit's level, in first-use order.
    pub(super) refs: Vec<Ref>,
    /// The same names as a set, to record each once.
    pub(super) seen: BTreeSet<Ref>,
    /// Levels of [`Compiler::expr`] currently entered.
    pub(super) depth: usize,
}

/// A compiled node and its type, or where and why compiling failed.
pub(super) type R = Result<(Node, Ty), ExprError>;

/// An operator's source form (`_+_` → `+`), for messages.
pub(super) fn op_symbol(f: &str) -> &str {
    match f {
        "_==_" => "==",
        "_!=_" => "!=",
        "_<_" => "<",
        "_<=_" => "<=",
        "_>_" => ">",
        "_>=_" => ">=",
        "_+_" => "+",
        "_-_" => "-",
        "_*_" => "*",
        "_/_" => "/",
        "_%_" => "%",
        "_&&_" => "&&",
        "_||_" => "||",
        "!_" => "!",
        "-_" => "-",
        "_?_:_" => "?:",
        "@in" => "in",
        "_[_]" => "[]",
        other => other,
    }
}

impl Compiler<'_> {
    /// An error at syntax node `e`, with its line and column in the source.
    pub(super) fn err(&self, e: &IdedExpr, m: Message) -> ExprError {
        let (line, column) = match self.info.offset_for(e.id) {
            Some((start, _)) => {
                let mut line = 1;
                let mut column = 1;
                for ch in self.source.chars().take(start as usize) {
                    if ch == '\n' {
                        line += 1;
                        column = 1;
                    } else {
                        column += 1;
                    }
                }
                (line, column)
            }
            None => (1, 1),
        };
        ExprError::new(line, column, m)
    }

    /// Records that the expression reads `r`.
    fn note(&mut self, r: Ref) {
        if self.seen.insert(r) {
            self.refs.push(r);
        }
    }

    /// Compiles one syntax node, refusing trees deeper than [`MAX_DEPTH`].
    pub(super) fn expr(&mut self, e: &IdedExpr) -> R {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(
                e,
                msg("rule_expression_nested_too_deeply_more").arg("max_depth", MAX_DEPTH),
            ));
        }
        self.depth += 1;
        let r = self.expr_at_depth(e);
        self.depth -= 1;
        r
    }

    fn expr_at_depth(&mut self, e: &IdedExpr) -> R {
        match &e.expr {
            Expr::Literal(l) => self.literal(e, l),
            Expr::Ident(name) => self.ident(e, name),
            Expr::Select(sel) => self.select(e, sel),
            Expr::List(list) => self.list(e, list),
            Expr::Call(call) => self.call(e, call),
            Expr::Map(_) | Expr::Struct(_) => {
                Err(self.err(e, msg("rule_map_struct_literals_are_not")))
            }
            Expr::Comprehension(_) | Expr::Unspecified => {
                Err(self.err(e, msg("rule_unsupported_expression")))
            }
        }
    }

    /// `operand.field` (or `has(operand.field)` when `sel.test`): a member's field.
    fn select(&mut self, e: &IdedExpr, sel: &SelectExpr) -> R {
        let (operand, ty) = self.expr(&sel.operand)?;
        if ty != Ty::Member {
            return Err(self.err(
                e,
                msg("rule_cannot_select_field_on_value")
                    .arg("name", ty.name())
                    .arg("field", &sel.field),
            ));
        }
        let Some(slot) = find_var(MEMBER_VARS, &sel.field) else {
            return Err(self.err(
                e,
                msg("rule_member_has_no_field_field").arg("field", &sel.field),
            ));
        };
        if sel.test {
            Ok((Node::Has(Box::new(operand), slot), Ty::Bool))
        } else {
            Ok((Node::Field(Box::new(operand), slot), MEMBER_VARS[slot].ty))
        }
    }

    /// A list literal: elements of one type (int and double mix as double); constant when
    /// every element is.
    fn list(&mut self, e: &IdedExpr, list: &ListExpr) -> R {
        let mut nodes = Vec::with_capacity(list.elements.len());
        let mut elem: Option<Ty> = None;
        for x in &list.elements {
            let (n, t) = self.expr(x)?;
            match elem {
                None => elem = Some(t),
                Some(prev) if prev == t => {}
                Some(prev) if prev.is_numeric() && t.is_numeric() => elem = Some(Ty::Double),
                Some(prev) => {
                    return Err(self.err(
                        x,
                        msg("rule_list_elements_different_types_name")
                            .arg("name", prev.name())
                            .arg("name2", t.name()),
                    ));
                }
            }
            nodes.push(n);
        }
        let Some(elem) = elem.and_then(Ty::as_elem) else {
            return Err(self.err(e, msg("rule_empty_nested_lists_are_not")));
        };
        let constant: Option<Vec<Val<'static>>> = nodes
            .iter()
            .map(|n| match n {
                Node::Const(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        let node = match constant {
            Some(vals) => Node::Const(Val::List(vals)),
            None => Node::List(nodes),
        };
        Ok((node, Ty::List(elem)))
    }

    fn literal(&mut self, e: &IdedExpr, l: &LiteralValue) -> R {
        Ok(match l {
            LiteralValue::Boolean(b) => (Node::Const(Val::Bool(*b.inner())), Ty::Bool),
            LiteralValue::Int(i) => (Node::Const(Val::Int(*i.inner())), Ty::Int),
            LiteralValue::UInt(u) => {
                let v = i64::try_from(*u.inner())
                    .map_err(|_| self.err(e, msg("rule_integer_out_range")))?;
                (Node::Const(Val::Int(v)), Ty::Int)
            }
            LiteralValue::Double(d) => (Node::Const(Val::Double(*d.inner())), Ty::Double),
            LiteralValue::String(s) => (
                Node::Const(Val::Str(Cow::Owned(s.inner().to_string()))),
                Ty::Str,
            ),
            LiteralValue::Null => {
                return Err(self.err(e, msg("rule_null_not_supported_missing_data")));
            }
            LiteralValue::Bytes(_) => {
                return Err(self.err(e, msg("rule_bytes_are_not_supported")));
            }
        })
    }

    fn ident(&mut self, e: &IdedExpr, name: &str) -> R {
        if let Some(depth) = self.locals.iter().rposition(|(n, _)| n == name) {
            return Ok((Node::Local(depth), self.locals[depth].1));
        }
        let vars = self.scope.level.vars();
        if let Some(slot) = find_var(vars, name) {
            if self.scope.level == Level::Household && slot == MEMBERS_SLOT {
                return Ok((Node::Members, Ty::List(Elem::Member)));
            }
            self.note(Ref::Var(slot));
            return Ok((Node::Var(slot), vars[slot].ty));
        }
        if let Some(i) = self.scope.params.iter().position(|(n, _)| n == name) {
            self.note(Ref::Param(i));
            return Ok((Node::Param(i), self.scope.params[i].1));
        }
        if let Some(i) = self.scope.inputs.iter().position(|(n, _)| n == name) {
            self.note(Ref::Input(i));
            return Ok((Node::Input(i), self.scope.inputs[i].1));
        }
        if find_var(MEMBER_VARS, name).is_some() && self.scope.level == Level::Household {
            return Err(self.err(e, msg("rule_name_member_field_use_as").arg("name", name)));
        }
        Err(self.err(
            e,
            msg("rule_unknown_variable_name_not_level")
                .arg("name", name)
                .arg("label_zh", self.scope.level.label_zh())
                .arg("level", self.scope.level.as_str()),
        ))
    }

    /// An operator or function applied to argument types it does not take.
    pub(super) fn type_err(&self, e: &IdedExpr, f: &str, tys: &[Ty]) -> ExprError {
        let names: Vec<&str> = tys.iter().map(|t| t.name()).collect();
        let sym = op_symbol(f);
        self.err(
            e,
            msg("rule_type_error_sym_cannot_applied")
                .arg("sym", sym)
                .arg("names", names.join(", ")),
        )
    }
}
