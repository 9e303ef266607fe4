//! `pattern`: a Rust `regex` (linear time, no look-around) searched in the value.

use regex::bytes::{Regex, RegexBuilder};

use super::fixed_pattern::FixedPattern;
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

    pub fn passes(&self, text: &[u8]) -> bool {
        match &self.fixed {
            Some(fixed) => fixed.is_match(text),
            None => self.regex.is_match(text),
        }
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
