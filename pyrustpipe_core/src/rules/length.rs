//! `min_length` `max_length`: length of a string in Unicode characters.

use serde_json::Value as Json;

use super::RuleId;
use crate::error::{Error, Result};
use crate::spec::{CheckKind, DType};

#[derive(Debug)]
pub struct Length {
    pub rule: RuleId,
    is_min: bool,
    limit: u64,
}

impl Length {
    pub fn compile(
        rule: RuleId,
        kind: CheckKind,
        value: Option<&Json>,
        dtype: DType,
        at: &str,
    ) -> Result<Length> {
        if dtype != DType::Str {
            return Err(Error::schema(
                at,
                format!(
                    "{} applies to str columns, not {}",
                    kind.name(),
                    dtype.name()
                ),
            ));
        }
        let limit = value.and_then(Json::as_u64).ok_or_else(|| {
            Error::schema(
                at,
                format!("{} needs a non-negative integer \"value\"", kind.name()),
            )
        })?;
        Ok(Length {
            rule,
            is_min: kind == CheckKind::MinLength,
            limit,
        })
    }

    /// Whether `text` (valid UTF-8) passes; its characters are counted only where its length
    /// in bytes does not decide (`by_bytes`): a value within a `max_length` in bytes is not.
    #[inline(always)]
    pub fn passes(&self, text: &[u8]) -> bool {
        match self.by_bytes(text.len() as u64) {
            Some(passes) => passes,
            None => self.holds(char_count(text)),
        }
    }

    /// The characters a value may have to pass, `least..=most` (one bound is the type's own).
    #[inline(always)]
    pub fn bounds(&self) -> (u64, u64) {
        if self.is_min {
            (self.limit, u64::MAX)
        } else {
            (0, self.limit)
        }
    }

    /// Whether a value of `chars` characters passes.
    #[inline(always)]
    pub fn holds(&self, chars: u64) -> bool {
        within(self.bounds(), chars)
    }

    /// The outcome for a `str` value of `bytes` bytes where they decide it (`by_bytes`);
    /// `None`: its characters must be counted.
    #[inline(always)]
    pub fn by_bytes(&self, bytes: u64) -> Option<bool> {
        let (passes, decided) = by_bytes(self.bounds(), bytes);
        decided.then_some(passes)
    }

    pub fn describe(&self, column: &str) -> String {
        let symbol = if self.is_min { ">=" } else { "<=" };
        format!("{column} has length {symbol} {}", self.limit)
    }

    pub fn message(&self, text: &str) -> String {
        let length = char_count(text.as_bytes());
        if self.is_min {
            format!("length {length} is less than {}", self.limit)
        } else {
            format!("length {length} is more than {}", self.limit)
        }
    }
}

/// Whether `chars` lies within `Length::bounds`. No branch.
#[inline(always)]
pub fn within((least, most): (u64, u64), chars: u64) -> bool {
    (least <= chars) & (chars <= most)
}

/// Of a `str` value of `bytes` bytes under `bounds` (`Length::bounds`): whether it passes with
/// a character a byte, and whether that is its outcome whatever its characters — valid UTF-8
/// has at most a character a byte and at least one in four bytes, and the bound is one-sided,
/// so the outcome at both ends is every count's between when the two agree. No branch, for a
/// loop over many values.
#[inline(always)]
pub fn by_bytes(bounds: (u64, u64), bytes: u64) -> (bool, bool) {
    let (at_fewest, at_most) = (within(bounds, bytes.div_ceil(4)), within(bounds, bytes));
    (at_most, at_fewest == at_most)
}

