//! `unique` (a column) and composite keys: every key is hashed to 128 bits in the worker threads;
//! `engine::keys` finds the repeats in source and row order, one hash partition at a time. Memory
//! grows with the occurrences logged (24 bytes each, 4 more for a row's line in a text source, and
//! the key's text unless the hash holds it, at most `FOLD_AT` of them) and the distinct keys
//! folded, not with the file.

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

/// The longest key text hashed by packing it whole into 128 bits (an Arrow string view's
/// inlined length).
pub const SHORT_KEY: usize = 12;

/// A key's 128-bit hash, the same for the same bytes wherever they were read. A key of at most
/// [`SHORT_KEY`] bytes is packed as a string view inlines it (length in the low 32 bits, the
/// bytes above) and mixed by a bijection, so two short keys never share a hash and a view's
/// own 16 bytes hash without a byte loop; a longer key is xxh3-128 of its bytes.
pub fn key_hash(bytes: &[u8]) -> u128 {
    if bytes.len() > SHORT_KEY {
        return xxhash_rust::xxh3::xxh3_128(bytes);
    }
    let mut packed = [0u8; 16];
    packed[..4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    packed[4..4 + bytes.len()].copy_from_slice(bytes);
    mix_short(u128::from_le_bytes(packed))
}

/// The hash of an inlined string view (length at most [`SHORT_KEY`]): as [`key_hash`] of its
/// text, whatever the bytes past the text hold.
#[inline(always)]
pub fn view_key_hash(view: u128) -> u128 {
    // The view's length and text bits, by length: a table, as a variable 128-bit shift is a
    // branchy sequence of its own.
    const KEEP: [u128; SHORT_KEY + 1] = {
        let mut keep = [0u128; SHORT_KEY + 1];
        let mut len = 0;
        while len <= SHORT_KEY {
            keep[len] = u128::MAX >> (96 - 8 * len);
            len += 1;
        }
        keep
    };
    // `min`: a length the caller has tested costs no bounds test here.
    mix_short(view & KEEP[(view as u32 as usize).min(SHORT_KEY)])
}

/// The text of a key of at most [`SHORT_KEY`] bytes, from its [`key_hash`] (a bijection on
/// short keys): a short key's occurrences are logged without their text.
pub fn short_key_text(hash: u128) -> Vec<u8> {
    let packed = unmix_short(hash);
    let len = (packed as u32 as usize).min(SHORT_KEY);
    (packed >> 32).to_le_bytes()[..len].to_vec()
}

/// The text of an `int` key from its [`key_hash`] (of its `Value::key_bytes`: the tag, then the
/// value's eight bytes): the value's decimal. `None` for a hash of anything else.
pub fn int_key_text(hash: u128) -> Option<Vec<u8>> {
    let bytes = short_key_text(hash);
    let (&[1], value) = bytes.split_at_checked(1)? else {
        return None;
    };
    let value = i64::from_le_bytes(value.try_into().ok()?);
    Some(value.to_string().into_bytes())
}

const K1: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
const K2: u128 = 0xD6E8_FEB8_6659_FD93_2545_F491_4F6C_DD1D;

/// A bijection of 128-bit words that spreads every input bit into the low 64 bits (the tables'
/// hash) and the top bits (the partition): two rounds of xor-shift and multiply by an odd
/// constant, each invertible.
#[inline(always)]
fn mix_short(packed: u128) -> u128 {
    let x = (packed ^ (packed >> 64)).wrapping_mul(K1);
    let x = (x ^ (x >> 64)).wrapping_mul(K2);
    x ^ (x >> 64)
}

/// [`mix_short`] undone: a shift by half the width is its own inverse, and an odd constant has
/// an inverse modulo 2^128.
fn unmix_short(hash: u128) -> u128 {
    let x = (hash ^ (hash >> 64)).wrapping_mul(inverse(K2));
    let x = (x ^ (x >> 64)).wrapping_mul(inverse(K1));
    x ^ (x >> 64)
}

/// The inverse of an odd `k` modulo 2^128: Newton's iteration doubles the correct low bits
/// from the 3 that `k` itself has (k·k = 1 mod 8).
const fn inverse(k: u128) -> u128 {
    let mut inv = k;
    let mut step = 0;
    while step < 6 {
        inv = inv.wrapping_mul(2u128.wrapping_sub(k.wrapping_mul(inv)));
        step += 1;
    }
    inv
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

    /// The two words a flat table stores (see [`FirstSeen::from_words`]).
    pub fn to_words(self) -> (u64, u64) {
        (self.row_and_flag, self.line)
    }

    pub fn from_words((row_and_flag, line): (u64, u64)) -> Self {
        FirstSeen { row_and_flag, line }
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

    /// A string view of `text` (at most 12 bytes) whose bytes past the text are `padding`.
    fn view_of(text: &[u8], padding: u8) -> u128 {
        let mut view = [padding; 16];
        view[..4].copy_from_slice(&(text.len() as u32).to_le_bytes());
        view[4..4 + text.len()].copy_from_slice(text);
        u128::from_le_bytes(view)
    }

    #[test]
    fn a_view_hashes_as_its_text_whatever_its_padding() {
        let text = b"TX0000012345\xff";
        for len in 0..=SHORT_KEY {
            for padding in [0, b'x', 0xff] {
                assert_eq!(
                    view_key_hash(view_of(&text[..len], padding)),
                    key_hash(&text[..len]),
                    "length {len}, padding {padding}"
                );
            }
        }
    }

    #[test]
    fn an_int_key_text_comes_back_from_its_hash() {
        for value in [0, 7, -7, 1_000_000, i64::MIN, i64::MAX] {
            let mut scratch = [0u8; 24];
            let hash = key_hash(crate::value::Value::Int(value).key_bytes(&mut scratch));
            assert_eq!(int_key_text(hash), Some(value.to_string().into_bytes()));
        }
        assert_eq!(int_key_text(key_hash(b"123456789")), None);
        assert_eq!(int_key_text(key_hash(b"\x01abc")), None);
    }

    #[test]
    fn a_short_key_text_comes_back_from_its_hash() {
        assert_eq!(K1.wrapping_mul(inverse(K1)), 1);
        assert_eq!(K2.wrapping_mul(inverse(K2)), 1);
        let keys: [&[u8]; 6] = [b"", b"\0", b"a\0", b"TX0000012345", b"\xff\xfe", b"KES"];
        for key in keys {
            assert_eq!(short_key_text(key_hash(key)), key);
        }
    }

    proptest::proptest! {
        #[test]
        fn mixing_short_keys_is_undone(packed: u128) {
            proptest::prop_assert_eq!(unmix_short(mix_short(packed)), packed);
        }
    }

    #[test]
    fn short_keys_differ_by_length_and_bytes() {
        // A NUL past a text's end is part of a longer text, not padding; 12 and 13 bytes meet
        // the two hashes.
        let keys: [&[u8]; 7] = [
            b"",
            b"\0",
            b"\0\0",
            b"a",
            b"a\0",
            b"abcdefghijkl",
            b"abcdefghijklm",
        ];
        let mut hashes: Vec<u128> = keys.iter().map(|k| key_hash(k)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
    }

    #[test]
    fn sequential_short_keys_spread_over_partitions_and_buckets() {
        // The keys a counter writes differ in their last bytes only, short codes in their
        // first; the partition (top 8 bits) and a table's bucket (low bits) must still see
        // them evenly.
        let keys = 1u32 << 18;
        let ids = |n: u32| format!("TX{n:010}").into_bytes();
        let codes = |n: u32| n.to_le_bytes()[..3].to_vec();
        for key_of in [&ids as &dyn Fn(u32) -> Vec<u8>, &codes] {
            let mut partitions = [0u32; 256];
            let mut buckets = [0u32; 1024];
            for n in 0..keys {
                let hash = key_hash(&key_of(n));
                partitions[(hash >> 120) as usize] += 1;
                buckets[(hash as usize) % 1024] += 1;
            }
            let even = |counts: &[u32]| {
                let expected = keys / counts.len() as u32;
                counts
                    .iter()
                    .all(|&c| c > expected * 3 / 4 && c < expected * 5 / 4)
            };
            assert!(even(&partitions), "{partitions:?}");
            assert!(even(&buckets), "{buckets:?}");
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
