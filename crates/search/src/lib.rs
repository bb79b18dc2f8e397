//! # lifebuoy-search
//!
//! The search engine of Lifebuoy: Chinese (Simplified and Traditional) and
//! English text analysis, the knowledge-base index with highlighted search,
//! query-time synonyms, typo tolerance, and an answer engine that returns the
//! passage of an article answering a customer's question, or nothing when it
//! is not confident.
//!
//! * [`fold`] normalises text (Traditional→Simplified, variants, width, case).
//! * [`register`] installs the `lb_text` and `lb_bigram` analysers on any
//!   tantivy index, so tickets and chat search analyse text the same way.
//! * [`KbIndex`] indexes [`ArticleDoc`]s, [`KbIndex::search`]es them and
//!   [`KbIndex::answer`]s questions.
//! * [`TicketIndex`] indexes [`TicketDoc`]s for the agents' queue search,
//!   with the same analysers and synonyms.
//! * [`kbfiles`] reads and writes the Markdown article files; [`eval`]
//!   measures the answer engine on a question set.
//!
//! The crate does no I/O besides the index directory and the files that
//! [`kbfiles`] and [`eval`] are explicitly asked to read or write.

#![warn(missing_docs)]

pub mod analysis;
mod answer;
pub mod bench;
mod error;
pub mod eval;
mod fold;
mod highlight;
mod index;
pub mod kbfiles;
pub mod markdown;
mod synonyms;
mod tickets;

pub use analysis::{
    ANALYSER_VERSION, BIGRAM_ANALYZER, TEXT_ANALYZER, bigram_analyzer, bigram_tokens, register, text_analyzer, tokens,
};
pub use answer::{Answer, Audience, MAX_ANSWERS, MAX_PASSAGE_CHARS, MIN_CONFIDENCE};
pub use error::{Result, SearchError};
pub use fold::{Folded, detect_lang, fold, fold_with_offsets, is_cjk};
pub use highlight::escape_html;
pub use index::{ArticleDoc, Hit, KB_INDEX_VERSION, KbIndex, LANGS, STATUSES, SearchOpts, Weights};
pub use synonyms::{DEFAULT_EXCHANGE_SYNONYMS, Expansion, Synonyms, typo_distance};
pub use tickets::{
    TICKET_INDEX_VERSION, TICKET_WRITER_HEAP, TicketDoc, TicketHits, TicketIndex, TicketMessage, TicketOrder,
    TicketQuery, TicketScope,
};
