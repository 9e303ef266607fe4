//! The value an Arrow string view holds, read from the view's two `u64` halves (`[low, high]`:
//! the length and the first 4 bytes, then the other 8): one it inlines (at most 12 bytes) by
//! arithmetic, with no table and no branch, so that a loop over views vectorizes; a longer one
//! from the data buffer the high half points at.

use arrow_buffer::Buffer;

use super::fixed_pattern::HIGH_BITS;

/// The bytes of a long value (`len` bytes, not inlined) a view's high half (`buffer`,
/// `offset`) points at; `None` where that is outside the buffers (only a null's view can be).
#[inline(always)]
pub(crate) fn long_value(len: usize, high: u64, buffers: &[Buffer]) -> Option<&[u8]> {
    let (buffer, offset) = (high as u32 as usize, (high >> 32) as usize);
    (buffers.get(buffer)).and_then(|b| b.as_slice().get(offset..offset + len))
}

/// A view's low half with the bytes past its length cleared (its length and up to 4 bytes):
/// arithmetic, not `VIEW_BITS`' table, so that it vectorizes. A value longer than 4 bytes keeps
/// the whole half, whose length no short key has.
#[inline(always)]
pub(crate) fn own_low([low, _]: [u64; 2]) -> u64 {
    let len = (low as u32).min(4);
    low & u64::MAX >> (32 - 8 * len)
}

/// A view's two halves with the bytes past its length cleared (up to 12 bytes); a longer value
/// keeps both, and its length matches no key's.
#[inline(always)]
pub(crate) fn own_halves(view: [u64; 2]) -> (u64, u64) {
    let len = (view[0] as u32).min(12);
    (own_low(view), view[1] & inlined_high_bits(len))
}

/// The bits of a view's high half that hold an inlined value of `len` (at most 12) bytes: its
/// bytes 5 to 12. No branch: a shift by 64 or more is not one, so a mask says none for a value
/// of at most 4 bytes.
#[inline(always)]
pub(crate) fn inlined_high_bits(len: u32) -> u64 {
    u64::MAX >> ((96 - 8 * len) & 63) & 0u64.wrapping_sub(u64::from(len > 4))
}

/// The characters of the value a view inlines (at most 12 bytes), counted as `char_count`
/// counts them: its length less its bytes that continue a character (`0b10xx_xxxx`: bit 7 set,
/// bit 6 clear; the bytes outside the value are cleared first, and no length byte of such a
/// value has bit 7). Of a longer value's view, a number with no meaning (no branch, so that a
/// loop over views vectorizes).
#[inline(always)]
pub(crate) fn inlined_chars(view: [u64; 2]) -> u64 {
    let continuing = |x: u64| u64::from((x & !(x << 1) & HIGH_BITS).count_ones());
    let (low, high) = own_halves(view);
    u64::from((view[0] as u32).min(12))
        .wrapping_sub(continuing(low))
        .wrapping_sub(continuing(high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::length::char_count;

    /// Every length up to 12, every byte kind at every place, whatever lies past the value:
    /// the count is `char_count`'s.
    #[test]
    fn inlined_characters_are_counted_as_char_count_counts() {
        for len in 0..=12usize {
            for at in 0..len.max(1) {
                for byte in [0u8, b'a', 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF] {
                    let mut bytes = [b'a'; 12];
                    if len > 0 {
                        bytes[len - 1] = 0x80;
                        bytes[at] = byte;
                    }
                    for rest in [0u8, 0x80, 0xC0] {
                        let mut inlined = bytes;
                        inlined[len..].fill(rest);
                        let mut view = len as u128;
                        for (i, b) in inlined.iter().enumerate() {
                            view |= u128::from(*b) << (32 + 8 * i);
                        }
                        let halves = [view as u64, (view >> 64) as u64];
                        assert_eq!(
                            inlined_chars(halves),
                            char_count(&bytes[..len]),
                            "{len} {at} {byte:#x} {rest:#x}"
                        );
                    }
                }
            }
        }
    }
}
