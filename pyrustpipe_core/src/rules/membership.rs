//! `isin` / `not_in`: a typed value against a fixed set, compared by canonical key bytes.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::inlined::{own_halves, own_low};
use super::RuleId;
use crate::error::{Error, Result};
use crate::spec::DType;
use crate::value::{TypeParser, Value};

/// Small sets are scanned (faster than hashing a short key); large ones are hashed.
const SCAN_LIMIT: usize = 16;

#[derive(Debug)]
pub struct KeySet {
    scan: Vec<Vec<u8>>,
    /// The scanned keys by their packed form (`pack`): found with no scan, and a key longer
    /// than 16 bytes with one comparison of its bytes.
    packed: Option<PackedSet>,
    hashed: HashSet<Vec<u8>>,
}

/// A key as one comparable value: its length and its bytes, read with two overlapping
/// fixed-size loads that together cover every byte of a key of at most 16 bytes (equal lengths
/// and loads then mean equal keys); of a longer key, its first and last eight bytes (equal keys
/// pack alike, and the bytes decide). No variable-length copy: that `memcpy` call cost more
/// than the set scan.
#[inline]
fn pack(key: &[u8]) -> (u128, usize) {
    let len = key.len();
    let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| {
        u64::from(u32::from_le_bytes(
            key[at..at + 4].try_into().expect("4 bytes"),
        ))
    };
    let (low, high) = match len {
        0 => (0, 0),
        1..=3 => (
            u64::from(key[0]) | u64::from(key[len / 2]) << 8 | u64::from(key[len - 1]) << 16,
            0,
        ),
        4..=7 => (half(0), half(len - 4)),
        _ => (word(0), word(len - 8)),
    };
    (u128::from(high) << 64 | u128::from(low), len)
}

/// Whether a key of `len` bytes is all of its packed form (`pack`).
const fn packs_whole(len: usize) -> bool {
    len <= 16
}

/// At most [`SCAN_LIMIT`] packed keys in a table four times that size (open addressing,
/// linear probing): a lookup is one multiply and, nearly always, one comparison. Each slot
/// keeps its key's place in the scan, for the bytes of a key longer than its packed form.
#[derive(Debug)]
struct PackedSet {
    slots: Vec<Option<((u128, usize), usize)>>,
}

impl PackedSet {
    const SLOTS: usize = 4 * SCAN_LIMIT;

    /// `keys` distinct (two long keys can pack alike: each has a slot of its own).
    fn new(keys: &[Vec<u8>]) -> PackedSet {
        let mut slots = vec![None; Self::SLOTS];
        for (place, key) in keys.iter().enumerate() {
            let packed = pack(key);
            let mut slot = Self::slot_of(packed);
            while slots[slot].is_some() {
                slot = (slot + 1) % Self::SLOTS;
            }
            slots[slot] = Some((packed, place));
        }
        PackedSet { slots }
    }

    #[inline]
    fn slot_of((bytes, len): (u128, usize)) -> usize {
        let mixed = (bytes as u64) ^ ((bytes >> 64) as u64).rotate_left(29) ^ len as u64;
        // The top bits of a Fibonacci-hashing multiply; SLOTS is a power of two.
        (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - Self::SLOTS.trailing_zeros())) as usize
    }

    /// Whether `key` (packed as `packed`) is one of `scan`, the keys the set was made of.
    #[inline]
    fn contains(&self, packed: (u128, usize), key: &[u8], scan: &[Vec<u8>]) -> bool {
        // The table is at most a quarter full, so an empty slot ends every probe.
        let mut slot = Self::slot_of(packed);
        loop {
            match self.slots[slot] {
                None => return false,
                Some((k, place)) if k == packed => {
                    if packs_whole(packed.1) || scan[place] == key {
                        return true;
                    }
                    slot = (slot + 1) % Self::SLOTS;
                }
                Some(_) => slot = (slot + 1) % Self::SLOTS,
            }
        }
    }
}

