//! Eight bytes at a time: which bytes of a word are zero, or below a limit, flagged in their
//! high bits (SWAR — one register's arithmetic instead of a byte loop).

pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
const LOWS: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Flags the bytes of `word` below `limit` (at most 128); bytes above a flagged one may be
/// flagged too (a borrow), but the lowest flag is always exactly the first such byte.
#[inline(always)]
pub(crate) fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// Flags the zero bytes of `x`, the lowest flag exactly the first: one operation cheaper than
/// [`zero_bytes`] for a search that reads only the first.
#[inline(always)]
pub(crate) fn first_zero_byte(x: u64) -> u64 {
    bytes_below(x, 1)
}

/// Flags exactly the zero bytes of `x` (no byte carries into the next).
#[inline(always)]
pub(crate) fn zero_bytes(x: u64) -> u64 {
    !(((x & LOWS) + LOWS) | x) & HIGHS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_flagged_byte_is_the_first_below_the_limit() {
        for limit in [1u8, 0x20, 0x5d] {
            for at in 0..8 {
                for filler in [limit, 0x7f, 0xff] {
                    let mut bytes = [filler; 8];
                    bytes[at] = limit - 1;
                    if at > 0 {
                        // A byte just above the limit before it must not be flagged.
                        bytes[at - 1] = limit;
                    }
                    let found = bytes_below(u64::from_le_bytes(bytes), limit);
                    assert_eq!(found.trailing_zeros() / 8, at as u32, "{bytes:?} {limit}");
                }
            }
            assert_eq!(bytes_below(u64::from_le_bytes([limit; 8]), limit), 0);
        }
    }

    #[test]
    fn zero_bytes_are_flagged_exactly() {
        let word = u64::from_le_bytes([0, 1, 0, 0x80, 0, 0xff, 1, 0]);
        assert_eq!(
            zero_bytes(word),
            u64::from_le_bytes([0x80, 0, 0x80, 0, 0x80, 0, 0, 0x80])
        );
        assert_eq!(first_zero_byte(word).trailing_zeros(), 7);
    }
}
