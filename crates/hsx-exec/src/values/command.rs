//! Commands: registration (SVC, guest memory, image metadata), handlers and the PIN
//! validator, call checks, synchronous and asynchronous calls, help and listing.

use alloc::string::String;
use alloc::vec::Vec;

use super::abi::{CmdError, auth, cmd_flag, completion_frame, oid};
use super::chain::{CommandDesc, GuestMem, parse_command_chain};
use super::events::ValEvent;
use super::params::{Caller, CommandHandler, MetaCommand, TokenValidator};
use super::registry::Registry;
use super::report::{CommandInfo, ListFilter};
use super::store::{CommandEntry, Key, list_in_order, resolve};
use crate::mailbox::port::MailboxPort;
use crate::status::cmd as cst;

impl Registry {
    // ---------------------------------------------------------------------- commands

    pub(super) fn resolve_command(
        &self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
    ) -> Option<Key> {
        resolve(&self.commands, oid, owner, caller, |e| e.seq)
    }

    /// Register a command owned by `owner` with no handler (install a host built-in with
    /// [`Self::set_command_handler`]).
    ///
    /// # Errors
    /// `Exists`, `NoSpace`.
    pub fn register_command(
        &mut self,
        owner: u32,
        group: u8,
        id: u8,
        flags: u8,
        auth_level: u8,
        descs: &[CommandDesc],
    ) -> Result<u16, CmdError> {
        self.register_command_with(
            owner,
            group,
            id,
            flags,
            auth_level,
            descs,
            CommandHandler::None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn register_command_with(
        &mut self,
        owner: u32,
        group: u8,
        id: u8,
        flags: u8,
        auth_level: u8,
        descs: &[CommandDesc],
        handler: CommandHandler,
    ) -> Result<u16, CmdError> {
        let oid = oid(group, id);
        if self.commands.contains_key(&(oid, owner)) {
            return Err(CmdError::Exists);
        }
        if self.commands.len() >= self.limits.max_commands {
            return Err(CmdError::NoSpace);
        }
        if owner != 0
            && self.commands.values().filter(|e| e.owner == owner).count()
                >= self.limits.commands_per_task
        {
            return Err(CmdError::Quota);
        }
        let mut texts: Vec<&str> = Vec::new();
        for d in descs {
            match d {
                CommandDesc::Group { name } => texts.push(name),
                CommandDesc::Name { name, help } => {
                    texts.push(name);
                    texts.push(help);
                }
            }
        }
        if !self.strings.insert_all(&texts) {
            return Err(CmdError::NoSpace);
        }
        let desc_head = self.alloc_desc_offsets(descs.iter().map(CommandDesc::pool_size));
        let mut e = CommandEntry {
            group,
            id,
            flags,
            auth: auth_level,
            owner,
            seq: self.next_seq,
            desc_head,
            handler,
            group_name: None,
            name: None,
            help: None,
            has_name_desc: false,
        };
        self.next_seq += 1;
        for d in descs {
            match d {
                CommandDesc::Group { name } => e.group_name = Some(name.clone()),
                CommandDesc::Name { name, help } => {
                    e.has_name_desc = true;
                    e.name = Some(name.clone());
                    e.help = Some(help.clone());
                }
            }
        }
        self.commands.insert((oid, owner), e);
        self.note_command_usage();
        self.emit(ValEvent::CmdRegistered {
            pid: owner,
            oid,
            flags,
            auth_level,
            desc_head,
        });
        Ok(oid)
    }

    /// CMD_REGISTER from guest memory (CMD_NAME descriptors only, auth PUBLIC, no handler).
    ///
    /// # Errors
    /// `Invalid`, `Exists`, `NoSpace`.
    pub fn register_command_from_guest<M: GuestMem + ?Sized>(
        &mut self,
        pid: u32,
        group: u8,
        id: u8,
        flags: u8,
        mem: &M,
        desc_ptr: u16,
    ) -> Result<u16, CmdError> {
        let descs = parse_command_chain(mem, desc_ptr)?;
        self.register_command(pid, group, id, flags, auth::PUBLIC, &descs)
    }

    /// Register a `.cmd` metadata entry (`services.md` §3.3 step 6): GROUP and CMD_NAME
    /// descriptors, handler = the guest code offset.
    ///
    /// # Errors
    /// `Exists`, `NoSpace`.
    pub fn register_command_from_meta(
        &mut self,
        pid: u32,
        m: &MetaCommand<'_>,
    ) -> Result<u16, CmdError> {
        let mut descs = Vec::new();
        if let Some(g) = m.group_name.filter(|s| !s.is_empty()) {
            descs.push(CommandDesc::Group {
                name: String::from(g),
            });
        }
        let name = m.name.filter(|s| !s.is_empty());
        let help = m.help.filter(|s| !s.is_empty());
        if name.is_some() || help.is_some() {
            descs.push(CommandDesc::Name {
                name: String::from(name.unwrap_or("")),
                help: String::from(help.unwrap_or("")),
            });
        }
        self.register_command_with(
            pid,
            m.group,
            m.id,
            m.flags,
            m.auth,
            &descs,
            CommandHandler::Guest(m.handler),
        )
    }

    /// Install (or replace) a host handler on an existing command.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn set_command_handler(
        &mut self,
        oid: u16,
        owner: u32,
        handler: CommandHandler,
    ) -> Result<(), CmdError> {
        let e = self
            .commands
            .get_mut(&(oid, owner))
            .ok_or(CmdError::NotFound)?;
        e.handler = handler;
        Ok(())
    }

    /// Install the PIN token validator (without one, PIN commands always fail EPERM).
    pub fn set_token_validator(&mut self, validator: Option<TokenValidator>) {
        self.validator = validator;
    }

    /// CMD_LOOKUP.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn lookup_command(&self, group: u8, id: u8, owner: Option<u32>) -> Result<u16, CmdError> {
        let oid = oid(group, id);
        self.resolve_command(oid, owner, Caller::HOST)
            .map(|_| oid)
            .ok_or(CmdError::NotFound)
    }

