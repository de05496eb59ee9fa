//! Where a reconcile's requests run.
//!
//! kube-runtime's `Controller::run` spawns every reconcile on tokio's
//! runtime (`Handle::spawn`, kube-runtime controller/mod.rs, `run`). On a
//! cluster that is any thread; inside stallsim it is outside the simulated
//! host whose sockets the client needs. [`HostWork::on_host`] hands each
//! reconcile's work to a future the process polls on its own host; the
//! spawned task only waits for the answer.

use std::future::Future;
use std::pin::Pin;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{mpsc, oneshot};

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs reconciles' work where the process wants it.
#[derive(Clone, Debug, Default)]
pub struct HostWork(Option<mpsc::UnboundedSender<Job>>);

impl HostWork {
    /// Work runs in the task that asks for it (a cluster).
    pub fn inline() -> Self {
        HostWork(None)
    }

    /// Work runs in the returned future, which the process polls on its
    /// host for as long as it runs (a simulation); it never ends.
    pub fn on_host() -> (Self, impl Future<Output = ()>) {
        let (sender, mut jobs) = mpsc::unbounded_channel::<Job>();
        let worker = async move {
            let mut running = FuturesUnordered::new();
            loop {
                tokio::select! {
                    biased;
                    job = jobs.recv() => match job {
                        Some(job) => running.push(job),
                        // Every sender gone: nothing more to run.
                        None => futures::future::pending::<()>().await,
                    },
                    Some(()) = running.next(), if !running.is_empty() => {}
                }
            }
        };
        (HostWork(Some(sender)), worker)
    }

    /// Runs `work` and answers its output; `None` when the host's worker
    /// is gone (the process is stopping).
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let Some(sender) = &self.0 else {
            return Some(work.await);
        };
        let (reply, answer) = oneshot::channel();
        let job = async move {
            let _ = reply.send(work.await);
        };
        sender.send(Box::pin(job)).ok()?;
        answer.await.ok()
    }
}
