//! Fuzzing the mail ingest path: random bytes, and the corpus's mails mutated (bytes flipped, cut short, header
//! lines repeated, lines shuffled in), fed to `mail_in::receive` on SQLite. Whatever comes in, it never panics
//! and never fails for want of a rule: it ends as a case (opened, added, or a duplicate of one) or as a refusal
//! noted in `mail_rejections`. `PROPTEST_CASES` sets the number of cases (300 by default, well under a minute in
//! a debug build).

use lifebuoy_app::App;
use lifebuoy_app::mail_in::{self, Received};
use lifebuoy_store::FileStore;
use lifebuoy_testkit::{Backend, fresh_store};
use proptest::prelude::*;
use std::sync::LazyLock;

struct Harness {
    rt: tokio::runtime::Runtime,
    app: App,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("lifebuoy-mail-fuzz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let app = rt.block_on(async {
        let (store, _) = fresh_store(Backend::Sqlite, &dir).await;
        let mailer = lifebuoy_app::mail::Mailer::default().with_support_address("support@desk.example").unwrap();
        App::new(store, FileStore::new(dir.join("files")), mailer)
    });
    Harness { rt, app, _dir: TempDir(dir) }
});

static CORPUS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
});

/// Feeds one mail and checks where it ended.
fn ends_somewhere(raw: &[u8]) -> Result<(), TestCaseError> {
    let h = &*HARNESS;
    h.rt.block_on(async {
        let got = mail_in::receive(&h.app, raw).await;
        let got = got.map_err(|e| TestCaseError::fail(format!("receive failed: {e}")))?;
        match got {
            Received::Opened { conversation_id, .. }
            | Received::Added { conversation_id }
            | Received::Duplicate { conversation_id } => {
                let c = h.app.store.conversation(&conversation_id).await.unwrap();
                prop_assert!(c.is_some(), "the case {conversation_id} exists");
            }
            Received::Rejected { reason, refusal } => {
                let rows = h.app.store.mail_rejections(20).await.unwrap();
                prop_assert!(
                    rows.iter().any(|r| r.reason == reason && r.outcome == refusal.as_str()),
                    "the refusal {reason:?} is noted"
                );
            }
        }
        Ok(())
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Vec<(usize, u8)>),
    Truncate(usize),
    RepeatHeader { line: usize, times: usize },
    Insert { at: usize, bytes: Vec<u8> },
}

fn mutate(base: &[u8], m: &Mutation) -> Vec<u8> {
    let mut v = base.to_vec();
    match m {
        Mutation::Flip(flips) => {
            for (pos, b) in flips {
                if !v.is_empty() {
                    let i = pos % v.len();
                    v[i] ^= b;
                }
            }
        }
        Mutation::Truncate(per_mille) => v.truncate(v.len() * per_mille / 1000),
        Mutation::RepeatHeader { line, times } => {
            // The header block: up to the first empty line.
            let head_end = v.windows(2).position(|w| w == b"\n\n").map_or(v.len(), |i| i + 1);
            let head_end = v.windows(4).position(|w| w == b"\r\n\r\n").map_or(head_end, |i| head_end.min(i + 2));
            let lines: Vec<&[u8]> = v[..head_end].split(|b| *b == b'\n').collect();
            if !lines.is_empty() {
                let l = lines[line % lines.len()].to_vec();
                let mut out = Vec::with_capacity(v.len() + l.len() * times);
                for _ in 0..*times {
                    out.extend_from_slice(&l);
                    out.push(b'\n');
                }
                out.extend_from_slice(&v);
                v = out;
            }
        }
        Mutation::Insert { at, bytes } => {
            let i = if v.is_empty() { 0 } else { at % v.len() };
            v.splice(i..i, bytes.iter().copied());
        }
    }
    v
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop::collection::vec((any::<usize>(), 1u8..=255), 1..16).prop_map(Mutation::Flip),
        (0usize..1000).prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..50).prop_map(|(line, times)| Mutation::RepeatHeader { line, times }),
        (
            any::<usize>(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..64),
                Just(b"\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n".to_vec()),
                Just(
                    b"\r\n--x\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0K\r\n"
                        .to_vec()
                ),
                Just(b"=?UTF-8?B?5L2g5aW9?==?GBK?Q?=C4=E3?=".to_vec()),
                Just(b"\r\nIn-Reply-To: <CAJ7xQ8n1=qwerty123@mail.gmail.example>\r\n".to_vec()),
            ]
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ]
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes_end_somewhere(raw in prop::collection::vec(any::<u8>(), 0..4096)) {
        ends_somewhere(&raw)?;
    }

    #[test]
    fn random_bodies_behind_real_headers(
        n in any::<u32>(),
        ct in prop_oneof![
            Just("text/plain; charset=utf-8"),
            Just("text/html; charset=gb2312"),
            Just("multipart/mixed; boundary=\"b\""),
            Just("multipart/alternative; boundary=b"),
            Just("image/png; name=\"x.png\""),
            Just("text/plain; charset=x-unknown"),
        ],
        cte in prop_oneof![Just("7bit"), Just("base64"), Just("quoted-printable"), Just("8bit")],
        body in prop::collection::vec(any::<u8>(), 0..4096),
    ) {
        let mut raw = format!(
            "From: fuzz{n}@example.com\r\nTo: support@desk.example\r\nSubject: fuzz {n}\r\nMIME-Version: 1.0\r\n\
             Content-Type: {ct}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
        )
        .into_bytes();
        raw.extend_from_slice(&body);
        ends_somewhere(&raw)?;
    }

    #[test]
    fn mutated_corpus_mail_ends_somewhere(which in any::<usize>(), ms in prop::collection::vec(mutation(), 1..4)) {
        let base = &CORPUS[which % CORPUS.len()];
        let mut raw = base.clone();
        for m in &ms {
            raw = mutate(&raw, m);
        }
        ends_somewhere(&raw)?;
    }
}
