//! Transport: TCP or Unix-socket accept loop, one task per connection, the token gate
//! (see [`crate::auth`]), shutdown and restart.
//!
//! Each connection task reads request lines and, once it has subscribed, also writes its
//! subscription's event lines. It is the only writer of its socket, so every line goes
//! out whole, and requests are served first (`biased` select), so an event flood never
//! starves RPCs on the same socket. Publishing never waits on a connection: events queue
//! in the subscriber's bounded ring (see [`crate::events`]).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Token;
use crate::codec::{Inbound, RequestReader};
use crate::context::{Outcome, Peer, PostAction};
use crate::dispatch::{handle_line_as, handle_request_as};
use crate::events::{SubHandle, Take};
use crate::gate::Gate;
use crate::policy::Policy;
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

/// Where a server listens.
#[derive(Debug)]
enum Listener {
    Tcp(TcpListener),
    /// A Unix-domain socket; its file is removed when the server stops.
    #[cfg(unix)]
    Unix {
        listener: tokio::net::UnixListener,
        path: PathBuf,
    },
}

/// A connection's two halves, whatever the transport.
type Halves = (
    Box<dyn AsyncRead + Unpin + Send>,
    Box<dyn AsyncWrite + Unpin + Send>,
);

impl Listener {
    async fn bind(addr: &str) -> io::Result<Listener> {
        if let Some(path) = addr.strip_prefix("unix:") {
            return Self::bind_unix(Path::new(path));
        }
        Ok(Listener::Tcp(TcpListener::bind(addr).await?))
    }

    #[cfg(unix)]
    fn bind_unix(path: &Path) -> io::Result<Listener> {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        // A socket file left by a daemon that was killed is replaced; anything else at the
        // path is never deleted.
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)?,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            Err(_) => {}
        }
        let listener = tokio::net::UnixListener::bind(path)?;
        // Owner only: the file's permissions are the access control.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Listener::Unix {
            listener,
            path: path.to_path_buf(),
        })
    }

    #[cfg(not(unix))]
    fn bind_unix(_: &Path) -> io::Result<Listener> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "Unix-domain sockets need a Unix system",
        ))
    }

    async fn accept(&self) -> io::Result<(Halves, String)> {
        match self {
            Listener::Tcp(l) => {
                let (stream, peer) = l.accept().await?;
                let _ = stream.set_nodelay(true);
                let (rd, wr) = stream.into_split();
                Ok(((Box::new(rd), Box::new(wr)), peer.to_string()))
            }
            #[cfg(unix)]
            Listener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                let (rd, wr) = stream.into_split();
                Ok(((Box::new(rd), Box::new(wr)), "unix".to_string()))
            }
        }
    }

    fn remove_file(&self) {
        #[cfg(unix)]
        if let Listener::Unix { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A bound, not yet running server.
#[derive(Debug)]
pub struct Server {
    listener: Listener,
    daemon: Arc<Daemon>,
    control: ServerControl,
    policy: Arc<Policy>,
}

impl Server {
    /// Binds `addr`: `HOST:PORT` (port 0 picks a free port) or `unix:PATH`.
    pub async fn bind(addr: &str, daemon: Arc<Daemon>) -> io::Result<Server> {
        let listener = Listener::bind(addr).await?;
        Ok(Server {
            listener,
            daemon,
            control: ServerControl::new(),
            policy: Arc::new(Policy::default()),
        })
    }

    /// Requires every connection to present `token` before anything else.
    #[must_use]
    pub fn with_token(mut self, token: Token) -> Server {
        self.policy = Arc::new(Policy::single(Some(token)));
        self
    }

    /// Serves under `policy`: its tokens, grants and limits.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Server {
        self.policy = Arc::new(policy);
        self
    }

    /// The bound TCP address (an error for a Unix socket).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match &self.listener {
            Listener::Tcp(l) => l.local_addr(),
            #[cfg(unix)]
            Listener::Unix { .. } => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a Unix socket has no TCP address",
            )),
        }
    }

    /// The bound address as `--listen` takes it: `HOST:PORT` or `unix:PATH`.
    pub fn listen_addr(&self) -> String {
        match &self.listener {
            Listener::Tcp(l) => l
                .local_addr()
                .map_or_else(|_| "?".to_string(), |a| a.to_string()),
            #[cfg(unix)]
            Listener::Unix { path, .. } => format!("unix:{}", path.display()),
        }
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
            policy,
        } = self;
        let open_conns = Arc::new(AtomicUsize::new(0));
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
                    Ok(((rd, wr), peer)) => {
                        if open_conns.load(Ordering::Relaxed) >= policy.limits.connections {
                            tracing::warn!(%peer, "connection refused: too many connections");
                            tracker.spawn(refuse(wr));
                            continue;
                        }
                        open_conns.fetch_add(1, Ordering::Relaxed);
                        let d = daemon.clone();
                        let c = control.clone();
                        let p = policy.clone();
                        let n = open_conns.clone();
                        tracker.spawn(async move {
                            tracing::trace!(%peer, "connection opened");
                            serve_connection(rd, wr, d, c, p).await;
                            n.fetch_sub(1, Ordering::Relaxed);
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
        listener.remove_file();
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

/// One line telling a client over the connection cap why it is closed.
async fn refuse(mut wr: Box<dyn AsyncWrite + Unpin + Send>) {
    let mut buf = Vec::new();
    Reply::error(&crate::error::ProtoError::msg("connection_limit")).write_line(&mut buf);
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        let _ = wr.write_all(&buf).await;
        let _ = wr.shutdown().await;
    })
    .await;
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
///
/// When the policy has tokens, every line is refused with `auth_required` until the
/// connection presents one (`auth`, or `session.open` with `token`); it then acts with
/// that token's grant.
pub async fn serve_connection<R, W>(
    rd: R,
    wr: W,
    d: Arc<Daemon>,
    control: ServerControl,
    policy: Arc<Policy>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let conn = d.new_connection_id();
    let mut locked = policy.needs_token();
    let mut peer = Peer::anonymous(conn, policy.clone());
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
                    let gated = locked.then(|| crate::gate::gate(&policy, &line));
                    let outcome = match gated {
                        None => handle_line_as(&d, &line, &peer),
                        Some(Gate::Reply(r)) => Outcome::reply(r),
                        Some(Gate::Authenticated(r, grant)) => {
                            locked = false;
                            peer.grant = grant;
                            Outcome::reply(r)
                        }
                        Some(Gate::Forward(obj, grant)) => {
                            locked = false;
                            peer.grant = grant;
                            handle_request_as(&d, &obj, &peer)
                        }
                    };
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
async fn write_all<W: AsyncWrite + Unpin>(
    out: &mut BufWriter<W>,
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
