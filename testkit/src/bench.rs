//! What the benches read from their surroundings: settings from the
//! environment, and a process's memory.

/// The environment variable `name` parsed, or `default` when it is unset or
/// does not parse.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A memory figure in kB from `/proc/<pid>/status` (`pid` is a number or
/// `self`; `field` e.g. `VmRSS`, now, or `VmHWM`, the peak); 0 when the
/// process or the field is gone.
pub fn status_kb(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
