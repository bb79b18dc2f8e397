//! Mail in against a corpus of real-shaped mail (`tests/mail/*.eml`, expectations in `tests/mail/manifest.json`,
//! see `tests/mail/README.md`): each file is fed to `mail_in::receive` through the `App` on SQLite, in the
//! manifest's order (replies and resends refer to earlier files), and its outcome is checked: opened, added or a
//! duplicate with the decoded subject and text, the attachments taken and the files named as refused, the
//! sanitised HTML and the folded quote; or refused with its reason and SMTP answer. Nothing is lost silently:
//! every file ends as a case or a `mail_rejections` row. Then what the corpus cannot hold: a 25 MB attachment,
//! the per-sender rate limit, the blocklist use case, and a sender joining an exchange customer.

use lifebuoy_app::mail_in::{self, Received, Refusal};
use lifebuoy_app::{Actor, App, AppError, mail_admin, mail_text};
use lifebuoy_domain::{AgentNo, Lang, Role};
use lifebuoy_store::{FileStore, NewAgent, TimelineItem};
use lifebuoy_testkit::{Backend, fresh_store};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

const SUPPORT: &str = "support@desk.example";

struct Fixture {
    app: App,
    dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("lifebuoy-mail-corpus-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (store, _) = fresh_store(Backend::Sqlite, &dir).await;
    let mailer = lifebuoy_app::mail::Mailer::default().with_support_address(SUPPORT).unwrap();
    let app = App::new(store, FileStore::new(dir.join("files")), mailer);
    Fixture { app, dir }
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mail")
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// The customer's message a mail became: the newest customer message of the case.
async fn mail_message(app: &App, conversation_id: &str) -> (lifebuoy_store::Message, usize) {
    let items = app.store.timeline(conversation_id, true).await.unwrap();
    items
        .into_iter()
        .rev()
        .find_map(|i| match i {
            TimelineItem::Message { message, attachments } if message.author_kind == "customer" => {
                Some((message, attachments.len()))
            }
            _ => None,
        })
        .expect("the case has the mail's message")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_mail_ends_as_expected() {
    let f = fixture().await;
    let app = &f.app;
    app.store.block_sender("@blocked.example", Some("corpus"), None).await.unwrap();
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus_dir().join("manifest.json")).unwrap()).unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = manifest.iter().map(|e| e["file"].as_str().unwrap().to_string()).collect();
    assert_eq!(on_disk, listed, "every corpus file has one manifest entry, in order");
    assert!(listed.len() >= 25);

    let mut cases: HashMap<String, String> = HashMap::new();
    for e in &manifest {
        let file = e["file"].as_str().unwrap();
        let raw = std::fs::read(corpus_dir().join(file)).unwrap();
        let rejections_before = app.store.mail_rejections(1000).await.unwrap().len();
        let got = mail_in::receive(app, &raw).await.unwrap_or_else(|err| panic!("{file}: {err}"));
        let expect = e["expect"].as_str().unwrap();
        let conversation_id = match (&got, expect) {
            (Received::Opened { conversation_id, case_number }, "opened") => {
                assert!(case_number.is_some(), "{file}: a case number");
                conversation_id.clone()
            }
            (Received::Added { conversation_id }, "added") | (Received::Duplicate { conversation_id }, "duplicate") => {
                conversation_id.clone()
            }
            (Received::Rejected { reason, refusal }, "rejected") => {
                let want = e["reason"].as_str().unwrap();
                assert!(reason.contains(want), "{file}: reason {reason:?} should contain {want:?}");
                assert_eq!(refusal.as_str(), e["refusal"].as_str().unwrap(), "{file}: SMTP answer");
                let rows = app.store.mail_rejections(1000).await.unwrap();
                assert_eq!(rows.len(), rejections_before + 1, "{file}: one rejection noted");
                assert!(rows.iter().any(|r| &r.reason == reason && r.outcome == refusal.as_str()), "{file}");
                continue;
            }
            (other, _) => panic!("{file}: expected {expect}, got {other:?}"),
        };
        if let Some(same) = e["same_case_as"].as_str() {
            assert_eq!(Some(&conversation_id), cases.get(same), "{file}: same case as {same}");
        }
        cases.insert(file.to_string(), conversation_id.clone());
        // Recorded as a mail of its case: nothing lost, and the same mail again is a duplicate.
        let id = mail_parser::MessageParser::default().parse(&raw).and_then(|m| m.message_id().map(str::to_string));
        if let Some(id) = id {
            let known = app.store.mail_known(&id).await.unwrap().unwrap_or_else(|| panic!("{file}: recorded"));
            assert_eq!(known.conversation_id, conversation_id, "{file}");
        }
        if expect == "duplicate" {
            continue;
        }
        let c = app.store.conversation(&conversation_id).await.unwrap().unwrap();
        assert_eq!(c.kind, "email", "{file}");
        if let Some(s) = e["subject"].as_str() {
            assert!(c.subject.contains(s), "{file}: subject {:?} should contain {s:?}", c.subject);
        }
        if let Some(l) = e["lang"].as_str() {
            assert_eq!(c.lang, l, "{file}: language");
        }
        if let Some(n) = e["customer_name"].as_str() {
            let who = app.store.customer(&c.customer_id).await.unwrap().unwrap();
            assert_eq!(who.name.as_deref(), Some(n), "{file}: the sender's decoded name");
        }
        let (m, attachments) = mail_message(app, &conversation_id).await;
        for s in strings(e, "body") {
            assert!(m.body.contains(&s), "{file}: body should contain {s:?}:\n{}", m.body);
        }
        for s in strings(e, "body_not") {
            assert!(!m.body.contains(&s), "{file}: body should not contain {s:?}:\n{}", m.body);
        }
        if let Some(n) = e["attachments"].as_u64() {
            assert_eq!(attachments as u64, n, "{file}: attachments taken");
        }
        let html: HashMap<String, String> =
            app.store.message_html(&conversation_id).await.unwrap().into_iter().collect();
        let stored = html.get(&m.id);
        if e["html_none"].as_bool() == Some(true) {
            assert!(stored.is_none(), "{file}: no HTML of its own");
        }
        for s in strings(e, "html") {
            let h = stored.unwrap_or_else(|| panic!("{file}: HTML kept"));
            assert!(h.contains(&s), "{file}: HTML should contain {s:?}:\n{h}");
        }
        for s in strings(e, "html_not") {
            let h = stored.unwrap_or_else(|| panic!("{file}: HTML kept"));
            assert!(!h.to_ascii_lowercase().contains(&s.to_ascii_lowercase()), "{file}: HTML has {s:?}:\n{h}");
        }
        let view = mail_text::view(&m.body, stored.map(String::as_str));
        for s in strings(e, "view_main_not") {
            assert!(!view.main.contains(&s), "{file}: {s:?} should be folded away:\n{}", view.main);
        }
        if let Some(q) = e["view_quoted"].as_str() {
            let quoted = view.quoted.as_deref().unwrap_or_else(|| panic!("{file}: a folded quote"));
            assert!(quoted.contains(q), "{file}: folded part should contain {q:?}:\n{quoted}");
        }
        let notes = strings(e, "notes");
        if !notes.is_empty() {
            let rows = app.store.mail_rejections(1000).await.unwrap();
            for n in notes {
                assert!(
                    rows.iter().any(|r| r.outcome == "note" && r.reason.contains(&n)),
                    "{file}: the refused file {n:?} is noted for admins"
                );
            }
        }
    }
}

/// Standard base64 (the test makes its own 25 MB mail; no crate needed for that).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 57 * 2 + 4);
    for (i, c) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 { T[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if c.len() > 2 { T[n as usize & 63] as char } else { '=' });
    }
    out
}

