//! The host image store (`hsxd --store DIR`): per app a directory with two image slots and
//! a small state file naming the active, previous and staged slot.
//!
//! ```text
//! DIR/<app>/a.hxe  DIR/<app>/b.hxe  DIR/<app>/state.json
//! ```
//!
//! Every change is write-to-temporary, `fsync`, `rename`, `fsync` of the directory, so each
//! file is either its old or its new version. A slot is only overwritten while it is not
//! active, and the state file is switched last: a power failure at any point leaves the
//! active pointer on a complete image. [`DirStore::open`] still verifies every image it
//! points at (CRC and structure) and falls back to the previous image if the active one is
//! bad, then removes half-written temporaries.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use hsx_exec::store::{ImageStore, Slot, StoreEntry, StoreError};
use serde::{Deserialize, Serialize};

/// Longest app name (as in the image header).
const APP_MAX: usize = 31;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct State {
    active: Option<String>,
    previous: Option<String>,
    staged: Option<String>,
    #[serde(default)]
    writes: [u32; 2],
}

fn slot_of(s: Option<&str>) -> Option<Slot> {
    match s {
        Some("a") => Some(Slot::A),
        Some("b") => Some(Slot::B),
        _ => None,
    }
}

fn name_of(s: Option<Slot>) -> Option<String> {
    s.map(|s| s.as_str().to_string())
}

fn io(what: &str, path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} {}: {e}", path.display()))
}

/// A valid store name: what an app name may be, minus anything a path could misread.
fn check_name(app: &str) -> Result<(), StoreError> {
    let ok = !app.is_empty()
        && app.len() <= APP_MAX
        && !app.starts_with('.')
        && app
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadName(app.chars().take(40).collect()))
    }
}

/// Whether `bytes` are a complete image the loader accepts.
fn verified(bytes: &[u8]) -> Option<u32> {
    hsx_image::Image::parse(bytes).ok().map(|i| i.crc32)
}

/// The directory-backed [`ImageStore`].
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
    max_image: usize,
    /// Power-fail injection: the number of durable steps that still succeed.
    fail_after: Option<u32>,
}

impl DirStore {
    /// Opens (creating) the store at `root` and recovers every app in it (see the module
    /// documentation); returns the store and one line per repair made.
    ///
    /// # Errors
    /// [`StoreError::Io`] when `root` cannot be created or read.
    pub fn open(root: &Path) -> Result<(DirStore, Vec<String>), StoreError> {
        fs::create_dir_all(root).map_err(|e| io("creating", root, &e))?;
        let store = DirStore {
            root: root.to_path_buf(),
            max_image: 1 << 20,
            fail_after: None,
        };
        let mut repairs = Vec::new();
        let dir = fs::read_dir(root).map_err(|e| io("reading", root, &e))?;
        for ent in dir.flatten() {
            let Some(app) = ent.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if check_name(&app).is_ok() && ent.path().is_dir() {
                store.recover(&app, &mut repairs)?;
            }
        }
        Ok((store, repairs))
    }

    /// Injects a power failure: the `n`-th durable step from now (0 = the next) writes only
    /// part of its bytes, skips its `rename`, and fails with [`StoreError::PowerFail`]; every
    /// later step fails too, as if the machine were off. For tests.
    pub fn fail_after(&mut self, n: u32) {
        self.fail_after = Some(n);
    }

    fn app_dir(&self, app: &str) -> PathBuf {
        self.root.join(app)
    }

    fn slot_path(&self, app: &str, slot: Slot) -> PathBuf {
        self.app_dir(app).join(format!("{}.hxe", slot.as_str()))
    }

