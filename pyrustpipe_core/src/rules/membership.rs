//! `isin` / `not_in`: a typed value against a fixed set, compared by canonical key bytes.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::RuleId;
use crate::error::{Error, Result};
use crate::spec::DType;
use crate::value::{TypeParser, Value};

/// Small sets are scanned (faster than hashing a short key); large ones are hashed.
const SCAN_LIMIT: usize = 16;

#[derive(Debug)]
pub struct KeySet {
    scan: Vec<Vec<u8>>,
    /// The scanned keys packed into integers when all are short (compared without memcmp).
    packed: Option<Vec<u128>>,
    hashed: HashSet<Vec<u8>>,
}

/// A key of at most 15 bytes as one integer: its bytes, and its length in the top byte.
fn pack(key: &[u8]) -> Option<u128> {
    if key.len() > 15 {
        return None;
    }
    let mut raw = [0u8; 16];
    raw[..key.len()].copy_from_slice(key);
    raw[15] = key.len() as u8;
    Some(u128::from_le_bytes(raw))
}

impl KeySet {
    /// Typed keys of JSON literals for a column of `dtype`.
    pub fn compile(values: &[Json], dtype: DType, at: &str) -> Result<KeySet> {
        let parser = TypeParser::for_dtype(dtype);
        let mut keys = Vec::with_capacity(values.len());
        for (index, literal) in values.iter().enumerate() {
            let text = match literal {
                Json::String(s) => s.clone(),
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                other => {
                    return Err(Error::schema(
                        format!("{at}.values[{index}]"),
                        format!("{other} is not a {} value", dtype.name()),
                    ))
                }
            };
            let value = parser.parse(text.as_bytes()).ok_or_else(|| {
                Error::schema(
                    format!("{at}.values[{index}]"),
                    format!("{text:?} is not a valid {} value", dtype.name()),
                )
            })?;
            let mut scratch = [0u8; 24];
            keys.push(value.key_bytes(&mut scratch).to_vec());
        }
        keys.sort();
        keys.dedup();
        Ok(if keys.len() <= SCAN_LIMIT {
            KeySet {
                packed: keys.iter().map(|k| pack(k)).collect(),
                scan: keys,
                hashed: HashSet::new(),
            }
        } else {
            KeySet {
                scan: Vec::new(),
                packed: None,
                hashed: keys.into_iter().collect(),
            }
        })
    }

    pub fn contains(&self, key: &[u8]) -> bool {
        if let Some(packed) = &self.packed {
            return pack(key).is_some_and(|k| packed.contains(&k));
        }
        if self.hashed.is_empty() {
            self.scan.iter().any(|k| k.as_slice() == key)
        } else {
            self.hashed.contains(key)
        }
    }
}

#[derive(Debug)]
pub struct Membership {
    pub rule: RuleId,
    negate: bool,
    set: KeySet,
    listed: String,
}

impl Membership {
    pub fn compile(
        rule: RuleId,
        negate: bool,
        values: Option<&[Json]>,
        dtype: DType,
        at: &str,
    ) -> Result<Membership> {
        let kind = if negate { "not_in" } else { "isin" };
        if matches!(dtype, DType::Datetime | DType::Time) {
            // An instant or a time of day is rarely one of a few exact values: a range is meant.
            return Err(Error::schema(
                at,
                format!(
                    "{kind} applies to str, int, float, decimal, bool and date columns, not {}",
                    dtype.name()
                ),
            ));
        }
        let values = values.ok_or_else(|| Error::schema(at, "needs a \"values\" list"))?;
        if values.is_empty() && !negate {
            // Nothing could pass: certainly a mistake, never a rule.
            return Err(Error::schema(at, "isin needs at least one value"));
        }
        let mut listed: Vec<String> = values.iter().take(10).map(ToString::to_string).collect();
        if values.len() > 10 {
            listed.push(format!("… {} more", values.len() - 10));
        }
        Ok(Membership {
            rule,
            negate,
            set: KeySet::compile(values, dtype, at)?,
            listed: format!("[{}]", listed.join(", ")),
        })
    }

    pub fn passes(&self, value: &Value<'_>) -> bool {
        let mut scratch = [0u8; 24];
        self.set.contains(value.key_bytes(&mut scratch)) != self.negate
    }

    pub fn describe(&self, column: &str) -> String {
        let relation = if self.negate {
            "is none of"
        } else {
            "is one of"
        };
        format!("{column} {relation} {}", self.listed)
    }

    pub fn message(&self, text: &str) -> String {
        if self.negate {
            format!("{text} is in the excluded set {}", self.listed)
        } else {
            format!("{text} is not in {}", self.listed)
        }
    }
}
