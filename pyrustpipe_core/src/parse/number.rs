//! Integer and float parsing, plus the number scanner shared with `decimal`.
//!
//! The grammars are deliberately narrower than Rust's `FromStr`: no `inf`/`nan`, no
//! surrounding whitespace. Every function is allocation-free and total (never panics).

/// Parses `[+-]?[0-9]+` into an `i64`; `None` outside the 64-bit signed range.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    let (neg, digits) = split_sign(s);
    if digits.is_empty() {
        return None;
    }
    // 18 decimal digits always fit in i64, so the common case needs no overflow checks.
    if digits.len() <= 18 {
        let mut acc: i64 = 0;
        for &b in digits {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            acc = acc * 10 + i64::from(d);
        }
        return Some(if neg { -acc } else { acc });
    }
    // Accumulate towards negative so that i64::MIN (whose magnitude exceeds i64::MAX)
    // parses without a detour through a wider type.
    let mut acc: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_sub(i64::from(d))?;
    }
    if neg {
        Some(acc)
    } else {
        acc.checked_neg()
    }
}

/// Parses `[+-]?(digits[.digits]|digits.|.digits)([eE][+-]?digits)?` into an `f64`.
///
/// The result is the correctly rounded nearest double (same as `str::parse::<f64>`).
/// A value whose magnitude overflows to infinity (`1e400`) is rejected: the spec keeps
/// infinities out of float columns, and a literal that overflows is no better than `inf`.
/// Underflow to a subnormal or zero is accepted, as it is for `str::parse`.
pub fn parse_float(s: &[u8]) -> Option<f64> {
    plain_decimal(s).or_else(|| scanned_float(s))
}

/// The common shape `[+-]?digits[.digits]` (at most 19 digits, so no overflow), scanned and
/// accumulated together; `None` for anything else, which [`scanned_float`] then decides. Same
/// digits, same exponent, same rounding as it. The integer digits and the fraction digits are
/// two loops, not one with a test for the point in it: a column's fractions mostly have one
/// length, so only the integer part's end is a branch the CPU cannot predict (15.4 → 14.0 ns a
/// value on the benchmark's amounts and fees).
fn plain_decimal(s: &[u8]) -> Option<f64> {
    let (neg, body) = split_sign(s);
    if (8..=16).contains(&body.len()) {
        if let Some(v) = decimal_in_two_words(neg, body) {
            return Some(v);
        }
    }
    if body.len() > 19 {
        return None;
    }
    let digit = |b: u8| {
        Some(b.wrapping_sub(b'0'))
            .filter(|&d| d <= 9)
            .map(u64::from)
    };
    let mut m: u64 = 0;
    let mut at = 0;
    while let Some(d) = body.get(at).copied().and_then(digit) {
        m = m * 10 + d;
        at += 1;
    }
    let frac_len = match body.get(at) {
        None if body.is_empty() => return None,
        None => 0,
        // "." alone has no digits: not a number, left to the full scanner to say so.
        Some(b'.') if body.len() == 1 => return None,
        Some(b'.') => {
            let frac = &body[at + 1..];
            for &b in frac {
                m = m * 10 + digit(b)?;
            }
            frac.len()
        }
        Some(_) => return None,
    };
    if m == 0 {
        return Some(if neg { -0.0 } else { 0.0 });
    }
    // frac_len <= 19.
    clinger(m, -(frac_len as i64), neg)
}

