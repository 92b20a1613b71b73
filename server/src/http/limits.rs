//! Rate limits (GCRA, from governor), keyed per client address, per user
//! and per API token, and the per-account sign-in delays, as docs/API.md sets out. A
//! limit of 0 turns it off.

use std::{net::IpAddr, num::NonZeroU32};

use desk_config::LimitSettings;
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use uuid::Uuid;
use warp::http::{HeaderMap, HeaderName, HeaderValue};

use crate::{auth::delays::LoginDelays, http::error::ApiError};

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Who a general API request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    User(Uuid),
    Anonymous(IpAddr),
}

/// The limit that applied to a request, for the `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    pub limit: u32,
    pub remaining: u32,
}

impl RateInfo {
    /// Sets the `RateLimit-*` headers (parsed once, not per answer).
    pub fn set_headers(self, headers: &mut HeaderMap) {
        const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
        const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
        headers.insert(LIMIT, HeaderValue::from(self.limit));
        headers.insert(REMAINING, HeaderValue::from(self.remaining));
    }
}

#[derive(Debug)]
struct Limiter<K: std::hash::Hash + Eq + Clone> {
    per_minute: u32,
    keyed: Keyed<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    fn new(per_minute: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_minute)?;
        Some(Limiter {
            per_minute,
            keyed: RateLimiter::keyed(Quota::per_minute(rate)).with_middleware(),
        })
    }

    fn check(&self, key: &K) -> Result<RateInfo, ApiError> {
        match self.keyed.check_key(key) {
            Ok(snapshot) => Ok(RateInfo {
                limit: self.per_minute,
                remaining: snapshot.remaining_burst_capacity(),
            }),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    retry_after_s: wait.as_secs().max(1),
                    limit: self.per_minute,
                })
            }
        }
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &Option<Limiter<K>>,
    key: &K,
) -> Result<Option<RateInfo>, ApiError> {
    limiter.as_ref().map(|l| l.check(key)).transpose()
}

#[derive(Debug)]
pub struct Limits {
    login_by_addr: Option<Limiter<IpAddr>>,
    /// Per account, sign-ins are slowed, not refused.
    pub login_delays: LoginDelays,
    embed: Option<Limiter<IpAddr>>,
    api: Option<Limiter<Caller>>,
    /// Per API token.
    token: Option<Limiter<Uuid>>,
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Self {
        Limits {
            login_by_addr: Limiter::new(settings.login_per_minute),
            login_delays: LoginDelays::new(settings.login_per_minute),
            embed: Limiter::new(settings.embed_per_minute),
            api: Limiter::new(settings.api_per_minute),
            token: Limiter::new(settings.token_per_minute),
        }
    }

    /// Login, token and register, per client address.
    pub fn check_login(&self, addr: IpAddr) -> Result<Option<RateInfo>, ApiError> {
        check(&self.login_by_addr, &addr)
    }

    pub fn check_embed(&self, addr: IpAddr) -> Result<Option<RateInfo>, ApiError> {
        check(&self.embed, &addr)
    }

    pub fn check_api(&self, caller: Caller) -> Result<Option<RateInfo>, ApiError> {
        check(&self.api, &caller)
    }

    /// A request through the API token `id`.
    pub fn check_token(&self, id: Uuid) -> Result<Option<RateInfo>, ApiError> {
        check(&self.token, &id)
    }

    /// Forgets keys whose limit has fully recovered, so memory tracks recent
    /// callers rather than every caller ever seen.
    pub fn forget_idle(&self) {
        if let Some(l) = &self.login_by_addr {
            l.keyed.retain_recent();
        }
        self.login_delays.forget_idle();
        if let Some(l) = &self.embed {
            l.keyed.retain_recent();
        }
        if let Some(l) = &self.api {
            l.keyed.retain_recent();
        }
        if let Some(l) = &self.token {
            l.keyed.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let limits = Limits::new(&LimitSettings {
            login_per_minute: 3,
            ..LimitSettings::unlimited()
        });
        let addr: IpAddr = [127, 0, 0, 1].into();
        let remaining: Vec<u32> = (0..3)
            .map(|_| limits.check_login(addr).unwrap().unwrap().remaining)
            .collect();
        assert_eq!(remaining, vec![2, 1, 0]);
        match limits.check_login(addr) {
            Err(ApiError::RateLimited {
                retry_after_s,
                limit,
            }) => {
                assert_eq!(limit, 3);
                assert!((1..=20).contains(&retry_after_s), "{retry_after_s}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let other: IpAddr = [127, 0, 0, 2].into();
        assert!(limits.check_login(other).is_ok(), "keys are independent");
        assert!(limits.check_embed(addr).unwrap().is_none(), "0 disables");
    }
}
