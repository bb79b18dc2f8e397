//! Offline verification of a realistic export: untouched it verifies; each kind of tampering is named with the
//! entry it touched.

mod common;

use common::*;
use lifebuoy_records::{Content, EntryBody, EntryRecord, Export, SigningKey, Tamper, Verified, verify, verify_json};
use proptest::prelude::*;

fn conv(e: &Export, i: usize) -> (String, Option<String>) {
    (e.conversations[i].id.clone(), e.conversations[i].case_number.clone())
}

/// The body of entry `seq` of conversation `c`, to change it.
fn body_mut(e: &mut Export, c: usize, seq: i64) -> &mut String {
    let entry = &mut e.conversations[c].entries[(seq - 1) as usize];
    match &mut entry.body {
        EntryBody::Shown { content: Content::Message { body, .. }, .. } => body,
        _ => panic!("entry {seq} is not a shown message"),
    }
}

#[test]
fn the_untouched_export_verifies() {
    let key = SigningKey::generate();
    let e = sample(&key);
    let v = verify(&e, Some(&[key.public(KEY_CREATED)])).expect("untouched");
    assert_eq!(v, Verified { conversations: 2, entries: 9, key_ids: vec![key.id()] });
    assert_eq!(verify(&e, None), Ok(v), "with the keys the export lists");
}

#[test]
fn one_changed_byte_in_a_body_names_that_entry_altered() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let body = body_mut(&mut e, 0, 5);
    *body = body.replacen("截图", "截囷", 1);
    let (conversation, case) = conv(&e, 0);
    assert_eq!(verify(&e, None), Err(Tamper::Altered { conversation, case, seq: 5 }));
}

#[test]
fn a_dropped_entry_is_named_removed() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    e.conversations[0].entries.remove(1);
    let (conversation, case) = conv(&e, 0);
    assert_eq!(verify(&e, None), Err(Tamper::Removed { conversation, case, seq: 2 }));
}

#[test]
fn a_dropped_last_entry_is_named_removed() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    e.conversations[1].entries.pop();
    let (conversation, case) = conv(&e, 1);
    assert_eq!(verify(&e, None), Err(Tamper::Removed { conversation, case, seq: 4 }));
}

#[test]
fn two_swapped_entries_are_named_reordered() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    e.conversations[0].entries.swap(1, 3);
    let (conversation, case) = conv(&e, 0);
    assert_eq!(verify(&e, None), Err(Tamper::Reordered { conversation, case, seq: 4, before: 2 }));
}

#[test]
fn a_duplicated_entry_is_named_inserted() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let copy = e.conversations[0].entries[1].clone();
    e.conversations[0].entries.insert(2, copy);
    let (conversation, case) = conv(&e, 0);
    assert_eq!(verify(&e, None), Err(Tamper::Inserted { conversation, case, seq: 2 }));
}

#[test]
fn an_entry_appended_with_a_correct_digest_is_inserted_beyond_the_signed_head() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let c = &mut e.conversations[1];
    let last = c.entries.last().cloned().expect("entries");
    let (at, content) = (last.at + 1, customer(0, "客服承认是平台的错误，同意赔偿。").content);
    // Chained on the real head, so that its digest is right.
    let digest = lifebuoy_records::digest(&last.digest, &lifebuoy_records::leaf(&c.id, 5, at, &content));
    let body = EntryBody::Shown { content, author_name: None, agent_no: None };
    c.entries.push(EntryRecord { seq: 5, at, digest, body });
    let (conversation, case) = conv(&e, 1);
    assert_eq!(verify(&e, None), Err(Tamper::Inserted { conversation, case, seq: 5 }));
}

#[test]
fn an_entry_appended_with_a_made_up_digest_is_inserted_not_altered() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let c = &mut e.conversations[1];
    let mut added = c.entries[0].clone();
    added.seq = 5;
    added.digest = "00".repeat(32);
    c.entries.push(added);
    let (conversation, case) = conv(&e, 1);
    assert_eq!(verify(&e, None), Err(Tamper::Inserted { conversation, case, seq: 5 }));
}

#[test]
fn an_erased_entry_still_verifies_once_the_desk_signs_again() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let c = &mut e.conversations[0];
    let entry = &mut c.entries[0];
    let EntryBody::Shown { content, .. } = &entry.body else { panic!("entry 1 is shown") };
    let l = lifebuoy_records::leaf(&c.id, entry.seq, entry.at, content);
    entry.body = EntryBody::Withheld { withheld: "erased".into(), leaf: l };
    assert!(
        matches!(verify(&e, None), Err(Tamper::Signature(_))),
        "the chain holds but the document changed: only the desk's new signature makes it whole"
    );
    resign(&key, &mut e);
    assert_eq!(verify(&e, None).map(|v| v.entries), Ok(9));
}

