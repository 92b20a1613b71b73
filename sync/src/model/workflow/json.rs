//! Reading a rule out of JSON by hand, so every refusal names the path of
//! the value it is about (`conditions[0].op`), which serde's derive cannot.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::RuleError;

/// What the root of the body is called when the body itself is wrong.
pub(super) const ROOT: &str = "rule";

/// Collects path → reason, the first reason per path.
#[derive(Debug, Default)]
pub(super) struct Reader {
    problems: BTreeMap<String, String>,
}

impl Reader {
    pub(super) fn problem(&mut self, path: &str, reason: impl Into<String>) {
        let path = if path.is_empty() { ROOT } else { path };
        self.problems
            .entry(path.to_string())
            .or_insert_with(|| reason.into());
    }

    /// Records a failed check at `path`; passes a good value through.
    pub(super) fn check<T>(&mut self, path: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|reason| self.problem(path, reason)).ok()
    }

    /// `value` as an object whose keys are all `known`; each other key is a
    /// problem at its own path.
    pub(super) fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        known: &[&str],
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = value.as_object() else {
            self.problem(path, "must be an object");
            return None;
        };
        for key in map.keys().filter(|k| !known.contains(&k.as_str())) {
            self.problem(
                &join(path, key),
                format!("unknown field; expected {}", known.join(", ")),
            );
        }
        Some(map)
    }

    /// `map[key]`, or a problem if it is missing.
    pub(super) fn required<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value> {
        let value = map.get(key);
        if value.is_none() {
            self.problem(&join(path, key), "required");
        }
        value
    }

    pub(super) fn finish(self) -> Result<(), RuleError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(RuleError::Validation(self.problems))
        }
    }
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

pub(super) fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "must be a string".to_string())
}

/// A whole number in `min..=max`; `7.0` counts as 7, as JSON Schema counts
/// it (docs/API.md › Errors).
pub(super) fn integer(value: &Value, min: u64, max: u64) -> Result<u64, String> {
    let n = value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 9_007_199_254_740_992.0)
            .map(|f| f as u64)
    });
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from {min} to {max}")),
    }
}

/// The names of a set for a reason: `a, b or c`.
pub(super) fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
