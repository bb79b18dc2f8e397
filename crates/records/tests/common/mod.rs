//! A realistic export built the way the store builds one: two conversations (a Simplified Chinese ticket about
//! a withdrawal, a Traditional Chinese chat about a frozen account), with agents' names and 工号, an event, an
//! internal note withheld, an attachment; every digest chained, every head sealed, the document signed.
#![allow(dead_code)] // Each test file uses its own part of it.

use lifebuoy_records::{
    AttachmentRef, Content, ConversationRecord, CustomerRecord, EntryBody, EntryRecord, Export, FORMAT, GENESIS, Seal,
    SigningKey, digest, leaf,
};
use sha2::{Digest, Sha256};

/// 2024-05-01 02:00:00 UTC.
pub const T0: i64 = 1_714_528_800_000;
pub const KEY_CREATED: i64 = 1_700_000_000_000;

pub const HANS_BODY: &str = "你好，我5月1日提币1000 USDT（TRC20），页面显示已完成，但钱包一直没有到账。";
pub const HANT_BODY: &str = "我的帳戶被凍結了，無法提幣，請問原因是什麼？";
pub const AGENT_NO: &str = "A1024";
pub const CASE_1: &str = "T-2024-000123";
pub const CASE_2: &str = "C-2024-000456";

/// One entry before it is chained: its time, what it says and who (name and 工号), and whether it is an
/// internal note (withheld from the export).
pub struct Spec {
    pub at: i64,
    pub content: Content,
    pub author_name: Option<String>,
    pub agent_no: Option<String>,
    pub withheld: bool,
}

pub fn customer(at: i64, body: &str) -> Spec {
    message(at, "customer", None, None, body)
}

pub fn agent(at: i64, name: &str, no: &str, body: &str) -> Spec {
    message(at, "agent", Some(name), Some(no), body)
}

pub fn message(at: i64, kind: &str, name: Option<&str>, no: Option<&str>, body: &str) -> Spec {
    Spec {
        at,
        content: Content::Message {
            author_kind: kind.into(),
            author_id: Some(format!("{kind}-1")),
            body: body.into(),
            internal: false,
            attachments: vec![],
        },
        author_name: name.map(Into::into),
        agent_no: no.map(Into::into),
        withheld: false,
    }
}

pub fn event(at: i64, actor: &str, kind: &str, data: serde_json::Value) -> Spec {
    Spec {
        at,
        content: Content::Event { actor_kind: actor.into(), actor_id: None, kind: kind.into(), data, internal: false },
        author_name: None,
        agent_no: None,
        withheld: false,
    }
}

/// The SHA-256 of the attachment in the sample.
pub fn attachment_sha256() -> String {
    hex::encode(Sha256::digest(b"the bytes of a screenshot of the withdrawal record"))
}

/// Chains `specs` as conversation `id`'s entries 1..n.
pub fn chain(id: &str, specs: Vec<Spec>) -> Vec<EntryRecord> {
    let mut prev = GENESIS.to_string();
    let mut out = Vec::with_capacity(specs.len());
    for (i, s) in specs.into_iter().enumerate() {
        let seq = i as i64 + 1;
        let l = leaf(id, seq, s.at, &s.content);
        let d = digest(&prev, &l);
        let body = if s.withheld {
            EntryBody::Withheld { withheld: "internal".into(), leaf: l }
        } else {
            EntryBody::Shown { content: s.content, author_name: s.author_name, agent_no: s.agent_no }
        };
        out.push(EntryRecord { seq, at: s.at, digest: d.clone(), body });
        prev = d;
    }
    out
}

/// A conversation with its entries chained and its head sealed by `key`.
pub fn conversation(
    key: &SigningKey,
    id: &str,
    case: &str,
    channel: &str,
    subject: &str,
    status: &str,
    specs: Vec<Spec>,
) -> ConversationRecord {
    let entries = chain(id, specs);
    let created_at = entries.first().map_or(T0, |e| e.at);
    let updated_at = entries.last().map_or(T0, |e| e.at);
    let mut c = ConversationRecord {
        id: id.into(),
        case_number: Some(case.into()),
        channel: channel.into(),
        subject: subject.into(),
        status: status.into(),
        created_at,
        updated_at,
        entries,
        seals: vec![],
    };
    reseal(key, &mut c);
    c
}

