//! Secrets at rest: the token signing keys are stored sealed under a master key that the
//! database never sees (it comes from the environment or a key file, see the server).
//!
//! A sealed secret is `0x01 ‖ nonce (24 bytes) ‖ XChaCha20-Poly1305 ciphertext and tag`,
//! with the key's `kid` as associated data, so a sealed secret cannot be moved to another
//! row. Rows written before sealing hold the bare 32-byte secret; a sealed value is never
//! 32 bytes long, so the two cannot be confused, and [`Tokens`](crate::tokens) reseals the
//! plain ones on start.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, AeadCore as _, KeyInit as _, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret as _, SecretBox, SecretString};

use clientele_domain::credential::{SigningKey, StoredSigningKey};

/// The first byte of a sealed secret: the format's version.
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 24;
/// The length of every secret written before secrets were sealed.
const PLAIN_LEN: usize = 32;
const MASTER_KEY_LEN: usize = 32;
const CONTEXT: &[u8] = b"clientele signing key v1:";

/// Why a master key or a stored secret cannot be used. Never holds secret material.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "the master key is not 32 bytes in base64 or hex \
         (make one with `openssl rand -base64 32`)"
    )]
    MalformedMasterKey,
    #[error(
        "the master key does not open signing key {kid}: it is not the key this database's \
         signing keys were sealed with (check CLIENTELE_MASTER_KEY or the key file)"
    )]
    WrongMasterKey { kid: String },
    #[error("signing key {kid} is stored in a format this version does not know")]
    UnknownFormat { kid: String },
}

/// The key that seals the token signing keys. Kept in a `secrecy` box: never printed,
/// zeroed when dropped.
pub struct MasterKey(SecretBox<[u8; MASTER_KEY_LEN]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        MasterKey(SecretBox::new(Box::new(*self.0.expose_secret())))
    }
}

/// How a stored secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sealing {
    /// Written before secrets were sealed: the bare secret.
    Plain,
    Sealed,
}

impl MasterKey {
    /// A new random master key.
    pub fn generate() -> Self {
        MasterKey(SecretBox::new(Box::new(XChaCha20Poly1305::generate_key(&mut OsRng).into())))
    }

    /// Reads a master key written as standard base64 (44 characters) or 64 hex digits;
    /// surrounding white space is ignored.
    pub fn parse(text: &str) -> Result<Self, SecretsError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * MASTER_KEY_LEN {
            hex::decode(text).map_err(|_| SecretsError::MalformedMasterKey)?
        } else {
            STANDARD.decode(text).map_err(|_| SecretsError::MalformedMasterKey)?
        };
        let key: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| SecretsError::MalformedMasterKey)?;
        Ok(MasterKey(SecretBox::new(Box::new(key))))
    }

    /// The key in standard base64, as [`MasterKey::parse`] reads it (for a key file).
    pub fn encode(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.expose_secret()))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.expose_secret().into())
    }

    /// Seals `key` for storage.
    pub fn seal(&self, key: &SigningKey) -> Result<StoredSigningKey, SecretsError> {
        let stored = self
            .seal_bytes(CONTEXT, &key.kid, &key.secret)
            .ok_or_else(|| SecretsError::UnknownFormat { kid: key.kid.clone() })?;
        Ok(StoredSigningKey { kid: key.kid.clone(), stored, created_at: key.created_at })
    }

    /// Seals `secret`, of the row `id` of the kind `context` names, so that it opens only
    /// as that row's: `0x01 ‖ nonce ‖ ciphertext and tag`.
    pub(crate) fn seal_bytes(&self, context: &[u8], id: &str, secret: &[u8]) -> Option<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = [context, id.as_bytes()].concat();
        let ciphertext = self.cipher().encrypt(&nonce, Payload { msg: secret, aad: &aad }).ok()?;
        let mut stored = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        stored.push(SEALED_V1);
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&ciphertext);
        Some(stored)
    }

    /// Opens what [`MasterKey::seal_bytes`] sealed for the same `context` and `id`; `None`
    /// when it is not such a value or this key did not seal it.
    pub(crate) fn open_bytes(&self, context: &[u8], id: &str, stored: &[u8]) -> Option<Vec<u8>> {
        let (&version, sealed) = stored.split_first()?;
        if version != SEALED_V1 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN)?;
        let aad = [context, id.as_bytes()].concat();
        self.cipher().decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad }).ok()
    }

    /// The key a stored row holds, sealed or (before resealing) plain.
    pub fn open(&self, stored: &StoredSigningKey) -> Result<SigningKey, SecretsError> {
        let kid = || stored.kid.clone();
        let secret = match sealing(stored).ok_or_else(|| SecretsError::UnknownFormat { kid: kid() })? {
            Sealing::Plain => stored.stored.clone(),
            Sealing::Sealed => self
                .open_bytes(CONTEXT, &stored.kid, &stored.stored)
                .ok_or_else(|| SecretsError::WrongMasterKey { kid: kid() })?,
        };
        Ok(SigningKey { kid: stored.kid.clone(), secret, created_at: stored.created_at })
    }
}

