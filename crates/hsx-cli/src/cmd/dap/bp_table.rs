//! The breakpoint table: every breakpoint the client set, where each bound, and the
//! diff that keeps hsxd's breakpoints equal to what is wanted. No DAP handling here
//! (that is `breakpoints.rs`).

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};

use crate::client::{Client, request};

/// Where one breakpoint bound: `(pid, address)` pairs.
pub(super) type Bound = Vec<(u32, u32)>;

/// A source line breakpoint.
#[derive(Debug, Clone)]
pub(super) struct SourceBp {
    /// DAP breakpoint id.
    pub(super) id: i64,
    /// Line asked for.
    pub(super) line: u32,
    /// Line it bound to.
    pub(super) actual: Option<u32>,
    /// Where it bound.
    pub(super) bound: Bound,
}

/// A function or instruction breakpoint.
#[derive(Debug, Clone)]
pub(super) struct NamedBp {
    /// DAP breakpoint id.
    pub(super) id: i64,
    /// Function name, or the address text.
    pub(super) name: String,
    /// Where it bound.
    pub(super) bound: Bound,
}

/// A data breakpoint (an hsxd watch with `stop`).
#[derive(Debug, Clone)]
pub(super) struct DataBp {
    /// DAP breakpoint id.
    pub(super) id: i64,
    /// Task.
    pub(super) pid: u32,
    /// hsxd watch id.
    pub(super) watch: u64,
}

/// Every breakpoint the client set, and what is installed in hsxd because of them.
#[derive(Debug, Default)]
pub(super) struct Breakpoints {
    next_id: i64,
    /// Line breakpoints by source path.
    pub(super) source: HashMap<String, Vec<SourceBp>>,
    /// Function breakpoints.
    pub(super) functions: Vec<NamedBp>,
    /// Instruction breakpoints.
    pub(super) instructions: Vec<NamedBp>,
    /// Data breakpoints.
    pub(super) data: Vec<DataBp>,
    /// Temporary breakpoints of a step in progress, per task.
    pub temp: HashMap<u32, BTreeSet<u32>>,
    installed: HashMap<u32, BTreeSet<u32>>,
}

impl Breakpoints {
    /// A fresh breakpoint id.
    pub(super) fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn wanted(&self) -> HashMap<u32, BTreeSet<u32>> {
        let mut w: HashMap<u32, BTreeSet<u32>> = HashMap::new();
        let all = self
            .source
            .values()
            .flatten()
            .flat_map(|b| b.bound.iter())
            .chain(self.functions.iter().flat_map(|b| b.bound.iter()))
            .chain(self.instructions.iter().flat_map(|b| b.bound.iter()));
        for &(pid, addr) in all {
            w.entry(pid).or_default().insert(addr);
        }
        for (pid, set) in &self.temp {
            w.entry(*pid).or_default().extend(set.iter().copied());
        }
        w
    }

    /// Whether `addr` is a breakpoint the user set (not a temporary one) in `pid`.
    pub(super) fn is_user_bp(&self, pid: u32, addr: u32) -> bool {
        !self.hits(pid, addr).0.is_empty()
    }

    /// The ids of the breakpoints at `pid:addr`, and the DAP stop reason for them.
    pub(super) fn hits(&self, pid: u32, addr: u32) -> (Vec<i64>, &'static str) {
        let has = |b: &Bound| b.contains(&(pid, addr));
        let ins: Vec<i64> = self
            .instructions
            .iter()
            .filter(|b| has(&b.bound))
            .map(|b| b.id)
            .collect();
        if !ins.is_empty() {
            return (ins, "instruction breakpoint");
        }
        let fns: Vec<i64> = self
            .functions
            .iter()
            .filter(|b| has(&b.bound))
            .map(|b| b.id)
            .collect();
        if !fns.is_empty() {
            return (fns, "function breakpoint");
        }
        let src = self
            .source
            .values()
            .flatten()
            .filter(|b| has(&b.bound))
            .map(|b| b.id)
            .collect();
        (src, "breakpoint")
    }

