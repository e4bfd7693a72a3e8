//! Standard Webhooks v1 signatures: HMAC-SHA256 of `id.timestamp.body` under the endpoint's
//! secret, in base64, as `v1,<signature>`; one per active secret, space-separated, so a
//! receiver accepts deliveries across a secret's rotation.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use sha2::Sha256;

/// The prefix of a secret as it is shown to people.
const PREFIX: &str = "whsec_";
/// The bytes of a new secret: 256 bits (the specification asks for at least 192).
const LEN: usize = 32;

/// An endpoint's signing secret. Never printed: its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = vec![0; LEN];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        WebhookSecret(bytes)
    }

    /// The secret's bytes, to seal for storage.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// A secret from its bytes (opened from storage).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        WebhookSecret(bytes)
    }

    /// `whsec_` and the secret in base64: how it is shown, once, and how the Standard
    /// Webhooks libraries take it.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `v1` signature of a delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        // HMAC accepts a key of any length; the error case cannot happen.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else { return String::new() };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header of a delivery: a signature per secret, space-separated.
pub fn signature_header(secrets: &[WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|secret| secret.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries: this secret, id, timestamp
    /// and body sign to this signature.
    #[test]
    fn signs_as_the_reference_libraries_do() {
        let secret = WebhookSecret(STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_header_signs_with_every_secret_and_the_shown_secret_reads_as_whsec() {
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        assert_ne!(a, b);
        let header = signature_header(&[a.clone(), b.clone()], "id", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, [a.sign("id", 1, b"{}"), b.sign("id", 1, b"{}")]);
        assert!(a.reveal().starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&a.reveal()["whsec_".len()..]).unwrap(), a.bytes());
        assert!(!format!("{a:?}").contains(&a.reveal()[6..]));
    }
}
