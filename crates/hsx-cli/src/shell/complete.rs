//! Tab completion for the shell: command and subcommand names and flags from the clap
//! tree, PIDs from `ps`, symbol names from `symbols`, file names for paths.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use clap::Command;
use serde_json::{Value, json};

use crate::client::{Client, request};
use crate::cmd::render;

/// Live data the completer needs.
pub trait Source {
    /// PIDs of the current tasks.
    fn pids(&self) -> Vec<u32>;
    /// Symbol names of a task.
    fn symbols(&self, pid: u32) -> Vec<String>;
}

/// What to offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// These words (already filtered by the typed prefix).
    Words(Vec<String>),
    /// File names (the caller uses rustyline's file completer).
    Files,
}

fn names(cmd: &Command) -> impl Iterator<Item = &str> {
    std::iter::once(cmd.get_name()).chain(cmd.get_all_aliases())
}

fn find_sub<'a>(cmd: &'a Command, word: &str) -> Option<&'a Command> {
    cmd.get_subcommands().find(|s| names(s).any(|n| n == word))
}

fn filtered(words: impl IntoIterator<Item = String>, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = words
        .into_iter()
        .filter(|w| w.starts_with(prefix))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Candidates for the word being typed (`partial`), after the complete `words`.
pub fn complete_words(
    root: &Command,
    words: &[String],
    partial: &str,
    src: &dyn Source,
) -> Completion {
    let mut node = root;
    let mut rest = words;
    while let Some((first, tail)) = rest.split_first() {
        match find_sub(node, first) {
            Some(sub) => {
                node = sub;
                rest = tail;
            }
            None => break,
        }
    }
    if node.has_subcommands() && rest.is_empty() && !partial.starts_with('-') {
        let subs = node
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string());
        return Completion::Words(filtered(subs, partial));
    }
    if partial.starts_with('-') {
        let flags = node
            .get_arguments()
            .filter(|a| !a.is_positional() && !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")));
        return Completion::Words(filtered(flags, partial));
    }
    // The value of an option just named?
    if let Some(prev) = rest.last().and_then(|w| w.strip_prefix("--"))
        && let Some(arg) = node.get_arguments().find(|a| a.get_long() == Some(prev))
        && arg.get_action().takes_values()
    {
        return complete_value(root, arg.get_id().as_str(), arg, rest, partial, src);
    }
    // Which positional is being typed: count earlier positional words, skipping options
    // and their values.
    let mut count = 0usize;
    let mut first_num = None;
    let mut skip_next = false;
    for w in rest {
        if skip_next {
            skip_next = false;
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            if !long.contains('=') {
                skip_next = node
                    .get_arguments()
                    .find(|a| a.get_long() == Some(long))
                    .is_some_and(|a| a.get_action().takes_values());
            }
            continue;
        }
        if w.starts_with('-') && w.len() > 1 {
            continue;
        }
        if first_num.is_none() {
            first_num = crate::cmd::remote::parse_num(w)
                .ok()
                .and_then(|n| u32::try_from(n).ok());
        }
        count += 1;
    }
    let positional = node.get_positionals().nth(count).or_else(|| {
        node.get_positionals()
            .last()
            .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
    });
    let Some(arg) = positional else {
        return Completion::Words(Vec::new());
    };
    let id = arg.get_id().as_str();
    if id == "topic" {
        // `help CMD [SUB]`: names from the tree under the words typed so far.
        let mut n = root;
        for w in rest {
            match find_sub(n, w) {
                Some(s) => n = s,
                None => return Completion::Words(Vec::new()),
            }
        }
        let subs = n
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string());
        return Completion::Words(filtered(subs, partial));
    }
    let pid_ctx = if id == "pid" { None } else { first_num };
    complete_value(root, id, arg, &[], partial, &PidHint(src, pid_ctx))
}

/// A source plus the PID already typed on the line (for symbol completion).
struct PidHint<'a>(&'a dyn Source, Option<u32>);

impl Source for PidHint<'_> {
    fn pids(&self) -> Vec<u32> {
        self.0.pids()
    }
    fn symbols(&self, pid: u32) -> Vec<String> {
        self.0.symbols(self.1.unwrap_or(pid))
    }
}

fn complete_value(
    _root: &Command,
    id: &str,
    arg: &clap::Arg,
    _rest: &[String],
    partial: &str,
    src: &dyn Source,
) -> Completion {
    let possible = arg.get_possible_values();
    if !possible.is_empty() {
        return Completion::Words(filtered(
            possible.iter().map(|p| p.get_name().to_string()),
            partial,
        ));
    }
    match id {
        "pid" | "pids" => Completion::Words(filtered(
            src.pids().into_iter().map(|p| p.to_string()),
            partial,
        )),
        // The PID of the line is resolved by PidHint; 0 is a placeholder.
        "addr" | "query" => Completion::Words(filtered(src.symbols(0), partial)),
        "path" | "symbols" | "load" | "dir" => Completion::Files,
        _ => Completion::Words(Vec::new()),
    }
}

/// Completion data fetched from hsxd on demand and kept for a couple of seconds.
pub struct LiveSource {
    addr: String,
    state: RefCell<LiveState>,
}

