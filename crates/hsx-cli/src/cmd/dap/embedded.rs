//! The hsxd that `launch` runs inside the adapter: the same library the `hsxd` binary is
//! built from, on a thread with its own tokio runtime, on a free loopback port.

use std::sync::Arc;
use std::time::Duration;

use hsxd::{EventBus, SystemTimeSource, TimeSource};

/// How long the embedded daemon may take to bind.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// An hsxd running on a thread of this process, stopped on [`Embedded::stop`].
pub(super) struct Embedded {
    /// Where it listens.
    pub addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Embedded {
    /// Starts a daemon on 127.0.0.1 with a free port, built as the `hsxd` binary builds
    /// it (in-memory FRAM and file system).
    pub(super) fn start() -> Result<Embedded, String> {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<Result<String, String>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = addr_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let time: Arc<dyn TimeSource> = Arc::new(SystemTimeSource::new());
                let bus = EventBus::new(time.clone());
                let daemon = hsxd::Daemon::in_memory(bus, time);
                let server = match hsxd::bind("127.0.0.1:0", daemon).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let addr = server
                    .local_addr()
                    .map(|a| a.to_string())
                    .map_err(|e| e.to_string());
                let _ = addr_tx.send(addr);
                server
                    .run_until(async move {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        match addr_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(addr)) => Ok(Embedded {
                addr,
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(format!("embedded hsxd did not start: {e}")),
            Err(_) => Err("embedded hsxd did not start in time".into()),
        }
    }

    /// Stops the daemon and waits for its thread.
    pub(super) fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
