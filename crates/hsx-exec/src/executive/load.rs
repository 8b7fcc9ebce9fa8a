//! Loading an image into a new task with the HXE v2 metadata preprocessing of
//! `services.md` §3.3-§3.5, transactionally: either every registration happens or none.

use crate::vecmap::VecSet;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use hsx_image::{Image, Metadata};
use hsx_vm::{Task, TaskConfig};

use super::taskmem::{new_task_mem, task_sizes};
use super::{
    ExecError, Executive, ImageSummary, LoadOptions, LoadReport, MailboxCreation, MetadataCounts,
    TaskCode, TaskRec,
};
use crate::debug::TaskDebug;
use crate::event::{EventKind, StateDetails};
use crate::mailbox::{MailboxError, StdioStream, mode};
use crate::task_state::{SchedCounters, StateReason, TaskState, Transition};
use crate::values::{MetaCommand, MetaValue};

/// Longest app name (`services.md` §3.5).
pub const APP_NAME_MAX: usize = 31;

// The image's extension bits are handed to the VM unchanged, so both crates must agree.
const _: () = assert!(hsx_image::ISA_EXT1 == hsx_vm::ISA_EXT1);

impl<C: TaskCode> Executive<C> {
    /// Parse and load `.hxe` bytes into a new task. See [`Executive::load_image`].
    ///
    /// # Errors
    /// [`ExecError::Image`] for an invalid image, else as [`Executive::load_image`].
    pub fn load(&mut self, bytes: &[u8], opts: LoadOptions) -> Result<LoadReport, ExecError> {
        self.touch();
        let image = Image::parse(bytes)?;
        self.load_image(&image, opts)
    }

    /// Parse and load `'static` `.hxe` bytes (e.g. an image in flash) whose code the task
    /// executes in place when `C` supports it ([`super::FlashCode`]): the code is never
    /// copied to RAM. Otherwise as [`Executive::load`].
    ///
    /// # Errors
    /// As [`Executive::load`].
    pub fn load_static(
        &mut self,
        bytes: &'static [u8],
        opts: LoadOptions,
    ) -> Result<LoadReport, ExecError> {
        self.load_static_with(bytes, opts, None)
    }

    /// [`Executive::load_static`], under `reserved` when `load_begin` reserved the PID.
    pub(super) fn load_static_with(
        &mut self,
        bytes: &'static [u8],
        opts: LoadOptions,
        reserved: Option<u32>,
    ) -> Result<LoadReport, ExecError> {
        self.touch();
        // The code is never copied, not even for the checks (keeps the heap peak low).
        let (image, code) = Image::parse_in_place(bytes)?;
        let code = bytes.get(code).unwrap_or_default();
        let may_brk = has_brk_in(code);
        self.load_with(&image, C::from_static(code), may_brk, opts, reserved)
    }

    /// [`Executive::load_image`] under a PID reserved by `load_begin`.
    pub(super) fn load_image_as(
        &mut self,
        pid: u32,
        image: &Image,
        opts: LoadOptions,
    ) -> Result<LoadReport, ExecError> {
        self.touch();
        self.load_with(
            image,
            C::from_image(&image.code),
            has_brk(image),
            opts,
            Some(pid),
        )
    }

    /// Load a parsed image into a new task (PIDs are monotonic from 1; a failed load still
    /// consumes its PID, as in the reference). Before the first instruction: resolve the app
    /// instance name, register the `.value` then `.cmd` entries for the new PID, create its
    /// stdio mailboxes and `pid:N`, bind the `.mailbox` entries. On any failure everything
    /// is rolled back. The task starts `ready` at the tail of the run queue with pc = entry,
    /// sp = 0xFFFC and a stack guard of [`super::ExecConfig::stack_size`], executing the ISA
    /// extensions of [`Image::isa_ext`] (and only those).
    ///
    /// # Errors
    /// [`ExecError::Image`] (`UnsupportedIsaExt`) when the image needs extension bits
    /// outside [`hsx_vm::ISA_EXT_SUPPORTED`] (nothing is registered, no PID consumed),
    /// [`ExecError::AppExists`], [`ExecError::MetadataValueDuplicate`],
    /// [`ExecError::MetadataCommandDuplicate`], [`ExecError::MetadataValue`],
    /// [`ExecError::MetadataCommand`], [`ExecError::MetadataMailbox`],
    /// [`ExecError::MailboxRegister`], [`ExecError::TooManyTasks`], [`ExecError::OutOfMemory`].
    pub fn load_image(
        &mut self,
        image: &Image,
        opts: LoadOptions,
    ) -> Result<LoadReport, ExecError> {
        self.touch();
        self.load_with(
            image,
            C::from_image(&image.code),
            has_brk(image),
            opts,
            None,
        )
    }

