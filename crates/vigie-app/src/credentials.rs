//! Secrets: passwords (argon2id), API tokens (random secrets kept only as BLAKE2b-256 hashes), constant-time
//! comparison. The journal never holds a secret, only these hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use blake2::{Blake2b, Digest};

type Blake2b256 = Blake2b<blake2::digest::consts::U32>;

/// Argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid parameters"))
}

/// The longest password taken (argon2 accepts more; a bound keeps hostile input cheap).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Hashes a password (argon2id, random salt) into its PHC string.
pub fn hash_password(password: &str) -> Result<String, String> {
    check_password(password)?;
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// What a password must be: 8 to 1,024 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 8 {
        return Err("a password has at least 8 characters".into());
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("a password has at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// Whether `password` matches a PHC hash. An empty or unreadable hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    PasswordHash::new(hash).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// A random secret of 32 bytes, URL-safe base64.
pub fn random_secret() -> String {
    let b = random_bytes::<32>();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Bytes from the operating system's random source.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).expect("the operating system's random source");
    b
}

/// BLAKE2b-256 of a text, hexadecimal.
pub fn digest_hex(s: &str) -> String {
    let d = Blake2b256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The prefix of every API token, so secret scanners and logs can recognise one.
pub const TOKEN_PREFIX: &str = "vigie_";

/// A new token's public id and secret: the caller is shown `vigie_<id>_<secret>` once; the journal keeps the hash.
pub fn new_token() -> (String, String) {
    let id: String = random_bytes::<6>().iter().map(|b| format!("{b:02x}")).collect();
    (id, random_secret())
}

/// Splits a presented token into (id, secret).
pub fn parse_token(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (id.len() == 12 && !secret.is_empty() && secret.len() <= 128).then_some((id, secret))
}

pub fn token_hash(secret: &str) -> String {
    digest_hex(secret)
}

/// Compares without stopping at the first difference.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horsE"));
        assert!(!verify_password("", "anything"), "no hash, no password login");
        assert_ne!(hash_password("correct horse").unwrap(), h, "salted");
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err(), "bounded");
    }

    #[test]
    fn tokens_parse_and_hash() {
        let (id, secret) = new_token();
        let shown = format!("{TOKEN_PREFIX}{id}_{secret}");
        assert_eq!(parse_token(&shown), Some((id.as_str(), secret.as_str())));
        assert_eq!(parse_token("vigie_short_x"), None);
        assert_eq!(parse_token("other"), None);
        assert_eq!(token_hash(&secret).len(), 64);
        assert_ne!(token_hash(&secret), token_hash("other"));
    }

    #[test]
    fn comparisons_see_every_byte_and_the_length() {
        assert!(constant_eq(b"abc", b"abc"));
        assert!(!constant_eq(b"abc", b"abd"));
        assert!(!constant_eq(b"abc", b"abcd"));
        assert!(!constant_eq(&[0; 256], &[]), "a length difference of 256 is still a difference");
    }
}