impl KeySet {
    /// Typed keys of JSON literals for a column of `dtype`.
    pub fn compile(values: &[Json], dtype: DType, at: &str) -> Result<KeySet> {
        let parser = TypeParser::for_dtype(dtype);
        let mut keys = Vec::with_capacity(values.len());
        for (index, literal) in values.iter().enumerate() {
            let text = match literal {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                other => {
                    return Err(Error::schema(
                        format!("{at}.values[{index}]"),
                        format!("{other} is not a {} value", dtype.name()),
                    ))
                }
            };
            let value = parser.parse(text.as_bytes()).ok_or_else(|| {
                Error::schema(
                    format!("{at}.values[{index}]"),
                    format!("{text:?} is not a valid {} value", dtype.name()),
                )
            })?;
            let mut scratch = [0u8; 24];
            keys.push(value.key_bytes(&mut scratch).to_vec());
        }
        keys.sort();
        keys.dedup();
        Ok(if keys.len() <= SCAN_LIMIT {
            KeySet {
                packed: Some(PackedSet::new(&keys)),
                scan: keys,
                hashed: HashSet::new(),
            }
        } else {
            KeySet {
                scan: Vec::new(),
                packed: None,
                hashed: keys.into_iter().collect(),
            }
        })
    }

    /// The packed test inline (a few instructions), any other out of line.
    #[inline(always)]
    pub fn contains(&self, key: &[u8]) -> bool {
        match &self.packed {
            Some(packed) => packed.contains(pack(key), key, &self.scan),
            None => self.contains_hashed(key),
        }
    }

    #[inline(never)]
    fn contains_hashed(&self, key: &[u8]) -> bool {
        self.hashed.contains(key)
    }
}

/// The widest span of integers an `IntSet` keeps as bits (512 bytes).
const INT_SPAN_BITS: u64 = 4096;

/// An `int` column's set: one word when the members lie within 64 of each other (most code
/// lists: a shift and a compare a value, no load or branch), two within 128 (a code list with
/// an "other" code such as 99: two of each), a bit per integer from the least member when they
/// span at most [`INT_SPAN_BITS`] (small enumerations: one shift and one load a value), else
/// the members sorted and searched.
#[derive(Debug)]
enum IntSet {
    Word { least: i64, bits: u64 },
    TwoWords { least: i64, bits: [u64; 2] },
    Bits { least: i64, words: Vec<u64> },
    Sorted(Vec<i64>),
}

impl IntSet {
    /// The set of the integer literals `values` (already accepted by `KeySet::compile`).
    fn new(values: &[Json]) -> Option<IntSet> {
        let parser = TypeParser::for_dtype(DType::Int);
        let mut ints = Vec::with_capacity(values.len());
        for literal in values {
            let text = match literal {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            match parser.parse(text.as_bytes())? {
                Value::Int(v) => ints.push(v),
                _ => return None,
            }
        }
        ints.sort_unstable();
        ints.dedup();
        let (&least, &most) = (ints.first()?, ints.last()?);
        let span = most.abs_diff(least);
        if span >= INT_SPAN_BITS {
            return Some(IntSet::Sorted(ints));
        }
        let mut words = vec![0u64; usize::try_from(span / 64 + 1).ok()?];
        for v in ints {
            let at = v.abs_diff(least);
            words[(at / 64) as usize] |= 1 << (at % 64);
        }
        Some(match words[..] {
            [bits] => IntSet::Word { least, bits },
            [low, high] => IntSet::TwoWords {
                least,
                bits: [low, high],
            },
            _ => IntSet::Bits { least, words },
        })
    }

    #[inline(always)]
    fn contains(&self, v: i64) -> bool {
        match self {
            &IntSet::Word { least, bits } => in_word(least, bits, v),
            &IntSet::TwoWords { least, bits } => in_two_words(least, bits, v),
            IntSet::Bits { least, words } => in_bits(*least, words, v),
            IntSet::Sorted(ints) => ints.binary_search(&v).is_ok(),
        }
    }
}

/// Whether `v` is a member of the one-word set `bits` (bit `k`: `least + k`).
#[inline(always)]
fn in_word(least: i64, bits: u64, v: i64) -> bool {
    // An offset past the word (below `least` it wraps) is no member.
    let at = v.wrapping_sub(least) as u64;
    bits >> (at % 64) & u64::from(at < 64) == 1
}

/// Whether `v` is a member of the two-word set `bits` (bit `k` of word `w`: `least + 64w + k`).
#[inline(always)]
fn in_two_words(least: i64, [low, high]: [u64; 2], v: i64) -> bool {
    // Each word shifted only by an offset inside it (below `least` the offset wraps past
    // both): two selects the AVX2 build does four lanes at a time, where a load from the word
    // the offset picks is a value at a time.
    let at = v.wrapping_sub(least) as u64;
    let high_at = at.wrapping_sub(64);
    let in_low = if at < 64 { low >> at } else { 0 };
    let in_high = if high_at < 64 { high >> high_at } else { 0 };
    (in_low | in_high) & 1 == 1
}

/// Whether `v` is a member of the set `words` (bit `k`: `least + k`).
#[inline(always)]
fn in_bits(least: i64, words: &[u64], v: i64) -> bool {
    // Below the least member the offset wraps past every word.
    let at = v.wrapping_sub(least) as u64;
    usize::try_from(at / 64)
        .ok()
        .and_then(|word| words.get(word))
        .is_some_and(|word| word >> (at % 64) & 1 == 1)
}

/// `Membership::passes` for an `int` value as a test of its integer: the set's integers and
/// whether the check negates them.
#[derive(Debug, Clone, Copy)]
pub struct IntTest<'s> {
    set: &'s IntSet,
    negate: bool,
}

