//! The task memory map for `memory` / `memory.regions` (protocol.md §2.4.5).
//!
//! Code and rodata come from the `.sym` file's `memory_regions` when it has them and
//! belongs to the loaded image (its `hxe_crc` matches), else from the image header: code at
//! 0 (`rx`), rodata at 0x4000 (`r`), bss right after rodata (`rw`). The register bank
//! (64 bytes at `reg_base`) and the stack (`stack_size` bytes at `stack_base`) come from the
//! task. A region of length 0 is left out, lengths stop at the end of the 64 KiB space,
//! `start`/`end` are shown masked to 16 bits (`end` is exclusive), and the list is sorted
//! by start, then name.

use hsx_image::RODATA_BASE;
use hsx_image::sym::{MemoryRegion, SymFile};
use serde_json::{Map, Value, json};

/// Size of the 64 KiB data space.
pub const ADDRESS_SPACE: u32 = 0x1_0000;
/// Bytes of a register bank (16 × 4).
pub const REGISTER_BANK_BYTES: u32 = 64;

/// What the map is built from: image header facts and task context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskLayout {
    /// Entry offset.
    pub entry: u32,
    /// Code bytes.
    pub code_len: u32,
    /// Rodata bytes.
    pub ro_len: u32,
    /// Declared BSS bytes.
    pub bss: u32,
    /// Image header CRC, to check a `.sym` against (`None` = do not check).
    pub image_crc: Option<u32>,
    /// Register bank address (0 = none).
    pub reg_base: u32,
    /// Lowest stack address (0 = unknown).
    pub stack_base: u32,
    /// Stack bytes (0 = unknown).
    pub stack_size: u32,
    /// Current SP, shown in the stack region's `details`.
    pub sp: Option<u32>,
    /// Instance name (`layout.app_name`).
    pub app_name: Option<String>,
    /// Base name (`layout.app_name_base`).
    pub app_name_base: Option<String>,
    /// Metadata section count.
    pub meta_count: u32,
    /// Multiple instances allowed.
    pub allow_multiple: bool,
    /// Header version.
    pub version: u16,
}

impl TaskLayout {
    /// The reply's `layout` object: `{entry, code_len, ro_len, bss, app_name,
    /// app_name_base, meta_count, allow_multiple, version}`.
    pub fn to_json(&self) -> Value {
        json!({
            "entry": self.entry,
            "code_len": self.code_len,
            "ro_len": self.ro_len,
            "bss": self.bss,
            "app_name": self.app_name,
            "app_name_base": self.app_name_base,
            "meta_count": self.meta_count,
            "allow_multiple": self.allow_multiple,
            "version": self.version,
        })
    }
}

/// One region of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// `code`, `rodata`, `bss`, `registers`, `stack`, or a `.sym` region's name.
    pub name: String,
    /// Same vocabulary as `name` for the built-in regions.
    pub kind: String,
    /// First address (full value; masked when shown).
    pub start: u32,
    /// Bytes (already cut at the end of the address space).
    pub length: u32,
    /// `rx`, `r` or `rw`.
    pub permissions: &'static str,
    /// `hxe`, `sym` or `vm`.
    pub source: &'static str,
    /// Extra facts (`{entry}` for code, `{sp}` for the stack).
    pub details: Option<Value>,
}

impl Region {
    /// End address, exclusive, masked to 16 bits as the reference shows it.
    pub fn end(&self) -> u32 {
        self.start.wrapping_add(self.length) & 0xFFFF
    }

    /// `{name, type, start, end, length, permissions, source, details?}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.kind));
        m.insert("start".into(), json!(self.start & 0xFFFF));
        m.insert("end".into(), json!(self.end()));
        m.insert("length".into(), json!(self.length));
        m.insert("permissions".into(), json!(self.permissions));
        m.insert("source".into(), json!(self.source));
        if let Some(d) = &self.details {
            m.insert("details".into(), d.clone());
        }
        Value::Object(m)
    }
}

struct Spec<'a> {
    name: &'a str,
    kind: &'a str,
    start: u32,
    length: u32,
    permissions: &'static str,
    source: &'static str,
    details: Option<Value>,
}

