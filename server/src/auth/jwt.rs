//! Access tokens: HS256 JWTs with `sub`, `role`, `iat`, `exp`, `jti`.
//!
//! `jti` is a UUIDv7, so it also says when the token was issued, to the
//! millisecond: `iat` is in whole seconds, too coarse to tell a token issued
//! just before a user's tokens were voided from one issued just after.
//!
//! Only HS256 is accepted (no `none`, no algorithm confusion), `exp` is
//! required and checked without leeway. Requests are authorized with the role
//! the store holds now; a token whose role is no longer the user's is refused.

use desk_sync::model::{Role, User};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::tokens;
use crate::{http::error::ApiError, memo::Memo, store::TokenHash};

/// Most verified tokens remembered; past it the memory starts over.
const REMEMBERED: usize = 10_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

impl Claims {
    /// When the token was issued: from `jti` to the millisecond, else (a
    /// token whose `jti` is not a UUIDv7) the start of its `iat` second.
    pub fn issued_at(&self) -> OffsetDateTime {
        let from_jti = self.jti.get_timestamp().and_then(|ts| {
            let (secs, nanos) = ts.to_unix();
            let nanos = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
            OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
        });
        from_jti
            .or_else(|| OffsetDateTime::from_unix_timestamp(self.iat).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// When the token expires.
    pub fn expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.exp).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_s: u64,
    /// Claims of tokens whose signature checked out, by the token's digest
    /// (never the token itself). A console sends the same token for its
    /// whole lifetime, and decoding and checking an HS256 token is a large
    /// share of a small request's CPU. Only tokens this server signed get
    /// in, so a flood of forged ones cannot fill it; `exp` is checked on
    /// every use.
    verified: Memo<TokenHash, Claims>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("ttl_s", &self.ttl_s)
            .finish_non_exhaustive()
    }
}

impl Keys {
    pub fn new(secret: &[u8], ttl_minutes: u32) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_s: u64::from(ttl_minutes) * 60,
            verified: Memo::new(REMEMBERED),
        }
    }

    /// Lifetime of the tokens this issues, in seconds.
    pub fn ttl_s(&self) -> u64 {
        self.ttl_s
    }

    pub fn issue(&self, user: &User) -> Result<String, ApiError> {
        // The id first: its time is the issue time, and `iat` must not be
        // a second later than it.
        let jti = Uuid::now_v7();
        let iat = jti.get_timestamp().map_or_else(
            || OffsetDateTime::now_utc().unix_timestamp(),
            |ts| ts.to_unix().0 as i64,
        );
        let claims = Claims {
            sub: user.id,
            role: user.role,
            iat,
            exp: iat + self.ttl_s as i64,
            jti,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let digest = tokens::digest(token);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if let Some(claims) = self.verified.get(&digest)
            && now < claims.exp
        {
            return Ok(claims);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| ApiError::Unauthorized("invalid or expired access token"))?;
        self.verified.keep(digest, claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: Uuid::now_v7(),
            email: "bob@example.com".into(),
            name: "Bob".into(),
            role: Role::Agent,
            active: true,
            created_at: OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn issued_tokens_verify_with_the_same_key_only() {
        let keys = Keys::new(&[7u8; 32], 15);
        let u = user();
        let token = keys.issue(&u).unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.role), (u.id, Role::Agent));
        assert_eq!(claims.exp - claims.iat, 900);
        assert!(Keys::new(&[8u8; 32], 15).verify(&token).is_err());
    }

    #[test]
    fn a_token_says_when_it_was_issued_to_the_millisecond() {
        let keys = Keys::new(&[7u8; 32], 15);
        let before = OffsetDateTime::now_utc();
        let claims = keys.verify(&keys.issue(&user()).unwrap()).unwrap();
        let after = OffsetDateTime::now_utc();
        let issued = claims.issued_at();
        assert!(issued <= after, "{issued} after {after}");
        assert!(
            before - issued < time::Duration::milliseconds(1),
            "{issued} a millisecond or more before {before}"
        );
        assert_eq!(issued.unix_timestamp(), claims.iat);
        // A `jti` without a time: the start of `iat`'s second.
        let v4 = Claims {
            jti: Uuid::new_v4(),
            ..claims
        };
        assert_eq!(
            v4.issued_at().unix_timestamp_nanos(),
            i128::from(v4.iat) * 1_000_000_000
        );
    }

    #[test]
    fn unsigned_and_expired_tokens_are_refused() {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let keys = Keys::new(&[7u8; 32], 15);
        let u = user();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let body = |exp: i64| {
            URL_SAFE_NO_PAD.encode(
                serde_json::json!({"sub": u.id, "role": "admin", "iat": now - 100, "exp": exp, "jti": Uuid::nil()})
                    .to_string(),
            )
        };
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            body(now + 600)
        );
        assert!(keys.verify(&none).is_err());
        assert!(keys.verify(&expired().1).is_err());
    }

    /// Claims that expired a second ago, and a token with them signed by
    /// the tests' key.
    fn expired() -> (Claims, String) {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: Uuid::now_v7(),
            role: Role::Agent,
            iat: now - 100,
            exp: now - 1,
            jti: Uuid::nil(),
        };
        let token = jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &EncodingKey::from_secret(&[7u8; 32]),
        )
        .unwrap();
        (claims, token)
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let keys = Keys::new(&[7u8; 32], 15);
        let (claims, token) = expired();
        // As if it had been verified while it was still valid.
        keys.verified.keep(tokens::digest(&token), claims);
        assert!(keys.verify(&token).is_err());
    }

    #[test]
    fn only_tokens_that_verify_are_remembered() {
        let keys = Keys::new(&[7u8; 32], 15);
        let token = Keys::new(&[8u8; 32], 15).issue(&user()).unwrap();
        assert!(keys.verify(&token).is_err());
        assert!(
            keys.verify(&token).is_err(),
            "refused again, not remembered"
        );
        assert!(keys.verified.is_empty());
        let good = keys.issue(&user()).unwrap();
        let first = keys.verify(&good).unwrap();
        assert_eq!(keys.verify(&good).unwrap().jti, first.jti);
        assert_eq!(keys.verified.len(), 1);
    }
}