    /// The guest handler `(owner pid, code offset)` a call would run, if the command has
    /// one and the call passes its checks.
    ///
    /// # Errors
    /// The call's own errors (`NotFound`, `NoAsync`, `PermissionDenied`).
    pub(crate) fn guest_handler(
        &self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        token: Option<&[u8]>,
        need_async: bool,
    ) -> Result<Option<(u32, u32)>, CmdError> {
        let k = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)?;
        let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
        if need_async && e.flags & cmd_flag::ASYNC == 0 {
            return Err(CmdError::NoAsync);
        }
        self.check_call(k, caller, token)?;
        Ok(match e.handler {
            // Offset 0: the `.cmd` entry named no handler.
            CommandHandler::Guest(entry) if entry != 0 => Some((e.owner, entry)),
            _ => None,
        })
    }

    /// The outcome of the guest handler the executive ran for the next call.
    pub(crate) fn set_guest_outcome(&mut self, outcome: Option<Result<Option<u32>, CmdError>>) {
        self.guest_outcome = outcome;
    }

    pub(super) fn check_call(
        &self,
        k: Key,
        caller: Caller,
        token: Option<&[u8]>,
    ) -> Result<(), CmdError> {
        let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
        if caller.pid().is_some_and(|p| p != e.owner) {
            return Err(CmdError::PermissionDenied);
        }
        if caller.auth() < e.auth {
            return Err(CmdError::PermissionDenied);
        }
        if e.flags & cmd_flag::PIN != 0 {
            let caller_pid = caller.pid().unwrap_or(e.owner);
            let ok = self
                .validator
                .as_ref()
                .is_some_and(|v| v(k.0, e.owner, caller_pid, token));
            if !ok {
                return Err(CmdError::PermissionDenied);
            }
        }
        Ok(())
    }

    pub(super) fn run(
        &mut self,
        k: Key,
        caller: Caller,
        is_async: bool,
    ) -> Result<Option<u32>, CmdError> {
        let Some(e) = self.commands.get_mut(&k) else {
            return Err(CmdError::NotFound);
        };
        let owner = e.owner;
        let caller_pid = caller.pid().unwrap_or(owner);
        let outcome = match &mut e.handler {
            CommandHandler::None => Ok(None),
            // Run by the executive just before (see `set_guest_outcome`).
            CommandHandler::Guest(_) => self.guest_outcome.take().unwrap_or(Ok(None)),
            CommandHandler::Host(h) => h(caller.pid().unwrap_or(0)).map_err(|_| CmdError::Failed),
        };
        self.emit(ValEvent::CmdInvoked {
            caller_pid,
            owner_pid: owner,
            oid: k.0,
            is_async,
        });
        let (status, result) = completion_parts(&outcome);
        self.emit(ValEvent::CmdCompleted {
            caller_pid,
            owner_pid: owner,
            oid: k.0,
            status,
            result,
        });
        outcome
    }

    /// CMD_CALL: checks (not found, owner-only for tasks, auth level, PIN token), then runs
    /// the handler. Returns the numeric result for R1 (`None`: leave R1 untouched).
    ///
    /// # Errors
    /// `NotFound`, `PermissionDenied`, `Failed`.
    pub fn call_command(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        token: Option<&[u8]>,
    ) -> Result<Option<u32>, CmdError> {
        let k = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)?;
        self.check_call(k, caller, token)?;
        self.run(k, caller, false)
    }

    /// CMD_CALL_ASYNC: open a reply handle on `reply_target` (for the caller; PID 0 for the
    /// host), check, run the handler deterministically now and post the completion frame
    /// `<oid><status>[<result>]` to the reply handle. Returns the handle. The handle is
    /// closed on any error, and when the completion cannot be posted.
    ///
    /// # Errors
    /// `Invalid` (empty target / open failure), `NotFound`, `NoAsync`, `PermissionDenied`.
    pub fn call_command_async(
        &mut self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
        token: Option<&[u8]>,
        reply_target: &str,
        port: &mut dyn MailboxPort,
    ) -> Result<u32, CmdError> {
        if reply_target.is_empty() {
            return Err(CmdError::Invalid);
        }
        let reply_pid = caller.pid().unwrap_or(0);
        let handle = port
            .open(reply_pid, reply_target)
            .map_err(|_| CmdError::Invalid)?;
        let checked = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)
            .and_then(|k| {
                let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
                if e.flags & cmd_flag::ASYNC == 0 {
                    return Err(CmdError::NoAsync);
                }
                self.check_call(k, caller, token)?;
                Ok(k)
            });
        let k = match checked {
            Ok(k) => k,
            Err(err) => {
                port.close(reply_pid, handle);
                return Err(err);
            }
        };
        let (status, result) = completion_parts(&self.run(k, caller, true));
        let frame = completion_frame(oid, status, result);
        if port.post(reply_pid, handle, &frame).is_err() {
            port.close(reply_pid, handle);
        }
        Ok(handle)
    }

    /// CMD_HELP text (empty if the descriptor has none).
    ///
    /// # Errors
    /// `NotFound` (no command, or no CMD_NAME descriptor).
    pub fn command_help(
        &self,
        oid: u16,
        owner: Option<u32>,
        caller: Caller,
    ) -> Result<&str, CmdError> {
        let k = self
            .resolve_command(oid, owner, caller)
            .ok_or(CmdError::NotFound)?;
        let e = self.commands.get(&k).ok_or(CmdError::NotFound)?;
        if !e.has_name_desc {
            return Err(CmdError::NotFound);
        }
        Ok(e.help.as_deref().unwrap_or(""))
    }

    /// OIDs of commands in registration order, filtered by group and owner.
    #[must_use]
    pub fn list_commands(&self, group_filter: u8, owner: Option<u32>) -> Vec<u16> {
        list_in_order(&self.commands, group_filter, owner, |e| {
            (e.group, e.owner, e.seq)
        })
    }

    /// `cmd.list`: matching commands sorted by `(oid, owner)`.
    #[must_use]
    pub fn describe_commands(&self, f: &ListFilter<'_>) -> Vec<CommandInfo> {
        self.commands
            .iter()
            .filter(|((oid, own), e)| f.matches(*oid, *own, e.group, e.name.as_deref()))
            .map(|((oid, _), e)| CommandInfo {
                oid: *oid,
                group_id: e.group,
                cmd_id: e.id,
                flags: e.flags,
                auth_level: e.auth,
                owner_pid: e.owner,
                handler_addr: match e.handler {
                    CommandHandler::Guest(a) => Some(a),
                    _ => None,
                },
                host_handler: matches!(e.handler, CommandHandler::Host(_)),
                desc_head: e.desc_head,
                group_name: e.group_name.clone(),
                name: e.name.clone(),
                help: e.help.clone(),
            })
            .collect()
    }
}

/// A command outcome as the completion reports it: status code and result.
fn completion_parts(outcome: &Result<Option<u32>, CmdError>) -> (u16, Option<u32>) {
    match outcome {
        Ok(r) => (cst::OK, *r),
        Err(err) => (err.code(), None),
    }
}
