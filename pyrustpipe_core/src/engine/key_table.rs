//! The table a key partition resolves against: each distinct key's 128-bit hash and where it
//! was first seen, in one flat array probed linearly.
//!
//! The hash is already strong (xxh3, or a bijection for short keys), so its low bits pick the
//! slot with no further hashing, and a lookup reads one 32-byte slot in the common case, where
//! a general-purpose map adds control bytes, a tag compare and an entry handle.

use crate::rules::unique::FirstSeen;

/// Slots stay at most this fraction full (`numerator / denominator`), so a table holds 43 to 85
/// bytes a key (sizes are powers of two). Simulated on the benchmark's 200K keys and on random
/// hashes: a new key walks 0.3–1.3 slots past its home slot at this load, up to 1.6 at 7/8; at
/// 1/2, 0.3–0.5, for up to 128 bytes a key, which a table folded across a long run keeps.
const LOAD: (usize, usize) = (3, 4);

/// A slot: the key's hash (zero: empty) and its first sighting's words.
type Slot = (u128, u64, u64);

/// Distinct keys by hash; the zero hash, which marks an empty slot, is kept apart.
#[derive(Debug, Default)]
pub(super) struct KeyTable {
    slots: Vec<Slot>,
    /// Keys in `slots` (the zero hash's not counted).
    len: usize,
    zero: Option<FirstSeen>,
}

impl KeyTable {
    /// Room for `more` keys beyond those held, without growing in between.
    #[inline]
    pub(super) fn reserve(&mut self, more: usize) {
        if !self.has_room(more) {
            self.grow(more);
        }
    }

    /// `None` when the key `hash` is new, and then `first` is kept as its first sighting;
    /// otherwise its first sighting as it was, which is now marked repeated.
    #[inline]
    pub(super) fn repeat_of(&mut self, hash: u128, first: FirstSeen) -> Option<FirstSeen> {
        if hash == 0 {
            return Self::sight(&mut self.zero, first);
        }
        self.reserve(1);
        // One probe loop that both finds and places (a shared "find the place" helper then
        // compares the hash again: +11% instructions in the resolution).
        let mask = self.slots.len() - 1;
        #[allow(clippy::cast_possible_truncation)]
        let mut at = hash as usize & mask;
        loop {
            let slot = &mut self.slots[at];
            if slot.0 == hash {
                let seen = FirstSeen::from_words((slot.1, slot.2));
                let mut marked = seen;
                marked.mark_repeated();
                (slot.1, slot.2) = marked.to_words();
                return Some(seen);
            }
            if slot.0 == 0 {
                let (row_and_flag, line) = first.to_words();
                *slot = (hash, row_and_flag, line);
                self.len += 1;
                return None;
            }
            at = (at + 1) & mask;
        }
    }

    /// Every key held, with its first sighting, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u128, FirstSeen)> + '_ {
        let zero = self.zero.map(|seen| (0, seen));
        self.slots
            .iter()
            .filter(|slot| slot.0 != 0)
            .map(|&(hash, row_and_flag, line)| (hash, FirstSeen::from_words((row_and_flag, line))))
            .chain(zero)
    }

    /// [`KeyTable::repeat_of`] for the one key kept outside the slots.
    fn sight(kept: &mut Option<FirstSeen>, first: FirstSeen) -> Option<FirstSeen> {
        let seen = *kept;
        let mut marked = seen.unwrap_or(first);
        if seen.is_some() {
            marked.mark_repeated();
        }
        *kept = Some(marked);
        seen
    }

    fn has_room(&self, more: usize) -> bool {
        (self.len + more) * LOAD.1 <= self.slots.len() * LOAD.0
    }

    #[cold]
    fn grow(&mut self, more: usize) {
        let size = ((self.len + more) * LOAD.1 / LOAD.0 + 1)
            .next_power_of_two()
            .max(16);
        // All zeros (every slot empty) is allocated zeroed, not written slot by slot.
        let old = std::mem::replace(&mut self.slots, vec![(0, 0, 0); size]);
        let mask = size - 1;
        for slot in old.into_iter().filter(|slot| slot.0 != 0) {
            #[allow(clippy::cast_possible_truncation)]
            let mut at = slot.0 as usize & mask;
            while self.slots[at].0 != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }
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
                let found = table.repeat_of(hash, first);
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
