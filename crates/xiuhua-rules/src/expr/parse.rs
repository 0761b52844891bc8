//! Parsing: the size limit checked before the `cel` parser runs, and the parser's errors turned
//! into [`ExprError`]s with a line and column.

use cel::IdedExpr;
use cel::common::ast::SourceInfo;
use xiuhua_domain::message::msg;

use super::{ExprError, MAX_OPERATORS};

/// Refuses an expression with more than [`MAX_OPERATORS`] operator characters, pointing at the
/// first one past the limit.
pub(super) fn check_size(source: &str) -> Result<(), ExprError> {
    let (mut line, mut column, mut operators) = (1, 1, 0);
    for c in source.chars() {
        if "+-*/%<>=!&|[.?".contains(c) {
            operators += 1;
            if operators > MAX_OPERATORS {
                return Err(ExprError::new(
                    line,
                    column,
                    msg("rule_too_many_operators").arg("max", MAX_OPERATORS),
                ));
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

/// Parses `source` with the `cel` parser, macros not expanded (the compiler reads `exists`,
/// `all`, `exists_one`, `filter` and `has` as calls); a syntax error points at the parser's
/// first complaint.
pub(super) fn parse(source: &str) -> Result<(IdedExpr, SourceInfo), ExprError> {
    let parser = cel::Env::default().parser();
    parser.parse_with_source_info(source).map_err(|errs| {
        let first = errs.errors.first();
        let (line, column) = first
            .map(|e| (e.pos.0.max(1) as usize, (e.pos.1 + 1).max(1) as usize))
            .unwrap_or((1, 1));
        let detail = first.map(|e| e.msg.clone()).unwrap_or_default();
        ExprError::new(line, column, msg("rule_syntax_error").arg("detail", detail))
    })
}