    fn load_with(
        &mut self,
        image: &Image,
        code: C,
        may_brk: bool,
        opts: LoadOptions,
        reserved: Option<u32>,
    ) -> Result<LoadReport, ExecError> {
        self.refresh_clock();
        // A parsed image has only known bits; one built in memory may ask for anything.
        let unsupported = image.isa_ext & !hsx_vm::ISA_EXT_SUPPORTED;
        if unsupported != 0 {
            return Err(ExecError::Image(hsx_image::LoadError::UnsupportedIsaExt {
                bits: unsupported,
            }));
        }
        // Open load sessions hold their PIDs' places in the table.
        if self.pids.len() + self.loads.len() >= self.cfg.max_tasks {
            return Err(ExecError::TooManyTasks);
        }
        let pid = reserved.unwrap_or_else(|| {
            let p = self.next_pid;
            self.next_pid = self.next_pid.saturating_add(1);
            p
        });

        let base = base_name(image, &opts, pid);
        let app_name = self.instance_name(&base, image.allow_multiple_instances())?;
        check_duplicates(&image.metadata)?;
        self.check_mailbox_room(pid, &image.metadata)?;

        let sizes = task_sizes(&self.cfg, image, &opts);
        let mem = new_task_mem(self.cfg.mem_layout, sizes).ok_or(ExecError::OutOfMemory)?;

        // Values, then commands; roll back the registry on the first failure.
        let (value_oids, command_oids) = match self.register_metadata(pid, &image.metadata) {
            Ok(v) => v,
            Err(e) => {
                self.registry.release_pid(pid);
                self.pump();
                return Err(e);
            }
        };

        // Default mailboxes; the room check above makes failure unexpected, but roll back.
        let stdio = match self.mailboxes.register_task(pid) {
            Ok(h) => h,
            Err(e) => {
                self.mailboxes.release_pid(pid);
                self.registry.release_pid(pid);
                self.pump();
                return Err(ExecError::MailboxRegister(e));
            }
        };
        let mut mailbox_creation = Vec::new();
        for entry in &image.metadata.mailboxes {
            let bind_pid = entry.owner_pid.unwrap_or(pid);
            let capacity = entry.capacity;
            let mode_mask = if entry.mode_mask == 0 {
                mode::RDWR
            } else {
                entry.mode_mask
            };
            match self
                .mailboxes
                .bind(bind_pid, &entry.target, capacity, mode_mask)
            {
                Ok(id) => {
                    let info = self.mailboxes.descriptor_info(id);
                    mailbox_creation.push(MailboxCreation {
                        target: entry.target.clone(),
                        descriptor: id,
                        capacity: info.as_ref().map_or(capacity, |d| d.capacity),
                        mode_mask: info.as_ref().map_or(mode_mask, |d| d.mode_mask),
                        owner_pid: info.and_then(|d| d.owner_pid),
                    });
                }
                Err(error) => {
                    self.mailboxes.release_pid(pid);
                    self.registry.release_pid(pid);
                    self.pump();
                    return Err(ExecError::MetadataMailbox {
                        target: entry.target.clone(),
                        error,
                    });
                }
            }
        }

        // The VM task and the executive record.
        let cfg = TaskConfig::executive(image.entry, sizes.stack).with_isa_ext(image.isa_ext);
        // From the code itself: an image loaded in place has no copy of it in `image`.
        let code_len = hsx_vm::CodeView::len_bytes(code.view());
        let mut vm_task = Task::new(code, mem, &image.rodata, cfg);
        let trace = self.cfg.trace_default && crate::debug::TRACE_SUPPORTED;
        vm_task.set_trace(trace);
        vm_task.set_watchdog(opts.watchdog.unwrap_or(self.cfg.watchdog.instructions));
        let slot = self.free_slot();
        let store = self.vm.store_mut();
        if store.len() <= slot {
            store.resize_with(slot + 1, || None);
        }
        if let Some(s) = store.get_mut(slot) {
            *s = Some(Box::new(vm_task));
        }
        for stream in StdioStream::ALL {
            if let Ok(d) = self.mailboxes.descriptor_of(pid, stdio.get(stream)) {
                self.stdio_desc.insert(d, (pid, stream));
            }
        }
        let summary = summarize(image, code_len);
        let mut debug = TaskDebug {
            trace,
            ..TaskDebug::default()
        };
        debug.refresh();
        let rec = TaskRec {
            pid,
            state: TaskState::Ready,
            app_name: app_name.clone(),
            app_name_base: base.clone(),
            filepath: opts.path.clone(),
            image: summary,
            #[cfg(feature = "task-metadata")]
            metadata: image.metadata.clone(),
            #[cfg(feature = "task-metadata")]
            mailbox_creation: mailbox_creation.clone(),
            quantum: self.cfg.default_quantum.max(1),
            priority: self.cfg.default_priority,
            exit_status: None,
            fault: None,
            wait: None,
            sleep: None,
            timer_gen: 0,
            counters: SchedCounters::default(),
            last_transition: Some(Transition {
                from: None,
                to: TaskState::Ready,
                reason: StateReason::Loaded,
                ts_ms: self.now_ms,
            }),
            stdio: Some(stdio),
            debug,
            resources_released: false,
            caps_reported: 0,
            budgets_reported: 0,
            budget_hits: [0; 7],
            bank: 0,
            pending: None,
            may_brk,
        };
        if self.tasks.len() <= slot {
            self.tasks.resize_with(slot + 1, || None);
        }
        if let Some(t) = self.tasks.get_mut(slot) {
            *t = Some(rec);
        }
        self.pids.insert(pid, slot);
        self.enqueue(slot);
        self.emit(
            Some(pid),
            EventKind::TaskState {
                prev_state: None,
                new_state: TaskState::Ready,
                reason: StateReason::Loaded,
                details: Box::new(StateDetails {
                    pc: Some(image.entry),
                    ..StateDetails::default()
                }),
            },
        );
        Ok(LoadReport {
            pid,
            app_name,
            app_name_base: base,
            filepath: opts.path,
            image: summary,
            value_oids,
            command_oids,
            mailbox_creation,
        })
    }