fn simple_mail(from: &str, id: &str, subject: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\nbody of {id}\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_25_mb_attachment_is_named_not_taken() {
    let f = fixture().await;
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.resize(25 * 1024 * 1024, 7);
    let mail = format!(
        "From: Big Sender <big@example.com>\r\nTo: {SUPPORT}\r\nSubject: huge screenshot\r\nMessage-ID: <big-25mb@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b25\"\r\n\r\n--b25\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         my screenshot is attached\r\n--b25\r\nContent-Type: image/png; name=\"huge.png\"\r\nContent-Disposition: attachment; filename=\"huge.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b25--\r\n",
        base64(&png)
    );
    assert!(mail.len() > 33_000_000);
    let got = mail_in::receive(&f.app, mail.as_bytes()).await.unwrap();
    let Received::Opened { conversation_id, .. } = got else { panic!("{got:?}") };
    let (m, attachments) = mail_message(&f.app, &conversation_id).await;
    assert_eq!(attachments, 0);
    assert!(m.body.contains("my screenshot is attached"), "{}", m.body);
    assert!(m.body.contains("\"huge.png\": it is larger than the 10 MB limit."), "{}", m.body);
    let rows = f.app.store.mail_rejections(10).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.outcome == "note" && r.reason.contains("huge.png") && r.reason.contains("file_too_large"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_over_the_hourly_limit_is_told_to_retry_later() {
    let f = fixture().await;
    let app = &f.app;
    let mut first = None;
    for i in 0..mail_in::NEW_CASES_PER_HOUR {
        let got =
            mail_in::receive(app, &simple_mail("flood@example.com", &format!("f{i}@x"), &format!("case {i}"), ""))
                .await
                .unwrap();
        let Received::Opened { conversation_id, .. } = got else { panic!("mail {i}: {got:?}") };
        first.get_or_insert(conversation_id);
    }
    let got = mail_in::receive(app, &simple_mail("Flood@Example.com", "f-over@x", "one too many", "")).await.unwrap();
    let Received::Rejected { reason, refusal } = got else { panic!("{got:?}") };
    assert_eq!(refusal, Refusal::Later);
    assert!(reason.contains("new cases"), "{reason}");
    let rows = app.store.mail_rejections(5).await.unwrap();
    assert_eq!((rows[0].outcome.as_str(), rows[0].sender.as_deref()), ("temporary", Some("flood@example.com")));
    // A reply to one of the sender's cases still gets through: answers have the higher limit.
    let reply = simple_mail("flood@example.com", "f-reply@x", "Re: case 0", "In-Reply-To: <f0@x>\r\n");
    let got = mail_in::receive(app, &reply).await.unwrap();
    assert_eq!(got, Received::Added { conversation_id: first.clone().unwrap() });
    // Another sender is not held back by this one.
    let got = mail_in::receive(app, &simple_mail("calm@example.com", "calm-1@x", "hello", "")).await.unwrap();
    assert!(matches!(got, Received::Opened { .. }), "{got:?}");
    // Up to the limit for all mail, replies too.
    for i in 0..(mail_in::MAILS_PER_HOUR - mail_in::NEW_CASES_PER_HOUR - 1) {
        let m = simple_mail("flood@example.com", &format!("fr{i}@x"), "Re: case 0", "In-Reply-To: <f0@x>\r\n");
        assert!(matches!(mail_in::receive(app, &m).await.unwrap(), Received::Added { .. }), "reply {i}");
    }
    let m = simple_mail("flood@example.com", "fr-over@x", "Re: case 0", "In-Reply-To: <f0@x>\r\n");
    let got = mail_in::receive(app, &m).await.unwrap();
    assert!(
        matches!(&got, Received::Rejected { refusal: Refusal::Later, reason } if reason.contains("mails")),
        "{got:?}"
    );
}

async fn agent(app: &App, no: &str, role: Role) -> Actor {
    Actor::Agent(
        app.store
            .create_agent(&NewAgent {
                email: format!("{}@desk.example", no.to_lowercase()),
                display_name: format!("Agent {no}"),
                agent_no: AgentNo::parse(no).unwrap(),
                role,
                languages: vec![Lang::En],
                departments: vec!["support".into()],
                password_hash: "x".into(),
            })
            .await
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_block_and_unblock_senders() {
    let f = fixture().await;
    let app = &f.app;
    let admin = agent(app, "A900", Role::Admin).await;
    for who in [agent(app, "A901", Role::Supervisor).await, agent(app, "A902", Role::AgentL1).await] {
        assert!(matches!(
            mail_admin::block(&app.store, &who, "@spam.example", None).await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(mail_admin::overview(&app.store, &who).await, Err(AppError::Forbidden(_))));
    }
    assert!(matches!(
        mail_admin::block(&app.store, &Actor::system("x"), "@spam.example", None).await,
        Err(AppError::Forbidden(_))
    ));
    assert!(matches!(mail_admin::block(&app.store, &admin, "nonsense", None).await, Err(AppError::Invalid { .. })));

    let b = mail_admin::block(&app.store, &admin, "Spam.Example", Some("phishing")).await.unwrap();
    assert_eq!((b.pattern.as_str(), b.note.as_deref()), ("@spam.example", Some("phishing")));
    mail_admin::block(&app.store, &admin, "One@Other.example", None).await.unwrap();
    let got = mail_in::receive(app, &simple_mail("anyone@spam.example", "s1@x", "hi", "")).await.unwrap();
    assert_eq!(got, Received::Rejected { reason: "blocked sender (@spam.example)".into(), refusal: Refusal::Never });
    let got = mail_in::receive(app, &simple_mail("one@other.example", "s2@x", "hi", "")).await.unwrap();
    assert!(matches!(got, Received::Rejected { refusal: Refusal::Never, .. }), "{got:?}");
    // Only that address of the domain, and not a look-alike domain.
    for (from, id) in [("two@other.example", "s3@x"), ("a@notspam.example", "s4@x")] {
        let got = mail_in::receive(app, &simple_mail(from, id, "hi", "")).await.unwrap();
        assert!(matches!(got, Received::Opened { .. }), "{from}: {got:?}");
    }
    let (list, rejections) = mail_admin::overview(&app.store, &admin).await.unwrap();
    assert_eq!(list.iter().map(|b| b.pattern.as_str()).collect::<Vec<_>>(), ["@spam.example", "one@other.example"]);
    assert_eq!(rejections.iter().filter(|r| r.outcome == "permanent").count(), 2);

    assert!(mail_admin::unblock(&app.store, &admin, "@spam.example").await.unwrap());
    assert!(!mail_admin::unblock(&app.store, &admin, "@spam.example").await.unwrap(), "twice is no error");
    let got = mail_in::receive(app, &simple_mail("anyone@spam.example", "s1b@x", "hi again", "")).await.unwrap();
    assert!(matches!(got, Received::Opened { .. }), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_joins_the_exchange_customer_who_verified_the_address() {
    let f = fixture().await;
    let app = &f.app;
    // The exchange's signed token named this address: verified.
    let known =
        app.store.upsert_exchange_customer("uid-1", Some("Known@Example.com"), Some("Known"), None).await.unwrap();
    let got = mail_in::receive(app, &simple_mail("known@example.com", "k1@x", "my order", "")).await.unwrap();
    let Received::Opened { conversation_id, .. } = got else { panic!("{got:?}") };
    assert_eq!(app.store.conversation(&conversation_id).await.unwrap().unwrap().customer_id, known.id);

    // An address staff typed for a customer the exchange has not introduced proves nothing: a guest.
    let typed = app.store.exchange_customer_or_insert("uid-2", Some("typed@example.com"), None, None).await.unwrap();
    let got = mail_in::receive(app, &simple_mail("typed@example.com", "t1@x", "hello", "")).await.unwrap();
    let Received::Opened { conversation_id, .. } = got else { panic!("{got:?}") };
    let who = app.store.conversation(&conversation_id).await.unwrap().unwrap().customer_id;
    assert_ne!(who, typed.id);
    assert_eq!(app.store.customer(&who).await.unwrap().unwrap().kind, "guest");
    // Once the exchange's token names it, it is verified, and the next mail joins that customer.
    app.store.upsert_exchange_customer("uid-2", Some("typed@example.com"), None, None).await.unwrap();
    let got = mail_in::receive(app, &simple_mail("typed@example.com", "t2@x", "hello again", "")).await.unwrap();
    let Received::Opened { conversation_id, .. } = got else { panic!("{got:?}") };
    assert_eq!(app.store.conversation(&conversation_id).await.unwrap().unwrap().customer_id, typed.id);

    // The address moved to another account: the old one no longer vouches for it.
    app.store.upsert_exchange_customer("uid-1", Some("new@example.com"), Some("Known"), None).await.unwrap();
    let got = mail_in::receive(app, &simple_mail("known@example.com", "k2@x", "still me?", "")).await.unwrap();
    let Received::Opened { conversation_id, .. } = got else { panic!("{got:?}") };
    assert_ne!(app.store.conversation(&conversation_id).await.unwrap().unwrap().customer_id, known.id);

    // Two exchange accounts vouching for one address: neither is guessed.
    app.store.upsert_exchange_customer("uid-3", Some("shared@example.com"), None, None).await.unwrap();
    app.store.upsert_exchange_customer("uid-4", Some("shared@example.com"), None, None).await.unwrap();
    let got = mail_in::receive(app, &simple_mail("shared@example.com", "sh1@x", "who am I", "")).await.unwrap();
    let Received::Opened { conversation_id, .. } = got else { panic!("{got:?}") };
    let who = app.store.conversation(&conversation_id).await.unwrap().unwrap().customer_id;
    assert_eq!(app.store.customer(&who).await.unwrap().unwrap().kind, "guest");
}