#[test]
fn a_changed_author_name_breaks_the_document_signature() {
    let key = SigningKey::generate();
    let mut e = sample(&key);
    let EntryBody::Shown { author_name, .. } = &mut e.conversations[0].entries[1].body else { panic!("shown") };
    *author_name = Some("李娜".into());
    assert!(matches!(verify(&e, None), Err(Tamper::Signature(_))), "{:?}", verify(&e, None));
}

#[test]
fn a_different_trusted_key_is_refused() {
    let key = SigningKey::generate();
    let e = sample(&key);
    let other = SigningKey::generate().public(KEY_CREATED);
    let (conversation, case) = conv(&e, 0);
    match verify(&e, Some(&[other])) {
        Err(Tamper::Seal { conversation: c, case: k, seq: 5, why }) => {
            assert_eq!((c, k), (conversation, case));
            assert!(why.contains(&key.id()), "{why}");
        }
        other => panic!("expected the first seal to be refused, got {other:?}"),
    }
}

#[test]
fn the_json_round_trip_verifies() {
    let key = SigningKey::generate();
    let e = sample(&key);
    let text = serde_json::to_string_pretty(&e).expect("serialises");
    let back: Export = serde_json::from_str(&text).expect("parses");
    assert_eq!(back, e);
    let trusted = [key.public(KEY_CREATED)];
    assert_eq!(verify(&back, Some(&trusted)).map(|v| v.entries), Ok(9));
    assert_eq!(verify_json(&text, Some(&trusted)).map(|v| v.entries), Ok(9));
}

#[test]
fn json_with_a_field_outside_the_format_is_refused() {
    let key = SigningKey::generate();
    let e = sample(&key);
    let mut v = serde_json::to_value(&e).expect("serialises");
    v["conversations"][0]["entries"][1]["note"] = "客服承认错误".into();
    match verify_json(&v.to_string(), None) {
        Err(Tamper::Format(why)) => assert!(why.contains("$.conversations[0].entries[1].note"), "{why}"),
        other => panic!("expected a format error, got {other:?}"),
    }
    assert!(matches!(verify_json("{\"format\":", None), Err(Tamper::Format(_))));
}

#[test]
fn ten_thousand_entries_verify() {
    let key = SigningKey::generate();
    let e = big(&key, 10_000);
    let started = std::time::Instant::now();
    assert_eq!(verify(&e, None).map(|v| v.entries), Ok(10_000));
    eprintln!("verified 10,000 entries in {:?}", started.elapsed());
}

/// Every shown message of the sample, as (conversation index, seq).
fn messages(e: &Export) -> Vec<(usize, i64)> {
    let mut out = Vec::new();
    for (i, c) in e.conversations.iter().enumerate() {
        for x in &c.entries {
            if matches!(x.body, EntryBody::Shown { content: Content::Message { .. }, .. }) {
                out.push((i, x.seq));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_changed_byte_of_any_body_is_named_altered_at_its_entry(pick in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let key = SigningKey::generate();
        let mut e = sample(&key);
        let targets = messages(&e);
        let (c, seq) = targets[pick.index(targets.len())];
        let body = body_mut(&mut e, c, seq);
        let mut bytes = body.clone().into_bytes();
        let i = at.index(bytes.len());
        // A different byte; where it breaks the UTF-8, the text as a JSON reader would take it.
        bytes[i] = if bytes[i] == byte { byte.wrapping_add(1) } else { byte };
        *body = String::from_utf8_lossy(&bytes).into_owned();
        let (conversation, case) = conv(&e, c);
        prop_assert_eq!(verify(&e, None), Err(Tamper::Altered { conversation, case, seq }));
    }
}

#[test]
fn a_key_posing_under_the_desks_key_id_is_refused() {
    // Someone re-signs an altered export with their own key and gives that key the desk's id, hoping the reader
    // compares only ids with the published keys.
    let desk = SigningKey::generate();
    let impostor = SigningKey::generate();
    let mut e = sample(&impostor);
    let mut posing = impostor.public(KEY_CREATED);
    posing.id = desk.id();
    for c in &mut e.conversations {
        for s in &mut c.seals {
            s.key_id = desk.id();
            s.signature =
                impostor.sign(&lifebuoy_records::Seal::message(&c.id, s.seq, &s.digest, s.signed_at, &s.key_id));
        }
    }
    e.keys = vec![posing];
    e.signature = None;
    let value = impostor.sign(&e.signed_bytes());
    e.signature = Some(lifebuoy_records::export::DocumentSignature { key_id: desk.id(), value });
    match verify(&e, None) {
        Err(Tamper::Seal { why, .. }) => assert!(why.contains("another key"), "{why}"),
        other => panic!("the posing key must be refused, got {other:?}"),
    }
}