/// `digits.digits` of 8 to 16 bytes, at most eight of them after the point (coordinates,
/// measurements, long amounts) without a loop: the integer digits from the body's first eight
/// bytes, the fraction's from its last eight, each tested and converted eight digits at a time.
/// `None` for any other shape (the loops then decide it). Not inlined: inside
/// [`plain_decimal`] its registers cost every short decimal (`12.8`) 7 more instructions, out
/// of line 4 (the length test).
#[inline(never)]
fn decimal_in_two_words(neg: bool, body: &[u8]) -> Option<f64> {
    // x87 rounds twice (see `clinger`): the loops' path decides there.
    if cfg!(all(target_arch = "x86", not(target_feature = "sse2"))) || body.len() > 16 {
        return None;
    }
    let first = u64::from_le_bytes(body.first_chunk::<8>().copied()?);
    let last = u64::from_le_bytes(body.last_chunk::<8>().copied()?);
    let point = first_byte_equal_to(first, b'.')?;
    let frac_len = body.len() - point - 1;
    if point == 0 || !(1..=8).contains(&frac_len) {
        return None;
    }
    // The integer's digits are the first word's low `point` bytes, the fraction's the last
    // word's high `frac_len` bytes; every other byte is made a '0' before the digit test.
    let int_keep = (1u64 << (8 * point)) - 1;
    let frac_keep = u64::MAX << (8 * (8 - frac_len));
    let int = (first & int_keep) | (ASCII_ZEROS & !int_keep);
    let frac = (last & frac_keep) | (ASCII_ZEROS & !frac_keep);
    if !all_ascii_digits(int, frac) {
        return None;
    }
    // The integer's digits moved to the word's end: its other bytes become leading zeros.
    let int = eight_digits((int - ASCII_ZEROS) << (8 * (8 - point)));
    let frac = eight_digits(frac - ASCII_ZEROS);
    let m = int * EXACT_POW10_INT[frac_len] + frac;
    // Clinger's conditions hold by construction: at most 15 digits (m < 10^15 < 2^53, exact as
    // a double) and 10^frac_len exact, so the one division rounds once, to the nearest double.
    // Through i64: one conversion instruction where u64's takes five (m < 2^53 either way).
    let v = m as i64 as f64 / EXACT_POW10[frac_len];
    Some(if neg { -v } else { v })
}

/// Eight ASCII '0' bytes.
const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;

/// 10^k as integers, k <= 8.
const EXACT_POW10_INT: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The index of the first byte of `word` (in memory order) equal to `byte`.
fn first_byte_equal_to(word: u64, byte: u8) -> Option<usize> {
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    // The lowest set high bit marks the first zero byte exactly (borrows only run upwards).
    let zero = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
    (zero != 0).then(|| zero.trailing_zeros() as usize / 8)
}

/// Whether all sixteen bytes of two words are ASCII digits (one test, one branch).
fn all_ascii_digits(a: u64, b: u64) -> bool {
    // A digit's high nibble is 3, and adding 6 leaves it 3 (so the low nibble is <= 9).
    let nibbles = |word: u64| {
        let high = word & 0xF0F0_F0F0_F0F0_F0F0;
        let carried = (word.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4;
        (high | carried) ^ 0x3333_3333_3333_3333
    };
    nibbles(a) | nibbles(b) == 0
}

/// The number written by eight digit values (0..=9 each), the first byte in memory the most
/// significant: pairs, then quads, then the whole, by multiplies.
fn eight_digits(digits: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let pairs = digits.wrapping_mul(10).wrapping_add(digits >> 8);
    ((pairs & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((pairs >> 16) & MASK).wrapping_mul(MUL2)))
        >> 32
}

/// [`parse_float`] through the full grammar scan.
fn scanned_float(s: &[u8]) -> Option<f64> {
    let n = scan_number(s)?;
    if let Some(v) = fast_float(&n) {
        return Some(v);
    }
    // The scanner has proven `s` is ASCII in a grammar that `f64::from_str` accepts
    // with identical meaning, so this cannot fail; `.ok()?` keeps us panic-free anyway.
    let v: f64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// A number in the float/decimal grammar, split into its parts (no conversion yet).
/// Value = sign * (int ++ frac as an integer) * 10^(exp - frac.len()).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scanned<'a> {
    pub neg: bool,
    pub int: &'a [u8],
    pub frac: &'a [u8],
    /// The explicit exponent, saturated far outside any meaningful range so that
    /// absurd inputs (`1e99999999999999999999`) cannot overflow later arithmetic.
    pub exp: i64,
}

/// Exponents beyond this are all "too big" for both f64 and Decimal; saturating here keeps
/// later sums with digit counts comfortably inside i64.
const EXP_SATURATION: i64 = 1 << 40;

/// Validates the float grammar and splits the number; `None` when `s` does not match.
pub(crate) fn scan_number(s: &[u8]) -> Option<Scanned<'_>> {
    let (neg, rest) = split_sign(s);
    let int_len = count_digits(rest);
    let int = &rest[..int_len];
    let mut rest = &rest[int_len..];
    let mut frac: &[u8] = &[];
    if let Some((&b'.', after)) = rest.split_first() {
        let frac_len = count_digits(after);
        frac = &after[..frac_len];
        rest = &after[frac_len..];
    }
    // "." and "" have no digits at all; "5." and ".5" are fine.
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if let Some((&e, after)) = rest.split_first() {
        if e != b'e' && e != b'E' {
            return None;
        }
        let (exp_neg, exp_digits) = split_sign(after);
        if exp_digits.is_empty() {
            return None;
        }
        for &b in exp_digits {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            exp = (exp * 10 + i64::from(d)).min(EXP_SATURATION);
        }
        if exp_neg {
            exp = -exp;
        }
    }
    Some(Scanned {
        neg,
        int,
        frac,
        exp,
    })
}

