//! Expressions: CEL source parsed by the `cel` crate, type-checked against the schema and
//! compiled into a tree of resolved nodes that evaluates without lookups by name or allocation
//! in the common case.
//!
//! Why not `cel`'s own interpreter: it resolves every name through a hash map of dynamic values
//! and needs the household converted into CEL maps first; measured at about 12 µs per
//! expression (context included), a million households × 40 expressions would take minutes. The
//! language is still CEL: the `cel` parser defines the syntax, and a test evaluates every shipped
//! expression with both `cel`'s interpreter and this evaluator and requires the same answers.
//!
//! The steps live in submodules: `parse` (size limit and the `cel` parser), `compiler` (the
//! `cel` syntax tree turned into `Node`s, names resolved and types checked), `calls`
//! (functions, operators and macros), `node` (the compiled form) and `eval` (evaluation).

mod calls;
mod compiler;
mod eval;
mod node;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use xiuhua_domain::message::Message;

use crate::schema::{Level, Ty};

pub(crate) use eval::Cx;
pub use node::{Arith, Cmp, Comp, Conv, Node, StrFn};

/// Where a compile error is, within the expression text (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// Line within the expression (1-based).
    pub line: usize,
    /// Column within that line (1-based, in characters).
    pub column: usize,
    /// Chinese message (rendered from `message`).
    pub message_zh: String,
    /// English message (rendered from `message`).
    pub message_en: String,
    /// The reason: a key of the message catalogue and its arguments.
    pub message: Message,
}

impl ExprError {
    /// An error at a position; its texts come from the message catalogue.
    pub fn new(line: usize, column: usize, message: Message) -> ExprError {
        ExprError {
            line,
            column,
            message_zh: message.zh(),
            message_en: message.en(),
            message,
        }
    }
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

/// Parses and compiles one expression.
pub fn compile(source: &str, scope: &Scope<'_>) -> Result<Compiled, ExprError> {
    parse::check_size(source)?;
    let (ast, info) = parse::parse(source)?;
    let mut c = compiler::Compiler {
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
