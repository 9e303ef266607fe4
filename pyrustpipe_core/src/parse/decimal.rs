//! Exact decimal numbers: `mantissa * 10^exponent` with up to 38 significant digits.
//!
//! Values are stored normalized (no trailing zeros in the mantissa, zero is `0e0`), so the
//! representation of a value is unique: derived `Eq`/`Hash` are numeric equality, and
//! `1.50`, `1.5` and `0.15e1` are the same key in `isin`/`unique`.

use std::cmp::Ordering;
use std::fmt;

use super::number::{clinger, scan_number};

/// The spec's limit on significant digits; 10^38 - 1 fits in i128 (max ~1.7e38).
const MAX_DIGITS: usize = 38;

/// An exact decimal value `mantissa * 10^exponent`, always normalized.
///
/// The mantissa is kept as two 64-bit halves, not an `i128`: an `i128` field would give the
/// struct, and so every `Value` and `Cell` the checks copy, 16-byte alignment and 48 bytes
/// instead of 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa_low: u64,
    mantissa_high: i64,
    exponent: i32,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal::raw(0, 0);

    /// The value `mantissa * 10^exponent` as given (the caller has normalized it).
    const fn raw(mantissa: i128, exponent: i32) -> Decimal {
        Decimal {
            mantissa_low: mantissa as u64,
            mantissa_high: (mantissa >> 64) as i64,
            exponent,
        }
    }

    /// `mantissa * 10^exponent`, normalized. `None` only when stripping trailing zeros
    /// would push the exponent past `i32::MAX` (a value no input can produce anyway).
    pub fn new(mantissa: i128, exponent: i32) -> Option<Decimal> {
        if mantissa == 0 {
            return Some(Decimal::ZERO);
        }
        let (mut m, mut e) = (mantissa, exponent);
        while m % 10 == 0 {
            m /= 10;
            e = e.checked_add(1)?;
        }
        Some(Decimal::raw(m, e))
    }

    /// The normalized mantissa (no trailing zeros; 0 for zero).
    pub fn mantissa(&self) -> i128 {
        i128::from(self.mantissa_high) << 64 | i128::from(self.mantissa_low)
    }

    /// The normalized exponent (0 for zero).
    pub fn exponent(&self) -> i32 {
        self.exponent
    }

    /// The nearest f64 (correctly rounded); values beyond f64's range become ±infinity.
    pub fn to_f64(&self) -> f64 {
        if self.mantissa() == 0 {
            return 0.0;
        }
        let neg = self.mantissa() < 0;
        if let Ok(m) = u64::try_from(self.mantissa().unsigned_abs()) {
            if let Some(v) = clinger(m, i64::from(self.exponent), neg) {
                return v;
            }
        }
        // Let std do the correctly rounded conversion from text rendered on the stack:
        // at most 40 chars of i128, 'e', 11 chars of i32 — well within 64 bytes.
        use std::io::Write;
        let mut buf = [0u8; 64];
        let mut cursor: &mut [u8] = &mut buf;
        if write!(cursor, "{}e{}", self.mantissa(), self.exponent).is_err() {
            return f64::NAN; // unreachable by the size argument above; never panic
        }
        let len = 64 - cursor.len();
        std::str::from_utf8(&buf[..len])
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Decimal {
        // An i64 has at most 19 digits, so normalization cannot overflow the exponent.
        Decimal::new(i128::from(v), 0).unwrap_or(Decimal::ZERO)
    }
}

