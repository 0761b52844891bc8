//! The reader thread: streams the ledger file with `xiuhua_xlsx::read_ledger` and sends its
//! rows, grouped into households, over a bounded channel in batches of `batch` households, then
//! the file's outline.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use xiuhua_xlsx::{Field, LedgerRow, SheetHeader, read_ledger};

use super::interpret::{Group, text};

/// What the reader thread sends: groups of rows, then the end (with the file's outline).
pub(super) enum Msg {
    /// Households, in file order.
    Groups(Vec<Group>),
    /// The end of the file: its outline, or why it could not be read.
    Done(std::result::Result<xiuhua_xlsx::LedgerInfo, xiuhua_xlsx::LedgerError>),
}

/// Splits the stream of rows into households (consecutive rows with the same 户编号; a row
/// without one continues the current household).
pub(super) fn read_groups(
    path: &Path,
    mapping: &[(String, String)],
    batch_size: usize,
    tx: &tokio::sync::mpsc::Sender<Msg>,
) {
    let mut current: Option<(String, Group)> = None;
    let mut batch: Vec<Group> = Vec::new();
    let mut closed = false;
    let send = |g: Group, batch: &mut Vec<Group>| -> ControlFlow<()> {
        batch.push(g);
        if batch.len() >= batch_size
            && tx
                .blocking_send(Msg::Groups(std::mem::take(batch)))
                .is_err()
        {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    };
    let result = read_ledger(
        path,
        mapping,
        &mut |h: &Arc<SheetHeader>, row: LedgerRow| {
            let key = row.get(Field::HOUSEHOLD_NO).map(text);
            let continues = match (&current, &key) {
                (Some((k, g)), Some(new)) => k == new && Arc::ptr_eq(&g.header, h),
                (Some((_, g)), None) => Arc::ptr_eq(&g.header, h),
                (None, _) => false,
            };
            if continues {
                if let Some((_, g)) = current.as_mut() {
                    g.rows.push(row);
                }
                return ControlFlow::Continue(());
            }
            let group = Group {
                header: h.clone(),
                rows: vec![row],
            };
            if let Some((_, g)) = current.replace((key.unwrap_or_default(), group))
                && send(g, &mut batch).is_break()
            {
                closed = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        },
    );
    if closed {
        return;
    }
    if let Some((_, g)) = current.take() {
        batch.push(g);
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Msg::Groups(batch));
    }
    let _ = tx.blocking_send(Msg::Done(result));
}
