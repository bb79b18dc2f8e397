//! Times each stage of verifying a large export (1,000 conversations of 10 entries): `cargo run --release
//! -p lifebuoy-records --example verify_speed`.
use lifebuoy_records::*;
use std::time::Instant;

fn main() {
    let key = SigningKey::generate();
    let mut convs = Vec::new();
    for c in 0..1000 {
        let id = format!("conv-{c:06}");
        let mut prev = GENESIS.to_string();
        let mut entries = Vec::new();
        for s in 1..=10i64 {
            let content = Content::Message {
                author_kind: if s % 2 == 0 { "agent".into() } else { "customer".into() },
                author_id: Some("k-123456".into()),
                body: format!("你好，我5月1日提币1000 USDT（TRC20），页面显示已完成，但钱包一直没有到账。第{s}条"),
                internal: false,
                attachments: vec![],
            };
            let l = leaf(&id, s, 1_714_528_800_000 + s, &content);
            let d = digest(&prev, &l);
            prev = d.clone();
            entries.push(EntryRecord {
                seq: s,
                at: 1_714_528_800_000 + s,
                digest: d,
                body: EntryBody::Shown { content, author_name: Some("小王".into()), agent_no: Some("A1024".into()) },
            });
        }
        let seal = Seal::sign(&key, &id, 10, &prev, 1_714_528_900_000);
        convs.push(ConversationRecord {
            id,
            case_number: Some(format!("T-{c}")),
            channel: "ticket".into(),
            subject: "提币未到账".into(),
            status: "solved".into(),
            created_at: 1,
            updated_at: 2,
            entries,
            seals: vec![seal],
        });
    }
    let mut export = Export {
        format: FORMAT.into(),
        exported_at: 1,
        issuer: "https://x".into(),
        exported_by: "customer".into(),
        lang: "zh-Hans".into(),
        customer: CustomerRecord { id: "k".into(), external_id: None, name: None, email: None },
        conversations: convs,
        keys: vec![],
        signature: None,
    };
    export.sign(&key, 1);
    let text = serde_json::to_string(&export).unwrap();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    println!("threads {threads}");
    for _ in 0..3 {
        let t = Instant::now();
        let v = verify_json(&text, None).unwrap();
        let all = t.elapsed();
        let t = Instant::now();
        let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
        let parse = t.elapsed();
        let t = Instant::now();
        let e: Export = serde_json::from_value(raw.clone()).unwrap();
        let from = t.elapsed();
        let t = Instant::now();
        let read = serde_json::to_value(&e).unwrap();
        let to = t.elapsed();
        let t = Instant::now();
        let _ = raw == read;
        let cmp = t.elapsed();
        let t = Instant::now();
        verify(&e, None).unwrap();
        let ver = t.elapsed();
        let t = Instant::now();
        let sb_bytes = e.signed_bytes();
        let ver_sig = t.elapsed();
        let t = Instant::now();
        verify_json(&text, None).unwrap();
        println!("verify_json again {:?}; signed bytes {ver_sig:?}", t.elapsed());
        let _ = sb_bytes;
        let t = Instant::now();
        let _ = e.signed_bytes();
        let sb = t.elapsed();
        let t = Instant::now();
        for c in &e.conversations {
            for x in &c.entries {
                if let EntryBody::Shown { content, .. } = &x.body {
                    std::hint::black_box(leaf(&c.id, x.seq, x.at, content));
                }
            }
        }
        let leaves = t.elapsed();
        let t = Instant::now();
        let pk = e.keys[0].prepare().unwrap();
        for c in &e.conversations {
            for s in &c.seals {
                pk.verify(&Seal::message(&c.id, s.seq, &s.digest, s.signed_at, &s.key_id), &s.signature).unwrap();
            }
        }
        let seals = t.elapsed();
        println!("leaves {leaves:?} seals {seals:?}");
        println!(
            "entries {} total {:?} ({:.0}/s): parse {parse:?} from_value {from:?} to_value {to:?} cmp {cmp:?} verify {ver:?} (signed_bytes {sb:?})",
            v.entries,
            all,
            v.entries as f64 / all.as_secs_f64()
        );
    }
}