/// Parses the float grammar (`[+-]?(digits[.digits]|.digits)([eE][+-]?digits)?`) exactly.
/// `None` on a grammar error, more than 38 significant digits, or an exponent that does
/// not fit in i32 after normalization. Leading and trailing zeros are not significant.
pub fn parse_decimal(s: &[u8]) -> Option<Decimal> {
    let n = scan_number(s)?;
    let total = n.int.len() + n.frac.len();
    let digit = |i: usize| {
        if i < n.int.len() {
            n.int[i]
        } else {
            n.frac[i - n.int.len()]
        }
    };
    let Some(first) = (0..total).find(|&i| digit(i) != b'0') else {
        return Some(Decimal::ZERO); // "-0", "0.000", "0e99999999999"
    };
    // A nonzero digit exists, so the reverse search succeeds; `first` is a safe fallback.
    let last = (first..total)
        .rev()
        .find(|&i| digit(i) != b'0')
        .unwrap_or(first);
    if last - first + 1 > MAX_DIGITS {
        return None;
    }

    // Accumulate in u64 chunks of up to 18 digits: much cheaper than i128 per digit.
    let mut acc: i128 = 0;
    let mut chunk: u64 = 0;
    let mut chunk_len = 0u32;
    for i in first..=last {
        chunk = chunk * 10 + u64::from(digit(i) - b'0');
        chunk_len += 1;
        if chunk_len == 18 || i == last {
            // acc < 10^(38 - chunk_len) here, so this product stays below 10^38.
            acc = acc * 10i128.pow(chunk_len) + i128::from(chunk);
            chunk = 0;
            chunk_len = 0;
        }
    }

    // Value = digits * 10^(exp - frac_len); dropping the trailing zeros after `last`
    // moves them into the exponent. `exp` is saturated, so the i64 sum cannot overflow.
    let trailing_zeros = (total - 1 - last) as i64;
    let exponent = n.exp - n.frac.len() as i64 + trailing_zeros;
    Some(Decimal::raw(
        if n.neg { -acc } else { acc },
        i32::try_from(exponent).ok()?,
    ))
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let (sa, sb) = (self.mantissa().signum(), other.mantissa().signum());
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        let mag = cmp_magnitude(self, other);
        if sa > 0 {
            mag
        } else {
            mag.reverse()
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares |a| and |b| for nonzero a, b without any rounding.
fn cmp_magnitude(a: &Decimal, b: &Decimal) -> Ordering {
    let (ma, mb) = (a.mantissa().unsigned_abs(), b.mantissa().unsigned_abs());
    // The position of the leading digit decides, unless both lead at the same place.
    let lead_a = i64::from(a.exponent) + i64::from(ma.ilog10());
    let lead_b = i64::from(b.exponent) + i64::from(mb.ilog10());
    if lead_a != lead_b {
        return lead_a.cmp(&lead_b);
    }
    // Same leading position: the exponent gap equals the digit-count gap (< 40), so
    // scaling the shorter mantissa lands it in the other's digit count. If that overflows
    // u128 it exceeds every u128, the other mantissa included.
    let scale = |m: u128, by: i32| {
        10u128
            .checked_pow(by.unsigned_abs())
            .and_then(|p| m.checked_mul(p))
    };
    match a.exponent.cmp(&b.exponent) {
        Ordering::Equal => ma.cmp(&mb),
        Ordering::Greater => match scale(ma, a.exponent - b.exponent) {
            Some(sa) => sa.cmp(&mb),
            None => Ordering::Greater,
        },
        Ordering::Less => match scale(mb, b.exponent - a.exponent) {
            Some(sb) => ma.cmp(&sb),
            None => Ordering::Less,
        },
    }
}

/// Plain notation for moderate exponents (`-1.25`, `1500`, `0.001`), otherwise
/// `<mantissa>e<exponent>`; both forms parse back to the same value.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.exponent;
        if (0..=20).contains(&e) {
            write!(f, "{}", self.mantissa())?;
            for _ in 0..e {
                f.write_str("0")?;
            }
            return Ok(());
        }
        if (-45..0).contains(&e) {
            let digits = self.mantissa().unsigned_abs().to_string();
            let point = e.unsigned_abs() as usize;
            if self.mantissa() < 0 {
                f.write_str("-")?;
            }
            if digits.len() > point {
                let (int, frac) = digits.split_at(digits.len() - point);
                return write!(f, "{int}.{frac}");
            }
            f.write_str("0.")?;
            for _ in 0..point - digits.len() {
                f.write_str("0")?;
            }
            return f.write_str(&digits);
        }
        write!(f, "{}e{}", self.mantissa(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn d(s: &str) -> Decimal {
        parse_decimal(s.as_bytes()).unwrap_or_else(|| panic!("{s:?} should parse"))
    }

    fn hash_of(v: &Decimal) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<(i128, i32)>)] = &[
            ("0", Some((0, 0))),
            ("-0", Some((0, 0))),
            ("+0.000", Some((0, 0))),
            ("0e2147483648", Some((0, 0))),
            ("1", Some((1, 0))),
            ("+5", Some((5, 0))),
            ("-5", Some((-5, 0))),
            (".5", Some((5, -1))),
            ("-.5", Some((-5, -1))),
            ("5.", Some((5, 0))),
            ("1.50", Some((15, -1))),
            ("1.5", Some((15, -1))),
            ("1.500e0", Some((15, -1))),
            ("0.15e1", Some((15, -1))),
            ("1500", Some((15, 2))),
            ("1500.000", Some((15, 2))),
            ("007.0100", Some((701, -2))),
            ("-0.001", Some((-1, -3))),
            ("1e-3", Some((1, -3))),
            ("12.34E+5", Some((1234, 3))),
            ("1e2147483647", Some((1, i32::MAX))),
            ("10e2147483646", Some((1, i32::MAX))),
            ("1e-2147483648", Some((1, i32::MIN))),
            ("1e2147483648", None),
            ("1e-2147483649", None),
            ("1e99999999999999999999999", None),
            // 38 significant digits are fine, 39 are not — zeros at either end don't count.
            (
                "12345678901234567890123456789012345678",
                Some((12345678901234567890123456789012345678, 0)),
            ),
            (
                "-99999999999999999999999999999999999999",
                Some((-99999999999999999999999999999999999999, 0)),
            ),
            (
                "0.00012345678901234567890123456789012345678000",
                Some((12345678901234567890123456789012345678, -41)),
            ),
            (
                "1234567890123456789012345678901234567.8",
                Some((12345678901234567890123456789012345678, -1)),
            ),
            ("123456789012345678901234567890123456789", None),
            ("100000000000000000000000000000000000001", None),
            ("1234567890123456789.01234567890123456789", None),
            (
                "100000000000000000000000000000000000000000000",
                Some((1, 44)),
            ),
            ("", None),
            (".", None),
            ("-", None),
            ("1e", None),
            ("1e+", None),
            ("e5", None),
            ("NaN", None),
            ("inf", None),
            ("1,000", None),
            ("1,000.5", None),
            ("0x10", None),
            (" 1", None),
            ("1 ", None),
        ];
        for &(text, want) in cases {
            let got = parse_decimal(text.as_bytes()).map(|v| (v.mantissa(), v.exponent()));
            assert_eq!(got, want, "parse_decimal({text:?})");
        }
    }

    #[test]
    fn compares_exactly() {
        assert_eq!(d("1.50"), d("1.5"));
        assert_eq!(d("1.5"), d("1.500e0"));
        assert_eq!(d("-0"), d("0"));
        assert_eq!(d("-0").cmp(&d("0")), Ordering::Equal);
        assert_eq!(hash_of(&d("1.50")), hash_of(&d("1.500e0")));
        assert_eq!(hash_of(&d("-0")), hash_of(&d("0.00")));

        // Each row strictly ascending. 38-digit neighbours differ only in the last place.
        let just_above_tenth = format!("0.1{}1", "0".repeat(36));
        let just_above_1e38 = format!("1.{}1e38", "0".repeat(36));
        let just_below_ten = format!("9.{}", "9".repeat(37));
        let ascending: &[&[&str]] = &[
            &[
                "-2", "-1.5", "-1.49", "-1", "-0.5", "0", "0.5", "1", "1.49", "1.5", "2",
            ],
            &["0.1", &just_above_tenth, "0.11"],
            // Exact here, unlike f64 where 0.1 + 0.2 style neighbours blur.
            &["0.3", "0.30000000000000004"],
            &[
                "1e-2147483648",
                "1e-5",
                "9.9999e-1",
                "1",
                "1.00001",
                "1e2147483647",
            ],
            &[
                "-1e2147483647",
                "-99999999999999999999999999999999999999",
                "-1e37",
                "-1e-2147483648",
            ],
            &[
                "99999999999999999999999999999999999999",
                "1e38",
                &just_above_1e38,
            ],
            &["9", &just_below_ten, "10"],
        ];
        for row in ascending {
            for pair in row.windows(2) {
                let (a, b) = (d(pair[0]), d(pair[1]));
                assert!(a < b, "{} < {}", pair[0], pair[1]);
                assert!(b > a, "{} > {}", pair[1], pair[0]);
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn compares_extreme_mantissas() {
        // Via `new`, mantissas can use the full i128 range; comparison must not overflow.
        let max = Decimal::new(i128::MAX, 0).unwrap(); // ~1.7e38, 39 digits
        let min = Decimal::new(i128::MIN, 0).unwrap();
        assert!(max > Decimal::new(1, 38).unwrap());
        assert!(max < Decimal::new(2, 38).unwrap()); // scaling 2 by 10^38 overflows u128
        assert!(min < Decimal::new(-1, 38).unwrap());
        assert!(min > Decimal::new(-2, 38).unwrap());
        assert!(min < max);
        assert_eq!(min.cmp(&min), Ordering::Equal);
        assert!(Decimal::new(1, i32::MAX).is_some());
        assert_eq!(Decimal::new(10, i32::MAX), None);
        assert_eq!(Decimal::new(-1500, 0), parse_decimal(b"-1.5e3"));
        assert_eq!(Decimal::from(-120), d("-120"));
        assert_eq!(Decimal::from(i64::MIN), d("-9223372036854775808"));
    }

    #[test]
    fn to_f64_is_correctly_rounded() {
        let cases = [
            "0",
            "-0",
            "1.5",
            "-1.5",
            "0.1",
            "0.3",
            "123456789012345678901234567890",
            "12345678901234567890123456789012345678e-50",
            "9007199254740993",
            "1e-400",
            "1.7976931348623157e308",
            "2.2250738585072011e-308",
        ];
        for text in cases {
            let want: f64 = text.parse().unwrap();
            let got = d(text).to_f64();
            // Decimal has no negative zero; otherwise the values must be bit-identical.
            assert!(
                got == want && (want == 0.0 || got.to_bits() == want.to_bits()),
                "{text}"
            );
        }
        assert_eq!(d("1e400").to_f64(), f64::INFINITY);
        assert_eq!(d("-1e400").to_f64(), f64::NEG_INFINITY);
        assert_eq!(d("1e-2147483648").to_f64(), 0.0);
    }

    #[test]
    fn display_table() {
        let cases = [
            ("0", "0"),
            ("-0", "0"),
            ("1.50", "1.5"),
            ("-1.5", "-1.5"),
            ("1500", "1500"),
            ("0.001", "0.001"),
            ("-0.0012", "-0.0012"),
            ("1e21", "1e21"),
            ("1e20", "100000000000000000000"),
            ("1e-46", "1e-46"),
            (
                "-12e-45",
                "-0.000000000000000000000000000000000000000000012",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(d(text).to_string(), want, "{text}");
        }
    }

    proptest! {
        #[test]
        fn order_agrees_with_f64_on_halves(a in -4000i64..4000, b in -4000i64..4000) {
            // a/2 and b/2 are exact in both representations.
            let (da, db) = (d(&format!("{}e-1", a * 5)), d(&format!("{}e-1", b * 5)));
            let (fa, fb) = (a as f64 / 2.0, b as f64 / 2.0);
            prop_assert_eq!(da.cmp(&db), fa.partial_cmp(&fb).unwrap());
            if da == db {
                prop_assert_eq!(hash_of(&da), hash_of(&db));
            }
            prop_assert_eq!(da.to_f64(), fa);
        }

        #[test]
        fn order_agrees_with_i128(
            a in any::<i64>(),
            b in any::<i64>(),
            sa in 0i32..20,
            sb in 0i32..20,
        ) {
            // a*10^sa vs b*10^sb, compared exactly in i128 (|x| < 2^63 * 10^19 < 2^127).
            let ia = i128::from(a) * 10i128.pow(sa as u32);
            let ib = i128::from(b) * 10i128.pow(sb as u32);
            let (da, db) = (d(&format!("{a}e{sa}")), d(&format!("{b}e{sb}")));
            prop_assert_eq!(da.cmp(&db), ia.cmp(&ib));
        }

        #[test]
        fn trailing_zeros_and_exponent_shifts_are_equal(
            m in any::<i64>(),
            z in 0usize..10,
            e in -50i32..50,
        ) {
            let plain = d(&format!("{m}e{e}"));
            let padded = d(&format!("{m}{}e{}", "0".repeat(z), e - z as i32));
            prop_assert_eq!(plain, padded);
            prop_assert_eq!(hash_of(&plain), hash_of(&padded));
        }

        #[test]
        fn display_roundtrips(m in any::<i128>(), e in -60i32..60) {
            if let Some(v) = Decimal::new(m % 10i128.pow(38), e) {
                prop_assert_eq!(parse_decimal(v.to_string().as_bytes()), Some(v));
            }
        }

        #[test]
        fn to_f64_agrees_with_std(s in "[+-]?[0-9]{1,20}(\\.[0-9]{1,18})?([eE][+-]?[0-9]{1,3})?") {
            let want: f64 = s.parse().unwrap();
            let got = d(&s).to_f64();
            // Decimal has no negative zero; otherwise the values must be bit-identical.
            prop_assert!(got == want && (want == 0.0 || got.to_bits() == want.to_bits()), "{}", s);
        }
    }
}
