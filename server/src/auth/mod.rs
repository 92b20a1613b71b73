//! Authentication: who is calling, and proving it.
//!
//! - [`password`]: argon2id hashing and verification on the blocking pool,
//!   with equal cost for unknown accounts.
//! - [`jwt`]: short-lived access tokens (HS256).
//! - [`on_behalf`]: the customer a bot acts for, made when new.
//! - [`tokens`]: opaque random tokens (refresh, embed) and their digests.
//! - [`secret`]: the signing secret — configured, or created once (0600).
//! - [`accounts`]: validating and hashing new accounts.
//! - [`api_tokens`]: API tokens for bots and scripts: made, admitted, scoped.
//! - [`session`]: login, refresh with rotation and reuse detection, logout;
//!   [`delays`]: failed sign-ins slow an account down, never lock it.

pub mod accounts;
pub mod api_tokens;
pub mod delays;
pub mod jwt;
pub mod on_behalf;
pub mod password;
pub mod secret;
pub mod session;
pub mod tokens;