    fn free_slot(&self) -> usize {
        let store = self.vm.store();
        (0..store.len())
            .find(|&i| store.get(i).is_some_and(Option::is_none) && self.rec(i).is_none())
            .unwrap_or(store.len().max(self.tasks.len()))
    }

    /// `services.md` §3.5: the base name if free, else `app_exists:<base>` or the first free
    /// `base_#N` (trimmed so the result stays within 31 characters).
    fn instance_name(&self, base: &str, allow_multiple: bool) -> Result<String, ExecError> {
        let taken = |n: &str| self.tasks.iter().flatten().any(|r| r.app_name == n);
        if !taken(base) {
            return Ok(String::from(base));
        }
        if !allow_multiple {
            return Err(ExecError::AppExists(String::from(base)));
        }
        let mut i = 0u32;
        loop {
            let suffix = crate::names::join_num("_#", "", Some(i));
            let keep = APP_NAME_MAX.saturating_sub(suffix.chars().count());
            let mut trimmed: String = base.chars().take(keep).collect();
            if trimmed.is_empty() {
                trimmed = String::from("app");
            }
            let candidate = crate::names::join_num(&trimmed, &suffix, None);
            if !taken(&candidate) {
                return Ok(candidate);
            }
            i = i.saturating_add(1);
        }
    }

    /// Make sure binding the task's default mailboxes and its `.mailbox` entries cannot fail
    /// half-way: every target parses and the descriptor pool / handle quota has room.
    fn check_mailbox_room(&self, pid: u32, meta: &Metadata) -> Result<(), ExecError> {
        let mut new_keys = VecSet::new();
        let defaults = [
            String::from(StdioStream::In.target()),
            String::from(StdioStream::Out.target()),
            String::from(StdioStream::Err.target()),
            crate::names::join_num("pid:", "", Some(pid)),
        ];
        for t in &defaults {
            let key = self
                .mailboxes
                .parse_target(pid, t)
                .map_err(ExecError::MailboxRegister)?;
            if self.mailboxes.find(pid, t).is_none() {
                new_keys.insert(key);
            }
        }
        let default_new = new_keys.len();
        for entry in &meta.mailboxes {
            let bind_pid = entry.owner_pid.unwrap_or(pid);
            let key = self
                .mailboxes
                .parse_target(bind_pid, &entry.target)
                .map_err(|error| ExecError::MetadataMailbox {
                    target: entry.target.clone(),
                    error,
                })?;
            if self.mailboxes.find(bind_pid, &entry.target).is_none() {
                new_keys.insert(key);
            }
        }
        let max = self.mailboxes.config().max_descriptors as usize;
        let used = self.mailboxes.descriptor_count();
        if used + default_new > max {
            return Err(ExecError::MailboxRegister(MailboxError::NoDescriptor));
        }
        if used + new_keys.len() > max {
            let target = meta
                .mailboxes
                .first()
                .map_or_else(String::new, |m| m.target.clone());
            return Err(ExecError::MetadataMailbox {
                target,
                error: MailboxError::NoDescriptor,
            });
        }
        if self
            .mailboxes
            .config()
            .handle_limit_per_pid
            .is_some_and(|l| l < 3)
        {
            return Err(ExecError::MailboxRegister(MailboxError::HandleLimit));
        }
        Ok(())
    }

