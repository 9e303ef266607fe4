//! A fast path for the most common pattern shape in data contracts: anchored, fixed length,
//! made of literals and ASCII classes (`^TX[0-9]{10}$`, `^\+2547[0-9]{8}$`, `^[A-Z]{2}$`). Such a
//! pattern is a per-position byte table; matching is a length check and one lookup per byte,
//! several times faster than a general regex search on short values. The result is identical to
//! the regex's: non-ASCII characters never match an ASCII class, and literals compare as UTF-8.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Patterns longer than this use the regex engine.
const MAX_SLOTS: usize = 256;

#[derive(Debug, Clone)]
pub struct FixedPattern {
    slots: Vec<[bool; 256]>,
}

impl FixedPattern {
    /// `Some` when `pattern` has the fixed shape; `None` means "use the regex".
    pub fn compile(pattern: &str) -> Option<FixedPattern> {
        let hir = regex_syntax::parse(pattern).ok()?;
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let (first, rest) = items.split_first()?;
        let (last, middle) = rest.split_last()?;
        if !matches!(first.kind(), HirKind::Look(Look::Start))
            || !matches!(last.kind(), HirKind::Look(Look::End))
        {
            return None;
        }
        let mut slots = Vec::new();
        for item in middle {
            push_slots(item, &mut slots)?;
            if slots.len() > MAX_SLOTS {
                return None;
            }
        }
        Some(FixedPattern { slots })
    }

    pub fn is_match(&self, text: &[u8]) -> bool {
        text.len() == self.slots.len()
            && self
                .slots
                .iter()
                .zip(text)
                .all(|(slot, &byte)| slot[usize::from(byte)])
    }
}

fn push_slots(hir: &Hir, slots: &mut Vec<[bool; 256]>) -> Option<()> {
    match hir.kind() {
        HirKind::Literal(literal) => {
            for &byte in literal.0.iter() {
                let mut slot = [false; 256];
                slot[usize::from(byte)] = true;
                slots.push(slot);
            }
        }
        HirKind::Class(class) => {
            let mut slot = [false; 256];
            match class {
                Class::Unicode(unicode) => {
                    for range in unicode.ranges() {
                        let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                        if end > 0x7F {
                            return None;
                        }
                        for code in start..=end {
                            slot[code as usize] = true;
                        }
                    }
                }
                Class::Bytes(bytes) => {
                    for range in bytes.ranges() {
                        if range.end() > 0x7F {
                            return None;
                        }
                        for byte in range.start()..=range.end() {
                            slot[usize::from(byte)] = true;
                        }
                    }
                }
            }
            slots.push(slot);
        }
        HirKind::Repetition(repetition) => {
            if repetition.max != Some(repetition.min) || repetition.min as usize > MAX_SLOTS {
                return None;
            }
            let mut one = Vec::new();
            push_slots(&repetition.sub, &mut one)?;
            for _ in 0..repetition.min {
                slots.extend_from_slice(&one);
            }
        }
        HirKind::Capture(capture) => push_slots(&capture.sub, slots)?,
        HirKind::Concat(items) => {
            for item in items {
                push_slots(item, slots)?;
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn recognises_the_fixed_shapes() {
        for pattern in [
            r"^TX[0-9]{10}$",
            r"^\+2547[0-9]{8}$",
            r"^[A-Z]{2}$",
            r"^(ab)[x-z]{3}$",
            r"^(?-u:\d){4}$",
        ] {
            assert!(FixedPattern::compile(pattern).is_some(), "{pattern}");
        }
        for pattern in [
            r"TX[0-9]{10}",
            r"^[0-9]+$",
            r"^a|b$",
            r"^[0-9]{1,3}$",
            r"^é[a-z]$x",
            r"(?m)^a$",
            r"^\w{3}$",
            r"^\d{4}$",
        ] {
            assert!(FixedPattern::compile(pattern).is_none(), "{pattern}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_regex(text in "(TX|tx|T)?[0-9A-Za-z+é\n ]{0,14}") {
            for pattern in [r"^TX[0-9]{10}$", r"^\+2547[0-9]{8}$", r"^[A-Z]{2}$", r"^(?i)tx[0-9]{2}$", r"^[0-9]{3}$"] {
                let fixed = FixedPattern::compile(pattern).expect("fixed shape");
                let regex = regex::Regex::new(pattern).unwrap();
                prop_assert_eq!(fixed.is_match(text.as_bytes()), regex.is_match(&text), "{} on {:?}", pattern, text);
            }
        }
    }
}
