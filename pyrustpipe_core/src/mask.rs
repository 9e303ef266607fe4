//! Sensitive columns' values are replaced by keyed-hash tokens wherever they would leave the run
//! other than the quarantine output (docs/spec.md, "Sensitive columns").

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2_hmac::Sha256;

use crate::error::{Error, Result};

/// Where a run's key is read when the options give none.
pub const MASK_KEY_ENV: &str = "PYRUSTPIPE_MASK_KEY";

/// Hex digits of the HMAC kept in a token: 48 bits, so two values of one run share a token only
/// by a very unlikely accident.
const TOKEN_HEX: usize = 12;

/// The secret a run's tokens are made with. Its `Debug` never shows it, so that an options dump
/// or an error cannot leak it.
#[derive(Clone, Deserialize)]
#[serde(from = "String")]
pub struct MaskKey(Vec<u8>);

impl From<String> for MaskKey {
    fn from(text: String) -> Self {
        MaskKey(text.into_bytes())
    }
}

impl fmt::Debug for MaskKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaskKey(<redacted>)")
    }
}

/// Makes tokens: `«masked:` + the first 12 hex digits of HMAC-SHA256(key, value) + `»`.
#[derive(Clone)]
pub struct Masker {
    /// Keyed once; each token clones it, which skips re-deriving the key pads.
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Masker(<redacted>)")
    }
}

impl Masker {
    pub fn new(key: &[u8]) -> Self {
        Masker {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length"),
        }
    }

