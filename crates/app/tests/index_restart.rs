//! The search indexes across restarts, on SQLite and PostgreSQL: a node keeps its ticket and knowledge-base
//! indexes on disk and, started again, serves from them at once and catches up from the change log with what
//! changed while it was down (replies, an erasure, a merge, an article saved), without a full rebuild; an
//! index that is damaged, or stamped by another build, is rebuilt.
//!
//! Each start runs in a runtime of its own, dropped at its stop as a process's end would drop everything: the
//! index directory's lock is released, and the next start takes the directory the last one left.

use lifebuoy_app::ticket_search::IndexState;
use lifebuoy_app::tickets::{self, CreateTicket, NewMessage, StaffAction};
use lifebuoy_app::{Actor, App};
use lifebuoy_domain::{AgentNo, Lang, Role};
use lifebuoy_store::{FileStore, KbArticleInput, KbAuthor, KbTranslation, NewAgent, QueueFilter, QueueSort, Scope};
use lifebuoy_store::{Store, StoreOptions};
use lifebuoy_testkit::{Backend, fresh_store};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs one start of a node to its end, in a runtime of its own.
fn run<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let out = rt.block_on(f);
        rt.shutdown_timeout(Duration::from_secs(5));
        out
    })
    .join()
    .expect("the node's thread")
}

/// A node over the database at `url`, its indexes kept under `data/index`, started and serving.
async fn start(url: &str, data: &Path) -> App {
    let store = Store::open(&StoreOptions::new(url)).await.expect("open the store");
    let app = App::new(store, FileStore::new(data.join("files")), Default::default())
        .with_ticket_index_in(&data.join("index"))
        .expect("ticket index")
        .with_kb_index_in(&data.join("index"))
        .expect("kb index");
    app.load_kb().await.expect("load the knowledge base");
    app.load_tickets();
    app
}

