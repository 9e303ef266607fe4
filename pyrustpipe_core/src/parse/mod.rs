//! Field text → typed values, per the spec's "Parsing (what `type` means)" table.
//!
//! Everything here runs in the engine's per-row loop: inputs are raw bytes, functions are
//! total (never panic, whatever the bytes), and nothing on the parse path allocates.
//! A `None` means "does not parse as this dtype" (the `<column>:type` failure).

mod decimal;
mod number;
mod temporal;

pub use decimal::{parse_decimal, Decimal};
pub use number::{parse_float, parse_int};
pub use temporal::{
    civil_from_days, days_from_civil, format_date, format_datetime, format_time, parse_date_iso,
    parse_datetime_iso, parse_datetime_iso_offset, parse_time_iso, weekday_from_days,
    TemporalFormat, TemporalKind,
};

/// Parses `true false t f yes no y n 1 0` in any ASCII case.
pub fn parse_bool(s: &[u8]) -> Option<bool> {
    // The longest accepted word is "false"; lowercase into a stack buffer to match once.
    if s.len() > 5 {
        return None;
    }
    let mut buf = [0u8; 5];
    let lower = &mut buf[..s.len()];
    for (out, &b) in lower.iter_mut().zip(s) {
        *out = b.to_ascii_lowercase();
    }
    match &*lower {
        b"true" | b"t" | b"yes" | b"y" | b"1" => Some(true),
        b"false" | b"f" | b"no" | b"n" | b"0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bool_table() {
        let cases: &[(&[u8], Option<bool>)] = &[
            (b"true", Some(true)),
            (b"TRUE", Some(true)),
            (b"True", Some(true)),
            (b"tRuE", Some(true)),
            (b"t", Some(true)),
            (b"T", Some(true)),
            (b"yes", Some(true)),
            (b"YES", Some(true)),
            (b"y", Some(true)),
            (b"Y", Some(true)),
            (b"1", Some(true)),
            (b"false", Some(false)),
            (b"FALSE", Some(false)),
            (b"False", Some(false)),
            (b"f", Some(false)),
            (b"F", Some(false)),
            (b"no", Some(false)),
            (b"No", Some(false)),
            (b"n", Some(false)),
            (b"N", Some(false)),
            (b"0", Some(false)),
            (b"", None),
            (b" true", None),
            (b"true ", None),
            (b"tru", None),
            (b"truee", None),
            (b"falsey", None),
            (b"on", None),
            (b"off", None),
            (b"2", None),
            (b"01", None),
            (b"-1", None),
            (b"1.0", None),
            (b"ye", None),
            (b"nO\0", None),
            (b"\xff", None),
            (b"\xc4\xb0", None), // Turkish dotted capital I is not ASCII "i"
        ];
        for &(text, want) in cases {
            assert_eq!(
                parse_bool(text),
                want,
                "parse_bool({:?})",
                String::from_utf8_lossy(text)
            );
        }
    }

    proptest! {
        #[test]
        fn bool_is_case_insensitive(s in proptest::collection::vec(any::<u8>(), 0..8)) {
            let upper: Vec<u8> = s.to_ascii_uppercase();
            prop_assert_eq!(parse_bool(&s), parse_bool(&upper));
        }

        #[test]
        fn nothing_panics_on_arbitrary_bytes(s in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_int(&s);
            let _ = parse_float(&s);
            let _ = parse_decimal(&s);
            let _ = parse_date_iso(&s);
            let _ = parse_datetime_iso(&s);
            let _ = parse_time_iso(&s);
        }

        #[test]
        fn nothing_panics_on_numberish_bytes(s in "[-+0-9.eE:TZ ]{0,40}") {
            let _ = parse_int(s.as_bytes());
            let _ = parse_float(s.as_bytes());
            let _ = parse_decimal(s.as_bytes());
            let _ = parse_date_iso(s.as_bytes());
            let _ = parse_datetime_iso(s.as_bytes());
            let _ = parse_time_iso(s.as_bytes());
        }
    }
}
