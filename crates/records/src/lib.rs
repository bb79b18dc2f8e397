//! Communication records as evidence (issue 12).
//!
//! - [`chain`]: every timeline entry's canonical bytes and the per-conversation hash chain the store writes as
//!   it inserts each entry (`digest_n = SHA-256(digest_{n-1} ‖ SHA-256(JCS(entry)))`).
//! - [`keys`]: the Ed25519 keys that sign chain heads and exports.
//! - [`export`]: the signed export document (`lifebuoy-records/1`), what `GET /api/v1/records/export` answers.
//!
//! Canonical bytes are RFC 8785 (JCS), so that a verifier in any language (the help center's page does it in
//! the browser with WebCrypto) computes the same digests.

pub mod chain;
pub mod export;
pub mod keys;
pub mod verify;

pub use chain::{AttachmentRef, Content, GENESIS, digest, leaf};
pub use export::{ConversationRecord, CustomerRecord, EntryBody, EntryRecord, Export, FORMAT, Seal};
pub use keys::{PublicKey, SigningKey};
pub use verify::{Tamper, Verified, verify};
