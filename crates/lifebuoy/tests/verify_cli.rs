//! `lifebuoy verify FILE [--key K]`: offline, no server. "valid" and exit 0 for an untouched export; exit 1
//! naming the entry for an altered one; exit 1 when the signer is not the key the reader trusts.

use lifebuoy_records::{
    Content, ConversationRecord, CustomerRecord, EntryBody, EntryRecord, Export, FORMAT, Seal, SigningKey,
};
use std::process::Command;

/// A signed export of one conversation of three messages.
fn export(key: &SigningKey) -> Export {
    let mut prev = lifebuoy_records::GENESIS.to_string();
    let mut entries = Vec::new();
    for (seq, body) in [(1, "我已付款500元，卖家20分钟未放币"), (2, "您好，正在联系卖家"), (3, "已放币，谢谢")]
    {
        let content = Content::Message {
            author_kind: if seq == 2 { "agent".into() } else { "customer".into() },
            author_id: Some(format!("a{seq}")),
            body: body.into(),
            internal: false,
            attachments: vec![],
        };
        prev = lifebuoy_records::digest(&prev, &lifebuoy_records::leaf("c1", seq, 1_000 * seq, &content));
        entries.push(EntryRecord {
            seq,
            at: 1_000 * seq,
            digest: prev.clone(),
            body: EntryBody::Shown { content, author_name: None, agent_no: None },
        });
    }
    let mut e = Export {
        format: FORMAT.into(),
        exported_at: 5_000,
        issuer: "https://support.example".into(),
        exported_by: "customer".into(),
        lang: "zh-Hans".into(),
        customer: CustomerRecord { id: "k1".into(), external_id: Some("uid-1".into()), name: None, email: None },
        conversations: vec![ConversationRecord {
            id: "c1".into(),
            case_number: Some("C-1".into()),
            channel: "ticket".into(),
            subject: "C2C".into(),
            status: "open".into(),
            created_at: 1_000,
            updated_at: 3_000,
            seals: vec![Seal::sign(key, "c1", 3, &prev, 4_000)],
            entries,
        }],
        keys: vec![],
        signature: None,
    };
    e.sign(key, 0);
    e
}

fn verify(file: &std::path::Path, keys: &[String]) -> (i32, String) {
    let mut args = vec!["verify".to_string(), file.display().to_string()];
    for k in keys {
        args.push("--key".into());
        args.push(k.clone());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lifebuoy")).args(&args).output().expect("run lifebuoy verify");
    // Stdout is what the tests read; stderr is kept for the failure message.
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn verify_says_valid_or_names_the_altered_entry() {
    let dir = std::env::temp_dir().join(format!("lb-verify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = SigningKey::generate();
    let text = serde_json::to_string_pretty(&export(&key)).unwrap();
    let good = dir.join("export.json");
    std::fs::write(&good, &text).unwrap();
    let (code, out) = verify(&good, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("valid") && out.contains(&key.id()), "{out}");

    // A key that starts with '-' (base64url has it: one key in 64) is the value of --key, not an option.
    let dashed = loop {
        let k = SigningKey::generate();
        if k.public(0).public_key.starts_with('-') {
            break k;
        }
    };
    let (code, out) = verify(&good, &[dashed.public(0).public_key]);
    assert_eq!(code, 1, "another key, starting with '-': refused as a key, not as an option: {out}");
    assert!(!out.contains("unexpected argument"), "{out}");

    // With the desk's published key: valid; with another key: not.
    let (code, out) = verify(&good, &[key.public(0).public_key]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = verify(&good, &[SigningKey::generate().public(0).public_key]);
    assert_eq!(code, 1, "{out}");

    // One changed character: exit 1, the entry named.
    let bad = dir.join("tampered.json");
    std::fs::write(&bad, text.replacen("500元", "50元", 1)).unwrap();
    let (code, out) = verify(&bad, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("C-1") && out.contains("entry 1 was altered"), "{out}");

    // Not an export at all: exit 1 with a reason.
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let (code, out) = verify(&bad, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not a Lifebuoy records export"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}