/// Seals `c`'s current head (replacing its seals), as the store does after the last entry.
pub fn reseal(key: &SigningKey, c: &mut ConversationRecord) {
    if let Some(last) = c.entries.last() {
        c.seals = vec![Seal::sign(key, &c.id, last.seq, &last.digest, last.at + 1_000)];
    }
}

/// An export of `conversations` in `lang`, signed with `key`.
pub fn export(key: &SigningKey, lang: &str, conversations: Vec<ConversationRecord>) -> Export {
    let mut e = Export {
        format: FORMAT.into(),
        exported_at: T0 + 86_400_000,
        issuer: "https://support.example-exchange.com".into(),
        exported_by: "customer".into(),
        lang: lang.into(),
        customer: CustomerRecord {
            id: "k-5d1e".into(),
            external_id: Some("80231457".into()),
            name: Some("张伟".into()),
            email: Some("zhang.wei@example.com".into()),
        },
        conversations,
        keys: vec![],
        signature: None,
    };
    e.sign(key, KEY_CREATED);
    e
}

/// The sample export: 2 conversations, 9 entries, in `lang`.
pub fn sample_in(key: &SigningKey, lang: &str) -> Export {
    let m = 60_000;
    let mut first = customer(
        T0,
        &format!("{HANS_BODY}\n交易哈希：7a3f0c9e2b41d5e8f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"),
    );
    if let Content::Message { attachments, .. } = &mut first.content {
        attachments.push(AttachmentRef {
            id: "f-01".into(),
            filename: "提币记录截图.png".into(),
            content_type: "image/png".into(),
            size: 245_760,
            sha256: attachment_sha256(),
        });
    }
    let mut note = agent(T0 + 3 * m, "王芳", AGENT_NO, "客户风险等级正常，已请二线核查链上记录。");
    note.withheld = true;
    if let Content::Message { internal, .. } = &mut note.content {
        *internal = true;
    }
    let ticket = conversation(
        key,
        "c-7f3a",
        CASE_1,
        "ticket",
        "USDT 提币未到账",
        "pending",
        vec![
            first,
            agent(T0 + 2 * m, "王芳", AGENT_NO, "您好，已收到您的问题。我们正在核对这笔提币的链上记录，请稍候。"),
            note,
            event(T0 + 4 * m, "agent", "status_changed", serde_json::json!({"from": "open", "to": "pending"})),
            agent(
                T0 + 5 * m,
                "王芳",
                AGENT_NO,
                "经核查，该笔提币已在链上确认。\n请提供收款钱包地址的截图，以便我们进一步协助。",
            ),
        ],
    );
    let chat = conversation(
        key,
        "c-91bd",
        CASE_2,
        "chat",
        "帳戶凍結申訴",
        "solved",
        vec![
            customer(T0 + 60 * m, HANT_BODY),
            message(T0 + 61 * m, "bot", None, None, "您好，我是智慧客服，正在為您轉接真人客服。"),
            event(T0 + 62 * m, "system", "handover", serde_json::json!({"reason": "asked"})),
            agent(T0 + 63 * m, "陳志明", "B2048", "您好，您的帳戶因安全驗證暫時凍結，完成身分驗證後即可解除。"),
        ],
    );
    export(key, lang, vec![ticket, chat])
}

pub fn sample(key: &SigningKey) -> Export {
    sample_in(key, "zh-Hans")
}

/// An export with one conversation of `n` messages, customer and agent in turn.
pub fn big(key: &SigningKey, n: usize) -> Export {
    let specs = (0..n)
        .map(|i| {
            let at = T0 + i as i64 * 1_000;
            if i % 2 == 0 {
                customer(
                    at,
                    &format!("第 {i} 条消息：请问我的提币什么时候到账？订单号 W{i:08}，金额 {} USDT。", i * 3 + 7),
                )
            } else {
                agent(
                    at,
                    "王芳",
                    AGENT_NO,
                    &format!("您好，订单 W{:08} 正在处理中，预计 30 分钟内到账，请耐心等待。", i - 1),
                )
            }
        })
        .collect();
    let c = conversation(key, "c-big", "T-2024-999999", "ticket", "大量消息", "open", specs);
    export(key, "zh-Hans", vec![c])
}

/// Signs `e` again (after a change the desk itself made, such as erasing an entry).
pub fn resign(key: &SigningKey, e: &mut Export) {
    e.sign(key, KEY_CREATED);
}
