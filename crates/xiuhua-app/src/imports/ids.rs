//! Ids for new rows during an import, taken from the county's sequences in blocks.

use std::collections::HashMap;

use xiuhua_db::AnyConnection;

use crate::Result;
use crate::tx_task::{ConnFuture, TxTask};

/// Ids taken from the county's sequences in blocks (one round trip per block rather than per
/// batch, so batches need not wait for the database); what is left of a block goes back at the
/// end ([`IdBlocks::release`]).
pub(super) struct IdBlocks {
    county: String,
    /// kind → (next free id, end of the block).
    blocks: HashMap<&'static str, (i64, i64)>,
}

/// Ids reserved at a time.
const ID_BLOCK: i64 = 100_000;

impl IdBlocks {
    /// No ids yet for `county`.
    pub(super) fn new(county: &str) -> IdBlocks {
        IdBlocks {
            county: county.to_string(),
            blocks: HashMap::new(),
        }
    }

    /// `n` consecutive ids of `kind` (`household`, `member`, `event`); the first is returned.
    pub(super) async fn take(&mut self, db: &TxTask, kind: &'static str, n: i64) -> Result<i64> {
        let (next, end) = self.blocks.get(kind).copied().unwrap_or((0, 0));
        if next + n <= end {
            self.blocks.insert(kind, (next + n, end));
            return Ok(next);
        }
        let size = n.max(ID_BLOCK);
        let county = self.county.clone();
        let first = db
            .run(move |conn: &mut AnyConnection| -> ConnFuture<'_, i64> {
                Box::pin(async move {
                    Ok(xiuhua_db::ids::reserve_county(conn, kind, &county, size).await?)
                })
            })
            .await?;
        if first == end {
            // Nobody reserved in between: the new block continues the old one.
            self.blocks.insert(kind, (next + n, end + size));
            return Ok(next);
        }
        // Otherwise the unused rest of the previous block is skipped.
        self.blocks.insert(kind, (first + n, first + size));
        Ok(first)
    }

    /// Gives back the unused ids of the last blocks (when nobody took ids after them).
    pub(super) async fn release(&self, conn: &mut AnyConnection) -> Result<()> {
        for (kind, (next, end)) in &self.blocks {
            xiuhua_db::ids::release_county(conn, kind, &self.county, *next, *end).await?;
        }
        Ok(())
    }
}
