//! `unique` (a column) and composite keys: every key is hashed to 128 bits in the worker threads;
//! the merge step, in source and row order, finds the repeats. Memory grows with the number of
//! distinct keys (about 40 bytes each), not with the file.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::RuleId;
use crate::spec::Keep;

#[derive(Debug)]
pub struct UniqueKey {
    pub rule: RuleId,
    pub columns: Vec<usize>,
    pub keep: Keep,
}

/// The key is already a strong hash: use its low bits as the table hash.
#[derive(Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    #[allow(clippy::cast_possible_truncation)]
    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

pub type HashTable<V> = HashMap<u128, V, BuildHasherDefault<PassThroughHasher>>;

/// Where a key was first seen, and whether it has repeated since.
#[derive(Debug, Clone, Copy)]
pub struct FirstSeen {
    pub row: u64,
    pub line: Option<u64>,
    pub repeated: bool,
}