impl<'s> IntTest<'s> {
    #[inline(always)]
    pub fn passes(self, v: i64) -> bool {
        self.set.contains(v) != self.negate
    }

    /// The test of a one-word set with the word in hand: no look at the set a value. (A loop
    /// over `passes` would match the kind of set a value.)
    pub fn word_form(self) -> Option<impl Fn(i64) -> bool + Copy> {
        let IntSet::Word { least, bits } = *self.set else {
            return None;
        };
        let negate = self.negate;
        Some(move |v| in_word(least, bits, v) != negate)
    }

    /// The test of a two-word set with its words in hand.
    pub fn two_words_form(self) -> Option<impl Fn(i64) -> bool + Copy> {
        let IntSet::TwoWords { least, bits } = *self.set else {
            return None;
        };
        let negate = self.negate;
        Some(move |v| in_two_words(least, bits, v) != negate)
    }

    /// The test of a set of bits with its words in hand.
    pub fn bits_form(self) -> Option<impl Fn(i64) -> bool + Copy + 's> {
        let IntSet::Bits { least, words } = self.set else {
            return None;
        };
        let negate = self.negate;
        Some(move |v| in_bits(*least, words, v) != negate)
    }
}

/// `Membership::view_set`: a scanned set whose keys all fit inside a view.
fn views_of(set: &KeySet, negate: bool) -> Option<ViewSet> {
    if set.scan.is_empty() && !set.hashed.is_empty() {
        return None;
    }
    let views = set
        .scan
        .iter()
        .map(|key| inline_view(key))
        .collect::<Option<Vec<u128>>>()?;
    ViewSet::new(&views, negate)
}

#[derive(Debug)]
pub struct Membership {
    pub rule: RuleId,
    negate: bool,
    set: KeySet,
    /// The set as a test of Arrow string views, when it can be one (`view_set`): built once.
    views: Option<ViewSet>,
    /// An `int` column's set as its integers (`int_test`).
    ints: Option<IntSet>,
    listed: String,
}

impl Membership {
    pub fn compile(
        rule: RuleId,
        negate: bool,
        values: Option<&[Json]>,
        dtype: DType,
        at: &str,
    ) -> Result<Membership> {
        let kind = if negate { "not_in" } else { "isin" };
        if matches!(dtype, DType::Datetime | DType::Time) {
            // An instant or a time of day is rarely one of a few exact values: a range is meant.
            return Err(Error::schema(
                at,
                format!(
                    "{kind} applies to str, int, float, decimal, bool and date columns, not {}",
                    dtype.name()
                ),
            ));
        }
        let values = values.ok_or_else(|| Error::schema(at, "needs a \"values\" list"))?;
        if values.is_empty() && !negate {
            // Nothing could pass: certainly a mistake, never a rule.
            return Err(Error::schema(at, "isin needs at least one value"));
        }
        let mut listed: Vec<String> = values.iter().take(10).map(ToString::to_string).collect();
        if values.len() > 10 {
            listed.push(format!("… {} more", values.len() - 10));
        }
        let set = KeySet::compile(values, dtype, at)?;
        Ok(Membership {
            rule,
            negate,
            views: views_of(&set, negate),
            ints: (dtype == DType::Int).then(|| IntSet::new(values)).flatten(),
            set,
            listed: format!("[{}]", listed.join(", ")),
        })
    }

