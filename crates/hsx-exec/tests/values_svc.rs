//! Values/commands over SVC (`services.md` §8 cases 17, 21, 22), HXE v2 metadata
//! preprocessing (case 24) and app instance names (case 25).

mod common;
use common::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use hsx_exec::mailbox::{MailboxConfig, MailboxError, Namespace};
use hsx_exec::persist::MemPersist;
use hsx_exec::status::{cmd, val};
use hsx_exec::values::{CommandHandler, ListFilter};
use hsx_exec::{
    Backends, ExecConfig, ExecError, Executive, LoadOptions, MemFs, TaskState, VirtualClock,
};
use hsx_image::{CommandEntry, Image, MailboxEntry, ValueEntry};

const F16_1: u16 = 0x3C00;
const F16_3_5: u16 = 0x4300;
const F16_7_25: u16 = 0x4740;

fn exec_persist(records: &[(u16, u16)]) -> (Executive, VirtualClock) {
    let clock = VirtualClock::starting_at(1000);
    let ex = Executive::new(
        ExecConfig::default(),
        Backends::new(clock.clone())
            .with_fs(MemFs::new())
            .with_persist(MemPersist::with_records(records)),
    );
    (ex, clock)
}

fn stored(ex: &mut Executive, key: u16) -> Option<u16> {
    ex.registry_op(|r, _, _| r.persist_mut().and_then(|p| p.load(key)))
}

/// VAL_REGISTER g:id with descriptor chain at `desc` (0xFFFF = none) → oid in R1.
fn val_register(a: &mut Asm, g: i32, id: i32, flags: i32, desc: u32) {
    a.ldi(1, g)
        .ldi(2, id)
        .ldi(3, flags)
        .ldi32(4, desc)
        .svc(7, 0);
}

#[test]
fn case17_value_register_set_get_list_via_svc() {
    let (mut ex, _c) = exec();
    // rodata: NAME descriptor at 0x4000 -> name "speed" at 0x4010.
    let mut ro = vec![0u8; 0x20];
    ro[..6].copy_from_slice(&[0x02, 0x00, 0xFF, 0xFF, 0x10, 0x40]);
    ro[0x10..0x16].copy_from_slice(b"speed\0");
    let mut a = Asm::new();
    val_register(&mut a, 1, 1, 0, 0xFFFF);
    a.mov(10, 0).mov(11, 1);
    a.mov(1, 11).ldi32(2, u32::from(F16_1)).svc(7, 3).mov(12, 0);
    a.mov(1, 11).svc(7, 2).mov(13, 0);
    val_register(&mut a, 1, 2, 0, 0x4000);
    a.mov(14, 1);
    a.ldi(1, 1).ldi32(2, 0x5000).ldi(3, 8).svc(7, 4).ret();
    let pid = load(&mut ex, &a.build(), &ro);
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.regs[10], 0);
    assert_eq!(t.regs[11], 0x0101);
    assert_eq!(t.regs[12], 0);
    assert_eq!(
        t.regs[13], 0x3C00,
        "VAL_GET: f16 bits, status 0 in the upper half"
    );
    assert_eq!(t.regs[14], 0x0102);
    assert_eq!((t.regs[0], t.regs[1]), (0, 2));
    assert_eq!(
        ex.read_mem(pid, 0x5000, 4).unwrap(),
        [0x01, 0x01, 0x02, 0x01]
    );
    let vals = ex.val_list(&ListFilter {
        oid: Some(0x0102),
        ..ListFilter::default()
    });
    assert_eq!(vals[0].name.as_deref(), Some("speed"));
    assert_eq!(vals[0].owner_pid, pid);
    assert_eq!(ex.val_get(0x0101, None), Ok(F16_1));
    let names = names(&ex.drain_events());
    assert!(names.contains(&"value_registered"));
    assert!(names.contains(&"value_changed"));
}

