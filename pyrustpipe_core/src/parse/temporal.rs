//! Dates, date-times and times: ISO 8601 and compiled strftime-style formats.
//!
//! Representations (chosen so comparisons and `unique` are plain integer ops):
//! a date is days since 1970-01-01, a date-time is microseconds since 1970-01-01T00:00:00
//! UTC (a value with an offset is converted; a naive value is taken as UTC), a time is
//! microseconds since midnight. Years are 0001..=9999, as in Python's `datetime`.

use std::fmt::Write as _;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
/// Does not validate; any input is computed without overflow (absurd years wrap).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    // Count years from March so the leap day is the last day of the (shifted) year.
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (i64::from(m) + 9) % 12; // March = 0 .. February = 11
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096] for valid dates
    (era * 146_097 + doe - 719_468) as i32
}

/// Inverse of [`days_from_civil`]: `(year, month 1-12, day 1-31)`. Total over all of i32.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m as u32, d as u32)
}

/// Day of the week, Monday = 0 .. Sunday = 6.
pub fn weekday_from_days(days: i32) -> u32 {
    // 1970-01-01 was a Thursday (3).
    (i64::from(days) + 3).rem_euclid(7) as u32
}

fn is_leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since epoch of a real calendar date in years 1..=9999.
fn checked_days(y: u32, m: u32, d: u32) -> Option<i32> {
    is_date(y, m, d).then(|| valid_days_from_civil(y, m, d))
}

