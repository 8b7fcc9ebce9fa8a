//! File-system SVC (module 0x04): sandbox rules on every path operation, per-task
//! descriptors, stdio routing of fds 0-2.

mod common;
use common::*;

use hsx_exec::status::fs;

/// rodata strings, 0x20 apart starting at 0x4000.
const PATHS: [&str; 8] = [
    "../../etc/passwd",
    "C:/windows/system32",
    r"\\network\share",
    "data/log.txt",
    "/abs",
    "a//b",
    "data/new.txt",
    "",
];

fn rodata() -> Vec<u8> {
    let mut r = vec![0u8; 0x20 * PATHS.len() + 0x20];
    for (i, p) in PATHS.iter().enumerate() {
        r[i * 0x20..i * 0x20 + p.len()].copy_from_slice(p.as_bytes());
    }
    r[0x20 * PATHS.len()..0x20 * PATHS.len() + 5].copy_from_slice(b"hello");
    r
}

fn path(i: usize) -> u32 {
    0x4000 + 0x20 * i as u32
}

const HELLO: u32 = 0x4000 + 0x20 * PATHS.len() as u32;

/// Store R0 at 0x6000 + 4*slot.
fn keep(a: &mut Asm, slot: i32) {
    a.ldi32(13, 0x6000).st(13, slot * 4, 0);
}

#[test]
fn sandbox_rejects_escapes_on_every_path_operation() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    for i in 0..4 {
        a.ldi32(1, path(i)).ldi(2, 0).svc(4, 0);
        keep(&mut a, i as i32);
    }
    a.ldi32(1, path(4)).svc(4, 0x0B); // DELETE /abs
    keep(&mut a, 4);
    a.ldi32(1, path(3)).ldi32(2, path(0)).svc(4, 0x0C); // RENAME to ../../
    keep(&mut a, 5);
    a.ldi32(1, path(5)).svc(4, 0x0D); // MKDIR a//b
    keep(&mut a, 6);
    a.ldi32(1, path(7)).ldi(2, 0).svc(4, 0); // OPEN "" -> /unnamed -> rejected
    keep(&mut a, 7);
    a.ldi32(1, path(0)).ldi32(2, 0x5000).ldi(3, 64).svc(4, 0x0A); // LISTDIR ../..
    keep(&mut a, 8);
    a.ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(10_000);
    let m = ex.read_mem(pid, 0x6000, 36).unwrap();
    let r: Vec<i32> = (0..9).map(|i| le32(&m, i * 4) as i32).collect();
    assert_eq!(&r[..3], &[fs::EINVAL; 3]);
    assert!(r[3] >= 3, "data/log.txt opens: {}", r[3]);
    assert_eq!(&r[4..], &[fs::EINVAL; 5]);
}

#[test]
fn open_write_read_close_rename_delete_listdir() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(1, path(3)).ldi(2, 0).svc(4, 0).mov(6, 0); // fd
    a.mov(1, 6).ldi32(2, HELLO).ldi(3, 5).svc(4, 2);
    keep(&mut a, 0); // 5
    a.mov(1, 6).svc(4, 3);
    keep(&mut a, 1); // 0
    a.mov(1, 6).svc(4, 3);
    keep(&mut a, 2); // -1 (closed)
    a.ldi32(1, path(3)).ldi(2, 0).svc(4, 0).mov(6, 0);
    a.mov(1, 6).ldi32(2, 0x5000).ldi(3, 64).svc(4, 1);
    keep(&mut a, 3); // 5
    a.mov(1, 6).ldi32(2, 0x5000).ldi(3, 64).svc(4, 1);
    keep(&mut a, 4); // 0 at EOF
    a.ldi32(1, path(3)).ldi32(2, path(6)).svc(4, 0x0C);
    keep(&mut a, 5); // 0
    a.ldi32(1, path(3)).ldi32(2, path(6)).svc(4, 0x0C);
    keep(&mut a, 6); // -1 (missing)
    a.ldi(1, 0).ldi32(2, 0x5100).ldi(3, 64).svc(4, 0x0A);
    keep(&mut a, 7); // listing length
    a.ldi32(1, path(6)).svc(4, 0x0B);
    keep(&mut a, 8); // 0
    a.ldi32(1, path(6)).svc(4, 0x0B);
    keep(&mut a, 9); // -1
    a.svc(4, 0x20);
    keep(&mut a, 10); // unknown fn -> -1
    a.ldi(1, 0).ldi32(2, 0x5200).ldi(3, 8).svc(4, 1);
    keep(&mut a, 11); // read fd 0 -> 0
    a.ret();
    let pid = load(&mut ex, &a.build(), &rodata());
    ex.step(10_000);
    let m = ex.read_mem(pid, 0x6000, 48).unwrap();
    let r: Vec<i32> = (0..12).map(|i| le32(&m, i * 4) as i32).collect();
    assert_eq!(r, vec![5, 0, -1, 5, 0, 0, -1, 12, 0, -1, -1, 0]);
    assert_eq!(ex.read_mem(pid, 0x5000, 5).unwrap(), b"hello");
    assert_eq!(ex.read_mem(pid, 0x5100, 12).unwrap(), b"data/new.txt");
}

#[test]
fn descriptors_are_per_task() {
    let (mut ex, _c) = exec();
    let mut a = Asm::new();
    a.ldi32(1, path(3)).ldi(2, 0).svc(4, 0).mov(6, 0);
    a.ldi32(7, 0xFFFF).mov(0, 7).svc(6, 0); // park (sleep long) holding the fd
    let owner = load(&mut ex, &a.build(), &rodata());
    ex.step(100);
    let fd = ex.task(owner).unwrap().regs[6];
    assert!(fd >= 3);
    let mut b = Asm::new();
    b.ldi32(1, fd).ldi32(2, HELLO).ldi(3, 5).svc(4, 2).mov(8, 0);
    b.ldi32(1, fd).svc(4, 3).mov(9, 0).ret();
    let other = load(&mut ex, &b.build(), &rodata());
    ex.step(100);
    let t = ex.task(other).unwrap();
    assert_eq!((t.regs[8], t.regs[9] as i32), (0, fs::ERROR));
    // Killing the owner closes its descriptors.
    ex.kill(owner).unwrap();
}
