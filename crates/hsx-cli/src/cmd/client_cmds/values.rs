//! `val` and `cmd`: values and commands, where a non-zero status is the command's failure.

use serde_json::{Value, json};

use super::super::remote::{CmdOp, ValOp};
use super::super::render;
use super::{CmdError, CmdResult, Ctx};
use crate::client::request;

impl Ctx {
    pub(super) fn val(&mut self, op: &ValOp) -> CmdResult {
        match op {
            ValOp::Get { oid, pid } => {
                let reply = self.call(&request("val.get", json!({"oid": oid, "pid": pid})))?;
                self.value_reply(&reply, *oid)
            }
            ValOp::Set { oid, value, pid } => {
                let reply = self.call(&request(
                    "val.set",
                    json!({"oid": oid, "value": value, "pid": pid}),
                ))?;
                self.value_reply(&reply, *oid)
            }
            ValOp::Ls { pid, group } => {
                let reply = self.call(&request("val.list", json!({"pid": pid, "group": group})))?;
                self.print(&render::value_list(&reply))
            }
        }
    }

    /// A failed status is the one error line.
    fn value_reply(&mut self, reply: &Value, oid: u16) -> CmdResult {
        match render::inner_status(reply, "value") {
            Some(0) | None => self.print(&render::value(reply, oid)),
            Some(s) => {
                let (name, what) = render::value_status(s);
                Err(CmdError::Failed(format!(
                    "value 0x{oid:04X}: {what} ({name})"
                )))
            }
        }
    }

    pub(super) fn cmd(&mut self, op: &CmdOp) -> CmdResult {
        match op {
            CmdOp::Call {
                oid,
                pid,
                async_call,
            } => {
                let reply = self.call(&request(
                    "cmd.call",
                    json!({"oid": oid, "pid": pid, "async": async_call.then_some(true)}),
                ))?;
                match render::inner_status(&reply, "command") {
                    Some(0) | None => self.print(&render::command(&reply, *oid)),
                    Some(s) => {
                        let (name, what) = render::command_status(s);
                        Err(CmdError::Failed(format!(
                            "command 0x{oid:04X}: {what} ({name})"
                        )))
                    }
                }
            }
            CmdOp::Ls { pid, group } => {
                let reply = self.call(&request("cmd.list", json!({"pid": pid, "group": group})))?;
                self.print(&render::command_list(&reply))
            }
        }
    }
}