    fn state(&self, app: &str) -> State {
        let path = self.app_dir(app).join("state.json");
        fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn read_slot(&self, app: &str, slot: Slot) -> Option<Vec<u8>> {
        let path = self.slot_path(app, slot);
        let meta = fs::symlink_metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > self.max_image as u64 {
            return None;
        }
        fs::read(path).ok()
    }

    fn slot_ok(&self, app: &str, slot: Option<Slot>) -> Option<Slot> {
        let s = slot?;
        self.read_slot(app, s).and_then(|b| verified(&b)).map(|_| s)
    }

    fn recover(&self, app: &str, repairs: &mut Vec<String>) -> Result<(), StoreError> {
        let dir = self.app_dir(app);
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().ends_with(".tmp") {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let st = self.state(app);
        let mut fixed = st.clone();
        let active = slot_of(st.active.as_deref());
        let previous = slot_of(st.previous.as_deref());
        let staged = slot_of(st.staged.as_deref());
        let good_active = self.slot_ok(app, active);
        let good_previous = self
            .slot_ok(app, previous)
            .filter(|p| Some(*p) != good_active);
        if good_active.is_none() && active.is_some() {
            repairs.push(format!(
                "{app}: active image {} is damaged; {}",
                active.map_or("?", Slot::as_str),
                good_previous.map_or("no previous image to fall back to".into(), |p| {
                    format!("falling back to {}", p.as_str())
                })
            ));
            fixed.active = name_of(good_previous);
            fixed.previous = None;
        } else {
            fixed.previous = name_of(good_previous);
        }
        let active_now = slot_of(fixed.active.as_deref());
        fixed.staged = name_of(
            self.slot_ok(app, staged)
                .filter(|s| Some(*s) != active_now && Some(*s) != good_previous),
        );
        if fixed != st {
            self.write_state(app, &fixed)?;
        }
        Ok(())
    }

    /// One durable step: `false` when an injected power failure hits it.
    fn step_ok(&mut self) -> bool {
        match &mut self.fail_after {
            None => true,
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                true
            }
        }
    }

    /// Writes `bytes` to `path` atomically (temporary, fsync, rename, fsync of the directory).
    fn write_atomic(&mut self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = path.with_extension("tmp");
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| io("creating", &tmp, &e))?;
        if !self.step_ok() {
            // Power goes out in the middle of the write.
            let _ = f.write_all(&bytes[..bytes.len() / 2]);
            return Err(StoreError::PowerFail);
        }
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| io("writing", &tmp, &e))?;
        drop(f);
        if !self.step_ok() {
            return Err(StoreError::PowerFail);
        }
        fs::rename(&tmp, path).map_err(|e| io("renaming", &tmp, &e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn write_state(&self, app: &str, st: &State) -> Result<(), StoreError> {
        // Repairs at open are not subject to injection.
        let mut plain = DirStore {
            root: self.root.clone(),
            max_image: self.max_image,
            fail_after: None,
        };
        plain.put_state(app, st)
    }

    /// Makes the slot `pick` names active (it must hold a verified image); the active one
    /// becomes the previous. One atomic state write.
    fn switch_to(
        &mut self,
        app: &str,
        pick: impl Fn(&State) -> Option<&str>,
        missing: fn(String) -> StoreError,
    ) -> Result<Slot, StoreError> {
        check_name(app)?;
        let mut st = self.state(app);
        let target = slot_of(pick(&st))
            .filter(|s| self.slot_ok(app, Some(*s)).is_some())
            .ok_or_else(|| missing(app.to_string()))?;
        st.previous = st.active.take();
        st.active = name_of(Some(target));
        st.staged = None;
        self.put_state(app, &st)?;
        Ok(target)
    }

    fn put_state(&mut self, app: &str, st: &State) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(st).unwrap_or_default();
        let path = self.app_dir(app).join("state.json");
        self.write_atomic(&path, &bytes)
    }
}

impl ImageStore for DirStore {
    fn stage(&mut self, app: &str, image: &[u8]) -> Result<Slot, StoreError> {
        check_name(app)?;
        if image.len() > self.max_image {
            return Err(StoreError::NoSpace);
        }
        let dir = self.app_dir(app);
        fs::create_dir_all(&dir).map_err(|e| io("creating", &dir, &e))?;
        let mut st = self.state(app);
        let slot = slot_of(st.active.as_deref()).map_or(Slot::A, Slot::other);
        // The slot about to be overwritten stops being a fallback first.
        if slot_of(st.previous.as_deref()) == Some(slot) || st.staged.is_some() {
            st.previous = st.previous.filter(|p| slot_of(Some(p)) != Some(slot));
            st.staged = None;
            self.put_state(app, &st)?;
        }
        let path = self.slot_path(app, slot);
        self.write_atomic(&path, image)?;
        st.writes[slot.index()] = st.writes[slot.index()].saturating_add(1);
        st.staged = name_of(Some(slot));
        self.put_state(app, &st)?;
        Ok(slot)
    }

    fn commit(&mut self, app: &str) -> Result<Slot, StoreError> {
        self.switch_to(app, |st| st.staged.as_deref(), StoreError::NothingStaged)
    }

    fn rollback(&mut self, app: &str) -> Result<Slot, StoreError> {
        self.switch_to(app, |st| st.previous.as_deref(), StoreError::NoPrevious)
    }

