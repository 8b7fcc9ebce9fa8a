//! Ordered map and set on one sorted `Vec`, with the subset of the `BTreeMap`/`BTreeSet` API
//! the executive uses (same iteration order, same results).
//!
//! The executive's tables are small (tasks, descriptors, handles, values of a few apps), so
//! a binary search over a contiguous vector is as fast as a B-tree there, and its code is a
//! fraction of the B-tree's once monomorphised for every key/value type: on the Cortex-M4
//! firmware this is most of the `alloc` share of flash (see `docs/mcu.md`). One
//! implementation serves desktop and microcontroller alike.

use alloc::vec::Vec;
use core::borrow::Borrow;
use core::fmt;
use core::ops::{Bound, RangeBounds};

/// How many entries to allocate up front for a pool bounded by `limit`: in `minimal`
/// (microcontroller) builds the whole bound, so the pool is one fixed allocation made at
/// start-up and never grows (no doubling peaks in a small heap); otherwise nothing (grow on
/// demand, the desktop's limits are large). Bounds above 256 are never preallocated.
#[must_use]
pub const fn prealloc(limit: usize) -> usize {
    if cfg!(feature = "minimal") && limit <= 256 {
        limit
    } else {
        0
    }
}

/// A map ordered by key, stored as a sorted vector of pairs.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.items.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K, V> VecMap<K, V> {
    /// An empty map (no allocation).
    #[must_use]
    pub const fn new() -> Self {
        Self { items: Vec::new() }
    }
    /// An empty map with room for `n` entries: a table that never reallocates while the
    /// caller keeps it within `n` (the microcontroller pools, see [`prealloc`]).
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            items: Vec::with_capacity(n),
        }
    }
    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// No entries?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Remove every entry.
    pub fn clear(&mut self) {
        self.items.clear();
    }
    /// Entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator + Clone {
        self.items.iter().map(|(k, v)| (k, v))
    }
    /// Entries in key order, values mutable.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&K, &mut V)> + ExactSizeIterator {
        self.items.iter_mut().map(|(k, v)| (&*k, v))
    }
    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.items.iter().map(|(k, _)| k)
    }
    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.items.iter().map(|(_, v)| v)
    }
    /// Values in key order, mutable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.items.iter_mut().map(|(_, v)| v)
    }
    /// Keep the entries for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        self.items.retain_mut(|(k, v)| f(k, v));
    }
    /// The smallest entry.
    #[must_use]
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.items.first().map(|(k, v)| (k, v))
    }
    /// The largest entry.
    #[must_use]
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.items.last().map(|(k, v)| (k, v))
    }
    /// Remove and return the smallest entry.
    pub fn pop_first(&mut self) -> Option<(K, V)> {
        if self.items.is_empty() {
            None
        } else {
            Some(self.items.remove(0))
        }
    }
    /// Remove and return the largest entry.
    pub fn pop_last(&mut self) -> Option<(K, V)> {
        self.items.pop()
    }
}

impl<K, V> VecMap<K, V> {
    /// Room for one more entry. Microcontroller (`minimal`) builds grow one entry at a
    /// time: no doubling slack in a small heap (the tables are short, so the copies are
    /// cheap); elsewhere the vector's amortised doubling.
    #[inline]
    fn grow(&mut self) {
        if cfg!(feature = "minimal") && self.items.len() == self.items.capacity() {
            self.items.reserve_exact(1);
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        self.items.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }
    /// The value at `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.find(key).ok().map(|i| &self.items[i].1)
    }
    /// The value at `key`, mutable.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        match self.find(key) {
            Ok(i) => Some(&mut self.items[i].1),
            Err(_) => None,
        }
    }
    /// Is `key` present?
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }
    /// Insert or replace; the old value if any.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(core::mem::replace(&mut self.items[i].1, value)),
            Err(i) => {
                self.grow();
                self.items.insert(i, (key, value));
                None
            }
        }
    }
    /// Remove `key`; its value if it was present.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        match self.find(key) {
            Ok(i) => Some(self.items.remove(i).1),
            Err(_) => None,
        }
    }
    /// The entry at `key`, for in-place insertion.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.find(&key) {
            Ok(i) => Entry {
                map: self,
                index: i,
                key: None,
            },
            Err(i) => Entry {
                map: self,
                index: i,
                key: Some(key),
            },
        }
    }
    fn bounds<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: &R) -> (usize, usize)
    where
        K: Borrow<Q>,
    {
        let lo = match range.start_bound() {
            Bound::Included(q) => self.items.partition_point(|(k, _)| k.borrow() < q),
            Bound::Excluded(q) => self.items.partition_point(|(k, _)| k.borrow() <= q),
            Bound::Unbounded => 0,
        };
        let hi = match range.end_bound() {
            Bound::Included(q) => self.items.partition_point(|(k, _)| k.borrow() <= q),
            Bound::Excluded(q) => self.items.partition_point(|(k, _)| k.borrow() < q),
            Bound::Unbounded => self.items.len(),
        };
        (lo, hi.max(lo))
    }
    /// Entries with keys in `range`, in order.
    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = (&K, &V)>
    where
        K: Borrow<Q>,
    {
        let (lo, hi) = self.bounds(&range);
        self.items[lo..hi].iter().map(|(k, v)| (k, v))
    }
    /// Entries with keys in `range`, values mutable.
    pub fn range_mut<Q: Ord + ?Sized, R: RangeBounds<Q>>(
        &mut self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = (&K, &mut V)>
    where
        K: Borrow<Q>,
    {
        let (lo, hi) = self.bounds(&range);
        self.items[lo..hi].iter_mut().map(|(k, v)| (&*k, v))
    }
}

