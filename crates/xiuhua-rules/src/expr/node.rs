//! The compiled form of an expression: resolved nodes and the operators they apply. The
//! evaluator (`eval`) and the SQL translation (`crate::sql`) both walk these nodes.

use crate::value::Val;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrFn {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conv {
    Int,
    Double,
    Str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comp {
    Exists,
    All,
    ExistsOne,
    Filter,
}

/// A compiled expression node.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Const(Val<'static>),
    Var(usize),
    Members,
    Param(usize),
    Input(usize),
    Local(usize),
    Field(Box<Node>, usize),
    Has(Box<Node>, usize),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    In(Box<Node>, Box<Node>),
    Index(Box<Node>, Box<Node>),
    Size(Box<Node>),
    Str(StrFn, Box<Node>, Box<Node>),
    Conv(Conv, Box<Node>),
    List(Vec<Node>),
    Comp(Comp, Box<Node>, Box<Node>),
}
