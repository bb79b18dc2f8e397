//! The Ed25519 keys that sign chain heads and exports. A node keeps its private key in its data directory; the
//! public keys of every key ever used are published (`/.well-known/lifebuoy-signing-keys`), retired ones too,
//! so that an export signed before a rotation still verifies.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A published public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    /// The first 16 hex digits of the SHA-256 of the key's 32 bytes.
    pub id: String,
    /// Always `Ed25519`.
    pub alg: String,
    /// The key's 32 bytes, base64url without padding.
    pub public_key: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
}

/// Why a signature did not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the key {0} is not one of the keys given")]
    UnknownKey(String),
    #[error("the key {0} is not a valid Ed25519 public key")]
    BadKey(String),
    #[error("the signature is not valid base64url of 64 bytes")]
    Malformed,
    #[error("the signature does not match what was signed")]
    Mismatch,
    #[error("the key given as {0} is another key (its id is not the hash of its bytes)")]
    WrongId(String),
}

impl PublicKey {
    /// Whether the key's id is the one its bytes give. An id that is not is a key posing as another: the reader
    /// compares ids with the issuer's published keys, so a verifier must not take a key by an id it does not
    /// have.
    pub fn id_matches(&self) -> bool {
        B64.decode(&self.public_key).is_ok_and(|b| key_id(&b) == self.id)
    }

    /// Checks `signature` (base64url) over `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<(), SignatureError> {
        self.prepare()?.verify(message, signature)
    }

    /// The key decoded once, to check many signatures with (decoding a key's point costs about as much as a
    /// check).
    pub fn prepare(&self) -> Result<PreparedKey, SignatureError> {
        let bytes: [u8; 32] = B64
            .decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SignatureError::BadKey(self.id.clone()))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PreparedKey)
            .map_err(|_| SignatureError::BadKey(self.id.clone()))
    }

    /// Parses a key given on a command line: base64url (or standard base64) of its 32 bytes, or hex.
    pub fn parse(text: &str, created_at: i64) -> Option<PublicKey> {
        let t = text.trim();
        let bytes = B64
            .decode(t.trim_end_matches('='))
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(t).ok())
            .or_else(|| hex::decode(t).ok())
            .filter(|b| b.len() == 32)?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes.clone().try_into().ok()?).ok()?;
        Some(PublicKey {
            id: key_id(&bytes),
            alg: "Ed25519".into(),
            public_key: B64.encode(&bytes),
            created_at,
            retired_at: None,
        })
    }
}

/// A public key ready to check signatures with ([`PublicKey::prepare`]).
#[derive(Debug, Clone)]
pub struct PreparedKey(ed25519_dalek::VerifyingKey);

impl PreparedKey {
    /// Checks `signature` (base64url) over `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<(), SignatureError> {
        // Room for the decoder's estimate of 86 characters; exactly 64 bytes must come out.
        let mut buf = [0u8; 72];
        let sig: [u8; 64] = match B64.decode_slice(signature, &mut buf) {
            Ok(64) => buf[..64].try_into().map_err(|_| SignatureError::Malformed)?,
            _ => return Err(SignatureError::Malformed),
        };
        self.0.verify(message, &ed25519_dalek::Signature::from_bytes(&sig)).map_err(|_| SignatureError::Mismatch)
    }
}

fn key_id(public: &[u8]) -> String {
    hex::encode(&Sha256::digest(public)[..8])
}

/// A private signing key.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.id())
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&rand::random::<[u8; 32]>()))
    }

    /// The key as stored in a key file: its 32 secret bytes, hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// A key read back from [`SigningKey::to_hex`].
    pub fn from_hex(text: &str) -> Option<SigningKey> {
        let b: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
        Some(SigningKey(ed25519_dalek::SigningKey::from_bytes(&b)))
    }

    pub fn id(&self) -> String {
        key_id(self.0.verifying_key().as_bytes())
    }

    /// The public half, to publish.
    pub fn public(&self, created_at: i64) -> PublicKey {
        PublicKey {
            id: self.id(),
            alg: "Ed25519".into(),
            public_key: B64.encode(self.0.verifying_key().as_bytes()),
            created_at,
            retired_at: None,
        }
    }

    /// Signs `message`; base64url of the 64-byte signature.
    pub fn sign(&self, message: &[u8]) -> String {
        B64.encode(self.0.sign(message).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_checks_with_its_key_only_and_over_its_message_only() {
        let k = SigningKey::generate();
        let p = k.public(0);
        let s = k.sign(b"head");
        assert_eq!(p.verify(b"head", &s), Ok(()));
        assert_eq!(p.verify(b"heae", &s), Err(SignatureError::Mismatch));
        let other = SigningKey::generate().public(0);
        assert_eq!(other.verify(b"head", &s), Err(SignatureError::Mismatch));
        assert_eq!(p.verify(b"head", "not base64!"), Err(SignatureError::Malformed));
        let back = SigningKey::from_hex(&k.to_hex()).expect("round trip");
        assert_eq!(back.id(), k.id());
        assert_eq!(PublicKey::parse(&p.public_key, 0).map(|q| q.id), Some(p.id.clone()));
    }
}
