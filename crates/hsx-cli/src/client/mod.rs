//! A small blocking client for hsxd: newline-delimited JSON over TCP, one request → one
//! reply ([`Client`]), and an event-stream reader ([`EventStream`]).
//!
//! Blocking I/O on purpose: the CLI sends a handful of requests per invocation, the shell
//! one per line, and the TUI polls from its own loop; none of them needs an async runtime.

mod events;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde_json::{Map, Value};
use thiserror::Error;

pub use events::{EventFilter, EventStream};

/// Where the HSX clients look for the executive by default (design.md §5).
pub const DEFAULT_ADDR: &str = "127.0.0.1:9998";
/// A reply line longer than this is treated as a broken server, not buffered forever.
pub const MAX_LINE: usize = 64 * 1024 * 1024;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Long enough for a big `step` batch, short enough that a hung server is noticed.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong talking to hsxd.
#[derive(Debug, Error)]
pub enum ClientError {
    /// No connection could be made.
    #[error("cannot connect to hsxd at {addr}: {source}")]
    Connect {
        /// The address tried.
        addr: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The address does not parse or resolve.
    #[error("bad hsxd address '{0}' (expected HOST:PORT)")]
    BadAddr(String),
    /// Reading or writing the socket failed.
    #[error("connection to hsxd failed: {0}")]
    Io(#[from] io::Error),
    /// The server closed the connection.
    #[error("hsxd closed the connection")]
    Closed,
    /// The server sent something that is not a JSON object line.
    #[error("unexpected reply from hsxd: {0}")]
    BadReply(String),
    /// The server answered `status: "error"`; the text is the server's (machine codes
    /// such as `invalid_state_transition:…` are shown as a sentence).
    #[error("{}", readable(.0))]
    Server(String),
}

impl ClientError {
    /// True when the connection itself is gone (worth a reconnect), as opposed to a
    /// server-side error reply.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            ClientError::Connect { .. } | ClientError::Io(_) | ClientError::Closed
        )
    }

    /// A hint for the user when the daemon is not reachable.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ClientError::Connect { .. } => {
                Some("is hsxd running? start it with `hsxd` or set --connect/HSX_ADDR")
            }
            _ => None,
        }
    }
}

/// A server error as a person reads it: `invalid_state_transition:returned->running:pid=3`
/// becomes `pid 3 has returned; it cannot be resumed`. Other texts are already sentences.
fn readable(text: &str) -> String {
    let Some(rest) = text.strip_prefix("invalid_state_transition:") else {
        return text.to_string();
    };
    let parsed = rest.split_once(":pid=").and_then(|(states, pid)| {
        let (from, to) = states.split_once("->")?;
        Some((from, to, pid))
    });
    let Some((from, to, pid)) = parsed else {
        return text.to_string();
    };
    let verb = match to {
        "running" | "ready" => "resumed".to_string(),
        "paused" => "paused".to_string(),
        other => format!("made {other}"),
    };
    match from {
        "returned" | "faulted" | "terminated" | "killed" => {
            format!("pid {pid} has {from}; it cannot be {verb} (load it again to rerun it)")
        }
        _ => format!("pid {pid} is {from}; it cannot be {verb}"),
    }
}

/// Result of a client call.
pub type ClientResult<T> = Result<T, ClientError>;

/// Resolves `HOST:PORT` to socket addresses.
fn resolve(addr: &str) -> ClientResult<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|_| ClientError::BadAddr(addr.to_string()))?
        .collect();
    if addrs.is_empty() {
        return Err(ClientError::BadAddr(addr.to_string()));
    }
    Ok(addrs)
}

/// Reads `\n`-terminated lines, keeping a partial line across read timeouts so a
/// timeout never loses or splits data.
#[derive(Debug)]
pub(crate) struct LineReader {
    inner: BufReader<TcpStream>,
    pending: Vec<u8>,
}

