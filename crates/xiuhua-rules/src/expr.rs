//! Expressions: CEL source parsed by the `cel` crate, type-checked against the schema and
//! compiled into a tree of resolved nodes that evaluates without lookups by name or allocation
//! in the common case.
//!
//! Why not `cel`'s own interpreter: it resolves every name through a hash map of dynamic values
//! and needs the household converted into CEL maps first; measured at about 12 µs per
//! expression (context included), a million households × 40 expressions would take minutes. The
//! language is still CEL: the `cel` parser defines the syntax, and a test evaluates every shipped
//! expression with both `cel`'s interpreter and this evaluator and requires the same answers.

use std::borrow::Cow;
use std::collections::BTreeSet;

use cel::IdedExpr;
use cel::common::ast::{Expr, LiteralValue, SourceInfo};

use crate::schema::{Elem, Facts, Level, MEMBER_VARS, MEMBERS_SLOT, Ty, find_var};
use crate::value::Val;

/// Where a compile error is, within the expression text (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// Line within the expression (1-based).
    pub line: usize,
    /// Column within that line (1-based, in characters).
    pub column: usize,
    /// Chinese message.
    pub message_zh: String,
    /// English message.
    pub message_en: String,
}

/// A name an expression reads at the level of the evaluated unit (not member fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ref {
    /// A level variable (slot).
    Var(usize),
    /// A rule-set parameter (index).
    Param(usize),
    /// A declared input (index).
    Input(usize),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An arithmetic operator (CEL's: integer division and remainder truncate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A string function: `contains`, `startsWith`, `endsWith`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrFn {
    Contains,
    StartsWith,
    EndsWith,
}

/// A conversion: `int()`, `double()`, `string()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conv {
    Int,
    Double,
    Str,
}

/// A member macro: `exists`, `all`, `exists_one`, `filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comp {
    Exists,
    All,
    ExistsOne,
    Filter,
}

/// A compiled expression node. Public so that translators outside this crate (the DuckDB SQL
/// of `xiuhua-bench`) can walk the same tree the evaluator runs.
#[derive(Clone, Debug)]
pub enum Node {
    /// A literal.
    Const(Val<'static>),
    /// A level variable (slot in [`crate::schema::HOUSEHOLD_VARS`] or the area variables).
    Var(usize),
    /// The household's members list.
    Members,
    /// A rule-set parameter (index into [`crate::ParamValues`]).
    Param(usize),
    /// A declared input (index).
    Input(usize),
    /// The member bound by an enclosing macro (0 = outermost).
    Local(usize),
    /// A member field (slot in [`crate::schema::MEMBER_VARS`]) of a member.
    Field(Box<Node>, usize),
    /// `has(m.field)`.
    Has(Box<Node>, usize),
    /// `!a`.
    Not(Box<Node>),
    /// `-a`.
    Neg(Box<Node>),
    /// `a && b`.
    And(Box<Node>, Box<Node>),
    /// `a || b`.
    Or(Box<Node>, Box<Node>),
    /// `c ? a : b`.
    Cond(Box<Node>, Box<Node>, Box<Node>),
    /// A comparison.
    Cmp(Cmp, Box<Node>, Box<Node>),
    /// Arithmetic.
    Arith(Arith, Box<Node>, Box<Node>),
    /// `x in list`.
    In(Box<Node>, Box<Node>),
    /// `list[i]`.
    Index(Box<Node>, Box<Node>),
    /// `size(x)`.
    Size(Box<Node>),
    /// A string function.
    Str(StrFn, Box<Node>, Box<Node>),
    /// A conversion.
    Conv(Conv, Box<Node>),
    /// A list literal.
    List(Vec<Node>),
    /// A member macro over a range with a body.
    Comp(Comp, Box<Node>, Box<Node>),
}

/// A compiled, type-checked expression.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub(crate) node: Node,
    /// Its result type.
    pub ty: Ty,
    /// Level variables, parameters and inputs it reads, in first-use order.
    pub refs: Vec<Ref>,
}

impl Compiled {
    /// The compiled tree.
    pub fn node(&self) -> &Node {
        &self.node
    }
}

/// The names an expression may use besides the level's variables.
pub struct Scope<'a> {
    /// The level.
    pub level: Level,
    /// Parameter names and types.
    pub params: &'a [(String, Ty)],
    /// Input names and types.
    pub inputs: &'a [(String, Ty)],
}

/// The most operator characters (`+ - * / % < > = ! & | [ . ?`) one expression may hold.
///
/// Each operator can add a level to the syntax tree, which the `cel` parser, the compiler and
/// the evaluator all walk recursively, and the parser limits only nesting in brackets: a chain
/// such as `1 + 1 + … + 1` of a few thousand terms overflowed the stack and aborted the whole
/// process (found with the `rule_file` fuzz target). The shipped rule sets use at most 39.
pub const MAX_OPERATORS: usize = 256;

/// The deepest syntax tree the compiler accepts. The compiler and the evaluator recurse once per
/// level, and an unoptimised build overflowed a 2 MiB thread stack (the default of spawned and
/// tokio threads) at about 150 levels. `&&` and `||` chains are balanced by the parser, so long
/// lists of conditions stay shallow; the shipped rule sets reach 10.
pub const MAX_DEPTH: usize = 64;