    #[inline]
    pub fn passes(&self, value: &Value<'_>) -> bool {
        let mut scratch = [0u8; 24];
        self.set.contains(value.key_bytes(&mut scratch)) != self.negate
    }

    /// `passes` for a `str` value (its key bytes are its text).
    #[inline(always)]
    pub fn passes_text(&self, text: &[u8]) -> bool {
        self.set.contains(text) != self.negate
    }

    /// Whether a `str` value that passes is thereby a non-empty `str` value: it is one of the
    /// keys (an `isin`), none of which is empty, and a key is a valid `str` (it was parsed as
    /// one).
    pub fn proves_plain_text(&self) -> bool {
        !self.negate && !self.set.contains(b"")
    }

    /// `passes` for an `int` value, with no key bytes: the set's integers tested directly.
    pub fn int_test(&self) -> Option<IntTest<'_>> {
        let set = self.ints.as_ref()?;
        Some(IntTest {
            set,
            negate: self.negate,
        })
    }

    /// The check as a test of Arrow string views, for a `str` column whose set is scanned and
    /// whose keys are all short enough to lie inside a view (12 bytes), each in a slot of its
    /// own (`ViewSet::new`; in practice always).
    pub fn view_set(&self) -> Option<&ViewSet> {
        self.views.as_ref()
    }

    pub fn describe(&self, column: &str) -> String {
        let relation = if self.negate {
            "is none of"
        } else {
            "is one of"
        };
        format!("{column} {relation} {}", self.listed)
    }

    pub fn message(&self, text: &str) -> String {
        if self.negate {
            format!("{text} is in the excluded set {}", self.listed)
        } else {
            format!("{text} is not in {}", self.listed)
        }
    }
}

/// A `str` membership check read straight from Arrow string views: the set's keys as the views
/// that inline them (the length in the low 32 bits, then the bytes, zero-padded). A value's view
/// with the bytes past its length masked off equals a key's exactly when the value is that key (a
/// value longer than 12 bytes has a length no key's view has). Each key has a slot of its own
/// (the multipliers are searched for when the set is built), so a lookup is two multiplies and
/// one comparison, with no probe loop. A set of at most eight keys (most code lists) is kept as
/// `FewKeys` too, and tested a word of views at a time without a table.
#[derive(Debug)]
pub struct ViewSet {
    /// Every key in the slot it hashes to; every other slot `NEVER`.
    slots: Vec<u128>,
    multipliers: (u64, u64),
    /// 64 less the bits of a slot number.
    shift: u32,
    /// The empty text is a key (its view is 0).
    has_empty: bool,
    negate: bool,
    /// The keys as views, when there are at most eight (`FewKeys`; boxed, as it can be 256
    /// bytes).
    few: Option<Box<FewKeys>>,
}

/// A set of at most eight keys, as the views that inline them (the length, then the bytes,
/// zero-padded); padded with keys no view is. A value is one of them when its view, its bytes
/// past its length cleared (`own_low`, `own_halves`: whatever a producer left there), is that
/// key. No hash and no table load: each view cleared once, then compared with every key, over a
/// word of views that the compiler makes four-lane compares in `widest`'s AVX2 build. Keys of at
/// most 4 bytes (flags, ISO codes) lie in a view's low half, and only it is compared.
#[derive(Debug, Clone, Copy)]
pub enum FewKeys {
    Two([u64; 2]),
    Four([u64; 4]),
    Eight([u64; 8]),
    WideFour([(u64, u64); 4]),
    WideEight([(u64, u64); 8]),
}

/// Whether each of 64 views (as their halves) is one of `keys` (`FewKeys`), the first in the
/// low bit: each view cleared (`own`), then compared with every key.
#[inline(always)]
fn few_word<K: Copy + PartialEq, const N: usize>(
    keys: &[K; N],
    views: &[[u64; 2]; 64],
    own: impl Fn([u64; 2]) -> K,
    negate: bool,
) -> u64 {
    let mut word = 0u64;
    for (i, &view) in views.iter().enumerate() {
        let view = own(view);
        let hit = (keys.iter()).fold(false, |hit, &key| hit | (view == key));
        word |= u64::from(hit != negate) << i;
    }
    word
}

