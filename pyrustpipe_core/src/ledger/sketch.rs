//! The ledger profile's sketches of a column's values: a distinct-count estimate (HyperLogLog)
//! and the exact value counts of a small string column. Both merge order-independently, so a
//! profile does not depend on how the input was split into blocks or threads.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// 2^12 registers: a standard error of 1.04 / sqrt(4096) ≈ 1.6% for 4 KiB per column.
const PRECISION: u32 = 12;
const REGISTERS: usize = 1 << PRECISION;

/// A string column with more distinct values than this is not "small": its top values are
/// dropped (and flagged) rather than kept, so a profile stays small.
pub const TOP_VALUES_CAP: usize = 64;

/// What a column's profile sketches (the ledger's `profile_columns` decides).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sketch {
    #[default]
    Nothing,
    Distinct,
    /// Distinct and the top values (string columns that are not sensitive).
    DistinctAndTop,
}

/// A HyperLogLog over 64-bit hashes: registers merge by max, so a union is a merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hll {
    /// Empty until the first value (most blocks of most columns pay nothing more).
    registers: Vec<u8>,
}

impl Hll {
    pub fn add(&mut self, hash: u64) {
        if self.registers.is_empty() {
            self.registers = vec![0; REGISTERS];
        }
        let index = (hash >> (64 - PRECISION)) as usize;
        // The guard bit caps the rank at 64 - PRECISION + 1 when the other bits are all zero.
        let rest = (hash << PRECISION) | (1 << (PRECISION - 1));
        #[allow(clippy::cast_possible_truncation)]
        let rank = rest.leading_zeros() as u8 + 1;
        let register = &mut self.registers[index];
        *register = (*register).max(rank);
    }

    pub fn merge(&mut self, other: &Hll) {
        if other.registers.is_empty() {
            return;
        }
        if self.registers.is_empty() {
            self.registers.clone_from(&other.registers);
            return;
        }
        for (mine, theirs) in self.registers.iter_mut().zip(&other.registers) {
            *mine = (*mine).max(*theirs);
        }
    }

    /// The estimate (Flajolet et al.), by linear counting while registers are still empty.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    pub fn estimate(&self) -> u64 {
        if self.registers.is_empty() {
            return 0;
        }
        let m = REGISTERS as f64;
        let zeros = self.registers.iter().filter(|&&r| r == 0).count();
        let sum: f64 = self
            .registers
            .iter()
            .map(|&r| f64::from_bits((1023 - u64::from(r)) << 52))
            .sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let estimate = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        estimate.round() as u64
    }
}

/// The 64-bit hash of a value's canonical bytes (`Value::key_bytes`).
pub fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// The hash of a fixed-width value's 64 bits (MurmurHash3's finalizer, a bijection with full
/// avalanche): a column has one type, so its values need no type tag, and this costs a few
/// instructions where copying the tagged bytes and hashing them cost ~70 a value.
pub fn mix(mut bits: u64) -> u64 {
    bits ^= bits >> 33;
    bits = bits.wrapping_mul(0xff51_afd7_ed55_8ccd);
    bits ^= bits >> 33;
    bits = bits.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    bits ^ (bits >> 33)
}

/// The map key is already a good hash: use it as is.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Exact counts of a string column's values while it has at most `TOP_VALUES_CAP` of them. Its
/// values are then counted exactly and kept out of the column's HyperLogLog (`spill`); past the
/// cap they go there, with every value counted so far.
#[derive(Debug, Clone, Default)]
pub struct TopValues {
    /// Value hash to its index in `values`.
    index: HashMap<u64, usize, BuildHasherDefault<Identity>>,
    values: Vec<(String, u64)>,
    /// More distinct values than the cap (or two values with one hash): counts dropped.
    pub over_cap: bool,
}

impl TopValues {
    pub fn add(&mut self, hash: u64, text: &[u8], count: u64, spill: &mut Hll) {
        if self.over_cap {
            spill.add(hash);
            return;
        }
        match self.index.get(&hash) {
            Some(&i) if self.values[i].0.as_bytes() == text => self.values[i].1 += count,
            // A 64-bit collision among a few dozen values: too rare to handle otherwise, and
            // dropping the counts is honest where a guess would not be.
            Some(_) => self.give_up(hash, spill),
            None if self.values.len() == TOP_VALUES_CAP => self.give_up(hash, spill),
            None => {
                self.index.insert(hash, self.values.len());
                self.values
                    .push((String::from_utf8_lossy(text).into_owned(), count));
            }
        }
    }

    /// Over the cap: every value so far (and `hash`) joins the estimate instead.
    fn give_up(&mut self, hash: u64, spill: &mut Hll) {
        spill.add(hash);
        for &kept in self.index.keys() {
            spill.add(kept);
        }
        self.over_cap = true;
        self.index = HashMap::default();
        self.values = Vec::new();
    }

    /// `spill` already holds `other`'s spilled values (the two HyperLogLogs merged first).
    pub fn merge(&mut self, other: &TopValues, spill: &mut Hll) {
        if other.over_cap && !self.over_cap {
            let first = self.index.keys().next().copied();
            match first {
                Some(hash) => self.give_up(hash, spill),
                None => self.over_cap = true,
            }
        }
        for (text, count) in &other.values {
            self.add(hash(text.as_bytes()), text.as_bytes(), *count, spill);
        }
    }