/// Refuses an expression with more than [`MAX_OPERATORS`] operator characters, pointing at the
/// first one past the limit.
fn check_size(source: &str) -> Result<(), ExprError> {
    let (mut line, mut column, mut operators) = (1, 1, 0);
    for c in source.chars() {
        if "+-*/%<>=!&|[.?".contains(c) {
            operators += 1;
            if operators > MAX_OPERATORS {
                return Err(ExprError {
                    line,
                    column,
                    message_zh: format!("表达式过于复杂：运算符超过 {MAX_OPERATORS} 个，请简化"),
                    message_en: format!(
                        "expression too complex: more than {MAX_OPERATORS} operators"
                    ),
                });
            }
        }
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Ok(())
}

/// Parses and compiles one expression.
pub fn compile(source: &str, scope: &Scope<'_>) -> Result<Compiled, ExprError> {
    check_size(source)?;
    let parser = cel::Env::default().parser();
    let (ast, info) = parser.parse_with_source_info(source).map_err(|errs| {
        let first = errs.errors.first();
        let (line, column) = first
            .map(|e| (e.pos.0.max(1) as usize, (e.pos.1 + 1).max(1) as usize))
            .unwrap_or((1, 1));
        let msg = first.map(|e| e.msg.clone()).unwrap_or_default();
        ExprError {
            line,
            column,
            message_zh: format!("语法错误：{msg}"),
            message_en: format!("syntax error: {msg}"),
        }
    })?;
    let mut c = Compiler {
        scope,
        info: &info,
        source,
        locals: Vec::new(),
        refs: Vec::new(),
        seen: BTreeSet::new(),
        depth: 0,
    };
    let (node, ty) = c.expr(&ast)?;
    Ok(Compiled {
        node,
        ty,
        refs: c.refs,
    })
}

struct Compiler<'s> {
    scope: &'s Scope<'s>,
    info: &'s SourceInfo,
    source: &'s str,
    locals: Vec<(String, Ty)>,
    refs: Vec<Ref>,
    seen: BTreeSet<Ref>,
    /// Levels of [`Compiler::expr`] currently entered.
    depth: usize,
}

type R = Result<(Node, Ty), ExprError>;