/// A free slot: length 0 with bytes set, which no masked view is (the empty text's is 0).
const NEVER: u128 = !0xFFFF_FFFF;

/// The largest table searched: 1,024 slots (16 KiB) for at most 16 keys.
const MOST_SLOT_BITS: u32 = 10;

/// By a view's length modulo 16, the bits that hold its length and, up to 12 bytes, its value.
/// A longer value keeps at least its length, which no key's view has, so it matches none: the
/// index needs no clamp.
const VIEW_BITS: [u128; 16] = {
    let mut bits = [u128::MAX; 16];
    let mut len = 0;
    while len < 13 {
        bits[len] = 0xFFFF_FFFF | (((1u128 << (8 * len)) - 1) << 32);
        len += 1;
    }
    bits
};

/// `FewKeys` of the (distinct) inlining views `keys`, if there are at most eight.
fn few_keys(keys: &[u128]) -> Option<FewKeys> {
    // Padded with `NEVER`: length 0 with bytes set, which no cleared view is.
    let key = |n: usize| keys.get(n).copied().unwrap_or(NEVER);
    let low = |n: usize| key(n) as u64;
    let wide = |n: usize| (key(n) as u64, (key(n) >> 64) as u64);
    let short = keys.iter().all(|&key| key as u32 <= 4);
    match (keys.len(), short) {
        (0..=2, true) => Some(FewKeys::Two(std::array::from_fn(low))),
        (3..=4, true) => Some(FewKeys::Four(std::array::from_fn(low))),
        (5..=8, true) => Some(FewKeys::Eight(std::array::from_fn(low))),
        (0..=4, false) => Some(FewKeys::WideFour(std::array::from_fn(wide))),
        (5..=8, false) => Some(FewKeys::WideEight(std::array::from_fn(wide))),
        _ => None,
    }
}

/// The view that inlines `key`, if it is at most 12 bytes.
fn inline_view(key: &[u8]) -> Option<u128> {
    if key.len() > 12 {
        return None;
    }
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&(key.len() as u32).to_le_bytes());
    bytes[4..4 + key.len()].copy_from_slice(key);
    Some(u128::from_le_bytes(bytes))
}

/// The `n`th of a fixed sequence of odd 64-bit multipliers (splitmix64's output).
fn multiplier(n: u64) -> u64 {
    let mut x = n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 31)) | 1
}

impl ViewSet {
    /// The set of `views`, each in a slot of its own; `None` if no table of up to
    /// 2^[`MOST_SLOT_BITS`] slots and 64 pairs of multipliers places them apart (then the check
    /// reads the values' bytes instead).
    fn new(views: &[u128], negate: bool) -> Option<ViewSet> {
        let mut keys = views.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let has_empty = keys.contains(&0);
        let few = few_keys(&keys);
        let fewest_bits = (2 * keys.len()).next_power_of_two().trailing_zeros().max(4);
        for bits in fewest_bits..=MOST_SLOT_BITS {
            for n in 0..64 {
                let set = ViewSet {
                    slots: vec![NEVER; 1 << bits],
                    multipliers: (multiplier(2 * n), multiplier(2 * n + 1)),
                    shift: 64 - bits,
                    has_empty,
                    negate,
                    few: few.map(Box::new),
                };
                if let Some(set) = set.place(&keys) {
                    return Some(set);
                }
            }
        }
        None
    }

    /// This table with `keys` in it, if no two share a slot.
    fn place(mut self, keys: &[u128]) -> Option<ViewSet> {
        for &key in keys {
            let slot = self.slot_of(key);
            if self.slots[slot] != NEVER {
                return None;
            }
            self.slots[slot] = key;
        }
        Some(self)
    }

    #[inline(always)]
    fn slot_of(&self, view: u128) -> usize {
        let (low, high) = (view as u64, (view >> 64) as u64);
        let mixed = low.wrapping_mul(self.multipliers.0) ^ high.wrapping_mul(self.multipliers.1);
        // The top bits of the multiplies; the mask only spares a bounds check.
        (mixed >> self.shift) as usize & (self.slots.len() - 1)
    }