    /// Distinct values counted exactly (`None` past the cap).
    pub fn distinct(&self) -> Option<u64> {
        (!self.over_cap).then_some(self.values.len() as u64)
    }

    /// The counts, most frequent first, ties by value: the same for any split of the input.
    pub fn sorted(&self) -> Vec<(String, u64)> {
        let mut out = self.values.clone();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hll_of(range: std::ops::Range<u64>) -> Hll {
        let mut hll = Hll::default();
        for v in range {
            hll.add(hash(&v.to_le_bytes()));
        }
        hll
    }

    #[test]
    #[allow(clippy::cast_precision_loss)]
    fn the_estimate_is_within_its_bound() {
        // 3 standard errors (1.04 / 64 each) and, for a handful of values, one.
        for n in [
            0u64, 1, 2, 10, 100, 1_000, 5_000, 10_000, 30_000, 100_000, 1_000_000,
        ] {
            let estimate = hll_of(0..n).estimate();
            let bound = (n as f64 * 3.0 * 1.04 / 64.0).max(1.0);
            assert!(
                (estimate as f64 - n as f64).abs() <= bound,
                "{n} distinct estimated as {estimate}"
            );
        }
    }

    #[test]
    #[allow(clippy::cast_precision_loss)]
    fn sequential_numbers_mixed_estimate_within_the_bound() {
        for n in [1u64, 100, 10_000, 1_000_000] {
            let mut hll = Hll::default();
            (0..n).for_each(|v| hll.add(mix(v)));
            let estimate = hll.estimate();
            let bound = (n as f64 * 3.0 * 1.04 / 64.0).max(1.0);
            assert!(
                (estimate as f64 - n as f64).abs() <= bound,
                "{n}: {estimate}"
            );
        }
    }

    #[test]
    fn repeats_do_not_count_and_merge_is_union() {
        let mut twice = hll_of(0..5_000);
        twice.merge(&hll_of(0..5_000));
        assert_eq!(twice, hll_of(0..5_000));
        // Two overlapping halves merged, either order, equal the whole.
        let (a, b) = (hll_of(0..7_000), hll_of(3_000..10_000));
        let (mut ab, mut ba) = (a.clone(), b.clone());
        ab.merge(&b);
        ba.merge(&a);
        assert_eq!(ab, hll_of(0..10_000));
        assert_eq!(ba, ab);
        let mut empty = Hll::default();
        empty.merge(&Hll::default());
        assert_eq!(empty.estimate(), 0);
    }

    fn top_of(values: &[&str]) -> TopValues {
        top_and_spill(values).0
    }

    fn top_and_spill(values: &[&str]) -> (TopValues, Hll) {
        let (mut top, mut spill) = (TopValues::default(), Hll::default());
        for v in values {
            top.add(hash(v.as_bytes()), v.as_bytes(), 1, &mut spill);
        }
        (top, spill)
    }

    fn merged(a: &[&str], b: &[&str]) -> (TopValues, Hll) {
        let ((mut top, mut spill), (other, other_spill)) = (top_and_spill(a), top_and_spill(b));
        spill.merge(&other_spill);
        top.merge(&other, &mut spill);
        (top, spill)
    }

    #[test]
    fn top_values_are_exact_with_ties_by_value() {
        // (values, expected counts in order)
        type Counts<'a> = &'a [(&'a str, u64)];
        let cases: &[(&[&str], Counts)] = &[
            (&[], &[]),
            (&["b", "a", "b"], &[("b", 2), ("a", 1)]),
            (&["z", "y", "x", "y", "z"], &[("y", 2), ("z", 2), ("x", 1)]),
            (&["KES", "KES", "USD"], &[("KES", 2), ("USD", 1)]),
        ];
        for (values, want) in cases {
            let got = top_of(values).sorted();
            let want: Vec<(String, u64)> =
                want.iter().map(|(v, c)| ((*v).to_owned(), *c)).collect();
            assert_eq!(got, want, "{values:?}");
            // Any split, merged in either order, gives the same counts.
            for split in 0..=values.len() {
                let (top, spill) = merged(&values[..split], &values[split..]);
                assert_eq!(top.sorted(), want, "{values:?} split at {split}");
                assert_eq!(top.distinct(), Some(want.len() as u64));
                assert_eq!(spill, Hll::default(), "nothing spills under the cap");
            }
        }
    }

    #[test]
    fn a_column_over_the_cap_keeps_no_values() {
        let names: Vec<String> = (0..=TOP_VALUES_CAP).map(|i| format!("v{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let at_cap = top_of(&names[..TOP_VALUES_CAP]);
        assert!(!at_cap.over_cap);
        assert_eq!(at_cap.sorted().len(), TOP_VALUES_CAP);
        let over = top_of(&names);
        assert!(over.over_cap);
        assert!(over.sorted().is_empty());
        // Past the cap every value is in the estimate: the same registers for any split.
        let (_, whole) = top_and_spill(&names);
        assert!(whole.estimate().abs_diff(names.len() as u64) <= 2);
        for split in [0, 1, 40, TOP_VALUES_CAP, names.len()] {
            for (a, b) in [
                (&names[..split], &names[split..]),
                (&names[split..], &names[..split]),
            ] {
                let (top, spill) = merged(a, b);
                assert!(top.over_cap && top.sorted().is_empty() && top.distinct().is_none());
                assert_eq!(spill, whole, "split at {split}");
            }
        }
    }
}
