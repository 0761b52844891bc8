//! Calls: the comprehension macros (`exists`, `all`, `exists_one`, `filter`), `has`, and the
//! functions and operators, each checked against its argument types.

use cel::IdedExpr;
use cel::common::ast::{CallExpr, Expr};

use super::ExprError;
use super::compiler::{Compiler, R, op_symbol};
use super::node::{Arith, Cmp, Comp, Conv, Node, StrFn};
use crate::schema::{MEMBER_VARS, Ty, find_var};
use crate::value::Val;

/// The compiled arguments of a call (the receiver first), taken in order once their types are
/// checked.
struct Args(std::vec::IntoIter<Node>);

impl Args {
    /// The next argument.
    fn arg(&mut self) -> Box<Node> {
        Box::new(self.0.next().unwrap_or(Node::Const(Val::Unknown)))
    }
}

impl Compiler<'_> {
    /// A call: a macro, `has`, or a function or operator.
    pub(super) fn call(&mut self, e: &IdedExpr, call: &CallExpr) -> R {
        let f = call.func_name.as_str();
        // Macros (not expanded: the parser runs without them).
        if matches!(f, "exists" | "all" | "exists_one" | "filter") {
            return self.comprehension(e, f, call);
        }
        if f == "has" {
            return self.has(e, &call.args);
        }
        // Receiver-style functions: put the target first.
        let args = &call.args;
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
        self.function(e, f, Args(nodes.into_iter()), &tys)
    }

    /// `list.exists(x, p)`, `all`, `exists_one`, `filter`: `x` is a local of the list's element
    /// type while `p` compiles.
    fn comprehension(&mut self, e: &IdedExpr, f: &str, call: &CallExpr) -> R {
        let args = &call.args;
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
        Ok((Node::Comp(kind, Box::new(range), Box::new(body_n)), ty))
    }

    /// `has(m.field)`: whether a member's field is filled in.
    fn has(&mut self, e: &IdedExpr, args: &[IdedExpr]) -> R {
        let [arg] = args else {
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
        Ok((Node::Has(Box::new(operand), slot), Ty::Bool))
    }

    /// A function or operator `f` applied to compiled arguments of types `tys`.
    fn function(&self, e: &IdedExpr, f: &str, mut args: Args, tys: &[Ty]) -> R {
        let arity = |n: usize| tys.len() == n;
        match f {
            "_&&_" | "_||_" if arity(2) => {
                if tys.iter().any(|t| *t != Ty::Bool) {
                    return Err(self.type_err(e, f, tys));
                }
                let (a, b) = (args.arg(), args.arg());
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
                    return Err(self.type_err(e, f, tys));
                }
                Ok((Node::Not(args.arg()), Ty::Bool))
            }
            "-_" if arity(1) => {
                if !tys[0].is_numeric() {
                    return Err(self.type_err(e, f, tys));
                }
                Ok((Node::Neg(args.arg()), tys[0]))
            }
            "_?_:_" if arity(3) => self.conditional(e, args, tys),
            "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" if arity(2) => {
                self.comparison(e, f, args, tys)
            }
            "_+_" | "_-_" | "_*_" | "_/_" | "_%_" if arity(2) => self.arithmetic(e, f, args, tys),
            "@in" if arity(2) => self.membership(e, f, args, tys),
            "_[_]" if arity(2) => match (tys[0], tys[1]) {
                (Ty::List(el), Ty::Int) => {
                    Ok((Node::Index(args.arg(), args.arg()), Ty::of_elem(el)))
                }
                _ => Err(self.type_err(e, f, tys)),
            },
            "size" if arity(1) => match tys[0] {
                Ty::Str | Ty::List(_) => Ok((Node::Size(args.arg()), Ty::Int)),
                _ => Err(self.type_err(e, f, tys)),
            },
            "contains" | "startsWith" | "endsWith" if arity(2) => {
                if tys[0] != Ty::Str || tys[1] != Ty::Str {
                    return Err(self.type_err(e, f, tys));
                }
                let op = match f {
                    "contains" => StrFn::Contains,
                    "startsWith" => StrFn::StartsWith,
                    _ => StrFn::EndsWith,
                };
                Ok((Node::Str(op, args.arg(), args.arg()), Ty::Bool))
            }
            "int" | "double" | "string" if arity(1) => self.conversion(e, f, args, tys),
            _ => Err(self.unknown_function(e, f, tys)),
        }
    }

    /// `c ? a : b`: a bool condition and two branches of one type.
    fn conditional(&self, e: &IdedExpr, mut args: Args, tys: &[Ty]) -> R {
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
        Ok((Node::Cond(args.arg(), args.arg(), args.arg()), tys[1]))
    }

    /// `== != < <= > >=`: numbers with numbers, strings with strings, bools only for equality.
    fn comparison(&self, e: &IdedExpr, f: &str, mut args: Args, tys: &[Ty]) -> R {
        let ordered = !matches!(f, "_==_" | "_!=_");
        let ok = (tys[0].is_numeric() && tys[1].is_numeric())
            || (tys[0] == tys[1]
                && match tys[0] {
                    Ty::Str => true,
                    Ty::Bool => !ordered,
                    _ => false,
                });
        if !ok {
            return Err(self.type_err(e, f, tys));
        }
        let op = match f {
            "_==_" => Cmp::Eq,
            "_!=_" => Cmp::Ne,
            "_<_" => Cmp::Lt,
            "_<=_" => Cmp::Le,
            "_>_" => Cmp::Gt,
            _ => Cmp::Ge,
        };
        Ok((Node::Cmp(op, args.arg(), args.arg()), Ty::Bool))
    }

    /// `+ - * / %`: both sides of one type (int, double without `%`, strings joined by `+`).
    fn arithmetic(&self, e: &IdedExpr, f: &str, mut args: Args, tys: &[Ty]) -> R {
        let ok = tys[0] == tys[1]
            && match tys[0] {
                Ty::Int => true,
                Ty::Double => f != "_%_",
                Ty::Str => f == "_+_",
                _ => false,
            };
        if !ok {
            let mut err = self.type_err(e, f, tys);
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
        Ok((Node::Arith(op, args.arg(), args.arg()), tys[0]))
    }

    /// `x in list`: `x` of the list's element type (numbers mix), never a member.
    fn membership(&self, e: &IdedExpr, f: &str, mut args: Args, tys: &[Ty]) -> R {
        let ok = match tys[1] {
            Ty::List(el) => {
                let et = Ty::of_elem(el);
                et == tys[0] || (et.is_numeric() && tys[0].is_numeric())
            }
            _ => false,
        };
        if !ok || tys[0] == Ty::Member {
            return Err(self.type_err(e, f, tys));
        }
        Ok((Node::In(args.arg(), args.arg()), Ty::Bool))
    }

    /// `int(x)`, `double(x)`, `string(x)`.
    fn conversion(&self, e: &IdedExpr, f: &str, mut args: Args, tys: &[Ty]) -> R {
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
            return Err(self.type_err(e, f, tys));
        }
        Ok((Node::Conv(conv, args.arg()), out))
    }

    /// A name or an argument count no function has.
    fn unknown_function(&self, e: &IdedExpr, f: &str, tys: &[Ty]) -> ExprError {
        let names: Vec<&str> = tys.iter().map(|t| t.name()).collect();
        let sym = op_symbol(f);
        self.err(
            e,
            format!("未知的函数或用法：{sym}({})", names.join(", ")),
            format!("unknown function or overload: {sym}({})", names.join(", ")),
        )
    }
}