fn op_symbol(f: &str) -> &str {
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
    fn err(&self, e: &IdedExpr, zh: String, en: String) -> ExprError {
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
        ExprError {
            line,
            column,
            message_zh: zh,
            message_en: en,
        }
    }

    fn note(&mut self, r: Ref) {
        if self.seen.insert(r) {
            self.refs.push(r);
        }
    }

    fn expr(&mut self, e: &IdedExpr) -> R {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(
                e,
                format!("表达式嵌套过深（超过 {MAX_DEPTH} 层），请简化"),
                format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
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
            Expr::Select(sel) => {
                let (operand, ty) = self.expr(&sel.operand)?;
                if ty != Ty::Member {
                    return Err(self.err(
                        e,
                        format!("不能在 {} 类型的值上取字段 .{}", ty.name(), sel.field),
                        format!(
                            "cannot select .{} on a value of type {}",
                            sel.field,
                            ty.name()
                        ),
                    ));
                }
                let Some(slot) = find_var(MEMBER_VARS, &sel.field) else {
                    return Err(self.err(
                        e,
                        format!("成员没有字段 {}", sel.field),
                        format!("a member has no field '{}'", sel.field),
                    ));
                };
                if sel.test {
                    Ok((Node::Has(Box::new(operand), slot), Ty::Bool))
                } else {
                    Ok((Node::Field(Box::new(operand), slot), MEMBER_VARS[slot].ty))
                }
            }
            Expr::List(list) => {
                let mut nodes = Vec::with_capacity(list.elements.len());
                let mut elem: Option<Ty> = None;
                for x in &list.elements {
                    let (n, t) = self.expr(x)?;
                    match elem {
                        None => elem = Some(t),
                        Some(prev) if prev == t => {}
                        Some(prev) if prev.is_numeric() && t.is_numeric() => {
                            elem = Some(Ty::Double)
                        }
                        Some(prev) => {
                            return Err(self.err(
                                x,
                                format!("列表元素类型不一致：{} 与 {}", prev.name(), t.name()),
                                format!(
                                    "list elements of different types: {} and {}",
                                    prev.name(),
                                    t.name()
                                ),
                            ));
                        }
                    }
                    nodes.push(n);
                }
                let Some(elem) = elem.and_then(Ty::as_elem) else {
                    return Err(self.err(
                        e,
                        "不支持空列表或嵌套列表".into(),
                        "empty and nested lists are not supported".into(),
                    ));
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
            Expr::Call(call) => self.call(e, call),
            Expr::Map(_) | Expr::Struct(_) => Err(self.err(
                e,
                "不支持映射或结构体字面量".into(),
                "map and struct literals are not supported".into(),
            )),
            Expr::Comprehension(_) | Expr::Unspecified => {
                Err(self.err(e, "不支持的表达式".into(), "unsupported expression".into()))
            }
        }
    }

    fn literal(&mut self, e: &IdedExpr, l: &LiteralValue) -> R {
        Ok(match l {
            LiteralValue::Boolean(b) => (Node::Const(Val::Bool(*b.inner())), Ty::Bool),
            LiteralValue::Int(i) => (Node::Const(Val::Int(*i.inner())), Ty::Int),
            LiteralValue::UInt(u) => {
                let v = i64::try_from(*u.inner()).map_err(|_| {
                    self.err(e, "整数超出范围".into(), "integer out of range".into())
                })?;
                (Node::Const(Val::Int(v)), Ty::Int)
            }
            LiteralValue::Double(d) => (Node::Const(Val::Double(*d.inner())), Ty::Double),
            LiteralValue::String(s) => (
                Node::Const(Val::Str(Cow::Owned(s.inner().to_string()))),
                Ty::Str,
            ),
            LiteralValue::Null => {
                return Err(self.err(
                    e,
                    "不支持 null：缺失的数据就是“未知”，请用 has(m.字段) 判断是否填写".into(),
                    "null is not supported: missing data is unknown; use has(m.field)".into(),
                ));
            }
            LiteralValue::Bytes(_) => {
                return Err(self.err(e, "不支持 bytes".into(), "bytes are not supported".into()));
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
            return Err(self.err(
                e,
                format!("{name} 是成员字段，只能在 members.exists(m, m.{name} …) 等宏里使用"),
                format!(
                    "'{name}' is a member field: use it as m.{name} inside members.exists(m, …)"
                ),
            ));
        }
        Err(self.err(
            e,
            format!(
                "未知的变量 {name}（{}级变量、参数和输入项中都没有）",
                self.scope.level.label_zh()
            ),
            format!(
                "unknown variable '{name}' (not a {} variable, parameter or input)",
                self.scope.level.as_str()
            ),
        ))
    }

    fn type_err(&self, e: &IdedExpr, f: &str, tys: &[Ty]) -> ExprError {
        let names: Vec<&str> = tys.iter().map(|t| t.name()).collect();
        let sym = op_symbol(f);
        self.err(
            e,
            format!("类型错误：{sym} 不能用于 ({})", names.join(", ")),
            format!(
                "type error: '{sym}' cannot be applied to ({})",
                names.join(", ")
            ),
        )
    }

    fn call(&mut self, e: &IdedExpr, call: &cel::common::ast::CallExpr) -> R {
        let f = call.func_name.as_str();
        let args = &call.args;
        // Macros (not expanded: the parser runs without them).
        if matches!(f, "exists" | "all" | "exists_one" | "filter") {
            let Some(target) = &call.target else {
                return Err(self.err(
                    e,
                    format!("{f} 需要写成 list.{f}(x, 条件)"),
                    format!("{f} must be called as list.{f}(x, predicate)"),
                ));
            };
            let [var, body] = args.as_slice() else {
                return Err(self.err(
                    e,
                    format!("{f} 需要两个参数：变量名和条件"),
                    format!("{f} takes two arguments: a variable and a predicate"),
                ));
            };
            let Expr::Ident(var_name) = &var.expr else {
                return Err(self.err(
                    var,
                    format!("{f} 的第一个参数必须是变量名"),
                    format!("the first argument of {f} must be a name"),
                ));
            };
            let (range, rty) = self.expr(target)?;
            let Ty::List(elem) = rty else {
                return Err(self.err(
                    target,
                    format!("{f} 只能用于列表，这里是 {}", rty.name()),
                    format!("{f} needs a list, got {}", rty.name()),
                ));
            };
            self.locals.push((var_name.clone(), Ty::of_elem(elem)));
            let body_c = self.expr(body);
            self.locals.pop();
            let (body_n, bty) = body_c?;
            if bty != Ty::Bool {
                return Err(self.err(
                    body,
                    format!("{f} 的条件必须是 bool，这里是 {}", bty.name()),
                    format!("the predicate of {f} must be bool, got {}", bty.name()),
                ));
            }
            let kind = match f {
                "exists" => Comp::Exists,
                "all" => Comp::All,
                "exists_one" => Comp::ExistsOne,
                _ => Comp::Filter,
            };
            let ty = if kind == Comp::Filter { rty } else { Ty::Bool };
            return Ok((Node::Comp(kind, Box::new(range), Box::new(body_n)), ty));
        }
        if f == "has" {
            let [arg] = args.as_slice() else {
                return Err(self.err(
                    e,
                    "has 需要一个参数".into(),
                    "has takes one argument".into(),
                ));
            };
            let Expr::Select(sel) = &arg.expr else {
                return Err(self.err(
                    arg,
                    "has() 的参数必须是 m.字段".into(),
                    "the argument of has() must be m.field".into(),
                ));
            };
            let (operand, ty) = self.expr(&sel.operand)?;
            if ty != Ty::Member {
                return Err(self.err(
                    arg,
                    "has() 只能用于成员字段（m.字段）".into(),
                    "has() works on member fields (m.field) only".into(),
                ));
            }
            let Some(slot) = find_var(MEMBER_VARS, &sel.field) else {
                return Err(self.err(
                    arg,
                    format!("成员没有字段 {}", sel.field),
                    format!("a member has no field '{}'", sel.field),
                ));
            };
            return Ok((Node::Has(Box::new(operand), slot), Ty::Bool));
        }
        // Receiver-style functions: put the target first.
        let mut all: Vec<&IdedExpr> = Vec::with_capacity(args.len() + 1);
        if let Some(t) = &call.target {
            all.push(t);
        }
        all.extend(args.iter());
        let mut nodes = Vec::with_capacity(all.len());
        let mut tys = Vec::with_capacity(all.len());
        for a in &all {
            let (n, t) = self.expr(a)?;
            nodes.push(n);
            tys.push(t);
        }
        let mut it = nodes.into_iter();
        let mut next = || Box::new(it.next().unwrap_or(Node::Const(Val::Unknown)));
        let arity = |n: usize| tys.len() == n;
        match f {
            "_&&_" | "_||_" if arity(2) => {
                if tys.iter().any(|t| *t != Ty::Bool) {
                    return Err(self.type_err(e, f, &tys));
                }
                let (a, b) = (next(), next());
                Ok((
                    if f == "_&&_" {
                        Node::And(a, b)
                    } else {
                        Node::Or(a, b)
                    },
                    Ty::Bool,
                ))
            }
            "!_" if arity(1) => {
                if tys[0] != Ty::Bool {
                    return Err(self.type_err(e, f, &tys));
                }
                Ok((Node::Not(next()), Ty::Bool))
            }
            "-_" if arity(1) => {
                if !tys[0].is_numeric() {
                    return Err(self.type_err(e, f, &tys));
                }
                Ok((Node::Neg(next()), tys[0]))
            }
            "_?_:_" if arity(3) => {
                if tys[0] != Ty::Bool || tys[1] != tys[2] {
                    return Err(self.err(
                        e,
                        format!(
                            "类型错误：条件表达式需要 bool ? T : T，这里是 {} ? {} : {}",
                            tys[0].name(),
                            tys[1].name(),
                            tys[2].name()
                        ),
                        format!(
                            "type error: the conditional needs bool ? T : T, got {} ? {} : {}",
                            tys[0].name(),
                            tys[1].name(),
                            tys[2].name()
                        ),
                    ));
                }
                Ok((Node::Cond(next(), next(), next()), tys[1]))
            }
            "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" if arity(2) => {
                let ordered = !matches!(f, "_==_" | "_!=_");
                let ok = (tys[0].is_numeric() && tys[1].is_numeric())
                    || (tys[0] == tys[1]
                        && match tys[0] {
                            Ty::Str => true,
                            Ty::Bool => !ordered,
                            _ => false,
                        });
                if !ok {
                    return Err(self.type_err(e, f, &tys));
                }
                let op = match f {
                    "_==_" => Cmp::Eq,
                    "_!=_" => Cmp::Ne,
                    "_<_" => Cmp::Lt,
                    "_<=_" => Cmp::Le,
                    "_>_" => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                Ok((Node::Cmp(op, next(), next()), Ty::Bool))
            }
            "_+_" | "_-_" | "_*_" | "_/_" | "_%_" if arity(2) => {
                let ok = tys[0] == tys[1]
                    && match tys[0] {
                        Ty::Int => true,
                        Ty::Double => f != "_%_",
                        Ty::Str => f == "_+_",
                        _ => false,
                    };
                if !ok {
                    let mut err = self.type_err(e, f, &tys);
                    if tys[0].is_numeric() && tys[1].is_numeric() {
                        err.message_zh
                            .push_str("；int 与 double 不能直接运算，请写 double(x)");
                        err.message_en
                            .push_str("; int and double do not mix in arithmetic: write double(x)");
                    }
                    return Err(err);
                }
                let op = match f {
                    "_+_" => Arith::Add,
                    "_-_" => Arith::Sub,
                    "_*_" => Arith::Mul,
                    "_/_" => Arith::Div,
                    _ => Arith::Rem,
                };
                Ok((Node::Arith(op, next(), next()), tys[0]))
            }
            "@in" if arity(2) => {
                let ok = match tys[1] {
                    Ty::List(el) => {
                        let et = Ty::of_elem(el);
                        et == tys[0] || (et.is_numeric() && tys[0].is_numeric())
                    }
                    _ => false,
                };
                if !ok || tys[0] == Ty::Member {
                    return Err(self.type_err(e, f, &tys));
                }
                Ok((Node::In(next(), next()), Ty::Bool))
            }
            "_[_]" if arity(2) => match (tys[0], tys[1]) {
                (Ty::List(el), Ty::Int) => Ok((Node::Index(next(), next()), Ty::of_elem(el))),
                _ => Err(self.type_err(e, f, &tys)),
            },
            "size" if arity(1) => match tys[0] {
                Ty::Str | Ty::List(_) => Ok((Node::Size(next()), Ty::Int)),
                _ => Err(self.type_err(e, f, &tys)),
            },
            "contains" | "startsWith" | "endsWith" if arity(2) => {
                if tys[0] != Ty::Str || tys[1] != Ty::Str {
                    return Err(self.type_err(e, f, &tys));
                }
                let op = match f {
                    "contains" => StrFn::Contains,
                    "startsWith" => StrFn::StartsWith,
                    _ => StrFn::EndsWith,
                };
                Ok((Node::Str(op, next(), next()), Ty::Bool))
            }
            "int" | "double" | "string" if arity(1) => {
                let (conv, out) = match f {
                    "int" => (Conv::Int, Ty::Int),
                    "double" => (Conv::Double, Ty::Double),
                    _ => (Conv::Str, Ty::Str),
                };
                let ok = match conv {
                    Conv::Int | Conv::Double => tys[0].is_numeric() || tys[0] == Ty::Str,
                    Conv::Str => matches!(tys[0], Ty::Int | Ty::Double | Ty::Str | Ty::Bool),
                };
                if !ok {
                    return Err(self.type_err(e, f, &tys));
                }
                Ok((Node::Conv(conv, next()), out))
            }
            _ => {
                let names: Vec<&str> = tys.iter().map(|t| t.name()).collect();
                let sym = op_symbol(f);
                Err(self.err(
                    e,
                    format!("未知的函数或用法：{sym}({})", names.join(", ")),
                    format!("unknown function or overload: {sym}({})", names.join(", ")),
                ))
            }
        }
    }
}

/// Evaluation context: the facts, the parameter values for the year, the inputs.
pub(crate) struct Cx<'a> {
    pub facts: &'a Facts<'a>,
    pub params: &'a [Val<'a>],
    pub inputs: &'a [Val<'a>],
    pub locals: Vec<Val<'a>>,
}

fn num_cmp(op: Cmp, a: f64, b: f64) -> bool {
    match op {
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
    }
}

fn ord_cmp(op: Cmp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Cmp::Eq => o == Equal,
        Cmp::Ne => o != Equal,
        Cmp::Lt => o == Less,
        Cmp::Le => o != Greater,
        Cmp::Gt => o == Greater,
        Cmp::Ge => o != Less,
    }
}

fn equal(a: &Val<'_>, b: &Val<'_>) -> Option<bool> {
    Some(match (a, b) {
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (x, y) => x.as_f64()? == y.as_f64()?,
    })
}

fn compare(op: Cmp, a: &Val<'_>, b: &Val<'_>) -> Val<'static> {
    let r = match (a, b) {
        (Val::Unknown, _) | (_, Val::Unknown) => return Val::Unknown,
        (Val::Int(x), Val::Int(y)) => ord_cmp(op, x.cmp(y)),
        (Val::Str(x), Val::Str(y)) => ord_cmp(op, x.as_ref().cmp(y.as_ref())),
        (Val::Bool(x), Val::Bool(y)) => ord_cmp(op, x.cmp(y)),
        (x, y) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => num_cmp(op, x, y),
            _ => return Val::Unknown,
        },
    };
    Val::Bool(r)
}

