//! `pattern`: a Rust `regex` (linear time, no look-around) searched in the value.

use regex::bytes::{Regex, RegexBuilder};

use super::fixed_pattern::{FixedPattern, TwoWordPattern, ViewPattern};
use super::RuleId;
use crate::error::{Error, Result};
use crate::spec::DType;

/// Longer patterns are refused before compiling: compile cost grows with pattern size.
pub const MAX_PATTERN_BYTES: usize = 4096;

#[derive(Debug)]
pub struct Pattern {
    pub rule: RuleId,
    regex: Regex,
    fixed: Option<FixedPattern>,
}

impl Pattern {
    pub fn compile(rule: RuleId, pattern: Option<&str>, dtype: DType, at: &str) -> Result<Pattern> {
        if dtype != DType::Str {
            return Err(Error::schema(
                at,
                format!("pattern applies to str columns, not {}", dtype.name()),
            ));
        }
        let pattern = pattern.ok_or_else(|| Error::schema(at, "pattern needs a \"pattern\""))?;
        Ok(Pattern {
            rule,
            regex: compile_regex(pattern, at)?,
            fixed: FixedPattern::compile(pattern),
        })
    }

    // Inlined into the check dispatch, so a fixed-shape pattern costs no call of its own.
    #[inline]
    pub fn passes(&self, text: &[u8]) -> bool {
        match &self.fixed {
            Some(fixed) => fixed.is_match(text),
            None => self.regex_passes(text),
        }
    }

    /// Whether every text it accepts is a non-empty `str` value by itself (ASCII without NUL).
    pub fn accepts_only_plain_text(&self) -> bool {
        self.fixed
            .as_ref()
            .is_some_and(FixedPattern::matches_only_plain_text)
    }

    /// The test of a string view that inlines its value, when the pattern has one: then a
    /// view's own sixteen bytes decide (`ViewPattern`).
    pub fn view_pattern(&self) -> Option<&ViewPattern> {
        self.fixed.as_ref()?.view_pattern()
    }

    /// The two-word test of a fixed pattern 13 to 16 long, when the pattern has one
    /// (`TwoWordPattern`): a long string view's value without the general matcher.
    pub fn two_words(&self) -> Option<&TwoWordPattern> {
        self.fixed.as_ref()?.two_words()
    }

    // Out of line: the regex search inlined would bloat every loop that inlines `passes`.
    #[inline(never)]
    fn regex_passes(&self, text: &[u8]) -> bool {
        self.regex.is_match(text)
    }

    pub fn describe(&self, column: &str) -> String {
        format!("{column} matches {:?}", self.regex.as_str())
    }

    pub fn message(&self, text: &str) -> String {
        format!("{text} does not match {:?}", self.regex.as_str())
    }
}

pub fn compile_regex(pattern: &str, at: &str) -> Result<Regex> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(Error::schema(
            at,
            format!(
                "pattern is {} bytes; the limit is {MAX_PATTERN_BYTES}",
                pattern.len()
            ),
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(1 << 22)
        .dfa_size_limit(1 << 22)
        .build()
        .map_err(|e| Error::schema(at, format!("invalid pattern {pattern:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: &str = "columns[0].checks[0]";

    #[test]
    fn compile_errors() {
        let long = "a".repeat(MAX_PATTERN_BYTES + 1);
        let cases: &[(Option<&str>, DType, String)] = &[
            (
                Some("^a$"),
                DType::Int,
                "pattern applies to str columns, not int".into(),
            ),
            (None, DType::Str, "pattern needs a \"pattern\"".into()),
            (
                Some(&long),
                DType::Str,
                format!("pattern is 4097 bytes; the limit is {MAX_PATTERN_BYTES}"),
            ),
        ];
        for (pattern, dtype, want) in cases {
            let err = Pattern::compile(0, *pattern, *dtype, AT).expect_err(want);
            assert_eq!(
                err.to_string(),
                format!("invalid rule spec at {AT}: {want}")
            );
        }
        // The regex crate's own reason follows the pattern; only its start is ours.
        for bad in ["(", "[a-", "a{2,1}", r"(?<=a)b"] {
            let err = Pattern::compile(0, Some(bad), DType::Str, AT).expect_err(bad);
            assert!(
                err.to_string().starts_with(&format!(
                    "invalid rule spec at {AT}: invalid pattern {bad:?}: "
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn passes_and_fails() {
        // (pattern, text, passes): a search, not a full match, unless anchored; the fixed-shape
        // fast path (`^TX[0-9]{3}$`) and the regex give the same answers.
        let cases: &[(&str, &str, bool)] = &[
            ("^TX[0-9]{3}$", "TX123", true),
            ("^TX[0-9]{3}$", "TX12", false),
            ("^TX[0-9]{3}$", "TX1234", false),
            ("^TX[0-9]{3}$", "tx123", false),
            ("^TX[0-9]{3}$", "TX12é", false),
            ("[0-9]", "abc1", true),
            ("[0-9]", "abc", false),
            ("^[a-z]+@[a-z]+\\.com$", "a@b.com", true),
            ("^[a-z]+@[a-z]+\\.com$", "a@b.org", false),
            ("(?i)^abc$", "ABC", true),
            ("^é+$", "ééé", true),
            ("^é+$", "e", false),
            ("", "", true),
        ];
        for (pattern, text, want) in cases {
            let check = Pattern::compile(0, Some(pattern), DType::Str, AT).expect("compiles");
            assert_eq!(
                check.passes(text.as_bytes()),
                *want,
                "{pattern} on {text:?}"
            );
        }
    }

    #[test]
    fn failure_message() {
        let check = Pattern::compile(0, Some("^TX[0-9]{3}$"), DType::Str, AT).unwrap();
        assert_eq!(check.message("TX1"), r#"TX1 does not match "^TX[0-9]{3}$""#);
    }
}