    /// Whether the value a string view holds passes the check.
    #[inline(always)]
    pub fn passes(&self, view: u128) -> bool {
        let len = view as u32 as usize;
        let own = view & VIEW_BITS[len % 16];
        (self.slots[self.slot_of(own)] == own) != self.negate
    }

    /// Rows `0..64` of `views` (as their halves) gathered into a word (the first row in the
    /// low bit), when the set has a word form (`FewKeys`).
    #[inline(always)]
    pub fn word(&self, views: &[[u64; 2]; 64]) -> Option<u64> {
        Some(match self.few.as_deref()? {
            FewKeys::Two(keys) => few_word(keys, views, own_low, self.negate),
            FewKeys::Four(keys) => few_word(keys, views, own_low, self.negate),
            FewKeys::Eight(keys) => few_word(keys, views, own_low, self.negate),
            FewKeys::WideFour(keys) => few_word(keys, views, own_halves, self.negate),
            FewKeys::WideEight(keys) => few_word(keys, views, own_halves, self.negate),
        })
    }

    /// Whether a value that passes is thereby a non-empty `str` value: it is one of the keys
    /// (an `isin`), none of which is empty, and a key is a valid `str` (it was parsed as one).
    pub fn proves_plain_text(&self) -> bool {
        !self.negate && !self.has_empty
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const AT: &str = "columns[0].checks[0]";

    proptest::proptest! {
        /// Packing is exact for keys of up to 16 bytes (two pack alike only when they are
        /// equal); equal keys of any length pack alike.
        #[test]
        fn pack_tells_every_two_keys_apart(
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..20),
            at in 0usize..20,
            byte in proptest::num::u8::ANY,
            cut in 0usize..20,
        ) {
            let mut changed = key.clone();
            if let Some(slot) = changed.get_mut(at) {
                *slot = byte;
            }
            let shorter = &key[..cut.min(key.len())];
            proptest::prop_assert_eq!(pack(&key), pack(&key.clone()));
            if packs_whole(key.len()) {
                proptest::prop_assert_eq!(pack(&key) == pack(&changed), key == changed);
                proptest::prop_assert_eq!(pack(&key) == pack(shorter), key.as_slice() == shorter);
            }
        }

        /// A set finds exactly its members, whatever its size (packed table or hash), long keys
        /// that pack alike (the same length, first and last eight bytes) included.
        #[test]
        fn a_set_finds_exactly_its_members(
            members in proptest::collection::vec(
                "[a-c]{0,3}|[a-z0-9]{0,18}|ABCDEFGH[xy]{1,3}STUVWXYZ", 1..40),
            probe in "[a-c]{0,3}|[a-z0-9]{0,18}|ABCDEFGH[xy]{1,3}STUVWXYZ",
        ) {
            let values: Vec<Json> = members.iter().map(|m| json!(m)).collect();
            let isin = compile(false, &Json::Array(values), DType::Str).expect("compiles");
            let want = members.contains(&probe);
            proptest::prop_assert_eq!(isin.passes(&Value::Str(probe.as_bytes())), want);
            for member in &members {
                proptest::prop_assert!(isin.passes(&Value::Str(member.as_bytes())));
            }
        }
    }