    /// The data breakpoint made of hsxd watch `watch` in `pid`.
    pub(super) fn data_hit(&self, pid: u32, watch: u64) -> Option<i64> {
        self.data
            .iter()
            .find(|d| d.pid == pid && d.watch == watch)
            .map(|d| d.id)
    }

    /// Applies the wanted set to hsxd as a diff.
    pub(super) fn sync(&mut self, client: &mut Client) {
        let wanted = self.wanted();
        let pids: BTreeSet<u32> = wanted
            .keys()
            .chain(self.installed.keys())
            .copied()
            .collect();
        for pid in pids {
            let want = wanted.get(&pid).cloned().unwrap_or_default();
            let have = self.installed.get(&pid).cloned().unwrap_or_default();
            for a in have.difference(&want) {
                let _ = client.call(&request(
                    "bp",
                    json!({"op": "clear", "pid": pid, "addr": a}),
                ));
            }
            for a in want.difference(&have) {
                let _ = client.call(&request("bp", json!({"op": "set", "pid": pid, "addr": a})));
            }
            if want.is_empty() {
                self.installed.remove(&pid);
            } else {
                self.installed.insert(pid, want);
            }
        }
    }

    /// Clears everything this session installed (detach).
    pub(super) fn remove_all_installed(&mut self, client: Option<&mut Client>) {
        let Some(client) = client else { return };
        for (pid, set) in std::mem::take(&mut self.installed) {
            for a in set {
                let _ = client.call(&request(
                    "bp",
                    json!({"op": "clear", "pid": pid, "addr": a}),
                ));
            }
        }
        for d in std::mem::take(&mut self.data) {
            let _ = client.call(&request(
                "watch",
                json!({"op": "remove", "pid": d.pid, "id": d.watch}),
            ));
        }
    }

    /// Forgets a task that has gone.
    pub(super) fn forget(&mut self, pid: u32) {
        self.installed.remove(&pid);
        self.temp.remove(&pid);
        self.data.retain(|d| d.pid != pid);
        for b in self.source.values_mut().flatten() {
            b.bound.retain(|(p, _)| *p != pid);
        }
        for b in self
            .functions
            .iter_mut()
            .chain(self.instructions.iter_mut())
        {
            b.bound.retain(|(p, _)| *p != pid);
        }
    }
}

/// A JSON number that fits a `u32`.
pub(super) fn u32_of(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// An address from a DAP `instructionReference` (`0x…` or decimal) plus `offset`.
pub(super) fn parse_address(text: &str, offset: i64) -> Option<u32> {
    let t = text.trim();
    let base = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok()?,
        None => t.parse::<i64>().ok()?,
    };
    u32::try_from(base.checked_add(offset)?)
        .ok()
        .filter(|a| *a <= 0xFFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_offsets_and_bounds() {
        assert_eq!(parse_address("0x10", 4), Some(0x14));
        assert_eq!(parse_address("32", -4), Some(28));
        assert_eq!(parse_address("0x0", -4), None);
        assert_eq!(parse_address("0x10000", 0), None);
        assert_eq!(parse_address("zz", 0), None);
        assert_eq!(parse_address("99999999999999999999", 0), None);
    }

    #[test]
    fn hits_prefer_instruction_then_function_then_line() {
        let mut b = Breakpoints::default();
        b.source.insert(
            "a.c".into(),
            vec![SourceBp {
                id: 1,
                line: 3,
                actual: Some(3),
                bound: vec![(1, 8)],
            }],
        );
        b.functions.push(NamedBp {
            id: 2,
            name: "f".into(),
            bound: vec![(1, 8), (1, 16)],
        });
        assert_eq!(b.hits(1, 8), (vec![2], "function breakpoint"));
        assert_eq!(b.hits(1, 16), (vec![2], "function breakpoint"));
        b.functions.clear();
        assert_eq!(b.hits(1, 8), (vec![1], "breakpoint"));
        assert!(!b.is_user_bp(2, 8));
        b.temp.entry(1).or_default().insert(40);
        assert_eq!(b.wanted().get(&1).map(|s| s.len()), Some(2));
    }
}
