//! Translation of compiled items into SQL (DuckDB dialect), for the benchmark that evaluates the
//! same predicates in DuckDB and for cross-checking results at scale.
//!
//! Tables: `households` (column `hid` plus one column per household variable, lists as
//! `VARCHAR[]`) and `members` (column `hid` plus one column per member field). SQL's three-valued
//! logic matches the evaluator's: NULL is unknown. Member macros become correlated subqueries with
//! the same unknown rules as [`xiuhua_rules::expr`].
//!
//! It walks the tree `xiuhua-rules` compiles ([`xiuhua_rules::expr::Node`]), so the SQL is
//! generated from the same compiled expressions the evaluator runs, never written by hand.

use xiuhua_rules::expr::{Arith, Cmp, Comp, Conv, Node, StrFn};
use xiuhua_rules::schema::{Elem, HOUSEHOLD_VARS, Level, MEMBER_VARS, Ty};
use xiuhua_rules::{ParamValues, RuleSet, Val};

fn lit(v: &Val<'_>) -> Option<String> {
    Some(match v {
        Val::Unknown => "NULL".into(),
        Val::Bool(b) => b.to_string().to_uppercase(),
        Val::Int(i) => format!("CAST({i} AS BIGINT)"),
        Val::Double(d) => format!("CAST({d:?} AS DOUBLE)"),
        Val::Str(s) => format!("'{}'", s.replace('\'', "''")),
        Val::List(items) => {
            let parts: Option<Vec<String>> = items.iter().map(lit).collect();
            format!("[{}]", parts?.join(", "))
        }
        _ => return None,
    })
}

struct Tr<'a> {
    params: &'a ParamValues,
    /// Aliases of the enclosing member comprehensions, innermost last.
    locals: Vec<String>,
    next_alias: usize,
}