    proptest::proptest! {
        /// Read from Arrow string views, a set finds what it finds from the values' bytes
        /// (values inlined in their views and longer ones, past every multiple of 16 bytes too;
        /// isin and not_in); only a set with a key too long for a view has no view form.
        #[test]
        fn a_view_set_finds_what_the_set_finds(
            members in proptest::prop_oneof![
                proptest::collection::vec("[a-c]{0,3}|[a-z0-9]{0,14}", 1..17),
                proptest::collection::vec("[a-c]{0,4}", 1..10),
            ],
            probes in proptest::collection::vec("[a-c]{0,5}|[a-z0-9]{0,16}|[a-c]{17,40}", 1..20),
            negate in proptest::bool::ANY,
        ) {
            let values: Vec<Json> = members.iter().map(|m| json!(m)).collect();
            let check = compile(negate, &Json::Array(values), DType::Str).expect("compiles");
            let Some(set) = check.view_set() else {
                proptest::prop_assert!(members.iter().any(|m| m.len() > 12));
                return Ok(());
            };
            let array = arrow_array::StringViewArray::from_iter_values(&probes);
            for (&view, probe) in array.views().iter().zip(&probes) {
                let want = check.passes(&Value::Str(probe.as_bytes()));
                proptest::prop_assert_eq!(set.passes(view), want, "{:?}", probe);
                // A producer need not zero an inlined value's unused bytes.
                if probe.len() <= 12 {
                    let dirty = view | (0x5A5A_5A5A_5A5A_5A5A_5A5A_5A5A_5A5A_5A5A & !VIEW_BITS[probe.len()]);
                    proptest::prop_assert_eq!(set.passes(dirty), want, "{:?} (dirty)", probe);
                }
            }
            // The word form, where the set has one: at most eight keys.
            let distinct: std::collections::HashSet<&String> = members.iter().collect();
            let few = distinct.len() <= 8;
            let views: Vec<u128> = array.views().iter().copied().cycle().take(64).collect();
            let views: &[u128; 64] = views[..].try_into().expect("64 views");
            let word = set.word(&crate::rules::view_halves(views));
            proptest::prop_assert_eq!(word.is_some(), few);
            if let Some(word) = word {
                let one_by_one = (0..64).fold(0u64, |w, i| w | u64::from(set.passes(views[i])) << i);
                proptest::prop_assert_eq!(word, one_by_one);
                let dirty = views.map(|view| {
                    let len = (view as u32 as usize).min(13);
                    view | (0x5A5A_5A5A_5A5A_5A5A_5A5A_5A5A_5A5A_5A5A & !VIEW_BITS[len % 16])
                });
                let dirty = crate::rules::view_halves(&dirty);
                proptest::prop_assert_eq!(set.word(&dirty), Some(one_by_one), "dirty views");
            }
        }
    }

    proptest::proptest! {
        /// An `int` set tested as integers finds what the set finds from the values' key bytes:
        /// sets kept as bits (near each other) and sorted (far apart), `i64`'s ends, isin and
        /// not_in.
        #[test]
        fn an_int_set_finds_what_the_set_finds(
            base in proptest::prop_oneof![
                proptest::num::i64::ANY,
                proptest::strategy::Just(i64::MIN),
                proptest::strategy::Just(i64::MAX - 5000),
            ],
            offsets in proptest::prop_oneof![
                proptest::collection::vec(0i64..64, 1..20),
                proptest::collection::vec(0i64..128, 1..20),
                proptest::collection::vec(0i64..6000, 1..20),
            ],
            probes in proptest::collection::vec(-70i64..6100, 1..40),
            negate in proptest::bool::ANY,
        ) {
            let member = |offset: i64| base.saturating_add(offset);
            let values: Vec<Json> = offsets.iter().map(|&o| json!(member(o))).collect();
            let check = compile(negate, &Json::Array(values), DType::Int).expect("compiles");
            let test = check.int_test().expect("an int set");
            let word = test.word_form();
            let members = offsets.iter().map(|&o| member(o));
            let span = members.clone().max().zip(members.min()).map(|(most, least)| most.abs_diff(least));
            proptest::prop_assert_eq!(word.is_some(), span.is_some_and(|s| s < 64));
            let two_words = span.is_some_and(|s| (64..128).contains(&s));
            proptest::prop_assert_eq!(test.two_words_form().is_some(), two_words);
            let extremes = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
            for v in probes.iter().map(|&p| member(p)).chain(extremes) {
                let expected = check.passes(&Value::Int(v));
                proptest::prop_assert_eq!(test.passes(v), expected, "{}", v);
                if let Some(word) = word {
                    proptest::prop_assert_eq!(word(v), expected, "{} (the word form)", v);
                }
                if let Some(two_words) = test.two_words_form() {
                    proptest::prop_assert_eq!(two_words(v), expected, "{} (two words)", v);
                }
                if let Some(bits) = test.bits_form() {
                    proptest::prop_assert_eq!(bits(v), expected, "{} (the bits form)", v);
                }
            }
        }
    }