#[test]
fn value_errors_and_lookup() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(1, 0x0909).svc(7, 2).mov(8, 0); // GET unknown
    a.ldi(1, 9).ldi(2, 9).svc(7, 1).mov(9, 0); // LOOKUP unknown
    val_register(&mut a, 2, 2, 0x01, 0xFFFF); // RO value
    a.mov(1, 1).ldi(2, 5).svc(7, 3).mov(10, 0); // SET RO
    val_register(&mut a, 2, 2, 0, 0xFFFF);
    a.mov(11, 0); // duplicate
    a.ldi(1, 2).ldi(2, 2).svc(7, 1).mov(12, 1); // LOOKUP -> oid
    val_register(&mut a, 3, 3, 0, 0x6000); // unknown descriptor tag -> EINVAL
    a.mov(13, 0).ret();
    let pid = load(&mut ex, &a.build(), &[]);
    ex.write_mem(pid, 0x6000, &[0x77, 0, 0xFF, 0xFF]).unwrap();
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!(t.regs[8], u32::from(val::ENOENT));
    assert_eq!(t.regs[9], u32::from(val::ENOENT));
    assert_eq!(t.regs[10], u32::from(val::EPERM));
    assert_eq!(t.regs[11], u32::from(val::EEXIST));
    assert_eq!(t.regs[12], 0x0202);
    assert_eq!(t.regs[13], u32::from(val::EINVAL));
}

fn cmd_image(flags_by_id: &[(u8, u8)]) -> Image {
    let mut a = Asm::new();
    a.ret();
    let mut img = image(&a.build(), &[]);
    for &(id, flags) in flags_by_id {
        img.metadata.commands.push(CommandEntry {
            group: 2,
            id,
            flags,
            // No guest handler (guest handlers are tested in cmd_handlers.rs).
            handler: 0,
            name: Some("reset".into()),
            help: Some("Reset motor".into()),
            ..CommandEntry::default()
        });
    }
    img
}

#[test]
fn case21_commands_help_owner_pin_and_async() {
    let (mut ex, _c) = exec();
    // Owner declares 2:1 plain, 2:2 PIN, 2:3 ASYNC in metadata; its code calls them.
    let mut ro = vec![0u8; 0x40];
    ro[..5].copy_from_slice(b"1234\0");
    ro[0x08..0x0D].copy_from_slice(b"9999\0");
    ro[0x10..0x1A].copy_from_slice(b"app:reply\0");
    let mut a = Asm::new();
    a.ldi32(1, 0x0201)
        .ldi32(2, 0x5000)
        .ldi(3, 64)
        .svc(8, 4)
        .mov(8, 0)
        .mov(9, 1);
    a.ldi32(1, 0x0202).ldi(2, 0).svc(8, 2).mov(10, 0); // PIN, no token
    a.ldi32(1, 0x0202).ldi32(2, 0x4008).svc(8, 2).mov(11, 0); // wrong token
    a.ldi32(1, 0x0202)
        .ldi32(2, 0x4000)
        .svc(8, 2)
        .mov(12, 0)
        .mov(13, 1); // right token
    a.ldi32(1, 0x0203)
        .ldi(2, 0)
        .ldi32(3, 0x4010)
        .svc(8, 3)
        .mov(14, 0)
        .mov(6, 1);
    // Poll the reply handle.
    a.mov(1, 6)
        .ldi32(2, 0x5100)
        .ldi(3, 16)
        .ldi(4, 0)
        .ldi(5, 0)
        .svc(5, 3)
        .ret();
    let mut img = image(&a.build(), &ro);
    img.metadata = cmd_image(&[(1, 0), (2, 0x01), (3, 0x02)]).metadata;
    let owner = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    let runs = Arc::new(AtomicU32::new(0));
    let r2 = runs.clone();
    ex.registry_op(|reg, _, _| {
        reg.set_token_validator(Some(Box::new(|_oid, _owner, _caller, tok| {
            tok == Some(b"1234".as_slice())
        })));
        reg.set_command_handler(
            0x0202,
            owner,
            CommandHandler::Host(Box::new(move |_caller| {
                r2.fetch_add(1, Ordering::SeqCst);
                Ok(Some(42))
            })),
        )
        .unwrap();
    });
    // A non-owner may not call.
    let mut b = Asm::new();
    b.ldi32(1, 0x0201).ldi(2, 0).svc(8, 2).ret();
    let other = load(&mut ex, &b.build(), &[]);
    ex.step_pid(owner, 1000).unwrap();
    ex.step_pid(other, 1000).unwrap();
    let t = ex.task(owner).unwrap();
    assert_eq!((t.regs[8], t.regs[9]), (0, 11));
    assert_eq!(ex.read_mem(owner, 0x5000, 12).unwrap(), b"Reset motor\0");
    assert_eq!(t.regs[10], u32::from(cmd::EPERM));
    assert_eq!(t.regs[11], u32::from(cmd::EPERM));
    assert_eq!((t.regs[12], t.regs[13]), (0, 42));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "handler not run for rejected tokens"
    );
    assert_eq!(t.regs[14], 0);
    assert_eq!(
        (t.regs[0], t.regs[1]),
        (0, 4),
        "completion frame <oid><status>"
    );
    assert_eq!(
        ex.read_mem(owner, 0x5100, 4).unwrap(),
        [0x03, 0x02, 0x00, 0x00]
    );
    assert_eq!(ex.task(other).unwrap().regs[0], u32::from(cmd::EPERM));
    // Host calls act as the owner.
    assert_eq!(
        ex.cmd_call(0x0202, Some(owner), false),
        Err(hsx_exec::values::CmdError::PermissionDenied)
    );
    assert_eq!(ex.cmd_call(0x0201, None, false), Ok(None));
    assert_eq!(
        ex.cmd_call(0x0201, None, true),
        Err(hsx_exec::values::CmdError::NoAsync)
    );
    let n = names(&ex.drain_events());
    assert!(n.contains(&"cmd_invoked") && n.contains(&"cmd_completed"));
}