fn arith<'a>(op: Arith, a: Val<'a>, b: Val<'a>) -> Val<'a> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => {
            let r = match op {
                Arith::Add => x.checked_add(y),
                Arith::Sub => x.checked_sub(y),
                Arith::Mul => x.checked_mul(y),
                Arith::Div => x.checked_div(y),
                Arith::Rem => x.checked_rem(y),
            };
            r.map(Val::Int).unwrap_or(Val::Unknown)
        }
        (Val::Double(x), Val::Double(y)) => {
            let r = match op {
                Arith::Add => x + y,
                Arith::Sub => x - y,
                Arith::Mul => x * y,
                Arith::Div if y == 0.0 => return Val::Unknown,
                Arith::Div => x / y,
                Arith::Rem => return Val::Unknown,
            };
            if r.is_finite() {
                Val::Double(r)
            } else {
                Val::Unknown
            }
        }
        (Val::Str(x), Val::Str(y)) if op == Arith::Add => Val::Str(Cow::Owned(format!("{x}{y}"))),
        _ => Val::Unknown,
    }
}

/// Iterates over the elements of a list value.
fn elements<'a>(v: &Val<'a>) -> Option<Vec<Val<'a>>> {
    Some(match v {
        Val::List(l) => l.clone(),
        Val::StrSlice(s) => s
            .iter()
            .map(|x| Val::Str(Cow::Borrowed(x.as_str())))
            .collect(),
        Val::Members(m) => m.iter().map(Val::Member).collect(),
        _ => return None,
    })
}

