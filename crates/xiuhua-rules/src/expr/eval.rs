//! Evaluation of compiled nodes over a unit's facts, three-valued: missing data, division by
//! zero and overflow give `Val::Unknown`, never an error.

use std::borrow::Cow;

use super::node::{Arith, Cmp, Comp, Conv, Node, StrFn};
use crate::schema::Facts;
use crate::value::Val;

/// Evaluation context: the facts, the parameter values for the year, the inputs.
pub(crate) struct Cx<'a> {
    /// The unit's facts.
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
    /// Evaluates the node; never fails, unknowns propagate.
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
                Val::Member(mf) => Val::Bool(is_filled(&mf.slots[*slot])),
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
            Node::And(a, b) => and(a, b, cx),
            Node::Or(a, b) => or(a, b, cx),
            Node::Cond(c, a, b) => match c.eval(cx) {
                Val::Bool(true) => a.eval(cx),
                Val::Bool(false) => b.eval(cx),
                _ => Val::Unknown,
            },
            Node::Cmp(op, a, b) => {
                let (x, y) = (a.eval(cx), b.eval(cx));
                cmp(*op, &x, &y)
            }
            Node::Arith(op, a, b) => {
                let (x, y) = (a.eval(cx), b.eval(cx));
                arith(*op, x, y)
            }
            Node::In(a, l) => contains(a, l, cx),
            Node::Index(l, i) => index(l, i, cx),
            Node::Size(a) => len(&a.eval(cx))
                .map(|n| Val::Int(n as i64))
                .unwrap_or(Val::Unknown),
            Node::Str(op, a, b) => {
                let (x, y) = (a.eval(cx), b.eval(cx));
                string_fn(*op, x, y)
            }
            Node::Conv(conv, a) => {
                let x = a.eval(cx);
                convert(*conv, x)
            }
            Node::List(items) => Val::List(items.iter().map(|n| n.eval(cx)).collect()),
            Node::Comp(kind, range, body) => comprehend(*kind, range, body, cx),
        }
    }
}

/// Whether a member field holds a value (`has(m.field)`): an empty code list does not.
fn is_filled(v: &Val<'_>) -> bool {
    match v {
        Val::Unknown => false,
        Val::StrSlice(s) => !s.is_empty(),
        _ => true,
    }
}

/// `contains`, `startsWith`, `endsWith` on two evaluated strings.
fn string_fn(op: StrFn, x: Val<'_>, y: Val<'_>) -> Val<'static> {
    match (x, y) {
        (Val::Str(x), Val::Str(y)) => Val::Bool(match op {
            StrFn::Contains => x.contains(y.as_ref()),
            StrFn::StartsWith => x.starts_with(y.as_ref()),
            StrFn::EndsWith => x.ends_with(y.as_ref()),
        }),
        _ => Val::Unknown,
    }
}

/// `a && b`, three-valued: false wins over unknown.
fn and<'a>(a: &'a Node, b: &'a Node, cx: &mut Cx<'a>) -> Val<'a> {
    match a.eval(cx) {
        Val::Bool(false) => Val::Bool(false),
        Val::Bool(true) => match b.eval(cx) {
            Val::Bool(x) => Val::Bool(x),
            _ => Val::Unknown,
        },
        _ => match b.eval(cx) {
            Val::Bool(false) => Val::Bool(false),
            _ => Val::Unknown,
        },
    }
}

/// `a || b`, three-valued: true wins over unknown.
fn or<'a>(a: &'a Node, b: &'a Node, cx: &mut Cx<'a>) -> Val<'a> {
    match a.eval(cx) {
        Val::Bool(true) => Val::Bool(true),
        Val::Bool(false) => match b.eval(cx) {
            Val::Bool(x) => Val::Bool(x),
            _ => Val::Unknown,
        },
        _ => match b.eval(cx) {
            Val::Bool(true) => Val::Bool(true),
            _ => Val::Unknown,
        },
    }
}

/// A comparison of two evaluated operands; unknown if either is.
fn cmp(op: Cmp, x: &Val<'_>, y: &Val<'_>) -> Val<'static> {
    match op {
        Cmp::Eq | Cmp::Ne => match (x, y) {
            (Val::Unknown, _) | (_, Val::Unknown) => Val::Unknown,
            _ => match equal(x, y) {
                Some(eq) => Val::Bool(if op == Cmp::Eq { eq } else { !eq }),
                None => Val::Unknown,
            },
        },
        _ => compare(op, x, y),
    }
}

/// `a in l`: true on a match, unknown if no match but some element could not be compared.
fn contains<'a>(a: &'a Node, l: &'a Node, cx: &mut Cx<'a>) -> Val<'a> {
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

/// `l[i]`: unknown out of range.
fn index<'a>(l: &'a Node, i: &'a Node, cx: &mut Cx<'a>) -> Val<'a> {
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

/// `int(x)`, `double(x)`, `string(x)`: unknown when the value does not convert.
fn convert(conv: Conv, x: Val<'_>) -> Val<'_> {
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
        (Conv::Int, Val::Str(s)) => s.trim().parse().map(Val::Int).unwrap_or(Val::Unknown),
        (Conv::Double, Val::Int(i)) => Val::Double(i as f64),
        (Conv::Double, Val::Double(d)) => Val::Double(d),
        (Conv::Double, Val::Str(s)) => s.trim().parse().map(Val::Double).unwrap_or(Val::Unknown),
        (Conv::Str, Val::Str(s)) => Val::Str(s),
        (Conv::Str, Val::Int(i)) => Val::Str(Cow::Owned(i.to_string())),
        (Conv::Str, Val::Double(d)) => Val::Str(Cow::Owned(d.to_string())),
        (Conv::Str, Val::Bool(b)) => Val::Str(Cow::Owned(b.to_string())),
        _ => Val::Unknown,
    }
}

/// A comprehension: evaluates the range, then the body for each of its elements.
fn comprehend<'a>(kind: Comp, range: &'a Node, body: &'a Node, cx: &mut Cx<'a>) -> Val<'a> {
    let r = range.eval(cx);
    // Fast path: iterate the members slice without building a list.
    let items: Vec<Val<'a>> = match &r {
        Val::Members(m) => m.iter().map(Val::Member).collect(),
        other => match elements(other) {
            Some(v) => v,
            None => return Val::Unknown,
        },
    };
    comprehension(kind, items, body, cx)
}

/// `exists`, `all`, `exists_one`, `filter` over evaluated elements, the element bound as the
/// innermost local while the body runs.
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