/// Whether `y-m-d` is a real calendar date in years 1..=9999.
fn is_date(y: u32, m: u32, d: u32) -> bool {
    (1..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

/// [`days_from_civil`] for a real date in years 1..=9999, in unsigned arithmetic: nothing is
/// negative before the last step, so no division needs a sign fix-up (a hot path of every
/// date and date-time parsed).
fn valid_days_from_civil(y: u32, m: u32, d: u32) -> i32 {
    let y = y - u32::from(m <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // At most 24 * 146_097 + 146_096 for year 9999: fits in i32.
    (era * 146_097 + doe) as i32 - 719_468
}

/// Microseconds since midnight of a real time of day (no leap seconds, no 24:00).
fn checked_time(h: u32, mi: u32, s: u32, us: u32) -> Option<i64> {
    if !is_time(h, mi, s, us) {
        return None;
    }
    let secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
    Some(secs * MICROS_PER_SECOND + i64::from(us))
}

/// Whether `h:mi:s.us` is a real time of day (no leap seconds, no 24:00).
fn is_time(h: u32, mi: u32, s: u32, us: u32) -> bool {
    h <= 23 && mi <= 59 && s <= 59 && us <= 999_999
}

/// Exactly `n` ASCII digits at `s[at..at + n]` as a number (n <= 9, so u32 suffices).
fn digits_at(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let field = s.get(at..at.checked_add(n)?)?;
    let mut v = 0u32;
    for &b in field {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

/// 1 to 9 fraction digits at the start of `s` → (microseconds, digits consumed).
/// Digits past the sixth are validated but truncated (not rounded), like a cast would.
fn fraction(s: &[u8]) -> Option<(u32, usize)> {
    let n = s.iter().take(9).take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let kept = n.min(6);
    let mut us = digits_at(s, 0, kept)?;
    for _ in kept..6 {
        us *= 10;
    }
    Some((us, n))
}

/// `Z`, `±HH:MM` or `±HHMM` at the start of `s` → (offset seconds east of UTC, consumed).
fn utc_offset(s: &[u8]) -> Option<(i64, usize)> {
    let sign = match s.first()? {
        b'Z' => return Some((0, 1)),
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits_at(s, 1, 2)?;
    let (mi, used) = if s.get(3) == Some(&b':') {
        (digits_at(s, 4, 2)?, 6)
    } else {
        (digits_at(s, 3, 2)?, 5)
    };
    if h > 23 || mi > 59 {
        return None;
    }
    Some((sign * (i64::from(h) * 3600 + i64::from(mi) * 60), used))
}

/// `HH:MM[:SS[.f{1,9}]]` at the start of `s` → (micros since midnight, consumed).
fn iso_time_prefix(s: &[u8]) -> Option<(i64, usize)> {
    let h = digits_at(s, 0, 2)?;
    if s.get(2) != Some(&b':') {
        return None;
    }
    let mi = digits_at(s, 3, 2)?;
    let (mut sec, mut us, mut used) = (0, 0, 5);
    if s.get(5) == Some(&b':') {
        sec = digits_at(s, 6, 2)?;
        used = 8;
        if s.get(8) == Some(&b'.') {
            let (frac_us, n) = fraction(s.get(9..)?)?;
            us = frac_us;
            used = 9 + n;
        }
    }
    Some((checked_time(h, mi, sec, us)?, used))
}

/// ISO `YYYY-MM-DD`, a real calendar day → days since 1970-01-01.
pub fn parse_date_iso(s: &[u8]) -> Option<i32> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    checked_days(
        digits_at(s, 0, 4)?,
        digits_at(s, 5, 2)?,
        digits_at(s, 8, 2)?,
    )
}

/// ISO `YYYY-MM-DD[T or space]HH:MM[:SS[.f{1,9}]][Z|±HH:MM|±HHMM]` → microseconds since the
/// epoch in UTC. The offset is applied; a value without one is taken as UTC.
pub fn parse_datetime_iso(s: &[u8]) -> Option<i64> {
    parse_datetime_iso_offset(s).map(|(micros, _)| micros)
}

/// [`parse_datetime_iso`], also giving the offset the text wrote (seconds east of UTC; `None`
/// when it has none), so the value can be written back as the same wall time and offset.
pub fn parse_datetime_iso_offset(s: &[u8]) -> Option<(i64, Option<i64>)> {
    let days = parse_date_iso(s.get(..10)?)?;
    if !matches!(s.get(10), Some(b'T' | b' ')) {
        return None;
    }
    let (time, used) = iso_time_prefix(s.get(11..)?)?;
    let rest = s.get(11 + used..)?;
    let offset = if rest.is_empty() {
        None
    } else {
        match utc_offset(rest)? {
            (off, n) if n == rest.len() => Some(off),
            _ => return None,
        }
    };
    let utc = i64::from(days) * MICROS_PER_DAY + time - offset.unwrap_or(0) * MICROS_PER_SECOND;
    Some((utc, offset))
}

/// ISO `HH:MM[:SS[.f{1,9}]]` → microseconds since midnight.
pub fn parse_time_iso(s: &[u8]) -> Option<i64> {
    match iso_time_prefix(s)? {
        (time, used) if used == s.len() => Some(time),
        _ => None,
    }
}

/// `YYYY-MM-DD` (for messages; years outside 0..=9999 print with their full width).
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    if y < 0 {
        format!("-{:04}-{m:02}-{d:02}", y.unsigned_abs())
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]` in UTC, without a suffix (for messages).
pub fn format_datetime(micros: i64) -> String {
    // |i64| / MICROS_PER_DAY < 1.1e8, so the day count always fits in i32.
    let days = micros.div_euclid(MICROS_PER_DAY) as i32;
    let mut out = format_date(days);
    out.push('T');
    push_time(&mut out, micros.rem_euclid(MICROS_PER_DAY));
    out
}

/// `HH:MM:SS[.ffffff]` (for messages; wraps values outside one day).
pub fn format_time(micros: i64) -> String {
    let mut out = String::with_capacity(15);
    push_time(&mut out, micros.rem_euclid(MICROS_PER_DAY));
    out
}

fn push_time(out: &mut String, micros: i64) {
    let secs = micros / MICROS_PER_SECOND;
    let us = micros % MICROS_PER_SECOND;
    let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    // Writing to a String cannot fail.
    let _ = write!(out, "{h:02}:{mi:02}:{s:02}");
    if us != 0 {
        let _ = write!(out, ".{us:06}");
    }
}

/// What a [`TemporalFormat`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemporalKind {
    /// Days since 1970-01-01.
    Date,
    /// Microseconds since 1970-01-01T00:00:00 UTC.
    DateTime,
    /// Microseconds since midnight.
    Time,
}

impl TemporalKind {
    fn name(self) -> &'static str {
        match self {
            TemporalKind::Date => "date",
            TemporalKind::DateTime => "datetime",
            TemporalKind::Time => "time",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Literal(u8),
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Fraction,
    Offset,
}

impl Item {
    fn directive(self) -> &'static str {
        match self {
            Item::Literal(_) => "literal",
            Item::Year => "%Y",
            Item::Month => "%m",
            Item::Day => "%d",
            Item::Hour => "%H",
            Item::Minute => "%M",
            Item::Second => "%S",
            Item::Fraction => "%f",
            Item::Offset => "%z",
        }
    }

    /// Whether the item's text starts with a digit, which a greedy `%f` would swallow.
    fn starts_with_digit(self) -> bool {
        match self {
            Item::Literal(b) => b.is_ascii_digit(),
            Item::Offset => false,
            _ => true,
        }
    }
}

/// A compiled strftime-style format: `%Y` (4 digits), `%m %d %H %M %S` (2 digits),
/// `%f` (1-9 fraction digits), `%z` (`Z`, `±HH:MM` or `±HHMM`), `%%`, literal characters.
/// The whole input must match, and the result must be a real date/time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporalFormat {
    items: Vec<Item>,
    kind: TemporalKind,
    source: String,
    /// The same format as fixed byte positions, when every directive has a fixed width.
    fixed: Option<FixedLayout>,
}

/// The parts a format reads; a kind's optional directives keep these defaults.
#[derive(Debug, Clone, Copy)]
struct Parts {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
    offset: Option<i64>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
            offset: None,
        }
    }
}

/// A format without `%f` or `%z` has one length and every byte's role is known in advance:
/// a value is checked eight bytes at a time (literals equal, digits in `0..=9`) and its fields
/// read at fixed offsets, instead of walking the directives one by one (~6× fewer
/// instructions for `%Y-%m-%dT%H:%M:%S`). It accepts exactly what the directive walk accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FixedLayout {
    len: usize,
    /// 8-byte windows covering the value (the last may overlap the one before it).
    words: Vec<WordTest>,
    /// Offset of the first digit of %Y, %m, %d, %H, %M, %S (`None`: not in the format).
    at: [Option<usize>; 6],
    shape: Shape,
}

/// The fields' places of the commonest layouts, known at compile time, so the digits are read
/// at constant offsets of a fixed-size array (no bounds check, no loop over the six slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `%Y?%m?%d?%H?%M?%S` with one-byte separators (`%Y-%m-%dT%H:%M:%S`, `%Y-%m-%d %H:%M:%S`).
    DateTime19,
    /// `%Y?%m?%d` (`%Y-%m-%d`, `%Y/%m/%d`).
    Date10,
    Other,
}

impl Shape {
    fn of(len: usize, at: [Option<usize>; 6]) -> Shape {
        let date = [Some(0), Some(5), Some(8)];
        match (len, at) {
            (19, [y, m, d, Some(11), Some(14), Some(17)]) if [y, m, d] == date => Shape::DateTime19,
            (10, [y, m, d, None, None, None]) if [y, m, d] == date => Shape::Date10,
            _ => Shape::Other,
        }
    }
}

/// The two digits at `at` (checked digits: no test here).
#[inline(always)]
fn two_digits(s: &[u8], at: usize) -> u32 {
    u32::from(s[at] - b'0') * 10 + u32::from(s[at + 1] - b'0')
}

/// The two-digit numbers of the eight bytes at `at`, one per byte lane: lane `i` holds
/// `10 * d[i] + d[i + 1]`, where `d` is each byte's low nibble (a digit's value). Lanes that
/// start on a separator are meaningless, and none carries into the next: a lane is at most
/// 15 * 10 + 15. One multiply for every pair of a word, where a pair at a time takes five
/// instructions.
#[inline(always)]
fn pairs(word: u64) -> u64 {
    let digits = word & 0x0F0F_0F0F_0F0F_0F0F;
    digits * 10 + (digits >> 8)
}

/// The eight bytes of `s` at `at` (a constant offset into a fixed-size value: no check).
#[inline(always)]
fn word_at<const N: usize>(s: &[u8; N], at: usize) -> u64 {
    u64::from_le_bytes(s[at..at + 8].try_into().expect("8 bytes"))
}

/// Byte lane `i` of `pairs`.
#[inline(always)]
fn lane(pairs: u64, i: u32) -> u32 {
    ((pairs >> (8 * i)) & 0xFF) as u32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WordTest {
    offset: usize,
    /// 0xFF on literal bytes, with the literal's value in `literal`.
    literal_mask: u64,
    literal: u64,
    /// 0xFF on digit bytes.
    digit_mask: u64,
}

impl WordTest {
    /// Whether `word`, the value's eight bytes at `offset`, has a literal byte that differs or
    /// a digit byte that is not a digit.
    #[inline(always)]
    fn rejects(&self, word: u64) -> bool {
        const ASCII_ZEROS: u64 = 0x3030_3030_3030_3030;
        const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
        const LOW_NIBBLES: u64 = 0x0F0F_0F0F_0F0F_0F0F;
        // A digit is 0x30..=0x39: high nibble 3, and a low nibble that adding 6 keeps below 16
        // (no byte carries into its neighbour: 0x0F + 0x06 < 0x100).
        let x = word ^ ASCII_ZEROS;
        let not_digit = (x & HIGH_NIBBLES)
            | (((x & LOW_NIBBLES) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010);
        ((word ^ self.literal) & self.literal_mask) | (not_digit & self.digit_mask) != 0
    }
}

impl FixedLayout {
    const SHORTEST: usize = 8;

    fn of(items: &[Item]) -> Option<FixedLayout> {
        // Per byte: `Some(b)` a literal, `None` a digit.
        let mut bytes: Vec<Option<u8>> = Vec::new();
        let mut at = [None; 6];
        for &item in items {
            let (slot, width) = match item {
                Item::Literal(b) => {
                    bytes.push(Some(b));
                    continue;
                }
                Item::Year => (0, 4),
                Item::Month => (1, 2),
                Item::Day => (2, 2),
                Item::Hour => (3, 2),
                Item::Minute => (4, 2),
                Item::Second => (5, 2),
                Item::Fraction | Item::Offset => return None,
            };
            at[slot] = Some(bytes.len());
            bytes.extend(std::iter::repeat_n(None, width));
        }
        let len = bytes.len();
        if len < Self::SHORTEST {
            return None;
        }
        let mut offsets: Vec<usize> = (0..len - 7).step_by(8).collect();
        if !len.is_multiple_of(8) {
            offsets.push(len - 8);
        }
        let words = offsets
            .into_iter()
            .map(|offset| {
                let mut test = WordTest {
                    offset,
                    literal_mask: 0,
                    literal: 0,
                    digit_mask: 0,
                };
                for (i, byte) in bytes[offset..offset + 8].iter().enumerate() {
                    match byte {
                        Some(b) => {
                            test.literal_mask |= 0xFF << (8 * i);
                            test.literal |= u64::from(*b) << (8 * i);
                        }
                        None => test.digit_mask |= 0xFF << (8 * i),
                    }
                }
                test
            })
            .collect();
        Some(FixedLayout {
            len,
            words,
            at,
            shape: Shape::of(len, at),
        })
    }

    /// The fields of `s`, when it matches the layout. Inlined: its callers read a few of the
    /// parts, which then stay in registers (returned, they went through memory).
    #[inline(always)]
    fn parts(&self, s: &[u8]) -> Option<Parts> {
        if s.len() != self.len {
            return None;
        }
        // The commonest layouts at constant offsets, each word loaded once for its test and its
        // pairs (`of` places their words at 0, 8, 11 and at 0, 2), the tests or-ed, not
        // branched on one by one.
        match (self.shape, self.words.as_slice()) {
            (Shape::DateTime19, [first, second, third]) => {
                let s = <&[u8; 19]>::try_from(s).ok()?;
                // `YYYY-MM-` / `DDTHH:MM` / `HH:MM:SS`: three words hold every pair.
                let (head, day, time) = (word_at(s, 0), word_at(s, 8), word_at(s, 11));
                if first.rejects(head) | second.rejects(day) | third.rejects(time) {
                    return None;
                }
                let (head, day, time) = (pairs(head), pairs(day), pairs(time));
                return Some(Parts {
                    year: lane(head, 0) * 100 + lane(head, 2),
                    month: lane(head, 5),
                    day: lane(day, 0),
                    hour: lane(time, 0),
                    minute: lane(time, 3),
                    second: lane(time, 6),
                    ..Parts::default()
                });
            }
            (Shape::Date10, [first, second]) => {
                let s = <&[u8; 10]>::try_from(s).ok()?;
                // `YYYY-MM-` / `YY-MM-DD`.
                let (head, tail) = (word_at(s, 0), word_at(s, 2));
                if first.rejects(head) | second.rejects(tail) {
                    return None;
                }
                let (head, tail) = (pairs(head), pairs(tail));
                return Some(Parts {
                    year: lane(head, 0) * 100 + lane(head, 2),
                    month: lane(head, 5),
                    day: lane(tail, 6),
                    ..Parts::default()
                });
            }
            _ => {}
        }
        for test in &self.words {
            let chunk = s.get(test.offset..test.offset + 8)?;
            if test.rejects(u64::from_le_bytes(chunk.try_into().expect("8 bytes"))) {
                return None;
            }
        }
        // Every digit position was tested above.
        let two = |at: usize| two_digits(s, at);
        let mut parts = Parts::default();
        let fields = [
            &mut parts.year,
            &mut parts.month,
            &mut parts.day,
            &mut parts.hour,
            &mut parts.minute,
            &mut parts.second,
        ];
        for (slot, field) in fields.into_iter().enumerate() {
            if let Some(at) = self.at[slot] {
                *field = if slot == 0 {
                    two(at) * 100 + two(at + 2)
                } else {
                    two(at)
                };
            }
        }
        Some(parts)
    }
}

impl TemporalFormat {
    /// Compiles `format` for values of `kind`. Errors name the problem and the format.
    pub fn compile(format: &str, kind: TemporalKind) -> Result<Self, String> {
        let mut items = Vec::with_capacity(format.len());
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                let mut utf8 = [0u8; 4];
                items.extend(c.encode_utf8(&mut utf8).bytes().map(Item::Literal));
                continue;
            }
            let item = match chars.next() {
                None => return Err(format!("format {format:?} ends with a lone %")),
                Some('%') => {
                    items.push(Item::Literal(b'%'));
                    continue;
                }
                Some('Y') => Item::Year,
                Some('m') => Item::Month,
                Some('d') => Item::Day,
                Some('H') => Item::Hour,
                Some('M') => Item::Minute,
                Some('S') => Item::Second,
                Some('f') => Item::Fraction,
                Some('z') => Item::Offset,
                Some(other) => {
                    return Err(format!(
                        "unsupported directive %{other} in format {format:?}"
                    ))
                }
            };
            if items.contains(&item) {
                return Err(format!(
                    "directive {} appears more than once in format {format:?}",
                    item.directive()
                ));
            }
            items.push(item);
        }

        let (required, forbidden): (&[Item], &[Item]) = match kind {
            TemporalKind::Date => (
                &[Item::Year, Item::Month, Item::Day],
                &[
                    Item::Hour,
                    Item::Minute,
                    Item::Second,
                    Item::Fraction,
                    Item::Offset,
                ],
            ),
            TemporalKind::DateTime => (
                &[Item::Year, Item::Month, Item::Day, Item::Hour, Item::Minute],
                &[],
            ),
            // A time of day has no date, and an offset would make "since midnight" ambiguous.
            TemporalKind::Time => (
                &[Item::Hour, Item::Minute],
                &[Item::Year, Item::Month, Item::Day, Item::Offset],
            ),
        };
        let kind_name = kind.name();
        if let Some(missing) = required.iter().find(|it| !items.contains(it)) {
            return Err(format!(
                "{kind_name} format {format:?} is missing {}",
                missing.directive()
            ));
        }
        if let Some(extra) = forbidden.iter().find(|it| items.contains(it)) {
            return Err(format!(
                "{kind_name} format {format:?} must not contain {}",
                extra.directive()
            ));
        }
        if items.contains(&Item::Fraction) && !items.contains(&Item::Second) {
            return Err(format!("format {format:?} has %f without %S"));
        }
        // %f takes 1-9 digits greedily, so a digit right after it could never match.
        if let Some(i) = items.iter().position(|&it| it == Item::Fraction) {
            if items.get(i + 1).is_some_and(|it| it.starts_with_digit()) {
                return Err(format!(
                    "in format {format:?}, %f must not be followed directly by a digit \
                     or a numeric directive"
                ));
            }
        }
        Ok(TemporalFormat {
            fixed: FixedLayout::of(&items),
            items,
            kind,
            source: format.to_owned(),
        })
    }

    /// The kind this format was compiled for.
    pub fn kind(&self) -> TemporalKind {
        self.kind
    }

    /// The format text as given to [`TemporalFormat::compile`].
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Matches the whole of `s`. Date → days since epoch, DateTime → micros since epoch
    /// UTC, Time → micros since midnight; `None` when `s` does not match or is not real.
    pub fn parse(&self, s: &[u8]) -> Option<i64> {
        self.parse_with_offset(s).map(|(value, _)| value)
    }

    /// Whether `s` matches: `self.parse(s).is_some()`, for a column whose values nothing
    /// reads. A fixed layout's fields are range-checked, not turned into an instant (a
    /// `%Y-%m-%dT%H:%M:%S` column's cost is mostly that arithmetic and the value's way out).
    pub fn accepts(&self, s: &[u8]) -> bool {
        let Some(fixed) = &self.fixed else {
            return self.parse_with_offset(s).is_some();
        };
        let Some(p) = fixed.parts(s) else {
            return false;
        };
        let date = || is_date(p.year, p.month, p.day);
        let time = || is_time(p.hour, p.minute, p.second, p.micros);
        match self.kind {
            TemporalKind::Date => date(),
            TemporalKind::DateTime => date() && time(),
            TemporalKind::Time => time(),
        }
    }

    /// [`TemporalFormat::parse`], also giving the offset `%z` matched (seconds east of UTC;
    /// `None` when the format has no `%z`).
    pub fn parse_with_offset(&self, s: &[u8]) -> Option<(i64, Option<i64>)> {
        let parts = match &self.fixed {
            Some(fixed) => fixed.parts(s)?,
            None => self.walk(s)?,
        };
        let value = match self.kind {
            TemporalKind::Date => checked_days(parts.year, parts.month, parts.day).map(i64::from),
            TemporalKind::DateTime => {
                let days = i64::from(checked_days(parts.year, parts.month, parts.day)?);
                let time = checked_time(parts.hour, parts.minute, parts.second, parts.micros)?;
                let offset = parts.offset.unwrap_or(0);
                Some(days * MICROS_PER_DAY + time - offset * MICROS_PER_SECOND)
            }
            TemporalKind::Time => {
                checked_time(parts.hour, parts.minute, parts.second, parts.micros)
            }
        }?;
        Some((value, parts.offset))
    }

    /// The parts of `s`, directive by directive (any format; `None` when `s` does not match).
    fn walk(&self, s: &[u8]) -> Option<Parts> {
        let mut parts = Parts::default();
        let mut pos = 0usize;
        for &item in &self.items {
            let rest = s.get(pos..)?;
            pos += match item {
                Item::Literal(b) => {
                    if rest.first() != Some(&b) {
                        return None;
                    }
                    1
                }
                Item::Year => {
                    parts.year = digits_at(rest, 0, 4)?;
                    4
                }
                Item::Month => {
                    parts.month = digits_at(rest, 0, 2)?;
                    2
                }
                Item::Day => {
                    parts.day = digits_at(rest, 0, 2)?;
                    2
                }
                Item::Hour => {
                    parts.hour = digits_at(rest, 0, 2)?;
                    2
                }
                Item::Minute => {
                    parts.minute = digits_at(rest, 0, 2)?;
                    2
                }
                Item::Second => {
                    parts.second = digits_at(rest, 0, 2)?;
                    2
                }
                Item::Fraction => {
                    let (micros, n) = fraction(rest)?;
                    parts.micros = micros;
                    n
                }
                Item::Offset => {
                    let (offset, n) = utc_offset(rest)?;
                    parts.offset = Some(offset);
                    n
                }
            };
        }
        (pos == s.len()).then_some(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = MICROS_PER_DAY;
    const HOUR: i64 = 3600 * MICROS_PER_SECOND;
    const MINUTE: i64 = 60 * MICROS_PER_SECOND;
    const SECOND: i64 = MICROS_PER_SECOND;

    /// Reference day numbers, computed independently of days_from_civil.
    fn ymd(y: i32, m: u32, d: u32) -> i64 {
        i64::from(days_from_civil(y, m, d))
    }

    #[test]
    fn civil_anchors() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(1, 1, 1), -719_162); // Python: date(1,1,1).toordinal() - 719163
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-719_162), (1, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(weekday_from_days(0), 3); // Thursday
        assert_eq!(weekday_from_days(days_from_civil(2024, 1, 1)), 0); // Monday
        assert_eq!(weekday_from_days(days_from_civil(2024, 1, 7)), 6); // Sunday
        assert_eq!(weekday_from_days(days_from_civil(1, 1, 1)), 0); // Monday, as in Python
        assert_eq!(weekday_from_days(-1), 2);
        // Total: extreme inputs compute something without panicking.
        let _ = civil_from_days(i32::MIN);
        let _ = civil_from_days(i32::MAX);
        let _ = days_from_civil(i32::MIN, 0, u32::MAX);
        let _ = days_from_civil(i32::MAX, u32::MAX, u32::MAX);
        let _ = weekday_from_days(i32::MIN);
    }

    #[test]
    fn civil_exhaustive_years_1_to_9999() {
        // Walk every day with an independent calendar and check both directions.
        let mut n = days_from_civil(1, 1, 1);
        let mut weekday = 0; // 0001-01-01 was a Monday
        for y in 1..=9999u32 {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let lengths = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            for (m, &len) in (1u32..).zip(lengths.iter()) {
                for d in 1..=len {
                    assert_eq!(days_from_civil(y as i32, m, d), n, "{y}-{m}-{d}");
                    assert_eq!(checked_days(y, m, d), Some(n), "{y}-{m}-{d}");
                    assert_eq!(civil_from_days(n), (y as i32, m, d));
                    assert_eq!(weekday_from_days(n), weekday);
                    n += 1;
                    weekday = (weekday + 1) % 7;
                }
            }
        }
        assert_eq!(n - 1, days_from_civil(9999, 12, 31));
    }

    #[test]
    fn date_iso_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("1970-01-01", Some(0)),
            ("2026-03-15", Some(ymd(2026, 3, 15))),
            ("0001-01-01", Some(-719_162)),
            ("9999-12-31", Some(2_932_896)),
            ("2000-02-29", Some(ymd(2000, 2, 29))), // divisible by 400: leap
            ("2024-02-29", Some(ymd(2024, 2, 29))), // divisible by 4: leap
            ("1900-02-29", None),                   // divisible by 100 only: not leap
            ("2023-02-29", None),
            ("2026-02-30", None),
            ("2024-02-30", None),
            ("2026-04-31", None),
            ("2026-12-31", Some(ymd(2026, 12, 31))),
            ("2026-13-01", None),
            ("2026-00-10", None),
            ("2026-01-00", None),
            ("2026-01-32", None),
            ("0000-01-01", None),
            ("2026-1-5", None),
            ("2026-01-5", None),
            ("26-01-05", None),
            ("20260105", None),
            ("2026/01/05", None),
            ("2026-01-05 ", None),
            (" 2026-01-05", None),
            ("2026-01-05T00:00", None),
            ("+2026-01-05", None),
            ("2026-+1-05", None),
            ("2026-01-+5", None),
            ("", None),
        ];
        for &(text, want) in cases {
            assert_eq!(
                parse_date_iso(text.as_bytes()).map(i64::from),
                want,
                "parse_date_iso({text:?})"
            );
        }
    }

    #[test]
    fn datetime_iso_table() {
        let base = ymd(2026, 3, 15) * DAY;
        let cases: &[(&str, Option<i64>)] = &[
            ("1970-01-01T00:00", Some(0)),
            ("1970-01-01 00:00", Some(0)),
            ("1970-01-01T00:00:00Z", Some(0)),
            ("2026-03-15T12:34", Some(base + 12 * HOUR + 34 * MINUTE)),
            (
                "2026-03-15T12:34:56",
                Some(base + 12 * HOUR + 34 * MINUTE + 56 * SECOND),
            ),
            ("2026-03-15 23:59:59", Some(base + DAY - SECOND)),
            ("2026-03-15T00:00:00.5", Some(base + 500_000)),
            ("2026-03-15T00:00:00.123456", Some(base + 123_456)),
            ("2026-03-15T00:00:00.123456789", Some(base + 123_456)), // truncated, not rounded
            ("2026-03-15T00:00:00.999999999", Some(base + 999_999)),
            ("2026-03-15T00:00:00.000001", Some(base + 1)),
            ("2026-03-15T12:00Z", Some(base + 12 * HOUR)),
            ("2026-03-15T12:00+00:00", Some(base + 12 * HOUR)),
            ("2026-03-15T12:00-00:00", Some(base + 12 * HOUR)),
            (
                "2026-03-15T12:00:00+05:30",
                Some(base + 12 * HOUR - 5 * HOUR - 30 * MINUTE),
            ),
            (
                "2026-03-15T12:00:00+0530",
                Some(base + 12 * HOUR - 5 * HOUR - 30 * MINUTE),
            ),
            ("2026-03-15T12:00:00-08:00", Some(base + 20 * HOUR)),
            (
                "2026-03-15T12:00:00.25-0800",
                Some(base + 20 * HOUR + 250_000),
            ),
            ("2026-03-15T00:30:00+01:00", Some(base - 30 * MINUTE)), // previous UTC day
            (
                "2026-03-15T23:59:59+23:59",
                Some(base + DAY - SECOND - 23 * HOUR - 59 * MINUTE),
            ),
            ("2024-02-29T00:00", Some(ymd(2024, 2, 29) * DAY)),
            ("2023-02-29T00:00", None),
            ("2026-13-01T00:00:00", None),
            ("2026-03-15T24:00:00", None),
            ("2026-03-15T24:00", None),
            ("2026-03-15T23:60", None),
            ("2026-03-15T23:59:60", None), // no leap seconds
            ("2026-03-15t12:00", None),
            ("2026-03-15X12:00", None),
            ("2026-03-15T12:00z", None),
            ("2026-03-15", None),
            ("2026-03-15T", None),
            ("2026-03-15T12", None),
            ("2026-03-15T12:0", None),
            ("2026-03-15T1:00", None),
            ("2026-03-15T12:00:", None),
            ("2026-03-15T12:00:0", None),
            ("2026-03-15T12:00:00.", None),
            ("2026-03-15T12:00.5", None), // fraction needs seconds
            ("2026-03-15T12:00:00.1234567890", None), // 10 fraction digits
            ("2026-03-15T12:00:00+05", None),
            ("2026-03-15T12:00:00+5:30", None),
            ("2026-03-15T12:00:00+05:3", None),
            ("2026-03-15T12:00:00+24:00", None),
            ("2026-03-15T12:00:00+05:60", None),
            ("2026-03-15T12:00:00+05:30Z", None),
            ("2026-03-15T12:00:00ZZ", None),
            ("2026-03-15T12:00:00 Z", None),
            ("2026-03-15T12:00:00 ", None),
            ("2026-3-15T12:00:00", None),
            ("", None),
        ];
        for &(text, want) in cases {
            assert_eq!(
                parse_datetime_iso(text.as_bytes()),
                want,
                "parse_datetime_iso({text:?})"
            );
        }
    }

    #[test]
    fn time_iso_table() {
        let cases: &[(&str, Option<i64>)] = &[
            ("00:00", Some(0)),
            ("00:00:00", Some(0)),
            ("12:34", Some(12 * HOUR + 34 * MINUTE)),
            ("23:59:59", Some(DAY - SECOND)),
            ("23:59:59.999999", Some(DAY - 1)),
            ("23:59:59.999999999", Some(DAY - 1)),
            ("00:00:00.1", Some(100_000)),
            ("00:00:00.000000001", Some(0)),
            ("24:00", None),
            ("25:00", None),
            ("12:60", None),
            ("12:00:60", None),
            ("1:00", None),
            ("12:0", None),
            ("12", None),
            ("12:", None),
            ("1200", None),
            ("12:00:00.", None),
            ("12:00:00.1234567890", None),
            ("12:00.5", None),
            ("12:00Z", None),
            ("12:00:00+01:00", None),
            (" 12:00", None),
            ("12:00 ", None),
            ("", None),
        ];
        for &(text, want) in cases {
            assert_eq!(
                parse_time_iso(text.as_bytes()),
                want,
                "parse_time_iso({text:?})"
            );
        }
    }

    #[test]
    fn format_functions() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(-719_162), "0001-01-01");
        assert_eq!(format_date(2_932_896), "9999-12-31");
        assert_eq!(format_datetime(0), "1970-01-01T00:00:00");
        assert_eq!(format_datetime(-1), "1969-12-31T23:59:59.999999");
        assert_eq!(
            format_datetime(ymd(2026, 3, 15) * DAY + 5 * HOUR + 123),
            "2026-03-15T05:00:00.000123"
        );
        assert_eq!(format_time(0), "00:00:00");
        assert_eq!(format_time(DAY - 1), "23:59:59.999999");
        assert_eq!(format_time(12 * HOUR + 500_000), "12:00:00.500000");
        // Total over all inputs.
        let _ = format_datetime(i64::MIN);
        let _ = format_datetime(i64::MAX);
        let _ = format_time(i64::MIN);
        let _ = format_date(i32::MIN);
        let _ = format_date(i32::MAX);
    }

    #[test]
    fn format_compile_errors() {
        use TemporalKind::*;
        let cases: &[(&str, TemporalKind, &str)] = &[
            (
                "%Y-%m-%e",
                Date,
                "unsupported directive %e in format \"%Y-%m-%e\"",
            ),
            ("%Y-%b-%d", Date, "unsupported directive %b"),
            ("%Y-%m-%d %é", DateTime, "unsupported directive %é"),
            ("%Y-%m-%d%", Date, "ends with a lone %"),
            ("%Y-%m", Date, "date format \"%Y-%m\" is missing %d"),
            ("%d/%m", Date, "is missing %Y"),
            (
                "%Y-%m-%d %H",
                DateTime,
                "datetime format \"%Y-%m-%d %H\" is missing %M",
            ),
            ("%Y-%m-%d", DateTime, "is missing %H"),
            ("%M:%S", Time, "time format \"%M:%S\" is missing %H"),
            (
                "%Y-%m-%d %H:%M",
                Date,
                "date format \"%Y-%m-%d %H:%M\" must not contain %H",
            ),
            ("%Y-%m-%d%z", Date, "must not contain %z"),
            ("%Y %H:%M", Time, "must not contain %Y"),
            ("%H:%M%z", Time, "must not contain %z"),
            ("%Y-%m-%d-%d", Date, "directive %d appears more than once"),
            ("%H:%M.%f", Time, "has %f without %S"),
            ("%H:%M:%S.%f%H", Time, "directive %H appears more than once"),
            (
                "%H:%M:%f%S",
                Time,
                "%f must not be followed directly by a digit",
            ),
            (
                "%H:%M:%S.%f0",
                Time,
                "%f must not be followed directly by a digit",
            ),
            ("", Date, "date format \"\" is missing %Y"),
        ];
        for &(format, kind, want) in cases {
            match TemporalFormat::compile(format, kind) {
                Ok(_) => panic!("{format:?} as {kind:?} should not compile"),
                Err(e) => assert!(e.contains(want), "{format:?}: got {e:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn format_parse_table() {
        use TemporalKind::*;
        let day = ymd(2026, 3, 15);
        let base = day * DAY;
        let cases: &[(&str, TemporalKind, &str, Option<i64>)] = &[
            ("%Y-%m-%d", Date, "2026-03-15", Some(day)),
            ("%d/%m/%Y", Date, "15/03/2026", Some(day)),
            ("%Y%m%d", Date, "20260315", Some(day)),
            ("%Y%m%d", Date, "20240229", Some(ymd(2024, 2, 29))),
            ("%Y%m%d", Date, "19000229", None),
            ("%Y%m%d", Date, "20000229", Some(ymd(2000, 2, 29))),
            ("%Y%m%d", Date, "20260230", None),
            ("%Y%m%d", Date, "20261301", None),
            ("%Y%m%d", Date, "00000101", None),
            ("%d/%m/%Y", Date, "15/3/2026", None),
            ("%d/%m/%Y", Date, "15/03/26", None),
            ("%d/%m/%Y", Date, "15/03/2026 ", None),
            ("%d/%m/%Y", Date, "15-03-2026", None),
            ("%d.%m.%Y r.", Date, "15.03.2026 r.", Some(day)),
            ("%Y年%m月%d日", Date, "2026年03月15日", Some(day)),
            ("%Y年%m月%d日", Date, "2026年03月15", None),
            ("%Y-%m-%d %%", Date, "2026-03-15 %", Some(day)),
            ("%Y-%m-%d %%", Date, "2026-03-15 x", None),
            (
                "%Y-%m-%d %H:%M",
                DateTime,
                "2026-03-15 12:34",
                Some(base + 12 * HOUR + 34 * MINUTE),
            ),
            ("%Y-%m-%d %H:%M", DateTime, "2026-03-15 24:00", None),
            ("%Y-%m-%d %H:%M", DateTime, "2026-03-15 12:34:00", None),
            (
                "%d/%m/%Y %H:%M:%S",
                DateTime,
                "15/03/2026 23:59:59",
                Some(base + DAY - SECOND),
            ),
            ("%d/%m/%Y %H:%M:%S", DateTime, "15/03/2026 23:59:60", None),
            (
                "%Y-%m-%dT%H:%M:%S.%f",
                DateTime,
                "2026-03-15T00:00:00.5",
                Some(base + 500_000),
            ),
            (
                "%Y-%m-%dT%H:%M:%S.%f",
                DateTime,
                "2026-03-15T00:00:00.123456789",
                Some(base + 123_456),
            ),
            (
                "%Y-%m-%dT%H:%M:%S.%f",
                DateTime,
                "2026-03-15T00:00:00.1234567890",
                None,
            ),
            (
                "%Y-%m-%dT%H:%M:%S.%f",
                DateTime,
                "2026-03-15T00:00:00.",
                None,
            ),
            (
                "%Y-%m-%dT%H:%M:%S.%f",
                DateTime,
                "2026-03-15T00:00:00",
                None,
            ),
            (
                "%Y-%m-%dT%H:%M:%S%z",
                DateTime,
                "2026-03-15T12:00:00Z",
                Some(base + 12 * HOUR),
            ),
            (
                "%Y-%m-%dT%H:%M:%S%z",
                DateTime,
                "2026-03-15T12:00:00+01:00",
                Some(base + 11 * HOUR),
            ),
            (
                "%Y-%m-%dT%H:%M:%S%z",
                DateTime,
                "2026-03-15T12:00:00-0130",
                Some(base + 13 * HOUR + 30 * MINUTE),
            ),
            ("%Y-%m-%dT%H:%M:%S%z", DateTime, "2026-03-15T12:00:00", None),
            (
                "%Y-%m-%dT%H:%M:%S%z",
                DateTime,
                "2026-03-15T12:00:00+01",
                None,
            ),
            (
                "%Y-%m-%dT%H:%M:%S%z",
                DateTime,
                "2026-03-15T12:00:00+24:00",
                None,
            ),
            (
                "%Y-%m-%dT%H:%M:%S.%f%z",
                DateTime,
                "2026-03-15T12:00:00.1+00:00",
                Some(base + 12 * HOUR + 100_000),
            ),
            (
                "%Y-%m-%dT%H:%M:%S %z",
                DateTime,
                "2026-03-15T12:00:00 +0000",
                Some(base + 12 * HOUR),
            ),
            ("%H:%M", Time, "00:00", Some(0)),
            ("%H:%M", Time, "23:59", Some(DAY - MINUTE)),
            ("%H:%M", Time, "24:00", None),
            ("%H:%M", Time, "25:00", None),
            (
                "%H%M%S",
                Time,
                "123456",
                Some(12 * HOUR + 34 * MINUTE + 56 * SECOND),
            ),
            ("%Hh%M", Time, "09h05", Some(9 * HOUR + 5 * MINUTE)),
            ("%H:%M:%S.%f", Time, "23:59:59.999999999", Some(DAY - 1)),
            ("%H:%M:%S,%f", Time, "00:00:01,5", Some(SECOND + 500_000)),
            ("%H:%M", Time, "", None),
            ("%H:%M", Time, "1:00", None),
            ("%H:%M", Time, "-1:00", None),
        ];
        for &(format, kind, text, want) in cases {
            let compiled = TemporalFormat::compile(format, kind)
                .unwrap_or_else(|e| panic!("{format:?} should compile: {e}"));
            assert_eq!(compiled.kind(), kind);
            assert_eq!(compiled.as_str(), format);
            assert_eq!(
                compiled.parse(text.as_bytes()),
                want,
                "{format:?} on {text:?}"
            );
        }
    }

    #[test]
    fn iso_formats_agree_with_iso_parsers() {
        let date = TemporalFormat::compile("%Y-%m-%d", TemporalKind::Date).unwrap();
        let dt = TemporalFormat::compile("%Y-%m-%dT%H:%M:%S.%f%z", TemporalKind::DateTime).unwrap();
        let time = TemporalFormat::compile("%H:%M:%S.%f", TemporalKind::Time).unwrap();
        for text in [
            "2024-02-29",
            "1900-02-29",
            "0001-01-01",
            "9999-12-31",
            "2026-13-01",
        ] {
            assert_eq!(
                date.parse(text.as_bytes()),
                parse_date_iso(text.as_bytes()).map(i64::from)
            );
        }
        for text in [
            "2026-03-15T12:00:00.5+05:30",
            "2026-03-15T23:59:59.999999999Z",
            "2026-03-15T24:00:00.0Z",
        ] {
            assert_eq!(
                dt.parse(text.as_bytes()),
                parse_datetime_iso(text.as_bytes())
            );
        }
        for text in ["00:00:00.0", "23:59:59.123456789", "24:00:00.0"] {
            assert_eq!(time.parse(text.as_bytes()), parse_time_iso(text.as_bytes()));
        }
    }

    /// Formats with a fixed layout (no `%f`, no `%z`, at least 8 bytes long).
    const FIXED_FORMATS: &[(&str, TemporalKind)] = &[
        ("%Y-%m-%dT%H:%M:%S", TemporalKind::DateTime),
        ("%Y-%m-%d %H:%M:%S", TemporalKind::DateTime),
        ("%Y/%m/%d %H.%M.%S", TemporalKind::DateTime),
        ("%Y-%d-%mT%H:%M:%S", TemporalKind::DateTime),
        ("%d/%m/%Y %H:%M", TemporalKind::DateTime),
        ("%Y%m%d%H%M%S", TemporalKind::DateTime),
        ("%Y-%m-%d", TemporalKind::Date),
        ("%Y%m%d", TemporalKind::Date),
        ("%m/%d/%Y", TemporalKind::Date),
        ("%H:%M:%S", TemporalKind::Time),
        ("at %H.%M%%", TemporalKind::Time),
    ];

    /// `format` filled with the given parts, zero-padded as the directives read them.
    fn render(format: &str, parts: [u32; 6]) -> String {
        let [y, mo, d, h, mi, s] = parts;
        format
            .replace("%%", "\u{1}")
            .replace("%Y", &format!("{y:04}"))
            .replace("%m", &format!("{mo:02}"))
            .replace("%d", &format!("{d:02}"))
            .replace("%H", &format!("{h:02}"))
            .replace("%M", &format!("{mi:02}"))
            .replace("%S", &format!("{s:02}"))
            .replace('\u{1}', "%")
    }

    #[test]
    fn fixed_layouts_are_used_where_they_apply() {
        for &(format, kind) in FIXED_FORMATS {
            let compiled = TemporalFormat::compile(format, kind).unwrap();
            assert!(compiled.fixed.is_some(), "{format}");
        }
        let shape = |format: &str, kind| {
            let compiled = TemporalFormat::compile(format, kind).unwrap();
            compiled.fixed.map(|f| f.shape)
        };
        let cases = [
            (
                "%Y-%m-%dT%H:%M:%S",
                TemporalKind::DateTime,
                Shape::DateTime19,
            ),
            (
                "%Y/%m/%d %H.%M.%S",
                TemporalKind::DateTime,
                Shape::DateTime19,
            ),
            ("%Y-%m-%d", TemporalKind::Date, Shape::Date10),
            ("%d/%m/%Y %H:%M", TemporalKind::DateTime, Shape::Other),
            ("%Y-%d-%mT%H:%M:%S", TemporalKind::DateTime, Shape::Other),
            ("%Y-%m-%dT%H:%M:%SZ", TemporalKind::DateTime, Shape::Other),
        ];
        for (format, kind, expected) in cases {
            assert_eq!(shape(format, kind), Some(expected), "{format}");
            // `parts` reads these shapes' words at constant offsets.
            let fixed = TemporalFormat::compile(format, kind)
                .unwrap()
                .fixed
                .unwrap();
            let offsets: Vec<usize> = fixed.words.iter().map(|w| w.offset).collect();
            match expected {
                Shape::DateTime19 => assert_eq!(offsets, [0, 8, 11], "{format}"),
                Shape::Date10 => assert_eq!(offsets, [0, 2], "{format}"),
                Shape::Other => {}
            }
        }
        for (format, kind) in [
            ("%Y-%m-%dT%H:%M:%S.%f", TemporalKind::DateTime),
            ("%Y-%m-%dT%H:%M%z", TemporalKind::DateTime),
            ("%H:%M", TemporalKind::Time),
        ] {
            let compiled = TemporalFormat::compile(format, kind).unwrap();
            assert!(compiled.fixed.is_none(), "{format}");
        }
    }

    proptest! {
        /// The fixed-layout path accepts exactly what the directive walk accepts, with the
        /// same value: on rendered values, then on each with one byte replaced, cut or extended.
        #[test]
        fn fixed_layouts_agree_with_the_directive_walk(
            which in 0..FIXED_FORMATS.len(),
            parts in (0u32..10_000, 0u32..14, 0u32..33, 0u32..25, 0u32..61, 0u32..61),
            at in 0usize..24,
            byte in prop_oneof![Just(b'0'), Just(b'9'), Just(b'-'), Just(b':'), Just(b'/'),
                                Just(b' '), Just(b'T'), Just(b'%'), Just(b'a'), Just(b'/' + 1),
                                Just(b'0' - 1), Just(0x3a), Just(0xb0), Just(0xff), any::<u8>()],
            edit in 0u8..4,
        ) {
            let (format, kind) = FIXED_FORMATS[which];
            let fast = TemporalFormat::compile(format, kind).unwrap();
            let walk = TemporalFormat { fixed: None, ..fast.clone() };
            let (y, mo, d, h, mi, sec) = parts;
            let mut text = render(format, [y, mo, d, h, mi, sec]).into_bytes();
            match edit {
                0 => {}
                1 => if let Some(slot) = text.get_mut(at) { *slot = byte },
                2 => text.truncate(at),
                _ => text.insert(at.min(text.len()), byte),
            }
            prop_assert_eq!(fast.parse_with_offset(&text), walk.parse_with_offset(&text));
            // A column whose values nothing reads asks only whether the text is one.
            prop_assert_eq!(fast.accepts(&text), walk.parse(&text).is_some());
            prop_assert_eq!(walk.accepts(&text), walk.parse(&text).is_some());
        }

        #[test]
        fn date_iso_roundtrips(d in -719_162i32..=2_932_896) {
            prop_assert_eq!(parse_date_iso(format_date(d).as_bytes()), Some(d));
        }

        #[test]
        fn datetime_iso_roundtrips(us in (-719_162 * DAY)..(2_932_897 * DAY)) {
            prop_assert_eq!(parse_datetime_iso(format_datetime(us).as_bytes()), Some(us));
        }

        #[test]
        fn time_iso_roundtrips(us in 0..DAY) {
            prop_assert_eq!(parse_time_iso(format_time(us).as_bytes()), Some(us));
        }

        #[test]
        fn offsets_shift_exactly(
            h in 0i64..24,
            m in 0i64..60,
            east in any::<bool>(),
            colon in any::<bool>(),
        ) {
            let sign = if east { '+' } else { '-' };
            let off = if colon {
                format!("{sign}{h:02}:{m:02}")
            } else {
                format!("{sign}{h:02}{m:02}")
            };
            let naive = parse_datetime_iso(b"2026-03-15T12:00:00").unwrap();
            let text = format!("2026-03-15T12:00:00{off}");
            let shifted = parse_datetime_iso(text.as_bytes()).unwrap();
            let secs = (h * 3600 + m * 60) * if east { 1 } else { -1 };
            prop_assert_eq!(shifted, naive - secs * SECOND);
        }

        #[test]
        fn strftime_never_panics(s in proptest::collection::vec(any::<u8>(), 0..32)) {
            for (format, kind) in [
                ("%Y-%m-%dT%H:%M:%S.%f%z", TemporalKind::DateTime),
                ("%d/%m/%Y", TemporalKind::Date),
                ("%H%M%S", TemporalKind::Time),
            ] {
                let _ = TemporalFormat::compile(format, kind).unwrap().parse(&s);
            }
        }

        #[test]
        fn compile_never_panics(f in "(%.|[-/: TYmdHMSfz%é])*") {
            for kind in [TemporalKind::Date, TemporalKind::DateTime, TemporalKind::Time] {
                if let Ok(fmt) = TemporalFormat::compile(&f, kind) {
                    let _ = fmt.parse(f.as_bytes());
                }
            }
        }
    }
}