#[test]
fn case22_persistence_restored_value_wins_and_writes_go_through() {
    let (mut ex, clock) = exec_persist(&[(99, F16_3_5)]);
    // Metadata value 1:1 with key 99 (declared init 1.0) and 1:2 with key 17.
    let mut a = Asm::new();
    a.ldi32(1, 0x0102).ldi32(2, u32::from(F16_7_25)).svc(7, 3);
    // SVC-registered 1:3, flag PERSIST, PERSIST descriptor key 77 debounce 75 ms at 0x4000.
    val_register(&mut a, 1, 3, 0x02, 0x4000);
    a.ldi32(2, u32::from(F16_7_25)).svc(7, 3).ret();
    let ro = [0x05, 0x00, 0xFF, 0xFF, 77, 0, 75, 0];
    let mut img = image(&a.build(), &ro);
    for (id, key) in [(1u8, 99u16), (2, 17)] {
        img.metadata.values.push(ValueEntry {
            group: 1,
            id,
            init: F16_1,
            persist_key: key,
            ..ValueEntry::default()
        });
    }
    let pid = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    assert_eq!(
        ex.val_get(0x0101, Some(pid)),
        Ok(F16_3_5),
        "restored value wins over init"
    );
    assert_eq!(ex.val_get(0x0102, Some(pid)), Ok(F16_1));
    ex.step(1000);
    assert_eq!(
        stored(&mut ex, 17),
        Some(F16_7_25),
        "metadata key writes through"
    );
    assert_eq!(
        ex.registry().pending_writes().pending(77),
        Some((F16_7_25, 1075))
    );
    assert_eq!(stored(&mut ex, 77), None);
    assert_eq!(ex.next_deadline(), Some(1075));
    clock.advance(75);
    ex.step(1);
    assert_eq!(stored(&mut ex, 77), Some(F16_7_25));
    // Host set goes through persistence too.
    ex.val_set(0x0101, Some(pid), 7.25).unwrap();
    assert_eq!(stored(&mut ex, 99), Some(F16_7_25));
    assert_eq!(ex.flush_persistence(), 0);
}