impl LineReader {
    fn new(stream: TcpStream) -> Self {
        Self {
            inner: BufReader::new(stream),
            pending: Vec::new(),
        }
    }

    /// The next complete line (without the newline), `Ok(None)` when the read timed out.
    fn next_line(&mut self) -> ClientResult<Option<Vec<u8>>> {
        loop {
            let room = MAX_LINE.saturating_sub(self.pending.len()) as u64;
            if room == 0 {
                return Err(ClientError::BadReply("reply line too long".into()));
            }
            let mut limited = (&mut self.inner).take(room);
            match limited.read_until(b'\n', &mut self.pending) {
                Ok(0) => return Err(ClientError::Closed),
                Ok(_) => {
                    if self.pending.last() == Some(&b'\n') {
                        let mut line = std::mem::take(&mut self.pending);
                        line.pop();
                        if line.last() == Some(&b'\r') {
                            line.pop();
                        }
                        return Ok(Some(line));
                    }
                    // Hit the length limit or EOF mid-line; loop decides which.
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn set_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.inner.get_ref().set_read_timeout(t)
    }
}

/// Parses one line into a JSON object.
fn parse_line(line: &[u8]) -> ClientResult<Map<String, Value>> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(ClientError::BadReply(truncate(&other.to_string()))),
        Err(_) => Err(ClientError::BadReply(truncate(&String::from_utf8_lossy(
            line,
        )))),
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 120;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// True for an event line: it has `type` and no `status` (the rule hsxdbg uses; replies
/// never carry a top-level `type`).
pub fn is_event(obj: &Map<String, Value>) -> bool {
    obj.contains_key("type") && !obj.contains_key("status")
}

/// The error text of an error reply, `None` for a success.
pub fn reply_error(reply: &Value) -> Option<String> {
    if reply.get("status").and_then(Value::as_str) == Some("error") {
        Some(
            reply
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("unknown error")
                .to_string(),
        )
    } else {
        None
    }
}

/// One persistent connection to hsxd. Requests are answered in order; event lines that
/// arrive on the same socket (when it also subscribed) are skipped by [`Client::call_raw`].
#[derive(Debug)]
pub struct Client {
    reader: LineReader,
    writer: TcpStream,
}

impl Client {
    /// Connects to `addr` (`HOST:PORT`).
    pub fn connect(addr: &str) -> ClientResult<Client> {
        let mut last_err = None;
        for sa in resolve(addr)? {
            match TcpStream::connect_timeout(&sa, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
                    let writer = stream.try_clone()?;
                    return Ok(Client {
                        reader: LineReader::new(stream),
                        writer,
                    });
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(ClientError::Connect {
            addr: addr.to_string(),
            source: last_err.unwrap_or_else(|| io::Error::other("no address")),
        })
    }

    /// Sends one request line without waiting for the reply.
    pub fn send(&mut self, req: &Value) -> ClientResult<()> {
        let mut line = serde_json::to_vec(req).map_err(|e| ClientError::BadReply(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        self.writer.flush()?;
        Ok(())
    }

    /// The next line from the server, `Ok(None)` when `timeout` passed first.
    pub fn read_line_timeout(
        &mut self,
        timeout: Duration,
    ) -> ClientResult<Option<Map<String, Value>>> {
        self.reader
            .set_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let line = self.reader.next_line();
        self.reader.set_timeout(Some(REPLY_TIMEOUT))?;
        match line? {
            Some(l) => parse_line(&l).map(Some),
            None => Ok(None),
        }
    }

    /// Sends `req` and returns the reply object as it came, `status: "error"` included.
    pub fn call_raw(&mut self, req: &Value) -> ClientResult<Value> {
        self.send(req)?;
        loop {
            let Some(line) = self.reader.next_line()? else {
                return Err(ClientError::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no reply from hsxd",
                )));
            };
            let obj = parse_line(&line)?;
            if !is_event(&obj) {
                return Ok(Value::Object(obj));
            }
        }
    }

    /// Sends `req`; an error reply becomes [`ClientError::Server`].
    pub fn call(&mut self, req: &Value) -> ClientResult<Value> {
        let reply = self.call_raw(req)?;
        match reply_error(&reply) {
            Some(e) => Err(ClientError::Server(e)),
            None => Ok(reply),
        }
    }
}

/// Builds a request object `{"version":1,"cmd":cmd, ...fields}`.
pub fn request(cmd: &str, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("version".into(), Value::from(1));
    m.insert("cmd".into(), Value::from(cmd));
    if let Value::Object(f) = fields {
        for (k, v) in f {
            if !v.is_null() {
                m.insert(k, v);
            }
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::net::TcpListener;

    #[test]
    fn request_drops_null_fields() {
        let r = request("peek", json!({"pid": 1, "length": null}));
        assert_eq!(r, json!({"version": 1, "cmd": "peek", "pid": 1}));
    }

    #[test]
    fn state_transition_errors_read_as_sentences() {
        let e = ClientError::Server("invalid_state_transition:returned->running:pid=3".into());
        assert_eq!(
            e.to_string(),
            "pid 3 has returned; it cannot be resumed (load it again to rerun it)"
        );
        let e = ClientError::Server("invalid_state_transition:sleeping->paused:pid=2".into());
        assert_eq!(e.to_string(), "pid 2 is sleeping; it cannot be paused");
        for odd in [
            "invalid_state_transition:",
            "invalid_state_transition:x:pid=1",
            "unknown pid 9",
        ] {
            let text = ClientError::Server(odd.into()).to_string();
            assert_eq!(text, odd);
        }
    }

    #[test]
    fn event_rule_and_error_text() {
        let ev = json!({"seq": 1, "type": "task_state"});
        let rep = json!({"status": "error", "error": "unknown pid 3"});
        assert!(is_event(ev.as_object().unwrap_or(&Map::new())));
        assert!(!is_event(rep.as_object().unwrap_or(&Map::new())));
        assert_eq!(reply_error(&rep).as_deref(), Some("unknown pid 3"));
        assert_eq!(reply_error(&json!({"status": "ok"})), None);
    }

    #[test]
    fn refused_connection_has_a_hint() {
        // Bind then drop to get a port that is (almost certainly) closed.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(1);
        let err = Client::connect(&format!("127.0.0.1:{port}")).err();
        let err = err.map(|e| (e.is_connection(), e.hint().is_some()));
        assert_eq!(err, Some((true, true)));
        assert!(matches!(
            Client::connect("no-port"),
            Err(ClientError::BadAddr(_))
        ));
    }

    #[test]
    fn partial_lines_survive_timeouts_and_events_are_skipped() {
        let listener = TcpListener::bind("127.0.0.1:0").ok();
        let Some(listener) = listener else { return };
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let server = std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"{\"seq\":1,\"type\":\"x\",\"pid\":null,\"data\":{}}\n{\"version\":1,",
                );
                let _ = s.flush();
                std::thread::sleep(Duration::from_millis(150));
                let _ = s.write_all(b"\"status\":\"ok\",\"reply\":\"pong\"}\n");
            }
        });
        let mut c = Client::connect(&addr).ok();
        let reply = c.as_mut().map(|c| {
            let _ = c.send(&request("ping", json!({})));
            // First the event, then a timeout with half a line buffered, then the rest.
            let first = c
                .read_line_timeout(Duration::from_millis(50))
                .ok()
                .flatten();
            let none = c
                .read_line_timeout(Duration::from_millis(20))
                .ok()
                .flatten();
            let last = c.read_line_timeout(Duration::from_secs(2)).ok().flatten();
            (
                first.map(|m| is_event(&m)),
                none.is_none(),
                last.map(Value::Object),
            )
        });
        let _ = server.join();
        assert_eq!(
            reply,
            Some((
                Some(true),
                true,
                Some(json!({"version": 1, "status": "ok", "reply": "pong"}))
            ))
        );
    }
}
