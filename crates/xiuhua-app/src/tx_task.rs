//! One database transaction driven by its own task, so that a bulk job (a ledger import) can
//! prepare the next batch while the database stores the previous one.
//!
//! Jobs run one after another, in the order they were sent, on the one transaction: a job sees
//! everything earlier jobs wrote. [`TxTask::send`] returns as soon as the job is queued (the
//! queue is short, so a fast producer waits for a slow database rather than filling memory);
//! [`TxTask::ask`] queues a job whose answer is needed and returns a [`Reply`] to wait on later,
//! so a lookup can be queued ahead of the work that will use it. The first failing job stops
//! the task: later jobs are skipped, and [`TxTask::finish`] returns that error (the transaction
//! is then rolled back when dropped) or, when all went well, the transaction to commit.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};
use xiuhua_db::{AnyConnection, Tx};

use crate::{Error, Result};

/// A future borrowing the connection for `'c`.
pub type ConnFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> ConnFuture<'c, ()> + Send>;

/// Jobs waiting at most; beyond that, [`TxTask::send`] waits.
const QUEUE: usize = 4;

/// A transaction owned by a spawned task that runs queued jobs in order.
pub struct TxTask {
    jobs: mpsc::Sender<Job>,
    task: tokio::task::JoinHandle<(Tx, Option<Error>)>,
}

/// The answer of a job queued with [`TxTask::ask`].
pub struct Reply<T>(oneshot::Receiver<Result<T>>);

impl<T> Reply<T> {
    /// Waits for the job to run. When an earlier job failed (so this one was skipped), the
    /// answer is an error; [`TxTask::finish`] returns the original one.
    pub async fn get(self) -> Result<T> {
        self.0.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> Error {
    Error::Unexpected(anyhow::anyhow!(
        "the database task stopped after an earlier error"
    ))
}

impl TxTask {
    /// Hands `tx` to a new task.
    pub fn spawn(mut tx: Tx) -> TxTask {
        let (jobs, mut rx) = mpsc::channel::<Job>(QUEUE);
        let task = tokio::spawn(async move {
            let mut failed = None;
            while let Some(job) = rx.recv().await {
                if failed.is_none()
                    && let Err(e) = job(&mut tx).await
                {
                    failed = Some(e);
                }
            }
            (tx, failed)
        });
        TxTask { jobs, task }
    }

    /// Queues a job and returns once it is queued.
    pub async fn send<F>(&self, job: F) -> Result<()>
    where
        F: for<'c> FnOnce(&'c mut AnyConnection) -> ConnFuture<'c, ()> + Send + 'static,
    {
        self.jobs.send(Box::new(job)).await.map_err(|_| stopped())
    }

    /// Queues a job whose result is wanted; wait for it with [`Reply::get`].
    pub async fn ask<T, F>(&self, job: F) -> Result<Reply<T>>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> ConnFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(move |conn: &mut AnyConnection| -> ConnFuture<'_, ()> {
            Box::pin(async move {
                match job(conn).await {
                    Ok(v) => {
                        let _ = reply.send(Ok(v));
                        Ok(())
                    }
                    // The caller gets a copy of the message; the task keeps the error itself.
                    Err(e) => {
                        let _ = reply.send(Err(Error::Unexpected(anyhow::anyhow!("{e}"))));
                        Err(e)
                    }
                }
            })
        })
        .await?;
        Ok(Reply(answer))
    }

    /// Runs a job and waits for its result.
    pub async fn run<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> ConnFuture<'c, T> + Send + 'static,
    {
        self.ask(job).await?.get().await
    }

    /// Waits for every queued job and returns the transaction, or the first job's error.
    pub async fn finish(self) -> Result<Tx> {
        drop(self.jobs);
        let (tx, failed) = self
            .task
            .await
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("database task: {e}")))?;
        match failed {
            Some(e) => Err(e),
            None => Ok(tx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiuhua_domain::message::msg;

    /// Takes the next value of sequence `t` (starting at 1).
    fn next(c: &mut AnyConnection) -> ConnFuture<'_, i64> {
        Box::pin(async move { Ok(xiuhua_db::ids::reserve(c, "t", 1, 1).await?) })
    }

    #[tokio::test]
    async fn jobs_run_in_order_and_the_first_error_stops_the_rest() {
        let t = xiuhua_db::testing::TestDb::new().await;
        let task = TxTask::spawn(t.db.begin().await.unwrap());
        for _ in 0..10 {
            task.send(|c: &mut AnyConnection| -> ConnFuture<'_, ()> {
                Box::pin(async move {
                    next(c).await?;
                    Ok(())
                })
            })
            .await
            .unwrap();
        }
        // Queued after the ten: sees all of them.
        let seen = task.ask(next).await.unwrap();
        assert_eq!(seen.get().await.unwrap(), 11);
        task.send(|_: &mut AnyConnection| -> ConnFuture<'_, ()> {
            Box::pin(async { Err(Error::conflict("test", msg("test"))) })
        })
        .await
        .unwrap();
        // Skipped after the failure, and says so.
        if let Ok(r) = task.ask(next).await {
            assert!(r.get().await.is_err());
        }
        match task.finish().await {
            Ok(_) => panic!("the failed job must be reported"),
            Err(e) => assert_eq!(e.to_string(), "failed"),
        }
        // Nothing was committed: the sequence starts again at 1.
        let mut c = t.db.pool().acquire().await.unwrap();
        assert_eq!(next(&mut c).await.unwrap(), 1);
    }
}
