//! Failed sign-ins slow an account down instead of locking it: past a free
//! allowance per minute, each failure doubles the wait before the next
//! attempt on that account is checked, up to a cap. Someone guessing from
//! many addresses gains little, and the account's owner — who knows the
//! password — still gets in, a few seconds later at worst. (A hard block per
//! account let ten wrong passwords from ten addresses lock its owner out.)

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use crate::store::TokenHash;

/// The first wait past the allowance; each failure after it doubles it.
const FIRST: Duration = Duration::from_millis(250);
/// The longest wait.
const CAP: Duration = Duration::from_secs(8);
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct LoginDelays {
    /// Failures allowed per window before any wait; 0 turns delays off.
    allowance: u32,
    /// Recent failures by the email's digest (fixed-size keys whatever a
    /// client sends).
    failures: Mutex<HashMap<TokenHash, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl LoginDelays {
    pub fn new(allowance: u32) -> Self {
        LoginDelays {
            allowance,
            failures: Mutex::default(),
        }
    }

    /// How long to wait before checking an attempt on the account.
    pub fn delay(&self, account: &TokenHash) -> Duration {
        self.delay_at(account, Instant::now())
    }

    fn delay_at(&self, account: &TokenHash, now: Instant) -> Duration {
        let failures = self.lock();
        let Some(f) = failures.get(account) else {
            return Duration::ZERO;
        };
        if self.allowance == 0 || now.duration_since(f.last) >= WINDOW {
            return Duration::ZERO;
        }
        match f.count.checked_sub(self.allowance) {
            None => Duration::ZERO,
            Some(past) => FIRST.saturating_mul(1 << past.min(16)).min(CAP),
        }
    }

    pub fn failed(&self, account: TokenHash) {
        self.failed_at(account, Instant::now());
    }

    fn failed_at(&self, account: TokenHash, now: Instant) {
        let mut failures = self.lock();
        let f = failures.entry(account).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(f.last) >= WINDOW {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
    }

    /// A right password clears the account's failures.
    pub fn succeeded(&self, account: &TokenHash) {
        self.lock().remove(account);
    }

    /// Forgets failures past the window, so memory follows recent attempts.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.lock()
            .retain(|_, f| now.duration_since(f.last) < WINDOW);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenHash, Failures>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_allowance_double_the_wait_up_to_the_cap() {
        let delays = LoginDelays::new(3);
        let (account, other) = ([1; 32], [2; 32]);
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..9)
            .map(|_| {
                let wait = delays.delay_at(&account, t0);
                delays.failed_at(account, t0);
                wait
            })
            .collect();
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [0, 0, 0, 250, 500, 1000, 2000, 4000, 8000]);
        delays.failed_at(account, t0);
        assert_eq!(delays.delay_at(&account, t0), CAP);
        assert_eq!(delays.delay_at(&other, t0), Duration::ZERO, "per account");
        // A minute later, or after the right password, no wait.
        assert_eq!(delays.delay_at(&account, t0 + WINDOW), Duration::ZERO);
        delays.succeeded(&account);
        assert_eq!(delays.delay_at(&account, t0), Duration::ZERO);
        assert_eq!(LoginDelays::new(0).delay_at(&account, t0), Duration::ZERO);
    }
}
