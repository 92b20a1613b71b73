//! The benches' arithmetic.

use std::time::Duration;

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `p`th percentile (0–100) of `samples`, which it sorts.
pub fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

/// p50 and p99 of `samples`, which it sorts.
pub fn p50_p99(samples: &mut [Duration]) -> (Duration, Duration) {
    (percentile(samples, 50), percentile(samples, 99))
}