fn push(out: &mut Vec<Region>, s: Spec<'_>) {
    let room = ADDRESS_SPACE.saturating_sub(s.start & 0xFFFF);
    let length = s.length.min(room);
    if length == 0 {
        return;
    }
    out.push(Region {
        name: s.name.to_string(),
        kind: s.kind.to_string(),
        start: s.start,
        length,
        permissions: s.permissions,
        source: s.source,
        details: s.details,
    });
}

/// Canonical kind and permissions of a `.sym` region (`text` → code, `data` → rodata).
fn sym_kind(r: &MemoryRegion) -> (&str, &'static str) {
    match (r.name.as_str(), r.kind.as_str()) {
        ("code", _) | (_, "text") => ("code", "rx"),
        ("rodata", _) | (_, "data") => ("rodata", "r"),
        _ => (r.name.as_str(), "r"),
    }
}

/// The regions of a task, sorted by start then name.
pub fn regions(layout: &TaskLayout, sym: Option<&SymFile>) -> Vec<Region> {
    let mut out = Vec::new();
    let sym_regions = sym
        .filter(|s| layout.image_crc.is_none_or(|crc| crc == s.hxe_crc))
        .map(|s| s.memory_regions.as_slice())
        .filter(|r| !r.is_empty());
    let entry_details = json!({"entry": layout.entry});
    let mut have_code = false;
    let mut have_rodata = false;
    for r in sym_regions.unwrap_or(&[]) {
        let Some(length) = r.end.checked_sub(r.start).and_then(|l| l.checked_add(1)) else {
            continue;
        };
        let (kind, permissions) = sym_kind(r);
        have_code |= kind == "code";
        have_rodata |= kind == "rodata";
        let name = if r.name.is_empty() { kind } else { &r.name };
        push(
            &mut out,
            Spec {
                name,
                kind,
                start: r.start,
                length,
                permissions,
                source: "sym",
                details: (kind == "code").then(|| entry_details.clone()),
            },
        );
    }
    if !have_code {
        push(
            &mut out,
            Spec {
                name: "code",
                kind: "code",
                start: 0,
                length: layout.code_len,
                permissions: "rx",
                source: "hxe",
                details: Some(entry_details),
            },
        );
    }
    if !have_rodata {
        push(
            &mut out,
            Spec {
                name: "rodata",
                kind: "rodata",
                start: RODATA_BASE,
                length: layout.ro_len,
                permissions: "r",
                source: "hxe",
                details: None,
            },
        );
    }
    push(
        &mut out,
        Spec {
            name: "bss",
            kind: "bss",
            start: RODATA_BASE.saturating_add(layout.ro_len),
            length: layout.bss,
            permissions: "rw",
            source: "hxe",
            details: None,
        },
    );
    if layout.reg_base != 0 {
        push(
            &mut out,
            Spec {
                name: "registers",
                kind: "registers",
                start: layout.reg_base,
                length: REGISTER_BANK_BYTES,
                permissions: "rw",
                source: "vm",
                details: None,
            },
        );
    }
    if layout.stack_base != 0 {
        push(
            &mut out,
            Spec {
                name: "stack",
                kind: "stack",
                start: layout.stack_base,
                length: layout.stack_size,
                permissions: "rw",
                source: "vm",
                details: layout.sp.map(|sp| json!({"sp": sp})),
            },
        );
    }
    out.sort_by(|a, b| (a.start & 0xFFFF, &a.name).cmp(&(b.start & 0xFFFF, &b.name)));
    out
}