/// How `stored` keeps its secret; `None` for a format this version does not know.
pub(crate) fn sealing(stored: &StoredSigningKey) -> Option<Sealing> {
    match stored.stored.first() {
        _ if stored.stored.len() == PLAIN_LEN => Some(Sealing::Plain),
        Some(&SEALED_V1) if stored.stored.len() > 1 + NONCE_LEN => Some(Sealing::Sealed),
        _ => None,
    }
}

/// Whether `stored` holds a sealed secret (and so needs the master key that sealed it).
pub fn is_sealed(stored: &StoredSigningKey) -> bool {
    sealing(stored) == Some(Sealing::Sealed)
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;

    fn key() -> SigningKey {
        SigningKey::generate(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_sealed_key_opens_with_its_master_key_only() {
        let master = MasterKey::generate();
        let key = key();
        let sealed = master.seal(&key).unwrap();
        assert_eq!(sealed.stored.first(), Some(&SEALED_V1));
        assert!(!sealed.stored.windows(key.secret.len()).any(|w| w == key.secret.as_slice()));
        assert_eq!(sealing(&sealed), Some(Sealing::Sealed));
        assert_eq!(master.open(&sealed).unwrap(), key);
        let other = MasterKey::generate();
        assert!(matches!(other.open(&sealed), Err(SecretsError::WrongMasterKey { .. })));
    }

    #[test]
    fn a_sealed_secret_cannot_move_to_another_kid() {
        let master = MasterKey::generate();
        let sealed = master.seal(&key()).unwrap();
        let moved = StoredSigningKey { kid: "another".to_owned(), ..sealed };
        assert!(matches!(master.open(&moved), Err(SecretsError::WrongMasterKey { .. })));
    }

    #[test]
    fn a_plain_row_is_recognised_and_read_and_other_shapes_are_refused() {
        let master = MasterKey::generate();
        let key = key();
        let plain = StoredSigningKey { kid: key.kid.clone(), stored: key.secret.clone(), created_at: key.created_at };
        assert_eq!(sealing(&plain), Some(Sealing::Plain));
        assert_eq!(master.open(&plain).unwrap(), key);
        for stored in [vec![], vec![SEALED_V1; 10], vec![9; 73]] {
            let odd = StoredSigningKey { stored, ..plain.clone() };
            assert!(matches!(master.open(&odd), Err(SecretsError::UnknownFormat { .. })));
        }
    }

    #[test]
    fn master_keys_are_read_from_base64_or_hex_and_nothing_else() {
        let master = MasterKey::generate();
        let encoded = master.encode();
        let again = MasterKey::parse(&format!(" {}\n", encoded.expose_secret())).unwrap();
        let key = key();
        assert_eq!(again.open(&master.seal(&key).unwrap()).unwrap(), key);
        let hex = hex::encode(STANDARD.decode(encoded.expose_secret()).unwrap());
        assert_eq!(MasterKey::parse(&hex).unwrap().open(&master.seal(&key).unwrap()).unwrap(), key);
        for bad in ["", "short", &"A".repeat(43), &"z".repeat(64)] {
            assert!(matches!(MasterKey::parse(bad), Err(SecretsError::MalformedMasterKey)), "{bad}");
        }
        assert!(!format!("{master:?}").contains(encoded.expose_secret()));
    }
}