/// Powers of ten that are exact f64 values: 10^k = 5^k * 2^k and 5^k < 2^53 for k <= 22.
pub(crate) const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Largest integer such that it and every smaller non-negative integer is exact in f64.
pub(crate) const MAX_EXACT_INT: u64 = 1 << 53;

/// Clinger's fast path: when the decimal mantissa `m` and `10^|k|` are both exact doubles,
/// one IEEE multiply or divide is correctly rounded, so `m * 10^k` (or `m / 10^-k`) is
/// exactly the nearest double to the true value. Returns `None` outside those conditions.
pub(crate) fn clinger(m: u64, k: i64, neg: bool) -> Option<f64> {
    // x87 without SSE2 computes in 80-bit registers and double-rounds; the proof needs
    // a single rounding to binary64.
    if cfg!(all(target_arch = "x86", not(target_feature = "sse2"))) {
        return None;
    }
    if m > MAX_EXACT_INT || !(-22..=22).contains(&k) {
        return None;
    }
    let mf = m as f64; // exact: m <= 2^53
    let v = if k >= 0 {
        mf * EXACT_POW10[k as usize]
    } else {
        mf / EXACT_POW10[(-k) as usize]
    };
    Some(if neg { -v } else { v })
}

fn fast_float(n: &Scanned<'_>) -> Option<f64> {
    // Accumulate the significant digits; leading zeros contribute nothing and do not
    // count towards the 19 digits a u64 can always hold.
    let mut m: u64 = 0;
    let mut sig = 0usize;
    for &b in n.int.iter().chain(n.frac) {
        let d = b - b'0';
        if sig == 0 && d == 0 {
            continue;
        }
        sig += 1;
        if sig > 19 {
            return None;
        }
        m = m * 10 + u64::from(d);
    }
    if m == 0 {
        // Zero with any exponent is zero; keep the sign ("-0" is -0.0, as in str::parse).
        return Some(if n.neg { -0.0 } else { 0.0 });
    }
    // frac.len() fits in i64 for any slice; exp is saturated, so this cannot overflow.
    let k = n.exp - n.frac.len() as i64;
    clinger(m, k, n.neg)
}

fn split_sign(s: &[u8]) -> (bool, &[u8]) {
    match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    }
}

