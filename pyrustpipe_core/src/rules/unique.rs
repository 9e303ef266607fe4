//! `unique` (a column) and composite keys: every key is hashed to 128 bits in the worker threads;
//! `engine::keys` finds the repeats in source and row order, one hash partition at a time. Memory
//! grows with the occurrences logged (32 bytes each and the key's text, at most `FOLD_AT` of them)
//! and the distinct keys folded, not with the file.

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

/// Where a key was first seen, and whether it has repeated since; packed into 16 bytes because
/// the table holds one per distinct key.
#[derive(Debug, Clone, Copy)]
pub struct FirstSeen {
    row_and_flag: u64,
    line: u64,
}

const REPEATED: u64 = 1 << 63;

impl FirstSeen {
    pub fn new(row: u64, line: Option<u64>) -> Self {
        FirstSeen {
            row_and_flag: row,
            line: line.unwrap_or(u64::MAX),
        }
    }

    pub fn row(&self) -> u64 {
        self.row_and_flag & !REPEATED
    }

    pub fn line(&self) -> Option<u64> {
        (self.line != u64::MAX).then_some(self.line)
    }

    pub fn repeated(&self) -> bool {
        self.row_and_flag & REPEATED != 0
    }

    pub fn mark_repeated(&mut self) {
        self.row_and_flag |= REPEATED;
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn first_seen_keeps_row_line_and_flag() {
        // (row, line): the flag lives in the row's top bit, so the row must survive it.
        let cases: &[(u64, Option<u64>)] = &[
            (0, Some(2)),
            (41, None),
            ((1 << 63) - 1, Some(u64::MAX - 1)),
        ];
        for &(row, line) in cases {
            let mut seen = FirstSeen::new(row, line);
            assert_eq!(
                (seen.row(), seen.line(), seen.repeated()),
                (row, line, false)
            );
            seen.mark_repeated();
            assert_eq!(
                (seen.row(), seen.line(), seen.repeated()),
                (row, line, true)
            );
            seen.mark_repeated();
            assert!(seen.repeated());
        }
    }

    #[test]
    fn a_key_hashes_to_its_low_bits() {
        let build = BuildHasherDefault::<PassThroughHasher>::default();
        let key: u128 = (7 << 64) | 0xDEAD_BEEF;
        assert_eq!(build.hash_one(key), 0xDEAD_BEEF);
    }

    #[test]
    fn the_table_finds_repeats() {
        let mut table: HashTable<FirstSeen> = HashTable::default();
        let keys: [u128; 5] = [1, 2, 1 << 64, 2, 1];
        let mut repeats = Vec::new();
        for (row, key) in keys.into_iter().enumerate() {
            let row = row as u64;
            match table.get_mut(&key) {
                Some(seen) => {
                    seen.mark_repeated();
                    repeats.push((row, seen.row()));
                }
                None => {
                    table.insert(key, FirstSeen::new(row, None));
                }
            }
        }
        assert_eq!(repeats, [(3, 1), (4, 0)]);
        assert!(!table[&(1 << 64)].repeated());
    }
}
