//! Opaque bearer tokens: 256 bits from the OS CSPRNG, URL-safe, and their
//! SHA-256 digests (a fast hash is right for random, high-entropy secrets).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{
    http::error::ApiError,
    store::{EmbedToken, TokenHash},
};

pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

pub fn digest(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

pub fn new_embed_token() -> Result<EmbedToken, ApiError> {
    let token = random_token()?;
    Ok(EmbedToken {
        hash: digest(&token),
        token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_distinct() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits in unpadded base64");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }
}