fn count_digits(s: &[u8]) -> usize {
    s.iter().take_while(|b| b.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn int_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("-0", Some(0)),
            ("+0", Some(0)),
            ("+5", Some(5)),
            ("-5", Some(-5)),
            ("007", Some(7)),
            ("123456789", Some(123_456_789)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("+9223372036854775807", Some(i64::MAX)),
            ("0009223372036854775807", Some(i64::MAX)),
            ("-0009223372036854775808", Some(i64::MIN)),
            ("999999999999999999", Some(999_999_999_999_999_999)),
            ("-999999999999999999", Some(-999_999_999_999_999_999)),
            ("9223372036854775808", None),
            ("-9223372036854775809", None),
            ("99999999999999999999", None),
            ("", None),
            ("-", None),
            ("+", None),
            ("--1", None),
            ("+-1", None),
            ("1.0", None),
            ("1.", None),
            (".5", None),
            ("1e3", None),
            (" 1", None),
            ("1 ", None),
            ("1,000", None),
            ("1_000", None),
            ("0x10", None),
            ("١", None), // Arabic-Indic digit one: not ASCII
            ("12a", None),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_int(text.as_bytes()), want, "parse_int({text:?})");
        }
    }

    #[test]
    fn float_table() {
        let cases: &[(&str, Option<f64>)] = &[
            ("0", Some(0.0)),
            ("1", Some(1.0)),
            ("-1", Some(-1.0)),
            ("+5", Some(5.0)),
            (".5", Some(0.5)),
            ("-.5", Some(-0.5)),
            ("5.", Some(5.0)),
            ("5.e2", Some(500.0)),
            (".5e1", Some(5.0)),
            ("1.25", Some(1.25)),
            ("1e3", Some(1000.0)),
            ("1E3", Some(1000.0)),
            ("1e+3", Some(1000.0)),
            ("1e-3", Some(0.001)),
            ("0.1", Some(0.1)),
            ("0.3", Some(0.3)),
            (
                "123456789012345678901234567890",
                Some(1.2345678901234568e29),
            ),
            ("1.7976931348623157e308", Some(f64::MAX)),
            ("-1.7976931348623157e308", Some(f64::MIN)),
            ("5e-324", Some(5e-324)),
            ("1e-400", Some(0.0)),
            ("0e999999999999999999999", Some(0.0)),
            ("9007199254740993", Some(9007199254740992.0)), // 2^53 + 1 rounds to even
            ("1e22", Some(1e22)),
            ("1e23", Some(1e23)),
            ("000000000000000000000000001.5", Some(1.5)),
            ("1e400", None), // overflows to infinity
            ("-1e400", None),
            ("1e99999999999999999999999", None),
            ("", None),
            (".", None),
            ("-", None),
            ("+", None),
            ("-.", None),
            ("1e", None),
            ("1e+", None),
            ("1e-", None),
            ("e5", None),
            (".e5", None),
            ("1e5.0", None),
            ("1.2.3", None),
            ("NaN", None),
            ("nan", None),
            ("inf", None),
            ("-inf", None),
            ("infinity", None),
            ("Infinity", None),
            ("1,000", None),
            ("1,000.5", None),
            ("1_000.5", None),
            ("0x10", None),
            (" 1", None),
            ("1 ", None),
            ("1\n", None),
            ("--1", None),
            ("1d3", None),
            ("1f", None),
        ];
        for &(text, want) in cases {
            let got = parse_float(text.as_bytes());
            assert_eq!(
                got.map(f64::to_bits),
                want.map(f64::to_bits),
                "parse_float({text:?}) = {got:?}"
            );
        }
        // Signed zero survives both the fast path and the fallback.
        assert!(parse_float(b"-0").unwrap().is_sign_negative());
        assert!(parse_float(b"-0e999999").unwrap().is_sign_negative());
        assert!(parse_float(b"-0.000000000000000000000000")
            .unwrap()
            .is_sign_negative());
    }

    #[test]
    fn word_helpers_table() {
        let word = |text: &[u8; 8]| u64::from_le_bytes(*text);
        assert_eq!(first_byte_equal_to(word(b"31.95376"), b'.'), Some(2));
        assert_eq!(first_byte_equal_to(word(b".1.2.3.4"), b'.'), Some(0));
        assert_eq!(first_byte_equal_to(word(b"1234567."), b'.'), Some(7));
        assert_eq!(first_byte_equal_to(word(b"12345678"), b'.'), None);
        // A byte one above the one sought borrows into no false first match.
        assert_eq!(first_byte_equal_to(word(b"//////./"), b'.'), Some(6));
        assert!(all_ascii_digits(word(b"09876543"), word(b"12345678")));
        for bad in [
            b"0987654/",
            b"0987654:",
            b"a9876543",
            b"0987\xb65 3",
            b"\xf9\xf9\xf9\xf9\xf9\xf9\xf9\xf9",
        ] {
            assert!(!all_ascii_digits(word(bad), ASCII_ZEROS), "{bad:?}");
            assert!(!all_ascii_digits(ASCII_ZEROS, word(bad)), "{bad:?}");
        }
        assert_eq!(eight_digits(word(b"12345678") - ASCII_ZEROS), 12_345_678);
        assert_eq!(eight_digits(word(b"99999999") - ASCII_ZEROS), 99_999_999);
        assert_eq!(eight_digits(word(b"00000001") - ASCII_ZEROS), 1);
        assert_eq!(eight_digits(0), 0);
    }

    #[test]
    fn two_word_table() {
        let cases: &[(&str, Option<f64>)] = &[
            ("31.95376472", Some(31.95376472)),
            ("104.5698933", Some(104.5698933)),
            ("0.00000000", Some(0.0)),
            ("1234567.12345678", Some(1234567.12345678)),
            ("9999999.99999999", Some(9999999.99999999)),
            ("12.34567", Some(12.34567)),
            ("1.0000001", Some(1.0000001)),
            ("1234567.", None),          // no fraction digits: the loops decide
            (".1234567", None),          // no integer digits
            ("12345678.9", None),        // the point beyond the first word
            ("1.123456789", None),       // nine fraction digits
            ("1234567", None),           // shorter than a word
            ("12345678901234567", None), // longer than two
            ("12.345e67", None),
            ("12.34.567", None),
            ("12.3456 ", None),
            ("1\x01.2345678", None), // a control byte ORed with '0' would read as a digit
            ("-12.34567", None),     // the sign is the caller's
        ];
        for &(text, want) in cases {
            let got = decimal_in_two_words(false, text.as_bytes());
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{text}");
        }
        assert_eq!(
            decimal_in_two_words(true, b"0.0000000").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
        assert_eq!(
            decimal_in_two_words(true, b"89.23450472"),
            Some(-89.23450472)
        );
    }

    #[test]
    fn fast_path_edges_match_std() {
        // Boundaries of the Clinger conditions: 2^53 mantissa, |k| = 22, 19 digits.
        let cases = [
            "9007199254740992",
            "9007199254740993",
            "9007199254740992e22",
            "9007199254740992e-22",
            "9007199254740993e-22",
            "1e-22",
            "1e-23",
            "123e20",
            "123e21",
            "1234567890123456789",
            "12345678901234567890",
            "0.0000000000000000000000001",
            "4.9406564584124654e-324",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
        ];
        for text in cases {
            let want: f64 = text.parse().unwrap();
            assert_eq!(
                parse_float(text.as_bytes()).map(f64::to_bits),
                Some(want.to_bits()),
                "{text}"
            );
        }
    }

    /// Strings matching the float grammar, built from parts that stress both paths.
    fn grammar_float() -> impl Strategy<Value = String> {
        let sign = prop_oneof![Just(""), Just("+"), Just("-")];
        let digits = "[0-9]{1,25}";
        let body = prop_oneof![
            (digits, proptest::option::of("[0-9]{0,25}")).prop_map(|(i, f)| match f {
                Some(f) => format!("{i}.{f}"),
                None => i,
            }),
            "[0-9]{1,25}".prop_map(|f| format!(".{f}")),
        ];
        let exp = proptest::option::of((
            prop_oneof![Just("e"), Just("E")],
            prop_oneof![Just(""), Just("+"), Just("-")],
            prop_oneof!["[0-9]{1,2}", "[0-3][0-9]{2}", "[0-9]{1,6}"],
        ));
        (sign, body, exp).prop_map(|(s, b, e)| match e {
            Some((e, es, ed)) => format!("{s}{b}{e}{es}{ed}"),
            None => format!("{s}{b}"),
        })
    }

    /// Reference grammar, written independently of the scanner (as a regex would be).
    fn matches_float_grammar(s: &str) -> bool {
        let b = s.as_bytes();
        let mut i = 0;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let mut ndigits = i - int_start;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let f = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            ndigits += i - f;
        }
        if ndigits == 0 {
            return false;
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let e = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == e {
                return false;
            }
        }
        i == b.len()
    }

    proptest! {
        #[test]
        fn int_agrees_with_std(s in "[+-]?[0-9]{1,22}") {
            prop_assert_eq!(parse_int(s.as_bytes()), s.parse::<i64>().ok());
        }

        #[test]
        fn int_roundtrips(v in any::<i64>()) {
            prop_assert_eq!(parse_int(v.to_string().as_bytes()), Some(v));
        }

        #[test]
        fn int_rejects_non_grammar(s in "[+-]?[0-9]{0,5}[^0-9+-][0-9]{0,5}") {
            prop_assert_eq!(parse_int(s.as_bytes()), None);
        }

        #[test]
        /// The one-pass path decides only what the full scan decides the same way, to the bit.
        fn plain_decimal_agrees_with_the_full_scan(s in "[-+]?[0-9]{0,12}[.]?[0-9]{0,12}|[-+0-9.eE]{0,21}") {
            if let Some(v) = plain_decimal(s.as_bytes()) {
                prop_assert_eq!(Some(v.to_bits()), scanned_float(s.as_bytes()).map(f64::to_bits));
            }
        }

        #[test]
        /// The loop-free path takes every `digits.digits` of 8 to 16 bytes with 1 to 7 integer
        /// and 1 to 8 fraction digits, and agrees with `str::parse` to the bit on whatever it
        /// takes (bytes out of place, a second point, any non-digit: it declines).
        fn two_word_decimals_agree_with_std(
            s in "[0-9]{1,8}[.][0-9]{1,9}|[0-9.]{8,16}|[0-9]{0,8}[.][0-9]{0,8}[^0-9][0-9]{0,7}|[0-9]{0,3}[^0-9][0-9]{0,3}[.][0-9]{1,8}",
            neg in any::<bool>(),
        ) {
            let body = s.as_bytes();
            let got = decimal_in_two_words(neg, body);
            let point = s.find('.');
            let takes = (8..=16).contains(&body.len())
                && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && s.matches('.').count() == 1
                && point.is_some_and(|p| (1..=7).contains(&p) && (1..=8).contains(&(body.len() - p - 1)));
            prop_assert_eq!(got.is_some(), takes, "{}", s);
            if let Some(v) = got {
                let want: f64 = format!("{}{s}", if neg { "-" } else { "" }).parse().unwrap();
                prop_assert_eq!(v.to_bits(), want.to_bits(), "{}", s);
            }
        }

        #[test]
        /// Decimals of many fraction digits (coordinates, measurements), near-misses included,
        /// agree with `str::parse` to the bit.
        fn long_decimals_agree_with_std(
            s in "[+-]?[0-9]{0,7}[.][0-9]{1,17}|[+-]?[0-9]{0,7}[.][0-9]{0,9}[^0-9][0-9]{0,8}",
        ) {
            let want = s.parse::<f64>().ok().filter(|v| v.is_finite());
            prop_assert_eq!(parse_float(s.as_bytes()).map(f64::to_bits), want.map(f64::to_bits), "{}", s);
        }

        #[test]
        fn float_agrees_with_std(s in grammar_float()) {
            let want: f64 = s.parse().unwrap();
            let got = parse_float(s.as_bytes());
            if want.is_finite() {
                prop_assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{}", s);
            } else {
                prop_assert_eq!(got, None, "{}", s);
            }
        }

        #[test]
        fn float_roundtrips_shortest(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            // Display gives plain notation, `{:e}` scientific; both must come back exactly.
            for text in [format!("{v}"), format!("{v:e}"), format!("{v:E}")] {
                prop_assert_eq!(parse_float(text.as_bytes()).map(f64::to_bits), Some(v.to_bits()));
            }
        }

        #[test]
        fn float_accepts_exactly_the_grammar(s in "[-+0-9.eE ,xa-f_]{0,8}") {
            let got = parse_float(s.as_bytes());
            if matches_float_grammar(&s) {
                let want: f64 = s.parse().unwrap();
                if want.is_finite() {
                    prop_assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{}", s);
                } else {
                    prop_assert_eq!(got, None);
                }
            } else {
                prop_assert_eq!(got, None, "{} should be rejected", s);
            }
        }
    }
}
