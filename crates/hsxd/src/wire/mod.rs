//! The JSON shapes that go on the wire, as `serde::Serialize` types.
//!
//! Every record a reply or an event carries (tasks, registers, the clock, mailbox and value
//! records, event payloads, the `load` image) is a struct here, named after the
//! `docs/protocol.md` section that fixes its shape, so the document and the code can be
//! read side by side. Command files build these from executive data and never spell keys
//! themselves. Field names are the wire keys; an `Option` field marked
//! `skip_serializing_if` is a key that is left out (rather than `null`) when absent.
//!
//! Key order on the wire is alphabetical (the protocol's objects are `serde_json` maps), so
//! field order here follows the document, not the output.

pub mod clock;
pub mod event;
pub mod info;
pub mod mailbox;
pub mod task;
pub mod values;

use serde::Serialize;
use serde_json::Value;

/// A wire record as a JSON value. These types hold only strings, numbers, booleans,
/// sequences and string-keyed maps, which always serialise; `Null` is never produced.
pub fn to_value<T: Serialize>(record: &T) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}
