//! CompiledSpec specs kept for the process's next runs of the same spec: compiling one (parsing it,
//! hashing the rule set, building its patterns and sets) is ~175 µs, a quarter of a small
//! frame's validation, and a pipeline validates batch after batch against one schema.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Result;
use crate::plan::{CompiledSpec, ExternalRule};
use crate::spec::Spec;

/// Specs kept at most; the least recently used goes first.
const KEPT: usize = 16;

/// What a compiled spec depends on: the spec's text, the external rules' names, severities
/// and tolerances, and whether the run profiles its columns for a ledger.
#[derive(PartialEq, Eq)]
struct Key {
    spec_json: String,
    external: String,
    profiled: bool,
}

static KEPT_SPECS: Mutex<Vec<(Key, Arc<CompiledSpec>)>> = Mutex::new(Vec::new());

/// `spec_json` compiled with `external` (and profiled for a ledger run when `profiled`): the
/// compiled spec of an earlier run of the same, or a new one, kept for the next. A spec that
/// does not compile is not kept.
pub fn compiled(
    spec_json: &str,
    external: &[ExternalRule],
    profiled: bool,
) -> Result<Arc<CompiledSpec>> {
    let key = Key {
        spec_json: spec_json.to_owned(),
        external: format!("{external:?}"),
        profiled,
    };
    {
        let mut kept = KEPT_SPECS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = kept.iter().position(|(k, _)| *k == key) {
            let entry = kept.remove(at);
            let compiled = Arc::clone(&entry.1);
            kept.push(entry);
            return Ok(compiled);
        }
    }
    // CompiledSpec outside the lock: two runs of a new spec at once may both compile it.
    let mut compiled = CompiledSpec::compile(Spec::from_json(spec_json)?, external)?;
    if profiled {
        crate::ledger::profile_columns(&mut compiled);
    }
    let compiled = Arc::new(compiled);
    let mut kept = KEPT_SPECS.lock().unwrap_or_else(PoisonError::into_inner);
    if !kept.iter().any(|(k, _)| *k == key) {
        if kept.len() == KEPT {
            kept.remove(0);
        }
        kept.push((key, Arc::clone(&compiled)));
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Severity;

    fn spec(name: &str, ge: i64) -> String {
        format!(
            r#"{{"spec_version": 1, "name": "{name}", "columns": [{{"name": "x", "dtype": "int",
            "checks": [{{"type": "ge", "value": {ge}}}]}}]}}"#
        )
    }

    fn external(name: &str) -> Vec<ExternalRule> {
        vec![ExternalRule {
            name: name.to_owned(),
            severity: Severity::Error,
            tolerance: None,
        }]
    }

    #[test]
    fn a_spec_compiles_once_for_its_key_and_again_for_another() {
        let text = spec("kept_once", 1);
        let first = compiled(&text, &[], false).unwrap();
        assert!(Arc::ptr_eq(&first, &compiled(&text, &[], false).unwrap()));
        // Each part of the key makes another compiled spec.
        let others = [
            compiled(&spec("kept_once", 2), &[], false).unwrap(),
            compiled(&text, &external("py_rule"), false).unwrap(),
            compiled(&text, &[], true).unwrap(),
        ];
        for other in &others {
            assert!(!Arc::ptr_eq(&first, other));
        }
        assert_eq!(others[1].external_rules.len(), 1);
        assert!(first.external_rules.is_empty());
        // Profiled for a ledger: the int column's exact sums are gathered.
        assert_ne!(others[2].stats_columns, first.stats_columns);
    }

    #[test]
    fn the_least_recently_used_spec_goes_first_and_a_mistake_is_not_kept() {
        let texts: Vec<String> = (0..=KEPT).map(|n| spec("kept_lru", n as i64)).collect();
        let first = compiled(&texts[0], &[], false).unwrap();
        for text in &texts[1..KEPT] {
            compiled(text, &[], false).unwrap();
            // The first is used again after each other: never the least recent.
            assert!(Arc::ptr_eq(
                &first,
                &compiled(&texts[0], &[], false).unwrap()
            ));
        }
        compiled(&texts[KEPT], &[], false).unwrap();
        assert!(Arc::ptr_eq(
            &first,
            &compiled(&texts[0], &[], false).unwrap()
        ));
        assert!(compiled("{not a spec", &[], false).is_err());
        assert!(compiled("{not a spec", &[], false).is_err());
    }
}
