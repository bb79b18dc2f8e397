//! Communication records as evidence (issue 12).
//!
//! - [`chain`]: every timeline entry's canonical bytes and the per-conversation hash chain the store writes as
//!   it inserts each entry (`digest_n = SHA-256(digest_{n-1} ‖ SHA-256(JCS(entry)))`).
//! - [`keys`]: the Ed25519 keys that sign chain heads and exports.
//! - [`export`]: the signed export document (`lifebuoy-records/1`), what `GET /api/v1/records/export` answers.
//! - [`verify`]: its offline verification, naming the first entry altered, removed, inserted or reordered.
//! - [`html`] and [`pdf`]: its readable forms in the export's language (zh-Hans, zh-Hant, en), with the
//!   digests and key ids a reader needs to verify the JSON; [`font`] finds the CJK font the PDF is set in.
//!
//! Canonical bytes are RFC 8785 (JCS, written by `jcs`), so that a verifier in any language (the help center's page does it in
//! the browser with WebCrypto) computes the same digests.

pub mod chain;
pub mod export;
pub mod font;
pub mod html;
mod jcs;
pub mod keys;
pub mod pdf;
mod readable;
pub mod verify;
mod words;

pub use chain::{AttachmentRef, Content, GENESIS, digest, leaf, leaf_of};
pub use export::{ConversationRecord, CustomerRecord, EntryBody, EntryRecord, Export, FORMAT, Seal};
pub use font::{FontSource, RenderError};
pub use html::html;
pub use keys::{PublicKey, SigningKey};
pub use pdf::pdf;
pub use verify::{Tamper, Verified, verify, verify_json};
