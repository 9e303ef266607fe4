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

    pub fn passes(&self, text: &[u8]) -> bool {
        let length = char_count(text);
        if self.is_min {
            length >= self.limit
        } else {
            length <= self.limit
        }
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

/// Characters in valid UTF-8: every byte that does not continue a multi-byte character.
pub fn char_count(text: &[u8]) -> u64 {
    text.iter().filter(|&&b| (b & 0xC0) != 0x80).count() as u64
}