    fn register_metadata(
        &mut self,
        pid: u32,
        meta: &Metadata,
    ) -> Result<(Vec<u16>, Vec<u16>), ExecError> {
        let mut values = Vec::with_capacity(meta.values.len());
        for v in &meta.values {
            let m = MetaValue {
                group: v.group,
                id: v.id,
                flags: v.flags,
                auth: v.auth,
                init: v.init,
                name: v.name.as_deref(),
                unit: v.unit.as_deref(),
                epsilon: v.epsilon,
                min: v.min,
                max: v.max,
                persist_key: v.persist_key,
                group_name: v.group_name.as_deref(),
                rate_ms: 0,
                debounce_ms: 0,
            };
            let oid = self
                .registry
                .register_value_from_meta(pid, &m)
                .map_err(|error| ExecError::MetadataValue {
                    group: v.group,
                    id: v.id,
                    error,
                })?;
            values.push(oid);
        }
        let mut commands = Vec::with_capacity(meta.commands.len());
        for c in &meta.commands {
            let m = MetaCommand {
                group: c.group,
                id: c.id,
                flags: c.flags,
                auth: c.auth,
                handler: c.handler,
                name: c.name.as_deref(),
                help: c.help.as_deref(),
                group_name: c.group_name.as_deref(),
            };
            let oid = self
                .registry
                .register_command_from_meta(pid, &m)
                .map_err(|error| ExecError::MetadataCommand {
                    group: c.group,
                    id: c.id,
                    error,
                })?;
            commands.push(oid);
        }
        Ok((values, commands))
    }
}

/// Header name, else the given name, else the file stem, else `task_<pid>`; trimmed and cut
/// to 31 characters; empty → `app`.
fn base_name(image: &Image, opts: &LoadOptions, pid: u32) -> String {
    let candidates = [
        image.app_name.clone(),
        opts.name.clone(),
        opts.path.as_deref().map(file_stem),
    ];
    for c in candidates.into_iter().flatten() {
        let n = normalise(&c);
        if !n.is_empty() {
            return n;
        }
    }
    let n = normalise(&crate::names::join_num("task_", "", Some(pid)));
    if n.is_empty() { String::from("app") } else { n }
}

fn normalise(name: &str) -> String {
    name.trim().chars().take(APP_NAME_MAX).collect()
}

/// `Path(p).stem`: the last component without its final extension.
fn file_stem(path: &str) -> String {
    let last = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match last.rfind('.') {
        Some(i) if i > 0 => String::from(last.get(..i).unwrap_or(last)),
        _ => String::from(last),
    }
}

/// Whether the code holds a BRK word (such a task never runs ahead).
fn has_brk(image: &Image) -> bool {
    has_brk_in(&image.code)
}

/// Whether any (big-endian) code word is a BRK.
fn has_brk_in(code: &[u8]) -> bool {
    code.chunks_exact(4)
        .any(|w| w[0] == hsx_vm::isa::Opcode::Brk as u8)
}

fn check_duplicates(meta: &Metadata) -> Result<(), ExecError> {
    let mut seen = VecSet::new();
    for v in &meta.values {
        if !seen.insert((v.group, v.id)) {
            return Err(ExecError::MetadataValueDuplicate {
                group: v.group,
                id: v.id,
            });
        }
    }
    seen.clear();
    for c in &meta.commands {
        if !seen.insert((c.group, c.id)) {
            return Err(ExecError::MetadataCommandDuplicate {
                group: c.group,
                id: c.id,
            });
        }
    }
    Ok(())
}

fn summarize(image: &Image, code_len: u32) -> ImageSummary {
    let m = &image.metadata;
    let sections = usize::from(image.hints.is_some())
        + usize::from(!m.values.is_empty())
        + usize::from(!m.commands.is_empty())
        + usize::from(!m.mailboxes.is_empty())
        + m.other.len();
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    ImageSummary {
        entry: image.entry,
        code_len,
        ro_len: len32(image.rodata.len()),
        bss: image.bss_size,
        version: image.version,
        flags: image.flags,
        req_caps: image.req_caps,
        crc32: image.crc32,
        allow_multiple_instances: image.allow_multiple_instances(),
        manifest_present: image.manifest_present(),
        isa_ext: image.isa_ext,
        metadata: MetadataCounts {
            sections,
            values: m.values.len(),
            commands: m.commands.len(),
            mailboxes: m.mailboxes.len(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(file_stem("/a/b/demo.hxe"), "demo");
        assert_eq!(file_stem(r"C:\x\prog.v2.hxe"), "prog.v2");
        assert_eq!(file_stem("noext"), "noext");
        assert_eq!(file_stem(".hidden"), ".hidden");
    }
}