#[test]
fn two_instances_may_declare_the_same_oids() {
    let (mut ex, _c) = exec();
    let mut img = image(&count_to(1), &[]);
    img.app_name = Some("multi".into());
    img.metadata.values.push(ValueEntry {
        group: 1,
        id: 1,
        init: F16_1,
        ..ValueEntry::default()
    });
    let a = ex.load_image(&img, LoadOptions::default()).unwrap();
    let b = ex.load_image(&img, LoadOptions::default()).unwrap();
    assert_eq!(
        (a.app_name.as_str(), b.app_name.as_str()),
        ("multi", "multi_#0")
    );
    assert_eq!(a.value_oids, vec![0x0101]);
    assert_eq!(b.value_oids, vec![0x0101]);
    ex.val_set(0x0101, Some(b.pid), 7.25).unwrap();
    assert_eq!(ex.val_get(0x0101, Some(a.pid)), Ok(F16_1));
    assert_eq!(ex.val_get(0x0101, Some(b.pid)), Ok(F16_7_25));
    ex.kill(a.pid).unwrap();
    assert_eq!(ex.val_list(&ListFilter::default()).len(), 1);
}

#[test]
fn case24_metadata_preprocessing_is_transactional() {
    let (mut ex, _c) = exec();
    // Duplicate value ids.
    let mut img = image(&count_to(1), &[]);
    for _ in 0..2 {
        img.metadata.values.push(ValueEntry {
            group: 4,
            id: 2,
            ..ValueEntry::default()
        });
    }
    let e = ex.load_image(&img, LoadOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "metadata_value_duplicate:4:2");
    // A bad mailbox target fails the load and leaves nothing registered.
    let mut img = image(&count_to(1), &[]);
    img.metadata.values.push(ValueEntry {
        group: 4,
        id: 3,
        ..ValueEntry::default()
    });
    img.metadata.commands.push(CommandEntry {
        group: 4,
        id: 3,
        ..CommandEntry::default()
    });
    img.metadata.mailboxes.push(MailboxEntry::new("app:ok"));
    img.metadata.mailboxes.push(MailboxEntry::new("pid:abc"));
    let before = ex.mailbox_snapshot().len();
    let e = ex.load_image(&img, LoadOptions::default()).unwrap_err();
    assert_eq!(
        e,
        ExecError::MetadataMailbox {
            target: "pid:abc".into(),
            error: MailboxError::BadTarget
        }
    );
    assert!(
        e.to_string()
            .starts_with("metadata_mailbox_bind_failed:pid:abc:")
    );
    assert!(ex.val_list(&ListFilter::default()).is_empty());
    assert!(ex.cmd_list(&ListFilter::default()).is_empty());
    assert_eq!(ex.mailbox_snapshot().len(), before);
    assert!(ex.pids().is_empty());
    // A good image: app:telemetry pre-created, duplicate targets → last wins.
    let mut img = image(&count_to(1), &[]);
    let mut t1 = MailboxEntry::new("app:telemetry");
    t1.capacity = 32;
    let mut t2 = MailboxEntry::new("app:telemetry");
    t2.capacity = 96;
    img.metadata
        .mailboxes
        .extend([t1, t2, MailboxEntry::new("svc:log")]);
    let rep = ex.load_image(&img, LoadOptions::default()).unwrap();
    assert_eq!(rep.pid, 3, "failed loads consume their PID");
    assert_eq!(rep.mailbox_creation.len(), 3);
    assert_eq!(rep.mailbox_creation[1].capacity, 96);
    assert_eq!(rep.mailbox_creation[2].owner_pid, Some(rep.pid));
    let tele = ex
        .mailbox_snapshot()
        .into_iter()
        .find(|d| d.name == "telemetry")
        .unwrap();
    assert_eq!(
        (tele.namespace, tele.owner_pid, tele.capacity),
        (Namespace::App, None, 96)
    );
    assert_eq!(ex.task(rep.pid).unwrap().image.metadata.mailboxes, 3);
}

#[test]
fn descriptor_pool_exhaustion_rolls_back_the_load() {
    let (mut ex, _c) = exec_with(ExecConfig {
        mailbox: MailboxConfig {
            max_descriptors: 6,
            ..MailboxConfig::desktop()
        },
        ..ExecConfig::default()
    });
    let first = load(&mut ex, &spin(), &[]);
    let mut img = image(&count_to(1), &[]);
    img.metadata.values.push(ValueEntry {
        group: 1,
        id: 1,
        ..ValueEntry::default()
    });
    let e = ex.load_image(&img, LoadOptions::default()).unwrap_err();
    assert_eq!(e, ExecError::MailboxRegister(MailboxError::NoDescriptor));
    assert!(ex.val_list(&ListFilter::default()).is_empty());
    assert_eq!(ex.pids(), vec![first]);
    assert_eq!(ex.mailbox_snapshot().len(), 4);
}