fn len(v: &Val<'_>) -> Option<usize> {
    Some(match v {
        Val::List(l) => l.len(),
        Val::StrSlice(s) => s.len(),
        Val::Members(m) => m.len(),
        Val::Str(s) => s.chars().count(),
        _ => return None,
    })
}

impl Node {
    pub(crate) fn eval<'a>(&'a self, cx: &mut Cx<'a>) -> Val<'a> {
        match self {
            Node::Const(v) => v.share(),
            Node::Var(slot) => cx.facts.slots[*slot].share(),
            Node::Members => Val::Members(&cx.facts.members),
            Node::Param(i) => cx.params.get(*i).map(Val::share).unwrap_or(Val::Unknown),
            Node::Input(i) => cx.inputs.get(*i).map(Val::share).unwrap_or(Val::Unknown),
            Node::Local(d) => cx.locals.get(*d).cloned().unwrap_or(Val::Unknown),
            Node::Field(m, slot) => match m.eval(cx) {
                Val::Member(mf) => mf.slots[*slot].share(),
                _ => Val::Unknown,
            },
            Node::Has(m, slot) => match m.eval(cx) {
                Val::Member(mf) => Val::Bool(match &mf.slots[*slot] {
                    Val::Unknown => false,
                    Val::StrSlice(s) => !s.is_empty(),
                    _ => true,
                }),
                _ => Val::Unknown,
            },
            Node::Not(a) => match a.eval(cx) {
                Val::Bool(b) => Val::Bool(!b),
                _ => Val::Unknown,
            },
            Node::Neg(a) => match a.eval(cx) {
                Val::Int(i) => i.checked_neg().map(Val::Int).unwrap_or(Val::Unknown),
                Val::Double(d) => Val::Double(-d),
                _ => Val::Unknown,
            },
            Node::And(a, b) => match a.eval(cx) {
                Val::Bool(false) => Val::Bool(false),
                Val::Bool(true) => match b.eval(cx) {
                    Val::Bool(x) => Val::Bool(x),
                    _ => Val::Unknown,
                },
                _ => match b.eval(cx) {
                    Val::Bool(false) => Val::Bool(false),
                    _ => Val::Unknown,
                },
            },
            Node::Or(a, b) => match a.eval(cx) {
                Val::Bool(true) => Val::Bool(true),
                Val::Bool(false) => match b.eval(cx) {
                    Val::Bool(x) => Val::Bool(x),
                    _ => Val::Unknown,
                },
                _ => match b.eval(cx) {
                    Val::Bool(true) => Val::Bool(true),
                    _ => Val::Unknown,
                },
            },
            Node::Cond(c, a, b) => match c.eval(cx) {
                Val::Bool(true) => a.eval(cx),
                Val::Bool(false) => b.eval(cx),
                _ => Val::Unknown,
            },
            Node::Cmp(op, a, b) => {
                let (x, y) = (a.eval(cx), b.eval(cx));
                match op {
                    Cmp::Eq | Cmp::Ne => match (&x, &y) {
                        (Val::Unknown, _) | (_, Val::Unknown) => Val::Unknown,
                        _ => match equal(&x, &y) {
                            Some(eq) => Val::Bool(if *op == Cmp::Eq { eq } else { !eq }),
                            None => Val::Unknown,
                        },
                    },
                    _ => compare(*op, &x, &y),
                }
            }
            Node::Arith(op, a, b) => {
                let (x, y) = (a.eval(cx), b.eval(cx));
                arith(*op, x, y)
            }
            Node::In(a, l) => {
                let x = a.eval(cx);
                if x.is_unknown() {
                    return Val::Unknown;
                }
                let list = l.eval(cx);
                let found = match &list {
                    Val::List(items) => {
                        let mut unknown = false;
                        let mut hit = false;
                        for it in items {
                            match equal(&x, it) {
                                Some(true) => {
                                    hit = true;
                                    break;
                                }
                                Some(false) => {}
                                None => unknown = true,
                            }
                        }
                        if hit {
                            Some(true)
                        } else if unknown {
                            None
                        } else {
                            Some(false)
                        }
                    }
                    Val::StrSlice(items) => match &x {
                        Val::Str(s) => Some(items.iter().any(|i| i == s.as_ref())),
                        _ => None,
                    },
                    _ => None,
                };
                found.map(Val::Bool).unwrap_or(Val::Unknown)
            }
            Node::Index(l, i) => {
                let list = l.eval(cx);
                let Val::Int(i) = i.eval(cx) else {
                    return Val::Unknown;
                };
                let Ok(i) = usize::try_from(i) else {
                    return Val::Unknown;
                };
                match list {
                    Val::List(mut items) if i < items.len() => items.swap_remove(i),
                    Val::StrSlice(s) => s
                        .get(i)
                        .map(|x| Val::Str(Cow::Borrowed(x.as_str())))
                        .unwrap_or(Val::Unknown),
                    Val::Members(m) => m.get(i).map(Val::Member).unwrap_or(Val::Unknown),
                    _ => Val::Unknown,
                }
            }
            Node::Size(a) => len(&a.eval(cx))
                .map(|n| Val::Int(n as i64))
                .unwrap_or(Val::Unknown),
            Node::Str(op, a, b) => match (a.eval(cx), b.eval(cx)) {
                (Val::Str(x), Val::Str(y)) => Val::Bool(match op {
                    StrFn::Contains => x.contains(y.as_ref()),
                    StrFn::StartsWith => x.starts_with(y.as_ref()),
                    StrFn::EndsWith => x.ends_with(y.as_ref()),
                }),
                _ => Val::Unknown,
            },
            Node::Conv(conv, a) => {
                let x = a.eval(cx);
                match (conv, x) {
                    (_, Val::Unknown) => Val::Unknown,
                    (Conv::Int, Val::Int(i)) => Val::Int(i),
                    (Conv::Int, Val::Double(d)) => {
                        if d.is_finite() && d.abs() < 9.2e18 {
                            Val::Int(d.trunc() as i64)
                        } else {
                            Val::Unknown
                        }
                    }
                    (Conv::Int, Val::Str(s)) => {
                        s.trim().parse().map(Val::Int).unwrap_or(Val::Unknown)
                    }
                    (Conv::Double, Val::Int(i)) => Val::Double(i as f64),
                    (Conv::Double, Val::Double(d)) => Val::Double(d),
                    (Conv::Double, Val::Str(s)) => {
                        s.trim().parse().map(Val::Double).unwrap_or(Val::Unknown)
                    }
                    (Conv::Str, Val::Str(s)) => Val::Str(s),
                    (Conv::Str, Val::Int(i)) => Val::Str(Cow::Owned(i.to_string())),
                    (Conv::Str, Val::Double(d)) => Val::Str(Cow::Owned(d.to_string())),
                    (Conv::Str, Val::Bool(b)) => Val::Str(Cow::Owned(b.to_string())),
                    _ => Val::Unknown,
                }
            }
            Node::List(items) => Val::List(items.iter().map(|n| n.eval(cx)).collect()),
            Node::Comp(kind, range, body) => {
                let r = range.eval(cx);
                // Fast path: iterate the members slice without building a list.
                let items: Vec<Val<'a>> = match &r {
                    Val::Members(m) => m.iter().map(Val::Member).collect(),
                    other => match elements(other) {
                        Some(v) => v,
                        None => return Val::Unknown,
                    },
                };
                comprehension(*kind, items, body, cx)
            }
        }
    }
}

