//! What the readable records say, in the export's language, before any layout: the HTML and the PDF are two
//! renderings of this, so they cannot drift apart in content.

use crate::chain::Content;
use crate::export::{ConversationRecord, EntryBody, EntryRecord, Export};
use crate::words::{Lang, utc};

/// The whole document.
pub struct Readable {
    pub lang: Lang,
    pub title: String,
    /// Label and value: the customer, when and by whom it was exported, the issuer.
    pub meta: Vec<(String, String)>,
    pub conversations: Vec<ReadableConversation>,
    pub verification: ReadableVerification,
}

pub struct ReadableConversation {
    /// `案件编号 T-2024-000123 · 提币未到账`.
    pub heading: String,
    pub fields: Vec<(String, String)>,
    /// `共 8 条记录`.
    pub count: String,
    pub entries: Vec<ReadableEntry>,
}

/// How an entry is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A message: `text` is the body as written.
    Message,
    /// An event: `text` is a sentence.
    Event,
    /// Withheld: `text` is a one-line note.
    Withheld,
}

pub struct ReadableEntry {
    pub seq: i64,
    pub time: String,
    pub who: String,
    /// Who wrote it is the customer (set apart in the layout).
    pub by_customer: bool,
    pub kind: EntryKind,
    pub text: String,
    pub attachments: Vec<ReadableAttachment>,
}

pub struct ReadableAttachment {
    pub filename: String,
    pub size: String,
    pub sha256: String,
}

pub struct ReadableVerification {
    pub heading: String,
    pub intro: String,
    /// Column headings of [`ReadableVerification::seals`].
    pub columns: [String; 5],
    /// Per conversation: case number, signed-up-to entry, head digest, key id, signed at.
    pub seals: Vec<[String; 5]>,
    /// `整份文件的签名密钥编号：…`.
    pub document_key: String,
    pub how: Vec<String>,
}

impl Readable {
    /// The readable form of `export`, in its language.
    pub fn of(export: &Export) -> Readable {
        let lang = Lang::from_tag(&export.lang);
        let w = lang.words();
        let c = &export.customer;
        let mut meta = Vec::new();
        if let Some(name) = &c.name {
            meta.push((w.name.to_string(), name.clone()));
        }
        if let Some(uid) = &c.external_id {
            meta.push((w.uid.to_string(), uid.clone()));
        }
        if let Some(email) = &c.email {
            meta.push((w.email.to_string(), email.clone()));
        }
        meta.push((w.exported_at.to_string(), utc(export.exported_at)));
        meta.push((w.exported_by.to_string(), lang.exported_by(&export.exported_by)));
        meta.push((w.issuer.to_string(), export.issuer.clone()));
        Readable {
            lang,
            title: w.title.to_string(),
            meta,
            conversations: export.conversations.iter().map(|c| conversation(lang, c)).collect(),
            verification: verification(lang, export),
        }
    }
}

fn case_label(lang: Lang, c: &ConversationRecord) -> String {
    c.case_number.clone().unwrap_or_else(|| lang.words().no_case_number.to_string())
}

fn conversation(lang: Lang, c: &ConversationRecord) -> ReadableConversation {
    let w = lang.words();
    let case = case_label(lang, c);
    ReadableConversation {
        heading: format!("{} {case}", w.case_number),
        fields: vec![
            (w.subject.to_string(), c.subject.clone()),
            (w.channel.to_string(), lang.channel(&c.channel)),
            (w.status.to_string(), lang.status(&c.status)),
            (w.created_at.to_string(), utc(c.created_at)),
            (w.updated_at.to_string(), utc(c.updated_at)),
        ],
        count: lang.entry_count(c.entries.len()),
        entries: c.entries.iter().map(|e| entry(lang, e)).collect(),
    }
}

fn entry(lang: Lang, e: &EntryRecord) -> ReadableEntry {
    let base = |who: String, by_customer: bool, kind: EntryKind, text: String| ReadableEntry {
        seq: e.seq,
        time: utc(e.at),
        who,
        by_customer,
        kind,
        text,
        attachments: Vec::new(),
    };
    match &e.body {
        EntryBody::Withheld { withheld, .. } => {
            base(String::new(), false, EntryKind::Withheld, lang.withheld(withheld))
        }
        EntryBody::Shown { content, author_name, agent_no } => {
            let (name, no) = (author_name.as_deref(), agent_no.as_deref());
            match content {
                Content::Message { author_kind, body, attachments, .. } => {
                    let mut r = base(
                        lang.who(author_kind, name, no),
                        author_kind == "customer",
                        EntryKind::Message,
                        body.clone(),
                    );
                    r.attachments = attachments
                        .iter()
                        .map(|a| ReadableAttachment {
                            filename: a.filename.clone(),
                            size: lang.size(a.size),
                            sha256: a.sha256.clone(),
                        })
                        .collect();
                    r
                }
                Content::Event { actor_kind, kind, data, .. } => {
                    base(lang.who(actor_kind, name, no), false, EntryKind::Event, lang.event(kind, data))
                }
            }
        }
    }
}

fn verification(lang: Lang, export: &Export) -> ReadableVerification {
    let w = lang.words();
    let seals = export
        .conversations
        .iter()
        .filter_map(|c| {
            let s = c.seals.last()?;
            Some([case_label(lang, c), lang.signed_range(s.seq), s.digest.clone(), s.key_id.clone(), utc(s.signed_at)])
        })
        .collect();
    let key = export.signature.as_ref().map_or("—", |s| s.key_id.as_str());
    ReadableVerification {
        heading: w.verification.to_string(),
        intro: lang.verification_intro(&export.issuer),
        columns: [w.case_number, w.head, w.head_digest, w.key_id, w.signed_at].map(str::to_string),
        seals,
        document_key: format!("{}{}{key}", w.document_key, if lang.is_cjk() { "：" } else { ": " }),
        how: lang.verification_how(&export.issuer),
    }
}