/// Characters in valid UTF-8: every byte that does not continue a multi-byte character.
pub fn char_count(text: &[u8]) -> u64 {
    text.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const AT: &str = "columns[0].checks[0]";

    #[test]
    fn compile_errors() {
        let cases: &[(CheckKind, Option<Json>, DType, &str)] = &[
            (
                CheckKind::MinLength,
                Some(json!(1)),
                DType::Int,
                "min_length applies to str columns, not int",
            ),
            (
                CheckKind::MaxLength,
                Some(json!(1)),
                DType::Date,
                "max_length applies to str columns, not date",
            ),
            (
                CheckKind::MinLength,
                None,
                DType::Str,
                "min_length needs a non-negative integer \"value\"",
            ),
            (
                CheckKind::MaxLength,
                Some(json!(-1)),
                DType::Str,
                "max_length needs a non-negative integer \"value\"",
            ),
            (
                CheckKind::MaxLength,
                Some(json!(2.5)),
                DType::Str,
                "max_length needs a non-negative integer \"value\"",
            ),
            (
                CheckKind::MinLength,
                Some(json!("3")),
                DType::Str,
                "min_length needs a non-negative integer \"value\"",
            ),
        ];
        for (kind, value, dtype, want) in cases {
            let err = Length::compile(0, *kind, value.as_ref(), *dtype, AT).expect_err(want);
            assert_eq!(
                err.to_string(),
                format!("invalid rule spec at {AT}: {want}")
            );
        }
    }

    #[test]
    fn passes_and_fails() {
        // (kind, limit, text, passes): lengths count characters, not bytes.
        let cases: &[(CheckKind, u64, &str, bool)] = &[
            (CheckKind::MinLength, 3, "abc", true),
            (CheckKind::MinLength, 3, "abcd", true),
            (CheckKind::MinLength, 3, "ab", false),
            (CheckKind::MinLength, 1, "", false),
            (CheckKind::MinLength, 0, "", true),
            (CheckKind::MinLength, 3, "héé", true),
            (CheckKind::MinLength, 4, "héé", false),
            (CheckKind::MaxLength, 3, "abc", true),
            (CheckKind::MaxLength, 3, "abcd", false),
            (CheckKind::MaxLength, 0, "", true),
            (CheckKind::MaxLength, 2, "日本", true),
            (CheckKind::MaxLength, 2, "日本語", false),
            (CheckKind::MaxLength, 1, "😀", true),
        ];
        for (kind, limit, text, want) in cases {
            let check =
                Length::compile(0, *kind, Some(&json!(limit)), DType::Str, AT).expect("compiles");
            assert_eq!(
                check.passes(text.as_bytes()),
                *want,
                "{kind:?} {limit} on {text:?}"
            );
        }
    }

    #[test]
    fn failure_messages() {
        let min =
            Length::compile(0, CheckKind::MinLength, Some(&json!(3)), DType::Str, AT).unwrap();
        assert_eq!(min.message("hé"), "length 2 is less than 3");
        let max =
            Length::compile(0, CheckKind::MaxLength, Some(&json!(2)), DType::Str, AT).unwrap();
        assert_eq!(max.message("日本語"), "length 3 is more than 2");
    }

    #[test]
    fn char_count_table() {
        let cases: &[(&str, u64)] = &[("", 0), ("a", 1), ("é", 1), ("日本", 2), ("a😀b", 3)];
        for (text, want) in cases {
            assert_eq!(char_count(text.as_bytes()), *want, "{text:?}");
        }
    }

    proptest::proptest! {
        /// Where a value's length in bytes decides alone, it decides as its characters do.
        #[test]
        fn bytes_decide_only_as_the_characters_would(
            text in "[a-zé€😀]{0,40}",
            limit in 0u64..45,
            is_min in proptest::bool::ANY,
        ) {
            let kind = if is_min { CheckKind::MinLength } else { CheckKind::MaxLength };
            let length = Length::compile(1, kind, Some(&json!(limit)), DType::Str, AT).expect("compiles");
            if let Some(decided) = length.by_bytes(text.len() as u64) {
                proptest::prop_assert_eq!(decided, length.holds(char_count(text.as_bytes())), "{:?}", text);
            }
            proptest::prop_assert_eq!(
                length.passes(text.as_bytes()),
                length.holds(char_count(text.as_bytes())),
                "{:?}",
                text
            );
        }
    }
}