impl Tr<'_> {
    fn is_list(n: &Node) -> bool {
        matches!(n, Node::Const(Val::List(_)) | Node::List(_))
    }

    /// The static type of a node, where its shape tells.
    fn ty(&self, n: &Node) -> Option<Ty> {
        Some(match n {
            Node::Const(v) => match v {
                Val::Bool(_) => Ty::Bool,
                Val::Int(_) => Ty::Int,
                Val::Double(_) => Ty::Double,
                Val::Str(_) => Ty::Str,
                Val::List(_) => Ty::List(Elem::Str),
                _ => return None,
            },
            Node::Param(i) => match self.params.0.get(*i)? {
                Val::Int(_) => Ty::Int,
                Val::Double(_) => Ty::Double,
                Val::Str(_) => Ty::Str,
                Val::Bool(_) => Ty::Bool,
                _ => return None,
            },
            Node::Var(slot) => HOUSEHOLD_VARS[*slot].ty,
            Node::Field(_, slot) => MEMBER_VARS[*slot].ty,
            Node::List(_) => Ty::List(Elem::Str),
            Node::Members | Node::Comp(Comp::Filter, ..) => Ty::List(Elem::Member),
            Node::Size(_) | Node::Conv(Conv::Int, _) => Ty::Int,
            Node::Conv(Conv::Double, _) => Ty::Double,
            Node::Conv(Conv::Str, _) => Ty::Str,
            Node::Arith(_, a, _) | Node::Neg(a) | Node::Cond(_, a, _) => self.ty(a)?,
            _ => return None,
        })
    }

    fn node(&mut self, n: &Node) -> Option<String> {
        Some(match n {
            Node::Const(v) => lit(v)?,
            Node::Var(slot) => format!("h.{}", HOUSEHOLD_VARS[*slot].name),
            Node::Param(i) => lit(self.params.0.get(*i)?)?,
            Node::Input(_) => "NULL".into(),
            Node::Members => return None,
            Node::Local(d) => self.locals.get(*d)?.clone(),
            Node::Field(m, slot) => {
                let Node::Local(d) = m.as_ref() else {
                    return None;
                };
                format!("{}.{}", self.locals.get(*d)?, MEMBER_VARS[*slot].name)
            }
            Node::Has(m, slot) => {
                let Node::Local(d) = m.as_ref() else {
                    return None;
                };
                let col = format!("{}.{}", self.locals.get(*d)?, MEMBER_VARS[*slot].name);
                if matches!(MEMBER_VARS[*slot].ty, Ty::List(_)) {
                    format!("coalesce(len({col}) > 0, FALSE)")
                } else {
                    format!("({col} IS NOT NULL)")
                }
            }
            Node::Not(a) => format!("(NOT {})", self.node(a)?),
            Node::Neg(a) => format!("(- {})", self.node(a)?),
            Node::And(a, b) => format!("({} AND {})", self.node(a)?, self.node(b)?),
            Node::Or(a, b) => format!("({} OR {})", self.node(a)?, self.node(b)?),
            Node::Cond(c, a, b) => {
                let c = self.node(c)?;
                format!(
                    "(CASE WHEN {c} THEN {} WHEN NOT {c} THEN {} END)",
                    self.node(a)?,
                    self.node(b)?
                )
            }
            Node::Cmp(op, a, b) => {
                let o = match op {
                    Cmp::Eq => "=",
                    Cmp::Ne => "<>",
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                format!("({} {o} {})", self.node(a)?, self.node(b)?)
            }
            Node::Arith(op, a, b) => {
                let (x, y) = (self.node(a)?, self.node(b)?);
                match op {
                    Arith::Add => format!("({x} + {y})"),
                    Arith::Sub => format!("({x} - {y})"),
                    Arith::Mul => format!("({x} * {y})"),
                    // Truncating integer division and remainder as in CEL; zero divisors unknown.
                    Arith::Div if self.ty(a)? == Ty::Int => format!(
                        "(CASE WHEN {y} = 0 THEN NULL ELSE CAST(trunc(CAST({x} AS DOUBLE) / {y}) AS BIGINT) END)"
                    ),
                    Arith::Div => format!("(CASE WHEN {y} = 0 THEN NULL ELSE {x} / {y} END)"),
                    Arith::Rem => format!("(CASE WHEN {y} = 0 THEN NULL ELSE {x} % {y} END)"),
                }
            }
            Node::In(x, list) => {
                let x = self.node(x)?;
                if Self::is_list(list) {
                    format!("list_contains({}, {x})", self.node(list)?)
                } else {
                    // A list column (e.g. 健康状况): NULL element → unknown.
                    let l = self.node(list)?;
                    format!(
                        "(CASE WHEN {x} IS NULL THEN NULL ELSE coalesce(list_contains({l}, {x}), FALSE) END)"
                    )
                }
            }
            Node::Index(l, i) => {
                if matches!(l.as_ref(), Node::Members) {
                    return None;
                }
                format!("({})[{} + 1]", self.node(l)?, self.node(i)?)
            }
            Node::Size(a) => match a.as_ref() {
                Node::Comp(Comp::Filter, range, body) => self.members(Comp::Filter, range, body)?,
                Node::Members => "(SELECT count(*) FROM members mz WHERE mz.hid = h.hid)".into(),
                other => {
                    let s = self.node(other)?;
                    match self.ty(other)? {
                        Ty::Str => format!("length({s})"),
                        Ty::List(_) => format!("coalesce(len({s}), 0)"),
                        _ => return None,
                    }
                }
            },
            Node::Str(op, a, b) => {
                let f = match op {
                    StrFn::Contains => "contains",
                    StrFn::StartsWith => "starts_with",
                    StrFn::EndsWith => "ends_with",
                };
                format!("{f}({}, {})", self.node(a)?, self.node(b)?)
            }
            Node::Conv(c, a) => {
                let a = self.node(a)?;
                match c {
                    Conv::Int => format!("CAST(trunc(TRY_CAST({a} AS DOUBLE)) AS BIGINT)"),
                    Conv::Double => format!("TRY_CAST({a} AS DOUBLE)"),
                    Conv::Str => format!("CAST({a} AS VARCHAR)"),
                }
            }
            Node::List(items) => {
                let parts: Option<Vec<String>> = items.iter().map(|i| self.node(i)).collect();
                format!("[{}]", parts?.join(", "))
            }
            Node::Comp(kind, range, body) => self.members(*kind, range, body)?,
        })
    }

    /// A member macro as a correlated subquery over `members`.
    fn members(&mut self, kind: Comp, range: &Node, body: &Node) -> Option<String> {
        if !matches!(range, Node::Members) {
            return None;
        }
        self.next_alias += 1;
        let alias = format!("m{}", self.next_alias);
        self.locals.push(alias.clone());
        let p = self.node(body);
        self.locals.pop();
        let p = p?;
        let agg = match kind {
            Comp::Exists => format!(
                "CASE WHEN coalesce(bool_or({p}), FALSE) THEN TRUE WHEN bool_or(({p}) IS NULL) THEN NULL ELSE FALSE END"
            ),
            Comp::All => format!(
                "CASE WHEN coalesce(bool_or(NOT ({p})), FALSE) THEN FALSE WHEN bool_or(({p}) IS NULL) THEN NULL ELSE TRUE END"
            ),
            Comp::ExistsOne => format!(
                "CASE WHEN bool_or(({p}) IS NULL) THEN NULL ELSE count(*) FILTER (WHERE {p}) = 1 END"
            ),
            // Only under size(): the count of members kept.
            Comp::Filter => format!(
                "CASE WHEN bool_or(({p}) IS NULL) THEN NULL ELSE count(*) FILTER (WHERE {p}) END"
            ),
        };
        Some(format!(
            "(SELECT {agg} FROM members {alias} WHERE {alias}.hid = h.hid)"
        ))
    }
}

/// The SQL of one household item, with the parameter values inlined; `None` when the expression
/// uses something without a translation (e.g. indexing the members list).
pub fn item_sql(set: &RuleSet, item: usize, params: &ParamValues) -> Option<String> {
    if set.def.level != Level::Household {
        return None;
    }
    let mut tr = Tr {
        params,
        locals: Vec::new(),
        next_alias: 0,
    };
    tr.node(set.items.get(item)?.compiled.node())
}