#[test]
fn case25_app_names() {
    let (mut ex, _c) = exec();
    let mut single = image(&spin(), &[]);
    single.app_name = Some("conflict".into());
    single.set_allow_multiple_instances(false);
    assert_eq!(
        ex.load_image(&single, LoadOptions::default())
            .unwrap()
            .app_name,
        "conflict"
    );
    let e = ex.load_image(&single, LoadOptions::default()).unwrap_err();
    assert_eq!(e.to_string(), "app_exists:conflict");
    let mut multi = image(&spin(), &[]);
    multi.app_name = Some("multi".into());
    let names: Vec<String> = (0..3)
        .map(|_| {
            ex.load_image(&multi, LoadOptions::default())
                .unwrap()
                .app_name
        })
        .collect();
    assert_eq!(names, vec!["multi", "multi_#0", "multi_#1"]);
    // No header name: the path stem, else the given name, else task_<pid>.
    let plain = image(&spin(), &[]);
    let r = ex
        .load_image(&plain, LoadOptions::path("/apps/blink.hxe"))
        .unwrap();
    assert_eq!(
        (r.app_name.as_str(), r.filepath.as_deref()),
        ("blink", Some("/apps/blink.hxe"))
    );
    assert_eq!(
        ex.task(r.pid).unwrap().filepath.as_deref(),
        Some("/apps/blink.hxe")
    );
    let r = ex.load_image(&plain, LoadOptions::named("given")).unwrap();
    assert_eq!(r.app_name, "given");
    let r = ex.load_image(&plain, LoadOptions::default()).unwrap();
    assert_eq!(r.app_name, format!("task_{}", r.pid));
    // Long names are cut to 31 characters, suffixed names too.
    let mut long = image(&spin(), &[]);
    long.app_name = Some("x".repeat(40));
    let a = ex
        .load_image(&long, LoadOptions::default())
        .unwrap()
        .app_name;
    let b = ex
        .load_image(&long, LoadOptions::default())
        .unwrap()
        .app_name;
    assert_eq!(a.len(), 31);
    assert_eq!(b, format!("{}_#0", "x".repeat(28)));
    // A returned task still holds its name; a killed one frees it.
    let pid = ex.pids()[0];
    ex.kill(pid).unwrap();
    assert_eq!(
        ex.load_image(&single, LoadOptions::default())
            .unwrap()
            .app_name,
        "conflict"
    );
    assert_eq!(
        ex.state(*ex.pids().last().unwrap()).unwrap(),
        TaskState::Ready
    );
}

#[test]
fn cmd_help_at_the_end_of_memory_keeps_the_nul() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    // CMD_HELP into 4 bytes before the end of memory with a buffer size far beyond it.
    a.ldi32(1, 0x0201)
        .ldi32(2, 0xFFFC)
        .ldi32(3, 0xFFFF)
        .svc(8, 4)
        .mov(8, 0)
        .mov(9, 1)
        .ret();
    let mut img = image(&a.build(), &[]);
    img.metadata = cmd_image(&[(1, 0)]).metadata;
    let pid = ex.load_image(&img, LoadOptions::default()).unwrap().pid;
    ex.step(1000);
    let t = ex.task(pid).unwrap();
    assert_eq!((t.regs[8], t.regs[9]), (0, 3), "3 text bytes + NUL fit");
    assert_eq!(ex.read_mem(pid, 0xFFFC, 16).unwrap(), b"Res\0");
}

#[test]
fn host_f64_values_round_like_the_vm() {
    use hsx_exec::values::f64_to_f16;
    // Just above a tie, with the excess only in the low word of the binary64.
    let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-21);
    assert_eq!(f64_to_f16(x), hsx_vm::fp16::f16_from_f64(x));
    assert_eq!(f64_to_f16(x), 0x3C01);
    assert_eq!(f64_to_f16(f64::NAN), 0x7E00);
    assert_eq!(f64_to_f16(1.0e6), 0x7C00);
}