/// The `memory` reply object: `{pid, program, regions:[…], layout:{…}}`.
pub fn memory_json(
    pid: u32,
    program: Option<&str>,
    layout: &TaskLayout,
    sym: Option<&SymFile>,
) -> Value {
    let regions: Vec<Value> = regions(layout, sym).iter().map(Region::to_json).collect();
    json!({"pid": pid, "program": program, "regions": regions, "layout": layout.to_json()})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> TaskLayout {
        TaskLayout {
            entry: 0,
            code_len: 152,
            ro_len: 0,
            bss: 0,
            image_crc: Some(7),
            reg_base: 0x1000,
            stack_base: 0xEFFC,
            stack_size: 0x1000,
            sp: Some(0xFFF0),
            app_name: Some("main".into()),
            app_name_base: Some("main".into()),
            meta_count: 0,
            allow_multiple: true,
            version: 2,
        }
    }

    #[test]
    fn header_regions_match_the_reference_shape() {
        let v = memory_json(1, Some("/abs/main.hxe"), &layout(), None);
        assert_eq!(
            v,
            json!({"pid":1,"program":"/abs/main.hxe",
              "regions":[
                {"name":"code","type":"code","start":0,"end":152,"length":152,"permissions":"rx","source":"hxe","details":{"entry":0}},
                {"name":"registers","type":"registers","start":4096,"end":4160,"length":64,"permissions":"rw","source":"vm"},
                {"name":"stack","type":"stack","start":61436,"end":65532,"length":4096,"permissions":"rw","source":"vm","details":{"sp":65520}}],
              "layout":{"entry":0,"code_len":152,"ro_len":0,"bss":0,"app_name":"main","app_name_base":"main","meta_count":0,"allow_multiple":true,"version":2}})
        );
    }

    #[test]
    fn rodata_bss_and_clipping() {
        let l = TaskLayout {
            ro_len: 0x10,
            bss: 0x20,
            code_len: 0x2_0000,
            reg_base: 0,
            stack_base: 0xFFF0,
            stack_size: 0x100,
            sp: None,
            ..layout()
        };
        let r = regions(&l, None);
        let names: Vec<&str> = r.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["code", "rodata", "bss", "stack"]);
        assert_eq!(r[0].length, 0x1_0000);
        assert_eq!(r[0].end(), 0);
        assert_eq!(
            (r[1].start, r[1].length, r[1].permissions),
            (0x4000, 0x10, "r")
        );
        assert_eq!((r[2].start, r[2].length), (0x4010, 0x20));
        assert_eq!(r[3].length, 0x10);
        assert!(r[3].details.is_none());
    }

    #[test]
    fn sym_regions_win_when_the_crc_matches() {
        let mut sym = SymFile {
            hxe_crc: 7,
            ..SymFile::default()
        };
        sym.memory_regions = vec![
            MemoryRegion {
                name: "code".into(),
                kind: "text".into(),
                start: 0,
                end: 99,
            },
            MemoryRegion {
                name: "rodata".into(),
                kind: "data".into(),
                start: 0x4000,
                end: 0x4003,
            },
            MemoryRegion {
                name: "bad".into(),
                kind: "data".into(),
                start: 9,
                end: 2,
            },
        ];
        let r = regions(&layout(), Some(&sym));
        let code = r.iter().find(|x| x.name == "code");
        assert_eq!(code.map(|c| (c.length, c.source)), Some((100, "sym")));
        let ro = r.iter().find(|x| x.name == "rodata");
        assert_eq!(
            ro.map(|c| (c.length, c.source, c.permissions)),
            Some((4, "sym", "r"))
        );
        assert!(r.iter().all(|x| x.name != "bad"));

        sym.hxe_crc = 8;
        let r = regions(&layout(), Some(&sym));
        let code = r.iter().find(|x| x.name == "code");
        assert_eq!(code.map(|c| (c.length, c.source)), Some((152, "hxe")));
        assert!(r.iter().all(|x| x.name != "rodata"));
    }

    use proptest::prelude::*;

    proptest! {
        /// Any header and task facts give non-empty regions inside the 64 KiB space,
        /// sorted by start.
        #[test]
        fn random_layouts_never_panic(
            (entry, code_len, ro_len, bss) in any::<(u32, u32, u32, u32)>(),
            (reg_base, stack_base, stack_size, sp) in any::<(u32, u32, u32, u32)>(),
            (start, end) in any::<(u32, u32)>(),
        ) {
            let l = TaskLayout {
                entry,
                code_len,
                ro_len,
                bss,
                image_crc: None,
                reg_base,
                stack_base,
                stack_size,
                sp: Some(sp),
                ..TaskLayout::default()
            };
            let sym = SymFile {
                memory_regions: vec![MemoryRegion {
                    name: String::new(),
                    kind: "text".into(),
                    start,
                    end,
                }],
                ..SymFile::default()
            };
            let rs = regions(&l, Some(&sym));
            for r in &rs {
                prop_assert!(
                    r.length > 0 && u64::from(r.start & 0xFFFF) + u64::from(r.length) <= 0x1_0000
                );
            }
            prop_assert!(rs.windows(2).all(|w| (w[0].start & 0xFFFF) <= (w[1].start & 0xFFFF)));
            let _ = memory_json(1, None, &l, Some(&sym));
        }
    }
}