    fn compile(negate: bool, values: &Json, dtype: DType) -> Result<Membership> {
        Membership::compile(0, negate, values.as_array().map(Vec::as_slice), dtype, AT)
    }

    #[test]
    fn compile_errors() {
        let cases: &[(Json, DType, &str)] = &[
            (json!(null), DType::Str, "invalid rule spec at columns[0].checks[0]: needs a \"values\" list"),
            (
                json!(["a", null]),
                DType::Str,
                "invalid rule spec at columns[0].checks[0].values[1]: null is not a str value",
            ),
            (
                json!([[1]]),
                DType::Int,
                "invalid rule spec at columns[0].checks[0].values[0]: [1] is not a int value",
            ),
            (
                json!([1, "x"]),
                DType::Int,
                "invalid rule spec at columns[0].checks[0].values[1]: \"x\" is not a valid int value",
            ),
            (
                json!(["2024-02-30"]),
                DType::Date,
                "invalid rule spec at columns[0].checks[0].values[0]: \"2024-02-30\" is not a valid date value",
            ),
            (
                json!([1.5]),
                DType::Int,
                "invalid rule spec at columns[0].checks[0].values[0]: \"1.5\" is not a valid int value",
            ),
        ];
        for (values, dtype, want) in cases {
            let err = compile(false, values, *dtype).expect_err(want);
            assert_eq!(err.to_string(), *want);
        }
    }

    #[test]
    fn passes_and_fails() {
        // Values are compared as the column's type, so `007` is the int 7 and `1.50` the
        // decimal 1.5; `not_in` is the exact opposite of `isin`.
        let many: Vec<Json> = (0..40).map(|i| json!(format!("k{i}"))).collect();
        let cases: &[(Json, DType, &str, bool)] = &[
            (json!(["a", "b"]), DType::Str, "a", true),
            (json!(["a", "b"]), DType::Str, "c", false),
            (json!(["a", "b"]), DType::Str, "A", false),
            (json!(["a", "b"]), DType::Str, "", false),
            (json!([""]), DType::Str, "", true),
            (json!([1, 2, 3]), DType::Int, "007", false),
            (json!([1, 2, 7]), DType::Int, "007", true),
            (json!(["7"]), DType::Int, "+7", true),
            (json!([1.5]), DType::Float, "1.50", true),
            (json!([1.5]), DType::Float, "1.25", false),
            (json!(["1.50"]), DType::Decimal, "1.5", true),
            (json!([true]), DType::Bool, "yes", true),
            (json!([true]), DType::Bool, "no", false),
            (json!(["2024-01-01"]), DType::Date, "2024-01-01", true),
            (json!(["2024-01-01"]), DType::Date, "2024-01-02", false),
            (
                json!(["a-very-long-value-past-16-bytes"]),
                DType::Str,
                "a-very-long-value-past-16-bytes",
                true,
            ),
            (
                json!(["a-very-long-value-past-16-bytes"]),
                DType::Str,
                "a-very-long-value-past-16-byte",
                false,
            ),
            (Json::Array(many.clone()), DType::Str, "k39", true),
            (Json::Array(many), DType::Str, "k40", false),
        ];
        for (values, dtype, text, want) in cases {
            let value = TypeParser::for_dtype(*dtype)
                .parse(text.as_bytes())
                .expect("a valid cell");
            let isin = compile(false, values, *dtype).expect("compiles");
            let not_in = compile(true, values, *dtype).expect("compiles");
            assert_eq!(isin.passes(&value), *want, "{text:?} isin {values}");
            assert_eq!(not_in.passes(&value), !*want, "{text:?} not_in {values}");
        }
    }

    #[test]
    fn failure_messages() {
        let values = json!(["a", "b"]);
        assert_eq!(
            compile(false, &values, DType::Str).unwrap().message("c"),
            r#"c is not in ["a", "b"]"#
        );
        assert_eq!(
            compile(true, &values, DType::Str).unwrap().message("a"),
            r#"a is in the excluded set ["a", "b"]"#
        );
        let many: Vec<Json> = (0..12).map(|i| json!(i)).collect();
        assert_eq!(
            compile(false, &Json::Array(many), DType::Int)
                .unwrap()
                .message("99"),
            "99 is not in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … 2 more]"
        );
    }
}
