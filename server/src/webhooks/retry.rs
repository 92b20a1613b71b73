//! When to try a failed delivery again: exponential backoff with full
//! jitter (a random delay between 0 and `base · 2^(attempt-1)`, at most an
//! hour), for the retry window from the delivery's first attempt; past it
//! the delivery fails and its endpoint is marked failing.

use std::time::Duration;

use time::OffsetDateTime;

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    At(OffsetDateTime),
    GiveUp,
}

/// After `attempts` failed attempts (this one included) of a delivery
/// created at `created`, at `now`; `jitter` is a random fraction in 0..1.
pub fn next(
    attempts: u32,
    created: OffsetDateTime,
    now: OffsetDateTime,
    base: Duration,
    window: Duration,
    jitter: f64,
) -> Next {
    if now - created >= window {
        return Next::GiveUp;
    }
    let ceiling = base
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(30))
        .min(MAX_DELAY);
    let delay = ceiling.mul_f64(jitter.clamp(0.0, 1.0));
    Next::At(now + delay)
}

/// A random fraction in 0..1.
pub fn jitter() -> f64 {
    let bits = getrandom::u64().unwrap_or(u64::MAX / 2) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(10);
    const DAY: Duration = Duration::from_secs(24 * 3600);

    #[test]
    fn delays_double_up_to_an_hour_then_the_window_ends() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(next(1, t0, t0, BASE, DAY, 1.0), Next::At(t0 + BASE));
        assert_eq!(
            next(3, t0, t0, BASE, DAY, 1.0),
            Next::At(t0 + Duration::from_secs(40))
        );
        assert_eq!(next(3, t0, t0, BASE, DAY, 0.0), Next::At(t0));
        assert_eq!(next(40, t0, t0, BASE, DAY, 1.0), Next::At(t0 + MAX_DELAY));
        assert_eq!(next(2, t0, t0 + DAY, BASE, DAY, 0.5), Next::GiveUp);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