#[derive(Default)]
struct LiveState {
    client: Option<Client>,
    pids: Option<(Instant, Vec<u32>)>,
    symbols: HashMap<u32, (Instant, Vec<String>)>,
    failed_at: Option<Instant>,
}

const FRESH: Duration = Duration::from_secs(2);

impl LiveSource {
    /// A source for the daemon at `addr`.
    pub fn new(addr: &str) -> LiveSource {
        LiveSource {
            addr: addr.to_string(),
            state: RefCell::new(LiveState::default()),
        }
    }

    /// The daemon this source asks.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn call(&self, req: &Value) -> Option<Value> {
        let mut st = self.state.borrow_mut();
        if st.failed_at.is_some_and(|t| t.elapsed() < FRESH) {
            return None;
        }
        if st.client.is_none() {
            match Client::connect(&self.addr) {
                Ok(c) => st.client = Some(c),
                Err(_) => {
                    st.failed_at = Some(Instant::now());
                    return None;
                }
            }
        }
        let reply = st.client.as_mut()?.call(req);
        match reply {
            Ok(v) => Some(v),
            Err(e) => {
                if e.is_connection() {
                    st.client = None;
                    st.failed_at = Some(Instant::now());
                }
                None
            }
        }
    }
}

impl Source for LiveSource {
    fn pids(&self) -> Vec<u32> {
        if let Some((t, p)) = &self.state.borrow().pids
            && t.elapsed() < FRESH
        {
            return p.clone();
        }
        let pids: Vec<u32> = self
            .call(&request("ps", json!({})))
            .and_then(|r| r.pointer("/tasks/tasks").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| render::num(t, "pid").and_then(|p| u32::try_from(p).ok()))
            .collect();
        self.state.borrow_mut().pids = Some((Instant::now(), pids.clone()));
        pids
    }

    fn symbols(&self, pid: u32) -> Vec<String> {
        if let Some((t, s)) = self.state.borrow().symbols.get(&pid)
            && t.elapsed() < FRESH * 5
        {
            return s.clone();
        }
        let mut names = Vec::new();
        // Pages of 256 (the server's cap), at most a few thousand names.
        for page in 0..16u32 {
            let Some(reply) = self.call(&request(
                "symbols",
                json!({"pid": pid, "offset": page * 256, "limit": 256}),
            )) else {
                break;
            };
            let block = reply.get("symbols").cloned().unwrap_or(Value::Null);
            let syms = block
                .get("symbols")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            names.extend(
                syms.iter()
                    .filter_map(|s| s.get("name").and_then(Value::as_str))
                    .map(str::to_string),
            );
            let total = render::num(&block, "count").unwrap_or(0);
            if syms.len() < 256 || names.len() as u64 >= total {
                break;
            }
        }
        self.state
            .borrow_mut()
            .symbols
            .insert(pid, (Instant::now(), names.clone()));
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    struct Fake;
    impl Source for Fake {
        fn pids(&self) -> Vec<u32> {
            vec![1, 2, 12]
        }
        fn symbols(&self, pid: u32) -> Vec<String> {
            if pid == 2 {
                vec!["main".into(), "loop".into(), "mbox_init".into()]
            } else {
                Vec::new()
            }
        }
    }

    fn words(line: &str) -> (Vec<String>, String) {
        let mut w: Vec<String> = line.split(' ').map(str::to_string).collect();
        let partial = w.pop().unwrap_or_default();
        (w, partial)
    }

    fn complete(line: &str) -> Completion {
        let root = super::super::ShellLine::command();
        let (w, p) = words(line);
        complete_words(&root, &w, &p, &Fake)
    }

    #[test]
    fn command_and_subcommand_names() {
        let Completion::Words(w) = complete("p") else {
            panic!("words expected")
        };
        assert_eq!(w, vec!["pause", "peek", "ping", "poke", "ps"]);
        assert_eq!(complete("bp a"), Completion::Words(vec!["add".into()]));
        assert_eq!(
            complete("clock st"),
            Completion::Words(vec![
                "start".into(),
                "status".into(),
                "step".into(),
                "stop".into()
            ])
        );
    }

    #[test]
    fn pids_symbols_flags_files() {
        assert_eq!(
            complete("pause 1"),
            Completion::Words(vec!["1".into(), "12".into()])
        );
        assert_eq!(
            complete("bp add 2 m"),
            Completion::Words(vec!["main".into(), "mbox_init".into()])
        );
        assert_eq!(complete("dis 2 l"), Completion::Words(vec!["loop".into()]));
        assert_eq!(
            complete("stack 1 --m"),
            Completion::Words(vec!["--max".into()])
        );
        assert_eq!(complete("load "), Completion::Files);
        assert_eq!(
            complete("sym 2 --type f"),
            Completion::Words(vec!["functions".into()])
        );
        assert_eq!(
            complete("val get 0x10 --pid "),
            Completion::Words(vec!["1".into(), "12".into(), "2".into()])
        );
        assert_eq!(complete("help bp r"), Completion::Words(vec!["rm".into()]));
    }
}
