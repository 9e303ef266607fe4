//! The table a key partition resolves against: each distinct key's 128-bit hash and where it
//! was first seen, in a dense list, found through a flat index probed linearly.
//!
//! The hash is already strong (xxh3, or a bijection for short keys), so its low bits pick the
//! slot with no further hashing. A slot is the key's place in the list (4 bytes), not the key
//! (32): a partition's table is new for each run, and the slots are what must start zeroed —
//! zeroing 32-byte slots was 71 instructions a key on the benchmark's 200K keys, a twelfth of
//! the whole validation.

use super::keys::BlockPlace;
use crate::check::KeyEntry;
use crate::rules::unique::FirstSeen;

/// Slots stay at most this fraction full (`numerator / denominator`): 8 to 16 bytes of slots a
/// key (sizes are powers of two). Simulated on the benchmark's 200K keys and on random hashes:
/// a new key walks 0.3–0.5 slots past its home slot at this load, 0.3–1.3 at 3/4.
const LOAD: (usize, usize) = (1, 2);

/// A distinct key: its hash and its first sighting's words.
type Key = (u128, u64, u64);

/// Distinct keys by hash.
#[derive(Debug, Default)]
pub(super) struct KeyTable {
    /// Per slot: zero when empty, else 1 + the key's place in `keys`.
    slots: Vec<u32>,
    /// The keys in the order first seen.
    keys: Vec<Key>,
}

impl KeyTable {
    /// Room for `more` keys beyond those held, without growing in between.
    #[inline]
    pub(super) fn reserve(&mut self, more: usize) {
        if !self.has_room(more) {
            self.grow(more);
        }
    }

    /// Meets a block's `entries` in order: a new key is kept with its first sighting (its row
    /// and line in `block`), a repeat goes to `repeat(entry, first)` with its key's first
    /// sighting as it was, which is then marked repeated.
    ///
    /// A block at a time, with the slots and keys in hand: the probe loop a key at a time
    /// reloaded them through the table for every key (55 instructions a new key, 37 here).
    #[inline]
    pub(super) fn meet(
        &mut self,
        entries: &[KeyEntry],
        block: &BlockPlace,
        mut repeat: impl FnMut(&KeyEntry, FirstSeen),
    ) {
        if entries.is_empty() {
            return;
        }
        self.reserve(entries.len());
        // Every place this block can add fits a slot (a `u32`): tested once, not a key.
        let _ = place_of(self.keys.len() + entries.len());
        let mask = self.slots.len() - 1;
        let slots = &mut self.slots[..];
        // Held here, not through the table: its length then lives in a register, where a
        // panic path in the loop made each push write it back (a panic loses the table's keys,
        // as it loses the run).
        let mut keys = std::mem::take(&mut self.keys);
        for entry in entries {
            let hash = entry.hash;
            #[allow(clippy::cast_possible_truncation)]
            let mut at = hash as usize & mask;
            loop {
                let place = slots[at] as usize;
                if place == 0 {
                    let line = block.line(entry).unwrap_or(u64::MAX);
                    keys.push((hash, block.row(entry), line));
                    #[allow(clippy::cast_possible_truncation)] // tested before the loop
                    let place = keys.len() as u32;
                    slots[at] = place;
                    break;
                }
                let key = &mut keys[place - 1];
                if key.0 == hash {
                    let seen = FirstSeen::from_words((key.1, key.2));
                    let mut marked = seen;
                    marked.mark_repeated();
                    (key.1, key.2) = marked.to_words();
                    repeat(entry, seen);
                    break;
                }
                at = (at + 1) & mask;
            }
        }
        self.keys = keys;
    }

    /// Every key held, with its first sighting, in the order first seen.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u128, FirstSeen)> + '_ {
        (self.keys.iter())
            .map(|&(hash, row_and_flag, line)| (hash, FirstSeen::from_words((row_and_flag, line))))
    }

    fn has_room(&self, more: usize) -> bool {
        (self.keys.len() + more) * LOAD.1 <= self.slots.len() * LOAD.0
    }

    #[cold]
    fn grow(&mut self, more: usize) {
        let size = ((self.keys.len() + more) * LOAD.1 / LOAD.0 + 1)
            .next_power_of_two()
            .max(16);
        self.keys.reserve(more);
        // All zeros (every slot empty) is allocated zeroed, not written slot by slot.
        self.slots = vec![0; size];
        let mask = size - 1;
        for (index, key) in self.keys.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let mut at = key.0 as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = place_of(index + 1);
        }
    }
}

/// A slot's value for the key at `keys[place - 1]`. A partition holding 4G distinct keys would
/// hold 128 GiB of them first.
fn place_of(place: usize) -> u32 {
    u32::try_from(place).expect("fewer than 4G distinct keys a partition")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The table finds what a map finds: each key's first sighting, the repeats, and every
        /// key once at the end; hashes that share low bits (probe chains), growth from any
        /// reserved size and the zero hash included.
        #[test]
        fn the_table_agrees_with_a_map(
            keys in prop::collection::vec(
                prop_oneof![
                    Just(0u128),
                    (0u128..40).prop_map(|k| k << 64 | 7),
                    (0u128..40).prop_map(|k| k << 4 | 15),
                    any::<u128>(),
                ],
                0..500,
            ),
            reserve_first in 0usize..300,
        ) {
            let mut table = KeyTable::default();
            table.reserve(reserve_first);
            let mut map: HashMap<u128, FirstSeen> = HashMap::new();
            for (row, &hash) in keys.iter().enumerate() {
                let line = (row % 3 != 0).then_some(row as u64 * 2);
                let first = FirstSeen::new(row as u64, line);
                // One entry a block: each block's first row and line are the entry's own.
                let entry = KeyEntry::short_text(hash, 0);
                let place = BlockPlace {
                    base: row as u64,
                    line_base: line.unwrap_or(0),
                    lines: line.map_or_else(Vec::new, |_| vec![0]),
                };
                let mut found = None;
                table.meet(&[entry], &place, |_, seen| {
                    found = Some(seen);
                });
                let expected = match map.get_mut(&hash) {
                    Some(seen) => {
                        let before = *seen;
                        seen.mark_repeated();
                        Some(before)
                    }
                    None => {
                        map.insert(hash, first);
                        None
                    }
                };
                let words = |seen: Option<FirstSeen>| seen.map(FirstSeen::to_words);
                prop_assert_eq!(words(found), words(expected));
            }
            let mut held: Vec<(u128, (u64, u64))> =
                table.iter().map(|(h, s)| (h, s.to_words())).collect();
            let mut expected: Vec<(u128, (u64, u64))> =
                map.iter().map(|(&h, s)| (h, s.to_words())).collect();
            held.sort_unstable();
            expected.sort_unstable();
            prop_assert_eq!(held, expected);
        }
    }
}
