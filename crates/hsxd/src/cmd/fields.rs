//! Request-field errors in the reference's words, shared by the command files.

use crate::args::{Obj, field, int_as};
use crate::error::ProtoError;

/// The reference's error for a missing field: `<what> requires '<field>'`.
pub(crate) fn requires(what: &str, field: &str) -> ProtoError {
    ProtoError::msg(format!("{what} requires '{field}'"))
}

/// A required `pid`: missing → `<what> requires 'pid'`.
pub(crate) fn req_pid(what: &str, obj: &Obj) -> Result<u32, ProtoError> {
    match field(obj, "pid") {
        None => Err(requires(what, "pid")),
        Some(v) => Ok(int_as("pid", v)?),
    }
}
