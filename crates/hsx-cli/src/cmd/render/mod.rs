//! Human renderings of hsxd replies. Pure functions from reply JSON to text, so the
//! tables can be unit-tested and reused by the shell. Missing or odd fields print as `-`;
//! nothing here trusts the reply's shape.
//!
//! One file per command family; `fields` holds what they share. Callers use the
//! re-exports below.

mod clock;
mod code;
mod debug;
mod events;
mod fields;
mod mailbox;
mod memory;
mod tasks;
mod values;

pub use clock::{clock, sched_stats, step};
pub use code::{DisLine, dis_lines, disasm, sym_lookup, symbols};
pub use debug::{breakpoints, stack, trace, watch};
pub use events::{dmesg, event};
pub use fields::{as_u64, decode_hex, hex_addr, num, psw_flags, text};
pub use mailbox::{channels, listen_text, mailboxes, message_bytes, namespace, send};
pub use memory::{hexdump, regions, registers};
pub use tasks::{budgets, image, info, ps, task_line};
pub use values::{
    command, command_list, command_status, inner_status, value, value_list, value_status,
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn odd_shapes_do_not_panic() {
        for v in [
            json!(null),
            json!([]),
            json!({"tasks": 5}),
            json!({"stack": {"frames": [1, null]}}),
        ] {
            let _ = ps(&v, true);
            let _ = info(&v, true);
            let _ = stack(&v);
            let _ = disasm(&v, None, &[]);
            let _ = mailboxes(&v);
            let _ = trace(&v);
            let _ = watch(&v);
            let _ = step(&v);
            let _ = event(&v, true);
            let _ = sched_stats(&v);
            let _ = value_list(&v);
        }
        assert_eq!(
            value(&json!({"value":{"status":1}}), 0x101),
            "0x0101: ENOENT (1)\n"
        );
    }
}
