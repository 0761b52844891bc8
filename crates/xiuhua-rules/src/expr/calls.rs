//! Calls: the comprehension macros (`exists`, `all`, `exists_one`, `filter`), `has`, and the
//! functions and operators, each checked against its argument types.

use cel::IdedExpr;
use cel::common::ast::{CallExpr, Expr};
use xiuhua_domain::message::msg;

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
            return Err(self.err(e, msg("rule_f_must_called_as_list").arg("f", f)));
        };
        let [var, body] = args.as_slice() else {
            return Err(self.err(e, msg("rule_f_takes_two_arguments_variable").arg("f", f)));
        };
        let Expr::Ident(var_name) = &var.expr else {
            return Err(self.err(var, msg("rule_first_argument_f_must_name").arg("f", f)));
        };
        let (range, rty) = self.expr(target)?;
        let Ty::List(elem) = rty else {
            return Err(self.err(
                target,
                msg("rule_f_needs_list_got_name")
                    .arg("f", f)
                    .arg("name", rty.name()),
            ));
        };
        self.locals.push((var_name.clone(), Ty::of_elem(elem)));
        let body_c = self.expr(body);
        self.locals.pop();
        let (body_n, bty) = body_c?;
        if bty != Ty::Bool {
            return Err(self.err(
                body,
                msg("rule_predicate_f_must_bool_got")
                    .arg("f", f)
                    .arg("name", bty.name()),
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
            return Err(self.err(e, msg("rule_has_takes_one_argument")));
        };
        let Expr::Select(sel) = &arg.expr else {
            return Err(self.err(arg, msg("rule_argument_has_must_m_field")));
        };
        let (operand, ty) = self.expr(&sel.operand)?;
        if ty != Ty::Member {
            return Err(self.err(arg, msg("rule_has_works_on_member_fields")));
        }
        let Some(slot) = find_var(MEMBER_VARS, &sel.field) else {
            return Err(self.err(
                arg,
                msg("rule_member_has_no_field_field").arg("field", &sel.field),
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
                msg("rule_type_error_conditional_needs_bool")
                    .arg("name", tys[0].name())
                    .arg("name2", tys[1].name())
                    .arg("name3", tys[2].name()),
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
            msg("rule_unknown_function_overload_sym_names")
                .arg("sym", sym)
                .arg("names", names.join(", ")),
        )
    }
}
