//! The compiled form of an expression: resolved nodes and the operators they apply. The
//! evaluator (`eval`) and the DuckDB SQL translation of `xiuhua-bench` both walk these nodes.

use crate::value::Val;

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
