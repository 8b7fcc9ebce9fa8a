//! Variable references and frame ids: what a `variablesReference` or `frameId` stands
//! for, valid while its task stays stopped, and the values the scopes list.

use std::collections::HashMap;

/// Most variable references kept; past it the table starts again (old ones go stale).
const MAX_REFS: usize = 100_000;
/// What a variables reference stands for.
#[derive(Debug, Clone)]
pub(super) enum VarRef {
    /// Locals of frame `frame` of task `pid`.
    Locals { pid: u32, frame: u32 },
    /// The `.sym` variables of `pid`.
    Globals { pid: u32 },
    /// Registers of frame `frame`.
    Registers { pid: u32, frame: u32 },
    /// The members or elements of a value in memory.
    Children {
        pid: u32,
        addr: u32,
        ty: TypeRef,
        name: String,
    },
}

/// A type: an id into the `.sym` table, or a name and size.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TypeRef {
    pub id: Option<u32>,
    pub name: Option<String>,
    pub size: u32,
}

/// A frame as walked by hsxd (`stack`).
#[derive(Debug, Clone, Copy)]
pub(super) struct FrameRec {
    pub pc: u32,
    pub fp: Option<u32>,
    pub sp: u32,
}

/// Reference tables, valid while the tasks stay stopped.
#[derive(Debug, Default)]
pub(super) struct Refs {
    map: HashMap<i64, VarRef>,
    next: i64,
    /// Frames of the last `stackTrace` per task.
    pub frames: HashMap<u32, Vec<FrameRec>>,
}

impl Refs {
    /// A new reference for `r`.
    pub(super) fn add(&mut self, r: VarRef) -> i64 {
        if self.map.len() >= MAX_REFS {
            self.map.clear();
        }
        self.next += 1;
        self.map.insert(self.next, r);
        self.next
    }

    /// What `id` stands for.
    pub(super) fn get(&self, id: i64) -> Option<VarRef> {
        self.map.get(&id).cloned()
    }

    /// Drops every reference of `pid` (it runs again).
    pub(super) fn invalidate(&mut self, pid: u32) {
        self.frames.remove(&pid);
        self.map.retain(|_, r| {
            let p = match r {
                VarRef::Locals { pid, .. }
                | VarRef::Globals { pid }
                | VarRef::Registers { pid, .. }
                | VarRef::Children { pid, .. } => *pid,
            };
            p != pid
        });
    }
}

/// One value ready to show (a local, a global, a member, a register, an expression).
#[derive(Debug, Clone)]
pub(super) struct Child {
    pub name: String,
    pub evaluate_name: String,
    pub pid: u32,
    /// Data address when it lives in memory.
    pub addr: Option<u32>,
    /// Register index when it lives in a register (frame 0 only).
    pub reg: Option<u8>,
    pub bytes: Vec<u8>,
    pub ty: TypeRef,
    pub error: Option<String>,
}

/// Frame id ↔ (pid, frame index): frames are at most 64 deep.
pub(super) fn frame_id(pid: u32, index: u32) -> i64 {
    i64::from(pid) * 256 + i64::from(index)
}

/// The (pid, index) of a frame id.
pub(super) fn frame_of(id: i64) -> Option<(u32, u32)> {
    let pid = u32::try_from(id / 256).ok()?;
    let idx = u32::try_from(id % 256).ok()?;
    Some((pid, idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ids_round_trip() {
        assert_eq!(frame_of(frame_id(7, 3)), Some((7, 3)));
        assert_eq!(frame_of(frame_id(u32::MAX, 63)), Some((u32::MAX, 63)));
        assert_eq!(frame_of(-1), None);
    }

    #[test]
    fn refs_are_bounded_and_invalidated_per_task() {
        let mut r = Refs::default();
        let a = r.add(VarRef::Globals { pid: 1 });
        let b = r.add(VarRef::Globals { pid: 2 });
        r.invalidate(1);
        assert!(r.get(a).is_none());
        assert!(r.get(b).is_some());
    }
}