    fn active(&self, app: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_name(app)?;
        let st = self.state(app);
        Ok(slot_of(st.active.as_deref())
            .and_then(|s| self.read_slot(app, s))
            .filter(|b| verified(b).is_some()))
    }

    fn entries(&self) -> Vec<StoreEntry> {
        let mut out = Vec::new();
        let Ok(dir) = fs::read_dir(&self.root) else {
            return out;
        };
        for ent in dir.flatten() {
            let Some(app) = ent.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if check_name(&app).is_err() || !ent.path().is_dir() {
                continue;
            }
            let st = self.state(&app);
            let active = slot_of(st.active.as_deref());
            out.push(StoreEntry {
                active_crc: active
                    .and_then(|s| self.read_slot(&app, s))
                    .and_then(|b| verified(&b)),
                app,
                active,
                previous: slot_of(st.previous.as_deref()),
                staged: slot_of(st.staged.as_deref()),
                writes: st.writes,
            });
        }
        out.sort_by(|a, b| a.app.cmp(&b.app));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hsx_image::Image;

    fn image(tag: u8) -> Vec<u8> {
        let mut img = Image::new(Vec::new(), vec![tag; 64], 0);
        img.set_code_words(&[0x0100_002A, 0x2500_0000]);
        img.app_name = Some("app".into());
        img.to_v2_bytes()
    }

    #[test]
    fn stage_commit_rollback() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, repairs) = DirStore::open(dir.path()).unwrap();
        assert!(repairs.is_empty());
        assert_eq!(s.stage("app", &image(1)).unwrap(), Slot::A);
        assert_eq!(s.active("app").unwrap(), None, "staged is not active");
        s.commit("app").unwrap();
        assert_eq!(s.active("app").unwrap(), Some(image(1)));
        assert_eq!(s.stage("app", &image(2)).unwrap(), Slot::B);
        s.commit("app").unwrap();
        assert_eq!(s.active("app").unwrap(), Some(image(2)));
        s.rollback("app").unwrap();
        assert_eq!(s.active("app").unwrap(), Some(image(1)));
        let e = &s.entries()[0];
        assert_eq!(
            (e.active, e.previous, e.writes),
            (Some(Slot::A), Some(Slot::B), [1, 1])
        );
        assert!(matches!(s.commit("app"), Err(StoreError::NothingStaged(_))));
        assert!(matches!(
            s.stage("../x", &image(1)),
            Err(StoreError::BadName(_))
        ));
    }

    /// Power fails at every durable step of an update; after each restart the active image
    /// is a complete, verified one: the new one if the commit returned, else the old one.
    #[test]
    fn power_fail_at_every_step_leaves_a_verified_active_image() {
        let mut step = 0;
        loop {
            let dir = tempfile::tempdir().unwrap();
            {
                let (mut s, _) = DirStore::open(dir.path()).unwrap();
                s.stage("app", &image(1)).unwrap();
                s.commit("app").unwrap();
                s.stage("app", &image(2)).unwrap();
                s.commit("app").unwrap();
            }
            let (mut s, _) = DirStore::open(dir.path()).unwrap();
            s.fail_after(step);
            let done = s.stage("app", &image(3)).and_then(|_| s.commit("app"));
            drop(s);
            let (s, _) = DirStore::open(dir.path()).unwrap();
            let active = s
                .active("app")
                .unwrap()
                .expect("an active image after restart");
            assert!(Image::parse(&active).is_ok());
            if done.is_ok() {
                assert_eq!(active, image(3), "step {step}");
                break;
            }
            assert_eq!(active, image(2), "step {step}: the old image stays active");
            // No half-written file is left behind.
            for e in std::fs::read_dir(dir.path().join("app")).unwrap() {
                assert!(!e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
            }
            step += 1;
            assert!(step < 50, "the update never completes");
        }
        assert!(step >= 4, "the update has several durable steps ({step})");
    }

    #[test]
    fn a_damaged_active_image_falls_back_to_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut s, _) = DirStore::open(dir.path()).unwrap();
            s.stage("app", &image(1)).unwrap();
            s.commit("app").unwrap();
            s.stage("app", &image(2)).unwrap();
            s.commit("app").unwrap();
        }
        let b = dir.path().join("app/b.hxe");
        let mut bytes = std::fs::read(&b).unwrap();
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        std::fs::write(&b, bytes).unwrap();
        let (s, repairs) = DirStore::open(dir.path()).unwrap();
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert_eq!(s.active("app").unwrap(), Some(image(1)));
    }
}
