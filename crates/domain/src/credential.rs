//! API keys, their roles, and the keys that sign access tokens.
//!
//! A key's secret is shown once, when it is issued; only its SHA-256 digest is stored. The
//! secrets carry 256 random bits, so a fast digest is enough: there is nothing to guess.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::id::uuid_id;
use crate::merchant::MerchantId;
use crate::{DisplayName, FieldError, Violation};

uuid_id!(
    /// The id of an API key (not its secret).
    ApiKeyId
);

/// What a merchant's key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads the merchant's data.
    Readonly,
    /// Reads and writes the merchant's data.
    Client,
    /// Also manages the merchant's keys, interaction points and property definitions.
    Admin,
}

impl Role {
    pub const NAMES: &'static [&'static str] = &["readonly", "client", "admin"];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Readonly => "readonly",
            Role::Client => "client",
            Role::Admin => "admin",
        }
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        match value {
            "readonly" => Ok(Role::Readonly),
            "client" => Ok(Role::Client),
            "admin" => Ok(Role::Admin),
            _ => Err(FieldError::new(field, Violation::NotOneOf { allowed: Self::NAMES })),
        }
    }

    /// Whether this role includes everything `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    /// The operator's key: creates and lists merchants, reaches no merchant's data.
    Platform,
    /// A merchant's key with its role.
    Merchant { merchant: MerchantId, role: Role },
}

/// The secret of an API key: `clt_` and 43 characters of URL-safe base64 (256 bits).
/// Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    pub const PREFIX: &'static str = "clt_";
    const RANDOM_CHARS: usize = 43;

    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        ApiKeySecret(format!("{}{}", Self::PREFIX, URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Recognises a presented key by its shape, so malformed ones are refused without a
    /// lookup. `None` means it cannot be a Clientele key.
    pub fn recognise(value: &str) -> Option<Self> {
        let rest = value.strip_prefix(Self::PREFIX)?;
        let well_formed = rest.len() == Self::RANDOM_CHARS
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        well_formed.then(|| ApiKeySecret(value.to_owned()))
    }

    /// The secret itself, to show once to whoever asked for the key.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> KeyDigest {
        // Every request with a key computes this, so the hex is written into a buffer of its
        // final size rather than collected a character at a time.
        // (It cannot fail: 32 bytes are 64 hex digits. Were it to, the slow way is still right.)
        let digest = Sha256::digest(self.0.as_bytes());
        let mut buffer = [0u8; 64];
        let text = hex::encode_to_slice(digest, &mut buffer).ok().and_then(|()| std::str::from_utf8(&buffer).ok());
        KeyDigest(text.map_or_else(|| hex::encode(digest), str::to_owned))
    }

    /// The first characters, kept in clear so a person can tell their keys apart.
    pub fn display_prefix(&self) -> String {
        self.0.chars().take(Self::PREFIX.len() + 6).collect()
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(..)")
    }
}

/// The hex SHA-256 digest of a key's secret: all that is stored of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyDigest(String);

impl KeyDigest {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn from_stored(value: String) -> Self {
        KeyDigest(value)
    }
}

/// An API key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub owner: KeyOwner,
    pub name: Option<DisplayName>,
    pub prefix: String,
    pub digest: KeyDigest,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiKey {
    /// A new key record for `secret`.
    pub fn new(owner: KeyOwner, name: Option<DisplayName>, secret: &ApiKeySecret, now: OffsetDateTime) -> Self {
        ApiKey {
            id: ApiKeyId::generate(),
            owner,
            name,
            prefix: secret.display_prefix(),
            digest: secret.digest(),
            created_at: now,
            revoked_at: None,
        }
    }

    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A key that signs and verifies access tokens (HMAC-SHA-256). It lives in the database so
/// every server process on one database accepts every other's tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The token header's `kid`.
    pub kid: String,
    pub secret: Vec<u8>,
    pub created_at: OffsetDateTime,
}

impl SigningKey {
    /// A new random 256-bit signing key.
    pub fn generate(now: OffsetDateTime) -> Self {
        let mut secret = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        SigningKey { kid: uuid::Uuid::now_v7().simple().to_string(), secret, created_at: now }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// A signing key as the database keeps it: `stored` is its secret sealed under the master
/// key (the service's `secrets` module describes the format) or, in a row written before
/// secrets were sealed, the plain secret, which the service seals on start.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    /// The token header's `kid`.
    pub kid: String,
    pub stored: Vec<u8>,
    pub created_at: OffsetDateTime,
}

impl fmt::Debug for StoredSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_recognised_and_unique() {
        let a = ApiKeySecret::generate();
        let b = ApiKeySecret::generate();
        assert_ne!(a, b);
        assert!(ApiKeySecret::recognise(a.expose()).is_some());
        assert_eq!(a.expose().len(), 47);
    }

    #[test]
    fn strings_of_another_shape_are_not_keys() {
        assert!(ApiKeySecret::recognise("clt_short").is_none());
        assert!(ApiKeySecret::recognise(&format!("xyz_{}", "a".repeat(43))).is_none());
        assert!(ApiKeySecret::recognise(&format!("clt_{}!", "a".repeat(42))).is_none());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let secret = ApiKeySecret::generate();
        assert!(!format!("{secret:?}").contains(secret.expose()));
        let signing = SigningKey::generate(OffsetDateTime::UNIX_EPOCH);
        assert!(!format!("{signing:?}").contains(&hex::encode(&signing.secret)));
    }

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(Role::Admin.allows(Role::Client));
        assert!(Role::Client.allows(Role::Readonly));
        assert!(!Role::Readonly.allows(Role::Client));
        assert!(!Role::Client.allows(Role::Admin));
    }

    #[test]
    fn the_digest_is_the_lowercase_hex_sha256_of_the_secret() {
        // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
        let secret = ApiKeySecret("abc".to_owned());
        assert_eq!(secret.digest().as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn the_digest_is_stable_and_does_not_contain_the_secret() {
        let secret = ApiKeySecret::generate();
        assert_eq!(secret.digest(), secret.digest());
        assert!(!secret.digest().as_str().contains(&secret.expose()[4..]));
    }
}