fn comprehension<'a>(kind: Comp, items: Vec<Val<'a>>, body: &'a Node, cx: &mut Cx<'a>) -> Val<'a> {
    let mut unknown = false;
    let mut count = 0usize;
    let mut kept: Vec<Val<'a>> = Vec::new();
    for item in items {
        cx.locals.push(item);
        let r = body.eval(cx);
        let item = cx.locals.pop().unwrap_or(Val::Unknown);
        match (kind, r) {
            (Comp::Exists, Val::Bool(true)) => return Val::Bool(true),
            (Comp::All, Val::Bool(false)) => return Val::Bool(false),
            (Comp::ExistsOne, Val::Bool(true)) => count += 1,
            (Comp::Filter, Val::Bool(true)) => kept.push(item),
            (_, Val::Bool(_)) => {}
            (Comp::Filter, _) => return Val::Unknown,
            _ => unknown = true,
        }
    }
    match kind {
        _ if unknown => Val::Unknown,
        Comp::Exists => Val::Bool(false),
        Comp::All => Val::Bool(true),
        Comp::ExistsOne => Val::Bool(count == 1),
        Comp::Filter => Val::List(kept),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Facts, HOUSEHOLD_VARS};
    use chrono::NaiveDate;
    use xiuhua_domain::{HouseholdState, Member};

    type Names = Vec<(String, Ty)>;

    fn scope() -> (Names, Names) {
        (
            vec![("line".to_string(), Ty::Int)],
            vec![("owns_car".to_string(), Ty::Bool)],
        )
    }

    fn run(src: &str, st: &HouseholdState) -> Val<'static> {
        let (params, inputs) = scope();
        let s = Scope {
            level: Level::Household,
            params: &params,
            inputs: &inputs,
        };
        let c = compile(src, &s).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        let facts = Facts::household(st, NaiveDate::from_ymd_opt(2020, 12, 31).unwrap());
        let pv = [Val::Int(4000)];
        let iv = [Val::Unknown];
        let mut cx = Cx {
            facts: &facts,
            params: &pv,
            inputs: &iv,
            locals: Vec::new(),
        };
        c.node.eval(&mut cx).to_static()
    }

    fn err(src: &str) -> ExprError {
        let (params, inputs) = scope();
        let s = Scope {
            level: Level::Household,
            params: &params,
            inputs: &inputs,
        };
        compile(src, &s).expect_err(src)
    }

    fn household() -> HouseholdState {
        let mut st = HouseholdState::default();
        st.fields.village_code = "451228101001".into();
        st.fields.income.year = Some(2020);
        st.fields.income.wage = xiuhua_domain::Fen(1_200_000);
        st.fields.housing_safety = Some("C".into());
        for (rel, year, school) in [("01", 1970, "01"), ("02", 1972, "01"), ("03", 2010, "01")] {
            st.members.push(Member {
                relation: rel.into(),
                birth_date: NaiveDate::from_ymd_opt(year, 1, 1),
                schooling: Some(school.into()),
                health: vec!["01".into()],
                ..Member::default()
            });
        }
        st
    }

    #[test]
    fn evaluates_household_expressions() {
        let h = household();
        assert_eq!(run("income_per_capita > line", &h), Val::Bool(false));
        assert_eq!(run("income_per_capita", &h), Val::Double(4000.0));
        assert_eq!(run("housing_safety in ['C', 'D']", &h), Val::Bool(true));
        assert_eq!(
            run("size(members.filter(m, m.is_head)) == 1", &h),
            Val::Bool(true)
        );
        assert_eq!(
            run(
                "members.exists(m, m.age >= 6 && m.age <= 15 && m.schooling == '01')",
                &h
            ),
            Val::Bool(true)
        );
        assert_eq!(run("members.all(m, '01' in m.health)", &h), Val::Bool(true));
        assert_eq!(
            run("members.exists_one(m, m.relation == '02')", &h),
            Val::Bool(true)
        );
        assert_eq!(run("people * 2 + 1", &h), Val::Int(7));
        assert_eq!(run("double(people) / 2.0", &h), Val::Double(1.5));
        assert_eq!(
            run("people > 2 ? 'big' : 'small'", &h),
            Val::Str("big".into())
        );
        assert_eq!(run("members[0].relation", &h), Val::Str("01".into()));
        assert_eq!(run("has(members[0].education)", &h), Val::Bool(false));
        assert_eq!(run("household_no.startsWith('45')", &h), Val::Unknown);
        assert_eq!(run("size('户主')", &h), Val::Int(2));
    }

    #[test]
    fn missing_data_is_unknown_not_false() {
        let h = household();
        assert_eq!(run("exit_year >= identified_year", &h), Val::Unknown);
        assert_eq!(run("owns_car", &h), Val::Unknown);
        assert_eq!(run("!owns_car", &h), Val::Unknown);
        assert_eq!(run("owns_car && false", &h), Val::Bool(false));
        assert_eq!(run("owns_car || true", &h), Val::Bool(true));
        assert_eq!(run("owns_car || false", &h), Val::Unknown);
        assert_eq!(run("members.all(m, m.education == '02')", &h), Val::Unknown);
        assert_eq!(
            run(
                "members.exists(m, m.relation == '01' || m.education == '02')",
                &h
            ),
            Val::Bool(true)
        );
        assert_eq!(run("people / 0", &h), Val::Unknown);
        assert_eq!(run("1.0 / 0.0 > 1.0", &h), Val::Unknown);
        assert_eq!(run("9223372036854775807 + 1 > 0", &h), Val::Unknown);
        let empty = HouseholdState::default();
        assert_eq!(run("income_per_capita > line", &empty), Val::Unknown);
        assert_eq!(run("members.all(m, m.age > 200)", &empty), Val::Bool(true));
    }

    #[test]
    fn refuses_bad_expressions_at_compile_time() {
        let e = err("income_per_capita > ");
        assert!(e.message_zh.starts_with("语法错误"), "{e:?}");
        let e = err("incme_per_capita > line");
        assert!(
            e.message_zh.contains("未知的变量 incme_per_capita"),
            "{e:?}"
        );
        assert_eq!((e.line, e.column), (1, 1));
        let e = err("people > 1 && housing_safety > 3");
        assert!(e.message_zh.contains("类型错误"), "{e:?}");
        assert_eq!(e.column, 30, "the operator: {e:?}");
        let e = err("people + 0.5 > 1.0");
        assert!(e.message_zh.contains("double(x)"), "{e:?}");
        let e = err("members.exists(m, m.agee > 3)");
        assert!(e.message_zh.contains("成员没有字段 agee"), "{e:?}");
        let e = err("age > 3");
        assert!(e.message_zh.contains("成员字段"), "{e:?}");
        let e = err("members.exists(m, m.age)");
        assert!(e.message_zh.contains("bool"), "{e:?}");
        let e = err("foo(people)");
        assert!(e.message_zh.contains("未知的函数"), "{e:?}");
        let e = err("exit_year == null");
        assert!(e.message_zh.contains("null"), "{e:?}");
    }

    #[test]
    fn long_operator_chains_are_refused_not_a_stack_overflow() {
        // Found with the `rule_file` fuzz target: a chain of 3,000 `+` overflowed the
        // compiler's stack (10,000 the `cel` parser's) and aborted the process instead of
        // refusing the file.
        let chain = |terms: usize| vec!["people"; terms].join(" + ") + " > 0";
        let e = err(&chain(10_000));
        // At the first operator past the limit: the 257th `+`, each term being 9 characters.
        assert_eq!((e.line, e.column), (1, 9 * (MAX_OPERATORS + 1) - 1));
        assert!(e.message_en.contains("too complex"), "{e:?}");
        let e = err(&(vec!["people"; 300].join("\n + ") + " > 0"));
        // Lines are counted too: the 257th `+` starts line 258.
        assert_eq!((e.line, e.column), (MAX_OPERATORS + 2, 2));
        // A chain of n terms is n + 1 levels deep (`>`, n - 1 `+`, a name).
        let e = err(&chain(MAX_DEPTH));
        assert!(e.message_en.contains("nested too deeply"), "{e:?}");
        // The deepest expression allowed compiles and evaluates within a test thread's stack
        // (2 MiB), unoptimised.
        assert_eq!(run(&chain(MAX_DEPTH - 1), &household()), Val::Bool(true));
        // Long lists of conditions are balanced by the parser: not deep.
        let any = vec!["people > 0"; 80].join(" || ");
        assert_eq!(run(&any, &household()), Val::Bool(true));
    }

    #[test]
    fn records_what_an_expression_reads() {
        let (params, inputs) = scope();
        let s = Scope {
            level: Level::Household,
            params: &params,
            inputs: &inputs,
        };
        let c = compile("income_per_capita > line && !owns_car && people > 0", &s).unwrap();
        let ipc = find_var(HOUSEHOLD_VARS, "income_per_capita").unwrap();
        let people = find_var(HOUSEHOLD_VARS, "people").unwrap();
        assert_eq!(
            c.refs,
            vec![
                Ref::Var(ipc),
                Ref::Param(0),
                Ref::Input(0),
                Ref::Var(people)
            ]
        );
    }
}
