//! TCP transport: accept loop, one task per connection, shutdown and restart.
//!
//! Each connection task reads request lines and, once it has subscribed, also writes its
//! subscription's event lines. It is the only writer of its socket, so every line goes
//! out whole, and requests are served first (`biased` select), so an event flood never
//! starves RPCs on the same socket. Publishing never waits on a connection: events queue
//! in the subscriber's bounded ring (see [`crate::events`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::codec::{Inbound, RequestReader};
use crate::context::PostAction;
use crate::dispatch::handle_line;
use crate::events::{SubHandle, Take};
use crate::reply::Reply;
use crate::state::Daemon;

/// Default listen address (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9998";
/// Delay between a `restart exec` reply and the reset, as the reference.
pub const RESTART_DELAY: Duration = Duration::from_millis(100);
/// How often idle sessions are expired even when no request arrives.
pub const SESSION_SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Daemon settings from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// Listen address (`--listen`).
    pub listen: String,
    /// Sandbox root of the guest file system (`--fs-root`); used by the executive bridge.
    pub fs_root: Option<PathBuf>,
    /// FRAM image file for value persistence (`--fram`); used by the executive bridge.
    pub fram: Option<PathBuf>,
    /// Task data memory layout (`--mem flat|segmented`).
    pub mem: hsx_exec::MemLayout,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN.to_string(),
            fs_root: None,
            fram: None,
            mem: hsx_exec::MemLayout::Flat,
        }
    }
}

/// Handle to stop or reset a running server.
#[derive(Debug, Clone)]
pub struct ServerControl {
    shutdown: CancellationToken,
    generation: Arc<Mutex<CancellationToken>>,
}

impl ServerControl {
    fn new() -> Self {
        let shutdown = CancellationToken::new();
        let generation = Arc::new(Mutex::new(shutdown.child_token()));
        Self {
            shutdown,
            generation,
        }
    }

    /// Asks the server to stop: no new connections, every connection closes.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Whether a shutdown was requested.
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// Closes every current connection; later connections are unaffected.
    pub fn drop_connections(&self) {
        let mut g = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        g.cancel();
        *g = self.shutdown.child_token();
    }

    fn connection_token(&self) -> CancellationToken {
        self.generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .child_token()
    }
}

/// A bound, not yet running server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    daemon: Arc<Daemon>,
    control: ServerControl,
}

impl Server {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: &str, daemon: Arc<Daemon>) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server {
            listener,
            daemon,
            control: ServerControl::new(),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to stop the server.
    pub fn control(&self) -> ServerControl {
        self.control.clone()
    }

    /// The daemon state it serves.
    pub fn daemon(&self) -> &Arc<Daemon> {
        &self.daemon
    }

    /// Serves until `shutdown` is requested (command or [`ServerControl::shutdown`]).
    pub async fn run(self) {
        self.run_until(std::future::pending()).await;
    }

    /// Serves until a shutdown is requested or `signal` completes, then waits (briefly)
    /// for connections to close and calls [`crate::cmd::lifecycle::shutdown_daemon`].
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        let Server {
            listener,
            daemon,
            control,
        } = self;
        let tracker = TaskTracker::new();
        let sweeper = {
            let d = daemon.clone();
            let stop = control.shutdown.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(SESSION_SWEEP_INTERVAL);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tick.tick() => d.sweep_sessions(),
                    }
                }
            })
        };
        tokio::pin!(signal);
        loop {
            tokio::select! {
                _ = control.shutdown.cancelled() => break,
                _ = &mut signal => {
                    tracing::info!("signal received, shutting down");
                    control.shutdown();
                    break;
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let d = daemon.clone();
                        let c = control.clone();
                        tracker.spawn(async move {
                            tracing::trace!(%peer, "connection opened");
                            serve_connection(stream, d, c).await;
                        });
                    }
                    Err(e) => {
                        // Typically EMFILE; back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                },
            }
        }
        drop(listener);
        // Long requests (a big `step`) check this between slices and end now, instead of
        // holding their connection past the grace period below.
        daemon.set_stopping();
        tracker.close();
        let _ = tokio::time::timeout(Duration::from_secs(2), tracker.wait()).await;
        let _ = sweeper.await;
        crate::cmd::lifecycle::shutdown_daemon(&daemon);
        tracing::info!("server stopped");
    }
}

async fn wait_events(sub: Option<&SubHandle>) {
    match sub {
        Some(s) => s.notify.notified().await,
        None => std::future::pending().await,
    }
}

/// Serves one connection until EOF, a write error, or cancellation.
///
/// A client that half-closes its side after subscribing (it only reads from then on, as
/// the reference's stream sockets do) keeps receiving events until a write fails or the
/// subscription ends.
pub async fn serve_connection(stream: TcpStream, d: Arc<Daemon>, control: ServerControl) {
    let conn = d.new_connection_id();
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let mut reader = RequestReader::new(rd);
    let mut out = BufWriter::new(wr);
    let cancel = control.connection_token();
    let mut sub: Option<SubHandle> = None;
    let mut reading = true;
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let mut batch = Vec::new();
    loop {
        buf.clear();
        let mut action = None;
        let mut last_write = false;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            inbound = reader.next(), if reading => match inbound {
                Inbound::Line(line) => {
                    let outcome = handle_line(&d, &line, conn);
                    outcome.reply.write_line(&mut buf);
                    action = outcome.action;
                }
                Inbound::Rejected(err) => Reply::error(&err).write_line(&mut buf),
                Inbound::Closed if sub.is_some() => reading = false,
                Inbound::Closed => break,
            },
            _ = wait_events(sub.as_ref()) => {
                let Some(handle) = sub.as_ref() else { continue };
                batch.clear();
                let state = d.bus().with_hub(|hub, _| hub.take(handle, &mut batch));
                for rec in &batch {
                    buf.extend_from_slice(rec.line().as_bytes());
                    buf.push(b'\n');
                }
                if let Take::Closed(closed) = state {
                    sub = None;
                    // Ended from elsewhere (terminate, expiry, replaced): close the stream
                    // as the reference does, after what was already queued. Also close a
                    // stream-only connection whose reading side is done.
                    last_write = closed.by_conn != Some(conn) || !reading;
                }
            }
        }
        if !buf.is_empty() && write_all(&mut out, &buf, &cancel).await.is_err() {
            break;
        }
        if last_write {
            break;
        }
        match action {
            None => {}
            Some(PostAction::Subscribed(handle)) => sub = Some(handle),
            Some(PostAction::Shutdown) => {
                tracing::info!("shutdown requested");
                control.shutdown();
            }
            Some(PostAction::RestartExec) => {
                let d2 = d.clone();
                let c2 = control.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(RESTART_DELAY).await;
                    tracing::info!("restart exec: resetting sessions and connections");
                    d2.reset();
                    c2.drop_connections();
                });
            }
        }
    }
    d.connection_closed(conn);
    // Bounded: a peer that stopped reading must not keep the task alive.
    let _ = tokio::time::timeout(Duration::from_millis(200), out.shutdown()).await;
}

/// Writes and flushes, giving up when the connection is cancelled (a client that never
/// reads must not hold up shutdown).
async fn write_all(
    out: &mut BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    bytes: &[u8],
    cancel: &CancellationToken,
) -> io::Result<()> {
    tokio::select! {
        r = async {
            out.write_all(bytes).await?;
            out.flush().await
        } => r,
        _ = cancel.cancelled() => Err(io::Error::new(io::ErrorKind::Interrupted, "connection cancelled")),
    }
}