    /// A key nobody knows: tokens compare within this run only.
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        // Without an OS random source, fall back to the process's hashing seed and the clock:
        // tokens then still hide values from anyone who does not hold this process's memory.
        if getrandom::fill(&mut key).is_err() {
            use std::hash::{BuildHasher, Hasher};
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            key[..8].copy_from_slice(&hasher.finish().to_le_bytes());
        }
        Masker::new(&key)
    }

    /// The run's masker: the `mask_key` option, else `$PYRUSTPIPE_MASK_KEY`, else a random key.
    pub fn for_run(key: Option<&MaskKey>) -> Result<Self> {
        let from_env = std::env::var_os(MASK_KEY_ENV).map(|v| v.into_encoded_bytes());
        let (key, at) = match key {
            Some(key) => (Some(key.0.clone()), "mask_key"),
            None => (from_env, MASK_KEY_ENV),
        };
        match key {
            // The message names where the key came from, never the key.
            Some(key) if key.is_empty() => Err(Error::option(at, "the masking key is empty")),
            Some(key) => Ok(Masker::new(&key)),
            None => Ok(Masker::random()),
        }
    }

    /// The token standing for `value`: equal values, equal tokens (under one key).
    pub fn token(&self, value: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(value);
        let digest = mac.finalize().into_bytes();
        let hex: String = digest
            .iter()
            .take(TOKEN_HEX / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("«masked:{hex}»")
    }

    /// `text` with each of `values` replaced by its token, in one left-to-right pass (longest
    /// value first at each place, so a value inside another is not cut out of it, and a token's
    /// hex is never matched again). Empty values are left alone: they would match everywhere.
    pub fn redact(&self, text: &str, values: &[String]) -> String {
        let mut values: Vec<&str> = values
            .iter()
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match values.iter().find(|v| rest.starts_with(**v)) {
                Some(value) => {
                    out.push_str(&self.token(value.as_bytes()));
                    rest = &rest[value.len()..];
                }
                None => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_key_and_differ_across_keys() {
        let a = Masker::new(b"key-a");
        let b = Masker::new(b"key-b");
        let cases: [(&[u8], &[u8]); 3] = [
            (b"+256772000111", b"+256772000112"),
            (b"", b" "),
            (b"ACC-1", b"acc-1"),
        ];
        for (value, other) in cases {
            let token = a.token(value);
            assert_eq!(token, a.token(value), "same value, same token");
            assert_eq!(
                token,
                Masker::new(b"key-a").token(value),
                "same key, same token"
            );
            assert_ne!(token, a.token(other), "different value");
            assert_ne!(token, b.token(value), "different key");
            assert!(
                token.starts_with("«masked:") && token.ends_with('»'),
                "{token}"
            );
            assert_eq!(
                token.chars().count(),
                "«masked:»".chars().count() + TOKEN_HEX
            );
        }
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(Masker::random().token(b"x"), Masker::random().token(b"x"));
    }

    #[test]
    fn the_key_is_never_printed() {
        let key = MaskKey::from("s3cr3t-key".to_owned());
        let masker = Masker::for_run(Some(&key)).unwrap();
        let shown = format!("{key:?} {masker:?} {}", masker.token(b"s3cr3t-key"));
        assert!(!shown.contains("s3cr3t"), "{shown}");
        let error = Masker::for_run(Some(&MaskKey::from(String::new()))).unwrap_err();
        assert!(error.to_string().contains("mask_key"), "{error}");
    }

    #[test]
    fn redact_replaces_every_value_longest_first() {
        let m = Masker::new(b"k");
        let values = ["077".to_owned(), "+256772000111".to_owned(), String::new()];
        let cases = [
            ("f returned '+256772000111'", "f returned 'T1'"),
            ("077 and +256772000111", "T0 and T1"),
            ("nothing here", "nothing here"),
            ("0770", "T00"),
        ];
        for (text, expected) in cases {
            let want = expected
                .replace("T0", &m.token(b"077"))
                .replace("T1", &m.token(b"+256772000111"));
            assert_eq!(m.redact(text, &values), want, "{text}");
        }
    }

    /// A run: every sample of the sensitive column shows its token, never the value; the
    /// same value gets the same token in every rule; the key appears nowhere.
    #[test]
    fn a_run_shows_tokens_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(
            &path,
            "id,phone\n1,+256772000111\n2,+256772000111\n3,x+256772000111\n4,+1\n",
        )
        .unwrap();
        let spec = r#"{"spec_version": 1, "columns": [
            {"name": "id", "dtype": "int"},
            {"name": "phone", "dtype": "str", "sensitive": true, "checks": [
                {"type": "unique", "keep": "none"},
                {"type": "pattern", "pattern": "^\\+[0-9]+$"},
                {"type": "isin", "values": ["+1"]}]}],
            "unique": [{"columns": ["phone", "id"], "name": "phone_id"},
                       {"columns": ["phone", "phone"], "name": "phone_twice"}]}"#;
        let run = |key: &str| {
            let options: crate::Options =
                serde_json::from_str(&format!(r#"{{"mask_key": "{key}"}}"#)).unwrap();
            assert!(!format!("{options:?}").contains(key));
            let report = crate::validate(spec, &[path.display().to_string()], &options).unwrap();
            (report.invalid_rows, report.to_json())
        };
        let (invalid, json) = run("key-one");
        assert_eq!(invalid, 3);
        let token = Masker::new(b"key-one").token(b"+256772000111");
        for secret in ["256772000", "key-one"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        // unique (twice, plus the first occurrence) and isin (twice) show the same token
        assert!(json.matches(&token).count() >= 4, "{json}");
        // a composite key with the column is one token for the whole key
        let pair = Masker::new(b"key-one").token(b"+256772000111,+256772000111");
        assert_eq!(json.matches(&pair).count(), 2, "{json}");
        let (_, again) = run("key-one");
        assert!(again.contains(&token), "same key, same token across runs");
        let (_, other) = run("key-two");
        assert!(!other.contains(&token), "another key, other tokens");
    }

    /// The min / max of a sensitive column is one of its values: it is shown as a token too.
    #[test]
    fn a_sensitive_columns_min_and_max_are_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "account\n770001234\n770005678\n").unwrap();
        let spec = r#"{"spec_version": 1,
            "columns": [{"name": "account", "dtype": "int", "sensitive": true}],
            "dataset_checks": [
                {"metric": "max", "column": "account", "max": 10},
                {"metric": "mean", "column": "account", "max": 10}]}"#;
        let report = crate::validate(spec, &[path.display().to_string()], &Default::default());
        let json = report.unwrap().to_json();
        assert!(!json.contains("770005678"), "{json}");
        assert!(json.contains("\"observed\":\"«masked:"), "{json}");
        // a mean is not a value of the column: shown as is
        assert!(json.contains("770003456"), "{json}");
    }
}