/// The tickets a supervisor's search for `q` finds, once the index serves (waits for it to be built).
async fn found(app: &App, q: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !app.tickets.is_ready() {
        assert!(Instant::now() < deadline, "the ticket index never served");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let f = QueueFilter { text: Some(q.into()), ..Default::default() };
    let page = app.list_conversations(&Scope::All, &f, QueueSort::UpdatedDesc, None, 50).await.expect("search");
    page.items.into_iter().map(|c| c.id).collect()
}

/// Waits (up to 10 s) until a search for `q` finds exactly `want`.
async fn found_until(app: &App, q: &str, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = found(app, q).await;
        if got.iter().map(String::as_str).collect::<Vec<_>>() == want {
            return;
        }
        assert!(Instant::now() < deadline, "search {q:?} gave {got:?}, not {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn kb_hits(app: &App, q: &str) -> Vec<String> {
    let opts = lifebuoy_search::SearchOpts { include_internal: true, ..Default::default() };
    app.kb.search(q, &opts).expect("kb search").into_iter().map(|h| h.slug).collect()
}

fn article(slug: &str, title: &str, body: &str) -> KbArticleInput {
    KbArticleInput {
        slug: slug.into(),
        category: "account".into(),
        status: "published".into(),
        translations: vec![KbTranslation {
            lang: "en".into(),
            title: title.into(),
            body: body.into(),
            keywords: vec![],
        }],
    }
}

fn new_ticket(subject: &str, body: &str) -> CreateTicket {
    serde_json::from_value(serde_json::json!({"subject": subject, "body": body, "category": "withdrawal"})).unwrap()
}

fn the_index_dir(data: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(data.join("index"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("tickets-"))
        .collect();
    assert_eq!(dirs.len(), 1, "one ticket index directory, reused at each start: {dirs:?}");
    dirs[0].clone()
}

fn restart_keeps_and_catches_up(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("lifebuoy-restart-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("node");
    // The database, and its URL for every start.
    let url = run({
        let dir = dir.clone();
        async move {
            let (store, pg) = fresh_store(backend, &dir).await;
            store.close().await;
            match pg {
                Some(name) => {
                    let admin = lifebuoy_testkit::pg_admin_url();
                    format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
                }
                None => format!("sqlite://{}", dir.join("test.db").display()),
            }
        }
    });

    // 1. First start: everything built from the database; three tickets and an article.
    let (t1, t2, t3) = run({
        let (url, data) = (url.clone(), data.clone());
        async move {
            let app = start(&url, &data).await;
            let alice = Actor::Customer(
                app.store.upsert_exchange_customer("restart-alice", None, None, Some("en")).await.unwrap(),
            );
            let t1 = tickets::create(&app, &alice, new_ticket("USDT withdrawal stuck", "TRC20 pending"), None)
                .await
                .unwrap()
                .0;
            let t2 = tickets::create(&app, &alice, new_ticket("Lost phone", "my quokkaphone was stolen"), None)
                .await
                .unwrap()
                .0;
            let t3 =
                tickets::create(&app, &alice, new_ticket("Same withdrawal again", "duplicate"), None).await.unwrap().0;
            found_until(&app, "quokkaphone", &[&t2.id]).await;
            let author = KbAuthor { id: None, name: "test".into() };
            let a = article("reset-2fa", "Reset 2FA", "Use your backup codes");
            let a = app.store.kb_create_article(&a, &author).await.unwrap();
            app.kb_article_changed(&a.id).await.unwrap();
            assert_eq!(kb_hits(&app, "backup codes"), vec!["reset-2fa"]);
            assert_eq!(app.tickets.rebuilds(), 1, "the first start builds the ticket index");
            assert_eq!(app.kb_sync.rebuilds(), 1, "and the knowledge base's");
            (t1.id, t2.id, t3.id)
        }
    });
    let index_dir = the_index_dir(&data);

    // 2. While no node runs: a reply with a new word, an erasure, a merge, an article saved and another made.
    run({
        let (url, data, t1, t2, t3) = (url.clone(), data.clone(), t1.clone(), t2.clone(), t3.clone());
        async move {
            let store = Store::open(&StoreOptions::new(&url)).await.unwrap();
            let app = App::new(store, FileStore::new(data.join("files")), Default::default());
            let boss = Actor::Agent(
                app.store
                    .create_agent(&NewAgent {
                        email: "boss@restart.example".into(),
                        display_name: "Boss".into(),
                        agent_no: AgentNo::parse("S900").unwrap(),
                        role: Role::Supervisor,
                        languages: vec![Lang::En],
                        departments: vec!["support".into()],
                        password_hash: "x".into(),
                    })
                    .await
                    .unwrap(),
            );
            let c1 = app.store.conversation(&t1).await.unwrap().unwrap();
            let m =
                NewMessage { body: "sent over Arbitrum".into(), internal: false, attachment_ids: vec![], status: None };
            tickets::reply(&app, &boss, &c1, m, None).await.unwrap();
            lifebuoy_app::records::erase_conversation(&app, &boss, &t2).await.unwrap();
            let c3 = app.store.conversation(&t3).await.unwrap().unwrap();
            tickets::staff_action(&app, &boss, &c3, StaffAction::Merge { into: t1.clone() }).await.unwrap();
            let author = KbAuthor { id: None, name: "test".into() };
            let a = app.store.kb_article_by_slug("reset-2fa").await.unwrap().unwrap();
            let edited = article("reset-2fa", "Reset 2FA", "Ask support for a selfie verification");
            app.store.kb_update_article(&a.id, &edited, None, &author, "edit").await.unwrap();
            app.store
                .kb_create_article(&article("api-keys", "API keys", "Rotate your hmac secret"), &author)
                .await
                .unwrap();
            app.store.close().await;
        }
    });

    // 3. Started again: serving at once from the kept indexes, no rebuild, every change in.
    run({
        let (url, data, t1, t3) = (url.clone(), data.clone(), t1.clone(), t3.clone());
        async move {
            let t0 = Instant::now();
            let app = start(&url, &data).await;
            while !app.tickets.is_ready() {
                assert!(t0.elapsed() < Duration::from_secs(5), "a kept index serves as soon as it is opened");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            assert!(matches!(app.tickets.state(), IndexState::Ready | IndexState::CatchingUp { .. }));
            assert_eq!(app.tickets.rebuilds(), 0, "served from the kept index, not a build");
            found_until(&app, "arbitrum", &[&t1]).await;
            eprintln!("restart: the reply made while down found {:?} after start", t0.elapsed());
            found_until(&app, "quokkaphone", &[]).await;
            let merged = found(&app, "duplicate").await;
            assert_eq!(merged, vec![t3.clone()], "the merged case is still found, closed");
            assert_eq!(kb_hits(&app, "selfie"), vec!["reset-2fa"], "the article saved while down is re-read");
            assert!(kb_hits(&app, "backup codes").is_empty(), "its old text is gone");
            assert_eq!(kb_hits(&app, "hmac"), vec!["api-keys"], "the new article is in");
            assert_eq!(app.tickets.rebuilds(), 0, "no full rebuild of the ticket index");
            assert_eq!(app.kb_sync.rebuilds(), 0, "nor of the knowledge base's");
        }
    });
    assert_eq!(the_index_dir(&data), index_dir, "the same directory");

    // 4. Stamped by another build (an analyser change): rebuilt, and correct.
    {
        let (index, payload) = lifebuoy_search::TicketIndex::open_in_dir(&index_dir).unwrap();
        let mut stamp: serde_json::Value = serde_json::from_str(&payload.unwrap()).unwrap();
        stamp["analyser"] = serde_json::json!(0);
        index.commit_with(&stamp.to_string()).unwrap();
    }
    run({
        let (url, data, t1) = (url.clone(), data.clone(), t1.clone());
        async move {
            let app = start(&url, &data).await;
            found_until(&app, "arbitrum", &[&t1]).await;
            assert_eq!(app.tickets.rebuilds(), 1, "another analyser version means a rebuild");
        }
    });

    // 5. A damaged index (its meta file overwritten): discarded and rebuilt, and correct.
    std::fs::write(the_index_dir(&data).join("meta.json"), b"{ not json").unwrap();
    run({
        let (url, data, t1) = (url.clone(), data.clone(), t1.clone());
        async move {
            let app = start(&url, &data).await;
            found_until(&app, "arbitrum", &[&t1]).await;
            assert_eq!(app.tickets.rebuilds(), 1, "a damaged index is rebuilt");
        }
    });

    // 6. A damaged segment (bytes flipped in the middle of a file): found by the checksums, rebuilt.
    let seg = std::fs::read_dir(the_index_dir(&data))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "idx" || x == "term"))
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("a segment file");
    let mut bytes = std::fs::read(&seg).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0xff;
    std::fs::write(&seg, bytes).unwrap();
    run({
        let (url, data, t1) = (url.clone(), data.clone(), t1.clone());
        async move {
            let app = start(&url, &data).await;
            let deadline = Instant::now() + Duration::from_secs(30);
            while app.tickets.rebuilds() == 0 {
                assert!(Instant::now() < deadline, "a segment failing its checksum was not rebuilt");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            found_until(&app, "arbitrum", &[&t1]).await;
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn restart_keeps_and_catches_up_sqlite() {
    restart_keeps_and_catches_up(Backend::Sqlite);
}

#[test]
fn restart_keeps_and_catches_up_postgres() {
    restart_keeps_and_catches_up(Backend::Postgres);
}
