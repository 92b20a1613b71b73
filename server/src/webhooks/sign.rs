//! Signing secrets and the `Desk-Signature` header: `t=<unix>,v1=<hex
//! HMAC-SHA256(secret, "<t>.<body>")>`, as Stripe signs its webhooks. The
//! time is inside what is signed, so a receiver that rejects old `t` stops
//! replays.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What every secret starts with, so one found in a log or a file says
/// what it is.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: 256 bits from the OS CSPRNG.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The `Desk-Signature` value for `body` sent at `unix` seconds.
pub fn signature(secret: &str, unix: i64, body: &[u8]) -> String {
    format!("t={unix},v1={}", hex(&mac(secret, unix, body)))
}

fn mac(secret: &str, unix: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_time_and_the_body() {
        // Computed independently, with Python's hmac module:
        // hmac.new(b"whsec_test", b"1700000000.{}", "sha256").hexdigest()
        assert_eq!(
            signature("whsec_test", 1_700_000_000, b"{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }

    #[test]
    fn secrets_are_prefixed_and_distinct() {
        let a = new_secret().unwrap();
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(a.len(), SECRET_PREFIX.len() + 43);
        assert_ne!(a, new_secret().unwrap());
    }
}