/// A place in a [`VecMap`], occupied or vacant.
pub struct Entry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
    /// `Some` while vacant.
    key: Option<K>,
}

impl<'a, K, V> Entry<'a, K, V> {
    /// The value, inserting `f()` first if vacant.
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> &'a mut V {
        if let Some(k) = self.key {
            self.map.grow();
            self.map.items.insert(self.index, (k, f()));
        }
        &mut self.map.items[self.index].1
    }
    /// The value, inserting `v` first if vacant.
    pub fn or_insert(self, v: V) -> &'a mut V {
        self.or_insert_with(|| v)
    }
    /// The value, inserting the default first if vacant.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = alloc::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter =
        core::iter::Map<core::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Self::new();
        m.extend(iter);
        m
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

/// A set ordered by value, stored as a sorted vector.
#[derive(Clone, PartialEq, Eq)]
pub struct VecSet<T> {
    map: VecMap<T, ()>,
}

impl<T> Default for VecSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for VecSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

impl<T> VecSet<T> {
    /// An empty set (no allocation).
    #[must_use]
    pub const fn new() -> Self {
        Self { map: VecMap::new() }
    }
    /// Number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// No members?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// Remove every member.
    pub fn clear(&mut self) {
        self.map.clear();
    }
    /// Members in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + Clone {
        self.map.keys()
    }
    /// Keep the members for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&T) -> bool) {
        self.map.retain(|k, ()| f(k));
    }
    /// The smallest member.
    #[must_use]
    pub fn first(&self) -> Option<&T> {
        self.map.first_key_value().map(|(k, ())| k)
    }
    /// The largest member.
    #[must_use]
    pub fn last(&self) -> Option<&T> {
        self.map.last_key_value().map(|(k, ())| k)
    }
    /// Remove and return the smallest member.
    pub fn pop_first(&mut self) -> Option<T> {
        self.map.pop_first().map(|(k, ())| k)
    }
}

impl<T: Ord> VecSet<T> {
    /// Add `v`; false if it was already there.
    pub fn insert(&mut self, v: T) -> bool {
        match self.map.find(&v) {
            Ok(_) => false,
            Err(i) => {
                self.map.grow();
                self.map.items.insert(i, (v, ()));
                true
            }
        }
    }
    /// Is `v` a member?
    pub fn contains<Q: Ord + ?Sized>(&self, v: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.contains_key(v)
    }
    /// Remove `v`; false if it was not there.
    pub fn remove<Q: Ord + ?Sized>(&mut self, v: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        self.map.remove(v).is_some()
    }
    /// Members in `range`, in order.
    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = &T>
    where
        T: Borrow<Q>,
    {
        self.map.range(range).map(|(k, ())| k)
    }
}

impl<T> IntoIterator for VecSet<T> {
    type Item = T;
    type IntoIter = core::iter::Map<alloc::vec::IntoIter<(T, ())>, fn((T, ())) -> T>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter().map(|(k, ())| k)
    }
}

impl<'a, T> IntoIterator for &'a VecSet<T> {
    type Item = &'a T;
    type IntoIter = core::iter::Map<core::slice::Iter<'a, (T, ())>, fn(&'a (T, ())) -> &'a T>;
    fn into_iter(self) -> Self::IntoIter {
        self.map.items.iter().map(|(k, ())| k)
    }
}

impl<T: Ord> FromIterator<T> for VecSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut s = Self::new();
        s.extend(iter);
        s
    }
}

impl<T: Ord> Extend<T> for VecSet<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for v in iter {
            self.insert(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::{BTreeMap, BTreeSet};

    #[test]
    fn map_matches_btreemap() {
        let mut a = VecMap::new();
        let mut b = BTreeMap::new();
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let k = (x >> 16) % 97;
            match x % 5 {
                0 | 1 => assert_eq!(a.insert(k, x), b.insert(k, x)),
                2 => assert_eq!(a.remove(&k), b.remove(&k)),
                3 => *a.entry(k).or_default() += 1,
                _ => assert_eq!(a.get(&k), b.get(&k)),
            }
            if x % 5 == 3 {
                *b.entry(k).or_default() += 1;
            }
            let lo = k.saturating_sub(10);
            assert!(a.range(lo..=k).eq(b.range(lo..=k)));
            assert!(a.range(lo..k).eq(b.range(lo..k)));
        }
        assert!(a.iter().eq(b.iter()));
        a.retain(|k, _| k % 2 == 0);
        b.retain(|k, _| k % 2 == 0);
        assert!(a.iter().eq(b.iter()));
    }

    #[test]
    fn set_matches_btreeset() {
        let mut a = VecSet::new();
        let mut b = BTreeSet::new();
        for i in [5u8, 3, 9, 3, 1, 9, 0] {
            assert_eq!(a.insert(i), b.insert(i));
        }
        assert!(a.iter().eq(b.iter()));
        assert_eq!(a.remove(&3), b.remove(&3));
        assert_eq!(a.pop_first(), b.pop_first());
        assert!(a.range(2..).eq(b.range(2..)));
    }
}
